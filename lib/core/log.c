/* log.c - key=value event lines with escaping and PII masks. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"

/*
 * Service, descriptor and level are set at start-up, before any thread
 * (lib/worker.c) starts, and only read afterwards.  The request id is
 * per thread: a background thread's lines must not carry the id of the
 * request the main thread is serving.
 */
static char log_service[32] = "phonebill";
static int log_fd = -1;  /* -1: stderr */
static int log_fd_owned; /* 1 when pb_log_open_file opened it */
static enum pb_log_level log_min = PB_LOG_INFO;
static __thread char log_rid[72];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
pb_log_open(const char *service, int fd, enum pb_log_level min)
{
	if (service != NULL)
		(void)pb_strlcpy(log_service, service, sizeof(log_service));
	log_fd = fd;
	log_fd_owned = 0;
	log_min = min;
}

enum pb_err
pb_log_open_file(const char *service, const char *path, enum pb_log_level min)
{
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return PB_ERR_IO;
	pb_log_close();
	pb_log_open(service, fd, min);
	log_fd_owned = 1;
	return PB_OK;
}

void
pb_log_close(void)
{
	if (log_fd_owned && log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	log_fd_owned = 0;
}

enum pb_err
pb_log_level_parse(const char *s, enum pb_log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum pb_log_level)i;
			return PB_OK;
		}
	}
	return PB_ERR_INVAL;
}

void
pb_log_set_request_id(const char *rid)
{
	if (rid == NULL)
		log_rid[0] = '\0';
	else
		(void)pb_strlcpy(log_rid, rid, sizeof(log_rid));
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t
utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xf4 && s[1] >= 0x90)
			return 0; /* over U+10FFFF */
		return 4;
	}
	return 0;
}

size_t
pb_log_escape(const char *in, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, n;
	char esc[8];
	const char *piece;
	size_t plen;

	if (outlen == 0)
		return 0;
	while (*s != '\0') {
		n = utf8_seq_len(s);
		piece = esc;
		if (n == 0 || *s < 0x20 || *s == 0x7f) {
			switch (*s) {
			case '\n':
				memcpy(esc, "\\n", 3);
				break;
			case '\r':
				memcpy(esc, "\\r", 3);
				break;
			case '\t':
				memcpy(esc, "\\t", 3);
				break;
			default:
				snprintf(esc, sizeof(esc), "\\x%02x", *s);
				break;
			}
			plen = strlen(esc);
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			esc[2] = '\0';
			plen = 2;
		} else {
			piece = (const char *)s;
			plen = n;
		}
		if (o + plen >= outlen)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		s += n;
	}
	out[o] = '\0';
	return o;
}

static void
line_append(struct pb_logline *l, const char *p, size_t n)
{
	/* keep one byte for the newline */
	if (l->truncated || l->len + n >= sizeof(l->buf) - 1) {
		l->truncated = 1;
		return;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static void
line_key(struct pb_logline *l, const char *key)
{
	char k[64];
	size_t i;

	for (i = 0; key[i] != '\0' && i < sizeof(k) - 1; i++) {
		char c = key[i];
		int okc = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          c == '_' || c == '.';
		k[i] = okc ? c : '_';
	}
	k[i] = '\0';
	line_append(l, " ", 1);
	line_append(l, k, i);
	line_append(l, "=", 1);
}

void
pb_log_begin(struct pb_logline *l, enum pb_log_level lvl, const char *event)
{
	char ts[40];
	char tmp[160];
	struct pb_date d;
	int64_t now = pb_clock_now_ms();
	int n;

	l->len = 0;
	l->truncated = 0;
	l->enabled = lvl >= log_min;
	if (!l->enabled)
		return;
	pb_clock_date(now, 0, &d);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", d.year,
	         d.month, d.day, d.hour, d.min, d.sec,
	         (int)(((now % 1000) + 1000) % 1000));
	n = snprintf(tmp, sizeof(tmp), "ts=%s level=%s svc=%s pid=%ld", ts,
	             level_names[lvl], log_service, (long)getpid());
	if (n > 0)
		line_append(l, tmp,
		            (size_t)n < sizeof(tmp) ? (size_t)n
		                                    : sizeof(tmp) - 1);
	if (log_rid[0] != '\0')
		pb_log_str(l, "rid", log_rid);
	line_key(l, "event");
	line_append(l, event, strlen(event));
}

void
pb_log_str(struct pb_logline *l, const char *key, const char *val)
{
	char esc[PB_LOG_LINE_MAX], masked[PB_LOG_LINE_MAX];
	size_t n;

	if (!l->enabled)
		return;
	line_key(l, key);
	/* a user id may be a phone number typed into the login form */
	if (val != NULL && strcmp(key, "user") == 0) {
		(void)pb_mask_digits(val, 6, masked, sizeof(masked));
		val = masked;
	}
	n = pb_log_escape(val != NULL ? val : "", esc, sizeof(esc));
	line_append(l, "\"", 1);
	line_append(l, esc, n);
	line_append(l, "\"", 1);
}

void
pb_log_int(struct pb_logline *l, const char *key, long long val)
{
	char num[32];
	int n;

	if (!l->enabled)
		return;
	line_key(l, key);
	n = snprintf(num, sizeof(num), "%lld", val);
	if (n > 0)
		line_append(l, num, (size_t)n);
}

void
pb_log_end(struct pb_logline *l)
{
	static const char trunc[] = " truncated=1";
	size_t off = 0;
	ssize_t w;
	int fd;

	if (!l->enabled)
		return;
	if (l->truncated) {
		/* room was kept: the cap leaves space for the marker */
		if (l->len > sizeof(l->buf) - sizeof(trunc) - 1)
			l->len = sizeof(l->buf) - sizeof(trunc) - 1;
		memcpy(l->buf + l->len, trunc, sizeof(trunc) - 1);
		l->len += sizeof(trunc) - 1;
	}
	l->buf[l->len++] = '\n';
	fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
	while (off < l->len) {
		w = write(fd, l->buf + off, l->len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* nowhere left to report a logging failure */
		}
		off += (size_t)w;
	}
}

void
pb_log_msg(enum pb_log_level lvl, const char *event, const char *msg)
{
	struct pb_logline l;

	pb_log_begin(&l, lvl, event);
	pb_log_str(&l, "msg", msg);
	pb_log_end(&l);
}

enum pb_err
pb_mask_phone(const char *in, char *out, size_t outlen)
{
	char digits[32];
	size_t nd = 0, i;
	int n;

	for (i = 0; in[i] != '\0'; i++) {
		if (in[i] >= '0' && in[i] <= '9') {
			if (nd < sizeof(digits) - 1)
				digits[nd++] = in[i];
		}
	}
	digits[nd] = '\0';
	if (nd == 10 || nd == 11)
		n = snprintf(out, outlen, "%.3s-****-%s", digits,
		             digits + nd - 4);
	else if (nd >= 4)
		n = snprintf(out, outlen, "****%s", digits + nd - 4);
	else
		n = snprintf(out, outlen, "****");
	return (n >= 0 && (size_t)n < outlen) ? PB_OK : PB_ERR_TOOBIG;
}

enum pb_err
pb_mask_name(const char *in, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t chars = 0, i = 0, n, firstlen = 0, lastoff = 0, lastlen = 0;
	struct pb_buf b;
	enum pb_err rc = PB_ERR_TOOBIG;
	char *res;

	while (s[i] != '\0') {
		n = utf8_seq_len(s + i);
		if (n == 0 || s[i] < 0x20)
			return pb_strlcpy(out, "***", outlen);
		if (chars == 0)
			firstlen = n;
		lastoff = i;
		lastlen = n;
		chars++;
		i += n;
	}
	pb_buf_init(&b, outlen > 0 ? outlen - 1 : 0);
	if (chars <= 1) {
		rc = pb_buf_append_char(&b, '*');
	} else {
		rc = pb_buf_append(&b, in, firstlen);
		for (i = 0; rc == PB_OK && i < (chars > 2 ? chars - 2 : 1); i++)
			rc = pb_buf_append_char(&b, '*');
		if (rc == PB_OK && chars > 2)
			rc = pb_buf_append(&b, in + lastoff, lastlen);
	}
	if (rc == PB_OK) {
		res = b.data;
		rc = pb_strlcpy(out, res, outlen);
	} else if (outlen > 0) {
		out[0] = '\0';
	}
	pb_buf_free(&b);
	return rc;
}

enum pb_err
pb_mask_digits(const char *in, size_t min_run, char *out, size_t outlen)
{
	size_t i = 0, j, run;

	if (outlen == 0)
		return PB_ERR_TOOBIG;
	while (in[i] != '\0') {
		for (j = i; in[j] >= '0' && in[j] <= '9'; j++)
			;
		run = j > i ? j - i : 1;
		if (i + run >= outlen)
			break; /* never emit part of a digit run */
		if (j > i && run >= min_run)
			memset(out + i, '#', run);
		else
			memcpy(out + i, in + i, run);
		i += run;
	}
	out[i] = '\0';
	return in[i] == '\0' ? PB_OK : PB_ERR_TOOBIG;
}
