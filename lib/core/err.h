/*
 * err.h - the one error type of libphonebill.
 *
 * Every library function that can fail returns enum pb_err; PB_OK is 0 so
 * "if (rc != PB_OK)" reads naturally.  pb_strerror() never returns NULL.
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
	PB_ERR_STATE,       /* call not valid in the current state */
	PB_ERR_INTERNAL     /* a bug or an unexpected library answer */
};

/* Static English text for logs; never shown to API clients. */
const char *pb_strerror(enum pb_err err);

#endif
