-- A sample drip.conf.lua (SPEC §7). Copy it next to where you run drip.
-- simulate reads the journeys, db and the rules of sending (timezone, consent,
-- quiet hours, caps, phone_country); drip run reads all of it.
journeys = "scripts"
db       = "drip.db"
timezone = "Europe/Berlin"        -- for contacts without a timezone trait
consent  = "opt-in"               -- or "opt-out"
token    = env "DRIP_TOKEN"
listen   = "127.0.0.1:8425"       -- a non-loopback address needs a token
body_limit   = "1MiB"             -- larger request bodies get 413
buffer_limit = "256MiB"           -- request bodies held at once; past it, 503 + Retry-After

-- Sending (drip run without --dry-run). Secrets come from the environment.
secret        = env "DRIP_SECRET"                        -- signs unsubscribe links
public_url    = "https://drip.shop.test"                 -- base of {{unsubscribe_url}}
quiet_hours   = { from = "21:00", to = "08:00" }         -- marketing waits, in the contact's zone
frequency_cap = { email = "3/7d", sms = "2/7d", all = "5/7d" }
phone_country = "+98"             -- a phone written nationally (0912 …) is +98 912 …
-- global_control = "5%"          -- a share of contacts that gets no marketing, to measure each journey's lift
-- tracking = { clicks = true, opens = true, sms_clicks = true } -- links (and an image in emails) go through public_url
-- utm = true                     -- links get utm_source=drip, utm_medium=<channel>, utm_campaign=<journey>
channels = {
  email    = { smtp = "smtp://127.0.0.1:2525", from = "Shop <hi@shop.test>",
               username = env "SMTP_USER", password = env "SMTP_PASS", rate = "100/s" },
  sms      = { url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
               account = env "TWILIO_SID", token = env "TWILIO_TOKEN", from = "+15550001111", rate = "10/s" },
  push     = { url = "https://fcm.googleapis.com/v1/projects/shop/messages:send", token = env "FCM_TOKEN" },
  telegram = { url = "https://api.telegram.org", bot_token = env "TELEGRAM_BOT_TOKEN", rate = "30/s" },
  webhook  = { url = "https://hooks.shop.test/drip", secret = env "DRIP_WEBHOOK_SECRET",
               timeout = "5s", attempts = 10 },
}
