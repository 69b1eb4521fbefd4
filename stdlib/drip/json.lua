-- drip.json — JSON in and out.
-- Decoding is lua-cjson's (with empty arrays kept arrays), done the same in C
-- (runtime/jsondec.c) for the usual text. Encoding is ours
-- only to make output deterministic and readable: object keys sorted (or in a
-- given order), UTF-8 left as is, "/" not escaped, integral numbers printed
-- without a fraction.
local cjson = require "cjson"
local host = require "drip_host"

local json = { null = cjson.null }

-- json.array(t) -> t, marked as a list so that it encodes as [] when empty
local ARRAY = { __jsontype = "array" }
function json.array(t) return setmetatable(t or {}, ARRAY) end

cjson.decode_invalid_numbers(false)
cjson.decode_max_depth(64)

-- Empty arrays. lua-cjson decodes [] as an empty table, which encodes back
-- as {}: an event's "products":[] would reach a webhook as {}, and a trait
-- "tags":[] would be stored as {}. Text with an empty array outside a string
-- (rare: found by one memchr and a match) has each one replaced by a marked
-- one-element array before decoding, and the marked arrays are then made
-- json.array() tables, which encode as [].
local EMPTY_MARK = "\0[]"
local MARKED_EMPTY = '[{"\\u0000[]":1}]'

-- the position of the quote that closes the string opening at `at`, or nil
local function string_end(text, at)
  local pos = at + 1
  while true do
    local c = text:find('["\\]', pos)
    if not c or text:byte(c) == 34 then return c end
    pos = c + 2 -- a backslash escapes the byte after it
  end
end

-- text with each [] outside a string written as MARKED_EMPTY
local function mark_empty_arrays(text)
  local out, from, pos = {}, 1, 1
  while true do
    local at = text:find('["%[]', pos)
    if not at then break end
    if text:byte(at) == 34 then
      local close = string_end(text, at)
      if not close then break end
      pos = close + 1
    else
      local _, close = text:find("^%[%s*%]", at)
      if close then
        out[#out + 1] = text:sub(from, at - 1) .. MARKED_EMPTY
        from = close + 1
      end
      pos = (close or at) + 1
    end
  end
  out[#out + 1] = text:sub(from)
  return table.concat(out)
end

local function is_marked_empty(v)
  return type(v) == "table" and v[2] == nil and type(v[1]) == "table" and v[1][EMPTY_MARK] == 1 and next(v[1], next(v[1])) == nil
end

local function restore_empty_arrays(t)
  for k, v in pairs(t) do
    if is_marked_empty(v) then t[k] = json.array()
    elseif type(v) == "table" then restore_empty_arrays(v) end
  end
  return t
end

-- json.decode(text) -> value | nil, error message. The usual text is decoded
-- by host.decode_json; what it is not sure of, by lua-cjson as below.
local decode_json = host.decode_json
local decode_with_cjson
function json.decode(text)
  if type(text) == "string" then
    local quick = decode_json(text, ARRAY) -- (raises only when out of memory)
    if quick ~= nil then return quick end
  end
  return decode_with_cjson(text)
end

-- json.decode by lua-cjson alone: the reference host.decode_json is tested against
decode_with_cjson = function(text)
  local marked = text:find("[", 1, true) and text:find("%[%s*%]") and mark_empty_arrays(text)
  local ok, value = pcall(cjson.decode, marked or text)
  if not ok and marked then ok, value = pcall(cjson.decode, text) end -- the error as the text has it
  if not ok then return nil, (tostring(value):gsub("^.-: ", "")) end
  if marked and type(value) == "table" then
    if is_marked_empty(value) then return json.array() end
    restore_empty_arrays(value)
  end
  return value
end

json.decode_with_cjson = decode_with_cjson

-- json.decode_input(text) -> value | nil, error message: json.decode for
-- text from outside (event lines, HTTP bodies), which must be UTF-8 (RFC
-- 8259). Other bytes (Latin-1, Windows-1251) are refused here, not stored and
-- sent on inside messages.
local utf8_error = host.utf8_error
function json.decode_input(text)
  local bad = utf8_error(text)
  if bad then return nil, string.format("not UTF-8 (byte %d): JSON text must be UTF-8", bad) end
  return json.decode(text)
end

local quote = host.quote
json.quote = quote

local function number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if math.type(n) == "integer" then return tostring(n) end
  if n == math.floor(n) and math.abs(n) < 2^53 then return string.format("%d", n) end
  return string.format("%.14g", n)
end
json.number = number

local function is_array(t)
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local encode, lua_encode
local encode_json = host.encode_json

-- The C encoder; a table with both number and string keys is encoded in Lua.
encode = function(v) return encode_json(v) or lua_encode(v) end

-- seen: the tables being encoded by the Lua encoder (nil: use the C one for values)
local function encode_object(t, keys, seen)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if v ~= nil then parts[#parts + 1] = quote(tostring(k)) .. ":" .. (seen and lua_encode(v, seen) or encode(v)) end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function sorted_keys(t)
  local keys, mixed = {}, false
  for k in pairs(t) do
    local tk = type(k)
    if tk == "string" then keys[#keys + 1] = k
    elseif tk == "number" then
      keys[#keys + 1] = k
      mixed = true
    end
  end
  if mixed then
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  else
    table.sort(keys)
  end
  return keys
end

lua_encode = function(v, seen)
  local tv = type(v)
  if tv == "string" then return quote(v)
  elseif tv == "number" then return number(v)
  elseif tv == "boolean" then return tostring(v)
  elseif v == nil or v == cjson.null then return "null"
  elseif tv == "table" then
    if next(v) == nil and getmetatable(v) == ARRAY then return "[]" end
    seen = seen or {}
    if seen[v] then error("cannot encode a table that contains itself", 0) end
    seen[v] = true
    local out
    if is_array(v) then
      local parts = {}
      for i = 1, #v do parts[i] = lua_encode(v[i], seen) end
      out = "[" .. table.concat(parts, ",") .. "]"
    else
      out = encode_object(v, sorted_keys(v), seen)
    end
    seen[v] = nil
    return out
  end
  error("cannot encode a " .. tv .. " as JSON", 0)
end

-- json.encode(value) -> text, keys sorted
json.encode = encode

-- the same in Lua only: the reference the C encoder is tested against
function json.encode_in_lua(v) return lua_encode(v) end

-- json.encode_ordered(t, keys) -> text with `keys` first in that order, then the rest sorted
function json.encode_ordered(t, keys)
  local all, listed = {}, {}
  for _, k in ipairs(keys) do
    if t[k] ~= nil then all[#all + 1] = k end
    listed[k] = true
  end
  for _, k in ipairs(sorted_keys(t)) do
    if not listed[k] then all[#all + 1] = k end
  end
  return encode_object(t, all)
end

return json
