/*
 * metrics.h - Prometheus counters shared by every FastCGI process of one
 * service on one host (issue 15).
 *
 * The web server runs several processes per service; a scrape reaches one
 * of them, so the counters must not be per process.  They live in one
 * small file per service (metrics.file, on tmpfs: /run/phonebill/
 * metrics-<service>), mapped MAP_SHARED by every process, and are bumped
 * with relaxed atomic adds: no lock, no system call, no network on the
 * request path (tests/bench/metrics.c measures it).  The file starts with
 * a header (magic, layout sizes, a hash of the route table); a process
 * that finds another layout (an upgrade changed the routes) re-creates it
 * under flock, so the counters restart from zero then, as Prometheus
 * expects of a restart.
 *
 * What is counted:
 *   - each answered request: route (the matched pattern, or "unmatched"),
 *     method, status (the common ones; others as "other"), and its
 *     latency in a histogram (seconds, buckets 1 ms .. 10 s);
 *   - cache look-ups of the bill and product services, by cache and result;
 *   - KOS calls by breaker group and outcome;
 *   - login attempts by result, and the locks they caused.
 * Gauges read at scrape time (breaker state, spool, history queue) come
 * from a callback the back office registers (pb_metrics_set_extra).
 *
 * Without metrics.file every call here is a no-op and /metrics is 404.
 * The handler (lib/web/metrics_http.h) answers only REMOTE_ADDRs listed in
 * metrics.allow (comma-separated exact addresses; default "127.0.0.1,::1");
 * others get 403.  The web server snippets restrict the path as well.
 *
 * The state is process-wide (one service per process), like the log.
 */
#ifndef PB_METRICS_H
#define PB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "route.h"

#define PB_METRICS_MAX_ROUTES 32
#define PB_METRICS_MAX_GROUPS 4 /* KOS breaker groups */

/*
 * Map (creating or re-creating if needed, mode 0600) the counters of
 * service at path for this route table.  PB_ERR_CONFIG with a message in
 * err when the file cannot be used.
 */
enum pb_err pb_metrics_open(const char *path, const char *service,
                            const struct pb_route *routes, size_t nroutes,
                            const char *allow, char *err, size_t errlen);
void pb_metrics_close(void);

/* Monotonic microseconds, for the request latency. */
int64_t pb_metrics_now_us(void);

/* One answered request (route NULL: no route matched). */
void pb_metrics_request(const struct pb_route *route, const char *method,
                        int status, int64_t elapsed_us);

/*
 * One pb_cache_fetch: cache is "months", "bill", "customer" or "catalog";
 * source a pb_cache_source value, or -1 when the fetch failed.
 */
void pb_metrics_cache(const char *cache, int source);

/* One KOS call attempt of breaker group (index, name) and its outcome. */
void pb_metrics_kos(int group, int ok);

/* The KOS breaker groups' names, by index (the back office's). */
void pb_metrics_set_groups(const char *const *names, size_t n);

/* One login attempt: result and reason as written to login_history. */
void pb_metrics_login(const char *result, const char *reason);

/*
 * A callback appending gauges to a scrape (text format, with its own
 * # HELP / # TYPE lines); set by the back office for breakers and spool.
 */
typedef void (*pb_metrics_extra_fn)(void *ud, struct pb_buf *out,
                                    const char *service);
void pb_metrics_set_extra(pb_metrics_extra_fn fn, void *ud);

/* The whole scrape into out (text exposition format 0.0.4). */
enum pb_err pb_metrics_render(struct pb_buf *out);

/* metrics.allow as configured, or NULL while metrics are off (the
 * handler is in lib/web/metrics_http.c). */
const char *pb_metrics_allow(void);

#endif
