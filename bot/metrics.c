/* metrics.c - in-memory counters and the /metrics, /healthz and /livez routes.
 *
 * Counters are per process (they restart at zero, as Prometheus expects of
 * counters); the outbox depth is read from the database at scrape time so it
 * is true after a restart too. */
#include "bot/metrics.h"
#include "bot/http.h"
#include "bot/log.h"
#include "bot/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

static const char *const channels[] = {"web", "zalo", "kannel", "twilio", "esms"};
#define N_CH 5
static const char *const reasons[] = {"no_match",   "ambiguous",    "low_confidence",
                                      "asked_for_human", "non_text", "rate_limited",
                                      "case_claimed"};
#define N_REASONS 7
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define N_BUCKETS 11

struct hl_metrics {
    unsigned long long in[N_CH], answered[N_CH], sent[N_CH], failed[N_CH], retried[N_CH];
    unsigned long long escalated[N_REASONS];
    unsigned long long hist[N_BUCKETS + 1];
    double hist_sum;
    unsigned long long hist_count;
};

struct hl_metrics *metrics_new(void) { return calloc(1, sizeof(struct hl_metrics)); }
void metrics_free(struct hl_metrics *m) { free(m); }

static int ch_index(const char *ch)
{
    for (int i = 0; i < N_CH; i++)
        if (ch && strcmp(ch, channels[i]) == 0)
            return i;
    return -1;
}

#define CH_COUNTER(fn, field)                                                                    \
    void fn(struct hl_metrics *m, const char *channel)                                          \
    {                                                                                          \
        int i = ch_index(channel);                                                             \
        if (m && i >= 0)                                                                       \
            m->field[i]++;                                                                     \
    }
CH_COUNTER(metrics_message_in, in)
CH_COUNTER(metrics_auto_answered, answered)
CH_COUNTER(metrics_sent, sent)
CH_COUNTER(metrics_send_failed, failed)
CH_COUNTER(metrics_send_retry, retried)

void metrics_escalated(struct hl_metrics *m, const char *reason)
{
    for (int i = 0; m && i < N_REASONS; i++)
        if (reason && strcmp(reason, reasons[i]) == 0)
            m->escalated[i]++;
}

void metrics_http_observe(struct hl_metrics *m, double seconds)
{
    if (!m)
        return;
    int i = 0;
    while (i < N_BUCKETS && seconds > buckets[i])
        i++;
    m->hist[i]++;
    m->hist_sum += seconds;
    m->hist_count++;
}

static void per_channel(struct evbuffer *b, const char *name, const char *help,
                        const unsigned long long *v)
{
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int i = 0; i < N_CH; i++)
        evbuffer_add_printf(b, "%s{channel=\"%s\"} %llu\n", name, channels[i], v[i]);
}

static void handle_metrics(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    struct hl_metrics *m = app->metrics;
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    per_channel(b, "hotline_messages_in_total", "Inbound messages stored, per channel.", m->in);
    per_channel(b, "hotline_auto_answered_total", "Messages answered automatically.",
                m->answered);
    per_channel(b, "hotline_sent_total", "Outbound messages accepted by the provider.", m->sent);
    per_channel(b, "hotline_send_failures_total", "Outbound messages failed permanently.",
                m->failed);
    per_channel(b, "hotline_send_retries_total", "Transient send failures retried.", m->retried);
    evbuffer_add_printf(b, "# HELP hotline_escalated_total Messages sent to staff, per reason.\n"
                           "# TYPE hotline_escalated_total counter\n");
    for (int i = 0; i < N_REASONS; i++)
        evbuffer_add_printf(b, "hotline_escalated_total{reason=\"%s\"} %llu\n", reasons[i],
                            m->escalated[i]);
    evbuffer_add_printf(b, "# HELP hotline_outbox_depth Replies waiting to be sent.\n"
                           "# TYPE hotline_outbox_depth gauge\nhotline_outbox_depth %lld\n",
                        outbox_depth(app));
    evbuffer_add_printf(b, "# HELP hotline_http_request_duration_seconds HTTP request latency.\n"
                           "# TYPE hotline_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i < N_BUCKETS; i++) {
        cum += m->hist[i];
        evbuffer_add_printf(b, "hotline_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                            buckets[i], cum);
    }
    cum += m->hist[N_BUCKETS];
    evbuffer_add_printf(b,
                        "hotline_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                        "hotline_http_request_duration_seconds_sum %.6f\n"
                        "hotline_http_request_duration_seconds_count %llu\n",
                        cum, m->hist_sum, m->hist_count);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void handle_healthz(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    int db_ok = store_scalar(app->db, "SELECT count(*) FROM settings") >= 0;
    cJSON *j = cJSON_CreateObject();
    if (!j) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    cJSON_AddStringToObject(j, "status", db_ok ? "ok" : "degraded");
    cJSON_AddStringToObject(j, "database", db_ok ? "ok" : "error");
    cJSON_AddStringToObject(j, "version", HOTLINE_VERSION);
    cJSON_AddNumberToObject(j, "entries", app->kb ? (double)kb_size(app->kb) : 0);
    http_reply_json(req, db_ok ? 200 : 503, j);
}

/* Liveness only: the process answers, without touching the database (for
 * a load balancer's frequent probe; /healthz is the readiness check).  It
 * is also the load bench's ceiling: a static 200 through the same server. */
static void handle_livez(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)app;
    (void)tail;
    http_reply_text(req, 200, NULL, "ok\n", 3);
}

int metrics_register(hl_app *app)
{
    return http_route(app, HTTP_GET | HTTP_HEAD, "/metrics", handle_metrics) |
           http_route(app, HTTP_GET | HTTP_HEAD, "/healthz", handle_healthz) |
           http_route(app, HTTP_GET | HTTP_HEAD, "/livez", handle_livez);
}
