/*
 * db.h - MariaDB through prepared statements only.
 *
 * No SQL is ever built from data: every value travels as a bound
 * parameter.  One connection per process, opened lazily, with connect,
 * read and write timeouts; prepared statements are cached per connection
 * (keyed by SQL text, PB_DB_STMT_CACHE entries).  A connection lost
 * between statements is replaced and the statement prepared again once;
 * a connection lost while a statement ran is reported as
 * PB_ERR_UNAVAILABLE (the statement may or may not have run) and the next
 * call reconnects.  Inside a transaction nothing is retried.
 */
#ifndef PB_DB_H
#define PB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PB_DB_STMT_CACHE 32
#define PB_DB_MAX_PARAMS 128
#define PB_DB_MAX_COLS 64
#define PB_DB_MAX_FIELD (1024 * 1024) /* bytes in one result column */

struct pb_db_opts {
	const char *socket; /* unix socket, or NULL for TCP */
	const char *host;   /* TCP host when socket is NULL */
	unsigned port;      /* 0 -> 3306 */
	const char *user;
	const char *password;
	const char *database;
	unsigned connect_timeout_s; /* s; 0 -> 2 */
	unsigned rw_timeout_s;      /* s, each of read and write; 0 -> 5 */
};

enum pb_db_type { PB_DB_NULL, PB_DB_INT, PB_DB_TEXT };

struct pb_db_param {
	enum pb_db_type type;
	long long i;   /* PB_DB_INT */
	const char *s; /* PB_DB_TEXT, borrowed */
	size_t len;    /* bytes of s */
};

/* Parameter builders for compound literals in calls. */
#define PB_DB_P_INT(v) ((struct pb_db_param){PB_DB_INT, (v), NULL, 0})
#define PB_DB_P_STR(v) ((struct pb_db_param){PB_DB_TEXT, 0, (v), strlen(v)})
#define PB_DB_P_BIN(v, n)                                                      \
	((struct pb_db_param){PB_DB_TEXT, 0, (const char *)(const void *)(v),  \
	                      (n)})
#define PB_DB_P_NULL ((struct pb_db_param){PB_DB_NULL, 0, NULL, 0})

/* One result row: vals[i] is NULL for SQL NULL; borrowed until return. */
struct pb_db_row {
	unsigned ncols;
	const char *const *vals;
	const size_t *lens;
};

/* Row callback; return PB_OK to continue, anything else stops the query. */
typedef enum pb_err (*pb_db_row_fn)(void *ud, const struct pb_db_row *row);

struct pb_db;

/* Copy the options; does not connect.  Caller frees with pb_db_free. */
enum pb_err pb_db_new(const struct pb_db_opts *opts, struct pb_db **out);
void pb_db_free(struct pb_db *db);

/* Connect if needed and check the server answers. */
enum pb_err pb_db_ping(struct pb_db *db);

/*
 * Execute a statement with n parameters.  affected / insert_id may be NULL.
 * PB_ERR_DUPLICATE for a duplicate key (ER_DUP_ENTRY), PB_ERR_UNAVAILABLE
 * when the server cannot be reached, PB_ERR_IO for other server errors.
 */
enum pb_err pb_db_exec(struct pb_db *db, const char *sql,
                       const struct pb_db_param *params, unsigned n,
                       uint64_t *affected, uint64_t *insert_id);

/*
 * Whether this connection's server takes writes: PB_OK when @@read_only
 * is off and, on a Galera node (@@wsrep_on), wsrep_ready is ON;
 * PB_ERR_READONLY when it is read-only or not ready (*why says which,
 * static text);
 * PB_ERR_UNAVAILABLE when it cannot be asked.
 */
enum pb_err pb_db_writable(struct pb_db *db, const char **why);

/* Run a query and call fn for each row (columns as text). */
enum pb_err pb_db_query(struct pb_db *db, const char *sql,
                        const struct pb_db_param *params, unsigned n,
                        pb_db_row_fn fn, void *ud);

/* PB_ERR_STATE (a programming error) for a begin inside a transaction
 * or a commit outside one. */
enum pb_err pb_db_begin(struct pb_db *db);
enum pb_err pb_db_commit(struct pb_db *db);
/* Always safe to call; ends the transaction state even if the server is gone.
 */
enum pb_err pb_db_rollback(struct pb_db *db);

/* The server error number of the last failure (0 if none), for logs. */
unsigned pb_db_last_errno(const struct pb_db *db);
/* The last library error text, for operator logs only -- never for clients. */
const char *pb_db_last_error(const struct pb_db *db);

/* Initialise the client library once, before a second thread uses it
 * (mysql_init is not thread-safe the first time). */
enum pb_err pb_db_library_init(void);
/* Release the client library's global state at exit (valgrind-clean). */
void pb_db_library_end(void);

#endif
