/* bench_kb.c - the matcher's speed and memory, next to SQLite FTS5.
 *
 * Two corpora: the sample (knowledge/data/faq.json) and a generated one of
 * 10,000 entries made by recombining the sample's words (fixed seed, so
 * every run measures the same thing).  The queries are the development
 * sets' messages (../shared/eval/dev*.jsonl), or the sample's own questions
 * when those files are absent.  For each corpus: matches per second on one
 * core, p50 / p99 latency of one kb_match, the memory the index takes (RSS
 * growth while building, in MB), and the same queries as FTS5 OR-queries
 * ranked by bm25() over the same texts (tokenize = 'unicode61
 * remove_diacritics 2'), with the ratio.  Nothing is asserted; the targets
 * (>= 50,000/s at 80 entries, >= 20,000/s at 10,000) are printed beside the
 * figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>

#include "knowledge/kb.h"

#define GEN_ENTRIES 10000
#define KB_SECONDS 3.0
#define FTS_SECONDS 1.5

/* The thread's CPU time: "per second on one core" must not depend on what
 * else the machine is running (CI runners and shared boxes are busy). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size in MB, from /proc/self/statm. */
static double rss_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (double)resident * 4096.0 / (1024.0 * 1024.0);
}

typedef struct strs {
    char **v;
    size_t n, cap;
} strs;

static int strs_push(strs *s, const char *x)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        char **v = realloc(s->v, nc * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = nc;
    }
    if (!(s->v[s->n] = strdup(x)))
        return -1;
    s->n++;
    return 0;
}

static void strs_free(strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static void load_queries(strs *q, const kb_corpus *c)
{
    const char *files[] = {"../shared/eval/dev.jsonl", "../shared/eval/dev-hard.jsonl"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char err[512];
        char *text = kb_read_file(files[i], &len, err, sizeof err);
        if (!text)
            continue;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            cJSON *o = cJSON_Parse(line);
            const cJSON *t = cJSON_GetObjectItem(o, "text");
            if (cJSON_IsString(t))
                strs_push(q, t->valuestring);
            cJSON_Delete(o);
        }
        free(text);
    }
    if (q->n == 0)
        for (size_t i = 0; i < c->n; i++)
            strs_push(q, c->entries[i].question);
}

/* ---- generated corpus ---------------------------------------------------- */

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Words of a text split at spaces, appended to w. */
static void words_of(strs *w, const char *text)
{
    char *copy = strdup(text ? text : "");
    if (!copy)
        return;
    for (char *t = strtok(copy, " \n"); t; t = strtok(NULL, " \n"))
        strs_push(w, t);
    free(copy);
}

/* A sentence: template's words with about a third replaced by random words
 * of the sample (same vocabulary, new combinations). */
static char *recombine(const char *tmpl, const strs *vocab, size_t max_words)
{
    strs w = {0};
    words_of(&w, tmpl);
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    if (!out) {
        strs_free(&w);
        return NULL;
    }
    out[0] = '\0';
    for (size_t i = 0; i < w.n && i < max_words; i++) {
        const char *x = rnd(3) == 0 ? vocab->v[rnd((unsigned)vocab->n)] : w.v[i];
        size_t k = strlen(x);
        if (len + k + 2 > cap) {
            while (len + k + 2 > cap)
                cap *= 2;
            char *n2 = realloc(out, cap);
            if (!n2)
                break;
            out = n2;
        }
        if (len)
            out[len++] = ' ';
        memcpy(out + len, x, k + 1);
        len += k;
    }
    strs_free(&w);
    return out;
}

static kb_corpus *generate(const kb_corpus *sample, size_t n)
{
    strs vocab = {0};
    for (size_t i = 0; i < sample->n; i++) {
        const kb_entry *e = &sample->entries[i];
        words_of(&vocab, e->question);
        for (size_t j = 0; j < e->n_variants; j++)
            words_of(&vocab, e->variants[j]);
    }
    kb_corpus *c = kb_corpus_new();
    for (size_t i = 0; c && i < n; i++) {
        const kb_entry *t = &sample->entries[rnd((unsigned)sample->n)];
        kb_entry e;
        memset(&e, 0, sizeof e);
        char id[32], *vars[3];
        snprintf(id, sizeof id, "gen-%05zu-%04u", i, rnd(10000));
        e.id = id;
        e.enabled = 1;
        e.question = recombine(t->question, &vocab, 30);
        e.n_variants = t->n_variants < 3 ? t->n_variants : 3;
        for (size_t j = 0; j < e.n_variants; j++)
            vars[j] = recombine(t->variants[j], &vocab, 30);
        e.variants = vars;
        e.keywords = t->keywords;
        e.n_keywords = t->n_keywords;
        e.answer = recombine(sample->entries[rnd((unsigned)sample->n)].answer, &vocab, 80);
        if (e.question && e.answer)
            kb_corpus_add(c, &e);
        free(e.question);
        free(e.answer);
        for (size_t j = 0; j < e.n_variants; j++)
            free(vars[j]);
    }
    strs_free(&vocab);
    return c;
}

/* ---- the matcher --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct figures {
    double per_sec, p50_us, p99_us, mem_mb;
    size_t matches;
} figures;

/* Throughput is timed per pass over the queries (one clock read per pass:
 * a thread-CPU clock read costs about a microsecond here, a twentieth of a
 * small-corpus match); latency is timed per match in a second run. */
static void bench_kb(const kb *k, const strs *q, figures *fg)
{
    size_t cap = 1 << 20, n = 0;
    kb_params p = kb_params_default();
    kb_result r;
    double start = now(), end = start;
    while (end - start < KB_SECONDS / 2) {
        for (size_t i = 0; i < q->n; i++)
            kb_match(k, q->v[i], &p, &r);
        n += q->n;
        end = now();
    }
    fg->matches = n;
    fg->per_sec = n / (end - start);

    double *lat = malloc(cap * sizeof *lat);
    n = 0;
    start = end = now();
    while (lat && end - start < KB_SECONDS / 2 && n < cap) {
        for (size_t i = 0; i < q->n && n < cap; i++) {
            double t0 = now();
            kb_match(k, q->v[i], &p, &r);
            double t1 = now();
            lat[n++] = t1 - t0;
        }
        end = now();
    }
    if (n) {
        qsort(lat, n, sizeof *lat, cmp_double);
        fg->p50_us = lat[n / 2] * 1e6;
        fg->p99_us = lat[n * 99 / 100] * 1e6;
    }
    free(lat);
}

/* ---- SQLite FTS5 --------------------------------------------------------- */

static sqlite3 *fts_build(const kb_corpus *c)
{
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return NULL;
    sqlite3_exec(db, "CREATE VIRTUAL TABLE f USING fts5(id UNINDEXED, question, variants, keywords, answer,"
                     " tokenize = 'unicode61 remove_diacritics 2'); BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO f VALUES (?, ?, ?, ?, ?)", -1, &st, NULL);
    for (size_t i = 0; i < c->n; i++) {
        const kb_entry *e = &c->entries[i];
        char vars[4096] = "", kws[1024] = "";
        for (size_t j = 0; j < e->n_variants; j++)
            snprintf(vars + strlen(vars), sizeof vars - strlen(vars), "%s\n", e->variants[j]);
        for (size_t j = 0; j < e->n_keywords; j++)
            snprintf(kws + strlen(kws), sizeof kws - strlen(kws), "%s\n", e->keywords[j].term);
        sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, e->question, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, vars, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, kws, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, e->answer, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return db;
}

/* "a b c" -> "\"a\" OR \"b\" OR \"c\"" over the message's words. */
static void fts_query(const char *text, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    const char *p = text;
    while (*p) {
        while (*p && (unsigned char)*p < 0x80 && !((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z')))
            p++;
        const char *s = p;
        while (*p && ((unsigned char)*p >= 0x80 || (*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z')))
            p++;
        if (p > s && len + (size_t)(p - s) + 8 < cap) {
            len += (size_t)snprintf(out + len, cap - len, "%s\"%.*s\"", len ? " OR " : "", (int)(p - s), s);
        }
    }
}

static void bench_fts(sqlite3 *db, const strs *q, figures *fg)
{
    sqlite3_stmt *st;
    fg->matches = 0;
    if (!db || sqlite3_prepare_v2(db, "SELECT id FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT 3", -1, &st,
                                  NULL) != SQLITE_OK)
        return;
    size_t cap = 1 << 16, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    char buf[8192];
    double start = now(), end = start;
    while (lat && end - start < FTS_SECONDS && n < cap) {
        for (size_t i = 0; i < q->n && n < cap && end - start < FTS_SECONDS; i++) {
            fts_query(q->v[i], buf, sizeof buf);
            if (!buf[0])
                continue;
            double t0 = now();
            sqlite3_bind_text(st, 1, buf, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW)
                ;
            sqlite3_reset(st);
            double t1 = now();
            lat[n++] = t1 - t0;
            end = t1;
        }
    }
    sqlite3_finalize(st);
    fg->matches = n;
    fg->per_sec = n / (end - start);
    if (n) {
        qsort(lat, n, sizeof *lat, cmp_double);
        fg->p50_us = lat[n / 2] * 1e6;
        fg->p99_us = lat[n * 99 / 100] * 1e6;
    }
    free(lat);
}

static void run(const char *name, const kb_corpus *c, const kb_lexicon *lex, const strs *q, double target)
{
    malloc_trim(0);
    double before = rss_mb();
    double t0 = now();
    kb *k = kb_build(c, lex);
    double build_s = now() - t0;
    malloc_trim(0);   /* what the index keeps, not the building's garbage */
    double after = rss_mb();
    if (!k) {
        fprintf(stderr, "bench_kb: kb_build failed for %s\n", name);
        return;
    }
    figures m = {0}, f = {0};
    m.mem_mb = after - before;
    bench_kb(k, q, &m);
    double fb = rss_mb();
    sqlite3 *db = fts_build(c);
    f.mem_mb = rss_mb() - fb;
    bench_fts(db, q, &f);
    sqlite3_close(db);
    printf("\n%s: %zu entries, %zu queries (index built in %.0f ms)\n", name, c->n, q->n, build_s * 1000);
    printf("  %-28s %12s %10s %10s %9s\n", "", "matches/s", "p50 us", "p99 us", "mem MB");
    printf("  %-28s %12.0f %10.1f %10.1f %9.1f   target >= %.0f/s: %s\n", "kb_match", m.per_sec, m.p50_us,
           m.p99_us, m.mem_mb, target, m.per_sec >= target ? "met" : "NOT MET");
    printf("  %-28s %12.0f %10.1f %10.1f %9.1f\n", "FTS5 OR + bm25()", f.per_sec, f.p50_us, f.p99_us, f.mem_mb);
    if (f.per_sec > 0)
        printf("  %-28s %12.1fx\n", "ratio kb / FTS5", m.per_sec / f.per_sec);
    kb_free(k);
}

int main(void)
{
    char err[512];
    kb_corpus *sample = kb_corpus_new();
    kb_lexicon *lex = kb_lexicon_load_file("knowledge/data/lexicon.json", err, sizeof err);
    if (!sample || !lex || kb_corpus_load_file(sample, "knowledge/data/faq.json", err, sizeof err) < 0) {
        fprintf(stderr, "bench_kb: %s (run from the repository root)\n", err);
        return 1;
    }
    strs q = {0};
    load_queries(&q, sample);
    printf("bench_kb: one core (thread CPU time), kb_match with the shipped defaults vs SQLite %s FTS5\n",
           sqlite3_libversion());
    run("sample corpus", sample, lex, &q, 50000);
    kb_corpus *gen = generate(sample, GEN_ENTRIES);
    if (gen)
        run("generated corpus", gen, lex, &q, 20000);
    kb_corpus_free(gen);
    kb_corpus_free(sample);
    kb_lexicon_free(lex);
    strs_free(&q);
    return 0;
}
