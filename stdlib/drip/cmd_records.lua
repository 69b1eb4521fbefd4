-- drip.cmd_records — `drip records`: the store's records as JSON Lines, for
-- a warehouse or a look at what a running drip does (see drip.records). Owns
-- the flags, the cursor file that lets the next run go on where this one
-- stopped, and --follow, which waits for what drip run writes next.
local records = require "drip.records"
local duration = require "drip.duration"
local cli = require "drip.cli"
local host = require "drip_host"
local csv = require "drip.csv"
local json = require "drip.json"
local report = require "drip.report"

local cmd = {}

local FOLLOW_EVERY = 1 -- seconds between looks at the store while following

-- the cursor saved in `path` | nil when there is none yet | nil, error
local function read_cursor(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = (f:read("a") or ""):match("^%s*(.-)%s*$")
  f:close()
  local c, err = records.parse_cursor(text)
  if not c then return nil, path .. ": " .. err end
  return c
end

-- write the cursor whole or not at all (a stop in between leaves the last one)
local function save_cursor(path, c)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write(records.cursor_text(c), "\n")
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then return nil, rerr end
  return true
end

-- the cursor to start from: --after, else the cursor file's, else the first | nil, error
local function first_cursor(opts)
  if opts.after and opts["cursor-file"] then return nil, "give --after or --cursor-file, not both" end
  if opts.after then return records.parse_cursor(opts.after) end
  if opts["cursor-file"] then
    local c, err = read_cursor(opts["cursor-file"])
    if err then return nil, err end
    if c then return c end
  end
  return records.start()
end

-- the lines of a page as --format writes them (CSV: its header first, when
-- this is the first record there is, so appended exports have one header;
-- table: a line to read, as simulate's table has)
local function formatted(lines, format, from_start)
  if format == "jsonl" then return table.concat(lines) end
  local out = {}
  if format == "csv" and from_start and #lines > 0 then out[1] = csv.BOM .. records.csv_header() end
  for _, line in ipairs(lines) do
    out[#out + 1] = format == "csv" and records.csv_row(line) or report.line(json.decode(line)) .. "\n"
  end
  return table.concat(out)
end

local FORMATS = { jsonl = true, csv = true, table = true }

function cmd.run(opts, usage)
  local format = opts.format or "jsonl"
  if not FORMATS[format] then return usage("--format is jsonl, csv or table") end
  local cursor, cerr = first_cursor(opts)
  if not cursor then return usage(cerr) end
  local from_start = records.cursor_text(cursor) == records.cursor_text(records.start())
  local secs
  if opts.since then
    local derr
    secs, derr = duration.parse(opts.since)
    if not secs then return usage("--since: " .. derr) end
  end
  local store, conf_or_status = cli.open_store(opts, "records")
  if not store then return conf_or_status end
  if opts.journey and not store:latest_script(opts.journey) then
    local names = store:journey_names()
    store:close()
    io.stderr:write("drip records: ", cli.unknown_journey(opts.journey, names), "\n")
    return 2
  end
  local page = { since = secs and store:now() - secs or 0, journey = opts.journey }
  if opts.follow then host.on_interrupt(true) end
  local status = 0
  while true do
    local lines
    lines, cursor = records.page(store, cursor, page)
    io.stdout:write(formatted(lines, format, from_start))
    if #lines > 0 then from_start = false end
    io.stdout:flush()
    if opts["cursor-file"] and #lines > 0 then
      local ok, err = save_cursor(opts["cursor-file"], cursor)
      if not ok then
        io.stderr:write("drip records: cannot save the cursor: ", tostring(err), "\n")
        status = 1
        break
      end
    end
    if #lines < records.LIMIT then
      if not opts.follow then break end
      host.sleep(FOLLOW_EVERY)
      if host.interrupted() then break end
    end
  end
  if opts.follow then host.on_interrupt(false) end
  store:close()
  return status
end

return cmd
