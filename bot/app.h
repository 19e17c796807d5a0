/* app.h - the daemon's shared state, passed to every handler.
 *
 * Single-threaded: everything here is touched only from the event loop. */
#ifndef HOTLINE_APP_H
#define HOTLINE_APP_H

#include <event2/event.h>
#include <event2/http.h>

#include "bot/config.h"
#include "bot/store.h"
#include "knowledge/kb.h"

#define HOTLINE_VERSION "0.1.0"

struct hl_server;
struct hl_metrics;
struct pipeline;
struct outbox;
struct events_hub;

/* Runtime settings: the config file's values, overridden by what admins
 * saved through the console (settings table).  settings.c keeps the list. */
typedef struct hl_settings {
    kb_params kb;               /* threshold, gap */
    char holding_text[1024];
    char optout_text[512];
    char non_text_reply[512];
    int limit_auto_replies;
    int limit_window;           /* seconds */
    char sms_unaccent[8];
    int sms_max_segments;
} hl_settings;

typedef struct hl_app {
    hl_config cfg;
    hl_settings settings;
    struct event_base *base;
    struct hl_server *server;
    store *db;
    kb *kb;                     /* current knowledge; replaced whole on change */
    struct hl_metrics *metrics;
    struct pipeline *pipeline;
    struct outbox *outbox;
    struct events_hub *events;  /* server-sent events to the console */
    int stopping;
} hl_app;

/* Rebuilds the kb from the database and swaps it in (knowledge edits, SIGHUP).
 * 0 / -1; on failure the old kb stays. */
int app_reload_kb(hl_app *app);

/* settings.c */
int settings_load(hl_app *app);                 /* config, then settings table */
struct cJSON *settings_to_json(const hl_app *app);
/* Validates and applies a partial update, saving it to the settings table;
 * on error nothing changes and err says which key is wrong. */
int settings_update(hl_app *app, const struct cJSON *in, const char *user, char *err,
                    size_t errlen);

#endif
