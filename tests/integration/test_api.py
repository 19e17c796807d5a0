"""test_api.py - issue 4: the console's JSON API against the real daemon.

Covers every /api route: 401 without a session, 403 for staff on admin
routes, missing or wrong CSRF tokens refused, the queue (claim, release,
resolve, reply reaching a web chat visitor), live case events, knowledge
edits changing the next automatic answer without a restart, proposals,
import/export, lexicon, settings, audit, stats, users (API and CLI), and the
login rate limit (429).
"""
import http.client
import json
import os
import re
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Checks, Daemon  # noqa: E402

T = Checks("api")
MAX_ATTEMPTS = 5
UNKNOWN = "xyzzy plugh"          # matches nothing in the sample corpus


class Client:
    """One browser: its own cookies and CSRF token."""

    def __init__(self, d):
        self.d = d
        self.cookies = {}
        self.csrf = None
        self.set_cookie = []

    def req(self, method, path, json_body=None, body=None, headers=None, csrf=True):
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and self.csrf and method in ("POST", "PUT", "DELETE"):
            hdrs.setdefault("X-CSRF-Token", self.csrf)
        r = self.d.request(method, path, body=body, headers=hdrs, json_body=json_body,
                           cookies=False)
        for k, v in r.headers:
            if k.lower() == "set-cookie":
                self.set_cookie.append(v)
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        return r

    def login(self, user, pw):
        r = self.req("POST", "/api/login", {"username": user, "password": pw})
        if r.status == 200:
            self.csrf = (r.json() or {}).get("csrf")
        return r


class EventStream:
    """Reads /api/events in a thread and keeps the lines."""

    def __init__(self, d, client):
        self.lines = []
        self.status = None
        self.ended = False
        self.conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        self.conn.request("GET", "/api/events", headers={"Cookie": cookie})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.ctype = self.resp.getheader("Content-Type", "")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))
        except Exception:
            pass
        self.ended = True

    def events(self, name):
        out = []
        for i, line in enumerate(self.lines):
            if line == f"event: {name}" and i + 1 < len(self.lines) and \
                    self.lines[i + 1].startswith("data: "):
                try:
                    out.append(json.loads(self.lines[i + 1][6:]))
                except ValueError:
                    pass
        return out

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except Exception:
            pass
        self.conn.close()


def ok_json(r, status=200):
    return r.status == status and r.json() is not None


d = Daemon({"console": {"login_max_attempts": MAX_ATTEMPTS},
            "http": {"timeout": 3}})
failed_logins = 0
try:
    d.start()

    # ---- first start: admin with a random password, printed once -------------
    m = re.search(r"admin / (\S+)", d.stdout())
    T.check("first start prints the admin password on stdout", m, d.stdout())
    admin_pw = m.group(1) if m else ""
    T.check("the password is not in the log", admin_pw and admin_pw not in d.tail(100000))
    rows = d.query("SELECT username, role, pw_hash FROM users")
    T.check("bootstrap user is admin with an scrypt hash",
            len(rows) == 1 and rows[0]["role"] == "admin" and
            rows[0]["pw_hash"].startswith("scrypt$16384$8$1$"), rows)

    # ---- every route needs a session --------------------------------------------
    anon = Client(d)
    routes = [("GET", "/api/me"), ("POST", "/api/logout"), ("GET", "/api/cases"),
              ("GET", "/api/cases?status=open"), ("GET", "/api/cases/1"),
              ("POST", "/api/cases/1/claim"), ("POST", "/api/cases/1/release"),
              ("POST", "/api/cases/1/resolve"), ("POST", "/api/cases/1/reply"),
              ("GET", "/api/events"), ("POST", "/api/sms/render"), ("POST", "/api/try"),
              ("GET", "/api/entries"), ("POST", "/api/entries"),
              ("GET", "/api/entries/mat-nuoc"), ("PUT", "/api/entries/mat-nuoc"),
              ("DELETE", "/api/entries/mat-nuoc"), ("GET", "/api/export"),
              ("POST", "/api/import"), ("GET", "/api/lexicon"), ("PUT", "/api/lexicon"),
              ("GET", "/api/settings"), ("PUT", "/api/settings"), ("GET", "/api/proposals"),
              ("POST", "/api/proposals/1/accept"), ("POST", "/api/proposals/1/reject"),
              ("GET", "/api/audit"), ("GET", "/api/stats"), ("GET", "/api/users"),
              ("POST", "/api/users"), ("PUT", "/api/users/1")]
    bad = [(m_, p, r.status) for m_, p in routes
           for r in [anon.req(m_, p, {"x": 1} if m_ in ("POST", "PUT") else None)]
           if r.status != 401]
    T.check(f"401 without a session on all {len(routes)} routes", not bad, bad)
    r = anon.req("GET", "/api/cases", headers={"Cookie": "hl_session=" + "ab" * 32})
    T.check("401 with a made-up session token", r.status == 401, r)

    # ---- login -----------------------------------------------------------------
    admin = Client(d)
    r = admin.login("admin", "wrong-password")
    failed_logins += 1
    T.check("wrong password: 401", r.status == 401, r)
    r = admin.login("nobody", "whatever-password")
    failed_logins += 1
    T.check("unknown user: 401", r.status == 401, r)
    r = admin.req("POST", "/api/login", body="not json", headers={"Content-Type": "application/json"})
    T.check("login with a malformed body: 400", r.status == 400, r)
    r = admin.login("admin", admin_pw)
    j = r.json() or {}
    T.check("admin logs in", r.status == 200 and j.get("user", {}).get("role") == "admin" and
            len(j.get("csrf") or "") == 64, r)
    sc = " ".join(admin.set_cookie)
    T.check("session cookie is HttpOnly, SameSite=Strict, Path=/",
            "hl_session=" in sc and "HttpOnly" in sc and "SameSite=Strict" in sc and
            "Path=/" in sc, sc)
    tok = admin.cookies.get("hl_session", "")
    srows = d.query("SELECT token_hash, expires_at FROM sessions")
    T.check("session stored hashed, with an expiry",
            srows and all(s["token_hash"] != tok for s in srows) and
            all(s["expires_at"] > time.time() * 1000 for s in srows), srows)
    r = admin.req("GET", "/api/me")
    T.check("GET /api/me restores user and csrf",
            ok_json(r) and r.json()["csrf"] == admin.csrf and
            r.json()["user"]["username"] == "admin", r)

    # ---- CSRF --------------------------------------------------------------------
    newuser = {"username": "staff1", "password": "staff-password-1", "role": "staff"}
    r = admin.req("POST", "/api/users", newuser, csrf=False)
    T.check("POST without X-CSRF-Token: 403", r.status == 403, r)
    r = admin.req("POST", "/api/users", newuser, headers={"X-CSRF-Token": "0" * 64})
    T.check("POST with a wrong X-CSRF-Token: 403", r.status == 403, r)
    r = admin.req("PUT", "/api/settings", {"threshold": 0.5}, csrf=False)
    T.check("PUT without X-CSRF-Token: 403", r.status == 403, r)
    r = admin.req("DELETE", "/api/entries/mat-nuoc", csrf=False)
    T.check("DELETE without X-CSRF-Token: 403", r.status == 403, r)
    T.check("refused requests created nothing",
            not d.query("SELECT 1 FROM users WHERE username = 'staff1'") and
            d.query("SELECT 1 FROM entries WHERE id = 'mat-nuoc'"))

    # ---- users -------------------------------------------------------------------
    r = admin.req("POST", "/api/users", newuser)
    T.check("POST /api/users: 201", r.status == 201 and
            (r.json() or {}).get("user", {}).get("username") == "staff1", r)
    r = admin.req("POST", "/api/users", newuser)
    T.check("duplicate user: 409", r.status == 409, r)
    r = admin.req("POST", "/api/users", {"username": "x2", "password": "short", "role": "staff"})
    T.check("short password: 400", r.status == 400, r)
    r = admin.req("POST", "/api/users", {"username": "x3", "password": "long-enough-pw",
                                         "role": "root"})
    T.check("unknown role: 400", r.status == 400, r)
    r = admin.req("POST", "/api/users", {"username": "Bad Name!", "password": "long-enough-pw"})
    T.check("bad username: 400", r.status == 400, r)
    r = admin.req("GET", "/api/users")
    users = {u["username"]: u for u in (r.json() or {}).get("users", [])}
    T.check("GET /api/users lists admin and staff1 with roles",
            users.get("staff1", {}).get("role") == "staff" and
            users.get("admin", {}).get("role") == "admin" and
            "disabled" in users["staff1"] and "created_at" in users["staff1"], r)

    # ---- CLI: hotline user add / list / passwd -------------------------------------
    p = d.cli("user", "add", "staff2", "--role", "staff", stdin="staff2-password\n")
    T.check("hotline user add reads the password from stdin", p.returncode == 0, p.stderr)
    p = d.cli("user", "list")
    T.check("hotline user list shows the users",
            p.returncode == 0 and "staff2" in p.stdout and "staff1" in p.stdout, p.stdout)
    p = d.cli("user", "add", "staff2", "--role", "staff", stdin="another-password\n")
    T.check("hotline user add of an existing user fails", p.returncode != 0, p.stdout)
    p = d.cli("user", "add", "x4", "--role", "boss", stdin="another-password\n")
    T.check("hotline user add with a bad role fails", p.returncode != 0)
    staff2 = Client(d)
    T.check("a CLI-created user logs in", staff2.login("staff2", "staff2-password").status == 200)
    p = d.cli("user", "passwd", "staff2", stdin="staff2-new-password\n")
    T.check("hotline user passwd changes the password", p.returncode == 0, p.stderr)
    T.check("passwd ends the user's sessions", staff2.req("GET", "/api/me").status == 401)
    r = Client(d).login("staff2", "staff2-password")
    failed_logins += 1
    T.check("old password refused", r.status == 401, r)
    staff2 = Client(d)
    T.check("new password accepted", staff2.login("staff2", "staff2-new-password").status == 200)

    # ---- PUT /api/users/{id}: role, disabled, password --------------------------------
    uid = {u["username"]: u["id"] for u in admin.req("GET", "/api/users").json()["users"]}
    r = admin.req("PUT", f"/api/users/{uid['admin']}", {"role": "staff"})
    T.check("the last admin cannot be demoted: 409", r.status == 409, r)
    r = admin.req("PUT", f"/api/users/{uid['admin']}", {"disabled": True})
    T.check("the last admin cannot be disabled: 409", r.status == 409, r)
    r = admin.req("PUT", f"/api/users/{uid['staff2']}", {"disabled": True})
    T.check("disable a user", ok_json(r) and r.json()["user"]["disabled"] is True, r)
    T.check("a disabled user's session ends", staff2.req("GET", "/api/me").status == 401)
    r = Client(d).login("staff2", "staff2-new-password")
    failed_logins += 1
    T.check("a disabled user cannot log in", r.status == 401, r)
    r = admin.req("PUT", f"/api/users/{uid['staff2']}", {"disabled": False, "role": "admin",
                                                         "password": "staff2-third-password"})
    T.check("re-enable, promote and set a password", ok_json(r) and
            r.json()["user"]["role"] == "admin" and r.json()["user"]["disabled"] is False, r)
    r = admin.req("PUT", f"/api/users/{uid['staff2']}", {"role": "staff"})
    T.check("demote again", ok_json(r) and r.json()["user"]["role"] == "staff", r)
    staff2 = Client(d)
    T.check("the new password works", staff2.login("staff2", "staff2-third-password").status == 200)
    for body, status in [({"role": "root"}, 400), ({"disabled": "yes"}, 400),
                         ({"password": "short"}, 400)]:
        r = admin.req("PUT", f"/api/users/{uid['staff2']}", body)
        T.check(f"PUT /api/users with {body}: {status}", r.status == status, r)
    r = admin.req("PUT", "/api/users/999999", {"role": "staff"})
    T.check("PUT of a missing user: 404", r.status == 404, r)

    # ---- staff: 403 on admin routes ------------------------------------------------
    staff = Client(d)
    r = staff.login("staff1", "staff-password-1")
    T.check("staff logs in", r.status == 200 and r.json()["user"]["role"] == "staff", r)
    admin_routes = [("GET", "/api/entries"), ("POST", "/api/entries"),
                    ("GET", "/api/entries/mat-nuoc"), ("PUT", "/api/entries/mat-nuoc"),
                    ("DELETE", "/api/entries/mat-nuoc"), ("GET", "/api/export"),
                    ("POST", "/api/import"), ("GET", "/api/lexicon"), ("PUT", "/api/lexicon"),
                    ("GET", "/api/settings"), ("PUT", "/api/settings"),
                    ("GET", "/api/proposals"), ("POST", "/api/proposals/1/accept"),
                    ("POST", "/api/proposals/1/reject"), ("GET", "/api/audit"),
                    ("GET", "/api/stats"), ("GET", "/api/users"), ("POST", "/api/users"),
                    ("PUT", "/api/users/1")]
    bad = [(m_, p_, r.status) for m_, p_ in admin_routes
           for r in [staff.req(m_, p_, {"username": "evil", "password": "evil-password",
                                         "role": "admin"} if m_ in ("POST", "PUT") else None)]
           if r.status != 403]
    T.check(f"403 for staff on all {len(admin_routes)} admin routes", not bad, bad)
    T.check("staff could not create a user", not d.query("SELECT 1 FROM users WHERE username='evil'"))
    r = staff.req("GET", "/api/cases")
    T.check("staff reads the queue", ok_json(r) and r.json()["cases"] == [], r)

    # ---- a citizen escalates; the case appears live ----------------------------------
    ev = EventStream(d, staff)
    T.check("GET /api/events is a text/event-stream",
            ev.status == 200 and ev.ctype.startswith("text/event-stream"), ev.ctype)
    time.sleep(4)   # longer than http.timeout: the stream must survive idle
    visitor = Client(d)
    r = visitor.req("POST", "/chat/send", {"text": UNKNOWN})
    holding = [m_["text"] for m_ in (r.json() or {}).get("messages", [])]
    T.check("citizen gets the holding reply", r.status == 200 and len(holding) == 1, r)
    got = d.wait_for(lambda: ev.events("case"), timeout=5)
    T.check("event stream outlives the idle timeout and reports the new case",
            got and got[0].get("status") == "open" and not ev.ended, ev.lines[-5:])
    r = staff.req("GET", "/api/cases")
    cases = (r.json() or {}).get("cases", [])
    T.check("case listed as open", len(cases) == 1 and cases[0]["status"] == "open", r)
    c = cases[0] if cases else {}
    case_id = c.get("id", 0)
    T.check("case summary fields",
            c.get("reason") == "no_match" and c.get("channel") == "web" and
            c.get("last_text") == UNKNOWN and c.get("message_count", 0) >= 1 and
            isinstance(c.get("waiting_ms"), int) and
            set(c.get("contact", {})) >= {"id", "channel", "address"} and
            "opened_at" in c and "claimed_by" in c and "claimed_at" in c, c)
    r = visitor.req("POST", "/chat/send", {"text": "vẫn chưa hiểu " + UNKNOWN})
    T.check("second message: no second holding reply",
            r.status == 200 and not (r.json() or {}).get("messages"), r)
    r = staff.req("GET", f"/api/cases/{case_id}")
    j = r.json() or {}
    msgs = j.get("messages", [])
    T.check("case detail: messages oldest first with direction, author, status",
            r.status == 200 and len(msgs) >= 3 and msgs[0]["direction"] == "in" and
            msgs[0]["text"] == UNKNOWN and msgs[1]["direction"] == "out" and
            msgs[1]["author"] == "bot" and [m_["id"] for m_ in msgs] == sorted(m_["id"] for m_ in msgs) and
            all(k in msgs[0] for k in ("id", "channel", "created_at", "status", "decision",
                                        "reason", "entry_id", "confidence", "error")), msgs)
    T.check("case detail: candidates array", isinstance(j.get("case", {}).get("candidates"), list), j)
    for path, status in [("/api/cases/999999", 404), ("/api/cases/abc", 404),
                         ("/api/cases?status=bogus", 400)]:
        r = staff.req("GET", path)
        T.check(f"GET {path}: {status}", r.status == status, r)

    # ---- claim / release ------------------------------------------------------------
    # The stream's reader thread may still be behind on the second message's
    # event, so look for the claim among the events that follow, not at the end.
    n_events = len(ev.events("case"))
    r = staff.req("POST", f"/api/cases/{case_id}/claim")
    T.check("staff claims the case", ok_json(r) and r.json()["case"]["status"] == "claimed" and
            r.json()["case"]["claimed_by"] == "staff1", r)
    T.check("claim is published",
            d.wait_for(lambda: any(e.get("id") == case_id and e.get("status") == "claimed"
                                   for e in ev.events("case")[n_events:]), 5), ev.events("case")[-3:])
    r = staff.req("POST", f"/api/cases/{case_id}/claim")
    T.check("claiming one's own case again is fine", r.status == 200, r)
    for action in ("claim", "release", "resolve"):
        r = staff2.req("POST", f"/api/cases/{case_id}/{action}")
        T.check(f"another staff member's {action}: 409", r.status == 409, r)
    r = staff2.req("POST", f"/api/cases/{case_id}/reply", {"text": "xin chào"})
    T.check("another staff member's reply: 409", r.status == 409, r)
    r = staff.req("POST", f"/api/cases/{case_id}/release")
    T.check("release returns the case to open", ok_json(r) and
            r.json()["case"]["status"] == "open" and r.json()["case"]["claimed_by"] is None, r)
    r = staff2.req("POST", f"/api/cases/{case_id}/claim")
    T.check("then another member can claim it", r.status == 200, r)
    staff2.req("POST", f"/api/cases/{case_id}/release")
    r = staff.req("POST", f"/api/cases/{case_id}/claim")
    T.check("and staff1 claims it back", r.status == 200, r)
    r = staff.req("POST", "/api/cases/999999/claim")
    T.check("claim of a missing case: 404", r.status == 404, r)
    r = staff.req("POST", f"/api/cases/{case_id}/bogus")
    T.check("unknown case action: 404", r.status == 404, r)

    # ---- the bot stays silent while claimed; the reply reaches the citizen ---------
    r = visitor.req("POST", "/chat/send", {"text": "Tiêm vắc xin COVID-19 ở đâu?"})
    T.check("claimed: the bot does not answer, the message joins the case",
            r.status == 200 and not (r.json() or {}).get("messages"), r)
    r = staff.req("GET", f"/api/cases/{case_id}")
    T.check("joined message is in the case", any(
        m_["text"] == "Tiêm vắc xin COVID-19 ở đâu?" for m_ in (r.json() or {}).get("messages", [])))
    r = staff.req("POST", f"/api/cases/{case_id}/reply", {"text": ""})
    T.check("empty reply: 400", r.status == 400, r)
    r = staff.req("POST", f"/api/cases/{case_id}/reply", body="{oops",
                  headers={"Content-Type": "application/json"})
    T.check("malformed reply body: 400", r.status == 400, r)
    reply_text = "Chào bạn, cán bộ <b>tổng đài</b> xin trả lời: hãy gọi 1022."
    r = staff.req("POST", f"/api/cases/{case_id}/reply", {"text": reply_text})
    msg = (r.json() or {}).get("message", {})
    T.check("reply: 201 with the outbound message", r.status == 201 and msg.get("id") and
            msg.get("status") and msg.get("author") == "staff1" and msg.get("text") == reply_text, r)
    polled = d.wait_for(lambda: [m_ for m_ in (visitor.req("GET", "/chat/poll?after=0").json() or {})
                                 .get("messages", []) if m_.get("text") == reply_text], timeout=10)
    T.check("the reply reaches the citizen's web chat, stored verbatim", polled, polled)
    st = d.wait_for(lambda: [m_ for m_ in (staff.req("GET", f"/api/cases/{case_id}").json() or {})
                             .get("messages", []) if m_["id"] == msg.get("id") and
                             m_["status"] in ("sent", "delivered")], timeout=10)
    T.check("delivery status shown on the message", st, st)
    T.check("message event published", d.wait_for(
        lambda: any(e.get("id") == msg.get("id") for e in ev.events("message")), 5), ev.lines[-6:])
    row = d.query("SELECT first_reply_at, opened_at FROM cases WHERE id = ?", case_id)
    T.check("first_reply_at recorded", row and row[0]["first_reply_at"] and
            row[0]["first_reply_at"] >= row[0]["opened_at"], row)

    # ---- resolve with a proposal -> admin accepts -> variant exists -----------------
    r = staff.req("POST", f"/api/cases/{case_id}/resolve",
                  {"proposal": {"entry_id": "no-such-entry"}})
    T.check("proposal for a missing entry: 400 (case stays claimed)", r.status == 400 and
            d.query("SELECT status FROM cases WHERE id=?", case_id)[0]["status"] == "claimed", r)
    r = staff.req("POST", f"/api/cases/{case_id}/resolve", {"proposal": "x"})
    T.check("proposal that is not an object: 400", r.status == 400, r)
    first_in = d.query("SELECT id FROM messages WHERE case_id=? AND direction='in' ORDER BY id",
                       case_id)[0]["id"]
    r = staff.req("POST", f"/api/cases/{case_id}/resolve",
                  {"proposal": {"entry_id": "mat-nuoc", "message_id": first_in}})
    T.check("resolve with a proposal", ok_json(r) and r.json()["case"]["status"] == "resolved", r)
    for action in ("resolve", "claim", "release"):
        r = staff.req("POST", f"/api/cases/{case_id}/{action}")
        T.check(f"{action} of a resolved case: 409", r.status == 409, r)
    r = staff.req("POST", f"/api/cases/{case_id}/reply", {"text": "late"})
    T.check("reply to a resolved case: 409", r.status == 409, r)
    r = staff.req("GET", "/api/cases?status=resolved")
    T.check("resolved list", ok_json(r) and [c_["id"] for c_ in r.json()["cases"]] == [case_id], r)
    r = staff.req("GET", "/api/cases")
    T.check("active list is empty again", ok_json(r) and r.json()["cases"] == [], r)

    r = admin.req("GET", "/api/proposals")
    props = (r.json() or {}).get("proposals", [])
    T.check("pending proposal listed with the citizen's words",
            len(props) == 1 and props[0]["text"] == UNKNOWN and
            props[0]["entry_id"] == "mat-nuoc" and props[0]["proposed_by"] == "staff1" and
            props[0]["status"] == "pending", props)
    pid = props[0]["id"] if props else 0
    r = admin.req("POST", "/api/try", {"text": UNKNOWN})
    T.check("before accepting, the words escalate", ok_json(r) and
            r.json()["decision"] == "escalate", r)
    r = admin.req("POST", f"/api/proposals/{pid}/accept")
    T.check("accept: 200", ok_json(r) and r.json()["proposal"]["status"] == "accepted" and
            r.json()["proposal"]["decided_by"] == "admin", r)
    r = admin.req("GET", "/api/entries/mat-nuoc")
    T.check("accepted proposal became a variant of the entry",
            ok_json(r) and UNKNOWN in r.json()["entry"]["variants"], r)
    r = admin.req("POST", "/api/try", {"text": UNKNOWN})
    T.check("and the matcher knows it at once", ok_json(r) and
            r.json()["decision"] == "answer" and r.json()["entry_id"] == "mat-nuoc", r)
    r = admin.req("POST", f"/api/proposals/{pid}/accept")
    T.check("accepting twice: 409", r.status == 409, r)
    r = admin.req("POST", "/api/proposals/999999/reject")
    T.check("reject of a missing proposal: 404", r.status == 404, r)

    # A second visitor: proposal of a new entry, rejected; a third: accepted.
    def open_case(text):
        v = Client(d)
        v.req("POST", "/chat/send", {"text": text})
        cs = [c_ for c_ in (staff.req("GET", "/api/cases").json() or {}).get("cases", [])
              if c_["last_text"] == text]
        return v, (cs[0]["id"] if cs else 0)

    v2, case2 = open_case("qwertzu asdfgh")
    r = staff.req("POST", f"/api/cases/{case2}/resolve",
                  {"proposal": {"question": "Hỏi về qwertzu?", "answer": "Trả lời qwertzu."}})
    T.check("resolve an open case with a new-entry proposal", r.status == 200, r)
    v3, case3 = open_case("zxcvbn lkjhg")
    r = staff.req("POST", f"/api/cases/{case3}/resolve",
                  {"proposal": {"question": "Dịch vụ zxcvbn ở đâu?",
                                "answer": "Dịch vụ zxcvbn ở số 1 phố Lạch Tray."}})
    props = {p_["case_id"]: p_ for p_ in
             (admin.req("GET", "/api/proposals?status=pending").json() or {}).get("proposals", [])}
    T.check("new-entry proposals listed", case2 in props and case3 in props and
            props[case2]["question"] == "Hỏi về qwertzu?", props)
    r = admin.req("POST", f"/api/proposals/{props.get(case2, {}).get('id', 0)}/reject")
    T.check("reject: 200", ok_json(r) and r.json()["proposal"]["status"] == "rejected", r)
    r = admin.req("POST", f"/api/proposals/{props.get(case3, {}).get('id', 0)}/accept")
    new_id = (r.json() or {}).get("entry_id")
    T.check("accepting a new-entry proposal creates the entry", r.status == 200 and new_id, r)
    r = admin.req("GET", f"/api/entries/{new_id}")
    T.check("the new entry has the question, answer and the citizen's words",
            ok_json(r) and r.json()["entry"]["question"] == "Dịch vụ zxcvbn ở đâu?" and
            "zxcvbn lkjhg" in r.json()["entry"]["variants"], r)
    r = admin.req("GET", "/api/proposals?status=rejected")
    T.check("rejected list", ok_json(r) and len(r.json()["proposals"]) == 1, r)
    r = admin.req("GET", "/api/proposals?status=nope")
    T.check("bad proposal status: 400", r.status == 400, r)

    # ---- a knowledge edit changes the next automatic answer, no restart ------------
    word = "bambooflute"
    r = Client(d).req("POST", "/chat/send", {"text": word})
    before = [m_["text"] for m_ in (r.json() or {}).get("messages", [])]
    T.check("before the edit the word escalates", before and before[0] == holding[0], before)
    r = admin.req("GET", "/api/entries/mat-nuoc")
    entry = (r.json() or {}).get("entry", {})
    entry["keywords"].append({"term": word, "weight": 3})
    r = admin.req("PUT", "/api/entries/mat-nuoc", entry)
    T.check("PUT /api/entries/{id} adds a keyword", ok_json(r) and
            {"term": word, "weight": 3} in r.json()["entry"]["keywords"], r)
    r = Client(d).req("POST", "/chat/send", {"text": word})
    after = [m_["text"] for m_ in (r.json() or {}).get("messages", [])]
    T.check("the next automatic answer uses the new keyword",
            after and after[0] == entry["answer"], after)

    # ---- entries CRUD ---------------------------------------------------------------
    r = admin.req("GET", "/api/entries")
    ents = (r.json() or {}).get("entries", [])
    T.check("GET /api/entries lists the corpus", len(ents) >= 80 and
            set(ents[0]) >= {"id", "topic", "department", "question", "variants", "keywords",
                             "answer", "answer_sms", "enabled"}, len(ents))
    r = admin.req("GET", "/api/entries?q=" + "mat%20nuoc")
    T.check("search folds accents", ok_json(r) and
            any(e["id"] == "mat-nuoc" for e in r.json()["entries"]) and
            len(r.json()["entries"]) < len(ents), r)
    new = {"question": "Giờ mở cửa thư viện thành phố?", "answer": "Thư viện mở 8h-17h.",
           "variants": ["Thư viện mấy giờ mở?"], "keywords": [{"term": "thư viện", "weight": 2}],
           "topic": "Văn hoá"}
    r = admin.req("POST", "/api/entries", new)
    created = (r.json() or {}).get("entry", {})
    T.check("POST /api/entries without id: 201 with a derived id",
            r.status == 201 and created.get("id", "").startswith("gio-mo-cua-thu-vien") and
            created.get("enabled") is True, r)
    r = admin.req("POST", "/api/entries", dict(new, id=created.get("id")))
    T.check("POST with an existing id: 409", r.status == 409, r)
    r = admin.req("POST", "/api/entries", {"question": "Thiếu câu trả lời"})
    T.check("entry without answer: 400", r.status == 400, r)
    r = admin.req("POST", "/api/entries", dict(new, id="Bad Id!"))
    T.check("entry with a bad id: 400", r.status == 400, r)
    r = admin.req("POST", "/api/entries", dict(new, id="kw-bad", keywords=[{"term": "x", "weight": "heavy"}]))
    T.check("keyword with a non-numeric weight: 400", r.status == 400, r)
    r = admin.req("POST", "/api/try", {"text": "thư viện mấy giờ mở cửa"})
    T.check("new entry matches at once", ok_json(r) and r.json()["entry_id"] == created.get("id"), r)
    r = admin.req("PUT", f"/api/entries/{created.get('id')}", dict(created, enabled=False))
    T.check("disable an entry", ok_json(r) and r.json()["entry"]["enabled"] is False, r)
    r = admin.req("POST", "/api/try", {"text": "thư viện mấy giờ mở cửa"})
    T.check("disabled entry no longer matches", ok_json(r) and
            r.json()["entry_id"] != created.get("id"), r)
    r = admin.req("PUT", f"/api/entries/{created.get('id')}", dict(created, id="other-id"))
    T.check("PUT with a different id in the body: 400", r.status == 400, r)
    r = admin.req("PUT", "/api/entries/no-such-entry", new)
    T.check("PUT of a missing entry: 404", r.status == 404, r)
    r = admin.req("DELETE", f"/api/entries/{created.get('id')}")
    T.check("DELETE: 200", r.status == 200, r)
    r = admin.req("GET", f"/api/entries/{created.get('id')}")
    T.check("deleted entry: 404", r.status == 404, r)
    T.check("variants and keywords deleted with it", not d.query(
        "SELECT 1 FROM variants WHERE entry_id=? UNION ALL SELECT 1 FROM keywords WHERE entry_id=?",
        created.get("id"), created.get("id")))

    # ---- import / export --------------------------------------------------------------
    r = admin.req("GET", "/api/export")
    exp = r.json() or {}
    T.check("export in faq.json format", r.status == 200 and len(exp.get("entries", [])) == len(ents)
            and any(e["id"] == "mat-nuoc" for e in exp["entries"]), len(exp.get("entries", [])))
    imp = {"entries": [{"id": "imported-one", "question": "Câu hỏi nhập từ tệp?",
                        "answer": "Trả lời nhập từ tệp.", "keywords": ["nhập tệp"]},
                       {"id": "BAD ID", "question": "q", "answer": "a"}]}
    r = admin.req("POST", "/api/import", imp)
    j = r.json() or {}
    T.check("import JSON: good entries in, bad ones listed", r.status == 200 and
            j.get("imported") == 1 and len(j.get("errors", [])) == 1, r)
    T.check("imported entry readable", admin.req("GET", "/api/entries/imported-one").status == 200)
    csv = "question,answer,keywords\n\"Hỏi CSV, có phẩy?\",Đáp CSV,csv;bảng:2\n"
    r = admin.req("POST", "/api/import", body=csv, headers={"Content-Type": "text/csv"})
    T.check("import CSV", ok_json(r) and r.json()["imported"] == 1, r)
    r = admin.req("POST", "/api/import", body="{not json", headers={"Content-Type": "application/json"})
    T.check("import garbage: 400 with the reason", r.status == 400 and (r.json() or {}).get("error"), r)

    # ---- lexicon --------------------------------------------------------------------
    r = admin.req("GET", "/api/lexicon")
    lex = r.json()
    T.check("GET /api/lexicon returns the document", r.status == 200 and isinstance(lex, dict), r)
    r = admin.req("PUT", "/api/lexicon", lex)
    T.check("PUT /api/lexicon with a valid document", r.status == 200 and r.json() == lex, r)
    r = admin.req("PUT", "/api/lexicon", body="[1,2", headers={"Content-Type": "application/json"})
    T.check("PUT /api/lexicon garbage: 400", r.status == 400, r)

    # ---- settings -------------------------------------------------------------------
    r = admin.req("GET", "/api/settings")
    s = r.json() or {}
    T.check("GET /api/settings", r.status == 200 and {"threshold", "gap", "holding_text",
            "limit_auto_replies", "sms_max_segments"} <= set(s), s)
    new_hold = "Cán bộ sẽ trả lời bạn sớm."
    r = admin.req("PUT", "/api/settings", {"holding_text": new_hold})
    T.check("PUT /api/settings", ok_json(r) and r.json()["holding_text"] == new_hold, r)
    r = admin.req("PUT", "/api/settings", {"no_such_setting": 1})
    T.check("unknown setting: 400", r.status == 400, r)
    r = Client(d).req("POST", "/chat/send", {"text": "hoàn toàn lạ lẫm qqqzzz"})
    T.check("the new holding text is used at once",
            [m_["text"] for m_ in (r.json() or {}).get("messages", [])] == [new_hold], r)

    # ---- sms render and try -----------------------------------------------------------
    r = staff.req("POST", "/api/sms/render", {"text": "Tiêm vắc xin ở trạm y tế phường."})
    j = r.json() or {}
    T.check("POST /api/sms/render", r.status == 200 and j.get("segments") == 1 and
            j.get("coding") in (0, 2) and j.get("chars") == len(j.get("text", "")), r)
    r = staff.req("POST", "/api/sms/render", {"text": ""})
    T.check("sms render of nothing: 400", r.status == 400, r)
    r = staff.req("POST", "/api/try", {"text": "Tiêm vắc xin COVID-19 ở đâu?"})
    j = r.json() or {}
    cands = j.get("candidates", [])
    T.check("POST /api/try (staff): decision, candidates and per-term explanation",
            r.status == 200 and j.get("decision") in ("answer", "escalate") and
            "confidence" in j and "reason" in j and cands and
            set(cands[0]) >= {"entry_id", "question", "score", "confidence", "terms"} and
            cands[0]["terms"] and set(cands[0]["terms"][0]) >= {"term", "field", "score"}, j)
    n_msgs = d.query("SELECT COUNT(*) AS n FROM messages")[0]["n"]
    staff.req("POST", "/api/try", {"text": "abc"})
    T.check("try creates nothing", d.query("SELECT COUNT(*) AS n FROM messages")[0]["n"] == n_msgs)
    r = staff.req("POST", "/api/try", {"text": "bad \udcff".encode("utf-8", "surrogateescape").decode("latin-1")})
    T.check("try with odd input: 4xx or 200, never a crash", r.status in (200, 400) and
            d.request("GET", "/healthz").status == 200, r)

    # ---- audit ----------------------------------------------------------------------
    r = admin.req("GET", "/api/audit?limit=200")
    audit = (r.json() or {}).get("audit", [])
    actions = {a["action"] for a in audit}
    want = {"user.create", "user.passwd", "user.update", "entry.create", "entry.update", "entry.delete",
            "proposal.accept", "proposal.reject", "kb.import", "lexicon.update", "settings.update"}
    T.check("audit records every kind of change", want <= actions, want - actions)
    T.check("audit says who", all(a["user"] for a in audit) and
            any(a["user"] == "admin" and a["action"] == "entry.update" and
                a["target"] == "mat-nuoc" for a in audit), audit[:3])
    T.check("audit newest first", [a["id"] for a in audit] == sorted((a["id"] for a in audit), reverse=True))
    r = admin.req("GET", f"/api/audit?limit=2&before={audit[0]['id'] if audit else 0}")
    T.check("audit paging", ok_json(r) and len(r.json()["audit"]) == 2 and
            r.json()["audit"][0]["id"] < audit[0]["id"], r)
    r = admin.req("GET", "/api/audit?limit=0")
    T.check("audit bad limit: 400", r.status == 400, r)

    # ---- stats ----------------------------------------------------------------------
    r = admin.req("GET", "/api/stats?days=7")
    j = r.json() or {}
    days = j.get("days", [])
    web = [x for x in days if x.get("channel") == "web"]
    T.check("stats: per day and channel", r.status == 200 and web and
            re.match(r"^\d{4}-\d{2}-\d{2}$", web[0]["day"]) and
            web[0]["messages_in"] >= 8 and web[0]["auto_answered"] >= 1 and
            web[0]["escalated"].get("no_match", 0) >= 1, days)
    fr = j.get("first_reply_ms", {})
    T.check("stats: first reply p50/p90", fr.get("n") == 1 and fr.get("p50") is not None and
            fr["p90"] >= fr["p50"] >= 0, fr)
    words = {w["word"]: w["count"] for w in j.get("top_unmatched", [])}
    T.check("stats: top unmatched words (folded)", words.get("xyzzy", 0) >= 2 and
            "qqqzzz" in words and all(len(w) >= 3 for w in words), words)
    r = admin.req("GET", "/api/stats?days=0")
    T.check("stats bad days: 400", r.status == 400, r)

    # ---- logout -------------------------------------------------------------------
    ev_out = EventStream(d, staff2)
    r = staff2.req("POST", "/api/logout", csrf=False)
    T.check("logout needs the CSRF token", r.status == 403, r)
    r = staff2.req("POST", "/api/logout")
    T.check("logout: 200 and the cookie is cleared", r.status == 200 and
            "hl_session" not in staff2.cookies, r)
    T.check("after logout the session is gone",
            staff2.req("GET", "/api/me", headers={}).status == 401)
    T.check("a logged-out session's event stream is ended at once (no event needed)",
            d.wait_for(lambda: ev_out.ended, 3), ev_out.lines)
    n_before = len(ev.events("case"))
    Client(d).req("POST", "/chat/send", {"text": "mmmnnn ppqqrr"})
    T.check("and it received nothing more", not ev_out.events("case"), ev_out.lines)
    T.check("other streams keep receiving", d.wait_for(lambda: len(ev.events("case")) > n_before, 5)
            and not ev.ended)

    # ---- methods and bad input never crash ---------------------------------------------
    for m_, p_ in [("DELETE", "/api/cases"), ("PUT", "/api/login"), ("GET", "/api/try")]:
        r = admin.req(m_, p_)
        T.check(f"{m_} {p_}: 405", r.status == 405, r)
    r = admin.req("PUT", "/api/entries/mat-nuoc", body="\x00\x01", headers={"Content-Type": "application/json"})
    T.check("binary body: 400", r.status == 400, r)
    T.check("daemon still healthy", d.request("GET", "/healthz").status == 200)

    # ---- login rate limit -----------------------------------------------------------
    ev.close()
    limited = None
    for i in range(MAX_ATTEMPTS + 2):
        r = Client(d).login("ratelimited", "wrong-password-%d" % i)
        if r.status == 429:
            limited = i
            break
        failed_logins += 1
    T.check(f"429 once {MAX_ATTEMPTS} failures are used up (per address and user)",
            limited is not None and failed_logins >= MAX_ATTEMPTS, (limited, failed_logins))
    T.check("429 carries Retry-After", r.status == 429 and r.header("Retry-After"), r)
    r = Client(d).login("admin", admin_pw)
    T.check("even the right password is refused while limited", r.status == 429, r)
    T.check("existing sessions keep working", admin.req("GET", "/api/me").status == 200)

    # ---- shutdown ends event streams cleanly ---------------------------------------------
    ev2 = EventStream(d, admin)
    time.sleep(0.3)
    t0 = time.time()
    rc = d.stop()
    ev2.thread.join(5)
    T.check("SIGTERM with an open event stream: clean exit", rc == 0 and time.time() - t0 < 5, rc)
    T.check("the stream was ended", ev2.ended)
    T.check("no errors in the log", "level=error" not in d.tail(200000), d.tail(2000))
except Exception as e:  # a crash of the test itself counts as a failure
    import traceback
    traceback.print_exc()
    T.check("test ran to the end", False, repr(e))
    print(d.tail())
finally:
    d.cleanup()
T.done()
