#!/usr/bin/env python3
"""fake_provider.py - a fake of the providers' APIs the daemon sends through.

One HTTP server (stdlib only) on 127.0.0.1 that plays:
  * Zalo OA API      POST /v3.0/oa/message/cs         (header access_token, JSON)
  * Zalo OAuth v4    POST /v4/oa/access_token         (header secret_key, form)
  * Twilio REST      POST /2010-04-01/Accounts/{sid}/Messages.json  (Basic auth, form)
  * eSMS.vn          POST /MainService.svc/json/SendMultipleMessage_V4_post_json/  (JSON)

It enforces the documented request shape and headers and answers a wrong
request the way the vendor does (Zalo: HTTP 200 with a negative "error";
Twilio: 4xx with {"code","message"}; eSMS: {"CodeResult"}).  Zalo access
tokens expire; refresh tokens are single-use (a reused one is refused, like
the real thing, which locks the OA out).  Every accepted message is
recorded: GET /_control/messages, and with --jsonl, one JSON line per message.

Control (JSON bodies; usable with curl from a shell):
  POST /_control/mode   {"mode": "ok"|"503"|"500"|"timeout"|"refuse"|"slow"|
                                  "rate_limit"|"token_expired"|"token_invalid",
                         "duration": seconds (then back to "ok"; default: until changed),
                         "count": n (only the next n API requests),
                         "delay": seconds (for "slow" and "timeout"; default 2 / 30),
                         "provider": "zalo"|"twilio"|"esms"|"oauth"|"all" (default "all")}
      503/500     the API answers that HTTP status
      timeout     the request hangs for "delay" seconds, then the socket closes unanswered
      refuse      the connection is closed at once, no answer
      slow        answered normally after "delay" seconds
      rate_limit  Zalo error -32 (HTTP 200), Twilio 429 code 20429, eSMS HTTP 429
      token_expired  Zalo -220 for every send, whatever the token (see also
                  /_control/expire_tokens, which expires the tokens themselves
                  so that a refresh cures it)
      token_invalid  Zalo -216 for every send
      lost        the request is processed (and recorded) as usual, but its answer is lost:
                  the connection closes unanswered (a resend with the same RequestId
                  then meets the provider's duplicate handling)
  POST /_control/expire_tokens       every Zalo access token issued so far is now expired
  POST /_control/config  {"zalo": {"app_id", "app_secret", "access_token", "refresh_token",
                                   "expires_in"},
                          "twilio": {"account_sid", "auth_token", "opted_out": [numbers]},
                          "esms": {"api_key", "secret_key", "brandnames": [...]},
                          "callbacks": true|false}     (Twilio/eSMS delivery callbacks)
  POST /_control/reset   forget messages, requests and modes; tokens back to the seeds
  GET  /_control/messages   {"messages": [{provider, to, text, id, at, ...}]}
  GET  /_control/requests   {"requests": [{provider, path, status, outcome, at}]}
  GET  /_control/state      tokens, refresh count, mode

Run:  python3 tests/fakes/fake_provider.py --port 18500 [--jsonl msgs.jsonl]
      python3 tests/fakes/fake_provider.py --selftest
From Python:  from fake_provider import FakeProvider; fp = FakeProvider().start(); fp.url
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ZALO_SEND = "/v3.0/oa/message/cs"
ZALO_OAUTH = "/v4/oa/access_token"
ESMS_SEND = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"

DEFAULTS = {
    "zalo": {"app_id": "2553928453557884079", "app_secret": "fake-app-secret",
             "access_token": "AT-seed", "refresh_token": "RT-seed", "expires_in": 90000},
    "twilio": {"account_sid": "AC00000000000000000000000000000000", "auth_token": "fake-auth-token",
               "opted_out": []},
    "esms": {"api_key": "fake-api-key", "secret_key": "fake-secret-key", "brandnames": ["HOTLINE"]},
    "callbacks": True,
}


def _now():
    return time.time()


class State:
    """Everything the fake remembers; one lock guards it."""

    def __init__(self, jsonl=None):
        self.lock = threading.Lock()
        self.jsonl = jsonl
        self.config = json.loads(json.dumps(DEFAULTS))
        self.reset()

    def reset(self):
        with self.lock:
            z = self.config["zalo"]
            self.access = {}           # token -> expiry (epoch seconds)
            self.refresh = set()       # valid refresh tokens
            self.used_refresh = set()
            if z.get("access_token"):
                self.access[z["access_token"]] = _now() + int(z.get("expires_in", 90000))
            if z.get("refresh_token"):
                self.refresh.add(z["refresh_token"])
            self.refreshes = 0
            self.messages = []
            self.requests = []
            self.esms_request_ids = {}
            self.mode = {"mode": "ok"}

    # -- modes --
    def set_mode(self, m):
        m = dict(m)
        m.setdefault("mode", "ok")
        m.setdefault("provider", "all")
        if m.get("duration") is not None:
            m["until"] = _now() + float(m["duration"])
        with self.lock:
            self.mode = m

    def take_mode(self, provider):
        """The mode that applies to this request (consumes one 'count')."""
        with self.lock:
            m = self.mode
            if m.get("mode", "ok") == "ok":
                return m
            if m.get("until") is not None and _now() >= m["until"]:
                self.mode = {"mode": "ok"}
                return self.mode
            if m.get("provider", "all") not in ("all", provider):
                return {"mode": "ok"}
            if m.get("count") is not None:
                if m["count"] <= 0:
                    self.mode = {"mode": "ok"}
                    return self.mode
                m["count"] -= 1
            return dict(m)

    def record(self, msg):
        msg["at"] = _now()
        with self.lock:
            self.messages.append(msg)
        if self.jsonl:
            with open(self.jsonl, "a", encoding="utf-8") as f:
                f.write(json.dumps(msg, ensure_ascii=False) + "\n")

    def log_request(self, provider, path, status, outcome):
        with self.lock:
            self.requests.append({"provider": provider, "path": path, "status": status,
                                  "outcome": outcome, "at": _now()})


def twilio_signature(token, url, params):
    data = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeProvider/1.0"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_provider: " + (fmt % args) + "\n")

    @property
    def st(self):
        return self.server.state

    # -- plumbing --
    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype="application/json"):
        lost = getattr(self, "_lose_answer", None)
        if lost:
            self._lose_answer = None
            self.st.log_request(lost, urllib.parse.urlsplit(self.path).path, 0, "answer lost")
            return self._drop()
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype + ("; charset=utf-8" if "json" in ctype else ""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self):
        """Close without answering."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _provider(self, path):
        if path == ZALO_SEND:
            return "zalo"
        if path == ZALO_OAUTH:
            return "oauth"
        if path.startswith("/2010-04-01/Accounts/"):
            return "twilio"
        if path.rstrip("/") == ESMS_SEND.rstrip("/"):
            return "esms"
        return None

    def _apply_mode(self, provider, path):
        """Returns True when the mode already answered (or dropped) the request."""
        m = self.st.take_mode(provider)
        mode = m.get("mode", "ok")
        if mode == "ok":
            return False
        if mode in ("503", "500", "502"):
            self.st.log_request(provider, path, int(mode), "mode " + mode)
            self._send(int(mode), {"error": "simulated outage"} if provider != "twilio"
                       else {"code": 20500, "message": "Internal Server Error", "status": int(mode)})
            return True
        if mode == "timeout":
            self.st.log_request(provider, path, 0, "mode timeout")
            time.sleep(float(m.get("delay", 30)))
            self._drop()
            return True
        if mode == "refuse":
            self.st.log_request(provider, path, 0, "mode refuse")
            self._drop()
            return True
        if mode == "slow":
            time.sleep(float(m.get("delay", 2)))
            return False
        if mode == "lost":
            self._lose_answer = provider     # _send drops the answer
            return False
        if mode == "rate_limit":
            self.st.log_request(provider, path, 429, "mode rate_limit")
            if provider == "zalo":
                self._send(200, {"error": -32, "message": "The application has exceeded the rate limit"})
            elif provider == "twilio":
                self._send(429, {"code": 20429, "message": "Too Many Requests", "status": 429})
            else:
                self._send(429, {"error": "Too Many Requests"})
            return True
        if mode in ("token_expired", "token_invalid") and provider == "zalo":
            code = -220 if mode == "token_expired" else -216
            self.st.log_request(provider, path, 200, "mode " + mode)
            self._send(200, {"error": code, "message": "Access token has expired" if code == -220
                             else "Access token is invalid"})
            return True
        return False

    # -- routes --
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        with self.st.lock:
            if u.path == "/_control/messages":
                return self._send(200, {"messages": list(self.st.messages)})
            if u.path == "/_control/requests":
                return self._send(200, {"requests": list(self.st.requests)})
            if u.path == "/_control/state":
                return self._send(200, {
                    "access_tokens": {t: round(e - _now()) for t, e in self.st.access.items()},
                    "refresh_tokens": sorted(self.st.refresh),
                    "used_refresh_tokens": sorted(self.st.used_refresh),
                    "refreshes": self.st.refreshes, "mode": self.st.mode,
                    "config": self.st.config})
        if u.path == "/_control/health":
            return self._send(200, {"ok": True})
        self._send(404, {"error": "not found"})

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        body = self._body()
        if u.path.startswith("/_control/"):
            return self._control(u.path, body)
        provider = self._provider(u.path)
        if not provider:
            return self._send(404, {"error": "not found"})
        if self._apply_mode(provider, u.path):
            return
        if provider == "zalo":
            return self._zalo_send(body)
        if provider == "oauth":
            return self._zalo_oauth(body)
        if provider == "twilio":
            return self._twilio_send(u.path, body)
        return self._esms_send(body)

    def _control(self, path, body):
        try:
            data = json.loads(body.decode("utf-8") or "{}")
        except ValueError:
            return self._send(400, {"error": "JSON expected"})
        if path == "/_control/mode":
            self.st.set_mode(data)
            return self._send(200, {"mode": self.st.mode})
        if path == "/_control/reset":
            self.st.reset()
            return self._send(200, {"ok": True})
        if path == "/_control/expire_tokens":
            with self.st.lock:
                for t in self.st.access:
                    self.st.access[t] = _now() - 1
            return self._send(200, {"ok": True})
        if path == "/_control/config":
            with self.st.lock:
                for k, v in data.items():
                    if isinstance(v, dict) and isinstance(self.st.config.get(k), dict):
                        self.st.config[k].update(v)
                    else:
                        self.st.config[k] = v
            if "zalo" in data:
                self.st.reset()
            return self._send(200, {"config": self.st.config})
        return self._send(404, {"error": "not found"})

    # -- Zalo --
    def _zalo_err(self, code, message, outcome):
        self.st.log_request("zalo", ZALO_SEND, 200, outcome)
        self._send(200, {"error": code, "message": message})

    def _zalo_send(self, body):
        token = self.headers.get("access_token")
        if not token:
            # Zalo wants the token in its own header, not "Authorization: Bearer".
            return self._zalo_err(-216, "Access token is invalid", "no access_token header")
        with self.st.lock:
            expiry = self.st.access.get(token)
        if expiry is None:
            return self._zalo_err(-216, "Access token is invalid", "unknown token")
        if expiry <= _now():
            return self._zalo_err(-220, "Access token has expired", "expired token")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return self._zalo_err(-201, "Parameters are invalid: Content-Type must be application/json",
                                  "bad content-type")
        try:
            data = json.loads(body.decode("utf-8"))
            uid = data["recipient"]["user_id"]
            text = data["message"]["text"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return self._zalo_err(-201, "Parameters are invalid", "bad body")
        if not isinstance(uid, str) or not uid.isdigit():
            # A number would have lost digits on the way (19-digit ids).
            return self._zalo_err(-201, "Parameters are invalid: user_id", "user_id not a digit string")
        if not isinstance(text, str) or not text:
            return self._zalo_err(-201, "Parameters are invalid: text", "empty text")
        if len(text) > 2000:
            return self._zalo_err(-201, "Parameters are invalid: text is longer than 2000", "text too long")
        mid = uuid.uuid4().hex
        self.st.record({"provider": "zalo", "to": uid, "text": text, "id": mid})
        self.st.log_request("zalo", ZALO_SEND, 200, "sent")
        self._send(200, {"error": 0, "message": "Success", "data": {"message_id": mid, "user_id": uid}})

    def _zalo_oauth(self, body):
        cfg = self.st.config["zalo"]

        def err(code, name, outcome):
            self.st.log_request("oauth", ZALO_OAUTH, 200, outcome)
            self._send(200, {"error": code, "error_name": name, "error_reason": name,
                             "error_description": name})

        if not hmac.compare_digest(self.headers.get("secret_key") or "", cfg["app_secret"]):
            return err(-14002, "Invalid secret key", "bad secret_key")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return err(-14001, "Invalid parameter: form expected", "bad content-type")
        f = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if f.get("grant_type") != "refresh_token":
            return err(-14004, "Invalid grant_type", "bad grant_type")
        if f.get("app_id") != cfg["app_id"]:
            return err(-14003, "Invalid app_id", "bad app_id")
        rt = f.get("refresh_token", "")
        with self.st.lock:
            if rt not in self.st.refresh:
                reused = rt in self.st.used_refresh
                ok = False
            else:
                ok = True
                self.st.refresh.discard(rt)
                self.st.used_refresh.add(rt)
                self.st.refreshes += 1
                n = self.st.refreshes
                at, nrt = f"AT-{n}-{uuid.uuid4().hex[:8]}", f"RT-{n}-{uuid.uuid4().hex[:8]}"
                ttl = int(cfg.get("expires_in", 90000))
                self.st.access[at] = _now() + ttl
                self.st.refresh.add(nrt)
        if not ok:
            return err(-14014, "Invalid refresh token" + (" (already used)" if reused else ""),
                       "reused refresh token" if reused else "unknown refresh token")
        self.st.log_request("oauth", ZALO_OAUTH, 200, "refreshed")
        self._send(200, {"access_token": at, "refresh_token": nrt, "expires_in": str(ttl)})

    # -- Twilio --
    def _twilio_send(self, path, body):
        cfg = self.st.config["twilio"]

        def err(status, code, message, outcome):
            self.st.log_request("twilio", path, status, outcome)
            self._send(status, {"code": code, "message": message,
                                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                "status": status})

        sid = cfg["account_sid"]
        if path != f"/2010-04-01/Accounts/{sid}/Messages.json":
            return err(404, 20404, "The requested resource was not found", "bad path")
        auth = self.headers.get("Authorization") or ""
        want = "Basic " + base64.b64encode(f"{sid}:{cfg['auth_token']}".encode()).decode()
        if not hmac.compare_digest(auth, want):
            return err(401, 20003, "Authentication Error - invalid username", "bad auth")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return err(400, 21602, "Message body is required.", "bad content-type")
        f = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not f.get("To"):
            return err(400, 21604, "A 'To' phone number is required.", "no To")
        if not f.get("From") and not f.get("MessagingServiceSid"):
            return err(400, 21603, "A 'From' phone number is required.", "no From")
        if not f.get("Body"):
            return err(400, 21602, "Message body is required.", "no Body")
        if len(f["Body"]) > 1600:
            return err(400, 21617, "The concatenated message body exceeds the 1600 character limit.",
                       "too long")
        if f["To"] in cfg.get("opted_out", []):
            return err(400, 21610, "Attempt to send to unsubscribed recipient", "opted out")
        msid = "SM" + uuid.uuid4().hex
        self.st.record({"provider": "twilio", "to": f["To"], "text": f["Body"], "id": msid,
                        "from": f.get("From") or f.get("MessagingServiceSid"),
                        "status_callback": f.get("StatusCallback")})
        self.st.log_request("twilio", path, 201, "sent")
        self._send(201, {"sid": msid, "account_sid": sid, "to": f["To"], "from": f.get("From"),
                         "body": f["Body"], "status": "queued", "num_segments": "1",
                         "error_code": None, "error_message": None})
        if f.get("StatusCallback") and self.st.config.get("callbacks", True):
            params = {"MessageSid": msid, "MessageStatus": "delivered", "AccountSid": sid,
                      "To": f["To"], "From": f.get("From", "")}
            threading.Timer(0.2, _post_form, (f["StatusCallback"], params,
                                              twilio_signature(cfg["auth_token"], f["StatusCallback"],
                                                               params))).start()

    # -- eSMS --
    def _esms_send(self, body):
        cfg = self.st.config["esms"]

        def answer(code, outcome, extra=None, status=200):
            self.st.log_request("esms", ESMS_SEND, status, outcome)
            d = {"CodeResult": code}
            d.update(extra or {})
            self._send(status, d)

        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype != "application/json":
                raise ValueError
            d = json.loads(body.decode("utf-8"))
            if not isinstance(d, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            return answer("99", "bad body", {"ErrorMessage": "Invalid JSON"})
        if d.get("ApiKey") != cfg["api_key"] or d.get("SecretKey") != cfg["secret_key"]:
            return answer("101", "bad keys", {"ErrorMessage": "Authorize Failed"})
        for k in ("Phone", "Content", "SmsType", "IsUnicode"):
            if not isinstance(d.get(k), str) or not d.get(k):
                return answer("118", "missing " + k, {"ErrorMessage": f"{k} is required"})
        if d["SmsType"] == "2" and d.get("Brandname") not in cfg.get("brandnames", []):
            return answer("104", "brandname", {"ErrorMessage": "Brandname is not registered"})
        if d["IsUnicode"] not in ("0", "1"):
            return answer("118", "IsUnicode", {"ErrorMessage": "IsUnicode must be 0 or 1"})
        rid = d.get("RequestId")
        with self.st.lock:
            if rid and rid in self.st.esms_request_ids:
                dup = self.st.esms_request_ids[rid]
            else:
                dup = None
                smsid = str(uuid.uuid4())
                if rid:
                    self.st.esms_request_ids[rid] = smsid
        if dup:
            return answer("124", "duplicate RequestId", {"ErrorMessage": "Duplicate RequestId",
                                                         "SMSID": dup})
        self.st.record({"provider": "esms", "to": d["Phone"], "text": d["Content"], "id": smsid,
                        "request_id": rid, "unicode": d["IsUnicode"], "brandname": d.get("Brandname"),
                        "sms_type": d["SmsType"], "callback_url": d.get("CallbackUrl")})
        answer("100", "sent", {"CountRegenerate": 0, "SMSID": smsid})
        cb = d.get("CallbackUrl")
        if cb and self.st.config.get("callbacks", True):
            q = urllib.parse.urlencode({"SMSID": smsid, "SendStatus": "5", "RequestId": rid or ""})
            threading.Timer(0.2, _get, (cb + ("&" if "?" in cb else "?") + q,)).start()


def _post_form(url, params, signature):
    try:
        req = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "X-Twilio-Signature": signature})
        urllib.request.urlopen(req, timeout=5).read()
    except Exception:
        pass


def _get(url):
    try:
        urllib.request.urlopen(url, timeout=5).read()
    except Exception:
        pass


class FakeProvider:
    """In-process use: fp = FakeProvider(port=0).start(); ...; fp.stop()."""

    def __init__(self, port=0, jsonl=None, verbose=False):
        self.state = State(jsonl)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state
        self.httpd.verbose = verbose
        self.port = self.httpd.server_address[1]
        self.thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # conveniences for tests (the same as the control endpoints)
    def messages(self, provider=None):
        with self.state.lock:
            return [m for m in self.state.messages if provider in (None, m["provider"])]

    def requests(self, provider=None):
        with self.state.lock:
            return [r for r in self.state.requests if provider in (None, r["provider"])]

    def set_mode(self, mode="ok", **kw):
        self.state.set_mode(dict(kw, mode=mode))

    def configure(self, **sections):
        with self.state.lock:
            for k, v in sections.items():
                if isinstance(v, dict) and isinstance(self.state.config.get(k), dict):
                    self.state.config[k].update(v)
                else:
                    self.state.config[k] = v
        if "zalo" in sections:
            self.state.reset()

    def expire_tokens(self):
        with self.state.lock:
            for t in self.state.access:
                self.state.access[t] = _now() - 1

    def reset(self):
        self.state.reset()


# ---- self test ------------------------------------------------------------

def selftest():
    fp = FakeProvider().start()
    passed = failed = 0

    def check(what, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
            print(f"ok   fake_provider: {what}")
        else:
            failed += 1
            print(f"FAIL fake_provider: {what} {detail}")

    def call(method, path, body=None, headers=None, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", fp.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            try:
                return r.status, json.loads(data.decode() or "null")
            except ValueError:
                return r.status, data
        finally:
            c.close()

    def zsend(token, text="xin chao", uid="6142494823000000001", ctype="application/json"):
        body = json.dumps({"recipient": {"user_id": uid}, "message": {"text": text}})
        h = {"Content-Type": ctype}
        if token is not None:
            h["access_token"] = token
        return call("POST", ZALO_SEND, body, h)

    def refresh(rt, secret="fake-app-secret"):
        return call("POST", ZALO_OAUTH, urllib.parse.urlencode(
            {"refresh_token": rt, "app_id": "2553928453557884079", "grant_type": "refresh_token"}),
            {"secret_key": secret, "Content-Type": "application/x-www-form-urlencoded"})

    try:
        s, b = zsend("AT-seed")
        check("zalo send with the seed token", s == 200 and b["error"] == 0 and b["data"]["message_id"], b)
        s, b = zsend(None)
        check("zalo without access_token header -> -216", b["error"] == -216, b)
        s, b = call("POST", ZALO_SEND, "{}", {"Authorization": "Bearer AT-seed",
                                              "Content-Type": "application/json"})
        check("zalo with Authorization: Bearer -> -216", b["error"] == -216, b)
        s, b = zsend("AT-seed", ctype="text/plain")
        check("zalo wrong content type -> -201", b["error"] == -201, b)
        s, b = zsend("AT-seed", uid=6142494823000000001)
        check("zalo numeric user_id -> -201", b["error"] == -201, b)
        s, b = zsend("AT-seed", text="x" * 2001)
        check("zalo text over 2000 -> -201", b["error"] == -201, b)
        s, b = refresh("RT-seed", secret="wrong")
        check("oauth wrong secret_key refused", b.get("error") == -14002, b)
        s, b = refresh("RT-seed")
        check("oauth refresh issues new tokens", b.get("access_token") and b.get("refresh_token")
              and b.get("expires_in") == "90000", b)
        new_at, new_rt = b.get("access_token"), b.get("refresh_token")
        s, b = refresh("RT-seed")
        check("oauth reused refresh token refused", b.get("error") == -14014, b)
        fp.expire_tokens()
        s, b = zsend(new_at)
        check("expired token -> -220", b["error"] == -220, b)
        s, b = refresh(new_rt)
        s, b = zsend(b.get("access_token"))
        check("after refresh the send works", b["error"] == 0, b)
        check("messages recorded", len(fp.messages("zalo")) == 2, fp.messages())

        call("POST", "/_control/mode", json.dumps({"mode": "503", "count": 1}))
        s, b = zsend(new_at)
        check("mode 503 (count 1)", s == 503, (s, b))
        s, b = call("POST", "/_control/mode", json.dumps({"mode": "rate_limit", "provider": "zalo",
                                                          "duration": 0.3}))
        s, b = zsend("AT-seed")
        check("mode rate_limit -> -32", b["error"] == -32, b)
        time.sleep(0.4)
        s, b = zsend("AT-seed")
        check("mode ends after its duration", b["error"] == -220, b)   # AT-seed expired above
        fp.set_mode("timeout", delay=1)
        try:
            call("POST", ZALO_SEND, "{}", {}, timeout=3)
            check("mode timeout drops the request", False)
        except (OSError, http.client.HTTPException):
            check("mode timeout drops the request", True)
        fp.set_mode("ok")

        sid, tok = "AC00000000000000000000000000000000", "fake-auth-token"
        path = f"/2010-04-01/Accounts/{sid}/Messages.json"
        auth = {"Authorization": "Basic " + base64.b64encode(f"{sid}:{tok}".encode()).decode(),
                "Content-Type": "application/x-www-form-urlencoded"}
        form = urllib.parse.urlencode({"To": "+84901", "From": "+1500", "Body": "hi"})
        s, b = call("POST", path, form, auth)
        check("twilio send -> 201 sid", s == 201 and b["sid"].startswith("SM"), b)
        s, b = call("POST", path, form, {"Content-Type": "application/x-www-form-urlencoded"})
        check("twilio without auth -> 401 20003", s == 401 and b["code"] == 20003, b)
        s, b = call("POST", path, urllib.parse.urlencode({"To": "+84901", "From": "+1500"}), auth)
        check("twilio without Body -> 21602", s == 400 and b["code"] == 21602, b)
        fp.configure(twilio={"opted_out": ["+84999"]})
        s, b = call("POST", path, urllib.parse.urlencode({"To": "+84999", "From": "+1500",
                                                          "Body": "x"}), auth)
        check("twilio opted-out -> 21610", s == 400 and b["code"] == 21610, b)

        ej = {"ApiKey": "fake-api-key", "SecretKey": "fake-secret-key", "Phone": "0901",
              "Content": "hi", "Brandname": "HOTLINE", "SmsType": "2", "IsUnicode": "0",
              "RequestId": "7"}
        s, b = call("POST", ESMS_SEND, json.dumps(ej), {"Content-Type": "application/json"})
        check("esms send -> 100", b["CodeResult"] == "100" and b["SMSID"], b)
        s, b = call("POST", ESMS_SEND, json.dumps(ej), {"Content-Type": "application/json"})
        check("esms duplicate RequestId -> 124", b["CodeResult"] == "124", b)
        s, b = call("POST", ESMS_SEND, json.dumps(dict(ej, SecretKey="x", RequestId="8")),
                    {"Content-Type": "application/json"})
        check("esms bad keys -> 101", b["CodeResult"] == "101", b)
        s, b = call("POST", ESMS_SEND, json.dumps(dict(ej, Brandname="OTHER", RequestId="9")),
                    {"Content-Type": "application/json"})
        check("esms unknown brandname -> 104", b["CodeResult"] == "104", b)
        fp.set_mode("lost", provider="esms", count=1)
        try:
            call("POST", ESMS_SEND, json.dumps(dict(ej, RequestId="10")),
                 {"Content-Type": "application/json"})
            check("mode lost: no answer", False)
        except (OSError, http.client.HTTPException):
            check("mode lost: no answer", True)
        s, b = call("POST", ESMS_SEND, json.dumps(dict(ej, RequestId="10")),
                    {"Content-Type": "application/json"})
        check("mode lost: processed all the same (a resend gets 124)",
              b["CodeResult"] == "124" and [m["request_id"] for m in fp.messages("esms")] == ["7", "10"],
              (b, fp.messages("esms")))

        s, b = call("GET", "/_control/messages")
        check("GET /_control/messages", s == 200 and len(b["messages"]) == 5, b)
        call("POST", "/_control/reset", "{}")
        s, b = call("GET", "/_control/messages")
        check("reset clears messages", b["messages"] == [], b)
    finally:
        fp.stop()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    ap.add_argument("--jsonl", help="append every accepted message to this file")
    ap.add_argument("--config", help="JSON object as for POST /_control/config")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        sys.exit(selftest())
    fp = FakeProvider(a.port, a.jsonl, a.verbose)
    if a.config:
        fp.configure(**json.loads(a.config))
    print(f"fake_provider listening on {fp.url}", flush=True)
    try:
        fp.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
