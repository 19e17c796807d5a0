/* kb.h - the knowledge engine: Vietnamese Q&A matching with confidence.
 *
 * A library that knows no HTTP, database or channel.  The daemon fills a
 * kb_corpus (from faq.json, CSV or its database) and a lexicon, builds an
 * immutable kb index from them, and asks kb_match() for a decision.  A kb is
 * never modified after kb_build(): to change the knowledge, build a new one
 * and swap the pointer (that is how edits take effect without a restart).
 *
 * Ownership: every char * inside kb_entry / kb_corpus is owned by the corpus
 * (malloc'd, freed by kb_corpus_free).  kb_build() copies what it needs, so
 * the corpus may be freed after building. */
#ifndef HOTLINE_KB_H
#define HOTLINE_KB_H

#include <stddef.h>

/* ---- corpus ---------------------------------------------------------- */

typedef struct kb_keyword {
    char *term;
    double weight;
} kb_keyword;

typedef struct kb_entry {
    char *id;           /* stable id, e.g. "tiem-chung-dia-diem" */
    char *topic;        /* may be NULL */
    char *department;   /* may be NULL */
    char *question;
    char **variants;
    size_t n_variants;
    kb_keyword *keywords;
    size_t n_keywords;
    char *answer;       /* full answer (Zalo, web) */
    char *answer_sms;   /* short answer for SMS; may be NULL (then answer is used) */
    int enabled;        /* 0: kept but never matched */
} kb_entry;

typedef struct kb_corpus {
    char *name;         /* may be NULL */
    kb_entry *entries;
    size_t n, cap;
} kb_corpus;

kb_corpus *kb_corpus_new(void);
void kb_corpus_free(kb_corpus *c);
/* Deep-copies e into c; an entry with the same id is replaced (upsert). */
int kb_corpus_add(kb_corpus *c, const kb_entry *e);
const kb_entry *kb_corpus_find(const kb_corpus *c, const char *id);
void kb_entry_clear(kb_entry *e);   /* frees the strings of one entry */

/* Parse the faq.json format ({"entries":[...]}).  On error returns -1 and
 * writes a message naming the entry id (or index) and the problem into err. */
int kb_corpus_from_json(kb_corpus *c, const char *text, size_t len, char *err, size_t errlen);
/* Parse CSV "question,answer[,keywords]" (RFC 4180 quoting, optional header
 * line, keywords separated by ';' with optional ":weight").  Ids are derived
 * from the question.  Errors name the line number. */
int kb_corpus_from_csv(kb_corpus *c, const char *text, size_t len, char *err, size_t errlen);
/* Loads a file by extension (.json or .csv). Errors name the file. */
int kb_corpus_load_file(kb_corpus *c, const char *path, char *err, size_t errlen);
/* Serialise to the faq.json format; malloc'd string. */
char *kb_corpus_to_json(const kb_corpus *c);

/* ---- lexicon --------------------------------------------------------- */

typedef struct kb_lexicon kb_lexicon;

/* knowledge/data/lexicon.json format; errors name the key. */
kb_lexicon *kb_lexicon_from_json(const char *text, size_t len, char *err, size_t errlen);
kb_lexicon *kb_lexicon_load_file(const char *path, char *err, size_t errlen);
void kb_lexicon_free(kb_lexicon *l);

/* ---- text ------------------------------------------------------------ */

/* NFC + case fold + all marks removed + đ/Đ/ð/Ð -> d, punctuation to spaces,
 * single spaces.  malloc'd; NULL on invalid UTF-8 or no memory. */
char *kb_fold(const char *text);

/* ---- matching -------------------------------------------------------- */

typedef struct kb kb;

kb *kb_build(const kb_corpus *c, const kb_lexicon *lex);   /* lex may be NULL */
void kb_free(kb *k);
size_t kb_size(const kb *k);
const kb_entry *kb_entry_at(const kb *k, size_t i);
const kb_entry *kb_find(const kb *k, const char *id);

typedef struct kb_params {
    double threshold;   /* minimum confidence to answer automatically */
    double gap;         /* minimum confidence lead of top over runner-up */
} kb_params;

/* The shipped defaults, chosen from the development sets' sweeps. */
kb_params kb_params_default(void);

typedef enum { KB_ANSWER = 0, KB_ESCALATE = 1 } kb_action;

typedef enum {
    KB_REASON_NONE = 0,
    KB_NO_MATCH,
    KB_AMBIGUOUS,
    KB_LOW_CONFIDENCE,
    KB_ASKED_HUMAN,     /* the citizen asks for a person / a doctor */
} kb_reason;

const char *kb_reason_name(kb_reason r);   /* "no_match", "ambiguous", ... */

#define KB_MAX_TERMS 16
#define KB_TOP 3

typedef struct kb_term {
    char term[64];      /* the matched term as indexed (folded or exact) */
    char field[16];     /* "question", "variant", "keyword", "answer", ... */
    double score;       /* contribution to the candidate's score */
} kb_term;

typedef struct kb_candidate {
    const kb_entry *entry;   /* points into the kb; valid while the kb lives */
    double score;            /* raw score */
    double confidence;       /* in [0,1] */
    kb_term terms[KB_MAX_TERMS];
    size_t n_terms;
} kb_candidate;

typedef struct kb_result {
    kb_action action;
    kb_reason reason;        /* KB_REASON_NONE when action == KB_ANSWER */
    double confidence;       /* of the top candidate */
    kb_candidate cand[KB_TOP];
    size_t n_cand;
} kb_result;

/* Matches one message.  Thread-compatible: a kb may be read from several
 * threads at once.  Returns 0, or -1 on invalid input (then out escalates
 * with KB_NO_MATCH). */
int kb_match(const kb *k, const char *text, const kb_params *p, kb_result *out);
/* kb_match keeps per-thread scratch buffers (sized to the largest kb seen)
 * between calls; a thread that is about to exit may free them. */
void kb_thread_cleanup(void);

/* ---- text, continued --------------------------------------------------- */

/* Reads a whole file (at most 1 GB) into a malloc'd, NUL-terminated buffer;
 * *len gets its size.  NULL with err naming the file and the reason. */
char *kb_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* Removes diacritics but keeps case, punctuation and spacing: "Được ạ?" ->
 * "Duoc a?", đ -> d, Đ -> D.  What an SMS without accents looks like (and
 * how eval measures that condition).  malloc'd; NULL on invalid UTF-8. */
char *kb_unaccent(const char *text);

/* ---- evaluation ------------------------------------------------------ */

#include <stdio.h>

#define KB_SWEEP_MAX 21

typedef struct kb_sweep_point {
    double threshold, precision, coverage, oos_rejection;
} kb_sweep_point;

/* A line whose outcome was wrong: a wrong automatic answer, an answerable
 * line escalated, or an out-of-scope line answered. */
typedef struct kb_eval_miss {
    size_t line;
    char *text;
    char *expect;            /* NULL: should have escalated */
    char *got;               /* top candidate's id, or NULL */
    kb_action action;
    kb_reason reason;
    double confidence;
    int top3;                /* expected entry was among the top three */
} kb_eval_miss;

typedef struct kb_eval_report {
    size_t answerable, oos;
    size_t top1_n, top3_n, auto_answered, auto_correct, oos_rejected;
    double top1, top3, precision, coverage, oos_rejection;
    double threshold, gap;
    kb_sweep_point sweep[KB_SWEEP_MAX];
    size_t n_sweep;
    kb_eval_miss *misses;
    size_t n_misses;
} kb_eval_report;

/* Runs every line of an eval set (JSON lines {"text": ..., "expect": ID or
 * null}) through kb_match with p, plus a sweep of thresholds at p's gap.
 * unaccent strips diacritics from each text first.  Errors name the line.
 * Free with kb_eval_free. */
int kb_eval_run(const kb *k, const char *jsonl, size_t len, const kb_params *p, int unaccent,
                kb_eval_report *r, char *err, size_t errlen);
void kb_eval_free(kb_eval_report *r);
/* One JSON object with exactly: answerable, oos, top1, top3, auto_answered,
 * auto_correct, precision, coverage, oos_rejection, threshold, sweep.
 * malloc'd. */
char *kb_eval_to_json(const kb_eval_report *r);
/* The readable table, misses included. */
void kb_eval_print(const kb_eval_report *r, FILE *f);

#endif
