-- drip.cmd_inspect — `drip inspect CONTACT`: everything stored about a
-- contact as one JSON document (for scripts and support tools; `drip
-- explain` tells the same story for people). Owns that document's shape:
-- the contact view of GET /v1/contacts/{id}, plus what consent allows per
-- channel, each instance's messages with their delivery states, and the
-- trigger events that started no instance, with why.
local json = require "drip.json"
local policy = require "drip.policy"
local time = require "drip.time"
local entries = require "drip.entries"

local cmd = {}

-- Per journey the contact is in: its latest trigger events that started no
-- instance, each with why (see drip.entries) -> { journey = { { at, why } } }
local function unstarted_of(store, conf, dir, id, view)
  local by_journey, names = {}, {}
  for _, inst in ipairs(view.instances) do
    if not by_journey[inst.journey] then
      by_journey[inst.journey] = {}
      names[#names + 1] = inst.journey
    end
    table.insert(by_journey[inst.journey], inst)
  end
  local out, engine = {}, #names > 0 and entries.engine(store, conf, dir) -- (one for all journeys)
  for _, name in ipairs(names) do
    local u = entries.unstarted(engine, id, view.traits, name, by_journey[name])
    if u then
      out[name] = json.array()
      for i, m in ipairs(u.missed) do out[name][i] = { at = time.iso(m.at), why = m.why } end
    end
  end
  return out
end

function cmd.run(opts, usage)
  local id = opts.args[1]
  if not id then return usage("which contact? (drip inspect CONTACT)") end
  local store, conf = require("drip.cli").open_store(opts, "inspect")
  if not store then return conf end
  local found, missing = require("drip.cli").find_contact(store, "inspect", id, false, conf.phone_country)
  if not found then
    store:close()
    io.stderr:write("drip inspect: ", missing, "\n")
    return 1
  end
  id = found
  local view = store:contact_view(id, 50)
  view.created_at = time.iso(view.created_at)
  if view.pruned_before then view.pruned_before = time.iso(view.pruned_before) end
  local cli = require "drip.cli"
  local segs, from = cli.segments_of(store, conf, cli.journeys_dir(store, conf, opts), id, view.traits)
  if segs then view.segments, view.segments_from = segs, from else view.segments_error = from end
  view.unstarted = unstarted_of(store, conf, cli.journeys_dir(store, conf, opts), id, view)
  view.unsubscribed_topics = json.array(policy.topics_off(view.traits))
  view.marketing_allowed = {}
  for _, ch in ipairs(policy.TO_PEOPLE) do
    local _, why = policy.check(ch, "marketing", view.traits, { consent = conf.consent, phone_country = conf.phone_country })
    view.marketing_allowed[ch] = policy.in_control(id, conf.control) and "global_control" or why or true
  end
  for _, inst in ipairs(view.instances) do
    inst.entered_at = time.iso(inst.entered_at)
    if inst.ended_at then inst.ended_at = time.iso(inst.ended_at) end
    inst.messages = store:instance_story(inst.id).messages
    for _, m in ipairs(inst.messages) do
      m.detail = m.detail and json.decode(m.detail) or nil
      for _, d in ipairs(m.deliveries) do
        d.at = time.iso(d.at)
        d.detail = d.detail and json.decode(d.detail) or nil
      end
      for _, k in ipairs({ "sent_at", "due", "opened_at", "clicked_at" }) do
        if m[k] then m[k] = time.iso(m[k]) end
      end
    end
  end
  store:close()
  print(json.encode(view))
  return 0
end

return cmd
