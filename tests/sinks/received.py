#!/usr/bin/env python3
"""Answer a question about what the sinks received (see sinks.py).

Usage: received.py FILE 'EXPRESSION'
The expression is Python over these helpers; its value is printed (str, or
JSON for lists and dicts):
  mails()        every SMTP message as {to, tls, subject, headers, text, html}
  mail(to)       the last message to that address
  http(part)     every HTTP request whose path contains `part`
  keys(part)     {Idempotency-Key: times received} for those requests
  form(part)     the form fields of those requests (an SMS provider's), one dict each
"""
import email
import email.policy
import json
import sys
import urllib.parse

recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]


def mails():
    out = []
    for r in recs:
        if r["kind"] != "smtp":
            continue
        m = email.message_from_string(r["data"], policy=email.policy.default)
        text = m.get_body(("plain",))
        html = m.get_body(("html",))
        out.append({"to": r["to"], "tls": r["tls"], "subject": str(m["subject"]), "raw": r["data"],
                    "headers": {k: str(v) for k, v in m.items()},
                    "text": text.get_content() if text else None, "html": html.get_content() if html else None})
    return out


def mail(to):
    found = [m for m in mails() if to in m["to"]]
    return found[-1] if found else None


def http(part):
    return [r for r in recs if r["kind"] == "http" and part in r["path"]]


def keys(part):
    counts = {}
    for r in http(part):
        k = r["headers"].get("idempotency-key")
        counts[k] = counts.get(k, 0) + 1
    return counts


def form(part):
    return [{k: v[0] for k, v in urllib.parse.parse_qs(r["body"]).items()} for r in http(part)]


value = eval(sys.argv[2])
print(json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, (list, dict)) else value)
