-- drip.cmd_backtest — `drip backtest --journeys NEW [--since DUR]`: what
-- other versions of journeys would have done over a past period. The
-- period's stored events (not those journeys emitted) are replayed in
-- timestamp order on the virtual clock through NEW, in a scratch in-memory
-- store that starts with every contact and the 90 days of events and
-- messages before the period; nothing is delivered. Then, per journey of NEW, what would have
-- happened is printed beside what did: contacts entered and converted, each
-- message (channel and template or subject) decided, and a sample of the
-- contacts whose path (messages in order, conversion) changes.
-- A journey's instances are one contact's, so the contacts are split in
-- --jobs partitions (by a hash of the id, as DESIGN.md partitions them),
-- each replayed and compared by a process of its own (`--part K/N`, which
-- prints its counts and sample as JSON), and those added up: the same
-- answer as one process's, on every core.
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
local MAX_JOBS = 8 -- processes by default, at most (one per core)

local function err(msg) io.stderr:write("drip backtest: ", msg, "\n") end

-- Replay the period through the journeys in `files`, for the contacts of
-- `part` ({ k, n }: partition k of n; nil: all), warnings through warn(msg)
-- -> rows of what would have happened (Store:backtest_rows), events
-- replayed, set of journey names | nil, error
local function replay(conf, files, dir, db, from, to, part, warn)
  local scratch = assert(Store.open(":memory:", { synchronous = "OFF", page_size = simulate.BULK_PAGE_SIZE,
                                                  private = true, scratch = true }))
  scratch:bulk_events()
  scratch:events_unique()
  scratch:own_instances()
  local n = scratch:replay_from(db, from, to, HISTORY, part)
  -- (math.random seeded by the contact and its entry, not by the scratch's
  -- instance ids, which depend on the partitions)
  local engine = Engine.new({ store = scratch, conf = conf, warn = warn, seed_by_contact = true })
  engine.now = from
  local problems = engine:load(files, dir)
  if #problems > 0 then
    scratch:close()
    return nil, table.concat(problems, "\n")
  end
  local after, read = 0, 0
  local collect, normal_collection = collector.batch()
  -- (the comparison prints at the end; the processes of other parts write to no terminal)
  local progress = cli.progress_line(true, part and string.format("part %d of %d: ", part[1] + 1, part[2]))
  repeat
    local page, last = scratch:replay_page(after, PAGE)
    after = last
    for i = 1, #page do
      local ev = page[i]
      if type(ev) == "string" then ev = events.decode_stored(ev, from) end
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
  local rows = scratch:backtest_rows(from, to)
  scratch:close()
  return rows, n, names
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
-- both sides are compared by channel only (see Store:backtest_unlabelled).
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

-- One partition's comparison (part: { k, n }; nil: every contact): the
-- period replayed for its contacts, beside what happened to them
-- -> { journeys = compare() of each journey, by name, events = n } | nil, error
local function compare_part(store, conf, files, dir, db, from, to, part, by_channel, warn)
  local backtest_rows, n, names = replay(conf, files, dir, db, from, to, part, warn)
  if not backtest_rows then return nil, n end
  local actual_rows = store:backtest_rows(from, to, part)
  if by_channel then drop_labels(actual_rows) drop_labels(backtest_rows) end
  local actual, backtest = summarize(actual_rows, names), summarize(backtest_rows, names)
  local journeys = json.array()
  for _, name in ipairs(sorted_keys(names)) do journeys[#journeys + 1] = compare(name, actual[name], backtest[name]) end
  return { journeys = journeys, events = n }
end

local SUMMED = { "entered", "contacts", "converted", "revenue", "suppressed" }

-- another partition's comparison added into `into` (the partitions' contacts
-- are apart: counts add, and the sample is the first changed contacts of both)
local function add_part(into, part)
  into.events = into.events + part.events
  for i, j in ipairs(into.journeys) do
    local p = assert(part.journeys[i].journey == j.journey and part.journeys[i], "the partitions ran other journeys")
    for _, side in ipairs({ "actual", "backtest" }) do
      local a, b = j[side], p[side]
      for _, k in ipairs(SUMMED) do a[k] = a[k] + b[k] end
      for key, count in pairs(b.messages) do a.messages[key] = (a.messages[key] or 0) + count end
    end
    j.changed = j.changed + p.changed
    table.move(p.sample, 1, #p.sample, #j.sample + 1, j.sample)
    table.sort(j.sample, function(x, y) return x.contact < y.contact end)
    for k = #j.sample, SAMPLE + 1, -1 do j.sample[k] = nil end
  end
end

-- `drip backtest --part K/N:FROM:TO:BY ...` as this one was asked (its period
-- to the second, as a served store's clock is now; messages by step or by
-- channel), its JSON to out, its stderr to errors
local function part_command(opts, db, spec, out, errors)
  local words = { host.executable() or "drip", "backtest", "--part", spec, "--db", db }
  if opts.config then words[#words + 1], words[#words + 2] = "--config", opts.config end
  words[#words + 1] = "--journeys"
  for _, path in ipairs(opts.journeys) do words[#words + 1] = path end
  for i, w in ipairs(words) do words[i] = cli.shell_word(w) end
  return table.concat(words, " ") .. " > " .. cli.shell_word(out) .. " 2> " .. cli.shell_word(errors)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local text = f:read("a")
  f:close()
  return text
end

-- The comparison in `jobs` processes: this one takes partition 0, the
-- others are started first and read after -> as compare_part, and on an
-- error the exit status (2: bad journeys, as the first part finds them; 1:
-- another part failed)
local function compare_parts(store, opts, conf, files, dir, db, from, to, jobs, by_channel)
  local told = {}
  local function warn(msg)
    if told[msg] then return end
    told[msg] = true
    err("warning: " .. msg)
  end
  local started = {}
  for k = 1, jobs - 1 do
    local p = { out = os.tmpname(), errors = os.tmpname(), k = k }
    local spec = string.format("%d/%d:%d:%d:%s", k, jobs, from, to, by_channel and "channel" or "step")
    p.pipe = io.popen(part_command(opts, db, spec, p.out, p.errors), "r")
    started[#started + 1] = p
  end
  local result, failed = compare_part(store, conf, files, dir, db, from, to, jobs > 1 and { 0, jobs } or nil,
    by_channel, warn)
  local status = 2
  for _, p in ipairs(started) do
    local ok, _, code = p.pipe:close()
    local doc = ok and json.decode_input(read_file(p.out))
    if result and not doc then
      local said = read_file(p.errors):gsub("^drip backtest: ", ""):gsub("%s+$", "")
      result, failed, status = nil, string.format("the replay of part %d of %d failed: %s", p.k, jobs,
        said ~= "" and said or "it stopped with status " .. tostring(code)), 1
    elseif result then
      for _, msg in ipairs(doc.warnings) do warn(msg) end
      add_part(result, doc.result)
    end
    os.remove(p.out)
    os.remove(p.errors)
  end
  return result, failed, status
end

-- `--part K/N[:FROM:TO:BY]`: one partition's comparison and warnings, as
-- JSON on stdout (FROM and TO in epoch seconds instead of --since's period;
-- BY: messages compared by "step" or by "channel")
local function print_part(store, opts, conf, files, dir, db, from, to)
  local k, n, rest = (opts.part or ""):match("^(%d+)/(%d+)(.*)$")
  k, n = tonumber(k), tonumber(n)
  local given_from, given_to, by = (rest or ""):match("^:(%-?%d+):(%-?%d+):(%a+)$")
  if not k or n < 1 or k >= n or (rest ~= "" and not (given_from and (by == "step" or by == "channel"))) then
    return nil, "--part: K/N, a partition K of N (0 <= K < N), optionally :FROM:TO:step|channel"
  end
  from, to = tonumber(given_from) or from, tonumber(given_to) or to
  local by_channel = by == "channel" or (not by and store:backtest_unlabelled(from, to))
  local warnings = json.array()
  local result, perr = compare_part(store, conf, files, dir, db, from, to, { k, n }, by_channel,
    function(msg) warnings[#warnings + 1] = msg end)
  if not result then return nil, perr end
  print(json.encode({ result = result, warnings = warnings }))
  return true
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

  local jobs = tonumber(opts.jobs or math.min(host.cpu_count(), MAX_JOBS))
  if not jobs or jobs < 1 or jobs ~= math.floor(jobs) then return usage("--jobs: a number of processes, such as 2") end

  local store, conf = cli.open_store(opts, "backtest")
  if not store then return conf end
  local db = opts.db or conf.db
  local to = math.floor(tonumber(store:meta("clock")) or host.time())
  local from = math.floor(to - period)
  if opts.part then
    local ok, perr = print_part(store, opts, conf, files, dir, db, from, to)
    store:close()
    if not ok then err(perr) return 2 end
    return 0
  end
  local started = host.clock()
  local by_channel = store:backtest_unlabelled(from, to)
  local compared, cerr, status = compare_parts(store, opts, conf, files, dir, db, from, to, jobs, by_channel)
  if not compared then
    store:close()
    err(cerr)
    return status
  end
  local seconds, n = host.clock() - started, compared.events
  if n == 0 then warn_empty(store, from, to) end
  local pruned = tonumber(store:meta("pruned_before"))
  if pruned and pruned > from then
    err(string.format("warning: `drip prune` removed events and ended instances from before %s; before then "
      .. "both columns count only what it kept (--since %dd starts after it)", time.iso(pruned),
      math.floor((to - pruned) / 86400)))
  end
  store:close()

  local result = { since = time.iso(from), ["until"] = time.iso(to), events = n, seconds = seconds, jobs = jobs,
                   journeys = compared.journeys, messages_by = by_channel and "channel" or "step" }
  if format == "json" then
    print(json.encode(result))
    return 0
  end
  print(string.format("backtest %s → %s: %d events replayed in %.2fs (%.0f events/s, %d process%s)", result.since,
    result["until"], n, seconds, n / math.max(seconds, 1e-6), jobs, jobs == 1 and "" or "es"))
  if by_channel then print("(this store's messages predate step labels: messages are compared per channel)") end
  for _, j in ipairs(result.journeys) do print_journey(j) end
  return 0
end

return cmd
