/* lean.c - the least any daemon on this project's stack must do per
 * webhook, for the load bench: a bound on the full path, next to relay.c's
 * bound on its HTTP alone.
 *
 *   build/bench/lean PORT SINK_PORT THREADS DB_PREFIX FAQ_JSON
 *
 * Per Zalo webhook: verify and parse it with the daemon's own Zalo adapter
 * (the SHA-256 signature, cJSON), match the text (knowledge/), store the
 * message and its reply in SQLite (WAL, synchronous=FULL, one transaction
 * per batch of the webhooks that arrived together), acknowledge 200 after
 * the commit, send the reply the adapter builds to the sink with libcurl's
 * multi interface on the same libevent loop, and mark it sent in the next batch's transaction.  Nothing else: no contacts,
 * cases, rate limits, opt-outs, settings, audit, outbox retry schedule,
 * metrics or logging, one index (the duplicate check), and each of the
 * THREADS loops has its own database file (DB_PREFIX.N) so that no loop
 * waits for another's write lock.  Every one of those omissions makes it
 * cheaper than a real daemon, so its rate is an upper bound on what the
 * real one can reach here with these libraries. */
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/adapter.h"
#include "bot/config.h"
#include "knowledge/kb.h"
#include "tests/bench/standin.h"

#define MAX_BATCH 1024

struct pending {
    struct evhttp_request *req;
    adapter_request send;   /* the reply's request to the sink; no url: none (duplicate) */
    sqlite3_int64 reply_id;
};

struct loop {
    struct event_base *base;
    struct evhttp *http;
    sqlite3 *db;
    sqlite3_stmt *ins_in, *ins_out, *mark_sent, *begin, *commit;
    struct event *flush_ev, *curl_timer;
    CURLM *multi;
    struct pending batch[MAX_BATCH];
    size_t n_batch;
    sqlite3_int64 *sent;   /* replies the sink took since the last batch */
    size_t n_sent, cap_sent;
    struct job *idle;      /* finished sends, their curl handles kept for reuse */
};

/* LEAN_WITHOUT=store,match (environment) leaves those steps out, to price
 * each one: "store" runs no SQL at all, "match" answers every message with
 * the first entry. */
static int without_store, without_match;
static _Thread_local sqlite3_int64 fake_rowid;

static kb *the_kb;
static kb_params params;
/* The Zalo channel as the bench configures the daemon (bench_daemon.py),
 * with the sink as its API. */
static hl_config cfg;

/* One statement run to its end and reset; a no-op under LEAN_WITHOUT=store. */
static int step(sqlite3_stmt *st)
{
    if (without_store) {
        sqlite3_clear_bindings(st);
        fake_rowid++;
        return SQLITE_DONE;
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc;
}

static sqlite3_int64 last_rowid(struct loop *l)
{
    return without_store ? fake_rowid : sqlite3_last_insert_rowid(l->db);
}

/* ---- the reply's send: libcurl multi on the libevent loop -------------- */

struct job {
    struct job *next_idle;
    CURL *easy;
    adapter_request send;
    struct curl_slist *headers;
    sqlite3_int64 reply_id;
};

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static void check_done(struct loop *l)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(l->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct job *j;
        long code = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        if (m->data.result == CURLE_OK && code == 200) {
            if (l->n_sent == l->cap_sent) {
                size_t cap = l->cap_sent ? l->cap_sent * 2 : 4096;
                sqlite3_int64 *s = realloc(l->sent, cap * sizeof *s);
                if (s) {
                    l->sent = s;
                    l->cap_sent = cap;
                }
            }
            if (l->n_sent < l->cap_sent)
                l->sent[l->n_sent++] = j->reply_id;
        } else {
            fprintf(stderr, "lean: reply %lld not accepted by the sink\n", (long long)j->reply_id);
        }
        curl_multi_remove_handle(l->multi, j->easy);
        adapter_request_free(&j->send);
        curl_slist_free_all(j->headers);
        j->headers = NULL;
        j->next_idle = l->idle;   /* keeps its connection cache and buffers */
        l->idle = j;
    }
}

static void on_curl_socket(evutil_socket_t fd, short what, void *arg)
{
    struct loop *l = arg;
    int running, flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
                         ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(l->multi, fd, flags, &running);
    check_done(l);
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct loop *l = arg;
    int running;
    curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(l);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)e;
    struct loop *l = userp;
    struct event *ev = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        curl_multi_assign(l->multi, fd, NULL);
        return 0;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (ev) {
        event_del(ev);
        event_assign(ev, l->base, fd, kind, on_curl_socket, l);
    } else {
        ev = event_new(l->base, fd, kind, on_curl_socket, l);
        if (!ev)
            return -1;
        curl_multi_assign(l->multi, fd, ev);
    }
    return event_add(ev, NULL);
}

static int timer_cb(CURLM *m, long ms, void *userp)
{
    (void)m;
    struct loop *l = userp;
    if (ms < 0)
        return evtimer_del(l->curl_timer);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return evtimer_add(l->curl_timer, &tv);
}

/* Sends the request the adapter built; the job takes it over. */
static void send_reply(struct loop *l, adapter_request *send, sqlite3_int64 reply_id)
{
    struct job *j = l->idle;
    if (j) {
        l->idle = j->next_idle;
    } else {
        j = calloc(1, sizeof *j);
        if (!j || !(j->easy = curl_easy_init())) {
            fprintf(stderr, "lean: out of memory\n");
            free(j);
            adapter_request_free(send);
            return;
        }
        curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
        curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
    }
    j->send = *send;
    j->reply_id = reply_id;
    for (size_t i = 0; i < send->n_headers; i++) {
        struct curl_slist *h = curl_slist_append(j->headers, send->headers[i]);
        if (h)
            j->headers = h;
    }
    curl_easy_setopt(j->easy, CURLOPT_URL, j->send.url);
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE, (long)j->send.body_len);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->send.body);
    curl_multi_add_handle(l->multi, j->easy);
}

/* ---- the webhook: verify and parse, match, then wait for the batch ---- */

static const char *header_of(const adapter_http_in *in, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(in->ctx), name);
}

static void on_webhook(struct evhttp_request *req, void *arg)
{
    struct loop *l = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    adapter_http_in hin = {.method = "POST", .path = "/webhook/zalo",
                           .body = (const char *)evbuffer_pullup(in, (ev_ssize_t)n),
                           .body_len = n, .remote_addr = "127.0.0.1", .header = header_of,
                           .ctx = req};
    adapter_parse parsed;
    memset(&parsed, 0, sizeof parsed);
    if (l->n_batch == MAX_BATCH) {
        evhttp_send_error(req, 503, "busy");
        return;
    }
    if (adapter_zalo.parse_inbound(&cfg, &hin, &parsed) != 0) {
        evhttp_send_error(req, parsed.status, parsed.error);
        adapter_parse_clear(&parsed);
        return;
    }
    const adapter_inbound *ev = &parsed.ev[0];
    if (parsed.n == 0 || ev->kind != AD_TEXT || !ev->text) {
        evhttp_send_reply(req, parsed.status, "OK", NULL);   /* not a question: nothing to store */
        adapter_parse_clear(&parsed);
        return;
    }
    kb_result r;
    if (without_match) {
        r.action = KB_ANSWER;
        r.cand[0].entry = kb_entry_at(the_kb, 0);
    } else {
        kb_match(the_kb, ev->text, &params, &r);
    }
    const char *answer = r.action == KB_ANSWER ? r.cand[0].entry->answer
                                               : "Cảm ơn bạn, tổng đài viên sẽ trả lời sớm.";
    struct pending *p = &l->batch[l->n_batch];
    memset(p, 0, sizeof *p);
    p->req = req;
    sqlite3_bind_text(l->ins_in, 1, ev->provider_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(l->ins_in, 2, ev->address, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(l->ins_in, 3, ev->text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(l->ins_in, 4, (sqlite3_int64)time(NULL));
    if (l->n_batch == 0) {
        step(l->begin);
        event_active(l->flush_ev, EV_TIMEOUT, 0);
    }
    /* A new message (a retried one changes nothing): store and queue its reply. */
    if (step(l->ins_in) == SQLITE_DONE && (without_store || sqlite3_changes(l->db) == 1)) {
        sqlite3_int64 in_id = last_rowid(l);
        sqlite3_bind_text(l->ins_out, 1, ev->address, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(l->ins_out, 2, answer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(l->ins_out, 3, in_id);
        sqlite3_bind_int64(l->ins_out, 4, (sqlite3_int64)time(NULL));
        step(l->ins_out);
        p->reply_id = last_rowid(l);
        adapter_out out = {.outbox_id = p->reply_id, .address = ev->address, .text = answer,
                           .access_token = "bench-access"};
        char err[160];
        if (adapter_zalo.build_send(&cfg, &out, &p->send, err, sizeof err) != 0)
            fprintf(stderr, "lean: %s\n", err);
    }
    l->n_batch++;
    adapter_parse_clear(&parsed);
}

/* Runs once the loop has read every webhook that arrived together: their
 * outcomes and the sends finished since are committed at once, then they
 * are acknowledged and their replies go out. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct loop *l = arg;
    for (size_t i = 0; i < l->n_sent; i++) {
        sqlite3_bind_int64(l->mark_sent, 1, l->sent[i]);
        step(l->mark_sent);
    }
    l->n_sent = 0;
    int ok = step(l->commit) == SQLITE_DONE;
    for (size_t i = 0; i < l->n_batch; i++) {
        struct pending *p = &l->batch[i];
        if (!ok) {
            evhttp_send_error(p->req, 503, "not stored");
            adapter_request_free(&p->send);
            continue;
        }
        evhttp_send_reply(p->req, 200, "OK", NULL);
        if (p->send.url)
            send_reply(l, &p->send, p->reply_id);
    }
    l->n_batch = 0;
}

/* ---- setup ------------------------------------------------------------- */

static int loop_init(struct loop *l, int port, const char *db_path)
{
    static const char schema[] =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
        "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, channel TEXT NOT NULL,"
        " provider_id TEXT, address TEXT NOT NULL, direction TEXT NOT NULL, text TEXT NOT NULL,"
        " in_reply_to INTEGER, status TEXT NOT NULL, created_at INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX IF NOT EXISTS messages_provider ON messages(channel, provider_id);";
    if (sqlite3_open(db_path, &l->db) != SQLITE_OK ||
        sqlite3_exec(l->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(l->db, "INSERT INTO messages (channel, provider_id, address, direction,"
                           " text, status, created_at) VALUES ('zalo', ?1, ?2, 'in', ?3,"
                           " 'answered', ?4) ON CONFLICT DO NOTHING", -1, &l->ins_in, NULL) ||
        sqlite3_prepare_v2(l->db, "INSERT INTO messages (channel, address, direction, text,"
                           " in_reply_to, status, created_at) VALUES ('zalo', ?1, 'out', ?2, ?3,"
                           " 'pending', ?4)", -1, &l->ins_out, NULL) ||
        sqlite3_prepare_v2(l->db, "UPDATE messages SET status = 'sent' WHERE id = ?1", -1,
                           &l->mark_sent, NULL) ||
        sqlite3_prepare_v2(l->db, "BEGIN", -1, &l->begin, NULL) ||
        sqlite3_prepare_v2(l->db, "COMMIT", -1, &l->commit, NULL)) {
        fprintf(stderr, "lean: %s: %s\n", db_path, sqlite3_errmsg(l->db));
        return -1;
    }
    l->base = event_base_new();
    l->http = l->base ? standin_http(l->base, port) : NULL;
    l->multi = curl_multi_init();
    if (!l->http || !l->multi)
        return -1;
    evhttp_set_cb(l->http, "/webhook/zalo", on_webhook, l);
    l->flush_ev = event_new(l->base, -1, 0, on_flush, l);
    l->curl_timer = evtimer_new(l->base, on_curl_timer, l);
    if (!l->flush_ev || !l->curl_timer)
        return -1;
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 128L);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: lean PORT SINK_PORT THREADS DB_PREFIX FAQ_JSON\n");
        return 2;
    }
    int port = atoi(argv[1]), threads = atoi(argv[3]);
    if (threads < 1 || threads > 16) {
        fprintf(stderr, "lean: THREADS must be 1 to 16\n");
        return 2;
    }
    char sink[64], err[256] = "out of memory";
    snprintf(sink, sizeof sink, "http://127.0.0.1:%d", atoi(argv[2]));
    if (config_defaults(&cfg) != 0)
        return 1;
    cfg.zalo.app_id = "2553928453557884079";
    cfg.zalo.oa_secret = "bench-oa-secret";
    cfg.zalo.api_base = sink;
    /* The lexicon (synonyms, teencode) that ships beside the FAQ: matching
     * costs what it costs in the daemon. */
    char lex_path[4096];
    const char *slash = strrchr(argv[5], '/');
    snprintf(lex_path, sizeof lex_path, "%.*slexicon.json", slash ? (int)(slash - argv[5] + 1) : 0,
             argv[5]);
    kb_lexicon *lex = kb_lexicon_load_file(lex_path, err, sizeof err);
    kb_corpus *c = kb_corpus_new();
    if (!lex || !c || kb_corpus_load_file(c, argv[5], err, sizeof err) != 0 ||
        !(the_kb = kb_build(c, lex))) {
        fprintf(stderr, "lean: %s: %s\n", lex ? argv[5] : lex_path, err);
        return 1;
    }
    params = kb_params_default();
    const char *without = getenv("LEAN_WITHOUT");
    without_store = without && strstr(without, "store") != NULL;
    without_match = without && strstr(without, "match") != NULL;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct loop *loops = calloc((size_t)threads, sizeof *loops);
    struct event_base **bases = calloc((size_t)threads, sizeof *bases);
    if (!loops || !bases)
        return 1;
    for (int i = 0; i < threads; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%d", argv[4], i);
        if (loop_init(&loops[i], port, path) != 0) {
            fprintf(stderr, "lean: cannot start loop %d on port %d\n", i, port);
            return 1;
        }
        bases[i] = loops[i].base;
    }
    return standin_serve("lean", bases, threads);
}
