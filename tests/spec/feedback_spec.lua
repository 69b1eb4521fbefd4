-- drip.feedback: the webhooks of email providers read into bounces,
-- complaints and bounces that may pass.
local feedback = require "drip.feedback"
local json = require "drip.json"

local function read(provider, body) return { feedback.read(provider, json.encode(body)) } end

describe("feedback.read", function()
  it("reads Amazon SES through SNS, and from an event destination", function()
    local bounce = { notificationType = "Bounce", bounce = { bounceType = "Permanent", bounceSubType = "General",
      bouncedRecipients = { { emailAddress = "a@x.test", diagnosticCode = "smtp; 550 5.1.1 user unknown" } } } }
    assert.same({ { { address = "a@x.test", kind = "bounce", detail = "smtp; 550 5.1.1 user unknown" } } },
      read("ses", { Type = "Notification", Message = json.encode(bounce) }))
    local complaint = { eventType = "Complaint", complaint = { complaintFeedbackType = "abuse",
      complainedRecipients = { { emailAddress = "b@x.test" }, { emailAddress = "c@x.test" } } } }
    assert.same({ { { address = "b@x.test", kind = "complaint", detail = "abuse" },
                    { address = "c@x.test", kind = "complaint", detail = "abuse" } } }, read("ses", complaint))
    local transient = { notificationType = "Bounce", bounce = { bounceType = "Transient",
      bouncedRecipients = { { emailAddress = "d@x.test" } } } }
    assert.equal("soft", read("ses", transient)[1][1].kind)
    assert.same({ { { address = "a@x.test", kind = "bounce" } } }, { feedback.read("ses",
      '{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[1,null,"x",{"emailAddress":"a@x.test"}]}}') })
    assert.same({ {} }, { feedback.read("ses", '{"notificationType":"Complaint","complaint":{"complainedRecipients":null}}') })
    assert.same({ {}, nil, nil, "https://sns.test/confirm?x=1" },
      read("ses", { Type = "SubscriptionConfirmation", SubscribeURL = "https://sns.test/confirm?x=1" }))
  end)

  it("reads SendGrid's events, telling a blocked message from a gone address", function()
    local got = read("sendgrid", { { email = "a@x.test", event = "bounce", type = "bounce", reason = "550 no such user" },
      { email = "b@x.test", event = "bounce", type = "blocked" }, { email = "c@x.test", event = "spamreport" },
      { email = "d@x.test", event = "dropped", reason = "Bounced Address" }, { email = "e@x.test", event = "open" } })[1]
    assert.same({ "a@x.test bounce", "b@x.test soft", "c@x.test complaint", "d@x.test bounce" },
      { got[1].address .. " " .. got[1].kind, got[2].address .. " " .. got[2].kind, got[3].address .. " " .. got[3].kind,
        got[4].address .. " " .. got[4].kind })
    assert.equal(4, #got)
    assert.same({ nil, "the body must be a JSON list of events" }, read("sendgrid", { email = "a@x.test" }))
  end)

  it("reads Postmark and Mailgun", function()
    assert.same({ { { address = "a@x.test", kind = "bounce", detail = "The server was unable to deliver" } } },
      read("postmark", { RecordType = "Bounce", Type = "HardBounce", Email = "a@x.test",
                         Description = "The server was unable to deliver" }))
    assert.equal("soft", read("postmark", { RecordType = "Bounce", Type = "SoftBounce", Email = "a@x.test" })[1][1].kind)
    assert.equal("complaint", read("postmark", { RecordType = "SpamComplaint", Email = "a@x.test" })[1][1].kind)
    assert.same({ { { address = "m@x.test", kind = "bounce", detail = "No such mailbox" } } },
      read("mailgun", { ["event-data"] = { event = "failed", severity = "permanent", recipient = "m@x.test",
                                           ["delivery-status"] = { description = "No such mailbox" } } }))
    assert.equal("soft", read("mailgun", { ["event-data"] = { event = "failed", severity = "temporary",
                                                              recipient = "m@x.test" } })[1][1].kind)
    assert.equal("complaint", read("mailgun", { ["event-data"] = { event = "complained", recipient = "m@x.test" } })[1][1].kind)
  end)

  it("reads drip's own form, and says what is wrong with a report", function()
    assert.same({ { { address = "a@x.test", kind = "complaint" } } }, read("drip", { address = "a@x.test", type = "complaint" }))
    assert.same({ nil, "field '[1].type': bounce, complaint or soft, not spam", "type" },
      read("drip", { { address = "a@x.test", type = "bounce" }, { address = "b@x.test", type = "spam" } }))
    assert.same({ nil, "no provider 'sparkpost' (drip reads drip, mailgun, postmark, sendgrid, ses)" },
      { feedback.read("sparkpost", "{}") })
    local none, err = feedback.read("ses", "{nope")
    assert.is_nil(none)
    assert.matches("^bad JSON", err)
  end)
end)
