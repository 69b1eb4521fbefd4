local helpers = require "helpers"
local json = require "drip.json"
local time = require "drip.time"

local function journey_with(body, extra)
  return 'return journey { trigger = "Go", ' .. (extra or "") .. ' steps = function(ctx)\n' .. body .. '\nend }'
end

local function start(body, opts)
  local sim = helpers.sim(journey_with(body, opts and opts.extra), opts)
  sim:identify("u1", { email = "a@x.test", phone = "+100", consent = { email = true, sms = true },
                       timezone = opts and opts.tz })
  sim:track("u1", "Go", { n = 7 })
  return sim
end

-- the field `key` of each record of `kind`, in order
local function each_record(sim, kind, key)
  local out = {}
  for i, r in ipairs(sim:records { kind = kind }) do out[i] = r[key] end
  return out
end

describe("steps", function()
  it("ctx gives the traits at entry, the trigger event and every key to pairs, and the traits anew after a wait", function()
    local sim = start([[local keys = {}
      for k in pairs(ctx) do keys[#keys + 1] = k end
      table.sort(keys)
      log("%s %s %s", table.concat(keys, ","), ctx.contact.email, ctx.event.properties.n)
      wait "1h"
      log("%s %s", ctx.contact.email, ctx.event.properties.n)]])
    sim:identify("u1", { email = "b@x.test" })
    sim:settle()
    assert.same({ "contact,event,instance,journey a@x.test 7", "b@x.test 7" }, each_record(sim, "log", "message"))
  end)

  it("ctx's contact read first after a wait is the contact's traits then", function()
    local sim = start([[wait "1h" log(ctx.contact.email) wait "1h" log(ctx.contact.first_name)]])
    sim:identify("u1", { email = "b@x.test", first_name = "Bea" })
    sim:advance "1h"
    sim:identify("u1", { first_name = "Bo" })
    sim:settle()
    assert.same({ "b@x.test", "Bo" }, each_record(sim, "log", "message"))
  end)

  it("wait accepts 90s, 15m, 2h, 3d, 1w and seconds", function()
    local sim = start([[wait "90s" log("a") wait "15m" log("b") wait "2h" log("c") wait "3d" log("d")
      wait "1w" log("e") wait(30) log("f")]])
    sim:settle()
    local at = {}
    for _, r in ipairs(sim:records { kind = "log" }) do at[#at + 1] = time.parse(r.at) - sim.start end
    assert.same({ 90, 990, 8190, 267390, 872190, 872220 }, at)
  end)

  it("wait takes Russian and Persian words as marketers write them", function()
    local sim = start([[wait "2 часа" log("ru") wait "۱ روز و ۳۰ دقیقه" log("fa")]])
    sim:settle()
    local at = {}
    for _, r in ipairs(sim:records { kind = "log" }) do at[#at + 1] = time.parse(r.at) - sim.start end
    assert.same({ 7200, 7200 + 86400 + 1800 }, at)
  end)

  it("a wait_for spec with a misspelt key is warned about, naming the key it likely means", function()
    local sim = start([[wait_for({ event = "Paid", wehre = function() return false end }, "1d") log "waited"]])
    sim:track("u1", "Paid")
    assert.equal(1, #sim:records { kind = "log" }) -- (the misspelt where is left out: any Paid ends the wait)
    assert.equal("journey 'j': wait_for: unknown key 'wehre'; did you mean 'where'? (it takes event, where); "
      .. "it is left out\n", sim.warnings)
  end)

  it("a bad duration fails the instance with a clear message", function()
    local sim = start('wait "3x"')
    assert.matches('bad duration "3x"', sim:records { kind = "exit" }[1].error)
  end)

  it("wait_until an ISO time and a clock time in the contact's zone", function()
    local sim = start([[wait_until "2026-11-03T00:00:00Z" log("iso") wait_until "09:00" log("nine")]],
      { tz = "Europe/Moscow" })
    sim:settle()
    local logs = sim:records { kind = "log" }
    assert.equal("2026-11-03T00:00:00Z", logs[1].at)
    assert.equal("2026-11-03T06:00:00Z", logs[2].at) -- 09:00 Moscow (UTC+3)
  end)

  it("wait_until a Solar Hijri date and a time in Persian digits, in the contact's zone", function()
    local sim = start([[wait_until "1406-01-01 10:00" log("nowruz") wait_until "۰۹:۳۰" log("morning")
      wait_until "1406-13-01" log("never")]], { tz = "Asia/Tehran" })
    sim:settle "200d"
    local logs = sim:records { kind = "log" }
    assert.equal("2027-03-21T06:30:00Z", logs[1].at) -- 1 Farvardin 1406, 10:00 in Tehran (UTC+3:30)
    assert.equal("2027-03-22T06:00:00Z", logs[2].at)
    assert.matches('wait_until: "1406%-13%-01": no day "1406%-13%-01" in the Solar Hijri calendar',
      sim:records { kind = "exit" }[1].error)
  end)

  it("a timezone trait written as a city is that city's zone", function()
    local sim = start([[wait_until "9am" log("nine")]], { tz = "Tehran" })
    sim:settle()
    local nine = sim:records { kind = "log" }[1]
    assert.equal(time.parse(nine.at), time.parse(nine.at:sub(1, 10) .. "T09:00:00", "Asia/Tehran"))
    assert.is_nil(sim.warnings)
  end)

  -- when a broadcast at 2026-11-05 09:00 reaches each contact (id -> timezone trait): id -> time, and the sim
  local function broadcast_times(zones)
    local sim = helpers.sim('return journey { trigger = { schedule = "2026-11-05 09:00" }, steps = function() log "hi" end }',
      { start = "2026-11-01T00:00:00Z" })
    for id, tz in pairs(zones) do sim:identify(id, { timezone = tz }) end
    sim:advance "2026-11-06T00:00:00Z"
    local at = {}
    for _, r in ipairs(sim:records { kind = "log" }) do at[r.contact] = r.at end
    return at, sim
  end

  it("a broadcast reaches a contact whose timezone trait is a city at that city's hour", function()
    local at = broadcast_times({ city = "Tehran", zone = "Asia/Tehran", moscow = "moscow" })
    assert.same({ city = "2026-11-05T05:30:00Z", zone = "2026-11-05T05:30:00Z", moscow = "2026-11-05T06:00:00Z" }, at)
  end)

  it("a timezone trait written as a fixed offset is that offset, for waits and broadcasts", function()
    local sim = start([[wait_until "09:00" log("nine")]], { tz = "+03:30" })
    sim:settle()
    assert.equal("2026-11-03T05:30:00Z", sim:records { kind = "log" }[1].at)
    assert.is_nil(sim.warnings)
    local at
    at, sim = broadcast_times({ tehran = "UTC+3:30", new_york = "GMT-5", kathmandu = "+0545" })
    assert.same({ tehran = "2026-11-05T05:30:00Z", new_york = "2026-11-05T14:00:00Z", kathmandu = "2026-11-05T03:15:00Z" }, at)
    assert.is_nil(sim.warnings)
  end)

  it("a timezone trait that is no zone is warned about once, and the default zone used", function()
    local sim = start([[wait_until "09:00" log("nine") wait_until "09:00" log("again")]], { tz = "Mars/Olympus" })
    sim:settle()
    assert.equal("09:00:00Z", sim:records { kind = "log" }[1].at:sub(12))
    assert.equal('a contact\'s timezone "Mars/Olympus" is not a time zone (such as Asia/Tehran or Europe/Moscow) or an offset (+03:30);'
      .. " its times are in UTC\n", sim.warnings)
  end)

  it("wait_until a weekday, by short or full name; a bad one fails the instance naming it", function()
    local sim = start([[wait_until { weekday = "fri", at = "10:00" } log("fri") wait_until { weekday = "Monday", at = "08:15" }
      log("mon") wait_until { weekday = "monkey", at = "09:00" }]])
    sim:settle()
    local logs = sim:records { kind = "log" }
    assert.equal("2026-11-06T10:00:00Z", logs[1].at) -- the start, 2026-11-02, is a Monday
    assert.equal("2026-11-09T08:15:00Z", logs[2].at)
    assert.matches('weekday "monkey" is not a day', sim:records { kind = "exit" }[1].error, 1, true)
  end)

  it("wait_until a weekday named in Russian or Persian", function()
    local sim = start([[wait_until { weekday = "Пятница", at = "10:00" } log("пт") wait_until { weekday = "شنبه", at = "۰۹:۰۰" }
      log("shanbe") wait_until { weekday = "سه‌شنبه", at = "08:00" } log("seshanbe")]])
    sim:settle()
    local logs = sim:records { kind = "log" }
    assert.equal("2026-11-06T10:00:00Z", logs[1].at) -- Friday
    assert.equal("2026-11-07T09:00:00Z", logs[2].at) -- Saturday, the Persian week's first day
    assert.equal("2026-11-10T08:00:00Z", logs[3].at) -- Tuesday
  end)

  it("wait_until uses the default timezone when the contact has none", function()
    local sim = start([[wait_until "09:00" log("nine")]], { timezone = "Asia/Tehran" })
    sim:settle()
    assert.equal("2026-11-03T05:30:00Z", sim:records { kind = "log" }[1].at)
  end)

  it("wait_for returns the event, with where filtering, or nil on timeout", function()
    local sim = start([[
      local e = wait_for({ event = "Paid", where = function(ev) return ev.properties.amount > 10 end }, "1d")
      log("got %s", e and e.properties.amount or "nothing")
      local t = wait_for("Never", "1h")
      log("then %s", tostring(t))]])
    sim:track("u1", "Paid", { amount = 5 })
    sim:advance "1h"
    sim:track("u1", "Paid", { amount = 50 })
    sim:settle()
    local logs = sim:records { kind = "log" }
    assert.equal("got 50", logs[1].message)
    assert.equal("then nil", logs[2].message)
  end)

  for _, kept in ipairs({ "kept in memory", "read from the store" }) do
    it("the timeout of a wait_for its event ended leaves the next wait alone (instances " .. kept .. ")", function()
      local sim = start('wait_for("Paid", "1d") log("paid") wait "3d" log("later")')
      sim:advance "2h"
      sim:track("u1", "Paid", {})
      if kept == "read from the store" then sim.store:forget_active() end
      sim:settle()
      local at = {}
      for _, r in ipairs(sim:records { kind = "log" }) do at[#at + 1] = (time.parse(r.at) - sim.start) / 3600 end
      assert.same({ 2, 2 + 72 }, at)
    end)
  end

  it("an event only a wait_for names, by a name made as the journey runs, wakes it; one no journey names is kept", function()
    local sim = start([[local e = wait_for("Profile " .. "Completed", "1d")
      log("got %s", e and e.event or "nothing")]])
    sim:track("u1", "Page Viewed", {})
    sim:track("u1", "Profile Completed", {})
    assert.is_true(sim.store.made_every_instance) -- (route is given only the names journeys act on)
    assert.same({ "got Profile Completed" }, each_record(sim, "log", "message"))
    assert.equal(1, sim.store.db:prepare("SELECT count(*) FROM events WHERE name = 'Page Viewed'"):first())
  end)

  -- `drip simulate --format jsonl` of the journeys in dir on these event lines (and args) -> its output
  local function simulate_lines(dir, lines, args)
    local path = helpers.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(table.concat(lines, "\n"), "\n")
    f:close()
    local child = assert(io.popen("build/drip simulate --journeys " .. dir .. " --events " .. path .. " --format jsonl "
      .. (args or "") .. " 2>&1"))
    local out = child:read("a")
    child:close()
    return out
  end

  it("a wait_for set by an earlier run on a store file wakes on its event in the next run", function()
    local dir = helpers.dir({ ["j.lua"] = journey_with([[local e = wait_for("Profile " .. "Completed", "1d")
      log("got %s", e and e.event or "nothing")]]) })
    local db = helpers.tmpname()
    os.remove(db)
    simulate_lines(dir, { '{"type":"track","userId":"u1","event":"Go","timestamp":"2026-11-02T09:00:00Z"}' },
                   "--db " .. db .. " --until 2026-11-02T10:00:00Z")
    local out = simulate_lines(dir,
      { '{"type":"track","userId":"u1","event":"Profile Completed","timestamp":"2026-11-02T11:00:00Z"}' }, "--db " .. db)
    assert.matches('"message":"got Profile Completed"', out, 1, true)
  end)

  it("ctx.event is the trigger event of a file's line, whole, when first read after a wait, and keeps a change", function()
    local dir = helpers.dir({ ["j.lua"] = journey_with([[wait "1h"
      ctx.event.properties.seen = (ctx.event.properties.seen or 0) + 1
      wait "1h"
      log("%s %s %s %s", ctx.event.properties.city, ctx.event.messageId, ctx.event.properties.seen, ctx.event.timestamp)]]) })
    local out = simulate_lines(dir, { '{"type":"track","userId":"u1","event":"Go","properties":{"city":"شیراز"},'
      .. '"timestamp":"2026-11-02T09:00:00Z","messageId":"m-1"}' })
    assert.matches('"message":"شیراز m-1 1 2026-11-02T09:00:00Z"', out, 1, true)
  end)

  it("goal and exit_on end an instance waiting inside wait_for", function()
    local sim = start('wait_for("Never") email { text = "x" }', { extra = 'goal = "Bought", exit_on = "Stop",' })
    sim:track("u1", "Bought", { revenue = 12.5 })
    local c = sim:records { kind = "convert" }[1]
    assert.same({ "Bought", 12.5 }, { c.event, c.value })
    assert.equal("goal", sim:records { kind = "exit" }[1].reason)
  end)

  it("happened looks back since entry or a duration", function()
    local sim = start([[wait "2h" local a = happened("Viewed", "entry") local b = happened("Viewed", "30m")
      log("%s %s", a and a.properties.p or "-", b and b.properties.p or "-")]])
    sim:track("u1", "Viewed", { p = "first" })
    sim:advance "1h"
    sim:track("u1", "Viewed", { p = "second" })
    sim:settle()
    assert.equal("second -", sim:records { kind = "log" }[1].message)
  end)

  it("send returns queued or suppressed with a reason; fallback picks the first allowed channel", function()
    local sim = start([[
      local a = push { title = "x" }
      local b = send { channels = { "push", "sms", "email" }, text = "hi" }
      local c = telegram { text = "x" }
      log("%s/%s %s/%s %s", a.status, a.reason, b.status, b.channel, c.reason)]])
    assert.equal("suppressed/no_address queued/sms no_address", sim:records { kind = "log" }[1].message)
    assert.equal("+100", sim:sent()[1].to)
  end)

  it("unsubscribed contacts get no marketing but do get transactional mail", function()
    local sim = helpers.sim(journey_with([[email { text = "promo" } email { text = "receipt", kind = "transactional" }]]))
    sim:identify("u1", { email = "a@x.test", consent = { email = true }, unsubscribed = { email = true } })
    sim:track("u1", "Go")
    assert.equal("unsubscribed", sim:records { kind = "suppress" }[1].reason)
    assert.equal("receipt", sim:sent()[1].message.text)
  end)

  it("opt-out consent sends unless consent is false", function()
    local sim = helpers.sim(journey_with([[email { text = "promo" }]]), { consent = "opt-out" })
    sim:identify("u1", { email = "a@x.test" })
    sim:track("u1", "Go")
    sim:identify("u2", { email = "b@x.test", consent = { email = false } })
    sim:track("u2", "Go")
    assert.equal(1, #sim:sent())
    assert.equal("no_consent", sim:records { kind = "suppress" }[1].reason)
  end)

  it("set merges traits that later templates see; track emits an event other journeys see", function()
    local other = 'return journey { name = "other", trigger = "Pinged", steps = function(ctx) '
      .. 'sms { text = "points {{contact.points}} via {{event.properties.via}}" } end }'
    local sim = helpers.sim(journey_with([[set { points = 10 } email { text = "{{contact.points}}" }
      track("Pinged", { via = "j" })]]), { files = { ["other.lua"] = other } })
    sim:identify("u1", { email = "a@x.test", phone = "+1", consent = { email = true, sms = true } })
    sim:track("u1", "Go")
    assert.equal("10", sim:sent { channel = "email" }[1].message.text)
    assert.equal("points 10 via j", sim:sent { channel = "sms" }[1].message.text)
  end)

  it("a journey may be named in Persian or Russian, not with spaces", function()
    local sim = helpers.sim('return journey { name = "приветствие", trigger = "Go", steps = function() end }',
      { files = { ["fa.lua"] = 'return journey { name = "خوش_آمد", trigger = "Go", steps = function() end }' } })
    sim:track("u1", "Go")
    local names = {}
    for _, r in ipairs(sim:records { kind = "enter" }) do names[#names + 1] = r.journey end
    table.sort(names)
    assert.same({ "приветствие", "خوش_آمد" }, names)
    local ok, err = pcall(helpers.sim, 'return journey { name = "a b", trigger = "Go", steps = function() end }')
    assert.is_false(ok)
    assert.matches("name must be letters (in any script), digits, _ - or ., without spaces", err, 1, true)
  end)

  it("a track() loop is cut off with a warning, and the run goes on", function()
    local sim = helpers.sim('return journey { trigger = "Ping", steps = function(ctx) track("Ping") end }')
    sim:track("u1", "Ping")
    assert.matches("more than 10000 events emitted by journeys in one step", sim.warnings, 1, true)
    assert.equal(10001, #sim:records { kind = "enter" })
    sim:track("u2", "Other")
    assert.equal(10001, #sim:records { kind = "exit", reason = "completed" })
  end)

  it("convert counts revenue, exit ends with a reason, now and in_segment work", function()
    local sim = start([[log("%d", now()) convert(42) if in_segment("has_phone") then exit("done early") end
      email { text = "never" }]], { files = { ["segments.lua"] = 'return { has_phone = function(c) return c.phone ~= nil end }' } })
    assert.equal(tostring(sim.start), sim:records { kind = "log" }[1].message)
    assert.equal(42, sim:records { kind = "convert" }[1].value)
    local exit = sim:records { kind = "exit" }[1]
    assert.same({ "exit", "done early" }, { exit.reason, exit.detail })
    assert.equal(0, #sim:sent())
  end)

  it("steps before the first wait find the new instance; its row is written whole, with that wait", function()
    local sim = start([[set { tier = "gold" } convert(10) email { text = "hi" } wait "1h" sms { text = "later" }]])
    sim:identify("u2", { email = "b@x.test", phone = "+200", consent = { email = true, sms = true } })
    sim:track("u2", "Go")
    assert.equal(0, sim.store.db:prepare("SELECT count(*) FROM instances"):first()) -- (kept until the commit)
    sim.store:write_instances()
    local rows = sim.store.db:prepare("SELECT id, contact, active, converted, value, wait_seq FROM instances ORDER BY id"):all()
    assert.same({ { 1, "u1", 1, 1, 10, 4 }, { 2, "u2", 1, 1, 10, 4 } }, rows)
    assert.equal(2, #sim:sent { channel = "email" })
    sim:advance("1h")
    assert.equal(2, #sim:sent { channel = "sms" })
    assert.equal(2, #sim:records { kind = "exit", reason = "completed" })
    sim.store:write_counts()
    local counted = sim.store.db:prepare("SELECT metric, sum(n) FROM counters WHERE metric IN ('entered', 'converted') "
      .. "GROUP BY metric ORDER BY metric"):all()
    assert.same({ { "converted", 2 }, { "entered", 2 } }, counted)
  end)

  it("a rolled-back start leaves no row and its id to the next instance", function()
    local sim = start([[wait "1h"]])
    sim.store:savepoint()
    sim:identify("u2", {})
    sim:track("u2", "Go")
    sim.store:rollback_to()
    sim:identify("u3", {})
    sim:track("u3", "Go")
    sim.store:write_instances()
    local rows = sim.store.db:prepare("SELECT id, contact FROM instances ORDER BY id"):all()
    assert.same({ { 1, "u1" }, { 2, "u3" } }, rows)
  end)

  it("split is deterministic per contact and reported as a variant record", function()
    local sim = start([[local v = split("s", { A = 1, B = 0 }) log(v)]])
    assert.equal("A", sim:records { kind = "log" }[1].message)
    assert.same({ "s", "A" }, { sim:records { kind = "variant" }[1].split, sim:records { kind = "variant" }[1].variant })
  end)

  it("log formats as string.format, joins values after a text with no %, shows tables as JSON, and never fails", function()
    local sim = start([[log("%d items, %s", 3, "ok") log("total", 42, nil, true) log("props: %s", { b = 1, a = { 2 } })
      log("%d", "x") log("a %s", function() end) log("done")]])
    local logs = sim:records { kind = "log" }
    local messages = {}
    for i, r in ipairs(logs) do messages[i] = r.message end
    assert.same({ "3 items, ok", "total 42 nil true", 'props: {"a":[2],"b":1}',
      "%d (log: bad argument #2 to 'string.format' (number expected, got string))", "a function", "done" }, messages)
    assert.equal("completed", sim:records { kind = "exit" }[1].reason)
  end)

  it("templates: default filter, missing values, files under templates/", function()
    local sim = start([[email { subject = "Hi {{contact.first_name | default \"there\"}}{{contact.nope}}", template = "t" }]],
      { files = { ["templates/t.txt"] = "Order {{event.properties.n}}" } })
    local m = sim:sent()[1].message
    assert.same({ "Hi there", "Order 7" }, { m.subject, m.text })
  end)

  it("a template comes in the contact's language, whole, else the default", function()
    local sim = helpers.sim(journey_with('email { template = "promo" }'), { files = {
      ["templates/promo.txt"] = "Hello {{contact.first_name}}", ["templates/promo.html"] = "<p>Hello</p>",
      ["templates/promo.subject"] = "Hello\n", ["templates/promo.fa.txt"] = "سلام {{contact.first_name}}",
      ["templates/promo.fa.subject"] = " سلام\r\n", ["templates/promo.ru.txt"] = "Привет, {{contact.first_name}}",
      ["templates/promo.pt-BR.txt"] = "Olá, você", ["templates/promo.pt.txt"] = "Olá, tu" } })
    -- (a .subject file is one line, without the line end an editor leaves)
    local languages = { a = { language = "fa-IR" }, b = { locale = "ru_RU" }, c = { language = "Persian" },
                        d = { language = "de" }, e = {}, f = { locale = "pt-br" }, g = { language = "pt-PT" } }
    for id, traits in pairs(languages) do
      traits.email, traits.first_name, traits.consent = id .. "@x.test", "N" .. id, { email = true }
      sim:identify(id, traits)
      sim:track(id, "Go")
    end
    local got = {}
    for _, m in ipairs(sim:sent()) do got[m.contact] = m.message end
    assert.same({ subject = "سلام", text = "سلام Na" }, got.a) -- no English html beside the Persian text
    assert.same({ text = "Привет, Nb" }, got.b)
    assert.same({ subject = "سلام", text = "سلام Nc" }, got.c)
    assert.same({ subject = "Hello", text = "Hello Nd", html = "<p>Hello</p>" }, got.d)
    assert.same({ subject = "Hello", text = "Hello Ne", html = "<p>Hello</p>" }, got.e)
    assert.same({ text = "Olá, você" }, got.f)
    assert.same({ text = "Olá, tu" }, got.g)
  end)

  it("a push template's title comes from NAME.title, one line, in the contact's language", function()
    local sim = helpers.sim(journey_with('push { template = "back" }'), { files = {
      ["templates/back.txt"] = "Your cart misses you\n", ["templates/back.title"] = "Come back\n",
      ["templates/back.ru.txt"] = "Корзина ждёт\n", ["templates/back.ru.title"] = "Вернитесь\n" } })
    for id, lang in pairs({ a = "en", b = "ru" }) do
      sim:identify(id, { push_token = "t-" .. id, language = lang, consent = { push = true } })
      sim:track(id, "Go")
    end
    local got = {}
    for _, m in ipairs(sim:sent { channel = "push" }) do got[m.contact] = m.message end
    assert.same({ title = "Come back", text = "Your cart misses you\n" }, got.a)
    assert.same({ title = "Вернитесь", text = "Корзина ждёт\n" }, got.b)
  end)

  it("a template only in some languages fails a contact in another, naming the versions there are", function()
    local sim = start([[email { template = "promo" }]], { files = { ["templates/promo.fa.txt"] = "سلام",
      ["templates/promo.ru.html"] = "<p>Привет</p>" } })
    local err = sim:records { kind = "exit" }[1].error
    assert.matches("^template 'promo' has no version for this contact's language and none for the rest %(/.-"
      .. "/templates/promo%.txt or %.html%): there are only promo%.fa, promo%.ru$", err)
  end)

  it("a template name with a typo fails the instance, naming the template it resembles", function()
    local sim = start([[email { template = "ordr" }]], { files = { ["templates/order.txt"] = "Order {{event.properties.n}}" } })
    assert.matches("template 'ordr' not found (looked for ", sim:records { kind = "exit" }[1].error, 1, true)
    assert.matches(" (did you mean 'order'?)", sim:records { kind = "exit" }[1].error, 1, true)
  end)

  it("reentry = false lets a contact in once; timeout expires an instance", function()
    local sim = start('wait "10d"', { extra = 'reentry = false, timeout = "2d",' })
    sim:settle()
    sim:track("u1", "Go")
    assert.equal(1, #sim:records { kind = "enter" })
    assert.equal("expired", sim:records { kind = "exit" }[1].reason)
    assert.equal(time.iso(sim.start + 2 * 86400), sim:records { kind = "exit" }[1].at)
  end)

  it("a trigger's and an exit_on's where see the event and the contact's traits", function()
    local sim = helpers.sim([[return journey {
      trigger = { event = "Go", where = function(e, c) return c.plan == "pro" and e.properties.n == 1 end },
      exit_on = { { event = "Stop", where = function(e, c) return c.plan == e.properties.plan end } },
      steps = function(ctx) wait "1d" log("stayed") end }]])
    sim:identify("pro", { plan = "pro" })
    sim:identify("free", { plan = "free" })
    sim:track("pro", "Go", { n = 2 })
    sim:track("free", "Go", { n = 1 })
    sim:track("nobody", "Go", { n = 1 }) -- a contact this event makes has no traits
    assert.equal(0, #sim:records { kind = "enter" })
    sim:track("pro", "Go", { n = 1 })
    sim:track("pro", "Stop", { plan = "free" })
    assert.equal(0, #sim:records { kind = "exit" })
    sim:track("pro", "Stop", { plan = "pro" })
    assert.equal("exit_event", sim:records { kind = "exit" }[1].reason)
  end)

  it("an event sent without properties (or with null) gives journeys an empty properties table", function()
    local sim = helpers.sim([[return journey {
      trigger = { event = "Go", where = function(e) return e.properties.plan == nil end },
      steps = function(ctx)
        log("plan %s", tostring(ctx.event.properties.plan))
        track "Pinged"
        local e = wait_for({ event = "Pinged", where = function(ev) return ev.properties.n == nil end }, "1h")
        log("pinged %s", e and tostring(e.properties.n) or "timed out")
      end }]])
    sim:event { type = "track", userId = "u1", event = "Go" }
    sim:event { type = "track", userId = "u2", event = "Go", properties = json.null }
    sim:settle()
    local logs = sim:records { kind = "log" }
    assert.same({ "plan nil", "pinged nil", "plan nil", "pinged nil" },
      { logs[1].message, logs[2].message, logs[3].message, logs[4].message })
    assert.equal(0, #sim:records { kind = "exit", reason = "error" })
  end)

  it("reentry by duration counts from the last entry, while that instance still runs", function()
    local sim = start('wait "10d"', { extra = 'reentry = "1h",' })
    sim:advance "59m"
    sim:track("u1", "Go")
    assert.equal(1, #sim:records { kind = "enter" })
    sim:advance "1m"
    sim:track("u1", "Go")
    assert.equal(2, #sim:records { kind = "enter" })
    sim:advance "30m"
    sim:track("u1", "Go") -- 30 minutes after the second entry, though 90 after the first
    assert.equal(2, #sim:records { kind = "enter" })
  end)

  it("reentry = false keeps a contact out while its instance still runs", function()
    local sim = start('wait "10d"', { extra = 'reentry = false,' })
    sim:advance "2d"
    sim:track("u1", "Go")
    sim:track("u1", "Go")
    assert.equal(1, #sim:records { kind = "enter" })
  end)

  it("an event that ends a running instance and triggers its journey starts it again (the default reentry)", function()
    local sim = start('wait "10d"', { extra = 'exit_on = { "Go" },' })
    sim:track("u1", "Go") -- (ends the first, by exit_on, and so may start the second)
    assert.equal(2, #sim:records { kind = "enter" })
    assert.same({ "exit_event" }, each_record(sim, "exit", "reason"))
  end)

  it("an event that triggers a journey while its instance still runs starts nothing (the default reentry)", function()
    local sim = start('wait "10d"')
    sim:advance "1h"
    sim:track("u1", "Go")
    assert.equal(1, #sim:records { kind = "enter" })
  end)

  it("a running instance stays on the script version it entered with", function()
    local sim, dir = helpers.sim(journey_with('wait "1h" email { text = "v1" }'))
    sim:identify("u1", { email = "a@x.test", consent = { email = true } })
    sim:track("u1", "Go")
    -- a new engine over the same store loads a changed script; the old instance replays v1
    local Engine = require "drip.engine"
    local f = assert(io.open(dir .. "/j.lua", "w"))
    f:write(journey_with('email { text = "v2" }'))
    f:close()
    local engine = Engine.new { store = sim.store, sink = function(r) sim.log[#sim.log + 1] = r end }
    engine.now = sim.engine.now
    assert.same({}, engine:load_journeys({ dir .. "/j.lua" }))
    sim.engine = engine
    sim:identify("u2", { email = "b@x.test", consent = { email = true } })
    sim:track("u2", "Go")
    sim:settle()
    assert.equal("v2", sim:sent { contact = "u2" }[1].message.text)
    assert.equal("v1", sim:sent { contact = "u1" }[1].message.text)
  end)
end)

describe("a where that fails with a different message each time", function()
  it("is warned about once per message, and what was warned is not kept without bound", function()
    local sim = helpers.sim([[return journey {
      trigger = { event = "Go", where = function(e) error("no price for item " .. e.properties.n) end },
      steps = function() end }]])
    local warned = 0
    sim.engine.warn = function(msg)
      warned = warned + 1
      assert.matches("no price for item", msg)
    end
    local function grow(from)
      collectgarbage("collect")
      local before = collectgarbage("count")
      for n = from, from + 19999 do sim:track("u1", "Go", { n = n }) end
      collectgarbage("collect")
      return collectgarbage("count") - before
    end
    grow(0)
    assert.is_true(grow(100000) < 1024, "20,000 more messages kept more than 1 MiB")
    assert.equal(40000, warned)
    assert.equal(0, #sim:records { kind = "enter" })
  end)
end)

describe("a message's fields", function()
  local function run(body)
    local sim = helpers.sim("return journey { trigger = 'Go', steps = function(ctx) " .. body .. " end }",
      { files = { ["templates/hello.txt"] = "Hello {{contact.first_name}}" } })
    sim:identify("u1", { email = "u1@x.test", phone = "+15550001", first_name = "Ava",
                         consent = { email = true, sms = true } })
    sim:track("u1", "Go")
    sim:settle()
    return sim
  end

  it("an SMS with no text fails the instance instead of sending an empty message", function()
    local sim = run('sms { txt = "Your code is 1234" }')
    assert.same({}, sim:sent {})
    assert.equal("sms: the message has no text or body", sim:records { kind = "exit" }[1].error)
  end)

  it("a field no channel of the send uses is warned about once, naming the field it resembles", function()
    local sim = run('email { subjet = "Welcome", text = "Hi" } email { subjet = "Again", text = "Hi" }')
    assert.equal(2, #sim:sent { channel = "email" })
    assert.equal("journey 'j': email: no field 'subjet' (did you mean 'subject'?)\n", sim.warnings)
  end)

  it("a field too unlike any known one is warned about without a guess, and the message still goes", function()
    local sim = run('email { subj = "Welcome", text = "Hi" }') -- three edits from 'subject': no guess
    assert.equal(1, #sim:sent { channel = "email" })
    assert.equal("journey 'j': email: no field 'subj'\n", sim.warnings)
  end)

  it("a webhook takes any field, and a template gives the content", function()
    local sim = run('webhook { order = 7, items = { "a" } } sms { template = "hello" }')
    assert.is_nil(sim.warnings)
    assert.equal("Hello Ava", sim:sent { channel = "sms" }[1].message.text)
    assert.equal(7, sim:sent { channel = "webhook" }[1].message.order)
  end)
end)
