-- drip.utm — campaign parameters on the links of messages (config `utm =
-- true`, or `{ source =, medium =, campaign = }`), so that web analytics
-- tell which journey and channel brought a visit: utm_source (default
-- "drip"), utm_medium (default the channel), utm_campaign (default the
-- journey). Owns reading that setting and adding the parameters to each
-- http(s) link of a rendered message: the hrefs of its HTML, and the links
-- written in its other text fields. A link that has utm_source already, and
-- drip's own links (unsubscribe), are left as they are.
local tracking = require "drip.tracking"
local template = require "drip.template"

local utm = {}

local KEYS = { source = true, medium = true, campaign = true }

-- utm.check(v) -> settings { source =, medium =, campaign = } (nil: the
-- defaults) | nil (off) | nil, "key: message"
function utm.check(v)
  if v == nil or v == false then return nil end
  if v == true then return { source = "drip" } end
  if type(v) ~= "table" then return nil, "true, or a table of source, medium and campaign" end
  for k, x in pairs(v) do
    if not KEYS[k] then return nil, string.format("utm.%s: unknown key (utm takes source, medium and campaign)", tostring(k)) end
    if type(x) ~= "string" or x == "" then return nil, string.format("utm.%s: a text, not %s", k, tostring(x)) end
  end
  return { source = v.source or "drip", medium = v.medium, campaign = v.campaign }
end

local encoded = template.escape_url

-- url with the parameters (a query string) before its #fragment, unless it has utm_source
local function with_params(url, query)
  if url:find("[?&]utm_source=") then return url end
  local base, fragment = url:match("^([^#]*)(#.*)$")
  base, fragment = base or url, fragment or ""
  return base .. (base:find("?", 1, true) and "&" or "?") .. query .. fragment
end

-- utm.apply(fields, settings, channel, journey, own) -> the fields with
-- their links tagged; `own`: the start of drip's own links, left alone
function utm.apply(fields, settings, channel, journey, own)
  local query = "utm_source=" .. encoded(settings.source) .. "&utm_medium=" .. encoded(settings.medium or channel)
    .. "&utm_campaign=" .. encoded(settings.campaign or journey)
  local function tag(url)
    if url:sub(1, #own) == own then return url end
    return with_params(url, query)
  end
  local function tagged(url) -- (an href: nil leaves it as written)
    local t = tag(url)
    return t ~= url and t or nil
  end
  local out = {}
  for k, v in pairs(fields) do
    if type(v) ~= "string" or not v:find("://", 1, true) then
      out[k] = v
    elseif k == "html" then
      out[k] = tracking.map_hrefs(v, tagged)
    else
      out[k] = tracking.map_text_links(v, tag)
    end
  end
  return out
end

return utm
