-- drip.cmd_forget — `drip forget CONTACT`: erase everything stored about a
-- contact (traits, events, instances with their steps, timers, messages and
-- history) in one transaction, and say what was removed. Right to erasure.
local Store = require "drip.store"
local config = require "drip.config"

local cmd = {}

local ORDER = { "contact", "events", "instances", "steps", "timers", "messages", "deliveries", "history",
                "inactivity" }

function cmd.run(opts, usage)
  local id = opts.args[1]
  if not id then return usage("which contact? (drip forget CONTACT)") end
  local conf, cerr = config.for_command(opts)
  if not conf then
    io.stderr:write("drip forget: ", cerr, "\n")
    return 2
  end
  local path = opts.db or conf.db
  local store, serr, status = Store.open_existing(path)
  if not store then
    io.stderr:write("drip forget: ", serr, "\n")
    return status
  end
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
