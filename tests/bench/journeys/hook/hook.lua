-- bench: every Ping event sends one webhook carrying the client's send time
return journey { name = "hook", trigger = "Ping", reentry = true, steps = function(ctx)
  webhook { t = ctx.event.properties.t }
end }
