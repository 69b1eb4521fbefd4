-- drip.records — the store's records, as `drip records` and GET /v1/records
-- give them to a warehouse. Owns reading the store's four logs in time order
-- a page at a time, and the cursor that says where a page ended. A record is
-- the line `simulate --format jsonl` prints for it (enter, send, suppress,
-- defer, variant, convert, exit, log), with each wait and what ended it,
-- every delivery state of a message (kind `delivery`), each tracked open
-- and click of an email or SMS (`opened`, `clicked`), and each unsubscribe
-- and resubscribe (`unsubscribed`, `resubscribed`: the contact's, of no
-- journey); those of an instance end with its id.
local json = require "drip.json"
local time = require "drip.time"
local report = require "drip.report"
local csv = require "drip.csv"

local records = {}

-- the logs, in the order records of one second are given: entries, the
-- instances' records, delivery states, then the events of opens, clicks and
-- unsubscribes
local SOURCES = { "enter", "history", "delivery", "events" }

local EVENT_KINDS = { ["Email Opened"] = "opened", ["Email Link Clicked"] = "clicked", ["SMS Link Clicked"] = "clicked",
                      Unsubscribed = "unsubscribed", Resubscribed = "resubscribed" }

records.LIMIT = 1000      -- records in a page unless told
records.MAX_LIMIT = 10000 -- the most a page may ask for

-- the cursor before every record
function records.start() return { 0, 0, 0, 0 } end

-- "12.340.56.7": the last id taken of each log
function records.cursor_text(c) return table.concat(c, ".") end

-- a cursor's text -> cursor | nil, message
function records.parse_cursor(text)
  local c = {}
  for part in (tostring(text) .. "."):gmatch("([^.]*)%.") do c[#c + 1] = tonumber(part:match("^%d+$")) end
  if #c ~= #SOURCES or not (c[1] and c[2] and c[3] and c[4]) then
    return nil, string.format("'%s' is not a cursor drip records gave (such as 120.4410.87.3)", tostring(text))
  end
  return c
end

-- fields_json with the instance's id at its end
local function with_instance(fields_json, instance)
  if not instance then return fields_json end
  if fields_json == "{}" then return '{"instance":' .. instance .. "}" end
  return fields_json:sub(1, -2) .. ',"instance":' .. instance .. "}"
end

-- a row of a log (see Store:record_rows) -> kind, fields_json
local LINES = {
  enter = function(row) return "enter", json.encode({ event = row[6] }) end,
  history = function(row) return row[6], row[7] or "{}" end,
  delivery = function(row)
    return "delivery", json.encode({ status = row[6], detail = row[7] and json.decode(row[7]) or nil,
                                     message_id = row[8], channel = row[9], to = row[10], label = row[11] })
  end,
  events = function(row)
    local kind = EVENT_KINDS[row[6]]
    if kind == "opened" or kind == "clicked" then
      return kind, json.encode({ message_id = row[7], label = row[8],
        channel = row[6] == "SMS Link Clicked" and "sms" or "email", url = kind == "clicked" and row[9] or nil })
    end
    return kind, json.encode({ channel = row[10], topic = row[11], reason = row[12] })
  end,
}

local function line_of(source, row)
  local kind, fields_json = LINES[source](row)
  return report.jsonl(time.iso(row[2]), row[3], row[4], kind, with_instance(fields_json, row[5]))
end

-- the log whose next row comes first (by time, then by SOURCES' order) | nil
local function earliest(queues)
  local best
  for i, q in ipairs(queues) do
    local row = q.rows[q.at]
    if row and (not best or row[2] < queues[best].rows[queues[best].at][2]) then best = i end
  end
  return best
end

-- records.page(store, cursor, { since = unix time, journey = name | nil, limit = n })
-- -> lines (JSON Lines, each with its line end), the cursor after them.
-- Every log is read on one snapshot; a page takes at most `limit` rows of
-- each, so a log that runs out within it has no more, up to its last id
-- then: the cursor moves there, and the rows it passed over (older than
-- since, of other journeys) are not looked at again.
function records.page(store, cursor, opts)
  local limit = opts.limit or records.LIMIT
  local queues = store:snapshot(function()
    local qs = {}
    for i, source in ipairs(SOURCES) do
      local rows = store:record_rows(source, cursor[i], opts.since or 0, opts.journey, limit)
      qs[i] = { source = source, at = 1, rows = rows, last = #rows < limit and store:records_end(source) or nil }
    end
    return qs
  end)
  local lines, after = {}, { table.unpack(cursor) }
  while #lines < limit do
    local i = earliest(queues)
    if not i then break end
    local q = queues[i]
    local row = q.rows[q.at]
    lines[#lines + 1] = line_of(q.source, row)
    after[i], q.at = row[1], q.at + 1
  end
  for i, q in ipairs(queues) do
    if q.last and q.at > #q.rows and q.last > after[i] then after[i] = q.last end
  end
  return lines, after
end

-- CSV ------------------------------------------------------------------------------------

-- the columns of a record in CSV; its other fields go into `detail`, as JSON
records.COLUMNS = { "at", "contact", "journey", "instance", "kind", "channel", "to", "status", "reason", "event",
                    "value", "split", "variant", "message", "label", "message_id", "url", "detail" }
local IN_COLUMNS = {}
for _, c in ipairs(records.COLUMNS) do IN_COLUMNS[c] = true end

function records.csv_header() return csv.line(records.COLUMNS, #records.COLUMNS) end

-- a record's line (JSON) as a CSV row
function records.csv_row(line)
  local r = json.decode(line)
  local m = r.message -- (a send's rendered fields: its subject, title or text stands for it)
  if type(m) == "table" then r.message = m.subject or m.title or m.text or m.body or json.encode(m) end
  local rest, any = {}, false
  for k, v in pairs(r) do
    if not IN_COLUMNS[k] or k == "detail" then rest[k], any = v, true end
  end
  local values = {}
  for i, c in ipairs(records.COLUMNS) do
    local v = r[c]
    values[i] = v ~= json.null and type(v) ~= "table" and v or nil
  end
  values[#records.COLUMNS] = any and json.encode(rest) or nil
  return csv.line(values, #records.COLUMNS)
end

return records
