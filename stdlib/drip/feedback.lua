-- drip.feedback — what an email provider reports after it took a message:
-- a bounce that came back later, or a spam complaint. Owns reading the
-- webhooks of Amazon SES (through SNS, or an event destination), SendGrid,
-- Postmark and Mailgun, and drip's own plain form, into one list of
-- reports. What they change (the contact's bounced.email trait, an
-- unsubscribe) is drip.api's.
local json = require "drip.json"

local feedback = {}

-- a report: { address =, kind = "bounce" | "complaint" | "soft" (a bounce
-- that may pass: counted, nothing changes), detail = provider's words }
local function report(list, address, kind, detail)
  if type(address) == "string" and address ~= "" then
    list[#list + 1] = { address = address, kind = kind, detail = detail }
  end
end

-- x when it is a JSON list or object, else an empty one
local function items(x) return type(x) == "table" and x or {} end

local function list_of(body)
  if type(body) ~= "table" then return nil end
  if body[1] ~= nil then return body end
  return { body }
end

local READ = {}

-- drip's own: { "address": "a@b.test", "type": "bounce" | "complaint" | "soft", "reason": "..." } or a list
function READ.drip(body)
  local out = {}
  for i, r in ipairs(items(list_of(body))) do
    if type(r) ~= "table" or type(r.address) ~= "string" then
      return nil, string.format("field '[%d].address': the address the report is about", i - 1), "address"
    end
    if r.type ~= "bounce" and r.type ~= "complaint" and r.type ~= "soft" then
      return nil, string.format("field '[%d].type': bounce, complaint or soft, not %s", i - 1, tostring(r.type)), "type"
    end
    report(out, r.address, r.type, r.reason)
  end
  return out
end

-- Amazon SES: an SNS notification whose Message is the SES one (or that one
-- itself, from an event destination); a subscription's confirmation comes
-- back as { confirm = SubscribeURL }
function READ.ses(body)
  if type(body) ~= "table" then return nil, "the body must be a JSON object" end
  if body.Type == "SubscriptionConfirmation" then return {}, nil, nil, body.SubscribeURL end
  local m = body
  if body.Type == "Notification" then m = json.decode(tostring(body.Message)) end
  if type(m) ~= "table" then return nil, "field 'Message': the SES notification, as JSON" end
  local what = m.notificationType or m.eventType
  local out = {}
  if what == "Bounce" and type(m.bounce) == "table" then
    local kind = m.bounce.bounceType == "Permanent" and "bounce" or "soft"
    for _, r in ipairs(items(m.bounce.bouncedRecipients)) do
      if type(r) == "table" then report(out, r.emailAddress, kind, r.diagnosticCode or m.bounce.bounceSubType) end
    end
  elseif what == "Complaint" and type(m.complaint) == "table" then
    for _, r in ipairs(items(m.complaint.complainedRecipients)) do
      if type(r) == "table" then report(out, r.emailAddress, "complaint", m.complaint.complaintFeedbackType) end
    end
  end
  return out
end

-- SendGrid's event webhook: a list of events; bounce (type bounce: the
-- address is gone; blocked: it may pass later), dropped for a bounced
-- address, spamreport
function READ.sendgrid(body)
  if type(body) ~= "table" or (body[1] == nil and next(body) ~= nil) then return nil, "the body must be a JSON list of events" end
  local out = {}
  for _, e in ipairs(body) do
    if type(e) == "table" then
      if e.event == "bounce" then report(out, e.email, e.type == "blocked" and "soft" or "bounce", e.reason)
      elseif e.event == "dropped" and tostring(e.reason):find("Bounced Address", 1, true) then
        report(out, e.email, "bounce", e.reason)
      elseif e.event == "spamreport" then report(out, e.email, "complaint", nil) end
    end
  end
  return out
end

-- Postmark: one record; a Bounce whose Type is HardBounce (or the address
-- is otherwise bad), or a SpamComplaint
local POSTMARK_GONE = { HardBounce = true, BadEmailAddress = true, ManuallyDeactivated = true }
function READ.postmark(body)
  if type(body) ~= "table" or body[1] ~= nil then return nil, "the body must be a JSON object" end
  local out = {}
  if body.RecordType == "Bounce" then
    report(out, body.Email, POSTMARK_GONE[body.Type] and "bounce" or "soft", body.Description or body.Type)
  elseif body.RecordType == "SpamComplaint" then
    report(out, body.Email, "complaint", body.Type)
  end
  return out
end

-- Mailgun: { "event-data": { event = "failed", severity = "permanent" | "temporary" } } or complained
function READ.mailgun(body)
  local e = type(body) == "table" and body["event-data"]
  if type(e) ~= "table" then return nil, "field 'event-data': Mailgun's event" end
  local out = {}
  if e.event == "failed" then
    local status = type(e["delivery-status"]) == "table" and e["delivery-status"].description or e.reason
    report(out, e.recipient, e.severity == "permanent" and "bounce" or "soft", status)
  elseif e.event == "complained" then
    report(out, e.recipient, "complaint", nil)
  end
  return out
end

feedback.PROVIDERS = { "drip", "mailgun", "postmark", "sendgrid", "ses" }

-- feedback.read(provider, body_text) -> reports | nil, error, field; a
-- fourth value is a URL to open to confirm a subscription (SES through SNS)
function feedback.read(provider, text)
  local read = READ[provider]
  if not read then
    return nil, string.format("no provider '%s' (drip reads %s)", tostring(provider), table.concat(feedback.PROVIDERS, ", "))
  end
  local body, err = json.decode_input(text)
  if body == nil then return nil, "bad JSON: " .. tostring(err) end
  return read(body)
end

return feedback
