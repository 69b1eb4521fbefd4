-- drip.ui — the read-only pages `drip run` serves under /ui for the people
-- who do not live in a terminal: each journey's funnel at a glance, a
-- journey's stats, what it sends (an email's HTML as it renders), and one
-- contact's story. Owns their HTML; the figures and words are those of
-- `drip stats`, `drip preview` and `drip explain` (drip.stats, the preview
-- document of drip.api, drip.cmd_explain), so the pages and the commands
-- never disagree; the words around them, and a journey's tables
-- (drip.ui_stats), are the reader's language's (English, Persian right to
-- left, or Russian: ?lang=, else the browser's). It
-- changes nothing. With a token configured, a browser asks for it as the
-- password.
local stats = require "drip.stats"
local time = require "drip.time"
local duration = require "drip.duration"
local json = require "drip.json"
local template = require "drip.template"
local ui_stats = require "drip.ui_stats"
local cmd_explain = require "drip.cmd_explain"
local records = require "drip.records"
local csv = require "drip.csv"
local unsubscribe_page = require "drip.unsubscribe_page"

local ui = {}

local esc = template.escape_html

-- the words of the pages, by language
local WORDS = {
  en = {
    lang = "en", journeys = "Journeys", why = "Why did (or didn't) a contact get a message?", who = "id, email or phone",
    explain = "Explain", heads = { "journey", "starts on", "entered", "active", "converted", "sent", "failed" },
    paused = "paused since %s", load_errors = "Scripts the last reload could not take:",
    as_of = "As of %s. The same figures: %s.", what_it_sends = "What it sends", in_order = ", in order",
    its_records = "Its records", records_note = " (CSV for a spreadsheet, at most %d; %s gives all)",
    instances = "Instances", since = " that entered since %s", last = "last %s", all = "all", the_same = "The same: ",
    its_script = "Its script",
    script_note = "%s, version %s (new entries run it; running instances stay on the version they entered with)",
    no_journey_title = "No such journey", no_journey = "No journey named %s in this store.",
    all_journeys = "All journeys", what_title = "%s: what it sends", for_contact = "For contact",
    for_contact_hint = "id (none: no traits)", ["then"] = "then", preview = "Preview",
    preview_for = "For %s, entering on %s at %s. Every channel allowed, no caps or quiet hours, and %s.",
    no_traits = "a contact with no traits", later_given = "only the events given come later",
    later_none = "no later event comes", explain_title = "Explain a contact", as_json = "as JSON",
  },
  fa = {
    lang = "fa", journeys = "سفرهای مشتری", why = "چرا مخاطبی پیامی را گرفت (یا نگرفت)؟", who = "شناسه، ایمیل یا تلفن",
    explain = "توضیح بده", heads = { "سفر", "شروع با", "ورود", "فعال", "تبدیل", "ارسال", "ناموفق" },
    paused = "متوقف از %s", load_errors = "اسکریپت‌هایی که آخرین بارگذاری نپذیرفت:",
    as_of = "تا %s. همین ارقام: %s.", what_it_sends = "آنچه می‌فرستد", in_order = "، به ترتیب",
    its_records = "سوابق آن", records_note = " (CSV برای صفحه‌گسترده، حداکثر %d سطر؛ %s همه را می‌دهد)",
    instances = "نمونه‌ها", since = " که از %s وارد شدند", last = "%s اخیر", all = "همه", the_same = "همین: ",
    its_script = "اسکریپت آن",
    script_note = "%s، نسخهٔ %s (ورودهای تازه آن را اجرا می‌کنند؛ نمونه‌های در حال اجرا روی نسخه‌ای که با آن وارد شدند می‌مانند)",
    no_journey_title = "چنین سفری نیست", no_journey = "سفری به نام %s در این انبار نیست.",
    all_journeys = "همهٔ سفرها", what_title = "%s: آنچه می‌فرستد", for_contact = "برای مخاطب",
    for_contact_hint = "شناسه (خالی: بی ویژگی)", ["then"] = "سپس", preview = "پیش‌نمایش",
    preview_for = "برای %s، با ورود روی %s در %s. همهٔ کانال‌ها مجازند، بی سقف ارسال و ساعت سکوت، و %s.",
    no_traits = "مخاطبی بی ویژگی", later_given = "بعداً فقط رویدادهای داده‌شده می‌آیند",
    later_none = "بعداً رویدادی نمی‌آید", explain_title = "توضیح یک مخاطب", as_json = "به صورت JSON",
  },
  ru = {
    lang = "ru", journeys = "Сценарии", why = "Почему контакт получил (или не получил) сообщение?", who = "id, e-mail или телефон",
    explain = "Объяснить", heads = { "сценарий", "начинается с", "вошли", "активны", "конверсии", "отправлено", "ошибки" },
    paused = "на паузе с %s", load_errors = "Скрипты, которые не удалось загрузить в последний раз:",
    as_of = "На %s. Те же цифры: %s.", what_it_sends = "Что он отправляет", in_order = ", по порядку",
    its_records = "Его записи", records_note = " (CSV для таблицы, не больше %d строк; %s выдаёт все)",
    instances = "Экземпляры", since = ", вошедшие с %s", last = "за %s", all = "все", the_same = "То же: ",
    its_script = "Его скрипт",
    script_note = "%s, версия %s (её выполняют новые входы; идущие экземпляры остаются на версии, с которой вошли)",
    no_journey_title = "Такого сценария нет", no_journey = "В этом хранилище нет сценария %s.",
    all_journeys = "Все сценарии", what_title = "%s: что он отправляет", for_contact = "Для контакта",
    for_contact_hint = "id (пусто: без атрибутов)", ["then"] = "затем", preview = "Показать",
    preview_for = "Для %s, вход по %s в %s. Все каналы разрешены, без лимитов и тихих часов, и %s.",
    no_traits = "контакта без атрибутов", later_given = "позже приходят только заданные события",
    later_none = "позже событий нет", explain_title = "Объяснить контакт", as_json = "в JSON",
  },
}

local encoded = template.escape_url

-- The words for a request to `path`: ?lang=fa|ru|en, else its
-- Accept-Language, else English. A language chosen by ?lang= stays chosen
-- on the page's links and forms (w.chosen), and w.here(lang) is this page
-- in another language.
function ui.words(query, accept_language, path)
  local chosen = query.lang and unsubscribe_page.language({ language = query.lang }, nil)
  if not WORDS[chosen] then chosen = nil end
  local w = WORDS[chosen or unsubscribe_page.language({}, accept_language)] or WORDS.en
  local keys = {}
  for k in pairs(query) do if k ~= "lang" then keys[#keys + 1] = k end end
  table.sort(keys)
  return setmetatable({ chosen = chosen, here = function(lang)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = encoded(k) .. "=" .. encoded(query[k]) end
    parts[#parts + 1] = "lang=" .. lang
    return (path or "/ui") .. "?" .. table.concat(parts, "&")
  end }, { __index = w })
end

-- path (a link of the pages) keeping the language chosen by ?lang=
local function link(w, path)
  if not w.chosen then return path end
  return path .. (path:find("?", 1, true) and "&" or "?") .. "lang=" .. w.chosen
end

-- a form's field keeping the language chosen by ?lang=
local function lang_field(w)
  return w.chosen and '<input type="hidden" name="lang" value="' .. w.chosen .. '">' or ""
end

-- the languages of the pages, each in its own words
local LANGUAGES = { { "en", "English" }, { "fa", "فارسی" }, { "ru", "Русский" } }
local function switcher(w)
  local out = {}
  for _, l in ipairs(LANGUAGES) do
    out[#out + 1] = l[1] == w.lang and "<b>" .. l[2] .. "</b>"
      or string.format('<a href="%s" lang="%s">%s</a>', esc(w.here(l[1])), l[1], l[2])
  end
  return '<span class="languages">' .. table.concat(out, " ") .. "</span>"
end

local STYLE = [[
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222 }
table { border-collapse: collapse; margin: 1em 0 }
th, td { padding: .3em .8em; border-bottom: 1px solid #ddd; text-align: start }
td.n { text-align: end; font-variant-numeric: tabular-nums }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; white-space: pre-wrap; unicode-bidi: plaintext }
.paused { color: #a40 } .error { color: #b00 } nav a { margin-inline-end: 1em }
.languages { float: inline-end } .languages a, .languages b { margin-inline-start: .6em }
]]

-- a whole page in the words w: title (text) and body (HTML); Persian reads right to left
local function html(w, title, body)
  return '<!doctype html><html lang="' .. w.lang .. '"' .. (w.lang == "fa" and ' dir="rtl"' or "")
    .. '><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>'
    .. esc(title) .. ' — drip</title><style>' .. STYLE .. '</style></head><body><nav><a href="' .. link(w, "/ui") .. '">'
    .. esc(w.journeys) .. "</a>" .. switcher(w) .. "</nav><h1>" .. esc(title) .. "</h1>" .. body .. "</body></html>"
end

local function search_form(w, value)
  return '<form action="/ui/contacts" method="get"><label>' .. esc(w.why) .. ' <input name="id" placeholder="'
    .. esc(w.who) .. '" value="' .. esc(value or "") .. '"></label>' .. lang_field(w) .. ' <button>' .. esc(w.explain)
    .. "</button></form>"
end

-- lines said through say(), as one <pre>
local function told(fn)
  local lines = {}
  fn(function(line) lines[#lines + 1] = line end)
  return '<pre dir="ltr">' .. esc(table.concat(lines, "\n")) .. "</pre>"
end

local pct = require("drip.report").percent

local function sends(j)
  local n = 0
  for _, c in pairs(j.channels) do n = n + (c.sent or 0) + (c.simulated or 0) end
  return n
end

-- GET /ui: every journey the store knows, with its funnel, and the contact search
function ui.overview(w, engine, store)
  local by_name = {}
  for _, j in ipairs(stats.collect(store, 0)) do by_name[j.journey] = j end
  local rows = {}
  for _, name in ipairs(engine:journey_names()) do
    local def, j, paused = engine.latest[name], by_name[name] or stats.empty(name), engine.paused[name]
    local t = def.trigger
    rows[#rows + 1] = string.format('<tr><td><a href="%s">%s</a>%s</td><td>%s</td><td class="n">%d</td>'
      .. '<td class="n">%d</td><td class="n">%d (%s)</td><td class="n">%d</td><td class="n">%d</td></tr>',
      esc(link(w, "/ui/journeys/" .. encoded(name))), esc(name), paused and (' <span class="paused">' .. esc(w.paused:format(time.iso(paused.since)))
        .. "</span>") or "",
      esc(tostring(t.event or type(t.segment) == "string" and t.segment or t.kind)), j.entered, j.active, j.converted, pct(j.conversion_rate), sends(j),
      j.failed)
  end
  local errors = {}
  for _, m in ipairs(engine.load_errors or {}) do errors[#errors + 1] = '<li class="error">' .. esc(m) .. "</li>" end
  return html(w, w.journeys, search_form(w)
    .. "<table><tr><th>" .. table.concat(w.heads, "</th><th>") .. "</th></tr>" .. table.concat(rows) .. "</table>"
    .. (#errors > 0 and "<p>" .. esc(w.load_errors) .. "</p><ul>" .. table.concat(errors) .. "</ul>" or "")
    .. "<p>" .. w.as_of:format(time.iso(engine.now), "<code>drip stats</code>") .. "</p>")
end

-- The start of a journey page's period (?since=30d; 0: all) | nil, 400, page
local function since_of(w, engine, name, query)
  if not query.since then return 0 end
  local secs, err = duration.parse(query.since)
  if not secs then return nil, 400, html(w, name, '<p class="error">since: ' .. esc(err) .. "</p>") end
  return engine.now - secs
end

-- nil when journey `name` is one the store knows | 404, page
local function unknown_journey(w, engine, name)
  if engine:knows_journey(name) then return nil end
  return 404, html(w, w.no_journey_title, "<p>" .. esc(w.no_journey:format(name)) .. ' <a href="' .. esc(link(w, "/ui"))
    .. '">' .. esc(w.all_journeys) .. "</a></p>")
end

-- the journey's code as new entries run it, to read beside its figures ("" when not loaded)
local function script_of(w, def)
  if not def then return "" end
  local lines, n = {}, 0
  for line in (def.source .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    lines[n] = string.format("%3d  %s", n, line)
  end
  if lines[n] == string.format("%3d  ", n) then lines[n] = nil end
  return "<h2>" .. esc(w.its_script) .. "</h2><p>" .. esc(w.script_note:format(def.file, def.hash:sub(1, 12)))
    .. '</p><pre dir="ltr">' .. esc(table.concat(lines, "\n")) .. "</pre>"
end

-- GET /ui/journeys/NAME[?since=30d]: the figures `drip stats NAME` prints, as
-- tables in the reader's language, and its script -> status, page
function ui.journey(w, engine, store, name, query)
  local since, status, page = since_of(w, engine, name, query)
  if not since then return status, page end
  local note = since > 0 and w.since:format(time.iso(since)) or ""
  local found
  for _, j in ipairs(stats.collect(store, since)) do
    if j.journey == name then found = j end
  end
  if not found then
    status, page = unknown_journey(w, engine, name)
    if status then return status, page end
  end
  local links = {}
  for _, d in ipairs({ "7d", "30d", "90d" }) do
    links[#links + 1] = string.format('<a href="%s">%s</a>', esc(link(w, "/ui/journeys/" .. encoded(name) .. "?since=" .. d)),
      esc(w.last:format(d)))
  end
  local download = string.format("/ui/journeys/%s/records.csv%s", encoded(name),
    query.since and "?since=" .. encoded(query.since) or "")
  return 200, html(w, name, string.format('<p><a href="%s">%s</a>%s · <a href="%s">%s</a>%s</p>',
    esc(link(w, "/ui/journeys/" .. encoded(name) .. "/preview")), esc(w.what_it_sends), esc(w.in_order),
    esc(link(w, download)), esc(w.its_records), w.records_note:format(ui.CSV_MAX, "<code>drip records --format csv</code>"))
    .. "<p>" .. esc(w.instances .. note) .. ": " .. table.concat(links, " · ")
    .. string.format(' · <a href="%s">%s</a></p>', esc(link(w, "/ui/journeys/" .. encoded(name))), esc(w.all))
    .. ui_stats.html(w.lang, found or stats.empty(name))
    .. "<p>" .. esc(w.the_same) .. "<code>drip stats " .. esc(name) .. (query.since and " --since " .. esc(query.since) or "")
    .. "</code></p>" .. script_of(w, engine.latest[name]))
end

-- records in a download, made in a few tenths of a second in which drip run serves
-- nothing else (drip records --format csv gives them all)
ui.CSV_MAX = 20000

-- GET /ui/journeys/NAME/records.csv[?since=30d]: the journey's records as
-- `drip records --journey NAME --format csv` prints them, the first
-- CSV_MAX of the period -> status, body (CSV, or an HTML page when not 200)
function ui.records_csv(w, engine, store, name, query)
  local since, status, page = since_of(w, engine, name, query)
  if not since then return status, page end
  status, page = unknown_journey(w, engine, name)
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
function ui.preview(w, name, query, status, doc)
  local form = '<form method="get"><label>' .. esc(w.for_contact) .. ' <input name="contact" placeholder="'
    .. esc(w.for_contact_hint) .. '" value="' .. esc(query.contact or "") .. '"></label> <label>' .. esc(w["then"])
    .. ' <input name="then" placeholder="Order Completed +2h" value="' .. esc(query["then"] or "") .. '"></label>'
    .. lang_field(w) .. ' <button>'
    .. esc(w.preview) .. "</button></form>"
  local title = w.what_title:format(name)
  if status ~= 200 then return status, html(w, title, form .. '<p class="error">' .. esc(doc.error) .. "</p>") end
  local items = {}
  for _, r in ipairs(doc.records) do items[#items + 1] = preview_item(r, doc.contact) end
  return 200, html(w, title, form .. "<p>" .. esc(w.preview_for:format(doc.stored and doc.contact or w.no_traits,
    doc.entered_on, doc.started_at, query["then"] and query["then"] ~= "" and w.later_given or w.later_none))
    .. '</p><ol dir="ltr">' .. table.concat(items) .. "</ol><p>" .. esc(w.the_same) .. "<code>drip preview " .. esc(name)
    .. (doc.stored and " --contact " .. esc(doc.contact) or "") .. "</code></p>")
end

-- GET /ui/contacts?id=X[&journey=J]: what `drip explain X [J]` prints -> status, page
function ui.contact(w, engine, store, conf, dir, query)
  local id = query.id and query.id:match("^%s*(.-)%s*$") or ""
  if id == "" then return 200, html(w, w.explain_title, search_form(w)) end
  local journey = query.journey ~= "" and query.journey or nil
  local body, problem = nil, nil
  local page = told(function(say)
    body, problem = cmd_explain.tell(store, conf, dir, id, journey, say, true, w.lang)
  end)
  if not body then return 404, html(w, id, search_form(w, id) .. '<p class="error">' .. esc(problem) .. "</p>") end
  return 200, html(w, id, search_form(w, id) .. page .. "<p>" .. esc(w.the_same) .. "<code>drip explain " .. esc(id)
    .. (journey and " " .. esc(journey) or "") .. "</code> · " .. esc(w.as_json) .. ": <code>GET /v1/contacts/"
    .. esc(encoded(id)) .. "</code></p>")
end

return ui
