-- drip.encoding — what drip says about files that are not UTF-8 text (or
-- not text at all: compressed files and archives).
-- Owns the messages for a file an editor or exporter saved as UTF-16 (Excel's
-- "Unicode text", Notepad's "Unicode") or in a legacy code page (Windows-1256,
-- Windows-1251, Latin-1): journeys, templates, configuration, events and CSV
-- files. Left alone, such a file gives a syntax error about a stray byte, one
-- bad line per line, or messages with mangled text.
local host = require "drip_host"

local encoding = {}

-- the first bytes of compressed files and archives, and what each is
local PACKED = { { "\31\139", "gzip-compressed" }, { "BZh", "bzip2-compressed" }, { "\253\55\122\88\90\0", "xz-compressed" },
                 { "\40\181\47\253", "zstd-compressed" }, { "PK\3\4", "a zip archive (as an .xlsx workbook is)" } }

-- encoding.start_error(head, path, unpack_hint) -> "path:1: ..." when the
-- file's first bytes (head: six or more) say it is UTF-16 text, or
-- compressed (unpack_hint: how to read it anyway), else nil
function encoding.start_error(head, path, unpack_hint)
  local bom = head:sub(1, 2)
  if bom == "\255\254" or bom == "\254\255" then return path .. ":1: the file is UTF-16 text; save it as UTF-8" end
  for _, packed in ipairs(PACKED) do
    if head:sub(1, #packed[1]) == packed[1] then
      local what = packed[2]
      return string.format("%s:1: the file is %s; %s", path, what,
        what:find("compressed") and "decompress it first" .. (unpack_hint or "") or "save or extract it as UTF-8 text")
    end
  end
  return nil
end

-- encoding.file_error(text, path) -> "path:line: ..." when text is not UTF-8, else nil
function encoding.file_error(text, path)
  local unreadable = encoding.start_error(text, path)
  if unreadable then return unreadable end
  local bad = host.utf8_error(text)
  if not bad then return nil end
  local line = select(2, text:sub(1, bad):gsub("\n", "")) + 1
  return string.format("%s:%d: not UTF-8 (byte 0x%02X); save the file as UTF-8", path, line, text:byte(bad))
end

return encoding
