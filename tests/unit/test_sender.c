/* test_sender.c - the outbox's network thread against a real local HTTP
 * server (evhttp on the test's own loop): transfers handed over come back
 * once each with the server's answer, a refused connection comes back as a
 * transport error, and stopping with a transfer still running detaches it
 * without reporting it (the handle stays its owner's to free). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/sender.h"

#define N_OK 40

struct body {
    char buf[64];
    size_t len;
};

struct ctx {
    struct event_base *base;
    struct evhttp *http;
    int port;
    int done, ok, transport_errors;
    long last_status;
    struct evhttp_request *held;   /* a request the server never answers */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t len = size * n;
    if (b->len + len < sizeof b->buf) {
        memcpy(b->buf + b->len, p, len);
        b->len += len;
        b->buf[b->len] = '\0';
    }
    return size * n;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct ctx *c = arg;
    const char *uri = evhttp_request_get_uri(req);
    if (strcmp(uri, "/hold") == 0) {
        c->held = req;
        return;
    }
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out, "echo %s", uri);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void on_done(void *arg, CURL *easy, CURLcode result)
{
    struct ctx *c = arg;
    c->done++;
    if (result == CURLE_OK)
        c->ok++;
    else
        c->transport_errors++;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c->last_status);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->base = event_base_new();
    c->http = evhttp_new(c->base);
    assert_non_null(c->http);
    struct evhttp_bound_socket *h = evhttp_bind_socket_with_handle(c->http, "127.0.0.1", 0);
    assert_non_null(h);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&sa, &len), 0);
    c->port = ntohs(sa.sin_port);
    evhttp_set_gencb(c->http, on_request, c);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    evhttp_free(c->http);
    event_base_free(c->base);
    free(c);
    return 0;
}

static CURL *prepare(const char *url, struct body *b)
{
    CURL *e = curl_easy_init();
    assert_non_null(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    return e;
}

/* Runs the loop until want transfers are back (or 5 s pass). */
static void run_until(struct ctx *c, int want)
{
    for (int i = 0; i < 500 && c->done < want; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(c->base, &tv);
        event_base_dispatch(c->base);
    }
}

static void every_transfer_comes_back_once(void **state)
{
    struct ctx *c = *state;
    struct sender *s = sender_new(c->base, 8, on_done, c);
    assert_non_null(s);
    static struct body bodies[N_OK];
    CURL *easy[N_OK];
    for (int i = 0; i < N_OK; i++) {
        char url[96];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/m%d", c->port, i);
        memset(&bodies[i], 0, sizeof bodies[i]);
        easy[i] = prepare(url, &bodies[i]);
        assert_int_equal(sender_submit(s, easy[i]), 0);
    }
    run_until(c, N_OK);
    assert_int_equal(c->done, N_OK);
    assert_int_equal(c->ok, N_OK);
    assert_int_equal(c->last_status, 200);
    for (int i = 0; i < N_OK; i++) {
        char want[32];
        snprintf(want, sizeof want, "echo /m%d", i);
        assert_string_equal(bodies[i].buf, want);
    }
    /* Nothing more arrives: each came back exactly once. */
    struct timeval tv = {0, 50000};
    event_base_loopexit(c->base, &tv);
    event_base_dispatch(c->base);
    assert_int_equal(c->done, N_OK);
    sender_free(s);
    for (int i = 0; i < N_OK; i++)
        curl_easy_cleanup(easy[i]);
}

static void refused_connection_is_a_transport_error(void **state)
{
    struct ctx *c = *state;
    struct sender *s = sender_new(c->base, 8, on_done, c);
    assert_non_null(s);
    struct body b = {0};
    /* Port 1 on loopback: nothing listens there. */
    CURL *e = prepare("http://127.0.0.1:1/x", &b);
    assert_int_equal(sender_submit(s, e), 0);
    run_until(c, 1);
    assert_int_equal(c->done, 1);
    assert_int_equal(c->transport_errors, 1);
    sender_free(s);
    curl_easy_cleanup(e);
}

static void stopping_detaches_what_is_running(void **state)
{
    struct ctx *c = *state;
    struct sender *s = sender_new(c->base, 8, on_done, c);
    assert_non_null(s);
    struct body b = {0};
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hold", c->port);
    CURL *e = prepare(url, &b);
    assert_int_equal(sender_submit(s, e), 0);
    for (int i = 0; i < 500 && !c->held; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(c->base, &tv);
        event_base_dispatch(c->base);
    }
    assert_non_null(c->held);
    sender_free(s);               /* joins the thread, detaches the transfer */
    assert_int_equal(c->done, 0); /* not reported */
    curl_easy_cleanup(e);         /* still the owner's, and still valid */
    evhttp_send_reply(c->held, 200, "OK", NULL);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_transfer_comes_back_once, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_connection_is_a_transport_error, setup, teardown),
        cmocka_unit_test_setup_teardown(stopping_detaches_what_is_running, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
