/* api.h - the console's JSON API under /api (see bot/API.md).
 *
 * api_cases.c: session (login, logout, me), the queue, events, try, SMS render.
 * api_kb.c:    entries, import/export, lexicon (admin).
 * api_proposals.c: proposals from resolved cases, accept/reject (admin).
 * api_admin.c: settings, audit, stats, users (admin).
 * Every handler ends in exactly one reply; auth_require() is the first thing
 * every handler but login does. */
#ifndef HOTLINE_API_H
#define HOTLINE_API_H

#include <stddef.h>
#include <event2/http.h>
#include <cjson/cJSON.h>

#include "bot/app.h"

/* Registers every /api route.  0 / -1. */
int api_register(hl_app *app);

int api_register_cases(hl_app *app);
int api_register_kb(hl_app *app);
int api_register_proposals(hl_app *app);
int api_register_admin(hl_app *app);

/* ---- helpers shared by the api_*.c files ---- */

/* 1 when s is well-formed UTF-8 (no overlongs, surrogates or NULs). */
int api_utf8_valid(const char *s);
/* A positive decimal id filling the whole of [s, s+len); 0 / -1. */
int api_parse_id(const char *s, size_t len, long long *out);
/* A string member or NULL. */
const char *api_str(const cJSON *o, const char *key);
/* A required string member: non-empty, valid UTF-8, at most max bytes.
 * Replies 400 naming the key and returns NULL when it is not. */
const char *api_need_text(struct evhttp_request *req, const cJSON *o, const char *key,
                          size_t max);
/* An integer query parameter within [lo, hi], def when absent; -1 after
 * replying 400 when malformed or out of range. */
int api_query_int(struct evhttp_request *req, const char *name, long long lo, long long hi,
                  long long def, long long *out);
/* A body that may be empty (or white space only) or else a JSON object.
 * 0 with *out the object (the caller deletes it) or NULL when empty; -1
 * after replying 400 or 500. */
int api_optional_body(struct evhttp_request *req, cJSON **out);
/* Replies 500 "out of memory" for a NULL body, else 200/201 with it. */
void api_reply(struct evhttp_request *req, int status, cJSON *body);
/* Builds {key: value} (takes value; NULL on failure, value freed). */
cJSON *api_wrap(const char *key, cJSON *value);

/* ---- knowledge helpers (api_kb.c) ---- */

/* Checks an optional text: at most max bytes of valid UTF-8; 0 / -1 with
 * err naming what. */
int api_kb_check_text(const char *what, const char *s, size_t max, char *err, size_t errlen);
/* 1 when the entry exists, 0 when not, -1 on error. */
int api_kb_entry_exists(store *db, const char *id);
/* A new entry id made from text (folded, '-' between words, at most 60
 * bytes), unique with -2, -3, ...  malloc'd or NULL. */
char *api_kb_unique_id(store *db, const char *text);
/* Rebuilds the matcher after a committed change (logs a failure). */
void api_kb_reload(hl_app *app, const char *why);

#endif
