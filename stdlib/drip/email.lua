-- drip.email — one message as the bytes of an RFC 5322 / MIME email.
-- Owns: header encoding (RFC 2047 encoded words for UTF-8, no CR/LF
-- injection), addresses ("Name <a@b>"), multipart/alternative with text and
-- HTML parts in base64, List-Unsubscribe headers (RFC 2369, RFC 8058), the
-- text direction of HTML written in a right-to-left script, and the
-- preheader hidden at the start of the HTML.
local host = require "drip_host"
local template = require "drip.template"

local email = {}

local CRLF = "\r\n"

-- the UTF-8 characters of s, as a list of byte strings
local function utf8_chars(s)
  local out = {}
  for ch in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do out[#out + 1] = ch end
  return out
end

-- A header value with CR/LF folded to spaces; UTF-8 as "=?UTF-8?B?...?="
-- words of whole characters, at most 75 bytes each (RFC 2047 §2).
function email.encode_header(s)
  s = tostring(s):gsub("[\r\n]+", " ")
  if not s:find("[\128-\255]") then return s end
  local words, chunk = {}, ""
  for _, ch in ipairs(utf8_chars(s)) do
    if #chunk + #ch > 45 then -- 45 bytes -> 60 base64 chars + 12 of framing
      words[#words + 1] = chunk
      chunk = ""
    end
    chunk = chunk .. ch
  end
  words[#words + 1] = chunk
  for i, w in ipairs(words) do words[i] = "=?UTF-8?B?" .. host.base64(w) .. "?=" end
  return table.concat(words, CRLF .. " ")
end

-- "Shop <hi@shop.test>" -> "hi@shop.test"; "hi@shop.test" -> itself
function email.bare_address(s)
  s = tostring(s)
  return s:match("<%s*([^>%s]+)%s*>") or s:match("^%s*(%S+)%s*$") or s
end

-- an address header: the display name encoded when it is not ASCII
function email.address_header(s)
  s = tostring(s):gsub("[\r\n]+", " ")
  local name, addr = s:match('^%s*"?(.-)"?%s*<([^>]+)>%s*$')
  if not name or name == "" then return email.bare_address(s) end
  if name:find("[\128-\255]") then return email.encode_header(name) .. " <" .. addr .. ">" end
  return '"' .. name:gsub('["\\]', "\\%0") .. '" <' .. addr .. ">"
end

-- Letters of right-to-left scripts (Hebrew, Arabic and Persian) against
-- Latin and Cyrillic letters: more of the first means right to left.
function email.is_rtl(text)
  local rtl, ltr = 0, 0
  for _, c in utf8.codes(text, true) do
    if (c >= 0x0590 and c <= 0x08FF) or (c >= 0xFB1D and c <= 0xFDFF) or (c >= 0xFE70 and c <= 0xFEFF) then
      rtl = rtl + 1
    elseif (c >= 0x41 and c <= 0x5A) or (c >= 0x61 and c <= 0x7A) or (c >= 0xC0 and c <= 0x04FF) then
      ltr = ltr + 1
    end
  end
  return rtl > ltr
end

-- HTML with its direction set: `dir` is "rtl", "ltr" or nil (decide by the
-- text). An explicit dir= already in the markup is left as it is.
function email.with_direction(html, dir)
  if not dir then
    local text = html:gsub("<[^>]*>", " ")
    if not (utf8.len(text) and email.is_rtl(text)) then return html end
    dir = "rtl"
  end
  if dir ~= "rtl" or html:find("%sdir%s*=") then return html end
  local body_open = html:find("<body[%s>]")
  if body_open then return (html:gsub("<body", '<body dir="rtl"', 1)) end
  local html_open = html:find("<html[%s>]")
  if html_open then return (html:gsub("<html", '<html dir="rtl"', 1)) end
  return '<div dir="rtl">' .. html .. "</div>"
end

-- The preheader (what an inbox shows after the subject) as hidden text at
-- the start of the HTML's body, followed by invisible padding so that the
-- body's first words do not trail it in the inbox.
local PADDING = string.rep("&#847;&zwnj;&nbsp;", 60)
function email.with_preheader(html, preheader)
  if not preheader or preheader == "" then return html end
  local hidden = '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">'
    .. template.escape_html(tostring(preheader)) .. PADDING .. "</div>"
  local _, body_end = html:find("<[bB][oO][dD][yY][^>]*>")
  if body_end then return html:sub(1, body_end) .. hidden .. html:sub(body_end + 1) end
  return hidden .. html
end

local function base64_lines(s)
  local b64, lines = host.base64(s), {}
  for i = 1, #b64, 76 do lines[#lines + 1] = b64:sub(i, i + 75) end
  return table.concat(lines, CRLF)
end

local function part(content_type, body)
  return "Content-Type: " .. content_type .. "; charset=UTF-8" .. CRLF
    .. "Content-Transfer-Encoding: base64" .. CRLF .. CRLF .. base64_lines(body) .. CRLF
end

-- email.compose{ from=, to=, subject=, text=, html=, dir=, reply_to=, message_id=, date=epoch,
--                list_unsubscribe=url | nil } -> the message, CRLF line ends
-- The text of an HTML part, for the plain part of a message written only
-- in HTML (spam filters mark HTML alone): paragraphs and line breaks kept,
-- a link as "label (url)", list items as "- ", entities decoded, the head,
-- styles and scripts left out.
local BREAKS = { br = "\n", p = "\n\n", div = "\n", tr = "\n", h1 = "\n\n", h2 = "\n\n", h3 = "\n\n",
                 h4 = "\n\n", h5 = "\n\n", h6 = "\n\n", table = "\n", ul = "\n", ol = "\n" }
function email.text_of_html(html)
  local s = html:gsub("<!%-%-.-%-%->", "")
  for _, block in ipairs({ "head", "style", "script", "title" }) do
    s = s:gsub("<" .. block .. "[%s>].-</" .. block .. "%s*>", ""):gsub("<" .. block:upper() .. "[%s>].-</"
      .. block:upper() .. "%s*>", "")
  end
  s = s:gsub("%s+", " ")
  s = s:gsub("<[aA]%s[^>]-[hH][rR][eE][fF]%s*=%s*([\"'])(.-)%1[^>]*>(.-)</[aA]%s*>", function(_, href, label)
    local text = label:gsub("<[^>]*>", ""):match("^%s*(.-)%s*$")
    if not href:lower():match("^https?://") or text == href then return label end
    return text .. " (" .. href .. ")"
  end)
  s = s:gsub("<(/?)(%w+)[^>]*>", function(close, tag)
    tag = tag:lower()
    if tag == "li" then return close == "" and "\n- " or "" end
    return BREAKS[tag] or ""
  end)
  s = template.unescape_html(s)
  s = s:gsub("[ \t]*\n[ \t]*", "\n"):gsub("\n\n\n+", "\n\n"):gsub(" +", " ")
  return s:match("^%s*(.-)%s*$") .. "\n"
end

function email.compose(m)
  local headers = {
    "From: " .. email.address_header(m.from),
    "To: " .. email.address_header(m.to),
    "Subject: " .. email.encode_header(m.subject or ""),
    "Date: " .. os.date("!%a, %d %b %Y %H:%M:%S +0000", m.date),
    "Message-ID: <" .. m.message_id .. ">",
    "MIME-Version: 1.0",
  }
  if m.reply_to then headers[#headers + 1] = "Reply-To: " .. email.address_header(m.reply_to) end
  if m.list_unsubscribe then
    headers[#headers + 1] = "List-Unsubscribe: <" .. m.list_unsubscribe .. ">"
    headers[#headers + 1] = "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
  end
  local text, html = m.text, m.html and email.with_direction(email.with_preheader(m.html, m.preheader), m.dir)
  local body
  if text and html then
    local boundary = "=_drip_" .. host.hash(m.message_id):sub(1, 24)
    headers[#headers + 1] = 'Content-Type: multipart/alternative; boundary="' .. boundary .. '"'
    body = "--" .. boundary .. CRLF .. part("text/plain", text) .. "--" .. boundary .. CRLF
      .. part("text/html", html) .. "--" .. boundary .. "--" .. CRLF
  else
    local p = part(html and "text/html" or "text/plain", html or text or "")
    local head, rest = p:match("^(.-\r\n.-\r\n)\r\n(.*)$")
    for line in head:gmatch("([^\r\n]+)") do headers[#headers + 1] = line end
    body = rest
  end
  return table.concat(headers, CRLF) .. CRLF .. CRLF .. body
end

return email
