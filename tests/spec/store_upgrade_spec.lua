-- A store made by an older drip gains the columns added since when it is
-- opened, and keeps its rows: here an outbox without the SMS segments
-- column (and the other columns schemas 2 and 3 added).
local Store = require "drip.store"
local host = require "drip_host"
local helpers = require "helpers"

local OLD_OUTBOX = [[CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', 1);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY, instance INTEGER NOT NULL, seq INTEGER NOT NULL, channel TEXT NOT NULL,
  address TEXT, kind TEXT NOT NULL, message TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
  created_at INTEGER NOT NULL, UNIQUE (instance, seq));
INSERT INTO outbox(instance, seq, channel, kind, message, status, created_at) VALUES (99, 1, 'sms', 'marketing', '{}', 'sent', 0);]]

describe("a store made before the outbox kept SMS segments", function()
  it("gets the column on open, keeps its message, and counts the segments of new ones", function()
    local path = helpers.tmpname()
    local db = assert(host.open(path))
    db:exec(OLD_OUTBOX)
    db:close()
    local store = assert(Store.open(path))
    local columns = {}
    for _, row in ipairs(store.db:prepare("PRAGMA table_info(outbox)"):all()) do columns[row[2]] = true end
    assert.is_true(columns.segments and columns.label and columns.contact and true)
    assert.equal(1, store.db:prepare("SELECT count(*) FROM outbox WHERE segments IS NULL"):first())
    store:begin()
    local id = store:add_instance("j", "v1", "ann", 0, nil, "Go", "{}")
    store:set_wait(id, 1, nil)
    store:add_outbox({ instance = id, seq = 1, kind = "marketing", contact = "ann", channel = "sms", address = "+1",
                       message = "{}", status = "simulated", segments = 3 }, 0)
    store:commit()
    local rows = store:stats_rows(0)
    assert.same({ { "j", "sms", 3 } }, rows.segments)
    store:close()
    os.remove(path)
  end)
end)

describe("a store made when every contact was in the zones index", function()
  it("has that index replaced by one of the contacts with a timezone, and still finds each zone's contacts", function()
    local path = helpers.tmpname()
    local store = assert(Store.open(path))
    store:put_contact("ann", { timezone = "Asia/Tehran" }, 0)
    store:put_contact("bob", {}, 0)
    store.db:exec("DROP INDEX contacts_zone; CREATE INDEX contacts_tz ON contacts(tz)") -- (as such a store has it)
    store:close()
    store = assert(Store.open(path))
    local indexes = store.db:prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'contacts' "
      .. "AND name NOT LIKE 'sqlite_%' ORDER BY name"):column()
    assert.same({ "contacts_zone" }, indexes)
    store:put_contact("cyd", { timezone = "Europe/Moscow" }, 0)
    store:put_contact("dan", {}, 0)
    assert.same({ "Asia/Tehran", "Europe/Moscow" }, (function()
      local zones = store:contact_zones()
      table.sort(zones)
      return zones
    end)())
    -- only contacts with a timezone are in it
    assert.matches("WHERE tz IS NOT NULL$", store.db:prepare("SELECT sql FROM sqlite_schema WHERE name = 'contacts_zone'"):first())
    local ids = {}
    for _, row in ipairs(store:contacts_in_zones({ "Europe/Moscow" }, true, "", 10)) do ids[#ids + 1] = row[1] end
    assert.same({ "bob", "cyd", "dan" }, ids) -- the zone's and those with none, in id order
    store:close()
    os.remove(path)
  end)
end)

describe("a statement's error", function()
  it("quotes the statement on one line, its blanks and line breaks as single spaces", function()
    local db = require("drip_host").open(":memory:")
    local ok, err = pcall(db.exec, db, "SELECT\n\n    no_such_function(1),\r\n\t2")
    assert.is_false(ok)
    assert.matches("sqlite: no such function: no_such_function %(in: SELECT no_such_function%(1%), 2%)", err)
    local _, long = pcall(db.exec, db, "SELECT 'a" .. string.rep("é", 60) .. "' FROM nowhere")
    assert.is_truthy(utf8.len(long), "an excerpt cut in the middle of a character")
    db:close()
  end)
end)
