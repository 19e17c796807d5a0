/* api_cases.c - session routes, the human queue, events, try and SMS render.
 *
 * Also the helpers every api_*.c file shares, and api_register().  Handlers
 * reply exactly once on every path: either an auth/validation helper has
 * replied (and returned NULL / -1) or the handler replies at its end. */
#include "bot/api.h"
#include "adapters/adapter.h"
#include "bot/auth.h"
#include "bot/events.h"
#include "bot/http.h"
#include "bot/log.h"
#include "bot/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

int api_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

int api_parse_id(const char *s, size_t len, long long *out)
{
    if (len == 0 || len > 18)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0)
        return -1;
    *out = v;
    return 0;
}

const char *api_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *api_need_text(struct evhttp_request *req, const cJSON *o, const char *key, size_t max)
{
    char msg[160];
    const char *s = api_str(o, key);
    if (!s || !*s)
        snprintf(msg, sizeof msg, "%s: required (a non-empty string)", key);
    else if (strlen(s) > max)
        snprintf(msg, sizeof msg, "%s: at most %zu bytes", key, max);
    else if (!api_utf8_valid(s))
        snprintf(msg, sizeof msg, "%s: not valid UTF-8", key);
    else
        return s;
    http_reply_error(req, 400, msg);
    return NULL;
}

int api_query_int(struct evhttp_request *req, const char *name, long long lo, long long hi,
                  long long def, long long *out)
{
    char *v = http_query(req, name);
    if (!v || !*v) {
        free(v);
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    int ok = errno == 0 && *end == '\0' && n >= lo && n <= hi;
    free(v);
    if (!ok) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: expected an integer from %lld to %lld", name, lo, hi);
        http_reply_error(req, 400, msg);
        return -1;
    }
    *out = n;
    return 0;
}

int api_optional_body(struct evhttp_request *req, cJSON **out)
{
    *out = NULL;
    size_t len = 0;
    char *raw = http_body(req, &len);
    if (!raw) {
        http_reply_error(req, 500, "out of memory");
        return -1;
    }
    if (strspn(raw, " \t\r\n") == len) {
        free(raw);
        return 0;
    }
    cJSON *j = strlen(raw) == len ? cJSON_ParseWithLength(raw, len) : NULL;
    free(raw);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        http_reply_error(req, 400, "body is not a JSON object");
        return -1;
    }
    *out = j;
    return 0;
}

void api_reply(struct evhttp_request *req, int status, cJSON *body)
{
    if (!body)
        http_reply_error(req, 500, "out of memory");
    else
        http_reply_json(req, status, body);
}

cJSON *api_wrap(const char *key, cJSON *value)
{
    cJSON *o = value ? cJSON_CreateObject() : NULL;
    if (!o || !cJSON_AddItemToObject(o, key, value)) {
        cJSON_Delete(o);
        cJSON_Delete(value);
        return NULL;
    }
    return o;
}

/* {user:{id, username, role}, csrf} */
static cJSON *session_json(const auth_user *u)
{
    cJSON *o = api_wrap("user", auth_user_json(u));
    if (o && !cJSON_AddStringToObject(o, "csrf", u->csrf)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- session ---- */

static void h_login(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    cJSON *body = http_json_body(req);
    if (!body)
        return;
    const char *name = api_str(body, "username"), *pw = api_str(body, "password");
    if (!name || !*name || !pw || strlen(name) > 64 || strlen(pw) > 1024) {
        cJSON_Delete(body);
        http_reply_error(req, 400, "username and password required");
        return;
    }
    const char *peer = http_peer(req);
    char lower[65];
    size_t n = strlen(name);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    if (auth_rate_limited(app, peer, lower)) {
        cJSON_Delete(body);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "900");
        http_reply_error(req, 429, "too many login attempts; try again in 15 minutes");
        return;
    }
    auth_user u;
    char token[65];
    int rc = auth_login(app, peer, name, pw, &u, token);
    cJSON_Delete(body);
    if (rc == 1) {
        http_reply_error(req, 401, "wrong username or password");
        return;
    }
    if (rc != 0) {
        http_reply_error(req, 500, "cannot log in now");
        return;
    }
    cJSON *out = session_json(&u);
    if (!out) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    auth_set_cookie(app, req, token);
    http_reply_json(req, 200, out);
}

static void h_logout(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 0, &u) != 0)
        return;
    auth_logout(app, req);
    events_prune(app->events);
    auth_set_cookie(app, req, NULL);
    log_info("logout", "user=%s", u.username);
    api_reply(req, 200, cJSON_CreateObject());
}

static void h_me(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 0, &u) != 0)
        return;
    api_reply(req, 200, session_json(&u));
}

/* ---- queue ---- */

static void h_cases(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 0, &u) != 0)
        return;
    char *status = http_query(req, "status");
    int bad = 0;
    cJSON *list = queue_list(app, status, &bad);
    free(status);
    if (bad) {
        http_reply_error(req, 400, "status: expected open, claimed, resolved or active");
        return;
    }
    if (!list) {
        http_reply_error(req, 500, "cannot read the queue");
        return;
    }
    api_reply(req, 200, api_wrap("cases", list));
}

static void reply_queue_error(struct evhttp_request *req, int rc, const char *err)
{
    int status = rc == QUEUE_NOT_FOUND ? 404 : rc == QUEUE_CONFLICT ? 409 : rc == QUEUE_BAD ? 400 : 500;
    http_reply_error(req, status, err[0] ? err : "error");
}

static void case_detail(struct evhttp_request *req, hl_app *app, long long id)
{
    cJSON *c = queue_case_json(app, id, 1);
    if (!c) {
        http_reply_error(req, 404, "no such case");
        return;
    }
    const cJSON *contact = cJSON_GetObjectItemCaseSensitive(c, "contact");
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(contact, "id");
    cJSON *msgs = queue_messages(app, cJSON_IsNumber(cid) ? (long long)cid->valuedouble : 0, 200);
    cJSON *out = api_wrap("case", c);
    if (!out || !msgs || !cJSON_AddItemToObject(out, "messages", msgs)) {
        cJSON_Delete(out);
        cJSON_Delete(msgs);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    http_reply_json(req, 200, out);
}

/* The JSON body of a request that carries a required "text" of at most max
 * bytes: the body, with *text pointing into it (the caller deletes it), or
 * NULL after replying. */
static cJSON *text_body(struct evhttp_request *req, size_t max, const char **text)
{
    cJSON *body = http_json_body(req);
    if (!body)
        return NULL;
    *text = api_need_text(req, body, "text", max);
    if (!*text) {
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

static void case_action(struct evhttp_request *req, hl_app *app, const auth_user *u, long long id,
                        const char *action)
{
    char err[200] = "";
    int admin = strcmp(u->role, "admin") == 0, rc;
    cJSON *body = NULL;
    if (strcmp(action, "claim") == 0) {
        rc = queue_claim(app, id, u->username, admin, err, sizeof err);
    } else if (strcmp(action, "release") == 0) {
        rc = queue_release(app, id, u->username, admin, err, sizeof err);
    } else if (strcmp(action, "resolve") == 0) {
        /* {} or {proposal: ...}; an empty body is fine. */
        if (api_optional_body(req, &body) != 0)
            return;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "proposal");
        if (p && !cJSON_IsNull(p) && !cJSON_IsObject(p)) {
            cJSON_Delete(body);
            http_reply_error(req, 400, "proposal: expected an object");
            return;
        }
        rc = queue_resolve(app, id, u->username, admin, p, err, sizeof err);
        cJSON_Delete(body);
    } else if (strcmp(action, "reply") == 0) {
        const char *text;
        body = text_body(req, 8000, &text);
        if (!body)
            return;
        long long mid = 0;
        rc = queue_reply(app, id, u->username, admin, text, &mid, err, sizeof err);
        cJSON_Delete(body);
        if (rc == QUEUE_OK) {
            api_reply(req, 201, api_wrap("message", queue_message_json(app, mid)));
            return;
        }
    } else {
        http_reply_error(req, 404, "unknown case action");
        return;
    }
    if (rc != QUEUE_OK) {
        reply_queue_error(req, rc, err);
        return;
    }
    api_reply(req, 200, api_wrap("case", queue_case_json(app, id, 0)));
}

/* /api/cases/{id} (GET) and /api/cases/{id}/{action} (POST). */
static void h_case(struct evhttp_request *req, hl_app *app, const char *tail)
{
    auth_user u;
    if (auth_require(req, app, 0, &u) != 0)
        return;
    size_t n = strcspn(tail, "/");
    long long id;
    if (api_parse_id(tail, n, &id) != 0) {
        http_reply_error(req, 404, "no such case");
        return;
    }
    const char *action = tail[n] == '/' ? tail + n + 1 : NULL;
    int m = http_method(req);
    if (!action || !*action) {
        if (m != HTTP_GET)
            http_reply_error(req, 405, "method not allowed");
        else
            case_detail(req, app, id);
        return;
    }
    if (m != HTTP_POST) {
        http_reply_error(req, 405, "method not allowed");
        return;
    }
    case_action(req, app, &u, id, action);
}

static void h_events(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    char key[65];
    if (auth_require(req, app, 0, &u) != 0)
        return;
    events_attach(app->events, req, auth_session_key(req, key) == 0 ? key : NULL);
}

/* ---- tools ---- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void h_sms_render(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 0, &u) != 0)
        return;
    const char *text;
    cJSON *body = text_body(req, 8000, &text);
    if (!body)
        return;
    int coding = 0, segments = 0;
    char *out = sms_render(text, app->settings.sms_unaccent, app->settings.sms_max_segments,
                           app->cfg.hotline_number, &coding, &segments);
    cJSON_Delete(body);
    if (!out) {
        http_reply_error(req, 500, "cannot render");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "text", out) ||
        !cJSON_AddNumberToObject(o, "segments", segments) ||
        !cJSON_AddNumberToObject(o, "coding", coding) ||
        !cJSON_AddNumberToObject(o, "chars", (double)utf8_chars(out))) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(out);
    api_reply(req, 200, o);
}

static cJSON *candidate_json(const kb_candidate *c)
{
    cJSON *o = cJSON_CreateObject(), *terms = cJSON_CreateArray();
    if (!o || !terms || !cJSON_AddItemToObject(o, "terms", terms)) {
        cJSON_Delete(o);
        cJSON_Delete(terms);
        return NULL;
    }
    cJSON_AddStringToObject(o, "entry_id", c->entry->id);
    cJSON_AddStringToObject(o, "question", c->entry->question);
    cJSON_AddNumberToObject(o, "score", c->score);
    cJSON_AddNumberToObject(o, "confidence", c->confidence);
    for (size_t i = 0; i < c->n_terms; i++) {
        cJSON *t = cJSON_CreateObject();
        if (!t || !cJSON_AddItemToArray(terms, t)) {
            cJSON_Delete(t);
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddStringToObject(t, "term", c->terms[i].term);
        cJSON_AddStringToObject(t, "field", c->terms[i].field);
        cJSON_AddNumberToObject(t, "score", c->terms[i].score);
    }
    return o;
}

static void h_try(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 0, &u) != 0)
        return;
    const char *text;
    cJSON *body = text_body(req, 4000, &text);
    if (!body)
        return;
    if (!app->kb) {
        cJSON_Delete(body);
        http_reply_error(req, 503, "the knowledge base is not loaded");
        return;
    }
    kb_result r;
    kb_match(app->kb, text, &app->settings.kb, &r);
    cJSON_Delete(body);
    cJSON *o = cJSON_CreateObject(), *cands = cJSON_CreateArray();
    if (!o || !cands || !cJSON_AddItemToObject(o, "candidates", cands)) {
        cJSON_Delete(o);
        cJSON_Delete(cands);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    cJSON_AddStringToObject(o, "decision", r.action == KB_ANSWER ? "answer" : "escalate");
    if (r.action == KB_ANSWER)
        cJSON_AddNullToObject(o, "reason");
    else
        cJSON_AddStringToObject(o, "reason", kb_reason_name(r.reason));
    cJSON_AddNumberToObject(o, "confidence", r.confidence);
    if (r.n_cand > 0)
        cJSON_AddStringToObject(o, "entry_id", r.cand[0].entry->id);
    else
        cJSON_AddNullToObject(o, "entry_id");
    cJSON_AddNumberToObject(o, "threshold", app->settings.kb.threshold);
    cJSON_AddNumberToObject(o, "gap", app->settings.kb.gap);
    for (size_t i = 0; i < r.n_cand; i++) {
        cJSON *c = candidate_json(&r.cand[i]);
        if (!c || !cJSON_AddItemToArray(cands, c)) {
            cJSON_Delete(c);
            cJSON_Delete(o);
            http_reply_error(req, 500, "out of memory");
            return;
        }
    }
    http_reply_json(req, 200, o);
}

int api_register_cases(hl_app *app)
{
    int rc = 0;
    rc |= http_route(app, HTTP_POST, "/api/login", h_login);
    rc |= http_route(app, HTTP_POST, "/api/logout", h_logout);
    rc |= http_route(app, HTTP_GET, "/api/me", h_me);
    rc |= http_route(app, HTTP_GET, "/api/cases", h_cases);
    rc |= http_route(app, HTTP_GET | HTTP_POST, "/api/cases/", h_case);
    rc |= http_route(app, HTTP_GET, "/api/events", h_events);
    rc |= http_route(app, HTTP_POST, "/api/sms/render", h_sms_render);
    rc |= http_route(app, HTTP_POST, "/api/try", h_try);
    return rc ? -1 : 0;
}

int api_register(hl_app *app)
{
    if (api_register_cases(app) != 0 || api_register_kb(app) != 0 ||
        api_register_proposals(app) != 0 || api_register_admin(app) != 0) {
        log_error("api_register", "error=\"cannot register the /api routes\"");
        return -1;
    }
    return 0;
}
