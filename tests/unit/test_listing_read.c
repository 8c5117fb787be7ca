/*
 * test_listing_read.c - history listings on a read address (db.read_host)
 * with the primary as fallback, against the real test MariaDB (skips
 * without one): the read handle answers when it can; an unreachable read
 * address gives the same page from the primary; a failure after rows were
 * handed on is not retried (no page twice).
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "listing.h"
#include "tap.h"

#define TABLE "pb_unit_listing"

struct page {
	int rows;
	int fail_after; /* > 0: fail at this row */
};

static enum pb_err
take(void *ud, const struct pb_db_row *row)
{
	struct page *p = ud;

	(void)row;
	p->rows++;
	return p->fail_after > 0 && p->rows >= p->fail_after
	           ? PB_ERR_UNAVAILABLE
	           : PB_OK;
}

static void
fill(struct pb_db *db)
{
	static const char *const days[] = {"2026-11-01 00:00:00.000",
	                                   "2026-11-02 00:00:00.000",
	                                   "2026-11-03 00:00:00.000"};
	static const unsigned char bidx[32];
	size_t i;

	is_int(
	    pb_db_exec(db, "DROP TABLE IF EXISTS " TABLE, NULL, 0, NULL, NULL),
	    PB_OK, "drop");
	is_int(pb_db_exec(
	           db,
	           "CREATE TABLE " TABLE " (id BIGINT "
	           "AUTO_INCREMENT PRIMARY KEY, user_id VARCHAR(64) NOT NULL, "
	           "line_number_bidx VARBINARY(32) NOT NULL, requested_at "
	           "DATETIME(3) "
	           "NOT NULL, status VARCHAR(16) NOT NULL)",
	           NULL, 0, NULL, NULL),
	       PB_OK, "create");
	for (i = 0; i < 3; i++)
		pb_db_exec(
		    db,
		    "INSERT INTO " TABLE " (user_id, line_number_bidx, "
		    "requested_at, status) VALUES ('u1', ?, ?, 'COMPLETED')",
		    (struct pb_db_param[]){PB_DB_P_BIN(bidx, sizeof(bidx)),
		                           PB_DB_P_STR(days[i])},
		    2, NULL, NULL);
}

static enum pb_err
list(struct pb_db *read, struct pb_db *db, struct page *p, long long *total)
{
	struct pb_listing f;

	memset(&f, 0, sizeof(f));
	f.page = 1;
	f.size = 10;
	return pb_listing_query_read(read, db, TABLE, "id, status", "u1", &f,
	                             NULL, "", 0, take, p, total);
}

int
main(void)
{
	struct pb_db_opts o = {0}, dead = {0};
	struct pb_db *db = NULL, *read = NULL, *gone = NULL;
	struct page p;
	long long total = 0;

	o.socket = getenv("PHONEBILL_TEST_DB_SOCKET");
	o.user = getenv("PHONEBILL_TEST_DB_USER");
	o.password = getenv("PHONEBILL_TEST_DB_PASSWORD");
	o.database = getenv("PHONEBILL_TEST_DB_NAME");
	if (o.socket == NULL || o.user == NULL || o.database == NULL)
		return tap_skip_all("PHONEBILL_TEST_DB_* not set");
	is_int(pb_db_new(&o, &db), PB_OK, "primary handle");
	is_int(pb_db_new(&o, &read), PB_OK, "read handle");
	/* a read address nobody listens on (port 1: refused at once) */
	dead = o;
	dead.socket = NULL;
	dead.host = "127.0.0.1";
	dead.port = 1;
	dead.connect_timeout_s = 1;
	is_int(pb_db_new(&dead, &gone), PB_OK, "unreachable read handle");
	fill(db);

	memset(&p, 0, sizeof(p));
	is_int(list(read, db, &p, &total), PB_OK, "read handle answers");
	ok(p.rows == 3 && total == 3, "three rows, total 3");

	memset(&p, 0, sizeof(p));
	is_int(list(NULL, db, &p, &total), PB_OK, "no read address: primary");
	ok(p.rows == 3 && total == 3, "the same page");

	/* rows handed on, then a failure: returned as it is, not read twice
	 * (before the fallback below starts its quiet period) */
	memset(&p, 0, sizeof(p));
	p.fail_after = 2;
	is_int(list(read, db, &p, &total), PB_ERR_UNAVAILABLE,
	       "a failure after rows is the caller's");
	is_int(p.rows, 2, "no row handed on twice");

	memset(&p, 0, sizeof(p));
	is_int(list(gone, db, &p, &total), PB_OK,
	       "unreachable read address: the primary answers");
	ok(p.rows == 3 && total == 3, "the same page from the primary");
	ok(pb_db_last_errno(gone) != 0, "the read handle's error kept");

	pb_db_exec(db, "DROP TABLE IF EXISTS " TABLE, NULL, 0, NULL, NULL);
	pb_db_free(gone);
	pb_db_free(read);
	pb_db_free(db);
	pb_db_library_end();
	return tap_done();
}
