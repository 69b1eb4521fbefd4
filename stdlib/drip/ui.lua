-- drip.ui — the read-only pages `drip run` serves under /ui for the people
-- who do not live in a terminal: each journey's funnel at a glance, a
-- journey's stats, what it sends (an email's HTML as it renders), and one
-- contact's story. Owns their HTML; the words are those of `drip stats`,
-- `drip preview` and `drip explain` (drip.cmd_stats, the preview document
-- of drip.api, drip.cmd_explain), so the pages and the commands never
-- disagree. It changes nothing.
-- With a token configured, a browser asks for it as the password.
local stats = require "drip.stats"
local time = require "drip.time"
local duration = require "drip.duration"
local json = require "drip.json"
local template = require "drip.template"
local cmd_stats = require "drip.cmd_stats"
local cmd_explain = require "drip.cmd_explain"
local records = require "drip.records"
local csv = require "drip.csv"

local ui = {}

local esc = template.escape_html

-- a path part or query value, percent-encoded
local function encoded(s) return (tostring(s):gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end)) end

local STYLE = [[
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222 }
table { border-collapse: collapse; margin: 1em 0 }
th, td { padding: .3em .8em; border-bottom: 1px solid #ddd; text-align: start }
td.n { text-align: end; font-variant-numeric: tabular-nums }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; white-space: pre-wrap; unicode-bidi: plaintext }
.paused { color: #a40 } .error { color: #b00 } nav a { margin-inline-end: 1em }
]]

-- a whole page: title (text) and body (HTML)
local function html(title, body)
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
    .. 'content="width=device-width, initial-scale=1"><title>' .. esc(title) .. ' — drip</title><style>' .. STYLE
    .. '</style></head><body><nav><a href="/ui">Journeys</a></nav><h1>' .. esc(title) .. "</h1>" .. body
    .. "</body></html>"
end

local function search_form(value)
  return '<form action="/ui/contacts" method="get"><label>Why did (or didn\'t) a contact get a message? '
    .. '<input name="id" placeholder="id, email or phone" value="' .. esc(value or "") .. '"></label> '
    .. '<button>Explain</button></form>'
end

-- lines said through say(), as one <pre>
local function told(fn)
  local lines = {}
  fn(function(line) lines[#lines + 1] = line end)
  return "<pre>" .. esc(table.concat(lines, "\n")) .. "</pre>"
end

local function pct(x) return string.format("%.1f%%", (x or 0) * 100) end

local function sends(j)
  local n = 0
  for _, c in pairs(j.channels) do n = n + (c.sent or 0) + (c.simulated or 0) end
  return n
end

-- GET /ui: every journey the store knows, with its funnel, and the contact search
function ui.overview(engine, store)
  local by_name = {}
  for _, j in ipairs(stats.collect(store, 0)) do by_name[j.journey] = j end
  local rows = {}
  for _, name in ipairs(engine:journey_names()) do
    local def, j, paused = engine.latest[name], by_name[name] or stats.empty(name), engine.paused[name]
    local t = def.trigger
    rows[#rows + 1] = string.format('<tr><td><a href="/ui/journeys/%s">%s</a>%s</td><td>%s</td><td class="n">%d</td>'
      .. '<td class="n">%d</td><td class="n">%d (%s)</td><td class="n">%d</td><td class="n">%d</td></tr>',
      encoded(name), esc(name), paused and (' <span class="paused">paused since ' .. time.iso(paused.since) .. "</span>") or "",
      esc(tostring(t.event or type(t.segment) == "string" and t.segment or t.kind)), j.entered, j.active, j.converted, pct(j.conversion_rate), sends(j),
      j.failed)
  end
  local errors = {}
  for _, m in ipairs(engine.load_errors or {}) do errors[#errors + 1] = '<li class="error">' .. esc(m) .. "</li>" end
  return html("Journeys", search_form()
    .. "<table><tr><th>journey</th><th>starts on</th><th>entered</th><th>active</th><th>converted</th><th>sent</th>"
    .. "<th>failed</th></tr>" .. table.concat(rows) .. "</table>"
    .. (#errors > 0 and "<p>Scripts the last reload could not take:</p><ul>" .. table.concat(errors) .. "</ul>" or "")
    .. "<p>As of " .. time.iso(engine.now) .. ". The same figures: <code>drip stats</code>.</p>")
end

-- The start of a journey page's period (?since=30d; 0: all) | nil, 400, page
local function since_of(engine, name, query)
  if not query.since then return 0 end
  local secs, err = duration.parse(query.since)
  if not secs then return nil, 400, html(name, '<p class="error">since: ' .. esc(err) .. "</p>") end
  return engine.now - secs
end

-- nil when journey `name` is one the store knows | 404, page
local function unknown_journey(engine, store, name)
  if engine.latest[name] or store:latest_script(name) then return nil end
  return 404, html("No such journey", "<p>No journey named " .. esc(name) .. ' in this store. <a href="/ui">All journeys</a></p>')
end

-- the journey's code as new entries run it, to read beside its figures ("" when not loaded)
local function script_of(def)
  if not def then return "" end
  local lines, n = {}, 0
  for line in (def.source .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    lines[n] = string.format("%3d  %s", n, line)
  end
  if lines[n] == string.format("%3d  ", n) then lines[n] = nil end
  return string.format("<h2>Its script</h2><p>%s, version %s (new entries run it; running instances stay on the "
    .. "version they entered with)</p><pre>%s</pre>", esc(def.file), esc(def.hash:sub(1, 12)), esc(table.concat(lines, "\n")))
end

-- GET /ui/journeys/NAME[?since=30d]: what `drip stats NAME` prints, and its script -> status, page
function ui.journey(engine, store, name, query)
  local since, status, page = since_of(engine, name, query)
  if not since then return status, page end
  local note = since > 0 and " that entered since " .. time.iso(since) or ""
  local found
  for _, j in ipairs(stats.collect(store, since)) do
    if j.journey == name then found = j end
  end
  if not found then
    status, page = unknown_journey(engine, store, name)
    if status then return status, page end
  end
  local links = {}
  for _, d in ipairs({ "7d", "30d", "90d" }) do
    links[#links + 1] = string.format('<a href="/ui/journeys/%s?since=%s">last %s</a>', encoded(name), d, d)
  end
  local download = string.format("/ui/journeys/%s/records.csv%s", encoded(name),
    query.since and "?since=" .. encoded(query.since) or "")
  return 200, html(name, string.format('<p><a href="/ui/journeys/%s/preview">What it sends</a>, in order · '
    .. '<a href="%s">Its records</a> (CSV for a spreadsheet: every entry, message, delivery, click and exit%s, '
    .. 'at most %d; <code>drip records --format csv</code> gives all)</p>', encoded(name), esc(download),
    query.since and " of the period" or "", ui.CSV_MAX)
    .. "<p>Instances" .. esc(note) .. ": " .. table.concat(links, " · ")
    .. string.format(' · <a href="/ui/journeys/%s">all</a></p>', encoded(name))
    .. told(function(say) cmd_stats.tell_journey(found or stats.empty(name), say) end)
    .. "<p>The same: <code>drip stats " .. esc(name) .. (query.since and " --since " .. esc(query.since) or "")
    .. "</code></p>" .. script_of(engine.latest[name]))
end

-- records in a download, made in a few tenths of a second in which drip run serves
-- nothing else (drip records --format csv gives them all)
ui.CSV_MAX = 20000

-- GET /ui/journeys/NAME/records.csv[?since=30d]: the journey's records as
-- `drip records --journey NAME --format csv` prints them, the first
-- CSV_MAX of the period -> status, body (CSV, or an HTML page when not 200)
function ui.records_csv(engine, store, name, query)
  local since, status, page = since_of(engine, name, query)
  if not since then return status, page end
  status, page = unknown_journey(engine, store, name)
  if status then return status, page end
  local out, cursor, n = { csv.BOM .. records.csv_header() }, records.start(), 0
  repeat
    local lines
    lines, cursor = records.page(store, cursor, { journey = name, since = since, limit = records.MAX_LIMIT })
    for _, line in ipairs(lines) do out[#out + 1] = records.csv_row(line) end
    n = n + #lines
  until #lines < records.MAX_LIMIT or n >= ui.CSV_MAX
  return 200, table.concat(out)
end

-- "+1h" after the entry
local function after(secs) return secs <= 0 and "+0" or "+" .. duration.format(secs) end

-- a message's fields: the HTML of an email shown as it renders (in a frame
-- that runs no script), the rest as text
local FIRST_FIELDS = { subject = 1, title = 2, preheader = 3, text = 4, body = 5 }
local function fields(message)
  local keys = {}
  for k in pairs(message) do if k ~= "html" then keys[#keys + 1] = k end end
  table.sort(keys, function(a, b) return (FIRST_FIELDS[a] or 9) .. a < (FIRST_FIELDS[b] or 9) .. b end)
  local out = {}
  for _, k in ipairs(keys) do
    local v = message[k]
    out[#out + 1] = "<dt>" .. esc(k) .. "</dt><dd><pre>" .. esc(type(v) == "table" and json.encode(v) or tostring(v))
      .. "</pre></dd>"
  end
  if message.html then
    out[#out + 1] = '<dt>html</dt><dd><iframe sandbox srcdoc="' .. esc(tostring(message.html))
      .. '" style="width:100%;height:24em;border:1px solid #ddd"></iframe></dd>'
  end
  return "<dl>" .. table.concat(out) .. "</dl>"
end

-- one record of a preview as an item of the list | nil (not shown)
local function preview_item(r, contact)
  local at = "<b>" .. after(r.after) .. "</b> "
  if r.kind == "send" then
    return "<li>" .. at .. esc(r.channel .. " to " .. tostring(r.to))
      .. (r.would_stop and ' <span class="error">(' .. esc(contact .. " itself would not get it: " .. r.would_stop)
        .. ")</span>" or "") .. fields(r.message) .. "</li>"
  end
  local says = (r.kind == "suppress" or r.kind == "defer") and r.channel .. " not sent: " .. r.reason
    or r.kind == "variant" and "split " .. r.split .. ": " .. r.variant
    or r.kind == "log" and "log: " .. tostring(r.message)
    or r.kind == "event" and "← " .. r.event
    or r.kind == "convert" and "converted"
    or r.kind == "exit" and "the instance ends (" .. r.reason .. ")" .. (r.error and ": " .. tostring(r.error) or "")
  return says and "<li>" .. at .. esc(says) .. "</li>" or nil
end

-- GET /ui/journeys/NAME/preview?contact=ID&then=...: every message the
-- journey would send, as `drip preview` shows them; status and doc are
-- those of GET /v1/journeys/NAME/preview -> status, page
function ui.preview(name, query, status, doc)
  local form = '<form method="get"><label>For contact <input name="contact" placeholder="id (none: no traits)" value="'
    .. esc(query.contact or "") .. '"></label> <label>then <input name="then" placeholder="Order Completed +2h" value="'
    .. esc(query["then"] or "") .. '"></label> <button>Preview</button></form>'
  local title = name .. ": what it sends"
  if status ~= 200 then return status, html(title, form .. '<p class="error">' .. esc(doc.error) .. "</p>") end
  local items = {}
  for _, r in ipairs(doc.records) do items[#items + 1] = preview_item(r, doc.contact) end
  return 200, html(title, form .. "<p>" .. esc(string.format("For %s, entering on %s at %s. Every channel allowed, "
    .. "no caps or quiet hours, and %s.", doc.stored and doc.contact or "a contact with no traits", doc.entered_on,
    doc.started_at, query["then"] and query["then"] ~= "" and "only the events given come later" or "no later event comes"))
    .. "</p><ol>" .. table.concat(items) .. "</ol><p>The same: <code>drip preview " .. esc(name)
    .. (doc.stored and " --contact " .. esc(doc.contact) or "") .. "</code></p>")
end

-- GET /ui/contacts?id=X[&journey=J]: what `drip explain X [J]` prints -> status, page
function ui.contact(engine, store, conf, dir, query)
  local id = query.id and query.id:match("^%s*(.-)%s*$") or ""
  if id == "" then return 200, html("Explain a contact", search_form()) end
  local journey = query.journey ~= "" and query.journey or nil
  local body, problem = nil, nil
  local page = told(function(say)
    body, problem = cmd_explain.tell(store, conf, dir, id, journey, say, true)
  end)
  if not body then return 404, html(id, search_form(id) .. '<p class="error">' .. esc(problem) .. "</p>") end
  return 200, html(id, search_form(id) .. page .. "<p>The same: <code>drip explain " .. esc(id)
    .. (journey and " " .. esc(journey) or "") .. "</code> · as JSON: <code>GET /v1/contacts/" .. esc(encoded(id))
    .. "</code></p>")
end

return ui
