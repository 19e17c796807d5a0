/* outbox_rows.c - the outbox's rows and the provider tokens in the database.
 *
 * Queuing a reply writes the outbound message and the row(s) that will carry
 * it, already rendered for the channel (SMS text, Zalo's 2000-character
 * parts), so what is sent is exactly what was stored.  A row carrying the
 * whole message has no text of its own (NULL): it sends its message's.  The
 * sender in
 * outbox.c reads these rows and records their outcomes. */
#include "bot/outbox.h"
#include "adapters/adapter.h"
#include "bot/events.h"
#include "bot/log.h"
#include "bot/outbox_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tells open consoles that a message's delivery status changed. */
void outbox_publish_status(hl_app *app, long long message_id, const char *status, const char *error)
{
    if (!app->events || events_count(app->events) == 0)
        return;   /* no console open: skip the query and the JSON */
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return;
    cJSON_AddNumberToObject(d, "id", (double)message_id);
    cJSON_AddStringToObject(d, "status", status);
    if (error)
        cJSON_AddStringToObject(d, "error", error);
    sqlite3_stmt *st = store_stmt(app->db, "SELECT case_id FROM messages WHERE id = ?1");
    if (st) {
        sqlite3_bind_int64(st, 1, message_id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            cJSON_AddNumberToObject(d, "case_id", (double)sqlite3_column_int64(st, 0));
        sqlite3_reset(st);
    }
    events_publish(app, "message", d);
}

void outbox_token_load(hl_app *app, const char *channel, struct outbox_token *t)
{
    memset(t, 0, sizeof *t);
    sqlite3_stmt *st = store_stmt(app->db, "SELECT access_token, refresh_token, expires_at "
                                           "FROM tokens WHERE channel = ?1");
    if (!st)
        return;
    store_bind_text(st, 1, channel);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *a = sqlite3_column_text(st, 0), *r = sqlite3_column_text(st, 1);
        snprintf(t->access, sizeof t->access, "%s", a ? (const char *)a : "");
        snprintf(t->refresh, sizeof t->refresh, "%s", r ? (const char *)r : "");
        t->expires_at = sqlite3_column_int64(st, 2);
        t->present = 1;
    }
    sqlite3_reset(st);
}

/* The configured refresh token only seeds an empty row: after the first
 * refresh the database's token is the one that counts. */
void outbox_token_seed(hl_app *app)
{
    const char *rt = app->cfg.zalo.refresh_token;
    if (!rt || !*rt)
        return;
    sqlite3_stmt *st = store_stmt(app->db, "INSERT INTO tokens(channel, refresh_token, expires_at, "
                                           "updated_at) VALUES ('zalo', ?1, 0, ?2) "
                                           "ON CONFLICT(channel) DO NOTHING");
    if (!st)
        return;
    store_bind_text(st, 1, rt);
    sqlite3_bind_int64(st, 2, store_now_ms());
    store_step_done(app->db, st);
}

int outbox_token_save(hl_app *app, const char *channel, const adapter_token *t)
{
    sqlite3_stmt *st = store_stmt(app->db, "INSERT INTO tokens(channel, access_token, refresh_token, "
                                           "expires_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                                           "ON CONFLICT(channel) DO UPDATE SET access_token = "
                                           "excluded.access_token, refresh_token = excluded.refresh_token, "
                                           "expires_at = excluded.expires_at, updated_at = excluded.updated_at");
    if (!st)
        return -1;
    long long now = store_now_ms();
    store_bind_text(st, 1, channel);
    store_bind_text(st, 2, t->access_token);
    store_bind_text(st, 3, t->refresh_token);
    sqlite3_bind_int64(st, 4, now + t->expires_in * 1000);
    sqlite3_bind_int64(st, 5, now);
    return store_step_done(app->db, st);   /* autocommit: durable before use */
}

void outbox_token_expire(hl_app *app, const char *channel)
{
    sqlite3_stmt *st = store_stmt(app->db, "UPDATE tokens SET expires_at = 0 WHERE channel = ?1");
    if (!st)
        return;
    store_bind_text(st, 1, channel);
    store_step_done(app->db, st);
}

/* ---- SMS rendering, remembered ------------------------------------------ */

/* Automatic answers are a few dozen texts sent again and again, and
 * rendering one for SMS (NFD, GSM-7 check, segment count, cut) cost an
 * eighth of the loop's time per Kannel message under load.  The last
 * RENDER_CACHE renderings are kept, keyed by the text and everything that
 * shapes the result (policy, part limit, hotline number).  Loop thread only. */
#define RENDER_CACHE 256

static struct rendering {
    unsigned long long hash, used;
    char *text, *policy, *hotline;
    int max_segments;
    char *out;
    int coding, segments;
} renderings[RENDER_CACHE];
static unsigned long long render_clock;

static unsigned long long fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void rendering_clear(struct rendering *r)
{
    free(r->text);
    free(r->policy);
    free(r->hotline);
    free(r->out);
    memset(r, 0, sizeof *r);
}

void outbox_rows_cleanup(void)
{
    for (size_t i = 0; i < RENDER_CACHE; i++)
        rendering_clear(&renderings[i]);
}

/* sms_render through the cache; malloc'd, NULL on failure. */
static char *render_sms(hl_app *app, const char *text, int *coding, int *segments)
{
    const char *policy = app->settings.sms_unaccent;
    const char *hotline = app->cfg.hotline_number ? app->cfg.hotline_number : "";
    int max = app->settings.sms_max_segments;
    unsigned long long h = fnv1a(text);
    struct rendering *slot = &renderings[0];
    for (size_t i = 0; i < RENDER_CACHE; i++) {
        struct rendering *r = &renderings[i];
        if (r->out && r->hash == h && r->max_segments == max && strcmp(r->policy, policy) == 0 &&
            strcmp(r->hotline, hotline) == 0 && strcmp(r->text, text) == 0) {
            r->used = ++render_clock;
            *coding = r->coding;
            *segments = r->segments;
            return strdup(r->out);
        }
        if (r->used < slot->used)
            slot = r;   /* the least recently used (or an empty one) */
    }
    char *out = sms_render(text, policy, max, app->cfg.hotline_number, coding, segments);
    if (!out)
        return NULL;
    rendering_clear(slot);
    slot->text = strdup(text);
    slot->policy = strdup(policy);
    slot->hotline = strdup(hotline);
    slot->out = strdup(out);
    if (!slot->text || !slot->policy || !slot->hotline || !slot->out) {
        rendering_clear(slot);   /* not kept; the rendering itself is fine */
        return out;
    }
    slot->hash = h;
    slot->max_segments = max;
    slot->coding = *coding;
    slot->segments = *segments;
    slot->used = ++render_clock;
    return out;
}

static int insert_row(hl_app *app, long long message_id, long long contact_id, const char *channel,
                      const char *address, const char *text, int coding, long long now)
{
    sqlite3_stmt *st = store_stmt(app->db, "INSERT INTO outbox(message_id, contact_id, channel, "
                                           "address, text, coding, status, next_at, created_at, "
                                           "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', "
                                           "?7, ?7, ?7)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, message_id);
    sqlite3_bind_int64(st, 2, contact_id);
    store_bind_text(st, 3, channel);
    store_bind_text(st, 4, address);
    store_bind_text(st, 5, text);
    sqlite3_bind_int(st, 6, coding);
    sqlite3_bind_int64(st, 7, now);
    return store_step_done(app->db, st);
}

int outbox_enqueue(hl_app *app, long long contact_id, long long case_id, long long in_reply_to,
                   const char *text, const char *author, long long *message_id)
{
    store *db = app->db;
    sqlite3_stmt *st = store_stmt(db, "SELECT channel, address FROM contacts WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, contact_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        log_error("outbox_enqueue", "contact=%lld error=\"no such contact\"", contact_id);
        return -1;
    }
    char channel[16], *address = strdup((const char *)sqlite3_column_text(st, 1));
    snprintf(channel, sizeof channel, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (!address)
        return -1;

    /* SMS replies may leave through another SMS route (a brandname through
     * eSMS.vn) than the one the citizen's message came in on. */
    const adapter *ad = adapter_by_name(channel);
    const char *route = channel;
    if (ad && ad->is_sms && app->cfg.sms_send_via && strcmp(app->cfg.sms_send_via, "same") != 0) {
        const adapter *via = adapter_by_name(app->cfg.sms_send_via);
        if (via && via->is_sms && via->configured(&app->cfg)) {
            ad = via;
            route = via->name;
        }
    }
    char *rendered = NULL;
    int coding = 0, segments = 0;
    const char *body = text;
    if (ad && ad->is_sms) {
        rendered = render_sms(app, text, &coding, &segments);
        if (!rendered) {
            free(address);
            return -1;
        }
        body = rendered;
    }
    long long now = store_now_ms();
    int rc = -1;
    st = store_stmt(db, "INSERT INTO messages(contact_id, channel, direction, kind, text, status, "
                        "case_id, author, in_reply_to, created_at, updated_at) VALUES "
                        "(?1, ?2, 'out', 'text', ?3, 'queued', ?4, ?5, ?6, ?7, ?7)");
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, contact_id);
    store_bind_text(st, 2, channel);
    store_bind_text(st, 3, body);
    if (case_id > 0)
        sqlite3_bind_int64(st, 4, case_id);
    else
        sqlite3_bind_null(st, 4);
    store_bind_text(st, 5, author);
    if (in_reply_to > 0)
        sqlite3_bind_int64(st, 6, in_reply_to);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, now);
    if (store_step_done(db, st) != 0)
        goto out;
    long long mid = sqlite3_last_insert_rowid(store_db(db));
    if (message_id)
        *message_id = mid;

    if (ad && ad->max_chars > 0 && strlen(body) > ad->max_chars) {
        char *parts[16];
        int np = adapter_split(body, ad->max_chars, parts, 16);
        if (np <= 0)
            goto out;
        rc = 0;
        for (int i = 0; i < np; i++) {
            if (rc == 0)
                rc = insert_row(app, mid, contact_id, route, address, parts[i], coding, now);
            free(parts[i]);
        }
    } else {
        /* One part: the row's text is its message's (NULL, schema v5). */
        rc = insert_row(app, mid, contact_id, route, address, NULL, coding, now);
    }
out:
    free(rendered);
    free(address);
    return rc;
}

long long outbox_depth(hl_app *app)
{
    return store_scalar(app->db, "SELECT count(*) FROM outbox WHERE status = 'pending'");
}
