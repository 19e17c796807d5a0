"""test_kannel_e2e.py - issue 3: a real SMS path on one machine.

Debian's Kannel (bearerbox + smsbox, configured from deploy/kannel.conf) with
its fake SMSC (fakesmsc, from kannel-extras) in front of the real daemon:

    fakesmsc --MO--> bearerbox -> smsbox --get-url--> hotline
    hotline --sendsms--> smsbox -> bearerbox --MT--> fakesmsc

Checks: a corpus question injected at fakesmsc comes back to fakesmsc as the
entry's SMS answer, unaccented when sms.unaccent says so (auto: it saves
parts here) and accented UCS-2 when it says never; delivery reports reach the
outbox through dlr-url; an out-of-scope SMS opens a case in the human queue
and gets the holding reply; Kannel logs no PANIC or ERROR.

Everything (ports, configuration, logs) lives in a temporary folder; every
process is started and stopped here, with bounded waits.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Checks, Daemon, ROOT, free_port  # noqa: E402

T = Checks("kannel_e2e")
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
TOKEN = "e2e-webhook-token"
SENDSMS_PASSWORD = "e2e-sendsms-pw"
ADMIN_PASSWORD = "e2e-admin-pw"
OUR_NUMBER = "1022"

FAQ = json.load(open(os.path.join(ROOT, "knowledge/data/faq.json"), encoding="utf-8"))
ENTRY = FAQ["entries"][0]
ENTRY2 = FAQ["entries"][2] if len(FAQ["entries"]) > 2 else FAQ["entries"][-1]


def unaccent(s):
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def kannel_conf(tmp, ports, daemon_port):
    """deploy/kannel.conf with its documented placeholders replaced."""
    text = open(os.path.join(ROOT, "deploy/kannel.conf"), encoding="utf-8").read()
    subs = [
        (r"(?m)^admin-port = 13000$", f"admin-port = {ports['admin']}"),
        (r"(?m)^smsbox-port = 13001$", f"smsbox-port = {ports['smsbox']}"),
        (r"(?m)^bearerbox-port = 13001$", f"bearerbox-port = {ports['smsbox']}"),
        (r"(?m)^sendsms-port = 13013$", f"sendsms-port = {ports['sendsms']}"),
        (r"(?m)^port = 10000$", f"port = {ports['fake']}"),
        (r"CHANGE_ME_ADMIN", ADMIN_PASSWORD),
        (r"CHANGE_ME_SENDSMS", SENDSMS_PASSWORD),
        (r"token=CHANGE_ME&", f"token={TOKEN}&"),
        (r"http://127\.0\.0\.1:8080/", f"http://127.0.0.1:{daemon_port}/"),
        (r"/var/log/kannel/", tmp + "/"),
        (r"/var/spool/kannel/", tmp + "/"),
    ]
    for pat, rep in subs:
        text, n = re.subn(pat, rep, text)
        if n == 0:
            raise RuntimeError(f"deploy/kannel.conf: placeholder {pat!r} not found")
    # Only the active lines must be free of placeholders (comments may mention them).
    active = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    if "CHANGE_ME" in active:
        raise RuntimeError("deploy/kannel.conf: a CHANGE_ME placeholder is left")
    path = os.path.join(tmp, "kannel.conf")
    with open(path, "w") as f:
        f.write(text)
    # bearerbox logs an ERROR when its store file does not exist yet.
    open(os.path.join(tmp, "kannel.store"), "a").close()
    return path


def wait_http(url, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            time.sleep(0.1)
    return None


def stop(proc, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class FakeSMSC:
    """One fakesmsc run: injects one MO and collects the MTs it receives.
    Kannel's fake SMSC serves one fakesmsc at a time, so runs never overlap."""

    def __init__(self, tmp, port, sender, text, n):
        self.log = os.path.join(tmp, f"fakesmsc-{n}.out")
        self.out = open(self.log, "wb")
        # Type "text" sends msgdata as typed (UTF-8 here); -m 1: one message.
        self.proc = subprocess.Popen([FAKESMSC, "-H", "127.0.0.1", "-r", str(port), "-i", "0.1",
                                      "-m", "1", f"{sender} {OUR_NUMBER} text {text}"],
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def received(self):
        """[(from, to, type, udh_bytes|None, text)] decoded."""
        try:
            data = open(self.log, "rb").read().decode("utf-8", "replace")
        except OSError:
            return []
        out = []
        for m in re.finditer(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>\s*$", data, re.M):
            frm, to, typ, rest = m.groups()
            udh = None
            if typ in ("udh", "udh-data", "udh-text"):
                udh_enc, _, rest = rest.partition(" ")
                udh = urllib.parse.unquote_to_bytes(udh_enc)
                kind, _, rest = rest.partition(" ")
                raw = urllib.parse.unquote_to_bytes(rest.replace("+", " "))
                text = raw.decode("utf-16-be") if b"\x00" in raw else raw.decode("latin-1")
            elif typ == "ucs-2":
                text = urllib.parse.unquote_to_bytes(rest.replace("+", " ")).decode("utf-16-be")
            elif typ == "data":
                text = urllib.parse.unquote_to_bytes(rest.replace("+", " ")).decode("latin-1")
            else:
                text = rest
            out.append((frm, to, typ, udh, text))
        return out

    def texts(self):
        """Whole messages: concatenated parts joined in UDH order."""
        parts, whole = {}, []
        for frm, to, typ, udh, text in self.received():
            if udh and len(udh) >= 6 and udh[1] == 0x00:
                ref, total, seq = udh[3], udh[4], udh[5]
                parts.setdefault(ref, {"total": total, "seq": {}})["seq"][seq] = text
            else:
                whole.append(text)
        for ref, p in parts.items():
            if len(p["seq"]) == p["total"]:
                whole.append("".join(p["seq"][i] for i in sorted(p["seq"])))
        return whole

    def wait_texts(self, n, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            t = self.texts()
            if len(t) >= n:
                return t
            time.sleep(0.1)
        return self.texts()

    def stop(self):
        stop(self.proc, 5)
        self.out.close()


def daemon_config(tmp, ports, unaccent_policy):
    return {
        "public_url": f"http://127.0.0.1:{ports['daemon']}",
        "hotline_number": OUR_NUMBER,
        "sms": {"unaccent": unaccent_policy, "max_segments": 5},
        "outbox": {"backoff_base_ms": 200, "backoff_max_ms": 2000},
        "channels": {"kannel": {
            "sendsms_url": f"http://127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms",
            "username": "hotline", "password": SENDSMS_PASSWORD, "from": OUR_NUMBER,
            "webhook_token": TOKEN}},
    }


def main():
    if not (shutil.which("bearerbox") and shutil.which("smsbox") and os.access(FAKESMSC, os.X_OK)):
        T.check("Kannel is installed (apt-get install kannel kannel-extras)", False,
                "bearerbox, smsbox or fakesmsc missing")
        T.done()
    tmp = tempfile.mkdtemp(prefix="hotline-kannel-")
    ports = {k: free_port() for k in ("admin", "smsbox", "sendsms", "fake", "daemon")}
    conf = kannel_conf(tmp, ports, ports["daemon"])
    procs = []
    d = None
    fakes = []
    try:
        os.makedirs(os.path.join(tmp, "d"), exist_ok=True)
        d = Daemon(daemon_config(tmp, ports, "auto"), workdir=os.path.join(tmp, "d"),
                   port=ports["daemon"])
        d.start()
        bb = subprocess.Popen(["bearerbox", conf], stdout=open(os.path.join(tmp, "bb.out"), "wb"),
                              stderr=subprocess.STDOUT, cwd=tmp)
        procs.append(bb)
        st = wait_http(f"http://127.0.0.1:{ports['admin']}/status.txt?password={ADMIN_PASSWORD}", 20)
        T.check("bearerbox answers on its admin port", st == 200, st)
        sb = subprocess.Popen(["smsbox", conf], stdout=open(os.path.join(tmp, "sb.out"), "wb"),
                              stderr=subprocess.STDOUT, cwd=tmp)
        procs.append(sb)
        st = wait_http(f"http://127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms", 20)
        T.check("smsbox answers on its sendsms port", st is not None, st)

        # 1. A corpus question, accented as citizens type it, sms.unaccent = auto.
        sender = "0901000001"
        f = FakeSMSC(tmp, ports["fake"], sender, ENTRY["question"], 1)
        fakes.append(f)
        texts = f.wait_texts(1, 30)
        want_src = ENTRY.get("answer_sms") or ENTRY["answer"]
        T.check("the answer comes back to fakesmsc", len(texts) >= 1, f.received())
        got = texts[0] if texts else ""
        rows = d.query("SELECT coalesce(o.text, m.text) AS text, o.coding, o.status, o.provider_id "
                       "FROM outbox o JOIN messages m ON m.id = o.message_id "
                       "JOIN contacts c ON c.id = o.contact_id WHERE c.channel = 'kannel' "
                       "AND c.address = ?", sender)
        T.check("one outbox row for the citizen", len(rows) == 1, rows)
        T.check("fakesmsc got exactly what the outbox sent", rows and got == rows[0]["text"],
                (got, rows))
        T.check("auto: unaccented (GSM-7, coding 0) because it saves parts",
                rows and rows[0]["coding"] == 0 and got.isascii(), (got, rows))
        T.check("it is the entry's SMS answer", got.startswith(unaccent(want_src)[:60]),
                (got, want_src))
        inm = d.query("SELECT decision, entry_id, provider_id FROM messages m JOIN contacts c "
                      "ON c.id = m.contact_id WHERE c.address = ? AND m.direction = 'in'", sender)
        T.check("stored as answered by the right entry with Kannel's id",
                inm and inm[0]["decision"] == "answer" and inm[0]["entry_id"] == ENTRY["id"]
                and len(inm[0]["provider_id"] or "") >= 32, inm)
        st = d.wait_for(lambda: [r for r in d.query(
            "SELECT o.status FROM outbox o JOIN contacts c ON c.id = o.contact_id "
            "WHERE c.address = ?", sender) if r["status"] == "delivered"], timeout=15)
        # Kannel fetches the type 8 (SMSC) and type 1 (phone) reports
        # concurrently: they may arrive in either order, and a late "8" must
        # not take a delivered row back to "sent".
        T.check("the delivery report (dlr-url) marks it delivered", bool(st),
                d.query("SELECT status, last_code, last_error FROM outbox"))
        f.stop()

        # 2. Out of scope: a case in the human queue, and the holding reply.
        sender2 = "0901000002"
        f = FakeSMSC(tmp, ports["fake"], sender2, "con meo nha toi hom nay bi om phai lam sao", 2)
        fakes.append(f)
        texts = f.wait_texts(1, 30)
        cases = d.wait_for(lambda: d.query(
            "SELECT cs.id, cs.status, cs.reason FROM cases cs JOIN contacts c ON c.id = cs.contact_id "
            "WHERE c.channel = 'kannel' AND c.address = ?", sender2), timeout=10)
        T.check("an out-of-scope SMS opens a case in the queue",
                cases and cases[0]["status"] == "open", cases)
        holding = d.query("SELECT coalesce(o.text, m.text) AS text FROM outbox o "
                          "JOIN messages m ON m.id = o.message_id "
                          "JOIN contacts c ON c.id = o.contact_id WHERE c.address = ?", sender2)
        T.check("the citizen gets the holding reply by SMS",
                texts and holding and texts[0] == holding[0]["text"], (texts, holding))
        # Let its delivery reports land before the daemon restarts below
        # (smsbox would log an ERROR for a report it cannot deliver).
        d.wait_for(lambda: [r for r in d.query(
            "SELECT o.status FROM outbox o JOIN contacts c ON c.id = o.contact_id "
            "WHERE c.address = ? AND o.last_code IS NOT NULL", sender2)], timeout=10)
        time.sleep(1)
        f.stop()

        # 3. sms.unaccent = never: the accented answer goes out as UCS-2.
        d.stop()
        d.config["sms"]["unaccent"] = "never"
        with open(d.config_path, "w") as fh:
            json.dump(d.config, fh, ensure_ascii=False)
        d.start()
        sender3 = "0901000003"
        f = FakeSMSC(tmp, ports["fake"], sender3, ENTRY2["question"], 3)
        fakes.append(f)
        texts = f.wait_texts(1, 30)
        rows = d.query("SELECT coalesce(o.text, m.text) AS text, o.coding FROM outbox o "
                       "JOIN messages m ON m.id = o.message_id "
                       "JOIN contacts c ON c.id = o.contact_id WHERE c.address = ?", sender3)
        want2 = ENTRY2.get("answer_sms") or ENTRY2["answer"]
        T.check("never: the answer keeps its accents and goes as UCS-2 (coding 2)",
                rows and rows[0]["coding"] == 2 and texts and texts[0] == rows[0]["text"]
                and texts[0].startswith(want2[:40]), (texts, rows))
        f.stop()

        # 4. Kannel itself is healthy.  Shut it down the way its own checks
        # do (admin "shutdown"; a signal makes bearerbox log an ERROR and
        # sometimes PANIC while it tears down).
        wait_http(f"http://127.0.0.1:{ports['admin']}/shutdown?password={ADMIN_PASSWORD}", 5)
        for p in (sb, bb):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                pass
        T.check("Kannel shuts down cleanly on the admin command",
                bb.poll() is not None and sb.poll() is not None, (bb.poll(), sb.poll()))
        logs = ""
        for name in ("bearerbox.log", "smsbox.log"):
            try:
                logs += open(os.path.join(tmp, name), encoding="utf-8", errors="replace").read()
            except OSError:
                pass
        bad = [l for l in logs.splitlines() if " PANIC: " in l or " ERROR: " in l]
        T.check("Kannel logged no PANIC or ERROR", not bad, bad[:5])
    except Exception as e:  # a crash is a failure, with the logs to explain it
        T.check("the test ran to the end", False, f"{type(e).__name__}: {e}\n" + (d.tail() if d else ""))
    finally:
        for f in fakes:
            f.stop()
        for p in reversed(procs):
            stop(p)
        if d:
            d.stop()
        if os.environ.get("HOTLINE_KEEP_TMP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)
    T.done()


if __name__ == "__main__":
    main()
