/* outbox.c - every reply is a row first, then an HTTP request.
 *
 * The loop thread reads the due rows, builds each request and records each
 * outcome; the HTTP itself runs on the sender's thread (sender.c, libcurl's
 * multi interface on its own libevent loop), so no send ever blocks or slows
 * the loop.  A row is 'pending' until the
 * provider has answered; the answer is classified by the channel's adapter:
 * sent, retried later with exponential backoff and jitter, or failed for good
 * with the provider's code and message (shown to staff).  Rows left pending by
 * a restart are simply picked up again.
 *
 * What is written when a reply is queued, and the token rows, are in
 * outbox_rows.c.  Zalo's access token lives in the tokens table.  At most one refresh is in
 * flight; the new refresh token is committed before the new access token is
 * used, because Zalo's refresh tokens are single-use. */
#include "bot/outbox.h"
#include "adapters/adapter.h"
#include "bot/events.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/outbox_rows.h"
#include "bot/pipeline.h"
#include "bot/sender.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESP_MAX 65536
#define TOKEN_EARLY_MS (3600LL * 1000)   /* refresh an hour before expiry */

struct job {
    struct job *prev, *next;    /* every job in flight, for shutdown */
    struct outbox *o;
    CURL *easy;
    struct curl_slist *headers;
    adapter_request req;
    const adapter *ad;
    long long id, message_id, contact_id;
    int attempts;
    int is_refresh;
    long http_status;           /* once finished */
    int transport_error;
    char *resp;
    size_t resp_len;
    char channel[16];
};

struct outbox {
    hl_app *app;
    struct sender *sender;      /* the HTTP thread */
    struct event *scan_timer;   /* next due row */
    long long *in_flight;       /* outbox ids being sent */
    size_t n_in_flight, cap_in_flight;
    int refreshing;             /* a token refresh is in flight */
    long long refresh_backoff_until;
    long long *token_retried;   /* ids already retried once after a refresh */
    size_t n_token_retried;
    struct job *jobs;           /* in flight */
    /* Group commit of send outcomes: while batching, mark() writes inside
     * one transaction (opened at the first mark, committed by batch_end)
     * instead of one fsync'd transaction per completed send. */
    int batching;
    int batch_open;
    int batch_failed;           /* a mark in this batch failed */
    struct job *done;           /* finished sends waiting for their batch */
    struct event *done_ev;      /* lowest priority: runs after this turn's I/O */
    struct job *unrecorded;     /* finished, but their batch did not commit */
    struct job *recorded;       /* recorded in the pipeline's open transaction */
    CURL *idle[64];             /* easy handles kept for reuse */
    size_t n_idle;
    struct event *unrecorded_ev;
};

static void on_finished(void *arg, CURL *easy, CURLcode result);

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct job *j = userdata;
    size_t n = size * nmemb;
    if (j->resp_len + n > RESP_MAX)
        n = RESP_MAX - j->resp_len;   /* keep the head; the rest is not needed */
    if (n) {
        char *r = realloc(j->resp, j->resp_len + n + 1);
        if (!r)
            return 0;
        j->resp = r;
        memcpy(j->resp + j->resp_len, ptr, n);
        j->resp_len += n;
        j->resp[j->resp_len] = '\0';
    }
    return size * nmemb;
}

/* ---- bookkeeping ---------------------------------------------------------- */

static int in_flight_has(struct outbox *o, long long id)
{
    for (size_t i = 0; i < o->n_in_flight; i++)
        if (o->in_flight[i] == id)
            return 1;
    return 0;
}

static int in_flight_add(struct outbox *o, long long id)
{
    if (o->n_in_flight == o->cap_in_flight) {
        size_t cap = o->cap_in_flight ? o->cap_in_flight * 2 : 64;
        long long *n = realloc(o->in_flight, cap * sizeof *n);
        if (!n)
            return -1;
        o->in_flight = n;
        o->cap_in_flight = cap;
    }
    o->in_flight[o->n_in_flight++] = id;
    return 0;
}

static void in_flight_remove(struct outbox *o, long long id)
{
    for (size_t i = 0; i < o->n_in_flight; i++)
        if (o->in_flight[i] == id) {
            o->in_flight[i] = o->in_flight[--o->n_in_flight];
            return;
        }
}

static int token_retried(struct outbox *o, long long id, int add)
{
    for (size_t i = 0; i < o->n_token_retried; i++)
        if (o->token_retried[i] == id)
            return 1;
    if (add) {
        long long *n = realloc(o->token_retried, (o->n_token_retried + 1) * sizeof *n);
        if (n) {
            o->token_retried = n;
            o->token_retried[o->n_token_retried++] = id;
        }
    }
    return 0;
}

/* Easy handles are reused (curl_easy_reset keeps their caches); creating
 * and destroying one per send was a visible part of the CPU per message. */
static CURL *easy_get(struct outbox *o)
{
    if (o && o->n_idle)
        return o->idle[--o->n_idle];
    return curl_easy_init();
}

static void easy_put(struct outbox *o, CURL *e)
{
    if (o && o->n_idle < sizeof o->idle / sizeof o->idle[0]) {
        curl_easy_reset(e);   /* drops the options that point into the job */
        o->idle[o->n_idle++] = e;
    } else
        curl_easy_cleanup(e);
}

static void job_free(struct job *j)
{
    if (!j)
        return;
    if (j->easy)
        easy_put(j->o, j->easy);
    curl_slist_free_all(j->headers);
    adapter_request_free(&j->req);
    free(j->resp);
    free(j);
}

/* ---- rows ---------------------------------------------------------------- */

/* Records the outcome of one send on both the outbox row and its message. */
static int mark(hl_app *app, long long id, long long message_id, const char *status,
                const char *provider_id, const char *code, const char *error, int attempts,
                long long next_at)
{
    store *db = app->db;
    struct outbox *o = app->outbox;
    long long now = store_now_ms();
    int batched = o && o->batching;
    if (batched && !o->batch_open) {
        if (store_begin(db) != 0)
            return -1;
        o->batch_open = 1;
    }
    /* In a batch, a savepoint keeps one row's failure from undoing the
     * others' outcomes. */
    if (batched ? store_run(db, "SAVEPOINT mark") != 0 : store_begin(db) != 0)
        return -1;
    sqlite3_stmt *st = store_stmt(
        /* A delivery report may beat the provider's HTTP answer: 'sent'
         * never overrides a final 'delivered' or 'failed'. */
        db, "UPDATE outbox SET status = CASE WHEN ?2 = 'sent' AND status IN ('delivered', 'failed') "
            "THEN status ELSE ?2 END, provider_id = coalesce(?3, provider_id), "
            "last_code = ?4, last_error = ?5, attempts = ?6, next_at = ?7, updated_at = ?8 "
            "WHERE id = ?1");
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    store_bind_text(st, 2, status);
    store_bind_text(st, 3, provider_id && *provider_id ? provider_id : NULL);
    store_bind_text(st, 4, code && *code ? code : NULL);
    store_bind_text(st, 5, error && *error ? error : NULL);
    sqlite3_bind_int(st, 6, attempts);
    sqlite3_bind_int64(st, 7, next_at);
    sqlite3_bind_int64(st, 8, now);
    if (store_step_done(db, st) != 0)
        goto fail;
    /* The message shows the outcome of its rows: failed if any part failed,
     * pending while any part is, otherwise sent (one pass over the rows,
     * where three EXISTS probes each looked them up again). */
    st = store_stmt(db, "UPDATE messages SET status = (SELECT CASE"
                        " WHEN sum(status = 'failed') > 0 THEN 'failed'"
                        " WHEN sum(status = 'pending') > 0 THEN 'queued'"
                        " WHEN sum(status <> 'delivered') = 0 THEN 'delivered'"
                        " ELSE 'sent' END FROM outbox WHERE message_id = ?1),"
                        " provider_id = coalesce(?2, provider_id), error = ?3, updated_at = ?4 WHERE id = ?1");
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, message_id);
    store_bind_text(st, 2, provider_id && *provider_id ? provider_id : NULL);
    store_bind_text(st, 3, error && *error && strcmp(status, "failed") == 0 ? error : NULL);
    sqlite3_bind_int64(st, 4, now);
    if (store_step_done(db, st) != 0)
        goto fail;
    if (store_run(db, batched ? "RELEASE mark" : "COMMIT") != 0)
        goto fail;
    return 0;
fail:
    if (batched) {
        o->batch_failed = 1;
        store_run(db, "ROLLBACK TO mark");
        store_run(db, "RELEASE mark");
    } else {
        store_rollback(db);
    }
    log_error("outbox_mark", "id=%lld status=%s error=\"%s\"", id, status,
              sqlite3_errmsg(store_db(db)));
    return -1;
}

static long long backoff_ms(const hl_config *c, int attempts)
{
    long long d = c->outbox_backoff_base;
    for (int i = 1; i < attempts && d < c->outbox_backoff_max; i++)
        d *= 2;
    if (d > c->outbox_backoff_max)
        d = c->outbox_backoff_max;
    /* Full jitter in [d/2, d): many rows failing together do not come back
     * together. */
    return d / 2 + (long long)(((double)rand() / RAND_MAX) * (double)(d / 2));
}

/* ---- sending ------------------------------------------------------------- */

static void schedule_scan(struct outbox *o, long long delay_ms);

static int start_request(struct outbox *o, struct job *j)
{
    const hl_config *c = &o->app->cfg;
    j->easy = easy_get(o);
    if (!j->easy)
        return -1;
    for (size_t i = 0; i < j->req.n_headers; i++) {
        struct curl_slist *h = curl_slist_append(j->headers, j->req.headers[i]);
        if (!h)
            return -1;
        j->headers = h;
    }
    curl_easy_setopt(j->easy, CURLOPT_URL, j->req.url);
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, (long)c->outbox_timeout);
    curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->outbox_timeout < 5000 ? c->outbox_timeout : 5000));
    curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
    curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(j->easy, CURLOPT_USERAGENT, "hotline/" HOTLINE_VERSION);
    if (j->req.userpwd) {
        curl_easy_setopt(j->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(j->easy, CURLOPT_USERPWD, j->req.userpwd);
    }
    if (strcmp(j->req.method, "POST") == 0) {
        curl_easy_setopt(j->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE, (long)j->req.body_len);
        curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->req.body ? j->req.body : "");
    } else {
        curl_easy_setopt(j->easy, CURLOPT_HTTPGET, 1L);
    }
    /* From here until on_finished the handle and the job's response buffer
     * belong to the sender's thread. */
    if (sender_submit(o->sender, j->easy) != 0)
        return -1;
    j->next = o->jobs;
    if (o->jobs)
        o->jobs->prev = j;
    o->jobs = j;
    return 0;
}

static void job_unlink(struct outbox *o, struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else if (o->jobs == j)
        o->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

static void start_refresh(struct outbox *o, const adapter *ad)
{
    hl_app *app = o->app;
    if (o->refreshing || store_now_ms() < o->refresh_backoff_until)
        return;
    struct outbox_token t;
    outbox_token_load(app, ad->name, &t);
    char err[160];
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->o = o;
    j->ad = ad;
    j->is_refresh = 1;
    snprintf(j->channel, sizeof j->channel, "%s", ad->name);
    if (!t.refresh[0] || ad->build_refresh(&app->cfg, t.refresh, &j->req, err, sizeof err) != 0) {
        log_error("token_refresh", "channel=%s error=\"%s\"", ad->name,
                  t.refresh[0] ? err : "no refresh token: an admin must authorise the OA");
        o->refresh_backoff_until = store_now_ms() + 60000;
        job_free(j);
        return;
    }
    if (start_request(o, j) != 0) {
        job_free(j);
        return;
    }
    o->refreshing = 1;
    log_info("token_refresh_start", "channel=%s", ad->name);
}

static void finish_refresh(struct outbox *o, struct job *j, long status, int transport_error)
{
    hl_app *app = o->app;
    o->refreshing = 0;
    adapter_token tok = {0};
    char err[160] = "";
    if (transport_error ||
        j->ad->parse_refresh(&app->cfg, status, j->resp ? j->resp : "", j->resp_len, &tok, err,
                             sizeof err) != 0) {
        /* A refused refresh token cannot be retried into working: the admin
         * must re-authorise.  Transport errors are retried after a pause. */
        log_error("token_refresh_failed", "channel=%s status=%ld error=\"%s\"", j->ad->name,
                  status, transport_error ? "transport error" : err);
        o->refresh_backoff_until = store_now_ms() + (transport_error ? 5000 : 60000);
        schedule_scan(o, transport_error ? 5000 : 60000);
        return;
    }
    if (outbox_token_save(app, j->ad->name, &tok) != 0) {
        log_error("token_save_failed", "channel=%s", j->ad->name);
        o->refresh_backoff_until = store_now_ms() + 5000;
        return;
    }
    log_info("token_refreshed", "channel=%s expires_in=%lld", j->ad->name, tok.expires_in);
    schedule_scan(o, 0);
}

static void finish_send(struct outbox *o, struct job *j, long status, int transport_error)
{
    hl_app *app = o->app;
    adapter_result res = {0};
    j->ad->interpret(&app->cfg, status, j->resp ? j->resp : "", j->resp_len, transport_error, &res);
    int attempts = j->attempts + 1;
    switch (res.status) {
    case AD_SENT:
        if (mark(app, j->id, j->message_id, "sent", res.provider_id, res.code, NULL, attempts, 0) == 0) {
            metrics_sent(app->metrics, j->channel);
            outbox_publish_status(app, j->message_id, "sent", NULL);
        }
        log_info("sent", "channel=%s outbox=%lld attempts=%d", j->channel, j->id, attempts);
        break;
    case AD_TOKEN_EXPIRED:
        if (!token_retried(o, j->id, 1)) {
            outbox_token_expire(app, j->channel);
            mark(app, j->id, j->message_id, "pending", NULL, res.code, res.message, j->attempts, 0);
            log_warn("token_expired", "channel=%s outbox=%lld code=%s", j->channel, j->id, res.code);
            break;
        }
        /* A second token error after a refresh: treat as transient. */
        res.status = AD_RETRY;
        __attribute__((fallthrough));
    case AD_RETRY:
        if (attempts < app->cfg.outbox_max_attempts) {
            long long delay = backoff_ms(&app->cfg, attempts);
            mark(app, j->id, j->message_id, "pending", NULL, res.code, res.message, attempts,
                 store_now_ms() + delay);
            metrics_send_retry(app->metrics, j->channel);
            log_warn("send_retry", "channel=%s outbox=%lld attempts=%d delay_ms=%lld code=%s",
                     j->channel, j->id, attempts, delay, res.code);
            break;
        }
        __attribute__((fallthrough));   /* out of attempts */
    case AD_FAILED:
        if (mark(app, j->id, j->message_id, "failed", NULL, res.code,
                 res.message[0] ? res.message : "delivery failed", attempts, 0) == 0) {
            metrics_send_failed(app->metrics, j->channel);
            outbox_publish_status(app, j->message_id, "failed", res.message);
        }
        log_error("send_failed", "channel=%s outbox=%lld attempts=%d code=%s error=\"%s\"",
                  j->channel, j->id, attempts, res.code, res.message);
        break;
    }
    if (res.opted_out) {
        sqlite3_stmt *st = store_stmt(app->db, "UPDATE contacts SET opted_out = 1 WHERE id = ?1");
        if (st) {
            sqlite3_bind_int64(st, 1, j->contact_id);
            store_step_done(app->db, st);
        }
    }
}

static void batch_begin(struct outbox *o)
{
    o->batching = 1;
    o->batch_open = 0;
    o->batch_failed = 0;
}

/* Commits the outcomes marked since batch_begin.  If the commit fails the
 * rows stay 'pending' and are sent again: at least once, never lost (the
 * providers de-duplicate on our id where they can). */
static int batch_end(struct outbox *o)
{
    store *db = o->app->db;
    int rc = o->batch_failed ? -1 : 0;
    if (o->batch_open && store_commit(db) != 0) {
        log_error("outbox_commit", "error=\"%s\"", sqlite3_errmsg(store_db(db)));
        store_rollback(db);
        rc = -1;
    }
    o->batching = 0;
    o->batch_open = 0;
    return rc;
}

/* Records in the open transaction (batching) the outcomes of the sends
 * finished so far, and returns them for settle() after the commit. */
static struct job *record(struct outbox *o)
{
    struct job *list = o->done;
    o->done = NULL;
    for (struct job *j = list; j; j = j->next)
        finish_send(o, j, j->transport_error ? 0 : j->http_status, j->transport_error);
    return list;
}

/* After the commit of record()'s transaction (rc 0) or its failure. */
static void settle(struct outbox *o, struct job *list, int rc)
{
    if (!list)
        return;
    if (rc != 0) {
        /* The provider has answered but the outcome is not on disk (disk
         * full, I/O error).  Sending again would send twice: the rows stay
         * in flight and their outcome is recorded again a second later. */
        struct job **tail = &o->unrecorded;
        while (*tail)
            tail = &(*tail)->next;
        *tail = list;
        struct timeval second = {1, 0};
        evtimer_add(o->unrecorded_ev, &second);
        return;
    }
    for (struct job *j = list, *next; j; j = next) {
        next = j->next;
        in_flight_remove(o, j->id);
        job_free(j);
    }
    if (!o->app->stopping)
        schedule_scan(o, 0);
}

/* Records the outcomes of every send finished in this loop turn in one
 * transaction (priority 2, like the pipeline's flush: it runs after the
 * turn's socket events have gathered them).  While webhooks are waiting
 * for the pipeline's flush, that flush records them in its own transaction
 * instead (outbox_record_in): one commit for both. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct outbox *o = arg;
    if (!o->done || (o->app->pipeline && !pipeline_idle(o->app->pipeline)))
        return;
    batch_begin(o);
    struct job *list = record(o);
    settle(o, list, batch_end(o));
}

void outbox_record_in(struct outbox *o)
{
    if (!o || !o->done)
        return;
    batch_begin(o);
    o->batch_open = 1;      /* the caller's transaction */
    o->recorded = record(o);
    o->batching = 0;
    o->batch_open = 0;
}

void outbox_record_settle(struct outbox *o, int rc)
{
    if (!o)
        return;
    struct job *list = o->recorded;
    o->recorded = NULL;
    /* A mark that failed was undone by its savepoint: the whole list is
     * recorded again later, as after a failed commit. */
    settle(o, list, rc != 0 || o->batch_failed ? -1 : 0);
    o->batch_failed = 0;
    if (o->done)
        event_active(o->done_ev, 0, 0);   /* finished while the flush ran, or not taken */
}

static void on_unrecorded(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct outbox *o = arg;
    struct job **tail = &o->done;
    while (*tail)
        tail = &(*tail)->next;
    *tail = o->unrecorded;
    o->unrecorded = NULL;
    if (o->done)
        event_active(o->done_ev, 0, 0);
}

/* A transfer is back from the sender's thread (on the loop thread). */
static void on_finished(void *arg, CURL *easy, CURLcode result)
{
    struct outbox *o = arg;
    struct job *j = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    int transport_error = result != CURLE_OK;
    job_unlink(o, j);
    if (j->is_refresh) {
        /* Not batched: the new single-use refresh token is committed on its
         * own, before anything uses it. */
        finish_refresh(o, j, status, transport_error);
        job_free(j);
        if (!o->app->stopping)
            schedule_scan(o, 0);
        return;
    }
    j->http_status = status;
    j->transport_error = transport_error;
    j->next = o->done;
    o->done = j;
    event_active(o->done_ev, 0, 0);
}

/* Delivers locally what has no provider (the web chat: the page fetches it). */
static void deliver_local(struct outbox *o, long long id, long long message_id)
{
    if (mark(o->app, id, message_id, "sent", NULL, NULL, NULL, 1, 0) == 0) {
        metrics_sent(o->app->metrics, "web");
        outbox_publish_status(o->app, message_id, "sent", NULL);
    }
}

static void scan(struct outbox *o)
{
    hl_app *app = o->app;
    if (app->stopping)
        return;
    long long now = store_now_ms();
    size_t room = (size_t)app->cfg.outbox_concurrency > o->n_in_flight
                      ? (size_t)app->cfg.outbox_concurrency - o->n_in_flight : 0;
    if (room == 0)
        return;
    /* The due rows' ids come from the pending index alone: most of them
     * are already in flight, and only the others are read in full.  A row
     * in one part has no text of its own: it sends its message's. */
    sqlite3_stmt *st = store_stmt(app->db, "SELECT id FROM outbox WHERE status = 'pending' "
                                           "AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2");
    sqlite3_stmt *one = store_stmt(app->db, "SELECT o.message_id, o.contact_id, o.channel, "
                                            "o.address, coalesce(o.text, m.text), o.coding, "
                                            "o.attempts FROM outbox o JOIN messages m "
                                            "ON m.id = o.message_id WHERE o.id = ?1");
    if (!st || !one)
        return;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, (long long)(room + o->n_in_flight));
    struct row {
        long long id, message_id, contact_id;
        char channel[16];
        char *address, *text;
        int coding, attempts;
    } rows[256];
    size_t n = 0;
    while (n < 256 && sqlite3_step(st) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        if (in_flight_has(o, id))
            continue;
        sqlite3_bind_int64(one, 1, id);
        if (sqlite3_step(one) != SQLITE_ROW) {
            sqlite3_reset(one);
            continue;
        }
        struct row *r = &rows[n];
        r->id = id;
        r->message_id = sqlite3_column_int64(one, 0);
        r->contact_id = sqlite3_column_int64(one, 1);
        snprintf(r->channel, sizeof r->channel, "%s", (const char *)sqlite3_column_text(one, 2));
        r->address = strdup((const char *)sqlite3_column_text(one, 3));
        r->text = strdup((const char *)sqlite3_column_text(one, 4));
        r->coding = sqlite3_column_int(one, 5);
        r->attempts = sqlite3_column_int(one, 6);
        sqlite3_reset(one);
        if (!r->address || !r->text) {
            free(r->address);
            free(r->text);
            continue;
        }
        n++;
    }
    sqlite3_reset(st);

    batch_begin(o);   /* failures and local deliveries: one commit */
    /* The token is read once per channel per scan, not once per row. */
    struct outbox_token tok = {0};
    const adapter *tok_ad = NULL;
    for (size_t i = 0; i < n && room > 0; i++) {
        struct row *r = &rows[i];
        const adapter *ad = adapter_by_name(r->channel);
        if (!ad) {
            deliver_local(o, r->id, r->message_id);
            goto next;
        }
        if (!ad->configured(&app->cfg) || (ad->can_send && !ad->can_send(&app->cfg))) {
            mark(app, r->id, r->message_id, "failed", NULL, "not_configured",
                 "the channel is not configured for sending", r->attempts, 0);
            outbox_publish_status(app, r->message_id, "failed", "channel not configured");
            goto next;
        }
        if (ad->build_refresh) {
            if (tok_ad != ad) {
                outbox_token_load(app, ad->name, &tok);
                tok_ad = ad;
            }
            if (!tok.access[0] || tok.expires_at - TOKEN_EARLY_MS < now) {
                start_refresh(o, ad);
                /* The row waits for the token; the scan after the refresh
                 * picks it up. */
                if (!tok.access[0] || tok.expires_at < now)
                    goto next;
            }
        }
        struct job *j = calloc(1, sizeof *j);
        if (!j)
            goto next;
        j->o = o;
        j->ad = ad;
        j->id = r->id;
        j->message_id = r->message_id;
        j->contact_id = r->contact_id;
        j->attempts = r->attempts;
        snprintf(j->channel, sizeof j->channel, "%s", r->channel);
        adapter_out out = {.outbox_id = r->id, .address = r->address, .text = r->text,
                           .coding = r->coding, .access_token = ad->build_refresh ? tok.access : "",
                           .public_url = app->cfg.public_url ? app->cfg.public_url : ""};
        char err[160] = "";
        if (ad->build_send(&app->cfg, &out, &j->req, err, sizeof err) != 0) {
            mark(app, r->id, r->message_id, "failed", NULL, "build", err, r->attempts + 1, 0);
            outbox_publish_status(app, r->message_id, "failed", err);
            job_free(j);
            goto next;
        }
        if (in_flight_add(o, r->id) != 0 || start_request(o, j) != 0) {
            log_error("outbox_start", "outbox=%lld", r->id);
            in_flight_remove(o, r->id);
            job_free(j);
            schedule_scan(o, 1000);
            goto next;
        }
        room--;
    next:
        free(r->address);
        free(r->text);
        r->address = r->text = NULL;
    }
    batch_end(o);
    for (size_t i = 0; i < n; i++) {
        free(rows[i].address);
        free(rows[i].text);
    }

    /* Wake up for the next row that becomes due. */
    st = store_stmt(app->db, "SELECT min(next_at) FROM outbox WHERE status = 'pending'");
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        long long next = sqlite3_column_int64(st, 0) - store_now_ms();
        sqlite3_reset(st);
        schedule_scan(o, next < 50 ? 50 : next);
    } else if (st) {
        sqlite3_reset(st);
    }
}

static void on_scan(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    scan(arg);
}

static void schedule_scan(struct outbox *o, long long delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
    /* An earlier wake-up wins over a later one already scheduled. */
    struct timeval cur;
    if (evtimer_pending(o->scan_timer, &cur)) {
        struct timeval now;
        event_base_gettimeofday_cached(o->app->base, &now);
        long long cur_ms = ((long long)cur.tv_sec - now.tv_sec) * 1000 + (cur.tv_usec - now.tv_usec) / 1000;
        if (cur_ms <= delay_ms)
            return;
    }
    evtimer_add(o->scan_timer, &tv);
}

void outbox_kick(struct outbox *o)
{
    if (o)
        schedule_scan(o, 0);
}

struct outbox *outbox_new(hl_app *app)
{
    struct outbox *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->app = app;
    o->sender = sender_new(app->base, (long)app->cfg.outbox_concurrency, on_finished, o);
    o->scan_timer = evtimer_new(app->base, on_scan, o);
    o->done_ev = event_new(app->base, -1, 0, on_done, o);
    if (o->done_ev)
        event_priority_set(o->done_ev, 2);
    o->unrecorded_ev = evtimer_new(app->base, on_unrecorded, o);
    if (!o->sender || !o->scan_timer || !o->done_ev || !o->unrecorded_ev) {
        outbox_free(o);
        return NULL;
    }
    outbox_token_seed(app);
    schedule_scan(o, 0);
    return o;
}

void outbox_free(struct outbox *o)
{
    if (!o)
        return;
    /* First the thread, which detaches the transfers still running; then
     * their jobs. */
    sender_free(o->sender);
    while (o->jobs) {
        struct job *j = o->jobs;
        job_unlink(o, j);
        job_free(j);
    }
    while (o->done) {
        struct job *j = o->done;
        o->done = j->next;
        job_free(j);
    }
    while (o->unrecorded) {
        struct job *j = o->unrecorded;
        o->unrecorded = j->next;
        job_free(j);
    }
    if (o->unrecorded_ev)
        event_free(o->unrecorded_ev);
    if (o->done_ev)
        event_free(o->done_ev);
    if (o->scan_timer)
        event_free(o->scan_timer);
    for (size_t i = 0; i < o->n_idle; i++)
        curl_easy_cleanup(o->idle[i]);
    free(o->in_flight);
    free(o->token_retried);
    free(o);
    outbox_rows_cleanup();
}

int outbox_dlr(hl_app *app, const char *channel, long long outbox_id, const char *provider_id,
               int state, const char *code, const char *message)
{
    store *db = app->db;
    sqlite3_stmt *st;
    if (outbox_id > 0) {
        st = store_stmt(db, "SELECT id, message_id, status, provider_id FROM outbox WHERE id = ?1 AND channel = ?2");
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, outbox_id);
    } else {
        st = store_stmt(db, "SELECT id, message_id, status, provider_id FROM outbox WHERE provider_id = ?1 AND channel = ?2");
        if (!st)
            return -1;
        store_bind_text(st, 1, provider_id);
    }
    store_bind_text(st, 2, channel);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return 1;   /* unknown: acknowledged and ignored */
    }
    long long id = sqlite3_column_int64(st, 0), mid = sqlite3_column_int64(st, 1);
    const unsigned char *cur_s = sqlite3_column_text(st, 2);
    char cur[16];
    snprintf(cur, sizeof cur, "%s", cur_s ? (const char *)cur_s : "");
    /* Some reports are unsigned (eSMS) and our ids are sequential: when the
     * report names the provider's id too, it must be the one we recorded. */
    const unsigned char *known = sqlite3_column_text(st, 3);
    int mismatch = outbox_id > 0 && provider_id && *provider_id && known &&
                   strcmp((const char *)known, provider_id) != 0;
    sqlite3_reset(st);
    if (mismatch) {
        log_warn("dlr_mismatch", "channel=%s outbox=%lld", channel, outbox_id);
        return 1;
    }
    /* Reports can arrive out of order (SMSC-accepted after delivered): an
     * intermediate report never overrides a final state. */
    if (state == AD_DLR_ACCEPTED && (strcmp(cur, "delivered") == 0 || strcmp(cur, "failed") == 0))
        return 0;
    const char *status = state == AD_DLR_DELIVERED ? "delivered"
                         : state == AD_DLR_FAILED  ? "failed" : "sent";
    sqlite3_stmt *a = store_stmt(db, "SELECT attempts FROM outbox WHERE id = ?1");
    int attempts = 1;
    if (a) {
        sqlite3_bind_int64(a, 1, id);
        if (sqlite3_step(a) == SQLITE_ROW)
            attempts = sqlite3_column_int(a, 0);
        sqlite3_reset(a);
    }
    if (mark(app, id, mid, status, provider_id, code,
             state == AD_DLR_FAILED ? (message && *message ? message : "not delivered") : NULL,
             attempts, 0) != 0)
        return -1;
    if (state == AD_DLR_FAILED)
        metrics_send_failed(app->metrics, channel);
    outbox_publish_status(app, mid, status, state == AD_DLR_FAILED ? message : NULL);
    return 0;
}
