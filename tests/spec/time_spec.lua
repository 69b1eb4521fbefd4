-- Reading timestamps: the usual UTC form is read in C (host.utc_time, and
-- host.line_time when an events file is ordered); every other form by
-- drip.time in Lua. Both must agree on every date.
local time = require "drip.time"
local events = require "drip.events"
local helpers = require "helpers"

local rand = helpers.random(11)

describe("time.parse", function()
  it("reads the usual UTC form as the offset form of the same moment, on random dates 1970-2199", function()
    for _ = 1, 3000 do
      local y, m, d = 1970 + rand(230), 1 + rand(12), 1 + rand(28)
      local H, M, S = rand(24), rand(60), rand(61)
      local usual = string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, H, M, S)
      local offset = usual:sub(1, 19) .. "+00:00" -- not the usual form: parsed in Lua
      assert.equal(time.parse(offset), time.parse(usual), usual)
      if S < 60 then assert.equal(usual, time.iso(time.parse(usual))) end
    end
  end)

  it("writes times in C (host.utc_iso) that the Lua reader reads back, on random seconds of the years 0 to 9999", function()
    local host = require "drip_host"
    local first, last = -62167219200, 253402300799
    local samples = { first, last, -1, 0, 951782400 - 1, 951782400, 1709164800 + 86399 }
    for _ = 1, 3000 do samples[#samples + 1] = first + rand(last - first + 1) end
    for _, t in ipairs(samples) do
      local iso = time.iso(t)
      assert.equal(iso, host.utc_iso(t))
      assert.equal(t, time.parse(iso:sub(1, 19) .. "+00:00"), iso) -- (the offset form is read in Lua)
    end
    assert.equal("2000-02-29T23:59:59Z", time.iso(951868799))
    assert.is_nil(host.utc_iso(last + 1))
    assert.equal("10000-01-01T00:00:00Z", time.iso(last + 1)) -- (in Lua)
  end)

  it("reads leap days and the ends of months and years", function()
    assert.equal(1709164800, time.parse("2024-02-29T00:00:00Z"))
    assert.equal(1767225599, time.parse("2025-12-31T23:59:59Z"))
    assert.equal(0, time.parse("1970-01-01T00:00:00Z"))
    assert.equal(time.parse("2026-11-01T10:00:00Z"), time.parse("2026-11-01T09:59:60Z")) -- a leap second
  end)

  it("refuses a usual-looking time out of range, with the reason", function()
    for _, bad in ipairs { "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-32T00:00:00Z",
                           "2026-11-01T24:00:00Z", "2026-11-01T10:60:00Z", "2026-11-01T10:00:61Z" } do
      local t, err = time.parse(bad)
      assert.is_nil(t, bad)
      assert.matches("out of range", err, 1, true)
    end
    assert.is_nil(time.parse("2026-11-01T10:00:0xZ"))
    assert.is_nil(time.parse("2026-11-01X10:00:00Z"))
  end)
end)

describe("an events file", function()
  local function write(lines)
    local path = helpers.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(table.concat(lines, "\n"), "\n")
    f:close()
    return path
  end

  -- read a file of `lines` -> the events' names in the order read, the errors, whether it was in order
  local function read(lines)
    local path = write(lines)
    local errors, order = {}, {}
    local index = assert(events.scan(path, function(msg) errors[#errors + 1] = msg end, 0))
    for ev in events.each(index) do order[#order + 1] = ev.event end
    os.remove(path)
    return order, errors, index.sorted
  end

  it("is ordered by time whatever form each timestamp has", function()
    local order, errors, sorted = read {
      '{"type":"track","userId":"a","event":"E3","timestamp":"2026-11-01T12:00:00+03:30"}', -- 08:30Z
      '{"type":"track","userId":"a","event":"E1","timestamp":"2026-11-01T08:00:00Z"}',
      '{"type":"track","userId":"a","event":"E4","timestamp":"2026-11-01T09:00:00Z"}',
      '{"type":"track","userId":"a","event":"E2","timestamp":"2026-11-01T08:15:00.250Z"}',
    }
    assert.is_false(sorted)
    assert.same({ "E1", "E2", "E3", "E4" }, order)
    assert.same({}, errors)
  end)

  it("in time order is streamed, with comments and blank lines skipped and a broken line reported once", function()
    local order, errors, sorted = read {
      "# a month of events",
      "",
      '{"type":"track","userId":"a","event":"E1","timestamp":"2026-11-01T08:00:00Z"}',
      '{"type":"track","userId":"a","event":"Broken","timestamp":"2026-11-01T08:30:00Z"',
      "   ",
      '{"type":"track","userId":"a","event":"E2","timestamp":"2026-11-01T09:00:00Z"}',
    }
    assert.is_true(sorted)
    assert.same({ "E1", "E2" }, order)
    assert.equal(1, #errors)
    assert.matches(":4: bad JSON", errors[1], 1, true)
  end)

  it("in time order reports its bad lines in line order, with or without a time", function()
    local _, errors, sorted = read {
      '{"type":"track","userId":"a","event":"E1","timestamp":"2026-11-01T08:00:00Z"}',
      '{"type":"track","userId":"a","event":"E2","timestamp":"2026-11-01T09:00:00Z","properties":7}',
      "{not json",
      '{"type":"track","event":"E3","timestamp":"2026-11-01T10:00:00Z"}',
    }
    assert.is_true(sorted)
    assert.equal(3, #errors)
    assert.matches(":2: field 'properties'", errors[1], 1, true)
    assert.matches(":3: bad JSON", errors[2], 1, true)
    assert.matches(":4: field 'userId'", errors[3], 1, true)
  end)

  it("may start with a UTF-8 byte order mark and end its lines with CRLF", function()
    local order, errors, sorted = read {
      '\239\187\191{"type":"track","userId":"a","event":"E1","timestamp":"2026-11-01T08:00:00Z"}\r',
      '{"type":"track","userId":"a","event":"E2","timestamp":"2026-11-01T09:00:00Z"}\r',
    }
    assert.is_true(sorted)
    assert.same({ "E1", "E2" }, order)
    assert.same({}, errors)
  end)

  it("with an event before the clock is not taken as in order", function()
    local path = write {
      '{"type":"track","userId":"a","event":"E1","timestamp":"2026-11-01T08:00:00Z"}',
      '{"type":"track","userId":"a","event":"E2","timestamp":"2026-11-01T09:00:00Z"}',
    }
    assert.is_true(assert(events.scan(path, error, 0)).sorted)
    assert.is_false(assert(events.scan(path, error, time.parse("2026-11-01T08:30:00Z"))).sorted)
    os.remove(path)
  end)

  it("reports a bad timestamp with its line and keeps the rest, in order", function()
    local order, errors = read {
      '{"type":"track","userId":"a","event":"E1","timestamp":"2026-11-01T08:00:00Z"}',
      '{"type":"track","userId":"a","event":"Bad","timestamp":"2026-11-01T25:00:00Z"}',
      '{"type":"track","userId":"a","event":"E2","timestamp":"2026-11-01T09:00:00Z"}',
    }
    assert.same({ "E1", "E2" }, order)
    assert.equal(1, #errors)
    assert.matches(":2: ", errors[1], 1, true)
    assert.matches("timestamp", errors[1], 1, true)
  end)
end)

describe("times of day", function()
  it("reads the 24-hour and the 12-hour forms", function()
    local cases = { ["09:00"] = { 9, 0 }, ["9:05"] = { 9, 5 }, ["21:30"] = { 21, 30 }, ["9am"] = { 9, 0 },
                    ["9 AM"] = { 9, 0 }, ["9:30pm"] = { 21, 30 }, ["9:30 p.m."] = { 21, 30 }, ["12am"] = { 0, 0 },
                    ["12pm"] = { 12, 0 }, ["12:15am"] = { 0, 15 } }
    for text, want in pairs(cases) do assert.same(want, { time.parse_clock(text) }, text) end
    for _, text in ipairs({ "24:00", "13pm", "0am", "9:5pm", "9", "noon", "9:60" }) do
      assert.is_nil(time.parse_clock(text), text)
    end
  end)

  it("wait_until names what it takes when given something else", function()
    local t, err = time.next_at("UTC", 0, "tomorrow morning")
    assert.is_nil(t)
    assert.equal('"tomorrow morning" is not a time of day ("09:00", "9am"), { weekday = "mon", at = "09:00" } or an ISO time', err)
    assert.equal(9 * 3600, time.next_at("UTC", 0, "9am"))
    assert.matches("out of range", select(2, time.next_at("UTC", 0, "2026-13-01 09:00")))
  end)
end)

describe("durations", function()
  local duration = require "drip.duration"
  it("reads the short forms and the same in words", function()
    local cases = { ["90s"] = 90, ["1h30m"] = 5400, ["1h 30m"] = 5400, ["2 hours"] = 7200, ["1 day 12 hours"] = 129600,
                    ["30 minutes and 10 seconds"] = 1810, ["1 Week"] = 604800, ["3d, 4h"] = 273600, [45] = 45 }
    for v, want in pairs(cases) do assert.equal(want, duration.parse(v), v) end
  end)

  it("reads them in Russian and Persian words too, with Persian digits", function()
    local cases = { ["2 часа"] = 7200, ["5 минут"] = 300, ["1 день и 12 часов"] = 129600, ["3 Дня"] = 259200,
                    ["1 неделю"] = 604800, ["30 секунд"] = 30, ["۲ ساعت"] = 7200, ["۱ روز و ۱۲ ساعت"] = 129600,
                    ["3 هفته"] = 1814400, ["۱۵ دقیقه"] = 900 }
    for v, want in pairs(cases) do assert.equal(want, duration.parse(v), v) end
    assert.matches("months differ in length", select(2, duration.parse("2 месяца")))
    assert.matches("years differ in length", select(2, duration.parse("1 سال")))
  end)

  it("refuses months, with a hint, and anything else with the forms it takes", function()
    assert.same({ nil, 'bad duration "1 month" (months differ in length: count days, such as "30d")' },
      { duration.parse("1 month") })
    for _, v in ipairs({ "yesterday", "", "h", "5", "1x", "2 days ago", "1.5h", -1 }) do
      local secs, err = duration.parse(v)
      assert.is_nil(secs, tostring(v))
      assert.matches('or words: "2 hours", "3 days"', err, 1, true)
    end
  end)

  it("refuses years like months, and answers a misspelt unit word with what it likely meant", function()
    assert.same({ nil, 'bad duration "1 year" (years differ in length: count days, such as "365d")' },
      { duration.parse("1 year") })
    assert.same({ nil, 'bad duration "1 dya" (did you mean "1 day"?)' }, { duration.parse("1 dya") })
    assert.same({ nil, 'bad duration "2 Huors 30 minutse" (did you mean "2 hours 30 minutes"?)' },
      { duration.parse("2 Huors 30 minutse") })
    assert.same({ nil, 'bad duration "2 days 3 fortnights" (' .. duration.HINT .. ")" },
      { duration.parse("2 days 3 fortnights") }) -- a word like no unit: the forms it takes
  end)
end)

describe("time zones of timezone traits", function()
  it("take zone names as they are, and cities by name", function()
    assert.equal("Asia/Tehran", time.zone_for("Asia/Tehran"))
    assert.equal("Asia/Tehran", time.zone_for("Tehran"))
    assert.equal("Europe/Moscow", time.zone_for(" moscow "))
    assert.equal("America/New_York", time.zone_for("New York"))
    assert.equal("America/New_York", time.zone_for("new_york"))
    assert.is_nil(time.zone_for("Mars/Olympus"))
    assert.is_nil(time.zone_for("Atlantis"))
  end)

  it("take a zone's name in other case, cities in Russian and Persian, and MSK and IRST", function()
    for text, zone in pairs({ ["europe/moscow"] = "Europe/Moscow", ["Москва"] = "Europe/Moscow", ["МСК"] = "Europe/Moscow",
                              ["MSK"] = "Europe/Moscow", ["Санкт-Петербург"] = "Europe/Moscow", ["Новосибирск"] = "Asia/Novosibirsk",
                              ["تهران"] = "Asia/Tehran", ["IRST"] = "Asia/Tehran", ["Kiev"] = "Europe/Kyiv" }) do
      assert.equal(zone, time.zone_for(text), text)
    end
    assert.equal("EST", time.zone_for("EST")) -- (a zone of tzdata as it is)
    assert.is_nil(time.zone_for("IST"))       -- (India, Israel or Ireland: not a guess)
  end)

  it("take a fixed offset as people write it, and refuse one no place has", function()
    for text, zone in pairs({ ["+03:30"] = "UTC+03:30", ["+0330"] = "UTC+03:30", ["UTC+3:30"] = "UTC+03:30",
                              ["GMT+3"] = "UTC+03:00", ["utc -5"] = "UTC-05:00", ["-12:00"] = "UTC-12:00",
                              ["+14"] = "UTC+14:00", ["UTC+05:45"] = "UTC+05:45" }) do
      assert.equal(zone, time.zone_for(text), text)
    end
    for _, text in ipairs({ "+14:30", "+3:75", "03:30", "+", "UTC+", "+3:3" }) do assert.is_nil(time.zone_for(text), text) end
    assert.equal("Etc/GMT+3", time.zone_for("Etc/GMT+3")) -- tzdata's own: three hours behind
    local y, m, d, H, M = time.local_parts("UTC+03:30", time.parse("2026-11-01T00:00:00Z"))
    assert.same({ 2026, 11, 1, 3, 30 }, { y, m, d, H, M })
    assert.equal(time.parse("2026-11-01T05:30:00Z"), time.local_epoch("UTC-05:00", 2026, 11, 1, 0, 30, 0))
  end)
end)
