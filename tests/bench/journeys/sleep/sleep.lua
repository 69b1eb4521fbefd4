-- Benchmark journey: every instance sleeps for 30 days.
return journey { name = "sleep", trigger = "Go", steps = function(ctx) wait "30d" email { text = "hi" } end }
