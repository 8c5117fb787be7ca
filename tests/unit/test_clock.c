/* test_clock.c - overrides and RFC 3339 formatting. */
#include <stdlib.h>

#include "clock.h"
#include "tap.h"

int
main(void)
{
	char ts[PB_CLOCK_RFC3339_LEN];
	int64_t a, b;
	struct pb_date d;

	/* 2026-11-24T01:30:00Z */
	pb_clock_set_fixed(1795483800000LL);
	is_int(pb_clock_now_ms(), 1795483800000LL, "fixed clock");
	is_int(pb_clock_rfc3339(pb_clock_now_ms(), 540, ts, sizeof(ts)), PB_OK,
	       "format");
	is_str(ts, "2026-11-24T10:30:00+09:00", "KST offset");
	pb_clock_rfc3339(pb_clock_now_ms(), 0, ts, sizeof(ts));
	is_str(ts, "2026-11-24T01:30:00Z", "UTC prints Z");
	pb_clock_rfc3339(pb_clock_now_ms(), -330, ts, sizeof(ts));
	is_str(ts, "2026-11-23T20:00:00-05:30", "negative offset");
	is_int(pb_clock_rfc3339(0, 0, ts, 10), PB_ERR_TOOBIG, "short buffer");
	/* month boundary in KST while still the previous month in UTC */
	pb_clock_date(1796050800000LL /* 2026-11-30T15:00:00Z */, 540, &d);
	ok(d.year == 2026 && d.month == 12 && d.day == 1 && d.hour == 0,
	   "KST date crosses into December");
	is_int((long long)pb_clock_from_date(&d, 540), 1796050800000LL,
	       "from_date inverts date (KST)");
	{
		struct pb_date e = {2024, 2, 29, 23, 59, 59};
		struct pb_date f = {1970, 1, 1, 0, 0, 0};

		pb_clock_date(pb_clock_from_date(&e, 0), 0, &d);
		ok(d.year == 2024 && d.month == 2 && d.day == 29 &&
		       d.hour == 23 && d.sec == 59,
		   "leap day round trip");
		is_int((long long)pb_clock_from_date(&f, 0), 0LL, "epoch");
		is_int((long long)pb_clock_from_date(&f, 540), -32400000LL,
		       "epoch in KST is 9 h earlier");
	}
	pb_clock_date(-1, 0, &d);
	ok(d.year == 1969 && d.sec == 59, "negative ms floors to 1969");

	pb_clock_reset();
	a = pb_clock_now_ms();
	pb_clock_set_offset(86400000);
	b = pb_clock_now_ms();
	ok(b - a >= 86400000 && b - a < 86400000 + 1000, "offset shifts a day");
	pb_clock_reset();
	a = pb_clock_mono_ms();
	b = pb_clock_mono_ms();
	ok(b >= a, "monotonic does not go back");

	setenv("PHONEBILL_CLOCK_OFFSET_MS", "1000", 1);
	unsetenv("PHONEBILL_ALLOW_CLOCK_OVERRIDE");
	is_int(pb_clock_init_from_env(), PB_ERR_CONFIG,
	       "env offset refused unless allowed");
	setenv("PHONEBILL_ALLOW_CLOCK_OVERRIDE", "1", 1);
	setenv("PHONEBILL_CLOCK_OFFSET_MS", "12x", 1);
	is_int(pb_clock_init_from_env(), PB_ERR_CONFIG, "malformed offset");
	setenv("PHONEBILL_CLOCK_OFFSET_MS", "-3600000", 1);
	a = pb_clock_now_ms();
	is_int(pb_clock_init_from_env(), PB_OK, "allowed offset");
	b = pb_clock_now_ms();
	ok(a - b >= 3599000 && a - b <= 3601000, "env offset applied");
	pb_clock_reset();
	return tap_done();
}
