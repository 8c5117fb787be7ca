/* db.c - MariaDB Connector/C with prepared statements, cache, reconnect. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "buf.h"
#include "db.h"

#define FIELD_INITIAL 256 /* bytes per result column before growing */

struct stmt_entry {
	char *sql;
	MYSQL_STMT *stmt;
};

struct pb_db {
	char *socket, *host, *user, *password, *database;
	unsigned port, connect_timeout_s, rw_timeout_s;
	MYSQL *conn;
	struct stmt_entry cache[PB_DB_STMT_CACHE];
	unsigned ncache;
	unsigned evict; /* next cache slot to replace when full */
	int in_tx;
	unsigned last_errno;
	char last_error[256];
};

/* What kind of failure a client error number is. */
enum fail_kind { FAIL_SERVER, FAIL_GONE_BEFORE, FAIL_LOST_DURING };

static enum fail_kind
classify(unsigned e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_UNKNOWN_HOST:
		return FAIL_GONE_BEFORE;
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
		return FAIL_LOST_DURING;
	default:
		return FAIL_SERVER;
	}
}

/*
 * Server errors that mean "try again later", not "this statement is bad":
 * 2 when the connection should be replaced too (read-only server: 1290
 * ER_OPTION_PREVENTS_STATEMENT; Galera node not synced: 1047
 * ER_UNKNOWN_COM_ERROR; shutting down 1053; connection killed 1927;
 * too many connections 1040), 1 when it can be kept (deadlock 1213, lock
 * wait timeout 1205: the transaction was rolled back), 0 otherwise.
 */
static int
server_says_later(unsigned e)
{
	switch (e) {
	case 1290:
	case 1047:
	case 1053:
	case 1927:
	case 1040:
		return 2;
	case 1213:
	case 1205:
		return 1;
	default:
		return 0;
	}
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
record(struct pb_db *db, unsigned e, const char *msg)
{
	db->last_errno = e;
	(void)pb_strlcpy(db->last_error, msg != NULL ? msg : "",
	                 sizeof(db->last_error));
}

static void
disconnect(struct pb_db *db)
{
	unsigned i;

	for (i = 0; i < db->ncache; i++) {
		mysql_stmt_close(db->cache[i].stmt);
		free(db->cache[i].sql);
		db->cache[i].stmt = NULL;
		db->cache[i].sql = NULL;
	}
	db->ncache = 0;
	db->evict = 0;
	if (db->conn != NULL) {
		mysql_close(db->conn);
		db->conn = NULL;
	}
	db->in_tx = 0;
}

void
pb_db_free(struct pb_db *db)
{
	if (db == NULL)
		return;
	disconnect(db);
	free(db->socket);
	free(db->host);
	free(db->user);
	if (db->password != NULL) {
		memset(db->password, 0, strlen(db->password));
		free(db->password);
	}
	free(db->database);
	free(db);
}

enum pb_err
pb_db_new(const struct pb_db_opts *o, struct pb_db **out)
{
	struct pb_db *db;

	*out = NULL;
	if (o->user == NULL || (o->socket == NULL && o->host == NULL))
		return PB_ERR_INVAL;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return PB_ERR_NOMEM;
	db->socket = dup_or_null(o->socket);
	db->host = dup_or_null(o->host);
	db->user = dup_or_null(o->user);
	db->password = dup_or_null(o->password);
	db->database = dup_or_null(o->database);
	if (db->user == NULL || (o->socket != NULL && db->socket == NULL) ||
	    (o->host != NULL && db->host == NULL) ||
	    (o->password != NULL && db->password == NULL) ||
	    (o->database != NULL && db->database == NULL)) {
		pb_db_free(db);
		return PB_ERR_NOMEM;
	}
	db->port = o->port ? o->port : 3306;
	db->connect_timeout_s = o->connect_timeout_s ? o->connect_timeout_s : 2;
	db->rw_timeout_s = o->rw_timeout_s ? o->rw_timeout_s : 5;
	*out = db;
	return PB_OK;
}

static enum pb_err
ensure_connected(struct pb_db *db)
{
	MYSQL *c;
	unsigned ct = db->connect_timeout_s, rw = db->rw_timeout_s;

	if (db->conn != NULL)
		return PB_OK;
	c = mysql_init(NULL);
	if (c == NULL)
		return PB_ERR_NOMEM;
	mysql_options(c, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_options(c, MYSQL_OPT_READ_TIMEOUT, &rw);
	mysql_options(c, MYSQL_OPT_WRITE_TIMEOUT, &rw);
	mysql_options(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* Every DATETIME we store is UTC: pin the session's zone on each
	 * (re)connect instead of trusting the server's default_time_zone
	 * (Korean servers often run at +09:00, which would shift every
	 * CURRENT_TIMESTAMP default and NOW() by nine hours). */
	mysql_options(c, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
	if (mysql_real_connect(c, db->socket != NULL ? "localhost" : db->host,
	                       db->user, db->password, db->database, db->port,
	                       db->socket, 0) == NULL) {
		record(db, mysql_errno(c), mysql_error(c));
		mysql_close(c);
		return PB_ERR_UNAVAILABLE;
	}
	db->conn = c;
	return PB_OK;
}

/* Map a failure of conn or stmt to our error, dropping a dead connection. */
static enum pb_err
fail(struct pb_db *db, unsigned e, const char *msg)
{
	record(db, e, msg);
	if (e == ER_DUP_ENTRY)
		return PB_ERR_DUPLICATE;
	if (classify(e) != FAIL_SERVER || server_says_later(e) == 2) {
		/* a read-only or not-ready server: the next connection may
		 * reach the writer (haproxy, a failover) */
		disconnect(db);
		return PB_ERR_UNAVAILABLE;
	}
	return server_says_later(e) ? PB_ERR_UNAVAILABLE : PB_ERR_IO;
}

static enum pb_err
get_stmt(struct pb_db *db, const char *sql, MYSQL_STMT **out)
{
	MYSQL_STMT *st;
	unsigned i, slot;
	char *key;
	enum pb_err rc;

	*out = NULL;
	for (i = 0; i < db->ncache; i++) {
		if (strcmp(db->cache[i].sql, sql) == 0) {
			*out = db->cache[i].stmt;
			return PB_OK;
		}
	}
	st = mysql_stmt_init(db->conn);
	if (st == NULL)
		return PB_ERR_NOMEM;
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		unsigned e = mysql_stmt_errno(st);
		char msg[256];

		(void)pb_strlcpy(msg, mysql_stmt_error(st), sizeof(msg));
		mysql_stmt_close(st);
		return fail(db, e, msg);
	}
	key = strdup(sql);
	if (key == NULL) {
		mysql_stmt_close(st);
		return PB_ERR_NOMEM;
	}
	if (db->ncache < PB_DB_STMT_CACHE) {
		slot = db->ncache++;
	} else {
		slot = db->evict;
		db->evict = (db->evict + 1) % PB_DB_STMT_CACHE;
		mysql_stmt_close(db->cache[slot].stmt);
		free(db->cache[slot].sql);
	}
	db->cache[slot].sql = key;
	db->cache[slot].stmt = st;
	*out = st;
	rc = PB_OK;
	return rc;
}

static enum pb_err
bind_params(struct pb_db *db, MYSQL_STMT *st, const struct pb_db_param *p,
            unsigned n, MYSQL_BIND *b, unsigned long *lens)
{
	unsigned i;

	if (n > PB_DB_MAX_PARAMS || mysql_stmt_param_count(st) != n) {
		record(db, 0, "parameter count does not match the statement");
		return PB_ERR_INVAL;
	}
	memset(b, 0, sizeof(*b) * (n ? n : 1));
	for (i = 0; i < n; i++) {
		switch (p[i].type) {
		case PB_DB_INT:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p[i].i;
			break;
		case PB_DB_TEXT:
			lens[i] = (unsigned long)p[i].len;
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)p[i].s;
			b[i].buffer_length = lens[i];
			b[i].length = &lens[i];
			break;
		case PB_DB_NULL:
		default:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		}
	}
	if (n > 0 && mysql_stmt_bind_param(st, b) != 0)
		return fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
	return PB_OK;
}

/* Prepare (cached) + bind + execute, with the reconnect rule of db.h. */
static enum pb_err
run(struct pb_db *db, const char *sql, const struct pb_db_param *p, unsigned n,
    int idempotent, MYSQL_STMT **out)
{
	MYSQL_BIND b[PB_DB_MAX_PARAMS];
	unsigned long lens[PB_DB_MAX_PARAMS];
	MYSQL_STMT *st;
	enum pb_err rc = PB_ERR_UNAVAILABLE;
	enum fail_kind k;
	unsigned e;
	int attempt;

	*out = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		rc = ensure_connected(db);
		if (rc != PB_OK)
			return rc;
		rc = get_stmt(db, sql, &st);
		if (rc == PB_OK)
			rc = bind_params(db, st, p, n, b, lens);
		if (rc == PB_OK) {
			if (mysql_stmt_execute(st) == 0) {
				*out = st;
				return PB_OK;
			}
			e = mysql_stmt_errno(st);
			k = classify(e);
			rc = fail(db, e, mysql_stmt_error(st));
		} else {
			k = classify(db->last_errno);
		}
		if (rc != PB_ERR_UNAVAILABLE || db->in_tx)
			return rc;
		/* retry only when the statement cannot have run, or is a read
		 */
		if (!(k == FAIL_GONE_BEFORE ||
		      (idempotent && k == FAIL_LOST_DURING)))
			return rc;
	}
	return rc;
}

enum pb_err
pb_db_exec(struct pb_db *db, const char *sql, const struct pb_db_param *p,
           unsigned n, uint64_t *affected, uint64_t *insert_id)
{
	MYSQL_STMT *st;
	enum pb_err rc;

	rc = run(db, sql, p, n, 0, &st);
	if (rc != PB_OK)
		return rc;
	if (affected != NULL)
		*affected = (uint64_t)mysql_stmt_affected_rows(st);
	if (insert_id != NULL)
		*insert_id = (uint64_t)mysql_stmt_insert_id(st);
	mysql_stmt_free_result(st);
	return PB_OK;
}

struct result_cols {
	MYSQL_BIND b[PB_DB_MAX_COLS];
	char *buf[PB_DB_MAX_COLS];
	size_t size[PB_DB_MAX_COLS]; /* bytes allocated for buf[i] */
	unsigned long len[PB_DB_MAX_COLS];
	my_bool isnull[PB_DB_MAX_COLS];
	my_bool error[PB_DB_MAX_COLS];
	const char *vals[PB_DB_MAX_COLS];
	size_t vlens[PB_DB_MAX_COLS];
};

static void
cols_free(struct result_cols *rc, unsigned ncols)
{
	unsigned i;

	for (i = 0; i < ncols; i++)
		free(rc->buf[i]);
}

/* Grow column i to hold need bytes + NUL and fetch it again. */
static enum pb_err
refetch_column(MYSQL_STMT *st, struct result_cols *c, unsigned i, size_t need)
{
	char *p;

	if (need > PB_DB_MAX_FIELD)
		return PB_ERR_TOOBIG;
	p = realloc(c->buf[i], need + 1);
	if (p == NULL)
		return PB_ERR_NOMEM;
	c->buf[i] = p;
	c->size[i] = need + 1;
	c->b[i].buffer = p;
	c->b[i].buffer_length = (unsigned long)need;
	if (mysql_stmt_fetch_column(st, &c->b[i], i, 0) != 0)
		return PB_ERR_IO;
	return PB_OK;
}

/* Buffers of FIELD_INITIAL bytes for ncols text columns, bound to c->b
 * (the caller frees them with cols_free, also after a failure). */
static enum pb_err
cols_alloc(struct result_cols *c, unsigned ncols)
{
	unsigned i;

	for (i = 0; i < ncols; i++) {
		c->buf[i] = malloc(FIELD_INITIAL);
		if (c->buf[i] == NULL)
			return PB_ERR_NOMEM;
		c->size[i] = FIELD_INITIAL;
		c->b[i].buffer_type = MYSQL_TYPE_STRING;
		c->b[i].buffer = c->buf[i];
		c->b[i].buffer_length = FIELD_INITIAL - 1;
		c->b[i].length = &c->len[i];
		c->b[i].is_null = &c->isnull[i];
		c->b[i].error = &c->error[i];
	}
	return PB_OK;
}

/* The fetched row's columns into c->vals (a column longer than its
 * buffer fetched again in a larger one, then bound again). */
static enum pb_err
row_values(struct pb_db *db, MYSQL_STMT *st, struct result_cols *c,
           unsigned ncols)
{
	unsigned i;
	int rebind = 0;
	enum pb_err rc;

	for (i = 0; i < ncols; i++) {
		if (!c->isnull[i] && c->len[i] >= c->size[i]) {
			rc = refetch_column(st, c, i, c->len[i]);
			if (rc != PB_OK)
				return rc;
			rebind = 1;
		}
		if (c->isnull[i]) {
			c->vals[i] = NULL;
			c->vlens[i] = 0;
		} else {
			c->buf[i][c->len[i]] = '\0';
			c->vals[i] = c->buf[i];
			c->vlens[i] = c->len[i];
		}
	}
	if (rebind && mysql_stmt_bind_result(st, c->b) != 0)
		return fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
	return PB_OK;
}

/* Fetch every row of the stored result of st and call fn for each. */
static enum pb_err
each_row(struct pb_db *db, MYSQL_STMT *st, struct result_cols *c,
         unsigned ncols, pb_db_row_fn fn, void *ud)
{
	struct pb_db_row row;
	enum pb_err rc;
	int f;

	row.ncols = ncols;
	row.vals = c->vals;
	row.lens = c->vlens;
	for (;;) {
		f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			return PB_OK;
		if (f == 1)
			return fail(db, mysql_stmt_errno(st),
			            mysql_stmt_error(st));
		rc = row_values(db, st, c, ncols);
		if (rc != PB_OK)
			return rc;
		rc = fn(ud, &row);
		if (rc != PB_OK)
			return rc;
	}
}

enum pb_err
pb_db_query(struct pb_db *db, const char *sql, const struct pb_db_param *p,
            unsigned n, pb_db_row_fn fn, void *ud)
{
	struct result_cols *c = NULL;
	MYSQL_STMT *st = NULL;
	MYSQL_RES *meta = NULL;
	unsigned ncols = 0;
	enum pb_err rc;

	rc = run(db, sql, p, n, 1, &st);
	if (rc != PB_OK)
		goto out;
	meta = mysql_stmt_result_metadata(st);
	if (meta == NULL) {
		record(db, 0, "statement returns no rows");
		rc = PB_ERR_INVAL;
		goto out;
	}
	ncols = mysql_num_fields(meta);
	if (ncols == 0 || ncols > PB_DB_MAX_COLS) {
		record(db, 0, "too many result columns");
		ncols = 0;
		rc = PB_ERR_TOOBIG;
		goto out;
	}
	if (mysql_stmt_store_result(st) != 0) {
		rc = fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		st = NULL;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	rc = cols_alloc(c, ncols);
	if (rc != PB_OK)
		goto out;
	if (mysql_stmt_bind_result(st, c->b) != 0) {
		rc = fail(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto out;
	}
	rc = each_row(db, st, c, ncols, fn, ud);
out:
	/* st belongs to the cache; only its result set is released here.
	 * After fail() dropped the connection the statement is gone. */
	if (st != NULL && db->conn != NULL)
		mysql_stmt_free_result(st);
	if (meta != NULL)
		mysql_free_result(meta);
	if (c != NULL) {
		cols_free(c, ncols);
		free(c);
	}
	return rc;
}

static enum pb_err
simple(struct pb_db *db, const char *sql)
{
	enum pb_err rc;

	rc = ensure_connected(db);
	if (rc != PB_OK)
		return rc;
	if (mysql_real_query(db->conn, sql, (unsigned long)strlen(sql)) != 0)
		return fail(db, mysql_errno(db->conn), mysql_error(db->conn));
	return PB_OK;
}

enum pb_err
pb_db_begin(struct pb_db *db)
{
	enum pb_err rc;

	if (db->in_tx)
		return PB_ERR_STATE;
	rc = simple(db, "START TRANSACTION");
	if (rc == PB_OK)
		db->in_tx = 1;
	return rc;
}

enum pb_err
pb_db_commit(struct pb_db *db)
{
	enum pb_err rc;

	if (!db->in_tx)
		return PB_ERR_STATE;
	rc = simple(db, "COMMIT");
	db->in_tx = 0;
	return rc;
}

enum pb_err
pb_db_rollback(struct pb_db *db)
{
	enum pb_err rc = PB_OK;

	if (db->in_tx && db->conn != NULL)
		rc = simple(db, "ROLLBACK");
	db->in_tx = 0;
	return rc;
}

enum pb_err
pb_db_ping(struct pb_db *db)
{
	enum pb_err rc;

	rc = ensure_connected(db);
	if (rc != PB_OK)
		return rc;
	if (mysql_ping(db->conn) != 0) {
		rc = fail(db, mysql_errno(db->conn), mysql_error(db->conn));
		/* a dead connection is replaced at once: one more try */
		if (rc == PB_ERR_UNAVAILABLE && ensure_connected(db) == PB_OK)
			return mysql_ping(db->conn) == 0
			           ? PB_OK
			           : fail(db, mysql_errno(db->conn),
			                  mysql_error(db->conn));
		return rc;
	}
	return PB_OK;
}

/* Row of the writability query: read_only, wsrep_on, wsrep_ready. */
static enum pb_err
writable_row(void *ud, const struct pb_db_row *row)
{
	const char **why = ud;

	if (row->ncols != 3 || row->vals[0] == NULL)
		*why = "unexpected answer";
	else if (strcmp(row->vals[0], "0") != 0)
		*why = "read_only";
	else if (row->vals[1] != NULL && strcmp(row->vals[1], "1") == 0 &&
	         (row->vals[2] == NULL || strcasecmp(row->vals[2], "ON") != 0))
		*why = "wsrep_not_ready";
	else
		*why = NULL;
	return PB_OK;
}

enum pb_err
pb_db_writable(struct pb_db *db, const char **why)
{
	const char *w = "no answer";
	enum pb_err rc;

	/* @@wsrep_on exists in every MariaDB build; wsrep_ready is a status */
	rc = pb_db_query(
	    db,
	    "SELECT @@global.read_only, @@global.wsrep_on, "
	    "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
	    "WHERE VARIABLE_NAME = 'WSREP_READY')",
	    NULL, 0, writable_row, &w);
	if (rc == PB_OK && w != NULL)
		rc = PB_ERR_READONLY;
	if (why != NULL)
		*why = rc == PB_ERR_UNAVAILABLE ? "unavailable" : w;
	return rc;
}

unsigned
pb_db_last_errno(const struct pb_db *db)
{
	return db->last_errno;
}

const char *
pb_db_last_error(const struct pb_db *db)
{
	return db->last_error;
}

enum pb_err
pb_db_library_init(void)
{
	return mysql_library_init(0, NULL, NULL) == 0 ? PB_OK : PB_ERR_INTERNAL;
}

void
pb_db_library_end(void)
{
	mysql_library_end();
}
