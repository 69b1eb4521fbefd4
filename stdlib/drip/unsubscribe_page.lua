-- drip.unsubscribe_page — the small page /u/{token} answers with (SPEC §6),
-- in the reader's language: English, Persian (right to left) or Russian.
-- Owns its texts and choosing the language: the contact's `language` (or
-- `locale`) trait, else the browser's Accept-Language, else English.
local locale = require "drip.locale"

local page = {}

local TEXTS = {
  en = {
    channels = { email = "emails", sms = "text messages", push = "push notifications", telegram = "Telegram messages",
                 other = "messages" },
    unsubscribed = { "You are unsubscribed", "You will get no more %s from us. Changed your mind?" },
    resubscribe = "Resubscribe",
    resubscribed = { "You are subscribed again", "You will get %s again." },
    forgotten = { "You are unsubscribed", "We hold nothing about you any more, so you will get no %s." },
    bad_link = { "This link does not work", "%s. Nothing was changed." },
    -- a message's topic (send{ topic = ... }): title slot the topic; text slots the channel's words, the topic
    unsubscribed_topic = { "You are unsubscribed from “%s”", "You will get no more of %s about “%s”. Changed your mind?" },
    resubscribed_topic = { "You are subscribed to “%s” again", "You will get %s about “%s” again." },
    all = { "Unsubscribe from all %s", "none" },
    -- (the page a link scanner gets: the button unsubscribes)
    confirm = { "Unsubscribe?", "Press the button to get no more %s from us." }, unsubscribe = "Unsubscribe",
    confirm_topic = { "Unsubscribe from “%s”?", "Press the button to get no more of %s about “%s”." },
  },
  fa = {
    -- none: after "no more" (with the indefinite ی); ours: "our ..." (plural)
    channels = { email = { "ایمیلی", "ایمیل‌های ما" }, sms = { "پیامکی", "پیامک‌های ما" },
                 push = { "اعلانی", "اعلان‌های ما" }, telegram = { "پیام تلگرامی", "پیام‌های تلگرام ما" },
                 other = { "پیامی", "پیام‌های ما" } },
    unsubscribed = { "اشتراک شما لغو شد", "دیگر %s از ما دریافت نخواهید کرد. نظرتان عوض شد؟" },
    resubscribe = "اشتراک دوباره",
    resubscribed = { "اشتراک شما دوباره فعال شد", "از این پس دوباره %s را دریافت می‌کنید." },
    forgotten = { "اشتراک شما لغو شد", "اطلاعاتی از شما نزد ما نمانده است، پس %s دریافت نخواهید کرد." },
    bad_link = { "این پیوند کار نمی‌کند", "پیوند نامعتبر است یا منقضی شده است. چیزی تغییر نکرد." },
    unsubscribed_topic = { "اشتراک «%s» لغو شد", "دیگر %s دربارهٔ «%s» را دریافت نخواهید کرد. نظرتان عوض شد؟" },
    resubscribed_topic = { "اشتراک «%s» دوباره فعال شد", "از این پس دوباره %s دربارهٔ «%s» را دریافت می‌کنید." },
    all = { "لغو اشتراک همهٔ %s", "ours" },
    confirm = { "لغو اشتراک؟", "برای اینکه دیگر %s از ما دریافت نکنید، دکمه را بزنید." }, unsubscribe = "لغو اشتراک",
    confirm_topic = { "لغو اشتراک «%s»؟", "برای اینکه دیگر %s دربارهٔ «%s» را دریافت نکنید، دکمه را بزنید." },
  },
  ru = {
    -- none: after "no more" (genitive); ours: "our ..." (accusative)
    channels = { email = { "писем", "наши письма" }, sms = { "SMS", "наши SMS" },
                 push = { "push-уведомлений", "наши push-уведомления" },
                 telegram = { "сообщений в Telegram", "наши сообщения в Telegram" },
                 other = { "сообщений", "наши сообщения" } },
    unsubscribed = { "Вы отписались", "Вы больше не будете получать от нас %s. Передумали?" },
    resubscribe = "Подписаться снова",
    resubscribed = { "Вы снова подписаны", "Вы снова будете получать %s." },
    forgotten = { "Вы отписались", "У нас больше нет данных о вас, поэтому вы не будете получать %s." },
    bad_link = { "Ссылка не работает", "Ссылка недействительна или устарела. Ничего не изменилось." },
    unsubscribed_topic = { "Вы отписались от «%s»", "Вы больше не будете получать %s на тему «%s». Передумали?" },
    resubscribed_topic = { "Вы снова подписаны на «%s»", "Вы снова будете получать %s на тему «%s»." },
    all = { "Отписаться от всех %s", "none" },
    confirm = { "Отписаться?", "Нажмите кнопку, чтобы больше не получать от нас %s." }, unsubscribe = "Отписаться",
    confirm_topic = { "Отписаться от «%s»?", "Нажмите кнопку, чтобы больше не получать %s на тему «%s»." },
  },
}

-- the first of a language's tags drip has a page in | nil
local function page_language(tags)
  for _, tag in ipairs(tags or {}) do
    if TEXTS[tag] then return tag end
  end
  return nil
end

-- Accept-Language "ru-RU,ru;q=0.9,en;q=0.8" -> the language of the highest
-- weight drip has a page in | nil
local function accepted(header)
  if type(header) ~= "string" then return nil end
  local best, best_q = nil, -1
  for part in header:gmatch("[^,]+") do
    local tag, q = part:match("^%s*([^;%s]+)%s*;%s*q%s*=%s*([%d%.]+)")
    tag, q = tag or part:match("^%s*([^;%s]+)"), tonumber(q) or 1
    local code = page_language(locale.language_tags(tag))
    if code and q > best_q then best, best_q = code, q end
  end
  return best
end

-- page.language(traits, accept_language) -> "en" | "fa" | "ru"
function page.language(traits, accept_language)
  traits = type(traits) == "table" and traits or {}
  return page_language(locale.language_tags(rawget(traits, "language")))
    or page_language(locale.language_tags(rawget(traits, "locale"))) or accepted(accept_language) or "en"
end

local DOCUMENT = [[<!doctype html>
<html lang="%s"%s><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>%s</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:3em auto"><h1>%s</h1><p>%s</p>%s</body></html>
]]

local function escape(s) return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" })) end

-- the channel's words for one `kind` of page ("none": after "no more"; "ours": resubscribed)
local function channel_words(t, lang, channel, kind)
  local words = t.channels[channel] or t.channels.other
  if lang == "en" then return kind == "ours" and "our " .. words or words end
  return kind == "ours" and words[2] or words[1]
end

local function button(action, label)
  return string.format('<form method="post" action="%s"><button type="submit">%s</button></form>', escape(action), label)
end

-- page.render(kind, lang, channel, detail, topic) -> HTML. kind:
-- "unsubscribed" or "confirm" (detail: the link's path, /u/{token}, its
-- forms post under), "resubscribed", "forgotten" or "bad_link" (detail:
-- why, told in English only). topic: a message's topic, which the page is about.
function page.render(kind, lang, channel, detail, topic)
  local t = TEXTS[lang] or TEXTS.en
  local texts = topic and t[kind .. "_topic"] or t[kind]
  local title, text = texts[1], texts[2]
  if kind == "bad_link" then
    text = string.format(text, escape(detail or "")) -- (a translation has no slot for the reason)
  elseif topic then
    title = string.format(title, escape(topic))
    text = string.format(text, channel_words(t, lang, channel, "ours"), escape(topic))
  else
    local words = channel_words(t, lang, channel, kind == "resubscribed" and "ours" or "none")
    text = string.format(text, words)
  end
  local form = ""
  if kind == "confirm" then
    form = button(detail, t.unsubscribe)
  elseif kind == "unsubscribed" then
    form = button(detail .. "/resubscribe", t.resubscribe)
    if topic then form = form .. button(detail .. "/all", string.format(t.all[1], channel_words(t, lang, channel, t.all[2]))) end
  end
  return string.format(DOCUMENT, lang, lang == "fa" and ' dir="rtl"' or "", title, title, text, form)
end

return page
