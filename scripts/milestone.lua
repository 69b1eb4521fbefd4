-- Milestone celebration: the first time a contact's points reach 1,000,
-- congratulate them (in their language) and grant a reward.
local texts = {
  en = "You reached {{event.properties.points | number}} points — a free gift is on us!",
  fa = "شما به {{event.properties.points | number \"fa\"}} امتیاز رسیدید — یک هدیه رایگان برای شما!",
  ru = "У вас {{event.properties.points | number \"ru\"}} баллов — подарок за наш счёт!",
}

return journey {
  name    = "milestone",
  trigger = { event = "Points Updated", where = function(e) return ((e.properties or {}).points or 0) >= 1000 end },
  reentry = false,
  steps   = function(ctx)
    local lang = texts[ctx.contact.locale] and ctx.contact.locale or "en"
    set { milestone_1000 = true }
    email { subject = "🎉 1,000", text = texts[lang] }
    track("Reward Granted", { reward = "gift", points = ctx.event.properties.points })
  end,
}
