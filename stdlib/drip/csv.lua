-- drip.csv — reading CSV (RFC 4180): fields separated by commas, quoted
-- with double quotes (a quote inside doubled), quoted fields may hold commas
-- and line breaks; CRLF or LF line ends; a UTF-8 byte order mark is skipped.
-- A file whose header row is separated by semicolons (what spreadsheets
-- write where the comma is the decimal mark, as in Russian) or by tabs is
-- read with that separator.
local csv = {}

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
