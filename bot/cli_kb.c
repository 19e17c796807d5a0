/* cli_kb.c - `hotline ask` and `hotline eval`: the knowledge engine by hand.
 *
 * With --corpus, or without --config, everything runs in memory from files
 * (knowledge/data/faq.json and knowledge/data/lexicon.json by default): what
 * an admin uses to try a keyword before importing it, and what CI uses to
 * hold the matcher to its quality targets.  With --config and no --corpus the
 * matcher is built from the daemon's database, with its thresholds, so the
 * answer is the one the daemon would give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bot/cli_kb.h"
#include "bot/kbstore.h"
#include "knowledge/kb.h"

#define DEFAULT_CORPUS "knowledge/data/faq.json"
#define DEFAULT_LEXICON "knowledge/data/lexicon.json"

typedef struct kb_opts {
    const char *config, *corpus, *lexicon;
    int json, unaccent;
    const char *arg;      /* TEXT or EVAL.jsonl */
} kb_opts;

/* Parses the shared options; returns 0, or 2 on a usage error. */
static int parse_opts(int argc, char **argv, const char *cmd, int allow_unaccent, kb_opts *o)
{
    memset(o, 0, sizeof *o);
    int i = 0;
    if (argc > 0 && strcmp(argv[0], cmd) == 0)
        i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char **file = strcmp(a, "--config") == 0    ? &o->config
                            : strcmp(a, "--corpus") == 0  ? &o->corpus
                            : strcmp(a, "--lexicon") == 0 ? &o->lexicon
                                                          : NULL;
        if (file) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hotline %s: %s needs a file\n", cmd, a);
                return 2;
            }
            *file = argv[++i];
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (allow_unaccent && strcmp(a, "--unaccent") == 0) {
            o->unaccent = 1;
        } else if (strcmp(a, "--") == 0 && i + 1 < argc && !o->arg) {
            o->arg = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "hotline %s: unknown option %s\n", cmd, a);
            return 2;
        } else if (o->arg) {
            fprintf(stderr, "hotline %s: one %s only (quote the message)\n", cmd,
                    allow_unaccent ? "EVAL.jsonl" : "TEXT");
            return 2;
        } else {
            o->arg = a;
        }
    }
    if (!o->arg) {
        fprintf(stderr, "usage: hotline %s [--config FILE] [--corpus FILE] [--lexicon FILE] [--json]%s %s\n", cmd,
                allow_unaccent ? " [--unaccent]" : "", allow_unaccent ? "EVAL.jsonl" : "TEXT");
        return 2;
    }
    return 0;
}

/* Builds the matcher the options ask for; NULL after printing the error. */
static kb *load_kb(const kb_opts *o, const char *cmd, kb_params *params)
{
    char err[512];
    *params = kb_params_default();
    if (o->config && !o->corpus) {
        kb *k = kbstore_load(o->config, params, err, sizeof err);
        if (!k)
            fprintf(stderr, "hotline %s: %s: %s\n", cmd, o->config, err);
        return k;
    }
    const char *cpath = o->corpus ? o->corpus : DEFAULT_CORPUS;
    const char *lpath = o->lexicon ? o->lexicon : DEFAULT_LEXICON;
    kb_corpus *c = kb_corpus_new();
    kb_lexicon *lex = NULL;
    kb *k = NULL;
    if (!c) {
        fprintf(stderr, "hotline %s: out of memory\n", cmd);
        return NULL;
    }
    if (kb_corpus_load_file(c, cpath, err, sizeof err) < 0) {
        fprintf(stderr, "hotline %s: %s\n", cmd, err);
        goto out;
    }
    if (!(lex = kb_lexicon_load_file(lpath, err, sizeof err))) {
        fprintf(stderr, "hotline %s: %s\n", cmd, err);
        goto out;
    }
    if (!(k = kb_build(c, lex)))
        fprintf(stderr, "hotline %s: out of memory building the index\n", cmd);
out:
    kb_lexicon_free(lex);
    kb_corpus_free(c);
    return k;
}

static void print_result_text(const kb_result *r)
{
    if (r->action == KB_ANSWER)
        printf("decision: answer %s (confidence %.2f)\n", r->cand[0].entry->id, r->confidence);
    else
        printf("decision: escalate, %s (confidence %.2f)\n", kb_reason_name(r->reason), r->confidence);
    for (size_t i = 0; i < r->n_cand; i++) {
        const kb_candidate *c = &r->cand[i];
        printf("\n%zu. %s  confidence %.2f  score %.2f\n   %s\n", i + 1, c->entry->id, c->confidence, c->score,
               c->entry->question);
        for (size_t t = 0; t < c->n_terms; t++)
            printf("   %6.2f  %-24s %s\n", c->terms[t].score, c->terms[t].term, c->terms[t].field);
    }
    if (r->action == KB_ANSWER) {
        const kb_entry *e = r->cand[0].entry;
        printf("\nanswer:\n%s\n", e->answer);
        if (e->answer_sms)
            printf("\nanswer (SMS):\n%s\n", e->answer_sms);
    }
}

static char *result_json(const kb_result *r)
{
    cJSON *o = cJSON_CreateObject(), *arr;
    char *s = NULL;
    if (!o)
        return NULL;
    const kb_entry *top = r->action == KB_ANSWER ? r->cand[0].entry : NULL;
    if (!cJSON_AddStringToObject(o, "action", r->action == KB_ANSWER ? "answer" : "escalate") ||
        !(r->action == KB_ANSWER ? cJSON_AddNullToObject(o, "reason")
                                 : cJSON_AddStringToObject(o, "reason", kb_reason_name(r->reason))) ||
        !cJSON_AddNumberToObject(o, "confidence", r->confidence) ||
        !(top ? cJSON_AddStringToObject(o, "entry", top->id) : cJSON_AddNullToObject(o, "entry")) ||
        !(arr = cJSON_AddArrayToObject(o, "candidates")))
        goto out;
    for (size_t i = 0; i < r->n_cand; i++) {
        const kb_candidate *c = &r->cand[i];
        cJSON *co = cJSON_CreateObject(), *terms;
        if (!co)
            goto out;
        cJSON_AddItemToArray(arr, co);
        if (!cJSON_AddStringToObject(co, "id", c->entry->id) ||
            !cJSON_AddStringToObject(co, "question", c->entry->question) ||
            !cJSON_AddNumberToObject(co, "score", c->score) ||
            !cJSON_AddNumberToObject(co, "confidence", c->confidence) ||
            !(terms = cJSON_AddArrayToObject(co, "terms")))
            goto out;
        for (size_t t = 0; t < c->n_terms; t++) {
            cJSON *to = cJSON_CreateObject();
            if (!to)
                goto out;
            cJSON_AddItemToArray(terms, to);
            if (!cJSON_AddStringToObject(to, "term", c->terms[t].term) ||
                !cJSON_AddStringToObject(to, "field", c->terms[t].field) ||
                !cJSON_AddNumberToObject(to, "score", c->terms[t].score))
                goto out;
        }
    }
    if (top && (!cJSON_AddStringToObject(o, "answer", top->answer) ||
                !(top->answer_sms ? cJSON_AddStringToObject(o, "answer_sms", top->answer_sms)
                                  : cJSON_AddNullToObject(o, "answer_sms"))))
        goto out;
    s = cJSON_Print(o);
out:
    cJSON_Delete(o);
    return s;
}

int cli_ask(int argc, char **argv)
{
    kb_opts o;
    int rc = parse_opts(argc, argv, "ask", 0, &o);
    if (rc)
        return rc;
    kb_params p;
    kb *k = load_kb(&o, "ask", &p);
    if (!k)
        return 1;
    kb_result r;
    if (kb_match(k, o.arg, &p, &r) < 0) {
        fprintf(stderr, "hotline ask: the message is not valid UTF-8\n");
        kb_free(k);
        return 1;
    }
    rc = 0;
    if (o.json) {
        char *s = result_json(&r);
        if (s)
            puts(s);
        else {
            fprintf(stderr, "hotline ask: out of memory\n");
            rc = 1;
        }
        free(s);
    } else {
        print_result_text(&r);
    }
    kb_free(k);
    return rc;
}

int cli_eval(int argc, char **argv)
{
    kb_opts o;
    int rc = parse_opts(argc, argv, "eval", 1, &o);
    if (rc)
        return rc;
    size_t len;
    char err[512];
    char *text = kb_read_file(o.arg, &len, err, sizeof err);
    if (!text) {
        fprintf(stderr, "hotline eval: %s\n", err);
        return 1;
    }
    kb_params p;
    kb *k = load_kb(&o, "eval", &p);
    if (!k) {
        free(text);
        return 1;
    }
    kb_eval_report r;
    rc = 0;
    if (kb_eval_run(k, text, len, &p, o.unaccent, &r, err, sizeof err) < 0) {
        fprintf(stderr, "hotline eval: %s: %s\n", o.arg, err);
        rc = 1;
    } else if (o.json) {
        char *s = kb_eval_to_json(&r);
        if (s)
            puts(s);
        else {
            fprintf(stderr, "hotline eval: out of memory\n");
            rc = 1;
        }
        free(s);
        kb_eval_free(&r);
    } else {
        kb_eval_print(&r, stdout);
        kb_eval_free(&r);
    }
    free(text);
    kb_free(k);
    return rc;
}
