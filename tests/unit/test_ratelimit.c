/* test_ratelimit.c - fixed window in Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ratelimit.h"
#include "tap.h"

int
main(void)
{
	const char *sock = getenv("PHONEBILL_TEST_REDIS_SOCKET");
	const char *pass = getenv("PHONEBILL_TEST_REDIS_PASSWORD");
	struct pb_redis_opts o = {0};
	struct pb_redis *r = NULL;
	char subj[32];
	int retry = 0, i, okc = 0;

	if (sock == NULL || pass == NULL)
		return tap_skip_all("PHONEBILL_TEST_REDIS_SOCKET not set");
	o.socket = sock;
	o.password = pass;
	is_int(pb_redis_new(&o, &r), PB_OK, "redis");
	snprintf(subj, sizeof(subj), "unit-%d", (int)getpid());
	for (i = 0; i < 3; i++)
		okc +=
		    pb_ratelimit_hit(r, "unit", subj, 3, 1000, &retry) == PB_OK;
	is_int(okc, 3, "three within the limit");
	is_int(pb_ratelimit_hit(r, "unit", subj, 3, 1000, &retry),
	       PB_ERR_RATE_LIMITED, "fourth over it");
	ok(retry >= 1 && retry <= 1, "Retry-After 1 s");
	usleep(1100 * 1000);
	is_int(pb_ratelimit_hit(r, "unit", subj, 3, 1000, &retry), PB_OK,
	       "new window");
	is_int(pb_ratelimit_hit(r, "unit", subj, 0, 1000, &retry), PB_ERR_INVAL,
	       "limit 0 refused");
	pb_redis_free(r);
	return tap_done();
}
