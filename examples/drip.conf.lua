-- A sample drip.conf.lua (SPEC §7). Copy it next to where you run drip.
-- simulate reads journeys, db, timezone and consent; drip run reads all of it.
journeys = "scripts"
db       = "drip.db"
timezone = "Europe/Berlin"        -- for contacts without a timezone trait
consent  = "opt-in"               -- or "opt-out"
token    = env "DRIP_TOKEN"
listen   = "127.0.0.1:8425"       -- a non-loopback address needs a token
body_limit   = "1MiB"             -- larger request bodies get 413
buffer_limit = "256MiB"           -- request bodies held at once; past it, 503 + Retry-After
