/* api_proposals.c - the learning loop's last step (admin only).
 *
 * Staff resolving a case may propose that the citizen's words should have
 * matched entry X, or deserve a new entry.  Nothing reaches the corpus until
 * an admin accepts: the words then become a variant of X, or a new entry
 * with those words as its first variant.  Both decisions are audited. */
#include "bot/api.h"
#include "bot/auth.h"
#include "bot/http.h"
#include "bot/kbstore.h"
#include "bot/log.h"

#include <stdlib.h>
#include <string.h>

#define MAX_QUESTION 1000
#define MAX_ANSWER 8000

#define PROPOSAL_COLUMNS                                                                     \
    "SELECT p.id, p.case_id, p.message_id, p.text, p.entry_id, p.question, p.answer, p.status," \
    " p.proposed_by, p.decided_by, p.created_at, p.decided_at, e.question"                     \
    " FROM proposals p LEFT JOIN entries e ON e.id = p.entry_id "

static void add_col(cJSON *o, const char *k, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: cJSON_AddNullToObject(o, k); break;
    case SQLITE_INTEGER: cJSON_AddNumberToObject(o, k, (double)sqlite3_column_int64(st, i)); break;
    default: cJSON_AddStringToObject(o, k, (const char *)sqlite3_column_text(st, i)); break;
    }
}

static cJSON *proposal_row(sqlite3_stmt *st)
{
    static const char *const names[] = {"id", "case_id", "message_id", "text", "entry_id",
                                        "question", "answer", "status", "proposed_by",
                                        "decided_by", "created_at", "decided_at",
                                        "entry_question"};
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < (int)(sizeof names / sizeof names[0]); i++)
        add_col(o, names[i], st, i);
    return o;
}

static cJSON *proposal_json(hl_app *app, long long id)
{
    sqlite3_stmt *st = store_stmt(app->db, PROPOSAL_COLUMNS "WHERE p.id = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? proposal_row(st) : NULL;
    sqlite3_reset(st);
    return o;
}

static void list_proposals(struct evhttp_request *req, hl_app *app)
{
    char *status = http_query(req, "status");
    const char *s = status && *status ? status : "pending";
    if (strcmp(s, "pending") && strcmp(s, "accepted") && strcmp(s, "rejected") && strcmp(s, "all")) {
        free(status);
        http_reply_error(req, 400, "status: expected pending, accepted, rejected or all");
        return;
    }
    sqlite3_stmt *st = store_stmt(app->db, PROPOSAL_COLUMNS
                                  "WHERE ?1 = 'all' OR p.status = ?1 ORDER BY p.id LIMIT 1000");
    if (!st) {
        free(status);
        http_reply_error(req, 500, "database error");
        return;
    }
    sqlite3_bind_text(st, 1, s, -1, SQLITE_TRANSIENT);
    free(status);
    cJSON *a = cJSON_CreateArray();
    while (a && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = proposal_row(st);
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    sqlite3_reset(st);
    api_reply(req, 200, api_wrap("proposals", a));
}

static void h_proposals(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    list_proposals(req, app);
}

struct proposal {
    long long id;
    char status[16];
    char *text, *entry_id, *question, *answer;
};

static void proposal_clear(struct proposal *p)
{
    free(p->text);
    free(p->entry_id);
    free(p->question);
    free(p->answer);
}

static char *col_dup(sqlite3_stmt *st, int i, int *fail)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    char *d = strdup(t);
    if (!d)
        *fail = 1;
    return d;
}

/* 1 found, 0 not found, -1 error. */
static int proposal_load(hl_app *app, long long id, struct proposal *p)
{
    memset(p, 0, sizeof *p);
    sqlite3_stmt *st = store_stmt(app->db, "SELECT status, text, entry_id, question, answer "
                                           "FROM proposals WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), fail = 0;
    if (rc == SQLITE_ROW) {
        p->id = id;
        snprintf(p->status, sizeof p->status, "%s", (const char *)sqlite3_column_text(st, 0));
        p->text = col_dup(st, 1, &fail);
        p->entry_id = col_dup(st, 2, &fail);
        p->question = col_dup(st, 3, &fail);
        p->answer = col_dup(st, 4, &fail);
    }
    sqlite3_reset(st);
    if (fail || (rc != SQLITE_ROW && rc != SQLITE_DONE)) {
        proposal_clear(p);
        return -1;
    }
    return rc == SQLITE_ROW;
}

static int decide(hl_app *app, long long id, const char *status, const char *user)
{
    sqlite3_stmt *st = store_stmt(app->db, "UPDATE proposals SET status = ?1, decided_by = ?2, "
                                           "decided_at = ?3 WHERE id = ?4 AND status = 'pending'");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, store_now_ms());
    sqlite3_bind_int64(st, 4, id);
    return store_step_done(app->db, st) == 0 && sqlite3_changes(store_db(app->db)) == 1 ? 0 : -1;
}

/* The citizen's words become a variant of entry_id (unless already there). */
static int add_variant(hl_app *app, const char *entry_id, const char *text)
{
    sqlite3_stmt *st = store_stmt(app->db, "SELECT 1 FROM variants WHERE entry_id = ?1 AND text = ?2 "
                                           "UNION ALL SELECT 1 FROM entries WHERE id = ?1 "
                                           "AND question = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, entry_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return -1;
    st = store_stmt(app->db, "INSERT INTO variants(entry_id, text) VALUES (?1, ?2)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, entry_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
    if (store_step_done(app->db, st) != 0)
        return -1;
    st = store_stmt(app->db, "UPDATE entries SET updated_at = ?1 WHERE id = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, store_now_ms());
    sqlite3_bind_text(st, 2, entry_id, -1, SQLITE_TRANSIENT);
    return store_step_done(app->db, st);
}

/* accept: optional body {entry_id} or {question, answer} overrides what
 * staff proposed (the admin may correct it before accepting). */
static void accept_proposal(struct evhttp_request *req, hl_app *app, const auth_user *u,
                            struct proposal *p)
{
    cJSON *body;
    if (api_optional_body(req, &body) != 0)
        return;
    const char *entry_id = api_str(body, "entry_id");
    const char *question = api_str(body, "question"), *answer = api_str(body, "answer");
    if (!entry_id && !question && !answer) {
        entry_id = p->entry_id;
        question = p->question;
        answer = p->answer;
    }
    if (entry_id && !*entry_id)
        entry_id = NULL;
    char err[300] = "";
    char *new_id = NULL;
    int status = 500;
    if (entry_id) {
        int ex = api_kb_entry_exists(app->db, entry_id);
        if (ex <= 0) {
            status = ex == 0 ? 400 : 500;
            snprintf(err, sizeof err, ex == 0 ? "entry_id: no such entry" : "database error");
            goto fail;
        }
    } else {
        if (!question || !*question || !answer || !*answer) {
            status = 400;
            snprintf(err, sizeof err, "give entry_id, or question and answer");
            goto fail;
        }
        if (api_kb_check_text("question", question, MAX_QUESTION, err, sizeof err) ||
            api_kb_check_text("answer", answer, MAX_ANSWER, err, sizeof err)) {
            status = 400;
            goto fail;
        }
        if (!(new_id = api_kb_unique_id(app->db, question))) {
            snprintf(err, sizeof err, "cannot make an id");
            goto fail;
        }
    }

    char detail[400];
    if (store_begin(app->db) != 0) {
        snprintf(err, sizeof err, "database busy");
        goto fail;
    }
    int rc;
    if (entry_id) {
        rc = add_variant(app, entry_id, p->text);
        snprintf(detail, sizeof detail, "{\"entry_id\":\"%s\",\"variant\":true}", entry_id);
    } else {
        char *variants[1] = {p->text};
        kb_entry e = {.id = new_id, .question = (char *)question, .answer = (char *)answer,
                      .variants = variants, .n_variants = strcmp(p->text, question) != 0,
                      .enabled = 1};
        rc = kbstore_put_entry(app->db, &e);
        snprintf(detail, sizeof detail, "{\"entry_id\":\"%s\",\"new_entry\":true}", new_id);
    }
    char target[40];
    snprintf(target, sizeof target, "proposal:%lld", p->id);
    if (rc != 0 || decide(app, p->id, "accepted", u->username) != 0 ||
        store_audit(app->db, u->username, "proposal.accept", target, detail) != 0 ||
        store_commit(app->db) != 0) {
        store_rollback(app->db);
        snprintf(err, sizeof err, "cannot accept the proposal");
        goto fail;
    }
    log_info("proposal_accepted", "proposal=%lld entry=%s user=%s", p->id,
             entry_id ? entry_id : new_id, u->username);
    api_kb_reload(app, "proposal.accept");
    cJSON *out = api_wrap("proposal", proposal_json(app, p->id));
    if (out && !cJSON_AddStringToObject(out, "entry_id", entry_id ? entry_id : new_id)) {
        cJSON_Delete(out);
        out = NULL;
    }
    cJSON_Delete(body);
    free(new_id);
    api_reply(req, 200, out);
    return;
fail:
    cJSON_Delete(body);
    free(new_id);
    http_reply_error(req, status, err);
}

/* POST /api/proposals/{id}/accept|reject */
static void h_proposal(struct evhttp_request *req, hl_app *app, const char *tail)
{
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    size_t n = strcspn(tail, "/");
    long long id;
    const char *action = tail[n] == '/' ? tail + n + 1 : "";
    if (api_parse_id(tail, n, &id) != 0 || (strcmp(action, "accept") && strcmp(action, "reject"))) {
        http_reply_error(req, 404, "not found");
        return;
    }
    struct proposal p;
    int found = proposal_load(app, id, &p);
    if (found <= 0) {
        http_reply_error(req, found == 0 ? 404 : 500, found == 0 ? "no such proposal" : "database error");
        return;
    }
    if (strcmp(p.status, "pending") != 0) {
        proposal_clear(&p);
        http_reply_error(req, 409, "the proposal was already decided");
        return;
    }
    if (action[0] == 'a') {
        accept_proposal(req, app, &u, &p);
        proposal_clear(&p);
        return;
    }
    proposal_clear(&p);
    char target[40];
    snprintf(target, sizeof target, "proposal:%lld", id);
    int rc = -1;
    if (store_begin(app->db) == 0) {
        if (decide(app, id, "rejected", u.username) == 0 &&
            store_audit(app->db, u.username, "proposal.reject", target, NULL) == 0 &&
            store_commit(app->db) == 0)
            rc = 0;
        else
            store_rollback(app->db);
    }
    if (rc != 0) {
        http_reply_error(req, 500, "cannot reject the proposal");
        return;
    }
    log_info("proposal_rejected", "proposal=%lld user=%s", id, u.username);
    api_reply(req, 200, api_wrap("proposal", proposal_json(app, id)));
}

int api_register_proposals(hl_app *app)
{
    int rc = 0;
    rc |= http_route(app, HTTP_GET, "/api/proposals", h_proposals);
    rc |= http_route(app, HTTP_POST, "/api/proposals/", h_proposal);
    return rc ? -1 : 0;
}
