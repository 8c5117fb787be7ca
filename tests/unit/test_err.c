/* test_err.c - pb_strerror covers every code. */
#include "err.h"
#include "tap.h"

int
main(void)
{
	int e, f, same = 0;

	is_str(pb_strerror(PB_OK), "ok", "PB_OK text");
	for (e = PB_OK; e <= PB_ERR_INTERNAL; e++)
		ok(strcmp(pb_strerror((enum pb_err)e), "unknown error") != 0,
		   "every code has its own text");
	/* one meaning per code (issue 17): no two codes share a text */
	for (e = PB_OK; e <= PB_ERR_INTERNAL; e++)
		for (f = e + 1; f <= PB_ERR_INTERNAL; f++)
			same += strcmp(pb_strerror((enum pb_err)e),
			               pb_strerror((enum pb_err)f)) == 0;
	is_int(same, 0, "no two codes share a text");
	is_str(pb_strerror(PB_ERR_RATE_LIMITED), "rate limited",
	       "rate limited is not over limit");
	is_str(pb_strerror((enum pb_err)999), "unknown error", "out of range");
	return tap_done();
}
