"""test_faults.py - issue 5: the daemon under faults.

SMS in through the Kannel webhook, replies out through Kannel's sendsms to a
fake (FakeKannel below) that de-duplicates on our outbox id (the id in the
dlr-url), as eSMS does on RequestId: a resend after a crash is absorbed, and
the fake counts distinct outbox ids accepted.

(a) crash: threads post webhooks with unique ids while the daemon is
    SIGKILLed at random moments and restarted; a webhook not acknowledged is
    retried with the same id (as providers do).  Afterwards every acknowledged
    message is stored and has exactly one reply accepted at the fake.
(b) provider outage: 503s, then timeouts, then connection refused, then
    recovery: every reply arrives once, retries back off.
(c) disk full (tmpfs): webhooks answer 503, never 200 for what was not
    stored; after space returns the daemon stores, decides and replies again.
(d) slowloris and a flood of idle connections: /healthz is still served,
    the idle and trickling connections are cut, the limit holds.
Figures are printed; FAULT_KILLS (default 5) sets the number of SIGKILLs.
HOTLINE_BIN runs another build (e.g. build/asan/hotline; read by harness.py).
"""
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Checks, Daemon, ROOT, free_port  # noqa: E402


T = Checks("faults")
TOKEN = "fault-token"
KILLS = int(os.environ.get("FAULT_KILLS", "5"))
QUESTIONS = ["Tiêm vắc xin COVID-19 ở đâu?", "Đi tiêm vắc xin COVID-19 cần mang giấy tờ gì?",
             "con mèo nhà tôi bị ốm", "Làm sao biết lịch tiêm và đăng ký tiêm vắc xin COVID-19?"]


class FakeKannel:
    """Kannel's sendsms, de-duplicating on the dlr-url's id (our outbox id).
    mode: ok | 503 | timeout | refused."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.mode = "ok"
        self.lock = threading.Lock()
        self.accepted = {}      # outbox id -> (to, text)
        self.submissions = {}   # outbox id -> number of requests accepted (dups included)
        self.attempts = {}      # outbox id -> [arrival times] (every request, any mode)
        self.server = None
        self.start()

    def start(self):
        fake = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urllib.parse.urlparse(self.path)
                q = urllib.parse.parse_qs(u.query)
                dlr = q.get("dlr-url", [""])[0]
                oid = urllib.parse.parse_qs(urllib.parse.urlparse(dlr).query).get("id", [""])[0]
                with fake.lock:
                    fake.attempts.setdefault(oid, []).append(time.time())
                    mode = fake.mode
                if mode == "timeout":
                    time.sleep(2.5)     # beyond outbox.timeout_ms: never processed
                    body, status = b"3: try later", 503
                elif mode == "503" or not oid:
                    body, status = b"Temporary failure", 503
                else:
                    with fake.lock:
                        fake.submissions[oid] = fake.submissions.get(oid, 0) + 1
                        fake.accepted.setdefault(oid, (q.get("to", [""])[0], q.get("text", [""])[0]))
                    body, status = b"0: Accepted for delivery", 202
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass    # the daemon hanging up (SIGKILL, timeouts) is expected

        self.server = Server(("127.0.0.1", self.port), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def refuse(self):
        """Stops listening: connection refused."""
        self.server.shutdown()
        self.server.server_close()
        self.mode = "refused"

    def resume(self):
        if self.mode == "refused":
            self.start()
        self.mode = "ok"

    def close(self):
        if self.mode != "refused":
            self.server.shutdown()
            self.server.server_close()


def kannel_config(fake, extra=None):
    cfg = {
        "limits": {"auto_replies": 1000},
        "outbox": {"backoff_base_ms": 100, "backoff_max_ms": 800, "timeout_ms": 1000,
                   "max_attempts": 1000},
        "channels": {"kannel": {
            "sendsms_url": f"http://127.0.0.1:{fake.port}/cgi-bin/sendsms", "username": "u",
            "password": "p", "from": "1022", "webhook_token": TOKEN}},
    }
    return harness.deep_merge(cfg, extra or {})


def post_mo(port, msg_id, sender, text, timeout=5):
    """One Kannel MO (GET get-url); the HTTP status, or None when no answer."""
    q = urllib.parse.urlencode({"token": TOKEN, "from": sender, "to": "1022", "id": msg_id,
                                "text": text, "charset": "UTF-8", "coding": "0"})
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        c.sendall(f"GET /webhook/kannel?{q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.close()
        if not data.startswith(b"HTTP/1."):
            return None
        return int(data.split(b" ", 2)[1])
    except (OSError, ValueError, IndexError):
        return None


def replies_by_inbound(d):
    """{inbound provider id: [outbox ids]} from the database."""
    rows = d.query("SELECT i.provider_id AS pid, o.id AS oid FROM messages i "
                   "JOIN messages r ON r.in_reply_to = i.id JOIN outbox o ON o.message_id = r.id "
                   "WHERE i.direction = 'in'")
    out = {}
    for r in rows:
        out.setdefault(r["pid"], []).append(str(r["oid"]))
    return out


def wait_delivered(d, fake, timeout=60):
    def done():
        pending = d.query("SELECT count(*) AS n FROM outbox WHERE status = 'pending'")[0]["n"]
        undecided = d.query("SELECT count(*) AS n FROM messages WHERE status = 'received'")[0]["n"]
        return pending == 0 and undecided == 0
    return d.wait_for(done, timeout=timeout, interval=0.2)


# ---- (a) crash -------------------------------------------------------------
def crash_test():
    fake = FakeKannel()
    d = Daemon(kannel_config(fake))
    acked, lock, stop = set(), threading.Lock(), threading.Event()
    sent = [0]

    def poster(tid):
        n = 0
        while not stop.is_set():
            n += 1
            mid, sender = f"crash-{tid}-{n}", f"849{tid}{n:06d}"
            text = QUESTIONS[n % len(QUESTIONS)]
            # A provider retries until it gets a 2xx.
            while not stop.is_set():
                st = post_mo(d.port, mid, sender, text)
                with lock:
                    sent[0] += 1
                if st == 200:
                    with lock:
                        acked.add(mid)
                    break
                time.sleep(0.05)

    try:
        d.start()
        threads = [threading.Thread(target=poster, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        rnd = random.Random(int(os.environ.get("FAULT_SEED", str(int(time.time())))))
        for _ in range(KILLS):
            time.sleep(rnd.uniform(0.3, 1.5))
            d.kill()
            time.sleep(rnd.uniform(0.0, 0.3))
            d.start()
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        T.check("crash: daemon restarted after each SIGKILL", d.proc and d.proc.poll() is None)
        T.check("crash: webhooks were acknowledged across the kills", len(acked) > 20, len(acked))
        wait_delivered(d, fake)
        stored = {r["provider_id"] for r in d.query(
            "SELECT provider_id FROM messages WHERE direction = 'in' AND channel = 'kannel'")}
        lost = acked - stored
        T.check("crash: every acknowledged message is in the database", not lost, sorted(lost)[:5])
        dup_in = d.query("SELECT provider_id, count(*) AS n FROM messages WHERE direction = 'in' "
                         "GROUP BY provider_id HAVING n > 1")
        T.check("crash: no message stored twice", not dup_in, dup_in[:3])
        replies = replies_by_inbound(d)
        no_reply = [m for m in stored if len(replies.get(m, [])) == 0]
        many = [m for m in stored if len(replies.get(m, [])) > 1]
        T.check("crash: every stored message has exactly one reply queued",
                not no_reply and not many, (no_reply[:3], many[:3]))
        with fake.lock:
            accepted = dict(fake.accepted)
            subs = dict(fake.submissions)
        undelivered = [m for m in stored if not any(o in accepted for o in replies.get(m, []))]
        T.check("crash: every reply was delivered to the provider", not undelivered, undelivered[:5])
        unknown = [o for o in accepted if not d.query("SELECT id FROM outbox WHERE id = ?", int(o))]
        T.check("crash: the provider got nothing the database does not know", not unknown, unknown[:5])
        resent = sum(n - 1 for n in subs.values() if n > 1)
        status = d.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        T.check("crash: every outbox row ends sent", all(r["status"] == "sent" for r in status), status)
        print(f"figures crash: {KILLS} SIGKILLs, {sent[0]} webhook requests, {len(acked)} acknowledged, "
              f"{len(stored)} stored (acknowledged or not), {len(accepted)} replies delivered, "
              f"0 lost, {resent} resends after a kill absorbed by the provider's de-duplication",
              flush=True)
    finally:
        stop.set()
        d.cleanup()
        fake.close()


# ---- (b) provider outage ---------------------------------------------------
def outage_test():
    fake = FakeKannel()
    d = Daemon(kannel_config(fake))
    try:
        d.start()
        fake.mode = "503"
        ids = [f"out-{i}" for i in range(12)]
        for i, mid in enumerate(ids[:4]):
            T.check(f"outage: webhook {mid} acknowledged while the provider fails",
                    post_mo(d.port, mid, f"8470{i:06d}", QUESTIONS[i % 4]) == 200)
        time.sleep(2.5)
        fake.mode = "timeout"
        for i, mid in enumerate(ids[4:8], 4):
            post_mo(d.port, mid, f"8470{i:06d}", QUESTIONS[i % 4])
        time.sleep(3)
        fake.refuse()
        for i, mid in enumerate(ids[8:], 8):
            post_mo(d.port, mid, f"8470{i:06d}", QUESTIONS[i % 4])
        time.sleep(2)
        with fake.lock:
            during = len(fake.accepted)
        T.check("outage: nothing accepted while the provider is down", during == 0, during)
        retries_row = d.query("SELECT max(attempts) AS a FROM outbox")[0]["a"] or 0
        T.check("outage: the outbox retried", retries_row >= 3, retries_row)
        fake.resume()
        t0 = time.time()
        ok = wait_delivered(d, fake, timeout=30)
        recovered = time.time() - t0
        T.check("outage: everything delivered after recovery", ok)
        replies = replies_by_inbound(d)
        with fake.lock:
            accepted, subs = dict(fake.accepted), dict(fake.submissions)
            attempts = {k: list(v) for k, v in fake.attempts.items()}
        per_msg = {m: [o for o in replies.get(m, []) if o in accepted] for m in ids}
        T.check("outage: each message's reply accepted exactly once",
                all(len(v) == 1 for v in per_msg.values()), per_msg)
        T.check("outage: nothing submitted twice", all(n == 1 for n in subs.values()), subs)
        # Backoff: the gaps between one row's attempts grow (jitter in
        # [d/2, d), d doubling from 100 ms up to 800 ms).
        o1 = replies.get(ids[0], [None])[0]
        times = attempts.get(o1, [])
        gaps = [b - a for a, b in zip(times, times[1:])]
        # Two doublings apart, jitter cannot hide the growth ([d/2, d) vs [2d, 4d)).
        T.check("outage: retries back off (gaps grow, capped)", len(gaps) >= 4 and
                gaps[2] > gaps[0] and gaps[3] > gaps[1] and max(gaps) < 5.0,
                [round(g, 2) for g in gaps])
        total_attempts = sum(len(v) for v in attempts.values())
        status = d.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        T.check("outage: every outbox row ends sent", all(r["status"] == "sent" for r in status), status)
        print(f"figures outage: 12 replies, {total_attempts} provider requests during 503/timeout/"
              f"refused phases, first row's gaps {[round(g, 2) for g in gaps[:6]]} s, "
              f"all delivered {recovered:.1f} s after recovery, 0 duplicates", flush=True)
    finally:
        d.cleanup()
        fake.close()


# ---- (c) disk full -----------------------------------------------------------
def disk_test():
    if os.geteuid() != 0:
        T.check("disk: needs root to mount a tmpfs (skipped)", False, "not root")
        return
    mnt = tempfile.mkdtemp(prefix="hotline-tmpfs-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt]).returncode != 0:
        T.check("disk: mount a small tmpfs", False)
        return
    fake = FakeKannel()
    d = Daemon(kannel_config(fake, {"database": os.path.join(mnt, "hotline.db")}))
    d.db_path = os.path.join(mnt, "hotline.db")
    filler = os.path.join(mnt, "filler")
    try:
        d.start()
        T.check("disk: accepts before the disk fills",
                post_mo(d.port, "disk-0", "84800000", QUESTIONS[0]) == 200)
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        for chunk in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                pass
        os.close(fd)
        statuses = {}
        n = 0
        t0 = time.time()
        # The WAL may have room left: keep posting until the database refuses.
        while time.time() - t0 < 40 and list(statuses.values()).count(503) < 5:
            n += 1
            mid = f"disk-{n}"
            statuses[mid] = post_mo(d.port, mid, f"848{n:06d}", QUESTIONS[n % 4] + " " + "x" * 200)
        refused = [m for m, s in statuses.items() if s == 503]
        acked = [m for m, s in statuses.items() if s == 200]
        T.check("disk: webhooks answer 503 when the disk is full", len(refused) >= 5,
                f"{len(refused)} of {n}")
        T.check("disk: only 200 or 503, never a crash",
                all(s in (200, 503) for s in statuses.values()), set(statuses.values()))
        T.check("disk: the daemon is still running", d.proc.poll() is None, d.tail())
        os.remove(filler)
        time.sleep(0.5)
        # Providers retry what got 503.
        for i, mid in enumerate(refused):
            T.check(f"disk: {mid} accepted on retry once space is back",
                    post_mo(d.port, mid, f"848{int(mid.split('-')[1]):06d}", QUESTIONS[0]) == 200)
            if i >= 2:
                break
        T.check("disk: a new webhook accepted after recovery",
                post_mo(d.port, "disk-after", "84899999", QUESTIONS[1]) == 200)
        ok = wait_delivered(d, fake, timeout=40)
        stored = {r["provider_id"] for r in d.query(
            "SELECT provider_id FROM messages WHERE direction = 'in'")}
        T.check("disk: every acknowledged message is stored",
                set(acked) | {"disk-0", "disk-after"} <= stored, set(acked) - stored)
        T.check("disk: stored messages are decided and answered after recovery", ok,
                d.query("SELECT status, count(*) AS n FROM messages GROUP BY status"))
        with fake.lock:
            subs = dict(fake.submissions)
        T.check("disk: nothing submitted twice to the provider", all(v == 1 for v in subs.values()),
                {k: v for k, v in subs.items() if v > 1})
        print(f"figures disk: {n} webhooks with the disk full, {len(acked)} acknowledged (all stored), "
              f"{len(refused)} answered 503; after space returned all stored messages answered",
              flush=True)
        # Read-only: a filesystem cannot be remounted read-only under an open
        # database, so this is the restart case: the daemon must refuse to
        # start (systemd retries) rather than run without its database.
        n_before = d.query("SELECT count(*) AS n FROM messages")[0]["n"]
        d.stop()
        ro = subprocess.run(["mount", "-o", "remount,ro", mnt]).returncode == 0
        T.check("disk: remounted read-only", ro)
        if ro:
            try:
                d.start(timeout=10)
                started = True
            except RuntimeError:
                started = False
            T.check("disk: on a read-only filesystem the daemon refuses to start", not started,
                    d.tail(400))
            T.check("disk: and says it is the database", "database" in d.tail(2000).lower(),
                    d.tail(400))
            if started:
                d.stop()
            subprocess.run(["mount", "-o", "remount,rw", mnt])
            d.start()
            T.check("disk: starts again once writable, with every message",
                    d.query("SELECT count(*) AS n FROM messages")[0]["n"] == n_before and
                    post_mo(d.port, "disk-rw", "84811111", QUESTIONS[0]) == 200)
    finally:
        d.cleanup()
        fake.close()
        subprocess.run(["umount", "-l", mnt])
        os.rmdir(mnt)


# ---- (d) slow clients and connection floods ----------------------------------
def closed(s):
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def flood_test():
    d = Daemon({"http": {"max_connections": 100, "timeout": 3}})
    socks = []
    try:
        d.start()
        # Slowloris: headers trickled one byte at a time, never finished.
        slow = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        # A flood of idle connections, more than the limit.
        for _ in range(300):
            socks.append(socket.create_connection(("127.0.0.1", d.port)))
        t0 = time.time()
        time.sleep(0.3)
        open_now = [s for s in socks + slow if not closed(s)]
        T.check("flood: the limit holds (the longest idle connections were evicted)",
                len(open_now) <= 100, len(open_now))
        r = d.request("GET", "/healthz", timeout=5)
        T.check("flood: /healthz served during 300 idle + 20 slowloris connections",
                r.status == 200, r)
        ok = 0
        for _ in range(20):
            try:
                ok += d.request("GET", "/healthz", timeout=5).status == 200
            except OSError:
                pass
        T.check("flood: 20 more requests served", ok == 20, ok)
        # Keep trickling: the deadline counts from the connection's start.
        for _ in range(5):
            for s in slow:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            time.sleep(1)

        alive = [s for s in socks if not closed(s)]
        slow_alive = [s for s in slow if not closed(s)]
        T.check("flood: idle connections cut after http.timeout", not alive, len(alive))
        T.check("flood: trickling clients cut after http.timeout", not slow_alive, len(slow_alive))
        r = d.request("GET", "/healthz", timeout=5)
        T.check("flood: still serving afterwards", r.status == 200, r)
        print(f"figures flood: 300 idle + 20 slowloris connections, max_connections 100, "
              f"{len(socks) + len(slow) - len(open_now)} evicted at once, then {len(socks) - len(alive)} idle and "
              f"{len(slow) - len(slow_alive)} slowloris cut "
              f"after {time.time() - t0:.1f} s, 21 requests all served", flush=True)
    finally:
        for s in socks:
            s.close()
        d.cleanup()


def busy_limit_test():
    """At the limit with every connection busy (event streams), a new
    connection is refused, none of the streams is cut, and room comes back
    when one ends."""
    d = Daemon({"http": {"max_connections": 5, "timeout": 3}})
    streams = []
    try:
        d.start()
        p = d.cli("user", "add", "ops", "--role", "staff", stdin="streams are busy\n")
        r = d.request("POST", "/api/login", json_body={"username": "ops", "password": "streams are busy"})
        cookie = "; ".join(f"{k}={v}" for k, v in d.cookies.items())
        T.check("limit: logged in for event streams", p.returncode == 0 and r.status == 200, r)
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(f"GET /api/events HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode())
            head = s.recv(4096)
            streams.append((s, head))
        T.check("limit: 5 event streams open", all(h.startswith(b"HTTP/1.1 200") for _, h in streams),
                [h[:20] for _, h in streams])
        time.sleep(0.3)
        try:
            st = d.request("GET", "/healthz", timeout=3).status
        except OSError:
            st = None
        T.check("limit: a 6th connection is refused while all 5 are busy", st is None, st)
        time.sleep(4)   # beyond http.timeout: busy streams must not be cut
        T.check("limit: busy streams are never cut by the idle deadline",
                not any(closed(s) for s, _ in streams))
        streams[0][0].close()
        ok = d.wait_for(lambda: _healthz_ok(d), timeout=5, interval=0.3)
        T.check("limit: room comes back when a stream ends", ok)
    finally:
        for s, _ in streams:
            s.close()
        d.cleanup()


def _healthz_ok(d):
    try:
        return d.request("GET", "/healthz", timeout=2).status == 200
    except OSError:
        return False


for fn in (crash_test, outage_test, disk_test, flood_test, busy_limit_test):
    try:
        fn()
    except Exception as e:  # a broken scenario is a failure, the others still run
        T.check(f"{fn.__name__} ran without error", False, repr(e))
T.done()
