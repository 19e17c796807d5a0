/* sink.c - a fast fake provider for the load bench: answers like Zalo OA
 * (token refresh and customer-service messages) and like Kannel's sendsms,
 * and records when each reply arrived.
 *
 *   build/bench/sink PORT OUTFILE
 *
 * Every reply's recipient (Zalo recipient.user_id, Kannel "to") is written
 * with its arrival time in epoch milliseconds to OUTFILE, one "address ms"
 * line each, when the sink gets SIGTERM or SIGINT.  GET /count answers the
 * number of replies received so far, so the bench knows when the daemon's
 * outbox has drained.  Single-threaded libevent: it is never the bottleneck
 * next to a daemon that commits to disk. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rec {
    char addr[40];
    long long ms;
};

static struct rec *recs;
static size_t n_recs, cap_recs;
static unsigned long long msg_seq;
static const char *out_path;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void record(const char *addr, size_t len)
{
    if (n_recs == cap_recs) {
        size_t cap = cap_recs ? cap_recs * 2 : 65536;
        struct rec *r = realloc(recs, cap * sizeof *r);
        if (!r)
            return;
        recs = r;
        cap_recs = cap;
    }
    struct rec *r = &recs[n_recs++];
    if (len >= sizeof r->addr)
        len = sizeof r->addr - 1;
    memcpy(r->addr, addr, len);
    r->addr[len] = '\0';
    r->ms = now_ms();
}

static void reply(struct evhttp_request *req, int status, const char *ctype, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Accepted", b);
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *uri = evhttp_request_get_uri(req);
    char body[256];
    if (strncmp(uri, "/v4/oa/access_token", 19) == 0) {
        reply(req, 200, "application/json",
              "{\"access_token\":\"bench-access\",\"refresh_token\":\"bench-refresh\","
              "\"expires_in\":\"90000\"}");
    } else if (strncmp(uri, "/v3.0/oa/message/cs", 19) == 0) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        char *s = (char *)evbuffer_pullup(in, (ev_ssize_t)n);
        const char *key = "\"user_id\":\"";
        char *p = s ? memmem(s, n, key, strlen(key)) : NULL;
        if (p) {
            p += strlen(key);
            char *q = memchr(p, '"', n - (size_t)(p - s));
            if (q)
                record(p, (size_t)(q - p));
        }
        snprintf(body, sizeof body,
                 "{\"error\":0,\"message\":\"Success\",\"data\":{\"message_id\":\"m%llu\"}}",
                 ++msg_seq);
        reply(req, 200, "application/json", body);
    } else if (strncmp(uri, "/cgi-bin/sendsms", 16) == 0) {
        struct evkeyvalq q;
        const char *qs = strchr(uri, '?');
        if (qs && evhttp_parse_query_str(qs + 1, &q) == 0) {
            const char *to = evhttp_find_header(&q, "to");
            if (to)
                record(to, strlen(to));
            evhttp_clear_headers(&q);
        }
        reply(req, 202, "text/plain", "0: Accepted for delivery");
    } else if (strcmp(uri, "/count") == 0) {
        snprintf(body, sizeof body, "%zu\n", n_recs);
        reply(req, 200, "text/plain", body);
    } else {
        evhttp_send_error(req, 404, NULL);
    }
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sink PORT OUTFILE\n");
        return 2;
    }
    out_path = argv[2];
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    if (!base || !http || evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) != 0) {
        fprintf(stderr, "sink: cannot listen on port %s\n", argv[1]);
        return 1;
    }
    evhttp_set_gencb(http, on_request, NULL);
    struct event *s1 = evsignal_new(base, SIGTERM, on_stop, base);
    struct event *s2 = evsignal_new(base, SIGINT, on_stop, base);
    event_add(s1, NULL);
    event_add(s2, NULL);
    event_base_dispatch(base);
    FILE *f = fopen(out_path, "w");
    if (!f) {
        perror(out_path);
        return 1;
    }
    for (size_t i = 0; i < n_recs; i++)
        fprintf(f, "%s %lld\n", recs[i].addr, recs[i].ms);
    fclose(f);
    event_free(s1);
    event_free(s2);
    evhttp_free(http);
    event_base_free(base);
    free(recs);
    return 0;
}
