/* sender.h - the outbox's network thread.
 *
 * The loop thread prepares each transfer (a libcurl easy handle with its URL,
 * headers, body and write callback) and hands it over; a second thread owns
 * the libcurl multi handle and its own libevent loop, runs the transfers, and
 * hands each finished one back with its result.  Nothing here knows what is
 * sent or reads the database: the outbox decides and records, this moves
 * bytes.  While a handle is with the sender, its owner must not touch it or
 * anything its callbacks write to. */
#ifndef HOTLINE_SENDER_H
#define HOTLINE_SENDER_H

#include <curl/curl.h>
#include <event2/event.h>

struct sender;

/* Called on the loop thread (from main_base) for every finished transfer;
 * the handle is back with its owner, detached from the sender. */
typedef void (*sender_done_fn)(void *arg, CURL *easy, CURLcode result);

/* Starts the thread.  max_per_host bounds the connections to one provider.
 * NULL on failure (logged). */
struct sender *sender_new(struct event_base *main_base, long max_per_host, sender_done_fn done,
                          void *arg);

/* Hands a prepared easy handle to the thread.  0, or -1 if it could not be
 * queued (the handle stays with the caller). */
int sender_submit(struct sender *s, CURL *easy);

/* Stops and joins the thread.  Transfers still running are abandoned
 * (detached from libcurl, not reported): their owner frees them. */
void sender_free(struct sender *s);

#endif
