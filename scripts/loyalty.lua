-- Loyalty invitation: a contact who orders a second time within 90 days
-- enters the repeat_buyer segment (see segments.lua); a day later they are
-- invited to the loyalty club. Once per contact.
return journey {
  name    = "loyalty",
  trigger = { segment = "repeat_buyer" },
  reentry = false,
  steps   = function(ctx)
    wait "1d"
    email { subject = "Thank you for coming back, {{contact.first_name | default \"friend\"}}",
            text = "You are one of our regulars now: join the club for early access and free returns." }
  end,
}
