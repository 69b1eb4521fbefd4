-- Named segments, used by in_segment("name") and segment triggers.
return {
  vip       = function(c) return (c.lifetime_value or 0) >= 500 end,
  persian   = function(c) return c.locale == "fa" end,
  russian   = function(c) return c.locale == "ru" end,
  dormant   = { inactive = "60d" },
}
