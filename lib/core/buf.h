/*
 * buf.h - a growable byte buffer with a hard ceiling.
 *
 * Every append is bounded by buf->max; an append that would pass it fails
 * with PB_ERR_TOOBIG and leaves the buffer as it was.  The data is always
 * NUL-terminated (the terminator is not counted in len).
 */
#ifndef PB_BUF_H
#define PB_BUF_H

#include <stddef.h>
#include "err.h"

struct pb_buf {
	char *data; /* owned; NULL until the first append */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* ceiling on len, bytes */
};

/* Initialise an empty buffer that may grow to max bytes. */
void pb_buf_init(struct pb_buf *b, size_t max);
/* Release the data; the buffer can be reused after pb_buf_init. */
void pb_buf_free(struct pb_buf *b);
/* Forget the contents, keep the allocation. */
void pb_buf_reset(struct pb_buf *b);

enum pb_err pb_buf_append(struct pb_buf *b, const void *p, size_t n);
enum pb_err pb_buf_append_str(struct pb_buf *b, const char *s);
enum pb_err pb_buf_append_char(struct pb_buf *b, char c);
/* printf-style append; the formatted text counts against max. */
enum pb_err pb_buf_printf(struct pb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Transfer ownership of the data to the caller (NULL if empty). */
char *pb_buf_steal(struct pb_buf *b);

/*
 * Copy src into dst[0..dstlen) NUL-terminated.  Returns PB_OK, or
 * PB_ERR_TOOBIG when src did not fit (dst then holds a truncated copy).
 */
enum pb_err pb_strlcpy(char *dst, const char *src, size_t dstlen);

#endif
