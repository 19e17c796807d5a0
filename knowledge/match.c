/* match.c - scoring a message against the index and deciding what to do.
 *
 * A message's terms (syllables and the syllable bigrams the corpus knows)
 * each carry an importance q = idf x lexicon weight; bigrams count for a
 * little less than their rarity says because their syllables count too.  A
 * syllable no entry contains still counts, at the weight of a rare word: it
 * is something the message says that no entry explains ("tiêm vắc xin cúm"
 * is not a question about the COVID vaccine).  A term found in most
 * entries says nothing and is ignored.
 *
 * For an entry, each term is matched with the weight of the best field that
 * holds it (index.c).  When the citizen typed the term with diacritics and
 * the corpus has that exact form somewhere, a folded-only match counts
 * EXACT_PENALTY of an exact one: "bao lâu" must not be taken for "bảo lưu".
 *
 * Ranking uses the sum of q x field weight.  The confidence is NOT that raw
 * score (see confidence()): it measures how much of the message the entry
 * explains and how much of the entry's own wording the message has, so a
 * long message about something else cannot look certain because it shares
 * three words, and a short, fully explained one can.  The decision then
 * asks that the top entry be confident enough (threshold) and ahead of the
 * runner-up (gap).
 *
 * Cost: only the postings of the message's terms are walked, and in a large
 * corpus not even those of its commonest terms: they are scored for the
 * POOL best entries only, from the forward index. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knowledge/kb_internal.h"

#ifdef KB_TUNING
double kb_tune(const char *name, double def)
{
    static const char *names[64];
    static double vals[64];
    for (int i = 0; i < 64; i++) {
        if (names[i] == name)
            return vals[i];
        if (!names[i]) {
            const char *v = getenv(name);
            vals[i] = v ? atof(v) : def;
            names[i] = name;
            return vals[i];
        }
    }
    return def;
}
#endif

/* Tuning, chosen on the development sets (knowledge/README.md). */
#define EXACT_PENALTY KB_TUNABLE(EXACT_PENALTY, 0.8)   /* folded-only match of a term typed with marks */
#define BIGRAM_FACTOR KB_BIGRAM_FACTOR
#define UNKNOWN_FACTOR KB_TUNABLE(UNKNOWN_FACTOR, 0.6) /* a syllable no entry has, x the rarest's idf */
#define NUMBER_FACTOR KB_TUNABLE(NUMBER_FACTOR, 0.25)  /* an unknown number (house number, date) */
#define KNOWN_NUMBER KB_TUNABLE(KNOWN_NUMBER, 0.5)     /* a number some entry has: often a coincidence */
#define IDF_FLOOR KB_TUNABLE(IDF_FLOOR, 0.5)           /* in over ~60% of entries: ignored */
#define MIN_INFO KB_TUNABLE(MIN_INFO, 1.0)             /* less informative weight: no question at all */
#define MIN_SCORE KB_TUNABLE(MIN_SCORE, 2.0)           /* less than one telling word matched: no match */
#define NO_MATCH_BELOW KB_TUNABLE(NO_MATCH_BELOW, 0.2) /* confidence: no_match rather than low_confidence */
#define CONF_A KB_TUNABLE(CONF_A, 0.35)                /* confidence when none of the entry's wording is there */
#define LEAD_CONF KB_TUNABLE(LEAD_CONF, 0.35)          /* clear_lead(): least confidence, */
#define LEAD_GAP KB_TUNABLE(LEAD_GAP, 0.05)            /* least lead in confidence, */
#define LEAD_OWN KB_TUNABLE(LEAD_OWN, 0.12)            /* least share only the top explains, */
#define LEAD_RATIO KB_TUNABLE(LEAD_RATIO, 0.4)         /* most the runner-up's own share, x the top's */
#define POOL 12                                        /* candidates scored in full */
#define DEFER_MIN 256                                  /* a term with fewer postings is always walked, */
#define DEFER_DIV 64                                   /* or with fewer than this share of the corpus */
#define AHEAD_SLOTS (1 << 15)                          /* a larger term table: fetch its slots ahead */

kb_params kb_params_default(void)
{
    kb_params p = {KB_TUNABLE(THRESHOLD, 0.34), KB_TUNABLE(GAP, 0.18)};
    return p;
}

const char *kb_reason_name(kb_reason r)
{
    switch (r) {
    case KB_REASON_NONE: return "none";
    case KB_NO_MATCH: return "no_match";
    case KB_AMBIGUOUS: return "ambiguous";
    case KB_LOW_CONFIDENCE: return "low_confidence";
    case KB_ASKED_HUMAN: return "asked_for_human";
    }
    return "unknown";
}

typedef struct qterm {
    uint32_t ft;      /* folded term */
    int32_t xt;       /* exact term, -1 when the writer typed no marks or the corpus lacks it */
    double q;         /* importance in this message */
    int deferred;     /* too common to walk: scored for pooled entries only */
} qterm;

/* Per-thread accumulators, one slot per entry, reset after each match by
 * walking the touched list: a kb may be shared by threads, and clearing
 * 10,000 slots per message would cost more than the match. */
static _Thread_local struct {
    float *score, *cov;   /* per entry: score and message coverage of the walked terms */
    uint32_t *touched;
    size_t cap;
    kb_toks raw, toks;    /* the message's syllables, before and after the lexicon */
} S;

void kb_thread_cleanup(void)
{
    free(S.score);
    free(S.cov);
    free(S.touched);
    kb_toks_free(&S.raw);
    kb_toks_free(&S.toks);
    memset(&S, 0, sizeof S);
}

/* The message's terms as a small hash set: term number -> its place in the
 * message's term list.  It lives on the stack and stays in the L1 cache,
 * where an array over all of a large index's terms would miss on almost
 * every look-up. */
#define QSET_MAX 2048      /* > 2 x the most terms a message can have (4 per syllable) */
_Static_assert(QSET_MAX >= 8 * KB_MAXTOKS, "the message term set must stay at most half full");

typedef struct qset {
    uint32_t key[QSET_MAX];   /* term + 1, 0 = empty */
    uint32_t slot[QSET_MAX];
    uint32_t mask;
    int shift;
} qset;

static void qset_init(qset *s, size_t nsyl)
{
    size_t cap = 64;
    int bits = 6;
    while (cap < 8 * nsyl && cap < QSET_MAX) {
        cap *= 2;
        bits++;
    }
    s->mask = (uint32_t)cap - 1;
    s->shift = 32 - bits;
    memset(s->key, 0, cap * sizeof s->key[0]);
}

static inline uint32_t qset_pos(const qset *s, uint32_t t)
{
    return (uint32_t)(t * 0x9E3779B1u) >> s->shift;
}

/* 1 and *slot when term t is in the set. */
static inline int qset_get(const qset *s, uint32_t t, uint32_t *slot)
{
    for (uint32_t i = qset_pos(s, t);; i = (i + 1) & s->mask) {
        if (s->key[i] == t + 1) {
            *slot = s->slot[i];
            return 1;
        }
        if (s->key[i] == 0)
            return 0;
    }
}

static inline int qset_has(const qset *s, uint32_t t)
{
    uint32_t slot;
    return qset_get(s, t, &slot);
}

static inline void qset_put(qset *s, uint32_t t, uint32_t slot)
{
    uint32_t i = qset_pos(s, t);
    while (s->key[i] != 0)
        i = (i + 1) & s->mask;
    s->key[i] = t + 1;
    s->slot[i] = slot;
}

static int scratch(size_t n)
{
    if (n <= S.cap)
        return 0;
    float *sc = calloc(n, sizeof *sc), *cv = calloc(n, sizeof *cv);
    uint32_t *t = malloc((n + 1) * sizeof *t);   /* the walk writes one past the touched */
    if (!sc || !cv || !t) {
        free(sc);
        free(cv);
        free(t);
        return -1;
    }
    free(S.score);
    free(S.cov);
    free(S.touched);
    S.score = sc;
    S.cov = cv;
    S.touched = t;
    S.cap = n;
    return 0;
}

#define XBIT 0x80000000u     /* the slot of an exact term */

/* A message term by term number, for merging with an entry's forward
 * index: slot is its place in the message's term list (| XBIT for an exact
 * term). */
typedef struct qkey {
    uint32_t term, slot;
} qkey;

/* Sorts by term (all distinct): insertion sort for a few, else a bottom-up
 * merge sort through a second buffer. */
static void qkey_sort(qkey *v, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            qkey x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1].term > x.term; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    qkey tmp[4 * KB_MAXTOKS], *a = v, *b = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                b[o++] = a[i].term < a[j].term ? a[i++] : a[j++];
            while (i < mid)
                b[o++] = a[i++];
            while (j < hi)
                b[o++] = a[j++];
        }
        qkey *x = a;
        a = b;
        b = x;
    }
    if (a != v)
        memcpy(v, a, n * sizeof *v);
}

/* How well entry e matches each of the message's terms: m[i] in [0, 1.3]
 * (0: absent), with the field and whether the exact form matched.  The
 * message's terms, sorted by number (qk, nk), are looked up in the entry's
 * forward index, which is sorted by term too: each by galloping search from
 * where the previous one was found, so an entry with a long answer costs a
 * few probes per message term rather than a pass over all its terms. */
static void entry_match(const kb *k, const qterm *qt, size_t nq, const qkey *qk, size_t nk, uint32_t e,
                        float *m, uint8_t *field, uint8_t *exact)
{
    float mx[2 * KB_MAXTOKS];
    uint8_t fx[2 * KB_MAXTOKS];
    for (size_t i = 0; i < nq; i++)
        m[i] = mx[i] = 0;
    const kb_fwd *f = k->fwd;
    uint32_t lo = k->fwd_off[e], end = k->fwd_off[e + 1];
    for (size_t j = 0; j < nk && lo < end; j++) {
        uint32_t t = qk[j].term, hi = end;
        /* galloping: the next message term is often near */
        for (uint32_t step = 1; lo + step < end; step *= 2) {
            if (f[lo + step].term >= t) {
                hi = lo + step + 1;
                break;
            }
            lo += step;
        }
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (f[mid].term < t)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == end || f[lo].term != t)
            continue;
        uint32_t slot = qk[j].slot;
        if (slot & XBIT) {
            mx[slot & ~XBIT] = f[lo].w / KB_WSCALE;
            fx[slot & ~XBIT] = f[lo].field;
        } else {
            m[slot] = f[lo].w / KB_WSCALE;
            field[slot] = f[lo].field;
        }
        lo++;
    }
    for (size_t i = 0; i < nq; i++) {
        exact[i] = 0;
        /* answers keep no exact forms (index.c): no penalty there either */
        if (qt[i].xt < 0 || m[i] == 0 || field[i] == KB_F_ANSWER)
            continue;
        m[i] *= (float)EXACT_PENALTY;
        if (mx[i] > 0 && mx[i] >= m[i]) {
            m[i] = mx[i];
            field[i] = fx[i];
            exact[i] = 1;
        }
    }
}

/* Fills the explanation of candidate c: which terms gave how much, the
 * KB_MAX_TERMS largest first. */
static void explain(const kb *k, const qterm *qt, size_t nq, const float *m, const uint8_t *field,
                    const uint8_t *exact, kb_candidate *c)
{
    /* the KB_MAX_TERMS largest contributions, as indices sorted by score */
    uint16_t best[KB_MAX_TERMS];
    double sc[KB_MAX_TERMS];
    size_t nb = 0;
    for (size_t i = 0; i < nq; i++) {
        if (m[i] <= 0)
            continue;
        double s = qt[i].q * m[i];
        size_t pos = nb;
        while (pos > 0 && sc[pos - 1] < s)
            pos--;
        if (pos >= KB_MAX_TERMS)
            continue;
        size_t last = nb < KB_MAX_TERMS ? nb : KB_MAX_TERMS - 1;
        memmove(&best[pos + 1], &best[pos], (last - pos) * sizeof best[0]);
        memmove(&sc[pos + 1], &sc[pos], (last - pos) * sizeof sc[0]);
        best[pos] = (uint16_t)i;
        sc[pos] = s;
        if (nb < KB_MAX_TERMS)
            nb++;
    }
    c->n_terms = nb;
    for (size_t j = 0; j < nb; j++) {
        kb_term *t = &c->terms[j];
        size_t i = best[j];
        const char *key = kb_map_key(&k->terms, qt[i].ft);
        size_t kl = strlen(key);
        if (kl >= sizeof t->term)
            kl = sizeof t->term - 1;
        memcpy(t->term, key, kl);
        t->term[kl] = '\0';
        strcpy(t->field, kb_field_names[field[i]]);
        if (exact[i])
            strcat(t->field, "+exact");
        t->score = sc[j];
    }
}

/* How much of entry e's own wording the message covers: for the question
 * and each variant, the idf mass of its terms that the message has (found
 * in the message's term set), over its whole idf mass; the best of them.  *mdoc gets
 * the largest share of the message one document explains (for tuning). */
static double doc_coverage(const kb *k, const qterm *qt, const qset *qs, uint32_t e, double W, double *mdoc)
{
    double best = 0;
    *mdoc = 0;
    for (uint32_t d = k->doc_first[e]; d < k->doc_first[e + 1]; d++) {
        double have = 0, all = k->doc_all[d], msg = 0;
        for (uint32_t i = k->doc_off[d]; i < k->doc_off[d + 1]; i++) {
            uint32_t slot;
            if (qset_get(qs, k->dterm[i], &slot)) {
                have += k->dweight[i];
                msg += qt[slot].q;
            }
        }
        if (msg / W > *mdoc)
            *mdoc = msg / W;
        if (all > 0 && have / all > best)
            best = have / all;
    }
    return best;
}

/* A candidate while re-ranking. */
typedef struct pooled {
    uint32_t e;
    uint32_t slot;        /* its row in the match arrays (pm, pfield, pexact) */
    int matched;          /* entry_match() already filled that row */
    double score, mcov, dcov, mdoc, rank;
} pooled;

static int cmp_pooled(const void *a, const void *b)
{
    const pooled *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? 1 : -1;
    return x->e < y->e ? -1 : x->e > y->e;
}

/* The confidence that entry c is what the message asks: how much of the
 * message it explains (mcov, square-rooted: a long message full of names
 * and details is still about its main clause) times how much of the entry's
 * own wording is there (dcov), and, for a runner-up, times its score
 * relative to the top's, so that "gap" is a lead in confidence. */
static double confidence(const pooled *c, double top_score)
{
    double ev = sqrt(c->mcov) * (CONF_A + (1 - CONF_A) * c->dcov);
    return top_score > 0 ? ev * (c->score / top_score) : 0;
}

/* Whether the top entry clearly leads the runner-up although their
 * confidences are closer than the gap: the runner-up explains little of
 * the message that the top does not (other, a share of the message's
 * weight, at most LEAD_RATIO of own), the top explains a telling part that
 * the runner-up lacks (own at least LEAD_OWN), and the top is ahead in
 * confidence (LEAD_GAP).  The runner-up's evidence is then mostly a subset
 * of the top's: a weaker reading of the same words, not a different
 * question the citizen may have meant.  When both explain different parts
 * of the message, the gap alone decides. */
static int clear_lead(double c1, double c2, double threshold, double own, double other)
{
    return c1 >= threshold && c1 >= LEAD_CONF && c1 - c2 >= LEAD_GAP && own >= LEAD_OWN &&
           other <= LEAD_RATIO * own;
}

static int entry_has_human(const kb *k, uint32_t e, uint32_t h)
{
    for (int j = 0; j < KB_HUMAN_MAX; j++)
        if (k->human_entry[e][j] == h)
            return 1;
    return 0;
}


int kb_match(const kb *k, const char *text, const kb_params *p, kb_result *out)
{
    if (!out)
        return -1;
    memset(out, 0, sizeof *out);
    out->action = KB_ESCALATE;
    out->reason = KB_NO_MATCH;
    if (!k || !text)
        return -1;
    kb_params def = kb_params_default();
    if (!p)
        p = &def;

    if (kb_analyse_buf(k->lex, text, &S.raw, &S.toks) < 0)
        return -1;
    const kb_toks toks = S.toks;
    size_t n = toks.n < KB_MAXTOKS ? toks.n : KB_MAXTOKS;
    qset qs;
    qset_init(&qs, n);
    uint32_t human = 0;
    qterm qt[2 * KB_MAXTOKS];
    size_t nq = 0;
    double W = 0;
    char key[2 * KB_TOKLEN + 24];
    /* Unigrams first: a bigram can only be in the index when both of its
     * syllables are, which spares most lookups of long messages. */
    /* The keys' hashes are computed and their slots fetched before any
     * look-up, so that in a large index the cache misses overlap. */
    uint32_t uni[KB_MAXTOKS];
    uint64_t uhash[KB_MAXTOKS];   /* kb_hash of the syllable's key, which starts its bigram's */
    uint64_t bhash[KB_MAXTOKS];   /* of the bigram starting here, when both syllables are known */
    uint64_t xhash[KB_MAXTOKS][2];/* of the exact unigram and bigram keys, when typed with marks */
    for (size_t i = 0; i < n; i++) {
        const kb_tok *a = &toks.v[i];   /* the key of a folded unigram is the fold itself */
        uhash[i] = a->fhash;
        kb_map_prefetch(&k->terms, uhash[i]);
    }
    for (size_t i = 0; i < n; i++) {
        const kb_tok *a = &toks.v[i];
        if (!a->flen || !kb_map_get_hashed(&k->terms, a->fold, a->flen, uhash[i], &uni[i]))
            uni[i] = UINT32_MAX;
        else
            __builtin_prefetch(&k->term[uni[i]]);
    }
    /* (in a small index, all in cache, the bigram and exact keys are
     * hashed when looked up) */
    int ahead = k->terms.nslots > AHEAD_SLOTS;
    for (size_t i = 0; ahead && i < n; i++) {
        const kb_tok *a = &toks.v[i], *b = i + 1 < n ? &toks.v[i + 1] : NULL;
        size_t kl;
        if (b && uni[i] != UINT32_MAX && uni[i + 1] != UINT32_MAX) {
            bhash[i] = kb_hash_more(kb_hash_more(uhash[i], " ", 1), b->fold, b->flen);
            kb_map_prefetch(&k->terms, bhash[i]);
        } else {
            b = NULL;
        }
        if (a->marked && (kl = kb_term_key(a, NULL, 1, key, sizeof key))) {
            xhash[i][0] = kb_hash(key, kl);
            kb_map_prefetch(&k->terms, xhash[i][0]);
        }
        if (b && (a->marked || b->marked) && (kl = kb_term_key(a, b, 1, key, sizeof key))) {
            xhash[i][1] = kb_hash(key, kl);
            kb_map_prefetch(&k->terms, xhash[i][1]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const kb_tok *a = &toks.v[i];
        if (!human)
            human = a->human;
        for (int bi = 0; bi < 2; bi++) {
            const kb_tok *b = NULL;
            if (bi) {
                if (i + 1 >= n || uni[i] == UINT32_MAX || uni[i + 1] == UINT32_MAX)
                    break;
                b = &toks.v[i + 1];
            }
            double wgt = a->weight;
            if (b && b->weight < wgt)
                wgt = b->weight;
            if (wgt <= 0)
                continue;
            uint32_t ft = uni[i];
            size_t kl;
            if (b) {
                kl = kb_term_key(a, b, 0, key, sizeof key);
                if (!kl || !kb_map_get_hashed(&k->terms, key, kl, ahead ? bhash[i] : kb_hash(key, kl), &ft))
                    continue;
            } else if (ft == UINT32_MAX) {
                W += k->idf_unknown * UNKNOWN_FACTOR * wgt * (a->number ? NUMBER_FACTOR : 1.0);
                continue;
            }
            /* a bigram of common words ("ở đâu") may still decide the intent */
            if (qset_has(&qs, ft) || (!b && k->term[ft].idf < IDF_FLOOR))
                continue;
            qset_put(&qs, ft, (uint32_t)nq);
            qterm *t = &qt[nq++];
            t->ft = ft;
            t->xt = -1;
            t->q = k->term[ft].idf * wgt * (b ? BIGRAM_FACTOR : a->number ? KNOWN_NUMBER : 1.0);
            uint32_t xt;
            if ((a->marked || (b && b->marked)) && (kl = kb_term_key(a, b, 1, key, sizeof key)) &&
                kb_map_get_hashed(&k->terms, key, kl, ahead ? xhash[i][bi] : kb_hash(key, kl), &xt) &&
                !qset_has(&qs, xt)) {
                t->xt = (int32_t)xt;
                qset_put(&qs, xt, (uint32_t)(nq - 1) | XBIT);
            }
            W += t->q;
        }
    }

    if (W < MIN_INFO || nq == 0 || k->n == 0)
        return 0;
    if (scratch(k->n) < 0)
        return -1;
    /* Terms that most entries have ("ở", "không") would cost a walk over
     * most of a large corpus for little weight: in a big corpus they are
     * left out of choosing the pool and added for the pooled entries only.
     * At least one term (the rarest) is always walked. */
    size_t defer_over = (size_t)(k->n / DEFER_DIV > DEFER_MIN ? k->n / DEFER_DIV : DEFER_MIN);
    int walked = 0, deferred = 0;
    size_t rarest = 0;
    for (size_t i = 0; i < nq; i++) {
        qt[i].deferred = k->term[qt[i].ft].n > defer_over;
        walked |= !qt[i].deferred;
        if (k->term[qt[i].ft].n < k->term[qt[rarest].ft].n)
            rarest = i;
    }
    if (!walked)
        qt[rarest].deferred = 0;
    for (size_t i = 0; i < nq; i++)
        deferred |= qt[i].deferred;
    for (size_t i = 0; i < nq; i++)   /* the postings' first lines, all at once */
        if (!qt[i].deferred)
            __builtin_prefetch(k->posts + k->term[qt[i].ft].off);
    size_t ntouched = 0;
    float *score = S.score, *cov = S.cov;
    uint32_t *touched = S.touched;
    for (size_t i = 0; i < nq; i++) {
        const qterm *t = &qt[i];
        if (t->deferred)
            continue;
        const kb_termrec *tr = &k->term[t->ft];
        double pen = t->xt >= 0 ? EXACT_PENALTY : 1.0, q = t->q;
        const double pf[2] = {pen, 1.0};   /* answers keep no exact forms: no penalty */
        if (deferred) {
            /* the pooled entries are scored again in full below: the walk
             * only chooses them, and needs no coverage */
            for (const kb_post *po = k->posts + tr->off, *pe = po + tr->n; po < pe; po++) {
                uint32_t e = po->entry;
                double m = po->w / KB_WSCALE * pf[po->field == KB_F_ANSWER];
                float sc = score[e];
                touched[ntouched] = e;   /* kept only when new: no branch */
                ntouched += sc == 0;
                score[e] = sc + (float)(q * m);
            }
            if (t->xt < 0)
                continue;
            const kb_termrec *xr = &k->term[t->xt];
            for (const kb_post *po = k->posts + xr->off, *pe = po + xr->n; po < pe; po++) {
                double old = po->wf / KB_WFSCALE * pen, w = po->w / KB_WSCALE, m = w > old ? w : old;
                score[po->entry] += (float)(q * (m - old));
            }
            continue;
        }
        for (const kb_post *po = k->posts + tr->off, *pe = po + tr->n; po < pe; po++) {
            uint32_t e = po->entry;
            double m = po->w / KB_WSCALE * pf[po->field == KB_F_ANSWER];
            float sc = score[e];
            touched[ntouched] = e;
            ntouched += sc == 0;
            score[e] = sc + (float)(q * m);
            cov[e] += (float)(q * (m < 1 ? m : 1));
        }
        if (t->xt < 0)
            continue;
        const kb_termrec *xr = &k->term[t->xt];
        for (const kb_post *po = k->posts + xr->off, *pe = po + xr->n; po < pe; po++) {
            double old = po->wf / KB_WFSCALE * pen, w = po->w / KB_WSCALE, m = w > old ? w : old;
            score[po->entry] += (float)(q * (m - old));
            cov[po->entry] += (float)(q * ((m < 1 ? m : 1) - (old < 1 ? old : 1)));
        }
    }
    /* A pool of the best entries by raw score; they are then re-ranked with
     * how much of the message and of their own wording the match covers. */
    uint32_t top[POOL];
    size_t ntop = 0;
    for (size_t i = 0; i < ntouched; i++) {
        uint32_t e = S.touched[i];
        if (ntop == POOL && S.score[e] <= S.score[top[POOL - 1]])
            continue;      /* the common case in a large corpus */
        size_t pos = ntop;
        while (pos > 0 && (S.score[top[pos - 1]] < S.score[e] ||
                           (S.score[top[pos - 1]] == S.score[e] && top[pos - 1] > e)))
            pos--;
        if (pos >= POOL)
            continue;
        size_t last = ntop < POOL ? ntop : POOL - 1;
        memmove(&top[pos + 1], &top[pos], (last - pos) * sizeof top[0]);
        top[pos] = e;
        if (ntop < POOL)
            ntop++;
    }
    /* The message's terms by number, to look them up in forward indexes. */
    qkey qk[4 * KB_MAXTOKS];   /* a folded and an exact term per unigram and bigram */
    size_t nk = 0;
    for (size_t i = 0; i < nq; i++) {
        qk[nk++] = (qkey){qt[i].ft, (uint32_t)i};
        if (qt[i].xt >= 0)
            qk[nk++] = (qkey){(uint32_t)qt[i].xt, (uint32_t)i | XBIT};
    }
    qkey_sort(qk, nk);
    /* When terms were deferred, the pooled entries are scored in full from
     * their forward index (kept for the explanation below); otherwise the
     * walk was complete. */
    pooled pool[POOL];
    if (deferred)   /* the pooled entries' forward indexes, all at once */
        for (size_t i = 0; i < ntop; i++) {
            const char *a = (const char *)(k->fwd + k->fwd_off[top[i]]);
            const char *z = (const char *)(k->fwd + k->fwd_off[top[i] + 1]);
            for (; a < z; a += 64)
                __builtin_prefetch(a);
        }
    float pm[POOL][2 * KB_MAXTOKS];
    uint8_t pfield[POOL][2 * KB_MAXTOKS], pexact[POOL][2 * KB_MAXTOKS];
    for (size_t i = 0; i < ntop; i++) {
        pooled *c = &pool[i];
        double score = S.score[top[i]], cov = S.cov[top[i]];
        c->matched = 0;
        if (deferred) {
            float *m = pm[i];
            entry_match(k, qt, nq, qk, nk, top[i], m, pfield[i], pexact[i]);
            c->matched = 1;
            score = cov = 0;
            for (size_t j = 0; j < nq; j++) {
                score += qt[j].q * m[j];
                cov += qt[j].q * (m[j] < 1 ? m[j] : 1);
            }
        }
        c->slot = (uint32_t)i;
        c->e = top[i];
        c->score = score;
        c->mcov = cov / W;
        if (c->mcov > 1)
            c->mcov = 1;
        c->dcov = c->mdoc = 0;
    }
    double smax = 0;
    for (size_t i = 0; i < ntop; i++)
        if (pool[i].score > smax)
            smax = pool[i].score;
    /* Ranked by score (measured: mixing in the coverages below did not rank
     * better); document coverage, which costs a look at every term of the
     * entry's question and variants, only for the candidates shown. */
    for (size_t i = 0; i < ntop; i++)
        pool[i].rank = pool[i].score;
    /* at most POOL of them, and the order is total (ties by entry) */
    for (size_t i = 1; i < ntop; i++) {
        pooled x = pool[i];
        size_t j = i;
        for (; j > 0 && cmp_pooled(&pool[j - 1], &x) > 0; j--)
            pool[j] = pool[j - 1];
        pool[j] = x;
    }
    for (size_t i = 0; i < ntop && i < KB_TOP; i++)
        pool[i].dcov = doc_coverage(k, qt, &qs, pool[i].e, W, &pool[i].mdoc);
    #ifdef KB_TUNING
    if (KB_TUNABLE(KB_DEBUG, 0) > 0) {
        fprintf(stderr, "DBG\t%g\t%zu", W, nq);
        for (size_t i = 0; i < POOL; i++)
            if (i < ntop)
                fprintf(stderr, "\t%s\t%g\t%g\t%g\t%g", k->entries[pool[i].e].id, pool[i].score / smax, pool[i].mcov, pool[i].dcov, pool[i].mdoc);
            else
                fprintf(stderr, "\t-\t0\t0\t0\t0");
        fprintf(stderr, "\n");
    }
#endif
    for (size_t i = 0; i < ntop; i++)
        top[i] = pool[i].e;
    if (ntop > KB_TOP)
        ntop = KB_TOP;
    /* what only the top entry explains of the message (own) and what only
     * the runner-up does (other), as shares of the message's weight */
    double own = 0, other = 0;
    float m0[2 * KB_MAXTOKS];
    for (size_t i = 0; i < ntop; i++) {
        uint32_t r = pool[i].slot;
        float *m = pm[r];
        uint8_t *field = pfield[r], *exact = pexact[r];
        kb_candidate *c = &out->cand[i];
        c->entry = &k->entries[pool[i].e];
        c->score = pool[i].score;
        if (!pool[i].matched)
            entry_match(k, qt, nq, qk, nk, pool[i].e, m, field, exact);
        double conf = confidence(&pool[i], pool[0].score);
        c->confidence = conf < 0 ? 0 : conf > 1 ? 1 : conf;
        explain(k, qt, nq, m, field, exact, c);
        if (i == 0)
            memcpy(m0, m, nq * sizeof m[0]);
        else if (i == 1)
            for (size_t j = 0; j < nq; j++) {
                double a = m0[j] < 1 ? m0[j] : 1, b = m[j] < 1 ? m[j] : 1;
                if (a > b)
                    own += qt[j].q * (a - b);
                else
                    other += qt[j].q * (b - a);
            }
    }
    own /= W;
    other /= W;
    out->n_cand = ntop;
#ifdef KB_TUNING
    if (KB_TUNABLE(KB_DEBUG, 0) > 0 && ntop > 0)
        fprintf(stderr, "FEAT\t%g\t%d\t%g\t%g\t%g\t%s\t%g\t%g\t%g\t%s\t%g\n", W,
                human && !entry_has_human(k, top[0], human), own, other, pool[0].score,
                k->entries[pool[0].e].id, pool[0].mcov, pool[0].dcov, out->cand[0].confidence,
                ntop > 1 ? k->entries[pool[1].e].id : "-", ntop > 1 ? out->cand[1].confidence : 0);
#endif
    for (size_t i = 0; i < ntouched; i++)
        S.score[S.touched[i]] = S.cov[S.touched[i]] = 0;

    if (ntop == 0)
        return 0;
    double c1 = out->cand[0].confidence, c2 = ntop > 1 ? out->cand[1].confidence : 0;
    out->confidence = c1;
    if (human && !entry_has_human(k, top[0], human))
        out->reason = KB_ASKED_HUMAN;
    else if (c1 < NO_MATCH_BELOW || pool[0].score < MIN_SCORE)
        out->reason = KB_NO_MATCH;
    else if (c1 < p->threshold)
        out->reason = KB_LOW_CONFIDENCE;
    else if (c1 - c2 < p->gap && !clear_lead(c1, c2, p->threshold, own, other))
        out->reason = KB_AMBIGUOUS;
    else {
        out->action = KB_ANSWER;
        out->reason = KB_REASON_NONE;
    }
    return 0;
}
