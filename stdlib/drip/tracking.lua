-- drip.tracking — clicks and opens of emails (config `tracking = { clicks =
-- true, opens = true }`). Owns what goes into an email's HTML as it is sent
-- (each http(s) link through <base>/c/<token>, an image <base>/o/<token>
-- at its end) and reading those tokens back. A click token seals the
-- message id and the link, so the link goes where it was written even when
-- the message is no longer stored; an open token seals the message id. The
-- unsubscribe link and the text part are left as written.
local signed = require "drip.signed"
local template = require "drip.template"

local tracking = {}

tracking.CLICKED, tracking.OPENED = "Email Link Clicked", "Email Opened" -- (Segment's names for them)

-- A transparent 1x1 GIF, the image an open loads.
tracking.PIXEL = "GIF89a\1\0\1\0\128\0\0\0\0\0\255\255\255\33\249\4\1\0\0\0\0\44\0\0\0\0\1\0\1\0\0\2\2\68\1\0\59"


local function base_of(t) return (t.base:gsub("/+$", "")) end

function tracking.click_url(t, message_id, link)
  return base_of(t) .. "/c/" .. signed.seal(t.secret, "c1\n" .. message_id .. "\n" .. link)
end

function tracking.open_url(t, message_id)
  return base_of(t) .. "/o/" .. signed.seal(t.secret, "o1\n" .. message_id)
end

-- The HTML with its links tracked and an open image added, as t asks.
-- t: { base =, secret =, clicks = bool, opens = bool, message = outbox id }
function tracking.html(html, t)
  if t.clicks then
    local unsubscribe = base_of(t) .. "/u/"
    html = html:gsub("(<[aA]%s[^>]-[hH][rR][eE][fF]%s*=%s*)([\"'])(.-)%2", function(head, quote, href)
      local link = template.unescape_html(href)
      if not link:match("^[hH][tT][tT][pP][sS]?://") or link:sub(1, #unsubscribe) == unsubscribe then return nil end
      return head .. quote .. template.escape_html(tracking.click_url(t, t.message, link)) .. quote
    end)
  end
  if t.opens then
    local img = string.format('<img src="%s" width="1" height="1" alt="" style="display:none">',
      tracking.open_url(t, t.message))
    local at = html:find("</[bB][oO][dD][yY]>")
    html = at and (html:sub(1, at - 1) .. img .. html:sub(at)) or (html .. img)
  end
  return html
end

-- A token of a click or open -> { kind = "click" | "open", message = id,
-- link = (a click's) } | nil, why
function tracking.read(secret, kind, token)
  local payload, problem = signed.open(secret, token)
  if problem == "forged" then return nil, "the link's signature does not match" end
  local id, link
  if kind == "click" then
    id, link = (payload or ""):match("^c1\n(%d+)\n(.+)$")
    if link and not link:lower():match("^https?://") then id = nil end
  else
    id = (payload or ""):match("^o1\n(%d+)$")
  end
  if not id then return nil, "not a link drip made" end
  return { kind = kind, message = tonumber(id), link = link }
end

-- tracking.check(t) -> { clicks =, opens = } | nil (off) | nil, "key: message"
function tracking.check(t)
  if t == nil then return nil end
  for k, v in pairs(t) do
    if k ~= "clicks" and k ~= "opens" then
      return nil, string.format("tracking.%s: unknown key (tracking takes clicks and opens)", tostring(k))
    end
    if type(v) ~= "boolean" then return nil, string.format("tracking.%s: true or false, not %s", k, tostring(v)) end
  end
  if not (t.clicks or t.opens) then return nil end
  return { clicks = t.clicks or false, opens = t.opens or false }
end

return tracking
