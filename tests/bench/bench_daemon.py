"""bench_daemon.py - load on the whole webhook path, against the HTTP ceiling.

For each concurrency (BENCH_CONNS, default "50 500") and each path:
  zalo    signed Zalo OA webhooks (X-ZEvent-Signature), unique msg_id and sender
  kannel  Kannel MO webhooks (token auth), unique id and sender
  static  GET /livez on the same server, a static 200 that touches nothing:
          the ceiling of the HTTP layer, which the ratio column divides by
  healthz GET /healthz (reads the database and builds JSON), for comparison
  floor   the zalo webhooks against build/bench/relay instead of the daemon:
          answer 200, send a reply of the usual size to the sink, nothing
          else (tests/bench/relay.c).  The floor under any design of the
          path on libevent's HTTP, on this machine: its ratio bounds every
          such daemon's
  lean    the zalo webhooks against build/bench/lean: the least a daemon on
          this stack must do (the Zalo adapter's verify and parse, match,
          SQLite group commit, the adapter's reply sent with libcurl, marked
          sent), one database per event loop (tests/bench/lean.c): a bound
          with this project's libraries
  paced   the zalo path at a fixed offered rate (BENCH_RATE, default 1000/s
          over all connections): latency below saturation, where wrk's
          closed loop otherwise makes latency = connections / throughput
wrk drives a fresh daemon for BENCH_SECONDS (default 10) over loopback; the
replies go out through the outbox to build/bench/sink (fake Zalo / Kannel),
which records when each arrived.  Printed per run: accepted webhooks/s (2xx
only), p50/p99 acknowledgement latency (wrk), end-to-end reply latency (the
inbound row's commit time to the reply's arrival at the sink: the webhook's
own acknowledgement latency comes on top), replies delivered, and the
daemon's peak RSS (VmHWM).  A Markdown table ends the output.

Nothing here asserts speed: it measures.  Environment: BENCH_SECONDS,
BENCH_CONNS, BENCH_PATHS (default "zalo kannel static healthz floor lean paced"), BENCH_RATE,
BENCH_THREADS (wrk threads, default 1: the machine is small and the daemon's
loop is one thread), BENCH_SYNC (database_synchronous, default FULL: every
acknowledged message is on disk), BENCH_OUTBOX (outbox.concurrency, default
256: replies in flight to the sink), BENCH_LOG_LEVEL (default warn),
BENCH_RELAY_THREADS (the event loops of relay and lean, default 2: one per
core).
"""
import hashlib
import json
import os
import resource
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import Daemon, ROOT, free_port  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNS = [int(c) for c in os.environ.get("BENCH_CONNS", "50 500").split()]
PATHS = os.environ.get("BENCH_PATHS", "zalo kannel static healthz floor lean paced").split()
PLAIN = ("static", "healthz")   # GET routes: no messages, no replies
RATE = int(os.environ.get("BENCH_RATE", "1000"))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
SINK = os.path.join(ROOT, "build", "bench", "sink")
RELAY = os.path.join(ROOT, "build", "bench", "relay")
LEAN = os.path.join(ROOT, "build", "bench", "lean")
STANDINS = ("floor", "lean")   # paths served by a stand-in, not the daemon
APP_ID, OA_SECRET, TOKEN = "2553928453557884079", "bench-oa-secret", "bench-kannel-token"
FAQ = json.load(open(os.path.join(ROOT, "knowledge/data/faq.json"), encoding="utf-8"))
QUESTIONS = [e["question"] for e in FAQ["entries"]]


def write_zalo_bodies(path, n, tag):
    """n signed webhooks, one per line: hex mac, TAB, the exact body."""
    ts = str(int(time.time() * 1000))
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            body = json.dumps({
                "event_name": "user_send_text", "app_id": APP_ID,
                "sender": {"id": f"7{tag:02d}{i:016d}"}, "recipient": {"id": "3662729599332560487"},
                "message": {"text": QUESTIONS[i % len(QUESTIONS)], "msg_id": f"b{tag}m{i}"},
                "timestamp": ts}, ensure_ascii=False, separators=(",", ":"))
            mac = hashlib.sha256((APP_ID + body + ts + OA_SECRET).encode("utf-8")).hexdigest()
            f.write(mac + "\t" + body + "\n")


def write_kannel_texts(path):
    with open(path, "w") as f:
        for q in QUESTIONS:
            f.write(urllib.parse.quote(q, safe="") + "\n")


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def ms(text):
    """wrk's '1.23ms' / '456.00us' / '1.02s' as milliseconds."""
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        return float("nan")
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v if u == "ms" else v * 1000 if u == "s" else v * 60000


def parse_wrk(out):
    r = {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "requests": 0, "non2xx": 0,
         "errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["errors"] = sum(int(x) for x in m.groups())
    for p in ("50", "99"):
        m = re.search(rf"^\s+{p}(?:\.000)?%\s+(\S+)", out, re.M)
        if m:
            r["p" + p] = ms(m.group(1))
    return r


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """The process's user + system CPU time: unlike wall-clock rates, CPU per
    message is stable on a machine shared with other work."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_jiffies():
    """All CPUs' time and their idle time (idle + iowait), in clock ticks."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[3] + v[4]


def sink_count(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=2) as r:
            return int(r.read())
    except Exception:
        return -1


class StandIn:
    """build/bench/relay or lean in the daemon's place, with the few of the
    Daemon harness's methods that run() uses.  A message counts as stored
    when wrk got its 200 (lean's databases are not read), and has no commit
    time (no e2e)."""

    def __init__(self, path, sink_port, tmp, tag):
        self.port, self.proc = free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.argv = [RELAY if path == "floor" else LEAN, str(self.port), str(sink_port),
                     os.environ.get("BENCH_RELAY_THREADS", "2")]
        if path == "lean":
            self.argv += [os.path.join(tmp, f"lean-{tag}.db"),
                          os.path.join(ROOT, "knowledge/data/faq.json")]

    def start(self):
        self.proc = subprocess.Popen(self.argv)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
            except urllib.error.HTTPError:
                return   # it answers (404 for /): listening
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.argv[0]} did not start")

    def query(self, sql):
        return [{"n": self.accepted}] if "count(*)" in sql else []

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()


def run(path, conns, tmp, tag):
    sink_port = free_port()
    arrivals_file = os.path.join(tmp, f"arrivals-{tag}.txt")
    sink = subprocess.Popen([SINK, str(sink_port), arrivals_file])
    base = f"http://127.0.0.1:{sink_port}"
    d = StandIn(path, sink_port, tmp, tag) if path in STANDINS else Daemon({
        "log_level": os.environ.get("BENCH_LOG_LEVEL", "warn"),
        "database_synchronous": os.environ.get("BENCH_SYNC", "FULL"),
        "limits": {"auto_replies": 1000},
        "http": {"max_connections": 4096},
        "outbox": {"concurrency": int(os.environ.get("BENCH_OUTBOX", "256"))},
        "channels": {
            "zalo": {"app_id": APP_ID, "oa_secret": OA_SECRET, "app_secret": "bench-app-secret",
                     "refresh_token": "bench-refresh-0", "api_base": base, "oauth_base": base},
            "kannel": {"sendsms_url": base + "/cgi-bin/sendsms", "username": "u", "password": "p",
                       "from": "1022", "webhook_token": TOKEN}},
    })
    try:
        while sink_count(sink_port) < 0:
            time.sleep(0.05)
        d.start()
        url = d.url
        wrk = ["wrk", "-t", str(THREADS), "-c", str(conns), "-d", f"{SECONDS}s", "--timeout", "10s",
               "--latency"]
        env = dict(os.environ)
        if path == "paced":
            env["WRK_PACE_MS"] = str(max(1, conns * 1000 // RATE))
        if path in ("zalo", "paced") + STANDINS:
            bodies = os.path.join(tmp, f"zalo-{tag}.txt")
            # Enough unique messages that wrk never comes back to the first:
            # a repeated one is acknowledged as a duplicate, which is cheaper
            # and would flatter the rate (checked below).
            n_bodies = RATE * SECONDS * 3 // 2 + 1000 if path == "paced" else SECONDS * 25000
            write_zalo_bodies(bodies, n_bodies, tag)
            wrk += ["-s", os.path.join(HERE, "zalo.lua"), url, "--", bodies, str(THREADS)]
        elif path == "kannel":
            texts = os.path.join(tmp, "texts.txt")
            write_kannel_texts(texts)
            wrk += ["-s", os.path.join(HERE, "kannel.lua"), url, "--", TOKEN, texts]
        else:
            wrk += [url + ("/livez" if path == "static" else "/healthz")]
        cpu0 = cpu_seconds(d.proc.pid)
        # Where the machine's CPU goes while wrk runs: the daemon, wrk and
        # the sink share it (the sink stands for a provider elsewhere).
        total0, idle0 = machine_jiffies()
        sink0, wrk0 = cpu_seconds(sink.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(wrk, capture_output=True, text=True, env=env).stdout
        total1, idle1 = machine_jiffies()
        wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        span = (total1 - total0) / os.sysconf("SC_CLK_TCK")   # CPU-seconds of all cores
        share = lambda sec: 100.0 * sec / span if span > 0 else float("nan")
        split = {"hotline": share(cpu_seconds(d.proc.pid) - cpu0),
                 "wrk": share(wrk1.ru_utime + wrk1.ru_stime - wrk0.ru_utime - wrk0.ru_stime),
                 "sink": share(cpu_seconds(sink.pid) - sink0),
                 "idle": 100.0 * (idle1 - idle0) / (total1 - total0) if total1 > total0 else float("nan")}
        w = parse_wrk(out)
        if path in STANDINS:
            d.accepted = w["requests"] - w["non2xx"]
        if path in ("zalo", "paced") + STANDINS and w["requests"] > n_bodies:
            print(f"warning: {w['requests']} requests for {n_bodies} unique messages: "
                  "the rest were duplicates", flush=True)
        res = dict(w, path=path, conns=conns, delivered=0, stored=0, e2e50=float("nan"),
                   e2e99=float("nan"), drain_s=0.0, split=split)
        if path not in PLAIN:
            stored = d.query("SELECT count(*) AS n FROM messages WHERE direction = 'in'")[0]["n"]
            t0 = time.time()
            last, last_change = -1, time.time()
            while time.time() - t0 < 120:
                n = sink_count(sink_port)
                if n >= stored:
                    stored = d.query("SELECT count(*) AS n FROM messages WHERE direction = 'in'")[0]["n"]
                    if n >= stored:
                        break
                if n != last:
                    last, last_change = n, time.time()
                elif time.time() - last_change > 10:
                    break
                time.sleep(0.1)
            res["drain_s"] = time.time() - t0
            # Requests in flight when wrk stopped were stored after the first count.
            res["stored"] = d.query("SELECT count(*) AS n FROM messages WHERE direction = 'in'")[0]["n"]
        res["rss_mb"] = vm_hwm_kb(d.proc.pid) / 1024.0
        # CPU per message: from the first request to the last reply sent.
        n_done = res["stored"] if path not in PLAIN else w["requests"]
        res["cpu_us"] = (cpu_seconds(d.proc.pid) - cpu0) * 1e6 / n_done if n_done else float("nan")
        if path not in PLAIN:
            rows = d.query("SELECT c.address, m.created_at FROM messages m JOIN contacts c "
                           "ON c.id = m.contact_id WHERE m.direction = 'in'")
        d.stop()
        sink.send_signal(signal.SIGTERM)
        sink.wait(10)
        if path not in PLAIN:
            stored_at = {r["address"]: r["created_at"] for r in rows}
            lat = []
            with open(arrivals_file) as f:
                for line in f:
                    addr, t = line.split()
                    if addr in stored_at:
                        lat.append(int(t) - stored_at[addr])
            res["delivered"] = len(lat)
            if path in STANDINS:   # no commit times: count the arrivals
                with open(arrivals_file) as f:
                    res["delivered"] = sum(1 for _ in f)
            res["e2e50"], res["e2e99"] = pct(lat, 50), pct(lat, 99)
        return res, out
    finally:
        if sink.poll() is None:
            sink.kill()
        d.cleanup()


def main():
    if not os.path.exists(SINK):
        sys.exit("build/bench/sink is missing: run make bench")
    tmp = tempfile.mkdtemp(prefix="hotline-bench-")
    results = []
    tag = 0
    for conns in CONNS:
        for path in PATHS:
            tag += 1
            r, out = run(path, conns, tmp, tag)
            results.append(r)
            print(f"--- {path} at {conns} connections, {SECONDS} s", flush=True)
            print(out.strip())
            print(f"accepted {r['rps']:.0f}/s, ack p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms, "
                  f"non-2xx {r['non2xx']}, socket errors {r['errors']}, stored {r['stored']}, "
                  f"replies delivered {r['delivered']} (drained {r['drain_s']:.1f} s after the load), "
                  f"end-to-end p50 {r['e2e50']:.0f} ms p99 {r['e2e99']:.0f} ms, "
                  f"peak RSS {r['rss_mb']:.1f} MB, daemon CPU {r['cpu_us']:.0f} us per message", flush=True)
            print(f"machine CPU during the load ({os.cpu_count()} cores = 100%): " +
                  ", ".join(f"{k} {v:.0f}%" for k, v in r["split"].items()), flush=True)
    print()
    print("| path | conns | accepted/s | ack p50 ms | ack p99 ms | non-2xx+errors | stored | replies "
          "delivered | e2e p50 ms | e2e p99 ms | peak RSS MB | CPU us/msg | vs ceiling | "
          "machine % hotline/wrk/sink/idle |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        ceil = [c for c in results if c["path"] == "static" and c["conns"] == r["conns"]]
        ratio = f"{r['rps'] / ceil[0]['rps']:.2f}" if ceil and ceil[0]["rps"] else "-"
        if r["path"] == "paced":
            ratio = f"offered {RATE}/s"
        dash = r["path"] in PLAIN
        print(f"| {r['path']} | {r['conns']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['non2xx'] + r['errors']} | {'-' if dash else r['stored']} | "
              f"{'-' if dash else r['delivered']} | {'-' if dash else '%.0f' % r['e2e50']} | "
              f"{'-' if dash else '%.0f' % r['e2e99']} | {r['rss_mb']:.1f} | {r['cpu_us']:.0f} | {ratio} | "
              + "/".join(f"{v:.0f}" for v in r["split"].values()) + " |")


if __name__ == "__main__":
    main()
