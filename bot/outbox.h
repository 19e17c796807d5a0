/* outbox.h - durable replies: a row first, then sent by libcurl (on the
 * sender's thread, sender.h), retried with backoff, recorded. */
#ifndef HOTLINE_OUTBOX_H
#define HOTLINE_OUTBOX_H

#include "bot/app.h"

struct outbox *outbox_new(hl_app *app);
void outbox_free(struct outbox *o);

/* Inside the caller's transaction: writes the outbound message and its outbox
 * row(s) for the contact's channel.  text is the full answer; SMS channels
 * render it (sms_render) and Zalo splits it here, so the row holds exactly
 * what will be sent.  author is "bot" or the staff username.  *message_id
 * gets the outbound message's id.  0 / -1. */
int outbox_enqueue(hl_app *app, long long contact_id, long long case_id, long long in_reply_to,
                   const char *text, const char *author, long long *message_id);

/* After the caller's commit: start sending what is due. */
void outbox_kick(struct outbox *o);

/* Inside the caller's open transaction (the pipeline's flush): records the
 * outcomes of the sends finished so far, so that one commit serves both.
 * outbox_record_settle follows that transaction's commit (rc 0) or its
 * failure (-1, the outcomes are recorded again later). */
void outbox_record_in(struct outbox *o);
void outbox_record_settle(struct outbox *o, int rc);

/* Applies a delivery report (by our outbox id or the provider's id). */
int outbox_dlr(hl_app *app, const char *channel, long long outbox_id, const char *provider_id,
               int state, const char *code, const char *message);

/* Rows pending or in flight (metrics). */
long long outbox_depth(hl_app *app);

#endif
