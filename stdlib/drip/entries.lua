-- drip.entries — why a contact did or did not enter a journey, from the
-- store (for explain and inspect). Owns judging, against the journey's
-- newest version, a trigger event that started no instance (an instance
-- still running, reentry, where()), and what where() says of an event.
-- Its texts are in the words W of drip.explain_words (English when nil).
local time = require "drip.time"
local duration = require "drip.duration"
local words = require "drip.explain_words"

local entries = {}

local UNSTARTED = 10 -- trigger events told that started nothing

-- an engine on the store that judges entries: the segments of
-- dir/segments.lua, for segment triggers and where()
function entries.engine(store, conf, dir)
  local engine = require("drip.engine").new({ store = store, conf = conf, warn = function() end })
  engine:read_segments(dir .. "/segments.lua")
  return engine
end

-- The journey's pause that `ts` falls in -> since, until (nil: it goes
-- on) | nil. pauses: store:pauses_of's rows.
function entries.pause_at(pauses, ts)
  for _, p in ipairs(pauses) do
    if ts >= p[1] and (not p[2] or ts < p[2]) then return p[1], p[2] end
  end
  return nil
end

-- "the journey was paused then (from X to Y)", or "is paused (since X ...)"
function entries.paused_text(since, till, W)
  W = W or words.of()
  if till then return string.format(W.paused_then, time.iso(since), time.iso(till)) end
  return string.format(W.paused_now, time.iso(since))
end

-- the newest definition of journey `name` (one the store has seen), or nil
-- when it no longer compiles
function entries.newest_definition(engine, name)
  return (engine:compile(engine.store:latest_script(name)))
end

-- What the trigger's where() says of the contact's last such event (or of
-- `it`, when told), with the contact's traits as they are now (they may
-- have changed since).
function entries.where_fact(engine, where, event, traits, W, it)
  W = W or words.of()
  local failure
  engine.warn = function(msg) failure = msg end
  local verdict = engine:call_user("where()", where, event, traits)
  local subject = it and W.it or W.the_last_one
  if failure then return string.format(W.where_fails, subject, failure:match("failed: (.*)$") or failure) end
  return string.format(verdict and W.where_true or W.where_false, subject)
end

-- Why the trigger event `ev` at `ts` started no instance, judged by the
-- newest definition's reentry and where() and the contact's instances of
-- the journey (in entry order).
local function why_not_started(engine, def, insts, ts, ev, traits, first_loaded, pauses, W)
  local iso = time.iso
  if first_loaded and ts < first_loaded then return string.format(W.before_loaded, iso(first_loaded)) end
  local since, till = entries.pause_at(pauses, ts)
  if since then return entries.paused_text(since, till, W) end
  local mode, before = def.reentry.mode, nil
  for _, inst in ipairs(insts) do
    if inst.entered_at <= ts then before = inst end
    if mode == "active" and inst.entered_at <= ts and (inst.active or inst.ended_at >= ts) then
      return string.format(W.still_running, inst.id, iso(inst.entered_at))
    end
  end
  if mode == "once" and before then return string.format(W.entered_once, before.id, iso(before.entered_at)) end
  if mode == "after" and before and ts < before.entered_at + def.reentry.secs then
    return string.format(W.entered_after, before.id, iso(before.entered_at), duration.format(def.reentry.secs),
      iso(before.entered_at + def.reentry.secs))
  end
  if def.trigger.where then return entries.where_fact(engine, def.trigger.where, ev, traits, W, true) end
  return W.no_reason
end

-- The contact's latest trigger events of journey `name` that started no
-- instance (insts: the contact's instances of it, entered_at in seconds),
-- each with why -> { event = trigger event name, limit = UNSTARTED,
-- missed = { { at = seconds, why = text }, ... } newest first } | nil when
-- none (or the journey does not start on an event)
function entries.unstarted(engine, id, traits, name, insts, W)
  local def, store = entries.newest_definition(engine, name), engine.store
  if not def or def.trigger.kind ~= "event" then return nil end
  local events = store:events_unstarted(id, def.trigger.event, name, UNSTARTED)
  if #events == 0 then return nil end
  local first_loaded, pauses = store:first_loaded(name), store:pauses_of(name)
  local missed = {}
  for i, m in ipairs(events) do
    missed[i] = { at = m.ts, why = why_not_started(engine, def, insts, m.ts, m.event, traits, first_loaded, pauses,
                                                   W or words.of()) }
  end
  return { event = def.trigger.event, limit = UNSTARTED, missed = missed }
end

return entries
