-- drip.metrics — the counters behind GET /metrics (Prometheus text format).
-- Owns counting: events in (and skipped, by reason), steps, sends by channel
-- and status, instances active by journey (counted in the store once, on
-- first read, then kept from the engine's records; not a query per scrape,
-- nor at start-up), HTTP answers by code, timers fired, the commit latency
-- histogram, commits that failed (with the store's health: `failing`), and
-- the bounces and complaints providers reported later.
-- The other modules only call the count functions.
local events = require "drip.events"

local metrics = {}
metrics.__index = metrics

local COMMIT_BUCKETS = { 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 }

-- metrics.new(count_active: function() -> journey -> n, send_status: "queued" | "simulated",
--   store_facts: function() -> { bytes = the store's size on disk, pruned_before = Unix time | nil })
function metrics.new(count_active, send_status, store_facts)
  return setmetatable({
    send_status = send_status or "queued", count_active = count_active or function() return {} end,
    store_facts = store_facts,
    events = 0, duplicates = 0, skipped = events.skips(), timers = 0, active = nil, sends = {}, http = {}, reported = {},
    failures = 0, failing = nil,
    commit = { buckets = {}, sum = 0, count = 0 },
  }, metrics)
end

local function bump(t, k, n) t[k] = (t[k] or 0) + (n or 1) end

-- journey -> active instances. The first call counts the store (it sees every
-- change made so far, so records before it need not be kept).
function metrics:active_counts()
  if not self.active then self.active = self.count_active() end
  return self.active
end

-- one engine record (see drip.engine's sink)
function metrics:record(rec)
  local kind = rec.kind
  if kind == "enter" then
    if self.active then bump(self.active, rec.journey) end
  elseif kind == "exit" then
    if self.active then bump(self.active, rec.journey, -1) end
  elseif kind == "send" then
    bump(self.sends, rec.channel .. "\0" .. self.send_status)
  elseif kind == "suppress" then
    bump(self.sends, rec.channel .. "\0suppressed")
  elseif kind == "defer" then
    bump(self.sends, rec.channel .. (rec.reason == "paused" and "\0held" or "\0deferred"))
  end
end

-- n events stored, dups repeated, skips: a drip.events tally of those skipped
function metrics:ingested(n, dups, skips)
  self.events = self.events + n
  self.duplicates = self.duplicates + dups
  for why, count in pairs(skips) do self.skipped[why] = self.skipped[why] + count end
end

-- A transaction of drip run could not commit (error text, at: the engine's
-- time); `failing` keeps the first such error until one commits again.
function metrics:failed(err, at)
  self.failures = self.failures + 1
  self.failing = self.failing or { error = tostring(err), since = at }
end

function metrics:recovered() self.failing = nil end

-- a delivery's outcome: "sent", "retry" or "failed"
function metrics:delivered(channel, status) bump(self.sends, channel .. "\0" .. status) end

-- n reports of a provider's feedback that came to `outcome`: bounced, complained, soft or unknown
function metrics:feedback(provider, outcome, n) bump(self.reported, provider .. "\0" .. outcome, n) end

function metrics:fired(n) self.timers = self.timers + n end
function metrics:answered(status) bump(self.http, status) end

function metrics:committed(seconds)
  local c = self.commit
  c.sum, c.count = c.sum + seconds, c.count + 1
  for i, le in ipairs(COMMIT_BUCKETS) do
    if seconds <= le then bump(c.buckets, i) end
  end
end

local function label(v) return (tostring(v):gsub('[\\"]', '\\%0'):gsub("\n", "\\n")) end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- the exposition text; steps = the engine's recorded step count, paused =
-- its paused journeys (journey -> { since = })
function metrics:render(steps, paused)
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  add("# HELP drip_events_ingested_total Events accepted and stored.\n# TYPE drip_events_ingested_total counter")
  add("drip_events_ingested_total %d", self.events)
  add("# HELP drip_events_duplicate_total Events dropped as a repeated messageId.\n# TYPE drip_events_duplicate_total counter")
  add("drip_events_duplicate_total %d", self.duplicates)
  add("# HELP drip_events_skipped_total Events journeys cannot use: Segment's page, screen, group and alias calls"
    .. " (call), and events of visitors without a userId (anonymous).\n# TYPE drip_events_skipped_total counter")
  for _, why in ipairs(sorted_keys(self.skipped)) do add('drip_events_skipped_total{reason="%s"} %d', why, self.skipped[why]) end
  add("# HELP drip_commit_failures_total Transactions that could not commit (nothing of them was kept).\n"
    .. "# TYPE drip_commit_failures_total counter")
  add("drip_commit_failures_total %d", self.failures)
  add("# HELP drip_instances_active Journey instances running or sleeping.\n# TYPE drip_instances_active gauge")
  local active = self:active_counts()
  for _, j in ipairs(sorted_keys(active)) do add('drip_instances_active{journey="%s"} %d', label(j), active[j]) end
  add("# HELP drip_journey_paused_since_seconds When each paused journey was paused (drip pause), as Unix time."
    .. "\n# TYPE drip_journey_paused_since_seconds gauge")
  for _, j in ipairs(sorted_keys(paused or {})) do
    add('drip_journey_paused_since_seconds{journey="%s"} %d', label(j), paused[j].since)
  end
  add("# HELP drip_steps_total Journey steps recorded.\n# TYPE drip_steps_total counter")
  add("drip_steps_total %d", steps)
  add("# HELP drip_timers_fired_total Timers fired.\n# TYPE drip_timers_fired_total counter")
  add("drip_timers_fired_total %d", self.timers)
  add("# HELP drip_sends_total Messages by channel and status.\n# TYPE drip_sends_total counter")
  for _, k in ipairs(sorted_keys(self.sends)) do
    local channel, status = k:match("^(.-)%z(.*)$")
    add('drip_sends_total{channel="%s",status="%s"} %d', label(channel), label(status), self.sends[k])
  end
  add("# HELP drip_feedback_total Bounces and spam complaints email providers reported later (POST /v1/feedback),"
    .. " by provider and what came of them: bounced, complained, soft (nothing changed), unknown (an address drip"
    .. " never sent to).\n# TYPE drip_feedback_total counter")
  for _, k in ipairs(sorted_keys(self.reported)) do
    local provider, outcome = k:match("^(.-)%z(.*)$")
    add('drip_feedback_total{provider="%s",outcome="%s"} %d', label(provider), label(outcome), self.reported[k])
  end
  add("# HELP drip_http_responses_total HTTP answers by status code.\n# TYPE drip_http_responses_total counter")
  for _, code in ipairs(sorted_keys(self.http)) do add('drip_http_responses_total{code="%s"} %d', code, self.http[code]) end
  local c = self.commit
  add("# HELP drip_commit_seconds Time to commit one batch (group commit).\n# TYPE drip_commit_seconds histogram")
  for i, le in ipairs(COMMIT_BUCKETS) do add('drip_commit_seconds_bucket{le="%g"} %d', le, c.buckets[i] or 0) end
  add('drip_commit_seconds_bucket{le="+Inf"} %d', c.count)
  add("drip_commit_seconds_sum %.6f", c.sum)
  add("drip_commit_seconds_count %d", c.count)
  if self.store_facts then
    local facts = self.store_facts()
    add("# HELP drip_store_bytes The store's size on disk: its database file and write-ahead log.\n"
      .. "# TYPE drip_store_bytes gauge")
    add("drip_store_bytes %d", facts.bytes)
    add("# HELP drip_store_pruned_before_seconds drip prune has removed what came before this Unix time"
      .. " (0: never pruned).\n# TYPE drip_store_pruned_before_seconds gauge")
    add("drip_store_pruned_before_seconds %d", facts.pruned_before or 0)
  end
  return table.concat(out, "\n") .. "\n"
end

return metrics
