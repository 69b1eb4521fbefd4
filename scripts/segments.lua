-- Named segments, used by in_segment("name") and segment triggers.
-- A segment is a function of the contact's traits, { inactive = "60d" }, or
-- { did = "Event", times = ">=3", within = "90d" } (a count of its events).
---@type table<string, drip.Segment>
return {
  vip          = function(c) return (c.lifetime_value or 0) >= 500 end,
  persian      = function(c) return c.locale == "fa" end,
  russian      = function(c) return c.locale == "ru" end,
  dormant      = { inactive = "60d" },
  repeat_buyer = { did = "Order Completed", times = ">=2", within = "90d" },
}
