-- wrk script: POST /v1/batch with 100 new events per request, each a "Go"
-- for a contact never seen before (so each starts an instance), unique
-- messageIds across threads and runs.   wrk -s wrk_batch.lua URL
-- DELAY_MS (env, default 0): each connection waits that long between
-- requests, so the load is offered at a set rate instead of saturating.
local counter, prefix = 0, tostring(os.time()) .. "-" .. tostring(math.random(1e9))
local pause = tonumber(os.getenv("DELAY_MS") or "0")
local token = os.getenv("DRIP_TOKEN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token then wrk.headers["Authorization"] = "Bearer " .. token end

function setup(thread) thread:set("tid", tostring(math.random(1e9))) end

if pause > 0 then function delay() return pause end end

function request()
  local items = {}
  for i = 1, 100 do
    counter = counter + 1
    local id = prefix .. "-" .. tid .. "-" .. counter
    items[i] = '{"type":"track","userId":"b' .. id .. '","event":"Go","messageId":"' .. id .. '"}'
  end
  return wrk.format(nil, "/v1/batch", nil, '{"batch":[' .. table.concat(items, ",") .. ']}')
end
