-- drip.api — the HTTP endpoints of `drip run` (SPEC §6), over the engine and
-- the store. Owns routing, reading request bodies into events (with a 400
-- that names the field), and the JSON of every answer. It runs inside the
-- caller's transaction and does not commit: a request is answered only after
-- the batch holding it commits (see drip.cmd_run). Token checks, body limits
-- and overload answers happen before, in the C server.
local json = require "drip.json"
local events = require "drip.events"
local time = require "drip.time"
local log = require "drip.log"
local suggest = require "drip.suggest"
local duration = require "drip.duration"
local stats = require "drip.stats"
local unsubscribe_page = require "drip.unsubscribe_page"
local preview = require "drip.preview"
local pause = require "drip.pause"
local tracking = require "drip.tracking"
local records = require "drip.records"
local channels = require "drip.channels"
local ui = require "drip.ui"
local feedback = require "drip.feedback"
local template = require "drip.template"

local Api = {}
Api.__index = Api

local MAX_STRING = 65536 -- bytes in any one string of an event
local RECENT_EVENTS = 50

-- Api.new{ engine=, store=, metrics=, secret= (signs unsubscribe links), conf= (drip.config's),
--          journeys= (the journeys directory, whose segments.lua the pages of /ui read) }
function Api.new(opts)
  opts.names_seen, opts.names_count = {}, 0 -- event names seen (see first_of_name)
  return setmetatable(opts, Api)
end

local function answer(status, value, type_)
  return { status = status, body = type(value) == "string" and value or json.encode(value),
           type = type_ or "application/json" }
end

local function bad(message, field)
  return answer(400, { error = message, field = field or "body" }) -- (an error of the body as a whole)
end

local function not_found(what) return answer(404, { error = what .. " not found" }) end

-- the first string over MAX_STRING inside v, as a field path (".a.b[2]";
-- made only when one is found), or nil
local function oversize(v)
  if type(v) == "string" then return #v > MAX_STRING and "" or nil end
  if type(v) ~= "table" then return nil end
  for k, x in pairs(v) do
    local found = oversize(x)
    if found then return (type(k) == "number" and string.format("[%d]", k - 1) or "." .. k) .. found end
  end
  return nil
end

-- One decoded object into an event, or nil and (message, field). `prefix`
-- names where it sits ("batch[2]."), `kind` is the type an endpoint implies,
-- `body_len` the length of the request body it came from (no string in it
-- can be longer, so short bodies skip the walk for long strings).
function Api:event(obj, raw, prefix, kind, body_len)
  if kind and type(obj) == "table" then
    if obj.type == nil then obj.type = kind
    elseif obj.type ~= kind then
      return nil, string.format("field '%stype': this endpoint takes %s events", prefix, kind), prefix .. "type"
    end
  end
  local long = body_len > MAX_STRING and oversize(obj)
  if long then
    long = long:gsub("^%.", "")
    return nil, string.format("field '%s%s': longer than %d bytes", prefix, long, MAX_STRING), prefix .. long
  end
  local ev, err = events.normalize(obj, raw, self.engine.now)
  if ev then return ev end
  local field = err:match("^field '([^']*)'")
  if field then return nil, "field '" .. prefix .. err:sub(#"field '" + 1), prefix .. field end
  if prefix == "" then return nil, err end
  local where = prefix:sub(1, -2) -- "batch[2]." -> "batch[2]"
  return nil, where .. ": " .. err, where
end

-- Store and route a validated list; the answer counts what was new, and,
-- when any were skipped (see events.skip_reason), how many (`ignored`) and
-- how many of those were anonymous (`anonymous`).
function Api:ingest(list, skips)
  local accepted, dups = 0, 0
  for _, ev in ipairs(list) do
    if self.engine:ingest(ev) then accepted = accepted + 1 else dups = dups + 1 end
    if ev.event and not self.names_seen[ev.event] then self:first_of_name(ev.event) end
  end
  self.metrics:ingested(accepted, dups, skips)
  local ignored = skips.call + skips.anonymous
  return answer(200, { ok = true, accepted = accepted, duplicates = dups,
                       ignored = ignored > 0 and ignored or nil, anonymous = skips.anonymous > 0 and skips.anonymous or nil })
end

local MAX_NAMES = 10000 -- distinct event names looked at; past that, the rest are not

-- The first event of a name: when it differs from one a journey waits for
-- only in case, spaces or punctuation ("cart_updated" against "Cart
-- Updated"), the integration and the journey disagree; say so, once.
function Api:first_of_name(name)
  if self.names_count >= MAX_NAMES then return end
  self.names_seen[name], self.names_count = true, self.names_count + 1
  local awaited = self.engine:awaited_events()
  for _, w in ipairs(awaited) do
    if w.event == name then return end
  end
  for _, w in ipairs(awaited) do
    if suggest.lookalike(name, { w.event }, true) then
      log.warn("an event name differs only in spelling from one a journey or segment expects; names must match exactly",
        "event", name, w.journey and "journey" or "segment", w.journey or w.segment, "expects", w.event)
      return
    end
  end
end

-- obj is skipped (counted in `skips`)?
local function skipped(obj, skips)
  local why = events.skip_reason(obj)
  if why then skips[why] = skips[why] + 1 end
  return why ~= nil
end

local function decode_object(body)
  local obj, err = json.decode_input(body)
  if obj == nil then return nil, "bad JSON: " .. err end
  if type(obj) ~= "table" or obj[1] ~= nil or body:match("^%s*%[") then -- ([] decodes like {})
    return nil, "the body must be a JSON object"
  end
  return obj
end

function Api:single(req, kind)
  local obj, err = decode_object(req.body)
  if not obj then return bad(err) end
  local skips = events.skips()
  if obj.type == nil then obj.type = kind end
  if obj.type == kind and skipped(obj, skips) then return self:ingest({}, skips) end
  local ev, msg, field = self:event(obj, nil, "", kind, #req.body)
  if not ev then return bad(msg, field) end
  return self:ingest({ ev }, skips)
end

-- Segment's batch: { "batch": [ {type=...}, ... ] }; all or nothing.
function Api:batch(req)
  local obj, err = decode_object(req.body)
  if not obj then return bad(err) end
  local items = obj.batch
  if type(items) ~= "table" or (next(items) ~= nil and items[1] == nil) then
    return bad("field 'batch': required, an array of events", "batch")
  end
  local list, skips = {}, events.skips()
  for i, item in ipairs(items) do
    if not skipped(item, skips) then
      local ev, msg, field = self:event(item, nil, string.format("batch[%d].", i - 1), nil, #req.body)
      if not ev then return bad(msg, field) end
      list[#list + 1] = ev
    end
  end
  return self:ingest(list, skips)
end

-- JSON Lines; all or nothing, errors name the line.
function Api:lines(req)
  local list, lineno, skips = {}, 0, events.skips()
  for line in (req.body .. "\n"):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    if line:match("%S") and not line:match("^%s*#") then
      local obj, err = json.decode_input(line)
      if obj == nil then return bad(string.format("line %d: bad JSON: %s", lineno, err), "line " .. lineno) end
      if not skipped(obj, skips) then
        local ev, msg, field = self:event(obj, line, "", nil, #line)
        if not ev then return bad(string.format("line %d: %s", lineno, msg), field) end
        list[#list + 1] = ev
      end
    end
  end
  return self:ingest(list, skips)
end

-- 200, or 503 while the store cannot be written (see drip.metrics' failing)
function Api:health()
  local failing = self.metrics.failing
  if not failing then return answer(200, { ok = true }) end
  return answer(503, { ok = false, error = "no write to the store has worked since " .. time.iso(failing.since) .. ": " .. failing.error })
end

function Api:contact(req, id)
  if req.method == "DELETE" then
    local removed = self.store:forget(id)
    if not removed then return not_found("contact '" .. id .. "'") end
    self.engine:reset_caches()
    return answer(200, { ok = true, contact = id, removed = removed })
  end
  local view = self.store:contact_view(id, RECENT_EVENTS)
  if not view then return not_found("contact '" .. id .. "'") end
  view.created_at = time.iso(view.created_at)
  if view.pruned_before then view.pruned_before = time.iso(view.pruned_before) end
  view.segments = self.engine:segments_of(id, view.traits)
  for _, inst in ipairs(view.instances) do
    inst.entered_at = time.iso(inst.entered_at)
    if inst.ended_at then inst.ended_at = time.iso(inst.ended_at) end
  end
  return answer(200, view)
end

function Api:journeys()
  local list, names = json.array(), self.engine:journey_names()
  for _, name in ipairs(names) do
    local def = self.engine.latest[name]
    local t = def.trigger
    local paused = self.engine.paused[name]
    list[#list + 1] = { name = name, version = def.hash, file = def.file, trigger = t.event or t.kind,
                        active = self.metrics:active_counts()[name] or 0,
                        paused_since = paused and time.iso(paused.since) or nil,
                        held = paused and pause.held(self.store, name) or nil }
  end
  local errors = json.array() -- the scripts the last load could not take, as file:line: message
  for i, m in ipairs(self.engine.load_errors or {}) do errors[i] = m end
  return answer(200, { journeys = list, errors = errors })
end

-- the start of a period asked for by ?since=30d (0: all) | nil, the 400 answer
function Api:since(q)
  if not q.since then return 0 end
  local secs, err = duration.parse(q.since)
  if not secs then return nil, answer(400, { error = "since: " .. err, field = "since" }) end
  return self.engine.now - secs
end

-- What `drip stats NAME --format json` tells of a journey; ?since=30d counts
-- only the instances that entered in the last 30 days.
function Api:stats(req, name)
  local q = req.query or {}
  local since, bad_since = self:since(q)
  if not since then return bad_since end
  local found
  for _, j in ipairs(stats.collect(self.store, since)) do
    if j.journey == name then found = j end
  end
  if not found and not self.engine:knows_journey(name) then return not_found("journey '" .. name .. "'") end
  found = found or stats.empty(name)
  found.since = q.since and time.iso(since) or nil
  return answer(200, found)
end

-- GET /v1/records?after=CURSOR&limit=N&journey=NAME&since=DUR: a page of
-- what `drip records` prints, as { records = [...], next = cursor }; the
-- next page starts after `next` (an empty page: nothing new yet).
function Api:records(req)
  local q = req.query or {}
  local cursor, err = records.start(), nil
  if q.after then
    cursor, err = records.parse_cursor(q.after)
    if not cursor then return answer(400, { error = "after: " .. err, field = "after" }) end
  end
  local limit = tonumber(q.limit or records.LIMIT)
  if not limit or limit ~= math.floor(limit) or limit < 1 or limit > records.MAX_LIMIT then
    return answer(400, { error = string.format("limit: a whole number from 1 to %d", records.MAX_LIMIT), field = "limit" })
  end
  local since, bad_since = self:since(q)
  if not since then return bad_since end
  if q.journey and not self.engine:knows_journey(q.journey) then return not_found("journey '" .. q.journey .. "'") end
  local lines, after = records.page(self.store, cursor, { limit = limit, since = since, journey = q.journey })
  for i, line in ipairs(lines) do lines[i] = line:sub(1, -2) end -- (each without its line end)
  return answer(200, '{"records":[' .. table.concat(lines, ",") .. '],"next":' .. json.quote(records.cursor_text(after))
    .. "}")
end

-- POST /v1/journeys/{name}/pause: what `drip pause NAME` does, at once.
function Api:pause(_, name)
  local done, err = pause.pause(self.store, name, self.engine.now)
  if not done then return answer(404, { error = err }) end
  self.engine:read_pauses()
  return answer(200, { journey = name, paused_since = time.iso(done.since), already = done.already, held = done.held,
                       sending = done.sending })
end

-- POST /v1/journeys/{name}/resume?held=send|drop (or {"held":"send"} as the
-- body): what `drip resume NAME --send-held|--drop-held` does, at once.
function Api:resume(req, name)
  local how = (req.query or {}).held
  if not how and req.body ~= "" then
    local obj, err = decode_object(req.body)
    if not obj then return bad(err) end
    how = obj.held
  end
  if how ~= nil and not pause.CHOICES[how] then
    return answer(400, { error = "held: send or drop, not " .. json.encode(how), field = "held" })
  end
  local done, err, held = pause.resume(self.store, name, self.engine.now, how, self.engine.outbox_status)
  if not done and held then
    return answer(409, { error = string.format("'%s' holds %d message%s: resume with ?held=send to send them now "
      .. "or ?held=drop to drop them", name, held, held == 1 and "" or "s"), field = "held", held = held })
  end
  if not done then return answer(404, { error = err }) end
  self.engine:read_pauses()
  self.engine.queued = self.engine.queued + done.sent -- (drip run's dispatcher looks at once)
  return answer(200, { journey = name, resumed = done.was_paused, paused_since = done.since and time.iso(done.since),
                       refused = done.refused, sent = done.sent, dropped = done.dropped, ended = done.ended })
end

-- What `drip preview NAME` shows, as JSON: every message the journey would
-- send one contact, run alone in memory. ?contact=ID a stored contact (their
-- traits, variants, latest trigger event and events of the 90 days before),
-- ?traits= and ?properties= JSON objects (over the stored ones), ?then=
-- events after the entry ("Order Completed +2h", several split by ";").
function Api:preview(req, name) return answer(self:preview_of(name, req.query or {})) end

-- The preview of journey `name` for query q (contact, traits, properties,
-- then) -> 200, its document | status, { error=, field= }
function Api:preview_of(name, q)
  local def = self.engine.latest[name]
  if not def then return 404, { error = "journey '" .. name .. "' not found" } end
  local given = {}
  for _, key in ipairs({ "traits", "properties" }) do
    if q[key] and q[key] ~= "" then
      local t, err = preview.json_object(key, q[key], '{"language":"fa"}')
      if not t then return 400, { error = err, field = key } end
      given[key] = t
    end
  end
  local texts = {}
  for text in (q["then"] or ""):gmatch("[^;]+") do texts[#texts + 1] = text end
  local later, lerr = preview.later_events(texts)
  if not later then return 400, { error = "then: " .. lerr, field = "then" } end
  local id = q.contact ~= "" and q.contact or nil
  if id and not self.store:contact_json(id) then return 404, { error = "contact '" .. id .. "' not found" } end
  local who = preview.subject(id and self.store, id, def.trigger, given.traits, given.properties, later)
  if who.history then who.history.clock = self.engine.now end
  local dir = self.engine.templates_dir:match("^(.*)/templates$")
  local out, err = preview.run(self.conf or {}, def.file, dir, name, who)
  if not out then return 409, { error = err } end -- (its file no longer compiles)
  return 200, preview.document(name, who, def.trigger, out, self.conf or {})
end

-- unsubscribe links (SPEC §6 /u/{token}) -------------------------------------------

local function page(status, html) return answer(status, html, "text/html; charset=utf-8") end

-- Take in an event drip makes itself (an unsubscribe, a click), stamped now.
function Api:emit(obj)
  obj.timestamp = time.iso(self.engine.now)
  self.engine:ingest(assert(events.normalize(obj, nil, self.engine.now)))
end

-- Set the contact's `unsubscribed.<channel>` trait (or, for a topic,
-- `unsubscribed.<topic>`) and emit Unsubscribed or Resubscribed for
-- journeys (exit_on) -> false when it was already so.
-- `reason`: why, when not the person's own click ("complaint": a spam report).
function Api:subscription(contact, channel, unsubscribed, topic, reason)
  local traits = self.store:contact(contact) or {}
  local key = "unsubscribed." .. (topic or channel)
  if (traits[key] == true) == unsubscribed then return false end
  self:emit({ type = "identify", userId = contact, traits = { [key] = unsubscribed } })
  self:emit({ type = "track", userId = contact, event = unsubscribed and "Unsubscribed" or "Resubscribed",
              properties = { channel = channel, topic = topic, reason = reason } })
  return true
end

-- POST /v1/feedback/{provider} (ses, sendgrid, postmark, mailgun, or drip's
-- own form): what an email provider reports after it took a message. A
-- bounce marks the address gone (trait bounced.email, as a refusal at send
-- time does), a spam complaint unsubscribes the contact from email (an
-- Unsubscribed event with reason "complaint"); both are kept with the
-- latest message sent there. Only a contact whose email is still that
-- address is changed. A bounce that may pass (soft) changes nothing.
local FEEDBACK_COUNTS = { bounce = "bounced", complaint = "complained", soft = "soft" } -- (the answer's counts)
function Api:feedback(req, provider)
  local reports, err, field, confirm = feedback.read(provider, req.body)
  if not reports then
    if err:match("^no provider") then return answer(404, { error = err }) end
    return answer(400, { error = err, field = field or "body" })
  end
  if confirm then
    log.warn("Amazon SNS asks drip to confirm its subscription: open this URL once", "url", confirm)
  end
  local told = { ok = true, bounced = 0, complained = 0, soft = 0, unknown = 0 }
  for _, r in ipairs(reports) do
    local sent = self.store:sent_to(r.address, "email")
    if #sent == 0 then
      told.unknown = told.unknown + 1
    else
      local counted = FEEDBACK_COUNTS[r.kind]
      told[counted] = told[counted] + 1
      for _, row in ipairs(r.kind ~= "soft" and sent or {}) do self:take_feedback(r, row[1], row[2], provider) end
    end
  end
  told.confirm = confirm and "the subscription's confirmation URL is in drip's log" or nil
  for _, outcome in pairs(FEEDBACK_COUNTS) do
    if told[outcome] > 0 then self.metrics:feedback(provider, outcome, told[outcome]) end
  end
  if told.unknown > 0 then self.metrics:feedback(provider, "unknown", told.unknown) end
  return answer(200, told)
end

-- a bounce or complaint report r of the address contact `id` was last sent message `message` at
function Api:take_feedback(r, id, message, provider)
  local traits = self.store:contact(id) or {}
  local address = traits.email
  if type(address) ~= "string" or address:lower() ~= r.address:lower() then return end -- (it has another address now)
  self.store:note_delivery(message, self.engine.now, r.kind == "bounce" and "bounced" or "complained",
    json.encode({ feedback = provider, reason = r.detail }))
  if r.kind == "bounce" then
    self:emit({ type = "identify", userId = id, traits = { ["bounced.email"] = address } })
  else
    self:subscription(id, "email", true, nil, "complaint")
  end
end

-- GET shows the page (and unsubscribes); POST is RFC 8058 one-click; POST .../resubscribe undoes it.
-- A GET or HEAD by a link scanner or another program (tracking.machine)
-- unsubscribes no one: it gets a page whose button does.
-- A link of a message with a topic unsubscribes from the topic, and its
-- page offers POST .../all, from every message on the channel.
-- The page is in the contact's language, else the browser's (drip.unsubscribe_page).
function Api:unsubscribe_link(req, rest)
  local token, action = rest:match("^([^/]+)/?(.*)$")
  if req.method ~= "POST" and action ~= "" then return not_found("path '" .. req.path .. "'") end
  local who, why = require("drip.unsubscribe").verify(self.secret, token or "", self.engine.now)
  local traits = who and self.store:contact(who.contact)
  local lang = unsubscribe_page.language(traits, req.accept_language)
  if not who then return page(400, unsubscribe_page.render("bad_link", lang, nil, why)) end
  if not traits then return page(200, unsubscribe_page.render("forgotten", lang, who.channel)) end
  local topic, base = who.topic, "/u/" .. token
  if req.method ~= "POST" and tracking.machine(req.method, req.user_agent) then
    return page(200, unsubscribe_page.render("confirm", lang, who.channel, base, topic))
  end
  if who.topic and action:match("^all") then -- (from the page of a topic: every message on the channel)
    topic, base, action = nil, base .. "/all", action:gsub("^all/?", "")
  end
  if action == "resubscribe" then
    self:subscription(who.contact, who.channel, false, topic)
    return page(200, unsubscribe_page.render("resubscribed", lang, who.channel, nil, topic))
  elseif action ~= "" then
    return not_found("path '" .. req.path .. "'")
  end
  self:subscription(who.contact, who.channel, true, topic)
  return page(200, unsubscribe_page.render("unsubscribed", lang, who.channel, base, topic))
end

-- 302 on to a tracked link
local function redirect(link)
  local r = page(302, '<!doctype html><a href="' .. template.escape_html(link) .. '">Continue</a>')
  r.location = link
  return r
end

-- GET /c/{token} (a tracked link: on to where it was written) and /o/{token}
-- (a tracked open: the image): the first of each is kept on the message,
-- and each is an event of the contact (Email Link Clicked, Email Opened)
-- that journeys can wait for. A message no longer stored is not told of,
-- nor is a fetch by a link scanner or another program (tracking.machine):
-- that is a delivery state of the message, "scanned".
function Api:engaged(req, kind, token)
  local t, why = tracking.read(self.secret, kind, token)
  if not t then return page(400, "<!doctype html><title>Not a link</title><p>This link is not one we made: " .. why) end
  local machine = tracking.machine(req.method, req.user_agent)
  local m = self.store:message_engaged(t.message, kind, self.engine.now, machine)
  if m and m.contact and not machine then
    self:emit({ type = "track", userId = m.contact, event = kind == "click" and tracking.CLICKED or tracking.OPENED,
                properties = { message_id = t.message, journey = m.journey, message = m.label, url = t.link } })
  end
  if kind == "open" then return answer(200, tracking.PIXEL, "image/gif") end
  return redirect(t.link)
end

-- GET /s/{code}: a tracked SMS link, on to the link of the stored message it
-- names (see tracking.sms_text); the first click is kept on the message, and
-- each is an event of the contact (SMS Link Clicked); one by a program (a
-- messaging app's link preview, say) is a delivery state only, as above.
function Api:sms_click(req, code)
  local id, k = tracking.read_short(self.secret, code)
  if not id then return page(400, "<!doctype html><title>Not a link</title><p>This link is not one we made.") end
  local machine = tracking.machine(req.method, req.user_agent)
  local m = self.store:message_engaged(id, "click", self.engine.now, machine)
  local fields = m and json.decode(m.fields or "")
  local link = type(fields) == "table" and (tracking.links_in_text(channels.text_of(fields))[k] or {})[3]
  if not link then
    return page(404, "<!doctype html><title>Link expired</title><p>This link has expired: its message is no longer kept.")
  end
  if m.contact and not machine then
    self:emit({ type = "track", userId = m.contact, event = tracking.SMS_CLICKED,
                properties = { message_id = id, journey = m.journey, message = m.label, url = link } })
  end
  return redirect(link)
end

-- the words of a /ui page for the request (its ?lang=, else its Accept-Language)
local function words(req) return ui.words(req.query or {}, req.accept_language, req.path) end

-- path pattern, allowed methods, handler(self, req, capture)
local ROUTES = {
  { "^/v1/track$", "POST", function(self, req) return self:single(req, "track") end },
  { "^/v1/identify$", "POST", function(self, req) return self:single(req, "identify") end },
  { "^/v1/batch$", "POST", Api.batch },
  { "^/v1/events$", "POST", Api.lines },
  { "^/v1/contacts/(.+)$", "GET DELETE", Api.contact },
  { "^/v1/journeys$", "GET", Api.journeys },
  { "^/v1/records$", "GET", Api.records },
  { "^/v1/journeys/([^/]+)/stats$", "GET", Api.stats },
  { "^/v1/journeys/([^/]+)/preview$", "GET", Api.preview },
  { "^/v1/journeys/([^/]+)/pause$", "POST", Api.pause },
  { "^/v1/journeys/([^/]+)/resume$", "POST", Api.resume },
  { "^/metrics$", "GET", function(self)
      return answer(200, self.metrics:render(self.engine.steps_recorded, self.engine.paused), "text/plain; version=0.0.4")
    end },
  { "^/healthz$", "GET", Api.health },
  { "^/ui/?$", "GET", function(self, req) return page(200, ui.overview(words(req), self.engine, self.store)) end },
  { "^/ui/journeys/([^/]+)$", "GET", function(self, req, name)
      return page(ui.journey(words(req), self.engine, self.store, name, req.query or {})) end },
  { "^/ui/journeys/([^/]+)/records%.csv$", "GET", function(self, req, name)
      local status, body = ui.records_csv(words(req), self.engine, self.store, name, req.query or {})
      return answer(status, body, status == 200 and "text/csv; charset=utf-8" or "text/html; charset=utf-8") end },
  { "^/ui/journeys/([^/]+)/preview$", "GET", function(self, req, name)
      local q = req.query or {}
      return page(ui.preview(words(req), name, q, self:preview_of(name, q))) end },
  { "^/ui/contacts$", "GET", function(self, req)
      return page(ui.contact(words(req), self.engine, self.store, self.conf, self.journeys, req.query or {})) end },
  { "^/u/(.+)$", "GET POST", Api.unsubscribe_link },
  { "^/c/(.+)$", "GET", function(self, req, token) return self:engaged(req, "click", token) end },
  { "^/o/(.+)$", "GET", function(self, req, token) return self:engaged(req, "open", token) end },
  { "^/s/(.+)$", "GET", Api.sms_click },
  { "^/v1/feedback/([^/]+)$", "POST", Api.feedback },
}

-- Api:handle{ method=, path=, body= } -> { status=, body=, type= }. HEAD is
-- answered wherever GET is, as GET (the server sends no body with it): a
-- handler that changes something on GET (a tracked link) checks for it.
function Api:handle(req)
  local method = req.method == "HEAD" and "GET" or req.method
  for _, route in ipairs(ROUTES) do
    local capture = req.path:match(route[1]) -- the whole path when the pattern has no capture
    if capture then
      if not (" " .. route[2] .. " "):find(" " .. method .. " ", 1, true) then
        return answer(405, { error = string.format("%s takes %s, not %s", req.path, route[2], req.method) })
      end
      return route[3](self, req, capture)
    end
  end
  return not_found("path '" .. req.path .. "'")
end

return Api
