#!/usr/bin/env python3
"""Load for the delivery benchmark: POST /v1/batch at a steady event rate,
each event stamped with the send time (ms) so the sink can measure event in
to webhook delivered. Usage: deliver_load.py URL EVENTS_PER_S SECONDS [BATCH]"""
import http.client
import json
import sys
import threading
import time

url, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 100
host, port = url.split("//")[1].split(":")
interval = batch / rate
threads = 4
sent = [0]


def worker(k):
    conn = http.client.HTTPConnection(host, int(port))
    start = time.time()
    i = k
    while True:
        due = start + i * interval
        now = time.time()
        if due - start > seconds:
            break
        if due > now:
            time.sleep(due - now)
        t = int(time.time() * 1000)
        body = json.dumps({"batch": [{"type": "track", "userId": f"u{k}-{i}-{j}", "event": "Ping",
                                      "properties": {"t": t}} for j in range(batch)]})
        conn.request("POST", "/v1/batch", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status == 200:
            sent[0] += batch
        i += threads


t0 = time.time()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(sent[0], f"{time.time() - t0:.2f}")
