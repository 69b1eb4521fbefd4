-- drip.events — the Segment-shaped events drip takes in (SPEC §2).
-- Owns validating a decoded event into what the engine needs, and reading
-- JSON Lines files with one error per bad line. It never rejects unknown
-- fields: the original object is kept as the event's body.
local host = require "drip_host"
local json = require "drip.json"
local time = require "drip.time"
local encoding = require "drip.encoding"

local events = {}

local TYPES = { identify = true, track = true }
local null = json.null

-- What journeys have no use for is skipped and counted, not refused, so that
-- a batch or file holding it keeps everything else:
-- "call": Segment's other calls (page, screen, group, alias), which pipelines
--   send beside identify and track;
-- "anonymous": an identify or track of a visitor known only by its
--   anonymousId, as analytics.js sends before a sign-in; drip's contacts are
--   its users, known by userId.
local OTHER_CALLS = { page = true, screen = true, group = true, alias = true }

-- events.skip_reason(obj) -> "call" | "anonymous" | nil
function events.skip_reason(obj)
  if type(obj) ~= "table" then return nil end
  local kind = obj.type
  if OTHER_CALLS[kind] then return "call" end
  local uid, anon = obj.userId, obj.anonymousId
  if TYPES[kind] and (uid == nil or uid == null) and type(anon) == "string" and anon ~= "" then return "anonymous" end
  return nil
end

-- events.skips() -> a tally of skipped events by reason (each skip_reason
-- at 0), for skipped_text and the metrics
function events.skips() return { call = 0, anonymous = 0 } end

local plural = require("drip.report").count

-- events.skipped_text(skips) -> "2 page, screen, group or alias calls and 1
-- anonymous event (anonymousId, no userId)", or nil when nothing was skipped
function events.skipped_text(skips)
  local parts = {}
  if skips.call > 0 then parts[1] = plural(skips.call, "page, screen, group or alias call", "page, screen, group or alias calls") end
  if skips.anonymous > 0 then
    parts[#parts + 1] = plural(skips.anonymous, "anonymous event", "anonymous events") .. " (anonymousId, no userId)"
  end
  if #parts == 0 then return nil end
  return table.concat(parts, " and ")
end

-- events.with_properties(obj) -> obj, a track event's `properties` made an
-- empty object when it came without one (or with null): journeys read
-- ctx.event.properties.x, and a `where` e.properties.x, of every event. The
-- body stored stays as it came.
function events.with_properties(obj)
  if obj.type == "track" and (obj.properties == nil or obj.properties == null) then obj.properties = {} end
  return obj
end

local MAX_ID = 256
local MAX_EXACT = 999999999999999 -- 15 digits: JSON numbers decode as doubles, exact to about 2^53

local function field_error(field, msg) return nil, string.format("field '%s': %s", field, msg) end

-- events.normalize(obj, raw, default_ts) -> ev | nil, "field 'x': message"
-- ev = { type, userId, event, traits, ts, messageId, data = obj, body = text }
function events.normalize(obj, raw, default_ts)
  if type(obj) ~= "table" or obj[1] ~= nil then return nil, "an event must be a JSON object" end
  local kind = obj.type
  if not TYPES[kind] then
    if kind == nil or kind == null then return field_error("type", 'required ("identify" or "track")') end
    return field_error("type", string.format('must be "identify" or "track", got %s', json.encode(kind)))
  end
  local uid = obj.userId
  if type(uid) == "number" then -- a backend's integer key, sent as a number: the same id as its digits
    if uid ~= math.floor(uid) or math.abs(uid) > MAX_EXACT then
      return field_error("userId", "must be a string (or a whole number of at most 15 digits)")
    end
    uid = string.format("%d", uid)
    obj.userId, raw = uid, nil -- (the body is written again with the id as text, as a replay reads it)
  elseif type(uid) ~= "string" then
    return field_error("userId", (uid == nil or uid == null) and "required" or "must be a string")
  end
  if #uid == 0 or #uid > MAX_ID then return field_error("userId", "must be 1 to 256 bytes") end
  local name, traits = nil, obj.traits
  if kind == "track" then
    name = obj.event
    if type(name) ~= "string" or name == "" then return field_error("event", "required for track (a non-empty string)") end
    if #name > MAX_ID then return field_error("event", "must be at most 256 bytes") end
    local props = obj.properties
    if props ~= nil and props ~= null and (type(props) ~= "table" or props[1] ~= nil) then
      return field_error("properties", "must be an object")
    end
  elseif traits ~= nil and traits ~= null and (type(traits) ~= "table" or traits[1] ~= nil) then
    return field_error("traits", "must be an object")
  end
  if traits == null then traits = nil end
  local mid = obj.messageId
  if mid ~= nil and type(mid) ~= "string" then
    if mid ~= null then return field_error("messageId", "must be a string") end
    mid = nil
  end
  local ts, stamp = nil, obj.timestamp
  if stamp == nil or stamp == null then
    ts = default_ts
    obj.timestamp = time.iso(ts)
    raw = nil
  else
    local err
    ts, err = time.parse(stamp)
    if not ts then return field_error("timestamp", err) end
  end
  local body = raw or json.encode(obj)
  return { type = kind, userId = uid, event = name, traits = traits, ts = ts, messageId = mid,
           data = events.with_properties(obj), body = body }
end

local byte = string.byte
local BOM = "\239\187\191"

-- An event's decoded object is made when something first reads ev.data
-- (the metatable of the events made in C: host.plain_event, stmt:events).
local DECODE_LATER = { __index = function(ev, key)
  if key ~= "data" then return nil end
  local body = ev.body -- (a text view when from host.event_lines)
  if type(body) ~= "string" then body = tostring(body) end
  local obj = events.with_properties(assert(json.decode(body))) -- (host.plain_event made sure it is UTF-8 and decodes)
  ev.data = obj
  return obj
end }
events.DECODE_LATER = DECODE_LATER

-- A track or identify event in the plain form (see runtime/evline.c), read
-- without decoding it: most are routed on these fields alone, and their
-- properties are decoded only when a journey reads them (an identify's
-- traits are decoded: the engine stores them). nil for any other text.
local plain_event = host.plain_event
local ARRAY = getmetatable(json.array())
local function decode_plain(text) return plain_event(text, DECODE_LATER, ARRAY) end

-- events.decode_stored(body, default_ts) -> ev | nil, message: an event's
-- body as the store keeps it
function events.decode_stored(body, default_ts)
  local ev = decode_plain(body)
  if ev then return ev end
  return events.normalize(json.decode(body), body, default_ts)
end

local function without_bom(line)
  if byte(line, 1) == 239 and line:sub(1, 3) == BOM then return line:sub(4) end
  return line
end

-- the line without its line end (a pattern anchored at the end would be
-- tried at every byte of the line)
local LF, CR = byte("\n"), byte("\r")
local function without_line_end(line)
  local n = #line
  while n > 0 and (byte(line, n) == LF or byte(line, n) == CR) do n = n - 1 end
  return n == #line and line or line:sub(1, n)
end

-- events.decode_full(line, default_ts) -> ev; or nil, message for a bad
-- line; or nil, nil, reason for one that is skipped (see skip_reason): the
-- line decoded whole, as every line is that host.plain_event does not read
-- (a UTF-8 byte order mark before the line, as editors on Windows write at
-- the start of a file, is not part of the event)
function events.decode_full(line, default_ts)
  line = without_line_end(without_bom(line)) -- (the body kept is the event, not its line end)
  local obj, err = json.decode_input(line)
  if obj == nil then return nil, "bad JSON: " .. err end
  local skip = events.skip_reason(obj)
  if skip then return nil, nil, skip end
  return events.normalize(obj, line, default_ts)
end

-- the messageId of a file's line that has none (the text without its line end, as import reads it)
local function line_message_id(line, lineno)
  return "line-" .. lineno .. "-" .. host.hash(without_line_end(without_bom(line)))
end

-- a line decoded whole (decode_full), given a messageId as decode_line says
local function decode_other(line, default_ts, lineno)
  local ev, why, skip = events.decode_full(line, default_ts)
  if ev and not ev.messageId and lineno then ev.messageId = line_message_id(line, lineno) end
  return ev, why, skip
end

-- events.decode_line(line, default_ts, lineno) -> as decode_full, read the
-- quick way when it can be (see decode_plain).
-- A line of a file (lineno given) without a messageId is given one from its
-- number and text, so that reading the file again into the same store (a
-- simulation continued after --until, an import repeated) skips it as it
-- skips lines with one, instead of taking its event twice.
function events.decode_line(line, default_ts, lineno)
  local ev = decode_plain(line)
  if not ev then return decode_other(line, default_ts, lineno) end
  if not ev.messageId and lineno then ev.messageId = line_message_id(line, lineno) end
  return ev
end

local OPEN_BRACE = byte("{")
local function skip(line)
  if byte(line, 1) == OPEN_BRACE then return false end -- an event, as nearly every line is
  return line:match("^%s*$") or line:match("^%s*#")
end

-- The timestamp of a line without decoding it (the common case), or nil.
local line_time = host.line_time
local function quick_ts(line)
  local t, other_form = line_time(line)
  if other_form then return (time.parse(other_form)) end
  return t
end

-- events.lines_of(f): the lines of an open file, each with its line end (as
-- f:lines("L") gives them), read a block at a time: f:lines reads a
-- character at a time.
local BLOCK = 1 << 16
local find, sub, concat = string.find, string.sub, table.concat
local function lines_of(f)
  local buf, pos = "", 1
  return function()
    local nl = find(buf, "\n", pos, true)
    if nl then
      local line = sub(buf, pos, nl)
      pos = nl + 1
      return line
    end
    local parts = { sub(buf, pos) } -- a line across blocks
    while true do
      local more = f:read(BLOCK)
      if not more then
        buf, pos = "", 1
        local last = concat(parts)
        return last ~= "" and last or nil
      end
      nl = find(more, "\n", 1, true)
      if nl then
        parts[#parts + 1] = sub(more, 1, nl)
        buf, pos = more, nl + 1
        return concat(parts)
      end
      parts[#parts + 1] = more
    end
  end
end
events.lines_of = lines_of

-- The time of each event line of an open file, in file order: calls
-- fn(ts, offset, lineno) for lines with a time (a line without a timestamp
-- takes the latest before it), on_error for lines with none that do not
-- decode (when `report`), and on_skip(reason) for those that are skipped.
local function each_timed_line(f, path, on_error, on_skip, default_ts, report, fn)
  local lineno, pos, last_ts = 0, 0, default_ts or 0
  for line in lines_of(f) do
    lineno = lineno + 1
    local off = pos
    pos = pos + #line
    if not skip(line) then
      local ts = quick_ts(line)
      if not ts then
        local ev, e, skip = events.decode_line(line, last_ts)
        if ev then ts = ev.ts
        elseif not e then on_skip(skip)
        elseif report then on_error(string.format("%s:%d: %s", path, lineno, e)) end
      end
      if ts then
        fn(ts, off, lineno)
        if ts > last_ts then last_ts = ts end
      end
    end
  end
end

-- events.readable(path) -> true | nil, "path: No such file or directory"
-- (or "path: Is a directory", which opens but does not read)
function events.readable(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local _, rerr = f:read(0)
  f:close()
  if rerr then return nil, path .. ": " .. rerr end
  return true
end

-- events.shape_error(first_line, path, piped) -> "path:1: ..." when a file's first
-- line shows it is JSON in another shape than one event per line (an array
-- of events, a Segment batch, a document over many lines), else nil: told
-- once, with how to make JSON Lines of it (piped: it came on standard
-- input), rather than as a bad line per line
function events.shape_error(first_line, path, piped)
  local line = without_bom(first_line or ""):match("^%s*(.-)%s*$")
  local shape, jq
  if line:sub(1, 1) == "[" then
    shape, jq = "a JSON array of events", ".[]"
  elseif line == "{" then
    shape, jq = "JSON over many lines (pretty-printed)", ".batch[]? // ."
  elseif line:match('^{%s*"batch"%s*:%s*%[') then
    shape, jq = 'a Segment batch ({"batch": [...]})', ".batch[]"
  else
    return nil
  end
  local how = piped and string.format("put jq -c '%s' before drip in the pipe", jq)
    or string.format("jq -c '%s' %s > events.jsonl makes them", jq, path)
  return string.format("%s:1: the file is %s; drip reads JSON Lines, one event per line (%s)", path, shape, how)
end

-- events.scan(path, on_error, default_ts, check_ids, shown_as) -> index | nil, error
-- (shown_as: the name messages give the file, when not its path)
-- Reads a JSONL file once for the timestamps. A file in timestamp order (the
-- usual case) is then read as a stream, holding nothing per line; otherwise
-- a second pass indexes its event lines in timestamp order (stable):
-- { n, ts = {}, off = {}, lineno = {}, order = {} }. index.distinct_ids
-- (asked for by check_ids, told only of a file in order): no two event
-- lines have one messageId.
-- Lines that are not valid events are reported through
-- on_error("path:line: message"): in line order as events.each streams a
-- file in order; for a file out of order, those without a time here and the
-- rest when events.each reaches them.
function events.scan(path, on_error, default_ts, check_ids, shown_as)
  local readable, rerr = events.readable(path)
  if not readable then return nil, rerr end
  local shown = shown_as or path -- (the name messages give the file)
  local index = { n = 0, path = path, shown = shown, on_error = on_error, default_ts = default_ts, sorted = true,
                  skipped = events.skips() }
  -- the usual file (every line stamped in the usual form, in order) is told
  -- in C, which also tells whether its messageIds are distinct (distinct_ids)
  local in_order, distinct_ids = host.events_in_order(path, default_ts or 0, check_ids)
  if in_order then
    index.distinct_ids = distinct_ids
    return index
  end
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local unreadable = encoding.start_error(f:read(6) or "", shown, -- (never the usual form)
    path == shown and string.format(" (zcat %s | drip simulate --events - reads it as it goes)", path)
      or " (put zcat before drip in the pipe)")
  if not unreadable then
    f:seek("set", 0)
    unreadable = events.shape_error(f:read("l"), shown, path ~= shown)
  end
  if unreadable then
    f:close()
    return nil, unreadable
  end
  f:seek("set", 0)
  local sorted, latest, untimed = true, default_ts or 0, {}
  each_timed_line(f, shown, function(msg) untimed[#untimed + 1] = msg end, function() end, default_ts, true, function(ts)
    if ts < latest then sorted = false else latest = ts end
  end)
  index.sorted = sorted
  if sorted then -- streamed: every bad line is reported when the stream reaches it, in line order
    f:close()
    return index
  end
  for _, msg in ipairs(untimed) do on_error(msg) end
  f:seek("set", 0)
  index.ts, index.off, index.lineno = {}, {}, {}
  each_timed_line(f, shown, on_error, function(why) index.skipped[why] = index.skipped[why] + 1 end, default_ts, false,
                  function(ts, off, lineno)
    local n = index.n + 1
    index.n, index.ts[n], index.off[n], index.lineno[n] = n, ts, off, lineno
  end)
  f:close()
  local order = {}
  for i = 1, index.n do order[i] = i end
  local ts = index.ts
  table.sort(order, function(a, b)
    if ts[a] ~= ts[b] then return ts[a] < ts[b] end
    return a < b
  end)
  index.order = order
  return index
end

-- the events of a file in timestamp order, read in file order (see scan);
-- each line is decoded once (its time is not looked up first). Track and
-- identify events in the plain form come from host.event_lines ready made:
-- one table of each kind it fills anew at each line, whose body and
-- messageId are text views of the line (the store binds them as text;
-- tostring copies them). The other lines are decoded here.
local function stream(index)
  local next_event = assert(host.event_lines(index.path, DECODE_LATER, ARRAY))
  local last_ts, done = index.default_ts or 0, false
  return function()
    while not done do
      local ev, line, lineno = next_event()
      if ev == nil then
        done = true
        return nil
      end
      local err, why
      if not ev then ev, err, why = decode_other(line, last_ts, lineno) end
      if ev then
        if ev.ts > last_ts then last_ts = ev.ts end
        return ev
      elseif err then
        index.on_error(string.format("%s:%d: %s", index.shown, lineno, err))
      else
        index.skipped[why] = index.skipped[why] + 1
      end
    end
    return nil
  end
end

-- events.each(index) -> iterator of ev, in timestamp order (bad lines reported and skipped).
-- An ev stands for its line until the next is read: a plain event's table
-- is filled anew at the next line (take what is to be kept: ev.data, the
-- fields, tostring(ev.body)).
function events.each(index)
  if index.sorted then return stream(index) end
  local f = assert(io.open(index.path, "rb"))
  local i = 0
  local function next_event()
    i = i + 1
    if i > index.n then
      f:close()
      return nil
    end
    local k = index.order[i]
    f:seek("set", index.off[k])
    local line = f:read("L")
    local ev, err, skip = events.decode_line(line, index.ts[k], index.lineno[k])
    if not ev then
      if err then
        index.on_error(string.format("%s:%d: %s", index.shown, index.lineno[k], err))
      else
        index.skipped[skip] = index.skipped[skip] + 1
      end
      return next_event()
    end
    return ev
  end
  return next_event
end

return events
