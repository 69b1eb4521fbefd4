-- drip.cmd_forget — `drip forget CONTACT`: erase everything stored about a
-- contact (traits, events, instances with their steps, timers, messages and
-- history) in one transaction, and say what was removed. Right to erasure.

local cmd = {}

local ORDER = { "contact", "events", "instances", "steps", "timers", "messages", "deliveries", "history",
                "inactivity" }

function cmd.run(opts, usage)
  local id = opts.args[1]
  if not id then return usage("which contact? (drip forget CONTACT)") end
  local store, conf = require("drip.cli").open_store(opts, "forget")
  if not store then return conf end
  local path = opts.db or conf.db
  store:begin()
  local removed = store:forget(id)
  store:close()
  if not removed then
    io.stderr:write(string.format("drip forget: no contact '%s' in %s\n", id, path))
    return 1
  end
  local parts = {}
  for _, k in ipairs(ORDER) do parts[#parts + 1] = string.format("%d %s", removed[k] or 0, k) end
  print(string.format("forgot '%s': removed %s", id, table.concat(parts, ", ")))
  return 0
end

return cmd
