/* buf.c - bounded growable buffer. */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
pb_buf_init(struct pb_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
pb_buf_free(struct pb_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
pb_buf_reset(struct pb_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for n more bytes plus the NUL. */
static enum pb_err
buf_reserve(struct pb_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return PB_ERR_TOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return PB_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return PB_ERR_TOOBIG;
		ncap *= 2;
	}
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return PB_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return PB_OK;
}

enum pb_err
pb_buf_append(struct pb_buf *b, const void *p, size_t n)
{
	enum pb_err rc;

	rc = buf_reserve(b, n);
	if (rc != PB_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PB_OK;
}

enum pb_err
pb_buf_append_str(struct pb_buf *b, const char *s)
{
	return pb_buf_append(b, s, strlen(s));
}

enum pb_err
pb_buf_append_char(struct pb_buf *b, char c)
{
	return pb_buf_append(b, &c, 1);
}

enum pb_err
pb_buf_printf(struct pb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum pb_err rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PB_ERR_INVAL;
	rc = buf_reserve(b, (size_t)n);
	if (rc != PB_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return PB_OK;
}

char *
pb_buf_steal(struct pb_buf *b)
{
	char *p = b->data;

	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

enum pb_err
pb_strlcpy(char *dst, const char *src, size_t dstlen)
{
	size_t n;

	if (dstlen == 0)
		return PB_ERR_TOOBIG;
	n = strlen(src);
	if (n >= dstlen) {
		memcpy(dst, src, dstlen - 1);
		dst[dstlen - 1] = '\0';
		return PB_ERR_TOOBIG;
	}
	memcpy(dst, src, n + 1);
	return PB_OK;
}
