/*
 * listing.h - the history operations' query strings and time columns.
 *
 * GET .../history takes lineNumber, startDate, endDate (YYYY-MM-DD, days in
 * the service's time zone), page (1-based), size and status.  The parser
 * is strict: an unknown parameter, a repeated one, a malformed value or a
 * start after the end is refused with a one-line reason for the client.
 */
#ifndef PB_LISTING_H
#define PB_LISTING_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "db.h"
#include "err.h"

#define PB_LISTING_PAGE_MAX 100000
#define PB_LISTING_SIZE_MAX 100
#define PB_LISTING_VALUE_MAX 64 /* bytes of one decoded value */

struct pb_listing_opts {
	long default_size;           /* page size when none is given */
	const char *const *statuses; /* accepted status values, NULL-ended */
};

struct pb_listing {
	char line[16];           /* "010-1234-5678", "" = all */
	char start[11], end[11]; /* YYYY-MM-DD or "" */
	char status[16];         /* "" = any */
	long page, size;
};

/* 1 when query is acceptable (f filled); 0 with details set otherwise. */
int pb_listing_parse(const char *query, const struct pb_listing_opts *o,
                     struct pb_listing *f, char *details, size_t dlen);

/* 00:00 of date (YYYY-MM-DD, checked) in the zone tz (minutes east of UTC),
 * plus add_days, as a UTC DATETIME(3) text for SQL. */
void pb_listing_day_sql(const char *date, int add_days, int tz, char *out,
                        size_t outlen);

/* A DATETIME(3) column (UTC text) -> RFC 3339 in zone tz; 0 if malformed. */
int pb_listing_rfc3339(const char *sql, int tz, char *out, size_t outlen);

/*
 * The two queries of one history page.  table has user_id,
 * line_number_bidx, requested_at, status and id columns; cols are the
 * page's columns.  bidx (may be NULL) is the blind index of f->line;
 * status the stored status to filter on ("" = any); tz the zone of the
 * dates.  *total receives the count, and fn one call per row of the page
 * (newest first).
 */
enum pb_err pb_listing_query(struct pb_db *db, const char *table,
                             const char *cols, const char *user,
                             const struct pb_listing *f,
                             const unsigned char *bidx, const char *status,
                             int tz, pb_db_row_fn fn, void *ud,
                             long long *total);

/*
 * The same, on read (db.read_host: a replica or a balancer over the Galera
 * nodes) when it is not NULL; when that fails before any row was handed to
 * fn, on db (the primary address), and db alone for the next few seconds.
 */
enum pb_err pb_listing_query_read(struct pb_db *read, struct pb_db *db,
                                  const char *table, const char *cols,
                                  const char *user, const struct pb_listing *f,
                                  const unsigned char *bidx, const char *status,
                                  int tz, pb_db_row_fn fn, void *ud,
                                  long long *total);

/* The two designs' page shapes. */
enum pb_listing_style {
	PB_LISTING_BILL,   /* {items, pagination{currentPage, totalPages,
	                      totalItems, pageSize, hasNext, hasPrevious}} */
	PB_LISTING_PRODUCT /* {history, pagination{page, size, totalElements,
	                      totalPages, hasNext, hasPrevious}} */
};

/*
 * Answer a history request: rc is pb_listing_query's result (503 when the
 * database is away, 500 for anything else), items (taken, may be NULL
 * when rc says why) the page's rows, total their count.
 */
struct pb_req;
void pb_listing_reply(struct pb_req *req, enum pb_err rc, cJSON *items,
                      const struct pb_listing *f, long long total,
                      enum pb_listing_style style, const char *message);

#endif
