-- drip.cmd_resume — `drip resume JOURNEY|--all [--send-held | --drop-held]`:
-- let a paused journey (or every one) take entries and send again (see
-- drip.pause), saying what became of the messages it held.
local pause = require "drip.pause"
local time = require "drip.time"
local duration = require "drip.duration"
local cli = require "drip.cli"
local suggest = require "drip.suggest"

local cmd = {}

local plural = require("drip.report").count

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

-- Resume each of `names` -> results | nil, error
local function resume_all(store, names, how)
  local results, held_total, holding = {}, 0, {}
  local now, release = store:now(), store:outbox_status()
  for _, name in ipairs(names) do
    local done, err, held = pause.resume(store, name, now, how, release)
    if not done and not held then return nil, err end
    if held then
      held_total, holding[#holding + 1] = held_total + held, name
    else
      results[#results + 1] = done
    end
  end
  if held_total > 0 then
    return nil, string.format("%s hold%s %s: add --send-held to send them now, or --drop-held to drop them "
      .. "(%s paused meanwhile)", table.concat(holding, ", "), #holding == 1 and "s" or "",
      plural(held_total, "message", "messages"), #holding == 1 and "it stays" or "they stay")
  end
  return results
end

function cmd.run(opts, usage)
  local name = opts.args[1]
  if not name and not opts.all then return usage("which journey? (drip resume JOURNEY, or --all)") end
  if name and opts.all then return usage("a JOURNEY or --all, not both") end
  if opts["send-held"] and opts["drop-held"] then return usage("--send-held or --drop-held, not both") end
  local how = opts["send-held"] and "send" or opts["drop-held"] and "drop" or nil
  local store, conf = cli.open_store(opts, "resume")
  if not store then return conf end
  local names = opts.all and suggest.names(store:paused_journeys()) or { name }
  local results = cli.change_store(store, "resume", opts.db or conf.db, function() return resume_all(store, names, how) end)
  if not results then return 2 end
  if #names == 0 then print("no journey is paused; nothing changed") end
  for _, done in ipairs(results) do
    print(done.was_paused and told(done) or done.journey .. " is not paused; nothing changed")
  end
  return 0
end

return cmd
