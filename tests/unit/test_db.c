/* test_db.c - against the real test MariaDB (skips without one). */
#include <stdlib.h>

#include "db.h"
#include "tap.h"

struct rows {
	int n;
	char first[64];
	size_t biglen;
	int saw_null;
};

static enum pb_err
collect(void *ud, const struct pb_db_row *row)
{
	struct rows *r = ud;

	if (r->n == 0 && row->vals[0] != NULL)
		snprintf(r->first, sizeof(r->first), "%s", row->vals[0]);
	if (row->ncols > 1 && row->vals[1] == NULL)
		r->saw_null = 1;
	if (row->ncols > 2 && row->vals[2] != NULL && row->lens[2] > r->biglen)
		r->biglen = row->lens[2];
	r->n++;
	return PB_OK;
}

static enum pb_err
stop_early(void *ud, const struct pb_db_row *row)
{
	(void)row;
	(*(int *)ud)++;
	return PB_ERR_STATE;
}

int
main(void)
{
	struct pb_db_opts o = {0};
	struct pb_db *db = NULL, *bad = NULL;
	struct rows r;
	uint64_t affected = 0, id = 0;
	char *big;
	int calls = 0;
	const char *inj = "x'); DROP TABLE pb_unit; --";

	o.socket = getenv("PHONEBILL_TEST_DB_SOCKET");
	o.user = getenv("PHONEBILL_TEST_DB_USER");
	o.password = getenv("PHONEBILL_TEST_DB_PASSWORD");
	o.database = getenv("PHONEBILL_TEST_DB_NAME");
	if (o.socket == NULL || o.user == NULL || o.database == NULL)
		return tap_skip_all("PHONEBILL_TEST_DB_* not set");
	is_int(pb_db_new(&o, &db), PB_OK, "new");
	is_int(pb_db_ping(db), PB_OK, "ping");
	/* storage is UTC whatever the server's default_time_zone (the test
	 * stack runs MariaDB at +09:00) */
	memset(&r, 0, sizeof(r));
	pb_db_query(db, "SELECT @@session.time_zone", NULL, 0, collect, &r);
	is_str(r.first, "+00:00", "session time zone UTC");
	is_int(
	    pb_db_exec(db, "DROP TABLE IF EXISTS pb_unit", NULL, 0, NULL, NULL),
	    PB_OK, "drop");
	is_int(pb_db_exec(
	           db,
	           "CREATE TABLE pb_unit (id BIGINT AUTO_INCREMENT "
	           "PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE, note "
	           "VARCHAR(64) "
	           "NULL, body MEDIUMTEXT NULL) CHARACTER SET utf8mb4 COLLATE "
	           "utf8mb4_bin",
	           NULL, 0, NULL, NULL),
	       PB_OK, "create");
	is_int(pb_db_exec(
	           db, "INSERT INTO pb_unit (name, note) VALUES (?, ?)",
	           (struct pb_db_param[]){PB_DB_P_STR("홍길동"), PB_DB_P_NULL},
	           2, &affected, &id),
	       PB_OK, "insert with params");
	ok(affected == 1 && id > 0, "affected rows and insert id");
	is_int(pb_db_exec(
	           db, "INSERT INTO pb_unit (name, note) VALUES (?, ?)",
	           (struct pb_db_param[]){PB_DB_P_STR("홍길동"), PB_DB_P_NULL},
	           2, NULL, NULL),
	       PB_ERR_DUPLICATE, "duplicate key is PB_ERR_DUPLICATE");
	is_int(pb_db_last_errno(db), 1062, "errno of duplicate");
	is_int(pb_db_exec(db, "INSERT INTO pb_unit (name) VALUES (?)",
	                  (struct pb_db_param[]){PB_DB_P_STR(inj)}, 1, NULL,
	                  NULL),
	       PB_OK, "hostile text is only data");
	memset(&r, 0, sizeof(r));
	is_int(pb_db_query(db, "SELECT name, note FROM pb_unit WHERE name = ?",
	                   (struct pb_db_param[]){PB_DB_P_STR(inj)}, 1, collect,
	                   &r),
	       PB_OK, "query");
	ok(r.n == 1 && strcmp(r.first, inj) == 0 && r.saw_null,
	   "one row, value intact, NULL reported");
	is_int(pb_db_exec(db, "INSERT INTO pb_unit (name) VALUES (?)",
	                  (struct pb_db_param[]){PB_DB_P_STR("a")}, 2, NULL,
	                  NULL),
	       PB_ERR_INVAL, "parameter count mismatch refused");

	/* a column far larger than the initial buffer is fetched whole */
	big = malloc(300000);
	memset(big, 'z', 299999);
	big[299999] = '\0';
	is_int(pb_db_exec(db, "UPDATE pb_unit SET body = ? WHERE id = ?",
	                  (struct pb_db_param[]){PB_DB_P_STR(big),
	                                         PB_DB_P_INT((long long)id)},
	                  2, &affected, NULL),
	       PB_OK, "update big value");
	free(big);
	memset(&r, 0, sizeof(r));
	is_int(pb_db_query(db, "SELECT id, note, body FROM pb_unit ORDER BY id",
	                   NULL, 0, collect, &r),
	       PB_OK, "query big");
	is_int(r.biglen, 299999, "big column fetched in full");
	is_int(r.n, 2, "all rows");
	is_int(pb_db_query(db, "SELECT id FROM pb_unit", NULL, 0, stop_early,
	                   &calls),
	       PB_ERR_STATE, "callback stops the query");
	is_int(calls, 1, "no rows after stop");
	is_int(pb_db_ping(db), PB_OK, "connection usable after early stop");

	/* transactions */
	is_int(pb_db_begin(db), PB_OK, "begin");
	is_int(pb_db_begin(db), PB_ERR_STATE, "nested begin refused");
	pb_db_exec(db, "DELETE FROM pb_unit", NULL, 0, NULL, NULL);
	is_int(pb_db_rollback(db), PB_OK, "rollback");
	memset(&r, 0, sizeof(r));
	pb_db_query(db, "SELECT id FROM pb_unit", NULL, 0, collect, &r);
	is_int(r.n, 2, "rollback kept rows");
	pb_db_begin(db);
	pb_db_exec(db, "DELETE FROM pb_unit WHERE name = ?",
	           (struct pb_db_param[]){PB_DB_P_STR("홍길동")}, 1, &affected,
	           NULL);
	is_int(pb_db_commit(db), PB_OK, "commit");
	memset(&r, 0, sizeof(r));
	pb_db_query(db, "SELECT id FROM pb_unit", NULL, 0, collect, &r);
	is_int(r.n, 1, "commit applied");
	is_int(pb_db_commit(db), PB_ERR_STATE, "commit without begin");

	/* the server drops us: the next read reconnects by itself */
	{
		uint64_t tid = 0;
		struct rows t;
		memset(&t, 0, sizeof(t));
		pb_db_query(db, "SELECT CONNECTION_ID()", NULL, 0, collect, &t);
		tid = strtoull(t.first, NULL, 10);
		is_int(pb_db_exec(
		           db, "KILL CONNECTION ?",
		           (struct pb_db_param[]){PB_DB_P_INT((long long)tid)},
		           1, NULL, NULL) != PB_OK,
		       1, "killing our own connection fails");
		memset(&t, 0, sizeof(t));
		is_int(pb_db_query(db, "SELECT COUNT(*) FROM pb_unit", NULL, 0,
		                   collect, &t),
		       PB_OK, "query after kill reconnects");
		is_str(t.first, "1", "and answers");
		memset(&t, 0, sizeof(t));
		pb_db_query(db, "SELECT @@session.time_zone", NULL, 0, collect,
		            &t);
		is_str(t.first, "+00:00", "UTC again after the reconnect");
	}
	pb_db_exec(db, "DROP TABLE pb_unit", NULL, 0, NULL, NULL);
	pb_db_free(db);

	o.password = "wrong";
	pb_db_new(&o, &bad);
	is_int(pb_db_ping(bad), PB_ERR_UNAVAILABLE, "wrong password");
	ok(pb_db_last_errno(bad) == 1045, "access denied recorded");
	pb_db_free(bad);
	o.socket = "/nonexistent/mysqld.sock";
	pb_db_new(&o, &bad);
	is_int(pb_db_ping(bad), PB_ERR_UNAVAILABLE, "no server");
	pb_db_free(bad);
	pb_db_free(NULL);
	pb_db_library_end();
	return tap_done();
}
