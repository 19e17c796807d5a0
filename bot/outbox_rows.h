/* outbox_rows.h - shared by the sender (outbox.c) and the rows (outbox_rows.c). */
#ifndef HOTLINE_OUTBOX_ROWS_H
#define HOTLINE_OUTBOX_ROWS_H

#include "adapters/adapter.h"
#include "bot/app.h"

/* A provider's tokens as stored (Zalo OAuth). */
struct outbox_token {
    char access[1024];
    char refresh[1024];
    long long expires_at;   /* ms; 0 = refresh before use */
    int present;
};

void outbox_publish_status(hl_app *app, long long message_id, const char *status,
                           const char *error);

void outbox_token_load(hl_app *app, const char *channel, struct outbox_token *t);
/* Seeds the tokens row from the configured refresh token, once. */
void outbox_token_seed(hl_app *app);
/* Commits a refreshed pair (autocommit: durable before the token is used). */
int outbox_token_save(hl_app *app, const char *channel, const adapter_token *t);
void outbox_token_expire(hl_app *app, const char *channel);

/* Frees the remembered SMS renderings (at exit). */
void outbox_rows_cleanup(void);

#endif
