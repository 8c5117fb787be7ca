/* test_listing.c - history query strings and time columns. */
#include <stdio.h>
#include <string.h>

#include "listing.h"
#include "tap.h"

static const char *const statuses[] = {"COMPLETED", "FAILED", NULL};
static const struct pb_listing_opts lo = {20, statuses};

static int
parse(const char *q, struct pb_listing *f)
{
	char details[96];

	details[0] = '\0';
	return pb_listing_parse(q, &lo, f, details, sizeof(details));
}

int
main(void)
{
	static const char *const bad[] = {
	    "size=0",
	    "size=101",
	    "size=1x",
	    "page=0",
	    "page=100001",
	    "page=-1",
	    "status=DONE",
	    "status=completed",
	    "foo=1",
	    "size",
	    "startDate=2026-02-30",
	    "startDate=2026-13-01",
	    "endDate=26-01-01",
	    "startDate=2026-11-10&endDate=2026-11-01",
	    "size=5&size=6",
	    "lineNumber=12",
	    "lineNumber=02-123-4567",
	    "startDate=2025-02-29",
	    "lineNumber=010%2",
	    "lineNumber=010%00123",
	    "status=%0aX",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
	    "lineNumber="
	    "0101234567801012345678010123456780101234567801012345678"};
	struct pb_listing f;
	char details[96], out[40];
	size_t i;

	ok(parse("", &f) && f.page == 1 && f.size == 20 && f.line[0] == '\0' &&
	       f.status[0] == '\0' && f.start[0] == '\0',
	   "empty query: defaults");
	ok(parse("page=3&size=100&status=FAILED", &f) && f.page == 3 &&
	       f.size == 100 && strcmp(f.status, "FAILED") == 0,
	   "page, size, status");
	ok(parse("lineNumber=01012345678", &f) &&
	       strcmp(f.line, "010-1234-5678") == 0,
	   "digits line normalised");
	ok(parse("lineNumber=010-1234-5678&&", &f) &&
	       strcmp(f.line, "010-1234-5678") == 0,
	   "dashed line, empty pairs skipped");
	ok(parse("lineNumber=010%2D1234%2d5678", &f) &&
	       strcmp(f.line, "010-1234-5678") == 0,
	   "percent-decoded");
	ok(parse("startDate=2024-02-29&endDate=2024-03-01", &f) &&
	       strcmp(f.start, "2024-02-29") == 0 &&
	       strcmp(f.end, "2024-03-01") == 0,
	   "leap day accepted");
	ok(parse("startDate=2026-11-24&endDate=2026-11-24", &f),
	   "one-day range");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[160];

		snprintf(name, sizeof(name), "refused: %s", bad[i]);
		details[0] = '\0';
		ok(!pb_listing_parse(bad[i], &lo, &f, details,
		                     sizeof(details)) &&
		       details[0] != '\0',
		   name);
	}
	/* 2026-11-24 in KST starts at 2026-11-23 15:00 UTC */
	pb_listing_day_sql("2026-11-24", 0, 540, out, sizeof(out));
	is_str(out, "2026-11-23 15:00:00.000", "KST day start in UTC");
	pb_listing_day_sql("2026-12-31", 1, 540, out, sizeof(out));
	is_str(out, "2026-12-31 15:00:00.000", "the next day, across the year");
	ok(pb_listing_rfc3339("2026-11-23 15:00:00.000", 540, out, sizeof(out)),
	   "column to RFC 3339");
	is_str(out, "2026-11-24T00:00:00+09:00", "in the service's zone");
	ok(!pb_listing_rfc3339("2026-11", 540, out, sizeof(out)),
	   "a short column refused");
	return tap_done();
}
