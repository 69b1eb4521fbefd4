-- drip.cmd_prune — `drip prune --keep DUR`: remove from the store what is
-- older than DUR and nothing needs any more, so that a long-running store
-- stops growing. Owns deciding what must stay longer than DUR (messages
-- inside frequency-cap windows, events a segment or happened() counts over
-- more time) and telling it; Store:prune_* say which rows go. It works a
-- chunk at a time, each its own transaction, so a `drip run` serving the
-- same store keeps its turns; Ctrl-C keeps the chunks done.
local duration = require "drip.duration"
local time = require "drip.time"
local host = require "drip_host"
local cli = require "drip.cli"
local suggest = require "drip.suggest"

local cmd = {}

local SERVED_SECONDS, ALONE_SECONDS, FIRST_CHUNK, PAUSE_SECONDS = 0.1, 1, 500, 0.025

-- The longest frequency-cap window (and its name), or 0
local function longest_cap(conf)
  local secs, name = 0, nil
  for channel, cap in pairs(conf.caps or {}) do -- (read by drip.config)
    if cap.window > secs or (cap.window == secs and channel < name) then secs, name = cap.window, channel end
  end
  return secs, name and string.format("frequency_cap.%s %s", name, tostring(conf.frequency_cap[name]))
end

-- The event names happened("Name", since) calls in `source` look back for
-- over more than `keep` seconds: since a duration longer than that, or one
-- not written out. (No since, or "entry": from the instance's entry, which
-- prune keeps for running instances.)
local function happened_names(source, keep, into)
  for args in source:gmatch("%f[%w_]happened%s*(%b())") do
    local name, rest = args:match("^%(%s*[\"']([^\"']+)[\"']%s*(.-)%)$")
    local since = rest and rest:match("^,%s*[\"']([^\"']+)[\"']%s*$")
    local secs = since and duration.parse(since)
    if name and rest ~= "" and since ~= "entry" and not (secs and secs <= keep) then
      into[name] = into[name] or string.format("happened() looks back %s for it", secs and "over " .. since or "for a time")
    end
  end
end

-- Event names to keep whole: those a `did` segment counts over more than
-- `keep` seconds (or all time), and those a stored journey version's
-- happened() looks back for over more. -> { name = why } | nil, error
local function kept_names(store, conf, opts, keep)
  local names = {}
  local path = cli.journeys_dir(store, conf, opts) .. "/segments.lua"
  if host.file_kind(path) == "file" then
    local engine = require("drip.engine").new({ store = store, conf = conf, warn = function() end })
    local err = engine:read_segments(path)
    if err then return nil, string.format("%s; prune reads it to keep the events its segments count", err) end
    for _, name in ipairs(suggest.names(engine.segments)) do -- (in name order: the first tells why)
      local seg = engine.segments[name]
      if seg.kind == "did" and (not seg.within or seg.within > keep) and not names[seg.event] then
        names[seg.event] = string.format("segment '%s' counts it over %s", name,
          seg.within and duration.format(seg.within) or "all time")
      end
    end
  end
  for _, source in ipairs(store:script_sources()) do happened_names(source, keep, names) end
  return names
end

-- Chunks of work, each in its own transaction, committed (or, for a dry
-- run, rolled back), with a pause after each when a server uses the store.
-- A chunk's size (rows looked at) is fitted so that it takes about
-- SERVED_SECONDS when a server uses the store (that long at most its writes
-- wait), else ALONE_SECONDS (fewer, larger chunks: each rewrites the index
-- pages it touches, so larger ones write less in all).
local Chunks = {}
Chunks.__index = Chunks

local function chunks(store, dry_run)
  local served = store:served()
  return setmetatable({ store = store, dry_run = dry_run, served = served, size = FIRST_CHUNK,
                        seconds = served and SERVED_SECONDS or ALONE_SECONDS }, Chunks)
end

-- -> what fn(size) returns
function Chunks:run(fn)
  local store, started = self.store, host.clock()
  store:begin()
  local a, b = fn(self.size)
  if self.dry_run then store:rollback() else store:commit() end
  local took = math.max(host.clock() - started, 0.001)
  self.size = math.max(FIRST_CHUNK, math.min(self.size * 4, math.floor(self.size * self.seconds / took)))
  if self.served then host.sleep(PAUSE_SECONDS) end
  return a, b
end

local function add(total, removed)
  for k, n in pairs(removed) do total[k] = (total[k] or 0) + n end
end

-- prune_range(from, to) over ids [1, last), a chunk at a time -> interrupted | nil
function Chunks:over_ids(last, prune_range)
  local from = 1
  self.size = FIRST_CHUNK
  while from < last do
    if host.interrupted() then return host.interrupted() end
    self:run(function(size)
      local to = math.min(from + size, last)
      prune_range(from, to)
      from = to
    end)
  end
  return nil
end

-- -> removed totals, interrupted ("SIGINT" | "SIGTERM" | nil)
local function prune(store, dry_run, instance_cutoff, event_cutoff, names)
  local total, work, kept = {}, chunks(store, dry_run), suggest.names(names)
  -- (the newest instance and event stay either way: their ids are not given again)
  local interrupted = work:over_ids(store:last_instance_id(), function(from, to)
    add(total, store:prune_instances(instance_cutoff, from, to))
  end) or work:over_ids(store:last_event_seq(), function(from, to)
    add(total, { events = store:prune_events(event_cutoff, from, to, kept) })
  end)
  return total, interrupted
end

local function counted(n, one, more) return string.format("%d %s", n, n == 1 and one or more) end

local function summary(total, dry_run, cutoff, keep_text)
  local function n(k) return total[k] or 0 end
  return string.format("%s %s and %s (with %s, %s, %s and %s), from before %s (--keep %s)",
    dry_run and "would remove" or "removed", counted(n("events"), "event", "events"),
    counted(n("instances"), "ended instance", "ended instances"), counted(n("steps"), "step", "steps"),
    counted(n("messages"), "message", "messages"), counted(n("deliveries"), "delivery state", "delivery states"),
    counted(n("history"), "history entry", "history entries"), time.iso(cutoff), keep_text)
end

function cmd.run(opts, usage)
  if not opts.keep then return usage("how much to keep? (drip prune --keep 180d)") end
  local keep, kerr = duration.parse(opts.keep)
  if not keep or keep <= 0 then
    io.stderr:write("drip prune: --keep: ", kerr or "must be longer than nothing", "\n")
    return 2
  end
  -- (NORMAL: a power cut can undo the last chunks, which the same prune again redoes, and damages nothing)
  local store, conf = cli.open_store(opts, "prune", false, "NORMAL")
  if not store then return conf end
  local names, nerr = kept_names(store, conf, opts, keep)
  if not names then
    store:close()
    io.stderr:write("drip prune: ", nerr, "\n")
    return 1
  end
  -- (a simulation's store has a clock of its own, ahead of now: DUR before it)
  local now = math.max(tonumber(store:meta("clock")) or 0, host.time())
  local cutoff = now - keep
  local cap_window, cap_name = longest_cap(conf)
  local instance_cutoff = math.min(cutoff, now - cap_window)
  if opts["dry-run"] then
    store:prune_begin(instance_cutoff, true)
  else
    store:begin()
    store:prune_begin(instance_cutoff)
    store:commit()
  end
  host.on_interrupt(true)
  local total, interrupted = prune(store, opts["dry-run"], instance_cutoff, cutoff, names)
  host.on_interrupt(false)
  store:close()
  print(summary(total, opts["dry-run"], cutoff,
    opts.keep .. (now > host.time() and " before the store's clock, " .. time.iso(now) or "")))
  if instance_cutoff < cutoff then
    print(string.format("  kept: instances that ended in the last %s, whose messages count for %s",
      duration.format(cap_window), cap_name))
  end
  for _, name in ipairs(suggest.names(names)) do print(string.format("  kept: every '%s' event (%s)", name, names[name])) end
  if interrupted then
    io.stderr:write(string.format("drip prune: interrupted (%s); what is counted above is %s, and the same "
      .. "prune again goes on\n", interrupted, opts["dry-run"] and "what it had looked at" or "gone"))
    return interrupted == "SIGINT" and 130 or 143
  end
  return 0
end

return cmd
