/*
 * fuzz_listing.c - libFuzzer target for the history listing's query
 * parser and time columns (lib/web/listing.c).
 *
 * The input up to its first NUL is a query string (as the web server
 * hands QUERY_STRING over); the rest, if any, a DATETIME(3) column.
 * Properties checked (abort() on violation, so libFuzzer keeps the input):
 *   - pb_listing_parse never crashes or over-reads;
 *   - accepted: page 1..PB_LISTING_PAGE_MAX, size 1..PB_LISTING_SIZE_MAX
 *     (or the default), line "" or "010-1234-5678"-shaped, dates "" or
 *     YYYY-MM-DD with start <= end, status "" or one of the list; every
 *     field NUL-terminated inside its array;
 *   - refused: a non-empty, NUL-terminated reason;
 *   - an accepted date converts to a UTC DATETIME(3) and back to RFC 3339
 *     without a crash, and pb_listing_rfc3339 takes any text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const statuses[] = {"SUCCESS", "FAILED", "PENDING", NULL};

static int
terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static int
line_shaped(const char *s)
{
	size_t i;

	if (s[0] == '\0')
		return 1;
	if (strlen(s) != 13 || s[3] != '-' || s[8] != '-')
		return 0;
	for (i = 0; i < 13; i++)
		if (i != 3 && i != 8 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static int
date_shaped(const char *s)
{
	return s[0] == '\0' || (strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
	                        strspn(s, "0123456789") == 4 &&
	                        strspn(s + 5, "0123456789") == 2 &&
	                        strspn(s + 8, "0123456789") == 2);
}

static void
check_dates(const struct pb_listing *f)
{
	char sql[64], out[64];
	const char *d[2] = {f->start, f->end};
	int i;

	for (i = 0; i < 2; i++) {
		if (d[i][0] == '\0')
			continue;
		pb_listing_day_sql(d[i], i, PB_CLOCK_KST_OFFSET_MIN, sql,
		                   sizeof(sql));
		if (!terminated(sql, sizeof(sql)))
			abort();
		if (!pb_listing_rfc3339(sql, PB_CLOCK_KST_OFFSET_MIN, out,
		                        sizeof(out)) ||
		    !terminated(out, sizeof(out)))
			abort(); /* our own DATETIME text must convert */
	}
}

static void
check_parse(const char *query)
{
	struct pb_listing_opts o = {20, statuses};
	struct pb_listing f;
	char details[128];
	const char *const *s;
	int ok, known = 0;

	memset(details, 'x', sizeof(details));
	ok = pb_listing_parse(query, &o, &f, details, sizeof(details));
	if (!ok) {
		if (!terminated(details, sizeof(details)) || details[0] == '\0')
			abort();
		return;
	}
	if (f.page < 1 || f.page > PB_LISTING_PAGE_MAX || f.size < 1 ||
	    f.size > PB_LISTING_SIZE_MAX)
		abort();
	if (!terminated(f.line, sizeof(f.line)) ||
	    !terminated(f.start, sizeof(f.start)) ||
	    !terminated(f.end, sizeof(f.end)) ||
	    !terminated(f.status, sizeof(f.status)))
		abort();
	if (!line_shaped(f.line) || !date_shaped(f.start) ||
	    !date_shaped(f.end))
		abort();
	if (f.start[0] != '\0' && f.end[0] != '\0' &&
	    strcmp(f.start, f.end) > 0)
		abort();
	for (s = statuses; *s != NULL; s++)
		known |= strcmp(*s, f.status) == 0;
	if (f.status[0] != '\0' && !known)
		abort();
	check_dates(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *column, out[64];

	if (size > 4096)
		return 0;
	copy = malloc(size + 2);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = '\0';
	check_parse(copy);
	column = copy + strlen(copy) + 1;
	if (column <= copy + size) {
		memset(out, 'x', sizeof(out));
		if (pb_listing_rfc3339(column, -720, out, sizeof(out)) &&
		    !terminated(out, sizeof(out)))
			abort();
	}
	free(copy);
	return 0;
}
