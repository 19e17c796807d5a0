/* kbstore.c - entries, variants, keywords and the lexicon in SQLite. */
#include "bot/kbstore.h"
#include "bot/app.h"
#include "bot/config.h"
#include "bot/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

int kbstore_put_entry(store *s, const kb_entry *e)
{
    sqlite3_stmt *st = store_stmt(
        s, "INSERT INTO entries(id, topic, department, question, answer, answer_sms, enabled, "
           "position, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
           "(SELECT coalesce(max(position), 0) + 1 FROM entries), ?8) "
           "ON CONFLICT(id) DO UPDATE SET topic = excluded.topic, department = excluded.department, "
           "question = excluded.question, answer = excluded.answer, answer_sms = excluded.answer_sms, "
           "enabled = excluded.enabled, updated_at = excluded.updated_at");
    if (!st)
        return -1;
    long long now = store_now_ms();
    store_bind_text(st, 1, e->id);
    store_bind_text(st, 2, e->topic);
    store_bind_text(st, 3, e->department);
    store_bind_text(st, 4, e->question);
    store_bind_text(st, 5, e->answer ? e->answer : "");
    store_bind_text(st, 6, e->answer_sms);
    sqlite3_bind_int(st, 7, e->enabled ? 1 : 0);
    sqlite3_bind_int64(st, 8, now);
    if (store_step_done(s, st) != 0)
        return -1;
    st = store_stmt(s, "DELETE FROM variants WHERE entry_id = ?1");
    if (!st)
        return -1;
    store_bind_text(st, 1, e->id);
    if (store_step_done(s, st) != 0)
        return -1;
    st = store_stmt(s, "DELETE FROM keywords WHERE entry_id = ?1");
    if (!st)
        return -1;
    store_bind_text(st, 1, e->id);
    if (store_step_done(s, st) != 0)
        return -1;
    for (size_t i = 0; i < e->n_variants; i++) {
        st = store_stmt(s, "INSERT INTO variants(entry_id, text) VALUES (?1, ?2)");
        if (!st)
            return -1;
        store_bind_text(st, 1, e->id);
        store_bind_text(st, 2, e->variants[i]);
        if (store_step_done(s, st) != 0)
            return -1;
    }
    for (size_t i = 0; i < e->n_keywords; i++) {
        st = store_stmt(s, "INSERT INTO keywords(entry_id, term, weight) VALUES (?1, ?2, ?3)");
        if (!st)
            return -1;
        store_bind_text(st, 1, e->id);
        store_bind_text(st, 2, e->keywords[i].term);
        sqlite3_bind_double(st, 3, e->keywords[i].weight);
        if (store_step_done(s, st) != 0)
            return -1;
    }
    return 0;
}

int kbstore_delete_entry(store *s, const char *id)
{
    sqlite3_stmt *st = store_stmt(s, "DELETE FROM entries WHERE id = ?1");
    if (!st)
        return -1;
    store_bind_text(st, 1, id);
    if (store_step_done(s, st) != 0)
        return -1;
    return sqlite3_changes(store_db(s)) ? 0 : 1;
}

int kbstore_import(store *s, const kb_corpus *c, char *err, size_t errlen)
{
    int own = sqlite3_get_autocommit(store_db(s));
    if (own && store_begin(s) != 0) {
        snprintf(err, errlen, "cannot start a transaction: %s", sqlite3_errmsg(store_db(s)));
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (kbstore_put_entry(s, &c->entries[i]) != 0) {
            snprintf(err, errlen, "entry %s: %s", c->entries[i].id, sqlite3_errmsg(store_db(s)));
            if (own)
                store_rollback(s);
            return -1;
        }
    }
    if (own && store_commit(s) != 0) {
        snprintf(err, errlen, "commit failed: %s", sqlite3_errmsg(store_db(s)));
        store_rollback(s);
        return -1;
    }
    return 0;
}

long long kbstore_count(store *s)
{
    return store_scalar(s, "SELECT count(*) FROM entries");
}

static int cmp_entry_id(const void *a, const void *b)
{
    const kb_entry *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

/* The entry with this id among entries sorted by id (bsearch), or NULL. */
static kb_entry *find_sorted(kb_entry **sorted, size_t n, const char *id)
{
    if (!id)
        return NULL;
    kb_entry key = {.id = (char *)id}, *kp = &key;
    kb_entry **hit = bsearch(&kp, sorted, n, sizeof *sorted, cmp_entry_id);
    return hit ? *hit : NULL;
}

/* Appends one variant, or with is_keyword one keyword, to e; 0 / -1. */
static int add_text(kb_entry *e, const char *text, int is_keyword, double weight)
{
    char *copy = strdup(text);
    if (!copy)
        return -1;
    if (is_keyword) {
        kb_keyword *k = realloc(e->keywords, (e->n_keywords + 1) * sizeof *k);
        if (!k)
            goto fail;
        e->keywords = k;
        k[e->n_keywords].term = copy;
        k[e->n_keywords++].weight = weight;
    } else {
        char **v = realloc(e->variants, (e->n_variants + 1) * sizeof *v);
        if (!v)
            goto fail;
        e->variants = v;
        v[e->n_variants++] = copy;
    }
    return 0;
fail:
    free(copy);
    return -1;
}

/* Variants and keywords are read in one pass each and attached through a
 * sorted index of the entries, so loading stays fast at tens of thousands of
 * entries. */
kb_corpus *kbstore_load_corpus(store *s)
{
    kb_entry **sorted = NULL;
    kb_corpus *c = kb_corpus_new();
    if (!c)
        return NULL;
    sqlite3_stmt *st = store_stmt(s, "SELECT id, topic, department, question, answer, answer_sms, "
                                     "enabled FROM entries ORDER BY position, id");
    if (!st)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kb_entry e = {0};
        e.id = (char *)col_text(st, 0);
        e.topic = (char *)col_text(st, 1);
        e.department = (char *)col_text(st, 2);
        e.question = (char *)col_text(st, 3);
        e.answer = (char *)col_text(st, 4);
        e.answer_sms = (char *)col_text(st, 5);
        e.enabled = sqlite3_column_int(st, 6);
        if (kb_corpus_add(c, &e) != 0) {
            sqlite3_reset(st);
            goto fail;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        goto fail;
    sorted = malloc((c->n ? c->n : 1) * sizeof *sorted);
    if (!sorted)
        goto fail;
    for (size_t i = 0; i < c->n; i++)
        sorted[i] = &c->entries[i];
    qsort(sorted, c->n, sizeof *sorted, cmp_entry_id);

    static const char *const sql[2] = {
        "SELECT entry_id, text, 0 FROM variants ORDER BY entry_id, id",
        "SELECT entry_id, term, weight FROM keywords ORDER BY entry_id, id",
    };
    for (int kw = 0; kw < 2; kw++) {
        st = store_stmt(s, sql[kw]);
        if (!st)
            goto fail;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            kb_entry *e = find_sorted(sorted, c->n, col_text(st, 0));
            const char *t = col_text(st, 1);
            if (e && t && add_text(e, t, kw, sqlite3_column_double(st, 2)) != 0) {
                sqlite3_reset(st);
                goto fail;
            }
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            goto fail;
    }
    free(sorted);
    return c;
fail:
    log_error("kb_load", "error=\"%s\"", sqlite3_errmsg(store_db(s)));
    free(sorted);
    kb_corpus_free(c);
    return NULL;
}

char *kbstore_lexicon_get(store *s)
{
    sqlite3_stmt *st = store_stmt(s, "SELECT doc FROM lexicon WHERE id = 1");
    char *doc = NULL;
    if (st && sqlite3_step(st) == SQLITE_ROW && col_text(st, 0))
        doc = strdup(col_text(st, 0));
    if (st)
        sqlite3_reset(st);
    return doc;
}

int kbstore_lexicon_set(store *s, const char *doc)
{
    sqlite3_stmt *st = store_stmt(s, "INSERT INTO lexicon(id, doc, updated_at) VALUES (1, ?1, ?2) "
                                     "ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, "
                                     "updated_at = excluded.updated_at");
    if (!st)
        return -1;
    store_bind_text(st, 1, doc);
    sqlite3_bind_int64(st, 2, store_now_ms());
    return store_step_done(s, st);
}

int kbstore_seed(store *s, const char *corpus_path, const char *lexicon_path, char *err,
                 size_t errlen)
{
    if (kbstore_count(s) == 0 && corpus_path && *corpus_path) {
        kb_corpus *c = kb_corpus_new();
        if (!c || kb_corpus_load_file(c, corpus_path, err, errlen) != 0 ||
            kbstore_import(s, c, err, errlen) != 0) {
            kb_corpus_free(c);
            return -1;
        }
        log_info("kb_imported", "file=%s entries=%zu", corpus_path, c->n);
        kb_corpus_free(c);
    }
    char *doc = kbstore_lexicon_get(s);
    if (!doc && lexicon_path && *lexicon_path) {
        size_t len = 0;
        doc = kb_read_file(lexicon_path, &len, err, errlen);
        if (!doc)
            return -1;
        kb_lexicon *lex = kb_lexicon_from_json(doc, len, err, errlen);
        if (!lex) {
            free(doc);
            return -1;
        }
        kb_lexicon_free(lex);
        if (kbstore_lexicon_set(s, doc) != 0) {
            snprintf(err, errlen, "cannot store the lexicon");
            free(doc);
            return -1;
        }
    }
    free(doc);
    return 0;
}

kb *kbstore_build(store *s, char *err, size_t errlen)
{
    kb_corpus *c = kbstore_load_corpus(s);
    if (!c) {
        snprintf(err, errlen, "cannot read the knowledge base from the database");
        return NULL;
    }
    kb_lexicon *lex = NULL;
    char *doc = kbstore_lexicon_get(s);
    if (doc) {
        lex = kb_lexicon_from_json(doc, strlen(doc), err, errlen);
        free(doc);
        if (!lex) {
            kb_corpus_free(c);
            return NULL;
        }
    }
    kb *k = kb_build(c, lex);
    kb_lexicon_free(lex);
    kb_corpus_free(c);
    if (!k)
        snprintf(err, errlen, "cannot build the matcher (out of memory?)");
    return k;
}

int app_reload_kb(hl_app *app)
{
    char err[256];
    kb *k = kbstore_build(app->db, err, sizeof err);
    if (!k) {
        log_error("kb_reload", "error=\"%s\"", err);
        return -1;
    }
    kb_free(app->kb);
    app->kb = k;
    log_info("kb_reloaded", "entries=%zu", kb_size(k));
    return 0;
}

kb *kbstore_load(const char *config_path, kb_params *params, char *err, size_t errlen)
{
    hl_config cfg;
    /* config_load starts from the defaults itself. */
    if (config_path ? config_load(&cfg, config_path, err, errlen) != 0
                    : config_defaults(&cfg) != 0) {
        if (!config_path)
            snprintf(err, errlen, "out of memory");
        config_free(&cfg);
        return NULL;
    }
    store *s = store_open(cfg.database, cfg.database_synchronous, err, errlen);
    kb *k = NULL;
    if (s && kbstore_seed(s, cfg.kb_corpus, cfg.kb_lexicon, err, errlen) == 0)
        k = kbstore_build(s, err, errlen);
    if (k && params) {
        hl_app tmp = {.cfg = cfg, .db = s};
        if (settings_load(&tmp) == 0)
            *params = tmp.settings.kb;
    }
    store_close(s);
    config_free(&cfg);
    return k;
}
