/* test_err.c - pb_strerror covers every code. */
#include "err.h"
#include "tap.h"

int
main(void)
{
	int e;

	is_str(pb_strerror(PB_OK), "ok", "PB_OK text");
	for (e = PB_OK; e <= PB_ERR_INTERNAL; e++)
		ok(strcmp(pb_strerror((enum pb_err)e), "unknown error") != 0,
		   "every code has its own text");
	is_str(pb_strerror((enum pb_err)999), "unknown error", "out of range");
	return tap_done();
}
