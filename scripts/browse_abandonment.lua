-- Browse abandonment: someone looked at a product (twice the price of a
-- coffee at least) and did not add it to a cart within 4 hours.
return journey {
  name    = "browse_abandonment",
  trigger = { event = "Product Viewed", where = function(event, contact)
    return (event.properties.price or 0) >= 20
  end },
  goal    = "Order Completed",
  exit_on = { "Cart Updated", "Unsubscribed" },
  reentry = "7d",
  steps   = function(ctx)
    wait "4h"
    push { title = "Still thinking about {{event.properties.name}}?",
           body  = "It is still in stock: {{event.properties.url}}" }
  end,
}
