-- Template partials ({{> name}}): a footer or signature written once, put
-- into every message that names it, in the contact's language, before the
-- placeholders render.
local testing = require "drip.testing"
local template = require "drip.template"
local helpers = require "helpers"

describe("template partials", function()
  it("put the partial's text in, or its HTML in HTML, in the contact's language, placeholders and all", function()
    local dir = helpers.dir({
      ["j.lua"] = [[return journey { name = "j", trigger = "Go", steps = function()
  email { subject = "Hi", text = "Hello.\n{{> footer}}", html = "<p>Hello.</p>{{> footer}}" }
end }]],
      ["templates/footer.txt"] = "Bye, {{contact.first_name}}\n",
      ["templates/footer.html"] = "<p>Bye, {{contact.first_name}}</p>\n",
      ["templates/footer.fa.txt"] = "خداحافظ {{contact.first_name}}\n",
      ["templates/footer.fa.html"] = "<p>خداحافظ {{contact.first_name}}</p>\n",
    })
    local sim = testing.new { journeys = { dir } }
    sim:identify("en", { email = "e@x.test", first_name = "Ava <3", consent = { email = true } })
    sim:identify("fa", { email = "f@x.test", first_name = "سارا", language = "fa", consent = { email = true } })
    sim:track("en", "Go")
    sim:track("fa", "Go")
    local en, fa = sim:sent { contact = "en" }[1].message, sim:sent { contact = "fa" }[1].message
    assert.equal("Hello.\nBye, Ava <3", en.text)
    assert.equal("<p>Hello.</p><p>Bye, Ava &lt;3</p>", en.html)
    assert.equal("Hello.\nخداحافظ سارا", fa.text)
    assert.equal("<p>Hello.</p><p>خداحافظ سارا</p>", fa.html)
  end)

  it("fail the instance, not the run, when a partial is missing or includes itself", function()
    local dir = helpers.dir({
      ["j.lua"] = [[return journey { name = "j", trigger = "Go", reentry = true, steps = function(ctx)
  email { subject = "Hi", text = ctx.event.properties.text }
end }]],
      ["templates/loop.txt"] = "again {{> loop}}\n",
    })
    local sim = testing.new { journeys = { dir } }
    sim:identify("u", { email = "u@x.test", consent = { email = true } })
    sim:track("u", "Go", { text = "{{> nowhere}}" })
    sim:track("u", "Go", { text = "{{> loop}}" })
    local exits = sim:records { kind = "exit" }
    assert.equal(2, #exits)
    assert.matches("template 'nowhere' not found", exits[1].error, 1, true)
    assert.matches("partials nested more than 5 deep (does one include itself?)", exits[2].error, 1, true)
    assert.equal(0, #sim:sent {})
  end)

  it("expand nested partials and leave text without one alone", function()
    local parts = { a = "A[{{> b}}]", b = "B" }
    assert.equal("x A[B] y", template.expand("x {{> a}} y", function(n) return parts[n] end))
    assert.equal("no {{partial}} here", template.expand("no {{partial}} here", error))
  end)
end)
