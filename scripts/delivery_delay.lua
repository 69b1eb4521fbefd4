-- Delivery-delay apology: when an order is late, say sorry at once
-- (transactional, so it goes out even at night) with a compensation code,
-- and offer a discount on the next order once it has arrived.
return journey {
  name    = "delivery_delay",
  trigger = { event = "Order Delayed", where = function(e) return (e.properties or {}).days_late ~= nil end },
  reentry = true,
  steps   = function(ctx)
    local late = ctx.event.properties.days_late
    local code = late >= 3 and "SORRY20" or "SORRY10"
    email { kind = "transactional",
            subject = "Your order {{event.properties.order_id}} is running late — we are sorry",
            text = "It is about {{event.properties.days_late}} days late. Take " .. code .. " off your next order." }
    if wait_for("Order Delivered", "14d") then
      wait "1d"
      email { subject = "Thanks for your patience: " .. code .. " is waiting for you",
              text = "Your code " .. code .. " works until the end of the month." }
    end
  end,
}
