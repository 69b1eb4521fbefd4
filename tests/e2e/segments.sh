#!/usr/bin/env bash
# End-to-end tests of segments and broadcasts through the real binary: the
# example seasonal broadcast (schedule, segment, rollout) and the loyalty
# journey (a `did` segment trigger) against the sample events, each checked
# against what the events say should happen, computed here independently.
DRIP=${1:?usage: segments.sh path/to/drip}
. "$(dirname "$0")/lib.sh"

"$DRIP" simulate --journeys scripts --events examples/events.jsonl --format jsonl --db "$TMP/s.db" >"$TMP/out.jsonl"
expect_eq "simulate runs the example journeys" 0 $?

python3 - "$TMP/out.jsonl" examples/events.jsonl >"$TMP/verdict" <<'PY'
import json, sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

records = [json.loads(l) for l in open(sys.argv[1])]
traits, orders = {}, {}
for line in open(sys.argv[2]):
    if not line.strip() or line.startswith("#"):
        continue
    e = json.loads(line)
    if e["type"] == "identify":
        traits.setdefault(e["userId"], {}).update(e.get("traits") or {})
    elif e.get("event") == "Order Completed":
        orders.setdefault(e["userId"], []).append(e["timestamp"])

def fnv1a(s):
    h = 1469598103934665603
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) % 2**64
    return h

problems = []
def check(what, want, got):
    if want != got:
        problems.append(f"{what}: want {want}, got {got}")

# seasonal_yalda: Persian-speaking contacts in the first 50% of the rollout, at 10:00 in their zone
def zone(c):
    try:
        return ZoneInfo(traits[c].get("timezone") or "UTC")
    except Exception:
        return ZoneInfo("UTC")
def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
want = {c: iso(datetime(2026, 12, 20, 10, 0, tzinfo=zone(c)))
        for c, t in traits.items()
        if t.get("locale") == "fa" and fnv1a(c + "\0seasonal_yalda\0rollout") % 1000000 / 10000 < 50}
got = {r["contact"]: r["at"] for r in records if r["journey"] == "seasonal_yalda" and r["kind"] == "enter"}
check("yalda entrants and times", want, got)
check("yalda entries are schedule entries", {"schedule"},
      {r["event"] for r in records if r["journey"] == "seasonal_yalda" and r["kind"] == "enter"})
fa = sum(1 for t in traits.values() if t.get("locale") == "fa")
check("about half of the segment", True, 0.25 * fa < len(got) < 0.75 * fa)

# loyalty: entered at the second order within 90 days
want = {}
for c, ts in orders.items():
    ts.sort()
    if len(ts) >= 2:
        want[c] = ts[1]
got = {r["contact"]: r["at"] for r in records if r["journey"] == "loyalty" and r["kind"] == "enter"}
check("loyalty entrants and times", want, got)
print("\n".join(problems) if problems else "agree", len(got))
PY
expect_contains "the broadcast reached the rolled-out half of the segment, each at 10:00 local time; loyalty on the 2nd order" \
  "$(cat "$TMP/verdict")" "agree"

fa=$(grep -o '"userId":"[^"]*","traits":{[^}]*"locale":"fa"' examples/events.jsonl | head -1 | sed 's/"userId":"\([^"]*\)".*/\1/')
expect_contains "explain lists the segments a contact is in" "$("$DRIP" explain "$fa" --db "$TMP/s.db")" "segments persian"
"$DRIP" inspect "$fa" --db "$TMP/s.db" >"$TMP/inspect.json"
expect_eq "inspect has them too" "True" \
  "$(python3 -c 'import json,sys; print("persian" in json.load(open(sys.argv[1]))["segments"])' "$TMP/inspect.json")"

# explain tells each wait and what ended it (from the instance's history)
sms_contact=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["journey"] == "abandoned_cart" and r["kind"] == "send" and r["channel"] == "sms":
        print(r["contact"]); break' "$TMP/out.jsonl")
story=$("$DRIP" explain "$sms_contact" abandoned_cart --db "$TMP/s.db")
expect_contains "explain: the hour's wait and that its time came" "$story" "wait: its time came"
expect_contains "explain: the wait for an order that timed out before the SMS" "$story" "wait_for Order Completed: timed out"

# explain shows a failed instance's error with its traceback
mkdir -p "$TMP/boom"
printf 'return journey { name = "boom", trigger = "Go",\n  steps = function(ctx)\n    local t = nil\n    log("%%s", t.field)\n  end }\n' > "$TMP/boom/b.lua"
printf '{"type":"track","userId":"b1","event":"Go","timestamp":"2026-11-01T00:00:00Z"}\n' > "$TMP/boom/e.jsonl"
"$DRIP" simulate --journeys "$TMP/boom" --events "$TMP/boom/e.jsonl" --db "$TMP/boom.db" > /dev/null
story=$("$DRIP" explain b1 --db "$TMP/boom.db")
expect_contains "explain: a journey error with its traceback" "$story" "exit: error
      $TMP/boom/b.lua:4: attempt to index a nil value (local 't')
      stack traceback:
        $TMP/boom/b.lua:4: in function <$TMP/boom/b.lua:2>"

# explain and inspect read the segments.lua beside the store's own journeys
# (here $TMP/own, not scripts/), or the one --journeys names; an exit(reason)
# shows its reason
mkdir -p "$TMP/own"
printf 'return { big = function(c) return (c.points or 0) >= 100 end }\n' > "$TMP/own/segments.lua"
printf 'return journey { name = "own", trigger = "Go",\n  steps = function(ctx) exit("changed plans") end }\n' > "$TMP/own/o.lua"
printf '{"type":"identify","userId":"o1","traits":{"points":150},"timestamp":"2026-11-01T00:00:00Z"}\n{"type":"track","userId":"o1","event":"Go","timestamp":"2026-11-01T00:00:01Z"}\n' > "$TMP/own/e.jsonl"
"$DRIP" simulate --journeys "$TMP/own" --events "$TMP/own/e.jsonl" --db "$TMP/own.db" > /dev/null
story=$("$DRIP" explain o1 --db "$TMP/own.db")
expect_contains "explain: the segments of the store's own journeys directory" "$story" "segments big (by $TMP/own/segments.lua)"
expect_contains "explain: an exit with the journey's reason" "$story" "exit: exit (changed plans)"
expect_contains "inspect: the same segments" "$("$DRIP" inspect o1 --db "$TMP/own.db")" '"segments":["big"],"segments_from":"'"$TMP/own/segments.lua"'"'
expect_contains "explain --journeys names another directory" "$("$DRIP" explain o1 --db "$TMP/own.db" --journeys scripts)" \
  "segments none (by scripts/segments.lua)"
printf 'return { big = { did = 3 } }\n' > "$TMP/own/segments.lua"
expect_contains "explain: a segments.lua that does not load is told, not taken for no segments" \
  "$("$DRIP" explain o1 --db "$TMP/own.db")" "segments unknown: $TMP/own/segments.lua:1: segment 'big'"
expect_contains "... by inspect too" "$("$DRIP" inspect o1 --db "$TMP/own.db")" '"segments_error":"'"$TMP/own/segments.lua:1: segment 'big'"

# a trait segment entered by an identify line of a file (read in C, its
# traits decoded there): the journey's ctx.event is that identify, whole
mkdir -p "$TMP/pro"
printf 'return { pro = function(c) return c.plan == "pro" end }\n' > "$TMP/pro/segments.lua"
printf 'return journey { name = "pro", trigger = { segment = "pro" },\n  steps = function(ctx) log("%%s %%s %%s %%s", ctx.event.type, ctx.event.traits.plan, ctx.event.messageId, ctx.contact.name) end }\n' > "$TMP/pro/pro.lua"
printf '%s\n' '{"type":"identify","userId":"p1","traits":{"plan":"free","name":"Ава"},"timestamp":"2026-11-01T00:00:00Z","messageId":"m-1"}' \
  '{"type":"identify","userId":"p1","traits":{"plan":"pro"},"timestamp":"2026-11-01T01:00:00Z","messageId":"m-2"}' > "$TMP/pro.jsonl"
expect_eq "an identify line enters a trait segment, and the journey reads it as ctx.event" \
  '2026-11-01T01:00:00Z enter segment|2026-11-01T01:00:00Z log identify pro m-2 Ава' \
  "$("$DRIP" simulate --journeys "$TMP/pro" --events "$TMP/pro.jsonl" --format jsonl | python3 -c '
import json, sys
print("|".join("%s %s %s" % (r["at"], r["kind"], r.get("event") or r.get("message")) for r in map(json.loads, sys.stdin) if r["kind"] != "exit"))')"

# explain says why a contact never entered: the trigger against what the store knows
left_out=$(python3 -c '
import json, sys
entered = {r["contact"] for r in map(json.loads, open(sys.argv[1])) if r["journey"] == "seasonal_yalda"}
for l in open(sys.argv[2]):
    if "\"locale\":\"fa\"" in l:
        c = json.loads(l)["userId"]
        if c not in entered: print(c); break' "$TMP/out.jsonl" examples/events.jsonl)
story=$("$DRIP" explain "$left_out" seasonal_yalda --db "$TMP/s.db")
expect_contains "never entered: the broadcast's segment, which the contact is in" "$story" \
  "it starts on the schedule \"2026-12-20 10:00\" for the segment persian, which $left_out is in now"
expect_contains "and its place outside the rollout" "$story" "its rollout is 50%, and $left_out's place in it is"
expect_contains "(outside)" "$story" "(outside)"
nurtured=$(grep -o '"userId":"[^"]*","event":"Guide Downloaded"' examples/events.jsonl | sed 's/"userId":"\([^"]*\)".*/\1/' | sort -u)
never=$(grep -o '"userId":"c[0-9]*"' examples/events.jsonl | sed 's/"userId":"\(.*\)"/\1/' | sort -u | grep -vxF "$nurtured" | head -1)
expect_contains "never entered: the trigger event the contact never sent" \
  "$("$DRIP" explain "$never" lead_nurturing --db "$TMP/s.db")" "it starts on the event 'Guide Downloaded', and $never has had none"
printf '{"type":"track","userId":"%s","event":"Guide Downloaded","timestamp":"2026-11-20T10:00:00Z","messageId":"imp-1"}\n' "$never" > "$TMP/imp.jsonl"
"$DRIP" import "$TMP/imp.jsonl" --db "$TMP/s.db" > /dev/null
story=$("$DRIP" explain "$never" lead_nurturing --db "$TMP/s.db")
expect_contains "never entered, though the event is there: how often and when" "$story" \
  "it starts on the event 'Guide Downloaded'; $never has had it 1 time, last at 2026-11-20T10:00:00Z"
expect_contains "and that imported events start nothing" "$story" "events loaded by drip import start no journey"
"$DRIP" explain "$never" nosuch --db "$TMP/s.db" > "$TMP/out" 2> "$TMP/err"; code=$?
expect_eq "a journey the store has never seen is exit 1" 1 $code
expect_eq "... before anything is printed of the contact" "" "$(cat "$TMP/out")"
expect_contains "naming the ones it has" "$(cat "$TMP/err")" "drip explain: no journey named 'nosuch' in this store (journeys: ab_holdout, abandoned_cart,"

# a trigger's where() is tried on the contact's last such event
mkdir -p "$TMP/where"
printf 'return journey { name = "big_spender", trigger = { event = "Order Completed", where = function(e, c) return e.properties.total >= 100 end },\n  steps = function() log "vip" end }\n' > "$TMP/where/big.lua"
printf '{"type":"track","userId":"w1","event":"Order Completed","properties":{"total":50},"timestamp":"2026-11-01T00:00:01Z"}\n{"type":"track","userId":"w2","event":"Order Completed","properties":{},"timestamp":"2026-11-01T00:00:02Z"}\n' > "$TMP/where.jsonl"
"$DRIP" simulate --journeys "$TMP/where" --events "$TMP/where.jsonl" --db "$TMP/where.db" > /dev/null 2>&1
expect_contains "never entered: the where() that said no" "$("$DRIP" explain w1 big_spender --db "$TMP/where.db")" \
  "its trigger's where() is false for the last one, so it did not start"
expect_contains "never entered: the where() that failed, with its error" "$("$DRIP" explain w2 big_spender --db "$TMP/where.db")" \
  "its trigger's where() fails on the last one: $TMP/where/big.lua:1: attempt to compare number with nil"

# trigger events that started no instance, each with why: one still running, reentry, where()
mkdir -p "$TMP/again"
printf 'return journey { name = "r_active", trigger = "Go", steps = function() wait "2h" end }\n' > "$TMP/again/a.lua"
printf 'return journey { name = "r_once", trigger = "Go", reentry = false, steps = function() end }\n' > "$TMP/again/o.lua"
printf 'return journey { name = "r_after", trigger = "Go", reentry = "1h", steps = function() end }\n' > "$TMP/again/f.lua"
printf 'return journey { name = "r_where", trigger = { event = "Go", where = function(e) return e.properties.n ~= 2 end }, reentry = true, steps = function() end }\n' > "$TMP/again/w.lua"
for n in 1 2 3; do
  printf '{"type":"track","userId":"z","event":"Go","properties":{"n":%d},"timestamp":"2026-11-01T%s:00Z"}\n' $n "$(echo "10:00 10:30 13:00" | cut -d' ' -f$n)"
done > "$TMP/again.jsonl"
"$DRIP" simulate --journeys "$TMP/again" --events "$TMP/again.jsonl" --db "$TMP/again.db" > /dev/null 2>&1
expect_contains "a trigger event while an instance still ran" "$("$DRIP" explain z r_active --db "$TMP/again.db")" \
  "Go events that started no r_active instance:
  2026-11-01T10:30:00Z  #1 was still running (entered 2026-11-01T10:00:00Z), and a contact is in one instance at a time (reentry left out)"
expect_eq "... and only those" 2 "$("$DRIP" explain z r_active --db "$TMP/again.db" | grep -c "entered on Go")"
expect_contains "reentry = false" "$("$DRIP" explain z r_once --db "$TMP/again.db")" \
  "2026-11-01T13:00:00Z  #3 entered 2026-11-01T10:00:00Z, and reentry = false lets a contact in once
  2026-11-01T10:30:00Z  #3 entered 2026-11-01T10:00:00Z, and reentry = false lets a contact in once"
expect_contains "reentry after a while" "$("$DRIP" explain z r_after --db "$TMP/again.db")" \
  '2026-11-01T10:30:00Z  #2 entered 2026-11-01T10:00:00Z, and reentry = "1h" lets them in again from 2026-11-01T11:00:00Z'
expect_contains "where() said no" "$("$DRIP" explain z r_where --db "$TMP/again.db")" \
  "2026-11-01T10:30:00Z  its trigger's where() is false for it, so it did not start"
expect_eq "inspect has the same, per journey" \
  "r_active:1 r_after:1 r_once:2 r_where:1 #3 entered 2026-11-01T10:00:00Z, and reentry = false lets a contact in once" \
  "$("$DRIP" inspect z --db "$TMP/again.db" | python3 -c 'import json,sys; u=json.load(sys.stdin)["unstarted"]; print(*["%s:%d" % (k, len(u[k])) for k in sorted(u)], u["r_once"][0]["why"])')"

# an event name spelt differently in the events than in the journey
mkdir -p "$TMP/spelt"
printf 'return journey { name = "cart", trigger = "Cart Updated", goal = "Order Completed", steps = function() wait "1d" end }\n' > "$TMP/spelt/cart.lua"
printf '%s\n' '{"type":"track","userId":"s1","event":"cart_updated","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"track","userId":"s1","event":"cart_updated","timestamp":"2026-11-01T11:00:00Z"}' \
  '{"type":"track","userId":"s2","event":"Cart Upated","timestamp":"2026-11-01T11:00:00Z"}' \
  '{"type":"track","userId":"s3","event":"Order Complete","timestamp":"2026-11-01T12:00:00Z"}' > "$TMP/spelt.jsonl"
"$DRIP" simulate --journeys "$TMP/spelt" --events "$TMP/spelt.jsonl" --db "$TMP/spelt.db" > /dev/null 2> "$TMP/err"
expect_contains "simulate warns of a trigger no event had, naming the lookalike that came" "$(cat "$TMP/err")" \
  "drip simulate: warning: journey 'cart' starts on 'Cart Updated', which no event had; 2 had 'cart_updated' (names must match exactly)"
expect_contains "... and of a goal" "$(cat "$TMP/err")" \
  "drip simulate: warning: journey 'cart' converts on 'Order Completed', which no event had; 1 had 'Order Complete' (names must match exactly)"
printf 'return journey { name = "nudge", trigger = "Go", steps = function() if not happened("order-complete") and not wait_for("Order Complet", "1h") then log "no order" end end }\n' > "$TMP/spelt/nudge.lua"
printf '%s\n' '{"type":"track","userId":"s4","event":"Go","timestamp":"2026-11-01T09:00:00Z"}' >> "$TMP/spelt.jsonl"
"$DRIP" simulate --journeys "$TMP/spelt" --events "$TMP/spelt.jsonl" > /dev/null 2> "$TMP/err"
expect_contains "... and of a wait_for's event, which would time out for everyone" "$(cat "$TMP/err")" \
  "drip simulate: warning: journey 'nudge' waits for 'Order Complet', which no event had; 1 had 'Order Complete' (names must match exactly)"
expect_contains "... and of a happened()'s" "$(cat "$TMP/err")" \
  "drip simulate: warning: journey 'nudge' looks back for 'order-complete', which no event had; 1 had 'Order Complete' (names must match exactly)"
printf 'return { buyers = { did = "Order Completd", times = ">=1" } }\n' > "$TMP/spelt/segments.lua"
"$DRIP" simulate --journeys "$TMP/spelt" --events "$TMP/spelt.jsonl" > /dev/null 2> "$TMP/err"
expect_contains "... and of an event a did segment counts, which no contact would reach" "$(cat "$TMP/err")" \
  "drip simulate: warning: segment 'buyers' counts 'Order Completd', which no event had; 1 had 'Order Complete' (names must match exactly)"
rm "$TMP/spelt/segments.lua"
# a trait read by a journey or a segment that no contact has, while a near one is there
mkdir -p "$TMP/traits"
printf 'return {\n  vip = function(c) return (c.lifetime_valu or 0) >= 500 end,\n  pro = function(c) return c.plan == "pro" end,\n}\n' > "$TMP/traits/segments.lua"
printf 'return journey {\n  name = "t", trigger = "Go",\n  steps = function(ctx)\n    local c = ctx.contact\n    if in_segment("vip") or c.coupon then log "vip" end\n    wait "1h"\n    if ctx.contact.plna == "pro" then log "pro" end\n  end,\n}\n' > "$TMP/traits/t.lua"
printf '%s\n' '{"type":"identify","userId":"t1","traits":{"plan":"pro","lifetime_value":900},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"identify","userId":"t2","traits":{"plan":"free","coupn":"X"},"timestamp":"2026-11-01T09:00:00Z"}' \
  '{"type":"track","userId":"t1","event":"Go","timestamp":"2026-11-01T10:00:00Z"}' \
  '{"type":"track","userId":"t2","event":"Go","timestamp":"2026-11-01T10:00:00Z"}' > "$TMP/traits.jsonl"
"$DRIP" simulate --journeys "$TMP/traits" --events "$TMP/traits.jsonl" > /dev/null 2> "$TMP/err"
expect_eq "simulate names each line that reads a trait no contact has, with the near one a contact had" \
  "drip simulate: warning: $TMP/traits/segments.lua:2: reads the trait 'lifetime_valu', which no contact has (did you mean 'lifetime_value'?)
drip simulate: warning: $TMP/traits/t.lua:5: reads the trait 'coupon', which no contact has (did you mean 'coupn'?)
drip simulate: warning: $TMP/traits/t.lua:7: reads the trait 'plna', which no contact has (did you mean 'plan'?)" \
  "$(grep 'reads the trait' "$TMP/err")"
printf '%s\n' '{"type":"identify","userId":"t3","traits":{"plna":"x","coupon":"Y"},"timestamp":"2026-11-01T11:00:00Z"}' >> "$TMP/traits.jsonl"
"$DRIP" simulate --journeys "$TMP/traits" --events "$TMP/traits.jsonl" > /dev/null 2> "$TMP/err"
expect_eq "... but not a trait some contact has, nor one with nothing near (drip's own, such as timezone, neither)" \
  "drip simulate: warning: $TMP/traits/segments.lua:2: reads the trait 'lifetime_valu', which no contact has (did you mean 'lifetime_value'?)" \
  "$(grep 'reads the trait' "$TMP/err")"
expect_contains "explain names the lookalike a contact had, differing in case and punctuation" \
  "$("$DRIP" explain s1 cart --db "$TMP/spelt.db")" \
  "it starts on the event 'Cart Updated', and s1 has had none (it has had 'cart_updated' 2 times; names must match exactly)"
expect_contains "... or by a typo" "$("$DRIP" explain s2 cart --db "$TMP/spelt.db")" \
  "and s2 has had none (it has had 'Cart Upated' 1 time; names must match exactly)"
expect_eq "... and nothing when there is none" "  it starts on the event 'Cart Updated', and s3 has had none" \
  "$("$DRIP" explain s3 cart --db "$TMP/spelt.db" | tail -n 1)"

# a bad schedule is one clear line naming the file and line
mkdir -p "$TMP/bad"
printf 'return journey {\n  trigger = { schedule = "every full moon" },\n  steps = function() end }\n' >"$TMP/bad/moon.lua"
out=$("$DRIP" check "$TMP/bad" 2>&1); code=$?
expect_eq "check fails on a bad schedule" 1 $code
expect_contains "naming file and line" "$out" "moon.lua:2: trigger.bad schedule \"every full moon\""

# --- drip segments: sizes and reach, against the store's own traits, counted here -------
"$DRIP" segments --db "$TMP/s.db" --journeys scripts --format json > "$TMP/seg.json"; code=$?
expect_eq "drip segments --format json succeeds" 0 "$code"
verdict=$(python3 - "$TMP/s.db" "$TMP/seg.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
doc = json.load(open(sys.argv[2]))
traits = {c: json.loads(t) for c, t in db.execute("SELECT id, traits FROM contacts")}
def fnv1a(s):
    h = 1469598103934665603
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) % 2**64
    return h
ADDRESS = {"email": "email", "sms": "phone", "push": "push_token", "telegram": "telegram_chat_id"}
def flag(t, group, ch):
    g = t.get(group)
    return g.get(ch) if isinstance(g, dict) and ch in g else t.get(group + "." + ch)
def may(t, ch):  # opt-in marketing, as SPEC §4 says
    to = t.get(ADDRESS[ch])
    if to in (None, ""):
        return False
    if flag(t, "bounced", ch) is not None and str(flag(t, "bounced", ch)) == str(to):
        return False
    if t.get("unsubscribed") is True or flag(t, "unsubscribed", ch) in (True, 1, "true", "yes"):
        return False
    return flag(t, "consent", ch) in (True, 1, "true", "yes")
def counted(ids):
    return {"count": len(ids), "reach": {ch: sum(1 for c in ids if may(traits[c], ch)) for ch in ADDRESS}}
problems = []
def check(what, want, got):
    if want != got:
        problems.append(f"{what}: want {want}, got {got}")
check("everyone", counted(list(traits)), doc["contacts"])
segs = {s["name"]: s for s in doc["segments"]}
check("the segments, by name", ["dormant", "persian", "repeat_buyer", "russian", "vip"], sorted(segs))
for name, test in (("persian", lambda t: t.get("locale") == "fa"), ("vip", lambda t: (t.get("lifetime_value") or 0) >= 500)):
    want = counted([c for c, t in traits.items() if test(t)])
    check(name, want, {"count": segs[name]["count"], "reach": segs[name]["reach"]})
    check(name + " share", round(want["count"] / len(traits), 6), round(segs[name]["share"], 6))
fa = [c for c, t in traits.items() if t.get("locale") == "fa"]
yalda = [b for b in doc["broadcasts"] if b["journey"] == "seasonal_yalda"]
inside = counted([c for c in fa if fnv1a(c + "\0seasonal_yalda\0rollout") % 1000000 / 10000 < 50])
check("the broadcast inside its rollout", [dict(inside, rollout=50, segment="persian")],
      [{"count": b["count"], "reach": b["reach"], "rollout": b["rollout"], "segment": b["segment"]} for b in yalda])
check("someone reachable, someone not", True, 0 < doc["contacts"]["reach"]["sms"] < len(traits))
print("\n".join(problems) if problems else "agree")
PY
)
expect_eq "each segment's size, share and reach per channel, and the broadcast's, as the traits say" "agree" "$verdict"
out=$("$DRIP" segments --db "$TMP/s.db" --journeys scripts)
expect_contains "the table: a row per segment" "$out" "  persian   "
expect_contains "... and the broadcast, if it went now" "$out" "  seasonal_yalda  schedule \"2026-12-20 10:00\" for persian, rollout 50%: "
members=$("$DRIP" segments persian --members --db "$TMP/s.db" --journeys scripts)
expect_eq "--members lists the segment's contacts, one per line" \
  "$(python3 -c 'import json; d = json.load(open("'"$TMP/seg.json"'")); print([s["count"] for s in d["segments"] if s["name"] == "persian"][0])')" \
  "$(printf '%s\n' "$members" | grep -c .)"
expect_contains "... a Persian-speaking one among them" "$members" "$fa"
mkdir -p "$TMP/all"
cp scripts/segments.lua "$TMP/all/"
printf 'return journey { name = "to_all", trigger = { schedule = "2027-01-01 10:00" }, steps = function() end }\n' > "$TMP/all/to_all.lua"
expect_eq "a broadcast to everyone, with no rollout, takes in every contact" \
  "  to_all  schedule \"2027-01-01 10:00\" for everyone: $(python3 -c 'import json; print(json.load(open("'"$TMP/seg.json"'"))["contacts"]["count"])') contacts" \
  "$("$DRIP" segments --db "$TMP/s.db" --journeys "$TMP/all" | grep '^  to_all' | cut -d'(' -f1 | sed 's/ $//')"
out=$("$DRIP" segments persan --db "$TMP/s.db" --journeys scripts 2>&1); code=$?
expect_eq "an unknown segment: bad usage, with the near name" \
  "2 drip segments: scripts/segments.lua: no segment named 'persan'; did you mean 'persian'?" "$code $out"
out=$("$DRIP" segments --members --db "$TMP/s.db" 2>&1); code=$?
expect_eq "--members needs one segment" 2 "$code"
finish
