/* http.h - the evhttp server: routes, limits, replies.
 *
 * Contract kept by every handler: each request ends in exactly one reply
 * (http_reply_* or evhttp_send_reply/evhttp_send_error) on every path. */
#ifndef HOTLINE_HTTP_H
#define HOTLINE_HTTP_H

#include <stddef.h>
#include <event2/http.h>
#include <cjson/cJSON.h>

#include "bot/app.h"

/* A handler gets the request, the app and what followed the route's prefix
 * (for "/api/cases/" + "12/claim" -> tail "12/claim"; "" for exact routes). */
typedef void (*http_handler)(struct evhttp_request *req, hl_app *app, const char *tail);

/* Method bits. */
enum { HTTP_GET = 1, HTTP_POST = 2, HTTP_PUT = 4, HTTP_DELETE = 8, HTTP_HEAD = 16 };

/* Registers a route.  A path ending in '/' matches as a prefix (longest
 * registered prefix wins); otherwise exactly.  A wrong method gets 405. */
int http_route(hl_app *app, int methods, const char *path, http_handler fn);

struct hl_server *http_start(hl_app *app, char *err, size_t errlen);
void http_stop(struct hl_server *s);
void http_stop_accepting(struct hl_server *s);   /* closes the listening socket */
/* Number of requests being handled (deferred replies not yet sent). */
int http_in_flight(struct hl_server *s);
void http_request_begin(struct hl_server *s);  /* a handler that replies later */
void http_request_end(struct hl_server *s);
/* For long-lived streams: stop measuring this request's latency. */
void http_request_untimed(struct hl_server *s, struct evhttp_request *req);

/* ---- request helpers ---- */
int http_method(struct evhttp_request *req);            /* HTTP_* bit */
const char *http_path(struct evhttp_request *req);      /* decoded path */
const char *http_header(struct evhttp_request *req, const char *name);
/* The body as a NUL-terminated copy (malloc'd, *len without the NUL).  The
 * server already refused bodies over http_max_body with 413. */
char *http_body(struct evhttp_request *req, size_t *len);
/* Parses the body as a JSON object; on failure replies 400 (or 415 for a
 * wrong content type) itself and returns NULL. */
cJSON *http_json_body(struct evhttp_request *req);
/* A query-string parameter, decoded (malloc'd) or NULL. */
char *http_query(struct evhttp_request *req, const char *name);
/* The peer's address as text. */
const char *http_peer(struct evhttp_request *req);
/* A cookie's value (malloc'd) or NULL. */
char *http_cookie(struct evhttp_request *req, const char *name);

/* ---- replies (each sends exactly one reply) ---- */
void http_reply_json(struct evhttp_request *req, int status, cJSON *body);  /* frees body */
void http_reply_error(struct evhttp_request *req, int status, const char *reason);
void http_reply_text(struct evhttp_request *req, int status, const char *content_type,
                     const char *body, size_t len);
/* Serves a file from dir (no '..', no absolute paths, no symlinks out). */
void http_reply_file(struct evhttp_request *req, const char *dir, const char *rel);

#endif
