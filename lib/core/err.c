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
	case PB_ERR_INTERNAL:
		return "internal error";
	}
	return "unknown error";
}
