-- drip.ui_stats — one journey's figures (drip.stats.collect, what `drip
-- stats` prints) as the tables of its /ui page, in the reader's language
-- (English, Persian or Russian): the funnel, exits, steps, channels, each
-- message with the conversions it was the last message before, and each
-- split's variants with their interval and test. Owns those tables and
-- their words; the figures are the command's. Reason codes (no_consent,
-- exit_event) and step names stay as the journey and the docs write them.
local json = require "drip.json"
local template = require "drip.template"

local ui_stats = {}

local esc = template.escape_html

local WORDS = {
  en = {
    funnel = { "entered", "active", "converted", "failed", "revenue" },
    exits = "Exits", exit_reasons = { completed = "ran to its end", goal = "reached the goal",
      exit_event = "an exit event", exit = "called exit", expired = "timed out", error = "failed" },
    steps = "Steps", step_heads = { "step", "call", "reached" },
    channels = "Channels", statuses = { sent = "sent", simulated = "simulated", queued = "queued",
      deferred = "deferred", held = "held", failed = "failed" },
    channel_heads = { "channel", "went out", "opened", "clicked", "not sent (why)", "SMS segments" },
    messages = "Messages",
    message_heads = { "channel", "message", "went out", "opened", "clicked", "converted after it", "revenue" },
    no_text = "(no subject or text)",
    split = "Split %s", split_heads = { "variant", "entered", "converted", "rate (95% interval)", "against %s" },
    unclear = "no clear difference yet", better = "converts better than %s", worse = "converts worse than %s",
    none = "No instances yet.",
  },
  fa = {
    funnel = { "ورود", "فعال", "تبدیل", "ناموفق", "درآمد" },
    exits = "خروج‌ها", exit_reasons = { completed = "تا پایان رفت", goal = "به هدف رسید",
      exit_event = "رویداد خروج", exit = "exit را صدا زد", expired = "زمانش گذشت", error = "ناموفق" },
    steps = "گام‌ها", step_heads = { "گام", "فراخوانی", "رسیدند" },
    channels = "کانال‌ها", statuses = { sent = "ارسال‌شده", simulated = "شبیه‌سازی‌شده", queued = "در صف",
      deferred = "به تعویق افتاده", held = "نگه‌داشته", failed = "ناموفق" },
    channel_heads = { "کانال", "بیرون رفت", "باز شد", "کلیک شد", "ارسال نشد (چرا)", "بخش‌های پیامک" },
    messages = "پیام‌ها",
    message_heads = { "کانال", "پیام", "بیرون رفت", "باز شد", "کلیک شد", "تبدیل پس از آن", "درآمد" },
    no_text = "(بی موضوع یا متن)",
    split = "آزمون %s", split_heads = { "گونه", "ورود", "تبدیل", "نرخ (بازهٔ ۹۵٪)", "در برابر %s" },
    unclear = "هنوز تفاوت روشنی نیست", better = "بهتر از %s تبدیل می‌کند", worse = "بدتر از %s تبدیل می‌کند",
    none = "هنوز نمونه‌ای نیست.",
  },
  ru = {
    funnel = { "вошли", "активны", "конверсии", "ошибки", "выручка" },
    exits = "Выходы", exit_reasons = { completed = "дошли до конца", goal = "достигли цели",
      exit_event = "событие выхода", exit = "вызвали exit", expired = "истёк срок", error = "ошибка" },
    steps = "Шаги", step_heads = { "шаг", "вызов", "дошли" },
    channels = "Каналы", statuses = { sent = "отправлено", simulated = "смоделировано", queued = "в очереди",
      deferred = "отложено", held = "задержано", failed = "ошибки" },
    channel_heads = { "канал", "ушло", "открыто", "переходы", "не отправлено (почему)", "SMS-сегменты" },
    messages = "Сообщения",
    message_heads = { "канал", "сообщение", "ушло", "открыто", "переходы", "конверсии после него", "выручка" },
    no_text = "(без темы и текста)",
    split = "Тест %s", split_heads = { "вариант", "вошли", "конверсии", "доля (95% интервал)", "против %s" },
    unclear = "явной разницы пока нет", better = "конвертирует лучше, чем %s", worse = "конвертирует хуже, чем %s",
    none = "Экземпляров пока нет.",
  },
}

local pct = require("drip.report").percent

-- "12 (40.0%)" of a count and what it is a share of
local function of(n, total) return total > 0 and string.format("%d (%s)", n, pct(n / total)) or tostring(n) end

-- a table: heads (text; nil: none) and rows of cells (HTML; a number cell
-- is set right), without the columns whose index `left_out` holds
local function table_of(heads, rows, left_out)
  left_out = left_out or {}
  local out = { "<table>" }
  if heads then
    out[#out + 1] = "<tr>"
    for i, h in ipairs(heads) do
      if not left_out[i] then out[#out + 1] = "<th>" .. esc(h) .. "</th>" end
    end
    out[#out + 1] = "</tr>"
  end
  for _, row in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for i, cell in ipairs(row) do
      if left_out[i] then goto next_cell end
      local number = type(cell) == "number" or (type(cell) == "string" and cell:match("^[%d%.%-]"))
      out[#out + 1] = (number and '<td class="n">' or "<td>") .. (type(cell) == "number" and json.number(cell) or cell)
        .. "</td>"
      ::next_cell::
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</table>"
  return table.concat(out)
end

local sorted_keys = require("drip.suggest").names

local function funnel(t, j)
  return table_of(t.funnel, { { j.entered, j.active, of(j.converted, j.entered), j.failed, j.revenue } })
end

local function exits(t, j)
  local rows = {}
  for _, reason in ipairs(sorted_keys(j.exited)) do
    rows[#rows + 1] = { esc(t.exit_reasons[reason] or reason) .. " <code>" .. esc(reason) .. "</code>", j.exited[reason] }
  end
  return #rows > 0 and "<h2>" .. esc(t.exits) .. "</h2>" .. table_of(nil, rows) or ""
end

local function steps(t, j)
  local rows = {}
  for _, s in ipairs(j.steps) do rows[#rows + 1] = { s.step, "<code>" .. esc(s.call) .. "</code>", s.reached } end
  return #rows > 0 and "<h2>" .. esc(t.steps) .. "</h2>" .. table_of(t.step_heads, rows) or ""
end

local STATUSES = { "sent", "simulated", "queued", "deferred", "held", "failed" }

-- the columns opened and clicked (at `at` and at + 1) left out when no
-- message of the list was (tracking is off)
local function untracked(list, at)
  for _, x in pairs(list) do
    if (x.opened or 0) > 0 or (x.clicked or 0) > 0 then return {} end
  end
  return { [at] = true, [at + 1] = true }
end

local function channels(t, j)
  local rows = {}
  for _, name in ipairs(sorted_keys(j.channels)) do
    local c, out, why = j.channels[name], {}, {}
    for _, k in ipairs(STATUSES) do
      if (c[k] or 0) > 0 then out[#out + 1] = esc(t.statuses[k]) .. " " .. c[k] end
    end
    for _, reason in ipairs(sorted_keys(c.suppressed)) do why[#why + 1] = "<code>" .. esc(reason) .. "</code> " .. c.suppressed[reason] end
    local went = (c.sent or 0) + (c.simulated or 0)
    rows[#rows + 1] = { esc(name), table.concat(out, ", "), of(c.opened or 0, went), of(c.clicked or 0, went),
                        table.concat(why, ", "), name == "sms" and j.sms_segments or "" }
  end
  local left_out = untracked(j.channels, 3)
  if not j.sms_segments then left_out[6] = true end
  return #rows > 0 and "<h2>" .. esc(t.channels) .. "</h2>" .. table_of(t.channel_heads, rows, left_out) or ""
end

local function messages(t, j)
  local rows = {}
  for _, m in ipairs(j.messages) do
    rows[#rows + 1] = { esc(m.channel), m.message ~= "" and esc("“" .. m.message .. "”") or esc(t.no_text), m.sent,
                        of(m.opened or 0, m.sent), of(m.clicked or 0, m.sent), of(m.converted or 0, m.sent),
                        m.revenue or 0 }
  end
  return #rows > 0 and "<h2>" .. esc(t.messages) .. "</h2>" .. table_of(t.message_heads, rows, untracked(j.messages, 4))
    or ""
end

local function splits(t, j)
  local out = {}
  for _, name in ipairs(sorted_keys(j.splits)) do
    local variants, rows = j.splits[name], {}
    local base = variants[1].variant
    for i, v in ipairs(variants) do
      local test = ""
      if i > 1 and v.z then
        test = string.format("z %.2f, p %.3f — %s", v.z, v.p_value, v.p_value >= 0.05 and t.unclear
          or (v.z > 0 and t.better or t.worse):format(base))
      end
      rows[#rows + 1] = { esc(v.variant), v.entered, v.converted,
                          string.format("%s [%s–%s]", pct(v.rate), pct(v.low), pct(v.high)), esc(test) }
    end
    local heads = { table.unpack(t.split_heads) }
    heads[5] = heads[5]:format(base)
    out[#out + 1] = "<h2>" .. esc(t.split:format(name)) .. "</h2>" .. table_of(heads, rows)
  end
  return table.concat(out)
end

-- ui_stats.html(lang, j) -> the tables of journey j (one of stats.collect) in language lang
function ui_stats.html(lang, j)
  local t = WORDS[lang] or WORDS.en
  if j.entered == 0 and next(j.channels) == nil then return "<p>" .. esc(t.none) .. "</p>" end
  return funnel(t, j) .. exits(t, j) .. steps(t, j) .. channels(t, j) .. messages(t, j) .. splits(t, j)
end

return ui_stats
