/* webhooks.c - provider webhooks: verify and parse (adapter), store
 * (pipeline), acknowledge; and delivery reports (outbox).
 *
 * The acknowledgement is sent only after the group commit that stored the
 * message; if the commit fails the provider gets 503 and retries, so nothing
 * acknowledged is ever lost. */
#include "adapters/adapter.h"
#include "bot/http.h"
#include "bot/log.h"
#include "bot/outbox.h"
#include "bot/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One webhook request waiting for its events to be stored. */
struct pending_ack {
    struct evhttp_request *req;
    hl_app *app;
    int waiting;        /* events not yet stored */
    int failed;
    int status;
    char content_type[48];
    char body[128];
};

static const char *in_header(const adapter_http_in *in, const char *name)
{
    return http_header(in->ctx, name);
}

static void fill_http_in(adapter_http_in *in, struct evhttp_request *req, char *body, size_t len)
{
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    int m = http_method(req);
    in->method = m == HTTP_GET ? "GET" : m == HTTP_POST ? "POST" : m == HTTP_PUT ? "PUT" : "OTHER";
    in->path = http_path(req);
    in->query = u ? evhttp_uri_get_query(u) : NULL;
    in->body = body;
    in->body_len = len;
    in->remote_addr = http_peer(req);
    in->header = in_header;
    in->ctx = req;
}

/* Reads the request into in (body copied, freed by the caller); 0, or -1
 * after replying 500. */
static int read_http_in(adapter_http_in *in, struct evhttp_request *req, char **body)
{
    size_t len = 0;
    *body = http_body(req, &len);
    if (!*body) {
        http_reply_error(req, 500, "out of memory");
        return -1;
    }
    fill_http_in(in, req, *body, len);
    return 0;
}

/* The 4xx an adapter chose (400 when it named none). */
static void reply_rejected(struct evhttp_request *req, const adapter_parse *parsed)
{
    int status = parsed->status >= 400 && parsed->status < 600 ? parsed->status : 400;
    http_reply_error(req, status, parsed->error[0] ? parsed->error : "bad request");
}

static void send_ack(struct pending_ack *p)
{
    if (p->failed)
        http_reply_error(p->req, 503, "storage unavailable, retry later");
    else
        http_reply_text(p->req, p->status, p->content_type[0] ? p->content_type : NULL, p->body,
                        strlen(p->body));
    http_request_end(p->app->server);
    free(p);
}

static void on_stored(void *arg, int rc, long long message_id, int duplicate)
{
    (void)message_id;
    (void)duplicate;
    struct pending_ack *p = arg;
    if (rc != 0)
        p->failed = 1;
    if (--p->waiting == 0)
        send_ack(p);
}

static const adapter *adapter_for_path(const char *path, int dlr)
{
    for (const adapter *const *a = adapter_all(); *a; a++) {
        const char *p = dlr ? (*a)->dlr_path : (*a)->inbound_path;
        if (p && strcmp(p, path) == 0)
            return *a;
    }
    return NULL;
}

static void handle_inbound(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    const adapter *ad = adapter_for_path(http_path(req), 0);
    if (!ad || !ad->configured(&app->cfg)) {
        http_reply_error(req, 404, "channel not configured");
        return;
    }
    char *body;
    adapter_http_in in;
    if (read_http_in(&in, req, &body) != 0)
        return;
    adapter_parse parsed;
    memset(&parsed, 0, sizeof parsed);
    if (ad->parse_inbound(&app->cfg, &in, &parsed) != 0) {
        log_warn("webhook_rejected", "channel=%s status=%d reason=\"%s\" peer=%s", ad->name,
                 parsed.status, parsed.error, in.remote_addr);
        reply_rejected(req, &parsed);
        adapter_parse_clear(&parsed);
        free(body);
        return;
    }
    free(body);
    struct pending_ack *p = calloc(1, sizeof *p);
    if (!p) {
        adapter_parse_clear(&parsed);
        http_reply_error(req, 503, "out of memory");
        return;
    }
    p->req = req;
    p->app = app;
    p->status = parsed.status >= 200 && parsed.status < 300 ? parsed.status : 200;
    snprintf(p->body, sizeof p->body, "%s", parsed.body);
    snprintf(p->content_type, sizeof p->content_type, "%s",
             parsed.content_type ? parsed.content_type : "");
    http_request_begin(app->server);
    p->waiting = 1;   /* held until every event is submitted */
    for (size_t i = 0; i < parsed.n; i++) {
        adapter_inbound *ev = &parsed.ev[i];
        if (ev->kind == AD_IGNORE || !ev->address[0])
            continue;
        char masked[32];
        log_info("inbound", "channel=%s from=%s kind=%d", ad->name,
                 log_mask(ev->address, masked, sizeof masked), (int)ev->kind);
        p->waiting++;
        if (pipeline_submit(app, ad->name, ev, on_stored, p) != 0) {
            p->waiting--;
            p->failed = 1;
        }
    }
    adapter_parse_clear(&parsed);
    on_stored(p, 0, 0, 0);
}

static void handle_dlr(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    const adapter *ad = adapter_for_path(http_path(req), 1);
    if (!ad || !ad->configured(&app->cfg) || !ad->parse_dlr) {
        http_reply_error(req, 404, "channel not configured");
        return;
    }
    char *body;
    adapter_http_in in;
    if (read_http_in(&in, req, &body) != 0)
        return;
    adapter_parse parsed;
    adapter_dlr dlr;
    memset(&parsed, 0, sizeof parsed);
    memset(&dlr, 0, sizeof dlr);
    int rc = ad->parse_dlr(&app->cfg, &in, &dlr, &parsed);
    free(body);
    if (rc != 0) {
        reply_rejected(req, &parsed);
        adapter_parse_clear(&parsed);
        return;
    }
    int r = outbox_dlr(app, ad->name, dlr.outbox_id, dlr.provider_id, (int)dlr.state, dlr.code,
                       dlr.message);
    if (r < 0) {
        adapter_parse_clear(&parsed);
        http_reply_error(req, 503, "storage unavailable, retry later");
        return;
    }
    if (dlr.opted_out) {
        /* The recipient opted out at the provider (Twilio 21610): no more
         * automatic messages to that contact. */
        sqlite3_stmt *st = store_stmt(app->db, "UPDATE contacts SET opted_out = 1 WHERE id IN "
                                               "(SELECT contact_id FROM outbox WHERE channel = ?1 "
                                               "AND (id = ?2 OR (?2 = 0 AND provider_id = ?3)))");
        if (st) {
            store_bind_text(st, 1, ad->name);
            sqlite3_bind_int64(st, 2, dlr.outbox_id);
            store_bind_text(st, 3, dlr.provider_id);
            store_step_done(app->db, st);
        }
    }
    int status = parsed.status >= 200 && parsed.status < 300 ? parsed.status : 200;
    http_reply_text(req, status, parsed.content_type, parsed.body, strlen(parsed.body));
    adapter_parse_clear(&parsed);
}

int webhooks_register(hl_app *app)
{
    int rc = 0;
    for (const adapter *const *a = adapter_all(); *a; a++) {
        if ((*a)->inbound_path)
            rc |= http_route(app, HTTP_GET | HTTP_POST, (*a)->inbound_path, handle_inbound);
        if ((*a)->dlr_path)
            rc |= http_route(app, HTTP_GET | HTTP_POST, (*a)->dlr_path, handle_dlr);
    }
    return rc;
}
