/* config.h - the daemon's configuration: one JSON file, every key defaulted.
 *
 * One table in config.c (path, type, default, field) drives parsing,
 * validation and documentation; no key is parsed anywhere else.  String
 * values written "$NAME" are taken from the environment, so secrets can stay
 * out of the file. */
#ifndef HOTLINE_CONFIG_H
#define HOTLINE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef struct hl_zalo_conf {
    char *app_id, *oa_secret, *app_secret, *refresh_token, *api_base, *oauth_base;
} hl_zalo_conf;

typedef struct hl_kannel_conf {
    char *sendsms_url, *username, *password, *from, *webhook_token;
} hl_kannel_conf;

typedef struct hl_twilio_conf {
    char *account_sid, *auth_token, *from, *public_url, *api_base;
} hl_twilio_conf;

typedef struct hl_esms_conf {
    char *api_key, *secret_key, *brandname, *api_base;
} hl_esms_conf;

typedef struct hl_config {
    char *listen;               /* "host:port" */
    char *database;             /* SQLite file */
    char *database_synchronous; /* FULL | NORMAL | OFF */
    char *public_url;           /* how providers reach us (dlr-url, callbacks) */
    char *log_level;
    char *hotline_number;       /* shown to citizens: "1022" */

    /* http */
    int http_max_body;          /* bytes; larger bodies get 413 */
    int http_max_headers;       /* bytes */
    int http_timeout;           /* seconds */
    int http_max_connections;
    char *http_trusted_proxies; /* comma-separated peers whose X-Forwarded-For counts */

    /* knowledge */
    char *kb_corpus;            /* imported when the knowledge base is empty */
    char *kb_lexicon;
    double kb_threshold;        /* < 0: the engine's default */
    double kb_gap;              /* < 0: the engine's default */

    /* human queue */
    char *holding_text;
    char *optout_text;
    char *non_text_reply;

    /* protection */
    int limit_auto_replies;     /* per contact per window */
    int limit_window;           /* seconds */

    /* sms rendering */
    char *sms_unaccent;         /* auto | always | never */
    int sms_max_segments;
    char *sms_send_via;         /* same | esms: the route for SMS replies */

    /* outbox */
    int outbox_max_attempts;
    int outbox_backoff_base;    /* ms */
    int outbox_backoff_max;     /* ms */
    int outbox_timeout;         /* ms per provider request */
    int outbox_concurrency;

    /* console */
    char *console_dir;
    int session_ttl;            /* seconds */
    int login_max_attempts;     /* per 15 minutes, per address and per user */

    /* channels; an SMS/Zalo channel is configured when its key fields are set */
    int web_enabled;
    char *web_dir;
    hl_zalo_conf zalo;
    hl_kannel_conf kannel;
    hl_twilio_conf twilio;
    hl_esms_conf esms;
} hl_config;

/* Fills cfg with the defaults (the embedded default configuration). */
int config_defaults(hl_config *cfg);

/* Loads path over the defaults.  On error returns -1 with a message that
 * names the key's path (e.g. "channels.zalo.app_id: expected a string"). */
int config_load(hl_config *cfg, const char *path, char *err, size_t errlen);

/* Same, from a JSON text (tests, fuzzing). */
int config_load_text(hl_config *cfg, const char *text, size_t len, char *err, size_t errlen);

void config_free(hl_config *cfg);

/* Writes a Markdown table of every key, type and default (README). */
void config_describe(FILE *out);

/* For commands that send nothing: a secret key given as "$NAME" with NAME
 * unset reads as "" instead of being an error. */
void config_allow_unset_secrets(int on);

#endif
