-- drip.cmd_stats — `drip stats [JOURNEY] [--since DUR] [--format table|json]`.
-- Owns printing what drip.stats collects: per journey the funnel, exits by
-- reason, steps reached, messages per channel (sent, suppressed by reason,
-- failed; the segments of SMS), each message with the conversions it was
-- the last message before, revenue, and each split's variants with a
-- 95% Wilson interval and the two-proportion test against the first variant
-- (the control group, when one is named so: see stats.is_control). In
-- English, Persian or Russian (--lang; the words are drip.stats_words').
local duration = require "drip.duration"
local json = require "drip.json"
local stats = require "drip.stats"
local report = require "drip.report"
local host = require "drip_host"
local time = require "drip.time"
local stats_words = require "drip.stats_words"

local cmd = {}

local pct = report.percent

local function sorted_pairs(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local i = 0
  return function()
    i = i + 1
    return keys[i], t[keys[i]]
  end
end

-- ", opened 40 (33.3%), clicked 12 (10.0%)" of `sent` (tracked: see drip.tracking), into parts
local function add_engagement(W, parts, x, sent)
  for i, k in ipairs({ "opened", "clicked" }) do
    if (x[k] or 0) > 0 then
      parts[#parts + 1] = string.format("%s %d (%s)", W.channel_heads[2 + i], x[k], sent > 0 and pct(x[k] / sent) or "-")
    end
  end
end

local function channel_line(W, name, c, segments)
  local parts = {}
  for _, k in ipairs(stats_words.STATUSES) do
    if (c[k] or 0) > 0 then parts[#parts + 1] = W.statuses[k] .. " " .. c[k] end
  end
  add_engagement(W, parts, c, c.sent)
  local why = {}
  for reason, n in sorted_pairs(c.suppressed) do why[#why + 1] = reason .. " " .. n end
  if #why > 0 then parts[#parts + 1] = W.cli.suppressed .. ": " .. table.concat(why, ", ") end
  local billed = segments and W.cli.segments(segments) or ""
  return string.format("  %-8s %s%s", name, table.concat(parts, ", "), billed)
end

-- one message of the journey: how many went out, (tracked) opened and
-- clicked, and the conversions it was the last message before, with their revenue
local function message_line(W, m)
  local label = m.message ~= "" and "“" .. m.message .. "”" or W.no_text
  local parts = { string.format("    %-8s %s  %d", m.channel, label, m.sent) }
  add_engagement(W, parts, m, m.sent)
  if (m.converted or 0) > 0 then
    parts[#parts + 1] = string.format(W.cli.converted_after, m.converted, pct(m.converted / m.sent))
  end
  if (m.revenue or 0) ~= 0 then parts[#parts + 1] = W.funnel[5] .. " " .. json.number(m.revenue) end
  return table.concat(parts, ", ")
end

-- "  label    " followed by text: labels in one column of 9
local function labelled(label, text) return "  " .. report.pad(label, 8) .. " " .. text end

local function split_lines(W, split, variants, say)
  say("  " .. W.cli.split:format(split))
  local width = 0 -- in characters: variant names may be Persian or Russian
  for _, v in ipairs(variants) do width = math.max(width, report.width(v.variant)) end
  for i, v in ipairs(variants) do
    local test = ""
    if i > 1 and v.z then
      local base = variants[1].variant
      test = string.format("   %s: z %.2f, p %.3f — %s", W.cli.versus:format(base), v.z, v.p_value,
        v.p_value >= 0.05 and W.unclear or (v.z > 0 and W.better or W.worse):format(base))
    end
    say(string.format("    %s  %s %d, %s %d, %s [%s–%s]%s", report.pad(v.variant, width), W.funnel[1], v.entered,
      W.funnel[3], v.converted, pct(v.rate), pct(v.low), pct(v.high), test))
  end
end

-- journey j of stats.collect as the table prints it, line by line through
-- say(text), in the words of `lang` (English when nil)
function cmd.tell_journey(j, say, lang)
  local W = stats_words.of(lang)
  local f = W.funnel
  say(j.journey .. (j.paused_since and W.cli.paused(j.paused_since, j.refused_while_paused) or ""))
  say(string.format("  %s %d   %s %d   %s %d (%s)   %s %d   %s %s", f[1], j.entered, f[2], j.active, f[3], j.converted,
    pct(j.conversion_rate or 0), f[4], j.failed, f[5], json.number(j.revenue)))
  local exits = {}
  for reason, n in sorted_pairs(j.exited) do
    exits[#exits + 1] = (W.cli.exit_codes and reason or W.exit_reasons[reason] or reason) .. " " .. n
  end
  if #exits > 0 then say(labelled(W.cli.exited, table.concat(exits, ", "))) end
  local steps = {}
  for _, s in ipairs(j.steps) do steps[#steps + 1] = string.format("%d %s %d", s.step, s.call, s.reached) end
  if #steps > 0 then say(labelled(W.cli.steps, table.concat(steps, " · "))) end
  for name, c in sorted_pairs(j.channels) do say(channel_line(W, name, c, name == "sms" and j.sms_segments)) end
  if #j.messages > 0 then say("  " .. W.cli.messages) end
  for _, m in ipairs(j.messages) do say(message_line(W, m)) end
  for split, variants in sorted_pairs(j.splits) do split_lines(W, split, variants, say) end
end

-- why journey `name` has no stats: a name the store has never seen (with the
-- names it has, and the nearest), or a journey with no instances (in the period)
local function not_found(W, name, names, period)
  for _, known in ipairs(names) do
    if known == name then return W.cli.none_of:format(name, period or "") end
  end
  return require("drip.cli").unknown_journey(name, names)
end

function cmd.run(opts, usage)
  local only = opts.args[1]
  local format = opts.format or "table"
  if format ~= "table" and format ~= "json" then return usage("--format is table or json") end
  if opts.lang and not stats_words.LANGUAGES[opts.lang] then return usage("--lang: en, fa or ru") end
  local W = stats_words.of(opts.lang)
  local since, period = 0, nil -- period: " that entered since ..." when --since limits it
  local store, conf = require("drip.cli").open_store(opts, "stats")
  if not store then return conf end
  if opts.since then
    local secs, derr = duration.parse(opts.since)
    if not secs then
      store:close()
      return usage("--since: " .. derr)
    end
    local clock = tonumber(store:meta("clock")) or 0
    local now = math.max(clock, host.time())
    since = now - secs
    period = W.cli.period:format(time.iso(since), opts.since,
      now > host.time() and W.cli.store_clock:format(time.iso(now)) or W.cli.now)
  end
  local list = json.array()
  for _, j in ipairs(stats.collect(store, since)) do
    if not only or j.journey == only then list[#list + 1] = j end
  end
  local names = only and #list == 0 and store:journey_names()
  store:close()
  if only and #list == 0 then
    io.stderr:write("drip stats: ", not_found(W, only, names, period), "\n")
    return 1
  end
  if format == "json" then
    print(json.encode({ journeys = list, since = opts.since and time.iso(since) or nil }))
  else
    if period and #list > 0 then print(W.cli.instances:format(period) .. "\n") end
    for i, j in ipairs(list) do
      if i > 1 then print("") end
      cmd.tell_journey(j, print, opts.lang)
    end
    if #list == 0 then print(W.cli.no_instances:format(period or "")) end
  end
  return 0
end

return cmd
