#!/usr/bin/env bash
# End-to-end tests of `drip stats`: simulate the sample month into a store,
# then check every figure stats prints against counts made independently
# from simulate's JSON Lines records (and the Wilson interval against Python).
DRIP=${1:?usage: stats.sh path/to/drip}
. "$(dirname "$0")/lib.sh"

"$DRIP" simulate --events examples/events.jsonl --journeys scripts --format jsonl --db "$TMP/s.db" > "$TMP/rec.jsonl"
"$DRIP" stats --db "$TMP/s.db" --format json > "$TMP/stats.json"
expect_eq "stats exits 0" 0 $?

python3 - "$TMP/rec.jsonl" "$TMP/stats.json" > "$TMP/compare" <<'PY'
import json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
stats = {j["journey"]: j for j in json.load(open(sys.argv[2]))["journeys"]}
problems = []
def check(what, want, got):
    if want != got: problems.append(f"{what}: records say {want}, stats say {got}")
for name, j in stats.items():
    mine = [r for r in recs if r["journey"] == name]
    check(f"{name} entered", sum(r["kind"] == "enter" for r in mine), j["entered"])
    check(f"{name} converted", sum(r["kind"] == "convert" for r in mine), j["converted"])
    exits = {}
    for r in mine:
        if r["kind"] == "exit": exits[r["reason"]] = exits.get(r["reason"], 0) + 1
    check(f"{name} exits", exits, j["exited"])
    check(f"{name} sms segments", sum(r.get("segments", 0) for r in mine if r["kind"] in ("send", "defer") and r["channel"] == "sms"),
          j.get("sms_segments", 0))
    for ch, c in j["channels"].items():
        check(f"{name} {ch} simulated", sum(r["kind"] == "send" and r["channel"] == ch for r in mine), c.get("simulated", 0))
        sup = {}
        for r in mine:
            if r["kind"] == "suppress" and r["channel"] == ch: sup[r["reason"]] = sup.get(r["reason"], 0) + 1
        check(f"{name} {ch} suppressed", sup, c["suppressed"] or {})
    for split, variants in j["splits"].items():
        for v in variants:
            who = {r["contact"] for r in mine if r["kind"] == "variant" and r["variant"] == v["variant"]}
            check(f"{name} {split} {v['variant']} entered", len(who), v["entered"])
            n, k, z = v["entered"], v["converted"], 1.959963984540054
            p = k / n
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            check(f"{name} {split} {v['variant']} wilson", (round(centre - half, 6), round(centre + half, 6)),
                  (round(v["low"], 6), round(v["high"], 6)))
print("\n".join(problems) if problems else "agree", len(stats))
PY
JOURNEYS=$(ls scripts/*.lua | grep -vc '/segments.lua$')
expect_eq "every figure agrees with the records (all $JOURNEYS journeys)" "agree $JOURNEYS" "$(cat "$TMP/compare")"
expect_eq "the A/B split has two variants, B tested against A" "A B 1" \
  "$(python3 -c 'import json,sys; v=[j for j in json.load(open(sys.argv[1]))["journeys"] if j["journey"]=="welcome"][0]["splits"]["welcome_subject"]; print(v[0]["variant"], v[1]["variant"], int(0 <= v[1]["p_value"] <= 1))' "$TMP/stats.json")"

# each conversion credits the last message its instance sent before it:
# counted per channel from drip records (which name the instance), against stats
"$DRIP" records --db "$TMP/s.db" > "$TMP/all.jsonl"
python3 - "$TMP/all.jsonl" "$TMP/stats.json" > "$TMP/credits" <<'PY'
import json, sys
last, want = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["kind"] in ("send", "defer") and "instance" in r: last[r["instance"]] = r
    elif r["kind"] == "convert" and r["instance"] in last:
        m = last[r["instance"]]
        key = (r["journey"], m["channel"])
        converted, revenue = want.get(key, (0, 0))
        first = r["instance"] not in want.setdefault("seen", set())
        want["seen"].add(r["instance"])
        want[key] = (converted + first, revenue + (r.get("value") or 0))
want.pop("seen", None)
got = {}
for j in json.load(open(sys.argv[2]))["journeys"]:
    for m in j["messages"]:
        if m.get("converted") or m.get("revenue"):
            converted, revenue = got.get((j["journey"], m["channel"]), (0, 0))
            got[(j["journey"], m["channel"])] = (converted + m["converted"], revenue + m["revenue"])
norm = lambda d: sorted((k, v[0], round(v[1], 6)) for k, v in d.items())
print("agree %d" % len(got) if norm(want) == norm(got) else "records %s\nstats %s" % (norm(want), norm(got)))
PY
expect_eq "each message's conversions (last touch) and revenue agree with the records" "agree 4" "$(cat "$TMP/credits")"
expect_contains "table: a message with the conversions it was last before" "$("$DRIP" stats ab_holdout --db "$TMP/s.db")" \
  "converted 23 after it (44.2%), revenue 1576.6"

TABLE=$("$DRIP" stats welcome --db "$TMP/s.db")
expect_contains "table: the funnel line" "$TABLE" "entered 183"
expect_contains "table: the variant with its interval" "$TABLE" "    A  entered"
expect_contains "table: the test against the first variant, read for a marketer" "$TABLE" \
  "$(python3 -c 'import json,sys; v=[j for j in json.load(open(sys.argv[1]))["journeys"] if j["journey"]=="welcome"][0]["splits"]["welcome_subject"][1]; print("vs A: z %.2f, p %.3f — %s" % (v["z"], v["p_value"], "no clear difference yet" if v["p_value"] >= 0.05 else "converts %s than A" % ("better" if v["z"] > 0 else "worse")))' "$TMP/stats.json")"
mkdir -p "$TMP/ab"
printf 'return journey { name = "ab", trigger = "Go", steps = function() if split("offer", { A = 50, B = 50 }) == "B" then convert() end end }\n' > "$TMP/ab/ab.lua"
for i in $(seq 100); do printf '{"type":"track","userId":"u%d","event":"Go","timestamp":"2026-11-01T00:00:%02dZ"}\n' "$i" $((i % 60)); done > "$TMP/ab.jsonl"
"$DRIP" simulate --journeys "$TMP/ab" --events "$TMP/ab.jsonl" --db "$TMP/ab.db" > /dev/null 2>&1
cat > "$TMP/z.py" <<'PY'
import json, math, sys
v = [j for j in json.load(open(sys.argv[1]))["journeys"] if j["journey"] == "ab_holdout"][0]["splits"]["offer"]
def z(base, x):  # two-proportion z of x against base
    k1, n1, k2, n2 = base["converted"], base["entered"], x["converted"], x["entered"]
    p = (k1 + k2) / (n1 + n2)
    return (k2 / n2 - k1 / n1) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
print(v[0]["variant"], *["%s:%s" % (x["variant"], round(z(v[0], x), 6) == round(x["z"], 6)) for x in v[1:]])
PY
expect_eq "a holdout group is the control the other variants are tested against, whatever its name sorts as" \
  "holdout discount:True free_shipping:True" "$(python3 "$TMP/z.py" "$TMP/stats.json")"
expect_contains "... in the table too" "$("$DRIP" stats ab_holdout --db "$TMP/s.db")" "vs holdout: z "
expect_contains "table: a clear difference says which way" "$("$DRIP" stats ab --db "$TMP/ab.db")" "p 0.000 — converts better than A"
expect_eq "--since 1d counts only the last day's entries" \
  "$(sqlite3 "$TMP/s.db" "SELECT count(*) FROM instances WHERE entered_at >= (SELECT value FROM meta WHERE key = 'clock') - 86400")" \
  "$("$DRIP" stats --db "$TMP/s.db" --since 1d --format json | python3 -c 'import json,sys; print(sum(j["entered"] for j in json.load(sys.stdin)["journeys"]))')"
expect_eq "--since 40d counts the SMS segments of the instances entered since" \
  "$(sqlite3 "$TMP/s.db" "SELECT sum(o.segments) FROM outbox o JOIN instances i ON i.id = o.instance WHERE i.entered_at >= (SELECT value FROM meta WHERE key = 'clock') - 40 * 86400")" \
  "$("$DRIP" stats --db "$TMP/s.db" --since 40d --format json | python3 -c 'import json,sys; print(sum(j.get("sms_segments", 0) for j in json.load(sys.stdin)["journeys"]))')"
expect_contains "table: an SMS channel with its segments" "$("$DRIP" stats abandoned_cart --db "$TMP/s.db")" \
  "  sms      simulated 25, suppressed: no_address 31, no_consent 38   (25 segments)"
# variants named in Russian line up by characters, not bytes
mkdir -p "$TMP/ru"
printf 'return journey { name = "ru", trigger = "Go", steps = function() split("тема", { ["скидка"] = 50, ["бесплатная_доставка"] = 50 }) end }\n' > "$TMP/ru/ru.lua"
for i in $(seq 1 40); do printf '{"type":"track","userId":"r%d","event":"Go","timestamp":"2026-11-01T10:00:00Z"}\n' $i; done > "$TMP/ru.jsonl"
"$DRIP" simulate --journeys "$TMP/ru" --events "$TMP/ru.jsonl" --db "$TMP/ru.db" --format jsonl > /dev/null
expect_eq "each variant's counts start in the same column" "1" \
  "$("$DRIP" stats ru --db "$TMP/ru.db" | python3 -c 'import sys; print(len({l.index("entered") for l in sys.stdin if "entered" in l and l.startswith("    ")}))')"

"$DRIP" stats welcom --db "$TMP/s.db" 2> "$TMP/err"; rc=$?
expect_eq "an unknown journey exits 1 and says so, with the nearest name" "1 did you mean 'welcome'?" \
  "$rc $(grep -o "did you mean .*" "$TMP/err")"
expect_contains "... among the store's journeys" "$(cat "$TMP/err")" "drip stats: no journey named 'welcom' in this store (journeys: ab_holdout, abandoned_cart,"
clock=$(sqlite3 "$TMP/s.db" "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', value, 'unixepoch') FROM meta WHERE key = 'clock'")
from=$(date -u -d "$clock - 40 days" +%Y-%m-%dT%H:%M:%SZ)
expect_eq "--since: the JSON says from when it counts" "$from" \
  "$("$DRIP" stats --db "$TMP/s.db" --since 40d --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["since"])')"
expect_eq "... and so does the table, first" "instances that entered since $from (40d before the store's clock, $clock)" \
  "$("$DRIP" stats --db "$TMP/s.db" --since 40d | head -n 1)"
"$DRIP" stats welcome --since 1s --db "$TMP/s.db" 2> "$TMP/err"; rc=$?
expect_eq "a known journey with no instances in the period exits 1" 1 $rc
expect_contains "... naming the period, by the simulation's clock" "$(cat "$TMP/err")" \
  "drip stats: no instances of journey 'welcome' that entered since $(date -u -d "$clock - 1 second" +%Y-%m-%dT%H:%M:%SZ) (1s before the store's clock, $clock)"
"$DRIP" stats --db "$TMP/s.db" --since soon 2> "$TMP/err"; rc=$?
expect_eq "a bad --since is a usage error" 2 "$rc"
"$DRIP" stats --db "$TMP/none.db" 2> "$TMP/err"; rc=$?
expect_eq "a missing store exits 2" "2 drip stats: $TMP/none.db: no such database" "$rc $(cat "$TMP/err")"
: > "$TMP/none.jsonl"
"$DRIP" import "$TMP/none.jsonl" --db "$TMP/empty.db" > /dev/null
expect_eq "a store with no instance: JSON with an empty list of journeys" '{"journeys":[]}' \
  "$("$DRIP" stats --db "$TMP/empty.db" --format json)"

expect_eq "each message's count (by its template, subject or text) is what the store's rows say" "agree" \
  "$(python3 - "$TMP/s.db" "$TMP/stats.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
want = {}
for j, label, ch, n in db.execute("SELECT i.journey, o.label, o.channel, count(*) FROM outbox o JOIN instances i "
                                  "ON i.id = o.instance WHERE o.status <> 'suppressed' GROUP BY 1, 2, 3"):
    want[(j, label, ch)] = n
got = {}
for j in json.load(open(sys.argv[2]))["journeys"]:
    for m in j["messages"]:
        got[(j["journey"], m["message"], m["channel"])] = m["sent"]
print("agree" if want == got and len(want) > 10 else f"rows {sorted(want.items())[:5]} stats {sorted(got.items())[:5]}")
PY
)"
expect_contains "... and the table lists them" "$("$DRIP" stats lead_nurturing --db "$TMP/s.db")" \
  "    email    “Lesson 1: How teams plan a launch”  "

# --- the global control group: no marketing to a share of contacts, read as a split ------
printf 'global_control = "20%%"\n' > "$TMP/control.conf.lua"
"$DRIP" simulate --events examples/events.jsonl --journeys scripts --format jsonl --db "$TMP/c.db" \
  --config "$TMP/control.conf.lua" > "$TMP/crec.jsonl"
"$DRIP" stats --db "$TMP/c.db" --format json > "$TMP/cstats.json"
verdict=$(python3 - "$TMP/crec.jsonl" "$TMP/cstats.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
stats = {j["journey"]: j for j in json.load(open(sys.argv[2]))["journeys"]}
side = {}
for r in recs:
    if r["kind"] == "variant" and r["split"] == "global_control":
        side[r["contact"]] = r["variant"]
problems = []
control = {c for c, v in side.items() if v == "control"}
if not 0.1 < len(control) / len(side) < 0.3:
    problems.append(f"{len(control)} of {len(side)} contacts in control, not about a fifth")
for r in recs:
    if r["kind"] == "send" and r["kind_of_message"] == "marketing" and r["contact"] in control:
        problems.append(f"a marketing message went to {r['contact']}, in control")
held = [r for r in recs if r["kind"] == "suppress" and r.get("reason") == "global_control"]
if not held or any(r["contact"] not in control for r in held):
    problems.append("no message held back from control, or one from a contact outside it")
for name, j in stats.items():
    mine = [r for r in recs if r["journey"] == name]
    for v in ("control", "treatment"):
        entered = [r for r in mine if r["kind"] == "variant" and r["variant"] == v]
        got = [x for x in j["splits"].get("global_control", []) if x["variant"] == v]
        want = len(entered)
        if want and (not got or got[0]["entered"] != want):
            problems.append(f"{name} {v}: {want} entered in the records, stats say {got}")
print("\n".join(problems) if problems else "agree")
PY
)
expect_eq "global_control: no marketing to the control group, and each journey's stats weigh the two sides" \
  "agree" "$verdict"
ctl=$(grep -o '"contact":"[^"]*","journey":"[^"]*","kind":"variant","split":"global_control","variant":"control"' \
  "$TMP/crec.jsonl" | head -1 | cut -d'"' -f4)
expect_contains "explain says a contact is in the control group" \
  "$("$DRIP" explain "$ctl" --db "$TMP/c.db" --config "$TMP/control.conf.lua")" \
  "  control  in the global control group (global_control = 20%): no marketing message goes to it"
expect_contains "... and inspect that marketing may not reach it" \
  "$("$DRIP" inspect "$ctl" --db "$TMP/c.db" --config "$TMP/control.conf.lua")" '"email":"global_control"'
expect_contains "stats prints the split" "$("$DRIP" stats --db "$TMP/c.db")" "  split global_control"
printf 'global_control = "twenty"\n' > "$TMP/bad.conf.lua"
out=$("$DRIP" stats --db "$TMP/c.db" --config "$TMP/bad.conf.lua" 2>&1); code=$?
expect_eq "a share that is not one: bad usage, naming the file, line and key" \
  "2 drip stats: $TMP/bad.conf.lua:1: global_control: \"twenty\" is not a share of contacts such as \"5%\"" "$code $out"

# --lang fa|ru: the same table, line for line and number for number, in words of the language
numbers() { python3 -c 'import re,sys; [print(" ".join(re.findall(r"[0-9]+(?:\.[0-9]+)?", l))) for l in sys.stdin]'; }
"$DRIP" stats --db "$TMP/s.db" --since 60d > "$TMP/en.txt"
for lang in fa ru; do
  "$DRIP" stats --db "$TMP/s.db" --since 60d --lang "$lang" > "$TMP/$lang.txt"
  expect_eq "stats --lang $lang: every line of the English table, with its numbers" \
    "$(numbers < "$TMP/en.txt")" "$(numbers < "$TMP/$lang.txt")"
done
welcome_en=$(grep -A 2 '^welcome$' "$TMP/en.txt") # (the funnel, then the exits)
expect_eq "the English table has the welcome journey's funnel and exits" 3 "$(echo "$welcome_en" | grep -c .)"
expect_contains "... in Persian words" "$(cat "$TMP/fa.txt")" "$(echo "$welcome_en" | sed -n 2p | sed \
  's/entered/ورود/; s/active/فعال/; s/converted/تبدیل/; s/failed/ناموفق/; s/revenue/درآمد/')"
expect_contains "... Persian names the exit reasons" "$(cat "$TMP/fa.txt")" "$(echo "$welcome_en" | sed -n 3p | sed \
  's/  exited   /  خروج     /; s/completed/تا پایان رفت/; s/exit_event/رویداد خروج/; s/goal/به هدف رسید/')"
expect_contains "... in Russian words" "$(cat "$TMP/ru.txt")" "$(grep '^    B  entered' "$TMP/en.txt" | sed \
  's/entered/вошли/; s/converted/конверсии/; s/vs A/против A/; s/no clear difference yet/явной разницы пока нет/')"
expect_contains "... and the period in Russian" "$(head -1 "$TMP/ru.txt")" "экземпляры со входом с "
expect_eq "English by default: --lang en prints the same table" "$(cat "$TMP/en.txt")" \
  "$("$DRIP" stats --db "$TMP/s.db" --since 60d --lang en)"
out=$("$DRIP" stats --db "$TMP/s.db" --lang de 2>&1); code=$?
expect_eq "a language drip has no words for: bad usage" "2 drip stats: --lang: en, fa or ru" "$code $(echo "$out" | head -1)"
finish
