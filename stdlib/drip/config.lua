-- drip.config — drip.conf.lua (SPEC §7): plain assignments, `env "NAME"` for
-- secrets, unknown keys an error naming the key. Flags override the file.
local journey = require "drip.journey"
local policy = require "drip.policy"
local time = require "drip.time"
local suggest = require "drip.suggest"
local tracking = require "drip.tracking"
local utm = require "drip.utm"

local config = {}

local KEYS = { listen = "string", journeys = "string", db = "string", token = "string", timezone = "string",
               consent = "string", quiet_hours = "table", frequency_cap = "table", public_url = "string",
               secret = "string", body_limit = "string", buffer_limit = "string", channels = "table",
               phone_country = "string", global_control = "string", tracking = "table", utm = "boolean|table" }

config.DEFAULTS = { listen = "127.0.0.1:8425", journeys = "scripts", db = "drip.db", timezone = "UTC",
                    consent = "opt-in", body_limit = "1MiB", buffer_limit = "256MiB" }

-- config.load(path, required) -> table | nil, "file:line: message"
-- With required == false a missing file gives the defaults.
function config.load(path, required)
  local values = {}
  for k, v in pairs(config.DEFAULTS) do values[k] = v end
  local source, err, readable = journey.read(path)
  if readable then return nil, err end
  if not source then
    if required then return nil, path .. ": cannot read the configuration file" end
    return values
  end
  local set = {}
  local env = setmetatable({}, {
    __index = function(_, k)
      if k == "env" then return function(name) return os.getenv(tostring(name)) end end
      return rawget(set, k)
    end,
    __newindex = function(_, k, v) rawset(set, k, v) end,
  })
  local chunk, err = load(source, "@" .. path, "t", env)
  if not chunk then return nil, err end
  local ok, rerr = journey.run_chunk(chunk)
  if not ok then return nil, (tostring(rerr):gsub("\nstack traceback:.*", "")) end
  values.origins = {} -- key -> "path:line" where the file sets it (see config.where)
  for k, v in pairs(set) do
    values.origins[k] = string.format("%s:%d", path, journey.line_of(source, "%f[%w_]" .. k .. "%s*=", 1))
    if not KEYS[k] then
      local names = suggest.names(KEYS)
      local near = type(k) == "string" and suggest.nearest(k, names)
      return nil, string.format("%sunknown key '%s'%s (known: %s)", config.where(values, k), k,
        near and string.format("; did you mean '%s'?", near) or "", table.concat(names, ", "))
    end
    if not ("|" .. KEYS[k] .. "|"):find("|" .. type(v) .. "|", 1, true) then
      return nil, string.format("%s'%s' must be a %s", config.where(values, k), k, (KEYS[k]:gsub("|", " or a ")))
    end
    values[k] = v
  end
  if values.consent ~= "opt-in" and values.consent ~= "opt-out" then
    return nil, config.where(values, "consent") .. 'consent must be "opt-in" or "opt-out"'
  end
  if not time.zone_ok(values.timezone) then
    local meant = time.zone_for(values.timezone) -- (a city's zone, or an offset in the form zones take)
    return nil, string.format("%stimezone: unknown time zone '%s'%s", config.where(values, "timezone"), values.timezone,
      meant and " (did you mean '" .. meant .. "'?)" or "")
  end
  if values.phone_country and not values.phone_country:match("^%+[1-9]%d?%d?$") then
    return nil, string.format('%sphone_country: "%s" is not a calling code such as "+98" or "+7"',
      config.where(values, "phone_country"), values.phone_country)
  end
  local perr
  values.caps, perr = policy.parse_caps(values.frequency_cap)
  if perr then return nil, config.where(values, "frequency_cap") .. perr end
  values.quiet, perr = policy.parse_quiet(values.quiet_hours)
  if perr then return nil, config.where(values, "quiet_hours") .. perr end
  values.control, perr = policy.parse_control(values.global_control)
  if perr then return nil, config.where(values, "global_control") .. perr end
  values.track, perr = tracking.check(values.tracking)
  if perr then return nil, config.where(values, "tracking") .. perr end
  values.utm_tags, perr = utm.check(values.utm)
  if perr then return nil, config.where(values, "utm") .. perr end
  return values
end

-- config.where(conf, key) -> "drip.conf.lua:12: " where the file sets key, else ""
-- (a default), to start an error about that key's value
function config.where(conf, key)
  local origin = conf.origins and conf.origins[key]
  return origin and origin .. ": " or ""
end

-- config.for_command(opts): --config FILE (must exist), else ./drip.conf.lua when present
function config.for_command(opts)
  if opts.config then return config.load(opts.config, true) end
  return config.load("drip.conf.lua", false)
end

return config
