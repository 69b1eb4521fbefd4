-- drip.cmd_preview — `drip preview JOURNEY`: every message one journey would
-- send one contact, in order and with when, from a run of that journey alone
-- on a virtual clock in memory (the store is only read). Owns making the
-- previewed contact (a stored one's traits, or none, with every channel
-- allowed and an address on each), entering it (on the trigger event: the
-- contact's latest stored one, or --properties), printing the messages, and
-- with --to sending those of that address's channel now through the
-- configured provider, marked "[preview]".
local Store = require "drip.store"
local Engine = require "drip.engine"
local config = require "drip.config"
local simulate = require "drip.cmd_simulate"
local events = require "drip.events"
local json = require "drip.json"
local time = require "drip.time"
local duration = require "drip.duration"
local policy = require "drip.policy"
local channels = require "drip.channels"
local unsubscribe = require "drip.unsubscribe"
local cli = require "drip.cli"
local suggest = require "drip.suggest"
local host = require "drip_host"

local cmd = {}

local LONGEST = 400 * 86400 -- how far the clock may run for one instance
local HISTORY = 90 * 86400  -- a stored contact's events before the entry the preview keeps
-- what stands in for an address the contact does not have
local STAND_IN = { email = "preview@example.com", phone = "+15555550100", push_token = "preview-device-token",
                   telegram_chat_id = "100000001" }
local FIELD_ORDER = { "subject", "title", "text", "body", "html", "url" }

local function random_key() return string.format("%08x%08x", math.random(0, 0xffffffff), math.random(0, 0xffffffff)) end

local function fail(msg, status)
  io.stderr:write("drip preview: ", msg, "\n")
  return status or 1
end

-- the journey `name` in the journeys at `paths` -> its file, the directory, its trigger | nil, message
local function find_journey(conf, paths, name)
  local files, dir = simulate.locate(paths)
  if not files then return nil, dir end
  local scratch = Engine.new({ store = assert(Store.open(":memory:")), conf = conf, warn = function() end })
  local errors = scratch:load(files, dir)
  local def = scratch.latest[name]
  scratch.store:close()
  if def then return def.file, dir, def.trigger end
  local place = "loads from " .. table.concat(paths, " ")
  local msg = cli.unknown_journey(name, scratch:journey_names(), place)
  if #errors > 0 then msg = msg .. "\n" .. table.concat(errors, "\n") end
  return nil, msg
end

-- --to's channel: --channel, else an email address, a phone number or a URL -> channel | nil, message
local function channel_of(to, named)
  if named then
    if not policy.CHANNELS[named] then return nil, string.format("--channel: '%s' is not a channel (%s)", named,
      policy.CHANNEL_NAMES) end
    return named
  end
  if to:find("@", 1, true) then return "email" end
  if to:match("^https?://") then return "webhook" end
  if policy.plain_number(to):match("^%+%d+$") then return "sms" end
  return nil, string.format("--to '%s': not an email address, a phone number with its calling code or a URL; "
    .. "name its channel with --channel (push, telegram)", to)
end

-- The contact as the preview runs it: its traits with every channel
-- consented, no unsubscribe or bounce, and an address on each channel
-- (--to's on its channel) -> traits, { trait = true } of the stand-ins
local function previewed(traits, channel, to)
  local t, stand_ins = {}, {}
  for k, v in pairs(traits) do t[k] = v end
  for _, group in ipairs({ "consent", "unsubscribed", "bounced" }) do
    t[group] = nil
    for _, ch in ipairs(policy.TO_PEOPLE) do t[group .. "." .. ch] = nil end
  end
  t["unsubscribed.transactional"] = nil
  t.consent = { email = true, sms = true, push = true, telegram = true }
  for _, ch in ipairs(policy.TO_PEOPLE) do
    local trait = policy.ADDRESS_TRAIT[ch]
    if channel == ch then
      t[trait] = to
    elseif not policy.address(ch, t) then
      t[trait], stand_ins[trait] = STAND_IN[trait], true
    end
  end
  return t, stand_ins
end

-- a flag's JSON object -> table | nil, message
local function json_object(flag, text, example)
  local t = json.decode(text)
  if type(t) ~= "table" or t[1] ~= nil or getmetatable(t) then -- (an empty [] is a marked json.array)
    return nil, string.format("--%s: not a JSON object such as '%s'", flag, example)
  end
  return t
end

-- The stored contact -> its id, traits, the latest trigger event, { path =, clock = } of its store
-- | nil, message (nil: told already), exit status
local function stored_contact(opts, conf, trigger)
  local store, status = cli.open_store(opts, "preview")
  if not store then return nil, nil, status end
  local id, missing = cli.find_contact(store, "preview", opts.contact, false, conf.phone_country)
  if not id then
    store:close()
    return nil, missing, 1
  end
  local ev = trigger.kind == "event" and store:last_event(id, trigger.event, math.mininteger)
  local history = { path = opts.db or conf.db, clock = tonumber(store:meta("clock")) }
  local traits = store:contact(id) or {}
  store:close()
  return id, traits, ev, history
end

-- The contact's traits (--contact's, --traits over them) and the trigger
-- event's properties -> traits, properties, where they came from, { path =,
-- clock = } of a stored contact's store | nil, message (nil: told already), exit status
local function contact_and_event(opts, conf, trigger)
  local props, said, traits, history, err = nil, nil, {}, nil, nil
  if opts.properties then
    props, err = json_object("properties", opts.properties, '{"cart_url":"https://…"}')
    if not props then return nil, err, 2 end
    said = "--properties"
  end
  if opts.contact then
    local id, stored, ev, where = stored_contact(opts, conf, trigger)
    if not id then return nil, stored, ev end
    opts.contact, traits, history = id, stored, where
    if not props and ev then props, said = ev.properties or {}, "its latest, " .. tostring(ev.timestamp) end
  end
  if opts.traits then
    local given
    given, err = json_object("traits", opts.traits, '{"language":"fa","first_name":"Sara"}')
    if not given then return nil, err, 2 end
    for k, v in pairs(given) do traits[k] = v end
  end
  return traits, props or {}, said, history
end

-- Run the journey for the contact, from the stored contact's store clock
-- with their events of the 90 days before (history), else from now -> the
-- records of its one instance, when it entered, warnings | nil, message
local function run(conf, file, dir, def_name, id, traits, props, history)
  local store = assert(Store.open(":memory:"))
  store:own_instances()
  local now = history and history.clock or host.time()
  if history then store:copy_contact_events(history.path, id, now - HISTORY, now) end
  local records, warnings, ended = {}, {}, false
  local rules = {}
  for k, v in pairs(conf) do rules[k] = v end
  rules.caps, rules.quiet = {}, nil -- (every message shows, now)
  local engine = Engine.new({
    store = store, conf = rules,
    sink = function(rec)
      if rec.journey ~= def_name or ended then return end
      records[#records + 1] = rec
      ended = rec.kind == "exit"
    end,
    warn = function(msg) warnings[#warnings + 1] = msg end,
    -- links that work nowhere: a click in a preview must not unsubscribe the real contact
    unsubscribe = { base = conf.public_url or "http://127.0.0.1:8425", secret = random_key() },
  })
  local errors = engine:load({ file }, dir)
  if #errors > 0 then return nil, table.concat(errors, "\n") end
  local def = engine.latest[def_name]
  engine.now = now
  store:begin()
  local function feed(obj)
    local ev = assert(events.normalize(obj, nil, engine.now))
    engine:ingest(ev)
  end
  feed({ type = "identify", userId = id, traits = traits, messageId = "preview-1" })
  local kind = def.trigger.kind
  if kind == "event" then
    feed({ type = "track", userId = id, event = def.trigger.event, properties = props, messageId = "preview-2" })
  elseif #records == 0 then -- (a segment trigger may have started it on the identify)
    engine:start(def, id, { type = kind, event = kind, userId = id, timestamp = time.iso(engine.now) }, nil, kind)
    engine:drain()
  end
  local started = engine.now
  engine:settle(engine.now + LONGEST, function() return not ended end) -- (one instance: not a later entry)
  store:close()
  return records, started, warnings
end

local function indented(text, width)
  return (tostring(text):gsub("\n", "\n" .. string.rep(" ", width)))
end

local function print_fields(message)
  local shown = {}
  local function show(k, v)
    shown[k] = true
    v = type(v) == "table" and json.encode(v) or tostring(v):gsub("%s+$", "")
    print(string.format("  %-16s  %-8s %s", "", k, indented(v, 29)))
  end
  for _, k in ipairs(FIELD_ORDER) do
    if message[k] ~= nil then show(k, message[k]) end
  end
  local rest = {}
  for k in pairs(message) do
    if not shown[k] then rest[#rest + 1] = tostring(k) end
  end
  table.sort(rest)
  for _, k in ipairs(rest) do show(k, message[k]) end
end

-- what the contact's own rules say of a message: "" or " — c1 itself would not get it: no_consent"
local function own_rules(rec, real, conf, id)
  if not real then return "" end
  local ok, why = policy.check(rec.channel, rec.kind_of_message, real, { consent = conf.consent,
    phone_country = conf.phone_country })
  if ok then return "" end
  return string.format(" — %s itself would not get it: %s", id, why)
end

-- The fields as sent for a preview: its subject, title or text marked
local function marked(message, channel)
  local m = {}
  for k, v in pairs(message) do m[k] = v end
  if channel == "email" then m.subject = "[preview] " .. tostring(m.subject or "")
  elseif channel == "push" then m.title = "[preview] " .. tostring(m.title or "")
  elseif channel == "webhook" then m.preview = true
  else
    local field = m.text and "text" or "body"
    m[field] = "[preview] " .. tostring(m[field] or "")
  end
  return m
end

-- Send `sends` (records) to `to` on `channel` (its settings: c) now
-- -> { [i] = "sent (SMTP 250)" | "failed: ..." }, failures
local function deliver(conf, channel, c, to, sends, id, journey_name)
  local curl = require "drip_curl"
  local now, key = host.time(), "drip-preview-" .. random_key()
  local answers, said, waiting, failures = {}, {}, 0, 0
  curl.start({ on_done = function(list) for _, r in ipairs(list) do answers[r.id] = r end end,
               on_tick = function() return nil end })
  for i, rec in ipairs(sends) do
    local ctx = { key = key .. "-" .. i, contact = id, journey = journey_name, kind = rec.kind_of_message, now = now }
    if channel == "email" and ctx.kind == "marketing" then
      ctx.unsubscribe_url = unsubscribe.url(conf.public_url or "http://127.0.0.1:8425", key, id, channel, now)
    end
    local ok, spec = pcall(channels.request, channel, c, to, marked(rec.message, channel), ctx)
    local started, err = false, spec
    if ok then started, err = curl.request(i, spec) end
    if started then waiting = waiting + 1 else said[i] = "failed: " .. tostring(err) end
  end
  while waiting > 0 do
    curl.run_once()
    waiting = 0
    for i in ipairs(sends) do if not said[i] and not answers[i] then waiting = waiting + 1 end end
  end
  curl.stop()
  curl.run_once() -- (the handles' close callbacks)
  for i in ipairs(sends) do
    local r = answers[i]
    if r then
      local status, detail = channels.outcome(channel, r, now)
      local answer = detail.smtp and ("SMTP " .. (detail.reply or detail.smtp)) or detail.http and ("HTTP " .. detail.http)
        or detail.error or "no answer"
      said[i] = status == "sent" and "sent (" .. answer .. ")" or "not sent: " .. answer
    end
    if not said[i]:match("^sent") then failures = failures + 1 end
  end
  return said, failures
end

local function after(t, start)
  if t <= start then return "+0" end
  return "+" .. duration.format(t - start)
end

-- --to and --channel -> channel, address as delivery writes it, the channel's
-- settings | nil (no --to) | false, message, exit status
local function target(opts, conf)
  if not opts.to then
    if opts.channel then return false, "--channel names the channel of --to; give --to ADDRESS", 2 end
    return nil
  end
  local channel, cherr = channel_of(opts.to, opts.channel)
  if not channel then return false, cherr, 2 end
  local settings, serr = channels.check(conf.channels)
  if not settings then return false, config.where(conf, "channels") .. serr, 2 end
  if not settings[channel] then
    return false, string.format("channels.%s is not in the configuration; without it a preview can show the "
      .. "messages, not send them (see examples/drip.conf.lua)", channel), 2
  end
  local trait = policy.ADDRESS_TRAIT[channel] -- (a phone as delivery writes it: +491511234567)
  return channel, trait and policy.address(channel, { [trait] = opts.to }, nil, conf.phone_country) or opts.to,
    settings[channel]
end

-- The run's messages, printed in order -> the send records, whether it
-- entered, the exit record | nil
local function print_records(records, started, real, conf, id)
  local sends, entered, last = {}, false, nil
  for _, rec in ipairs(records) do
    local at = after(time.parse(rec.at), started)
    if rec.kind == "enter" then entered = true
    elseif rec.kind == "send" then
      sends[#sends + 1] = rec
      print(string.format("  %-16s  %s to %s%s", at, rec.channel, rec.to, own_rules(rec, real, conf, id)))
      print_fields(rec.message)
    elseif rec.kind == "suppress" or rec.kind == "defer" then
      print(string.format("  %-16s  %s not sent: %s", at, rec.channel, rec.reason))
    elseif rec.kind == "variant" then
      print(string.format("  %-16s  split %s: %s", at, rec.split, rec.variant))
    elseif rec.kind == "log" then
      print(string.format("  %-16s  log: %s", at, rec.message))
    elseif rec.kind == "exit" then
      last = rec
    end
  end
  return sends, entered, last
end

-- Send the messages of `channel` to `to` now and say how each went -> exit status
local function send_now(conf, t, sends, started, id, name)
  local mine = {}
  for _, rec in ipairs(sends) do
    if rec.channel == t.channel then mine[#mine + 1] = rec end
  end
  print("")
  local outcomes, failures = deliver(conf, t.channel, t.settings, t.to, mine, id, name)
  for i, rec in ipairs(mine) do
    local subject = rec.message.subject or rec.message.title or rec.message.text or rec.message.body or ""
    print(string.format("  %-16s  %s to %s “%s”: %s", after(time.parse(rec.at), started), t.channel, t.to,
      (tostring(subject):gsub("%s+", " ")):sub(1, 60), outcomes[i]))
  end
  print(string.format("sent %d of %d %s message%s to %s%s", #mine - failures, #mine, t.channel,
    #mine == 1 and "" or "s", t.to, #sends > #mine and string.format(" (%d on other channels not sent)", #sends - #mine)
    or ""))
  return failures > 0 and 1 or 0
end

function cmd.run(opts, usage)
  local name = opts.args[1]
  if not name then return usage("which journey? (drip preview abandoned_cart)") end
  local conf, cerr = config.for_command(opts)
  if not conf then return fail(cerr, 2) end
  local channel, to, settings = target(opts, conf)
  if channel == false then return fail(to, settings) end
  local file, dir, trigger = find_journey(conf, { opts.journeys or conf.journeys }, name)
  if not file then return fail(dir, 2) end
  local real, props, said, history = contact_and_event(opts, conf, trigger)
  if not real then return props and fail(props, said) or said end
  local id = opts.contact or "preview"
  local traits, stand_ins = previewed(real, channel, to)
  local records, started, warnings = run(conf, file, dir, name, id, traits, props, history)
  if not records then return fail(started) end

  local entry = trigger.kind == "event" and trigger.event or trigger.kind
  local who = opts.contact or (opts.traits and "a contact with the traits given" or "a contact with no traits")
  print(string.format("%s for %s, entering on %s%s%s", name, who, entry,
    trigger.kind == "event" and " " .. json.encode(props) or "", said and " (" .. said .. ")" or ""))
  local blanks = suggest.names(stand_ins)
  print("every channel allowed; no caps or quiet hours; no later event comes"
    .. (#blanks > 0 and "; stand-in " .. table.concat(blanks, ", ") or ""))
  print("")
  local sends, entered, last = print_records(records, started, opts.contact and real, conf, id)
  for _, w in ipairs(warnings) do io.stderr:write("drip preview: warning: ", w, "\n") end
  if not entered then
    return fail(string.format("%s did not enter: its trigger's where() did not take %s %s; give --properties that it "
      .. "takes", id, entry, json.encode(props)))
  end
  print("")
  local ending = last and string.format("the instance ends at %s (%s)", after(time.parse(last.at), started), last.reason)
    or "the instance still waits after " .. duration.format(LONGEST)
  print(string.format("%d message%s; %s", #sends, #sends == 1 and "" or "s", ending))
  if last and last.reason == "error" then
    print(indented(last.error, 2))
    return 1
  end
  if not channel then return 0 end
  return send_now(conf, { channel = channel, to = to, settings = settings }, sends, started, id, name)
end

return cmd
