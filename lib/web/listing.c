/* listing.c - history query strings and time columns (listing.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "history.h"
#include "listing.h"
#include "log.h"

/* The value of n decimal digits at s (the caller checked they are digits). */
static int
digits_at(const char *s, int n)
{
	int v = 0;

	while (n-- > 0 && *s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

/* Percent-decode one query value into out; 0 when malformed or too long. */
static int
qdecode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, j = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (j + 1 >= outlen)
			return 0;
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return 0;
			hi = s[i + 1];
			lo = s[i + 2];
			hi = hi >= '0' && hi <= '9'   ? hi - '0'
			     : hi >= 'a' && hi <= 'f' ? hi - 'a' + 10
			     : hi >= 'A' && hi <= 'F' ? hi - 'A' + 10
			                              : -1;
			lo = lo >= '0' && lo <= '9'   ? lo - '0'
			     : lo >= 'a' && lo <= 'f' ? lo - 'a' + 10
			     : lo >= 'A' && lo <= 'F' ? lo - 'A' + 10
			                              : -1;
			if (hi < 0 || lo < 0)
				return 0;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || (unsigned char)c < 0x20)
			return 0;
		out[j++] = c;
	}
	out[j] = '\0';
	return 1;
}

static int
date_valid(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
	                            31, 31, 30, 31, 30, 31};
	int y, m, d, i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = digits_at(s, 4);
	m = digits_at(s + 5, 2);
	d = digits_at(s + 8, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	if (m == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}

static int
number(const char *s, long min, long max, long *out)
{
	long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 7)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static int
status_ok(const struct pb_listing_opts *o, const char *v)
{
	const char *const *s;

	for (s = o->statuses; s != NULL && *s != NULL; s++)
		if (strcmp(*s, v) == 0)
			return 1;
	return 0;
}

/* Check one parameter name=val into f; returns its bit in the "seen"
 * mask, or 0 with details filled when it is refused. */
static unsigned
take_param(const char *name, const char *val, const struct pb_listing_opts *o,
           struct pb_listing *f, char *details, size_t dlen)
{
	if (strcmp(name, "lineNumber") == 0) {
		if (pb_authz_line_format(val, f->line, sizeof(f->line)) !=
		    PB_OK) {
			snprintf(details, dlen,
			         "lineNumber: 010-1234-5678 or 01012345678");
			return 0;
		}
		return 1;
	}
	if (strcmp(name, "startDate") == 0 || strcmp(name, "endDate") == 0) {
		if (!date_valid(val)) {
			snprintf(details, dlen, "%s: YYYY-MM-DD", name);
			return 0;
		}
		(void)pb_strlcpy(name[0] == 's' ? f->start : f->end, val,
		                 sizeof(f->start));
		return name[0] == 's' ? 2 : 4;
	}
	if (strcmp(name, "page") == 0) {
		if (!number(val, 1, PB_LISTING_PAGE_MAX, &f->page)) {
			snprintf(details, dlen, "page: 1-%d",
			         PB_LISTING_PAGE_MAX);
			return 0;
		}
		return 8;
	}
	if (strcmp(name, "size") == 0) {
		if (!number(val, 1, PB_LISTING_SIZE_MAX, &f->size)) {
			snprintf(details, dlen, "size: 1-%d",
			         PB_LISTING_SIZE_MAX);
			return 0;
		}
		return 16;
	}
	if (strcmp(name, "status") == 0) {
		if (!status_ok(o, val)) {
			snprintf(details, dlen, "status: not a known status");
			return 0;
		}
		(void)pb_strlcpy(f->status, val, sizeof(f->status));
		return 32;
	}
	snprintf(details, dlen, "unknown query parameter");
	return 0;
}

int
pb_listing_parse(const char *query, const struct pb_listing_opts *o,
                 struct pb_listing *f, char *details, size_t dlen)
{
	const char *p = query, *amp, *eq;
	char name[24], val[PB_LISTING_VALUE_MAX];
	unsigned seen = 0;

	memset(f, 0, sizeof(*f));
	f->page = 1;
	f->size = o->default_size;
	while (p != NULL && *p != '\0') {
		size_t n, vn;
		unsigned bit;

		amp = strchr(p, '&');
		n = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', n);
		if (n == 0)
			goto next;
		if (eq == NULL || (size_t)(eq - p) >= sizeof(name)) {
			snprintf(details, dlen, "malformed query parameter");
			return 0;
		}
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		vn = n - (size_t)(eq - p) - 1;
		if (!qdecode(eq + 1, vn, val, sizeof(val))) {
			snprintf(details, dlen, "%s: malformed value", name);
			return 0;
		}
		bit = take_param(name, val, o, f, details, dlen);
		if (bit == 0)
			return 0;
		if (seen & bit) {
			snprintf(details, dlen, "%s: given twice", name);
			return 0;
		}
		seen |= bit;
	next:
		p = amp != NULL ? amp + 1 : NULL;
	}
	if (f->start[0] != '\0' && f->end[0] != '\0' &&
	    strcmp(f->start, f->end) > 0) {
		snprintf(details, dlen, "startDate is after endDate");
		return 0;
	}
	return 1;
}

void
pb_listing_day_sql(const char *date, int add_days, int tz, char *out,
                   size_t outlen)
{
	struct pb_date d;

	memset(&d, 0, sizeof(d));
	d.year = digits_at(date, 4);
	d.month = digits_at(date + 5, 2);
	d.day = digits_at(date + 8, 2);
	pb_history_sqltime(pb_clock_from_date(&d, tz) +
	                       (int64_t)add_days * 86400000,
	                   out, outlen);
}

int
pb_listing_rfc3339(const char *sql, int tz, char *out, size_t outlen)
{
	struct pb_date d;

	if (sql == NULL || strlen(sql) < 19)
		return 0;
	d.year = digits_at(sql, 4);
	d.month = digits_at(sql + 5, 2);
	d.day = digits_at(sql + 8, 2);
	d.hour = digits_at(sql + 11, 2);
	d.min = digits_at(sql + 14, 2);
	d.sec = digits_at(sql + 17, 2);
	return pb_clock_rfc3339(pb_clock_from_date(&d, 0), tz, out, outlen) ==
	       PB_OK;
}

static enum pb_err
count_row(void *ud, const struct pb_db_row *row)
{
	long long *total = ud;

	if (row->ncols >= 1 && row->vals[0] != NULL)
		*total = strtoll(row->vals[0], NULL, 10);
	return PB_OK;
}

#define LISTING_WHERE                                                          \
	" WHERE user_id = ? AND (? = 0 OR line_number_bidx = ?) "              \
	"AND (? = 0 OR requested_at >= ?) AND (? = 0 OR requested_at < ?) "    \
	"AND (? = 0 OR status = ?)"

enum pb_err
pb_listing_query(struct pb_db *db, const char *table, const char *cols,
                 const char *user, const struct pb_listing *f,
                 const unsigned char *bidx, const char *status, int tz,
                 pb_db_row_fn fn, void *ud, long long *total)
{
	static const unsigned char zero[PB_CRYPTO_INDEX_LEN];
	char t1[PB_HISTORY_SQLTIME_LEN], t2[PB_HISTORY_SQLTIME_LEN];
	char sql[1024];
	struct pb_db_param p[11];
	enum pb_err rc;
	int n;

	*total = 0;
	t1[0] = t2[0] = '\0';
	if (f->start[0] != '\0')
		pb_listing_day_sql(f->start, 0, tz, t1, sizeof(t1));
	if (f->end[0] != '\0')
		pb_listing_day_sql(f->end, 1, tz, t2, sizeof(t2));
	p[0] = PB_DB_P_STR(user);
	p[1] = PB_DB_P_INT(bidx != NULL);
	p[2] = PB_DB_P_BIN(bidx != NULL ? bidx : zero, PB_CRYPTO_INDEX_LEN);
	p[3] = PB_DB_P_INT(t1[0] != '\0');
	p[4] = PB_DB_P_STR(t1[0] != '\0' ? t1 : "1970-01-01 00:00:00.000");
	p[5] = PB_DB_P_INT(t2[0] != '\0');
	p[6] = PB_DB_P_STR(t2[0] != '\0' ? t2 : "1970-01-01 00:00:00.000");
	p[7] = PB_DB_P_INT(status[0] != '\0');
	p[8] = PB_DB_P_STR(status);
	p[9] = PB_DB_P_INT(f->size);
	p[10] = PB_DB_P_INT((f->page - 1) * f->size);
	/* table and cols are the caller's constants, never data */
	n = snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s" LISTING_WHERE,
	             table);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return PB_ERR_TOOBIG;
	rc = pb_db_query(db, sql, p, 9, count_row, total);
	if (rc != PB_OK)
		return rc;
	n = snprintf(sql, sizeof(sql),
	             "SELECT %s FROM %s" LISTING_WHERE
	             " ORDER BY requested_at DESC, id DESC LIMIT ? OFFSET ?",
	             cols, table);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return PB_ERR_TOOBIG;
	return pb_db_query(db, sql, p, 11, fn, ud);
}

/* The page's rows counted on their way to the caller's fn. */
struct counted {
	pb_db_row_fn fn;
	void *ud;
	unsigned long rows;
};

static enum pb_err
counted_row(void *ud, const struct pb_db_row *row)
{
	struct counted *c = ud;

	c->rows++;
	return c->fn(c->ud, row);
}

/* A read address that failed is not tried again for this long (ms): an
 * unreachable one would otherwise cost its connect timeout on every page */
#define READ_RETRY_MS 5000

enum pb_err
pb_listing_query_read(struct pb_db *read, struct pb_db *db, const char *table,
                      const char *cols, const char *user,
                      const struct pb_listing *f, const unsigned char *bidx,
                      const char *status, int tz, pb_db_row_fn fn, void *ud,
                      long long *total)
{
	/* per process: listings run on the request thread only */
	static int64_t read_skip_until;
	struct counted c = {fn, ud, 0};
	struct pb_logline l;
	enum pb_err rc;

	if (read == NULL || pb_clock_mono_ms() < read_skip_until)
		return pb_listing_query(db, table, cols, user, f, bidx, status,
		                        tz, fn, ud, total);
	rc = pb_listing_query(read, table, cols, user, f, bidx, status, tz,
	                      counted_row, &c, total);
	/* rows already handed on cannot be taken back: no second try then */
	if (rc == PB_OK || c.rows > 0)
		return rc;
	read_skip_until = pb_clock_mono_ms() + READ_RETRY_MS;
	pb_log_begin(&l, PB_LOG_WARN, "db.read_fallback");
	pb_log_str(&l, "table", table);
	pb_log_str(&l, "error", pb_db_last_error(read));
	pb_log_str(&l, "msg",
	           "the read address failed; this listing and "
	           "those of the next 5 s read from the primary (db.host)");
	pb_log_end(&l);
	return pb_listing_query(db, table, cols, user, f, bidx, status, tz, fn,
	                        ud, total);
}

void
pb_listing_reply(struct pb_req *req, enum pb_err rc, cJSON *items,
                 const struct pb_listing *f, long long total,
                 enum pb_listing_style style, const char *message)
{
	long long pages = (total + f->size - 1) / f->size;
	int bill = style == PB_LISTING_BILL;
	cJSON *data = NULL, *pg;

	if (rc == PB_ERR_UNAVAILABLE) {
		pb_req_unavailable(req, "database");
		goto out;
	}
	data = rc == PB_OK && items != NULL ? cJSON_CreateObject() : NULL;
	if (data == NULL ||
	    !cJSON_AddItemToObject(data, bill ? "items" : "history", items))
		goto internal;
	items = NULL;
	pg = cJSON_AddObjectToObject(data, "pagination");
	if (pg == NULL ||
	    cJSON_AddNumberToObject(pg, bill ? "currentPage" : "page",
	                            (double)f->page) == NULL ||
	    cJSON_AddNumberToObject(pg, bill ? "pageSize" : "size",
	                            (double)f->size) == NULL ||
	    cJSON_AddNumberToObject(pg, bill ? "totalItems" : "totalElements",
	                            (double)total) == NULL ||
	    cJSON_AddNumberToObject(pg, "totalPages", (double)pages) == NULL ||
	    cJSON_AddBoolToObject(pg, "hasNext", f->page < pages) == NULL ||
	    cJSON_AddBoolToObject(pg, "hasPrevious", f->page > 1) == NULL)
		goto internal;
	pb_req_ok(req, 200, message, data);
	data = NULL;
	goto out;
internal:
	pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
out:
	cJSON_Delete(items);
	cJSON_Delete(data);
}
