-- Lead nurturing: a downloaded guide starts a weekly series on Mondays at
-- 09:00 local time; a booked demo is the goal. The lessons are a topic: a
-- reader can leave them by their unsubscribe link and keep other emails.
return journey {
  name    = "lead_nurturing",
  trigger = "Guide Downloaded",
  goal    = "Demo Booked",
  exit_on = "Unsubscribed",
  reentry = false,
  timeout = "30d",
  steps   = function(ctx)
    email { subject = "Your guide: {{event.properties.guide}}", text = "Download: {{event.properties.url}}" }
    local lessons = { "How teams plan a launch", "Three journeys every shop needs", "Measuring what matters" }
    for i, lesson in ipairs(lessons) do
      wait_until { weekday = "mon", at = "09:00" }
      email { topic = "lessons", subject = "Lesson " .. i .. ": " .. lesson,
              text = "Read it in five minutes: https://shop.test/learn/" .. i .. "\nNo more lessons: {{unsubscribe_url}}" }
    end
    webhook { event = "lead_nurtured", contact = "{{contact.email}}" }
  end,
}
