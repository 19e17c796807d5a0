/* matcher.h - a batch's matching, shared with a helper thread.
 *
 * The pipeline stores a batch of messages and then decides each one, and
 * much of deciding is matching: pure work on the read-only kb.
 * matcher_start hands the batch's texts to a helper thread, which matches
 * them in order while the loop thread writes the batch's rows and decides
 * the first messages; matcher_get gives the loop thread one message's result,
 * matching it (and any before it nobody has taken) itself if the helper has
 * not got that far.  The batch (and so each group commit) stays as large as
 * before: an earlier try, matching on a worker before a message entered its
 * batch, split batches and lost what it gained.
 *
 * Between start and finish, the caller must not free or replace the kb or
 * the params, nor free the jobs. */
#ifndef HOTLINE_MATCHER_H
#define HOTLINE_MATCHER_H

#include <stddef.h>

#include "knowledge/kb.h"

struct matcher;

struct matcher_job {
    const char *text;
    kb_result *out;
    _Atomic int done;           /* out is written (set by the matcher) */
};

/* Starts the helper thread.  NULL on failure (logged): callers then match
 * on their own thread, as matcher_get does with a NULL matcher. */
struct matcher *matcher_new(void);

/* Offers jobs[0..n) (each with done = 0) to the helper thread.  With a NULL
 * matcher, or n == 0, nothing happens until matcher_get. */
void matcher_start(struct matcher *m, const kb *k, const kb_params *p, struct matcher_job *jobs,
                   size_t n);

/* Returns once jobs[i] has its result. */
void matcher_get(struct matcher *m, const kb *k, const kb_params *p, struct matcher_job *jobs,
                 size_t n, size_t i);

/* Returns once every job has its result, and the helper holds none of them:
 * then the jobs may be freed. */
void matcher_finish(struct matcher *m, const kb *k, const kb_params *p, struct matcher_job *jobs,
                    size_t n);

/* Stops and joins the helper; it must be between batches. */
void matcher_free(struct matcher *m);

#endif
