/* test_matcher.c - a batch matched by the loop thread and the helper thread
 * together gives, job for job, what kb_match gives alone: in batches of
 * every size, with results asked for in order, out of order, at once or
 * never (only finish), and thousands of batches in a row so that the helper
 * is caught at every point of a batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bot/matcher.h"
#include "knowledge/kb.h"

#define N_TEXTS 96

typedef struct fixture {
    kb *k;
    kb_params p;
    const char *texts[N_TEXTS];
    kb_result expect[N_TEXTS];
} fixture;

/* The sample corpus's questions, and some that match nothing or several. */
static const char *EXTRA[] = {"", "xin chào", "tôi muốn gặp cán bộ", "hộ chiếu mất rồi làm sao",
                              "tiêm vắc xin mũi 3 ở đâu", "zzzz qqqq", "giấy khai sinh bản sao",
                              "cách ly bao nhiêu ngày", "dang ky tam tru", "ko bit hoi ai"};

static int setup(void **state)
{
    char err[512];
    fixture *f = calloc(1, sizeof *f);
    kb_corpus *c = kb_corpus_new();
    kb_lexicon *lex = kb_lexicon_load_file("knowledge/data/lexicon.json", err, sizeof err);
    if (!f || !c || !lex || kb_corpus_load_file(c, "knowledge/data/faq.json", err, sizeof err) < 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    f->k = kb_build(c, lex);
    kb_lexicon_free(lex);
    if (!f->k)
        return -1;
    f->p = kb_params_default();
    size_t n_extra = sizeof EXTRA / sizeof EXTRA[0];
    for (size_t i = 0; i < N_TEXTS; i++) {
        f->texts[i] = i < n_extra ? EXTRA[i] : kb_entry_at(f->k, (i - n_extra) % kb_size(f->k))->question;
        kb_match(f->k, f->texts[i], &f->p, &f->expect[i]);
    }
    kb_corpus_free(c);   /* after the texts: questions point into the kb, not the corpus */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    kb_free(f->k);
    kb_thread_cleanup();
    free(f);
    return 0;
}

static void same_result(const kb_result *got, const kb_result *want, size_t i)
{
    if (got->action != want->action || got->n_cand != want->n_cand ||
        got->confidence != want->confidence ||
        (got->n_cand && got->cand[0].entry != want->cand[0].entry))
        fail_msg("job %zu: action %d/%d, candidates %zu/%zu, confidence %f/%f", i, got->action,
                 want->action, got->n_cand, want->n_cand, got->confidence, want->confidence);
}

/* One batch of n texts starting at text `first`; order: 0 in order, 1
 * backwards, 2 only finish. */
static void one_batch(fixture *f, struct matcher *m, size_t first, size_t n, int order)
{
    struct matcher_job jobs[N_TEXTS];
    kb_result out[N_TEXTS];
    memset(out, 0xa5, sizeof out);   /* nothing left over from an earlier batch passes */
    for (size_t i = 0; i < n; i++) {
        jobs[i].text = f->texts[(first + i) % N_TEXTS];
        jobs[i].out = &out[i];
        atomic_init(&jobs[i].done, 0);
    }
    matcher_start(m, f->k, &f->p, jobs, n);
    for (size_t j = 0; order < 2 && j < n; j++) {
        size_t i = order == 0 ? j : n - 1 - j;
        matcher_get(m, f->k, &f->p, jobs, n, i);
        assert_int_equal(atomic_load(&jobs[i].done), 1);
        same_result(&out[i], &f->expect[(first + i) % N_TEXTS], first + i);
    }
    matcher_finish(m, f->k, &f->p, jobs, n);
    for (size_t i = 0; i < n; i++)
        same_result(&out[i], &f->expect[(first + i) % N_TEXTS], first + i);
}

static void shared_batches_match_like_one_thread(void **state)
{
    fixture *f = *state;
    struct matcher *m = matcher_new();
    assert_non_null(m);
    for (size_t n = 0; n <= N_TEXTS; n += 7)
        for (int order = 0; order < 3; order++)
            one_batch(f, m, n, n, order);
    matcher_free(m);
}

static void thousands_of_small_batches_in_a_row(void **state)
{
    fixture *f = *state;
    struct matcher *m = matcher_new();
    assert_non_null(m);
    /* Small batches end while the helper is still waking up or taking its
     * first job: the generation check is what keeps it off the next one. */
    for (size_t b = 0; b < 3000; b++)
        one_batch(f, m, b * 5, 1 + b % 6, (int)(b % 3));
    matcher_free(m);
}

static void without_a_helper_the_caller_matches(void **state)
{
    fixture *f = *state;
    for (int order = 0; order < 3; order++)
        one_batch(f, NULL, 3, 40, order);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_batches_match_like_one_thread),
        cmocka_unit_test(thousands_of_small_batches_in_a_row),
        cmocka_unit_test(without_a_helper_the_caller_matches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
