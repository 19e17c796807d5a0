/* events.h - server-sent events to the console (GET /api/events).
 *
 * The hub keeps one chunked HTTP reply open per console tab and writes
 * "event: NAME\ndata: JSON\n\n" to each when something changes: `case` when a
 * case is opened, joined, claimed, released, replied to or resolved (queue.c),
 * `message` when an outbound message changes delivery status (outbox.c).  A
 * ": ping" comment every 15 s keeps proxies from closing idle streams and
 * finds dead peers.  Single-threaded, like the rest of the daemon. */
#ifndef HOTLINE_EVENTS_H
#define HOTLINE_EVENTS_H

#include <event2/http.h>
#include <cjson/cJSON.h>

#include "bot/app.h"

struct events_hub;

/* NULL on allocation failure (logged). */
struct events_hub *events_new(hl_app *app);
/* Ends every stream (as events_shutdown) and frees the hub. */
void events_free(struct events_hub *h);
/* Ends every open stream cleanly (final chunk sent) and refuses new ones.
 * Call before http_stop so no stream is left in flight. */
void events_shutdown(struct events_hub *h);

/* Takes over req (already authenticated) as a new stream: replies 200 with
 * text/event-stream and keeps it open, or replies 503 when shutting down or
 * full.  Either way the request has its one reply.  session_key (may be
 * NULL) is the stream's session (auth_session_key): before each event and
 * ping the stream is ended if that session has ended (logout, expiry, user
 * disabled), so citizens' data stops flowing to a closed session. */
void events_attach(struct events_hub *h, struct evhttp_request *req, const char *session_key);

/* Sends an event to every stream.  Takes ownership of data (may be NULL:
 * then "{}" is sent).  Safe to call with app->events == NULL. */
void events_publish(hl_app *app, const char *event, cJSON *data);

/* Ends at once the streams whose session has ended (logout, a disabled
 * user); otherwise that happens at the next event or ping. */
void events_prune(struct events_hub *h);

/* Number of open streams (tests, metrics). */
int events_count(const struct events_hub *h);

#endif
