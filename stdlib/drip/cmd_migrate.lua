-- drip.cmd_migrate — `drip migrate JOURNEY`: move in-flight instances to the
-- newest version of a journey's script. An instance moves only when its
-- recorded history replays on the new version to the same wait (replay runs
-- no step live, so nothing is sent); the rest stay on their version and are
-- listed with the reason.
local Store = require "drip.store"
local Engine = require "drip.engine"
local config = require "drip.config"
local journey = require "drip.journey"

local cmd = {}

local function err(msg) io.stderr:write("drip migrate: ", msg, "\n") end

function cmd.run(opts, usage)
  local name = opts.args[1]
  if not name then return usage("which journey? (drip migrate JOURNEY)") end
  local conf, cerr = config.for_command(opts)
  if not conf then err(cerr) return 2 end
  local dir = opts.journeys or conf.journeys
  local store, serr, status = Store.open(opts.db or conf.db, { synchronous = "FULL" })
  if not store then err(serr) return status or 1 end
  local engine = Engine.new({ store = store, conf = conf, live = true })
  store:begin()
  local problems = engine:load_journeys(journey.list({ dir }))
  local def = engine.latest[name]
  if not def then
    for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
    local names = {}
    for n in pairs(engine.latest) do names[#names + 1] = n end
    table.sort(names)
    err(require("drip.cli").unknown_journey(name, names, "loads from " .. dir))
    store:rollback()
    store:close()
    return 2
  end

  local moved, stuck = 0, {}
  for _, id in ipairs(store:instances_to_migrate(name, def.hash)) do
    local inst = store:instance(id)
    local R, why = engine:replay(inst, def)
    if R then
      moved = moved + 1
      if not opts["dry-run"] then store:set_version(id, def.hash) end
    else
      stuck[#stuck + 1] = { id = id, contact = inst.contact, version = inst.version, why = tostring(why):match("^[^\n]*") }
    end
  end
  if opts["dry-run"] then store:rollback() end
  store:close()

  local total = moved + #stuck
  local verb = opts["dry-run"] and "would move" or "moved"
  print(string.format("%s: %d instance%s on older versions; %s %d to %s", name, total, total == 1 and "" or "s", verb,
    moved, def.hash:sub(1, 12)))
  if #stuck > 0 then
    print(string.format("%d cannot move (they stay on their version):", #stuck))
    for _, s in ipairs(stuck) do
      print(string.format("  instance %d  contact %s  version %s: %s", s.id, s.contact, s.version:sub(1, 12), s.why))
    end
  end
  if opts["dry-run"] then print("(dry run: nothing changed)") end
  return #stuck == 0 and 0 or 1
end

return cmd
