/* lexicon.c - abbreviations, synonyms, word weights and requests for a person.
 *
 * The lexicon is general Vietnamese and domain knowledge that an admin can
 * edit without a programmer: knowledge/data/lexicon.json.  Its format:
 *
 *   {
 *     "version": 1,
 *     "abbreviations": { "ko": "không", "dc": "được", "bn": "bao nhiêu", ... },
 *     "synonyms": [ ["vắc xin", "vaccine", "vacxin", "vx"],
 *                   ["tiêm", "chích"], ... ],
 *     "units": { "t": "tuổi", "th": "tháng", "h": "giờ", ... },
 *     "weights": { "chào": 0.1, "cho em hỏi": 0.1, "=ạ": 0.05, ... },
 *     "human": { "nhân viên": [ "gặp nhân viên", "người thật", ... ],
 *                "bác sĩ": [ "gặp bác sĩ", ... ] }
 *   }
 *
 * - abbreviations: a phrase (usually one syllable) that is replaced by its
 *   expansion wherever it stands alone.  Keys and values are matched without
 *   diacritics and case ("đc" and "dc" are one key).
 * - synonyms: groups of phrases that mean the same thing here; the first is
 *   the canonical one and every other member is rewritten to it.  Entries
 *   and messages go through the same rewriting, so a citizen who writes
 *   "chích" finds the entry that says "tiêm", and "bìa đỏ" finds "sổ đỏ".
 *   Rewriting takes the longest phrase that matches at each position and is
 *   applied once (a value is itself rewritten once when the file is loaded,
 *   so "bhyt" -> "bảo hiểm y tế" may lead into a synonym group).
 * - weights: a factor on a phrase's importance in a message, applied after
 *   rewriting.  A key written "=phrase" applies only when the citizen typed
 *   the phrase's diacritics: "=vâng" must not down-weight "vang" (gold, or
 *   "vắng" typed without marks).  Greetings and politeness ("chào", "dạ", "ạ", "cho em hỏi")
 *   get 0-0.2 so that they neither help an entry nor count as something the
 *   entry fails to explain.  Words that decide an intent ("bao lâu", "ở đâu")
 *   must NOT be listed here: the index weighs them by rarity already.
 * - units: what a letter glued to a number means ("76t" -> 76 tuổi, "18th"
 *   -> 18 tháng, "4h" -> 4 giờ).  The tokenizer splits "76t" into "76" and
 *   a unit "t"; only such split-off letters are looked up here.
 * - human: phrases by which a citizen asks for a person, as one list or
 *   grouped by the kind of person ({"nhân viên": [...], "bác sĩ": [...]}).
 *   Such a message escalates with asked_for_human unless the best entry is
 *   itself about reaching that kind of person (its question, variants or
 *   keywords hold a phrase of the same group).
 *
 * Phrases longer than KB_LEX_MAXLEN syllables are rejected; unknown top-level
 * keys are ignored (room for comments: "_comment": "..."). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "knowledge/kb_internal.h"

#define KB_LEX_MAXLEN 8

typedef struct lex_rule {
    uint32_t off, n;      /* rewrite target syllables in l->targets */
    uint32_t soff, sn;    /* the phrase itself, in l->sources */
    float weight;
    int exact_only;       /* "=phrase": only when typed with its marks */
    uint32_t next;        /* 1 + another rule with the same folded key, or 0 */
    uint32_t group;       /* "human" phrases: which person is asked for */
} lex_rule;

/* A phrase table: phrase key -> rule number.  Which tables have phrases
 * starting with a given syllable, and of which lengths, is kept in one map
 * for all three (l->firsts: per table a byte, bit n-1 for length n), so
 * that most syllables of a message cost a single lookup and the others
 * only try the lengths that exist. */
typedef struct lex_table {
    kb_map phrases;
    int shift;            /* this table's byte in l->firsts values */
} lex_table;

struct kb_lexicon {
    char *source;         /* the JSON text, kept for kb_lexicon_dup */
    size_t source_len;
    lex_table rewrite, weights, human;
    kb_map firsts;        /* first syllable -> longest phrase per table */
    kb_map units;         /* unit after a number -> rule */
    lex_rule *rules;
    size_t nrules, caprules;
    kb_toks targets, sources;
};

static void table_free(lex_table *t)
{
    kb_map_free(&t->phrases);
}

void kb_lexicon_free(kb_lexicon *l)
{
    if (!l)
        return;
    table_free(&l->rewrite);
    table_free(&l->weights);
    table_free(&l->human);
    kb_map_free(&l->firsts);
    kb_map_free(&l->units);
    free(l->rules);
    kb_toks_free(&l->targets);
    kb_toks_free(&l->sources);
    free(l->source);
    free(l);
}

/* Joins the folded syllables t[0..n) with single spaces into buf. */
static size_t phrase_key(const kb_tok *t, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = t[i].flen;
        if (len + k + 2 > cap)
            return 0;
        if (i)
            buf[len++] = ' ';
        memcpy(buf + len, t[i].fold, k);
        len += k;
    }
    buf[len] = '\0';
    return len;
}

static int new_rule(kb_lexicon *l, uint32_t *id)
{
    if (l->nrules == l->caprules) {
        size_t nc = l->caprules ? l->caprules * 2 : 64;
        lex_rule *r = realloc(l->rules, nc * sizeof *r);
        if (!r)
            return -1;
        l->rules = r;
        l->caprules = nc;
    }
    memset(&l->rules[l->nrules], 0, sizeof l->rules[0]);
    *id = (uint32_t)l->nrules++;
    return 0;
}

static int table_put(kb_lexicon *l, lex_table *t, const kb_tok *p, size_t n, uint32_t rule)
{
    l->rules[rule].soff = (uint32_t)l->sources.n;
    l->rules[rule].sn = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        if (kb_toks_push(&l->sources, &p[i]) < 0)
            return -1;
    char key[KB_LEX_MAXLEN * (KB_TOKLEN + 1) + 1];
    size_t klen = phrase_key(p, n, key, sizeof key);
    if (klen == 0)
        return -1;
    /* Phrases that differ only in diacritics ("à" / "ạ", "bệnh viện" /
     * "bệnh viên") share a key: chain them, newest first. */
    uint32_t prev;
    if (kb_map_get(&t->phrases, key, klen, &prev))
        l->rules[rule].next = prev + 1;
    if (kb_map_put(&t->phrases, key, klen, rule) < 0)
        return -1;
    uint32_t packed = 0;
    size_t flen = strlen(p[0].fold);
    kb_map_get(&l->firsts, p[0].fold, flen, &packed);
    uint32_t bit = 1u << (t->shift + n - 1);
    if (!(packed & bit) && kb_map_put(&l->firsts, p[0].fold, flen, packed | bit) < 0)
        return -1;
    return 0;
}

/* Keys ignore diacritics, so a phrase found by key is checked syllable by
 * syllable: where the writer typed marks, they must be the phrase's marks
 * ("trễ" is not "trẻ", "ạ" is not the abbreviation "a"); a syllable typed
 * without marks matches either way. */
static int same_marks(const kb_lexicon *l, const lex_rule *r, const kb_tok *in)
{
    for (uint32_t j = 0; j < r->sn; j++) {
        const kb_tok *src = &l->sources.v[r->soff + j], *tok = &in[j];
        if (!tok->marked) {
            if (r->exact_only && src->exact[0])
                return 0;
            continue;
        }
        if (!src->exact[0] || strcmp(src->exact, tok->exact) != 0)
            return 0;
    }
    return 1;
}

/* Whether every marked syllable matched the phrase exactly (all do, when
 * same_marks held) and every unmarked one is unmarked in the phrase too. */
static int exact_marks(const kb_lexicon *l, const lex_rule *r, const kb_tok *in)
{
    for (uint32_t j = 0; j < r->sn; j++)
        if (!in[j].marked && l->sources.v[r->soff + j].exact[0])
            return 0;
    return 1;
}

/* Finds the longest phrase of table t starting at in[i]; returns its length
 * in syllables (0: none) and its rule in *rule. */
static size_t table_match(const kb_lexicon *l, const lex_table *t, const kb_tok *in, size_t n, size_t i,
                          uint32_t *rule, const uint32_t *firsts)
{
    uint32_t packed;
    if (firsts)
        packed = firsts[i];
    else if (!kb_map_get_hashed(&l->firsts, in[i].fold, in[i].flen, in[i].fhash, &packed))
        return 0;
    uint32_t lens = (packed >> t->shift) & 0xff;
    if (lens == 0)
        return 0;
    /* The key of the longest phrase that may start here, once: the key of
     * a shorter one is its prefix, and so is its hash. */
    char key[KB_LEX_MAXLEN * (KB_TOKLEN + 1) + 1];
    size_t plen[KB_LEX_MAXLEN + 1], maxlen = 0;
    uint64_t phash[KB_LEX_MAXLEN + 1];
    for (size_t len = KB_LEX_MAXLEN; len >= 1; len--)
        if ((lens & (1u << (len - 1))) && len <= n - i) {
            maxlen = len;
            break;
        }
    {
        size_t klen = 0;
        uint64_t h = KB_HASH_INIT;
        for (size_t j = 0; j < maxlen; j++) {
            const kb_tok *tk = &in[i + j];
            if (j) {
                key[klen++] = ' ';
                h = kb_hash_more(kb_hash_more(h, " ", 1), tk->fold, tk->flen);
            } else {
                h = tk->fhash;
            }
            memcpy(key + klen, tk->fold, tk->flen);
            klen += tk->flen;
            plen[j + 1] = klen;
            phash[j + 1] = h;
        }
    }
    for (size_t len = maxlen; len >= 1; len--) {
        if (!(lens & (1u << (len - 1))))
            continue;
        uint32_t r;
        if (!kb_map_get_hashed(&t->phrases, key, plen[len], phash[len], &r))
            continue;
        /* Among phrases sharing the key, the first whose marks agree; a
         * phrase spelled exactly as typed beats one that merely folds to it. */
        int found = 0;
        for (uint32_t c = r + 1; c; c = l->rules[c - 1].next) {
            const lex_rule *lr = &l->rules[c - 1];
            if (!same_marks(l, lr, in + i))
                continue;
            if (!found || exact_marks(l, lr, in + i)) {
                *rule = c - 1;
                found = 1;
            }
        }
        if (found)
            return len;
    }
    return 0;
}

/* Rewrites in into out with the rewrite table only. */
static int rewrite(const kb_lexicon *l, const kb_toks *in, kb_toks *out)
{
    for (size_t i = 0; i < in->n;) {
        uint32_t rule;
        size_t len = 0;
        if (l && in->v[i].unit && kb_map_get_hashed(&l->units, in->v[i].fold, in->v[i].flen, in->v[i].fhash, &rule))
            len = 1;
        else if (l)
            len = table_match(l, &l->rewrite, in->v, in->n, i, &rule, NULL);
        if (len == 0) {
            if (kb_toks_push(out, &in->v[i]) < 0)
                return -1;
            i++;
            continue;
        }
        int marked = 0;
        float weight = 1.0f;
        for (size_t j = i; j < i + len; j++) {
            marked |= in->v[j].marked;
            if (in->v[j].weight < weight)
                weight = in->v[j].weight;
        }
        const lex_rule *r = &l->rules[rule];
        for (uint32_t j = 0; j < r->n; j++) {
            kb_tok t = l->targets.v[r->off + j];
            t.lex = 1;
            /* Exact forms of the expansion only count when the writer typed
             * marks: "chich" must not earn the exact bonus of "tiêm". */
            t.marked = (unsigned char)(marked && t.exact[0]);
            t.weight = weight;
            if (kb_toks_push(out, &t) < 0)
                return -1;
        }
        i += len;
    }
    return 0;
}

int kb_lexicon_apply(const kb_lexicon *l, const kb_toks *in, kb_toks *out)
{
    out->n = 0;
    out->has_marks = in->has_marks;
    if (rewrite(l, in, out) < 0)
        return -1;
    if (!l)
        return 0;
    /* One lookup per syllable tells both passes below where a phrase may
     * start. */
    uint32_t stack[KB_MAXTOKS], *firsts = out->n <= KB_MAXTOKS ? stack : malloc(out->n * sizeof *firsts);
    if (!firsts)
        return -1;
    for (size_t i = 0; i < out->n; i++)
        if (!kb_map_get_hashed(&l->firsts, out->v[i].fold, out->v[i].flen, out->v[i].fhash, &firsts[i]))
            firsts[i] = 0;
    for (size_t i = 0; i < out->n;) {
        uint32_t rule;
        size_t len = table_match(l, &l->weights, out->v, out->n, i, &rule, firsts);
        if (len == 0) {
            i++;
            continue;
        }
        for (size_t j = i; j < i + len; j++)
            out->v[j].weight *= l->rules[rule].weight;
        i += len;
    }
    for (size_t i = 0; i < out->n;) {
        uint32_t rule;
        size_t len = table_match(l, &l->human, out->v, out->n, i, &rule, firsts);
        if (len == 0) {
            i++;
            continue;
        }
        for (size_t j = i; j < i + len; j++)
            out->v[j].human = l->rules[rule].group + 1;
        i += len;
    }
    if (firsts != stack)
        free(firsts);
    return 0;
}

uint32_t kb_lexicon_has_human(const kb_toks *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].human)
            return t->v[i].human;
    return 0;
}

/* Tokenizes a phrase of the file; with canon, also rewrites it the way
 * messages will be rewritten, so that weight and human phrases are found
 * after rewriting. */
static int phrase_toks(const kb_lexicon *l, const char *s, int canon, kb_toks *out, char *err, size_t errlen,
                       const char *where)
{
    kb_toks raw = {0};
    out->n = 0;
    if (kb_tokenize(s, strlen(s), &raw) < 0) {
        snprintf(err, errlen, "lexicon: %s: invalid UTF-8", where);
        kb_toks_free(&raw);
        return -1;
    }
    int rc = 0;
    if (canon) {
        rc = rewrite(l, &raw, out);
    } else {
        for (size_t i = 0; i < raw.n && rc == 0; i++)
            rc = kb_toks_push(out, &raw.v[i]);
    }
    kb_toks_free(&raw);
    if (rc < 0) {
        snprintf(err, errlen, "lexicon: out of memory");
        return -1;
    }
    if (out->n == 0) {
        snprintf(err, errlen, "lexicon: %s: phrase \"%s\" has no letters or digits", where, s);
        return -1;
    }
    if (out->n > KB_LEX_MAXLEN) {
        snprintf(err, errlen, "lexicon: %s: phrase \"%s\" is longer than %d syllables", where, s, KB_LEX_MAXLEN);
        return -1;
    }
    return 0;
}

/* A new rule whose rewrite is the tokens t (appended to the targets);
 * -1 when out of memory. */
static int new_target_rule(kb_lexicon *l, const kb_toks *t, uint32_t *id)
{
    if (new_rule(l, id) < 0)
        return -1;
    l->rules[*id].off = (uint32_t)l->targets.n;
    l->rules[*id].n = (uint32_t)t->n;
    l->rules[*id].weight = 1.0f;
    for (size_t i = 0; i < t->n; i++)
        if (kb_toks_push(&l->targets, &t->v[i]) < 0)
            return -1;
    return 0;
}

/* Adds the rule "from -> to" to the rewrite table. */
static int add_rewrite(kb_lexicon *l, const char *from, const char *to, const char *where, char *err, size_t errlen)
{
    kb_toks f = {0}, t = {0};
    int rc = -1;
    uint32_t id;
    if (phrase_toks(l, from, 0, &f, err, errlen, where) < 0 || phrase_toks(l, to, 0, &t, err, errlen, where) < 0)
        goto out;
    if (new_target_rule(l, &t, &id) < 0)
        goto oom;
    if (table_put(l, &l->rewrite, f.v, f.n, id) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "lexicon: out of memory");
out:
    kb_toks_free(&f);
    kb_toks_free(&t);
    return rc;
}

/* A unit after a number: "t" -> "tuổi" only in "76t" (or "76 t" when the
 * number was glued).  The rule is a rewrite rule reached through the unit
 * map instead of the phrase table. */
static int add_unit(kb_lexicon *l, const char *unit, const char *word, const char *where, char *err,
                    size_t errlen)
{
    kb_toks f = {0}, t = {0};
    int rc = -1;
    uint32_t id;
    if (phrase_toks(l, unit, 0, &f, err, errlen, where) < 0 || phrase_toks(l, word, 0, &t, err, errlen, where) < 0)
        goto out;
    if (f.n != 1) {
        snprintf(err, errlen, "lexicon: %s: a unit is one word", where);
        goto out;
    }
    if (new_target_rule(l, &t, &id) < 0)
        goto oom;
    if (kb_map_put(&l->units, f.v[0].fold, strlen(f.v[0].fold), id) < 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "lexicon: out of memory");
out:
    kb_toks_free(&f);
    kb_toks_free(&t);
    return rc;
}

static int add_phrase(kb_lexicon *l, lex_table *tab, const char *s, float weight, const char *where, char *err,
                      size_t errlen)
{
    kb_toks p = {0};
    uint32_t id;
    int rc = -1, exact_only = s[0] == '=';
    if (phrase_toks(l, s + exact_only, 1, &p, err, errlen, where) < 0)
        goto out;
    if (new_rule(l, &id) < 0 || table_put(l, tab, p.v, p.n, id) < 0) {
        snprintf(err, errlen, "lexicon: out of memory");
        goto out;
    }
    l->rules[id].weight = weight;
    l->rules[id].exact_only = exact_only;
    rc = 0;
out:
    kb_toks_free(&p);
    return rc;
}

/* Rewrites each rule's target once through the finished rewrite table, so
 * an abbreviation can expand into a synonym group's member.  Not recursive:
 * a cycle in the file cannot loop. */
static int chain_targets(kb_lexicon *l)
{
    kb_toks in = {0}, out = {0}, all = {0};
    uint32_t *off = calloc(l->nrules ? l->nrules : 1, sizeof *off), *cnt = calloc(l->nrules ? l->nrules : 1, sizeof *cnt);
    int rc = off && cnt ? 0 : -1;
    /* New targets go to a fresh array; offsets are switched only at the end,
     * because rewriting one target reads the others' old ones. */
    for (size_t r = 0; r < l->nrules && rc == 0; r++) {
        const lex_rule *rule = &l->rules[r];
        off[r] = rule->off;
        cnt[r] = rule->n;
        if (rule->n == 0)
            continue;
        in.n = 0;
        out.n = 0;
        for (uint32_t j = 0; j < rule->n && rc == 0; j++)
            rc = kb_toks_push(&in, &l->targets.v[rule->off + j]);
        if (rc == 0)
            rc = rewrite(l, &in, &out);
        if (rc == 0) {
            const kb_toks *src = out.n ? &out : &in;
            off[r] = (uint32_t)all.n;
            cnt[r] = (uint32_t)src->n;
            for (size_t j = 0; j < src->n && rc == 0; j++)
                rc = kb_toks_push(&all, &src->v[j]);
        }
    }
    if (rc == 0) {
        for (size_t r = 0; r < l->nrules; r++) {
            l->rules[r].off = off[r];
            l->rules[r].n = cnt[r];
        }
        kb_toks_free(&l->targets);
        l->targets = all;
    } else {
        kb_toks_free(&all);
    }
    free(off);
    free(cnt);
    kb_toks_free(&in);
    kb_toks_free(&out);
    return rc;
}

/* Loads one object of "key": "value" strings (abbreviations, units) through
 * add; errors name the member. */
static int load_string_map(kb_lexicon *l, const cJSON *root, const char *name, const char *shape,
                           int (*add)(kb_lexicon *, const char *, const char *, const char *,
                                      char *, size_t),
                           char *err, size_t errlen)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, name);
    if (obj && !cJSON_IsObject(obj)) {
        snprintf(err, errlen, "lexicon: \"%s\" must be an object of %s", name, shape);
        return -1;
    }
    const cJSON *it;
    char where[160];
    cJSON_ArrayForEach(it, obj) {
        snprintf(where, sizeof where, "%s.\"%.100s\"", name, it->string);
        if (!cJSON_IsString(it)) {
            snprintf(err, errlen, "lexicon: %s: value must be a string", where);
            return -1;
        }
        if (add(l, it->string, it->valuestring, where, err, errlen) < 0)
            return -1;
    }
    return 0;
}

kb_lexicon *kb_lexicon_from_json(const char *text, size_t len, char *err, size_t errlen)
{
    char where[160];
    kb_lexicon *l = calloc(1, sizeof *l);
    cJSON *root = NULL;
    if (!l || !(l->source = malloc(len + 1))) {
        snprintf(err, errlen, "lexicon: out of memory");
        goto fail;
    }
    l->rewrite.shift = 0;
    l->weights.shift = 8;
    l->human.shift = 16;
    memcpy(l->source, text, len);
    l->source[len] = '\0';
    l->source_len = len;
    root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1;
        if (!root && at && at >= text && at <= text + len)
            for (const char *p = text; p < at; p++)
                line += *p == '\n';
        snprintf(err, errlen, "lexicon: not a JSON object (syntax error near line %zu)", line);
        goto fail;
    }
    cJSON *it;
    if (load_string_map(l, root, "abbreviations", "\"abbr\": \"expansion\"", add_rewrite, err,
                        errlen) != 0 ||
        load_string_map(l, root, "units", "\"unit\": \"word\"", add_unit, err, errlen) != 0)
        goto fail;
    cJSON *syn = cJSON_GetObjectItemCaseSensitive(root, "synonyms");
    if (syn && !cJSON_IsArray(syn)) {
        snprintf(err, errlen, "lexicon: \"synonyms\" must be an array of arrays of strings");
        goto fail;
    }
    int gi = 0;
    cJSON_ArrayForEach(it, syn) {
        cJSON *first = cJSON_IsArray(it) ? cJSON_GetArrayItem(it, 0) : NULL;
        snprintf(where, sizeof where, "synonyms[%d]", gi);
        if (!first || !cJSON_IsString(first)) {
            snprintf(err, errlen, "lexicon: %s: must be a non-empty array of strings", where);
            goto fail;
        }
        snprintf(where, sizeof where, "synonyms[%d] (\"%.80s\")", gi, first->valuestring);
        cJSON *m;
        cJSON_ArrayForEach(m, it) {
            if (!cJSON_IsString(m)) {
                snprintf(err, errlen, "lexicon: %s: members must be strings", where);
                goto fail;
            }
            /* The canonical member maps to itself so that it is taken whole:
             * "bệnh viện" must not become "bệnh" + the rewrite of "viện". */
            if (add_rewrite(l, m->valuestring, first->valuestring, where, err, errlen) < 0)
                goto fail;
        }
        gi++;
    }
    if (chain_targets(l) < 0) {
        snprintf(err, errlen, "lexicon: out of memory");
        goto fail;
    }
    cJSON *wt = cJSON_GetObjectItemCaseSensitive(root, "weights");
    if (wt && !cJSON_IsObject(wt)) {
        snprintf(err, errlen, "lexicon: \"weights\" must be an object of \"phrase\": number");
        goto fail;
    }
    cJSON_ArrayForEach(it, wt) {
        snprintf(where, sizeof where, "weights.\"%.100s\"", it->string);
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 10) {
            snprintf(err, errlen, "lexicon: %s: weight must be a number from 0 to 10", where);
            goto fail;
        }
        if (add_phrase(l, &l->weights, it->string, (float)it->valuedouble, where, err, errlen) < 0)
            goto fail;
    }
    /* "human": an array of phrases (one kind of person), or an object of
     * such arrays by kind ("nhân viên": [...], "bác sĩ": [...]). */
    cJSON *hu = cJSON_GetObjectItemCaseSensitive(root, "human");
    if (hu && !cJSON_IsArray(hu) && !cJSON_IsObject(hu)) {
        snprintf(err, errlen, "lexicon: \"human\" must be an array of strings or an object of arrays");
        goto fail;
    }
    uint32_t group = 0;
    cJSON *grp;
    const cJSON *groups = cJSON_IsObject(hu) ? hu : NULL;
    cJSON_ArrayForEach(grp, groups) {
        if (!cJSON_IsArray(grp)) {
            snprintf(err, errlen, "lexicon: human.\"%.100s\": must be an array of strings", grp->string);
            goto fail;
        }
    }
    for (grp = cJSON_IsObject(hu) ? hu->child : hu; grp; grp = cJSON_IsObject(hu) ? grp->next : NULL, group++) {
        int hi = 0;
        cJSON_ArrayForEach(it, grp) {
            if (cJSON_IsObject(hu))
                snprintf(where, sizeof where, "human.\"%.80s\"[%d]", grp->string, hi++);
            else
                snprintf(where, sizeof where, "human[%d]", hi++);
            if (!cJSON_IsString(it)) {
                snprintf(err, errlen, "lexicon: %s: must be a string", where);
                goto fail;
            }
            if (add_phrase(l, &l->human, it->valuestring, 1.0f, where, err, errlen) < 0)
                goto fail;
            l->rules[l->nrules - 1].group = group;
        }
    }
    cJSON_Delete(root);
    return l;
fail:
    cJSON_Delete(root);
    kb_lexicon_free(l);
    return NULL;
}

kb_lexicon *kb_lexicon_dup(const kb_lexicon *l)
{
    char err[256];
    if (!l)
        return NULL;
    return kb_lexicon_from_json(l->source, l->source_len, err, sizeof err);
}

kb_lexicon *kb_lexicon_load_file(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = kb_read_file(path, &len, err, errlen);
    if (!text)
        return NULL;
    char inner[400];
    kb_lexicon *l = kb_lexicon_from_json(text, len, inner, sizeof inner);
    if (!l)
        snprintf(err, errlen, "%s: %s", path, inner);
    free(text);
    return l;
}
