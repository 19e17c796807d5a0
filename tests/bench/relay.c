/* relay.c - the floor under any design of the webhook path, for the load
 * bench: what this machine spends on the two HTTP exchanges that every
 * message needs whatever the daemon does in between, and nothing else.
 *
 *   build/bench/relay PORT SINK_PORT THREADS
 *
 * It answers POST /webhook/zalo with 200 at once and sends a reply of the
 * daemon's usual size (about 750 bytes) to the sink's Zalo message API,
 * addressed to the webhook's sender.  It does not verify the signature,
 * parse JSON, store anything, match or decide, and it uses libevent's own
 * HTTP client (lighter than libcurl) over kept-alive connections.  So its
 * rate is an upper bound on what any implementation of the full path on
 * libevent's HTTP can accept on this machine, under the same wrk and the
 * same sink: if even this is below a third of the static ceiling, no such
 * daemon can reach it.
 *
 * THREADS event loops share the port with SO_REUSEPORT, each with its own
 * connections to the sink: on two cores, two loops are its best case. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/standin.h"

#define SINK_CONNS 32   /* kept-alive connections to the sink per loop */

struct loop {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_connection *sink[SINK_CONNS];
    unsigned next;
};

static int sink_port;
/* The text of a typical answer, so the reply's request is as large as the
 * daemon's: the sink's cost per byte counts against the floor too. */
static char filler[640];

static void sent_cb(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (!req || evhttp_request_get_response_code(req) != 200)
        fprintf(stderr, "relay: a reply was not accepted by the sink\n");
}

static void on_webhook(struct evhttp_request *req, void *arg)
{
    struct loop *l = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *s = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    const char *key = "\"sender\":{\"id\":\"";
    const char *p = s ? memmem(s, n, key, strlen(key)) : NULL;
    const char *q = p ? memchr(p + strlen(key), '"', n - (size_t)(p + strlen(key) - s)) : NULL;
    if (!q) {
        evhttp_send_error(req, 400, "no sender");
        return;
    }
    p += strlen(key);

    struct evhttp_request *out = evhttp_request_new(sent_cb, NULL);
    if (!out) {
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(out);
    evhttp_add_header(h, "Host", "127.0.0.1");
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "access_token", "bench-access");
    evbuffer_add_printf(evhttp_request_get_output_buffer(out),
                        "{\"recipient\":{\"user_id\":\"%.*s\"},\"message\":{\"text\":\"%s\"}}",
                        (int)(q - p), p, filler);
    struct evhttp_connection *c = l->sink[l->next++ % SINK_CONNS];
    if (evhttp_make_request(c, out, EVHTTP_REQ_POST, "/v3.0/oa/message/cs") != 0) {
        evhttp_send_error(req, 503, "cannot reach the sink");
        return;   /* evhttp_make_request frees the request on failure */
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

static int loop_init(struct loop *l, int port)
{
    l->base = event_base_new();
    l->http = l->base ? standin_http(l->base, port) : NULL;
    if (!l->http)
        return -1;
    evhttp_set_cb(l->http, "/webhook/zalo", on_webhook, l);
    for (int i = 0; i < SINK_CONNS; i++) {
        l->sink[i] = evhttp_connection_base_new(l->base, NULL, "127.0.0.1", (unsigned short)sink_port);
        if (!l->sink[i])
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: relay PORT SINK_PORT THREADS\n");
        return 2;
    }
    int port = atoi(argv[1]), threads = atoi(argv[3]);
    sink_port = atoi(argv[2]);
    if (threads < 1 || threads > 16) {
        fprintf(stderr, "relay: THREADS must be 1 to 16\n");
        return 2;
    }
    memset(filler, 'a', sizeof filler - 1);
    signal(SIGPIPE, SIG_IGN);
    struct loop *loops = calloc((size_t)threads, sizeof *loops);
    struct event_base **bases = calloc((size_t)threads, sizeof *bases);
    if (!loops || !bases)
        return 1;
    for (int i = 0; i < threads; i++) {
        if (loop_init(&loops[i], port) != 0) {
            fprintf(stderr, "relay: cannot listen on port %d\n", port);
            return 1;
        }
        bases[i] = loops[i].base;
    }
    return standin_serve("relay", bases, threads);
}
