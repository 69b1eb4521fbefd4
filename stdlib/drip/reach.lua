-- drip.reach — how many contacts each segment holds now, and how many of
-- them a marketing message may reach on each channel (consent,
-- unsubscribes, bounces and an address, as a send checks them); and, for
-- each broadcast (a schedule trigger), how many it would take in now,
-- inside its rollout. For `drip segments`. Owns walking every contact
-- once, a page at a time, and the document it prints.
local json = require "drip.json"
local policy = require "drip.policy"
local time = require "drip.time"
local schedule = require "drip.schedule"
local suggest = require "drip.suggest"

local reach = {}

local PAGE = 1000

local function tally()
  local t = { count = 0, reach = {} }
  for _, ch in ipairs(policy.TO_PEOPLE) do t.reach[ch] = 0 end
  return t
end

local function add(t, reachable)
  t.count = t.count + 1
  for ch, yes in pairs(reachable) do
    if yes then t.reach[ch] = t.reach[ch] + 1 end
  end
end

-- channel -> whether a marketing message may go to the contact on it
local function reachable(id, traits, conf)
  local out, control = {}, policy.in_control(id, conf.control)
  for _, ch in ipairs(policy.TO_PEOPLE) do
    out[ch] = not control
      and policy.check(ch, "marketing", traits, { consent = conf.consent, phone_country = conf.phone_country }) ~= nil
  end
  return out
end

-- whom a broadcast takes in: { journey, schedule, segment, rollout, seg
-- (nil: everyone, false: an unknown name), tally }
local function entry_of(engine, def)
  local t = def.trigger
  return { journey = def.name, schedule = t.schedule, rollout = t.rollout,
           segment = type(t.segment) == "string" and t.segment or t.segment and "(a function)" or nil,
           seg = engine:trigger_segment(def), tally = tally() }
end

-- (a rollout of 100%, a trigger's default, is left unsaid)
local function document(engine, all, segs, entries)
  local doc = { at = time.iso(engine.now), contacts = all, segments = json.array(), broadcasts = json.array() }
  for _, s in ipairs(segs) do
    doc.segments[#doc.segments + 1] = { name = s.name, kind = s.kind, count = s.tally.count, reach = s.tally.reach,
                                        share = all.count > 0 and s.tally.count / all.count or 0 }
  end
  for _, e in ipairs(entries) do
    doc.broadcasts[#doc.broadcasts + 1] = { journey = e.journey, schedule = e.schedule, segment = e.segment,
                                        rollout = e.rollout < 100 and e.rollout or nil, unknown_segment = e.seg == false or nil,
                                        count = e.tally.count, reach = e.tally.reach }
  end
  return doc
end

-- reach.count(engine, conf, broadcasts, names) -> document. engine: its
-- segments read and its clock at the time to judge by; broadcasts: the
-- definitions of journeys with a schedule trigger (a segment trigger starts
-- for those who enter the segment from now on, not its members); names:
-- the segments to count (nil: every one); on_member(name, id): called for
-- each member.
function reach.count(engine, conf, broadcasts, names, on_member)
  local store, segs = engine.store, {}
  for _, name in ipairs(names or suggest.names(engine.segments)) do
    local seg = engine.segments[name]
    segs[#segs + 1] = { name = name, seg = seg, kind = seg.kind, tally = tally() }
  end
  local entries = {}
  for _, def in ipairs(broadcasts) do entries[#entries + 1] = entry_of(engine, def) end
  local all, after = tally(), ""
  while true do
    local page = store:contacts_page(after, PAGE)
    for _, row in ipairs(page) do
      local id, traits = row[1], json.decode(row[2])
      local can = reachable(id, traits, conf)
      add(all, can)
      for _, s in ipairs(segs) do
        if engine:member(s.seg, id, traits) then
          add(s.tally, can)
          if on_member then on_member(s.name, id) end
        end
      end
      for _, e in ipairs(entries) do
        local inside = e.seg ~= false and (e.seg == nil or engine:member(e.seg, id, traits))
        if inside and schedule.position(id, e.journey) < e.rollout then add(e.tally, can) end
      end
    end
    if #page < PAGE then break end
    after = page[#page][1]
  end
  return document(engine, all, segs, entries)
end


return reach
