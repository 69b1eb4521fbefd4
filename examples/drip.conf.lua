-- A sample drip.conf.lua (SPEC §7). Copy it next to where you run drip.
-- simulate reads journeys, db, timezone and consent; the rest is for drip run.
journeys = "scripts"
db       = "drip.db"
timezone = "Europe/Berlin"        -- for contacts without a timezone trait
consent  = "opt-in"               -- or "opt-out"
token    = env "DRIP_TOKEN"
