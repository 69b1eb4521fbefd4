-- A/B test with a holdout group: after a product view, 10% get nothing
-- (the holdout, to measure what messages add at all), the rest get one of
-- two offers. `drip stats` shows each group's conversion with its interval.
return journey {
  name    = "ab_holdout",
  trigger = "Product Viewed",
  goal    = "Order Completed",
  reentry = "30d",
  timeout = "7d",
  steps   = function(ctx)
    local group = split("offer", { holdout = 10, free_shipping = 45, discount = 45 })
    if group == "holdout" then
      wait "7d"
      return
    end
    wait "2h"
    if group == "free_shipping" then
      email { subject = "Free shipping on {{event.properties.name | default \"it\"}}, today only", text = "{{event.properties.url}}" }
    else
      email { subject = "10% off {{event.properties.name | default \"it\"}}, today only", text = "{{event.properties.url}}" }
    end
    wait "5d"
  end,
}
