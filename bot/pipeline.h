/* pipeline.h - the path of every inbound message:
 * store durably -> acknowledge -> decide (knowledge) -> queue the reply.
 *
 * Requests that arrive together are committed together (group commit): the
 * batch is written by a low-priority event that runs after the loop has read
 * every ready request, so one fsync covers many webhooks. */
#ifndef HOTLINE_PIPELINE_H
#define HOTLINE_PIPELINE_H

#include "adapters/adapter.h"
#include "bot/app.h"

/* rc 0: stored (or, with wait_processed, also decided and the reply queued);
 * rc -1: not stored (answer 503 so the provider retries).  duplicate is 1
 * when the provider's message id was already stored (acknowledge, no reply). */
typedef void (*pipeline_cb)(void *arg, int rc, long long message_id, int duplicate);

struct pipeline *pipeline_new(hl_app *app);
void pipeline_free(struct pipeline *p);

/* Queues one inbound event of `channel` for the next group commit.  cb runs
 * once stored (wait_processed 0) or once decided (1).  0 / -1 (no memory:
 * cb is not called). */
int pipeline_submit(hl_app *app, const char *channel, const adapter_inbound *ev,
                    int wait_processed, pipeline_cb cb, void *arg);

/* Decides every message left 'received' (a crash between acknowledgement
 * and decision).  Returns how many, or -1. */
int pipeline_recover(hl_app *app);

/* Nothing waiting for a commit (clean shutdown). */
int pipeline_idle(struct pipeline *p);

#endif
