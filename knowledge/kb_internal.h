/* kb_internal.h - what the knowledge engine's files share and nobody else.
 *
 * The engine is split by concern: text.c turns bytes into syllable tokens,
 * lexicon.c rewrites abbreviations and synonyms and weighs tokens, map.c is
 * the string hash used by the lexicon and the index, index.c builds the
 * inverted index, match.c scores and decides, eval.c measures.  None of these
 * declarations is part of the public API in kb.h. */
#ifndef HOTLINE_KB_INTERNAL_H
#define HOTLINE_KB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "knowledge/kb.h"

/* Tuning constants are plain numbers in the code.  Built with -DKB_TUNING,
 * the environment may override each one (NAME=value) for parameter sweeps;
 * KB_DEBUG=1 then also prints each message's candidate features. */
#ifdef KB_TUNING
double kb_tune(const char *name, double def);
#define KB_TUNABLE(name, def) kb_tune(#name, def)
#else
#define KB_TUNABLE(name, def) (def)
#endif

/* A bigram's importance relative to its idf: its syllables count too. */
#define KB_BIGRAM_FACTOR KB_TUNABLE(BIGRAM_FACTOR, 0.6)

/* ---- map.c: string -> uint32 open-addressing hash ---------------------- */

/* Keys are copied into an arena owned by the map; values are caller data
 * (an index into the caller's own arrays).  Never shrinks, never deletes:
 * both the lexicon and the index are built once and then only read.
 *
 * A slot holds the key's hash and the offset of its record in the arena;
 * the record holds the value, the key's length and the key.  A look-up in
 * a table too large for the cache (the index of a big corpus has millions
 * of keys) thus costs two cache misses: the slot and the record. */
typedef struct kb_map {
    uint64_t *slots;      /* 0 = empty, else record offset | hash << 32 */
    size_t nslots;        /* power of two */
    char *arena;          /* records: uint32 value, uint16 length, key, NUL */
    size_t arena_len, arena_cap;
    uint32_t *offs;       /* key number -> its record */
    size_t n, cap;
} kb_map;

void kb_map_init(kb_map *m);
void kb_map_free(kb_map *m);
/* Looks key up; returns 1 and sets *val when found, 0 otherwise. */
int kb_map_get(const kb_map *m, const char *key, size_t klen, uint32_t *val);
/* Inserts or overwrites; returns 0, or -1 when out of memory. */
int kb_map_put(kb_map *m, const char *key, size_t klen, uint32_t val);
/* Key number i (0 .. n-1, in order of insertion), NUL-terminated. */
const char *kb_map_key(const kb_map *m, size_t i);
/* Starts loading the slot where a key of hash h is looked for: a message's
 * keys are all known before the first look-up, and in a large index each
 * look-up would otherwise wait for memory in turn. */
static inline void kb_map_prefetch(const kb_map *m, uint64_t h)
{
    if (m->nslots)
        __builtin_prefetch(&m->slots[(size_t)h & (m->nslots - 1)]);
}
/* The same with the key's kb_hash() already known. */
int kb_map_get_hashed(const kb_map *m, const char *key, size_t klen, uint64_t h, uint32_t *val);
uint64_t kb_hash(const char *s, size_t n);
/* kb_hash of a key continued by n more bytes: kb_hash(ab) ==
 * kb_hash_more(kb_hash(a), b), and kb_hash(s) == kb_hash_more(KB_HASH_INIT, s). */
#define KB_HASH_INIT 1469598103934665603ULL
uint64_t kb_hash_more(uint64_t h, const char *s, size_t n);

/* ---- text.c: normalisation and syllables -------------------------------- */

#define KB_TOKLEN 32      /* bytes of a folded syllable we keep (longer: cut) */
#define KB_MAXTOKS 200    /* syllables of one message we look at */
#define KB_HUMAN_MAX 4    /* "human" phrases remembered per entry */

/* One syllable.  fold is the ASCII-ish search form ("được" -> "duoc");
 * exact keeps the vowel marks and đ and puts the tone last as "#n", so that
 * hoà and hòa, thuỷ and thủy give the same key.  exact is "" when the
 * syllable carried no mark at all.  marked says whether the writer typed
 * marks on it (only then does an exact match mean more than a folded one). */
typedef struct kb_tok {
    char fold[KB_TOKLEN];
    char exact[KB_TOKLEN + 8];
    float weight;         /* lexicon factor: 1 normally, < 1 for politeness */
    uint8_t flen, elen;   /* strlen of fold and exact */
    unsigned char marked;
    unsigned char lex;    /* produced by a lexicon rewrite */
    unsigned char number; /* all digits */
    uint32_t human;       /* 1 + the "human" phrase it is part of, or 0 */
    unsigned char unit;   /* letters split off a number: the "t" of "76t" */
    uint64_t fhash;       /* kb_hash(fold, flen): the lexicon's and the index's key of it */
} kb_tok;

typedef struct kb_toks {
    kb_tok *v;
    size_t n, cap;
    int has_marks;        /* the message carries diacritics somewhere */
} kb_toks;

void kb_toks_free(kb_toks *t);
/* Appends the syllables of text (len bytes) to t.  Returns 0, or -1 on
 * invalid UTF-8 or no memory (t keeps what it had). */
int kb_tokenize(const char *text, size_t len, kb_toks *t);
int kb_toks_push(kb_toks *t, const kb_tok *tok);

/* ---- lexicon.c ---------------------------------------------------------- */

/* Rewrites abbreviations and synonyms (longest phrase first) and then marks
 * weights and requests for a person.  in and out must differ.  Returns 0 or
 * -1 (no memory). */
int kb_lexicon_apply(const kb_lexicon *l, const kb_toks *in, kb_toks *out);
/* Copy of a lexicon (kb_build keeps its own). NULL on no memory. */
kb_lexicon *kb_lexicon_dup(const kb_lexicon *l);
/* The first phrase of the lexicon's "human" list in a rewritten token
 * sequence, as 1 + its number, or 0. */
uint32_t kb_lexicon_has_human(const kb_toks *t);

/* ---- corpus.c ---------------------------------------------------------- */

/* Id from a question: folded, words joined by '-', at most 60 bytes.  NULL
 * on no memory or a question with no letters. */
char *kb_slug(const char *question);
/* Deep copy of src into dst; 0 or -1 (then dst is left empty). */
int kb_entry_copy(kb_entry *dst, const kb_entry *src);

/* ---- index.c ------------------------------------------------------------ */

enum { KB_F_QUESTION, KB_F_VARIANT, KB_F_KEYWORD, KB_F_TOPIC, KB_F_ANSWER, KB_F_COUNT };
extern const char *const kb_field_names[KB_F_COUNT];

/* Weights are stored in fixed point to keep a posting at 8 bytes: at
 * 10,000 entries there are millions. */
#define KB_WSCALE 40000.0f   /* w: 0 .. 1.6 */
#define KB_WFSCALE 150.0f    /* wf: 0 .. 1.7 */

typedef struct kb_post {
    uint32_t entry;
    uint16_t w;           /* field weight of the best field holding the term */
    uint8_t wf;           /* exact terms: the folded term's weight there */
    uint8_t field;
} kb_post;

/* The forward index: each entry's terms sorted by term number, to rescore
 * a few candidates without searching postings. */
typedef struct kb_fwd {
    uint32_t term;
    uint16_t w;
    uint8_t field;
    uint8_t pad;
} kb_fwd;

typedef struct kb_termrec {
    float idf;
    uint32_t off, n;      /* into kb->posts */
    uint8_t bigram, exact;
} kb_termrec;

struct kb {
    kb_entry *entries;    /* enabled entries, deep copies */
    size_t n;
    /* Entry i is itself about reaching a person: the "human" phrases its
     * question, variants and keywords contain (1 + phrase, 0 = none), so
     * that "nói chuyện với bác sĩ" may be answered by the entry that says
     * how to, while "gặp nhân viên" still goes to staff. */
    uint32_t (*human_entry)[KB_HUMAN_MAX];
    kb_lexicon *lex;      /* may be NULL */
    kb_map terms;         /* key -> term number */
    kb_termrec *term;
    size_t nterms;
    kb_post *posts;
    size_t nposts;
    kb_fwd *fwd;          /* entry e's terms: fwd[fwd_off[e] .. fwd_off[e+1]) */
    uint32_t *fwd_off;
    double idf_unknown;   /* weight of a syllable no entry has */
    /* The question and each variant as a "document": its distinct folded
     * terms, to measure how much of the entry's own wording a message
     * covers.  Entry e's documents are doc_first[e] .. doc_first[e+1]-1;
     * document d's terms are dterm[doc_off[d] .. doc_off[d+1]). */
    uint32_t *doc_first, *doc_off;
    uint32_t *dterm;
    float *dweight;       /* the term's weight there: idf x lexicon weight (x bigram factor) */
    float *doc_all;       /* document d's total weight */
    size_t ndocs, ndterms;
};

/* Turns text into rewritten, weighed syllables (tokenize + lexicon). */
int kb_analyse(const kb_lexicon *lex, const char *text, kb_toks *out);
/* The same with a caller's buffer for the raw syllables (kept between
 * calls, like out: no allocation once both are large enough). */
int kb_analyse_buf(const kb_lexicon *lex, const char *text, kb_toks *raw, kb_toks *out);
/* Writes the index key of a unigram or bigram into buf; exact=1 uses the
 * exact forms.  Returns the key length, or 0 when there is no such key. */
size_t kb_term_key(const kb_tok *a, const kb_tok *b, int exact, char *buf, size_t cap);

#endif
