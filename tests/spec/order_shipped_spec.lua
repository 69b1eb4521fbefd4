local testing = require "drip.testing"

describe("order_shipped", function()
  local shipped = { order_id = "SO-77", carrier = "DHL", tracking_url = "https://track.test/SO-77?a=1&b=<2>" }

  it("sends transactional email and SMS with the order number, without marketing consent", function()
    local sim = testing.new { journeys = { "scripts/order_shipped.lua" } }
    sim:identify("u1", { email = "a@x.test", phone = "+79161234567", locale = "ru", consent = { email = false } })
    sim:track("u1", "Order Shipped", shipped)
    local mail = sim:expect_sent { channel = "email", contact = "u1" }
    assert.equal("Shipped: order SO-77", mail.message.subject)
    assert.equal("Заказ SO-77 в пути: https://track.test/SO-77?a=1&b=<2>", mail.message.text)
    -- values in html are escaped
    assert.matches("href=\"https://track.test/SO%-77%?a=1&amp;b=&lt;2&gt;\"", mail.message.html)
    local sms = sim:expect_sent { channel = "sms", contact = "u1" }
    assert.equal("+79161234567", sms.to)
    assert.equal("transactional", sms.kind_of_message)
  end)

  it("re-enters for every shipment, and uses Persian copy", function()
    local sim = testing.new { journeys = { "scripts/order_shipped.lua" } }
    sim:identify("u1", { email = "a@x.test", locale = "fa" })
    sim:track("u1", "Order Shipped", shipped)
    sim:track("u1", "Order Shipped", { order_id = "SO-78", tracking_url = "https://t/78" })
    local sent = sim:sent { channel = "email" }
    assert.equal(2, #sent)
    assert.equal("سفارش SO-78 ارسال شد: https://t/78", sent[2].message.text)
    assert.equal(0, #sim:sent { channel = "sms" }) -- no phone
  end)
end)
