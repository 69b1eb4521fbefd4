-- drip.csv — reading CSV (RFC 4180): fields separated by commas, quoted
-- with double quotes (a quote inside doubled), quoted fields may hold commas
-- and line breaks; CRLF or LF line ends; a UTF-8 byte order mark is skipped.
-- A file whose header row is separated by semicolons (what spreadsheets
-- write where the comma is the decimal mark, as in Russian) or by tabs is
-- read with that separator. Writing: a row of fields, quoted where needed.
local csv = {}

csv.BOM = "\239\187\191" -- (so that a spreadsheet reads the file as UTF-8: Persian and Russian stay whole)

-- one field: quoted when it holds a comma, quote or line break; text a
-- spreadsheet would take for a formula (=, +, @, or - before a non-digit)
-- begins with an apostrophe, so a subject line cannot run as one
local function field(v)
  if v == nil then return "" end
  local s = math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 and string.format("%d", v)
    or tostring(v)
  if type(v) == "string" and (s:match("^[=+@\t\r]") or s:match("^%-[^%d]")) then s = "'" .. s end
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- csv.line(values, n) -> a row of values[1..n] (nil: empty) with its CRLF
function csv.line(values, n)
  local out = {}
  for i = 1, n do out[i] = field(values[i]) end
  return table.concat(out, ",") .. "\r\n"
end

local SEPARATORS = { ",", ";", "\t" }

-- csv.separator(text) -> the character that separates the header row's
-- fields: the most frequent of comma, semicolon and tab outside quotes
-- (a comma when none is there)
function csv.separator(text)
  local header = (text:match("^[^\r\n]*"):gsub('"[^"]*"', ""))
  local best, most = ",", 0
  for _, sep in ipairs(SEPARATORS) do
    local _, count = header:gsub(sep, "")
    if count > most then best, most = sep, count end
  end
  return best
end

-- csv.rows(text) -> iterator of (fields, line number where the row starts).
-- A row with a quoted field that is never closed comes as (false, line,
-- message), and reading goes on at the next line, so one stray quote costs
-- one row, not the rest of the file.
function csv.rows(text)
  text = text:gsub("^\239\187\191", "")
  local sep = csv.separator(text)
  local stops = "[" .. sep .. "\r\n]"
  local pos, line, n = 1, 1, #text
  return function()
    if pos > n then return nil end
    local fields, start, field, row_pos = {}, line, {}, pos
    while true do
      local c = text:sub(pos, pos)
      if c == '"' and #field == 0 then
        local i = pos + 1
        while true do
          local q = text:find('"', i, true)
          if not q then
            pos, line = (text:find("\n", row_pos, true) or n) + 1, start + 1
            return false, start, "a quoted field is never closed"
          end
          field[#field + 1] = text:sub(i, q - 1)
          if text:sub(q + 1, q + 1) == '"' then
            field[#field + 1] = '"'
            i = q + 2
          else
            pos = q + 1
            break
          end
        end
        local quoted = table.concat(field)
        local _, breaks = quoted:gsub("\n", "")
        line = line + breaks
        field = { quoted }
      else
        local stop = text:find(stops, pos) or n + 1
        field[#field + 1] = text:sub(pos, stop - 1)
        pos = stop
      end
      c = text:sub(pos, pos)
      if c == sep then
        fields[#fields + 1] = table.concat(field)
        field, pos = {}, pos + 1
      else
        fields[#fields + 1] = table.concat(field)
        if c == "\r" then pos = pos + 1 end
        if text:sub(pos, pos) == "\n" then pos = pos + 1 end
        line = line + 1
        return fields, start
      end
    end
  end
end

return csv
