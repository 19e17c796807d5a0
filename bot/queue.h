/* queue.h - the human queue: escalation cases and what staff do with them.
 *
 * One case per citizen conversation: an escalated message opens a case or
 * joins the contact's unresolved one.  States: open -> claimed -> resolved
 * (a claim can be released back to open). */
#ifndef HOTLINE_QUEUE_H
#define HOTLINE_QUEUE_H

#include <cjson/cJSON.h>
#include "bot/app.h"

/* Called by the pipeline inside its transaction.  Attaches message_id to the
 * contact's unresolved case or opens one with reason and candidates (JSON
 * array text, may be NULL).  *case_id gets the case; *needs_holding is 1
 * when the citizen has not yet had the holding reply for this case (the
 * caller sends it and calls queue_mark_holding_sent).  0 / -1. */
int queue_escalate(hl_app *app, long long contact_id, long long message_id, const char *reason,
                   const char *candidates_json, long long *case_id, int *needs_holding);
int queue_mark_holding_sent(hl_app *app, long long case_id);

/* The contact's unresolved case: 0 none, 1 open, 2 claimed (the bot then
 * stays silent and the message joins the case); *case_id set when found. */
int queue_contact_state(hl_app *app, long long contact_id, long long *case_id);
/* Links a message to a case (messages that join a case without escalation). */
int queue_attach(hl_app *app, long long case_id, long long message_id);

/* Tells the console (server-sent events) that a case changed. */
void queue_notify(hl_app *app, long long case_id);

#endif
