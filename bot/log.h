/* log.h - one line per event on stderr: time, level, event, key=value fields.
 *
 * Personal data never reaches the log in clear: callers pass phone numbers and
 * Zalo ids through log_mask(), and secrets are never passed at all. */
#ifndef HOTLINE_LOG_H
#define HOTLINE_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
int  log_level_parse(const char *name, enum log_level *out);

/* log_msg(LOG_INFO, "inbound", "channel=%s from=%s", ch, log_mask(addr, buf, sizeof buf)); */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_msg(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...)  log_msg(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...)  log_msg(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_ERROR, ev, __VA_ARGS__)

/* Masks an address for the log: "0912345678" -> "0912***678"; short values
 * become "***". Writes into buf and returns it. */
const char *log_mask(const char *addr, char *buf, size_t len);

#endif
