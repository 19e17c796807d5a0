"""test_daemon.py - issue 2: the daemon, its store and its HTTP surface.

Starts the real daemon on a temporary database and checks: health and
metrics, the web chat answering through the whole pipeline, the holding reply
once per case, limits and malformed requests (4xx, still serving), durability
of acknowledged webhooks across SIGKILL, SIGHUP reload, clean SIGTERM, and
masked phone numbers in the log.
"""
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Checks, Daemon, ROOT  # noqa: E402

T = Checks("daemon")
TOKEN = "kannel-test-token"
FAQ = json.load(open(os.path.join(ROOT, "knowledge/data/faq.json"), encoding="utf-8"))
ENTRY = FAQ["entries"][0]

d = Daemon({
    "http": {"max_body": 4096, "trusted_proxies": "127.0.0.1"},
    "channels": {"kannel": {
        # Nothing listens there: replies stay queued, which is fine here.
        "sendsms_url": "http://127.0.0.1:9/cgi-bin/sendsms",
        "username": "u", "password": "p", "webhook_token": TOKEN}},
})
try:
    d.start()
    out = d.stdout()
    T.check("prints where it listens", f"listening on http://127.0.0.1:{d.port}/" in out, out)
    T.check("prints the console address", "/console/" in out, out)

    r = d.request("GET", "/healthz")
    h = r.json() or {}
    T.check("healthz 200 with status ok", r.status == 200 and h.get("status") == "ok", r)
    T.check("healthz reports the database and version",
            h.get("database") == "ok" and bool(h.get("version")), h)
    T.check("sample corpus imported on first start", h.get("entries") == len(FAQ["entries"]), h)
    r = d.request("GET", "/livez")
    T.check("livez answers a plain 200 'ok'", r.status == 200 and r.body == b"ok\n", r)
    r = d.request("POST", "/livez")
    T.check("livez takes only GET and HEAD", r.status == 405, r)

    # The web chat goes through the whole pipeline.
    r = d.request("POST", "/chat/send", json_body={"text": ENTRY["question"]})
    msgs = (r.json() or {}).get("messages", [])
    T.check("web chat answers an entry's own question", r.status == 200 and len(msgs) == 1 and
            msgs[0]["text"] == ENTRY["answer"], r)
    T.check("web chat sets a visitor cookie", "hl_chat" in d.cookies, d.cookies)

    r = d.request("POST", "/chat/send", json_body={"text": "con mèo nhà tôi hôm nay bị ốm phải làm sao"})
    msgs = (r.json() or {}).get("messages", [])
    T.check("out-of-scope message gets the holding reply", r.status == 200 and len(msgs) == 1 and
            "cán bộ" in msgs[0]["text"].lower(), r)
    r = d.request("POST", "/chat/send", json_body={"text": "xe máy của tôi bị hỏng bugi"})
    T.check("a second escalated message gets no second holding reply",
            r.status == 200 and (r.json() or {}).get("messages") == [], r)
    cases = d.query("SELECT c.id, c.reason, c.status, count(m.id) AS n FROM cases c "
                    "JOIN messages m ON m.case_id = c.id AND m.direction = 'in' GROUP BY c.id")
    T.check("one open case holds both messages", len(cases) == 1 and cases[0]["n"] == 2 and
            cases[0]["status"] == "open" and cases[0]["reason"] in
            ("no_match", "low_confidence", "ambiguous"), cases)

    r = d.request("GET", "/chat/poll?after=0")
    T.check("poll returns the visitor's replies in order",
            r.status == 200 and len((r.json() or {}).get("messages", [])) == 2, r)
    r = d.request("GET", "/chat/poll?after=-5")
    T.check("poll with a negative id is a 400", r.status == 400, r)

    # Limits and malformed input: 4xx, and the daemon keeps serving.
    r = d.request("POST", "/chat/send", body=b"{\"text\": \"" + b"a" * 8000 + b"\"}",
                  headers={"Content-Type": "application/json"})
    T.check("body over http.max_body gets 413", r.status == 413, r)
    r = d.request("POST", "/chat/send", body=b"{\"text\": ", headers={"Content-Type": "application/json"})
    T.check("truncated JSON gets 400", r.status == 400, r)
    r = d.request("POST", "/chat/send", body=b"text=hi", headers={"Content-Type": "text/plain"})
    T.check("wrong content type gets 415", r.status == 415, r)
    r = d.request("POST", "/chat/send", body=b"{\"text\": \"\\u0000abc\"}",
                  headers={"Content-Type": "application/json"})
    T.check("NUL in text gets 400", r.status == 400, r)
    r = d.request("POST", "/chat/send", body=b"{\"text\": \"\xff\xfe\"}",
                  headers={"Content-Type": "application/json"})
    T.check("invalid UTF-8 gets 400", r.status == 400, r)
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    s.sendall(b"GARBAGE \x00\x01 nonsense\r\n\r\n")
    first = s.recv(100)
    s.close()
    T.check("a malformed request line gets a 4xx", first.startswith(b"HTTP/1.1 4"), first)
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    first = s.recv(100)
    s.close()
    T.check("huge headers get a 4xx", first.startswith(b"HTTP/1.1 4"), first)
    r = d.request("GET", "/console/../../etc/passwd")
    T.check("path traversal on static files is refused", r.status == 404 and b"root:" not in r.body, r)
    r = d.request("DELETE", "/healthz")
    T.check("wrong method gets 405", r.status == 405, r)
    r = d.request("GET", "/no/such/route")
    T.check("unknown route gets 404", r.status == 404, r)
    r = d.request("GET", "/healthz")
    T.check("still serving after bad input", r.status == 200, r)

    r = d.request("GET", "/metrics")
    body = r.body.decode()
    T.check("metrics in Prometheus text format", r.status == 200 and
            'hotline_messages_in_total{channel="web"} 3' in body and
            "hotline_http_request_duration_seconds_bucket" in body and
            "hotline_outbox_depth" in body and 'hotline_escalated_total{reason=' in body, body[:500])

    # Durability: webhooks acknowledged concurrently, then SIGKILL at once.
    acked = []
    lock = threading.Lock()

    def sender(k):
        for i in range(25):
            pid = f"k{k}-{i}"
            try:
                r = d.request("GET", f"/webhook/kannel?token={TOKEN}&from=0912345678&to=1022"
                                     f"&text=xin+chao+{pid}&id={pid}&ts=1700000000", cookies=False)
                if r.status == 200:
                    with lock:
                        acked.append(pid)
            except OSError:
                pass
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    d.kill()
    T.check("webhooks acknowledged before the kill", len(acked) == 200, len(acked))
    d.start()
    stored = {r["provider_id"] for r in d.query(
        "SELECT provider_id FROM messages WHERE channel = 'kannel' AND direction = 'in'")}
    T.check("every acknowledged message survived SIGKILL", set(acked) <= stored,
            sorted(set(acked) - stored)[:5])
    undecided = d.query("SELECT count(*) AS n FROM messages WHERE status = 'received'")[0]["n"]
    T.check("messages left undecided by the kill are decided after restart", undecided == 0, undecided)
    r = d.request("GET", f"/webhook/kannel?token={TOKEN}&from=0912345678&to=1022&text=lap+lai&id=k0-0",
                  cookies=False)
    n = d.query("SELECT count(*) AS n FROM messages WHERE provider_id = 'k0-0'")[0]["n"]
    T.check("a retried webhook is acknowledged and stored once", r.status == 200 and n == 1, (r, n))
    r = d.request("GET", "/webhook/kannel?token=wrong&from=0912345678&text=x&id=zz", cookies=False)
    T.check("a webhook with a bad token gets 401 and stores nothing",
            r.status == 401 and not d.query("SELECT 1 FROM messages WHERE provider_id = 'zz'"), r)
    r = d.request("GET", "/webhook/kannel?token=wrong2&from=1&text=x", cookies=False,
                  headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
    T.check("behind a trusted proxy the client is the proxy's last X-Forwarded-For hop",
            r.status == 401 and d.wait_for(lambda: "peer=203.0.113.7" in d.tail(20000), 3), d.tail(500))
    r = d.request("GET", "/webhook/twilio", cookies=False)
    T.check("an unconfigured channel answers 404", r.status == 404, r)

    # SIGHUP reloads the knowledge base without dropping the server.
    corpus = os.path.join(d.tmp, "extra.json")
    json.dump({"entries": [{"id": "thu-nghiem-hup", "question": "Giờ mở cửa bảo tàng hải quân?",
                            "answer": "Bảo tàng mở cửa 8h-17h."}]}, open(corpus, "w"), ensure_ascii=False)
    p = d.cli("import", corpus)
    T.check("hotline import loads a corpus into the database", p.returncode == 0, p.stderr)
    d.proc.send_signal(signal.SIGHUP)
    ok = d.wait_for(lambda: "event=kb_reloaded" in d.tail(20000), timeout=5)
    r = d.request("POST", "/chat/send", json_body={"text": "giờ mở cửa bảo tàng hải quân"})
    msgs = (r.json() or {}).get("messages", [])
    T.check("after SIGHUP the new entry answers", ok and msgs and msgs[0]["text"] == "Bảo tàng mở cửa 8h-17h.", r)
    T.check("health after reload reports the new entry",
            (d.request("GET", "/healthz").json() or {}).get("entries") == len(FAQ["entries"]) + 1)

    exported = os.path.join(d.tmp, "export.json")
    p = d.cli("export", "-o", exported)
    try:
        ids = [e["id"] for e in json.load(open(exported, encoding="utf-8"))["entries"]]
    except (OSError, ValueError, KeyError):
        ids = []
    T.check("hotline export writes every entry back as faq.json",
            p.returncode == 0 and len(ids) == len(FAQ["entries"]) + 1 and "thu-nghiem-hup" in ids, p.stderr)
    bad_corpus = os.path.join(d.tmp, "bad.csv")
    open(bad_corpus, "w").write('question,answer\n"Hỏi gì đó?","Trả lời"\n"không đóng ngoặc,x\n')
    p = d.cli("import", bad_corpus)
    T.check("a bad CSV is refused naming the file and line", p.returncode == 1 and "bad.csv" in p.stderr
            and "line" in p.stderr, p.stderr)

    log = d.tail(10 ** 6)
    T.check("phone numbers are masked in the log", "0912345678" not in log and "0912***678" in log)
    T.check("secrets are not logged", TOKEN not in log)
    rc = d.stop(signal.SIGTERM)
    T.check("SIGTERM stops cleanly (exit 0)", rc == 0, rc)
    T.check("the log records the clean stop", "event=stopped" in d.tail(5000))

    import subprocess
    from harness import HOTLINE

    def check_config(path):
        return subprocess.run([HOTLINE, "check-config", path], capture_output=True, text=True, cwd=ROOT)
    p = check_config(d.config_path)
    T.check("check-config accepts the test configuration",
            p.returncode == 0 and "configuration OK" in p.stdout, p.stdout + p.stderr)
    bad = os.path.join(d.tmp, "bad.json")
    open(bad, "w").write('{"listen": "127.0.0.1:1", "channels": {"zalo": {"app_idd": "x"}}}')
    p = check_config(bad)
    T.check("check-config names the unknown key", p.returncode == 1 and "channels.zalo.app_idd" in p.stderr, p.stderr)
    backup = os.path.join(d.tmp, "backup.db")
    p = d.cli("backup", backup)
    T.check("hotline backup writes a usable copy", p.returncode == 0 and os.path.getsize(backup) > 0, p.stderr)

    # An operator's shell lacks the service's secret environment: commands that
    # send nothing still run, check-config (and serve) still refuse.
    cfg = json.load(open(d.config_path))
    cfg.setdefault("channels", {}).setdefault("zalo", {})["oa_secret"] = "$HOTLINE_TEST_UNSET_SECRET"
    shell_cfg = os.path.join(d.tmp, "shell.json")
    json.dump(cfg, open(shell_cfg, "w"))
    env = {k: v for k, v in os.environ.items() if k != "HOTLINE_TEST_UNSET_SECRET"}
    backup2 = os.path.join(d.tmp, "backup2.db")
    p = subprocess.run([HOTLINE, "backup", backup2, "--config", shell_cfg], capture_output=True, text=True,
                       cwd=ROOT, env=env)
    T.check("backup runs with a secret's environment variable unset",
            p.returncode == 0 and os.path.getsize(backup2) > 0, p.stderr)
    p = subprocess.run([HOTLINE, "check-config", shell_cfg], capture_output=True, text=True, cwd=ROOT, env=env)
    T.check("check-config still names the unset variable",
            p.returncode == 1 and "HOTLINE_TEST_UNSET_SECRET" in p.stderr, p.stderr)
finally:
    d.cleanup()
T.done()
