# Whether `drip stats --format json` (argv[2]) counts the messages of the
# store argv[1] as its outbox holds them: per journey, channel and outcome.
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
want = {}
for journey, channel, status, reason, n in db.execute(
        "SELECT i.journey, o.channel, o.status, coalesce(o.reason, ''), count(*) FROM outbox o "
        "JOIN instances i ON i.id = o.instance GROUP BY 1, 2, 3, 4"):
    key = (journey, channel, "suppressed:" + reason if status == "suppressed" else
           "queued" if status == "sending" else status)
    want[key] = want.get(key, 0) + n
got = {}
for j in json.loads(sys.argv[2])["journeys"]:
    for channel, c in j["channels"].items():
        for status, n in c.items():
            if status == "suppressed":
                for reason, m in n.items():
                    got[(j["journey"], channel, "suppressed:" + reason)] = m
            elif n:
                got[(j["journey"], channel, status)] = n
print("same" if got == want else f"stats {sorted(got.items())} outbox {sorted(want.items())}")
