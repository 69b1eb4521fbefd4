-- drip.cmd_import — `drip import FILE.csv|FILE.jsonl`: contacts from a CSV
-- export (commas, semicolons or tabs: see drip.csv), or past events from
-- JSON Lines, into the store. Owns turning CSV rows into traits (header =
-- trait names; `consent.email` style columns become nested yes/no traits)
-- and reporting each bad row or line by its number while the rest go in.
-- Imported events are stored and update traits;
-- they do not start journeys (they are history, e.g. for backtests).
local csv = require "drip.csv"
local events = require "drip.events"
local Engine = require "drip.engine"
local time = require "drip.time"
local encoding = require "drip.encoding"
local locale = require "drip.locale"
local host = require "drip_host"
local cli = require "drip.cli"

local cmd = {}

local ID_COLUMNS = { id = true, userId = true, user_id = true }
-- Column names as exports write them, in any case, with spaces, dashes,
-- dots or underscores between words (see plain_column), in English,
-- Russian and Persian -> the trait drip reads: an "Email" column is the
-- contacts' email address, which a trait named "Email" would not be.
local TRAIT_COLUMNS = {
  email = { "email", "e mail", "email address", "e mail address", "электронная почта", "эл почта", "email адрес",
            "ایمیل", "پست الکترونیک", "آدرس ایمیل" },
  phone = { "phone", "phone number", "mobile", "mobile phone", "mobile number", "cell", "cell phone", "телефон",
            "мобильный", "мобильный телефон", "номер телефона", "تلفن", "موبایل", "شماره تماس", "شماره موبایل",
            "شماره تلفن", "تلفن همراه" },
  first_name = { "first name", "firstname", "given name", "имя", "نام" },
  last_name = { "last name", "lastname", "surname", "family name", "фамилия", "نام خانوادگی" },
  timezone = { "time zone", "timezone", "tz", "часовой пояс", "منطقه زمانی" },
  language = { "language", "preferred language", "lang", "язык", "زبان" }, -- (templates pick their version by it)
  telegram_chat_id = { "telegram chat id", "telegram id", "telegram" },
  push_token = { "push token", "device token", "fcm token" },
}
local TRAIT_OF = {}
for trait, names in pairs(TRAIT_COLUMNS) do for _, name in ipairs(names) do TRAIT_OF[name] = trait end end
local ID_NAMES = { id = true, ["user id"] = true, userid = true, ["customer id"] = true, ["contact id"] = true }
local FLAGS = { consent = true, unsubscribed = true } -- groups whose values are yes/no
-- yes and no as exports write them, in English, Russian and Persian (compared lower-cased)
local YES = { ["true"] = true, yes = true, ["1"] = true, y = true, ["да"] = true, ["д"] = true, ["بله"] = true,
              ["آری"] = true }
local NO = { ["false"] = true, no = true, ["0"] = true, n = true, [""] = true, ["нет"] = true, ["н"] = true,
             ["خیر"] = true, ["نه"] = true }
local ADDRESS_COLUMNS = { email = true, phone = true, push_token = true, telegram_chat_id = true }

-- A cell as JSON would type it, so that segments compare numbers as numbers:
-- a plain decimal number (no leading zero or plus sign, at most 15 digits;
-- with a decimal comma, 1234,5, in a file separated by semicolons) and
-- true/false; anything else, and every address column, stays text.
local function typed(column, value, decimal_comma)
  if ADDRESS_COLUMNS[column] then return value end
  if value == "true" or value == "false" then return value == "true" end
  if decimal_comma and value:match("^%-?%d+,%d+$") then
    local number = typed(column, (value:gsub(",", ".")))
    if type(number) == "number" then return number end
  end
  local digits = value:gsub("^%-", ""):gsub("%.", "", 1)
  if #digits <= 15 and (value:match("^%-?[1-9]%d*%.?%d*$") or value:match("^%-?0%.%d+$") or value == "0")
      and not value:match("%.$") then
    return tonumber(value)
  end
  return value
end

-- An import commits a chunk at a time (a tenth of a second of work), so
-- that a `drip run` serving the same store has its turns: between chunks,
-- on a store a server has marked, the import pauses for it. A stop midway
-- (Ctrl-C) keeps the chunks done; the same import again skips what is in
-- (contacts are merged, events known by their messageId).
local CHUNK_SECONDS, PAUSE_SECONDS = 0.1, 0.025

-- -> go_on(): after each row, commits a chunk when its time is up; false
-- once a SIGINT or SIGTERM has come (the caller stops there)
local function chunker(store)
  local served, started = store:served(), host.clock()
  return function()
    if host.clock() - started >= CHUNK_SECONDS then
      store:commit()
      if served then host.sleep(PAUSE_SECONDS) end
      store:begin()
      started = host.clock()
    end
    return not host.interrupted()
  end
end

local function err(path, line, msg) io.stderr:write(string.format("%s:%d: %s\n", path, line, msg)) end

-- one CSV cell into the traits table (nil when the cell is empty)
local function put(traits, column, value, existing, decimal_comma)
  if value == "" then return true end
  local group, key = column:match("^([%w_]+)%.([%w_]+)$")
  if group and FLAGS[group] then
    local v = locale.lower(value)
    if not (YES[v] or NO[v]) then return nil, string.format("column '%s': '%s' is not yes/no", column, value) end
    if not traits[group] then
      local old = existing and existing[group]
      traits[group] = {}
      if type(old) == "table" then for k, x in pairs(old) do traits[group][k] = x end end
    end
    traits[group][key] = YES[v] == true
  else
    traits[column] = typed(column, value, decimal_comma)
  end
  return true
end

-- one CSV row -> its traits and id | nil, why the row is bad
local function row_traits(engine, header, id_col, fields)
  local id = fields[id_col]
  if #fields ~= #header then return nil, string.format("expected %d fields, got %d", #header, #fields) end
  if not id or id == "" then return nil, "empty id" end
  for i, f in ipairs(fields) do
    if not utf8.len(f) then
      return nil, string.format("column '%s' is not UTF-8; save the file as UTF-8 (Excel: \"CSV UTF-8\")", header[i])
    end
  end
  local traits, existing = {}, engine.store:contact(id)
  for i, name in ipairs(header) do
    if i ~= id_col then
      local ok, why = put(traits, name, fields[i], existing, header.decimal_comma)
      if not ok then return nil, why end
    end
  end
  return traits, id
end

local function plain_column(name) return (locale.lower(name):gsub("[%s_%-%.]+", " "):match("^%s*(.-)%s*$")) end

local function is_id_column(name) return ID_COLUMNS[name] or ID_NAMES[plain_column(name)] end

-- Rename in `header` the columns that are a trait drip reads, written
-- another way ("E-mail", "Телефон"), unless that trait has its own column
-- too. -> what was renamed: { "'E-mail' as email", ... }
local function read_trait_columns(header)
  local present, renamed = {}, {}
  for _, name in ipairs(header) do present[name] = true end
  for i, name in ipairs(header) do
    local trait = TRAIT_OF[plain_column(name)]
    if trait and trait ~= name and not present[trait] then
      header[i], present[trait] = trait, true
      renamed[#renamed + 1] = string.format("'%s' as %s", name, trait)
    end
  end
  return renamed
end

-- "column 'email' is named twice (columns 2 and 3)" for a header that names
-- one twice, or nil (which of the two to keep would be a guess)
local function repeated_column(header)
  local first = {}
  for i, name in ipairs(header) do
    if first[name] then return string.format("column '%s' is named twice (columns %d and %d)", name, first[name], i) end
    first[name] = i
  end
  return nil
end

-- -> rows imported, bad rows, refused (the header row unusable), columns renamed (see read_trait_columns)
local function import_csv(engine, path, text, now, report_bad, go_on)
  local header, id_col, renamed
  local ok_rows, bad = 0, 0
  for fields, line, unreadable in csv.rows(text) do
    if not header then -- (a header row that cannot be used refuses the file: third result true)
      if not fields then err(path, line, unreadable) return 0, 1, true end
      header = fields
      header.decimal_comma = csv.separator(text) == ";"
      local twice = repeated_column(fields)
      if twice then err(path, line, twice) return 0, 1, true end
      for i, name in ipairs(fields) do if not id_col and is_id_column(name) then id_col = i end end
      if not id_col then err(path, line, "no id column (id, userId, user_id or User ID)") return 0, 1, true end
      renamed = read_trait_columns(header)
    elseif not fields or not (#fields == 1 and fields[1] == "") then
      local traits, id, why = nil, nil, unreadable
      if fields then
        traits, id = row_traits(engine, header, id_col, fields)
        if not traits then why = id end
      end
      if why then
        report_bad(string.format("%s:%d: %s", path, line, why))
        bad = bad + 1
      else
        engine:ingest(assert(events.normalize({ type = "identify", userId = id, traits = traits,
                                                 timestamp = time.iso(now) }, nil, now)))
        ok_rows = ok_rows + 1
      end
      if not go_on() then break end
    end
  end
  return ok_rows, bad, nil, renamed
end

-- the events of the open file f, a line at a time (a history may be larger than memory)
local function import_jsonl(engine, path, f, now, report_bad, go_on)
  local ok_lines, bad, dups, skipped, lineno = 0, 0, 0, events.skips(), 0
  for line in events.lines_of(f) do
    lineno = lineno + 1
    if line:match("%S") and not line:match("^%s*#") then
      local ev, why, skip = events.decode_line(line, now, lineno)
      if not ev and not why then
        skipped[skip] = skipped[skip] + 1
      elseif not ev then
        report_bad(string.format("%s:%d: %s", path, lineno, why))
        bad = bad + 1
      elseif engine:ingest(ev) then
        ok_lines = ok_lines + 1
      else
        dups = dups + 1
      end
      if not go_on() then break end
    end
  end
  return ok_lines, bad, dups, skipped
end

function cmd.run(opts, usage)
  local path = opts.args[1]
  if not path then return usage("which file? (drip import FILE.csv|FILE.jsonl)") end
  local kind = (path:match("%.csv$") or path:match("%.tsv$")) and "csv" or path:match("%.jsonl$") and "jsonl"
  if not kind then
    local packed = path:match("%.csv%.(%w+)$") or path:match("%.tsv%.(%w+)$") or path:match("%.jsonl%.(%w+)$")
    if packed then return usage(string.format("'%s': a compressed file; decompress it first (such as gunzip for .gz)", path)) end
    if path:match("%.xlsx?$") then return usage(string.format("'%s': a spreadsheet; save it as CSV UTF-8 first", path)) end
    return usage("'" .. path .. "': the file must end in .csv or .tsv (contacts) or .jsonl (events)")
  end
  local f = io.open(path, "rb")
  if not f then
    io.stderr:write("drip import: ", path, ": cannot read the file\n")
    return 2
  end
  -- a CSV is read whole; events a line at a time, after a look at how the file starts
  local text, rerr = f:read(kind == "csv" and "a" or 6)
  if not text and rerr then -- (a directory opens, and does not read)
    f:close()
    io.stderr:write("drip import: ", path, ": ", tostring(rerr), "\n")
    return 2
  end
  text = text or ""
  local unreadable = encoding.start_error(text, path)
  if not unreadable and kind == "jsonl" then
    f:seek("set", 0)
    unreadable = events.shape_error(f:read("l"), path)
  end
  if kind == "csv" or unreadable then f:close() end
  if unreadable then
    io.stderr:write("drip import: ", unreadable, "\n")
    return 2
  end
  local store, conf = require("drip.cli").open_store(opts, "import", true)
  if not store then
    if kind == "jsonl" then f:close() end
    return conf
  end
  local engine = Engine.new({ store = store, conf = conf, live = true })
  local now = math.max(engine.now, host.time())
  engine.now = now
  store:begin()
  local ok, bad, dups, skipped, refused, renamed
  local report_bad, bad_lines_told = cli.bad_lines("import")
  host.on_interrupt(true)
  local go_on = chunker(store)
  if kind == "csv" then ok, bad, refused, renamed = import_csv(engine, path, text, now, report_bad, go_on)
  else
    f:seek("set", 0)
    ok, bad, dups, skipped = import_jsonl(engine, path, f, now, report_bad, go_on)
    f:close()
  end
  local interrupted = host.interrupted()
  host.on_interrupt(false)
  bad_lines_told()
  skipped = skipped and events.skipped_text(skipped)
  store:close()
  if interrupted then
    io.stderr:write(string.format("drip import: interrupted (%s) after %d %s; they are in the store, and the "
      .. "same import again adds the rest\n", interrupted, ok, kind == "csv" and "contacts" or "events"))
    return interrupted == "SIGINT" and 130 or 143
  end
  if refused then
    print(string.format("nothing imported from %s: its header row is reported above", path))
    return 2
  end
  local noun = (kind == "csv" and "contact" or "event") .. (ok == 1 and "" or "s")
  print(string.format("imported %d %s from %s%s%s%s", ok, noun, path,
    dups and dups > 0 and string.format(" (%d %s skipped)", dups, dups == 1 and "duplicate" or "duplicates") or "",
    skipped and " (" .. skipped .. " skipped)" or "",
    bad > 0 and string.format("; %d bad %s %s", bad, (kind == "csv" and "row" or "line") .. (bad == 1 and "" or "s"),
      bad > cli.BAD_LINES_SHOWN and string.format("skipped (the first %d reported above)", cli.BAD_LINES_SHOWN)
        or "reported above and skipped") or ""))
  if renamed and #renamed > 0 then print("  read the columns " .. table.concat(renamed, ", ")) end
  return bad > 0 and 2 or 0
end

return cmd
