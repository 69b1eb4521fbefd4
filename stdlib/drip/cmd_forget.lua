-- drip.cmd_forget — `drip forget CONTACT`: erase everything stored about a
-- contact (traits, events, instances with their steps, timers, messages and
-- history) in one transaction, and say what was removed. Right to erasure.

local cmd = {}

-- what store:forget counts, in the order told, with the words for one and for more
local ORDER = {
  { "contact", "contact", "contacts" }, { "events", "event", "events" }, { "instances", "instance", "instances" },
  { "steps", "step", "steps" }, { "timers", "timer", "timers" }, { "messages", "message", "messages" },
  { "deliveries", "delivery state", "delivery states" }, { "history", "history entry", "history entries" },
  { "inactivity", "inactivity watch", "inactivity watches" },
}

function cmd.run(opts, usage)
  local id = opts.args[1]
  if not id then return usage("which contact? (drip forget CONTACT)") end
  local store, conf = require("drip.cli").open_store(opts, "forget")
  if not store then return conf end
  local path = opts.db or conf.db
  store:begin()
  local removed = store:forget(id)
  local meant = not removed and select(2, require("drip.cli").find_contact(store, "forget", id, true))
  store:close()
  if not removed then -- (an email or phone is named, never erased in its contact's stead)
    io.stderr:write(string.format("drip forget: %s: %s\n", path, meant))
    return 1
  end
  local parts = {}
  for _, kind in ipairs(ORDER) do
    local n = removed[kind[1]] or 0
    parts[#parts + 1] = string.format("%d %s", n, n == 1 and kind[2] or kind[3])
  end
  print(string.format("forgot '%s': removed %s", id, table.concat(parts, ", ")))
  return 0
end

return cmd
