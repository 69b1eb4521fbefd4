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
local json = require "drip.json"
local time = require "drip.time"
local duration = require "drip.duration"
local policy = require "drip.policy"
local channels = require "drip.channels"
local unsubscribe = require "drip.unsubscribe"
local preview = require "drip.preview"
local cli = require "drip.cli"
local host = require "drip_host"

local cmd = {}

local FIELD_ORDER = { "subject", "title", "text", "body", "html", "url" }

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

-- The stored contact's id, from --contact (an id, email or phone) -> id, the
-- store (open) | nil, message (nil: told already), exit status
local function stored_contact(opts, conf)
  local store, status = cli.open_store(opts, "preview")
  if not store then return nil, nil, status end
  local id, missing = cli.find_contact(store, "preview", opts.contact, false, conf.phone_country)
  if not id then
    store:close()
    return nil, missing, 1
  end
  return id, store
end

-- Who is previewed (see preview.subject) | nil, message (nil: told already), exit status
local function subject(opts, conf, trigger)
  local props, traits, err
  if opts.properties then
    props, err = preview.json_object("--properties", opts.properties, '{"cart_url":"https://…"}')
    if not props then return nil, err, 2 end
  end
  if opts.traits then
    traits, err = preview.json_object("--traits", opts.traits, '{"language":"fa","first_name":"Sara"}')
    if not traits then return nil, err, 2 end
  end
  local later
  later, err = preview.later_events(opts["then"])
  if not later then return nil, "--then " .. err, 2 end
  local id, store, status
  if opts.contact then
    id, store, status = stored_contact(opts, conf)
    if not id then return nil, store, status end
  end
  local who = preview.subject(store, id, trigger, traits, props, later)
  if props then who.said = "--properties" end
  if store then store:close() end
  return who
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
local function own_rules(rec, who, conf)
  local why = preview.would_stop(rec, who.real, conf)
  return why and string.format(" — %s itself would not get it: %s", who.id, why) or ""
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

-- Send `sends` (records) to `to` on `channel` (its settings: c) now, with
-- unsubscribe links as the preview signed its own (links: { base =, secret = })
-- -> { [i] = "sent (SMTP 250)" | "failed: ..." }, failures
local function deliver(channel, c, to, sends, id, journey_name, links)
  local curl = require "drip_curl"
  local now, key = host.time(), "drip-preview-" .. preview.random_key()
  local answers, said, waiting, failures = {}, {}, 0, 0
  curl.start({ on_done = function(list) for _, r in ipairs(list) do answers[r.id] = r end end,
               on_tick = function() return nil end })
  for i, rec in ipairs(sends) do
    local ctx = { key = key .. "-" .. i, contact = id, journey = journey_name, kind = rec.kind_of_message, now = now }
    if channel == "email" and ctx.kind == "marketing" then
      ctx.unsubscribe_url = unsubscribe.url(links.base, links.secret, id, channel, now)
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
local function print_records(records, started, who, conf)
  local sends, entered, last = {}, false, nil
  for _, rec in ipairs(records) do
    local at = after(time.parse(rec.at), started)
    if rec.kind == "enter" then entered = true
    elseif rec.kind == "send" then
      sends[#sends + 1] = rec
      print(string.format("  %-16s  %s to %s%s", at, rec.channel, rec.to, own_rules(rec, who, conf)))
      print_fields(rec.message)
    elseif rec.kind == "suppress" or rec.kind == "defer" then
      print(string.format("  %-16s  %s not sent: %s", at, rec.channel, rec.reason))
    elseif rec.kind == "variant" then
      print(string.format("  %-16s  split %s: %s", at, rec.split, rec.variant))
    elseif rec.kind == "log" then
      print(string.format("  %-16s  log: %s", at, rec.message))
    elseif rec.kind == "event" then
      print(string.format("  %-16s  ← %s", at, rec.event))
    elseif rec.kind == "convert" then
      print(string.format("  %-16s  converted%s", at, rec.value ~= nil and rec.value ~= json.null and
        " (" .. json.encode(rec.value) .. ")" or ""))
    elseif rec.kind == "exit" then
      last = rec
    end
  end
  return sends, entered, last
end

-- Send the messages of t.channel to t.to now and say how each went -> exit status
local function send_now(t, sends, out, id, name)
  local mine = {}
  for _, rec in ipairs(sends) do
    if rec.channel == t.channel then mine[#mine + 1] = rec end
  end
  print("")
  local outcomes, failures = deliver(t.channel, t.settings, t.to, mine, id, name, out.unsubscribe)
  for i, rec in ipairs(mine) do
    local subject = rec.message.subject or rec.message.title or rec.message.text or rec.message.body or ""
    print(string.format("  %-16s  %s to %s “%s”: %s", after(time.parse(rec.at), out.started), t.channel, t.to,
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
  local who, err, status = subject(opts, conf, trigger)
  if not who then return err and fail(err, status) or status end
  local out, rerr = preview.run(conf, file, dir, name, who, channel, to)
  if not out then return fail(rerr) end
  local started = out.started
  if opts.format == "json" then
    if channel then return usage("--format json shows the messages; it does not send them (leave out --to)") end
    print(json.encode(preview.document(name, who, trigger, out, conf)))
    local last = out.records[#out.records]
    return last and last.kind == "exit" and last.reason == "error" and 1 or 0
  elseif opts.format and opts.format ~= "table" then
    return usage("--format: table or json")
  end

  local entry = trigger.kind == "event" and trigger.event or trigger.kind
  local whom = opts.contact and who.id or (opts.traits and "a contact with the traits given" or "a contact with no traits")
  print(string.format("%s for %s, entering on %s%s%s at %s", name, whom, entry,
    trigger.kind == "event" and " " .. json.encode(who.props) or "", who.said and " (" .. who.said .. ")" or "",
    time.iso(started) .. (out.schedule_passed and " (its one-off schedule has passed: shown as if now)" or "")))
  print("every channel allowed; no caps or quiet hours; "
    .. (#who.later > 0 and "only the events given come later" or "no later event comes")
    .. (#out.stand_ins > 0 and "; stand-in " .. table.concat(out.stand_ins, ", ") or ""))
  print("")
  local sends, entered, last = print_records(out.records, started, who, conf)
  for _, w in ipairs(out.warnings) do io.stderr:write("drip preview: warning: ", w, "\n") end
  if not entered then
    return fail(string.format("%s did not enter: its trigger's where() did not take %s %s; give --properties that it "
      .. "takes", who.id, entry, json.encode(who.props)))
  end
  print("")
  local ending = last and string.format("the instance ends at %s (%s)", after(time.parse(last.at), started), last.reason)
    or out.cut and string.format("the preview stops after %d records", preview.MAX_RECORDS)
    or "the instance still waits after " .. duration.format(preview.LONGEST)
  print(string.format("%d message%s; %s", #sends, #sends == 1 and "" or "s", ending))
  if last and last.reason == "error" then
    print(indented(last.error, 2))
    return 1
  end
  if not channel then return 0 end
  return send_now({ channel = channel, to = to, settings = settings }, sends, out, who.id, name)
end

return cmd
