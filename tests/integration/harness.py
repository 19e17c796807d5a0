"""harness.py - shared helpers for the integration tests.

Each test file starts real daemons (build/hotline serve) on free loopback
ports with a temporary configuration and database, talks to them over HTTP,
records checks with Checks.check(), and ends with Checks.done(), which prints
the summary line "N passed, M failed" that tests/run.sh adds up.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# HOTLINE_BIN runs the tests (and the bench) against another build, e.g.
# build/asan/hotline from sanitize.sh, or an older binary for paired runs.
HOTLINE = os.path.abspath(os.environ.get("HOTLINE_BIN") or os.path.join(ROOT, "build", "hotline"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def deep_merge(a, b):
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {self.name}: {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {self.name}: {what} {detail}", flush=True)
        return bool(cond)

    def done(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except Exception:
            return None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<{self.status} {self.body[:200]!r}>"


class Daemon:
    """A hotline daemon on a free port with its own folder and database."""

    def __init__(self, config=None, env=None, workdir=None, port=None):
        self.tmp = workdir or tempfile.mkdtemp(prefix="hotline-test-")
        self.port = port or free_port()
        self.db_path = os.path.join(self.tmp, "hotline.db")
        base = {
            "listen": f"127.0.0.1:{self.port}",
            "database": self.db_path,
            "log_level": "info",
            "knowledge": {
                "corpus": os.path.join(ROOT, "knowledge/data/faq.json"),
                "lexicon": os.path.join(ROOT, "knowledge/data/lexicon.json"),
            },
            "console": {"dir": os.path.join(ROOT, "bot/console")},
            "channels": {"web": {"dir": os.path.join(ROOT, "bot/chat")}},
        }
        self.config = deep_merge(base, config or {})
        self.config_path = os.path.join(self.tmp, "hotline.json")
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, ensure_ascii=False, indent=1)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.log_path = os.path.join(self.tmp, "daemon.log")
        self.stdout_path = os.path.join(self.tmp, "daemon.out")
        self.cookies = {}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        self.log = open(self.log_path, "ab")
        self.out = open(self.stdout_path, "ab")
        self.proc = subprocess.Popen([HOTLINE, "serve", "--config", self.config_path],
                                     stdout=self.out, stderr=self.log, env=self.env, cwd=ROOT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.tail()}")
            try:
                r = self.request("GET", "/healthz", timeout=1)
                if r.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("daemon did not answer /healthz: " + self.tail())

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        self.out.close()
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if os.environ.get("HOTLINE_KEEP_TMP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)

    def tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stdout(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def cli(self, *args, stdin=None):
        """Runs a hotline subcommand against this daemon's configuration."""
        p = subprocess.run([HOTLINE, *args, "--config", self.config_path], input=stdin,
                           capture_output=True, text=True, cwd=ROOT, env=self.env, timeout=60)
        return p

    def request(self, method, path, body=None, headers=None, json_body=None, timeout=10,
                cookies=True):
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if cookies and self.cookies:
            hdrs.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            resp = Response(r.status, r.getheaders(), r.read())
        finally:
            c.close()
        if cookies:
            for k, v in resp.headers:
                if k.lower() == "set-cookie":
                    name, _, rest = v.partition("=")
                    value = rest.split(";", 1)[0]
                    if value:
                        self.cookies[name.strip()] = value
                    else:
                        self.cookies.pop(name.strip(), None)
        return resp

    def db(self):
        conn = sqlite3.connect(self.db_path, timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def query(self, sql, *args):
        conn = self.db()
        try:
            return [dict(r) for r in conn.execute(sql, args).fetchall()]
        finally:
            conn.close()

    def wait_for(self, fn, timeout=10, interval=0.05):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = fn()
            if last:
                return last
            time.sleep(interval)
        return last


def form(params):
    return urllib.parse.urlencode(params)
