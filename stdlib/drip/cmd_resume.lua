-- drip.cmd_resume — `drip resume JOURNEY [--send-held | --drop-held]`: let
-- a paused journey take entries and send again (see drip.pause), saying
-- what became of the messages it held.
local pause = require "drip.pause"
local time = require "drip.time"
local duration = require "drip.duration"
local cli = require "drip.cli"

local cmd = {}

local function plural(n, one, more) return string.format("%d %s", n, n == 1 and one or more) end

local function told(done)
  local lines = { string.format("resumed %s, paused since %s (%s): it takes entries and sends again", done.journey,
    time.iso(done.since), duration.format(math.max(0, done.at - done.since))) }
  if done.refused > 0 then
    lines[#lines + 1] = "  " .. plural(done.refused, "entry was", "entries were") .. " refused while it was paused"
  end
  if done.sent > 0 then lines[#lines + 1] = "  " .. plural(done.sent, "held message goes", "held messages go") .. " now" end
  if done.dropped > 0 then lines[#lines + 1] = "  " .. plural(done.dropped, "held message", "held messages") .. " dropped" end
  if done.ended > 0 then
    lines[#lines + 1] = "  " .. plural(done.ended, "held message", "held messages")
      .. " dropped: the contact reached the goal or an exit event while it was held"
  end
  return table.concat(lines, "\n")
end

function cmd.run(opts, usage)
  local name = opts.args[1]
  if not name then return usage("which journey? (drip resume JOURNEY)") end
  if opts["send-held"] and opts["drop-held"] then return usage("--send-held or --drop-held, not both") end
  local how = opts["send-held"] and "send" or opts["drop-held"] and "drop" or nil
  local store, conf = cli.open_store(opts, "resume")
  if not store then return conf end
  store:begin()
  local done, err, held = pause.resume(store, name, store:now(), how, store:outbox_status())
  if not done then
    store:rollback()
    store:close()
    if held then
      err = string.format("%s holds %s: add --send-held to send them now, or --drop-held to drop them "
        .. "(it stays paused meanwhile)", name, plural(held, "message", "messages"))
    end
    io.stderr:write("drip resume: ", opts.db or conf.db, ": ", err, "\n")
    return 2
  end
  store:commit()
  store:close()
  if not done.was_paused then
    print(name .. " is not paused; nothing changed")
    return 0
  end
  print(told(done))
  return 0
end

return cmd
