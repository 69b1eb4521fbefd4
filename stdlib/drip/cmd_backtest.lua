-- drip.cmd_backtest — `drip backtest --journeys NEW [--since DUR]`: what
-- other versions of journeys would have done over a past period. The
-- period's stored events (not those journeys emitted) are replayed in
-- timestamp order on the virtual clock through NEW, in a scratch in-memory
-- store that starts with every contact and the 90 days of events and
-- messages before the period; nothing is delivered. Then, per journey of NEW, what would have
-- happened is printed beside what did: contacts entered and converted, each
-- message (channel and template or subject) decided, and a sample of the
-- contacts whose path (messages in order, conversion) changes.
local Store = require "drip.store"
local Engine = require "drip.engine"
local events = require "drip.events"
local json = require "drip.json"
local report = require "drip.report"
local time = require "drip.time"
local duration = require "drip.duration"
local collector = require "drip.collector"
local simulate = require "drip.cmd_simulate"
local host = require "drip_host"
local cli = require "drip.cli"

local cmd = {}

local HISTORY = 90 * 86400 -- events before the period the scratch store keeps
local PAGE = 2000
local SAMPLE = 10

local function err(msg) io.stderr:write("drip backtest: ", msg, "\n") end

-- Replay the period through the journeys in `files`
-- -> scratch store, events replayed, set of journey names | nil, error
local function replay(conf, files, dir, db, from, to)
  local scratch = assert(Store.open(":memory:", { synchronous = "OFF", page_size = simulate.BULK_PAGE_SIZE }))
  scratch:bulk_events()
  scratch:events_unique()
  scratch:own_instances()
  local n = scratch:replay_from(db, from, to, HISTORY)
  local engine = Engine.new({ store = scratch, conf = conf, warn = function(msg) err("warning: " .. msg) end })
  engine.now = from
  local problems = engine:load(files, dir)
  if #problems > 0 then return nil, table.concat(problems, "\n") end
  local after, read = 0, 0
  local collect, normal_collection = collector.batch()
  local progress = cli.progress_line(true) -- (the comparison prints at the end)
  repeat
    local page = scratch:replay_page(after, PAGE)
    for _, row in ipairs(page) do
      after = row[1]
      local ev = events.decode_stored(row[2], from)
      if ev then
        engine:run_until(ev.ts)
        engine:ingest(ev)
      end
    end
    read = read + #page
    collect()
    progress(read, engine.now)
  until #page < PAGE
  progress()
  engine:run_until(to)
  normal_collection()
  scratch:commit()
  local names = {}
  for name in pairs(engine.latest) do names[name] = true end
  return scratch, n, names
end

-- "email “Your cart is waiting”"
local function message_name(channel, label)
  return label and label ~= "" and string.format("%s “%s”", channel, label) or channel
end

-- Per journey in `names`: entered, contacts, converted, revenue, messages (name -> n),
-- suppressed, and paths (contact -> "entered · email “x” · converted").
local function summarize(rows, names)
  local out = {}
  for name in pairs(names) do
    out[name] = { entered = 0, contacts = 0, converted = 0, revenue = 0, messages = {}, suppressed = 0, paths = {} }
  end
  for _, r in ipairs(rows.entered) do
    local j = out[r[1]]
    if j then j.entered, j.contacts, j.converted, j.revenue = r[2], r[3], r[4], r[5] end
  end
  for _, r in ipairs(rows.messages) do
    local j = out[r[1]]
    if j and r[4] == 1 then
      j.suppressed = j.suppressed + r[5]
    elseif j then
      local key = message_name(r[2], r[3])
      j.messages[key] = (j.messages[key] or 0) + r[5]
    end
  end
  local last_instance = {}
  for _, r in ipairs(rows.paths) do
    local j = out[r[1]]
    if j then
      local contact, id = r[2], r[3]
      local path = j.paths[contact] or {}
      j.paths[contact] = path
      if last_instance[r[1] .. "\0" .. contact] ~= id then
        last_instance[r[1] .. "\0" .. contact] = id
        path[#path + 1] = "entered"
        if r[4] == 1 then path.converted = (path.converted or 0) + 1 end
      end
      if r[5] and r[7] ~= "suppressed" then path[#path + 1] = message_name(r[5], r[6]) end
    end
  end
  for _, j in pairs(out) do
    for contact, path in pairs(j.paths) do
      local text = table.concat(path, " · ")
      if path.converted then text = text .. " · converted" end
      j.paths[contact] = text
    end
  end
  return out
end

-- Messages stored before drip kept step labels (schema 3) have none; then
-- both sides are compared by channel only. -> whether labels were dropped
local function unlabelled(rows)
  for _, r in ipairs(rows.messages) do
    if r[3] == nil and r[4] == 0 then return true end
  end
  return false
end

local function drop_labels(rows)
  for _, r in ipairs(rows.messages) do r[3] = nil end
  for _, r in ipairs(rows.paths) do r[6] = nil end
  return rows
end

local function sorted_keys(...)
  local seen, keys = {}, {}
  for _, t in ipairs({ ... }) do
    for k in pairs(t) do
      if not seen[k] then seen[k], keys[#keys + 1] = true, k end
    end
  end
  table.sort(keys)
  return keys
end

-- one journey's comparison (plain data for --format json)
local function compare(name, actual, backtest)
  local j = { journey = name, actual = actual, backtest = backtest, changed = 0, sample = json.array() }
  for _, contact in ipairs(sorted_keys(actual.paths, backtest.paths)) do
    local a, b = actual.paths[contact] or "", backtest.paths[contact] or ""
    if a ~= b then
      j.changed = j.changed + 1
      if #j.sample < SAMPLE then j.sample[#j.sample + 1] = { contact = contact, actual = a, backtest = b } end
    end
  end
  actual.paths, backtest.paths = nil, nil
  return j
end

local pad, columns = report.pad, report.width -- (in a terminal's columns: labels are often Persian or Russian)

local function journey_table(j)
  local a, b = j.actual, j.backtest
  local width = math.max(12, columns(j.journey))
  for _, key in ipairs(sorted_keys(a.messages, b.messages)) do width = math.max(width, columns(key) + 2) end
  local function print_row(label, x, y)
    local change = y - x
    print(string.format("  %s %9s %9s %9s", pad(label, width), json.number(x), json.number(y),
      change == 0 and "·" or string.format("%+g", change)))
  end
  print(string.format("\n%s %9s %9s %9s", pad(j.journey, width + 2), "actual", "backtest", "change"))
  return print_row
end

local function print_journey(j)
  local print_row = journey_table(j)
  local a, b = j.actual, j.backtest
  print_row("entered", a.entered, b.entered)
  print_row("converted", a.converted, b.converted)
  print_row("revenue", a.revenue, b.revenue)
  for _, key in ipairs(sorted_keys(a.messages, b.messages)) do
    print_row(key, a.messages[key] or 0, b.messages[key] or 0)
  end
  print_row("suppressed", a.suppressed, b.suppressed)
  if j.changed == 0 then
    print("  no contact's path changes")
    return
  end
  print(string.format("  %d contact%s' path changes%s:", j.changed, j.changed == 1 and "" or "s",
    j.changed > #j.sample and string.format(" (first %d)", #j.sample) or ""))
  for _, s in ipairs(j.sample) do
    print(string.format("    %s\n      actual:   %s\n      backtest: %s", s.contact,
      s.actual ~= "" and s.actual or "(not entered)", s.backtest ~= "" and s.backtest or "(not entered)"))
  end
end

-- A period with no events, in a store that has some (a simulation's clock
-- runs on past its last event): when they are, and the --since that reaches them.
local function warn_empty(store, from, to)
  local first, last = store:events_span()
  if not first then return end
  local reach = math.ceil((to - first) / 86400)
  err(string.format("warning: no stored events in the period; the store's events run from %s to %s, "
    .. "and --since %dd reaches back to the first", time.iso(first), time.iso(last), reach))
end

function cmd.run(opts, usage)
  if not opts.journeys then return usage("--journeys NEW is required (a directory or journey files)") end
  local format = opts.format or "table"
  if format ~= "table" and format ~= "json" then return usage("--format is table or json") end
  local period, derr = duration.parse(opts.since or "30d")
  if not period then return usage("--since: " .. derr) end
  local files, dir = simulate.locate(opts.journeys)
  if not files then err("--journeys: " .. dir) return 2 end
  if #files == 0 then err("no journey scripts in " .. table.concat(opts.journeys, ", ")) return 2 end

  local store, conf = cli.open_store(opts, "backtest")
  if not store then return conf end
  local to = tonumber(store:meta("clock")) or host.time()
  local from = to - period
  local started = host.clock()
  local scratch, n, names = replay(conf, files, dir, opts.db or conf.db, from, to)
  if not scratch then
    store:close()
    err(n)
    return 2
  end
  local seconds = host.clock() - started
  if n == 0 then warn_empty(store, from, to) end
  local pruned = tonumber(store:meta("pruned_before"))
  if pruned and pruned > from then
    err(string.format("warning: `drip prune` removed events and ended instances from before %s; before then "
      .. "both columns count only what it kept (--since %dd starts after it)", time.iso(pruned),
      math.floor((to - pruned) / 86400)))
  end
  local actual_rows, backtest_rows = store:backtest_rows(from, to), scratch:backtest_rows(from, to)
  local by_channel = unlabelled(actual_rows)
  if by_channel then drop_labels(actual_rows) drop_labels(backtest_rows) end
  local actual, backtest = summarize(actual_rows, names), summarize(backtest_rows, names)
  store:close()
  scratch:close()

  local result = { since = time.iso(from), ["until"] = time.iso(to), events = n, seconds = seconds, journeys = {},
                   messages_by = by_channel and "channel" or "step" }
  for _, name in ipairs(sorted_keys(names)) do
    result.journeys[#result.journeys + 1] = compare(name, actual[name], backtest[name])
  end
  if format == "json" then
    print(json.encode(result))
    return 0
  end
  print(string.format("backtest %s → %s: %d events replayed in %.2fs (%.0f events/s)", result.since, result["until"],
    n, seconds, n / math.max(seconds, 1e-6)))
  if by_channel then print("(this store's messages predate step labels: messages are compared per channel)") end
  for _, j in ipairs(result.journeys) do print_journey(j) end
  return 0
end

return cmd
