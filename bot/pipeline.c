/* pipeline.c - store, decide, acknowledge, reply.
 *
 * One transaction per batch stores the inbound messages (de-duplicated on the
 * provider's id), decides each of them and writes its reply rows; only after
 * its COMMIT are the providers acknowledged, so a message acknowledged is a
 * message stored.  Each decision runs in a savepoint: a message that cannot
 * be decided (a failed statement) is still stored, stays 'received', and
 * pipeline_recover decides it later, so after a crash a message is either
 * not acknowledged, or stored and decided with its reply queued, or stored
 * and waiting for recovery: never answered twice, never forgotten.
 *
 * Deciding inside the storing transaction (rather than in a second one
 * after the acknowledgements) costs each acknowledgement the deciding of
 * its batch, and saves a commit and its fsync per batch: under load, the
 * commits were the larger cost.  For the same reason the outcomes of the
 * replies sent since the last flush are recorded in the same transaction.
 * The batch's texts are matched on the matcher's helper thread (matcher.c)
 * while this thread writes the rows. */
#include "bot/pipeline.h"
#include "bot/log.h"
#include "bot/matcher.h"
#include "bot/metrics.h"
#include "bot/outbox.h"
#include "bot/queue.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages without a provider id (some Kannel setups) are de-duplicated on
 * sender and text within this window. */
#define DEDUP_WINDOW_MS 10000

struct item {
    struct item *next;
    char channel[16];
    enum adapter_event kind;
    char provider_id[128];
    char address[128];
    char *text;
    char media_type[24];
    pipeline_cb cb;
    void *arg;
    long long contact_id, message_id;
    int duplicate;
    int new_contact;            /* this message created its contact */
    struct matcher_job *job;    /* its text's matching, or NULL */
};

struct pipeline {
    hl_app *app;
    struct event *flush_ev;
    struct event *recover_ev;   /* retries messages a failed transaction left undecided */
    int recover_s;              /* its current delay, doubling while it fails */
    struct item *head, **tail;
    size_t pending;
    struct matcher *matcher;    /* shares each batch's matching with a helper thread */
};

static void flush_cb(evutil_socket_t fd, short what, void *arg);
static void recover_cb(evutil_socket_t fd, short what, void *arg);

struct pipeline *pipeline_new(hl_app *app)
{
    struct pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->app = app;
    p->tail = &p->head;
    p->flush_ev = event_new(app->base, -1, 0, flush_cb, p);
    p->recover_ev = evtimer_new(app->base, recover_cb, p);
    p->matcher = matcher_new();   /* without it, the loop thread matches alone */
    if (!p->flush_ev || !p->recover_ev) {
        if (p->flush_ev)
            event_free(p->flush_ev);
        if (p->recover_ev)
            event_free(p->recover_ev);
        matcher_free(p->matcher);
        free(p);
        return NULL;
    }
    /* Lowest of three priorities (main.c; the default is 1): runs after every
     * ready read in this loop turn, which
     * is what gathers concurrent webhooks into one commit. */
    event_priority_set(p->flush_ev, 2);
    return p;
}

static void item_free(struct item *it)
{
    free(it->text);
    free(it);
}

void pipeline_free(struct pipeline *p)
{
    if (!p)
        return;
    for (struct item *it = p->head, *n; it; it = n) {
        n = it->next;
        item_free(it);
    }
    event_free(p->flush_ev);
    event_free(p->recover_ev);
    matcher_free(p->matcher);
    free(p);
}

int pipeline_idle(struct pipeline *p) { return p->pending == 0; }

int pipeline_submit(hl_app *app, const char *channel, const adapter_inbound *ev, pipeline_cb cb,
                    void *arg)
{
    struct pipeline *p = app->pipeline;
    struct item *it = calloc(1, sizeof *it);
    if (!it)
        return -1;
    snprintf(it->channel, sizeof it->channel, "%s", channel);
    it->kind = ev->kind;
    snprintf(it->provider_id, sizeof it->provider_id, "%s", ev->provider_id);
    snprintf(it->address, sizeof it->address, "%s", ev->address);
    snprintf(it->media_type, sizeof it->media_type, "%s", ev->media_type);
    if (ev->text && !(it->text = strdup(ev->text))) {
        free(it);
        return -1;
    }
    it->cb = cb;
    it->arg = arg;
    *p->tail = it;
    p->tail = &it->next;
    if (p->pending++ == 0)
        event_active(p->flush_ev, 0, 0);
    return 0;
}

static const char *kind_name(enum adapter_event k)
{
    switch (k) {
    case AD_TEXT: return "text";
    case AD_MEDIA: return "media";
    case AD_FOLLOW: return "follow";
    case AD_UNFOLLOW: return "unfollow";
    default: return "other";
    }
}

/* One of the two contact statements below, with ?1 channel, ?2 address and
 * ?3 the time bound; NULL if it does not prepare. */
static sqlite3_stmt *contact_stmt(store *db, const char *sql, const char *channel,
                                  const char *address, long long now)
{
    sqlite3_stmt *st = store_stmt(db, sql);
    if (st) {
        store_bind_text(st, 1, channel);
        store_bind_text(st, 2, address);
        sqlite3_bind_int64(st, 3, now);
    }
    return st;
}

/* The contact's id, creating it on its first message (*created = 1), or -1.
 * An insert that does nothing and then an update, rather than one upsert:
 * only this way does the caller learn that the contact is new. */
static long long upsert_contact(store *db, const char *channel, const char *address, long long now,
                                int *created)
{
    sqlite3_stmt *st = contact_stmt(
        db, "INSERT INTO contacts(channel, address, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3) "
            "ON CONFLICT(channel, address) DO NOTHING", channel, address, now);
    if (!st || store_step_done(db, st) != 0)
        return -1;
    *created = sqlite3_changes(store_db(db)) == 1;
    if (*created)
        return sqlite3_last_insert_rowid(store_db(db));
    st = contact_stmt(db, "UPDATE contacts SET last_seen_at = ?3 WHERE channel = ?1 AND address = ?2 "
                          "RETURNING id", channel, address, now);
    if (!st)
        return -1;
    long long id = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return id;
}

/* The id of an already stored copy of this message, 0 if none, -1 on error. */
static long long find_duplicate(store *db, const struct item *it, long long now)
{
    sqlite3_stmt *st;
    if (it->provider_id[0]) {
        st = store_stmt(db, "SELECT id FROM messages WHERE channel = ?1 AND provider_id = ?2 "
                            "AND direction = 'in'");
        if (!st)
            return -1;
        store_bind_text(st, 1, it->channel);
        store_bind_text(st, 2, it->provider_id);
    } else if (it->kind == AD_TEXT && strcmp(it->channel, "web") != 0) {
        st = store_stmt(db, "SELECT id FROM messages WHERE contact_id = ?1 AND direction = 'in' "
                            "AND text = ?2 AND created_at > ?3 ORDER BY id DESC LIMIT 1");
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, it->contact_id);
        store_bind_text(st, 2, it->text);
        sqlite3_bind_int64(st, 3, now - DEDUP_WINDOW_MS);
    } else {
        return 0;
    }
    long long id = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return id;
}

static int store_item(store *db, struct item *it, long long now)
{
    it->contact_id = upsert_contact(db, it->channel, it->address, now, &it->new_contact);
    if (it->contact_id < 0)
        return -1;
    /* With a provider id the unique index finds a retried webhook: the insert
     * does nothing and the stored copy is looked up only then, instead of
     * before every insert. */
    long long dup = it->provider_id[0] ? 0 : find_duplicate(db, it, now);
    if (dup < 0)
        return -1;
    if (dup > 0) {
        it->duplicate = 1;
        it->message_id = dup;
        return 0;
    }
    sqlite3_stmt *st = store_stmt(
        db, "INSERT INTO messages(contact_id, channel, direction, kind, text, provider_id, status, "
            "created_at, updated_at) VALUES (?1, ?2, 'in', ?3, ?4, ?5, 'received', ?6, ?6) "
            "ON CONFLICT DO NOTHING");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, it->contact_id);
    store_bind_text(st, 2, it->channel);
    store_bind_text(st, 3, it->kind == AD_MEDIA && it->media_type[0] ? it->media_type
                                                                       : kind_name(it->kind));
    store_bind_text(st, 4, it->text);
    store_bind_text(st, 5, it->provider_id[0] ? it->provider_id : NULL);
    sqlite3_bind_int64(st, 6, now);
    if (store_step_done(db, st) != 0)
        return -1;
    if (sqlite3_changes(store_db(db)) == 0) {
        dup = find_duplicate(db, it, now);
        if (dup <= 0) {
            log_error("store_duplicate", "channel=%s error=\"conflict without a stored copy\"",
                      it->channel);
            return -1;
        }
        it->duplicate = 1;
        it->message_id = dup;
        return 0;
    }
    it->message_id = sqlite3_last_insert_rowid(store_db(db));
    return 0;
}

/* ---- deciding ----------------------------------------------------------- */

struct inbound {
    long long id, contact_id;
    const char *channel, *kind, *text;
    /* The contact was created by this very message (in this transaction):
     * it has no case, has not opted out and has had no replies, so those
     * three lookups are skipped.  A second message from it in the same batch
     * found it existing, so it does look them up. */
    int new_contact;
    const kb_result *match;     /* its text already matched, or NULL */
};

struct decision {
    const char *decision;   /* answer | escalate | joined_case | optout | event | ... */
    const char *reason;
    const char *entry_id;
    double confidence;
    long long case_id;
};

static int set_message_outcome(store *db, const struct inbound *m, const struct decision *d)
{
    sqlite3_stmt *st = store_stmt(
        db, "UPDATE messages SET status = 'processed', decision = ?2, reason = ?3, entry_id = ?4, "
            "confidence = ?5, case_id = ?6, updated_at = ?7 WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, m->id);
    store_bind_text(st, 2, d->decision);
    store_bind_text(st, 3, d->reason);
    store_bind_text(st, 4, d->entry_id);
    if (d->entry_id)
        sqlite3_bind_double(st, 5, d->confidence);
    else
        sqlite3_bind_null(st, 5);
    if (d->case_id > 0)
        sqlite3_bind_int64(st, 6, d->case_id);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, store_now_ms());
    return store_step_done(db, st);
}

static int contact_flag(store *db, long long contact_id, const char *sql_set, int value)
{
    sqlite3_stmt *st = store_stmt(db, sql_set);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, value);
    sqlite3_bind_int64(st, 2, contact_id);
    return store_step_done(db, st);
}

static int contact_opted_out(store *db, long long contact_id)
{
    sqlite3_stmt *st = store_stmt(db, "SELECT opted_out FROM contacts WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, contact_id);
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

/* Automatic replies this contact had within the window (rate limit). */
static int recent_auto_replies(store *db, long long contact_id, int window_s)
{
    sqlite3_stmt *st = store_stmt(db, "SELECT count(*) FROM messages WHERE contact_id = ?1 AND "
                                      "direction = 'out' AND author = 'bot' AND created_at > ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, contact_id);
    sqlite3_bind_int64(st, 2, store_now_ms() - (long long)window_s * 1000);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    return n;
}

/* The whole message is an opt-out word (HUY, TU CHOI, STOP), with or without
 * marks and case. */
static int is_optout(const char *text)
{
    static const char *const words[] = {"huy", "tu choi", "stop", "huy dang ky", "unsubscribe"};
    /* The longest word, written with marks and some spaces or punctuation
     * around it, stays far below this; longer messages are questions, and
     * not folding them saves a whole pass over every question's text. */
    if (!text || strlen(text) > 64)
        return 0;
    char *f = kb_fold(text);
    int hit = 0;
    if (f) {
        char *s = f;
        while (*s == ' ')
            s++;
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ')
            s[--n] = '\0';
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            hit |= strcmp(s, words[i]) == 0;
    }
    free(f);
    return hit;
}

static char *candidates_json(const kb_result *r)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    for (size_t i = 0; i < r->n_cand; i++) {
        cJSON *c = cJSON_CreateObject();
        if (!c || !cJSON_AddItemToArray(a, c)) {
            cJSON_Delete(c);
            break;
        }
        cJSON_AddStringToObject(c, "entry_id", r->cand[i].entry->id);
        cJSON_AddNumberToObject(c, "confidence", r->cand[i].confidence);
        cJSON_AddNumberToObject(c, "score", r->cand[i].score);
    }
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

/* Escalates to the human queue and sends the holding reply once per case. */
static int escalate(hl_app *app, const struct inbound *m, struct decision *d, const char *reason,
                    const char *cands, const char *holding)
{
    int needs_holding = 0;
    d->decision = "escalate";
    d->reason = reason;
    if (queue_escalate(app, m->contact_id, m->id, reason, cands, &d->case_id, &needs_holding) != 0)
        return -1;
    if (needs_holding && holding && *holding) {
        long long out_id;
        if (outbox_enqueue(app, m->contact_id, d->case_id, m->id, holding, "bot", &out_id) != 0 ||
            queue_mark_holding_sent(app, d->case_id) != 0)
            return -1;
    }
    metrics_escalated(app->metrics, reason);
    return 0;
}

static const char *answer_text(const kb_entry *e, const char *channel)
{
    const adapter *a = adapter_by_name(channel);
    if (a && a->is_sms && e->answer_sms && *e->answer_sms)
        return e->answer_sms;
    return e->answer;
}

static int decide(hl_app *app, const struct inbound *m)
{
    store *db = app->db;
    hl_settings *cfg = &app->settings;
    struct decision d = {.decision = "event"};
    long long case_id = 0, out_id;

    if (strcmp(m->kind, "follow") == 0 || strcmp(m->kind, "unfollow") == 0) {
        if (contact_flag(db, m->contact_id, "UPDATE contacts SET followed = ?1 WHERE id = ?2",
                         strcmp(m->kind, "follow") == 0) != 0)
            return -1;
        return set_message_outcome(db, m, &d);
    }

    int state = m->new_contact ? 0 : queue_contact_state(app, m->contact_id, &case_id);
    if (state < 0)
        return -1;

    if (strcmp(m->kind, "text") != 0) {
        /* Pictures, stickers, voice: staff can look; the citizen is asked
         * (once per case) to write the question as text. */
        if (state == 2) {
            d.decision = "joined_case";
            d.case_id = case_id;
            if (queue_attach(app, case_id, m->id) != 0)
                return -1;
        } else if (escalate(app, m, &d, "non_text", NULL, cfg->non_text_reply) != 0) {
            return -1;
        }
        return set_message_outcome(db, m, &d);
    }

    if (is_optout(m->text)) {
        if (contact_flag(db, m->contact_id, "UPDATE contacts SET opted_out = ?1 WHERE id = ?2", 1) != 0 ||
            outbox_enqueue(app, m->contact_id, 0, m->id, cfg->optout_text, "bot", &out_id) != 0)
            return -1;
        d.decision = "optout";
        return set_message_outcome(db, m, &d);
    }
    /* Any later question re-enables automatic messages. */
    if (!m->new_contact && contact_opted_out(db, m->contact_id) == 1 &&
        contact_flag(db, m->contact_id, "UPDATE contacts SET opted_out = ?1 WHERE id = ?2", 0) != 0)
        return -1;

    if (state == 2) {
        /* A staff member has the conversation: the bot stays silent. */
        d.decision = "joined_case";
        d.case_id = case_id;
        if (queue_attach(app, case_id, m->id) != 0)
            return -1;
        metrics_escalated(app->metrics, "case_claimed");
        return set_message_outcome(db, m, &d);
    }

    int recent = m->new_contact ? 0 : recent_auto_replies(db, m->contact_id, cfg->limit_window);
    if (recent < 0)
        return -1;
    if (recent >= cfg->limit_auto_replies) {
        if (escalate(app, m, &d, "rate_limited", NULL, cfg->holding_text) != 0)
            return -1;
        return set_message_outcome(db, m, &d);
    }

    kb_result r;
    if (m->match)
        r = *m->match;
    else
        kb_match(app->kb, m->text ? m->text : "", &cfg->kb, &r);
    if (r.action == KB_ANSWER && r.n_cand > 0) {
        const kb_entry *e = r.cand[0].entry;
        if (outbox_enqueue(app, m->contact_id, state == 1 ? case_id : 0, m->id,
                           answer_text(e, m->channel), "bot", &out_id) != 0)
            return -1;
        d.decision = "answer";
        d.entry_id = e->id;
        d.confidence = r.confidence;
        metrics_auto_answered(app->metrics, m->channel);
        return set_message_outcome(db, m, &d);
    }
    char *cands = candidates_json(&r);
    if (r.n_cand > 0) {
        d.entry_id = r.cand[0].entry->id;
        d.confidence = r.confidence;
    }
    int rc = escalate(app, m, &d, kb_reason_name(r.reason), cands, cfg->holding_text);
    free(cands);
    if (rc != 0)
        return -1;
    return set_message_outcome(db, m, &d);
}

/* Decides m in a savepoint of the caller's transaction.  -1 undoes what the
 * decision wrote: m stays stored and 'received', for pipeline_recover, and
 * the rest of the transaction stands. */
static int decide_in_savepoint(hl_app *app, const struct inbound *m)
{
    if (store_run(app->db, "SAVEPOINT decide") != 0)
        return -1;
    if (decide(app, m) == 0 && store_run(app->db, "RELEASE decide") == 0)
        return 0;
    log_error("decide_failed", "message=%lld error=\"%s\"", m->id, sqlite3_errmsg(store_db(app->db)));
    store_run(app->db, "ROLLBACK TO decide");
    store_run(app->db, "RELEASE decide");
    return -1;
}

/* Decides one stored message by id, read back from the database (recovery),
 * inside the caller's transaction.  0 also when it is no longer 'received'. */
static int decide_id(hl_app *app, long long id)
{
    sqlite3_stmt *st = store_stmt(app->db, "SELECT contact_id, channel, kind, text FROM messages "
                                           "WHERE id = ?1 AND status = 'received'");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return 0;
    }
    char *channel = strdup((const char *)sqlite3_column_text(st, 1));
    char *kind = strdup((const char *)sqlite3_column_text(st, 2));
    const unsigned char *t = sqlite3_column_text(st, 3);
    char *text = t ? strdup((const char *)t) : NULL;
    struct inbound m = {.id = id, .contact_id = sqlite3_column_int64(st, 0)};
    sqlite3_reset(st);
    int rc = -1;
    if (channel && kind && (text || !t)) {
        m.channel = channel;
        m.kind = kind;
        m.text = text;
        rc = decide_in_savepoint(app, &m);
    }
    free(channel);
    free(kind);
    free(text);
    return rc;
}

/* Decides a message just stored, from the batch's own copy, inside the
 * storing transaction. */
static int decide_item(hl_app *app, const struct item *it)
{
    struct inbound m = {.id = it->message_id, .contact_id = it->contact_id,
                        .channel = it->channel, .text = it->text, .new_contact = it->new_contact,
                        .match = it->job ? it->job->out : NULL,
                        .kind = it->kind == AD_MEDIA && it->media_type[0] ? it->media_type
                                                                          : kind_name(it->kind)};
    return decide_in_savepoint(app, &m);
}

/* Stored but undecided messages (a statement failed: disk full, I/O error)
 * are retried from the loop until the database takes them, not only at the
 * next start. */
static void schedule_recover(struct pipeline *p)
{
    if (p && !evtimer_pending(p->recover_ev, NULL)) {
        struct timeval tv = {2, 0};
        evtimer_add(p->recover_ev, &tv);
    }
}

/* Offers the batch's texts to the matcher, whose helper thread matches them
 * while this one writes the batch's rows and decides the first messages.
 * Returns the number of jobs; a failed allocation only means each decision
 * matches its own text. */
static size_t offer_texts(struct pipeline *p, struct item *batch, struct matcher_job **jobs,
                          kb_result **results)
{
    size_t n = 0;
    for (struct item *it = batch; it; it = it->next)
        n += it->kind == AD_TEXT;
    *jobs = n ? malloc(n * sizeof **jobs) : NULL;
    *results = n ? malloc(n * sizeof **results) : NULL;
    if (!*jobs || !*results)
        return 0;
    size_t j = 0;
    for (struct item *it = batch; it; it = it->next)
        if (it->kind == AD_TEXT) {
            (*jobs)[j].text = it->text ? it->text : "";
            (*jobs)[j].out = &(*results)[j];
            atomic_init(&(*jobs)[j].done, 0);
            it->job = &(*jobs)[j++];
        }
    matcher_start(p->matcher, p->app->kb, &p->app->settings.kb, *jobs, n);
    return n;
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pipeline *p = arg;
    hl_app *app = p->app;
    struct item *batch = p->head;
    p->head = NULL;
    p->tail = &p->head;
    p->pending = 0;
    if (!batch)
        return;

    struct matcher_job *jobs = NULL;
    kb_result *results = NULL;
    size_t n_text = offer_texts(p, batch, &jobs, &results);

    long long now = store_now_ms();
    int undecided = 0;
    int rc = store_begin(app->db);
    for (struct item *it = batch; rc == 0 && it; it = it->next)
        rc = store_item(app->db, it, now);
    for (struct item *it = batch; rc == 0 && it; it = it->next) {
        if (it->duplicate)
            continue;
        if (it->job)
            matcher_get(p->matcher, app->kb, &app->settings.kb, jobs, n_text,
                        (size_t)(it->job - jobs));
        if (decide_item(app, it) != 0)
            undecided++;
    }
    matcher_finish(p->matcher, app->kb, &app->settings.kb, jobs, n_text);
    if (rc == 0) {
        outbox_record_in(app->outbox);   /* replies' outcomes share this commit */
        rc = store_commit(app->db);
    }
    if (rc != 0) {
        store_rollback(app->db);
        log_error("store_failed", "error=\"%s\"", sqlite3_errmsg(store_db(app->db)));
    }
    outbox_record_settle(app->outbox, rc);
    free(jobs);
    free(results);
    if (rc == 0 && undecided)
        schedule_recover(p);
    for (struct item *it = batch, *next; it; it = next) {
        next = it->next;
        if (rc == 0 && !it->duplicate)
            metrics_message_in(app->metrics, it->channel);
        it->cb(it->arg, rc, it->message_id, it->duplicate);
        item_free(it);
    }
    if (rc == 0)
        outbox_kick(app->outbox);
}

static void recover_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pipeline *p = arg;
    if (p->app->stopping)
        return;
    int rc = pipeline_recover(p->app);
    outbox_kick(p->app->outbox);
    if (rc < 0) {
        /* 2, 4, 8 ... 60 s while something stays undecided. */
        p->recover_s = p->recover_s ? (p->recover_s * 2 > 60 ? 60 : p->recover_s * 2) : 4;
        struct timeval tv = {p->recover_s, 0};
        evtimer_add(p->recover_ev, &tv);
    } else {
        p->recover_s = 0;
    }
}

/* Decides every message left 'received' (a failed decision, a database from
 * an older version), 256 per transaction.  Each decision has its savepoint,
 * so one message that cannot be decided does not keep the others from their
 * answers; it is counted and the whole is reported as -1 (retried later). */
int pipeline_recover(hl_app *app)
{
    long long ids[256], last = 0;
    int total = 0, failed = 0;
    for (;;) {
        sqlite3_stmt *st = store_stmt(app->db, "SELECT id FROM messages WHERE status = 'received' "
                                               "AND direction = 'in' AND id > ?1 ORDER BY id LIMIT 256");
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, last);
        size_t n = 0;
        while (n < 256 && sqlite3_step(st) == SQLITE_ROW)
            ids[n++] = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (n == 0)
            break;
        last = ids[n - 1];
        int done = 0;
        if (store_begin(app->db) == 0) {
            for (size_t i = 0; i < n; i++)
                done += decide_id(app, ids[i]) == 0;
            if (store_commit(app->db) != 0)
                done = 0;
        }
        store_rollback(app->db);   /* only if still open: the begin or commit failed */
        total += done;
        failed += (int)n - done;
    }
    if (total)
        log_info("recovered", "messages=%d", total);
    if (failed) {
        log_error("recover_incomplete", "undecided=%d", failed);
        schedule_recover(app->pipeline);   /* at start too, where main calls this */
        return -1;
    }
    return total;
}
