#!/usr/bin/env bash
# End-to-end tests of the pages `drip run` serves under /ui: behind the
# token (asked for as a browser's password), the journeys at a glance, a
# journey's tables with the figures of `drip stats` (in English, Persian or
# Russian), and a contact's story in the very words of `drip explain`, each
# run beside it on the same store.
DRIP=$(realpath "${1:?usage: ui.sh path/to/drip}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/server.sh"
mkdir -p "$TMP/j"
cat > "$TMP/j/hello.lua" <<'LUA'
return journey {
  name = "hello", trigger = "Signed Up", goal = "Order Completed",
  steps = function(ctx)
    email { subject = "سلام {{contact.first_name}}", text = "Hi", html = "<p>Hi {{contact.first_name}}</p>" }
    wait_for("Order Completed", "2d")
  end,
}
LUA
DB="$TMP/live.db"
export DRIP_TOKEN=t0ken
start_drip run --journeys "$TMP/j" --db "$DB" --dry-run
auth=(-u "marketing:t0ken")
post() { curl -s -o /dev/null "${auth[@]}" "$URL$1" -d "$2"; }
post /v1/identify '{"userId":"u1","traits":{"email":"sara@shop.test","first_name":"سارا <b>","consent":{"email":true}}}'
post /v1/track '{"userId":"u1","event":"Signed Up"}'
post /v1/identify '{"userId":"u2","traits":{"email":"ivan@shop.test","first_name":"Иван","consent":{"email":true}}}'
post /v1/track '{"userId":"u2","event":"Signed Up"}'
post /v1/track '{"userId":"u2","event":"Order Completed","properties":{"revenue":40}}'

headers=$(curl -s -D - -o /dev/null "$URL/ui")
expect_contains "without the token: 401" "$headers" "401 Unauthorized"
expect_contains "... asking a browser for it as a password" "$headers" 'WWW-Authenticate: Basic realm="drip'
expect_eq "a wrong password: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -u "marketing:nope" "$URL/ui")"
expect_eq "the token as the password (any user name): 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$URL/ui")"
expect_eq "... and as a bearer token" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer t0ken' "$URL/ui/")"
expect_eq "the API takes basic auth with the token too" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$URL/v1/journeys")"

page=$(curl -s "${auth[@]}" "$URL/ui")
expect_contains "the overview: each journey with its funnel" "$page" \
  '<td><a href="/ui/journeys/hello">hello</a></td><td>Signed Up</td><td class="n">2</td><td class="n">1</td><td class="n">1 (50.0%)</td><td class="n">2</td>'
expect_contains "... and a box to explain a contact" "$page" '<form action="/ui/contacts" method="get">'

# the <pre> of a page, as text
pre() { python3 -c 'import html, re, sys; print(html.unescape(re.search(r"<pre[^>]*>(.*?)</pre>", sys.stdin.read(), re.S).group(1)))'; }
# a journey page's tables against drip stats --format json: the funnel, the
# exits, the steps, the channels and each message (went out, converted after it)
tables_agree() { # QUERY STATS_FLAGS...
  local query=$1
  shift
  python3 - "$("$DRIP" stats hello --db "$DB" --format json "$@")" \
    "$(curl -s "${auth[@]}" "$URL/ui/journeys/hello$query")" <<'PY'
import html, json, re, sys
j = json.loads(sys.argv[1])["journeys"][0]
text = lambda cell: html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
tables = [[[text(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
           for row in re.findall(r"<tr>(.*?)</tr>", t, re.S)] for t in re.findall(r"<table>(.*?)</table>", sys.argv[2], re.S)]
pct = lambda n, of: "%d (%.1f%%)" % (n, 100 * n / of) if of else str(n)
num = lambda x: str(int(x)) if x == int(x) else str(x)
want = [[str(j["entered"]), str(j["active"]), pct(j["converted"], j["entered"]), str(j["failed"]), num(j["revenue"])]]
got = [tables[0][1]]
got += [[row[1] for row in tables[1]]]
want += [[str(n) for _, n in sorted(j["exited"].items())]]
got += [[row[2] for row in tables[2][1:]]]
want += [[str(s["reached"]) for s in j["steps"]]]
got += [[row[1] for row in tables[3][1:]]]
want += [[", ".join("%s %d" % (k, c[k]) for k in ("sent", "simulated", "queued", "deferred", "held", "failed") if c.get(k))
          for _, c in sorted(j["channels"].items())]]
got += [[(row[1], row[2], row[3]) for row in tables[4][1:]]]
want += [[("“%s”" % m["message"], str(m["sent"]), pct(m.get("converted", 0), m["sent"])) for m in j["messages"]]]
print("agree" if got == want else "page %s\nstats %s" % (got, want))
PY
}
expect_eq "a journey's page has the figures drip stats has" agree "$(tables_agree "")"
expect_eq "... and of a period, those of drip stats --since" agree "$(tables_agree "?since=7d" --since 7d)"
page=$(curl -s "${auth[@]}" "$URL/ui/journeys/hello")
expect_contains "... the message that converted, with its revenue" "$page" \
  '<td class="n">1 (50.0%)</td><td class="n">40</td>'
expect_contains "... each exit reason in words, with its code" "$page" '<td>reached the goal <code>goal</code></td>'
page=$(curl -s "${auth[@]}" "$URL/ui/journeys/hello?lang=ru")
expect_contains "... and in Russian" "$page" '<th>конверсии после него</th>'
expect_contains "..." "$page" '<td>достигли цели <code>goal</code></td>' 
out=$(curl -s "${auth[@]}" "$URL/ui/contacts?id=sara%40shop.test")
expect_eq "a contact's page (found by email) says what drip explain says" \
  "$("$DRIP" explain u1 --db "$DB" --journeys "$TMP/j")" "$(printf '%s' "$out" | pre)"
expect_contains "... its Persian name whole, and what could be markup escaped" "$out" "سارا &lt;b&gt;"
expect_eq "... and never as markup" 0 "$(printf '%s' "$out" | grep -c 'سارا <b>')"
expect_eq "one journey of a contact, as drip explain CONTACT JOURNEY" \
  "$("$DRIP" explain u2 hello --db "$DB" --journeys "$TMP/j")" \
  "$(curl -s "${auth[@]}" "$URL/ui/contacts?id=u2&journey=hello" | pre)"

out=$(curl -s "${auth[@]}" "$URL/ui/journeys/hello/preview?contact=u1&then=Order+Completed+%2B1h")
expect_contains "a journey's preview: each message with when and where" "$out" "<li><b>+0</b> email to sara@shop.test"
expect_contains "... its fields, the stored contact's name escaped" "$out" "<dt>subject</dt><dd><pre>سلام سارا &lt;b&gt;</pre></dd>"
expect_contains "... the HTML as it renders, in a frame that runs no script" "$out" \
  '<iframe sandbox srcdoc="&lt;p&gt;Hi سارا &amp;lt;b&amp;gt;&lt;/p&gt;"'
expect_contains "... then the events given, and the end" "$out" "<li><b>+1h</b> ← Order Completed</li>"
expect_contains "..." "$out" "<li><b>+1h</b> converted</li>"
expect_contains "a preview for a contact not stored: 404 saying so" \
  "$(curl -s -w ' %{http_code}' "${auth[@]}" "$URL/ui/journeys/hello/preview?contact=ghost")" \
  "contact &#39;ghost&#39; not found</p></body></html> 404"
page=$(curl -s "${auth[@]}" "$URL/ui/journeys/hello")
expect_contains "a journey's page offers its records as CSV" "$page" '<a href="/ui/journeys/hello/records.csv">Its records</a>'
expect_contains "... and shows its script, numbered, escaped, to read beside its figures" "$page" \
  '  4      email { subject = &quot;سلام {{contact.first_name}}&quot;, text = &quot;Hi&quot;, html = &quot;&lt;p&gt;Hi'
expect_contains "..." "$page" "$TMP/j/hello.lua, version "
curl -s -D "$TMP/csv.headers" "${auth[@]}" "$URL/ui/journeys/hello/records.csv" > "$TMP/hello.csv"
expect_contains "... served as CSV" "$(cat "$TMP/csv.headers")" "Content-Type: text/csv; charset=utf-8"
expect_eq "... what drip records --journey --format csv prints" \
  "$("$DRIP" records --db "$DB" --journey hello --format csv | md5sum)" "$(md5sum < "$TMP/hello.csv")"
expect_eq "... a row for each record, a subject in Persian whole" "$("$DRIP" records --db "$DB" --journey hello | wc -l) سلام سارا <b>" \
  "$(python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")))
print(len(rows), [r["message"] for r in rows if r["kind"] == "send" and r["contact"] == "u1"][0])' "$TMP/hello.csv")"
page=$(curl -s "${auth[@]}" "$URL/ui?lang=fa")
expect_contains "?lang=fa: the page in Persian, right to left" "$page" '<html lang="fa" dir="rtl">'
expect_contains "..." "$page" '<th>سفر</th><th>شروع با</th><th>ورود</th>'
expect_contains "... and its links keep Persian" "$page" '<a href="/ui/journeys/hello?lang=fa">hello</a>'
expect_contains "... and its search too" "$page" '<input type="hidden" name="lang" value="fa">'
expect_contains "... a link to the same page in each language" "$page" '<a href="/ui?lang=ru" lang="ru">Русский</a>'
page=$(curl -s "${auth[@]}" "$URL/ui/journeys/hello?lang=fa")
expect_contains "... a journey's tables in Persian" "$page" '<th>تبدیل پس از آن</th>'
expect_contains "... its script left to right still" "$page" '</p><pre dir="ltr">  1  return journey {'
page=$(curl -s "${auth[@]}" "$URL/ui/contacts?id=u1&lang=ru")
expect_contains "... which keeps what the page shows" "$page" '<a href="/ui/contacts?id=u1&amp;lang=fa" lang="fa">فارسی</a>'
expect_contains "... and follows the choice" "$page" '<html lang="ru"><head>'
expect_eq "... and tells the story in Russian, as drip explain --lang ru" \
  "$("$DRIP" explain u1 --lang ru --db "$DB" --journeys "$TMP/j")" "$(printf '%s' "$page" | pre)"
expect_contains "..." "$page" "вошёл по Signed Up"
page=$(curl -s "${auth[@]}" "$URL/ui/contacts?id=u2&journey=hello&lang=fa")
expect_eq "... or in Persian, as drip explain --lang fa" \
  "$("$DRIP" explain u2 hello --lang fa --db "$DB" --journeys "$TMP/j")" "$(printf '%s' "$page" | pre)"
expect_contains "..." "$page" "ورود با Signed Up"
expect_contains "... the exit's reason in words too" "$page" "خروج: هدف"
page=$(curl -s -H 'Accept-Language: ru-RU,ru;q=0.9,en;q=0.5' "${auth[@]}" "$URL/ui/contacts")
expect_eq "a language the browser asks for is not written into the links" 0 "$(grep -c 'lang=ru"' <<< "$page")"
expect_contains "a browser that asks for Russian gets Russian" "$page" '<html lang="ru"><head>'
expect_contains "..." "$page" 'Почему контакт получил (или не получил) сообщение?'
out=$(curl -s -w ' %{http_code}' "${auth[@]}" "$URL/ui/contacts?id=nobody")
expect_contains "an unknown contact: 404, saying so" "$out" "no contact &#39;nobody&#39;"
expect_contains "..." "$out" " 404"
expect_contains "... in the page's language" "$(curl -s "${auth[@]}" "$URL/ui/contacts?id=U1&lang=fa")" \
  "مخاطب &#39;U1&#39; نیست؛ منظورتان &#39;u1&#39; بود؟"
expect_contains "an unknown journey: 404" "$(curl -s -w ' %{http_code}' "${auth[@]}" "$URL/ui/journeys/nope")" \
  "No journey named nope in this store."
expect_contains "a period that is not one: 400 naming it" \
  "$(curl -s -w ' %{http_code}' "${auth[@]}" "$URL/ui/journeys/hello?since=soon")" "since: "
expect_eq "the pages change nothing: POST is refused" 405 \
  "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X POST "$URL/ui")"
expect_eq "HEAD is answered wherever GET is, with the headers and no body" "200 text/html; charset=utf-8 0" \
  "$(curl -s -I -o /dev/null -w '%{http_code} %{content_type} %{size_download}' "${auth[@]}" "$URL/ui")"
expect_eq "... /healthz too" 200 "$(curl -s -I -o /dev/null -w '%{http_code}' "$URL/healthz")"
stop_drip
finish
