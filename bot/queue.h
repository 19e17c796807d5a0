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

/* ---- case actions (the console API, queue.c) ----------------------------
 * Results: QUEUE_OK, QUEUE_NOT_FOUND (404), QUEUE_CONFLICT (409: resolved, or
 * claimed by someone else), QUEUE_BAD (400: bad input), QUEUE_ERROR (500);
 * err says why.  Each action commits, then publishes a `case` event. */
enum { QUEUE_ERROR = -1, QUEUE_OK = 0, QUEUE_NOT_FOUND = 1, QUEUE_CONFLICT = 2, QUEUE_BAD = 3 };

/* One case as the API shows it; full adds candidates (with question and
 * answers).  NULL when absent or on error.  The cJSON results of these
 * four functions belong to the caller (cJSON_Delete). */
cJSON *queue_case_json(hl_app *app, long long case_id, int full);
/* Cases with status open|claimed|resolved|active (NULL = active), oldest
 * first: a JSON array, or NULL on error (or unknown status: *bad set). */
cJSON *queue_list(hl_app *app, const char *status, int *bad);
/* The contact's messages, oldest first (the last `limit`): JSON array. */
cJSON *queue_messages(hl_app *app, long long contact_id, int limit);
cJSON *queue_message_json(hl_app *app, long long message_id);

int queue_claim(hl_app *app, long long case_id, const char *user, int is_admin, char *err,
                size_t errlen);
int queue_release(hl_app *app, long long case_id, const char *user, int is_admin, char *err,
                  size_t errlen);
/* proposal may be NULL: {entry_id, message_id?} or {question, answer, message_id?}. */
int queue_resolve(hl_app *app, long long case_id, const char *user, int is_admin,
                  const cJSON *proposal, char *err, size_t errlen);
/* Sends text to the case's contact through the outbox (claiming an open
 * case for user) and records the first staff reply time. */
int queue_reply(hl_app *app, long long case_id, const char *user, int is_admin, const char *text,
                long long *message_id, char *err, size_t errlen);

#endif
