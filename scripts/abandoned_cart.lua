-- Abandoned cart: an hour after the cart changes, remind by email; if there
-- is still no order a day later, a short SMS.
return journey {
  name    = "abandoned_cart",
  trigger = "Cart Updated",
  goal    = "Order Completed",
  exit_on = { "Unsubscribed" },
  reentry = "24h",
  steps   = function(ctx)
    wait "1h"
    email { subject = "You left something behind, {{contact.first_name | default \"there\"}}",
            text    = "Your cart is waiting: {{event.properties.cart_url}}" }
    if not wait_for("Order Completed", "1d") then
      sms { text = "Still thinking? {{event.properties.cart_url}}" }
    end
  end,
}
