-- drip.pause — stopping a journey's messages at once, and starting them
-- again (`drip pause`, `drip resume`, POST /v1/journeys/{name}/pause and
-- /resume). Owns what a pause means in the store: while a journey is
-- paused, no one enters it, its running instances go on (waits, goals and
-- exits as before), and each message they send is held (status `held`,
-- never due) instead of queued; the messages already queued when it pauses
-- are held too. Resuming sends the held messages now or drops them, as the
-- caller chooses; a held message whose contact reached the journey's goal
-- or exit event meanwhile is dropped either way. The engine reads the open
-- pauses (Engine:read_pauses); this module changes them, inside the
-- caller's transaction. Each change of a message's state says why in its
-- delivery detail: { pause = "held" | "released" | "dropped" | "goal" |
-- "exit_event" } (the last two: dropped, as its instance ended so).
local pause = {}

-- what resuming does with held messages: "send" or "drop"
pause.CHOICES = { send = true, drop = true }

-- an instance that ended so no longer wants its held messages
local ENDED_AGAINST = { goal = true, exit_event = true }

local function known(store, name)
  if store:latest_script(name) then return true end
  return nil, require("drip.cli").unknown_journey(name, store:journey_names())
end

-- Pause journey `name` at `now`. -> { journey, since, already (it was
-- paused before), held (messages queued until now, held now), sending (on
-- their way to the provider already: they may still arrive) } | nil, error
function pause.pause(store, name, now)
  local ok, err = known(store, name)
  if not ok then return nil, err end
  local open = store:paused_journeys()[name]
  if open then return { journey = name, since = open.since, already = true, held = 0, sending = 0 } end
  store:add_pause(name, now)
  local held = 0
  for _, m in ipairs(store:messages_of_journey(name, "due")) do
    store:mark_message(m[1], now, "held", nil, "paused", '{"pause":"held"}')
    held = held + 1
  end
  return { journey = name, since = now, already = false, held = held, sending = store:count_of_journey(name, "sending") }
end

-- How many messages journey `name` holds now.
function pause.held(store, name) return store:count_of_journey(name, "held") end

-- Resume journey `name` at `now`; how: "send" | "drop" | nil (only when
-- nothing is held). release_status: what a sent held message becomes,
-- "queued" (due now; the default) or "simulated" (a dry run's).
-- -> { journey, was_paused, at (now), since, refused (entries while paused), sent,
-- dropped, ended (dropped: their instance reached its goal or exit event) }
-- | nil, error, held (when held messages wait for a choice)
function pause.resume(store, name, now, how, release_status)
  local ok, err = known(store, name)
  if not ok then return nil, err end
  if how ~= nil and not pause.CHOICES[how] then return nil, "held messages are sent or dropped, not '" .. how .. "'" end
  local open = store:paused_journeys()[name]
  local out = { journey = name, was_paused = open ~= nil, at = now, sent = 0, dropped = 0, ended = 0 }
  if not open then return out end
  out.since, out.refused = open.since, open.refused
  local held = store:messages_of_journey(name, "held")
  if #held > 0 and not how then return nil, "held messages wait for a choice", #held end
  release_status = release_status or "queued"
  for _, m in ipairs(held) do
    local id, ended = m[1], m[3]
    if how == "drop" then
      store:mark_message(id, now, "suppressed", nil, "paused", '{"pause":"dropped"}')
      out.dropped = out.dropped + 1
    elseif ENDED_AGAINST[ended] then
      store:mark_message(id, now, "suppressed", nil, "paused", string.format('{"pause":"%s"}', ended))
      out.ended = out.ended + 1
    else
      store:mark_message(id, now, release_status, release_status == "queued" and now or nil, nil, '{"pause":"released"}')
      out.sent = out.sent + 1
    end
  end
  store:end_pause(name, now)
  return out
end

return pause
