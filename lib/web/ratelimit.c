/* ratelimit.c - fixed-window counters (see ratelimit.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"

static const char hit_lua[] =
    "local n = redis.call('INCR', KEYS[1]) "
    "local t = redis.call('PTTL', KEYS[1]) "
    "if n == 1 or t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) "
    "t = tonumber(ARGV[1]) end "
    "return {n, t}";

enum pb_err
pb_ratelimit_hit(struct pb_redis *r, const char *name, const char *subject,
                 long limit, int64_t window_ms, int *retry_after_s)
{
	char key[160], win[24];
	const char *args[2];
	long long v[2];
	enum pb_err rc = PB_ERR_INVAL;
	int n;

	*retry_after_s = 0;
	if (name == NULL || subject == NULL || strlen(name) > 64 ||
	    strlen(subject) > 64 || limit < 1 || window_ms < 1)
		goto out;
	n = snprintf(key, sizeof(key), "v1:rl:%s:%s", name, subject);
	if (n < 0 || (size_t)n >= sizeof(key))
		goto out;
	snprintf(win, sizeof(win), "%" PRId64, window_ms);
	args[0] = key;
	args[1] = win;
	rc = pb_redis_eval_ints(r, hit_lua, 1, 2, args, v, 2);
	if (rc != PB_OK)
		goto out;
	if (v[0] > limit) {
		*retry_after_s = (int)((v[1] + 999) / 1000);
		if (*retry_after_s < 1)
			*retry_after_s = 1;
		rc = PB_ERR_RATE_LIMITED;
	}
out:
	return rc;
}
