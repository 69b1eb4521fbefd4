-- drip.deliver — the outbox dispatcher of `drip run`.
-- Owns getting queued messages out: per channel it claims due outbox rows
-- (as many as the channel's token bucket and concurrency allow), marks them
-- `sending` in one transaction, then hands the requests to drip_curl; when
-- answers come back (a loop turn's worth together) it marks each sent,
-- due again later (backoff with jitter, or the provider's Retry-After), or
-- failed, in one transaction. Every change is a row in `deliveries`.
-- Channels that are not configured keep their messages queued.
local host = require "drip_host"
local json = require "drip.json"
local channels = require "drip.channels"
local unsubscribe = require "drip.unsubscribe"
local policy = require "drip.policy"
local time = require "drip.time"

local Deliver = {}
Deliver.__index = Deliver

local CLAIM_MAX = 1000  -- rows claimed per channel per tick
local IDLE_MS = 60000   -- longest sleep when nothing is due
-- While nothing is due for a while, how often to look whether another
-- process wrote the store (`drip resume --send-held` releasing messages
-- beside drip run): they go within about this long, not at the next claim.
local WATCH_MS = 1000

-- Deliver.new{ store=, channels= (drip.channels.check), unsubscribe={ base=, secret= },
--              curl= (drip_curl), log=, metrics=, transaction=fn(fn) -> ok, result,
--              consent=, quiet=, timezone= (the configuration's policies: drip.config),
--              track= (the configuration's tracking of clicks and opens, or nil),
--              on_address_gone=fn(contact, channel, address, "bounced"|"unsubscribed") }
-- on_address_gone: a permanent failure said the address takes no more
-- messages (channels.address_gone); the caller marks the contact, in the
-- transaction that records the failure, so later messages to it are not sent.
function Deliver.new(opts)
  local self = setmetatable(opts, Deliver)
  self.buckets, self.inflight, self.flying = {}, {}, {}
  for name, c in pairs(self.channels) do
    self.inflight[name] = 0
    if c.rate then self.buckets[name] = { tokens = 0, at = host.clock(), rate = c.rate,
                                          burst = math.max(1, c.rate / 10) } end
  end
  return self
end

-- messages left `sending` by a crash or stop go again (same idempotency key)
function Deliver:start()
  local ok, resumed = self.transaction(function() return self.store:resume_sending(host.time()) end)
  if ok and resumed > 0 then self.log.info("resending messages that were in flight at the last stop", "count", resumed) end
  for name, n in pairs(self.store:pending_by_channel()) do
    if not self.channels[name] then
      self.log.warn("messages wait for a channel that is not configured", "channel", name, "count", n)
    end
  end
  self.curl.start({ on_done = function(list) self:done(list) end, on_tick = function() return self:tick() end })
  self:kick()
end

function Deliver:kick()
  self.claim_at = nil
  self.curl.tick(0)
end
function Deliver:stop() self.curl.stop() end

-- whole tokens the channel may spend now (nil: no rate limit)
local function refill(b)
  local now = host.clock()
  b.tokens = math.min(b.burst, b.tokens + (now - b.at) * b.rate)
  b.at = now
  return math.floor(b.tokens)
end

-- how long to let a bucket fill before claiming again: half its burst, so a
-- backlog goes out in a few claims per second rather than one per token
local function refill_ms(b) return math.max(1, math.floor(b.burst / b.rate * 500)) end

function Deliver:key(m) return string.format("drip-%d-%d", m.instance, m.seq) end

-- the request for one claimed message -> spec, detail | nil, error
function Deliver:request(name, m, now)
  local fields = json.decode(m.message)
  if type(fields) ~= "table" then return nil, "the stored message is not JSON" end
  local u = self.unsubscribe
  local ctx = { key = self:key(m), contact = m.contact, journey = m.journey, kind = m.kind, now = now }
  if name == "email" and m.kind == "marketing" and m.contact then -- for List-Unsubscribe
    ctx.unsubscribe_url = unsubscribe.url(u.base, u.secret, m.contact, name, now, m.topic)
  end
  local t = self.track
  if t and (name == "email" or name == "sms" and t.sms_clicks) then
    ctx.track = { base = u.base, secret = u.secret, clicks = t.clicks, opens = t.opens, sms_clicks = t.sms_clicks,
                  message = m.id }
  end
  local ok, spec, detail = pcall(channels.request, name, self.channels[name], m.address, fields, ctx)
  if not ok then return nil, tostring(spec) end
  return spec, detail
end

-- A message that waited (quiet hours, retries, a backlog) is checked again
-- at the door: the contact may have unsubscribed or taken back consent
-- since it was queued, and a marketing message retried into the contact's
-- quiet hours waits for their end. -> nil (it goes), or "suppressed",
-- reason, or "deferred", until
local WAITED = 2 -- seconds since queued (one claimed at once was checked when queued)
function Deliver:at_the_door(channel, m, now)
  if channel == "webhook" or not m.contact or now - (m.created_at or now) < WAITED then return nil end
  local traits = self.store:contact(m.contact)
  if not traits then return nil end
  local allowed, why = policy.check(channel, m.kind, traits, { consent = self.consent or "opt-in", to = m.address,
                                                               topic = m.topic })
  if not allowed then return "suppressed", why end
  if m.kind ~= "marketing" or not self.quiet then return nil end
  local tz = rawget(traits, "timezone")
  local zone = type(tz) == "string" and time.zone_for(tz) or self.timezone or "UTC"
  local quiet_end = policy.quiet_until(self.quiet, zone, now)
  if quiet_end then return "deferred", quiet_end end
  return nil
end

-- a claimed message's request into `started`, or the message failed when it cannot be built
function Deliver:start_or_fail(name, m, now, started)
  local spec, detail = self:request(name, m, now)
  if spec then
    self.store:claim_message(m.id, now)
    started[#started + 1] = { id = m.id, spec = spec, channel = name, detail = detail, attempts = m.attempts + 1,
                               contact = m.contact, address = m.address }
  else
    self.store:mark_message(m.id, now, "failed", nil, "cannot build the request", json.encode({ error = detail }))
    self.metrics:delivered(name, "failed")
    self.log.error("message failed", "channel", name, "id", m.id, "error", detail)
  end
end

-- Claim what one channel may send now -> ms until it may send more (or nil)
function Deliver:claim(name, c, now, started)
  local room = c.concurrency - self.inflight[name]
  local b = self.buckets[name]
  local allowed = math.min(room, CLAIM_MAX, b and refill(b) or math.huge)
  if allowed <= 0 then return b and room > 0 and refill_ms(b) or nil end
  local rows = self.store:due_messages(name, now, allowed)
  for _, m in ipairs(rows) do
    local held, why_or_until = self:at_the_door(name, m, now)
    if held == "suppressed" then
      self.store:mark_message(m.id, now, "suppressed", nil, why_or_until, json.encode({ since_queued = true }))
      self.metrics:delivered(name, "suppressed")
      self.log.info("message not sent: withdrawn while it waited", "channel", name, "id", m.id, "reason", why_or_until)
    elseif held == "deferred" then
      self.store:mark_message(m.id, now, "deferred", why_or_until, "quiet_hours", json.encode({ since_queued = true }))
    else
      self:start_or_fail(name, m, now, started)
    end
  end
  if b then b.tokens = b.tokens - #rows end
  if #rows == allowed then return b and refill_ms(b) or 0 end
  local due = self.store:next_message_due(name)
  return due and math.max(0, (due - now) * 1000) or nil
end

-- one tick: claim on every channel, commit, start the transfers -> ms to the
-- next tick; while the next claim is more than WATCH_MS away, a tick only
-- looks whether another process wrote the store meanwhile, and claims if so
function Deliver:tick()
  if self.claim_at and host.clock() < self.claim_at and not self.store:changed_elsewhere() then
    return math.max(1, math.min(WATCH_MS, math.floor((self.claim_at - host.clock()) * 1000)))
  end
  self.claim_at = nil
  local next_ms = self:claim_all()
  if next_ms <= WATCH_MS then return next_ms end
  self.store:changed_elsewhere() -- (what this connection wrote does not count)
  self.claim_at = host.clock() + next_ms / 1000
  return WATCH_MS
end

-- claim on every channel, commit, start the transfers -> ms to the next claim
function Deliver:claim_all()
  local now, started = host.time(), {}
  local next_ms = IDLE_MS
  local ok, err = self.transaction(function()
    for name, c in pairs(self.channels) do
      local ms = self:claim(name, c, now, started)
      if ms then next_ms = math.min(next_ms, ms) end
    end
  end)
  if not ok then
    self.log.error("claiming messages failed", "error", err)
    return 1000
  end
  for _, s in ipairs(started) do
    local sent, serr = self.curl.request(s.id, s.spec)
    if sent then
      self.inflight[s.channel] = self.inflight[s.channel] + 1
      self.flying[s.id] = s
    else
      self.log.error("cannot start a delivery; it stays sending until the next start", "id", s.id, "error", serr)
    end
  end
  return math.floor(next_ms)
end

-- backoff: base * 2^(attempt-1), at most max, with jitter in [50%, 100%]
local function backoff(c, attempts)
  local d = math.min(c.max_backoff, c.backoff * 2 ^ (attempts - 1))
  return math.max(1, math.floor(d * (0.5 + 0.5 * math.random())))
end

function Deliver:settle(s, r, now)
  local c = self.channels[s.channel]
  local status, detail, wait = channels.outcome(s.channel, r, now)
  for k, v in pairs(s.detail or {}) do detail[k] = v end
  detail.attempt, detail.seconds = s.attempts, math.floor(r.seconds * 1000 + 0.5) / 1000
  if status == "retry" and s.attempts >= c.attempts then
    status, detail.gave_up = "failed", true
  end
  local reason = status == "failed" and (detail.gave_up and "gave up after " .. s.attempts .. " attempts"
    or detail.http and "rejected: HTTP " .. detail.http or detail.smtp and "rejected: SMTP " .. (detail.reply or detail.smtp)) or nil
  local gone = status == "failed" and not detail.gave_up and channels.address_gone(s.channel, r, s.address)
  if gone and s.contact and self.on_address_gone then
    detail.address_gone = gone
    self.on_address_gone(s.contact, s.channel, s.address, gone)
    self.log.info("the address takes no more messages", "channel", s.channel, "contact", s.contact, "address", s.address,
      "as", gone)
  end
  if status == "retry" then
    -- due times are whole seconds: one more keeps a Retry-After from ending early
    local due = now + (wait and wait + 1 or backoff(c, s.attempts))
    self.store:mark_message(s.id, now, "deferred", due, "retry", json.encode(detail))
  else
    self.store:mark_message(s.id, now, status, nil, reason, json.encode(detail))
  end
  self.metrics:delivered(s.channel, status)
  if status == "failed" then
    self.log.warn("message failed", "channel", s.channel, "id", s.id, "reason", reason, "error", detail.error)
  end
end

-- answers of one loop turn, in one transaction
function Deliver:done(list)
  local now = host.time()
  local ok, err = self.transaction(function()
    for _, r in ipairs(list) do
      local s = self.flying[r.id]
      if s then self:settle(s, r, now) end
    end
  end)
  for _, r in ipairs(list) do
    local s = self.flying[r.id]
    if s then
      self.flying[r.id] = nil
      self.inflight[s.channel] = self.inflight[s.channel] - 1
    end
  end
  if not ok then self.log.error("recording deliveries failed; they go again after a restart", "error", err) end
  self:kick()
end

return Deliver
