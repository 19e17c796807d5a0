/* metrics.h - counters for GET /metrics (Prometheus text format). */
#ifndef HOTLINE_METRICS_H
#define HOTLINE_METRICS_H

#include "bot/app.h"

struct hl_metrics *metrics_new(void);
void metrics_free(struct hl_metrics *m);

void metrics_message_in(struct hl_metrics *m, const char *channel);
void metrics_auto_answered(struct hl_metrics *m, const char *channel);
void metrics_escalated(struct hl_metrics *m, const char *reason);
void metrics_sent(struct hl_metrics *m, const char *channel);
void metrics_send_failed(struct hl_metrics *m, const char *channel);
void metrics_send_retry(struct hl_metrics *m, const char *channel);
void metrics_http_observe(struct hl_metrics *m, double seconds);

/* Registers GET /metrics and GET /healthz. */
int metrics_register(hl_app *app);

#endif
