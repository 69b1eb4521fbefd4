-- drip run's --listen: HOST:PORT, [IPv6]:PORT, or a port alone on loopback.
local run = require "drip.cmd_run"

describe("--listen", function()
  it("takes HOST:PORT, [IPv6]:PORT, and a port alone as 127.0.0.1's", function()
    assert.same({ "0.0.0.0", "8425" }, { run.parse_listen("0.0.0.0:8425") })
    assert.same({ "::1", "9000" }, { run.parse_listen("[::1]:9000") })
    assert.same({ "127.0.0.1", "8425" }, { run.parse_listen("8425") })
  end)
  it("refuses a port alone after a colon, a port too large, and a word", function()
    assert.is_nil(run.parse_listen(":8425"))
    assert.is_nil(run.parse_listen("70000"))
    assert.is_nil(run.parse_listen("nonsense"))
  end)
end)
