-- drip.cmd_run — `drip run`: the engine on the wall clock, fed over HTTP.
-- Owns the set-up (config, flags, the token rule, the store, the journeys)
-- and the four callbacks the C server (drip_server) calls on its loop:
-- a batch of requests (one transaction: group commit, answered after it
-- commits), the due timer, a change in the journeys directory, and stop.
local Store = require "drip.store"
local Engine = require "drip.engine"
local Api = require "drip.api"
local metrics = require "drip.metrics"
local config = require "drip.config"
local journey = require "drip.journey"
local log = require "drip.log"
local host = require "drip_host"
local channels = require "drip.channels"
local Deliver = require "drip.deliver"
local time = require "drip.time"
local events = require "drip.events"
local simulate = require "drip.cmd_simulate" -- (its locate: journey files from a path)

local cmd = {}

local FIRE_PER_TURN = 2000 -- timers fired per loop turn, so requests are served in between
-- Live, waits are long and wakes replay cheaply; coroutines kept for quick
-- wakes would only lengthen the collector's pauses (each is re-scanned).
local LIVE_CACHE = tonumber(os.getenv("DRIP_LIVE_CACHE")) or 0
local KNOWN_CACHE = 20000 -- a smaller known-contacts set than simulate's: shorter collector steps
local CLOCK_AHEAD = 86400 -- a store's clock this far past the wall clock is a simulation's

local function err(msg) io.stderr:write("drip run: ", msg, "\n") end

-- "127.0.0.1:8425", "[::1]:8425", "localhost:8425", or a port alone (on
-- loopback: 127.0.0.1) -> host, port | nil
function cmd.parse_listen(v)
  if v:match("^%d+$") then v = "127.0.0.1:" .. v end
  local h, p = v:match("^%[([^%]]+)%]:(%d+)$")
  if not h then h, p = v:match("^([^:]*):(%d+)$") end
  if not h or h == "" then return nil end
  if tonumber(p) > 65535 then return nil end
  return h, p
end

function cmd.loopback(h)
  return h == "localhost" or h == "::1" or h:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

-- "1MiB", "512KiB", "2MB", "1048576" -> bytes
function cmd.parse_size(v)
  local n, unit = tostring(v):match("^(%d+)%s*(%a*)$")
  local mult = ({ [""] = 1, B = 1, KiB = 1024, KB = 1000, MiB = 1048576, MB = 1000000, GiB = 1073741824 })[unit or ""]
  if not n or not mult then return nil end
  return tonumber(n) * mult
end

-- the settings of one run, from flags over config -> t | nil, message
local function settings(opts)
  local conf, cerr = config.for_command(opts)
  if not conf then return nil, cerr end
  local listen = opts.listen or conf.listen
  local h, p = cmd.parse_listen(listen)
  if not h then return nil, "--listen: '" .. listen .. "' is not HOST:PORT or a port (e.g. 127.0.0.1:8425, or 8425)" end
  local token = conf.token or os.getenv("DRIP_TOKEN")
  if token == "" then token = nil end
  if not cmd.loopback(h) and not token then
    return nil, "refusing to listen on " .. listen .. " without a token: set token in drip.conf.lua or DRIP_TOKEN"
  end
  local limit = cmd.parse_size(conf.body_limit)
  if not limit then
    return nil, config.where(conf, "body_limit") .. "body_limit: '" .. tostring(conf.body_limit) .. "' is not a size such as 1MiB"
  end
  local buffered = cmd.parse_size(conf.buffer_limit)
  if not buffered then
    return nil, config.where(conf, "buffer_limit") .. "buffer_limit: '" .. tostring(conf.buffer_limit)
      .. "' is not a size such as 256MiB"
  end
  local chans, cherr = channels.check(conf.channels)
  if not chans then return nil, config.where(conf, "channels") .. cherr end
  if conf.track and not conf.public_url then -- (links to 127.0.0.1 would not work in anyone's inbox)
    return nil, config.where(conf, "tracking") .. "tracking needs public_url: the address at which people's clicks "
      .. "reach this drip run"
  end
  return { conf = conf, host = h, port = p, token = token, body_limit = limit, buffer_limit = buffered,
           channels = chans,
           dir = opts.journeys or conf.journeys,
           db = opts.db or conf.db, dry_run = opts["dry-run"] or false }
end

-- One transaction around fn; on an error nothing of it stays.
-- -> true, fn's result, seconds the commit took | false, error
local function transaction(store, engine, fn)
  local began, berr = pcall(store.begin, store) -- (a full disk can refuse the write lock itself)
  if not began then return false, berr end
  if store:forgotten_since() then engine:reset_caches() end -- `drip forget` beside drip run
  if store:moved_since("pauses") then engine:read_pauses() end -- `drip pause` or `resume` beside it
  local ok, result = pcall(fn)
  local started = host.clock()
  local cok, cerr = true, nil
  if ok then cok, cerr = pcall(store.commit, store) end
  if not (ok and cok) then
    store:rollback()
    engine:reset_caches()
    return false, ok and cerr or result
  end
  return true, result, host.clock() - started
end

local SERVER_ERROR = { status = 500, body = '{"error":"internal error; nothing of this request was kept"}' }
local NOT_DURABLE = { status = 503, body = '{"error":"could not commit; nothing was kept, retry"}', retry_after = 1 }

-- new messages in the outbox: let the dispatcher look now rather than at its next tick
local function kick_delivery(s)
  if s.deliver and s.engine.queued ~= s.kicked_at then
    s.kicked_at = s.engine.queued
    s.deliver:kick()
  end
end

-- The secret that signs unsubscribe links: from the configuration, else one
-- made on first start and kept in the store (so links survive restarts).
local function link_secret(conf, store)
  if conf.secret and conf.secret ~= "" then return conf.secret end
  local secret = store:meta("unsubscribe_secret")
  if not secret then
    secret = host.base64(host.random_bytes(32), "url")
    store:set_meta("unsubscribe_secret", secret)
  end
  return secret
end

-- When the store cannot be written (a full disk, a file made read-only), a
-- failed transaction leaves what is due still due. Firing it again at once
-- would spin the loop and flood the log; instead timers wait a pause that
-- doubles from 1 s to a minute, and the next commit that works ends it.
-- /healthz answers 503 meanwhile (see drip.metrics' failing).
local RETRY_FIRST, RETRY_MAX = 1, 60

local function failed(s, what, e)
  s.retry_delay = s.retry_delay and math.min(s.retry_delay * 2, RETRY_MAX) or RETRY_FIRST
  s.retry_at = host.time() + s.retry_delay
  s.metrics:failed(e, s.engine.now)
  log.error(what, "error", e, "timers_retry_in", s.retry_delay .. "s")
end

-- wrote: the commit held events or fired timers (one of GETs only, or of
-- the clock alone, may fit in pages the store already has)
local function committed(s, wrote)
  if not wrote then return end
  s.retry_delay, s.retry_at = nil, nil
  s.metrics:recovered()
end

-- The next time anything is due, after planning schedule triggers when
-- journeys or new time zones need it; not before the pause after a failure.
local function next_due(s)
  if s.engine.schedules_dirty then
    local ok, e = transaction(s.store, s.engine, function() s.engine:plan_schedules(s.engine.now) end)
    if not ok then failed(s, "planning schedules failed", e) end
  end
  local due = s.store:next_due()
  if due and s.retry_at and due < s.retry_at then return s.retry_at end
  return due
end

-- One loop turn's requests in one transaction, each in a savepoint so a
-- failing request takes nothing else with it.
local function batch_handler(s)
  return function(list)
    local responses = {}
    s.engine.now = math.max(s.engine.now, host.time())
    local wrote = false
    local ok, e, commit_seconds = transaction(s.store, s.engine, function()
      for i, req in ipairs(list) do
        s.store:savepoint()
        local rok, resp = pcall(s.api.handle, s.api, req)
        wrote = wrote or req.method ~= "GET"
        if rok then
          s.store:release()
        else
          s.store:rollback_to()
          s.engine:reset_caches()
          log.error("request failed", "method", req.method, "path", req.path, "error", resp)
          resp = SERVER_ERROR
        end
        responses[i] = resp
      end
      if wrote then s.engine:save_clock() end -- (GETs alone write nothing, so they answer while the disk is full)
    end)
    if ok then
      s.metrics:committed(commit_seconds)
      committed(s, wrote)
      kick_delivery(s)
    else
      failed(s, "commit failed", e)
      for i = 1, #list do responses[i] = NOT_DURABLE end
    end
    for _, r in ipairs(responses) do s.metrics:answered(r.status) end
    return responses, next_due(s)
  end
end

local function timer_handler(s)
  return function()
    s.engine.now = math.max(s.engine.now, host.time())
    local ok, fired = transaction(s.store, s.engine, function()
      local _, n = s.engine:run_until(s.engine.now, FIRE_PER_TURN)
      s.engine:save_clock()
      return n
    end)
    if ok then
      s.metrics:fired(fired)
      committed(s, fired > 0)
      kick_delivery(s)
    else
      failed(s, "firing timers failed", fired)
    end
    return next_due(s)
  end
end

-- A delivery found the contact's address gone (see drip.deliver): a bounce
-- is the trait bounced.<channel> = that address (a new address is tried
-- again), a provider's opt-out an unsubscribe, with its Unsubscribed event.
local function address_gone(s, contact, channel, address, how)
  s.engine.now = math.max(s.engine.now, host.time())
  if how == "unsubscribed" then return s.api:subscription(contact, channel, true) end
  s.engine:ingest(assert(events.normalize({ type = "identify", userId = contact, timestamp = time.iso(s.engine.now),
                                            traits = { ["bounced." .. channel] = address } }, nil, s.engine.now)))
end

-- each script a load could not take, and whether its previous version runs
local function log_load_errors(engine, errors)
  for _, m in ipairs(errors) do
    local file = m:match("^(.-):%d+: ")
    log.error(engine:journey_of_file(file) and "not loaded; its previous version keeps running"
      or "not loaded", "error", m)
  end
end

local function change_handler(s)
  return function()
    if not host.file_kind(s.dir) then -- (moved away, as a deploy may do for a moment)
      log.error("the journeys are not there; the loaded ones keep running", "journeys", s.dir)
      return
    end
    local errors, changes
    local ok, e = transaction(s.store, s.engine, function()
      errors, changes = s.engine:load(journey.list({ s.dir }), s.dir)
    end)
    if not ok then
      failed(s, "reload failed", e)
    else
      log_load_errors(s.engine, errors)
      for _, c in ipairs(changes) do
        log.info(c.change == "loaded" and "journey loaded" or "journey removed; running instances finish",
          "journey", c.name, "version", c.version:sub(1, 12), "file", c.file)
      end
      if #errors + #changes == 0 then log.info("no journey changed; templates and segments read again") end
    end
    return next_due(s)
  end
end

function cmd.run(opts, usage)
  local set, serr = settings(opts)
  if not set then
    err(serr)
    return 2
  end
  local files, lerr = simulate.locate({ set.dir })
  if not files then
    err("journeys: " .. lerr)
    return 2
  end
  if #files == 0 then
    err("no journey scripts in " .. set.dir)
    return 2
  end
  if set.db ~= ":memory:" then -- one server per store: two would fire the same timers
    local locked, why = host.lock_file(set.db .. "-run.lock")
    if not locked then
      err(string.format("%s is served by another drip run (%s)", set.db, why))
      return 1
    end
  end
  local store, oerr, status = Store.open(set.db, { synchronous = "FULL" })
  if not store then
    err(oerr)
    return status or 1
  end
  local clock = tonumber(store:meta("clock"))
  if clock and clock > host.time() + CLOCK_AHEAD then
    err(string.format("%s: its clock is at %s, ahead of now: a simulation's store (virtual time), whose waits "
      .. "would all fire at once; drip run needs a store of its own", set.db, time.iso(clock)))
    store:close()
    return 2
  end
  store:mark_served(set.dry_run)
  local took = store:index_for_serving() -- (bounces and complaints, opens and clicks: made once, then kept row by row)
  if took and took >= 0.1 then -- (on a store drip run has not served: a large one takes a while, once)
    log.info("made the indexes a served store needs", "seconds", string.format("%.2f", took))
  end
  local s = { store = store, dir = set.dir }
  local public_url = set.conf.public_url or ("http://" .. set.conf.listen)
  local unsub = { base = public_url, secret = link_secret(set.conf, store) }
  s.metrics = metrics.new(function() return store:active_counts() end, set.dry_run and "simulated" or "queued",
    function() return store:facts() end)
  s.engine = Engine.new({
    store = store, live = true, live_cache = LIVE_CACHE, known_cache = KNOWN_CACHE, deliver = not set.dry_run,
    keep_stored = true,
    conf = set.conf, unsubscribe = unsub,
    sink = function(rec)
      s.metrics:record(rec)
      if rec.kind == "exit" and rec.reason == "error" then
        log.warn("instance failed", "journey", rec.journey, "contact", rec.contact, "error", rec.error)
      end
    end,
    warn = function(msg) log.warn(msg) end,
  })
  s.engine.now = math.max(s.engine.now, host.time())
  local loaded, problems = transaction(store, s.engine, function()
    local errors = s.engine:load(files, set.dir)
    s.engine:watch_stalls(set.db)
    return errors
  end)
  if not loaded then
    err(problems)
    store:close()
    return 1
  end
  -- A broken script runs the version the store last loaded from its file
  -- (a restart is as a reload); with nothing to run, or without the
  -- segments the journeys name, drip run does not start.
  if #problems > 0 and (s.engine.segments_error or #s.engine:journey_names() == 0) then
    for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
    store:close()
    return 2
  end
  log_load_errors(s.engine, problems)
  s.api = Api.new({ engine = s.engine, store = store, metrics = s.metrics, secret = unsub.secret, conf = set.conf,
                     journeys = set.dir })
  if not set.dry_run then
    s.deliver = Deliver.new({ store = store, channels = set.channels, unsubscribe = unsub, log = log,
                              consent = set.conf.consent, quiet = set.conf.quiet, timezone = set.conf.timezone,
                              track = set.conf.track,
                              on_address_gone = function(...) address_gone(s, ...) end,
                              metrics = s.metrics, curl = require("drip_curl"),
                              transaction = function(fn) return transaction(store, s.engine, fn) end })
  end

  local ok, lerr = require("drip_server").serve({
    host = set.host, port = set.port, token = set.token, body_limit = set.body_limit,
    buffered_limit = set.buffer_limit, watch = set.dir,
    next_due = next_due(s),
    on_listening = function(port)
      log.info("listening", "addr", (set.host:find(":") and "[" .. set.host .. "]" or set.host) .. ":" .. port,
        "journeys", #files, "db", set.db, "mode", set.dry_run and "dry-run" or "live",
        "auth", set.token and "bearer" or "none")
      if s.deliver then
        local names = {}
        for name in pairs(set.channels) do names[#names + 1] = name end
        table.sort(names)
        log.info("delivering", "channels", #names > 0 and table.concat(names, ",") or "none")
        s.deliver:start()
      end
    end,
    on_requests = batch_handler(s),
    on_timer = timer_handler(s),
    on_change = change_handler(s),
    on_stop = function()
      if s.deliver then s.deliver:stop() end
      store:close()
      log.info("stopped")
    end,
  })
  if not ok then
    store:close()
    err(lerr)
    return 1
  end
  return 0
end

return cmd
