-- Seasonal broadcast: Yalda night (20 December, the longest night of the
-- year) to Persian-speaking contacts, at 10:00 in each contact's own time
-- zone. A careful launch: half of the segment first (rollout = "50%"). Read
-- `drip stats seasonal_yalda`, then raise it to "100%" and reload: the other
-- half gets it then, and nobody gets it twice.
return journey {
  name    = "seasonal_yalda",
  trigger = { schedule = "2026-12-20 10:00", segment = "persian", rollout = "50%" },
  goal    = "Order Completed",
  exit_on = "Unsubscribed",
  timeout = "3d",
  steps   = function(ctx)
    email { subject = "شب یلدا مبارک، {{contact.first_name | default \"دوست عزیز\"}}",
            text = "به مناسبت یلدا ۲۰٪ تخفیف روی همه‌چیز، با کد YALDA20." }
    if not wait_for("Order Completed", "1d") then
      push { title = "آخرین فرصت یلدا", body = "کد YALDA20 امشب تمام می‌شود." }
    end
  end,
}
