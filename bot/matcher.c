/* matcher.c - a batch's matching, shared with a helper thread (see matcher.h).
 *
 * Both threads take jobs from one atomic counter, so neither waits for the
 * other to start: if the helper is slow to be scheduled, the loop thread
 * simply matches everything itself.  The counter carries the batch's
 * generation in its high half; a helper that wakes late, holding an older
 * batch's job list, sees another generation and takes nothing, so it never
 * reads a job list its owner has already freed.  The loop thread waits only
 * for a job the helper is in the middle of: at most one match, tens of
 * microseconds, and only when it needs that job's result now. */
#include "bot/matcher.h"
#include "bot/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct matcher {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work;            /* a batch was offered, or stop */
    pthread_cond_t done;            /* the helper finished a job the loop waits for */
    int stop;
    /* The batch on offer, written under mu by matcher_start. */
    uint32_t gen;
    const kb *k;
    const kb_params *p;
    struct matcher_job *jobs;
    size_t n;
    /* generation << 32 | the next job's index */
    _Atomic uint64_t next;
    /* The loop thread sleeps on 'done': set under mu before it checks the
     * job, read by the helper after it marks a job done, so one of the two
     * always sees the other. */
    _Atomic int waiting;
};

/* The index of a job of batch gen that nobody has taken, or -1.  Jobs are
 * taken in order. */
static long take(struct matcher *m, uint32_t gen, size_t n)
{
    uint64_t v = atomic_load(&m->next);
    for (;;) {
        if ((uint32_t)(v >> 32) != gen || (v & 0xffffffffu) >= n)
            return -1;
        if (atomic_compare_exchange_weak(&m->next, &v, v + 1))
            return (long)(v & 0xffffffffu);
    }
}

/* The result is written before the flag that publishes it; after the flag,
 * the job is its owner's again. */
static void run(struct matcher_job *j, const kb *k, const kb_params *p)
{
    kb_match(k, j->text, p, j->out);
    atomic_store(&j->done, 1);
}

static void *helper_main(void *arg)
{
    struct matcher *m = arg;
    uint32_t seen = 0;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->stop && m->gen == seen)
            pthread_cond_wait(&m->work, &m->mu);
        if (m->stop)
            break;
        seen = m->gen;
        const kb *k = m->k;
        const kb_params *p = m->p;
        struct matcher_job *jobs = m->jobs;
        size_t n = m->n;
        pthread_mutex_unlock(&m->mu);
        long i;
        while ((i = take(m, seen, n)) >= 0) {
            run(&jobs[i], k, p);
            if (atomic_load(&m->waiting)) {
                pthread_mutex_lock(&m->mu);
                pthread_cond_signal(&m->done);
                pthread_mutex_unlock(&m->mu);
            }
        }
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    kb_thread_cleanup();
    return NULL;
}

struct matcher *matcher_new(void)
{
    struct matcher *m = calloc(1, sizeof *m);
    if (!m) {
        log_error("matcher_start", "error=\"out of memory\"");
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->work, NULL);
    pthread_cond_init(&m->done, NULL);
    atomic_init(&m->next, 0);
    atomic_init(&m->waiting, 0);
    if (pthread_create(&m->thread, NULL, helper_main, m) != 0) {
        log_error("matcher_start", "error=\"cannot start the matching thread\"");
        pthread_cond_destroy(&m->done);
        pthread_cond_destroy(&m->work);
        pthread_mutex_destroy(&m->mu);
        free(m);
        return NULL;
    }
    return m;
}

void matcher_start(struct matcher *m, const kb *k, const kb_params *p, struct matcher_job *jobs,
                   size_t n)
{
    if (!m || n == 0)
        return;
    pthread_mutex_lock(&m->mu);
    m->gen++;
    m->k = k;
    m->p = p;
    m->jobs = jobs;
    m->n = n;
    atomic_store(&m->next, (uint64_t)m->gen << 32);
    pthread_cond_signal(&m->work);
    pthread_mutex_unlock(&m->mu);
}

void matcher_get(struct matcher *m, const kb *k, const kb_params *p, struct matcher_job *jobs,
                 size_t n, size_t i)
{
    if (i >= n || atomic_load(&jobs[i].done))
        return;
    if (!m) {
        run(&jobs[i], k, p);
        return;
    }
    /* Only this thread writes gen, so it reads it without the lock. */
    uint32_t gen = m->gen;
    while (!atomic_load(&jobs[i].done)) {
        /* Jobs go in order: while job i is not taken, what this thread
         * takes is i or one before it. */
        long t = take(m, gen, n);
        if (t >= 0) {
            run(&jobs[t], k, p);
            continue;
        }
        /* The helper has job i in hand. */
        pthread_mutex_lock(&m->mu);
        atomic_store(&m->waiting, 1);
        while (!atomic_load(&jobs[i].done))
            pthread_cond_wait(&m->done, &m->mu);
        atomic_store(&m->waiting, 0);
        pthread_mutex_unlock(&m->mu);
    }
}

void matcher_finish(struct matcher *m, const kb *k, const kb_params *p, struct matcher_job *jobs,
                    size_t n)
{
    for (size_t i = 0; i < n; i++)
        matcher_get(m, k, p, jobs, n, i);
}

void matcher_free(struct matcher *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_signal(&m->work);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->done);
    pthread_cond_destroy(&m->work);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
