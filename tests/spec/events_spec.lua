-- Event lines read the quick way (host.plain_event, runtime/evline.c) give
-- the same event as decoding them: on plain track and identify lines, on lines built to
-- leave the quick way, and on random mutations of both, where any line the
-- quick way answers for must decode to the same fields.
local events = require "drip.events"
local json = require "drip.json"
local host = require "drip_host"
local helpers = require "helpers"

-- the event as the full decoder makes it (the slow path of decode_line)
local function decoded(line) return (events.decode_full(line, 0)) end

local TS = '"timestamp":"2026-11-01T09:30:00Z"'
local PLAIN = {
  '{"type":"track","userId":"u1","event":"Cart Updated","properties":{"value":59.9,"items":[1,2]},' .. TS .. ',"messageId":"m-1"}\n',
  '{ "type" : "track" , "userId" : "u2", "event":"Order Completed", ' .. TS .. ' }\r\n',
  '{"type":"track","userId":"u3","event":"خرید","properties":{"نام":"سلام","e":-1.5e3,"z":0,"n":null,"t":true,"f":false,"a":[]},' .. TS .. '}',
  '{"type":"track","userId":"u4","event":"Покупка","anonymousId":"a1","context":{"ip":"1.2.3.4","x":"\\u00e9\\n\\t\\"\\\\\\/"},' .. TS .. '}',
  '{"type":"identify","userId":"u5","traits":{"email":"a@b.c","consent":{"sms":true},"tags":[],"n":null,"نام":"\\u00e9"},' .. TS .. ',"messageId":"m-5"}\n',
  '{"type":"identify","userId":"u6","traits":{},"event":"ignored","properties":7,' .. TS .. '}',
}
local SLOW = {
  ['an escape in a field'] = '{"type":"track","userId":"u\\u0031","event":"E",' .. TS .. '}',
  ['a key written with an escape'] = '{"typ\\u0065":"track","userId":"u1","event":"E",' .. TS .. '}',
  ['a duplicate key'] = '{"type":"track","userId":"u1","userId":"u2","event":"E",' .. TS .. '}',
  ['another timestamp form'] = '{"type":"track","userId":"u1","event":"E","timestamp":"2026-11-01T12:30:00+03:30"}',
  ['no timestamp'] = '{"type":"track","userId":"u1","event":"E"}',
  ['an identify without traits'] = '{"type":"identify","userId":"u1",' .. TS .. '}',
  ['an identify with null traits'] = '{"type":"identify","userId":"u1","traits":null,' .. TS .. '}',
  ['traits that are a list'] = '{"type":"identify","userId":"u1","traits":[1],' .. TS .. '}',
  ['traits with a number of 64 digits'] = '{"type":"identify","userId":"u1","traits":{"n":' .. ("1"):rep(64) .. '},' .. TS .. '}',
  ['another type'] = '{"type":"page","userId":"u1","event":"E",' .. TS .. '}',
  ['a userId as a number'] = '{"type":"track","userId":42,"event":"E",' .. TS .. '}',
  ['a null messageId'] = '{"type":"track","userId":"u1","event":"E","messageId":null,' .. TS .. '}',
  ['a surrogate escape'] = '{"type":"track","userId":"u1","event":"E","p":"\\ud83d\\ude00",' .. TS .. '}',
  ['a byte order mark'] = '\239\187\191{"type":"track","userId":"u1","event":"E",' .. TS .. '}',
  ['properties that are a list'] = '{"type":"track","userId":"u1","event":"E","properties":[1],' .. TS .. '}',
  ['a leading zero'] = '{"type":"track","userId":"u1","event":"E","n":01,' .. TS .. '}',
  ['text after the object'] = '{"type":"track","userId":"u1","event":"E",' .. TS .. '} {}',
  ['Latin-1 bytes'] = '{"type":"track","userId":"u1","event":"caf\233",' .. TS .. '}',
  ['a control character'] = '{"type":"track","userId":"u1","event":"E","p":"a\1b",' .. TS .. '}',
  ['an empty userId'] = '{"type":"track","userId":"","event":"E",' .. TS .. '}',
}

-- the event read the quick way, or nil when that way is not sure
local function quick_event(line) return host.plain_event(line, {}, getmetatable(json.array())) end

local function same_event(line)
  local quick = quick_event(line)
  if not quick then return true end
  local ev = decoded(line)
  assert(ev, "the quick way read a line the decoder refuses: " .. line)
  for _, k in ipairs({ "type", "userId", "event", "ts", "messageId", "body" }) do
    assert(ev[k] == quick[k], "the quick way read another " .. k .. " than the decoder: " .. line)
  end
  assert(json.encode(ev.traits) == json.encode(quick.traits), "the quick way read other traits than the decoder: " .. line)
  return true
end

describe("event lines read without decoding them", function()
  it("plain track and identify lines are read the quick way, with the decoder's fields and data", function()
    for _, line in ipairs(PLAIN) do
      assert.is_not_nil(quick_event(line), line)
      local quick, full = events.decode_line(line, 0), decoded(line)
      for _, k in ipairs({ "type", "userId", "event", "ts", "messageId", "body" }) do
        assert.are.equal(full[k], quick[k], k .. " of " .. line)
      end
      assert.are.same(full.traits, quick.traits)
      assert.are.equal(json.encode(full.traits), json.encode(quick.traits)) -- (an empty array stays one)
      assert.is_false(quick.internal)
      assert.are.same(full.data, quick.data) -- decoded when first read
      assert.are.equal(json.encode(full.data), json.encode(quick.data)) -- empty arrays stay arrays
    end
  end)

  for why, line in pairs(SLOW) do
    it("leaves a line with " .. why .. " to the decoder", function()
      assert.is_nil(quick_event(line))
      assert.is_true(same_event(line))
    end)
  end

  it("a bad line still gets its error, and a page call is still skipped", function()
    local ev, err = events.decode_line('{"type":"track","userId":"u1","event":"E",' .. TS .. ',}', 0, 1)
    assert.is_nil(ev)
    assert.matches("^bad JSON", err)
    local _, _, skip = events.decode_line('{"type":"page","userId":"u1",' .. TS .. '}', 0, 1)
    assert.are.equal("call", skip)
  end)

  it("a timestamp in Unix seconds or milliseconds is refused with the time it would be", function()
    local _, err = events.decode_line('{"type":"track","userId":"u1","event":"E","timestamp":1762000000}', 0, 1)
    assert.are.equal([[field 'timestamp': expected an ISO 8601 time string, not a number (as Unix seconds, ]]
      .. [[1762000000 is "2025-11-01T12:26:40Z")]], err)
    _, err = events.decode_line('{"type":"track","userId":"u1","event":"E","timestamp":1762000000123}', 0, 1)
    assert.matches("as Unix milliseconds, 1762000000123 is \"2025%-11%-01T12:26:40Z\"", err)
  end)

  it("a line without a messageId is given the same one either way", function()
    local line = '{"type":"track","userId":"u1","event":"E",' .. TS .. '}\n'
    local quick = events.decode_line(line, 0, 7)
    local slow = events.decode_line("\239\187\191" .. line, 0, 7) -- (a byte order mark: decoded whole)
    assert.is_nil(quick_event("\239\187\191" .. line))
    assert.are.equal("line-7-" .. host.hash(line:gsub("\n$", "")), quick.messageId)
    assert.are.equal(quick.messageId, slow.messageId)
  end)

  it("finds a string's end, an escape or a control character wherever it is in the string", function()
    local cases = { { "\\n", true }, { "\1", false }, { "\31", false }, { " ", true }, { "\195\169", true }, { "\127", true }, { '"', false }, { "\\", false } }
    for len = 0, 24 do
      for at = 1, len + 1 do
        for _, case in ipairs(cases) do
          local text = ("x"):rep(at - 1) .. case[1] .. ("y"):rep(len - at + 1)
          local line = '{"type":"track","userId":"u1","event":"E","properties":{"p":"' .. text .. '"},' .. TS .. '}'
          assert.are.equal(case[2], quick_event(line) ~= nil, line)
          same_event(line)
          if case[2] then assert.are.equal(json.decode('"' .. text .. '"'), events.decode_line(line, 0).data.properties.p) end
        end
      end
    end
  end)

  it("any line the quick way reads, the decoder reads the same (random mutations)", function()
    local rand = helpers.random(11)
    local seeds, bytes = {}, { '"', "\\", "{", "}", "[", "]", ",", ":", " ", "0", "-", "e", "u", "\0", "\128", "n", "t" }
    for _, l in ipairs(PLAIN) do seeds[#seeds + 1] = l end
    for _, l in pairs(SLOW) do seeds[#seeds + 1] = l end
    local quick = 0
    for _ = 1, 20000 do
      local line = seeds[rand(#seeds) + 1]
      for _ = 1, rand(3) + 1 do
        local at = rand(#line) + 1
        local op = rand(3)
        local b = bytes[rand(#bytes) + 1]
        if op == 0 then line = line:sub(1, at - 1) .. b .. line:sub(at + 1)
        elseif op == 1 then line = line:sub(1, at - 1) .. b .. line:sub(at)
        else line = line:sub(1, at - 1) .. line:sub(at + 1) end
      end
      if quick_event(line) then quick = quick + 1 end
      same_event(line)
    end
    assert.is_true(quick > 250, "mutations the quick way read: " .. quick) -- (528: it was tried, not always refused)
  end)
end)

describe("an events file", function()
  -- read `text` as a file -> the events (in the order read) and the errors
  local function read(text)
    local path = helpers.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    local errors, got = {}, {}
    local index = assert(events.scan(path, function(msg) errors[#errors + 1] = msg:gsub("^.*:(%d+:)", "%1") end, 0))
    for ev in events.each(index) do -- (kept as a copy: a plain event's table is filled anew at the next line)
      got[#got + 1] = { type = ev.type, userId = ev.userId, event = ev.event, ts = ev.ts, traits = ev.traits,
                        messageId = ev.messageId and tostring(ev.messageId), body = tostring(ev.body), data = ev.data }
    end
    os.remove(path)
    return got, errors, index.sorted
  end

  local function line(name, hour, props)
    return '{"type":"track","userId":"a","event":"' .. name .. '","properties":' .. json.encode(props or {})
      .. ',"timestamp":"2026-11-01T' .. hour .. ':00:00Z"}'
  end

  -- events.scan's distinct_ids of a file of these lines (each a track event
  -- with these extra top-level members), in time order
  local function distinct(...)
    local path = helpers.tmpname()
    local f = assert(io.open(path, "wb"))
    for i, members in ipairs({ ... }) do
      f:write('{"type":"track","userId":"a","event":"E","timestamp":"2026-11-01T08:00:0', i, 'Z"', members, "}\n")
    end
    f:close()
    local index = assert(events.scan(path, function() end, 0, true))
    os.remove(path)
    assert.is_true(index.sorted)
    return index.distinct_ids
  end

  it("tells whether its messageIds are distinct, and says no when not sure", function()
    assert.is_true(distinct(',"messageId":"m-1"', ',"messageId":"m-2"', ""))
    assert.is_true(distinct("", "")) -- (each such line is named after its number)
    assert.is_true(distinct(',"messageId":"m-1","properties":{"messageId":"m-2"}', ',"messageId":"m-2"'))
    assert.is_true(distinct(',"messageId":"пیام-۱"', ',"messageId":"пیام-۲"'))
    assert.is_false(distinct(',"messageId":"m-1"', ',"messageId":"m-2"', ',"messageId":"m-1"'))
    assert.is_false(distinct(',"messageId":"m-1"', ',"messageId":"m\\u002d1"')) -- the same id, escaped
    assert.is_false(distinct(',"messageId":"m-1"', ',"messageId":"m-2","messageId":"m-3"')) -- a key twice
    assert.is_false(distinct(',"messageId":"line-2-0"', "")) -- as a line without one is named
    assert.is_false(distinct(',"messageId":null', ""))
    assert.is_false(distinct(',"messageId":"m-1"', ',"messageId" :"m-2",')) -- not JSON (and parsed to tell)
    -- a messageId only in the properties is counted too: it can only turn the answer to no
    assert.is_false(distinct(',"properties":{"messageId":"m-1"}', ',"messageId":"m-1"'))
    assert.is_true(distinct(',"properties":{"messageId":"m-1"}', ',"messageId":"m-2"'))
  end)

  it("has its messageIds told apart across a large file", function()
    local path = helpers.tmpname()
    local f = assert(io.open(path, "wb"))
    for i = 1, 5000 do
      f:write('{"type":"track","userId":"u', i % 97, '","event":"E","timestamp":"2026-11-01T08:00:00Z","messageId":"m', i, '"}\n')
    end
    f:close()
    assert.is_true(assert(events.scan(path, function() end, 0, true)).distinct_ids)
    assert.is_false(assert(events.scan(path, function() end, 0)).distinct_ids) -- not asked: not looked at
    f = assert(io.open(path, "ab"))
    f:write('{"type":"track","userId":"u1","event":"E","timestamp":"2026-11-01T08:00:00Z","messageId":"m17"}\n')
    f:close()
    assert.is_false(assert(events.scan(path, function() end, 0, true)).distinct_ids)
    os.remove(path)
  end)

  it("in time order, is read line by line in C, plain events made ready there, the rest decoded in Lua", function()
    local lines = {
      '{"type":"track","userId":"a","event":"E1","properties":{"n":1},"timestamp":"2026-11-01T08:00:00Z","messageId":"m-1"}',
      "",
      "   # a comment",
      line("E2", "09"), -- no messageId: decoded in Lua, named after its line
      '{"type":"identify","userId":"a","traits":{"name":"Ава","tags":[]},"timestamp":"2026-11-01T10:00:00Z","messageId":"m-3"}',
      "\239\187\191" .. line("E4", "11"),
      "not json",
      line("E6", "12"),
      '{"type":"identify","userId":"b","traits":{"name":"Ана"},"timestamp":"2026-11-01T13:00:00Z","messageId":"m-9"}',
      '{"type":"track","userId":"b","event":"E10","timestamp":"2026-11-01T14:00:00Z","messageId":"m-10"}',
    }
    local path = helpers.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(table.concat(lines, "\n"))
    f:close()
    local next_event = assert(host.event_lines(path, getmetatable(events.decode_line(lines[1], 0)), getmetatable(json.array())))
    local seen, table_of, view_before = {}, {}, nil
    for ev, text, lineno in next_event do
      seen[#seen + 1] = { lineno, ev and (ev.event or ev.type) or (text:match('"event":"(%w+)"') or text:gsub("\n$", "")) }
      if view_before then -- (the line before was a plain event: its views stand for nothing now, whatever this line is)
        assert.has_error(function() return tostring(view_before) end, "a line the events reader has read past")
        view_before = nil
      end
      if ev then
        local want = events.decode_line(lines[lineno] .. (lineno < #lines and "\n" or ""), 0)
        for _, k in ipairs({ "type", "userId", "event", "ts", "internal" }) do
          assert.are.equal(want[k], ev[k], k)
        end
        assert.are.equal(json.encode(want.traits), json.encode(ev.traits)) -- (an identify's, decoded in C)
        for _, k in ipairs({ "messageId", "body" }) do -- (text views of the line)
          assert.are.equal("userdata", type(ev[k]), k)
          assert.are.equal(want[k], tostring(ev[k]), k)
        end
        assert.are.same(want.data, ev.data) -- decoded when first read
        table_of[ev.type] = table_of[ev.type] or ev
        assert.are.equal(table_of[ev.type], ev) -- (one table of each kind, filled anew at each line)
        view_before = ev.body
      else
        assert.is_false(ev)
        assert.are.equal(lines[lineno], text) -- (without its line end)
      end
    end
    assert.are.same({ { 1, "E1" }, { 4, "E2" }, { 5, "identify" }, { 6, "E4" }, { 7, "not json" }, { 8, "E6" },
                      { 9, "identify" }, { 10, "E10" } }, seen)
    assert.are_not.equal(table_of.track, table_of.identify)
    assert.is_nil(next_event()) -- (and stays at the end)
    local got, errors, sorted = read(table.concat(lines, "\n"))
    assert.is_true(sorted)
    assert.are.same({ "7: bad JSON" }, { (errors[1] or ""):match("^%d+: bad JSON") })
    local names = {}
    for i, ev in ipairs(got) do names[i] = ev.event or ev.type end
    assert.are.same({ "E1", "E2", "identify", "E4", "E6", "identify", "E10" }, names)
    assert.are.equal("line-4-" .. host.hash(lines[4]), got[2].messageId)
    assert.are.same({ "Ава", "Ана" }, { got[3].traits.name, got[6].traits.name }) -- (each identify's traits its own)
    os.remove(path)
    assert.are.same({ nil, path .. ": No such file or directory" }, { host.event_lines(path, {}, {}) })
  end)

  it("stores a plain track event's views as the text of its line, and refuses them once the next line is read", function()
    local Store = require "drip.store"
    local lines = {
      '{"type":"track","userId":"a","event":"E1","properties":{"name":"Ава"},"timestamp":"2026-11-01T08:00:00Z","messageId":"m-1"}',
      '{"type":"track","userId":"b","event":"E2","timestamp":"2026-11-01T09:00:00Z","messageId":"m-2"}',
    }
    local path = helpers.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(table.concat(lines, "\r\n"), "\r\n")
    f:close()
    local store = assert(Store.open(":memory:"))
    local next_event = assert(host.event_lines(path, {}, {}))
    local ev = next_event()
    local body, message_id = ev.body, ev.messageId
    local seq = assert(store:add_event(ev, ev.body))
    assert.are.same({ lines[1], "m-1" }, { store.db:prepare("SELECT body, message_id FROM events WHERE seq = ?"):first(seq) })
    assert.is_nil(store:add_event(ev, ev.body)) -- (the messageId is bound as text: the same one again is a repeat)
    assert.are.equal(ev, next_event())
    assert.are.same({ "b", "E2", lines[2] }, { ev.userId, ev.event, tostring(ev.body) })
    assert.are.equal(body, ev.body) -- (the same view, now of the second line)
    assert.is_nil(next_event())
    assert.has_error(function() store:add_event(ev, body) end, "sqlite: parameter 5 is a line the events reader has read past")
    assert.has_error(function() return tostring(message_id) end, "a line the events reader has read past")
    store:close()
    os.remove(path)
  end)

  it("has its lines read whole across blocks, with or without the last line end, in order or not", function()
    local big = ("x"):rep(300000) -- (longer than the blocks the file is read in, 256 KiB)
    for _, order in ipairs({ { "08", "09", "10" }, { "10", "09", "08" } }) do
      local text = line("E1", order[1], { big = big }) .. "\nnot json\n" .. line("E2", order[2]) .. "\r\n\n"
        .. line("E3", order[3], { big = big .. "y" })
      local got, errors, sorted = read(text)
      assert.are.equal(order[1] == "08", sorted)
      assert.are.same({ "2: bad JSON" }, { (errors[1] or ""):match("^%d+: bad JSON") })
      local names = {}
      for i, ev in ipairs(got) do names[i] = ev.event end
      assert.are.same(order[1] == "08" and { "E1", "E2", "E3" } or { "E3", "E2", "E1" }, names)
      local by = {}
      for _, ev in ipairs(got) do by[ev.event] = ev end
      assert.are.equal(#big, #by.E1.data.properties.big)
      assert.are.equal(#big + 1, #by.E3.data.properties.big)
    end
  end)
end)
