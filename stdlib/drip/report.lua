-- drip.report — how simulate shows records: JSON Lines, or a readable table
-- followed by a funnel summary per journey and sends per channel.
local json = require "drip.json"

local report = {}

local function value(v) return type(v) == "string" and json.quote(v) or json.encode(v) end

-- ',"key":value', or "" for a missing value
local function member(key, v)
  if v == nil then return "" end
  return ',"' .. key .. '":' .. value(v)
end

-- "1 message", "3 messages": a count with the word for one or for more
function report.count(n, one, more) return string.format("%d %s", n, n == 1 and one or more) end

-- a share (0..1; nil as 0) as people read it: "12.5%"
function report.percent(x) return string.format("%.1f%%", (x or 0) * 100) end

-- One record as a JSON line, with its line end: at, contact, journey, kind
-- (every record has at and kind), then the kind's fields (fields_json: their
-- object, already encoded). Made in C (host.record_line) in one piece: a run
-- writes a line per record, and each piece of one is garbage to collect.
local quote, sub = json.quote, string.sub
local record_line = require("drip_host").record_line
function report.jsonl(at, contact, journey, kind, fields_json)
  local line = record_line(at, contact, journey, kind, fields_json)
  if line then return line end
  local more = #fields_json > 2 -- (a contact or journey that is not a string)
  return '{"at":' .. quote(at) .. member("contact", contact) .. member("journey", journey)
    .. ',"kind":' .. quote(kind) .. (more and "," or "") .. (more and sub(fields_json, 2) or "}") .. "\n"
end

-- The columns a code point takes in a terminal: none for joiners, combining
-- marks (accents, Arabic vowel signs) and variation selectors; two for wide
-- East Asian characters and emoji; one for the rest.
local ZERO = { { 0x0300, 0x036F }, { 0x0610, 0x061A }, { 0x064B, 0x065F }, { 0x0670, 0x0670 }, { 0x06D6, 0x06ED },
               { 0x200B, 0x200F }, { 0xFE00, 0xFE0F }, { 0xFEFF, 0xFEFF } }
local WIDE = { { 0x1100, 0x115F }, { 0x2E80, 0xA4CF }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF }, { 0xFE30, 0xFE4F },
               { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x1F300, 0x1FAFF }, { 0x20000, 0x3FFFD } }
local function within(ranges, c)
  for i = 1, #ranges do
    if c >= ranges[i][1] and c <= ranges[i][2] then return true end
  end
  return false
end
local function columns(c)
  if c < 0x0300 then return 1 end
  if within(ZERO, c) then return 0 end
  return within(WIDE, c) and 2 or 1
end

-- display width of UTF-8 text in a terminal's columns (bytes, for text that is not UTF-8)
local function width(s)
  if not s:find("[\128-\255]") then return #s end
  if not utf8.len(s) then return #s end
  local n = 0
  for _, c in utf8.codes(s) do n = n + columns(c) end
  return n
end
report.width = width

-- s padded with spaces to n columns
local function pad(s, n)
  s = tostring(s)
  return s .. string.rep(" ", math.max(0, n - width(s)))
end
report.pad = pad

local function clip(s, n)
  s = tostring(s):gsub("%s+", " ")
  if width(s) <= n then return s end
  if not utf8.len(s) then return s:sub(1, n - 1) .. "…" end
  local used = 0
  for at, c in utf8.codes(s) do
    used = used + columns(c)
    if used > n - 1 then return s:sub(1, at - 1) .. "…" end
  end
  return s
end

-- A long SMS's cost, formatted into `fmt`: "2 segments, UCS-2 because of ’";
-- "" for one segment or another channel.
function report.segments_note(rec, fmt)
  local n = tonumber(rec.segments)
  if not n or n < 2 then return "" end
  local note = string.format("%d segments, %s", n, rec.encoding)
  if type(rec.ucs2_chars) == "string" then note = note .. " because of " .. rec.ucs2_chars end
  return string.format(fmt, note)
end

-- the kinds only a store's records have (drip records): waits, delivery
-- states, opens, clicks and unsubscribes
local function describe_stored(rec)
  local k = rec.kind
  if k == "wait" then
    if not rec.event then return tostring(rec.op) .. ": its time came" end
    return string.format("%s %s: %s", rec.op, rec.event, rec.ended_by == "timeout" and "timed out" or "it came")
  elseif k == "delivery" then
    local d = type(rec.detail) == "table" and rec.detail or {}
    local said = d.http and " (HTTP " .. json.number(d.http) .. ")" or d.smtp and " (SMTP " .. json.number(d.smtp) .. ")"
      or d.feedback and " (" .. d.feedback .. " told of it later)" or ""
    return string.format("%s %s%s", rec.channel, rec.status, said)
  elseif k == "opened" or k == "clicked" then
    return string.format("%s %s%s", rec.channel, k, rec.url and ("  " .. clip(rec.url, 60)) or "")
  elseif k == "unsubscribed" or k == "resubscribed" then
    return string.format("%s from %s%s", k, tostring(rec.topic or rec.channel), rec.reason and " (" .. rec.reason .. ")" or "")
  end
  return k
end

local function describe(rec)
  local k = rec.kind
  if k == "enter" then return "entered on " .. tostring(rec.event)
  elseif k == "send" then
    local m = rec.message or {}
    local what = m.subject or m.title or m.text or m.body or ""
    return string.format("%s → %s  %s%s%s", rec.channel, rec.to, clip(what, 60),
      rec.kind_of_message == "transactional" and "  [transactional]" or "", report.segments_note(rec, "  [%s]"))
  elseif k == "suppress" then return string.format("%s suppressed: %s", rec.channel, rec.reason)
  elseif k == "defer" then return string.format("%s deferred (%s) until %s", rec.channel, rec.reason, rec["until"])
  elseif k == "variant" then return string.format("split %s → %s", rec.split, rec.variant)
  elseif k == "convert" then
    local v = rec.value ~= json.null and rec.value and (" value " .. json.number(rec.value)) or ""
    return "converted" .. (rec.event ~= json.null and rec.event and (" on " .. rec.event) or "") .. v
  elseif k == "exit" then
    local s = "exit: " .. rec.reason
    if rec.detail then s = s .. " (" .. rec.detail .. ")" end
    if rec.error then s = s .. ": " .. clip(rec.error, 100) end
    return s
  elseif k == "log" then return "log: " .. clip(rec.message, 80)
  end
  return describe_stored(rec)
end

-- make(key), kept by key (at most `limit` keys; the map is dropped whole at
-- the limit): a table's columns repeat from line to line
local function kept(limit, make)
  local map, n = {}, 0
  return function(key)
    if key == nil then return make(key) end
    local value = map[key]
    if value == nil then
      value = make(key)
      if n >= limit then map, n = {}, 0 end
      map[key], n = value, n + 1
    end
    return value
  end
end
local minute_column = kept(1000, function(at) return (at:sub(1, 16):gsub("T", " ")) end)
local contact_column = kept(10000, function(contact) return pad(clip(contact, 14), 14) end)
local journey_column = kept(1000, function(journey) return pad(journey, 20) end)

function report.line(rec)
  return string.format("%s  %s %s %s", minute_column(rec.at), contact_column(rec.contact),
    journey_column(rec.journey or "-"), describe(rec))
end

-- Funnel: counts records as they pass, prints the summary at the end.
function report.funnel()
  local f = { journeys = {}, channels = {} }
  local function j(name)
    local t = f.journeys[name]
    if not t then
      t = { entered = 0, converted = 0, exited = 0, failed = 0, sent = 0 }
      f.journeys[name] = t
    end
    return t
  end
  local function ch(name)
    local t = f.channels[name]
    if not t then
      t = { sent = 0, deferred = 0, suppressed = 0, reasons = {}, segments = 0 }
      f.channels[name] = t
    end
    return t
  end
  function f.add(rec)
    local t = j(rec.journey)
    if rec.kind == "enter" then t.entered = t.entered + 1
    elseif rec.kind == "convert" then t.converted = t.converted + 1
    elseif rec.kind == "exit" then
      if rec.reason == "error" then t.failed = t.failed + 1 else t.exited = t.exited + 1 end
    elseif rec.kind == "send" then
      t.sent = t.sent + 1
      local c = ch(rec.channel)
      c.sent, c.segments = c.sent + 1, c.segments + (rec.segments or 0)
    elseif rec.kind == "defer" then
      local c = ch(rec.channel)
      c.deferred = c.deferred + 1
    elseif rec.kind == "suppress" then
      local c = ch(rec.channel)
      c.suppressed = c.suppressed + 1
      c.reasons[rec.reason] = (c.reasons[rec.reason] or 0) + 1
    end
  end
  -- Start from what a store holds already (stats.collect's list), so that a
  -- run continuing a --db counts the whole simulation, as one run would; and
  -- list the journeys named even when nobody enters them.
  function f.seed(list, names)
    for _, name in ipairs(names) do j(name) end
    for _, js in ipairs(list) do
      local t = j(js.journey)
      t.entered, t.converted, t.failed = js.entered, js.converted, js.failed
      for reason, n in pairs(js.exited) do
        if reason ~= "error" then t.exited = t.exited + n end
      end
      for name, m in pairs(js.channels) do
        local c = ch(name)
        t.sent, c.sent, c.deferred = t.sent + m.simulated, c.sent + m.simulated, c.deferred + m.deferred
        for reason, n in pairs(m.suppressed) do
          c.suppressed, c.reasons[reason] = c.suppressed + n, (c.reasons[reason] or 0) + n
        end
      end
      if js.sms_segments then ch("sms").segments = ch("sms").segments + js.sms_segments end
    end
  end
  function f.render()
    local out = { "", "Funnel" }
    out[#out + 1] = string.format("  %s %8s %16s %8s %8s %8s %8s", pad("journey", 22), "entered", "converted",
      "exited", "failed", "active", "sends")
    local names = {}
    for n in pairs(f.journeys) do names[#names + 1] = n end
    table.sort(names)
    for _, n in ipairs(names) do
      local t = f.journeys[n]
      local rate = t.entered > 0 and string.format("%d (%.0f%%)", t.converted, 100 * t.converted / t.entered) or "0"
      out[#out + 1] = string.format("  %s %8d %16s %8d %8d %8d %8d", pad(n, 22), t.entered, rate, t.exited,
        t.failed, t.entered - t.exited - t.failed, t.sent)
    end
    out[#out + 1] = ""
    out[#out + 1] = "Sends per channel"
    local chans, deferred = {}, 0
    for n, c in pairs(f.channels) do chans[#chans + 1], deferred = n, deferred + c.deferred end
    table.sort(chans)
    for _, n in ipairs(chans) do
      local c = f.channels[n]
      local reasons = {}
      for r, count in pairs(c.reasons) do reasons[#reasons + 1] = r .. " " .. count end
      table.sort(reasons)
      out[#out + 1] = string.format("  %s sent %6d   %ssuppressed %6d%s%s", pad(n, 10), c.sent,
        deferred > 0 and string.format("deferred %6d   ", c.deferred) or "", c.suppressed,
        #reasons > 0 and ("  (" .. table.concat(reasons, ", ") .. ")") or "",
        c.segments > 0 and string.format("  in %d SMS segment%s", c.segments, c.segments == 1 and "" or "s") or "")
    end
    if #chans == 0 then out[#out + 1] = "  (nothing sent)" end
    if deferred > 0 then
      out[#out + 1] = "  (deferred: held by quiet hours; `drip run` sends them when the hours end)"
    end
    return table.concat(out, "\n")
  end
  return f
end

return report
