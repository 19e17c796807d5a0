/* api_admin.c - admin routes: settings, audit log, statistics, users.
 *
 * Statistics are computed from the message and case records on request:
 * per local day and channel, messages in, answered automatically, escalated
 * per reason, time to the first staff reply, and the words citizens used
 * that the knowledge base did not know. */
#include "bot/api.h"
#include "bot/events.h"
#include "bot/auth.h"
#include "bot/http.h"
#include "bot/log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- settings ---- */

static void h_settings(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    if (http_method(req) == HTTP_PUT) {
        cJSON *body = http_json_body(req);
        if (!body)
            return;
        char err[300] = "";
        /* settings_update validates everything first and writes the audit
         * rows itself, in one transaction. */
        int rc = settings_update(app, body, u.username, err, sizeof err);
        cJSON_Delete(body);
        if (rc != 0) {
            int internal = strncmp(err, "cannot", 6) == 0 || strncmp(err, "database", 8) == 0;
            http_reply_error(req, internal ? 500 : 400, err[0] ? err : "invalid settings");
            return;
        }
        log_info("settings_saved", "user=%s", u.username);
    }
    api_reply(req, 200, settings_to_json(app));
}

/* ---- audit ---- */

static void h_audit(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    long long limit, before;
    if (auth_require(req, app, 1, &u) != 0 ||
        api_query_int(req, "limit", 1, 1000, 100, &limit) != 0 ||
        api_query_int(req, "before", 0, 1LL << 62, 0, &before) != 0)
        return;
    sqlite3_stmt *st = store_stmt(app->db, "SELECT id, at, user, action, target, detail FROM audit "
                                           "WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2");
    if (!st) {
        http_reply_error(req, 500, "database error");
        return;
    }
    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int64(st, 2, limit);
    static const char *const names[] = {"id", "at", "user", "action", "target", "detail"};
    cJSON *a = cJSON_CreateArray();
    while (a && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
            break;
        }
        for (int i = 0; i < 6; i++) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL)
                cJSON_AddNullToObject(o, names[i]);
            else if (i < 2)
                cJSON_AddNumberToObject(o, names[i], (double)sqlite3_column_int64(st, i));
            else
                cJSON_AddStringToObject(o, names[i], (const char *)sqlite3_column_text(st, i));
        }
    }
    sqlite3_reset(st);
    api_reply(req, 200, api_wrap("audit", a));
}

/* ---- stats ---- */

/* Local midnight days-1 days ago, in ms. */
static long long window_start(int days)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mday -= days - 1;
    tm.tm_isdst = -1;
    return (long long)mktime(&tm) * 1000;
}

/* The row of days[] for (day, channel), created at the end if missing. */
static cJSON *day_row(cJSON *days, const char *day, const char *channel)
{
    cJSON *r;
    cJSON_ArrayForEach(r, days) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(r, "day")->valuestring, day) == 0 &&
            strcmp(cJSON_GetObjectItemCaseSensitive(r, "channel")->valuestring, channel) == 0)
            return r;
    }
    r = cJSON_CreateObject();
    if (!r || !cJSON_AddItemToArray(days, r)) {
        cJSON_Delete(r);
        return NULL;
    }
    if (!cJSON_AddStringToObject(r, "day", day) || !cJSON_AddStringToObject(r, "channel", channel) ||
        !cJSON_AddNumberToObject(r, "messages_in", 0) ||
        !cJSON_AddNumberToObject(r, "auto_answered", 0) ||
        !cJSON_AddObjectToObject(r, "escalated") || !cJSON_AddNullToObject(r, "first_reply_ms"))
        return NULL;
    return r;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

/* Nearest-rank percentiles of sorted v[0..n). */
static cJSON *percentiles(const long long *v, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (n == 0) {
        cJSON_AddNullToObject(o, "p50");
        cJSON_AddNullToObject(o, "p90");
    } else {
        size_t i50 = (size_t)ceil(0.5 * (double)n), i90 = (size_t)ceil(0.9 * (double)n);
        cJSON_AddNumberToObject(o, "p50", (double)v[i50 ? i50 - 1 : 0]);
        cJSON_AddNumberToObject(o, "p90", (double)v[i90 ? i90 - 1 : 0]);
    }
    cJSON_AddNumberToObject(o, "n", (double)n);
    return o;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Fills the per-row and overall first-reply percentiles.  0 / -1. */
static int first_reply_stats(hl_app *app, long long since, cJSON *days, cJSON *out)
{
    sqlite3_stmt *st = store_stmt(
        app->db, "SELECT date(c.opened_at / 1000, 'unixepoch', 'localtime'), ct.channel,"
                 " c.first_reply_at - c.opened_at FROM cases c JOIN contacts ct ON ct.id = c.contact_id"
                 " WHERE c.opened_at >= ?1 AND c.first_reply_at IS NOT NULL"
                 " ORDER BY 1, 2, 3");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, since);
    size_t n = 0, cap = 0, group = 0;
    long long *all = NULL;
    char gday[16] = "", gch[64] = "";
    int rc = 0, step;
    /* Rows come grouped by (day, channel): close a group when it changes. */
    for (;;) {
        step = sqlite3_step(st);
        int row = step == SQLITE_ROW;
        if (row && strcmp(col(st, 0), gday) == 0 && strcmp(col(st, 1), gch) == 0) {
            /* same group */
        } else {
            if (n > group) {
                cJSON *r = day_row(days, gday, gch);
                long long *g = malloc((n - group) * sizeof *g);
                cJSON *p = g ? (memcpy(g, all + group, (n - group) * sizeof *g), percentiles(g, n - group)) : NULL;
                free(g);
                if (!r || !p || !cJSON_ReplaceItemInObjectCaseSensitive(r, "first_reply_ms", p)) {
                    cJSON_Delete(p);
                    rc = -1;
                    break;
                }
            }
            group = n;
            if (!row)
                break;
            snprintf(gday, sizeof gday, "%s", col(st, 0));
            snprintf(gch, sizeof gch, "%s", col(st, 1));
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            long long *na = realloc(all, nc * sizeof *na);
            if (!na) {
                rc = -1;
                break;
            }
            all = na;
            cap = nc;
        }
        all[n++] = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = -1;
    if (rc == 0) {
        qsort(all, n, sizeof *all, cmp_ll);
        cJSON *p = percentiles(all, n);
        if (!p || !cJSON_AddItemToObject(out, "first_reply_ms", p)) {
            cJSON_Delete(p);
            rc = -1;
        }
    }
    free(all);
    return rc;
}

/* Common words that say nothing about the topic (folded). */
static const char *const stopwords[] = {
    "toi", "ban", "khong", "cua", "cho", "nhu", "the", "nao", "duoc", "dau", "anh", "chi",
    "minh", "thi", "voi", "can", "muon", "hoi", "xin", "chao", "nay", "khi", "bao", "nhieu",
    "lam", "sao", "tai", "den", "dang", "roi", "nhe", "vay", "phai", "con", "cac", "nhung",
    "mot", "hai", "rat", "qua", "cung", "van", "chua", "hay", "hoac", "neu", "nen", "tren",
    "duoi", "trong", "ngoai", "sau", "truoc", "lai", "vao", "len", "xuong", "nguoi", "giup",
    "gium", "vui", "long", "cam", "biet", "thu", "the", "ong", "cho", "nhi", "day", "kia",
    "gia", "dinh", "and", "you", "what", "how", "where", "when", "the", "for", "ask",
};

static int is_stopword(const char *w)
{
    for (size_t i = 0; i < sizeof stopwords / sizeof stopwords[0]; i++)
        if (strcmp(w, stopwords[i]) == 0)
            return 1;
    return 0;
}

struct word_count {
    char *word;
    long long count;
};

#define WORD_SLOTS 8192

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static int cmp_wc(const void *a, const void *b)
{
    const struct word_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->word ? x->word : "", y->word ? y->word : "");
}

/* top_unmatched: words of escalated no_match / low_confidence messages. */
static int unmatched_words(hl_app *app, long long since, cJSON *out)
{
    sqlite3_stmt *st = store_stmt(
        app->db, "SELECT text FROM messages WHERE direction = 'in' AND decision = 'escalate'"
                 " AND reason IN ('no_match','low_confidence') AND text IS NOT NULL"
                 " AND created_at >= ?1 ORDER BY id DESC LIMIT 5000");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, since);
    struct word_count *t = calloc(WORD_SLOTS, sizeof *t);
    size_t used = 0;
    int rc = t ? 0 : -1;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        char *f = kb_fold(col(st, 0));
        if (!f)
            continue;
        char *save = NULL;
        for (char *w = strtok_r(f, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            size_t n = strlen(w);
            if (n < 3 || n > 40 || strspn(w, "0123456789") == n || is_stopword(w))
                continue;
            size_t i = hash_str(w) % WORD_SLOTS;
            while (t[i].word && strcmp(t[i].word, w) != 0)
                i = (i + 1) % WORD_SLOTS;
            if (!t[i].word) {
                if (used >= WORD_SLOTS * 3 / 4)
                    continue;   /* table full: rare words are dropped */
                if (!(t[i].word = strdup(w)))
                    continue;
                used++;
            }
            t[i].count++;
        }
        free(f);
    }
    sqlite3_reset(st);
    cJSON *a = rc == 0 ? cJSON_CreateArray() : NULL;
    if (a) {
        qsort(t, WORD_SLOTS, sizeof *t, cmp_wc);
        for (size_t i = 0; i < WORD_SLOTS && i < 30 && t[i].word; i++) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddItemToArray(a, o)) {
                cJSON_Delete(o);
                break;
            }
            cJSON_AddStringToObject(o, "word", t[i].word);
            cJSON_AddNumberToObject(o, "count", (double)t[i].count);
        }
    }
    if (t)
        for (size_t i = 0; i < WORD_SLOTS; i++)
            free(t[i].word);
    free(t);
    if (!a || !cJSON_AddItemToObject(out, "top_unmatched", a)) {
        cJSON_Delete(a);
        return -1;
    }
    return 0;
}

static void h_stats(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    long long ndays;
    if (auth_require(req, app, 1, &u) != 0 || api_query_int(req, "days", 1, 366, 7, &ndays) != 0)
        return;
    long long since = window_start((int)ndays);
    cJSON *out = cJSON_CreateObject(), *days = cJSON_CreateArray();
    if (!out || !days || !cJSON_AddItemToObject(out, "days", days)) {
        cJSON_Delete(out);
        cJSON_Delete(days);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    cJSON_AddNumberToObject(out, "since", (double)since);
    int ok = 1;
    sqlite3_stmt *st = store_stmt(
        app->db, "SELECT date(created_at / 1000, 'unixepoch', 'localtime') AS day, channel,"
                 " COUNT(*), SUM(decision = 'answer') FROM messages"
                 " WHERE direction = 'in' AND created_at >= ?1 GROUP BY day, channel ORDER BY day, channel");
    if (!st) {
        ok = 0;
    } else {
        sqlite3_bind_int64(st, 1, since);
        while (ok && sqlite3_step(st) == SQLITE_ROW) {
            cJSON *r = day_row(days, col(st, 0), col(st, 1));
            ok = r != NULL;
            if (ok) {
                cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "messages_in"),
                                     (double)sqlite3_column_int64(st, 2));
                cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "auto_answered"),
                                     (double)sqlite3_column_int64(st, 3));
            }
        }
        sqlite3_reset(st);
    }
    st = ok ? store_stmt(app->db, "SELECT date(created_at / 1000, 'unixepoch', 'localtime') AS day,"
                                  " channel, COALESCE(reason, 'unknown'), COUNT(*) FROM messages"
                                  " WHERE direction = 'in' AND decision = 'escalate' AND created_at >= ?1"
                                  " GROUP BY day, channel, 3 ORDER BY day, channel")
            : NULL;
    if (!st) {
        ok = 0;
    } else {
        sqlite3_bind_int64(st, 1, since);
        while (ok && sqlite3_step(st) == SQLITE_ROW) {
            cJSON *r = day_row(days, col(st, 0), col(st, 1));
            cJSON *esc = r ? cJSON_GetObjectItemCaseSensitive(r, "escalated") : NULL;
            ok = esc && cJSON_AddNumberToObject(esc, col(st, 2), (double)sqlite3_column_int64(st, 3));
        }
        sqlite3_reset(st);
    }
    if (!ok || first_reply_stats(app, since, days, out) != 0 || unmatched_words(app, since, out) != 0) {
        cJSON_Delete(out);
        http_reply_error(req, 500, "cannot compute statistics");
        return;
    }
    http_reply_json(req, 200, out);
}

/* ---- users ---- */

#define USER_COLUMNS "SELECT id, username, role, disabled, created_at FROM users "

/* {id, username, role, disabled, created_at} from a USER_COLUMNS row. */
static cJSON *user_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "username", col(st, 1));
    cJSON_AddStringToObject(o, "role", col(st, 2));
    cJSON_AddBoolToObject(o, "disabled", sqlite3_column_int(st, 3) != 0);
    cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(st, 4));
    return o;
}

static void list_users(struct evhttp_request *req, hl_app *app)
{
    sqlite3_stmt *st = store_stmt(app->db, USER_COLUMNS "ORDER BY username");
    if (!st) {
        http_reply_error(req, 500, "database error");
        return;
    }
    cJSON *a = cJSON_CreateArray();
    while (a && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = user_row(st);
        if (!o || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    sqlite3_reset(st);
    api_reply(req, 200, api_wrap("users", a));
}

static void create_user(struct evhttp_request *req, hl_app *app, const auth_user *admin)
{
    cJSON *body = http_json_body(req);
    if (!body)
        return;
    const char *name = api_str(body, "username"), *pw = api_str(body, "password");
    const char *role = api_str(body, "role");
    if (!role)
        role = "staff";
    char err[200];
    long long id = 0;
    int rc = -1;
    if (store_begin(app->db) != 0) {
        snprintf(err, sizeof err, "database busy");
    } else {
        rc = auth_user_create(app->db, name, pw, role, &id, err, sizeof err);
        char detail[64];
        snprintf(detail, sizeof detail, "{\"role\":\"%s\"}", role);
        if (rc == 0 && (store_audit(app->db, admin->username, "user.create", name, detail) != 0 ||
                        store_commit(app->db) != 0)) {
            snprintf(err, sizeof err, "cannot save the user");
            rc = -2;
        }
        if (rc != 0)
            store_rollback(app->db);
    }
    if (rc != 0) {
        cJSON_Delete(body);
        /* auth_user_create: 1 taken, -1 invalid input or internal error. */
        int status = rc == 1 ? 409 : rc == -2 || strstr(err, "database") || strstr(err, "hash") ? 500 : 400;
        http_reply_error(req, status, err);
        return;
    }
    log_info("user_created", "user=%s role=%s by=%s", name, role, admin->username);
    auth_user nu = {.id = id};
    snprintf(nu.username, sizeof nu.username, "%s", name);
    snprintf(nu.role, sizeof nu.role, "%s", role);
    cJSON_Delete(body);
    api_reply(req, 201, api_wrap("user", auth_user_json(&nu)));
}

static void h_users(struct evhttp_request *req, hl_app *app, const char *tail)
{
    (void)tail;
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    if (http_method(req) == HTTP_GET)
        list_users(req, app);
    else
        create_user(req, app, &u);
}

static cJSON *user_json(hl_app *app, long long id)
{
    sqlite3_stmt *st = store_stmt(app->db, USER_COLUMNS "WHERE id = ?1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? user_row(st) : NULL;
    sqlite3_reset(st);
    return o;
}

/* Enabled admins other than id: the last one may not be demoted or disabled,
 * or nobody could administer the console any more. */
static long long other_admins(hl_app *app, long long id)
{
    sqlite3_stmt *st = store_stmt(app->db, "SELECT COUNT(*) FROM users WHERE role = 'admin' "
                                           "AND disabled = 0 AND id != ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return n;
}

/* PUT /api/users/{id} {role?, disabled?, password?} */
static void update_user(struct evhttp_request *req, hl_app *app, const auth_user *admin,
                        long long id)
{
    cJSON *body = http_json_body(req);
    if (!body)
        return;
    const cJSON *jrole = cJSON_GetObjectItemCaseSensitive(body, "role");
    const cJSON *jdis = cJSON_GetObjectItemCaseSensitive(body, "disabled");
    const cJSON *jpw = cJSON_GetObjectItemCaseSensitive(body, "password");
    char err[200] = "";
    int status = 400;
    char name[80] = "", role[16] = "";
    int disabled = 0, was_admin = 0;
    if (jrole && (!cJSON_IsString(jrole) || auth_check_role(jrole->valuestring, err, sizeof err)))
        snprintf(err, sizeof err, "role: must be \"staff\" or \"admin\"");
    else if (jdis && !cJSON_IsBool(jdis))
        snprintf(err, sizeof err, "disabled: must be true or false");
    else if (jpw && (!cJSON_IsString(jpw) || auth_check_password(jpw->valuestring, err, sizeof err)))
        snprintf(err, sizeof err, "password: 8 to 1024 characters");
    if (err[0])
        goto fail;
    sqlite3_stmt *st = store_stmt(app->db, "SELECT username, role, disabled FROM users WHERE id = ?1");
    if (!st) {
        status = 500;
        snprintf(err, sizeof err, "database error");
        goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(name, sizeof name, "%s", col(st, 0));
        snprintf(role, sizeof role, "%s", col(st, 1));
        disabled = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    if (!name[0]) {
        status = 404;
        snprintf(err, sizeof err, "no such user");
        goto fail;
    }
    was_admin = strcmp(role, "admin") == 0 && !disabled;
    if (jrole)
        snprintf(role, sizeof role, "%s", jrole->valuestring);
    if (jdis)
        disabled = cJSON_IsTrue(jdis);
    if (was_admin && (strcmp(role, "admin") != 0 || disabled) && other_admins(app, id) == 0) {
        status = 409;
        snprintf(err, sizeof err, "the last admin cannot be demoted or disabled");
        goto fail;
    }
    char detail[120];
    snprintf(detail, sizeof detail, "{\"role\":\"%s\",\"disabled\":%s,\"password\":%s}", role,
             disabled ? "true" : "false", jpw ? "true" : "false");
    status = 500;
    snprintf(err, sizeof err, "cannot save the user");
    if (store_begin(app->db) != 0)
        goto fail;
    st = store_stmt(app->db, "UPDATE users SET role = ?1, disabled = ?2 WHERE id = ?3");
    int ok = st != NULL;
    if (ok) {
        sqlite3_bind_text(st, 1, role, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, disabled);
        sqlite3_bind_int64(st, 3, id);
        ok = store_step_done(app->db, st) == 0;
    }
    char perr[200];
    /* A new password or a disabled account ends the user's sessions. */
    if (ok && jpw)
        ok = auth_user_passwd(app->db, name, jpw->valuestring, perr, sizeof perr) == 0;
    if (ok && disabled && (st = store_stmt(app->db, "DELETE FROM sessions WHERE user_id = ?1"))) {
        sqlite3_bind_int64(st, 1, id);
        ok = store_step_done(app->db, st) == 0;
    }
    ok = ok && store_audit(app->db, admin->username, "user.update", name, detail) == 0 &&
         store_commit(app->db) == 0;
    if (!ok) {
        store_rollback(app->db);
        goto fail;
    }
    log_info("user_updated", "user=%s role=%s disabled=%d password=%d by=%s", name, role, disabled,
             jpw != NULL, admin->username);
    events_prune(app->events);
    cJSON_Delete(body);
    api_reply(req, 200, api_wrap("user", user_json(app, id)));
    return;
fail:
    cJSON_Delete(body);
    http_reply_error(req, status, err);
}

static void h_user(struct evhttp_request *req, hl_app *app, const char *tail)
{
    auth_user u;
    if (auth_require(req, app, 1, &u) != 0)
        return;
    long long id;
    if (api_parse_id(tail, strlen(tail), &id) != 0) {
        http_reply_error(req, 404, "no such user");
        return;
    }
    update_user(req, app, &u, id);
}

int api_register_admin(hl_app *app)
{
    int rc = 0;
    rc |= http_route(app, HTTP_GET | HTTP_PUT, "/api/settings", h_settings);
    rc |= http_route(app, HTTP_GET, "/api/audit", h_audit);
    rc |= http_route(app, HTTP_GET, "/api/stats", h_stats);
    rc |= http_route(app, HTTP_GET | HTTP_POST, "/api/users", h_users);
    rc |= http_route(app, HTTP_PUT, "/api/users/", h_user);
    return rc ? -1 : 0;
}
