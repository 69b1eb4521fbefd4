-- drip.cmd_backup — `drip backup FILE`: a consistent copy of the store,
-- taken while a `drip run` may go on writing it (one read transaction:
-- SQLite's VACUUM INTO, which also leaves out the free pages, so the copy
-- is compact). Owns refusing to write over a file that is there.
local host = require "drip_host"
local cli = require "drip.cli"

local cmd = {}

function cmd.run(opts, usage)
  local target = opts.args[1]
  if not target then return usage("where to? (drip backup FILE)") end
  if host.file_kind(target) then
    io.stderr:write(string.format("drip backup: %s is there already; name a new file (a backup never writes over one)\n",
      target))
    return 1
  end
  local store, conf = cli.open_store(opts, "backup")
  if not store then return conf end
  local started = host.clock()
  local ok, err = pcall(store.copy_to, store, target)
  store:close()
  if not ok then
    os.remove(target) -- (a copy cut short is no backup)
    io.stderr:write(string.format("drip backup: %s: %s\n", target, tostring(err):match("sqlite: ([^\n]*)") or err))
    return 1
  end
  local _, size = host.file_kind(target)
  print(string.format("backed up %s to %s (%.1f MB) in %.1f s", opts.db or conf.db, target, (size or 0) / 1e6,
    host.clock() - started))
  return 0
end

return cmd
