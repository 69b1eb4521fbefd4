-- drip.cmd_test — `drip test [PATH...]`: run journey specs (busted files
-- that use drip.testing) with this drip's engine. Owns finding the specs
-- and busted, and giving busted the paths to drip's Lua modules and to the
-- drip_host module this build made, so specs run from any directory.
local host = require "drip_host"
local quote = require("drip.cli").shell_word

local cmd = {}

local DEFAULT_DIRS = { "spec", "tests/spec", "tests" }

local function on_path(program)
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    if host.file_kind(dir .. "/" .. program) == "file" then return dir .. "/" .. program end
  end
  return nil
end

function cmd.run(opts)
  local paths = opts.args
  if #paths == 0 then
    for _, dir in ipairs(DEFAULT_DIRS) do
      if host.file_kind(dir) == "directory" then
        paths = { dir }
        break
      end
    end
    if #paths == 0 then
      io.stderr:write("drip test: no spec, tests/spec or tests directory here; name the spec files or directories\n")
      return 2
    end
  end
  for _, path in ipairs(paths) do
    if not host.file_kind(path) then
      io.stderr:write("drip test: ", path, ": no such file or directory\n")
      return 2
    end
  end
  local busted = on_path("busted")
  if not busted then
    io.stderr:write("drip test: busted is not installed (Debian: apt-get install lua-busted; make deps does it)\n")
    return 2
  end
  if host.file_kind(host.module_dir .. "/drip_host.so") ~= "file" then
    io.stderr:write("drip test: ", host.module_dir, "/drip_host.so is missing; build it with make\n")
    return 2
  end
  local stdlib = os.getenv("DRIP_STDLIB") or host.stdlib_dir
  local lpath = { stdlib .. "/?.lua", stdlib .. "/?/init.lua" }
  for _, path in ipairs(paths) do -- (a spec's helpers beside it)
    local dir = host.file_kind(path) == "directory" and path or (path:match("^(.*)/[^/]*$") or ".")
    lpath[#lpath + 1] = dir .. "/?.lua"
  end
  local command = { quote(busted), quote("--lpath=" .. table.concat(lpath, ";")),
                    quote("--cpath=" .. host.module_dir .. "/?.so") }
  if opts.filter then command[#command + 1] = quote("--filter=" .. opts.filter) end
  command[#command + 1] = "--"
  for _, path in ipairs(paths) do command[#command + 1] = quote(path) end
  io.stdout:flush()
  local ok, how, code = os.execute(table.concat(command, " "))
  if ok then return 0 end
  if how == "signal" then return 128 + code end
  return code == 0 and 1 or code
end

return cmd
