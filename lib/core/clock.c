/* clock.c - wall and monotonic time with test overrides. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/*
 * Override state.  A process may run a background thread (lib/worker.c)
 * that reads the clock while a test or start-up code sets it, so every
 * access is atomic: the pinned value is stored before the flag that
 * publishes it (release/acquire).
 */
static int clock_fixed; /* 1 when pinned */
static int64_t clock_fixed_ms;
static int64_t clock_offset_ms;

int64_t
pb_clock_now_ms(void)
{
	struct timespec ts;

	if (__atomic_load_n(&clock_fixed, __ATOMIC_ACQUIRE))
		return __atomic_load_n(&clock_fixed_ms, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	       __atomic_load_n(&clock_offset_ms, __ATOMIC_RELAXED);
}

int64_t
pb_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
pb_clock_set_fixed(int64_t ms)
{
	__atomic_store_n(&clock_fixed_ms, ms, __ATOMIC_RELAXED);
	__atomic_store_n(&clock_fixed, 1, __ATOMIC_RELEASE);
}

void
pb_clock_set_offset(int64_t offset_ms)
{
	__atomic_store_n(&clock_offset_ms, offset_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&clock_fixed, 0, __ATOMIC_RELEASE);
}

void
pb_clock_reset(void)
{
	__atomic_store_n(&clock_offset_ms, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&clock_fixed, 0, __ATOMIC_RELEASE);
}

enum pb_err
pb_clock_init_from_env(void)
{
	const char *s, *allow;
	char *end;
	long long v;

	s = getenv("PHONEBILL_CLOCK_OFFSET_MS");
	if (s == NULL || *s == '\0')
		return PB_OK;
	allow = getenv("PHONEBILL_ALLOW_CLOCK_OVERRIDE");
	if (allow == NULL || strcmp(allow, "1") != 0)
		return PB_ERR_CONFIG;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s)
		return PB_ERR_CONFIG;
	/* more than ~100 years either way is a typo, not a test */
	if (v > 3153600000000LL || v < -3153600000000LL)
		return PB_ERR_CONFIG;
	pb_clock_set_offset((int64_t)v);
	return PB_OK;
}

void
pb_clock_date(int64_t ms, int offset_min, struct pb_date *out)
{
	time_t t;
	struct tm tm;

	/* floor division so times before 1970 still land on whole seconds */
	int64_t sec = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);

	t = (time_t)(sec + (int64_t)offset_min * 60);
	gmtime_r(&t, &tm);
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->min = tm.tm_min;
	out->sec = tm.tm_sec;
}

enum pb_err
pb_clock_rfc3339(int64_t ms, int offset_min, char *out, size_t outlen)
{
	struct pb_date d;
	int n, off;
	char sign;

	if (outlen < PB_CLOCK_RFC3339_LEN)
		return PB_ERR_TOOBIG;
	pb_clock_date(ms, offset_min, &d);
	if (offset_min == 0) {
		n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		             d.year, d.month, d.day, d.hour, d.min, d.sec);
	} else {
		sign = offset_min < 0 ? '-' : '+';
		off = offset_min < 0 ? -offset_min : offset_min;
		n = snprintf(out, outlen,
		             "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", d.year,
		             d.month, d.day, d.hour, d.min, d.sec, sign,
		             off / 60, off % 60);
	}
	return (n > 0 && (size_t)n < outlen) ? PB_OK : PB_ERR_TOOBIG;
}

int64_t
pb_clock_from_date(const struct pb_date *d, int offset_min)
{
	/* days from 1970-01-01 of a proleptic Gregorian date */
	int64_t y = d->year - (d->month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (d->month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;

	return ((days * 24 + d->hour) * 60 + d->min - offset_min) * 60000 +
	       (int64_t)d->sec * 1000;
}
