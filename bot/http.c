/* http.c - the evhttp server: listening, limits, routing, replies, files.
 *
 * Routing is a small table searched per request: exact paths first, then the
 * longest registered prefix.  Limits on headers, bodies and idle time are set
 * on the evhttp object so that oversized or slow requests are refused by
 * libevent before any handler runs (413 for a body over http.max_body). */
#include "bot/http.h"
#include "bot/log.h"
#include "bot/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define MAX_ROUTES 96

struct route {
    int methods;
    char path[96];
    size_t len;
    int prefix;
    http_handler fn;
};

struct hl_server {
    hl_app *app;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct route routes[MAX_ROUTES];
    size_t n_routes;
    int in_flight;
    struct req_timer *timers;
    /* Open client connections (see "connection limits" below). */
    struct conn *conns;
    size_t n_conns, cap_conns;
    size_t live;                /* conns not yet closing */
    struct event *sweep_ev;
    unsigned long evicted, refused, timed_out, logged_cut;
};

struct conn {
    struct bufferevent *bev;    /* we hold a reference: see conn_new */
    long long since_ms;         /* accepted, or last reply completed */
    int busy;                   /* a request is being handled */
    int closing;                /* shut down by us, waiting for libevent */
};

/* Per-request bookkeeping for the latency histogram: allocated when the
 * request arrives, freed by libevent's on-complete callback. */
struct req_timer {
    struct req_timer *prev, *next;   /* requests in progress */
    struct hl_server *srv;
    struct evhttp_request *req;
    struct timespec start;
};

static struct route pending_routes[MAX_ROUTES];
static size_t n_pending_routes;

int http_route(hl_app *app, int methods, const char *path, http_handler fn)
{
    struct route *table = app->server ? app->server->routes : pending_routes;
    size_t *n = app->server ? &app->server->n_routes : &n_pending_routes;
    if (*n == MAX_ROUTES || strlen(path) >= sizeof table[0].path) {
        log_error("http_route", "path=%s error=\"route table full\"", path);
        return -1;
    }
    struct route *r = &table[(*n)++];
    r->methods = methods;
    snprintf(r->path, sizeof r->path, "%s", path);
    r->len = strlen(path);
    r->prefix = r->len > 1 && path[r->len - 1] == '/';
    r->fn = fn;
    return 0;
}

int http_method(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: return HTTP_GET;
    case EVHTTP_REQ_POST: return HTTP_POST;
    case EVHTTP_REQ_PUT: return HTTP_PUT;
    case EVHTTP_REQ_DELETE: return HTTP_DELETE;
    case EVHTTP_REQ_HEAD: return HTTP_HEAD;
    default: return 0;
    }
}

const char *http_path(struct evhttp_request *req)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *p = u ? evhttp_uri_get_path(u) : NULL;
    return p && *p ? p : "/";
}

const char *http_header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

char *http_body(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    if (n && evbuffer_copyout(in, buf, n) != (ev_ssize_t)n) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* 1 when s holds the JSON escape \u0000 (a backslash that is not itself
 * escaped, then u0000 in any case). */
static int json_escaped_nul(const char *s)
{
    for (const char *p = strchr(s, '\\'); p; p = strchr(p, '\\')) {
        if (p[1] == '\\') {
            p += 2;
            continue;
        }
        if ((p[1] == 'u' || p[1] == 'U') && strncmp(p + 2, "0000", 4) == 0)
            return 1;
        p++;
    }
    return 0;
}

cJSON *http_json_body(struct evhttp_request *req)
{
    const char *ct = http_header(req, "Content-Type");
    if (ct && strncasecmp(ct, "application/json", 16) != 0) {
        http_reply_error(req, 415, "expected Content-Type: application/json");
        return NULL;
    }
    size_t len = 0;
    char *body = http_body(req, &len);
    if (!body) {
        http_reply_error(req, 500, "out of memory");
        return NULL;
    }
    if (strlen(body) != len) {
        free(body);
        http_reply_error(req, 400, "NUL byte in body");
        return NULL;
    }
    /* cJSON decodes \u0000 into a NUL that ends the C string: "a\u0000b"
     * would be stored as "a".  Refused, like a raw NUL. */
    if (json_escaped_nul(body)) {
        free(body);
        http_reply_error(req, 400, "NUL character (\\u0000) in body");
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(body, len);
    free(body);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        http_reply_error(req, 400, "body is not a JSON object");
        return NULL;
    }
    return j;
}

char *http_query(struct evhttp_request *req, const char *name)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *q = u ? evhttp_uri_get_query(u) : NULL;
    if (!q)
        return NULL;
    struct evkeyvalq kv;
    kv.tqh_first = NULL;
    kv.tqh_last = &kv.tqh_first;
    if (evhttp_parse_query_str(q, &kv) != 0) {
        evhttp_clear_headers(&kv);
        return NULL;
    }
    const char *v = evhttp_find_header(&kv, name);
    char *out = v ? strdup(v) : NULL;
    evhttp_clear_headers(&kv);
    return out;
}

/* Set by http_start: the proxies whose X-Forwarded-For we believe. */
static const char *trusted_proxies;

static int is_trusted_proxy(const char *addr)
{
    size_t n = strlen(addr);
    for (const char *p = trusted_proxies; p && *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len == n && len > 0 && strncmp(p, addr, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* The client's address: the TCP peer, or behind a trusted reverse proxy the
 * last address that proxy appended to X-Forwarded-For (earlier entries are
 * the client's own claims and are not believed). */
const char *http_peer(struct evhttp_request *req)
{
    static char fwd[64];
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    if (c)
        evhttp_connection_get_peer(c, &addr, &port);
    if (!addr)
        return "";
    const char *xff = trusted_proxies ? http_header(req, "X-Forwarded-For") : NULL;
    if (xff && is_trusted_proxy(addr)) {
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        last += strspn(last, " ");
        size_t len = strcspn(last, " ");
        if (len > 0 && len < sizeof fwd && strspn(last, "0123456789abcdefABCDEF.:") >= len) {
            memcpy(fwd, last, len);
            fwd[len] = '\0';
            return fwd;
        }
    }
    return addr;
}

char *http_cookie(struct evhttp_request *req, const char *name)
{
    const char *h = http_header(req, "Cookie");
    size_t nlen = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        if (strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
            const char *v = h + nlen + 1;
            size_t vlen = strcspn(v, ";");
            return strndup(v, vlen);
        }
        h = strchr(h, ';');
    }
    return NULL;
}

static void add_common_headers(struct evhttp_request *req)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(out, "Cache-Control", "no-store");
}

void http_reply_text(struct evhttp_request *req, int status, const char *content_type,
                     const char *body, size_t len)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    if (len)
        evbuffer_add(buf, body, len);
    add_common_headers(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      content_type ? content_type : "text/plain; charset=utf-8");
    evhttp_send_reply(req, status, NULL, buf);
    evbuffer_free(buf);
}

void http_reply_json(struct evhttp_request *req, int status, cJSON *body)
{
    char *s = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!s) {
        http_reply_text(req, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
        return;
    }
    http_reply_text(req, status, "application/json; charset=utf-8", s, strlen(s));
    cJSON_free(s);
}

void http_reply_error(struct evhttp_request *req, int status, const char *reason)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "error", reason ? reason : "error")) {
        cJSON_Delete(j);
        evhttp_send_error(req, status, reason);
        return;
    }
    http_reply_json(req, status, j);
}

static const char *mime_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Static files: the path is checked textually (no "..", no backslash, no
 * NUL, no hidden files) and then by realpath() so that a symlink cannot lead
 * outside the folder either. */
void http_reply_file(struct evhttp_request *req, const char *dir, const char *rel)
{
    if (!rel || !*rel)
        rel = "index.html";
    if (strstr(rel, "..") || strchr(rel, '\\') || rel[0] == '/' || strstr(rel, "/.") ||
        rel[0] == '.') {
        http_reply_error(req, 404, "not found");
        return;
    }
    char root[PATH_MAX], want[PATH_MAX * 2], real[PATH_MAX];
    if (!realpath(dir, root)) {
        http_reply_error(req, 404, "not found");
        return;
    }
    snprintf(want, sizeof want, "%s/%s", root, rel);
    size_t rl = strlen(root);
    if (!realpath(want, real) || strncmp(real, root, rl) != 0 || real[rl] != '/') {
        http_reply_error(req, 404, "not found");
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        http_reply_error(req, 404, "not found");
        return;
    }
    struct evbuffer *buf = evbuffer_new();
    if (!buf || evbuffer_add_file(buf, fd, 0, st.st_size) != 0) {
        if (buf)
            evbuffer_free(buf);
        else
            close(fd);
        http_reply_error(req, 500, "cannot read file");
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", mime_type(real));
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(out, "Cache-Control", "no-cache");
    evhttp_add_header(out, "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                      "frame-ancestors 'none'");
    evhttp_add_header(out, "X-Frame-Options", "DENY");
    evhttp_send_reply(req, 200, "OK", buf);
    evbuffer_free(buf);
}

static void timer_unlink(struct req_timer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        t->srv->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
}

static void conn_idle(struct hl_server *s, struct evhttp_request *req);

static void on_complete(struct evhttp_request *req, void *arg)
{
    struct req_timer *t = arg;
    conn_idle(t->srv, req);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - t->start.tv_sec) + (now.tv_nsec - t->start.tv_nsec) / 1e9;
    metrics_http_observe(t->srv->app->metrics, secs);
    timer_unlink(t);
    free(t);
}

/* Streams (server-sent events) may end without a completed reply, when the
 * peer goes away; libevent then never calls on_complete, so their timer is
 * dropped here when the stream starts.  They are not latency anyway. */
void http_request_untimed(struct hl_server *s, struct evhttp_request *req)
{
    for (struct req_timer *t = s->timers; t; t = t->next) {
        if (t->req == req) {
            evhttp_request_set_on_complete_cb(req, NULL, NULL);
            timer_unlink(t);
            free(t);
            return;
        }
    }
}

static const struct route *find_route(struct hl_server *s, const char *path)
{
    const struct route *best = NULL;
    for (size_t i = 0; i < s->n_routes; i++) {
        const struct route *r = &s->routes[i];
        if (!r->prefix && strcmp(r->path, path) == 0)
            return r;
        if (r->prefix && strncmp(r->path, path, r->len) == 0 && (!best || r->len > best->len))
            best = r;
    }
    return best;
}

static void conn_busy(struct hl_server *s, struct evhttp_request *req);

static void dispatch(struct evhttp_request *req, void *arg)
{
    struct hl_server *s = arg;
    conn_busy(s, req);
    struct req_timer *t = malloc(sizeof *t);
    if (t) {
        t->srv = s;
        t->req = req;
        t->prev = NULL;
        t->next = s->timers;
        if (s->timers)
            s->timers->prev = t;
        s->timers = t;
        clock_gettime(CLOCK_MONOTONIC, &t->start);
        evhttp_request_set_on_complete_cb(req, on_complete, t);
    }
    const char *path = http_path(req);
    if (s->app->stopping) {
        http_reply_error(req, 503, "shutting down");
        return;
    }
    const struct route *r = find_route(s, path);
    if (!r) {
        http_reply_error(req, 404, "not found");
        return;
    }
    int m = http_method(req);
    if (!(r->methods & m)) {
        http_reply_error(req, 405, "method not allowed");
        return;
    }
    r->fn(req, s->app, r->prefix ? path + r->len : "");
}

void http_request_begin(struct hl_server *s) { s->in_flight++; }
void http_request_end(struct hl_server *s) { s->in_flight--; }
int http_in_flight(struct hl_server *s) { return s->in_flight; }

/* ---- connection limits ----------------------------------------------------
 *
 * libevent 2.1's evhttp has no limit on connections and its timeout is per
 * read: a client that trickles one header byte every few seconds (slowloris)
 * keeps its connection for ever, and enough of them exhaust the descriptors.
 * So every connection is tracked from the bufferevent evhttp asks us for
 * (evhttp_set_bevcb), and:
 *  - a request must arrive whole within http.timeout seconds of the
 *    connection's start or of its previous reply; a connection that is not
 *    being answered and misses that deadline is shut down;
 *  - at http.max_connections, a new connection evicts the one that has been
 *    idle (or trickling) longest; only when every connection is busy being
 *    answered is the new one refused (closed at once).
 * Connections with a request in hand (a webhook waiting for its commit, an
 * event stream) are never cut by these rules.
 *
 * We keep a reference on each bufferevent so that it stays valid memory
 * after evhttp frees the connection; bufferevent_free() clears its callbacks,
 * which is how the once-a-second sweep sees that the connection is gone and
 * drops the last reference (closing the socket). */

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct conn *conn_find(struct hl_server *s, struct evhttp_request *req)
{
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
    for (size_t i = 0; bev && i < s->n_conns; i++)
        if (s->conns[i].bev == bev)
            return &s->conns[i];
    return NULL;
}

static void conn_busy(struct hl_server *s, struct evhttp_request *req)
{
    struct conn *c = conn_find(s, req);
    if (c)
        c->busy = 1;
}

static void conn_idle(struct hl_server *s, struct evhttp_request *req)
{
    struct conn *c = conn_find(s, req);
    if (c) {
        c->busy = 0;
        c->since_ms = mono_ms();
    }
}

static int conn_gone(const struct conn *c)
{
    bufferevent_event_cb ecb = NULL;
    bufferevent_getcb(c->bev, NULL, NULL, &ecb, NULL);
    return ecb == NULL;
}

/* Shuts the socket down; evhttp sees the end of the stream and frees the
 * connection itself, the sweep then drops our reference. */
static void conn_close(struct hl_server *s, struct conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    s->live--;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

static void on_refuse(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct bufferevent *bev = arg;
    evutil_socket_t sock = bufferevent_getfd(bev);
    if (sock >= 0)
        shutdown(sock, SHUT_RDWR);
    bufferevent_decref(bev);   /* ours; evhttp frees its own on the hang-up */
}

static void sweep(struct hl_server *s)
{
    long long now = mono_ms(), limit = (long long)s->app->cfg.http_timeout * 1000;
    size_t j = 0;
    for (size_t i = 0; i < s->n_conns; i++) {
        struct conn *c = &s->conns[i];
        if (conn_gone(c)) {
            if (!c->closing)
                s->live--;
            bufferevent_decref(c->bev);
            continue;
        }
        if (!c->busy && !c->closing && now - c->since_ms > limit) {
            s->timed_out++;
            conn_close(s, c);
        }
        s->conns[j++] = *c;
    }
    s->n_conns = j;
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hl_server *s = arg;
    sweep(s);
    unsigned long cut = s->evicted + s->refused + s->timed_out;
    if (cut != s->logged_cut) {   /* at most one line a second, only on change */
        s->logged_cut = cut;
        log_warn("http_connections", "open=%zu evicted=%lu refused=%lu timed_out=%lu", s->live,
                 s->evicted, s->refused, s->timed_out);
    }
}

static struct bufferevent *conn_new(struct event_base *base, void *arg)
{
    struct hl_server *s = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        return NULL;   /* evhttp makes its own; that connection is not tracked */
    if (s->live >= (size_t)s->app->cfg.http_max_connections)
        sweep(s);   /* connections closed since the last sweep make room first */
    if (s->live >= (size_t)s->app->cfg.http_max_connections) {
        struct conn *victim = NULL;
        for (size_t i = 0; i < s->n_conns; i++) {
            struct conn *c = &s->conns[i];
            if (!c->busy && !c->closing && !conn_gone(c) &&
                (!victim || c->since_ms < victim->since_ms))
                victim = c;
        }
        if (victim) {
            s->evicted++;
            conn_close(s, victim);
        } else {
            /* Every connection is being answered: refuse this one once
             * evhttp has given it its socket. */
            s->refused++;
            bufferevent_incref(bev);
            if (event_base_once(base, -1, EV_TIMEOUT, on_refuse, bev, NULL) != 0)
                bufferevent_decref(bev);
            return bev;
        }
    }
    if (s->n_conns == s->cap_conns) {
        size_t cap = s->cap_conns ? s->cap_conns * 2 : 256;
        struct conn *n = realloc(s->conns, cap * sizeof *n);
        if (!n)
            return bev;
        s->conns = n;
        s->cap_conns = cap;
    }
    bufferevent_incref(bev);
    s->conns[s->n_conns++] = (struct conn){.bev = bev, .since_ms = mono_ms()};
    s->live++;
    return bev;
}

/* More descriptors than connections: the soft limit is raised to the hard
 * one (systemd's LimitNOFILE sets that). */
static void raise_nofile(int max_conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max_conns + 64)
        log_warn("nofile", "limit=%llu max_connections=%d note=\"raise LimitNOFILE\"",
                 (unsigned long long)rl.rlim_cur, max_conns);
}

struct hl_server *http_start(hl_app *app, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(app->cfg.listen, ':');
    if (!colon || colon == app->cfg.listen || (size_t)(colon - app->cfg.listen) >= sizeof host) {
        snprintf(err, errlen, "listen: expected host:port, got \"%s\"", app->cfg.listen);
        return NULL;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        snprintf(err, errlen, "listen: bad port in \"%s\"", app->cfg.listen);
        return NULL;
    }
    memcpy(host, app->cfg.listen, (size_t)(colon - app->cfg.listen));
    host[colon - app->cfg.listen] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }

    struct hl_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->app = app;
    trusted_proxies = app->cfg.http_trusted_proxies;
    memcpy(s->routes, pending_routes, n_pending_routes * sizeof pending_routes[0]);
    s->n_routes = n_pending_routes;
    n_pending_routes = 0;
    s->http = evhttp_new(app->base);
    if (!s->http) {
        snprintf(err, errlen, "evhttp_new failed");
        free(s);
        return NULL;
    }
    evhttp_set_max_body_size(s->http, app->cfg.http_max_body);
    evhttp_set_max_headers_size(s->http, app->cfg.http_max_headers);
    evhttp_set_timeout(s->http, app->cfg.http_timeout);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(s->http, dispatch, s);
    evhttp_set_bevcb(s->http, conn_new, s);
    raise_nofile(app->cfg.http_max_connections);
    struct timeval second = {1, 0};
    s->sweep_ev = event_new(app->base, -1, EV_PERSIST, on_sweep, s);
    if (!s->sweep_ev || event_add(s->sweep_ev, &second) != 0) {
        snprintf(err, errlen, "cannot start the connection sweep");
        if (s->sweep_ev)
            event_free(s->sweep_ev);
        evhttp_free(s->http);
        free(s);
        return NULL;
    }
    s->sock = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
    if (!s->sock) {
        snprintf(err, errlen, "cannot listen on %s: %s", app->cfg.listen, strerror(errno));
        event_free(s->sweep_ev);
        evhttp_free(s->http);
        free(s);
        return NULL;
    }
    return s;
}

void http_stop_accepting(struct hl_server *s)
{
    if (s && s->sock) {
        evhttp_del_accept_socket(s->http, s->sock);
        s->sock = NULL;
    }
}

void http_stop(struct hl_server *s)
{
    if (!s)
        return;
    event_free(s->sweep_ev);
    evhttp_free(s->http);
    /* evhttp freed its connections; ours are the last references. */
    for (size_t i = 0; i < s->n_conns; i++)
        bufferevent_decref(s->conns[i].bev);
    free(s->conns);
    /* Requests still unanswered at exit (none after a clean stop). */
    while (s->timers) {
        struct req_timer *t = s->timers;
        s->timers = t->next;
        free(t);
    }
    free(s);
}
