-- drip.cmd_pause — `drip pause [JOURNEY]`: stop a journey's messages at once
-- (see drip.pause), on the store a `drip run` may be serving: it reads the
-- pause at its next transaction. --all pauses every journey in the store;
-- without JOURNEY, it lists the paused ones.
local pause = require "drip.pause"
local time = require "drip.time"
local cli = require "drip.cli"
local suggest = require "drip.suggest"

local cmd = {}

local plural = require("drip.report").count

local function list(store)
  local paused = store:paused_journeys()
  local names = suggest.names(paused)
  if #names == 0 then print("no journey is paused") end
  for _, name in ipairs(names) do
    print(string.format("%s  paused since %s, %s held, %s refused", name, time.iso(paused[name].since),
      plural(pause.held(store, name), "message", "messages"), plural(paused[name].refused, "entry", "entries")))
  end
  return 0
end

local function told(done)
  if done.already then
    print(string.format("%s is paused already, since %s; `drip resume %s` starts it again", done.journey,
      time.iso(done.since), done.journey))
    return
  end
  print(string.format("paused %s at %s: no one enters it, and the messages of its running instances are held "
    .. "until `drip resume %s`", done.journey, time.iso(done.since), done.journey))
  if done.held > 0 then print("  " .. plural(done.held, "queued message is", "queued messages are") .. " held now") end
  if done.sending > 0 then
    print("  " .. plural(done.sending, "message was", "messages were")
      .. " already on the way to the provider, and may still arrive")
  end
end

function cmd.run(opts, usage)
  local name = opts.args[1]
  if name and opts.all then return usage("a JOURNEY or --all, not both") end
  local store, conf = cli.open_store(opts, "pause")
  if not store then return conf end
  if not name and not opts.all then
    local status = list(store)
    store:close()
    return status
  end
  local names = opts.all and store:journey_names() or { name }
  if #names == 0 then
    store:close()
    print("no journey in this store to pause")
    return 0
  end
  local now = store:now()
  local results = cli.change_store(store, "pause", opts.db or conf.db, function()
    local results = {}
    for i, n in ipairs(names) do
      local done, err = pause.pause(store, n, now)
      if not done then return nil, err end
      results[i] = done
    end
    return results
  end)
  if not results then return 2 end
  for _, done in ipairs(results) do told(done) end
  return 0
end

return cmd
