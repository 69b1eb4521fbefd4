#!/usr/bin/env bash
# End-to-end tests of `drip check` through the real binary.
DRIP=${1:?usage: check.sh path/to/drip}
. "$(dirname "$0")/lib.sh"

out=$("$DRIP" check scripts); code=$?
expect_eq "the example journeys pass" 0 $code
JOURNEYS=$(ls scripts/*.lua | grep -vc '/segments.lua$')
expect_contains "and it says how many" "$out" "ok: $JOURNEYS journeys"

mkdir -p "$TMP/s"
printf 'return { vip = function(c) return true end }\n' > "$TMP/s/segments.lua"
printf 'return journey {\n  trigger = "X",\n  colour = "red",\n  steps = function(ctx) end,\n}\n' > "$TMP/s/a.lua"
printf 'return journey {\n  trigger = "X",\n  steps = function(ctx)\n    wait "3x"\n    emial { text = "hi" }\n    if in_segment("vipp") then end\n    wait_for("Y", "2q")\n    wait_until "tomorrow"\n    wait_until "9:30pm"\n    wait "2 days"\n    wait "2 dayz"\n  end,\n}\n' > "$TMP/s/b.lua"
printf 'return journey {\n  steps = function(ctx) end,\n}\n' > "$TMP/s/c.lua"
printf 'return journey {\n  trigger = "X"\n  steps = 1\n}\n' > "$TMP/s/d.lua"
printf 'return journey {\n  trigger = "X",\n  reentry = "often",\n  steps = function(ctx) end,\n}\n' > "$TMP/s/e.lua"
printf 'return journey { name = "same", trigger = "X", steps = function(ctx) end }\n' > "$TMP/s/f.lua"
printf 'return journey { name = "same", trigger = "Y", steps = function(ctx) end }\n' > "$TMP/s/g.lua"
printf -- '-- welcome\njourney { name = "noreturn", trigger = "X", steps = function(ctx) end }\n' > "$TMP/s/h.lua"
printf 'local x = 1\n\nreturn x\n' > "$TMP/s/i.lua"
"$DRIP" check "$TMP/s" 2> "$TMP/err"; code=$?
err=$(cat "$TMP/err")
expect_eq "problems give exit 1" 1 $code
expect_contains "unknown key, with its line" "$err" "$TMP/s/a.lua:3: unknown key 'colour' in journey{}"
printf 'return journey {\n  trigger = "X",\n  stepz = function(ctx) end,\n}\n' > "$TMP/stepz.lua"
expect_contains "... and the key it is nearest" "$("$DRIP" check "$TMP/stepz.lua" 2>&1)" \
  "$TMP/stepz.lua:3: unknown key 'stepz' in journey{} (expected one of: name, description, trigger, goal, exit_on, reentry, timeout, steps); did you mean 'steps'?"
printf 'return journey {\n  trigger = { event = "Go", wher = function(e) return e.properties.vip end },\n  goal = { event = "Paid", where = function() return true end },\n  steps = function() end }\n' > "$TMP/wher.lua"
expect_eq "a trigger with a misspelt key (its where would be left out, and every Go start it): its line and the key meant" \
  "$TMP/wher.lua:2: trigger: unknown key 'wher'; did you mean 'where'? (it takes event, where)" \
  "$("$DRIP" check "$TMP/wher.lua" 2>&1)"
expect_contains "bad duration in a step" "$err" "$TMP/s/b.lua:4: wait: bad duration \"3x\""
expect_contains "unknown function, with the step it resembles" "$err" "$TMP/s/b.lua:5: unknown function 'emial' (did you mean 'email'?)"
expect_contains "a wait_until that is not a time" "$err" "$TMP/s/b.lua:8: wait_until: \"tomorrow\" is not a time of day"
printf 'return journey { trigger = "Go", steps = function(ctx)\n  local t = os.time()\n  if ctx.event.properties.os == "ios" then log("a %%s", "os.x") end\n  print("hi")\nend }\n' > "$TMP/lacks.lua"
expect_eq "a use of os or print is named with what a journey has instead; a property named os is not" \
  "$TMP/lacks.lua:2: journeys have no os: now() gives the time, and they read no files or environment
$TMP/lacks.lua:4: journeys have no print: log(...) writes a line to the instance's history" \
  "$("$DRIP" check "$TMP/lacks.lua" 2>&1)"
expect_eq "a 12-hour time and a duration in words are fine" "" "$(grep -E 'b.lua:(9|10):' "$TMP/err")"
expect_contains "unknown segment" "$err" "$TMP/s/b.lua:6: unknown segment 'vipp'"
mkdir -p "$TMP/ch"
printf 'return journey {\n  trigger = "X",\n  steps = function(ctx)\n    send("emial", { text = "a" })\n    send { channels = { "push", "fax" }, text = "b" }\n    send { channels = { "push", "sms" }, text = "c" }\n  end,\n}\n' > "$TMP/ch/c.lua"
"$DRIP" check "$TMP/ch" 2> "$TMP/err_ch"; code=$?
expect_eq "an unknown channel named by a literal is reported at its line, with the nearest" \
  "1 $TMP/ch/c.lua:4: send: unknown channel 'emial' (email, sms, push, telegram, webhook); did you mean 'email'?
$TMP/ch/c.lua:5: send: unknown channel 'fax' (email, sms, push, telegram, webhook)" "$code $(cat "$TMP/err_ch")"
mkdir -p "$TMP/fl/templates"
printf 'return journey {\n  trigger = "X",\n  steps = function(ctx)\n    email { template = "t", subject = "{{event.properties.at | date \\"de\\"}} {{event.properties.n | number \\"fa\\"}}" }\n  end,\n}\n' > "$TMP/fl/f.lua"
printf 'Hi\n{{event.properties.at | date "fa" "Asia/Tehrn"}} {{event.properties.at | date "ru" "Europe/Moscow"}}\n' > "$TMP/fl/templates/t.txt"
"$DRIP" check "$TMP/fl" 2> "$TMP/err_fl"; code=$?
expect_eq "a filter's literal language or time zone it does not take is reported at its line" \
  "1 $TMP/fl/f.lua:4: template: date \"de\": not a language it writes (en, fa, ru); it would show as with none
$TMP/fl/templates/t.txt:2: template: date: \"Asia/Tehrn\" is not a time zone (such as Asia/Tehran); it would show the date in UTC" "$code $(cat "$TMP/err_fl")"
mkdir -p "$TMP/wd"
printf 'return journey {\n  trigger = "X",\n  steps = function(ctx)\n    wait(-5)\n    wait(30)\n    wait_until { weekday = "funday", at = "09:00" }\n    wait_until({ weekday = "fri", at = "09:00" })\n  end,\n}\n' > "$TMP/wd/w.lua"
"$DRIP" check "$TMP/wd" 2> "$TMP/err_wd"; code=$?
expect_eq "a negative wait in seconds and a weekday that is none are reported at their lines" \
  "1 $TMP/wd/w.lua:4: wait: bad duration -5 (use a number of seconds or \"90s\", \"15m\", \"2h\", \"3d\", \"1w\", or words: \"2 hours\", \"3 days\", \"2 часа\", \"۳ روز\")
$TMP/wd/w.lua:6: wait_until: weekday \"funday\" is not a day (mon … sun, monday … sunday, пн … вс, شنبه … جمعه)" "$code $(cat "$TMP/err_wd")"
mkdir -p "$TMP/sb"
printf 'return {\n  vip = function(c) return true end,\n  bad = { did = "X", times = "lots" },\n}\n' > "$TMP/sb/segments.lua"
printf 'return journey { trigger = { segment = "vip" }, steps = function(ctx) if in_segment("vip") then end end }\n' > "$TMP/sb/j.lua"
"$DRIP" check "$TMP/sb" 2> "$TMP/err_sb"; code=$?
expect_eq "a segments.lua that fails is the one problem told (its names are not called unknown)" \
  "1 $TMP/sb/segments.lua:3: segment 'bad' times: bad count \"lots\" (use \">=3\", \">1\", \"<=2\", \"<2\", \"=0\" or a number)" \
  "$code $(cat "$TMP/err_sb")"
mkdir -p "$TMP/td/templates/t.txt"
printf 'return journey { trigger = "X", steps = function(ctx) email { template = "t" } end }\n' > "$TMP/td/t.lua"
"$DRIP" check "$TMP/td" 2> "$TMP/err_td"; code=$?
expect_eq "a template path that is a directory is a problem, named" "1 $TMP/td/templates/t.txt: Is a directory" "$code $(cat "$TMP/err_td")"
"$DRIP" check --journeys "$TMP/s" 2> "$TMP/err_flag"; code=$?
expect_eq "--journeys, as simulate takes it, checks the same paths" "1 $err" "$code $(cat "$TMP/err_flag")"
expect_contains "bad wait_for timeout" "$err" "$TMP/s/b.lua:7: wait_for timeout: bad duration \"2q\""
expect_contains "a misspelt unit, with what it likely meant" "$err" "$TMP/s/b.lua:11: wait: bad duration \"2 dayz\" (did you mean \"2 days\"?)"
expect_contains "missing trigger" "$err" "$TMP/s/c.lua:1: journey has no trigger"
expect_contains "syntax error" "$err" "$TMP/s/d.lua:3: '}' expected"
expect_contains "bad reentry, with the values it takes" "$err" "$TMP/s/e.lua:3: reentry: \"often\" is not a duration; reentry takes true (enter every time), false (once ever)"
expect_contains "a journey name used twice" "$err" "$TMP/s/g.lua:1: journey name 'same' is already used by $TMP/s/f.lua"
expect_contains "a journey made but not returned, at its line" "$err" \
  "$TMP/s/h.lua:2: journey { ... } is made but not returned (write return journey { ... })"
expect_contains "a script with no journey, at its last line" "$err" "$TMP/s/i.lua:3: the script must return journey { ... }"

# templates: placeholders in the script and in templates/ files, and the files named
mkdir -p "$TMP/t/templates"
printf 'Hi {{contact.first_name | titlecase}}\n{{contact.city | lowr}}\n' > "$TMP/t/templates/promo.html"
printf 'Inside: {{contact.first_name | uper}}\n' > "$TMP/t/templates/promo.preheader"
printf 'return journey {\n  trigger = "X",\n  steps = function(ctx)\n    email { subject = "Hi {{contact.first_name | shout}}", text = "{{event.properties.url" }\n    email { template = "promo", text = "{{contact.n | plural(\\"a\\", \\"b\\", \\"c\\")}}" }\n    email { template = "gone" }\n    email { template = "prmo" }\n  end,\n}\n' > "$TMP/t/t.lua"
printf 'return journey { trigger = "Y", steps = function(ctx) email { template = "promo" } end }\n' > "$TMP/t/u.lua"
"$DRIP" check "$TMP/t" 2> "$TMP/err"; code=$?
err=$(cat "$TMP/err")
expect_eq "template problems give exit 1" 1 $code
expect_contains "unknown filter, with its line" "$err" "$TMP/t/t.lua:4: template: unknown filter \"shout\""
expect_contains "an unclosed placeholder" "$err" "$TMP/t/t.lua:4: template: \"{{event.properties.url\" is not closed with }}"
expect_contains "a misspelt filter, with the filter it resembles" "$err" \
  "$TMP/t/templates/promo.html:2: template: unknown filter \"lowr\" in \"{{contact.city | lowr}}\" (did you mean \"lower\"?)"
expect_contains "a template file's placeholder, with its file and line" "$err" "$TMP/t/templates/promo.html:1: template: unknown filter \"titlecase\" in \"{{contact.first_name | titlecase}}\" (filters: date, default, lower, money, number, plural, upper)"
expect_contains "... and a preheader's" "$err" \
  "$TMP/t/templates/promo.preheader:1: template: unknown filter \"uper\" in \"{{contact.first_name | uper}}\" (did you mean \"upper\"?)"
expect_contains "a missing template file" "$err" "$TMP/t/t.lua:6: template 'gone' not found (looked for $TMP/t/templates/gone.txt and .html)"
expect_eq "... with no guess when no template resembles it" "" "$(grep 't.lua:6:.*did you mean' "$TMP/err")"
expect_contains "a misspelt template name, with the template it resembles" "$err" \
  "$TMP/t/t.lua:7: template 'prmo' not found (looked for $TMP/t/templates/prmo.txt and .html) (did you mean 'promo'?)"
expect_eq "and nothing else, a template two journeys use reported once (escaped quotes in a filter's arguments are fine)" \
  7 "$(wc -l < "$TMP/err")"

# templates in several languages: each version's placeholders, a name with no
# version for the rest, a version without a part the default has
mkdir -p "$TMP/tl/templates"
printf 'Hi\n' > "$TMP/tl/templates/promo.txt"
printf '<p>Hi</p>\n' > "$TMP/tl/templates/promo.html"
printf 'سلام\n{{contact.first_name | defualt "دوست"}}\n' > "$TMP/tl/templates/promo.fa.txt"
printf 'Привет\n' > "$TMP/tl/templates/promo.ru-RU.txt"
printf 'Привет\n' > "$TMP/tl/templates/sale.ru.txt"
printf 'سلام\n' > "$TMP/tl/templates/sale.fa.html"
printf 'return journey {\n  trigger = "X",\n  steps = function(ctx)\n    email { subject = "x", template = "promo" }\n    email { subject = "y", template = "sale" }\n    email { subject = "z", template = "sale.fa" }\n  end,\n}\n' > "$TMP/tl/t.lua"
"$DRIP" check "$TMP/tl" 2> "$TMP/err_tl"; code=$?
err=$(cat "$TMP/err_tl")
expect_eq "a template in some languages only is a problem" 1 $code
expect_contains "... a language version's placeholder, with its file and line" "$err" \
  "$TMP/tl/templates/promo.fa.txt:2: template: unknown filter \"defualt\""
expect_contains "... the name with no version for other languages, at the line that uses it" "$err" \
  "$TMP/tl/t.lua:5: template 'sale' has only language versions (sale.fa, sale.ru in $TMP/tl/templates): a contact in any other language would fail; add sale.txt or sale.html, or name one version (template = \"sale.fa\")"
expect_contains "... a version without the default's html part: a warning" "$err" \
  "$TMP/tl/templates/promo.fa: warning: no promo.fa.html, while promo.html is there: its language's messages go without it"
expect_contains "... named as its files spell it" "$err" "$TMP/tl/templates/promo.ru-RU: warning: no promo.ru-RU.html"
expect_eq "... and nothing else: a language's version named outright is fine" 4 "$(wc -l < "$TMP/err_tl")"

# a goal's window: a duration, and the keys a goal takes
mkdir -p "$TMP/gw"
printf 'return journey {\n  trigger = "X",\n  goal = { event = "Y", within = "3 dais" },\n  steps = function() wait "1h" end,\n}\n' > "$TMP/gw/a.lua"
printf 'return journey {\n  trigger = "X",\n  goal = { event = "Y", withn = "3d" },\n  steps = function() wait "1h" end,\n}\n' > "$TMP/gw/b.lua"
err=$("$DRIP" check "$TMP/gw" 2>&1)
expect_contains "a goal's window that is no duration, with the one it resembles" "$err" \
  "$TMP/gw/a.lua:3: goal.within: bad duration \"3 dais\" (did you mean \"3 days\"?)"
expect_contains "a goal's misspelt key, with the keys it takes" "$err" \
  "$TMP/gw/b.lua:3: goal: unknown key 'withn'"

# partials ({{> name}}): each one named exists, and its placeholders are checked too
mkdir -p "$TMP/pt/templates"
printf 'Hi\n{{> footr}}\n' > "$TMP/pt/templates/promo.txt"
printf '<p>Hi</p>{{> footer}}\n' > "$TMP/pt/templates/promo.html"
printf 'Bye {{contact.first_name | uper}}\n' > "$TMP/pt/templates/footer.txt"
printf '<p>Bye</p>\n' > "$TMP/pt/templates/footer.html"
printf 'return journey {\n  trigger = "X",\n  steps = function(ctx)\n    email { subject = "x", template = "promo" }\n    email { subject = "y", text = "{{> footer}}" }\n  end,\n}\n' > "$TMP/pt/t.lua"
"$DRIP" check "$TMP/pt" 2> "$TMP/err_pt"; code=$?
err=$(cat "$TMP/err_pt")
expect_eq "a partial that is not there is a problem" 1 $code
expect_contains "... named at the line of the template that puts it in, with the one it resembles" "$err" \
  "$TMP/pt/templates/promo.txt:2: template 'footr' not found (looked for $TMP/pt/templates/footr.txt and .html) (did you mean 'footer'?)"
expect_contains "... and a partial's own placeholders are checked" "$err" \
  "$TMP/pt/templates/footer.txt:1: template: unknown filter \"uper\""
expect_eq "... each once, though two messages put it in" 2 "$(wc -l < "$TMP/err_pt")"

# files not saved as UTF-8 are named with their line, before Lua sees a stray byte
mkdir -p "$TMP/enc/templates"
printf 'return journey { trigger = "X", steps = function()\n  email { subject = "Caf\351" }\nend }\n' > "$TMP/enc/latin1.lua"
printf 'return journey { trigger = "Y", steps = function() email { template = "offer" } end }\n' | iconv -f UTF-8 -t UTF-16 > "$TMP/enc/wide.lua"
printf 'return journey { trigger = "Z", steps = function() email { template = "offer" } end }\n' > "$TMP/enc/tpl.lua"
printf 'Привет\n' | iconv -f UTF-8 -t CP1251 > "$TMP/enc/templates/offer.txt"
err=$("$DRIP" check "$TMP/enc" 2>&1); code=$?
expect_eq "encoding problems give exit 1" 1 $code
expect_contains "a Latin-1 journey, by line and byte" "$err" "$TMP/enc/latin1.lua:2: not UTF-8 (byte 0xE9); save the file as UTF-8"
expect_contains "a UTF-16 journey" "$err" "$TMP/enc/wide.lua:1: the file is UTF-16 text; save it as UTF-8"
expect_contains "a Windows-1251 template" "$err" "$TMP/enc/templates/offer.txt:1: not UTF-8 (byte 0xCF); save the file as UTF-8"

# files saved by Windows editors start with a UTF-8 byte order mark
mkdir -p "$TMP/bom"
printf '\357\273\277return journey { trigger = "X", steps = function() log("hi") end }\n' > "$TMP/bom/j.lua"
printf '\357\273\277return { vip = function(c) return true end }\n' > "$TMP/bom/segments.lua"
printf '\357\273\277timezone = "Asia/Tehran"\n' > "$TMP/bom.conf.lua"
cp "$TMP/bom.conf.lua" "$TMP/bom/drip.conf.lua" # a configuration kept beside the journeys is not one of them
expect_eq "a journey and segments.lua with a byte order mark check clean" "ok: 1 journey" "$("$DRIP" check "$TMP/bom" 2>&1)"
printf '{"type":"track","userId":"u1","event":"X","timestamp":"2026-11-01T00:00:00Z"}\n' > "$TMP/bom/x.jsonl"
expect_contains "and a configuration with one is read" \
  "$("$DRIP" simulate --journeys "$TMP/bom" --events "$TMP/bom/x.jsonl" --config "$TMP/bom.conf.lua" --format jsonl 2>&1)" '"kind":"log"'

"$DRIP" check /no/such/file.lua 2> "$TMP/err"; expect_eq "a missing file is exit 2" 2 $?
expect_eq "and named" "drip check: /no/such/file.lua: no such file or directory" "$(cat "$TMP/err")"
(cd "$TMP" && "$DRIP" simulate --events "$OLDPWD/examples/events.jsonl" 2> "$TMP/err"); code=$?
expect_eq "simulate without a journeys directory is exit 2" 2 $code
expect_eq "and says which directory" "drip simulate: journeys: scripts: no such file or directory" "$(cat "$TMP/err")"
mkdir -p "$TMP/a \$(x) \"q\""
cp -r scripts/welcome.lua scripts/templates "$TMP/a \$(x) \"q\"/"
out=$("$DRIP" check "$TMP/a \$(x) \"q\"" 2>&1)
expect_eq "a directory whose name has shell characters is listed" "ok: 1 journey" "$out"
"$DRIP" simulate --events examples/events.jsonl --journeys "$TMP/s" 2> "$TMP/err"
expect_eq "simulate refuses broken journeys with exit 2" 2 $?
expect_contains "and reports them" "$(cat "$TMP/err")" "a.lua:3: unknown key"
# a one-off broadcast already past: a warning naming file and line, not a failure
mkdir -p "$TMP/past"
printf 'return journey {\n  trigger = { schedule = "2020-01-01 10:00" },\n  steps = function() end }\n' > "$TMP/past/old_sale.lua"
out=$("$DRIP" check "$TMP/past" 2>&1); code=$?
expect_eq "a past one-off schedule does not fail check" 0 $code
expect_contains "... but is named with its line" "$out" 'old_sale.lua:2: warning: the schedule "2020-01-01 10:00" has passed in every time zone'
printf 'return journey {\n  trigger = { segment = "nope" },\n  steps = function() end }\n' > "$TMP/past/seg.lua"
expect_eq "an unknown trigger segment is reported once" 1 "$("$DRIP" check "$TMP/past" 2>&1 | grep -c "unknown segment 'nope'")"
# two journeys naming one event two ways: a warning, not a failure
mkdir -p "$TMP/w"
printf 'return journey {\n  name = "a",\n  trigger = "Order Completed",\n  steps = function() end }\n' > "$TMP/w/a.lua"
printf 'return journey {\n  name = "b",\n  trigger = "Cart Updated",\n  goal = "order_completed",\n  steps = function() end }\n' > "$TMP/w/b.lua"
out=$("$DRIP" check "$TMP/w" 2> "$TMP/err"); code=$?
expect_eq "spellings that differ are a warning: exit 0" "0 ok: 2 journeys" "$code $out"
expect_eq "naming both journeys, at the line of the second" \
  "$TMP/w/b.lua:4: warning: journey 'b' converts on 'order_completed', but journey 'a' starts on 'Order Completed' (event names must match exactly)" \
  "$(cat "$TMP/err")"
printf 'return {\n  vip = function(c) return c.vip end,\n  buyers = { did = "order_completed" },\n}\n' > "$TMP/w/segments.lua"
"$DRIP" check "$TMP/w" > /dev/null 2> "$TMP/err"
expect_contains "a did segment's event spelt another way than a journey's: named at the segment's line" "$(cat "$TMP/err")" \
  "$TMP/w/segments.lua:3: warning: segment 'buyers' counts 'order_completed', but journey 'a' starts on 'Order Completed' (event names must match exactly)"
finish
