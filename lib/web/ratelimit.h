/*
 * ratelimit.h - fixed-window request counters in Redis.
 *
 * pb_ratelimit_hit counts one request against v1:rl:<name>:<subject> in a
 * window of window_ms (the key's TTL, set by the first hit; INCR and
 * PEXPIRE in one script, so a crash cannot leave a counter without TTL).
 * The windows follow Redis's clock: a rate limit needs no injected time.
 */
#ifndef PB_RATELIMIT_H
#define PB_RATELIMIT_H

#include <stdint.h>

#include "err.h"
#include "redis.h"

/*
 * PB_OK when the request is within limit; PB_ERR_RATE_LIMITED when over it
 * (*retry_after_s: whole seconds until the window ends, at least 1);
 * PB_ERR_UNAVAILABLE when Redis is down (the caller decides: login fails
 * closed).  name and subject: at most 64 bytes each.
 */
enum pb_err pb_ratelimit_hit(struct pb_redis *r, const char *name,
                             const char *subject, long limit, int64_t window_ms,
                             int *retry_after_s);

#endif
