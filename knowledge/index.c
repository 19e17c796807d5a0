/* index.c - building the immutable inverted index a kb matches against.
 *
 * Every enabled entry's question, variants, admin keywords, topic and answer
 * are analysed exactly like a citizen's message (text.c, then the lexicon),
 * and each syllable and syllable bigram becomes a term, once folded and,
 * when it carries marks, once exact.  A term's posting says, for each entry
 * holding it, the weight of the best field it appears in:
 *
 *   question 1.0, variant 0.9, keyword 0.5 + 0.2 x admin weight (capped),
 *   topic 0.6, answer 0.35
 *
 * The answer is long and says more than the question, so it may help rank
 * an entry but must count for little; a keyword an admin weighted 3 counts
 * more than the question itself.  Terms are weighed by rarity across entries
 * (BM25's idf), counting an entry whose answer alone holds the term as a
 * third of an occurrence.  Matching then touches only the postings of the
 * message's terms, never every entry. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knowledge/kb_internal.h"

const char *const kb_field_names[KB_F_COUNT] = {"question", "variant", "keyword", "topic", "answer"};

#define FW_QUESTION 1.0f
#define FW_VARIANT ((float)KB_TUNABLE(FW_VARIANT, 0.9))
#define FW_TOPIC ((float)KB_TUNABLE(FW_TOPIC, 0.6))
#define FW_ANSWER ((float)KB_TUNABLE(FW_ANSWER, 0.7))   /* for an entry that has only its question */
#define KW_BASE KB_TUNABLE(KW_BASE, 0.5)
#define KW_SLOPE KB_TUNABLE(KW_SLOPE, 0.3)
#define KW_LONG_BIGRAM ((float)KB_TUNABLE(KW_LONG_BIGRAM, 1.0))
#define DF_ANSWER KB_TUNABLE(DF_ANSWER, 0.3)   /* an answer-only occurrence, as a share of one */

/* The weight of an admin keyword: 1 -> 0.7, 2.5 -> 1.0, 3 -> 1.1, capped at
 * 1.3 so one keyword cannot drown the rest of an entry. */
static float keyword_weight(double w)
{
    double f = KW_BASE + KW_SLOPE * w;
    return (float)(f > 1.3 ? 1.3 : f);
}

size_t kb_term_key(const kb_tok *a, const kb_tok *b, int exact, char *buf, size_t cap)
{
    const char *x = a->fold, *y = b ? b->fold : NULL;
    size_t len = 0;
    if (exact) {
        if (!a->exact[0] && !(b && b->exact[0]))
            return 0;
        if (a->exact[0])
            x = a->exact;
        if (b && b->exact[0])
            y = b->exact;
        buf[len++] = '=';
    }
    size_t nx = x == a->fold ? a->flen : a->elen;
    size_t ny = !y ? 0 : y == b->fold ? b->flen : b->elen;
    if (len + nx + ny + 2 > cap)
        return 0;
    memcpy(buf + len, x, nx);
    len += nx;
    if (y) {
        buf[len++] = ' ';
        memcpy(buf + len, y, ny);
        len += ny;
    }
    buf[len] = '\0';
    return len;
}

int kb_analyse_buf(const kb_lexicon *lex, const char *text, kb_toks *raw, kb_toks *out)
{
    raw->n = 0;
    raw->has_marks = 0;
    out->n = 0;
    out->has_marks = 0;
    int rc = kb_tokenize(text, strlen(text), raw);
    if (rc == 0)
        rc = kb_lexicon_apply(lex, raw, out);
    return rc;
}

int kb_analyse(const kb_lexicon *lex, const char *text, kb_toks *out)
{
    kb_toks raw = {0};
    int rc = kb_analyse_buf(lex, text, &raw, out);
    kb_toks_free(&raw);
    return rc;
}

/* One (term, entry) occurrence while building. */
typedef struct occ {
    uint32_t term, entry, fterm;   /* fterm: folded twin of an exact term */
    float w;
    uint8_t field;
} occ;

typedef struct builder {
    kb *k;
    size_t capdocs, capdterms;
    occ *occ;
    size_t nocc, capocc;
    size_t entry_start;        /* first occ of the current entry */
    uint32_t *last;            /* term -> 1 + entry that last used it */
    uint32_t *slot;            /* term -> its occ in the current entry */
    size_t capterms;
} builder;

static int term_id(builder *b, const char *key, size_t klen, int bigram, int exact, uint32_t *id)
{
    kb *k = b->k;
    if (kb_map_get(&k->terms, key, klen, id))
        return 0;
    if (k->nterms == b->capterms) {
        size_t nc = b->capterms ? b->capterms * 2 : 4096;
        kb_termrec *t = realloc(k->term, nc * sizeof *t);
        if (!t)
            return -1;
        k->term = t;
        uint32_t *l = realloc(b->last, nc * sizeof *l);
        if (!l)
            return -1;
        b->last = l;
        uint32_t *s = realloc(b->slot, nc * sizeof *s);
        if (!s)
            return -1;
        b->slot = s;
        b->capterms = nc;
    }
    *id = (uint32_t)k->nterms;
    memset(&k->term[*id], 0, sizeof k->term[0]);
    k->term[*id].bigram = (uint8_t)bigram;
    k->term[*id].exact = (uint8_t)exact;
    b->last[*id] = 0;
    if (kb_map_put(&k->terms, key, klen, *id) < 0)
        return -1;
    k->nterms++;
    return 0;
}

/* Records that entry e holds the term in field f with weight w, keeping the
 * best field per (term, entry). */
static int note(builder *b, uint32_t e, uint32_t term, uint32_t fterm, float w, int f)
{
    if (b->last[term] == e + 1) {
        occ *o = &b->occ[b->slot[term]];
        if (w > o->w) {
            o->w = w;
            o->field = (uint8_t)f;
        }
        return 0;
    }
    if (b->nocc == b->capocc) {
        size_t nc = b->capocc ? b->capocc * 2 : 65536;
        occ *v = realloc(b->occ, nc * sizeof *v);
        if (!v)
            return -1;
        b->occ = v;
        b->capocc = nc;
    }
    b->last[term] = e + 1;
    b->slot[term] = (uint32_t)b->nocc;
    b->occ[b->nocc++] = (occ){term, e, fterm, w, (uint8_t)f};
    return 0;
}

/* Starts a new document (question or variant) of the current entry. */
static int doc_open(builder *b)
{
    kb *k = b->k;
    if (k->ndocs + 2 > b->capdocs) {
        size_t nc = b->capdocs ? b->capdocs * 2 : 1024;
        uint32_t *v = realloc(k->doc_off, nc * sizeof *v);
        if (!v)
            return -1;
        k->doc_off = v;
        b->capdocs = nc;
    }
    k->doc_off[k->ndocs++] = (uint32_t)k->ndterms;
    k->doc_off[k->ndocs] = (uint32_t)k->ndterms;
    return 0;
}

/* Adds a distinct term to the open document. */
static int doc_term(builder *b, uint32_t term, float w)
{
    kb *k = b->k;
    for (size_t i = k->doc_off[k->ndocs - 1]; i < k->ndterms; i++)
        if (k->dterm[i] == term) {
            if (w > k->dweight[i])
                k->dweight[i] = w;
            return 0;
        }
    if (k->ndterms == b->capdterms) {
        size_t nc = b->capdterms ? b->capdterms * 2 : 8192;
        uint32_t *t = realloc(k->dterm, nc * sizeof *t);
        if (!t)
            return -1;
        k->dterm = t;
        float *w2 = realloc(k->dweight, nc * sizeof *w2);
        if (!w2)
            return -1;
        k->dweight = w2;
        b->capdterms = nc;
    }
    k->dterm[k->ndterms] = term;
    k->dweight[k->ndterms++] = w;
    k->doc_off[k->ndocs] = (uint32_t)k->ndterms;
    return 0;
}

/* The less an entry says about how it is asked (variants), the more its
 * answer has to tell: 0.7 for a bare question and answer (a city's
 * imported FAQ), 0.35 with three variants. */
static float answer_weight(const kb_entry *e)
{
    return FW_ANSWER / (1.0f + (float)e->n_variants / 3.0f);
}

static int add_text(builder *b, uint32_t e, const char *text, int f, float w, kb_toks *toks)
{
    if (!text || !*text)
        return 0;
    if (kb_analyse(b->k->lex, text, toks) < 0)
        return 0;   /* invalid UTF-8 in an entry: that field is skipped */
    int doc = f == KB_F_QUESTION || f == KB_F_VARIANT;
    if (doc && doc_open(b) < 0)
        return -1;
    char key[2 * KB_TOKLEN + 24];
    for (size_t i = 0; i < toks->n; i++) {
        for (int bi = 0; bi < 2; bi++) {
            const kb_tok *nx = NULL;
            if (bi) {
                if (i + 1 >= toks->n)
                    break;
                nx = &toks->v[i + 1];
            }
            uint32_t ft, xt;
            size_t kl = kb_term_key(&toks->v[i], nx, 0, key, sizeof key);
            if (!kl)
                continue;
            /* An admin keyword of several syllables is about the phrase:
             * each syllable alone counts like a variant's, and in a keyword
             * longer than two syllables ("hộ chiếu vắc xin") each bigram
             * like the question's; a two-syllable keyword's weight goes to
             * its bigram. */
            float tw = w;
            if (f == KB_F_KEYWORD && toks->n > 1) {
                float cap = !nx ? FW_VARIANT : toks->n > 2 ? KW_LONG_BIGRAM : tw;
                if (tw > cap)
                    tw = cap;
            }
            if (term_id(b, key, kl, bi, 0, &ft) < 0 || note(b, e, ft, ft, tw, f) < 0)
                return -1;
            if (doc) {
                float tw = toks->v[i].weight;
                if (nx && nx->weight < tw)
                    tw = nx->weight;
                if (tw > 0 && doc_term(b, ft, tw) < 0)
                    return -1;
            }
            /* The answer counts for little: its exact forms are not kept
             * (they would be a third of a large index). */
            kl = f == KB_F_ANSWER ? 0 : kb_term_key(&toks->v[i], nx, 1, key, sizeof key);
            if (kl && (term_id(b, key, kl, bi, 1, &xt) < 0 || note(b, e, xt, ft, tw, f) < 0))
                return -1;
        }
    }
    return 0;
}

/* Sorts the occurrences by (term, entry).  They were recorded entry by
 * entry, so a stable counting sort by term is enough (and linear, where a
 * comparison sort of millions of them took a third of building). */
static int sort_occ(builder *b)
{
    kb *k = b->k;
    if (b->nocc == 0)
        return 0;
    uint32_t *start = calloc(k->nterms + 1, sizeof *start);
    occ *sorted = malloc(b->nocc * sizeof *sorted);
    if (!start || !sorted) {
        free(start);
        free(sorted);
        return -1;
    }
    for (size_t i = 0; i < b->nocc; i++)
        start[b->occ[i].term + 1]++;
    for (size_t t = 0; t < k->nterms; t++)
        start[t + 1] += start[t];
    for (size_t i = 0; i < b->nocc; i++)
        sorted[start[b->occ[i].term]++] = b->occ[i];
    free(start);
    free(b->occ);
    b->occ = sorted;
    b->capocc = b->nocc;
    return 0;
}

/* Remembers which "human" phrases entry e's own text contains. */
static void note_human(kb *k, uint32_t e, const kb_toks *toks)
{
    for (size_t i = 0; i < toks->n; i++) {
        uint32_t h = toks->v[i].human;
        if (!h || (i > 0 && toks->v[i - 1].human == h))
            continue;
        for (int j = 0; j < KB_HUMAN_MAX; j++) {
            if (k->human_entry[e][j] == h)
                break;
            if (k->human_entry[e][j] == 0) {
                k->human_entry[e][j] = h;
                break;
            }
        }
    }
}

static int index_entries(builder *b)
{
    kb *k = b->k;
    kb_toks toks = {0};
    int rc = -1;
    for (uint32_t e = 0; e < k->n; e++) {
        const kb_entry *en = &k->entries[e];
        k->doc_first[e] = (uint32_t)k->ndocs;
        if (add_text(b, e, en->question, KB_F_QUESTION, FW_QUESTION, &toks) < 0)
            goto out;
        note_human(k, e, &toks);
        for (size_t i = 0; i < en->n_variants; i++) {
            if (add_text(b, e, en->variants[i], KB_F_VARIANT, FW_VARIANT, &toks) < 0)
                goto out;
            note_human(k, e, &toks);
        }
        for (size_t i = 0; i < en->n_keywords; i++) {
            if (en->keywords[i].weight <= 0)
                continue;
            if (add_text(b, e, en->keywords[i].term, KB_F_KEYWORD, keyword_weight(en->keywords[i].weight),
                         &toks) < 0)
                goto out;
            note_human(k, e, &toks);
        }
        if (add_text(b, e, en->topic, KB_F_TOPIC, FW_TOPIC, &toks) < 0 ||
            add_text(b, e, en->answer, KB_F_ANSWER, answer_weight(en), &toks) < 0)
            goto out;
    }
    k->doc_first[k->n] = (uint32_t)k->ndocs;
    rc = 0;
out:
    kb_toks_free(&toks);
    return rc;
}

static uint16_t q16(float w)
{
    float x = w * KB_WSCALE + 0.5f;
    return (uint16_t)(x > 65535.0f ? 65535.0f : x);
}

static uint8_t q8(float w)
{
    float x = w * KB_WFSCALE + 0.5f;
    return (uint8_t)(x > 255.0f ? 255.0f : x);
}

/* Sorts the occurrences into postings (and the forward index) and computes
 * each term's idf. */
static int make_postings(builder *b)
{
    kb *k = b->k;
    if (sort_occ(b) < 0)
        return -1;
    k->posts = malloc((b->nocc ? b->nocc : 1) * sizeof *k->posts);
    k->fwd = malloc((b->nocc ? b->nocc : 1) * sizeof *k->fwd);
    k->fwd_off = calloc(k->n + 1, sizeof *k->fwd_off);
    if (!k->posts || !k->fwd || !k->fwd_off)
        return -1;
    k->nposts = b->nocc;
    double N = (double)k->n;
    for (size_t i = 0; i < b->nocc;) {
        uint32_t t = b->occ[i].term;
        kb_termrec *tr = &k->term[t];
        tr->off = (uint32_t)i;
        double df = 0;
        for (; i < b->nocc && b->occ[i].term == t; i++) {
            const occ *o = &b->occ[i];
            k->posts[i] = (kb_post){o->entry, q16(o->w), 0, o->field};
            df += o->field == KB_F_ANSWER ? DF_ANSWER : 1.0;
        }
        tr->n = (uint32_t)(i - tr->off);
        tr->idf = (float)log(1.0 + (N - df + 0.5) / (df + 0.5));
    }
    /* An exact term's posting remembers the folded twin's weight in the same
     * entry, so matching can tell how much the exact form adds. */
    for (size_t i = 0; i < b->nocc; i++) {
        const occ *o = &b->occ[i];
        if (!k->term[o->term].exact)
            continue;
        uint32_t lo = k->term[o->fterm].off, hi = lo + k->term[o->fterm].n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (k->posts[mid].entry < o->entry)
                lo = mid + 1;
            else
                hi = mid;
        }
        float wf = lo < k->term[o->fterm].off + k->term[o->fterm].n && k->posts[lo].entry == o->entry
                       ? k->posts[lo].w / KB_WSCALE : o->w;
        k->posts[i].wf = q8(wf);
    }
    /* The forward index: occurrences are sorted by term, so appending each
     * to its entry's range keeps every range sorted by term. */
    for (size_t i = 0; i < b->nocc; i++)
        k->fwd_off[b->occ[i].entry + 1]++;
    for (size_t e = 0; e < k->n; e++)
        k->fwd_off[e + 1] += k->fwd_off[e];
    uint32_t *fill = malloc((k->n ? k->n : 1) * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, k->fwd_off, k->n * sizeof *fill);
    for (size_t i = 0; i < b->nocc; i++) {
        const occ *o = &b->occ[i];
        k->fwd[fill[o->entry]++] = (kb_fwd){o->term, q16(o->w), o->field, 0};
    }
    free(fill);
    k->idf_unknown = log(1.0 + (N + 0.5) / 0.5);
    /* Documents' term weights are final once the idf is known. */
    k->doc_all = calloc(k->ndocs ? k->ndocs : 1, sizeof *k->doc_all);
    if (!k->doc_all)
        return -1;
    for (size_t d = 0; d < k->ndocs; d++)
        for (uint32_t i = k->doc_off[d]; i < k->doc_off[d + 1]; i++) {
            const kb_termrec *tr = &k->term[k->dterm[i]];
            k->dweight[i] *= tr->idf * (float)(tr->bigram ? KB_BIGRAM_FACTOR : 1.0);
            k->doc_all[d] += k->dweight[i];
        }
    return 0;
}

kb *kb_build(const kb_corpus *c, const kb_lexicon *lex)
{
    if (!c)
        return NULL;
    builder b;
    memset(&b, 0, sizeof b);
    kb *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    b.k = k;
    kb_map_init(&k->terms);
    if (lex && !(k->lex = kb_lexicon_dup(lex)))
        goto fail;
    k->entries = calloc(c->n ? c->n : 1, sizeof *k->entries);
    k->human_entry = calloc(c->n ? c->n : 1, sizeof *k->human_entry);
    k->doc_first = calloc(c->n + 1, sizeof *k->doc_first);
    if (!k->entries || !k->human_entry || !k->doc_first || doc_open(&b) < 0)
        goto fail;
    k->ndocs = 0;   /* doc_open above only made room for the end marker */
    for (size_t i = 0; i < c->n; i++) {
        if (!c->entries[i].enabled || !c->entries[i].id || !c->entries[i].question)
            continue;
        if (kb_entry_copy(&k->entries[k->n], &c->entries[i]) < 0)
            goto fail;
        k->n++;
    }
    if (index_entries(&b) < 0 || make_postings(&b) < 0)
        goto fail;
    free(b.occ);
    free(b.last);
    free(b.slot);
    return k;
fail:
    free(b.occ);
    free(b.last);
    free(b.slot);
    kb_free(k);
    return NULL;
}

void kb_free(kb *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        kb_entry_clear(&k->entries[i]);
    free(k->entries);
    free(k->human_entry);
    kb_lexicon_free(k->lex);
    kb_map_free(&k->terms);
    free(k->term);
    free(k->posts);
    free(k->fwd);
    free(k->fwd_off);
    free(k->doc_first);
    free(k->doc_off);
    free(k->dterm);
    free(k->dweight);
    free(k->doc_all);
    free(k);
}

size_t kb_size(const kb *k)
{
    return k ? k->n : 0;
}

const kb_entry *kb_entry_at(const kb *k, size_t i)
{
    return k && i < k->n ? &k->entries[i] : NULL;
}

const kb_entry *kb_find(const kb *k, const char *id)
{
    if (!k || !id)
        return NULL;
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->entries[i].id, id) == 0)
            return &k->entries[i];
    return NULL;
}
