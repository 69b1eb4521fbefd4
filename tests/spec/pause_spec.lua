-- drip.pause on the real engine and an in-memory store: what a pause holds
-- and refuses, and what resuming sends or drops.
local testing = require "drip.testing"
local pause = require "drip.pause"

local function status_of(sim, contact)
  local out = {}
  for _, inst in ipairs(sim.store:contact_view(contact, 10).instances) do
    for _, m in ipairs(sim.store:instance_story(inst.id).messages) do
      out[#out + 1] = m.status .. (m.reason and (":" .. m.reason) or "")
    end
  end
  return table.concat(out, " ")
end

describe("pausing a journey", function()
  local sim
  before_each(function()
    sim = testing.new { journeys = { "scripts/abandoned_cart.lua" } }
    for _, id in ipairs({ "a", "b", "c" }) do
      sim:identify(id, { email = id .. "@example.com", first_name = id, consent = { email = true } })
    end
    sim:track("a", "Cart Updated", { cart_url = "https://shop.test/c/a" })
    sim:track("b", "Cart Updated", { cart_url = "https://shop.test/c/b" })
  end)

  local function pause_now()
    local done = assert(pause.pause(sim.store, "abandoned_cart", sim:now()))
    sim.engine:read_pauses()
    return done
  end

  it("refuses entries and holds the messages of running instances, which go on", function()
    local done = pause_now()
    assert.same({ false, 0 }, { done.already, done.held })
    sim:track("c", "Cart Updated", { cart_url = "https://shop.test/c/c" })
    sim:advance "1h"
    assert.same({}, sim:records { contact = "c" })
    assert.same({}, sim:sent())
    local held = sim:records { kind = "defer", contact = "a" }
    assert.equal(1, #held)
    assert.same({ "email", "paused", "a@example.com" }, { held[1].channel, held[1].reason, held[1].to })
    assert.matches("You left something behind, a", held[1].message.subject, 1, true)
    assert.equal("held:paused", status_of(sim, "a"))
    sim:track("b", "Order Completed", { revenue = 10 })
    assert.equal(1, #sim:records { kind = "exit", contact = "b", reason = "goal" })
    assert.equal(1, sim.store:paused_journeys().abandoned_cart.refused)
    assert.same({ true, 0 }, { pause_now().already, pause.held(sim.store, "nobody") })
  end)

  it("resumes: without a choice it stays paused; sending drops what the goal ended", function()
    pause_now()
    sim:advance "1h"
    sim:track("b", "Order Completed", { revenue = 10 })
    local none, err, held = pause.resume(sim.store, "abandoned_cart", sim:now())
    assert.same({ nil, "held messages wait for a choice", 2 }, { none, err, held })
    assert.is_not_nil(sim.store:paused_journeys().abandoned_cart)
    local done = assert(pause.resume(sim.store, "abandoned_cart", sim:now(), "send"))
    sim.engine:read_pauses()
    assert.same({ true, 1, 0, 1 }, { done.was_paused, done.sent, done.dropped, done.ended })
    assert.equal("queued", status_of(sim, "a"))
    assert.equal("suppressed:paused", status_of(sim, "b"))
    sim:track("c", "Cart Updated", { cart_url = "https://shop.test/c/c" })
    assert.equal(1, #sim:records { kind = "enter", contact = "c" })
    local rows = sim.store:pauses_of("abandoned_cart") -- one pause, ended now
    assert.same({ 1, sim:now() }, { #rows, rows[1][2] })
  end)

  it("drops every held message when told, as a dry run's become simulated when sent", function()
    pause_now()
    sim:advance "1h"
    local done = assert(pause.resume(sim.store, "abandoned_cart", sim:now(), "drop"))
    assert.same({ 0, 2 }, { done.sent, done.dropped })
    assert.equal("suppressed:paused", status_of(sim, "a"))
    sim.engine:read_pauses()
    sim:track("c", "Cart Updated", { cart_url = "https://shop.test/c/c" })
    pause_now()
    sim:advance "1h"
    assert(pause.resume(sim.store, "abandoned_cart", sim:now(), "send", "simulated"))
    assert.equal("simulated", status_of(sim, "c"))
  end)

  it("knows from the store whether a held message, sent, is delivered or simulated", function()
    assert.equal("simulated", sim.store:outbox_status()) -- a simulation's
    sim.store:mark_served(true)
    assert.equal("simulated", sim.store:outbox_status()) -- drip run --dry-run's
    sim.store:mark_served()
    assert.equal("queued", sim.store:outbox_status())
  end)

  it("stamps a pause with a simulation's clock in its store, and the wall clock in a served one", function()
    sim.store:set_meta("clock", 1000)
    assert.equal(1000, sim.store:now())
    sim.store:mark_served()
    assert.is_true(sim.store:now() >= require("drip_host").time() - 1)
  end)

  it("names an unknown journey, and a choice that is not one", function()
    local none, err = pause.pause(sim.store, "abandoned_kart", sim:now())
    assert.is_nil(none)
    assert.matches("no journey named 'abandoned_kart' in this store (journeys: abandoned_cart); did you mean "
      .. "'abandoned_cart'?", err, 1, true)
    pause_now()
    assert.same({ nil, "held messages are sent or dropped, not 'later'" },
      { pause.resume(sim.store, "abandoned_cart", sim:now(), "later") })
  end)
end)
