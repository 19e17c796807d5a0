/* test_kb_eval.c - the matcher's quality on the development sets, as a
 * regression guard: the shipped corpus, lexicon and defaults must keep the
 * figures of issue 6 on ../shared/eval/dev.jsonl and dev-hard.jsonl, with
 * and without diacritics, at or just under the measured figures
 * (knowledge/README.md).  The sets come with every checkout and CI run (in
 * ../shared); a missing set is a failure, not a skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "knowledge/kb.h"

static kb *shipped(void)
{
    char err[512];
    kb_corpus *c = kb_corpus_new();
    kb_lexicon *lex = kb_lexicon_load_file("knowledge/data/lexicon.json", err, sizeof err);
    if (!lex || kb_corpus_load_file(c, "knowledge/data/faq.json", err, sizeof err) < 0)
        fail_msg("%s", err);
    kb *k = kb_build(c, lex);
    kb_corpus_free(c);
    kb_lexicon_free(lex);
    assert_non_null(k);
    return k;
}

typedef struct want {
    double top1, precision, coverage, oos_rejection;
} want;

static void check(const char *path, int unaccent, want w)
{
    size_t len = 0;
    char rerr[512];
    char *text = kb_read_file(path, &len, rerr, sizeof rerr);
    if (!text) {
        fail_msg("cannot read the evaluation set: %s", rerr);
    }
    kb *k = shipped();
    kb_params p = kb_params_default();
    kb_eval_report r;
    char err[256];
    assert_int_equal(kb_eval_run(k, text, len, &p, unaccent, &r, err, sizeof err), 0);
    fprintf(stderr, "%s%s: top1 %.3f precision %.3f coverage %.3f oos_rejection %.3f\n", path,
            unaccent ? " (unaccented)" : "", r.top1, r.precision, r.coverage, r.oos_rejection);
    assert_true(r.top1 >= w.top1);
    assert_true(r.precision >= w.precision);
    assert_true(r.coverage >= w.coverage);
    assert_true(r.oos_rejection >= w.oos_rejection);
    kb_eval_free(&r);
    kb_free(k);
    free(text);
}

/* The targets; without diacritics, within 0.02 of them. */
static void test_dev(void **state)
{
    (void)state;
    check("../shared/eval/dev.jsonl", 0, (want){0.97, 0.98, 0.88, 0.92});
    check("../shared/eval/dev.jsonl", 1, (want){0.96, 0.98, 0.87, 0.92});
}

static void test_dev_hard(void **state)
{
    (void)state;
    check("../shared/eval/dev-hard.jsonl", 0, (want){0.89, 0.94, 0.61, 0.91});
    check("../shared/eval/dev-hard.jsonl", 1, (want){0.88, 0.94, 0.60, 0.91});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dev),
        cmocka_unit_test(test_dev_hard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
