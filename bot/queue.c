/* queue.c - the human queue: escalation cases and what staff do with them.
 *
 * A case belongs to one contact and is the only unresolved one for that
 * contact: escalated messages open it or join it.  While it is claimed the
 * pipeline keeps the bot silent for that contact; resolving hands the
 * citizen back to the bot.  The pipeline calls queue_escalate/queue_attach
 * inside its transaction, so their `case` events are published from a
 * zero-delay timer, after the commit; the console's own actions publish
 * right after their commit. */
#include "bot/queue.h"
#include "bot/events.h"
#include "bot/log.h"
#include "bot/outbox.h"

#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#define MAX_REPLY_BYTES 8000
#define MAX_PROPOSAL_BYTES 8000

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Adds a nullable text column as a string or null. */
static void add_text(cJSON *o, const char *k, sqlite3_stmt *st, int i)
{
    const char *t = col_text(st, i);
    if (t)
        cJSON_AddStringToObject(o, k, t);
    else
        cJSON_AddNullToObject(o, k);
}

static void add_int(cJSON *o, const char *k, sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, (double)sqlite3_column_int64(st, i));
}

/* ---- called by the pipeline --------------------------------------------- */

struct deferred {
    hl_app *app;
    long long case_id;
};

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct deferred *d = arg;
    queue_notify(d->app, d->case_id);
    free(d);
}

/* Publishes after the current callback returns (and so after the caller's
 * commit).  Without an event loop (tests, CLI) it publishes nothing. */
static void notify_later(hl_app *app, long long case_id)
{
    if (!app->base || !app->events)
        return;
    struct deferred *d = malloc(sizeof *d);
    if (!d)
        return;
    d->app = app;
    d->case_id = case_id;
    struct timeval tv = {0, 0};
    if (event_base_once(app->base, -1, EV_TIMEOUT, on_deferred, d, &tv) != 0)
        free(d);
}

static int link_message(hl_app *app, long long case_id, long long message_id)
{
    long long now = store_now_ms();
    sqlite3_stmt *st = store_stmt(app->db, "UPDATE messages SET case_id = ?1, updated_at = ?2 "
                                           "WHERE id = ?3");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, message_id);
    if (store_step_done(app->db, st) != 0)
        return -1;
    st = store_stmt(app->db, "UPDATE cases SET updated_at = ?1 WHERE id = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, case_id);
    return store_step_done(app->db, st);
}

int queue_contact_state(hl_app *app, long long contact_id, long long *case_id)
{
    sqlite3_stmt *st = store_stmt(app->db, "SELECT id, status FROM cases WHERE contact_id = ?1 "
                                           "AND status IN ('open','claimed') "
                                           "ORDER BY id DESC LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, contact_id);
    int rc = sqlite3_step(st), state = 0;
    if (rc == SQLITE_ROW) {
        if (case_id)
            *case_id = sqlite3_column_int64(st, 0);
        state = strcmp(col_text(st, 1), "claimed") == 0 ? 2 : 1;
    } else if (rc != SQLITE_DONE) {
        state = -1;
    }
    sqlite3_reset(st);
    return state;
}

int queue_escalate(hl_app *app, long long contact_id, long long message_id, const char *reason,
                   const char *candidates_json, long long *case_id, int *needs_holding)
{
    long long id = 0;
    sqlite3_stmt *st = store_stmt(app->db, "SELECT id, holding_sent FROM cases "
                                           "WHERE contact_id = ?1 AND status IN ('open','claimed') "
                                           "ORDER BY id DESC LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, contact_id);
    int rc = sqlite3_step(st), holding_sent = 0;
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        holding_sent = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;

    long long now = store_now_ms();
    if (id) {
        /* Joining: keep the reason the case was opened for; fill in the
         * candidates if the case had none (e.g. opened for a picture). */
        if (candidates_json) {
            st = store_stmt(app->db, "UPDATE cases SET candidates = ?1 "
                                     "WHERE id = ?2 AND candidates IS NULL");
            if (!st)
                return -1;
            sqlite3_bind_text(st, 1, candidates_json, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, id);
            if (store_step_done(app->db, st) != 0)
                return -1;
        }
    } else {
        st = store_stmt(app->db, "INSERT INTO cases(contact_id, status, reason, candidates, "
                                 "opened_at, updated_at) VALUES (?1, 'open', ?2, ?3, ?4, ?4)");
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, contact_id);
        store_bind_text(st, 2, reason && *reason ? reason : "no_match");
        store_bind_text(st, 3, candidates_json);
        sqlite3_bind_int64(st, 4, now);
        if (store_step_done(app->db, st) != 0)
            return -1;
        id = sqlite3_last_insert_rowid(store_db(app->db));
        log_info("case_opened", "case=%lld reason=%s", id, reason ? reason : "no_match");
    }
    if (link_message(app, id, message_id) != 0)
        return -1;
    if (case_id)
        *case_id = id;
    if (needs_holding)
        *needs_holding = !holding_sent;
    notify_later(app, id);
    return 0;
}

int queue_mark_holding_sent(hl_app *app, long long case_id)
{
    sqlite3_stmt *st = store_stmt(app->db, "UPDATE cases SET holding_sent = 1 WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, case_id);
    return store_step_done(app->db, st);
}

int queue_attach(hl_app *app, long long case_id, long long message_id)
{
    if (link_message(app, case_id, message_id) != 0)
        return -1;
    notify_later(app, case_id);
    return 0;
}

void queue_notify(hl_app *app, long long case_id)
{
    if (!app->events)
        return;
    cJSON *c = queue_case_json(app, case_id, 0);
    if (c)
        events_publish(app, "case", c);
}

/* ---- reading ------------------------------------------------------------ */

/* A case's messages are all its contact's; the contact_id term leaves SQLite
 * the choice of messages_case or messages_contact_out. */
#define CASE_COLUMNS                                                                            \
    "SELECT c.id, c.status, c.reason, c.contact_id, ct.channel, ct.address, c.opened_at,"     \
    " c.claimed_by, c.claimed_at, c.first_reply_at, c.resolved_at, c.resolved_by,"           \
    " c.candidates, ct.display_name, c.updated_at,"                                           \
    " (SELECT m.text FROM messages m WHERE m.contact_id = c.contact_id AND m.case_id = c.id"  \
    "  AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1),"                                   \
    " (SELECT COUNT(*) FROM messages m WHERE m.contact_id = c.contact_id"                      \
    "  AND m.case_id = c.id)"                                                                 \
    " FROM cases c JOIN contacts ct ON ct.id = c.contact_id "

static cJSON *case_row(sqlite3_stmt *st, long long now)
{
    cJSON *o = cJSON_CreateObject(), *ct = cJSON_CreateObject();
    if (!o || !ct || !cJSON_AddItemToObject(o, "contact", ct)) {
        cJSON_Delete(o);
        cJSON_Delete(ct);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    add_text(o, "status", st, 1);
    add_text(o, "reason", st, 2);
    add_text(o, "channel", st, 4);
    cJSON_AddNumberToObject(ct, "id", (double)sqlite3_column_int64(st, 3));
    add_text(ct, "channel", st, 4);
    add_text(ct, "address", st, 5);
    add_text(ct, "display_name", st, 13);
    add_int(o, "opened_at", st, 6);
    add_text(o, "claimed_by", st, 7);
    add_int(o, "claimed_at", st, 8);
    add_int(o, "first_reply_at", st, 9);
    add_int(o, "resolved_at", st, 10);
    add_text(o, "resolved_by", st, 11);
    add_int(o, "updated_at", st, 14);
    add_text(o, "last_text", st, 15);
    cJSON_AddNumberToObject(o, "message_count", (double)sqlite3_column_int64(st, 16));
    long long opened = sqlite3_column_int64(st, 6);
    long long end = sqlite3_column_type(st, 10) == SQLITE_NULL ? now : sqlite3_column_int64(st, 10);
    cJSON_AddNumberToObject(o, "waiting_ms", (double)(end > opened ? end - opened : 0));
    return o;
}

/* The stored candidates [{entry_id, confidence}] with the entries' current
 * question and answers, for one-click insertion. */
static cJSON *candidates(hl_app *app, const char *json)
{
    cJSON *out = cJSON_CreateArray();
    cJSON *in = json ? cJSON_Parse(json) : NULL;
    if (!out) {
        cJSON_Delete(in);
        return NULL;
    }
    const cJSON *list = cJSON_IsArray(in) ? in : NULL, *c;
    cJSON_ArrayForEach(c, list) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "entry_id");
        const cJSON *conf = cJSON_GetObjectItemCaseSensitive(c, "confidence");
        if (!cJSON_IsString(id))
            continue;
        sqlite3_stmt *st = store_stmt(app->db, "SELECT question, answer, answer_sms FROM entries "
                                               "WHERE id = ?1");
        if (!st)
            break;
        sqlite3_bind_text(st, 1, id->valuestring, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            if (o && cJSON_AddItemToArray(out, o)) {
                cJSON_AddStringToObject(o, "entry_id", id->valuestring);
                add_text(o, "question", st, 0);
                cJSON_AddNumberToObject(o, "confidence", cJSON_IsNumber(conf) ? conf->valuedouble : 0);
                add_text(o, "answer", st, 1);
                add_text(o, "answer_sms", st, 2);
            } else {
                cJSON_Delete(o);
            }
        }
        sqlite3_reset(st);
    }
    cJSON_Delete(in);
    return out;
}

cJSON *queue_case_json(hl_app *app, long long case_id, int full)
{
    sqlite3_stmt *st = store_stmt(app->db, CASE_COLUMNS "WHERE c.id = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, case_id);
    cJSON *o = NULL;
    char *cands = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        o = case_row(st, store_now_ms());
        if (full && col_text(st, 12))
            cands = strdup(col_text(st, 12));
    }
    sqlite3_reset(st);
    if (o && full) {
        cJSON *a = candidates(app, cands);
        if (!a || !cJSON_AddItemToObject(o, "candidates", a)) {
            cJSON_Delete(a);
            cJSON_Delete(o);
            o = NULL;
        }
    }
    free(cands);
    return o;
}

cJSON *queue_list(hl_app *app, const char *status, int *bad)
{
    if (bad)
        *bad = 0;
    if (!status || !*status)
        status = "active";
    if (strcmp(status, "active") && strcmp(status, "open") && strcmp(status, "claimed") &&
        strcmp(status, "resolved")) {
        if (bad)
            *bad = 1;
        return NULL;
    }
    /* Unresolved cases are few: all of them.  Resolved ones: the 200 most
     * recently resolved.  Either way the answer is oldest first. */
    sqlite3_stmt *st = store_stmt(
        app->db, CASE_COLUMNS
        "WHERE c.id IN (SELECT id FROM cases WHERE "
        " (?1 = 'active' AND status IN ('open','claimed')) OR status = ?1"
        " ORDER BY CASE WHEN status = 'resolved' THEN -resolved_at ELSE opened_at END LIMIT 1000)"
        " ORDER BY c.opened_at, c.id");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
    cJSON *a = cJSON_CreateArray();
    long long now = store_now_ms();
    int rc;
    while (a && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = case_row(st, now);
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    sqlite3_reset(st);
    return a;
}

#define MESSAGE_COLUMNS                                                                       \
    "SELECT id, direction, channel, text, created_at, author, status, error, decision, reason," \
    " entry_id, confidence, case_id, kind, in_reply_to FROM messages "

static cJSON *message_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    add_text(o, "direction", st, 1);
    add_text(o, "channel", st, 2);
    add_text(o, "text", st, 3);
    add_int(o, "created_at", st, 4);
    add_text(o, "author", st, 5);
    add_text(o, "status", st, 6);
    add_text(o, "error", st, 7);
    add_text(o, "decision", st, 8);
    add_text(o, "reason", st, 9);
    add_text(o, "entry_id", st, 10);
    if (sqlite3_column_type(st, 11) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "confidence");
    else
        cJSON_AddNumberToObject(o, "confidence", sqlite3_column_double(st, 11));
    add_int(o, "case_id", st, 12);
    add_text(o, "kind", st, 13);
    add_int(o, "in_reply_to", st, 14);
    return o;
}

cJSON *queue_messages(hl_app *app, long long contact_id, int limit)
{
    sqlite3_stmt *st = store_stmt(app->db, "SELECT * FROM (" MESSAGE_COLUMNS
                                           "WHERE contact_id = ?1 ORDER BY id DESC LIMIT ?2) "
                                           "ORDER BY id");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, contact_id);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : 200);
    cJSON *a = cJSON_CreateArray();
    while (a && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = message_row(st);
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    sqlite3_reset(st);
    return a;
}

cJSON *queue_message_json(hl_app *app, long long message_id)
{
    sqlite3_stmt *st = store_stmt(app->db, MESSAGE_COLUMNS "WHERE id = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, message_id);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? message_row(st) : NULL;
    sqlite3_reset(st);
    return o;
}

/* ---- actions ------------------------------------------------------------ */

struct case_state {
    long long contact_id;
    char status[16];
    char claimed_by[80];        /* "" when nobody */
};

static int load_state(hl_app *app, long long id, struct case_state *cs, char *err, size_t errlen)
{
    sqlite3_stmt *st = store_stmt(app->db, "SELECT contact_id, status, claimed_by FROM cases "
                                           "WHERE id = ?1");
    if (!st) {
        snprintf(err, errlen, "database error");
        return QUEUE_ERROR;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        cs->contact_id = sqlite3_column_int64(st, 0);
        snprintf(cs->status, sizeof cs->status, "%s", col_text(st, 1));
        snprintf(cs->claimed_by, sizeof cs->claimed_by, "%s",
                 col_text(st, 2) ? col_text(st, 2) : "");
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "no case %lld", id);
        return QUEUE_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
        snprintf(err, errlen, "database error");
        return QUEUE_ERROR;
    }
    return QUEUE_OK;
}

/* Common checks: the case exists, is not resolved, and is not held by
 * another member of staff (admins may act on any case). */
static int check_active(hl_app *app, long long id, const char *user, int is_admin,
                        struct case_state *cs, char *err, size_t errlen)
{
    int rc = load_state(app, id, cs, err, errlen);
    if (rc != QUEUE_OK)
        return rc;
    if (strcmp(cs->status, "resolved") == 0) {
        snprintf(err, errlen, "case %lld is already resolved", id);
        return QUEUE_CONFLICT;
    }
    if (!is_admin && strcmp(cs->status, "claimed") == 0 && strcmp(cs->claimed_by, user) != 0) {
        snprintf(err, errlen, "case %lld is claimed by %s", id, cs->claimed_by);
        return QUEUE_CONFLICT;
    }
    return QUEUE_OK;
}

static int finish(hl_app *app, long long id, int rc, char *err, size_t errlen)
{
    if (rc != QUEUE_OK) {
        store_rollback(app->db);
        return rc;
    }
    if (store_commit(app->db) != 0) {
        store_rollback(app->db);
        snprintf(err, errlen, "database error");
        return QUEUE_ERROR;
    }
    queue_notify(app, id);
    return QUEUE_OK;
}

static int begin(hl_app *app, char *err, size_t errlen)
{
    if (store_begin(app->db) != 0) {
        snprintf(err, errlen, "database busy");
        return QUEUE_ERROR;
    }
    return QUEUE_OK;
}

/* Runs one UPDATE of a case whose parameters are always ?1 the member of
 * staff, ?2 the time now and ?3 the case id (a statement uses those it
 * needs).  QUEUE_OK, or QUEUE_ERROR with err set. */
static int update_case(hl_app *app, const char *sql, long long case_id, const char *user,
                       char *err, size_t errlen)
{
    sqlite3_stmt *st = store_stmt(app->db, sql);
    int rc = QUEUE_ERROR;
    if (st) {
        sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, store_now_ms());
        sqlite3_bind_int64(st, 3, case_id);
        rc = store_step_done(app->db, st) == 0 ? QUEUE_OK : QUEUE_ERROR;
    }
    if (rc == QUEUE_ERROR)
        snprintf(err, errlen, "database error");
    return rc;
}

int queue_claim(hl_app *app, long long case_id, const char *user, int is_admin, char *err,
                size_t errlen)
{
    struct case_state cs;
    if (begin(app, err, errlen) != QUEUE_OK)
        return QUEUE_ERROR;
    /* A claim is never taken over silently, not even by an admin: the
     * holder must release it first.  So the checks run as for staff. */
    (void)is_admin;
    int rc = check_active(app, case_id, user, 0, &cs, err, errlen);
    if (rc == QUEUE_OK && strcmp(cs.status, "open") == 0) {
        rc = update_case(app, "UPDATE cases SET status = 'claimed', "
                              "claimed_by = ?1, claimed_at = ?2, updated_at = ?2 "
                              "WHERE id = ?3 AND status = 'open'",
                         case_id, user, err, errlen);
        if (rc == QUEUE_OK)
            log_info("case_claimed", "case=%lld user=%s", case_id, user);
    }
    return finish(app, case_id, rc, err, errlen);
}

int queue_release(hl_app *app, long long case_id, const char *user, int is_admin, char *err,
                  size_t errlen)
{
    struct case_state cs;
    if (begin(app, err, errlen) != QUEUE_OK)
        return QUEUE_ERROR;
    int rc = check_active(app, case_id, user, is_admin, &cs, err, errlen);
    if (rc == QUEUE_OK && strcmp(cs.status, "claimed") == 0) {
        rc = update_case(app, "UPDATE cases SET status = 'open', "
                              "claimed_by = NULL, claimed_at = NULL, "
                              "updated_at = ?2 WHERE id = ?3",
                         case_id, user, err, errlen);
        if (rc == QUEUE_OK)
            log_info("case_released", "case=%lld user=%s", case_id, user);
    }
    return finish(app, case_id, rc, err, errlen);
}

static const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Inserts the proposal of a resolve: the citizen's words (message_id, or
 * the case's latest inbound text) should match entry_id, or become a new
 * entry {question, answer}. */
static int add_proposal(hl_app *app, long long case_id, const struct case_state *cs,
                        const char *user, const cJSON *p, char *err, size_t errlen)
{
    if (!cJSON_IsObject(p)) {
        snprintf(err, errlen, "proposal: expected an object");
        return QUEUE_BAD;
    }
    const char *entry_id = json_str(p, "entry_id");
    const char *question = json_str(p, "question"), *answer = json_str(p, "answer");
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(p, "message_id");
    if (entry_id && !*entry_id)
        entry_id = NULL;
    if (!entry_id && (!question || !*question || !answer || !*answer)) {
        snprintf(err, errlen, "proposal: give entry_id, or question and answer");
        return QUEUE_BAD;
    }
    if ((question && strlen(question) > MAX_PROPOSAL_BYTES) ||
        (answer && strlen(answer) > MAX_PROPOSAL_BYTES)) {
        snprintf(err, errlen, "proposal: text too long");
        return QUEUE_BAD;
    }
    if (mid && !cJSON_IsNull(mid) && !cJSON_IsNumber(mid)) {
        snprintf(err, errlen, "proposal: message_id must be a number");
        return QUEUE_BAD;
    }
    sqlite3_stmt *st;
    if (entry_id) {
        st = store_stmt(app->db, "SELECT 1 FROM entries WHERE id = ?1");
        if (!st)
            return QUEUE_ERROR;
        sqlite3_bind_text(st, 1, entry_id, -1, SQLITE_TRANSIENT);
        int found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        if (!found) {
            snprintf(err, errlen, "proposal: no entry \"%.80s\"", entry_id);
            return QUEUE_BAD;
        }
    }
    /* The citizen's words: the given message of this contact, or the latest
     * inbound text of the case. */
    long long message_id = cJSON_IsNumber(mid) ? (long long)mid->valuedouble : 0;
    if (message_id)
        st = store_stmt(app->db, "SELECT id, text FROM messages WHERE id = ?1 AND contact_id = ?2 "
                                 "AND direction = 'in' AND text IS NOT NULL");
    else
        st = store_stmt(app->db, "SELECT id, text FROM messages WHERE case_id = ?3 "
                                 "AND contact_id = ?2 AND direction = 'in' AND text IS NOT NULL "
                                 "AND ?1 = 0 ORDER BY id DESC LIMIT 1");
    if (!st)
        return QUEUE_ERROR;
    sqlite3_bind_int64(st, 1, message_id);
    sqlite3_bind_int64(st, 2, cs->contact_id);
    if (!message_id)
        sqlite3_bind_int64(st, 3, case_id);
    char *text = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        message_id = sqlite3_column_int64(st, 0);
        text = strdup(col_text(st, 1));
    }
    sqlite3_reset(st);
    if (!text) {
        if (message_id)
            snprintf(err, errlen, "proposal: message %lld is not a text from this citizen",
                     message_id);
        else
            snprintf(err, errlen, "proposal: the case has no text message");
        return QUEUE_BAD;
    }
    st = store_stmt(app->db, "INSERT INTO proposals(case_id, message_id, text, entry_id, question, "
                             "answer, status, proposed_by, created_at) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8)");
    int rc = QUEUE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, case_id);
        sqlite3_bind_int64(st, 2, message_id);
        sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
        store_bind_text(st, 4, entry_id);
        store_bind_text(st, 5, entry_id ? NULL : question);
        store_bind_text(st, 6, entry_id ? NULL : answer);
        sqlite3_bind_text(st, 7, user, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 8, store_now_ms());
        rc = store_step_done(app->db, st) == 0 ? QUEUE_OK : QUEUE_ERROR;
    }
    free(text);
    if (rc != QUEUE_OK)
        snprintf(err, errlen, "database error");
    return rc;
}

int queue_resolve(hl_app *app, long long case_id, const char *user, int is_admin,
                  const cJSON *proposal, char *err, size_t errlen)
{
    struct case_state cs;
    if (begin(app, err, errlen) != QUEUE_OK)
        return QUEUE_ERROR;
    int rc = check_active(app, case_id, user, is_admin, &cs, err, errlen);
    if (rc == QUEUE_OK && proposal && !cJSON_IsNull(proposal))
        rc = add_proposal(app, case_id, &cs, user, proposal, err, errlen);
    if (rc == QUEUE_OK) {
        rc = update_case(app, "UPDATE cases SET status = 'resolved', "
                              "resolved_at = ?2, resolved_by = ?1, "
                              "updated_at = ?2 WHERE id = ?3",
                         case_id, user, err, errlen);
        if (rc == QUEUE_OK)
            log_info("case_resolved", "case=%lld user=%s proposal=%d", case_id, user,
                     proposal && !cJSON_IsNull(proposal));
    }
    return finish(app, case_id, rc, err, errlen);
}

int queue_reply(hl_app *app, long long case_id, const char *user, int is_admin, const char *text,
                long long *message_id, char *err, size_t errlen)
{
    size_t n = text ? strlen(text) : 0;
    size_t blank = text ? strspn(text, " \t\r\n") : 0;
    if (n == 0 || blank == n) {
        snprintf(err, errlen, "text: empty");
        return QUEUE_BAD;
    }
    if (n > MAX_REPLY_BYTES) {
        snprintf(err, errlen, "text: at most %d bytes", MAX_REPLY_BYTES);
        return QUEUE_BAD;
    }
    struct case_state cs;
    if (begin(app, err, errlen) != QUEUE_OK)
        return QUEUE_ERROR;
    int rc = check_active(app, case_id, user, is_admin, &cs, err, errlen);
    if (rc == QUEUE_OK &&
        outbox_enqueue(app, cs.contact_id, case_id, 0, text, user, message_id) != 0) {
        snprintf(err, errlen, "cannot queue the reply");
        rc = QUEUE_ERROR;
    }
    /* Answering an open case takes it: the bot must stay silent now. */
    if (rc == QUEUE_OK)
        rc = update_case(app, "UPDATE cases SET status = 'claimed',"
                              " claimed_by = COALESCE(claimed_by, ?1),"
                              " claimed_at = COALESCE(claimed_at, ?2),"
                              " first_reply_at = COALESCE(first_reply_at, ?2), updated_at = ?2"
                              " WHERE id = ?3",
                         case_id, user, err, errlen);
    rc = finish(app, case_id, rc, err, errlen);
    if (rc == QUEUE_OK) {
        log_info("case_reply", "case=%lld user=%s message=%lld", case_id, user, *message_id);
        if (app->outbox)
            outbox_kick(app->outbox);
    }
    return rc;
}
