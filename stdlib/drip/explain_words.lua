-- drip.explain_words — the words of a contact's story (drip explain, the
-- /ui contact page) in English, Persian and Russian. Owns only the words:
-- each text is a string.format pattern whose %s and %d come in the same
-- order in every language, or a function of a count where a language's
-- plural needs one. The codes drip stores (no_consent, sent, completed, …)
-- are named by `reasons` and `states`; a code not listed there is shown as
-- it is, as English shows them all.
local explain_words = {}

local en = {
  no_contact = "no contact '%s'%s", did_you_mean = "; did you mean %s?", its = " (its %s)", email = "email",
  phone = "phone",
  first_seen = "%s — first seen %s",
  traits = "  traits   ", consent = "  consent  %s (policy %s)", topics = "  topics   unsubscribed from %s",
  control = "  control  in the global control group (global_control = %s%%): no marketing message goes to it, "
    .. "so that journeys' lift can be measured",
  segments = "  segments %s (by %s)", segments_none = "none", segments_unknown = "  segments unknown: %s",
  pruned = "  pruned   ended instances and events from before %s (drip prune) are not shown",
  event = "  event    %s %s", in_no_journey = "in no journey yet",
  channel_ok = "ok", no_address = "no address", ["and"] = " and ",
  instance = "%s #%d (version %s) — %s", active = "active", ended = "ended %s: %s",
  waiting = "  now: waiting %s%s", waiting_for = "for %s", waiting_timer = "on a timer", ["until"] = " until %s",
  entered_on = "entered on %s",
  sent_to = "%s to %s%s%s — %s", not_sent = "%s not sent: %s",
  held = "%s to %s held, as the journey was paused — %s",
  deferred = "%s deferred (%s) until %s — %s",
  variant = "split %s: variant %s",
  converted = "converted", converted_on = " on %s", worth = " worth %s",
  converted_late = " (after it ended, within its goal's window)",
  exit = "exit: %s%s", log = "log: %s",
  wait_timed_out = "%s %s: timed out", wait_came = "%s %s: it came", wait_time = "%s: its time came",
  http = " (HTTP %d)", smtp = " (SMTP %d)", since_queued = " (after it was queued)",
  told_later = " (%s told of it later%s)", next_try = ", next try %s", opened = ", opened %s", clicked = ", clicked %s",
  scanned_open = ", a program fetched its image %s (%s; not counted as an open)",
  scanned_click = ", a program followed a link %s (%s; not counted as a click)",
  pause_held = " (the journey was paused)", pause_released = " (sent when the journey resumed)",
  pause_dropped = " (dropped when the journey resumed)",
  pause_goal = " (dropped when the journey resumed: the contact had reached its goal)",
  pause_exit_event = " (dropped when the journey resumed: the contact had sent its exit event)",
  lookalike = function(name, n) return string.format(" (it has had '%s' %d time%s; names must match exactly)",
    name, n, n == 1 and "" or "s") end,
  starts_on_none = "it starts on the event '%s', and %s has had none%s",
  starts_on = function(event, id, n, last) return string.format(
    "it starts on the event '%s'; %s has had it %d time%s, last at %s", event, id, n, n == 1 and "" or "s", last) end,
  paused_then = "the journey was paused then (from %s to %s)",
  paused_now = "the journey is paused (since %s; drip resume starts it again)",
  imported = "events loaded by drip import start no journey",
  last_paused = "the last one came while the journey was paused (from %s to %s)", a_function = "(a function)",
  starts_inactive = "it starts after %s without events; %s's last activity was %s", never = "never",
  every_contact = "every contact",
  unknown_segment = "the segment %s (not defined in the segments.lua drip can read here)",
  segment_now_in = "the segment %s, which %s is in now", segment_now_out = "the segment %s, which %s is not in now",
  starts_schedule = 'it starts on the schedule "%s" for %s', starts_segment = "it starts when a contact enters %s",
  rollout_in = "its rollout is %s%%, and %s's place in it is %.2f%% (inside)",
  rollout_out = "its rollout is %s%%, and %s's place in it is %.2f%% (outside)",
  unstarted = "%s events that started no %s instance%s:", unstarted_latest = " (the latest %d)",
  never_entered = "never entered %s",
  before_loaded = "it came before the journey was first loaded (%s)",
  still_running = "#%d was still running (entered %s), and a contact is in one instance at a time (reentry left out)",
  entered_once = "#%d entered %s, and reentry = false lets a contact in once",
  entered_after = '#%d entered %s, and reentry = "%s" lets them in again from %s',
  where_true = "its trigger's where() is true for %s with today's traits (they may have changed since)",
  where_false = "its trigger's where() is false for %s, so it did not start",
  where_fails = "its trigger's where() fails on %s: %s",
  the_last_one = "the last one", it = "it",
  no_reason = "the store does not say why (an earlier version with another trigger?)",
  reasons = {}, states = {}, -- (English shows the codes as records and drip records print them)
}

local fa = {
  no_contact = "مخاطب '%s' نیست%s", did_you_mean = "؛ منظورتان %s بود؟", its = " (%s آن)", email = "ایمیل",
  phone = "تلفن",
  first_seen = "%s — اولین بار دیده‌شده %s",
  traits = "  ویژگی‌ها   ", consent = "  رضایت    %s (سیاست %s)", topics = "  موضوع‌ها  لغو اشتراک از %s",
  control = "  کنترل    در گروه کنترل سراسری (global_control = %s%%): هیچ پیام بازاریابی به آن نمی‌رود، "
    .. "تا اثر سفرها سنجیده شود",
  segments = "  بخش‌ها    %s (بر پایهٔ %s)", segments_none = "هیچ", segments_unknown = "  بخش‌ها    نامعلوم: %s",
  pruned = "  هرس‌شده   نمونه‌های پایان‌یافته و رویدادهای پیش از %s (drip prune) نشان داده نمی‌شوند",
  event = "  رویداد    %s %s", in_no_journey = "هنوز در هیچ سفری نیست",
  channel_ok = "درست", no_address = "بی نشانی", ["and"] = " و ",
  instance = "%s #%d (نسخهٔ %s) — %s", active = "فعال", ended = "پایان‌یافته %s: %s",
  waiting = "  اکنون: در انتظار %s%s", waiting_for = "برای %s", waiting_timer = "با زمان‌سنج", ["until"] = " تا %s",
  entered_on = "ورود با %s",
  sent_to = "%s به %s%s%s — %s", not_sent = "%s فرستاده نشد: %s",
  held = "%s به %s نگه داشته شد، چون سفر متوقف بود — %s",
  deferred = "%s به تعویق افتاد (%s) تا %s — %s",
  variant = "انشعاب %s: گونهٔ %s",
  converted = "تبدیل شد", converted_on = " با %s", worth = " به ارزش %s",
  converted_late = " (پس از پایان، در بازهٔ هدفش)",
  exit = "خروج: %s%s", log = "گزارش: %s",
  wait_timed_out = "%s %s: زمانش سر آمد", wait_came = "%s %s: رسید", wait_time = "%s: زمانش رسید",
  http = " (HTTP %d)", smtp = " (SMTP %d)", since_queued = " (پس از قرار گرفتن در صف)",
  told_later = " (%s بعداً خبر داد%s)", next_try = "، تلاش بعدی %s", opened = "، باز شد %s", clicked = "، کلیک شد %s",
  scanned_open = "، برنامه‌ای تصویرش را در %s گرفت (%s؛ باز شدن شمرده نشد)",
  scanned_click = "، برنامه‌ای پیوندی را در %s دنبال کرد (%s؛ کلیک شمرده نشد)",
  pause_held = " (سفر متوقف بود)", pause_released = " (با ادامهٔ سفر فرستاده شد)",
  pause_dropped = " (با ادامهٔ سفر کنار گذاشته شد)",
  pause_goal = " (با ادامهٔ سفر کنار گذاشته شد: مخاطب به هدفش رسیده بود)",
  pause_exit_event = " (با ادامهٔ سفر کنار گذاشته شد: مخاطب رویداد خروجش را فرستاده بود)",
  lookalike = function(name, n) return string.format(" (%d بار '%s' داشته است؛ نام‌ها باید دقیقاً یکی باشند)",
    n, name) end,
  starts_on_none = "با رویداد '%s' شروع می‌شود، و %s هیچ‌یک را نداشته است%s",
  starts_on = function(event, id, n, last) return string.format(
    "با رویداد '%s' شروع می‌شود؛ %s آن را %d بار داشته است، آخرین بار در %s", event, id, n, last) end,
  paused_then = "سفر در آن زمان متوقف بود (از %s تا %s)",
  paused_now = "سفر متوقف است (از %s؛ drip resume دوباره راهش می‌اندازد)",
  imported = "رویدادهایی که drip import بارگذاری می‌کند هیچ سفری را شروع نمی‌کنند",
  last_paused = "آخرین آن‌ها وقتی آمد که سفر متوقف بود (از %s تا %s)", a_function = "(یک تابع)",
  starts_inactive = "پس از %s بی رویداد شروع می‌شود؛ آخرین فعالیت %s در %s بود", never = "هرگز",
  every_contact = "همهٔ مخاطبان",
  unknown_segment = "بخش %s (در segments.lua که drip اینجا می‌خواند تعریف نشده)",
  segment_now_in = "بخش %s، که %s اکنون در آن است", segment_now_out = "بخش %s، که %s اکنون در آن نیست",
  starts_schedule = 'با زمان‌بندی "%s" برای %s شروع می‌شود', starts_segment = "وقتی مخاطبی وارد %s شود شروع می‌شود",
  rollout_in = "گسترش آن %s%% است، و جای %s در آن %.2f%% است (درون)",
  rollout_out = "گسترش آن %s%% است، و جای %s در آن %.2f%% است (بیرون)",
  unstarted = "رویدادهای %s که هیچ نمونه‌ای از %s را شروع نکردند%s:", unstarted_latest = " (%d تای آخر)",
  never_entered = "هرگز وارد %s نشد",
  before_loaded = "پیش از نخستین بارگذاری سفر آمد (%s)",
  still_running = "#%d هنوز در جریان بود (ورود %s)، و هر مخاطب در یک زمان در یک نمونه است (reentry داده نشده)",
  entered_once = "#%d در %s وارد شد، و reentry = false مخاطب را یک بار راه می‌دهد",
  entered_after = '#%d در %s وارد شد، و reentry = "%s" از %s دوباره راه می‌دهد',
  where_true = "where() ماشهٔ آن برای %s با ویژگی‌های امروز درست است (شاید از آن زمان تغییر کرده باشند)",
  where_false = "where() ماشهٔ آن برای %s نادرست است، پس شروع نشد",
  where_fails = "where() ماشهٔ آن روی %s شکست می‌خورد: %s",
  the_last_one = "آخرین آن‌ها", it = "آن",
  no_reason = "انبار نمی‌گوید چرا (نسخه‌ای قدیمی‌تر با ماشه‌ای دیگر؟)",
  reasons = {
    no_consent = "بی رضایت", no_address = "بی نشانی", unsubscribed = "لغو اشتراک", topic_unsubscribed = "لغو اشتراک موضوع",
    frequency_cap = "سقف تعداد ارسال", quiet_hours = "ساعت سکوت", global_control = "گروه کنترل سراسری",
    paused = "توقف", retry = "تلاش دوباره", bounced = "برگشت خورده", complained = "شکایت کرده",
    completed = "به پایان رسید", goal = "هدف", exit = "خروج", exit_event = "رویداد خروج", expired = "زمانش سر آمد",
    error = "خطا",
  },
  states = {
    queued = "در صف", sending = "در حال ارسال", sent = "فرستاده شد", delivered = "تحویل شد", failed = "ناموفق",
    suppressed = "فرستاده نشد", deferred = "به تعویق افتاد", held = "نگه داشته شد", bounced = "برگشت خورد",
    complained = "شکایت شد", simulated = "شبیه‌سازی شد",
  },
}

-- Russian plurals: 1 раз, 2 раза, 5 раз (one, few, many)
local function ru_times(n)
  local m10, m100 = n % 10, n % 100
  if m10 == 1 and m100 ~= 11 then return "раз" end
  if m10 >= 2 and m10 <= 4 and (m100 < 12 or m100 > 14) then return "раза" end
  return "раз"
end

local ru = {
  no_contact = "нет контакта '%s'%s", did_you_mean = "; может быть, %s?", its = " (его %s)", email = "e-mail",
  phone = "телефон",
  first_seen = "%s — впервые замечен %s",
  traits = "  атрибуты  ", consent = "  согласие  %s (политика %s)", topics = "  темы      отписан от %s",
  control = "  контроль  в глобальной контрольной группе (global_control = %s%%): маркетинговые сообщения ей не "
    .. "отправляются, чтобы измерить эффект сценариев",
  segments = "  сегменты  %s (по %s)", segments_none = "нет", segments_unknown = "  сегменты  неизвестны: %s",
  pruned = "  очищено   завершённые экземпляры и события до %s (drip prune) не показаны",
  event = "  событие   %s %s", in_no_journey = "пока ни в одном сценарии",
  channel_ok = "можно", no_address = "нет адреса", ["and"] = " и ",
  instance = "%s #%d (версия %s) — %s", active = "активен", ended = "завершён %s: %s",
  waiting = "  сейчас: ждёт %s%s", waiting_for = "%s", waiting_timer = "таймер", ["until"] = " до %s",
  entered_on = "вошёл по %s",
  sent_to = "%s на %s%s%s — %s", not_sent = "%s не отправлено: %s",
  held = "%s на %s задержано, так как сценарий был на паузе — %s",
  deferred = "%s отложено (%s) до %s — %s",
  variant = "сплит %s: вариант %s",
  converted = "конверсия", converted_on = " по %s", worth = " на сумму %s",
  converted_late = " (после завершения, в окне цели)",
  exit = "выход: %s%s", log = "лог: %s",
  wait_timed_out = "%s %s: время вышло", wait_came = "%s %s: пришло", wait_time = "%s: время пришло",
  http = " (HTTP %d)", smtp = " (SMTP %d)", since_queued = " (после постановки в очередь)",
  told_later = " (%s сообщил позже%s)", next_try = ", следующая попытка %s", opened = ", открыто %s",
  clicked = ", клик %s",
  scanned_open = ", программа загрузила его картинку %s (%s; не засчитано как открытие)",
  scanned_click = ", программа перешла по ссылке %s (%s; не засчитано как клик)",
  pause_held = " (сценарий был на паузе)", pause_released = " (отправлено, когда сценарий продолжился)",
  pause_dropped = " (отброшено, когда сценарий продолжился)",
  pause_goal = " (отброшено, когда сценарий продолжился: контакт достиг цели)",
  pause_exit_event = " (отброшено, когда сценарий продолжился: контакт прислал событие выхода)",
  lookalike = function(name, n) return string.format(" (у него было '%s' %d %s; имена должны совпадать точно)",
    name, n, ru_times(n)) end,
  starts_on_none = "начинается с события '%s', а у %s таких не было%s",
  starts_on = function(event, id, n, last) return string.format(
    "начинается с события '%s'; у %s оно было %d %s, последнее в %s", event, id, n, ru_times(n), last) end,
  paused_then = "сценарий тогда был на паузе (с %s до %s)",
  paused_now = "сценарий на паузе (с %s; drip resume запустит его снова)",
  imported = "события, загруженные drip import, не запускают сценарии",
  last_paused = "последнее пришло, когда сценарий был на паузе (с %s до %s)", a_function = "(функция)",
  starts_inactive = "начинается после %s без событий; последняя активность %s была %s", never = "никогда",
  every_contact = "каждого контакта",
  unknown_segment = "сегмент %s (не определён в segments.lua, который drip здесь читает)",
  segment_now_in = "сегмент %s, в котором %s сейчас есть", segment_now_out = "сегмент %s, в котором %s сейчас нет",
  starts_schedule = 'начинается по расписанию "%s" для %s', starts_segment = "начинается, когда контакт входит в %s",
  rollout_in = "его раскатка %s%%, а место %s в ней %.2f%% (внутри)",
  rollout_out = "его раскатка %s%%, а место %s в ней %.2f%% (снаружи)",
  unstarted = "события %s, не запустившие экземпляр %s%s:", unstarted_latest = " (последние %d)",
  never_entered = "никогда не входил в %s",
  before_loaded = "пришло до первой загрузки сценария (%s)",
  still_running = "#%d ещё шёл (вход %s), а контакт бывает только в одном экземпляре сразу (reentry не задан)",
  entered_once = "#%d вошёл %s, а reentry = false пускает контакт один раз",
  entered_after = '#%d вошёл %s, а reentry = "%s" пускает снова с %s',
  where_true = "where() его триггера истинно для %s с сегодняшними атрибутами (они могли измениться)",
  where_false = "where() его триггера ложно для %s, поэтому он не начался",
  where_fails = "where() его триггера выдаёт ошибку для %s: %s",
  the_last_one = "последнего", it = "него",
  no_reason = "хранилище не говорит почему (более ранняя версия с другим триггером?)",
  reasons = {
    no_consent = "нет согласия", no_address = "нет адреса", unsubscribed = "отписан",
    topic_unsubscribed = "отписан от темы", frequency_cap = "лимит частоты", quiet_hours = "тихие часы",
    global_control = "глобальная контрольная группа", paused = "пауза", retry = "повтор", bounced = "отказ",
    complained = "жалоба", completed = "дошёл до конца", goal = "цель", exit = "выход", exit_event = "событие выхода",
    expired = "время вышло", error = "ошибка",
  },
  states = {
    queued = "в очереди", sending = "отправляется", sent = "отправлено", delivered = "доставлено", failed = "ошибка",
    suppressed = "не отправлено", deferred = "отложено", held = "задержано", bounced = "отказ", complained = "жалоба",
    simulated = "смоделировано",
  },
}

explain_words.LANGUAGES = { en = en, fa = fa, ru = ru }

-- the words of `lang` (en, fa or ru; else English)
function explain_words.of(lang) return explain_words.LANGUAGES[lang] or en end

-- a stored code (a reason or a delivery state) in words W
function explain_words.reason(W, code) return code and (W.reasons[code] or code) end
function explain_words.state(W, code) return code and (W.states[code] or code) end

return explain_words
