/* err.c - text for enum pb_err. */
#include "err.h"

const char *
pb_strerror(enum pb_err err)
{
	switch (err) {
	case PB_OK:
		return "ok";
	case PB_ERR_NOMEM:
		return "out of memory";
	case PB_ERR_INVAL:
		return "invalid argument";
	case PB_ERR_TOOBIG:
		return "over limit";
	case PB_ERR_PARSE:
		return "malformed input";
	case PB_ERR_IO:
		return "i/o error";
	case PB_ERR_TIMEOUT:
		return "timed out";
	case PB_ERR_UNAVAILABLE:
		return "dependency unavailable";
	case PB_ERR_NOTFOUND:
		return "not found";
	case PB_ERR_CONFIG:
		return "configuration error";
	case PB_ERR_STATE:
		return "invalid state";
	case PB_ERR_METHOD:
		return "method not allowed";
	case PB_ERR_RATE_LIMITED:
		return "rate limited";
	case PB_ERR_LOCKED:
		return "account locked";
	case PB_ERR_BUSY:
		return "held by another";
	case PB_ERR_REUSED:
		return "token reused";
	case PB_ERR_DUPLICATE:
		return "duplicate key";
	case PB_ERR_FORBIDDEN:
		return "forbidden";
	case PB_ERR_READONLY:
		return "read-only";
	case PB_ERR_SKIPPED:
		return "skipped";
	case PB_ERR_INTERNAL:
		return "internal error";
	}
	return "unknown error";
}
