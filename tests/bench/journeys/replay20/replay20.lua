-- Benchmark journey: 20 recorded steps, then a long sleep.
return journey { name = "replay20", trigger = "Go", steps = function(ctx)
  for i = 1, 19 do set { step = i } end
  wait "30d"
  email { text = "done" }
end }
