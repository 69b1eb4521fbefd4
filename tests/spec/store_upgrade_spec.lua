-- A store made by an older drip gains the columns added since when it is
-- opened, and keeps its rows: here an outbox without the SMS segments
-- column (and the other columns schemas 2 and 3 added).
local Store = require "drip.store"
local host = require "drip_host"

local OLD_OUTBOX = [[CREATE TABLE outbox (
  id INTEGER PRIMARY KEY, instance INTEGER NOT NULL, seq INTEGER NOT NULL, channel TEXT NOT NULL,
  address TEXT, kind TEXT NOT NULL, message TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
  created_at INTEGER NOT NULL, UNIQUE (instance, seq));
INSERT INTO outbox(instance, seq, channel, kind, message, status, created_at) VALUES (99, 1, 'sms', 'marketing', '{}', 'sent', 0);]]

describe("a store made before the outbox kept SMS segments", function()
  it("gets the column on open, keeps its message, and counts the segments of new ones", function()
    local path = os.tmpname()
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
