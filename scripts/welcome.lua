-- Welcome series: a greeting right after sign-up (subject line A/B tested),
-- tips two days later, and a first-order nudge at 10:00 local time on day 5
-- unless the contact has ordered by then.
local subjects = {
  en = { A = "Welcome to Shop, {{contact.first_name | default \"friend\"}}!",
         B = "{{contact.first_name | default \"Hi\"}}, your 10% welcome gift is inside" },
  fa = { A = "{{contact.first_name | default \"دوست عزیز\"}}، به فروشگاه خوش آمدید!",
         B = "{{contact.first_name | default \"سلام\"}}، هدیه ۱۰٪ خوش‌آمدگویی شما" },
  ru = { A = "Добро пожаловать в Shop, {{contact.first_name | default \"друг\"}}!",
         B = "{{contact.first_name | default \"Привет\"}}, ваш подарок 10% внутри" },
}

return journey {
  name    = "welcome",
  trigger = "Signed Up",
  goal    = "Order Completed",
  exit_on = "Unsubscribed",
  reentry = false,
  steps   = function(ctx)
    local tag = tostring(ctx.contact.language or ctx.contact.locale or ""):lower():sub(1, 2) -- ("fa-IR" -> "fa")
    local lang = subjects[tag] and tag or "en"
    local variant = split("welcome_subject", { A = 50, B = 50 })
    email { subject = subjects[lang][variant], template = "welcome" }
    wait "2d"
    email { template = "welcome_tips" } -- (welcome_tips.fa.* for Persian readers, .ru.* for Russian)
    wait "3d"
    wait_until "10:00"
    if not happened("Order Completed", "entry") then
      email { template = "welcome_code" }
    end
  end,
}
