-- Post-purchase: thanks now, a how-to when it arrives (3 days), a review
-- request a week later, and a cross-sell after two weeks if they have not
-- ordered again.
return journey {
  name    = "post_purchase",
  trigger = "Order Completed",
  steps   = function(ctx)
    local order = ctx.event.properties
    email { subject = "Thank you for your order {{event.properties.order_id}}",
            text = "We are packing it now. Total: {{event.properties.revenue}} {{event.properties.currency | default \"EUR\"}}",
            kind = "transactional" }
    wait "3d"
    email { subject = "Getting started with your {{event.properties.product | default \"order\"}}",
            text = "A two-minute guide: https://shop.test/how-to/{{event.properties.category | default \"all\"}}" }
    wait "7d"
    email { subject = "How do you like it, {{contact.first_name | default \"there\"}}?",
            text = "Leave a review and get 50 points: https://shop.test/review/{{event.properties.order_id}}" }
    set { review_requested_at = now() }
    wait "4d"
    if not happened("Order Completed", "14d") or happened("Order Completed", "14d").properties.order_id == order.order_id then
      email { subject = "Goes well with your {{event.properties.product | default \"order\"}}",
              text = "Picked for you: https://shop.test/for/{{event.properties.category | default \"you\"}}" }
    end
  end,
}
