-- wrk script: POST /v1/track, one event per request, paced: every connection
-- waits DELAY_MS (env, default 10) between requests, so -c 28 offers ~2,000/s with ~4 ms answers.
local counter, prefix = 0, tostring(os.time()) .. "-" .. tostring(math.random(1e9))
local pause = tonumber(os.getenv("DELAY_MS") or "10")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function setup(thread) thread:set("tid", tostring(math.random(1e9))) end

function delay() return pause end

function request()
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. counter
  return wrk.format(nil, "/v1/track", nil, '{"userId":"t' .. id .. '","event":"Go","messageId":"' .. id .. '"}')
end
