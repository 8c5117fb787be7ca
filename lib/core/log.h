/*
 * log.h - one line per event, key=value, safe against log injection.
 *
 * A line looks like
 *   ts=2026-11-24T01:30:00.123Z level=info svc=auth pid=42 rid=abc
 * event=request method="GET" status=200 String values are always quoted; '"'
 * and '\' are escaped, and CR, LF, TAB, other control characters, DEL and bytes
 * that are not valid UTF-8 are written as \n, \r, \t or \xNN, so one event is
 * always one line. Each line is written with a single write(2) on an O_APPEND
 * descriptor so lines from concurrent processes never interleave.  Lines are
 * capped at PB_LOG_LINE_MAX bytes; a longer one ends with truncated=1.
 *
 * Personal data must go through pb_mask_phone()/pb_mask_name() first.
 *
 * Threads: pb_log_open, pb_log_open_file and pb_log_close are for
 * start-up and exit, before other threads start and after they stop.
 * Writing lines is safe from any thread; the request id is per thread.
 */
#ifndef PB_LOG_H
#define PB_LOG_H

#include <stddef.h>
#include "err.h"

#define PB_LOG_LINE_MAX 4096 /* bytes, including the newline */

enum pb_log_level { PB_LOG_DEBUG = 0, PB_LOG_INFO, PB_LOG_WARN, PB_LOG_ERROR };

/*
 * Set the service name (copied, up to 31 bytes), the output descriptor
 * (borrowed; -1 means stderr) and the lowest level written.
 */
void pb_log_open(const char *service, int fd, enum pb_log_level min);
/* Open path for appending (0640) and log there; PB_ERR_IO if it fails. */
enum pb_err pb_log_open_file(const char *service, const char *path,
                             enum pb_log_level min);
/* Close a descriptor opened by pb_log_open_file; back to stderr. */
void pb_log_close(void);
/* "debug", "info", "warn", "error" (case-sensitive). */
enum pb_err pb_log_level_parse(const char *s, enum pb_log_level *out);

/* The request id stamped on each of this thread's lines until cleared
   (copied; NULL clears). */
void pb_log_set_request_id(const char *rid);

/* A line under construction; lives on the caller's stack. */
struct pb_logline {
	char buf[PB_LOG_LINE_MAX];
	size_t len;
	int truncated;
	int enabled; /* 0 when the level is filtered out: calls are no-ops */
};

void pb_log_begin(struct pb_logline *l, enum pb_log_level lvl,
                  const char *event);
/* key must be [a-z0-9_.]; other bytes are replaced with '_'.  val NULL -> "".
 */
/* The value of key "user" has its runs of 6+ digits masked ('#'): a phone
 * number typed as a user id never reaches a log in clear. */
void pb_log_str(struct pb_logline *l, const char *key, const char *val);
void pb_log_int(struct pb_logline *l, const char *key, long long val);
void pb_log_end(struct pb_logline *l);

/* One event with one msg="..." field. */
void pb_log_msg(enum pb_log_level lvl, const char *event, const char *msg);

/*
 * Escape in for a log value (without the quotes) into out[0..outlen),
 * always NUL-terminated.  Returns the number of bytes written; stops early
 * (never splitting an escape) when out is full.
 */
size_t pb_log_escape(const char *in, char *out, size_t outlen);

/*
 * Phone number mask: the digits of in (dashes and spaces ignored); 10 or
 * 11 digits become "010-****-5678" (first three, last four), anything else
 * keeps only the last four ("****5678") or none ("****").
 */
enum pb_err pb_mask_phone(const char *in, char *out, size_t outlen);
/*
 * Name mask by UTF-8 character: 1 char -> "*", 2 -> "홍*", 3+ -> first,
 * one '*' per hidden character, last ("홍*동", "남궁**훈").  Invalid UTF-8
 * -> "***".
 */
enum pb_err pb_mask_name(const char *in, char *out, size_t outlen);

/*
 * Copy in to out with every run of min_run or more ASCII digits replaced
 * by '#' of the same length ("/customer/01012345678" -> "/customer/
 * ###########"): for paths and free text that may hold a phone number.
 * PB_ERR_TOOBIG (out holds a truncated, still masked copy) if it does not
 * fit.
 */
enum pb_err pb_mask_digits(const char *in, size_t min_run, char *out,
                           size_t outlen);

#endif
