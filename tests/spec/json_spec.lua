-- The C encoder (host.encode_json behind json.encode) writes exactly what
-- the Lua encoder writes, on random values of every shape; json.decode gives
-- back what it wrote, empty arrays included.
local json = require "drip.json"
local helpers = require "helpers"

local rand = helpers.random(7)

local PIECES = { "a", "z", "A", "é", "ü", "привет", "سلام", "\n", "\"", "\\", "\0", "\1", "\127", "/", " ", "{}", "10" }
local function str()
  local parts = {}
  for i = 1, rand(5) do parts[i] = PIECES[rand(#PIECES) + 1] end
  return table.concat(parts)
end

local NUMBERS = { 0, -1, 42, 2^53, -2^60, 1.5, -0.25, 3.0, 1e300, 1e-7, 0 / 0, math.huge, -math.huge, math.maxinteger }
local function value(depth)
  local kind = rand(depth > 3 and 5 or 8)
  if kind == 0 then return str() end
  if kind == 1 then return NUMBERS[rand(#NUMBERS) + 1] end
  if kind == 2 then return rand(2) == 0 end
  if kind == 3 then return json.null end
  if kind == 4 then return rand(1000) end
  local t = rand(6) == 0 and json.array() or {}
  if kind == 5 then -- array
    for i = 1, rand(4) do t[i] = value(depth + 1) end
  elseif kind == 6 then -- object
    for _ = 1, rand(5) do t[str()] = value(depth + 1) end
  else -- sparse or mixed keys
    for _ = 1, rand(4) do t[rand(6) + 1] = value(depth + 1) end
    if rand(2) == 0 then t[str()] = value(depth + 1) end
  end
  return t
end

describe("json.encode", function()
  it("writes what the Lua encoder writes, for 3,000 random values", function()
    for i = 1, 3000 do
      local v = value(0)
      assert.equal(json.encode_in_lua(v), json.encode(v), "value " .. i)
    end
  end)

  it("writes objects of many keys as the Lua encoder does, also one it leaves to the Lua encoder", function()
    for n = 0, 40 do
      local t = {}
      for i = 1, n do t[str() .. i] = value(2) end
      assert.equal(json.encode_in_lua(t), json.encode(t), n .. " keys")
    end
    local huge = {}
    for i = 1, 70000 do huge["k" .. i] = i end -- (more keys than the C encoder holds)
    assert.is_nil(require("drip_host").encode_json(huge)) -- (left to the Lua encoder)
    assert.equal(json.encode_in_lua(huge), json.encode(huge))
  end)

  it("writes an empty list marked by json.array as [], other empty tables as {}", function()
    assert.equal("[]", json.encode(json.array()))
    assert.equal("{}", json.encode({}))
    assert.equal('{"a":[],"b":[1]}', json.encode({ a = json.array(), b = json.array({ 1 }) }))
    assert.equal(json.encode_in_lua({ a = json.array(), x = { json.array() } }),
      json.encode({ a = json.array(), x = { json.array() } }))
  end)

  it("refuses what JSON cannot hold, with the Lua encoder's messages", function()
    local t = {}
    t.me = t
    assert.has_error(function() json.encode(t) end, "cannot encode a table that contains itself")
    assert.has_error(function() json.encode({ f = print }) end, "cannot encode a function as JSON")
  end)
end)

describe("json.decode", function()
  it("keeps empty arrays arrays (lua-cjson alone makes them {}), wherever they are", function()
    local text = '{"a":[],"b":"x[]\\"[] [","c":[ ],"d":[[],1,{"e":[]}],"f":{"g":[\n]}}'
    assert.equal('{"a":[],"b":"x[]\\"[] [","c":[],"d":[[],1,{"e":[]}],"f":{"g":[]}}', json.encode(json.decode(text)))
    assert.equal("[]", json.encode(json.decode("[]")))
    assert.equal("{}", json.encode(json.decode("{}")))
    assert.equal(0, #json.decode('{"a":[]}').a)
  end)

  it("reports a bad text with its own positions when it holds an empty array", function()
    local _, plain = json.decode('{"a":{},}')
    local _, with_array = json.decode('{"a":[],}')
    assert.equal(plain, with_array)
  end)

  it("gives back what json.encode wrote, for 2,000 random values of strings, lists and objects", function()
    local TEXT = { "[]", "[ ]", "[", "]", '"', "\\", "\\\"[]", "{}", "a", "سلام" }
    local function text()
      local parts = {}
      for i = 1, rand(4) do parts[i] = TEXT[rand(#TEXT) + 1] end
      return table.concat(parts)
    end
    local function shaped(depth)
      local kind = rand(depth > 3 and 3 or 6)
      if kind == 0 then return text() end
      if kind == 1 then return rand(100) end
      if kind == 2 then return json.null end
      local t = json.array()
      if kind == 3 then return t end
      if kind == 4 then
        for i = 1, rand(3) do t[i] = shaped(depth + 1) end
        return t
      end
      t = {}
      for _ = 1, rand(4) do t[text()] = shaped(depth + 1) end
      return t
    end
    for i = 1, 2000 do
      local written = json.encode(shaped(0))
      assert.equal(written, json.encode(json.decode(written)), "value " .. i)
    end
  end)

  -- a random JSON text: every kind of value, escapes (surrogates too), numbers
  -- of every form, blanks between tokens, and now and then a mistake
  local PIECES = { "a", "é", "سلام", "\\n", "\\\"", "\\\\", "\\u00e9", "\\u0416", "\\u0000", "\\ud83d\\ude00",
                   "\\/", "\\b", "\\f", "\\r", "\\t", "\\x", "\1", " ", "\\u12", "\\uD7FF", "\\uE000" }
  local NUMBERS_TEXT = { "0", "-0", "12", "-7", "1.5", "1e3", "2E-2", "-0.0", "12345678901234567890", "1e400", "01", "1.",
                         ".5", "+1", "0x10", "1e", "-", "3.14159265358979" }
  local function random_text(depth)
    local blank = ({ "", "", " ", "\n\t ", "\r\n" })[rand(5) + 1]
    local kind = rand(depth > 3 and 5 or 8)
    local out
    if kind == 0 then
      local parts = {}
      for i = 1, rand(4) do parts[i] = PIECES[rand(#PIECES) + 1] end
      out = '"' .. table.concat(parts) .. '"'
    elseif kind == 1 then
      out = NUMBERS_TEXT[rand(#NUMBERS_TEXT) + 1]
    elseif kind == 2 then
      out = ({ "true", "false", "null", "nul", "True" })[rand(5) + 1]
    elseif kind <= 5 then
      local items = {}
      for i = 1, rand(4) do items[i] = random_text(depth + 1) end
      out = "[" .. blank .. table.concat(items, "," .. blank) .. blank .. "]"
    else
      local members = {}
      for i = 1, rand(4) do
        members[i] = random_text(5):gsub("^%s*[^\"].*", '"k' .. rand(3) .. '"') .. blank .. ":" .. random_text(depth + 1)
      end
      out = "{" .. table.concat(members, ",") .. (rand(20) == 0 and "," or "") .. "}"
    end
    return blank .. out .. blank
  end

  -- a and b the same values: numbers of the same type, null and arrays marked alike
  local function same(a, b, path)
    if type(a) ~= "table" or type(b) ~= "table" then
      assert.equal(math.type(a), math.type(b), path)
      assert.equal(a, b, path)
      return
    end
    assert.equal(getmetatable(a), getmetatable(b), path .. " (marked as a list)")
    for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
    for k in pairs(b) do assert.is_not_nil(a[k], path .. "." .. tostring(k)) end
  end

  it("decodes the usual text in C as lua-cjson does, and leaves it the rest, for 5,000 random texts", function()
    local host = require "drip_host"
    local texts = {}
    for _, p in ipairs(PIECES) do -- each escape and string piece, alone and in every place
      texts[#texts + 1] = '"' .. p .. '"'
      texts[#texts + 1] = '["x' .. p .. 'y", "' .. p .. p .. '"]'
      texts[#texts + 1] = '{"' .. p .. '": "' .. p .. '", "k": {"' .. p .. '": []}}'
    end
    for _, n in ipairs(NUMBERS_TEXT) do texts[#texts + 1] = "[" .. n .. ", {\"n\": " .. n .. "}]" end
    for _ = 1, 5000 do texts[#texts + 1] = random_text(0) end
    local answered = 0
    for _, text in ipairs(texts) do
      local quick = host.decode_json(text, getmetatable(json.array()))
      local slow, err = json.decode_with_cjson(text)
      if quick ~= nil then
        answered = answered + 1
        assert.is_nil(err, text)
        same(slow, quick, text)
      end
      local value, why = json.decode(text)
      assert.equal(err, why, text)
      same(slow, value, text)
    end
    assert.is_true(answered > 1000, "answered " .. answered)
  end)
end)
