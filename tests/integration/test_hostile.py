"""test_hostile.py - issue 5: bad requests at the running daemon.

A table of hostile requests (malformed and truncated JSON, invalid UTF-8, NUL
bytes, huge bodies and headers, wrong content types, bad and replayed
signatures for Zalo, Twilio and Kannel, missing fields, out-of-range numbers,
path traversal): each must get the expected status, store nothing (row counts
before and after), and leave the daemon serving.  Then SQL and script
injection in every text field: accepted, stored byte for byte, returned
verbatim by the API, never executed (the tables are all still there).
HOTLINE_BIN runs another build (e.g. build/asan/hotline from sanitize.sh; read by harness.py).
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Checks, Daemon  # noqa: E402


T = Checks("hostile")
APP_ID, OA_SECRET = "2553928453557884079", "hostile-oa-secret"
TW_SID, TW_TOKEN = "AC" + "0" * 32, "hostile-twilio-token"
KTOKEN = "hostile-kannel-token"
PUBLIC = "https://hotline.example.vn"
MAX_BODY = 16384

d = Daemon({
    "public_url": PUBLIC,
    "http": {"max_body": MAX_BODY, "max_headers": 8192},
    "limits": {"auto_replies": 1000},
    "channels": {
        "zalo": {"app_id": APP_ID, "oa_secret": OA_SECRET, "app_secret": "a",
                 "refresh_token": "r", "api_base": "http://127.0.0.1:9",
                 "oauth_base": "http://127.0.0.1:9"},
        "twilio": {"account_sid": TW_SID, "auth_token": TW_TOKEN, "from": "+15005550006",
                   "api_base": "http://127.0.0.1:9"},
        "kannel": {"sendsms_url": "http://127.0.0.1:9/cgi-bin/sendsms", "username": "u",
                   "password": "p", "webhook_token": KTOKEN},
        "esms": {"api_key": "k", "secret_key": "s", "brandname": "HOTLINE",
                 "api_base": "http://127.0.0.1:9"}},
})

TABLES = ["contacts", "messages", "outbox", "cases", "entries", "variants", "keywords", "users",
          "proposals"]


def counts():
    return {t: d.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in TABLES}


def zalo_body(text="xin chào", msg_id="z1", sender="6142494823000000000", event="user_send_text",
              extra=None):
    j = {"event_name": event, "app_id": APP_ID, "sender": {"id": sender},
         "recipient": {"id": "3662729599332560487"},
         "message": {"text": text, "msg_id": msg_id}, "timestamp": str(int(time.time() * 1000))}
    j.update(extra or {})
    return json.dumps(j, ensure_ascii=False).encode("utf-8")


def zalo_sig(body, app_id=APP_ID, ts=None):
    try:
        j = json.loads(body)
        app_id, ts = j.get("app_id", app_id), j.get("timestamp", ts)
    except Exception:
        pass
    raw = app_id.encode() + body + str(ts or "").encode() + OA_SECRET.encode()
    return "mac=" + hashlib.sha256(raw).hexdigest()


def zalo(body, sig=None, ctype="application/json"):
    h = {"Content-Type": ctype}
    if sig is not False:
        h["X-ZEvent-Signature"] = sig or zalo_sig(body)
    return ("POST", "/webhook/zalo", body, h)


def twilio_sig(params, url=PUBLIC + "/webhook/twilio"):
    s = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(TW_TOKEN.encode(), s.encode(), hashlib.sha1).digest()).decode()


def twilio(params, sig=None):
    body = urllib.parse.urlencode(params).encode()
    return ("POST", "/webhook/twilio", body,
            {"Content-Type": "application/x-www-form-urlencoded",
             "X-Twilio-Signature": sig if sig is not None else twilio_sig(params)})


def kannel(params):
    return ("GET", "/webhook/kannel?" + urllib.parse.urlencode(params), None, {})


def raw_request(data, timeout=5):
    """Sends raw bytes; the status code, or None when the daemon hung up."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.") else None
    except (OSError, ValueError, IndexError):
        return None
    finally:
        s.close()


def api(method, path, body=None, ctype=None, raw=None):
    h = {"X-CSRF-Token": CSRF} if method in ("POST", "PUT", "DELETE") else {}
    if raw is not None:
        h["Content-Type"] = ctype or "application/json"
        return d.request(method, path, body=raw, headers=h)
    return d.request(method, path, json_body=body, headers=h)


TW_OK = {"MessageSid": "SM" + "1" * 32, "AccountSid": TW_SID, "From": "+84901234567",
         "To": "+15005550006", "Body": "xin chào", "NumMedia": "0"}

try:
    d.start()
    p = d.cli("user", "add", "boss", "--role", "admin", stdin="correct horse battery staple\n")
    T.check("admin user created", p.returncode == 0, p.stderr)
    r = d.request("POST", "/api/login", json_body={"username": "boss",
                                                      "password": "correct horse battery staple"})
    CSRF = (r.json() or {}).get("csrf")
    T.check("admin logged in", r.status == 200 and CSRF, r)

    # A few real messages first, so that replays have something to repeat.
    good_zalo = zalo_body("tiêm vắc xin ở đâu", msg_id="orig-1")
    r = d.request("POST", "/webhook/zalo", body=good_zalo, headers=zalo(good_zalo)[3])
    T.check("a valid signed Zalo webhook is accepted", r.status == 200, r)
    r = d.request("POST", "/webhook/twilio", body=twilio(TW_OK)[2], headers=twilio(TW_OK)[3])
    T.check("a valid signed Twilio webhook is accepted", r.status == 200, r)
    r = d.request("GET", kannel({"token": KTOKEN, "from": "84900000001", "text": "hi", "id": "k1"})[1])
    T.check("a valid Kannel webhook is accepted", r.status == 200, r)
    d.wait_for(lambda: d.query("SELECT count(*) AS n FROM messages WHERE status = 'received'")[0]["n"] == 0)

    bad_utf8 = b'{"event_name":"user_send_text","app_id":"' + APP_ID.encode() + \
        b'","sender":{"id":"61"},"message":{"text":"\xff\xfe\xc3(","msg_id":"u8"},"timestamp":"1"}'
    nul_body = b'{"event_name":"user_send_text","app_id":"' + APP_ID.encode() + \
        b'","sender":{"id":"61"},"message":{"text":"a\x00b","msg_id":"nul"},"timestamp":"1"}'
    tampered = zalo_body("tiêm vắc xin ở đâu", msg_id="orig-1").replace(b"orig-1", b"orig-2")
    huge = zalo_body("a" * (MAX_BODY + 10), msg_id="huge")

    # (name, (method, path, body, headers), acceptable statuses)
    cases = [
        ("zalo: malformed JSON", zalo(b'{"event_name": user_send_text'), {400}),
        ("zalo: truncated JSON", zalo(good_zalo[:40]), {400}),
        ("zalo: JSON array, not an object", zalo(b'[1,2,3]'), {400}),
        ("zalo: empty body", zalo(b""), {400, 401}),
        ("zalo: missing signature", zalo(good_zalo, sig=False), {401}),
        ("zalo: wrong signature", zalo(good_zalo, sig="mac=" + "0" * 64), {401}),
        ("zalo: signature of another body (tampered msg_id)", zalo(tampered, sig=zalo_sig(good_zalo)), {401}),
        ("zalo: signature with the wrong secret", zalo(good_zalo, sig="mac=" + hashlib.sha256(
            APP_ID.encode() + good_zalo + b"0" + b"other").hexdigest()), {401}),
        ("zalo: signed for another app", zalo(zalo_body(extra={"app_id": "1"})), {401}),
        ("zalo: missing sender.id", zalo(zalo_body(extra={"sender": {}})), {400}),
        ("zalo: text not a string", zalo(zalo_body(extra={"message": {"text": 5, "msg_id": "x"}})), {400}),
        ("zalo: invalid UTF-8 in the text", zalo(bad_utf8, sig=zalo_sig(bad_utf8, ts="1")), {400}),
        ("zalo: NUL byte in the body", zalo(nul_body, sig=zalo_sig(nul_body, ts="1")), {400}),
        ("zalo: escaped NUL in the text", zalo(zalo_body("a\u0000b", msg_id="enul")), {400}),
        ("zalo: body over http.max_body", zalo(huge), {413}),
        ("zalo: GET instead of POST", ("GET", "/webhook/zalo", None, {}), {405}),
        ("twilio: missing signature", twilio(TW_OK, sig=""), {401, 403}),
        ("twilio: wrong signature", twilio(TW_OK, sig="AAAA" * 7), {401, 403}),
        ("twilio: signature of other parameters",
         ("POST", "/webhook/twilio", urllib.parse.urlencode(dict(TW_OK, Body="đổi nội dung")).encode(),
          {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": twilio_sig(TW_OK)}),
         {401, 403}),
        ("twilio: signed for another URL",
         twilio(TW_OK, sig=twilio_sig(TW_OK, "https://evil.example/webhook/twilio")), {401, 403}),
        ("twilio: missing From", twilio({k: v for k, v in TW_OK.items() if k != "From"}), {400}),
        ("kannel: no token", kannel({"from": "849", "text": "x", "id": "k2"}), {401}),
        ("kannel: wrong token", kannel({"token": "guess", "from": "849", "text": "x", "id": "k3"}), {401}),
        ("kannel: token as a prefix", kannel({"token": KTOKEN[:-1], "from": "849", "text": "x"}), {401}),
        ("kannel: missing from", kannel({"token": KTOKEN, "text": "x", "id": "k4"}), {400}),
        ("kannel dlr: negative id", ("GET", "/webhook/kannel/dlr?" + urllib.parse.urlencode(
            {"token": KTOKEN, "id": "-5", "type": "1"}), None, {}), {400}),
        ("kannel dlr: id beyond 64 bits", ("GET", "/webhook/kannel/dlr?" + urllib.parse.urlencode(
            {"token": KTOKEN, "id": "99999999999999999999999", "type": "1"}), None, {}),
         {200, 400}),   # 200: an unknown id is acknowledged and ignored
        ("esms dlr: no fields", ("GET", "/webhook/esms/dlr", None, {}), {400}),
        ("chat: truncated JSON", ("POST", "/chat/send", b'{"text": "ab', {"Content-Type": "application/json"}), {400}),
        ("chat: wrong content type", ("POST", "/chat/send", b'text=hi', {"Content-Type": "application/x-www-form-urlencoded"}), {415}),
        ("chat: text not a string", ("POST", "/chat/send", b'{"text": ["x"]}', {"Content-Type": "application/json"}), {400}),
        ("chat: missing text", ("POST", "/chat/send", b'{}', {"Content-Type": "application/json"}), {400}),
        ("chat: invalid UTF-8", ("POST", "/chat/send", b'{"text": "\xc3\x28"}', {"Content-Type": "application/json"}), {400}),
        ("chat: escaped NUL", ("POST", "/chat/send", b'{"text": "a\\u0000b"}', {"Content-Type": "application/json"}), {400}),
        ("chat: huge body", ("POST", "/chat/send", b'{"text": "' + b"x" * (MAX_BODY * 2) + b'"}', {"Content-Type": "application/json"}), {413}),
        ("chat: poll after=-1", ("GET", "/chat/poll?after=-1", None, {}), {400}),
        ("chat: poll after beyond 64 bits", ("GET", "/chat/poll?after=99999999999999999999999", None, {}), {400}),
        ("chat: poll after=abc", ("GET", "/chat/poll?after=abc", None, {}), {400}),
        ("static: /console/../../etc/passwd", ("GET", "/console/../../etc/passwd", None, {}), {400, 404}),
        ("static: %2e%2e", ("GET", "/console/%2e%2e/%2e%2e/etc/passwd", None, {}), {400, 404}),
        ("static: encoded slashes", ("GET", "/console/..%2f..%2fbot%2fmain.c", None, {}), {400, 404}),
        ("static: backslashes", ("GET", "/console/..%5c..%5cbot%5cmain.c", None, {}), {400, 404}),
        ("static: NUL in the path", ("GET", "/console/index.html%00.js", None, {}), {400, 404}),
        ("static: hidden file", ("GET", "/console/.git/config", None, {}), {400, 404}),
        ("static: chat page traversal", ("GET", "/chat/../../bot/main.c", None, {}), {400, 404}),
        ("static: absolute path", ("GET", "/console//etc/passwd", None, {}), {400, 404}),
        ("unknown method", ("PATCH", "/healthz", None, {}), {400, 405, 501}),
    ]
    for name, (method, path, body, headers), ok in cases:
        before = counts()
        try:
            r = d.request(method, path, body=body, headers=headers, cookies=False)
            status, text = r.status, r.body
        except OSError as e:
            status, text = None, repr(e).encode()
        after = counts()
        T.check(f"{name}: {sorted(ok)}", status in ok, f"got {status} {text[:120]!r}")
        T.check(f"{name}: nothing stored", before == after,
                {k: (before[k], after[k]) for k in before if before[k] != after[k]})
        if name.startswith("static"):
            T.check(f"{name}: no file content leaks",
                    b"root:" not in text and b"#include" not in text and b"[core]" not in text)
    T.check("daemon still serving after the table", d.request("GET", "/healthz").status == 200)

    # Raw protocol abuse.
    before = counts()
    st = raw_request(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    T.check("huge header block refused (4xx or hang-up)", st is None or 400 <= st < 500, st)
    st = raw_request(b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(3000)) + b"\r\n")
    T.check("thousands of headers refused", st is None or 400 <= st < 500, st)
    st = raw_request(b"POST /chat/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: -5\r\n\r\n{}")
    T.check("negative Content-Length refused", st is None or 400 <= st < 500, st)
    st = raw_request(b"POST /chat/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 99999999999999999999\r\n\r\n{}")
    T.check("absurd Content-Length refused", st is None or 400 <= st < 500, st)
    st = raw_request(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200))
    T.check("TLS handshake on the plain port refused", st is None or 400 <= st < 500, st)
    st = raw_request(b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    T.check("a 70 kB request line refused", st is None or 400 <= st < 500, st)
    T.check("raw abuse stored nothing", counts() == before)
    T.check("daemon still serving after raw abuse", d.request("GET", "/healthz").status == 200)

    # Replays: a signed webhook sent again is acknowledged (the provider must
    # stop retrying) but stored once.
    before = counts()
    for _ in range(3):
        r = d.request("POST", "/webhook/zalo", body=good_zalo, headers=zalo(good_zalo)[3])
        T.check("zalo replay acknowledged", r.status == 200, r)
        r = d.request("POST", "/webhook/twilio", body=twilio(TW_OK)[2], headers=twilio(TW_OK)[3])
        T.check("twilio replay acknowledged", r.status == 200, r)
    time.sleep(0.3)
    after = counts()
    T.check("replays stored nothing new", before["messages"] == after["messages"] and
            before["outbox"] == after["outbox"], (before, after))

    # Numbers in the API.
    for path, ok in [("/api/stats?days=-1", {400}), ("/api/stats?days=100000000000", {400}),
                     ("/api/stats?days=abc", {400}), ("/api/audit?limit=-5", {400}),
                     ("/api/audit?limit=1e30", {400}), ("/api/audit?before=-1", {400}),
                     ("/api/cases/-1", {400, 404}), ("/api/cases/99999999999999999999", {400, 404}),
                     ("/api/cases/1abc", {400, 404}), ("/api/entries/..%2f..%2fetc", {400, 404}),
                     ("/api/cases?status=%27%20OR%201=1--", {400})]:
        r = api("GET", path)
        T.check(f"api {path}: {sorted(ok)}", r.status in ok, r)

    # ---- injection: stored and returned verbatim, never executed --------------
    payloads = [
        "'; DROP TABLE messages; --",
        "\" OR 1=1; DELETE FROM contacts WHERE '1'='1",
        "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
        "Robert'); DROP TABLE entries;-- và <b>đậm</b> {{7*7}} ${7*7} %s%n%x \\x00",
        "🙂 ​‮ RTL ‬ \u2028 line sep",
    ]
    for i, pl in enumerate(payloads):
        # Zalo text (sender id too: it is a string)
        sender = f"6142494823{i:09d}"
        b = zalo_body(pl, msg_id=f"inj-z{i}", sender=sender)
        r = d.request("POST", "/webhook/zalo", body=b, headers=zalo(b)[3])
        T.check(f"injection {i}: zalo webhook accepted", r.status == 200, r)
        rows = d.wait_for(lambda: d.query("SELECT text FROM messages WHERE provider_id = ?", f"inj-z{i}"))
        T.check(f"injection {i}: zalo text stored byte for byte", rows and rows[0]["text"] == pl, rows)
        # ... and returned verbatim to staff in its case (a payload never matches an answer).
        case = d.wait_for(lambda: d.query("SELECT case_id FROM messages WHERE provider_id = ? "
                                          "AND case_id IS NOT NULL", f"inj-z{i}"))
        texts = []
        if case:
            r = api("GET", f"/api/cases/{case[0]['case_id']}")
            texts = [m.get("text") for m in (r.json() or {}).get("messages", [])]
        T.check(f"injection {i}: zalo text returned verbatim in its case by the API", pl in texts,
                (case, texts[:3]))
        # Web chat text.
        r = d.request("POST", "/chat/send", json_body={"text": pl}, cookies=False)
        T.check(f"injection {i}: web chat message accepted", r.status == 200, r)
        rows = d.query("SELECT text FROM messages WHERE channel = 'web' AND direction = 'in' "
                       "ORDER BY id DESC LIMIT 1")
        T.check(f"injection {i}: web chat text stored byte for byte", rows and rows[0]["text"] == pl, rows)
        # Kannel text and sender
        r = d.request("GET", kannel({"token": KTOKEN, "from": pl[:60], "text": pl, "id": f"inj-k{i}"})[1])
        T.check(f"injection {i}: kannel webhook accepted", r.status == 200, r)
        rows = d.wait_for(lambda: d.query(
            "SELECT m.text, c.address FROM messages m JOIN contacts c ON c.id = m.contact_id "
            "WHERE m.provider_id = ?", f"inj-k{i}"))
        T.check(f"injection {i}: kannel text and sender stored byte for byte",
                rows and rows[0]["text"] == pl and rows[0]["address"] == pl[:60], rows)
        # Twilio body
        params = dict(TW_OK, MessageSid=f"SMinj{i:028d}", Body=pl, From=f"+8490{i:07d}")
        r = d.request("POST", "/webhook/twilio", body=twilio(params)[2], headers=twilio(params)[3])
        T.check(f"injection {i}: twilio webhook accepted", r.status == 200, r)
        rows = d.wait_for(lambda: d.query("SELECT text FROM messages WHERE provider_id = ?", f"SMinj{i:028d}"))
        T.check(f"injection {i}: twilio body stored byte for byte", rows and rows[0]["text"] == pl, rows)
    # Knowledge entries last: once they exist, later payloads would match them.
    for i, pl in enumerate(payloads):
        entry = {"id": f"inj-{i}", "question": pl + " câu hỏi", "answer": pl, "answer_sms": pl[:100],
                 "topic": pl[:40], "variants": [pl], "keywords": [{"term": "tiêm", "weight": 1}]}
        r = api("POST", "/api/entries", entry)
        T.check(f"injection {i}: entry created", r.status == 201, r)
        r = api("GET", f"/api/entries/inj-{i}")
        e = (r.json() or {}).get("entry", r.json() or {})
        T.check(f"injection {i}: entry returned verbatim by the API",
                e.get("question") == pl + " câu hỏi" and e.get("answer") == pl and
                e.get("variants") == [pl], e)
        rows = d.query("SELECT question, answer FROM entries WHERE id = ?", f"inj-{i}")
        T.check(f"injection {i}: entry stored byte for byte",
                rows and rows[0]["answer"] == pl and rows[0]["question"] == pl + " câu hỏi", rows)
        T.check(f"injection {i}: API answers JSON with nosniff (never rendered as HTML)",
                (r.header("Content-Type") or "").startswith("application/json") and
                r.header("X-Content-Type-Options") == "nosniff", r.headers)

    # Staff reply with a payload, on a real case.
    r = d.request("POST", "/chat/send", json_body={"text": "con mèo nhà tôi hôm nay bị ốm"})
    T.check("web chat message escalated", r.status == 200, r)
    cases_ = (api("GET", "/api/cases").json() or {}).get("cases", [])
    cid = cases_[0]["id"] if cases_ else 0
    api("POST", f"/api/cases/{cid}/claim", {})
    r = api("POST", f"/api/cases/{cid}/reply", {"text": payloads[0] + payloads[2]})
    T.check("staff reply with a payload accepted", r.status == 201, r)
    rows = d.query("SELECT text FROM messages WHERE direction = 'out' AND author = 'boss'")
    T.check("staff reply stored byte for byte",
            rows and rows[-1]["text"] == payloads[0] + payloads[2], rows)
    r = api("GET", f"/api/cases/{cid}")
    texts = [m.get("text") for m in (r.json() or {}).get("messages", [])]
    T.check("staff reply returned verbatim in the case", payloads[0] + payloads[2] in texts, texts)

    tables = {r["name"] for r in d.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    T.check("every table still exists (nothing executed)", set(TABLES) <= tables, tables)
    T.check("daemon still serving at the end", d.request("GET", "/healthz").status == 200)
    T.check("no crash or sanitizer report in the log",
            "ERROR: AddressSanitizer" not in d.tail(200000) and "runtime error" not in d.tail(200000))
finally:
    d.cleanup()
T.done()
