"""test_zalo.py - issue 3: the Zalo OA channel end to end, against
tests/fakes/fake_provider.py (a fake Zalo OA API and OAuth v4 endpoint that
enforces the documented request shape and headers).

Checks: a signed message is answered with the right JSON (the fake refuses
any other shape); the first send refreshes the seeded token once and the new
single-use refresh token is stored; a bad or missing signature gets 401 and
leaves no trace in the database; a duplicate msg_id gets one reply; echoes
of our own messages are ignored; follow/unfollow update the contact; an
expired token is refreshed once and the send succeeds; a rate limit (-32)
is retried; an outage of the API loses nothing: every reply arrives after it
recovers.  The outage lasts 60 s, as issue 3 asks (HOTLINE_OUTAGE=N for a quicker local run).
"""
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "fakes"))
from harness import Checks, Daemon, ROOT  # noqa: E402
from fake_provider import FakeProvider  # noqa: E402

T = Checks("zalo")
APP_ID = "2553928453557884079"
OA_ID = "3662729599332560487"
OA_SECRET = "oa-secret-for-tests"
APP_SECRET = "app-secret-for-tests"
OUTAGE = int(os.environ.get("HOTLINE_OUTAGE", "60"))

FAQ = json.load(open(os.path.join(ROOT, "knowledge/data/faq.json"), encoding="utf-8"))
ENTRIES = FAQ["entries"]

_seq = [0]


def uid(n):
    """A 19-digit Zalo user id (more digits than a double holds exactly)."""
    return str(6142494823000000000 + n)


def event(name, sender=None, text=None, msg_id=None, follower=None, ts=None):
    _seq[0] += 1
    ev = {"event_name": name, "app_id": APP_ID, "timestamp": str(ts or int(time.time() * 1000)),
          "user_id_by_app": "979122185046046317"}
    if sender:
        ev["sender"] = {"id": sender}
        ev["recipient"] = {"id": OA_ID}
    if follower:
        ev["oa_id"] = OA_ID
        ev["follower"] = {"id": follower}
    if name.startswith("user_send_") or name.startswith("oa_send_"):
        ev["message"] = {"msg_id": msg_id or f"msg{_seq[0]:016x}"}
        if text is not None:
            ev["message"]["text"] = text
    return json.dumps(ev, ensure_ascii=False).encode("utf-8")


def mac(body, secret=OA_SECRET):
    ev = json.loads(body)
    data = ev["app_id"].encode() + body + ev["timestamp"].encode() + secret.encode()
    return "mac=" + hashlib.sha256(data).hexdigest()


def post(d, body, signature="sign"):
    h = {"Content-Type": "application/json"}
    if signature == "sign":
        h["X-ZEvent-Signature"] = mac(body)
    elif signature is not None:
        h["X-ZEvent-Signature"] = signature
    return d.request("POST", "/webhook/zalo", body=body, headers=h, cookies=False)


def replies(fp, to):
    return [m for m in fp.messages("zalo") if m["to"] == to]


def wait_replies(fp, d, to, n, timeout):
    return d.wait_for(lambda: len(replies(fp, to)) >= n and replies(fp, to), timeout=timeout) or []


def main():
    # The fake is only as good as its own checks: run them first.
    st = subprocess.run([sys.executable, os.path.join(ROOT, "tests/fakes/fake_provider.py"),
                         "--selftest"], capture_output=True, text=True, timeout=60)
    T.check("fake_provider.py --selftest passes", st.returncode == 0, st.stdout[-2000:])
    fp = FakeProvider().start()
    # The OA was authorised once: the daemon holds only a refresh token.
    fp.configure(zalo={"app_id": APP_ID, "app_secret": APP_SECRET, "access_token": None,
                       "refresh_token": "RT-seed", "expires_in": 90000})
    d = Daemon({
        "outbox": {"backoff_base_ms": 200, "backoff_max_ms": 2000, "timeout_ms": 2000,
                   "max_attempts": 1000},
        "limits": {"auto_replies": 50},
        "channels": {"zalo": {"app_id": APP_ID, "oa_secret": OA_SECRET, "app_secret": APP_SECRET,
                              "refresh_token": "RT-seed", "api_base": fp.url,
                              "oauth_base": fp.url}},
    })
    try:
        d.start()

        # 1. A signed question is answered with the entry's full answer.
        e0 = ENTRIES[0]
        u1 = uid(1)
        r = post(d, event("user_send_text", sender=u1, text=e0["question"], msg_id="m-first"))
        T.check("signed webhook acknowledged with 200", r.status == 200, r)
        got = wait_replies(fp, d, u1, 1, 15)
        T.check("the reply reaches the Zalo API with the right JSON and header",
                len(got) == 1, fp.requests())
        T.check("the reply is the entry's full answer, to the 19-digit sender id as a string",
                got and got[0]["text"] == e0["answer"] and got[0]["to"] == u1, got)
        T.check("the seeded refresh token was used once", fp.state.refreshes == 1, fp.state.refreshes)
        tok = d.query("SELECT access_token, refresh_token FROM tokens WHERE channel = 'zalo'")
        T.check("the new single-use refresh token is stored",
                tok and tok[0]["refresh_token"] in fp.state.refresh and tok[0]["refresh_token"] != "RT-seed",
                (tok, sorted(fp.state.refresh)))
        # The fake records the message before the daemon has read the answer.
        out = d.wait_for(lambda: [r for r in d.query(
            "SELECT o.status, o.provider_id FROM outbox o JOIN contacts c ON c.id = o.contact_id "
            "WHERE c.channel = 'zalo' AND c.address = ?", u1) if r["status"] == "sent"], timeout=5)
        T.check("the outbox row is sent with Zalo's message_id",
                out and out[0]["status"] == "sent" and got and out[0]["provider_id"] == got[0]["id"], out)

        # 2. Bad or missing signatures: 401 and no trace.
        u2 = uid(2)
        body = event("user_send_text", sender=u2, text=e0["question"], msg_id="m-forged")
        r1 = post(d, body, signature=None)
        r2 = post(d, body, signature=mac(body, secret="not-the-oa-secret"))
        r3 = post(d, body, signature="mac=" + "0" * 64)
        T.check("missing signature -> 401", r1.status == 401, r1)
        T.check("wrong signature -> 401", r2.status == 401 and r3.status == 401, (r2, r3))
        time.sleep(0.5)
        T.check("nothing stored for a rejected webhook",
                not d.query("SELECT id FROM contacts WHERE address = ?", u2) and
                not d.query("SELECT id FROM messages WHERE provider_id = 'm-forged'"))
        T.check("nothing sent for a rejected webhook", not replies(fp, u2))

        # 3. A duplicate msg_id (Zalo retries slow webhooks) gets one reply.
        u3 = uid(3)
        body = event("user_send_text", sender=u3, text=ENTRIES[1]["question"], msg_id="m-dup")
        ra, rb = post(d, body), post(d, body)
        T.check("both deliveries acknowledged", ra.status == 200 and rb.status == 200, (ra, rb))
        wait_replies(fp, d, u3, 1, 15)
        time.sleep(1.5)
        T.check("a duplicate msg_id gets one reply", len(replies(fp, u3)) == 1, replies(fp, u3))
        T.check("and is stored once",
                len(d.query("SELECT id FROM messages WHERE provider_id = 'm-dup'")) == 1)

        # 4. Echoes of our own messages are dropped; follow/unfollow update the contact.
        r = post(d, event("oa_send_text", sender=OA_ID, text="echo of an answer", msg_id="m-echo"))
        T.check("an oa_send_* echo is acknowledged", r.status == 200, r)
        u4 = uid(4)
        r = post(d, event("follow", follower=u4))
        T.check("follow acknowledged", r.status == 200, r)
        r = post(d, event("user_seen_message", sender=u1))
        T.check("an unknown/receipt event is acknowledged", r.status == 200, r)
        time.sleep(1)
        T.check("an echo is not answered (no loop)", not replies(fp, OA_ID))
        T.check("an echo is not stored", not d.query("SELECT id FROM messages WHERE provider_id = 'm-echo'"))
        fol = d.query("SELECT followed FROM contacts WHERE channel = 'zalo' AND address = ?", u4)
        T.check("follow records the contact as following", fol and fol[0]["followed"] == 1, fol)
        post(d, event("unfollow", follower=u4))
        fol = d.wait_for(lambda: [r for r in d.query(
            "SELECT followed FROM contacts WHERE channel = 'zalo' AND address = ?", u4)
            if r["followed"] == 0], timeout=5)
        T.check("unfollow records it", bool(fol))

        # 5. Media: not text, but not silence either.
        u5 = uid(5)
        r = post(d, event("user_send_image", sender=u5, msg_id="m-img"))
        T.check("an image event is acknowledged", r.status == 200, r)
        got = wait_replies(fp, d, u5, 1, 10)
        T.check("an image gets a polite text reply", len(got) == 1 and got[0]["text"], got)

        # 6. An expired access token: refreshed once, then the send succeeds.
        fp.expire_tokens()
        before = fp.state.refreshes
        u6 = uid(6)
        post(d, event("user_send_text", sender=u6, text=ENTRIES[2]["question"], msg_id="m-exp"))
        got = wait_replies(fp, d, u6, 1, 15)
        T.check("after -220 the token is refreshed and the reply arrives",
                len(got) == 1 and got[0]["text"] == ENTRIES[2]["answer"], fp.requests("zalo")[-5:])
        T.check("exactly one refresh for it", fp.state.refreshes == before + 1,
                (before, fp.state.refreshes))
        reused = [r for r in fp.requests("oauth") if r["outcome"] != "refreshed"]
        T.check("no refresh token was ever reused or refused", not reused, reused)

        # 7. Rate limited (-32): retried.
        fp.set_mode("rate_limit", provider="zalo", count=2)
        u7 = uid(7)
        post(d, event("user_send_text", sender=u7, text=ENTRIES[3]["question"], msg_id="m-rl"))
        got = wait_replies(fp, d, u7, 1, 15)
        T.check("a rate-limited send is retried until it goes", len(got) == 1, fp.requests("zalo")[-4:])

        # 8. An outage of the API loses nothing.
        fp.set_mode("503", provider="zalo", duration=OUTAGE)
        start = time.time()
        senders = [uid(100 + i) for i in range(5)]
        for i, s in enumerate(senders):
            r = post(d, event("user_send_text", sender=s, text=ENTRIES[4 + i]["question"],
                              msg_id=f"m-outage-{i}"))
            T.check(f"webhook {i} acknowledged during the outage", r.status == 200, r)
        time.sleep(min(3, OUTAGE / 2))
        T.check("nothing goes through during the outage",
                not any(replies(fp, s) for s in senders))
        pending = d.query("SELECT count(*) AS n FROM outbox WHERE status = 'pending'")[0]["n"]
        T.check("the replies wait in the outbox", pending >= len(senders), pending)
        ok = d.wait_for(lambda: all(len(replies(fp, s)) == 1 for s in senders),
                        timeout=OUTAGE + 30, interval=0.2)
        T.check(f"after a {OUTAGE}s outage every reply arrives, once", bool(ok),
                [(s, len(replies(fp, s))) for s in senders])
        T.check("they arrived after the recovery", time.time() - start >= OUTAGE - 1)
        failed = d.query("SELECT id, last_code, last_error FROM outbox WHERE status = 'failed'")
        T.check("no outbox row failed", not failed, failed)
        T.check("the daemon's log holds no secret",
                all(x not in d.tail(1 << 20) for x in (OA_SECRET, APP_SECRET, "RT-seed")))
    except Exception as e:
        T.check("the test ran to the end", False, f"{type(e).__name__}: {e}\n{d.tail()}")
    finally:
        d.cleanup()
        fp.stop()
    T.done()


if __name__ == "__main__":
    main()
