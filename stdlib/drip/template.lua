-- drip.template — "{{contact.first_name | default "there"}}" in message fields.
-- A template is compiled once (cached) into a list of literal and
-- placeholder parts. Placeholders read dotted paths from a scope table;
-- filters transform the value. In HTML fields values are escaped.
local json = require "drip.json"
local suggest = require "drip.suggest"
local host = require "drip_host"

local template = {}

-- The templates in dir, by name: { [name] = { [""] = base, [tag] = base } },
-- where base is how the files spell it: welcome.txt and welcome.html give
-- welcome[""] = "welcome", welcome.fa-IR.txt gives welcome["fa-ir"] =
-- "welcome.fa-IR". A file counts when it is .txt or .html; NAME.LANG.subject,
-- .preheader and .title (a push's) go with them. A name that is itself dotted ("order.v2") is a name.
local TEMPLATE_FILE = { txt = true, html = true }
function template.index(dir)
  local index = {}
  local function add(name, tag, base)
    index[name] = index[name] or {}
    index[name][tag] = base
  end
  for _, file in ipairs(host.list_dir(dir) or {}) do
    local base, ext = file:match("^(.+)%.(%w+)$")
    if base and TEMPLATE_FILE[ext] then
      add(base, "", base)
      local name, tag = base:match("^(.+)%.(%a%a%a?)$")
      if not name then name, tag = base:match("^(.+)%.(%a%a%a?%-[%w%-]+)$") end
      if name then add(name, tag:lower(), base) end
    end
  end
  return index
end

-- "template 'welcom' not found (looked for DIR/welcom.txt and .html) (did
-- you mean 'welcome'?)", for a message's template = "name" with no file in
-- dir; when the name has files only in some languages (bases: its entry in
-- template.index), it says which.
function template.not_found(name, dir, bases)
  local languages = {}
  for tag, base in pairs(bases or {}) do
    if tag ~= "" then languages[#languages + 1] = base end
  end
  if #languages > 0 then
    table.sort(languages)
    return string.format("template '%s' has no version for this contact's language and none for the rest (%s/%s.txt "
      .. "or .html): there are only %s", name, dir, name, table.concat(languages, ", "))
  end
  local names = {}
  for base in pairs(template.index(dir)) do names[#names + 1] = base end
  table.sort(names)
  local near = suggest.nearest(tostring(name), names)
  return string.format("template '%s' not found (looked for %s/%s.txt and .html)%s", name, dir, name,
    near and string.format(" (did you mean '%s'?)", near) or "")
end

local filters = {}
template.filters = filters

-- default "x": the value when missing or empty
function filters.default(value, fallback)
  if value == nil or value == "" or value == json.null then return fallback end
  return value
end

-- date "fa" | "ru" | "en", number "fa" | "ru", plural("товар", "товара", "товаров"),
-- money "IRR" | "RUB" | "EUR", upper and lower (Cyrillic, Greek and Latin letters)
local locale = require "drip.locale"
filters.date, filters.number, filters.plural, filters.money = locale.date, locale.number, locale.plural, locale.money
filters.upper, filters.lower = locale.upper, locale.lower

local FILTER_NAMES = suggest.names(filters)

-- 'unknown filter "defualt" in "{{x | defualt "y"}}" (did you mean "default"?)'
local function unknown_filter(name, expr)
  local best = suggest.nearest(name, FILTER_NAMES)
  return string.format('unknown filter "%s" in "{{%s}}" (%s)', name, expr,
    best and string.format('did you mean "%s"?', best) or "filters: " .. table.concat(FILTER_NAMES, ", "))
end

-- Filter arguments: "x", 'x' or bare numbers/words, separated by spaces or
-- commas, optionally in parentheses: default "there", plural("a", "b", "c").
local function parse_args(text, expr)
  local args = {}
  local s = text:gsub("^%s*%(", ""):gsub("%)%s*$", "")
  local pos = 1
  while true do
    pos = select(2, s:find("^[%s,]*", pos)) + 1
    if pos > #s then break end
    local q = s:sub(pos, pos)
    if q == '"' or q == "'" then
      local close = s:find(q, pos + 1, true)
      if not close then error(string.format('unclosed quote in "{{%s}}"', expr), 0) end
      args[#args + 1] = s:sub(pos + 1, close - 1)
      pos = close + 1
    else
      local tok = s:match("^[^%s,]+", pos)
      args[#args + 1] = tonumber(tok) or tok
      pos = pos + #tok
    end
  end
  return args
end

local function compile_placeholder(expr, src)
  local segments = {}
  for piece in (expr .. "|"):gmatch("([^|]*)|") do segments[#segments + 1] = piece end
  local path = segments[1]:match("^%s*([%w_%.]*[%w_][%w_%.]*)%s*$")
  if not path then error(string.format('bad placeholder "{{%s}}" in "%s"', expr, src), 0) end
  local keys = {}
  for k in path:gmatch("[^%.]+") do keys[#keys + 1] = tonumber(k) or k end
  local chain = {}
  for i = 2, #segments do
    local name, rest = segments[i]:match("^%s*([%a_][%w_]*)(.*)$")
    if not name or not filters[name] then error(unknown_filter(name or segments[i]:gsub("^%s+", ""), expr), 0) end
    chain[#chain + 1] = { fn = filters[name], args = parse_args(rest, expr), name = name }
  end
  return { keys = keys, filters = chain, path = path, defaulted = expr:find("|%s*default") ~= nil }
end

-- compiled parts by source; bounded, as a journey may build its text per
-- contact ("Order " .. id) and drip run lives for months
local compiled, compiled_n = {}, 0
local COMPILED_MAX = 2000

-- template.compile(src) -> parts (raises on a bad placeholder): each a
-- literal { text = } or a placeholder { keys =, filters =, path =, defaulted = };
-- parts.text: the whole text when there is no placeholder
function template.compile(src)
  local parts = compiled[src]
  if parts then return parts end
  parts = {}
  local pos = 1
  while true do
    local s, e, expr = src:find("{{(.-)}}", pos)
    if not s then break end
    if s > pos then parts[#parts + 1] = { text = src:sub(pos, s - 1) } end
    parts[#parts + 1] = compile_placeholder(expr, src)
    pos = e + 1
  end
  if pos <= #src then parts[#parts + 1] = { text = src:sub(pos) } end
  if #parts == 0 then parts.text = "" elseif #parts == 1 then parts.text = parts[1].text end
  if compiled_n >= COMPILED_MAX then compiled, compiled_n = {}, 0 end
  compiled[src], compiled_n = parts, compiled_n + 1
  return parts
end

-- the value at `keys` in the table scope, or nil and the table where the
-- path ended with the key it lacked (nil when it ended on something not a table)
local null = json.null
local function lookup(scope, keys)
  local parent, k = scope, keys[1]
  local v = scope[k]
  for i = 2, #keys do
    if v == nil or v == null then return nil, parent, k end
    if type(v) ~= "table" then return nil end
    parent, k = v, keys[i]
    v = v[k]
  end
  if v == nil or v == null then return nil, parent, k end
  return v
end

-- Count a placeholder's value as found or missing in `watch` (path -> { found,
-- missing, defaulted, near = the nearest name where it was missing }).
local function note(watch, part, found, parent, key)
  local w = watch[part.path]
  if not w then
    w = { found = 0, missing = 0, defaulted = part.defaulted }
    watch[part.path] = w
  end
  if found then w.found = w.found + 1 return end
  w.missing = w.missing + 1
  if w.near == nil and type(key) == "string" then
    local near = suggest.nearest(key, suggest.names(parent))
    w.near = near and (part.path:sub(1, #part.path - #key) .. near) or false
  end
end

local function to_text(v)
  local kind = type(v)
  if kind == "string" then return v end
  if v == nil then return "" end
  if kind == "number" then return json.number(v) end
  if kind == "table" then return json.encode(v) end
  return tostring(v)
end

local html_escapes = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
function template.escape_html(s) return (s:gsub("[&<>\"']", html_escapes)) end

-- a URL's path part or query value percent-encoded: all but letters, digits and -._~
local function percent(c) return string.format("%%%02X", c:byte()) end
function template.escape_url(s) return (tostring(s):gsub("[^%w%-%._~]", percent)) end

-- HTML's character references decoded: &amp; and the other named ones
-- escape_html makes (and &nbsp;, as a plain space), &#39; and &#x2014;
local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'", nbsp = " " }
local function entity(e)
  local code = e:match("^#[xX](%x+)$")
  code = code and tonumber(code, 16) or tonumber(e:match("^#(%d+)$") or "")
  if code then return code < 0x110000 and utf8.char(code) or "" end
  return ENTITIES[e:lower()]
end
function template.unescape_html(s) return (s:gsub("&(#?%w+);", entity)) end

-- {{> name}} puts the template `name` in (its .html in HTML, else its .txt):
-- a footer or signature written once for every message.
template.PARTIAL = "{{>%s*([%w_%-%.]+)%s*}}"
local MAX_DEPTH = 5

-- template.expand(src, partial) -> src with each {{> name}} replaced by
-- partial(name), itself expanded (raises past MAX_DEPTH: one that includes itself)
function template.expand(src, partial, depth)
  if not src:find("{{>", 1, true) then return src end
  depth = (depth or 0) + 1
  if depth > MAX_DEPTH then
    error(string.format("template: partials nested more than %d deep (does one include itself?)", MAX_DEPTH), 0)
  end
  return (src:gsub(template.PARTIAL, function(name) return template.expand(partial(name), partial, depth) end))
end

-- the text of one part of a template (see template.render)
local function part_text(part, scope, html, watch)
  local text = part.text
  if text then return text end
  local v, parent, key = lookup(scope, part.keys)
  if watch then note(watch, part, v ~= nil, parent, key) end
  local filters = part.filters
  for j = 1, #filters do v = filters[j].fn(v, table.unpack(filters[j].args)) end
  text = to_text(v)
  return html and template.escape_html(text) or text
end

-- template.render(src, scope, html, watch) -> text
-- watch (optional): counts each placeholder's values found and missing (see note)
function template.render(src, scope, html, watch)
  local parts = compiled[src] or template.compile(src)
  local text = parts.text
  if text then return text end -- no placeholder
  local n = #parts
  if n == 2 then -- (the usual: text and one placeholder, joined with no table)
    return part_text(parts[1], scope, html, watch) .. part_text(parts[2], scope, html, watch)
  end
  local out = {}
  for i = 1, n do out[i] = part_text(parts[i], scope, html, watch) end
  return table.concat(out)
end

return template
