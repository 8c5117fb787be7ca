/* test_lockout.c - the lock follows the (injected) service clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "lockout.h"
#include "tap.h"

int
main(void)
{
	const char *sock = getenv("PHONEBILL_TEST_REDIS_SOCKET");
	const char *pass = getenv("PHONEBILL_TEST_REDIS_PASSWORD");
	struct pb_redis_opts o = {0};
	struct pb_redis *r = NULL, *down = NULL;
	struct pb_lockout_opts lo = {5, 30LL * 60 * 1000};
	char uid[64];
	int slot = 0, locked = 0, rem = 0, i;
	int64_t until = 0, first_until, now;

	if (sock == NULL || pass == NULL)
		return tap_skip_all("PHONEBILL_TEST_REDIS_SOCKET not set");
	o.socket = sock;
	o.password = pass;
	is_int(pb_redis_new(&o, &r), PB_OK, "redis");
	snprintf(uid, sizeof(uid), "unit-lock-%d", (int)getpid());
	(void)pb_lockout_reset(r, uid);
	pb_clock_set_fixed(1800000000000LL);
	now = pb_clock_now_ms();
	for (i = 1; i <= 4; i++) {
		is_int(pb_lockout_reserve(r, uid, &lo, now, &slot, &until),
		       PB_OK, "reserve");
		is_int(slot, i, "slot number");
		is_int(pb_lockout_fail(r, uid, &lo, now, slot, &locked, &rem,
		                       &until),
		       PB_OK, "fail");
		ok(!locked && rem == 5 - i, "remaining attempts");
	}
	is_int(pb_lockout_reserve(r, uid, &lo, now, &slot, &until), PB_OK,
	       "fifth reserve");
	is_int(pb_lockout_fail(r, uid, &lo, now, slot, &locked, &rem, &until),
	       PB_OK, "fifth fail");
	ok(locked && until == now + lo.lock_ms, "fifth failure locks 30 min");
	first_until = until;
	pb_clock_set_offset(10LL * 60 * 1000); /* +10 min */
	is_int(
	    pb_lockout_reserve(r, uid, &lo, pb_clock_now_ms(), &slot, &until),
	    PB_ERR_LOCKED, "still locked after 10 min");
	is_int(until, first_until, "a failure while locked does not extend");
	pb_clock_set_fixed(1800000000000LL + 29LL * 60 * 1000 + 59000);
	is_int(
	    pb_lockout_reserve(r, uid, &lo, pb_clock_now_ms(), &slot, &until),
	    PB_ERR_LOCKED, "locked at 29:59");
	pb_clock_set_fixed(1800000000000LL + 30LL * 60 * 1000);
	is_int(
	    pb_lockout_reserve(r, uid, &lo, pb_clock_now_ms(), &slot, &until),
	    PB_OK, "open at 30:00 (injected clock)");
	is_int(slot, 1, "counter starts over");
	is_int(pb_lockout_reset(r, uid), PB_OK, "success resets");
	is_int(
	    pb_lockout_reserve(r, uid, &lo, pb_clock_now_ms(), &slot, &until),
	    PB_OK, "reserve after reset");
	is_int(slot, 1, "slot 1 after reset");

	/* more reservations than max before any outcome: no more slots */
	(void)pb_lockout_reset(r, uid);
	now = pb_clock_now_ms();
	for (i = 0; i < 5; i++)
		(void)pb_lockout_reserve(r, uid, &lo, now, &slot, &until);
	is_int(pb_lockout_reserve(r, uid, &lo, now, &slot, &until),
	       PB_ERR_LOCKED, "sixth concurrent reservation refused");
	is_int(pb_lockout_fail(r, uid, &lo, now, 5, &locked, &rem, &until),
	       PB_OK, "fifth outcome");
	ok(locked, "fifth outcome reports the lock");
	is_int(pb_lockout_reserve(r, uid, &lo, now, &slot, &until),
	       PB_ERR_LOCKED, "locked");
	is_int(pb_lockout_reserve(r, "", &lo, now, &slot, &until), PB_ERR_INVAL,
	       "empty uid");
	(void)pb_lockout_reset(r, uid);

	/* Redis down: fail closed */
	o.socket = "/nonexistent/redis.sock";
	is_int(pb_redis_new(&o, &down), PB_OK, "handle to nowhere");
	is_int(pb_lockout_reserve(down, uid, &lo, now, &slot, &until),
	       PB_ERR_UNAVAILABLE, "Redis down -> unavailable");
	pb_redis_free(down);
	pb_redis_free(r);
	pb_clock_reset();
	return tap_done();
}
