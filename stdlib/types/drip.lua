---@meta drip
-- LuaLS annotations for journey scripts (SPEC §3), so an editor completes
-- and type-checks them. Point the language server at this directory: see
-- examples/.luarc.json. This file is never loaded by drip.

---@alias drip.Duration string|integer  "90s", "15m", "2h", "3d", "1w", "1h30m", "2 hours", "1 day 12 hours", "2 часа", "۳ روز", or seconds

---@class drip.Event
---@field type "track"|"identify"
---@field event string? the track event's name
---@field userId string
---@field properties table<string, any>?
---@field traits table<string, any>?
---@field timestamp string ISO 8601
---@field messageId string?

---@class drip.EventSpec
---@field event string
---@field where (fun(event: drip.Event, contact: table<string, any>): boolean)?

---@class drip.Goal: drip.EventSpec
---@field within drip.Duration? a goal event this long after the instance ended (ran out, timed out, exit()) still converts it

---@class drip.Trigger
---@field event string?
---@field where (fun(event: drip.Event, contact: table<string, any>): boolean)?
---@field inactive drip.Duration? fires once per quiet spell of this length
---@field schedule string? "2026-05-10 09:00" or "daily 09:00", in the contact's zone
---@field segment (string|fun(contact: table<string, any>): boolean)?
---@field rollout string? "10%": a deterministic share of the segment

---@class drip.DidSegment
---@field did string the event name counted
---@field times (string|integer)? ">=3", ">1", "<=2", "<2", "=0"; a number means at least that many (default 1)
---@field within drip.Duration? only events this recent count

---@class drip.InactiveSegment
---@field inactive drip.Duration no event from the contact for this long

--- A named segment of scripts/segments.lua (annotate its table as
--- `---@type table<string, drip.Segment>`).
---@alias drip.Segment fun(contact: table<string, any>): boolean | drip.DidSegment | drip.InactiveSegment

---@class drip.Context
---@field contact table<string, any> the contact's traits as of the current step
---@field event drip.Event the event that started the instance

---@class drip.Journey
---@field name string? defaults to the file name
---@field description string?
---@field trigger string|drip.Trigger
---@field goal (string|drip.Goal)? converts and ends the instance wherever it waits
---@field exit_on (string|drip.EventSpec)[]? end it without conversion
---@field reentry (boolean|drip.Duration)? default: not while one is active; false: once ever; true: every time; "24h": that long after the last entry
---@field timeout drip.Duration? the longest an instance may live
---@field steps fun(ctx: drip.Context)

---@class drip.Message
---@field kind ("marketing"|"transactional")? default "marketing"
---@field template string? scripts/templates/NAME.txt|.html|.subject|.preheader|.title; NAME.fa.txt (NAME.LANG.*) for contacts whose language or locale trait is fa
---@field to string? an address instead of the contact's
---@field channels ("email"|"sms"|"push"|"telegram"|"webhook")[]? fallback order for send{}
---@field topic string? a marketing message's topic ("newsletter"): its unsubscribe link leaves this topic alone
---@field subject string? email; "{{contact.first_name | default \"there\"}}" placeholders
---@field preheader string? email: what the inbox shows after the subject (hidden at the start of the HTML)
---@field text string? email text part, SMS, Telegram; {{> footer}} puts in templates/footer.txt (footer.html in html)
---@field html string? email HTML part (escaped placeholders; dir="rtl" added for Persian)
---@field dir ("rtl"|"ltr")? the HTML's direction when not detected
---@field title string? push
---@field body string? push
---@field data table<string, any>? push data
---@field parse_mode string? Telegram

---@class drip.SendResult
---@field status "queued"|"suppressed"|"deferred"|"held"
---@field channel string
---@field reason ("no_address"|"no_consent"|"unsubscribed"|"bounced"|"frequency_cap"|"quiet_hours"|"global_control"|"paused"|"topic_unsubscribed")?
---@field until string? when a deferred message goes out (ISO 8601)

--- Define a journey; the script returns it.
---@param def drip.Journey
---@return drip.Journey
function journey(def) end

--- Sleep for a duration.
---@param d drip.Duration
function wait(d) end

--- Sleep until "09:00" or "9am" (next such time in the contact's zone), { weekday = "mon", at = "09:00" } (mon … sun, monday … sunday, пн … вс, شنبه … جمعه), an ISO time, or a Solar Hijri date ("1406-01-01 10:00"; Persian digits too).
---@param t string|{weekday: string, at: string}
function wait_until(t) end

--- Wait for this contact's event; the event, or nil on timeout.
---@param name_or_spec string|drip.EventSpec
---@param timeout drip.Duration
---@return drip.Event?
function wait_for(name_or_spec, timeout) end

--- The contact's last such event since "entry" or a duration ago, or nil.
---@param name string
---@param since "entry"|drip.Duration
---@return drip.Event?
function happened(name, since) end

--- Queue a message on a channel (or on the first allowed of msg.channels).
---@param channel "email"|"sms"|"push"|"telegram"|"webhook"|drip.Message
---@param msg drip.Message?
---@return drip.SendResult
function send(channel, msg) end

---@param msg drip.Message
---@return drip.SendResult
function email(msg) end

---@param msg drip.Message
---@return drip.SendResult
function sms(msg) end

---@param msg drip.Message
---@return drip.SendResult
function push(msg) end

---@param msg drip.Message
---@return drip.SendResult
function telegram(msg) end

---@param msg drip.Message|table<string, any> the JSON payload
---@return drip.SendResult
function webhook(msg) end

--- Pick a variant, deterministic per contact: split("subject", { A = 50, B = 50 }).
---@param name string
---@param weights table<string, number>
---@return string
function split(name, weights) end

--- Merge traits into the contact.
---@param traits table<string, any>
function set(traits) end

--- Emit an event for this contact (journeys may react; it is not activity).
---@param name string
---@param props table<string, any>?
function track(name, props) end

--- Count a conversion, with an optional value (revenue in drip stats).
---@param value number?
function convert(value) end

--- End the instance now.
---@param reason string?
function exit(reason) end

--- Is the contact in the segment (scripts/segments.lua)?
---@param name string
---@return boolean
function in_segment(name) end

--- The current time (virtual in simulations), epoch seconds.
---@return integer
function now() end

--- A line in the instance's history: string.format style, or, when fmt has
--- no %, fmt and the values after it separated by spaces. Tables show as JSON.
---@param fmt string
---@param ... any
function log(fmt, ...) end
