/* api_kb.c - the knowledge base through the console (admin only): entries,
 * import/export and the lexicon (proposals: api_proposals.c).
 *
 * The database is the source of truth; every change is written together
 * with its audit row in one transaction, then app_reload_kb() rebuilds the
 * matcher so the very next message is answered with the new knowledge. */
#include "bot/api.h"
#include "bot/auth.h"
#include "bot/http.h"
#include "bot/kbstore.h"
#include "bot/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ID 100
#define MAX_QUESTION 1000
#define MAX_ANSWER 8000
#define MAX_ANSWER_SMS 2000
#define MAX_VARIANTS 200
#define MAX_KEYWORDS 200
#define MAX_TERM 200
#define MAX_FIELD 200

/* ---- entries as JSON ---- */

static cJSON *entry_json(const kb_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "id", e->id);
    ok = ok && (e->topic ? cJSON_AddStringToObject(o, "topic", e->topic)
                         : cJSON_AddNullToObject(o, "topic"));
    ok = ok && (e->department ? cJSON_AddStringToObject(o, "department", e->department)
                              : cJSON_AddNullToObject(o, "department"));
    ok = ok && cJSON_AddStringToObject(o, "question", e->question);
    cJSON *vs = ok ? cJSON_AddArrayToObject(o, "variants") : NULL;
    cJSON *ks = vs ? cJSON_AddArrayToObject(o, "keywords") : NULL;
    ok = ks && cJSON_AddStringToObject(o, "answer", e->answer ? e->answer : "");
    ok = ok && (e->answer_sms ? cJSON_AddStringToObject(o, "answer_sms", e->answer_sms)
                              : cJSON_AddNullToObject(o, "answer_sms"));
    ok = ok && cJSON_AddBoolToObject(o, "enabled", e->enabled != 0);
    for (size_t i = 0; ok && i < e->n_variants; i++) {
        cJSON *s = cJSON_CreateString(e->variants[i]);
        ok = s && cJSON_AddItemToArray(vs, s);
        if (!ok)
            cJSON_Delete(s);
    }
    for (size_t i = 0; ok && i < e->n_keywords; i++) {
        cJSON *k = cJSON_CreateObject();
        ok = k && cJSON_AddItemToArray(ks, k);
        if (!ok) {
            cJSON_Delete(k);
            break;
        }
        ok = cJSON_AddStringToObject(k, "term", e->keywords[i].term) &&
             cJSON_AddNumberToObject(k, "weight", e->keywords[i].weight);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static char *entry_text(const kb_entry *e)
{
    cJSON *o = entry_json(e);
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

/* Checks what the faq.json parser does not: id shape, lengths, UTF-8. */
int api_kb_check_text(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
    if (!s)
        return 0;
    if (strlen(s) > max) {
        snprintf(err, errlen, "%s: at most %zu bytes", what, max);
        return -1;
    }
    if (!api_utf8_valid(s)) {
        snprintf(err, errlen, "%s: not valid UTF-8", what);
        return -1;
    }
    return 0;
}

static int check_id(const char *id, char *err, size_t errlen)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > MAX_ID || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n ||
        id[0] == '.') {
        snprintf(err, errlen, "id: 1 to %d characters of a-z, 0-9, '-', '_', '.'", MAX_ID);
        return -1;
    }
    return 0;
}

static int check_entry(const kb_entry *e, char *err, size_t errlen)
{
    char pre[160], sub[120];
    snprintf(pre, sizeof pre, "entry \"%.80s\"", e->id ? e->id : "?");
    if (check_id(e->id, sub, sizeof sub) != 0) {
        snprintf(err, errlen, "%s: %s", pre, sub);
        return -1;
    }
    if (api_kb_check_text("question", e->question, MAX_QUESTION, sub, sizeof sub) ||
        api_kb_check_text("answer", e->answer, MAX_ANSWER, sub, sizeof sub) ||
        api_kb_check_text("answer_sms", e->answer_sms, MAX_ANSWER_SMS, sub, sizeof sub) ||
        api_kb_check_text("topic", e->topic, MAX_FIELD, sub, sizeof sub) ||
        api_kb_check_text("department", e->department, MAX_FIELD, sub, sizeof sub)) {
        snprintf(err, errlen, "%s: %s", pre, sub);
        return -1;
    }
    if (e->n_variants > MAX_VARIANTS || e->n_keywords > MAX_KEYWORDS) {
        snprintf(err, errlen, "%s: at most %d variants and %d keywords", pre, MAX_VARIANTS,
                 MAX_KEYWORDS);
        return -1;
    }
    for (size_t i = 0; i < e->n_variants; i++) {
        if (!e->variants[i][0] || api_kb_check_text("variant", e->variants[i], MAX_QUESTION, sub, sizeof sub)) {
            snprintf(err, errlen, "%s: variant %zu: %s", pre, i + 1,
                     e->variants[i][0] ? sub : "empty");
            return -1;
        }
    }
    for (size_t i = 0; i < e->n_keywords; i++) {
        if (api_kb_check_text("term", e->keywords[i].term, MAX_TERM, sub, sizeof sub)) {
            snprintf(err, errlen, "%s: keyword %zu: %s", pre, i + 1, sub);
            return -1;
        }
    }
    return 0;
}

int api_kb_entry_exists(store *db, const char *id)
{
    sqlite3_stmt *st = store_stmt(db, "SELECT 1 FROM entries WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* An id made from text (folded, spaces to '-', at most 60 bytes), made
 * unique with -2, -3, ... malloc'd or NULL. */
char *api_kb_unique_id(store *db, const char *base_text)
{
    char *f = kb_fold(base_text);
    if (!f)
        return NULL;
    size_t w = 0;
    for (size_t r = 0; f[r] && w < 60; r++) {
        char c = f[r];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            f[w++] = c;
        else if (w > 0 && f[w - 1] != '-')
            f[w++] = '-';
    }
    while (w > 0 && f[w - 1] == '-')
        w--;
    f[w] = '\0';
    if (w == 0) {
        free(f);
        f = strdup("muc");
        if (!f)
            return NULL;
    }
    char *id = malloc(strlen(f) + 16);
    if (!id) {
        free(f);
        return NULL;
    }
    strcpy(id, f);
    for (int i = 2; i < 10000; i++) {
        int ex = api_kb_entry_exists(db, id);
        if (ex == 0)
            break;
        if (ex < 0) {
            free(id);
            id = NULL;
            break;
        }
        sprintf(id, "%s-%d", f, i);
    }
    free(f);
    return id;
}

/* The whole corpus from the database, or NULL after replying 500. */
static kb_corpus *load_corpus(struct evhttp_request *req, hl_app *app)
{
    kb_corpus *c = kbstore_load_corpus(app->db);
    if (!c)
        http_reply_error(req, 500, "cannot read the knowledge base");
    return c;
}

void api_kb_reload(hl_app *app, const char *why)
{
    if (app_reload_kb(app) != 0)
        log_error("kb_reload_failed", "after=%s", why);
}

/* Parses one entry object from the request body through the faq.json
 * parser, so the console and files follow the same rules.  NULL after
 * replying 400/500.  *had_id tells whether the body named its id. */
static kb_corpus *parse_entry_body(struct evhttp_request *req, int *had_id)
{
    size_t len = 0;
    char *raw = http_body(req, &len);
    if (!raw) {
        http_reply_error(req, 500, "out of memory");
        return NULL;
    }
    cJSON *j = strlen(raw) == len ? cJSON_ParseWithLength(raw, len) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        free(raw);
        http_reply_error(req, 400, "body is not a JSON object");
        return NULL;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    *had_id = cJSON_IsString(id) && id->valuestring[0];
    cJSON *arr = cJSON_CreateArray();
    char *text = NULL;
    if (arr && cJSON_AddItemToArray(arr, j))
        j = NULL;
    text = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    cJSON_Delete(j);
    free(raw);
    kb_corpus *c = text ? kb_corpus_new() : NULL;
    if (!c) {
        free(text);
        http_reply_error(req, 500, "out of memory");
        return NULL;
    }
    char err[300];
    if (kb_corpus_from_json(c, text, strlen(text), err, sizeof err) != 0 || c->n != 1) {
        free(text);
        kb_corpus_free(c);
        /* "entry 1 (...): problem" reads oddly for a single entry: keep the
         * problem only. */
        const char *p = strstr(err, ": ");
        http_reply_error(req, 400, p ? p + 2 : err);
        return NULL;
    }
    free(text);
    return c;
}

/* Writes c's one entry and its audit row in one transaction, then reloads
 * and replies status with {entry} (500 when it cannot save).  Frees c. */
static void save_entry(struct evhttp_request *req, hl_app *app, kb_corpus *c, const char *user,
                       const char *action, int status)
{
    const kb_entry *e = &c->entries[0];
    char *detail = entry_text(e);
    int rc = -1;
    if (store_begin(app->db) == 0) {
        if (kbstore_put_entry(app->db, e) == 0 &&
            store_audit(app->db, user, action, e->id, detail) == 0 && store_commit(app->db) == 0)
            rc = 0;
        else
            store_rollback(app->db);
    }
    free(detail);
    if (rc != 0) {
        kb_corpus_free(c);
        http_reply_error(req, 500, "cannot save the entry");
        return;
    }
    log_info("kb_entry_saved", "entry=%s user=%s action=%s", e->id, user, action);
    api_kb_reload(app, action);
    cJSON *out = api_wrap("entry", entry_json(e));
    kb_corpus_free(c);
    api_reply(req, status, out);
}

static int matches_query(const kb_entry *e, const char *fq)
{
    if (!fq || !*fq)
        return 1;
    int hit = 0;
    const char *fields[] = {e->id, e->question, e->answer, e->topic, e->department};
    for (size_t i = 0; !hit && i < sizeof fields / sizeof fields[0]; i++) {
        char *f = fields[i] ? kb_fold(fields[i]) : NULL;
        hit = f && strstr(f, fq);
        free(f);
    }
    for (size_t i = 0; !hit && i < e->n_variants; i++) {
        char *f = kb_fold(e->variants[i]);
        hit = f && strstr(f, fq);
        free(f);
    }
    for (size_t i = 0; !hit && i < e->n_keywords; i++) {
        char *f = kb_fold(e->keywords[i].term);
        hit = f && strstr(f, fq);
        free(f);
    }
    return hit;
}

static void list_entries(struct evhttp_request *req, hl_app *app)
{
    char *q = http_query(req, "q");
    char *fq = NULL;
    if (q && *q) {
        fq = api_utf8_valid(q) ? kb_fold(q) : NULL;
        if (!fq) {
            free(q);
            http_reply_error(req, 400, "q: not valid UTF-8");
            return;
        }
        /* kb_fold pads nothing, but trim to be safe. */
        size_t n = strlen(fq);
        while (n && fq[n - 1] == ' ')
            fq[--n] = '\0';
    }
    free(q);
    kb_corpus *c = load_corpus(req, app);
    if (!c) {
        free(fq);
        return;
    }
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < c->n; i++) {
        if (!matches_query(&c->entries[i], fq))
            continue;
        cJSON *o = entry_json(&c->entries[i]);
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    kb_corpus_free(c);
    free(fq);
    api_reply(req, 200, api_wrap("entries", a));
}

static void create_entry(struct evhttp_request *req, hl_app *app, const auth_user *u)
{
    int had_id = 0;
    kb_corpus *c = parse_entry_body(req, &had_id);
    if (!c)
        return;
    kb_entry *e = &c->entries[0];
    if (!had_id) {
        char *id = api_kb_unique_id(app->db, e->question);
        if (!id) {
            kb_corpus_free(c);
            http_reply_error(req, 500, "cannot make an id");
            return;
        }
        free(e->id);
        e->id = id;
    }
    char err[300];
    if (check_entry(e, err, sizeof err) != 0) {
        kb_corpus_free(c);
        http_reply_error(req, 400, err);
        return;
    }
    int ex = api_kb_entry_exists(app->db, e->id);
    if (ex != 0) {
        kb_corpus_free(c);
        http_reply_error(req, ex > 0 ? 409 : 500, ex > 0 ? "an entry with this id exists" : "database error");
        return;
    }
    save_entry(req, app, c, u->username, "entry.create", 201);
}

static void h_entries(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    if (http_method(req) == HTTP_GET)
        list_entries(req, app);
    else
        create_entry(req, app, &u);
}

/* GET|PUT|DELETE /api/entries/{id} */
static void h_entry(struct evhttp_request *req, hl_app *app, const char *tail)
{
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    char err[300];
    if (check_id(tail, err, sizeof err) != 0) {
        http_reply_error(req, 404, "no such entry");
        return;
    }
    int m = http_method(req);
    kb_corpus *old = load_corpus(req, app);
    if (!old)
        return;
    const kb_entry *cur = kb_corpus_find(old, tail);
    if (!cur) {
        kb_corpus_free(old);
        http_reply_error(req, 404, "no such entry");
        return;
    }
    if (m == HTTP_GET) {
        cJSON *o = api_wrap("entry", entry_json(cur));
        kb_corpus_free(old);
        api_reply(req, 200, o);
        return;
    }
    if (m == HTTP_DELETE) {
        char *detail = entry_text(cur);
        int rc = -1;
        if (store_begin(app->db) == 0) {
            if (kbstore_delete_entry(app->db, tail) == 0 &&
                store_audit(app->db, u.username, "entry.delete", tail, detail) == 0 &&
                store_commit(app->db) == 0)
                rc = 0;
            else
                store_rollback(app->db);
        }
        free(detail);
        kb_corpus_free(old);
        if (rc != 0) {
            http_reply_error(req, 500, "cannot delete the entry");
            return;
        }
        log_info("kb_entry_deleted", "entry=%s user=%s", tail, u.username);
        api_kb_reload(app, "entry.delete");
        api_reply(req, 200, cJSON_CreateObject());
        return;
    }
    kb_corpus_free(old);
    /* PUT: a full entry; the id comes from the path (a different id in the
     * body is refused rather than silently renaming). */
    int had_id = 0;
    kb_corpus *c = parse_entry_body(req, &had_id);
    if (!c)
        return;
    kb_entry *e = &c->entries[0];
    if (had_id && strcmp(e->id, tail) != 0) {
        kb_corpus_free(c);
        http_reply_error(req, 400, "id: does not match the URL");
        return;
    }
    char *id = strdup(tail);
    if (!id) {
        kb_corpus_free(c);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    free(e->id);
    e->id = id;
    if (check_entry(e, err, sizeof err) != 0) {
        kb_corpus_free(c);
        http_reply_error(req, 400, err);
        return;
    }
    save_entry(req, app, c, u.username, "entry.update", 200);
}

/* ---- import / export ---- */

static void h_export(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    kb_corpus *c = load_corpus(req, app);
    if (!c)
        return;
    char *text = kb_corpus_to_json(c);
    kb_corpus_free(c);
    if (!text) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Disposition",
                      "attachment; filename=\"faq.json\"");
    http_reply_text(req, 200, "application/json; charset=utf-8", text, strlen(text));
    free(text);
}

static void reply_import(struct evhttp_request *req, int status, long long imported, cJSON *errors,
                         const char *error)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "imported", (double)imported) ||
        !cJSON_AddItemToObject(o, "errors", errors)) {
        cJSON_Delete(o);
        cJSON_Delete(errors);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    if (error)
        cJSON_AddStringToObject(o, "error", error);
    http_reply_json(req, status, o);
}

static void h_import(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    const char *ct = http_header(req, "Content-Type");
    int csv = ct && (strncasecmp(ct, "text/csv", 8) == 0);
    size_t len = 0;
    char *raw = http_body(req, &len);
    kb_corpus *in = raw ? kb_corpus_new() : NULL;
    cJSON *errors = cJSON_CreateArray();
    if (!raw || !in || !errors) {
        free(raw);
        kb_corpus_free(in);
        cJSON_Delete(errors);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    char err[400];
    int rc = strlen(raw) != len ? (snprintf(err, sizeof err, "NUL byte in body"), -1)
             : csv              ? kb_corpus_from_csv(in, raw, len, err, sizeof err)
                                : kb_corpus_from_json(in, raw, len, err, sizeof err);
    free(raw);
    if (rc != 0) {
        kb_corpus_free(in);
        cJSON_AddItemToArray(errors, cJSON_CreateString(err));
        reply_import(req, 400, 0, errors, err);
        return;
    }
    /* Entries that break our rules are skipped and listed; the rest go in. */
    kb_corpus *ok = kb_corpus_new();
    if (!ok) {
        kb_corpus_free(in);
        cJSON_Delete(errors);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < in->n; i++) {
        if (check_entry(&in->entries[i], err, sizeof err) != 0)
            cJSON_AddItemToArray(errors, cJSON_CreateString(err));
        else if (kb_corpus_add(ok, &in->entries[i]) != 0)
            cJSON_AddItemToArray(errors, cJSON_CreateString("out of memory"));
    }
    kb_corpus_free(in);
    long long n = (long long)ok->n;
    rc = 0;
    if (n > 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "{\"format\":\"%s\",\"entries\":%lld}", csv ? "csv" : "json", n);
        rc = -1;
        if (store_begin(app->db) == 0) {
            if (kbstore_import(app->db, ok, err, sizeof err) == 0 &&
                store_audit(app->db, u.username, "kb.import", NULL, detail) == 0 &&
                store_commit(app->db) == 0)
                rc = 0;
            else
                store_rollback(app->db);
        }
    }
    kb_corpus_free(ok);
    if (rc != 0) {
        cJSON_Delete(errors);
        http_reply_error(req, 500, "cannot import");
        return;
    }
    if (n > 0) {
        log_info("kb_import", "entries=%lld user=%s", n, u.username);
        api_kb_reload(app, "kb.import");
    }
    reply_import(req, 200, n, errors, NULL);
}

/* ---- lexicon ---- */

static void h_lexicon(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    if (http_method(req) == HTTP_PUT) {
        size_t len = 0;
        char *raw = http_body(req, &len);
        if (!raw) {
            http_reply_error(req, 500, "out of memory");
            return;
        }
        char err[300];
        cJSON *j = strlen(raw) == len ? cJSON_ParseWithLength(raw, len) : NULL;
        int is_obj = cJSON_IsObject(j);
        cJSON_Delete(j);
        kb_lexicon *lex = NULL;
        if (!is_obj)
            snprintf(err, sizeof err, "body is not a JSON object");
        else if (!api_utf8_valid(raw))
            snprintf(err, sizeof err, "not valid UTF-8");
        else
            lex = kb_lexicon_from_json(raw, len, err, sizeof err);
        if (!lex) {
            free(raw);
            http_reply_error(req, 400, err);
            return;
        }
        kb_lexicon_free(lex);
        int rc = -1;
        if (store_begin(app->db) == 0) {
            if (kbstore_lexicon_set(app->db, raw) == 0 &&
                store_audit(app->db, u.username, "lexicon.update", NULL, NULL) == 0 &&
                store_commit(app->db) == 0)
                rc = 0;
            else
                store_rollback(app->db);
        }
        if (rc != 0) {
            free(raw);
            http_reply_error(req, 500, "cannot save the lexicon");
            return;
        }
        log_info("kb_lexicon_saved", "user=%s bytes=%zu", u.username, len);
        api_kb_reload(app, "lexicon.update");
        http_reply_text(req, 200, "application/json; charset=utf-8", raw, len);
        free(raw);
        return;
    }
    char *doc = kbstore_lexicon_get(app->db);
    const char *body = doc ? doc : "{}";
    http_reply_text(req, 200, "application/json; charset=utf-8", body, strlen(body));
    free(doc);
}

int api_register_kb(hl_app *app)
{
    int rc = 0;
    rc |= http_route(app, HTTP_GET | HTTP_POST, "/api/entries", h_entries);
    rc |= http_route(app, HTTP_GET | HTTP_PUT | HTTP_DELETE, "/api/entries/", h_entry);
    rc |= http_route(app, HTTP_GET, "/api/export", h_export);
    rc |= http_route(app, HTTP_POST, "/api/import", h_import);
    rc |= http_route(app, HTTP_GET | HTTP_PUT, "/api/lexicon", h_lexicon);
    return rc ? -1 : 0;
}
