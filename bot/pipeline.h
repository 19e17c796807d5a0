/* pipeline.h - the path of every inbound message: store durably, decide
 * (knowledge), queue the reply, all in one transaction; then acknowledge.
 *
 * Requests that arrive together are committed together (group commit): the
 * batch is written by a low-priority event that runs after the loop has read
 * every ready request, so one fsync covers many webhooks. */
#ifndef HOTLINE_PIPELINE_H
#define HOTLINE_PIPELINE_H

#include "adapters/adapter.h"
#include "bot/app.h"

/* rc 0: stored and, unless a statement failed (then pipeline_recover
 * retries), decided with its reply queued; rc -1: not stored (answer 503 so
 * the provider retries).  duplicate is 1
 * when the provider's message id was already stored (acknowledge, no reply). */
typedef void (*pipeline_cb)(void *arg, int rc, long long message_id, int duplicate);

struct pipeline *pipeline_new(hl_app *app);
void pipeline_free(struct pipeline *p);

/* Queues one inbound event of `channel` for the next group commit; cb runs
 * after that commit.  0 / -1 (no memory: cb is not called). */
int pipeline_submit(hl_app *app, const char *channel, const adapter_inbound *ev, pipeline_cb cb,
                    void *arg);

/* Decides every message left 'received' (a failed decision, or a database
 * from an older version).  Returns how many, or -1. */
int pipeline_recover(hl_app *app);

/* Nothing waiting for a commit (clean shutdown). */
int pipeline_idle(struct pipeline *p);

#endif
