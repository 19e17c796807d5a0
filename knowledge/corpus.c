/* corpus.c - the Q&A corpus in memory, and its faq.json form.
 *
 * A corpus is a plain array of entries that own their strings.  It is what
 * an import fills and what kb_build() reads; matching never looks at it
 * again (kb_build copies).  The JSON form is ../shared/knowledge/faq.json:
 *
 *   { "name": ..., "entries": [ { "id", "topic", "department", "question",
 *     "variants": [..], "keywords": [{"term","weight"}], "answer",
 *     "answer_sms", "enabled" } ] }
 *
 * Only "question" and "answer" are required: a city's existing FAQ usually
 * has nothing else, and the id is then derived from the question.  Keywords
 * may also be plain strings (weight 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>

#include "knowledge/kb_internal.h"

/* Every corpus comes from kb_corpus_new(), which puts an index of its ids
 * behind the public struct: kb_corpus_add() upserts by id, and importing
 * 10,000 entries must not compare each new id with all the others.  The
 * index covers entries[0 .. indexed) of the array it was built for and is
 * rebuilt whenever the corpus is not as kb_corpus_add() left it (entries
 * added, removed or moved by someone else); a hit is always checked
 * against the entry itself.  Small corpora (the API's one-entry bodies,
 * whose id the caller may still set) are simply scanned. */
#define INDEX_OVER 32

typedef struct corpus_box {
    kb_corpus pub;            /* first: a kb_corpus * points at its box */
    kb_map ids;               /* id -> position */
    const kb_entry *seen;     /* the entries array the index describes */
    size_t indexed;
} corpus_box;

kb_corpus *kb_corpus_new(void)
{
    corpus_box *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    kb_map_init(&b->ids);
    return &b->pub;
}

static int index_rebuild(corpus_box *b)
{
    const kb_corpus *c = &b->pub;
    kb_map_free(&b->ids);
    kb_map_init(&b->ids);
    b->seen = NULL;
    b->indexed = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *id = c->entries[i].id;
        size_t len = id ? strlen(id) : 0;
        /* the first entry with an id wins, as in a scan */
        if (id && !kb_map_get(&b->ids, id, len, NULL) && kb_map_put(&b->ids, id, len, (uint32_t)i) < 0)
            return -1;
    }
    b->seen = c->entries;
    b->indexed = c->n;
    return 0;
}

/* Whether the index describes the corpus as it is. */
static int index_current(const kb_corpus *c)
{
    const corpus_box *b = (const corpus_box *)c;
    return b->indexed == c->n && (b->seen == c->entries || c->n == 0);
}

/* The entry with this id, by the index when the corpus is large. */
static kb_entry *find_indexed(kb_corpus *c, const char *id)
{
    corpus_box *b = (corpus_box *)c;
    if (c->n > INDEX_OVER && c->n <= UINT32_MAX) {
        for (int tries = 0; tries < 2; tries++) {
            if (!index_current(c) && index_rebuild(b) < 0)
                break;
            uint32_t pos;
            if (!kb_map_get(&b->ids, id, strlen(id), &pos))
                return NULL;
            if (pos < c->n && c->entries[pos].id && strcmp(c->entries[pos].id, id) == 0)
                return &c->entries[pos];
            b->seen = NULL;   /* stale: rebuild and look again */
        }
    }
    return (kb_entry *)kb_corpus_find(c, id);
}

/* Records entries[n - 1], just appended to a corpus whose index was
 * current (was_current) before. */
static void index_appended(kb_corpus *c, int was_current)
{
    corpus_box *b = (corpus_box *)c;
    const kb_entry *e = &c->entries[c->n - 1];
    size_t len = strlen(e->id);
    if (!was_current || c->n > UINT32_MAX ||
        (!kb_map_get(&b->ids, e->id, len, NULL) && kb_map_put(&b->ids, e->id, len, (uint32_t)(c->n - 1)) < 0)) {
        b->seen = NULL;       /* rebuilt when next needed */
        b->indexed = 0;
        return;
    }
    b->seen = c->entries;
    b->indexed = c->n;
}

void kb_entry_clear(kb_entry *e)
{
    if (!e)
        return;
    free(e->id);
    free(e->topic);
    free(e->department);
    free(e->question);
    for (size_t i = 0; i < e->n_variants; i++)
        free(e->variants[i]);
    free(e->variants);
    for (size_t i = 0; i < e->n_keywords; i++)
        free(e->keywords[i].term);
    free(e->keywords);
    free(e->answer);
    free(e->answer_sms);
    memset(e, 0, sizeof *e);
}

void kb_corpus_free(kb_corpus *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        kb_entry_clear(&c->entries[i]);
    free(c->entries);
    free(c->name);
    kb_map_free(&((corpus_box *)c)->ids);
    free(c);
}

/* strdup that maps NULL to NULL and reports failure through *fail. */
static char *dup_opt(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

/* Deep copy of src into dst (dst zeroed first). 0 or -1. */
int kb_entry_copy(kb_entry *dst, const kb_entry *src)
{
    int fail = 0;
    memset(dst, 0, sizeof *dst);
    dst->id = dup_opt(src->id, &fail);
    dst->topic = dup_opt(src->topic, &fail);
    dst->department = dup_opt(src->department, &fail);
    dst->question = dup_opt(src->question, &fail);
    dst->answer = dup_opt(src->answer, &fail);
    dst->answer_sms = dup_opt(src->answer_sms, &fail);
    dst->enabled = src->enabled;
    if (src->n_variants) {
        dst->variants = calloc(src->n_variants, sizeof *dst->variants);
        if (!dst->variants)
            fail = 1;
        else
            for (size_t i = 0; i < src->n_variants; i++, dst->n_variants++)
                dst->variants[i] = dup_opt(src->variants[i], &fail);
    }
    if (src->n_keywords) {
        dst->keywords = calloc(src->n_keywords, sizeof *dst->keywords);
        if (!dst->keywords)
            fail = 1;
        else
            for (size_t i = 0; i < src->n_keywords; i++, dst->n_keywords++) {
                dst->keywords[i].term = dup_opt(src->keywords[i].term, &fail);
                dst->keywords[i].weight = src->keywords[i].weight;
            }
    }
    if (fail) {
        kb_entry_clear(dst);
        return -1;
    }
    return 0;
}

const kb_entry *kb_corpus_find(const kb_corpus *c, const char *id)
{
    if (!c || !id)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (c->entries[i].id && strcmp(c->entries[i].id, id) == 0)
            return &c->entries[i];
    return NULL;
}

int kb_corpus_add(kb_corpus *c, const kb_entry *e)
{
    if (!c || !e || !e->id)
        return -1;
    kb_entry copy;
    if (kb_entry_copy(&copy, e) < 0)
        return -1;
    kb_entry *old = find_indexed(c, e->id);
    if (old) {
        kb_entry_clear(old);
        *old = copy;
        return 0;
    }
    int was_current = index_current(c);
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        kb_entry *v = realloc(c->entries, nc * sizeof *v);
        if (!v) {
            kb_entry_clear(&copy);
            return -1;
        }
        c->entries = v;
        c->cap = nc;
    }
    c->entries[c->n++] = copy;
    index_appended(c, was_current);
    return 0;
}

char *kb_slug(const char *question)
{
    char *f = kb_fold(question);
    if (!f)
        return NULL;
    size_t w = 0;
    for (size_t r = 0; f[r] && w < 60; r++)
        f[w++] = f[r] == ' ' ? '-' : f[r];
    while (w > 0 && f[w - 1] == '-')
        w--;
    f[w] = '\0';
    if (w == 0) {
        free(f);
        return NULL;
    }
    return f;
}

/* ---- JSON --------------------------------------------------------------- */

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Fills e (zeroed) from one JSON entry; errors go to err prefixed with the
 * entry's id or, before an id is known, its position. */
static int entry_from_json(const cJSON *o, size_t idx, kb_entry *e, char *err, size_t errlen)
{
    char who[120];
    const char *id = str_field(o, "id");
    if (id)
        snprintf(who, sizeof who, "entry %zu (\"%.80s\")", idx + 1, id);
    else
        snprintf(who, sizeof who, "entry %zu", idx + 1);
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "%s: not an object", who);
        return -1;
    }
    static const char *const strs[] = {"id", "topic", "department", "question", "answer", "answer_sms"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, strs[i]);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
            snprintf(err, errlen, "%s: \"%s\" must be a string", who, strs[i]);
            return -1;
        }
    }
    const char *q = str_field(o, "question"), *a = str_field(o, "answer");
    if (!q || !*q) {
        snprintf(err, errlen, "%s: missing \"question\"", who);
        return -1;
    }
    if (!a || !*a) {
        snprintf(err, errlen, "%s: missing \"answer\"", who);
        return -1;
    }
    int fail = 0;
    e->enabled = 1;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled");
    if (en && !cJSON_IsBool(en)) {
        snprintf(err, errlen, "%s: \"enabled\" must be true or false", who);
        return -1;
    }
    if (en)
        e->enabled = cJSON_IsTrue(en);
    e->id = id && *id ? dup_opt(id, &fail) : kb_slug(q);
    if (!e->id) {
        snprintf(err, errlen, "%s: no \"id\" and the question has no letters to make one", who);
        return -1;
    }
    e->topic = dup_opt(str_field(o, "topic"), &fail);
    e->department = dup_opt(str_field(o, "department"), &fail);
    e->question = dup_opt(q, &fail);
    e->answer = dup_opt(a, &fail);
    e->answer_sms = dup_opt(str_field(o, "answer_sms"), &fail);

    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(o, "variants");
    if (vs && !cJSON_IsArray(vs) && !cJSON_IsNull(vs)) {
        snprintf(err, errlen, "%s: \"variants\" must be an array of strings", who);
        return -1;
    }
    int nv = cJSON_GetArraySize(vs);
    if (nv > 0 && !(e->variants = calloc((size_t)nv, sizeof *e->variants)))
        fail = 1;
    const cJSON *v;
    cJSON_ArrayForEach(v, vs) {
        if (fail)
            break;
        if (!cJSON_IsString(v)) {
            snprintf(err, errlen, "%s: variant %zu is not a string", who, e->n_variants + 1);
            return -1;
        }
        e->variants[e->n_variants++] = dup_opt(v->valuestring, &fail);
    }
    const cJSON *ks = cJSON_GetObjectItemCaseSensitive(o, "keywords");
    if (ks && !cJSON_IsArray(ks) && !cJSON_IsNull(ks)) {
        snprintf(err, errlen, "%s: \"keywords\" must be an array", who);
        return -1;
    }
    int nk = cJSON_GetArraySize(ks);
    if (nk > 0 && !(e->keywords = calloc((size_t)nk, sizeof *e->keywords)))
        fail = 1;
    cJSON_ArrayForEach(v, ks) {
        if (fail)
            break;
        const char *term = NULL;
        double w = 1.0;
        if (cJSON_IsString(v)) {
            term = v->valuestring;
        } else if (cJSON_IsObject(v)) {
            term = str_field(v, "term");
            const cJSON *wv = cJSON_GetObjectItemCaseSensitive(v, "weight");
            if (wv && !cJSON_IsNumber(wv)) {
                snprintf(err, errlen, "%s: keyword %zu: \"weight\" must be a number", who, e->n_keywords + 1);
                return -1;
            }
            if (wv)
                w = wv->valuedouble;
        }
        if (!term || !*term) {
            snprintf(err, errlen, "%s: keyword %zu has no \"term\"", who, e->n_keywords + 1);
            return -1;
        }
        if (!(w >= 0 && w <= 10)) {
            snprintf(err, errlen, "%s: keyword \"%.60s\": weight must be from 0 to 10", who, term);
            return -1;
        }
        e->keywords[e->n_keywords].weight = w;
        e->keywords[e->n_keywords++].term = dup_opt(term, &fail);
    }
    if (fail) {
        snprintf(err, errlen, "%s: out of memory", who);
        return -1;
    }
    return 0;
}

int kb_corpus_from_json(kb_corpus *c, const char *text, size_t len, char *err, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1;
        if (at && at >= text && at <= text + len)
            for (const char *p = text; p < at; p++)
                line += *p == '\n';
        snprintf(err, errlen, "JSON syntax error near line %zu", line);
        return -1;
    }
    int rc = -1;
    const cJSON *entries = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "entries");
    if (!cJSON_IsArray(entries)) {
        snprintf(err, errlen, "expected an object with an \"entries\" array");
        goto out;
    }
    const char *name = str_field(root, "name");
    if (name && !c->name && !(c->name = strdup(name))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t idx = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, entries) {
        kb_entry e;
        memset(&e, 0, sizeof e);
        if (entry_from_json(o, idx, &e, err, errlen) < 0) {
            kb_entry_clear(&e);
            goto out;
        }
        if (kb_corpus_add(c, &e) < 0) {
            snprintf(err, errlen, "entry %zu (\"%.80s\"): out of memory", idx + 1, e.id);
            kb_entry_clear(&e);
            goto out;
        }
        kb_entry_clear(&e);
        idx++;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

static int add_str(cJSON *o, const char *k, const char *v)
{
    if (!v)
        return 0;
    return cJSON_AddStringToObject(o, k, v) ? 0 : -1;
}

char *kb_corpus_to_json(const kb_corpus *c)
{
    if (!c)
        return NULL;
    cJSON *root = cJSON_CreateObject(), *arr;
    char *out = NULL;
    if (!root || !cJSON_AddNumberToObject(root, "version", 1) || add_str(root, "locale", "vi") < 0 ||
        add_str(root, "name", c->name) < 0 || !(arr = cJSON_AddArrayToObject(root, "entries")))
        goto out;
    for (size_t i = 0; i < c->n; i++) {
        const kb_entry *e = &c->entries[i];
        cJSON *o = cJSON_CreateObject(), *vs, *ks;
        if (!o)
            goto out;
        cJSON_AddItemToArray(arr, o);
        if (add_str(o, "id", e->id) < 0 || add_str(o, "topic", e->topic) < 0 ||
            add_str(o, "department", e->department) < 0 || add_str(o, "question", e->question) < 0 ||
            !(vs = cJSON_AddArrayToObject(o, "variants")))
            goto out;
        for (size_t j = 0; j < e->n_variants; j++) {
            cJSON *s = cJSON_CreateString(e->variants[j] ? e->variants[j] : "");
            if (!s)
                goto out;
            cJSON_AddItemToArray(vs, s);
        }
        if (!(ks = cJSON_AddArrayToObject(o, "keywords")))
            goto out;
        for (size_t j = 0; j < e->n_keywords; j++) {
            cJSON *k = cJSON_CreateObject();
            if (!k)
                goto out;
            cJSON_AddItemToArray(ks, k);
            if (add_str(k, "term", e->keywords[j].term ? e->keywords[j].term : "") < 0 ||
                !cJSON_AddNumberToObject(k, "weight", e->keywords[j].weight))
                goto out;
        }
        if (add_str(o, "answer", e->answer) < 0 || add_str(o, "answer_sms", e->answer_sms) < 0)
            goto out;
        if (!e->enabled && !cJSON_AddFalseToObject(o, "enabled"))
            goto out;
    }
    out = cJSON_Print(root);
out:
    cJSON_Delete(root);
    return out;
}

/* ---- files -------------------------------------------------------------- */

char *kb_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (n + 1 < cap)
            break;
        char *nb = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory (or larger than 1 GB)", path);
        fclose(f);
        return NULL;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

int kb_corpus_load_file(kb_corpus *c, const char *path, char *err, size_t errlen)
{
    int csv = ends_with(path, ".csv");
    if (!csv && !ends_with(path, ".json")) {
        snprintf(err, errlen, "%s: unknown corpus format (expected .json or .csv)", path);
        return -1;
    }
    size_t len;
    char *text = kb_read_file(path, &len, err, errlen);
    if (!text)
        return -1;
    char inner[400];
    int rc = csv ? kb_corpus_from_csv(c, text, len, inner, sizeof inner)
                 : kb_corpus_from_json(c, text, len, inner, sizeof inner);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, inner);
    free(text);
    return rc;
}
