-- drip.cmd_check — `drip check`: compile and validate journeys, report
-- "file:line: message". Beyond compiling, it reads the source for literal
-- arguments that would only fail at run time: durations, segment names,
-- template placeholders and files, and calls to names that are neither step
-- functions nor locals.
local Store = require "drip.store"
local Engine = require "drip.engine"
local config = require "drip.config"
local duration = require "drip.duration"
local simulate = require "drip.cmd_simulate"
local journey = require "drip.journey"
local time = require "drip.time"
local template = require "drip.template"
local locale = require "drip.locale"
local host = require "drip_host"
local suggest = require "drip.suggest"
local policy = require "drip.policy"
local sandbox = require "drip.sandbox"

local cmd = {}

local KNOWN = {}
for _, n in ipairs({ "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring",
  "type", "xpcall", "rawequal", "rawget", "rawlen", "setmetatable", "getmetatable", "load", "string", "table",
  "math", "utf8", "journey", "return", "if", "then", "else", "elseif", "end", "for", "while", "do", "repeat",
  "until", "local", "function", "and", "or", "not", "break", "goto", "in" }) do KNOWN[n] = true end

-- A one-off schedule that has passed in every time zone (the last is 12
-- hours behind UTC) will not run: a warning, not a problem, since a finished
-- campaign may stay in the directory.
local function warn_past_schedule(file, def)
  local t = def.trigger
  if t.kind ~= "schedule" or t.rule.kind ~= "once" then return end
  if time.parse(t.schedule) + 12 * 3600 < host.time() then
    io.stderr:write(string.format('%s:%d: warning: the schedule "%s" has passed in every time zone; it will not run\n',
      file, journey.line_of(def.source, "schedule%s*=", 1), t.schedule))
  end
end

-- Two journeys that name one event two ways ("Order Completed" and
-- "order_completed") cannot both see it: a warning, since both could be meant.
local function warn_spellings(engine)
  local first = {} -- event name -> its first use
  for _, w in ipairs(engine:awaited_events()) do
    for name, use in pairs(first) do
      if name ~= w.event and suggest.lookalike(w.event, { name }, true) then
        local def = w.journey and engine.latest[w.journey]
        local file, source = def and def.file or engine.segments_file, def and def.source or engine.segments_source
        io.stderr:write(string.format("%s:%d: warning: %s %s '%s', but %s %s '%s' (event names must match exactly)\n",
          file, journey.line_of(source, (w.event:gsub("%p", "%%%0")), 1), w.who, w.role, w.event, use.who, use.role, name))
      end
    end
    first[w.event] = first[w.event] or w
  end
end

-- A filter's literal argument that would not do what it says: a language
-- date or number does not write (it would show as with none), a time zone
-- that is none -> message | nil
local function filter_argument_problem(f)
  local langs, lang = locale.LANGUAGES[f.name], f.args[1]
  if langs and lang ~= nil then
    local known = false
    for _, l in ipairs(langs) do known = known or l == lang end
    if not known then
      return string.format('%s "%s": not a language it writes (%s); it would show as with none', f.name,
        tostring(lang), table.concat(langs, ", "))
    end
  end
  local zone = f.name == "date" and f.args[2]
  if zone and not time.zone_ok(tostring(zone)) then
    return string.format('date: "%s" is not a time zone (such as Asia/Tehran); it would show the date in UTC',
      tostring(zone))
  end
end

-- Each {{placeholder}} of `text` compiles (known filters, closed quotes) and
-- its filters' literal arguments are ones they take; `where(n)` names the
-- n-th line of text for a report. Each {{> partial}} is told to
-- partial(name, lineno), which checks it.
local function lint_placeholders(text, where, report, partial)
  local lineno = 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
    for name in line:gmatch(template.PARTIAL) do partial(name, lineno) end
    for expr in line:gsub(template.PARTIAL, ""):gmatch("{{.-}}") do
      local ok, parts = pcall(template.compile, expr)
      if not ok then report(string.format("%s: template: %s", where(lineno), parts)) end
      for _, f in ipairs(ok and parts[1].filters or {}) do
        local problem = filter_argument_problem(f)
        if problem then report(string.format("%s: template: %s", where(lineno), problem)) end
      end
    end
    local open = line:gsub("{{.-}}", ""):match("{{[^\"]*")
    if open then report(string.format('%s: template: "%s" is not closed with }}', where(lineno), open)) end
  end
end

local TEMPLATE_EXTS = { "subject", "preheader", "title", "txt", "html" }
local lint_template_file -- (below: a template's partials are templates too)

-- One version of a template (base: "promo" or "promo.fa"): its files
-- read and their placeholders checked -> { subject =, title =, txt =, html = } (true
-- for each part it has)
local function lint_template_version(dir, base, report, templates)
  local parts = {}
  for _, ext in ipairs(TEMPLATE_EXTS) do
    local path = dir .. "/" .. base .. "." .. ext
    local text, err, readable = journey.read(path)
    if readable then
      report(err)
    elseif text then
      parts[ext] = true
      lint_placeholders(text, function(n) return path .. ":" .. n end, report, function(name, n)
        lint_template_file(name, path, n, templates, report)
      end)
    end
  end
  return parts
end

-- A language's version that lacks a part the default has sends without it: a
-- warning, since a shorter version may be meant.
local function warn_missing_parts(dir, name, default, base, parts)
  for _, ext in ipairs(TEMPLATE_EXTS) do
    if default[ext] and not parts[ext] then
      io.stderr:write(string.format("%s/%s: warning: no %s.%s, while %s.%s is there: its language's messages go "
        .. "without it\n", dir, base, base, ext, name, ext))
    end
  end
end

-- A template named by a literal `template = "name"` exists (for every
-- language, when it has language versions) and its placeholders compile.
-- templates = { dir =, index =, checked = { name = true } }: each file is read once.
function lint_template_file(name, file, lineno, templates, report)
  local checked, dir = templates.checked, templates.dir
  if checked[name] then return end
  checked[name] = true
  templates.index = templates.index or template.index(dir)
  local bases = templates.index[name] or {}
  local tags = {}
  for tag in pairs(bases) do
    if tag ~= "" then tags[#tags + 1] = tag end
  end
  table.sort(tags)
  local default = bases[""] and lint_template_version(dir, bases[""], report, templates)
  for _, tag in ipairs(tags) do
    local parts = lint_template_version(dir, bases[tag], report, templates)
    if default then warn_missing_parts(dir, name, default, bases[tag], parts) end
  end
  if not default and #tags > 0 then
    local versions = {}
    for i, tag in ipairs(tags) do versions[i] = bases[tag] end
    report(string.format("%s:%d: template '%s' has only language versions (%s in %s): a contact in any other "
      .. "language would fail; add %s.txt or %s.html, or name one version (template = \"%s\")", file, lineno, name,
      table.concat(versions, ", "), dir, name, name, versions[1]))
  elseif not default then
    report(string.format("%s:%d: %s", file, lineno, template.not_found(name, dir)))
  end
end

-- a channel named by a literal in send("sms", ...) or channels = { ... }
local function lint_channel(name, file, lineno, report)
  if policy.CHANNELS[name] then return end
  local best = suggest.nearest(name, suggest.names(policy.CHANNELS))
  report(string.format("%s:%d: send: unknown channel '%s' (%s)%s", file, lineno, name, policy.CHANNEL_NAMES,
    best and string.format("; did you mean '%s'?", best) or ""))
end

-- A use of a global journeys do not have (os.time(), print(...)): the
-- name as a library (followed by . or :) or called, not as a field or key,
-- outside strings -> its name | nil
local LACKING = suggest.names(sandbox.INSTEAD)
local function lacking_global(code, locals)
  local bare = code:gsub('"[^"]*"', '""'):gsub("'[^']*'", "''")
  for _, name in ipairs(LACKING) do
    for before, after in bare:gmatch("([^%s]?)%s*%f[%w_]" .. name .. "%f[^%w_]%s*(.?)") do
      if not locals[name] and before ~= "." and before ~= ":" and after:match("[%.:%(\"'{]") then return name end
    end
  end
  return nil
end

local function lint(file, source, api, segments, templates, report)
  local locals = {}
  for name in source:gmatch("local%s+function%s+([%a_][%w_]*)") do locals[name] = true end
  for list in source:gmatch("local%s+([%a_][%w_%s,]*)") do
    for name in list:gmatch("[%a_][%w_]*") do locals[name] = true end
  end
  for params in source:gmatch("function%s*[%w_%.:]*%s*%(([^)]*)%)") do
    for name in params:gmatch("[%a_][%w_]*") do locals[name] = true end
  end
  local lineno = 0
  for line in (source .. "\n"):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
    local code = line:gsub("%-%-.*$", "")
    local function bad_duration(v, what)
      if v and not duration.parse(v) then
        report(string.format("%s:%d: %s: %s", file, lineno, what, select(2, duration.parse(v))))
      end
    end
    bad_duration(code:match('%f[%w_]wait%s*%(?%s*"([^"]*)"'), "wait")
    bad_duration(tonumber(code:match('%f[%w_]wait%s*%(%s*(%-?[%d%.]+)%s*%)') or ""), "wait")
    local weekday = code:match('%f[%w_]wait_until%s*%(?%s*{.-%f[%w_]weekday%s*=%s*"([^"]*)"')
    if weekday then
      local due, day_err = time.next_at("UTC", 0, { weekday = weekday, at = "09:00" })
      if not due then report(string.format("%s:%d: wait_until: %s", file, lineno, day_err)) end
    end
    bad_duration(code:match('%f[%w_]wait_for%s*%(.-,%s*"([^"]*)"%s*%)'), "wait_for timeout")
    local at = code:match('%f[%w_]wait_until%s*%(?%s*"([^"]*)"')
    if at then
      local due, at_err = time.next_at("UTC", 0, at)
      if not due then report(string.format("%s:%d: wait_until: %s", file, lineno, at_err)) end
    end
    local since = code:match('%f[%w_]happened%s*%(.-,%s*"([^"]*)"%s*%)')
    if since ~= "entry" then bad_duration(since, "happened since") end
    lint_placeholders((code:gsub('\\"', '"')), function() return file .. ":" .. lineno end, report, function(name)
      lint_template_file(name, file, lineno, templates, report)
    end)
    local tname = code:match('%f[%w_]template%s*=%s*"([^"]*)"')
    if tname then lint_template_file(tname, file, lineno, templates, report) end
    for list in code:gmatch('%f[%w_]channels%s*=%s*(%b{})') do
      for name in list:gmatch('"([^"]*)"') do lint_channel(name, file, lineno, report) end
    end
    local sent_on = code:match('%f[%w_]send%s*%(%s*"([^"]*)"')
    if sent_on then lint_channel(sent_on, file, lineno, report) end
    local seg = code:match('%f[%w_]in_segment%s*%(?%s*"([^"]*)"')
    if seg and segments and not segments[seg] then
      report(string.format("%s:%d: unknown segment '%s' (define it in segments.lua)", file, lineno, seg))
    end
    local lacking = lacking_global(code, locals)
    if lacking then report(string.format("%s:%d: %s", file, lineno, sandbox.INSTEAD[lacking])) end
    local called = code:match('^%s*([%a_][%w_]*)%s*[%({"]')
    if called and not KNOWN[called] and not api[called] and not locals[called] and not sandbox.INSTEAD[called] then
      local best = suggest.nearest(called, suggest.names(api))
      report(string.format("%s:%d: unknown function '%s'%s", file, lineno, called,
        best and string.format(" (did you mean '%s'?)", best) or ""))
    end
  end
end

function cmd.run(opts, usage)
  local conf, cerr = config.for_command(opts)
  if not conf then io.stderr:write(cerr, "\n") return 2 end
  local paths = {} -- (named as arguments, or with --journeys as simulate takes them)
  for _, p in ipairs(opts.args) do paths[#paths + 1] = p end
  for _, p in ipairs(opts.journeys or {}) do paths[#paths + 1] = p end
  if #paths == 0 then paths = { conf.journeys } end
  local files, dir = simulate.locate(paths)
  if not files then io.stderr:write("drip check: ", dir, "\n") return 2 end
  local store = assert(Store.open(":memory:"))
  local engine = Engine.new({ store = store, warn = function() end }) -- problems are reported below
  local problems = {}
  local function report(msg) problems[#problems + 1] = msg end
  for _, e in ipairs(engine:load(files, dir)) do report(e) end
  local loaded, templates = {}, { dir = dir .. "/templates", checked = {} }
  for _, def in pairs(engine.latest) do loaded[def.file] = def end
  local known = engine.segments_loaded and engine.segments -- (nil: segments.lua failed, and says why)
  for _, file in ipairs(files) do -- in file order, so the report reads top to bottom
    local def = loaded[file]
    if def then
      lint(file, def.source, engine.api, known, templates, report)
      local seg = def.trigger.segment
      if type(seg) == "string" and known and not known[seg] then
        report(string.format("%s:%d: unknown segment '%s' in trigger", file,
          journey.line_of(def.source, "segment%s*=", 1), seg))
      end
      warn_past_schedule(file, def)
    end
  end
  warn_spellings(engine)
  store:close()
  for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
  if #problems > 0 then return 1 end
  print(string.format("ok: %d journey%s", #files, #files == 1 and "" or "s"))
  return 0
end

return cmd
