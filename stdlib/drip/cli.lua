-- drip.cli — the `drip` command line: dispatch, flags, help (SPEC §5).
-- Each subcommand is a module drip.cmd_<name> with `run(opts)` returning an
-- exit status; this file parses flags for it and owns help and usage errors.
local cli = {}

local VERSION = "0.1.0"

-- name -> { summary, usage, flags = { flag = "value" | "list" | "bool" }, args = max positionals }
local COMMANDS = {
  simulate = {
    summary = "dry-run journeys against sample events on a virtual clock",
    usage = "drip simulate --events FILE [--journeys DIR|FILE...] [--until T|+DUR] [--format table|jsonl] [--db FILE] [--config FILE]",
    flags = { events = "value", journeys = "list", ["until"] = "value", format = "value", db = "value", config = "value" },
    args = 0,
    help = [[
Events are processed in timestamp order on a virtual clock; timers fire in
virtual time. After the last event the clock runs on to --until (an ISO time,
or +DUR after the last event such as +30d); by default until no timer,
inactivity trigger or one-off broadcast is left (a daily broadcast alone
does not keep it running), at most 90 days (timers left past that are told,
with when the next is due). An ISO --until before the last event stops there:
later events are not read, and a later run with the same --db reads them
(events already stored are skipped by messageId). Ctrl-C (or SIGTERM) stops
the same way after the event at hand, keeping what was done in --db (exit
status 130); a second Ctrl-C stops at once. Records that stdout does not
take (a full disk, a closed stdout) stop it too, with exit status 1.
With the records going to a file, a terminal sees how far the events are
read. Nothing is delivered.
At the end it warns of what looks misspelt: a placeholder that had no value
in any message, an event name a journey or segment waits on that no event
had while a lookalike came, and a trait a journey or segment reads that no
contact has while a near one is there; and of messages to addresses a
provider would refuse: an email address that is not one, an sms number with
no calling code (see phone_country in drip.conf.lua).

  --events FILE      JSON Lines events (Segment shape), or - to read standard input
                     (zcat month.jsonl.gz | drip simulate --events -); bad lines are
                     reported (the first 50, the rest counted) and skipped
  --journeys PATH    journey directory or files (default: scripts, or `journeys` in the config)
  --until T|+DUR     where to stop the clock
  --format F         table (default: readable, with a funnel summary) or jsonl (one record per action)
  --db FILE          keep the state in this SQLite file (default: in memory); a later
                     simulate with the same --db continues where this one stopped
  --config FILE      drip.conf.lua (default: ./drip.conf.lua when present)]],
  },
  run = {
    summary = "serve: HTTP ingest, real timers, delivery, hot reload of journeys",
    usage = "drip run [--config FILE] [--journeys DIR] [--db FILE] [--listen ADDR] [--dry-run]",
    flags = { config = "value", journeys = "value", db = "value", listen = "value", ["dry-run"] = "bool" },
    args = 0,
    help = [[
Takes events over HTTP (SPEC §6) and runs journeys on the wall clock. An
event is answered 200 only after the transaction holding it commits; all
requests that arrive in one loop turn share one commit. Timers are durable:
after a restart, overdue ones fire at once. Changed scripts in the journeys
directory are reloaded: new entries get the new version, running instances
stay on theirs, a script that fails to compile is logged and its previous
version keeps running (at a start, the version the store last loaded from
that file). Messages go out through the channels configured in
drip.conf.lua (SMTP, SMS, push, Telegram, webhooks) with retries, rate limits,
frequency caps and quiet hours; unsubscribe links are served at /u/{token},
and with `tracking` in drip.conf.lua an email's links and open image at
/c/{token} and /o/{token} (each an event: Email Link Clicked, Email Opened).
Bounces and spam complaints an email provider reports later come in at POST
/v1/feedback/ses|sendgrid|postmark|mailgun (or drip's own form at
/v1/feedback/drip): a bounce marks the address gone, a complaint
unsubscribes the contact from email.
/ui serves read-only pages for a browser: the journeys' funnels, a journey's
stats and messages, and a contact's story, as drip stats, drip preview and
drip explain tell them, in the browser's language (English, Persian or
Russian); with a token configured, the browser asks for it as the password.
`drip pause JOURNEY` beside it holds a journey's messages until `drip resume`.
SIGINT/SIGTERM finish the current batch and stop; SIGHUP reads the journeys,
segments and templates again at once (where the directory cannot be watched;
the configuration is read at start).

  --config FILE      drip.conf.lua (default: ./drip.conf.lua when present)
  --journeys DIR     journey directory (default: scripts)
  --db FILE          the SQLite store (default: drip.db)
  --listen ADDR      HOST:PORT, or a port alone on 127.0.0.1 (default
                     127.0.0.1:8425). A non-loopback address needs a token
                     (config `token` or DRIP_TOKEN).
  --dry-run          record messages in the outbox as simulated, never deliver]],
  },
  preview = {
    summary = "every message a journey would send a contact; --to sends them to you now",
    usage = "drip preview JOURNEY [--contact ID] [--traits JSON] [--properties JSON] [--then 'EVENT +DUR'...] [--to ADDRESS [--channel C]] [--format table|json] [--journeys DIR] [--db FILE] [--config FILE]",
    flags = { contact = "value", traits = "value", properties = "value", ["then"] = "list", to = "value",
              channel = "value", format = "value", journeys = "value", db = "value", config = "value" },
    args = 1,
    help = [[
Runs the journey for one contact alone, on a virtual clock in memory, and
prints every message it would send, in order, with when (+1h after the
entry) and each field as rendered (template, language version and all).
Every channel is allowed (consent, unsubscribes and bounces are set aside,
an address the contact lacks is stood in for), there are no frequency caps
or quiet hours, and no later event comes, so each wait_for times out: the
path of a contact who does nothing. The clock starts now, or for a stored
contact at the store's clock, with their events of the 90 days before (for
segments and happened()); a broadcast enters at its next time in the
contact's zone. A message the stored contact's own consent or address would
stop is marked so (`drip explain` tells the rest). Nothing is written to
the store.

  --contact ID       a contact in the store (its id, email or phone): their traits,
                     their split variants, and their latest trigger event's properties
  --traits JSON      traits to preview with ('{"language":"fa","first_name":"Sara"}'),
                     over the stored contact's when --contact is given too
  --properties JSON  the trigger event's properties ('{"cart_url":"https://…"}')
  --then EVENT +DUR  events the contact sends after the entry, to see another path:
                     --then 'Order Completed +2h' (properties as JSON after it:
                     'Order Completed +2h {"revenue":50}'); several may follow
  --to ADDRESS       also send the messages of this address's channel to it now, through
                     drip.conf.lua's provider, marked [preview]; an email address, a
                     phone number (+…) or a webhook URL, else name --channel
  --channel C        the channel of --to (push, telegram)
  --format F         table (default) or json (what GET /v1/journeys/NAME/preview answers)
  --journeys DIR     journey directory (default: scripts)
  --db FILE          the store --contact is read from (default: `db` in the config)
Exit status 1 when the instance fails, the trigger's where() does not take
the event, or a message could not be sent.]],
  },
  migrate = {
    summary = "move in-flight instances to the newest version of a journey",
    usage = "drip migrate JOURNEY [--dry-run] [--db FILE] [--journeys DIR] [--config FILE]",
    flags = { config = "value", journeys = "value", db = "value", ["dry-run"] = "bool" },
    args = 1,
    help = [[
Loads the journey's newest script from the journeys directory and replays each
active instance on an older version against it. An instance whose recorded
history replays to the same wait moves to the new version; the others stay on
theirs and are listed with the step where they differ. Nothing is sent while
replaying. --dry-run reports without changing anything. Exit status 0 when
every instance moved, 1 when some could not.]],
  },
  segments = {
    summary = "how many contacts each segment holds, and whom marketing may reach",
    usage = "drip segments [NAME...] [--members] [--format table|json] [--db FILE] [--journeys DIR] [--config FILE]",
    flags = { config = "value", db = "value", journeys = "value", format = "value", members = "bool" },
    args = math.huge,
    help = [[
For each segment of segments.lua (or the NAMEs given), how many contacts of
the store are in it now (by the store's clock: now for a store drip run
serves, a simulation's end for its store), their share of all contacts, and
how many of them a marketing message may reach on each channel: consent under
the configured policy, no unsubscribe or bounce, and an address, as a send
checks them (frequency caps and quiet hours only delay or skip a message
later). Then each broadcast (a journey with a schedule trigger) in the
journeys directory: whom it would take in if it went now, inside its
rollout.

  --members          list the contacts of the one segment NAME, one id per line
                     (to export an audience)
  --format F         table (default) or json
  --journeys DIR     whose segments.lua and broadcasts (default: where the store's
                     journeys were loaded from, else scripts)]],
  },
  pause = {
    summary = "stop a journey's messages now: no entries, messages held",
    usage = "drip pause [JOURNEY | --all] [--db FILE] [--config FILE]",
    flags = { config = "value", db = "value", all = "bool" },
    args = 1,
    help = [[
Pauses the journey, in the store a `drip run` may be serving (it sees the
pause at its next transaction; POST /v1/journeys/NAME/pause does the same
through it). While a journey is paused no one enters it (the refused entries
are counted, and `drip explain` says why a contact did not enter), and its
running instances go on: their waits end, goals and exit events end them,
but every message they send is held, not delivered. The messages it had
queued are held at once; those already handed to the provider may still
arrive. `drip resume` ends the pause. Pausing a paused journey changes
nothing. Without JOURNEY, lists the paused journeys with what they hold.

  --all              pause every journey in the store (stop all sending at once)]],
  },
  resume = {
    summary = "end a journey's pause, sending or dropping what it held",
    usage = "drip resume JOURNEY|--all [--send-held | --drop-held] [--db FILE] [--config FILE]",
    flags = { config = "value", db = "value", ["send-held"] = "bool", ["drop-held"] = "bool", all = "bool" },
    args = 1,
    help = [[
Ends the journey's pause (see drip pause): it takes entries and sends again.
When it holds messages, say what becomes of them; without either flag it
stays paused and the command says how many it holds (exit status 2).

  --send-held        send them now (consent, unsubscribes and quiet hours are
                     checked again as each goes out); a held message whose contact
                     reached the journey's goal or an exit event meanwhile is dropped
  --drop-held        drop them all (suppressed, reason paused)
  --all              resume every paused journey]],
  },
  forget = {
    summary = "erase everything stored about a contact",
    usage = "drip forget CONTACT [--db FILE] [--config FILE]",
    flags = { config = "value", db = "value" },
    args = 1,
    help = [[
Removes the contact's traits, events, journey instances with their steps,
timers, messages and history, in one transaction, and prints how many rows of
each it removed. Exit status 1 when the contact is not in the store. A running
`drip run` does the same for DELETE /v1/contacts/{id}. The totals `drip stats`
shows keep counting what happened (they name no contact).]],
  },
  backup = {
    summary = "a consistent copy of the store, while drip run goes on",
    usage = "drip backup FILE [--db FILE] [--config FILE]",
    flags = { config = "value", db = "value" },
    args = 1,
    help = [[
Copies the store into FILE, a new file (it never writes over one), as it is
at one moment: a `drip run` serving the store goes on taking events and
sending meanwhile. The copy leaves out the space removed rows freed (see
`drip prune`), so it can be smaller than the store. To restore, stop drip
run and put the copy in the store's place (drip.db, with no drip.db-wal
or drip.db-shm beside it).]],
  },
  prune = {
    summary = "remove what is older than a period and no longer needed",
    usage = "drip prune --keep DUR [--dry-run] [--db FILE] [--journeys DIR] [--config FILE]",
    flags = { keep = "value", ["dry-run"] = "bool", db = "value", journeys = "value", config = "value" },
    args = 0,
    help = [[
Removes events, and journey instances that ended, from before the last DUR
(such as 180d; before the store's clock when a simulation ran it past now),
with the instances' steps, messages, delivery states and history, so that a
store `drip run` keeps does not grow without end. What journeys still need
stays: an instance that is its contact's latest in its journey (reentry
reads it) or has a message not yet final; events of a contact's running
instances, from their entry on; each contact's newest event (its last
activity); instances whose messages fall in a frequency-cap window; and
every event of a name a `did` segment counts over more than DUR (or all
time), or that a journey's happened() looks back for over more. Contacts and
the totals of `drip stats` stay whole. A removed event's messageId is no
longer known, so the same event sent again is taken as new. It says what it
removed and what it kept longer. It goes a chunk at a time, so a `drip run`
on the same store keeps serving; Ctrl-C stops after a chunk, keeping those
done (exit status 130), and the same prune again goes on. The file keeps its
size: SQLite reuses the freed pages for new rows (`drip backup` writes a
compact copy).

  --keep DUR         how far back to keep everything (180d, 26w, ...)
  --dry-run          count what would go, and change nothing
  --journeys DIR     whose segments.lua says which events segments count
                     (default: where the store's journeys were loaded from)]],
  },
  explain = {
    summary = "why did (or didn't) a contact get a message",
    usage = "drip explain CONTACT [JOURNEY] [--lang en|fa|ru] [--db FILE] [--journeys DIR] [--config FILE]",
    flags = { config = "value", db = "value", journeys = "value", lang = "value" },
    args = 2,
    help = [[
Prints the contact's traits, what consent and unsubscribes allow on each
channel, recent events, then each journey instance's story in order: the event
it entered on, split variants, every message with where it went and each
delivery state it passed (sending, deferred for a retry, sent, failed, with
the provider's answer), every message not sent with its reason (no_consent,
no_address, unsubscribed, bounced, frequency_cap) or deferral (quiet hours,
until when), conversions, the exit or the error with its traceback, and what a
running instance waits for. JOURNEY limits it to one journey; when the contact
never entered it, explain says what starts it and what the store shows against
that (the trigger event and how often the contact sent it, the segment and
whether the contact is in it now, its place in a staged rollout, its last
activity); when they did enter it, explain lists their latest trigger events
that started no instance, each with why (an instance still running, reentry
and when it lets them in again, where() said no).
CONTACT is the contact's id, or the email or phone of one contact (spaces and
dashes in a phone number do not matter); an id that differs only in case is
suggested.

  --lang L           the story in English (en, the default), Persian (fa) or
                     Russian (ru), as the /ui contact page tells it in each
  --journeys DIR     whose segments.lua names the contact's segments (default:
                     where the store's journeys were loaded from, else scripts)]],
  },
  records = {
    summary = "what drip did, a line per entry, send, delivery, click and exit (JSON Lines or CSV)",
    usage = "drip records [--since DUR] [--journey NAME] [--after CURSOR | --cursor-file FILE] [--follow] "
      .. "[--format jsonl|csv|table] [--db FILE] [--config FILE]",
    flags = { since = "value", journey = "value", after = "value", ["cursor-file"] = "value", follow = "bool",
              format = "value", db = "value", config = "value" },
    args = 0,
    help = [[
Prints every record of the store as a JSON line, oldest first: the records
`drip simulate --format jsonl` prints (enter, send, suppress, defer,
variant, convert, exit, log), each wait and what ended it (kind wait), each
delivery state of a message (kind delivery: status sending, sent, deferred,
failed, ... with the provider's answer in detail), each tracked open and
click (kinds opened and clicked), and each unsubscribe and resubscribe
(kinds unsubscribed and resubscribed, with channel, topic and reason: the
contact's, of no journey). Every record has at, contact and kind, and those
of a journey its name; those of an instance end with its id (instance), and
those of a message carry its id (message_id), so they join. It reads the
store a `drip run` serves, without stopping it, or a `drip simulate --db`
store.
To export as you go, keep a cursor file: each run prints what came after the
last one, and saves where it stopped (from cron: drip records --cursor-file
export.cursor >> records.jsonl). A record is printed before its cursor is
saved, so a run stopped in between prints it again: none is lost.

  --since DUR        only records of the last DUR (7d, 24h, ...) by the store's clock
  --journey NAME     only the records of one journey
  --after CURSOR     start after a cursor this command saved (or GET /v1/records gave)
  --cursor-file FILE start after the cursor saved there (none: from the first
                     record), and save the new one there
  --follow           keep printing records as drip run writes them, until Ctrl-C
  --format F         jsonl (default), or csv for a spreadsheet: a column each for
                     at, contact, journey, instance, kind, channel, to, status,
                     reason, event, value, split, variant, message (a send's
                     subject, title or text), label, message_id, url, and detail
                     (the record's other fields, as JSON); UTF-8 with a byte order
                     mark, and the header row only before the very first record;
                     or table: a line to read for each (with --follow, a live look
                     at what a running drip does)]],
  },
  import = {
    summary = "contacts from CSV, or past events from JSON Lines, into the store",
    usage = "drip import FILE.csv|FILE.tsv|FILE.jsonl [--db FILE] [--config FILE]",
    flags = { config = "value", db = "value" },
    args = 1,
    help = [[
FILE.csv: one contact per row. The header row names the traits; the id comes
from a column named id, userId, user_id or User ID. A column an export names
its own way (Email, E-mail, Mobile Phone, First Name, Телефон, ایمیل, ...)
is read as the trait drip uses (email, phone, first_name, last_name,
timezone, telegram_chat_id, push_token), and it says so. Columns such as
consent.email or unsubscribed.sms take yes/no (true/false, 1/0, да/нет,
بله/خیر) and become nested traits. A plain number (42, -3.5; not 007 or
+49...) becomes a number and true/false a boolean, so segments can compare
them; other cells, and the email, phone, push_token and telegram_chat_id
columns, are kept as text. An empty cell sets nothing. Fields are separated
by commas, or by semicolons or tabs when the header row is (FILE.tsv too;
with semicolons, 1234,5 is a number with a decimal comma); quoted fields may
hold the separator and line breaks; the file is UTF-8.
FILE.jsonl: events as `drip simulate` reads them; repeated messageIds are
skipped. Imported events are stored and update traits, but start no journey.
A bad row or line is reported as file:line: message and skipped; the rest is
imported. A CSV header that cannot be used (no id column, a column named
twice) is reported and nothing is imported. Exit status 2 when some were
bad, else 0. The store is created when it does not exist.
The rows go in a chunk at a time, so a `drip run` serving the same store
goes on taking events meanwhile. Ctrl-C stops after the chunk at hand and
keeps what is in; the same import again adds the rest (contacts are
merged, events already in are known by their messageId).]],
  },
  inspect = {
    summary = "everything stored about a contact, as JSON",
    usage = "drip inspect CONTACT [--db FILE] [--journeys DIR] [--config FILE]",
    flags = { config = "value", db = "value", journeys = "value" },
    args = 1,
    help = [[
Prints one JSON document: the contact's traits, when drip first saw them,
which channels marketing may use now (true, or the reason it may not), the
segments it is in now (segments_from names the segments.lua; segments_error
is that file's error when it does not load), the 50 most recent events,
every journey instance with its state and its messages (channel, address,
status, reason, attempts, and each delivery state with the provider's
answer), and under unstarted, per journey, the latest trigger events that
started no instance, each with why. `drip explain` tells the same story in
words. CONTACT is an id, or an email or phone, as for explain.

  --journeys DIR     whose segments.lua names the contact's segments (default:
                     where the store's journeys were loaded from, else scripts)]],
  },
  backtest = {
    summary = "replay a past period through other journey versions, beside what happened",
    usage = "drip backtest --journeys DIR|FILE... [--since DUR] [--format table|json] [--jobs N] [--db FILE] [--config FILE]",
    flags = { journeys = "list", since = "value", format = "value", db = "value", config = "value", jobs = "value",
              part = "value" },
    args = 0,
    help = [[
Replays the events stored in the period (the last --since, default 30d, up
to the store's clock) in timestamp order on a virtual clock through the
journeys given, in a scratch copy: nothing is written to the store and
nothing is delivered. Events journeys emitted are not replayed (the new
versions emit their own). The copy starts with every contact's current
traits and the 90 days of events and messages before the period (for
happened(), segments and frequency caps).

Then, per journey given: contacts entered, converted and revenue; each
message (channel and template, subject or title) decided to send, and the
messages suppressed; actual beside backtest, with the change; and a sample of
the contacts whose path (messages in order, conversion) changes.

A journey's instances are each one contact's, so the replay splits the
contacts (by a hash of the id) among --jobs processes, one per processor
by default, and adds up what they found: the same answer, sooner. A terminal
sees how far the first part's replay has read while it runs. math.random in
a journey is seeded by the contact and its entry time here, so the answer
does not depend on the split.

  --journeys PATH    the versions to try: a journey directory or files (segments.lua
                     and templates/ are read from the same directory)
  --since DUR        the period (default 30d)
  --format F         table (default) or json
  --jobs N           processes that replay (default: one per processor this
                     process may use, as its CPU affinity and its container's
                     CPU quota allow, at most 8)
  --part K/N         replay and compare only partition K of N, printed as
                     JSON (what each of the --jobs processes runs)
  --db FILE          the store drip run (or simulate --db) made (default: `db` in the config)
  --config FILE      drip.conf.lua (default: ./drip.conf.lua when present)]],
  },
  stats = {
    summary = "journey results: funnel, messages, revenue, A/B variants",
    usage = "drip stats [JOURNEY] [--since DUR] [--format table|json] [--lang en|fa|ru] [--db FILE] [--config FILE]",
    flags = { config = "value", db = "value", since = "value", format = "value", lang = "value" },
    args = 1,
    help = [[
Per journey: entered, active, converted (rate), failed, revenue from
convert(value); exits by reason; how many instances reached each step; per
channel messages sent (or simulated, queued, deferred, held), failed,
suppressed by reason, and (with tracking) opened and clicked; each message
(by its template, or subject or text) with how many went out, opened and
clicked, and the conversions it was the last message before (last touch)
with their revenue; per split variant entered, converted and the rate with its 95%
Wilson interval, and the two-proportion z-test of each variant against the
control (a variant named control, holdout or baseline; else the first by
name), with its two-sided p-value, read out in words.

  --since DUR        only instances that entered in the last DUR (e.g. 30d), counted
                     back from the store's clock (the wall clock, or a simulation's end)
  --format F         table (default) or json
  --lang L           the table in English (en, the default), Persian (fa) or
                     Russian (ru), as the journey's /ui page says it; English
                     shows the exit reasons' codes, the others their words]],
  },
  test = {
    summary = "run journey specs (busted files using drip.testing) with this drip",
    usage = "drip test [PATH...] [--filter PATTERN]",
    flags = { filter = "value" },
    args = math.huge,
    help = [[
Runs the spec files (NAME_spec.lua) in the given files or directories
(default: spec, else tests/spec, else tests) with busted, giving it this
drip's Lua modules and its drip_host module, so that `require
"drip.testing"` works from any directory. A spec's directory is on the
module path too, for helpers beside it. Exit status: busted's (0 when every
test passed).

  --filter PATTERN   only the tests whose names match the Lua pattern]],
  },
  check = {
    summary = "compile and validate journey scripts",
    usage = "drip check [FILE|DIR...] [--journeys DIR|FILE...] [--config FILE]",
    flags = { config = "value", journeys = "list" },
    args = math.huge,
    help = [[
Compiles every journey (default: the scripts directory, or `journeys` in the
config; --journeys names paths as simulate's flag does) and reports problems
as file:line: message: syntax errors, unknown keys in journey{}, a missing
trigger, bad durations, unknown segment names and channels, missing
templates (or one only in some languages: welcome.fa.txt with no
welcome.txt), placeholders in templates, calls to unknown functions.
Exit status 0 when all are fine, 1 when any has a problem.]],
  },
}

local PLANNED = {}

local function usage_error(cmd, msg)
  io.stderr:write(string.format("drip %s: %s\n", cmd, msg))
  io.stderr:write(string.format("usage: %s\n", COMMANDS[cmd].usage))
  return 2
end

-- Parse argv[first..] against a command's flags. -> opts | nil, message
local function parse(spec, argv, first)
  local opts, positional = {}, {}
  local i = first
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^%-%-([%w%-_]+)=(.*)$")
    name = name or a:match("^%-%-([%w%-_]+)$")
    if name then
      local kind = spec.flags[name]
      if not kind then return nil, "unknown flag --" .. name end
      if kind == "bool" then
        opts[name] = true
      elseif kind == "value" then
        local v = inline
        if not v then
          i = i + 1
          v = argv[i]
        end
        if v == nil then return nil, "--" .. name .. " needs a value" end
        opts[name] = v
      else -- list: values until the next flag
        local list = opts[name] or {}
        if inline then list[#list + 1] = inline end
        while argv[i + 1] and not argv[i + 1]:match("^%-%-") do
          i = i + 1
          list[#list + 1] = argv[i]
        end
        if #list == 0 then return nil, "--" .. name .. " needs a value" end
        opts[name] = list
      end
    elseif a:match("^%-") and a ~= "-" then
      return nil, "unknown flag " .. a
    else
      positional[#positional + 1] = a
    end
    i = i + 1
  end
  if #positional > spec.args then return nil, "unexpected argument '" .. positional[spec.args + 1] .. "'" end
  opts.args = positional
  return opts
end

local function help(topic)
  if topic and COMMANDS[topic] then
    local c = COMMANDS[topic]
    print("usage: " .. c.usage .. "\n\n" .. c.summary .. ".\n\n" .. c.help)
    return 0
  end
  if topic and not PLANNED[topic] then
    io.stderr:write("drip help: unknown command '" .. topic .. "'\n")
    return 2
  end
  print("drip " .. VERSION .. " — customer journeys as Lua code, durable on SQLite\n")
  print("usage: drip COMMAND [FLAGS]\n")
  local names = {}
  for name in pairs(COMMANDS) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do print(string.format("  %-10s %s", name, COMMANDS[name].summary)) end
  print("  version    print the version")
  print("  help CMD   the flags of one command")
  return 0
end

-- For commands that read the store drip made: the configuration (flags over
-- drip.conf.lua) and the store at --db or `db`. -> store, conf | nil, exit
-- status (the error already printed as "drip NAME: ...")
-- With `create`, a store that does not exist yet is made. synchronous:
-- SQLite's, "FULL" unless told.
function cli.open_store(opts, name, create, synchronous)
  local conf, cerr = require("drip.config").for_command(opts)
  if not conf then
    io.stderr:write("drip ", name, ": ", cerr, "\n")
    return nil, 2
  end
  local Store = require "drip.store"
  local path, store, serr, status = opts.db or conf.db, nil, nil, nil
  if create then store, serr, status = Store.open(path, { synchronous = synchronous })
  else store, serr, status = Store.open_existing(path, synchronous) end
  if not store then
    io.stderr:write("drip ", name, ": ", serr, "\n")
    return nil, status or 1
  end
  return store, conf
end

-- Run fn() in one transaction on `store` (opened for command `name` at
-- `path`), then close the store. fn -> result | nil, error: on an error
-- nothing of it stays, and it is told as "drip NAME: PATH: error".
-- -> result | nil
function cli.change_store(store, name, path, fn)
  store:begin()
  local result, err = fn()
  if result == nil then store:rollback() else store:commit() end
  store:close()
  if result == nil then io.stderr:write("drip ", name, ": ", path, ": ", err, "\n") end
  return result
end

-- The journeys directory whose segments.lua explain and inspect read:
-- --journeys DIR when given; else the one directory the store's newest
-- scripts were loaded from (a store simulated with `--journeys j` reads
-- j/segments.lua), when it is still there; else the configured one.
function cli.journeys_dir(store, conf, opts)
  if opts.journeys then return opts.journeys end
  local dir
  for _, name in ipairs(store:journey_names()) do
    local _, file = store:latest_script(name)
    local this = type(file) == "string" and (file:match("^(.*)/[^/]*$") or ".")
    if not this or (dir and this ~= dir) then return conf.journeys end
    dir = this
  end
  if dir and require("drip_host").file_kind(dir) == "directory" then return dir end
  return conf.journeys
end

-- The names of the segments a contact is in now, by the store's clock, and
-- the segments.lua of journeys directory `dir` that says so (see
-- cli.journeys_dir); nil and that file's error when it does not load.
function cli.segments_of(store, conf, dir, id, traits)
  local path = dir .. "/segments.lua"
  local engine = require("drip.engine").new({ store = store, conf = conf, warn = function() end })
  local err = engine:read_segments(path)
  if err then return nil, err end
  return engine:segments_of(id, traits), path
end

-- Bad lines of an input file, reported to stderr: the first BAD_LINES_SHOWN
-- of them, then only counted (a file that is not events at all would
-- otherwise print a line for each of its lines). -> report(msg), finish()
-- which says how many were not shown.
local BAD_LINES_SHOWN = 50
cli.BAD_LINES_SHOWN = BAD_LINES_SHOWN
function cli.bad_lines(command)
  local n = 0
  local function report(msg)
    n = n + 1
    if n <= BAD_LINES_SHOWN then io.stderr:write(msg, "\n") end
  end
  local function finish()
    if n > BAD_LINES_SHOWN then
      io.stderr:write(string.format("drip %s: %d more bad lines not shown (%d in all; the first %d are above)\n",
        command, n - BAD_LINES_SHOWN, n, BAD_LINES_SHOWN))
    end
  end
  return report, finish
end

-- "no journey named 'welcom' in this store (journeys: a, welcome); did you
-- mean 'welcome'?" for a journey name not among `names` (sorted), the
-- journeys of `place` (default "in this store"; or "loads from DIR")
function cli.unknown_journey(name, names, place)
  place = place or "in this store"
  if #names == 0 then
    return string.format("no journey named '%s' %s (%s)", name, place,
      place:match("^loads") and "none loads from there" or "it has none yet")
  end
  local near = require("drip.suggest").nearest(name, names)
  return string.format("no journey named '%s' %s (journeys: %s)%s", name, place, table.concat(names, ", "),
    near and string.format("; did you mean '%s'?", near) or "")
end

-- s as one word of a command line for /bin/sh (single-quoted)
function cli.shell_word(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- A line on a terminal's standard error, rewritten twice a second while a
-- long command reads its events: progress(n, now) as events go, progress()
-- to clear it at the end. None when stderr is not a terminal, nor, unless
-- `quiet_stdout` (the command prints only at the end), when stdout is one.
-- `whose`: what the count is of, before it ("part 1 of 2: "), or nil.
function cli.progress_line(quiet_stdout, whose)
  local host, time = require "drip_host", require "drip.time"
  if not host.is_terminal("stderr") or (not quiet_stdout and host.is_terminal("stdout")) then
    return function() end
  end
  local started, shown = host.clock(), nil
  return function(n, now)
    if not n then
      if shown then io.stderr:write("\r\27[K") end
      return
    end
    local t = host.clock()
    if t - (shown or started) < 0.5 then return end
    shown = t
    io.stderr:write(string.format("\r\27[K%s%d events read, clock at %s (%.1f s)", whose or "", n, time.iso(now),
      t - started))
  end
end

-- cli.find_contact(store, cmd, id, exact, phone_country, W) -> the contact id to
-- show for `id`: itself when a contact has it, else (unless exact) the one
-- contact whose email or phone it is (told on stderr, unless cmd is nil) | nil, "no contact 'x'"
-- with whom it may mean, in the words W of drip.explain_words (English when
-- nil). phone_country: drip.conf.lua's, for phones written the national way.
function cli.find_contact(store, cmd, id, exact, phone_country, W)
  if store:contact_json(id) then return id end
  local known = store:contacts_known_as(id, phone_country)
  if #known == 1 and known[1].by ~= "id" and not exact then
    if cmd then
      io.stderr:write(string.format("drip %s: '%s' is the %s of contact '%s'\n", cmd, id, known[1].by, known[1].id))
    end
    return known[1].id
  end
  W = W or require("drip.explain_words").of()
  local names = {}
  for i, k in ipairs(known) do
    if i > 5 then names[#names + 1] = "…" break end
    names[#names + 1] = string.format("'%s'%s", k.id, k.by ~= "id" and string.format(W.its, W[k.by] or k.by) or "")
  end
  return nil, string.format(W.no_contact, id, #names > 0 and string.format(W.did_you_mean, table.concat(names, ", ")) or "")
end

-- A store that cannot be written (a full disk, a file made read-only), one
-- damaged on disk, or one another process keeps locked, stops a command
-- with one line naming it and what to do, not a traceback: what was
-- committed before stays in the store.
local STORE_TROUBLES = {
  { "database or disk is full", "cannot write the store" }, { "disk I/O error", "cannot write the store" },
  { "attempt to write a readonly database", "cannot write the store" },
  { "database disk image is malformed", "the store is damaged" }, { "file is not a database", "the store is damaged" },
  { "database is locked", "the store is busy" },
}
local TROUBLE_ADVICE = {
  ["cannot write the store"] = "is the disk full, or the file read-only? What was committed before is kept",
  ["the store is damaged"] = "restore it from a backup, or save what can be read with `sqlite3 FILE .recover`",
  ["the store is busy"] = "another process held its write lock for over 5 s (an open sqlite3 session, a simulate "
    .. "or import on the same file?); what was committed before is kept: try again",
}
local function store_trouble(e)
  local msg = tostring(e)
  for _, t in ipairs(STORE_TROUBLES) do
    local at = msg:find("sqlite: " .. t[1], 1, true)
    if at then return { what = t[2], error = msg:sub(at):match("^[^\n]*") } end
  end
  return nil
end

local function run_command(cmd, opts)
  local ok, result = xpcall(require("drip.cmd_" .. cmd).run, function(e)
    return store_trouble(e) or debug.traceback(e, 2)
  end, opts, function(msg) return usage_error(cmd, msg) end)
  if ok then return result end
  if type(result) == "table" then
    io.stderr:write(string.format("drip %s: %s%s: %s; %s\n", cmd, opts.db and opts.db .. ": " or "", result.what,
      result.error, (TROUBLE_ADVICE[result.what]:gsub("FILE", opts.db or "FILE"))))
    return 1
  end
  io.stderr:write("drip: internal error: ", tostring(result), "\n")
  return 1
end

-- cli.main(argv) -> exit status
function cli.main(argv)
  local cmd = argv[1]
  if cmd == nil or cmd == "help" or cmd == "--help" or cmd == "-h" then return help(argv[2]) end
  if cmd == "version" or cmd == "--version" then
    local host = require "drip_host"
    print("drip " .. VERSION)
    print(string.format("%s, SQLite %s; stdlib %s", _VERSION, host.sqlite_version, host.stdlib_dir))
    return 0
  end
  local spec = COMMANDS[cmd]
  if not spec then
    if PLANNED[cmd] then
      io.stderr:write("drip " .. cmd .. ": not available in this build yet\n")
      return 1
    end
    io.stderr:write("drip: unknown command '" .. cmd .. "' (see drip help)\n")
    return 2
  end
  if argv[2] == "--help" or argv[2] == "-h" then return help(cmd) end
  local opts, err = parse(spec, argv, 2)
  if not opts then return usage_error(cmd, err) end
  return run_command(cmd, opts)
end

return cli
