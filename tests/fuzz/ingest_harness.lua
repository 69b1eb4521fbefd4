-- The Lua side of fuzz_ingest.c: returns make(scripts_dir) -> handle(selector, body) -> status.
-- Same modules as `drip run`; each request in a transaction that is rolled back.
-- Each body is also read as an event line: a line that host.plain_event
-- reads without decoding must decode to the same fields (runtime/evline.c).
local Store = require "drip.store"
local Engine = require "drip.engine"
local Api = require "drip.api"
local metrics = require "drip.metrics"
local journey = require "drip.journey"
local events = require "drip.events"
local json = require "drip.json"
local host = require "drip_host"

local PATHS = { "/v1/track", "/v1/identify", "/v1/batch", "/v1/events" }

return function(dir)
  local store = assert(Store.open(":memory:", { synchronous = "OFF" }))
  local engine = Engine.new({ store = store, live = true, warn = function() end })
  engine.now = 1790000000
  store:begin()
  local errors = engine:load(journey.list({ dir }), dir)
  assert(#errors == 0, errors[1])
  store:commit()
  local api = Api.new({ engine = engine, store = store, metrics = metrics.new() })
  local ARRAY = getmetatable(json.array())
  local function same_as_decoded(line)
    local quick = host.plain_event(line, {}, ARRAY)
    if not quick then return end
    local ev = events.decode_full(line, 0)
    if not (ev and ev.type == quick.type and ev.userId == quick.userId and ev.event == quick.event and ev.ts == quick.ts
            and ev.messageId == quick.messageId and json.encode(ev.traits) == json.encode(quick.traits)) then
      error("host.plain_event read a line otherwise than the decoder: " .. line, 0)
    end
  end
  return function(selector, body)
    same_as_decoded(body)
    store:begin()
    local ok, resp = pcall(api.handle, api, { method = "POST", path = PATHS[selector % #PATHS + 1], body = body })
    store:rollback()
    engine:reset_caches()
    if not ok then error(resp, 0) end
    return resp.status
  end
end
