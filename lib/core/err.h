/*
 * err.h - the one error type of libphonebill.
 *
 * Every library function that can fail returns enum pb_err; PB_OK is 0 so
 * "if (rc != PB_OK)" reads naturally.  pb_strerror() never returns NULL.
 *
 * A code means one thing in every module (issue 17).  The first group
 * says something went wrong; the second is a business outcome a caller
 * acts on (answers 405, 409, 429, a lock screen...), each with its own
 * code so that no caller has to know which module overloaded which
 * error.  PB_ERR_STATE is left for a programming error: a call made when
 * the object is not in a state that allows it (a nested transaction).
 */
#ifndef PB_ERR_H
#define PB_ERR_H

enum pb_err {
	PB_OK = 0,
	PB_ERR_NOMEM,       /* allocation failed */
	PB_ERR_INVAL,       /* caller passed something invalid */
	PB_ERR_TOOBIG,      /* input over a configured ceiling */
	PB_ERR_PARSE,       /* malformed input (JSON, config, protocol) */
	PB_ERR_IO,          /* read/write/socket failure */
	PB_ERR_TIMEOUT,     /* a deadline passed */
	PB_ERR_UNAVAILABLE, /* a dependency (Redis, MariaDB, KOS) is down */
	PB_ERR_NOTFOUND,    /* no such key/row/route */
	PB_ERR_CONFIG,      /* configuration missing or unsafe */
	PB_ERR_STATE,       /* call not valid in the object's current state */
	/* business outcomes */
	PB_ERR_METHOD,       /* the path is served but not with this method */
	PB_ERR_RATE_LIMITED, /* over a rate limit (retry after the window) */
	PB_ERR_LOCKED,       /* the account is locked after failed logins */
	PB_ERR_BUSY,         /* a lock is held by someone else now */
	PB_ERR_REUSED,       /* a one-time token came back a second time */
	PB_ERR_DUPLICATE,    /* a row with this unique key exists already */
	PB_ERR_FORBIDDEN,    /* the principal may not do this */
	PB_ERR_READONLY,     /* the database server takes no writes now */
	PB_ERR_SKIPPED,      /* not attempted: an earlier step it waits on
	                        failed */
	PB_ERR_INTERNAL      /* a bug or an unexpected library answer */
};

/* Static English text for logs; never shown to API clients. */
const char *pb_strerror(enum pb_err err);

#endif
