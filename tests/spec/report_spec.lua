-- drip.report's JSON Lines record (made in C by host.record_line): the same
-- text as the plain concatenation it replaced, for every shape of record.
local report = require "drip.report"
local helpers = require "helpers"
local json = require "drip.json"

-- the line as a reader sees it: one JSON object in at, contact, journey, kind, fields order
local function expected(at, contact, journey, kind, fields)
  local parts = { '"at":' .. json.quote(at) }
  if contact ~= nil then parts[#parts + 1] = '"contact":' .. json.encode(contact) end
  if journey ~= nil then parts[#parts + 1] = '"journey":' .. json.encode(journey) end
  parts[#parts + 1] = '"kind":' .. json.quote(kind)
  local body = json.encode(fields)
  if body ~= "{}" then parts[#parts + 1] = body:sub(2, -2) end
  return "{" .. table.concat(parts, ",") .. "}\n"
end

describe("report.jsonl", function()
  it("writes a record as one JSON line, its fields after at, contact, journey and kind", function()
    local cases = {
      { "2026-11-01T09:00:00Z", "u1", "abandoned_cart", "send", { channel = "email", message = { subject = "Hi" } } },
      { "2026-11-01T09:00:00Z", "کاربر\n\"۱\"", "سبد", "exit", { reason = "completed" } },
      { "2026-11-01T09:00:00Z", "u1", "j", "enter", {} },
      { "2026-11-01T09:00:00Z", nil, "j", "log", { message = "Привет\t\\" } },
      { "2026-11-01T09:00:00Z", "u1", nil, "log", {} },
      { "2026-11-01T09:00:00Z", 42, "j", "log", { n = 1 } }, -- (not a string: written in Lua)
    }
    local host = require "drip_host"
    for i, c in ipairs(cases) do
      -- made in C, but for a contact that is not a string
      assert.equal(type(c[2]) ~= "number", host.record_line(c[1], c[2], c[3], c[4], json.encode(c[5])) ~= nil, "case " .. i)
      local line = report.jsonl(c[1], c[2], c[3], c[4], json.encode(c[5]))
      assert.equal(expected(c[1], c[2], c[3], c[4], c[5]), line, "case " .. i)
      local back = json.decode(line)
      assert.equal(c[4], back.kind, "case " .. i)
      assert.equal(c[2], back.contact, "case " .. i)
    end
  end)
end)

describe("host.write_record", function()
  it("writes record_line's line to stdout, in order with what io.stdout writes", function()
    -- a child Lua writes records in C between lines io.stdout writes (simulate's fallback)
    local script = [[
      package.cpath = "build/?.so;" .. package.cpath
      local host = require "drip_host"
      io.stdout:setvbuf("full", 64)
      io.stdout:write("first\n")
      assert(host.write_record("2026-11-01T09:00:00Z", "کاربر\n\"۱\"", "سبد", "exit", '{"reason":"completed"}'))
      io.stdout:write("between\n")
      assert(host.write_record("2026-11-01T09:00:01Z", nil, "j", "enter", "{}"))
      assert(host.write_record("2026-11-01T09:00:02Z", 42, "j", "log", "{}") == nil) -- (Lua writes this one)
      io.stdout:write("last\n")
    ]]
    local child = assert(io.popen("lua5.4 -e '" .. script:gsub("'", "'\\''") .. "'"))
    local got = child:read("a")
    assert.is_true((child:close()))
    local host = require "drip_host"
    assert.equal("first\n"
      .. host.record_line("2026-11-01T09:00:00Z", "کاربر\n\"۱\"", "سبد", "exit", '{"reason":"completed"}')
      .. "between\n"
      .. host.record_line("2026-11-01T09:00:01Z", nil, "j", "enter", "{}")
      .. "last\n", got)
  end)
end)

describe("the table's columns", function()
  it("measure text as a terminal shows it: joiners and marks take none, emoji two", function()
    assert.equal(6, report.width("خوش‌آمد")) -- (a zero-width non-joiner inside)
    assert.equal(4, report.width("Анна"))
    assert.equal(1, report.width("e\204\129")) -- e and a combining acute accent
    assert.equal(7, report.width("🎉 Sale"))
    assert.equal(5, report.width("plain"))
    assert.equal("خوش‌آمد    |", report.pad("خوش‌آمد", 10) .. "|")
  end)

  it("clip long text at a column, not inside a character", function()
    local line = report.line({ at = "2026-11-01T10:00:00Z", contact = "u1", journey = "j", kind = "log",
                               message = string.rep("🎉", 80) })
    assert.equal("log: " .. string.rep("🎉", 39) .. "…", line:match("log: .*$")) -- (80 columns at most)
  end)
end)

describe("Store:record_writer", function()
  -- a child writes records through it into a store file; the lines it wrote
  -- and the history rows it left are then read back here
  local function run_child(db_path, body)
    local script = [[
      package.path = "stdlib/?.lua;stdlib/?/init.lua;" .. package.path
      package.cpath = "build/?.so;" .. package.cpath
      local Store = require "drip.store"
      local store = assert(Store.open("]] .. db_path .. [["))
      store:begin()
      local write = assert(store:record_writer())
      local write_row = assert(store:record_writer(false))
      ]] .. body .. [[
      io.stdout:flush()
      store:commit()
      store:close()
    ]]
    local child = assert(io.popen("lua5.4 -e '" .. script:gsub("'", "'\\''") .. "' 2>&1"))
    local got = child:read("a")
    local ok = child:close()
    return got, ok
  end

  -- the history rows the child left in the store file at path
  local function history_rows(path)
    local Store = require "drip.store"
    local store = assert(Store.open(path))
    local rows = store.db:prepare("SELECT instance, at, kind, data FROM history ORDER BY id"):all()
    store:close()
    return rows
  end

  it("writes each record's history row and its line, as add_history and host.write_record do", function()
    local path = helpers.tmpname()
    local got, ok = run_child(path, [[
      assert(write(7, 1793523600, "send", { channel = "email", message = { subject = "سلام «۱»", text = "Привет\n" } },
                   "کاربر", "سبد"))
      assert(write(8, 1793523601, "exit", '{"reason":"completed"}', "u2", "j"))
      assert(write(9, 1793523602, "log", {}, nil, "j"))
    ]])
    assert.is_true(ok, got)
    local host = require "drip_host"
    local json = require "drip.json"
    local send = { channel = "email", message = { subject = "سلام «۱»", text = "Привет\n" } }
    assert.equal(host.record_line("2026-11-01T09:00:00Z", "کاربر", "سبد", "send", json.encode(send))
      .. host.record_line("2026-11-01T09:00:01Z", "u2", "j", "exit", '{"reason":"completed"}')
      .. host.record_line("2026-11-01T09:00:02Z", nil, "j", "log", "{}"), got)
    assert.same({ { 7, 1793523600, "send", json.encode(send) }, { 8, 1793523601, "exit", '{"reason":"completed"}' },
                  { 9, 1793523602, "log", "{}" } }, history_rows(path))
  end)

  it("leaves to the Lua path what it cannot write, having written nothing of it", function()
    local path = helpers.tmpname()
    local got, ok = run_child(path, [[
      assert(write(1, 1793523600, "log", { [1] = "a", b = "c" }, "u1", "j") == nil) -- (keys of mixed types)
      assert(write(1, 1793523600, "log", {}, 42, "j") == nil) -- (a contact that is not a string)
      assert(write(1, 253402300800, "log", {}, "u1", "j") == nil) -- (past the year 9999)
      local ok, err = pcall(write, 1, 1793523600, "log", { f = print }, "u1", "j")
      assert(not ok and err:find("cannot encode a function as JSON", 1, true), err)
    ]])
    assert.is_true(ok, got)
    assert.equal("", got)
    assert.same({}, history_rows(path))
  end)

  it("writes the history row alone when made with lines false (simulate's table prints the lines)", function()
    local path = helpers.tmpname()
    local got, ok = run_child(path, [[
      assert(write_row(7, 1793523600, "send", { channel = "sms", message = { text = "Привет, «۱»" } }, "کاربر", "سبد"))
      assert(write_row(8, 1793523601, "exit", '{"reason":"goal"}', "u2", "j"))
      assert(write_row(1, 1793523600, "log", {}, 42, "j") == nil) -- (still left to the Lua path)
    ]])
    assert.is_true(ok, got)
    assert.equal("", got)
    local json = require "drip.json"
    assert.same({ { 7, 1793523600, "send", json.encode({ channel = "sms", message = { text = "Привет, «۱»" } }) },
                  { 8, 1793523601, "exit", '{"reason":"goal"}' } }, history_rows(path))
  end)

  it("is not there for a scratch store, which keeps no history", function()
    local Store = require "drip.store"
    local store = assert(Store.open(":memory:", { scratch = true }))
    assert.is_nil(store:record_writer())
    store:close()
  end)
end)
