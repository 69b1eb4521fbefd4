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

local cmd = {}

local RECENT = 10

local function iso(t) return t and time.iso(t) or "-" end

-- "email ok, sms no consent and no address, ..." under the configured
-- consent policy (a marketing send checks the address first, so its
-- suppression says no_address when both are missing)
local function consent_line(traits, conf)
  local parts = {}
  for _, ch in ipairs(policy.TO_PEOPLE) do
    local address = policy.address(ch, traits, nil, conf.phone_country)
    local _, why = policy.check(ch, "marketing", traits, { consent = conf.consent, to = address or "x" })
    local says = { why and why:gsub("_", " ") }
    if not address then says[#says + 1] = "no address" end
    parts[#parts + 1] = ch .. " " .. (#says > 0 and table.concat(says, " and ") or "ok")
  end
  return table.concat(parts, ", ")
end

-- what a delivery state's detail `pause` says (see drip.pause)
local PAUSE_NOTES = {
  held = " (the journey was paused)", released = " (sent when the journey resumed)",
  dropped = " (dropped when the journey resumed)",
  goal = " (dropped when the journey resumed: the contact had reached its goal)",
  exit_event = " (dropped when the journey resumed: the contact had sent its exit event)",
}

local function delivery_line(m)
  local steps = {}
  for _, d in ipairs(m.deliveries) do steps[#steps + 1] = d.status .. " " .. iso(d.at):sub(12) end
  local last = m.deliveries[#m.deliveries]
  local answer = last and last.detail and json.decode(last.detail)
  local said = ""
  if type(answer) == "table" then
    said = answer.http and string.format(" (HTTP %d)", answer.http)
      or answer.smtp and string.format(" (SMTP %d)", answer.smtp) or answer.error and (" (" .. answer.error .. ")")
      or answer.since_queued and " (after it was queued)" or PAUSE_NOTES[answer.pause]
      or answer.feedback and string.format(" (%s told of it later%s)", answer.feedback,
        type(answer.reason) == "string" and ": " .. answer.reason or "") or ""
  end
  local now = m.status .. (m.reason and (": " .. m.reason) or "") .. said
  if m.due and (m.status == "queued" or m.status == "deferred") then now = now .. ", next try " .. iso(m.due) end
  for _, k in ipairs({ "opened", "clicked" }) do -- (tracked: see drip.tracking)
    if m[k .. "_at"] then now = now .. ", " .. k .. " " .. iso(m[k .. "_at"]) end
  end
  if #steps == 0 then return now end
  return now .. "; " .. table.concat(steps, " → ")
end

-- traceback: the instance's stored error, whose first line is the exit's message
local function record_line(r, message, traceback)
  local d = r.data
  if r.kind == "enter" then return "entered on " .. tostring(d.event) end
  if r.kind == "send" then
    local subject = type(d.message) == "table" and (d.message.subject or d.message.title or d.message.text)
    return string.format("%s to %s%s%s — %s", d.channel, d.to, subject and (' "' .. tostring(subject) .. '"') or "",
      report.segments_note(d, " (%s)"), message and delivery_line(message) or "queued")
  end
  if r.kind == "suppress" then return string.format("%s not sent: %s", d.channel, d.reason) end
  if r.kind == "defer" and d.reason == "paused" then
    return string.format("%s to %s held, as the journey was paused — %s", d.channel, d.to,
      message and delivery_line(message) or "held")
  end
  if r.kind == "defer" then
    return string.format("%s deferred (%s) until %s — %s", d.channel, d.reason, d["until"],
      message and delivery_line(message) or "deferred")
  end
  if r.kind == "variant" then return string.format("split %s: variant %s", d.split, d.variant) end
  if r.kind == "convert" then
    return "converted" .. (d.event ~= json.null and d.event and (" on " .. d.event) or "")
      .. (type(d.value) == "number" and (" worth " .. json.number(d.value)) or "")
      .. (d.after_end and " (after it ended, within its goal's window)" or "")
  end
  if r.kind == "exit" then
    local err = d.error ~= json.null and d.error or nil
    if err and type(traceback) == "string" and traceback:sub(1, #err) == err then err = traceback:gsub("\t", "  ") end
    local detail = type(d.detail) == "string" and (" (" .. d.detail .. ")") or "" -- exit's reason, or the exit_on event
    return "exit: " .. tostring(d.reason) .. detail .. (err and ("\n      " .. err:gsub("\n", "\n      ")) or "")
  end
  if r.kind == "wait" then
    if d.event then
      return string.format("%s %s: %s", d.op, d.event, d.ended_by == "timeout" and "timed out" or "it came")
    end
    return d.op .. ": its time came"
  end
  if r.kind == "log" then return "log: " .. tostring(d.message) end
  return r.kind .. " " .. json.encode(d)
end

local MESSAGE_KINDS = { send = true, suppress = true, defer = true }

local function tell_instance(store, inst, say)
  say(string.format("\n%s #%d (version %s) — %s", inst.journey, inst.id, inst.version:sub(1, 12),
    inst.active and "active" or ("ended " .. iso(inst.ended_at) .. ": " .. tostring(inst.exit_reason))))
  local story = store:instance_story(inst.id)
  local m = 0
  for _, r in ipairs(story.records) do
    local message
    if MESSAGE_KINDS[r.kind] then
      m = m + 1
      message = story.messages[m]
    end
    say(string.format("  %s  %s", iso(r.at), record_line(r, message, inst.error)))
  end
  if inst.active then
    local waiting = inst.waiting_for and ("for " .. inst.waiting_for) or "on a timer"
    say(string.format("  now: waiting %s%s", waiting, story.next_timer and (" until " .. iso(story.next_timer)) or ""))
  end
end


-- An event name's spelling must match exactly: " (it has had 'cart_updated'
-- 3 times; names must match exactly)" for a lookalike the contact has had
-- (see suggest.lookalike), else "".
local function lookalike(store, id, name)
  local counts, names = {}, {}
  for _, row in ipairs(store:event_names(id)) do
    counts[row[1]], names[#names + 1] = row[2], row[1]
  end
  local found = suggest.lookalike(name, names)
  if not found then return "" end
  return string.format(" (it has had '%s' %d time%s; names must match exactly)", found, counts[found],
    counts[found] == 1 and "" or "s")
end

-- What starts journey `def`, against what the store knows of contact `id`:
-- the lines that say why it never entered.
local function trigger_facts(engine, def, id, traits)
  local t, store = def.trigger, engine.store
  if t.kind == "event" then
    local n = store:count_events(id, t.event, nil)
    if n == 0 then
      return { string.format("it starts on the event '%s', and %s has had none%s", t.event, id, lookalike(store, id, t.event)) }
    end
    local last = store:last_event(id, t.event, 0)
    local facts = { string.format("it starts on the event '%s'; %s has had it %d time%s, last at %s", t.event, id, n,
      n == 1 and "" or "s", tostring(last and last.timestamp)) }
    local since, till = entries.pause_at(store:pauses_of(def.name), last and time.parse(last.timestamp) or 0)
    if till then
      facts[#facts + 1] = string.format("the last one came while the journey was paused (from %s to %s)",
        time.iso(since), time.iso(till))
    end
    if t.where and last then facts[#facts + 1] = entries.where_fact(engine, t.where, last, traits) end
    facts[#facts + 1] = "events loaded by drip import start no journey"
    return facts
  end
  if t.kind == "inactive" then
    local last = store:last_activity(id)
    return { string.format("it starts after %s without events; %s's last activity was %s", duration.format(t.secs),
      id, last and time.iso(last) or "never") }
  end
  local seg = engine:trigger_segment(def) -- nil: a broadcast to everyone; false: an unknown name
  local audience
  if seg == nil then
    audience = "every contact"
  elseif seg == false then
    audience = string.format("the segment %s (not defined in the segments.lua drip can read here)", t.segment)
  else
    audience = string.format("the segment %s, which %s is %s now", type(t.segment) == "string" and t.segment
      or "(a function)", id, engine:member(seg, id, traits) and "in" or "not in")
  end
  local facts = { string.format("it starts %s %s", t.kind == "schedule" and
    ('on the schedule "' .. t.schedule .. '" for') or "when a contact enters", audience) }
  if t.rollout and t.rollout < 100 then
    local pos = schedule.position(id, def.name)
    facts[#facts + 1] = string.format("its rollout is %s%%, and %s's place in it is %.2f%% (%s)", json.number(t.rollout),
      id, pos, pos < t.rollout and "inside" or "outside")
  end
  return facts
end

-- The contact's latest trigger events of journey `name` that started no
-- instance, each with why: lines to print (none for other triggers).
local function unstarted_lines(store, conf, dir, id, traits, name, insts)
  local u = entries.unstarted(entries.engine(store, conf, dir), id, traits, name, insts)
  if not u then return {} end
  local lines = { string.format("\n%s events that started no %s instance%s:", u.event, name,
    #u.missed == u.limit and string.format(" (the latest %d)", u.limit) or "") }
  for _, m in ipairs(u.missed) do lines[#lines + 1] = string.format("  %s  %s", iso(m.at), m.why) end
  return lines
end

-- "never entered JOURNEY" and why (of a journey the store has seen)
local function never_entered(store, conf, dir, id, traits, name)
  local engine = entries.engine(store, conf, dir)
  local def = entries.newest_definition(engine, name)
  local lines = { "never entered " .. name }
  local since = entries.pause_at(store:pauses_of(name), math.huge)
  if since then lines[#lines + 1] = "  " .. entries.paused_text(since) end
  if def then
    for _, fact in ipairs(trigger_facts(engine, def, id, traits)) do lines[#lines + 1] = "  " .. fact end
  end
  return table.concat(lines, "\n")
end

-- Contact `id`'s story (of `journey` only, when given), line by line
-- through say(text); `dir` is the journeys directory whose segments.lua
-- says which segments (see cli.journeys_dir). An email or phone given as
-- `id` is told on stderr, unless `quiet`. -> true | nil, problem (no such
-- contact or journey)
function cmd.tell(store, conf, dir, id, journey, say, quiet)
  local found, missing = cli.find_contact(store, not quiet and "explain" or nil, id, false, conf.phone_country)
  id = found or id
  local view = found and store:contact_view(id, RECENT)
  local problem = missing
    or journey and not store:latest_script(journey) and cli.unknown_journey(journey, store:journey_names())
  if problem then return nil, problem end
  say(string.format("%s — first seen %s", id, iso(view.created_at)))
  say("  traits   " .. json.encode(view.traits))
  say("  consent  " .. consent_line(view.traits, conf) .. " (policy " .. conf.consent .. ")")
  local topics = policy.topics_off(view.traits)
  if #topics > 0 then say("  topics   unsubscribed from " .. table.concat(topics, ", ")) end
  if policy.in_control(id, conf.control) then
    say(string.format("  control  in the global control group (global_control = %s%%): no marketing message goes "
      .. "to it, so that journeys' lift can be measured", json.number(conf.control)))
  end
  local segs, from = cli.segments_of(store, conf, dir, id, view.traits)
  if segs then
    say(string.format("  segments %s (by %s)", #segs > 0 and table.concat(segs, ", ") or "none", from))
  else
    say("  segments unknown: " .. from)
  end
  if view.pruned_before then
    say(string.format("  pruned   ended instances and events from before %s (drip prune) are not shown",
      iso(view.pruned_before)))
  end
  for _, ev in ipairs(view.events) do say(string.format("  event    %s %s", ev.timestamp or "", ev.event or ev.type)) end
  local shown = {}
  for _, inst in ipairs(view.instances) do
    if not journey or inst.journey == journey then
      tell_instance(store, inst, say)
      shown[#shown + 1] = inst
    end
  end
  if #shown == 0 and not journey then say("\nin no journey yet") end
  if #shown > 0 and journey then
    for _, line in ipairs(unstarted_lines(store, conf, dir, id, view.traits, journey, shown)) do say(line) end
  end
  if #shown == 0 and journey then
    say("\n" .. never_entered(store, conf, dir, id, view.traits, journey))
  end
  return true
end

function cmd.run(opts, usage)
  local id, journey = opts.args[1], opts.args[2]
  if not id then return usage("which contact? (drip explain CONTACT [JOURNEY])") end
  local store, conf = cli.open_store(opts, "explain")
  if not store then return conf end
  local told, problem = cmd.tell(store, conf, cli.journeys_dir(store, conf, opts), id, journey, print)
  store:close()
  if not told then
    io.stderr:write("drip explain: ", problem, "\n")
    return 1
  end
  return 0
end

return cmd
