-- drip.cmd_simulate — `drip simulate`: the engine on a virtual clock.
-- Events in timestamp order; before each event every timer due by its time
-- fires; after the last, the clock runs to --until (or until no timer is
-- left, at most 90 days). Records go to stdout as JSON Lines or a table.
local Store = require "drip.store"
local Engine = require "drip.engine"
local events = require "drip.events"
local suggest = require "drip.suggest"
local TraitReads = require "drip.trait_reads"
local config = require "drip.config"
local journey = require "drip.journey"
local report = require "drip.report"
local stats = require "drip.stats"
local time = require "drip.time"
local duration = require "drip.duration"
local collector = require "drip.collector"
local host = require "drip_host"
local cli = require "drip.cli"

local cmd = {}

local MAX_RUN_ON = 90 * 86400
-- Events per transaction. Each commit writes every page the transaction
-- changed, and an event's messageId lands at a random place of its index, so
-- a commit rewrites most of that index whatever the transaction's size: on
-- 1,000,000 cart events, commits every 100,000 events take a tenth less time
-- than every 20,000 (a third less system time). Past the page cache (64 MiB)
-- changed pages spill anyway, so larger ones gain nothing more.
local COMMIT_EVERY = 100000
-- Pages of a store simulate creates: a load appends rows in bulk, and with
-- 16 KiB pages instead of SQLite's 4 KiB the month writes its pages with
-- half the system time, and in less time in all (its file is 2% smaller).
-- drip run keeps 4 KiB: its transactions are small, and write whole pages.
cmd.BULK_PAGE_SIZE = 16384

local function err(msg)
  io.stderr:write("drip simulate: ", msg, "\n")
end

-- journey files and the directory holding segments.lua and templates/,
-- or nil and "PATH: no such file or directory"
function cmd.locate(paths)
  for _, p in ipairs(paths) do
    local f = io.open(p, "r")
    if not f then return nil, p .. ": no such file or directory" end
    f:close()
  end
  local files = journey.list(paths)
  if #paths == 1 and not paths[1]:match("%.lua$") then return files, paths[1] end
  return files, (files[1] or ""):match("^(.*)/[^/]*$") or "."
end

-- the --until flag: an ISO time, or +DUR after `last`
local function parse_until(v, last)
  if v:sub(1, 1) == "+" then
    local secs, e = duration.parse(v:sub(2))
    if not secs then return nil, "--until: " .. e end
    return last + secs
  end
  local t, e = time.parse(v)
  if not t then return nil, "--until: " .. e .. ' or "+30d"' end
  return t
end

-- Event names journeys wait on (triggers, goals, exit_on) or segments count
-- that no event of the run had, while one that looks like it did: most often
-- a name spelt differently in the events than in the journey. names: name -> count.
local function misspelt_events(engine, names)
  local seen = suggest.names(names)
  local found = {}
  for _, w in ipairs(engine:awaited_events()) do
    local other = not names[w.event] and suggest.lookalike(w.event, seen)
    if other then
      found[#found + 1] = string.format("%s %s '%s', which no event had; %d had '%s' (names must match exactly)",
        w.who, w.role, w.event, names[other], other)
    end
  end
  return found
end

-- what to say of an events file no line of which is an event
local function not_events(path)
  return string.format("no line of %s is an event: simulate reads JSON Lines, one Segment-shaped event per line%s",
    path, path:match("%.csv$") and " (a CSV of contacts goes into a store with drip import)" or "")
end

-- Standard input into a file of its own (the events are read twice when out
-- of order) -> its path | nil, error
local function stdin_to_file()
  local path = os.tmpname()
  local f, oerr = io.open(path, "wb")
  if not f then
    os.remove(path)
    return nil, "cannot keep standard input: " .. tostring(oerr)
  end
  while true do
    local block = io.stdin:read(1 << 16)
    if not block then break end
    local ok, werr = f:write(block)
    if not ok then
      f:close()
      os.remove(path)
      return nil, "cannot keep standard input: " .. tostring(werr)
    end
  end
  f:close()
  return path
end

-- After the last event, run the clock on to `stop` while anything is due: a
-- timer, an inactivity trigger or a one-off broadcast. A daily schedule
-- alone does not keep it running (it would fill the 90 days with its sends).
local function run_on(engine, store, stop)
  local daily = false
  for _, def in ipairs(engine.scheduled) do daily = daily or def.trigger.schedule:match("^daily") ~= nil end
  engine:settle(stop, daily and function() return store:due_besides_daily() end or nil)
end

local simulate -- (below)

function cmd.run(opts, usage)
  if not opts.events then return usage("--events FILE is required") end
  local format = opts.format or "table"
  if format ~= "table" and format ~= "jsonl" then return usage("--format must be table or jsonl") end
  if opts["until"] then
    local ok, uerr = parse_until(opts["until"], 0)
    if not ok then return usage(uerr) end
  end
  if opts.events ~= "-" then return simulate(opts, opts.events, opts.events) end
  local path, serr = stdin_to_file()
  if not path then err(serr) return 2 end
  local ok, status = pcall(simulate, opts, path, "stdin")
  os.remove(path)
  if not ok then error(status, 0) end
  return status
end

-- the command (its flags checked), with the events at `path`, named `shown` in messages
function simulate(opts, path, shown)
  local format = opts.format or "table"

  local conf, cerr = config.for_command(opts)
  if not conf then err(cerr) return 2 end
  local paths = opts.journeys or { conf.journeys }
  local files, dir = cmd.locate(paths)
  if not files then err("journeys: " .. dir) return 2 end
  if #files == 0 then err("no journey scripts in " .. table.concat(paths, ", ")) return 2 end

  local store, serr, status = Store.open(opts.db or ":memory:", { synchronous = "NORMAL", page_size = cmd.BULK_PAGE_SIZE })
  if not store then err(serr) return status or 1 end
  if store:served() then
    err(opts.db .. " is a store drip run serves (real time, real sends): simulate into another --db; "
      .. "drip backtest replays its events safely")
    store:close()
    return 2
  end
  local bulk = store:bulk_events()
  store:own_instances()

  local out, funnel = {}, report.funnel()
  local function flush()
    io.stdout:write(table.concat(out))
    out = {}
  end
  local sink, record_lines, write_record, record_writer
  if format == "jsonl" then -- (each line written to stdout as it is made, in C where it can be)
    io.stdout:setvbuf("full", 1 << 16)
    write_record = host.write_record
    record_writer = store:record_writer()
    record_lines = function(line) io.stdout:write(line) end
  else
    record_writer = store:record_writer(false) -- (history rows in C; the sink prints the lines)
    sink = function(rec)
      funnel.add(rec)
      local n = #out
      out[n + 1], out[n + 2] = report.line(rec), "\n"
      if n > 1024 then flush() end
    end
  end

  local engine = Engine.new({ store = store, sink = sink, record_lines = record_lines, write_record = write_record,
                              record_writer = record_writer,
                              conf = conf, unsubscribe = { base = conf.public_url or "http://" .. conf.listen,
                                                           secret = conf.secret or "drip-simulate" } })
  store:begin()
  local problems = engine:load(files, dir)
  if #problems > 0 then
    for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
    store:close()
    return 2
  end
  engine:watch_stalls(opts.db)
  engine.placeholders = {} -- (see Engine:empty_placeholders)
  engine.odd_addresses = {} -- (see Engine:note_odd_address)
  engine.trait_reads = TraitReads.new(engine:user_files())
  if format == "table" then funnel.seed(stats.collect(store, 0), engine:journey_names()) end -- (a --db continued)

  local bad = 0
  local report_bad, bad_lines_told = cli.bad_lines("simulate")
  local index, ierr = events.scan(path, function(msg)
    bad = bad + 1
    report_bad(msg)
  end, engine.now, bulk, shown) -- (a bulk load may leave the messageId index out: see below)
  if not index then err(ierr) store:close() return 2 end
  if bulk and index.distinct_ids then store:events_unique(true) end

  -- an absolute --until also ends the input: events after it are not read
  local stop_at = opts["until"] and opts["until"]:sub(1, 1) ~= "+" and parse_until(opts["until"], 0)
  local started = host.clock()
  local n, dup, cut, names = 0, 0, nil, {}
  local collect, normal_collection = collector.batch()
  local interrupted -- "SIGINT" | "SIGTERM": stop after this event, keep what was done
  local failed -- why stdout took no more records (stop, keep what was done)
  local progress = cli.progress_line(false) -- (records on a terminal show the progress themselves)
  host.on_interrupt(true)
  for ev in events.each(index) do
    if stop_at and ev.ts > stop_at then
      cut = ev
      break
    end
    if ev.event then names[ev.event] = (names[ev.event] or 0) + 1 end
    engine:run_until(ev.ts)
    if not engine:ingest(ev) then dup = dup + 1 end
    n = n + 1
    if n % 1024 == 0 then
      collect()
      progress(n, engine.now)
      interrupted, failed = host.interrupted(), host.write_failure()
      if interrupted or failed then break end
    end
    if n % COMMIT_EVERY == 0 then
      engine:save_clock()
      store:commit()
      store:begin()
    end
  end
  host.on_interrupt(false) -- (from here a Ctrl-C stops at once)
  progress()

  if interrupted then
    err(string.format("interrupted (%s) after the event at %s; %s", interrupted, time.iso(engine.now), opts.db
      and string.format("what was done is kept in %s, and the same command reads on from there", opts.db)
      or "nothing is kept (no --db)"))
  elseif failed then -- (told below)
  elseif opts["until"] then
    engine:run_until((parse_until(opts["until"], engine.now)))
  else
    run_on(engine, store, engine.now + MAX_RUN_ON)
    local left = store:next_waking() -- (an instance's: not a daily schedule's next day)
    if left then
      err(string.format("timers are left past the 90 days simulate runs on after the last event: the next is due %s "
        .. "(--until %s runs to it)", time.iso(left), time.iso(left)))
    end
  end
  normal_collection()
  engine:save_clock()
  store:commit()
  flush()
  bad_lines_told()
  if n == 0 and bad > 0 then err(not_events(shown)) end
  for _, msg in ipairs(misspelt_events(engine, names)) do err("warning: " .. msg) end
  for _, msg in ipairs(engine:empty_placeholders()) do err("warning: " .. msg) end
  for _, msg in ipairs(engine:odd_address_warnings()) do err("warning: " .. msg) end
  for _, msg in ipairs(engine.trait_reads:misspelt(function(name) return store:has_trait(name) end)) do
    err("warning: " .. msg)
  end
  local skipped = events.skipped_text(index.skipped)
  if skipped then err(skipped .. " skipped (journeys take identify and track of users known by userId)") end
  if cut then
    err(string.format("stopped at --until %s; the events from %s on were not read (a later run with this --db reads them)",
      time.iso(stop_at), time.iso(cut.ts)))
  end
  if format == "table" then
    print(funnel.render())
    local function count(k, one) return string.format("%d %s%s", k, one, k == 1 and "" or "s") end
    print(string.format("\n%s (%s, %s) in %.2fs; %s", count(n, "event"), count(dup, "duplicate"), count(bad, "bad line"),
      host.clock() - started,
      engine.now > 0 and "clock at " .. time.iso(engine.now) or "the clock never started"))
  end
  local flushed, flush_err = io.stdout:flush()
  failed = failed or host.write_failure() or not flushed and flush_err
  if failed then
    err(string.format("cannot write the records to stdout (%s), at the event at %s; %s", failed, time.iso(engine.now),
      opts.db and string.format("what was done is kept in %s (drip records --db %s prints its records)", opts.db, opts.db)
      or "nothing is kept (no --db)"))
  end
  store:close()
  if interrupted then return interrupted == "SIGINT" and 130 or 143 end
  if failed then return 1 end
  return (n == 0 and bad > 0) and 2 or 0
end

return cmd
