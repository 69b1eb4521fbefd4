#!/usr/bin/env python3
"""Loopback stand-ins for the providers drip delivers to, for the tests.

One asyncio process runs:
  * an SMTP server (EHLO, STARTTLS when given a certificate, MAIL, RCPT,
    DATA, RSET, NOOP, QUIT); a recipient "fail550@..." is refused for good,
    "block550@..." too, but as a blocklisted sender (5.7.1), not a bad mailbox;
    "fail451@..." is refused once and then accepted;
  * an HTTP/1.1 server with keep-alive for the SMS, push, Telegram and
    webhook stubs. The first path segment picks a behaviour, applied to the
    first attempt of each Idempotency-Key (later attempts succeed):
      /ok/...        200
      /500/...       500 once
      /429/...       429 with Retry-After: 1 once
      /slow/...      answer after 3 s once (drip's timeout is shorter)
      /drop/...      close the connection without an answer once
      /400/...       400 every time (a permanent failure)
      /stop/...      400 every time with Twilio's 21610 (the number replied STOP)
      /delay50/...   200 after 50 ms, every time (latency of a real provider)
Webhook bodies are checked against X-Drip-Signature with --secret.

Every SMTP message and HTTP request received is appended as one JSON line
to --out (written as it arrives, so a test can read it while this runs).
Usage: sinks.py --smtp PORT --http PORT --out FILE [--secret S] [--cert C --key K]
"""
import argparse
import asyncio
import hashlib
import hmac
import json
import ssl
import sys
import time

args = None
out = None
attempts = {}


def record(obj):
    obj["at"] = time.time()
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


# SMTP -------------------------------------------------------------------------------

async def smtp_session(reader, writer):
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    started_tls = False
    mail_from, rcpt = None, []

    async def say(line):
        writer.write((line + "\r\n").encode())
        await writer.drain()

    await say("220 sink ESMTP")
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = line.decode("utf-8", "replace").rstrip("\r\n")
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            ext = ["sink", "8BITMIME", "SIZE 10485760"]
            if tls and not started_tls:
                ext.append("STARTTLS")
            for i, e in enumerate(ext):
                await say(("250 " if i == len(ext) - 1 else "250-") + e)
        elif verb == "STARTTLS" and tls and not started_tls:
            await say("220 go ahead")
            await writer.start_tls(tls)
            started_tls = True
        elif verb == "MAIL":
            mail_from, rcpt = cmd[10:].strip().strip("<>").split(">")[0], []
            await say("250 ok")
        elif verb == "RCPT":
            to = cmd[8:].strip().strip("<>").split(">")[0]
            key = "rcpt:" + to
            attempts[key] = attempts.get(key, 0) + 1
            if to.startswith("fail550@"):
                await say("550 5.1.1 no such user")
            elif to.startswith("block550@"):
                await say("550 5.7.1 Service unavailable; client host blocked using a blocklist")
            elif to.startswith("fail451@") and attempts[key] == 1:
                await say("451 try again later")
            else:
                rcpt.append(to)
                await say("250 ok")
        elif verb == "DATA":
            await say("354 end with .")
            lines = []
            while True:
                l = await reader.readline()
                if not l or l == b".\r\n":
                    break
                lines.append(l[1:] if l.startswith(b"..") else l)
            data = b"".join(lines).decode("utf-8", "replace")
            record({"kind": "smtp", "from": mail_from, "to": rcpt, "tls": started_tls, "data": data})
            await say("250 queued")
        elif verb in ("RSET", "NOOP"):
            await say("250 ok")
        elif verb == "QUIT":
            await say("221 bye")
            break
        else:
            await say("502 not implemented")
    writer.close()


# HTTP -------------------------------------------------------------------------------

async def respond(writer, status, body=b"{}", extra=""):
    reason = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error"}[status]
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n")
    writer.write(head.encode() + body)
    await writer.drain()


async def http_session(reader, writer):
    try:
        while True:
            request_line = await reader.readline()
            if not request_line:
                break
            method, path, _ = request_line.decode().split(" ", 2)
            headers = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, v = h.decode("utf-8", "replace").split(":", 1)
                headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if not await handle(writer, method, path, headers, body):
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    writer.close()


async def handle(writer, method, path, headers, body):
    mode = path.split("/")[1] if path.count("/") >= 1 else "ok"
    key = headers.get("idempotency-key", "")
    attempts[key] = attempts.get(key, 0) + 1
    first = attempts[key] == 1
    text = body.decode("utf-8", "replace")
    rec = {"kind": "http", "method": method, "path": path, "headers": headers, "body": text,
           "attempt": attempts[key]}
    if "x-drip-signature" in headers:
        mac = hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest()
        rec["signature_ok"] = headers["x-drip-signature"] == "sha256=" + mac
    if mode == "drop" and first:
        rec["answer"] = "dropped"
        record(rec)
        return False
    if mode == "slow" and first:
        await asyncio.sleep(3)
    if mode == "delay50":
        await asyncio.sleep(0.05)
    status, extra = 200, ""
    if mode == "500" and first:
        status = 500
    elif mode == "429" and first:
        status, extra = 429, "Retry-After: 1\r\n"
    elif mode in ("400", "stop"):
        status = 400
    rec["answer"] = status
    record(rec)
    answer = b'{"ok":true}' if status == 200 else b'{"error":"on purpose"}'
    if mode == "stop":  # Twilio's answer for a number that replied STOP
        answer = b'{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}'
    await respond(writer, status, answer, extra)
    return True


async def main():
    global args, out
    p = argparse.ArgumentParser()
    p.add_argument("--smtp", type=int, required=True)
    p.add_argument("--http", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--secret", default="")
    p.add_argument("--cert")
    p.add_argument("--key")
    args = p.parse_args()
    out = open(args.out, "a", encoding="utf-8")
    s1 = await asyncio.start_server(smtp_session, "127.0.0.1", args.smtp)
    s2 = await asyncio.start_server(http_session, "127.0.0.1", args.http, backlog=1024)
    print("ready", flush=True)
    async with s1, s2:
        await asyncio.gather(s1.serve_forever(), s2.serve_forever())


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
