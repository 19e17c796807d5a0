/* events.c - server-sent events hub for the console.
 *
 * Each stream is an evhttp request whose chunked reply never ends until the
 * browser goes away, the hub is shut down, or the peer reads too slowly.
 *
 * Lifetime rules that keep this correct with evhttp 2.1:
 * - When the peer closes, evhttp detaches the request from its connection
 *   (evhttp_request_get_connection() becomes NULL) and frees the connection,
 *   calling our close callback first.  The request is then ours to free, which
 *   evhttp_send_reply_end() does for a detached request.
 * - When the server itself frees the connection (evhttp_free without
 *   events_shutdown), the request is still attached and the connection frees
 *   it: we only forget our record.
 * - On shutdown we remove the close callback first, then end the reply, so
 *   the callback never runs for a stream we already dropped. */
#include "bot/events.h"
#include "bot/auth.h"
#include "bot/http.h"
#include "bot/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#define EVENTS_MAX_STREAMS 256
#define EVENTS_PING_SECS 15
#define EVENTS_WRITE_TIMEOUT 60           /* seconds a write may stay blocked */
#define EVENTS_MAX_BACKLOG (1024 * 1024)  /* bytes queued for one slow peer */

struct sse_stream {
    struct events_hub *hub;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    char session[65];           /* session key, "" when unchecked */
    struct sse_stream *prev, *next;
};

struct events_hub {
    hl_app *app;
    struct sse_stream *streams;
    int n;
    int closed;                 /* events_shutdown ran: refuse new streams */
    struct event *ping;         /* pending only while streams exist */
};

struct events_hub *events_new(hl_app *app)
{
    struct events_hub *h = calloc(1, sizeof *h);
    if (!h) {
        log_error("events_new", "error=\"out of memory\"");
        return NULL;
    }
    h->app = app;
    return h;
}

int events_count(const struct events_hub *h) { return h ? h->n : 0; }

static void unlink_stream(struct sse_stream *s, int release)
{
    struct events_hub *h = s->hub;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->n--;
    if (h->n == 0 && h->ping)
        event_del(h->ping);
    if (release && h->app->server)
        http_request_end(h->app->server);
}

static void on_flushed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hl_app *app = arg;
    if (app->server)
        http_request_end(app->server);
}

/* The peer went away (or its connection is being freed by the server). */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct sse_stream *s = arg;
    unlink_stream(s, 1);
    /* Detached: the request is ours to free (reply_end frees it). */
    if (!evhttp_request_get_connection(s->req))
        evhttp_send_reply_end(s->req);
    free(s);
}

/* Ends one stream from our side: final chunk, connection then closes or
 * goes back to keep-alive as evhttp decides.  The request stays counted as
 * in flight for a moment more, so a shutdown that waits for in-flight
 * requests lets the loop write the final chunk before closing sockets. */
static void end_stream(struct sse_stream *s)
{
    hl_app *app = s->hub->app;
    evhttp_connection_set_closecb(s->evcon, NULL, NULL);
    unlink_stream(s, 0);
    evhttp_send_reply_end(s->req);
    free(s);
    struct timeval tv = {0, 100000};
    if (!app->base || event_base_once(app->base, -1, EV_TIMEOUT, on_flushed, app, &tv) != 0)
        on_flushed(-1, 0, app);
}

/* Queues text on one stream; drops the stream when the peer does not read. */
static void send_text(struct sse_stream *s, const char *text, size_t len)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
    if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > EVENTS_MAX_BACKLOG) {
        log_warn("events_slow_peer", "action=drop backlog=%zu",
                 evbuffer_get_length(bufferevent_get_output(bev)));
        end_stream(s);
        return;
    }
    struct evbuffer *buf = evbuffer_new();
    if (!buf || evbuffer_add(buf, text, len) != 0) {
        if (buf)
            evbuffer_free(buf);
        log_error("events_send", "error=\"out of memory\"");
        return;
    }
    evhttp_send_reply_chunk(s->req, buf);
    evbuffer_free(buf);
}

/* Sends text to every stream whose session is still alive and ends the
 * others; with text NULL it only ends the others (after a logout). */
static void broadcast(struct events_hub *h, const char *text, size_t len)
{
    struct sse_stream *s = h->streams, *next;
    for (; s; s = next) {
        next = s->next;         /* send_text and end_stream free s */
        if (s->session[0] && auth_session_alive(h->app, s->session) == 0) {
            log_info("events_session_ended", "streams=%d", h->n - 1);
            end_stream(s);
            continue;
        }
        if (text)
            send_text(s, text, len);
    }
}

void events_prune(struct events_hub *h)
{
    if (h)
        broadcast(h, NULL, 0);
}

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    static const char ping[] = ": ping\n\n";
    broadcast(arg, ping, sizeof ping - 1);
}

void events_attach(struct events_hub *h, struct evhttp_request *req, const char *session_key)
{
    if (!h || h->closed || h->app->stopping) {
        http_reply_error(req, 503, "shutting down");
        return;
    }
    if (h->n >= EVENTS_MAX_STREAMS) {
        http_reply_error(req, 503, "too many event streams");
        return;
    }
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon) {
        http_reply_error(req, 400, "no connection");
        return;
    }
    if (!h->ping) {
        h->ping = event_new(h->app->base, -1, EV_PERSIST, on_ping, h);
        if (!h->ping) {
            http_reply_error(req, 500, "out of memory");
            return;
        }
    }
    struct sse_stream *s = calloc(1, sizeof *s);
    if (!s) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    s->hub = h;
    s->req = req;
    s->evcon = evcon;
    if (session_key)
        snprintf(s->session, sizeof s->session, "%s", session_key);

    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(out, "Cache-Control", "no-store");
    evhttp_add_header(out, "X-Accel-Buffering", "no");
    evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
    http_request_untimed(h->app->server, req);
    evhttp_send_reply_start(req, 200, "OK");

    /* The server's idle timeout would close a stream the browser never
     * writes to: keep only a write timeout, and rely on pings plus the
     * close callback to find dead peers. */
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    if (bev) {
        struct timeval wtv = {EVENTS_WRITE_TIMEOUT, 0};
        bufferevent_set_timeouts(bev, NULL, &wtv);
    }
    evhttp_connection_set_closecb(evcon, on_close, s);

    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;
    h->n++;
    if (h->app->server)
        http_request_begin(h->app->server);
    if (h->n == 1) {
        struct timeval tv = {EVENTS_PING_SECS, 0};
        event_add(h->ping, &tv);
    }
    static const char hello[] = "retry: 3000\n: connected\n\n";
    send_text(s, hello, sizeof hello - 1);
}

void events_publish(hl_app *app, const char *event, cJSON *data)
{
    struct events_hub *h = app ? app->events : NULL;
    if (!h || !h->streams || !event) {
        cJSON_Delete(data);
        return;
    }
    char *json = data ? cJSON_PrintUnformatted(data) : NULL;
    cJSON_Delete(data);
    const char *payload = json ? json : "{}";
    /* Event names are ours (no newlines); JSON printed unformatted has no
     * raw newlines either, so one data: line is enough. */
    size_t len = strlen(event) + strlen(payload) + 32;
    char *text = malloc(len);
    if (!text) {
        free(json);
        log_error("events_publish", "error=\"out of memory\"");
        return;
    }
    int n = snprintf(text, len, "event: %s\ndata: %s\n\n", event, payload);
    if (n > 0 && (size_t)n < len)
        broadcast(h, text, (size_t)n);
    free(text);
    free(json);
}

void events_shutdown(struct events_hub *h)
{
    if (!h)
        return;
    h->closed = 1;
    while (h->streams)
        end_stream(h->streams);
    if (h->ping)
        event_del(h->ping);
}

void events_free(struct events_hub *h)
{
    if (!h)
        return;
    events_shutdown(h);
    if (h->ping)
        event_free(h->ping);
    free(h);
}
