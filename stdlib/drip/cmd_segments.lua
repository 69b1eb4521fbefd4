-- drip.cmd_segments — `drip segments [NAME...]`: how many contacts each
-- segment of segments.lua holds now, how many of them a marketing message
-- may reach on each channel, and whom each broadcast would take in (see
-- drip.reach); `--members NAME` lists one segment's contacts instead.
local Engine = require "drip.engine"
local journey = require "drip.journey"
local json = require "drip.json"
local policy = require "drip.policy"
local report = require "drip.report"
local cli = require "drip.cli"
local reach = require "drip.reach"
local suggest = require "drip.suggest"

local cmd = {}

local function err(msg) io.stderr:write("drip segments: ", msg, "\n") end

-- the broadcasts' definitions among the journeys in dir (those that compile)
local function broadcasts(engine, dir)
  local defs = {}
  for _, file in ipairs(journey.list({ dir })) do
    local source = journey.read(file)
    local def = source and engine:compile(source, file)
    if def and def.trigger.kind == "schedule" then defs[#defs + 1] = def end
  end
  return defs
end

local pct = report.percent

local function row(name, width, count, share, can)
  local cells = { "  " .. report.pad(name, width), string.format("%9d", count), string.format("%7s", pct(share)) }
  for _, ch in ipairs(policy.TO_PEOPLE) do cells[#cells + 1] = string.format("%9d", can[ch]) end
  return table.concat(cells, " ")
end

local function print_table(doc, from)
  print(string.format("%d contacts at %s; segments from %s", doc.contacts.count, doc.at, from))
  local width = #"(everyone)"
  for _, s in ipairs(doc.segments) do width = math.max(width, report.width(s.name)) end
  local head = { "  " .. report.pad("segment", width), string.format("%9s", "contacts"), string.format("%7s", "share") }
  for _, ch in ipairs(policy.TO_PEOPLE) do head[#head + 1] = string.format("%9s", ch) end
  print("\n" .. table.concat(head, " "))
  print(row("(everyone)", width, doc.contacts.count, 1, doc.contacts.reach))
  for _, s in ipairs(doc.segments) do print(row(s.name, width, s.count, s.share, s.reach)) end
  print("(a channel's column: the contacts a marketing message may reach there: consent, no unsubscribe or bounce, "
    .. "an address, and not in the global control group)")
  if #doc.broadcasts == 0 then return end
  print("\nbroadcasts, if they went now:")
  for _, b in ipairs(doc.broadcasts) do
    local can = {}
    for _, ch in ipairs(policy.TO_PEOPLE) do can[#can + 1] = ch .. " " .. b.reach[ch] end
    print(string.format('  %s  schedule "%s" for %s%s: %d contacts (%s)', b.journey, b.schedule,
      b.unknown_segment and ("the unknown segment " .. b.segment) or b.segment or "everyone",
      b.rollout and string.format(", rollout %s%%", json.number(b.rollout)) or "", b.count, table.concat(can, ", ")))
  end
end

function cmd.run(opts, usage)
  local names = #opts.args > 0 and opts.args or nil
  if opts.members and (not names or #names ~= 1) then return usage("--members lists one segment: drip segments NAME --members") end
  local format = opts.format or "table"
  if format ~= "table" and format ~= "json" then return usage("--format: table or json, not '" .. format .. "'") end
  local store, conf = cli.open_store(opts, "segments")
  if not store then return conf end
  local dir = cli.journeys_dir(store, conf, opts)
  local engine = Engine.new({ store = store, conf = conf, warn = function() end })
  engine.now = store:now()
  local from = dir .. "/segments.lua"
  local problem = engine:read_segments(from)
  for _, name in ipairs(names or {}) do
    if not problem and not engine.segments[name] then
      local near = suggest.nearest(name, suggest.names(engine.segments))
      problem = string.format("%s: no segment named '%s'%s", from, name, near and ("; did you mean '" .. near .. "'?") or "")
    end
  end
  if problem then
    store:close()
    err(problem)
    return 2
  end
  local on_member = opts.members and function(_, id) print(id) end or nil
  local doc = reach.count(engine, conf, opts.members and {} or broadcasts(engine, dir), names, on_member)
  store:close()
  if opts.members then return 0 end
  doc.segments_from = from
  if format == "json" then print(json.encode(doc)) else print_table(doc, from) end
  return 0
end

return cmd
