/*
 * metrics_http.h - the /metrics route of a service (issue 15).
 *
 * pb_metrics_handler answers GET <prefix>/metrics with the counters of
 * lib/core/metrics.h in Prometheus' text format 0.0.4: 404 while metrics
 * are off (no metrics.file), 403 for a REMOTE_ADDR not listed in
 * metrics.allow (comma-separated exact addresses), else 200.  It is the
 * only part of the metrics that needs the request layer, so the counters
 * stay below it (lib/core) and the request layer can count every request
 * without an include cycle.
 */
#ifndef PB_METRICS_HTTP_H
#define PB_METRICS_HTTP_H

#include "request.h"

/* addr is one of the comma-separated addresses of list. */
int pb_metrics_addr_allowed(const char *list, const char *addr);

/* GET <prefix>/metrics. */
void pb_metrics_handler(struct pb_req *req);

#endif
