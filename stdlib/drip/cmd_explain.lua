-- drip.cmd_explain — `drip explain CONTACT [JOURNEY]`: why did (or didn't)
-- this contact get that message. Owns telling a contact's story from the
-- store: traits, consent and unsubscribes, recent events, then per instance
-- every record in order (entry, variants, sends, suppressions and deferrals
-- with their reason, conversions, exit or error) with each message's
-- delivery states, and what the instance waits for now.
local json = require "drip.json"
local report = require "drip.report"
local suggest = require "drip.suggest"
local policy = require "drip.policy"
local time = require "drip.time"
local duration = require "drip.duration"
local schedule = require "drip.schedule"
local cli = require "drip.cli"
local entries = require "drip.entries"
local words = require "drip.explain_words"

local cmd = {}

local RECENT = 10

local function iso(t) return t and time.iso(t) or "-" end

-- "email ok, sms no consent and no address, ..." under the configured
-- consent policy (a marketing send checks the address first, so its
-- suppression says no_address when both are missing), in words W
local function consent_line(traits, conf, W)
  local parts = {}
  for _, ch in ipairs(policy.TO_PEOPLE) do
    local address = policy.address(ch, traits, nil, conf.phone_country)
    local _, why = policy.check(ch, "marketing", traits, { consent = conf.consent, to = address or "x" })
    local says = { why and (W.reasons[why] or why:gsub("_", " ")) }
    if not address then says[#says + 1] = W.no_address end
    parts[#parts + 1] = ch .. " " .. (#says > 0 and table.concat(says, W["and"]) or W.channel_ok)
  end
  return table.concat(parts, ", ")
end

-- what a message's last delivery state's detail says, in words W
local function answer_note(answer, W)
  if type(answer) ~= "table" then return "" end
  return answer.http and string.format(W.http, answer.http)
    or answer.smtp and string.format(W.smtp, answer.smtp) or answer.error and (" (" .. answer.error .. ")")
    or answer.since_queued and W.since_queued or answer.pause and W["pause_" .. answer.pause] -- (see drip.pause)
    or answer.feedback and string.format(W.told_later, answer.feedback,
      type(answer.reason) == "string" and ": " .. answer.reason or "") or ""
end

local function delivery_line(m, W)
  local steps, last, scans = {}, nil, {}
  for _, d in ipairs(m.deliveries) do
    if d.status == "scanned" then -- (an open or click by a program: see tracking.machine)
      local scan = json.decode(d.detail or "{}")
      scans[#scans + 1] = string.format(scan.scanned == "open" and W.scanned_open or W.scanned_click, iso(d.at),
        tostring(scan.by))
    else
      steps[#steps + 1] = words.state(W, d.status) .. " " .. iso(d.at):sub(12)
      last = d
    end
  end
  local said = answer_note(last and last.detail and json.decode(last.detail), W)
  local now = words.state(W, m.status) .. (m.reason and (": " .. words.reason(W, m.reason)) or "") .. said
  if m.due and (m.status == "queued" or m.status == "deferred") then
    now = now .. string.format(W.next_try, iso(m.due))
  end
  for _, k in ipairs({ "opened", "clicked" }) do -- (tracked: see drip.tracking)
    if m[k .. "_at"] then now = now .. string.format(W[k], iso(m[k .. "_at"])) end
  end
  now = now .. table.concat(scans)
  if #steps == 0 then return now end
  return now .. "; " .. table.concat(steps, " → ")
end

-- a message's record (send, suppress or defer) in words W
local function message_line(d, kind, message, W)
  local state = message and delivery_line(message, W)
  if kind == "send" then
    local subject = type(d.message) == "table" and (d.message.subject or d.message.title or d.message.text)
    return string.format(W.sent_to, d.channel, d.to, subject and (' "' .. tostring(subject) .. '"') or "",
      report.segments_note(d, " (%s)"), state or words.state(W, "queued"))
  end
  if kind == "suppress" then return string.format(W.not_sent, d.channel, words.reason(W, d.reason)) end
  if d.reason == "paused" then return string.format(W.held, d.channel, d.to, state or words.state(W, "held")) end
  return string.format(W.deferred, d.channel, words.reason(W, d.reason), d["until"], state or words.state(W, "deferred"))
end

-- traceback: the instance's stored error, whose first line is the exit's message
local function record_line(r, message, traceback, W)
  local d = r.data
  if r.kind == "enter" then return string.format(W.entered_on, tostring(d.event)) end
  if r.kind == "send" or r.kind == "suppress" or r.kind == "defer" then return message_line(d, r.kind, message, W) end
  if r.kind == "variant" then return string.format(W.variant, d.split, d.variant) end
  if r.kind == "convert" then
    return W.converted .. (d.event ~= json.null and d.event and string.format(W.converted_on, d.event) or "")
      .. (type(d.value) == "number" and string.format(W.worth, json.number(d.value)) or "")
      .. (d.after_end and W.converted_late or "")
  end
  if r.kind == "exit" then
    local err = d.error ~= json.null and d.error or nil
    if err and type(traceback) == "string" and traceback:sub(1, #err) == err then err = traceback:gsub("\t", "  ") end
    local detail = type(d.detail) == "string" and (" (" .. d.detail .. ")") or "" -- exit's reason, or the exit_on event
    return string.format(W.exit, tostring(words.reason(W, d.reason)), detail)
      .. (err and ("\n      " .. err:gsub("\n", "\n      ")) or "")
  end
  if r.kind == "wait" then
    if d.event then return string.format(d.ended_by == "timeout" and W.wait_timed_out or W.wait_came, d.op, d.event) end
    return string.format(W.wait_time, d.op)
  end
  if r.kind == "log" then return string.format(W.log, tostring(d.message)) end
  return r.kind .. " " .. json.encode(d)
end

local MESSAGE_KINDS = { send = true, suppress = true, defer = true }

local function tell_instance(store, inst, say, W)
  say("\n" .. string.format(W.instance, inst.journey, inst.id, inst.version:sub(1, 12),
    inst.active and W.active or string.format(W.ended, iso(inst.ended_at), tostring(words.reason(W, inst.exit_reason)))))
  local story = store:instance_story(inst.id)
  local m = 0
  for _, r in ipairs(story.records) do
    local message
    if MESSAGE_KINDS[r.kind] then
      m = m + 1
      message = story.messages[m]
    end
    say(string.format("  %s  %s", iso(r.at), record_line(r, message, inst.error, W)))
  end
  if inst.active then
    local waiting = inst.waiting_for and string.format(W.waiting_for, inst.waiting_for) or W.waiting_timer
    say(string.format(W.waiting, waiting, story.next_timer and string.format(W["until"], iso(story.next_timer)) or ""))
  end
end


-- An event name's spelling must match exactly: " (it has had 'cart_updated'
-- 3 times; names must match exactly)" for a lookalike the contact has had
-- (see suggest.lookalike), else "".
local function lookalike(store, id, name, W)
  local counts, names = {}, {}
  for _, row in ipairs(store:event_names(id)) do
    counts[row[1]], names[#names + 1] = row[2], row[1]
  end
  local found = suggest.lookalike(name, names)
  if not found then return "" end
  return W.lookalike(found, counts[found])
end

-- What starts journey `def`, against what the store knows of contact `id`:
-- the lines that say why it never entered, in words W.
local function event_trigger_facts(engine, def, id, traits, W)
  local t, store = def.trigger, engine.store
  local n = store:count_events(id, t.event, nil)
  if n == 0 then return { string.format(W.starts_on_none, t.event, id, lookalike(store, id, t.event, W)) } end
  local last = store:last_event(id, t.event, 0)
  local facts = { W.starts_on(t.event, id, n, tostring(last and last.timestamp)) }
  local since, till = entries.pause_at(store:pauses_of(def.name), last and time.parse(last.timestamp) or 0)
  if till then facts[#facts + 1] = string.format(W.last_paused, time.iso(since), time.iso(till)) end
  if t.where and last then facts[#facts + 1] = entries.where_fact(engine, t.where, last, traits, W) end
  facts[#facts + 1] = W.imported
  return facts
end

local function trigger_facts(engine, def, id, traits, W)
  local t, store = def.trigger, engine.store
  if t.kind == "event" then return event_trigger_facts(engine, def, id, traits, W) end
  if t.kind == "inactive" then
    local last = store:last_activity(id)
    return { string.format(W.starts_inactive, duration.format(t.secs), id, last and time.iso(last) or W.never) }
  end
  local seg = engine:trigger_segment(def) -- nil: a broadcast to everyone; false: an unknown name
  local audience
  if seg == nil then
    audience = W.every_contact
  elseif seg == false then
    audience = string.format(W.unknown_segment, t.segment)
  else
    audience = string.format(engine:member(seg, id, traits) and W.segment_now_in or W.segment_now_out,
      type(t.segment) == "string" and t.segment or W.a_function, id)
  end
  local facts = { t.kind == "schedule" and string.format(W.starts_schedule, t.schedule, audience)
    or string.format(W.starts_segment, audience) }
  if t.rollout and t.rollout < 100 then
    local pos = schedule.position(id, def.name)
    facts[#facts + 1] = string.format(pos < t.rollout and W.rollout_in or W.rollout_out, json.number(t.rollout), id, pos)
  end
  return facts
end

-- The contact's latest trigger events of journey `name` that started no
-- instance, each with why: lines to print (none for other triggers).
local function unstarted_lines(store, conf, dir, id, traits, name, insts, W)
  local u = entries.unstarted(entries.engine(store, conf, dir), id, traits, name, insts, W)
  if not u then return {} end
  local lines = { "\n" .. string.format(W.unstarted, u.event, name,
    #u.missed == u.limit and string.format(W.unstarted_latest, u.limit) or "") }
  for _, m in ipairs(u.missed) do lines[#lines + 1] = string.format("  %s  %s", iso(m.at), m.why) end
  return lines
end

-- "never entered JOURNEY" and why (of a journey the store has seen)
local function never_entered(store, conf, dir, id, traits, name, W)
  local engine = entries.engine(store, conf, dir)
  local def = entries.newest_definition(engine, name)
  local lines = { string.format(W.never_entered, name) }
  local since = entries.pause_at(store:pauses_of(name), math.huge)
  if since then lines[#lines + 1] = "  " .. entries.paused_text(since, nil, W) end
  if def then
    for _, fact in ipairs(trigger_facts(engine, def, id, traits, W)) do lines[#lines + 1] = "  " .. fact end
  end
  return table.concat(lines, "\n")
end

-- Contact `id`'s story (of `journey` only, when given), line by line
-- through say(text); `dir` is the journeys directory whose segments.lua
-- says which segments (see cli.journeys_dir). An email or phone given as
-- `id` is told on stderr, unless `quiet`. In the words of `lang` (en, fa,
-- ru: see drip.explain_words; English when nil). -> true | nil, problem (no
-- such contact or journey)
function cmd.tell(store, conf, dir, id, journey, say, quiet, lang)
  local W = words.of(lang)
  local found, missing = cli.find_contact(store, not quiet and "explain" or nil, id, false, conf.phone_country, W)
  id = found or id
  local view = found and store:contact_view(id, RECENT)
  local problem = missing
    or journey and not store:latest_script(journey) and cli.unknown_journey(journey, store:journey_names())
  if problem then return nil, problem end
  say(string.format(W.first_seen, id, iso(view.created_at)))
  say(W.traits .. json.encode(view.traits))
  say(string.format(W.consent, consent_line(view.traits, conf, W), conf.consent))
  local topics = policy.topics_off(view.traits)
  if #topics > 0 then say(string.format(W.topics, table.concat(topics, ", "))) end
  if policy.in_control(id, conf.control) then say(string.format(W.control, json.number(conf.control))) end
  local segs, from = cli.segments_of(store, conf, dir, id, view.traits)
  if segs then
    say(string.format(W.segments, #segs > 0 and table.concat(segs, ", ") or W.segments_none, from))
  else
    say(string.format(W.segments_unknown, from))
  end
  if view.pruned_before then say(string.format(W.pruned, iso(view.pruned_before))) end
  for _, ev in ipairs(view.events) do say(string.format(W.event, ev.timestamp or "", ev.event or ev.type)) end
  local shown = {}
  for _, inst in ipairs(view.instances) do
    if not journey or inst.journey == journey then
      tell_instance(store, inst, say, W)
      shown[#shown + 1] = inst
    end
  end
  if #shown == 0 and not journey then say("\n" .. W.in_no_journey) end
  if #shown > 0 and journey then
    for _, line in ipairs(unstarted_lines(store, conf, dir, id, view.traits, journey, shown, W)) do say(line) end
  end
  if #shown == 0 and journey then
    say("\n" .. never_entered(store, conf, dir, id, view.traits, journey, W))
  end
  return true
end

function cmd.run(opts, usage)
  local id, journey = opts.args[1], opts.args[2]
  if not id then return usage("which contact? (drip explain CONTACT [JOURNEY])") end
  if opts.lang and not words.LANGUAGES[opts.lang] then return usage("--lang: en, fa or ru") end
  local store, conf = cli.open_store(opts, "explain")
  if not store then return conf end
  local told, problem = cmd.tell(store, conf, cli.journeys_dir(store, conf, opts), id, journey, print, false, opts.lang)
  store:close()
  if not told then
    io.stderr:write("drip explain: ", problem, "\n")
    return 1
  end
  return 0
end

return cmd
