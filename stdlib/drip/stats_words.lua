-- drip.stats_words — the words of a journey's figures in English, Persian
-- and Russian: the tables of its /ui page (drip.ui_stats) and the lines of
-- `drip stats --lang` (drip.cmd_stats). Owns only the words: each text is
-- a string.format pattern whose %s and %d come in the same order in every
-- language, or a function where a language's word order or plural needs
-- one. Reason codes (no_consent, …), step calls and variant names are not
-- words: they are shown as the journey and the docs write them.
local stats_words = {}

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
    -- drip stats (the table); English keeps the exit reasons' codes, which scripts read
    cli = {
      exit_codes = true,
      paused = function(since, n) return string.format("  (paused since %s; %d entr%s refused)", since, n, n == 1 and "y" or "ies") end,
      exited = "exited", steps = "steps", suppressed = "suppressed", messages = "messages",
      segments = function(n) return string.format("   (%d segment%s)", n, n == 1 and "" or "s") end,
      converted_after = "converted %d after it (%s)", split = "split %s", versus = "vs %s",
      period = " that entered since %s (%s before %s)", store_clock = "the store's clock, %s", now = "now",
      instances = "instances%s", no_instances = "no journey instances%s", none_of = "no instances of journey '%s'%s",
    },
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
    cli = {
      paused = function(since, n) return string.format("  (متوقف از %s؛ %d ورود پذیرفته نشد)", since, n) end,
      exited = "خروج", steps = "گام‌ها", suppressed = "ارسال نشد", messages = "پیام‌ها",
      segments = function(n) return string.format("   (%d بخش پیامک)", n) end,
      converted_after = "%d تبدیل پس از آن (%s)", split = "آزمون %s", versus = "در برابر %s",
      period = " با ورود از %s (%s پیش از %s)", store_clock = "ساعت پایگاه، %s", now = "اکنون",
      instances = "نمونه‌ها%s", no_instances = "هیچ نمونه‌ای از سفرها نیست%s", none_of = "سفر '%s' هیچ نمونه‌ای ندارد%s",
    },
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
    cli = {
      paused = function(since, n) return string.format("  (на паузе с %s; отклонено входов: %d)", since, n) end,
      exited = "выходы", steps = "шаги", suppressed = "не отправлено", messages = "сообщения",
      segments = function(n) return string.format("   (SMS-сегментов: %d)", n) end,
      converted_after = "конверсий после него: %d (%s)", split = "тест %s", versus = "против %s",
      period = " со входом с %s (за %s до %s)", store_clock = "времени хранилища, %s", now = "текущего момента",
      instances = "экземпляры%s", no_instances = "экземпляров сценариев нет%s", none_of = "у сценария '%s' нет экземпляров%s",
    },
  },
}

-- the states of messages the figures count, in the order they are shown
stats_words.STATUSES = { "sent", "simulated", "queued", "deferred", "held", "failed" }

-- the languages there are words for
stats_words.LANGUAGES = { en = true, fa = true, ru = true }

-- the words of `lang` (English for any other)
function stats_words.of(lang) return WORDS[lang] or WORDS.en end

return stats_words
