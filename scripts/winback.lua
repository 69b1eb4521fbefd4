-- Win-back: a contact silent for 30 days gets a "we miss you" email, and a
-- last chance offer a week later if still silent.
return journey {
  name    = "winback",
  trigger = { inactive = "30d" },
  goal    = "Order Completed",
  exit_on = "Unsubscribed",
  steps   = function(ctx)
    email { subject = "We miss you, {{contact.first_name | default \"friend\"}}",
            text = "Here is 15% off your next order: COMEBACK15" }
    if not wait_for("Session Started", "7d") then
      if in_segment("vip") then
        email { subject = "A gift for our best customers", text = "Free shipping for a month, on us." }
      else
        log("not a vip: no second email")
      end
    end
  end,
}
