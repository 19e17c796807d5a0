"""test_twilio_esms.py - issue 3: the Twilio and eSMS.vn channels end to end,
against tests/fakes/fake_provider.py (a fake Twilio REST API and eSMS.vn API
that enforce the documented request shapes and record what they accept).

Twilio (one daemon, sms.unaccent "always"): an inbound webhook signed the way
Twilio signs (HMAC-SHA1 over the configured public URL and the sorted
parameters, computed here independently and checked first against Twilio's
published example) is acknowledged with <Response/>, stored once and
answered through the REST API with the entry's answer_sms, unaccented; bad
signatures get 401 and leave no trace; a replayed MessageSid gets one reply;
status callbacks mark the reply delivered, or failed with the contact opted
out on 21610; a send refused with 21610 fails for good and opts the contact
out; 503/500 answers are retried with a growing backoff and the reply
arrives once.

eSMS (another daemon, sms.send_via "esms"): an SMS in through the Kannel
webhook is answered through eSMS (never through Kannel's sendsms) with
RequestId = our outbox id, the brandname, IsUnicode matching the text and
CallbackUrl = public_url + /webhook/esms/dlr; a lost answer followed by
CodeResult 124 (duplicate RequestId) counts as sent; delivery callbacks mark
the reply delivered or failed (visible on the message); CodeResult 104
(brandname not registered) is a permanent failure with the code recorded,
not retried.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "fakes"))
from harness import Checks, Daemon, ROOT  # noqa: E402
from fake_provider import FakeProvider  # noqa: E402


T = Checks("twilio_esms")

PUBLIC_T = "https://hotline.example.gov.vn"            # Twilio daemon's public_url
PUBLIC_E = "https://sms.example.gov.vn/tongdai"         # eSMS daemon's public_url
SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token-for-tests"
TW_FROM = "+15005550006"
API_KEY, SECRET_KEY, BRAND = "esms-api-key-for-tests", "esms-secret-key-for-tests", "HOTLINE"
KTOKEN = "kannel-webhook-token-for-tests"
ADMIN_PW = "admin-password-for-tests"

FAQ = json.load(open(os.path.join(ROOT, "knowledge/data/faq.json"), encoding="utf-8"))
ENTRIES = FAQ["entries"]

# ---- SMS text, computed here independently of the daemon ------------------

GSM7 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789\n\r !\"#$%&'()*+,-./:;<=>?@_"
           "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà")
GSM7_EXT = set("^{}\\[]~|€\f")


def unaccent(s):
    s = s.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(
        c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)))


def is_gsm7(s):
    return all(c in GSM7 or c in GSM7_EXT for c in s)


def segments(s):
    if is_gsm7(s):
        n = sum(2 if c in GSM7_EXT else 1 for c in s)
        return 1 if n <= 160 else -(-n // 153)
    n = len(s.encode("utf-16-le")) // 2
    return 1 if n <= 70 else -(-n // 67)


def sms_entries():
    """Entries whose answer_sms has diacritics, unaccents to plain GSM-7 and
    fits 3 segments unaccented (so the expected text is exact, never cut)."""
    out = []
    for e in ENTRIES:
        a = e.get("answer_sms") or ""
        u = unaccent(a)
        if a and u != a and all(c in GSM7 and ord(c) < 128 for c in u) and segments(u) <= 3:
            out.append(e)
    return out


# ---- Twilio -----------------------------------------------------------------

def twilio_sign(token, url, params):
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode("utf-8"), data.encode("utf-8"),
                                     hashlib.sha1).digest()).decode()


def new_sid():
    return "SM" + uuid.uuid4().hex


def inbound_params(sid, frm, body):
    # What Twilio posts for an SMS (empty values included, as it sends them).
    return {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
            "FromCity": "", "Body": body, "FromCountry": "VN", "To": TW_FROM,
            "MessagingServiceSid": "", "ToZip": "", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": SID, "From": frm, "ApiVersion": "2010-04-01"}


def tw_post(d, path, params, sign_url=None, token=TOKEN, signature=None, send_params=None):
    """POSTs params (in reverse sorted order: the daemon must sort them) to
    path, signed over sign_url (default: the public URL + path)."""
    if signature is None:
        signature = twilio_sign(token, sign_url or (PUBLIC_T + path), params)
    sent = send_params if send_params is not None else params
    body = urllib.parse.urlencode(sorted(sent.items(), reverse=True))
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature:
        h["X-Twilio-Signature"] = signature
    return d.request("POST", path, body=body, headers=h, cookies=False)


def tw_replies(fp, to):
    return [m for m in fp.messages("twilio") if m["to"] == to]


def outbox_rows(d, channel, address):
    return d.query("SELECT o.* FROM outbox o JOIN contacts c ON c.id = o.contact_id "
                   "WHERE c.channel = ? AND c.address = ? ORDER BY o.id", channel, address)


def out_message(d, message_id):
    r = d.query("SELECT * FROM messages WHERE id = ?", message_id)
    return r[0] if r else {}


def contact(d, channel, address):
    r = d.query("SELECT * FROM contacts WHERE channel = ? AND address = ?", channel, address)
    return r[0] if r else {}


def wait_outbox(d, channel, address, statuses, timeout=10):
    return d.wait_for(lambda: [r for r in outbox_rows(d, channel, address)
                               if r["status"] in statuses], timeout=timeout) or []


def twilio_tests(fp, entries):
    d = Daemon({
        "public_url": PUBLIC_T,
        "sms": {"unaccent": "always"},
        "outbox": {"backoff_base_ms": 200, "backoff_max_ms": 1000, "timeout_ms": 2000,
                   "max_attempts": 20},
        "limits": {"auto_replies": 50},
        "channels": {"twilio": {"account_sid": SID, "auth_token": TOKEN, "from": TW_FROM,
                                "api_base": fp.url}},
    })
    try:
        d.start()
        hook = "/webhook/twilio"

        # 1. A signed question: <Response/>, stored once, answered through the REST API.
        e1, n1, sid1 = entries[0], "+84912000001", new_sid()
        p1 = inbound_params(sid1, n1, e1["question"])
        r = tw_post(d, hook, p1)
        T.check("signed webhook -> 200", r.status == 200, r)
        T.check("acknowledged with <Response/> as text/xml",
                (r.header("Content-Type") or "").startswith("text/xml") and
                r.body.strip() == b"<Response/>", (r.header("Content-Type"), r.body))
        stored = d.query("SELECT * FROM messages WHERE provider_id = ?", sid1)
        T.check("the message is stored (committed before the 200)",
                len(stored) == 1 and stored[0]["direction"] == "in" and
                stored[0]["text"] == e1["question"], stored)
        got = d.wait_for(lambda: tw_replies(fp, n1), timeout=10) or []
        T.check("the reply reaches the Twilio REST API (Basic auth, form To/From/Body)",
                len(got) == 1, fp.requests("twilio"))
        want = unaccent(e1["answer_sms"])
        T.check("the reply is the entry's answer_sms, unaccented (sms.unaccent always)",
                got and got[0]["text"] == want, (got[:1], want))
        T.check("no diacritics left in the reply",
                got and all(ord(c) < 128 for c in got[0]["text"]) and got[0]["text"] != e1["answer_sms"])
        T.check("sent from the configured number", got and got[0]["from"] == TW_FROM, got[:1])
        rows = wait_outbox(d, "twilio", n1, ("sent",))
        T.check("the outbox row is sent with Twilio's sid",
                len(rows) == 1 and got and rows[0]["provider_id"] == got[0]["id"] and
                rows[0]["channel"] == "twilio" and rows[0]["coding"] == 0, rows)
        ob1 = rows[0] if rows else {}
        cb1 = got[0]["status_callback"] if got else ""
        T.check("StatusCallback is the public URL's /webhook/twilio/status with our outbox id",
                ob1 and cb1 == f"{PUBLIC_T}/webhook/twilio/status?id={ob1['id']}", cb1)

        # 2. Bad signatures: 401 and no trace.
        n2, sid2 = "+84912000002", new_sid()
        p2 = inbound_params(sid2, n2, e1["question"])
        r_none = tw_post(d, hook, p2, signature="")
        r_tok = tw_post(d, hook, p2, token="not-the-auth-token")
        r_url = tw_post(d, hook, p2, sign_url=d.url + hook)   # the local URL, not the public one
        r_tamp = tw_post(d, hook, p2, send_params=dict(p2, Body="Chuyen tien vao tai khoan nay"))
        r_junk = tw_post(d, hook, p2, signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        T.check("missing signature -> 401", r_none.status == 401, r_none)
        T.check("signature with another token -> 401", r_tok.status == 401, r_tok)
        T.check("signature over the local URL instead of the configured public URL -> 401",
                r_url.status == 401, r_url)
        T.check("a parameter changed after signing -> 401", r_tamp.status == 401, r_tamp)
        T.check("a made-up signature -> 401", r_junk.status == 401, r_junk)
        time.sleep(0.7)
        T.check("nothing stored for rejected webhooks",
                not d.query("SELECT id FROM messages WHERE provider_id = ?", sid2) and
                not d.query("SELECT id FROM contacts WHERE address = ?", n2))
        T.check("nothing sent for rejected webhooks", not tw_replies(fp, n2))

        # 3. A replay of the same MessageSid: 200, still one message and one reply.
        r = tw_post(d, hook, p1)
        T.check("a replayed MessageSid is acknowledged 200 <Response/>",
                r.status == 200 and r.body.strip() == b"<Response/>", r)
        time.sleep(1.5)
        T.check("the replay is stored once",
                len(d.query("SELECT id FROM messages WHERE provider_id = ?", sid1)) == 1)
        T.check("the replay gets no second reply",
                len(tw_replies(fp, n1)) == 1 and len(outbox_rows(d, "twilio", n1)) == 1,
                tw_replies(fp, n1))

        # 4. Status callbacks: signed over the StatusCallback URL (query included).
        if ob1 and got:
            spath = cb1[len(PUBLIC_T):]
            sp = {"MessageSid": got[0]["id"], "SmsSid": got[0]["id"], "AccountSid": SID,
                  "From": TW_FROM, "To": n1, "ApiVersion": "2010-04-01"}
            r = tw_post(d, spath, dict(sp, MessageStatus="failed", SmsStatus="failed",
                                       ErrorCode="30008"), token="forged")
            T.check("a forged status callback -> 401", r.status == 401, r)
            r = tw_post(d, spath, dict(sp, MessageStatus="failed", SmsStatus="failed",
                                       ErrorCode="30008"), sign_url=PUBLIC_T + "/webhook/twilio/status")
            T.check("a status callback signed without the URL's query -> 401", r.status == 401, r)
            T.check("the row is untouched by them",
                    outbox_rows(d, "twilio", n1)[0]["status"] == "sent", outbox_rows(d, "twilio", n1))
            r = tw_post(d, spath, dict(sp, MessageStatus="delivered", SmsStatus="delivered"))
            T.check("status callback delivered -> 200", r.status == 200, r)
            row = outbox_rows(d, "twilio", n1)[0]
            T.check("delivered marks the outbox row", row["status"] == "delivered", row)
            T.check("and the message",
                    out_message(d, row["message_id"]).get("status") == "delivered",
                    out_message(d, row["message_id"]))
            r = tw_post(d, spath, dict(sp, MessageStatus="sent", SmsStatus="sent"))
            T.check("a late 'sent' callback does not undo 'delivered'",
                    r.status == 200 and outbox_rows(d, "twilio", n1)[0]["status"] == "delivered",
                    (r, outbox_rows(d, "twilio", n1)))

        # 5. undelivered with 21610 (the citizen sent STOP to Twilio): failed, contact opted out.
        e3, n3 = entries[1], "+84912000003"
        tw_post(d, hook, inbound_params(new_sid(), n3, e3["question"]))
        got3 = d.wait_for(lambda: tw_replies(fp, n3), timeout=10) or []
        rows3 = wait_outbox(d, "twilio", n3, ("sent",))
        T.check("a second question is answered", len(got3) == 1 and len(rows3) == 1, (got3, rows3))
        if got3 and rows3:
            T.check("its contact is not opted out yet", contact(d, "twilio", n3).get("opted_out") == 0)
            spath = got3[0]["status_callback"][len(PUBLIC_T):]
            r = tw_post(d, spath, {"MessageSid": got3[0]["id"], "SmsSid": got3[0]["id"],
                                   "AccountSid": SID, "From": TW_FROM, "To": n3,
                                   "MessageStatus": "undelivered", "SmsStatus": "undelivered",
                                   "ErrorCode": "21610", "ApiVersion": "2010-04-01"})
            T.check("status callback undelivered/21610 -> 200", r.status == 200, r)
            row = outbox_rows(d, "twilio", n3)[0]
            T.check("undelivered marks the row failed with code 21610",
                    row["status"] == "failed" and row["last_code"] == "21610", row)
            m = out_message(d, row["message_id"])
            T.check("the message shows the failure", m.get("status") == "failed" and m.get("error"), m)
            T.check("21610 in a status callback marks the contact opted_out",
                    contact(d, "twilio", n3).get("opted_out") == 1, contact(d, "twilio", n3))

        # 6. A send refused with 21610: permanent, recorded, contact opted out, not retried.
        e4, n4 = entries[2], "+84912000004"
        fp.configure(twilio={"opted_out": [n4]})
        tw_post(d, hook, inbound_params(new_sid(), n4, e4["question"]))
        rows4 = wait_outbox(d, "twilio", n4, ("failed",))
        T.check("a send refused with 21610 is recorded as failed with the code",
                len(rows4) == 1 and rows4[0]["last_code"] == "21610" and rows4[0]["last_error"],
                outbox_rows(d, "twilio", n4))
        time.sleep(1.0)
        refused = [r for r in fp.requests("twilio") if r["outcome"] == "opted out"]
        T.check("and not retried", len(refused) == 1 and rows4 and rows4[0]["attempts"] == 1,
                (refused, rows4))
        T.check("nothing reached the recipient", not tw_replies(fp, n4))
        if rows4:
            m = out_message(d, rows4[0]["message_id"])
            T.check("the message shows the failure", m.get("status") == "failed" and m.get("error"), m)
        T.check("21610 on a send marks the contact opted_out",
                contact(d, "twilio", n4).get("opted_out") == 1, contact(d, "twilio", n4))

        # 7. 503s for 1.5 s: retried with a growing backoff, delivered once after recovery.
        e5, n5 = entries[3], "+84912000005"
        mark = len(fp.requests("twilio"))
        fp.set_mode("503", provider="twilio", duration=1.5)
        t0 = time.time()
        r = tw_post(d, hook, inbound_params(new_sid(), n5, e5["question"]))
        T.check("webhook acknowledged during the outage", r.status == 200, r)
        time.sleep(0.8)
        rows5 = outbox_rows(d, "twilio", n5)
        T.check("during the outage the reply waits in the outbox",
                not tw_replies(fp, n5) and len(rows5) == 1 and rows5[0]["status"] == "pending" and
                rows5[0]["attempts"] >= 1, rows5)
        got5 = d.wait_for(lambda: tw_replies(fp, n5), timeout=15) or []
        T.check("after the outage the reply arrives", len(got5) == 1 and time.time() - t0 >= 1.4,
                (got5, time.time() - t0))
        time.sleep(1.0)
        reqs = fp.requests("twilio")[mark:]
        n503 = [q for q in reqs if q["status"] == 503]
        T.check("delivered exactly once (counted at the fake)",
                len(tw_replies(fp, n5)) == 1 and [q["outcome"] for q in reqs].count("sent") == 1,
                reqs)
        T.check("the 503s were retried", len(n503) >= 3, reqs)
        gaps = [b["at"] - a["at"] for a, b in zip(reqs, reqs[1:])]
        T.check("retries are not immediate (backoff_base_ms 200, jitter [d/2, d))",
                gaps and min(gaps) >= 0.09, gaps)
        T.check("the backoff grows", len(gaps) >= 3 and gaps[2] > gaps[0] and gaps[2] >= 0.35, gaps)
        rows5 = wait_outbox(d, "twilio", n5, ("sent",), timeout=5)
        T.check("the row is sent after its attempts",
                len(rows5) == 1 and rows5[0]["attempts"] == len(reqs), (rows5, len(reqs)))

        # 500 twice, then recovery.
        e6, n6 = entries[4], "+84912000006"
        mark = len(fp.requests("twilio"))
        fp.set_mode("500", provider="twilio", count=2)
        tw_post(d, hook, inbound_params(new_sid(), n6, e6["question"]))
        got6 = d.wait_for(lambda: tw_replies(fp, n6), timeout=10) or []
        time.sleep(1.0)
        reqs = fp.requests("twilio")[mark:]
        T.check("500 twice: retried and delivered once",
                len(tw_replies(fp, n6)) == 1 and [q["status"] for q in reqs] == [500, 500, 201], reqs)
        T.check("with the right text", got6 and got6[0]["text"] == unaccent(e6["answer_sms"]), got6)
        rows6 = wait_outbox(d, "twilio", n6, ("sent",), timeout=5)
        T.check("its row: sent on the third attempt", len(rows6) == 1 and rows6[0]["attempts"] == 3, rows6)
        T.check("no Twilio webhook route leaks the auth token into the log",
                TOKEN not in d.tail(1 << 20))
        r = d.request("GET", "/webhook/esms/dlr?SMSID=x&SendStatus=5&RequestId=1", cookies=False)
        T.check("an unconfigured channel (eSMS here) answers 404", r.status == 404, r)
    except Exception as e:
        T.check("the Twilio part ran to the end", False, f"{type(e).__name__}: {e}\n{d.tail()}")
    finally:
        d.cleanup()


# ---- eSMS -------------------------------------------------------------------

class Sink:
    """Kannel's sendsms that must stay unused (replies leave through eSMS)."""

    def __init__(self):
        sink = self
        self.hits = []

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                sink.hits.append(self.path)
                self.send_response(202)
                self.send_header("Content-Length", "25")
                self.end_headers()
                self.wfile.write(b"0: Accepted for delivery\n")

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def kannel_in(d, frm, text, kid):
    q = urllib.parse.urlencode({"token": KTOKEN, "from": frm, "to": "1022", "text": text,
                                "id": kid, "ts": str(int(time.time()))})
    return d.request("GET", "/webhook/kannel?" + q, cookies=False)


def esms_replies(fp, to):
    return [m for m in fp.messages("esms") if m["to"] == to]


def dlr(d, **params):
    return d.request("GET", "/webhook/esms/dlr?" + urllib.parse.urlencode(params), cookies=False)


def expected_auto(text):
    """sms.unaccent auto: unaccented when that saves segments."""
    u = unaccent(text)
    return u if segments(u) < segments(text) else text


def esms_tests(fp, entries):
    sink = Sink()
    d = Daemon({
        "public_url": PUBLIC_E,
        "sms": {"send_via": "esms"},
        "outbox": {"backoff_base_ms": 200, "backoff_max_ms": 1000, "timeout_ms": 2000,
                   "max_attempts": 20},
        "limits": {"auto_replies": 50},
        "channels": {
            "kannel": {"sendsms_url": sink.url + "/cgi-bin/sendsms", "username": "hotline",
                       "password": "kannel-pw", "from": "1022", "webhook_token": KTOKEN},
            "esms": {"api_key": API_KEY, "secret_key": SECRET_KEY, "brandname": BRAND,
                     "api_base": fp.url}},
    })
    try:
        d.start()

        # 1. An SMS in through Kannel, the reply out through eSMS.
        e1, n1 = entries[5], "0912000101"
        r = kannel_in(d, n1, e1["question"], "k-esms-1")
        T.check("Kannel webhook acknowledged", 200 <= r.status < 300, r)
        got = d.wait_for(lambda: esms_replies(fp, n1), timeout=10) or []
        T.check("the reply leaves through eSMS SendMultipleMessage_V4_post_json",
                len(got) == 1, fp.requests("esms"))
        rows = wait_outbox(d, "kannel", n1, ("sent",))
        T.check("its outbox row is routed to esms and sent with the SMSID",
                len(rows) == 1 and rows[0]["channel"] == "esms" and got and
                rows[0]["provider_id"] == got[0]["id"], rows)
        ob1 = rows[0] if rows else {}
        g = got[0] if got else {}
        want = expected_auto(e1["answer_sms"])
        T.check("the text is the entry's answer_sms (unaccented by policy auto: fewer segments)",
                g.get("text") == want and want != e1["answer_sms"], (g.get("text"), want))
        T.check("RequestId is our outbox id", ob1 and g.get("request_id") == str(ob1["id"]),
                (g.get("request_id"), ob1.get("id")))
        T.check("Brandname and SmsType 2", g.get("brandname") == BRAND and g.get("sms_type") == "2", g)
        T.check("IsUnicode 0 for a GSM-7 text", g.get("unicode") == "0" and is_gsm7(g.get("text", "")), g)
        T.check("CallbackUrl is public_url + /webhook/esms/dlr",
                g.get("callback_url") == PUBLIC_E + "/webhook/esms/dlr", g.get("callback_url"))
        time.sleep(0.3)
        T.check("nothing went out through Kannel's sendsms", not sink.hits, sink.hits)

        # A forged callback (right RequestId, wrong SMSID) changes nothing.
        if ob1 and g:
            r = dlr(d, SMSID="forged-" + str(g["id"]), SendStatus="4", RequestId=str(ob1["id"]))
            row = outbox_rows(d, "kannel", n1)[0]
            T.check("a callback whose SMSID is not the row's is ignored",
                    r.status == 200 and row["status"] == "sent", row)
        # Delivery callback SendStatus=5.
        if ob1 and g:
            r = dlr(d, SMSID=g["id"], SendStatus="5", RequestId=str(ob1["id"]))
            T.check("eSMS delivery callback -> 200", r.status == 200, r)
            row = outbox_rows(d, "kannel", n1)[0]
            T.check("SendStatus 5 marks the row delivered", row["status"] == "delivered", row)
            T.check("and the message", out_message(d, row["message_id"]).get("status") == "delivered",
                    out_message(d, row["message_id"]))
        before = d.query("SELECT id, status FROM outbox ORDER BY id")
        r = dlr(d, SMSID="unknown-smsid", SendStatus="4", RequestId="987654")
        T.check("a callback for an unknown RequestId is acknowledged and changes nothing",
                r.status == 200 and d.query("SELECT id, status FROM outbox ORDER BY id") == before, r)
        r = dlr(d, SMSID="x")
        T.check("a callback without SendStatus -> 400", r.status == 400, r)

        # 2. The answer is lost; the resend meets CodeResult 124 (duplicate RequestId): sent.
        e2, n2 = entries[6], "0912000102"
        mark = len(fp.requests("esms"))
        fp.set_mode("lost", provider="esms", count=1)
        kannel_in(d, n2, e2["question"], "k-esms-2")
        rows2 = wait_outbox(d, "kannel", n2, ("sent", "failed"))
        reqs = fp.requests("esms")[mark:]
        T.check("the first answer was lost, the resend met 124",
                [q["outcome"] for q in reqs] == ["sent", "answer lost", "duplicate RequestId"], reqs)
        got2 = esms_replies(fp, n2)
        T.check("124 (duplicate RequestId) counts as sent",
                len(rows2) == 1 and rows2[0]["status"] == "sent" and rows2[0]["last_code"] == "124",
                rows2)
        T.check("with the SMSID of the first send, and one message at eSMS",
                len(got2) == 1 and rows2 and rows2[0]["provider_id"] == got2[0]["id"] and
                got2[0]["request_id"] == str(rows2[0]["id"]), (got2, rows2))
        if rows2:
            T.check("the message shows it sent",
                    out_message(d, rows2[0]["message_id"]).get("status") == "sent",
                    out_message(d, rows2[0]["message_id"]))

        # 3. SendStatus=4: failed, visible on the message.
        e3, n3 = entries[7], "0912000103"
        kannel_in(d, n3, e3["question"], "k-esms-3")
        rows3 = wait_outbox(d, "kannel", n3, ("sent",))
        got3 = esms_replies(fp, n3)
        T.check("a third question is answered", len(rows3) == 1 and len(got3) == 1, (rows3, got3))
        if rows3 and got3:
            r = dlr(d, SMSID=got3[0]["id"], SendStatus="4", RequestId=str(rows3[0]["id"]))
            T.check("callback SendStatus 4 -> 200", r.status == 200, r)
            row = outbox_rows(d, "kannel", n3)[0]
            T.check("SendStatus 4 marks the row failed", row["status"] == "failed" and
                    row["last_code"] == "4", row)
            m = out_message(d, row["message_id"])
            T.check("the failure is visible on the message (status failed, error set)",
                    m.get("status") == "failed" and m.get("error"), m)

        # 4. CodeResult 104 (brandname not registered): permanent, code recorded, not retried.
        fp.configure(esms={"brandnames": ["OTHERBRAND"]})
        e4, n4 = entries[8], "0912000104"
        mark = len(fp.requests("esms"))
        kannel_in(d, n4, e4["question"], "k-esms-4")
        rows4 = wait_outbox(d, "kannel", n4, ("failed",))
        T.check("104 is a permanent failure with the provider's code",
                len(rows4) == 1 and rows4[0]["last_code"] == "104" and
                "Brandname" in (rows4[0]["last_error"] or ""), outbox_rows(d, "kannel", n4))
        time.sleep(1.0)
        reqs = fp.requests("esms")[mark:]
        T.check("104 is not retried", [q["outcome"] for q in reqs] == ["brandname"] and
                rows4 and rows4[0]["attempts"] == 1, (reqs, rows4))
        if rows4:
            m = out_message(d, rows4[0]["message_id"])
            T.check("the message shows the failure", m.get("status") == "failed" and m.get("error"), m)
        fp.configure(esms={"brandnames": [BRAND]})

        # 5. Accented text (an admin sets sms_unaccent never): IsUnicode 1.
        p = d.cli("user", "add", "smsadmin", "--role", "admin", stdin=ADMIN_PW + "\n")
        r = d.request("POST", "/api/login", json_body={"username": "smsadmin", "password": ADMIN_PW})
        csrf = (r.json() or {}).get("csrf", "")
        r = d.request("PUT", "/api/settings", json_body={"sms_unaccent": "never"},
                      headers={"X-CSRF-Token": csrf})
        T.check("admin sets sms_unaccent never", p.returncode == 0 and r.status == 200, (p.stderr, r))
        # One that fits max_segments (3) accented, so it is sent whole.
        e5 = next(e for e in entries if segments(e["answer_sms"]) <= 3)
        n5 = "0912000105"
        kannel_in(d, n5, e5["question"], "k-esms-5")
        got5 = d.wait_for(lambda: esms_replies(fp, n5), timeout=10) or []
        T.check("an accented reply goes out with IsUnicode 1",
                len(got5) == 1 and got5[0]["text"] == e5["answer_sms"] and got5[0]["unicode"] == "1",
                got5)
        rows5 = wait_outbox(d, "kannel", n5, ("sent",))
        T.check("its row has UCS-2 coding", len(rows5) == 1 and rows5[0]["coding"] == 2, rows5)
        # The same answer again after the policy changes back: rendered anew
        # (the daemon remembers renderings per policy, not per text alone).
        r = d.request("PUT", "/api/settings", json_body={"sms_unaccent": "always"},
                      headers={"X-CSRF-Token": csrf})
        n6 = "0912000106"
        kannel_in(d, n6, e5["question"], "k-esms-6")
        got6 = d.wait_for(lambda: esms_replies(fp, n6), timeout=10) or []
        T.check("after the policy changes back, the same answer goes out unaccented",
                r.status == 200 and len(got6) == 1 and got6[0]["text"] == unaccent(e5["answer_sms"]) and
                got6[0]["unicode"] != "1", (r, got6))
        T.check("still nothing through Kannel's sendsms", not sink.hits, sink.hits)
        T.check("the log holds no eSMS secret", SECRET_KEY not in d.tail(1 << 20))
        r = tw_post(d, "/webhook/twilio", inbound_params(new_sid(), "+84912000009", "x"))
        T.check("an unconfigured channel (Twilio here) answers 404", r.status == 404, r)
    except Exception as e:
        T.check("the eSMS part ran to the end", False, f"{type(e).__name__}: {e}\n{d.tail()}")
    finally:
        d.cleanup()
        sink.stop()


def main():
    # The test's own signer against Twilio's published example (Webhooks
    # security, "Validating signatures from Twilio").
    T.check("the test's Twilio signer reproduces Twilio's published example",
            twilio_sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
                        {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
                         "From": "+12349013030", "To": "+18005551212"})
            == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    st = subprocess.run([sys.executable, os.path.join(ROOT, "tests/fakes/fake_provider.py"),
                         "--selftest"], capture_output=True, text=True, timeout=60)
    T.check("fake_provider.py --selftest passes", st.returncode == 0, st.stdout[-2000:])
    entries = sms_entries()
    T.check("the corpus has enough accented SMS answers", len(entries) >= 9, len(entries))
    fp = FakeProvider().start()
    # Callbacks are sent by the test itself: the public URLs are not reachable.
    fp.configure(twilio={"account_sid": SID, "auth_token": TOKEN, "opted_out": []},
                 esms={"api_key": API_KEY, "secret_key": SECRET_KEY, "brandnames": [BRAND]},
                 callbacks=False)
    try:
        if len(entries) >= 9:
            twilio_tests(fp, entries)
            esms_tests(fp, entries)
    finally:
        fp.stop()
    T.done()


if __name__ == "__main__":
    main()
