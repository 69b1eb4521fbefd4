-- Segments and broadcasts: segment triggers entered by trait changes, event
-- counts, set() and inactivity; schedule triggers per time zone with rollout.
local helpers = require "helpers"
local time = require "drip.time"

local SEGMENTS = [[
return {
  vip      = function(c) return (c.lifetime_value or 0) >= 500 end,
  persian  = function(c) return c.locale == "fa" end,
  loyal    = { did = "Order Completed", times = ">=3", within = "90d" },
  dormant  = { inactive = "60d" },
}
]]

local function journey(trigger, body)
  return string.format('return journey { trigger = %s, steps = function(ctx) %s end }', trigger,
    body or 'email { subject = "hi" }')
end

local function sim_with(files, opts)
  opts = opts or {}
  files["segments.lua"] = SEGMENTS
  local j = files.j
  files.j = nil
  opts.files = files
  return helpers.sim(j, opts)
end

local function entered(sim, name)
  local who = {}
  for _, r in ipairs(sim:records { kind = "enter", journey = name or "j" }) do who[#who + 1] = r.contact end
  return who
end

local MAIL = { email = "a@x.test", consent = { email = true } }

describe("segment triggers", function()
  it("enter when traits change into the segment, not while already in it", function()
    local sim = sim_with { j = journey('{ segment = "vip" }') }
    sim:identify("u1", { email = "a@x.test", consent = { email = true }, lifetime_value = 100 })
    assert.same({}, entered(sim))
    sim:identify("u1", { lifetime_value = 600 })
    assert.same({ "u1" }, entered(sim))
    assert.equal("segment", sim:records { kind = "enter" }[1].event)
    sim:identify("u1", { lifetime_value = 700 })   -- still a member: no new entry
    sim:identify("u1", { lifetime_value = 0 })     -- leaves
    sim:identify("u1", { lifetime_value = 900 })   -- and enters again
    assert.same({ "u1", "u1" }, entered(sim))
    assert.equal(2, #sim:sent { contact = "u1" })
  end)

  it("enter a did segment on the event that reaches the count, within its window", function()
    local sim = sim_with { j = journey('{ segment = "loyal" }') }
    sim:identify("u1", MAIL)
    sim:track("u1", "Order Completed")
    sim:advance "100d" -- the first order falls out of the 90-day window
    sim:track("u1", "Order Completed")
    sim:track("u1", "Order Completed")
    assert.same({}, entered(sim), "two orders in 90 days are not three")
    sim:track("u1", "Order Completed")
    assert.same({ "u1" }, entered(sim))
    sim:track("u1", "Order Completed") -- a fourth keeps it a member
    assert.same({ "u1" }, entered(sim))
  end)

  it("enter when a journey's set() changes the traits", function()
    local sim = sim_with {
      j = journey('{ segment = "vip" }'),
      ["grant.lua"] = 'return journey { trigger = "Big Order", steps = function() set { lifetime_value = 1000 } end }',
    }
    sim:identify("u1", MAIL)
    sim:track("u1", "Big Order")
    assert.same({ "u1" }, entered(sim))
  end)

  it("enter an inactive segment by time", function()
    local sim = sim_with { j = journey('{ segment = "dormant" }') }
    sim:identify("u1", MAIL)
    sim:track("u1", "Page Viewed")
    sim:advance "59d"
    assert.same({}, entered(sim))
    sim:advance "2d"
    assert.same({ "u1" }, entered(sim))
    assert.equal("segment", sim:records { kind = "enter" }[1].event)
  end)

  it("puts a contact in several segments at once", function()
    local sim = sim_with { j = journey('"Never"') }
    sim:identify("u1", { lifetime_value = 800, locale = "fa" })
    assert.same({ "persian", "vip" }, sim:segments_of("u1"))
    sim:identify("u1", { locale = "en" })
    assert.same({ "vip" }, sim:segments_of("u1"))
  end)

  it("follow the trigger's rollout share", function()
    local sim = sim_with { j = journey('{ segment = "vip", rollout = "20%" }') }
    for i = 1, 500 do sim:identify("c" .. i, { lifetime_value = 900 }) end
    local n = #entered(sim)
    assert.is_true(n > 70 and n < 130, "20% of 500 entered, got " .. n)
  end)
end)

describe("schedule triggers", function()
  local function people(sim)
    sim:identify("berlin", { email = "b@x.test", consent = { email = true }, timezone = "Europe/Berlin", locale = "fa" })
    sim:identify("tehran", { email = "t@x.test", consent = { email = true }, timezone = "Asia/Tehran", locale = "fa" })
    sim:identify("nozone", { email = "n@x.test", consent = { email = true }, locale = "fa" })
    sim:identify("badzone", { email = "z@x.test", consent = { email = true }, timezone = "Mars/Base", locale = "fa" })
    sim:identify("english", { email = "e@x.test", consent = { email = true }, locale = "en" })
  end

  it("sends a one-off at the wall time of each contact's zone, to the segment only", function()
    local sim = sim_with({ j = journey('{ schedule = "2026-11-10 09:00", segment = "persian" }') },
      { start = "2026-11-02T09:00:00Z" })
    people(sim)
    sim:settle()
    local at = {}
    for _, m in ipairs(sim:sent()) do at[m.contact] = m.at end
    assert.same({ berlin = "2026-11-10T08:00:00Z", tehran = "2026-11-10T05:30:00Z",
                  nozone = "2026-11-10T09:00:00Z", badzone = "2026-11-10T09:00:00Z" }, at)
    assert.equal("schedule", sim:records { kind = "enter" }[1].event)
  end)

  it("repeats daily, and a contact who arrives later is included", function()
    local sim = sim_with({ j = journey('{ schedule = "daily 09:00" }', 'email { subject = "daily" }') },
      { start = "2026-11-02T10:00:00Z" })
    sim:identify("u1", MAIL)
    sim:advance "2026-11-04T12:00:00Z"
    assert.equal(2, #sim:sent { contact = "u1" }) -- the 3rd and the 4th; the 2nd's 09:00 was before the start
    sim:identify("u2", { email = "b@x.test", consent = { email = true }, timezone = "America/New_York" })
    sim:advance "2026-11-05T15:00:00Z"
    assert.equal(3, #sim:sent { contact = "u1" })
    local u2 = sim:sent { contact = "u2" }
    assert.equal(2, #u2) -- 09:00 in New York (EST) is 14:00 UTC, after u2 arrived at 12:00
    assert.equal("2026-11-04T14:00:00Z", u2[1].at)
    assert.equal("2026-11-05T14:00:00Z", u2[2].at)
  end)

  it("reaches a large zone page by page, so drip run can serve in between", function()
    local sim = sim_with({ j = journey('{ schedule = "2026-11-03 09:00" }') }, { start = "2026-11-02T09:00:00Z" })
    for i = 1, 1200 do sim:identify(string.format("c%04d", i), { email = i .. "@x.test", consent = { email = true } }) end
    local due = time.parse("2026-11-03T09:00:00Z")
    local done, fired = sim.engine:run_until(due + 60, 600) -- as drip run does: at most 600 per turn
    assert.is_false(done)
    assert.equal(1000, fired) -- two pages of 500 contacts
    assert.equal(1000, #entered(sim))
    done = sim.engine:run_until(due + 60, 600)
    assert.is_true(done)
    assert.equal(1200, #entered(sim))
    sim:settle()
    assert.equal(1200, #entered(sim), "nobody twice")
  end)

  it("fires timers, inactivity triggers and schedules due in one advance in due order", function()
    local sim = sim_with({
      j = journey('{ schedule = "2026-11-03 07:00" }',
        'email { subject = "broadcast" } wait "1h" email { subject = "broadcast again" }'),
      ["waiter.lua"] = journey('"Go"', 'wait "20h" email { subject = "waited" }'),
      ["lapsed.lua"] = journey('{ inactive = "1d" }', 'email { subject = "lapsed" }'),
    }, { start = "2026-11-02T09:00:00Z" })
    sim:identify("u1", MAIL)
    sim:track("u1", "Go")
    sim:advance "2d"
    local got = {}
    for _, m in ipairs(sim:sent { contact = "u1" }) do got[#got + 1] = m.at .. " " .. m.message.subject end
    assert.same({ "2026-11-03T05:00:00Z waited", "2026-11-03T07:00:00Z broadcast",
                  "2026-11-03T08:00:00Z broadcast again", -- a timer made while the schedule fired
                  "2026-11-03T09:00:00Z lapsed" }, got)
  end)

  it("skips a one-off already past when the journey is loaded", function()
    local sim = sim_with({ j = journey('{ schedule = "2026-10-01 09:00" }') }, { start = "2026-11-02T09:00:00Z" })
    sim:identify("u1", MAIL)
    sim:settle()
    assert.equal(0, #sim:sent())
  end)

  it("rolls out to a share, then to the rest of a larger share without repeats", function()
    local sim, dir = sim_with({ j = journey('{ schedule = "2026-11-03 09:00", rollout = "10%" }') },
      { start = "2026-11-02T09:00:00Z" })
    for i = 1, 1000 do sim:identify("c" .. i, { email = i .. "@x.test", consent = { email = true } }) end
    sim:advance "2026-11-03T10:00:00Z"
    local first = entered(sim)
    assert.is_true(#first > 70 and #first < 130, "10% of 1000, got " .. #first)
    local f = assert(io.open(dir .. "/j.lua", "w"))
    f:write(journey('{ schedule = "2026-11-03 09:00", rollout = "40%" }'))
    f:close()
    assert.same({}, (sim.engine:reload({ dir .. "/j.lua" })))
    sim:advance "1h"
    local all, seen = entered(sim), {}
    for _, c in ipairs(all) do
      assert.is_nil(seen[c], c .. " entered twice")
      seen[c] = true
    end
    assert.is_true(#all > 340 and #all < 460, "40% of 1000, got " .. #all)
    assert.equal(time.parse("2026-11-03T10:00:00Z"), time.parse(sim:records { kind = "enter" }[#all].at))
  end)
end)

describe("segment and schedule errors", function()
  local function load_error(trigger, segs)
    local ok, err = pcall(helpers.sim, journey(trigger), { files = { ["segments.lua"] = segs or SEGMENTS } })
    assert.is_false(ok)
    return tostring(err)
  end

  it("a stored version is compiled again without checks newer than it (its instances keep running)", function()
    local journey = require "drip.journey"
    local source = 'return journey { trigger = { event = "Go", wher = 1 }, steps = function() end }'
    local def, err = journey.compile(source, "j.lua", {})
    assert.is_nil(def)
    assert.equal("j.lua:1: trigger: unknown key 'wher'; did you mean 'where'? (it takes event, where)", err)
    assert.equal("Go", assert(journey.compile(source, "j.lua", {}, nil, true)).trigger.event)
    assert.is_nil((journey.compile(source, "j.lua", {}))) -- (and the check is back for the next load)
  end)

  it("name the file, line and field", function()
    assert.matches('j.lua:1: trigger.bad schedule "next tuesday"', load_error('{ schedule = "next tuesday" }'), 1, true)
    assert.matches('j.lua:1: trigger.rollout: bad share "150%"', load_error('{ segment = "vip", rollout = "150%" }'),
      1, true)
    assert.matches("segments.lua:2: segment 'loyal' times: bad count \"lots\"",
      load_error('"X"', 'return {\n loyal = { did = "Order Completed", times = "lots" } }'), 1, true)
    assert.matches("segments.lua:1: segment 'x' must be a function(contact)",
      load_error('"X"', 'return { x = 5 }'), 1, true)
    -- a misspelt key would change what the segment means (no window: all time), so it is refused
    assert.matches("segments.lua:1: segment 'b' has an unknown key 'withn'; did you mean 'within'? "
      .. "(it takes did, times, within)",
      load_error('"X"', 'return { b = { did = "Order Completed", withn = "90d" } }'), 1, true)
    assert.matches("segments.lua:1: segment 'l' has an unknown key 'inactiv'; did you mean 'inactive'?",
      load_error('"X"', 'return { l = { inactiv = "20d" } }'), 1, true)
    for _ = 1, 5 do -- of two bad segments, the first in the file, whatever order the table keeps them in
      assert.matches("segments.lua:2: segment 'zeta' ",
        load_error('"X"', 'return {\n  zeta = { did = "X", withn = "9d" },\n  alpha = { inactiv = "2d" },\n}'), 1, true)
    end
  end)
end)
