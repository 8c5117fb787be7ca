/* spool.c - durable local spool of history records (see spool.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "spool.h"

#define MAGIC "PBSPOOL1"
#define HDR_MAX 160 /* bytes of a header line, with LF */
#define NAME_LEN 39 /* "%013-%010-%010.rec" */
#define NAME_BUF (NAME_LEN + 1)
#define TMP_PREFIX ".tmp-"
#define TMP_BUF 64 /* bytes: TMP_PREFIX, a record name and its NUL */
#define FAILED_DIR "failed"
#define COUNT_TTL_MS 1000           /* ms a cached record count is used */
#define MAX_NAME_MS 9999999999999LL /* 13 digits of ms */

struct pb_spool {
	int dirfd;  /* the spool directory */
	int failfd; /* dir/failed */
	size_t max_records;
	size_t max_record; /* bytes of data */
	int sealed;        /* 1 when key is set */
	unsigned char key[PB_CRYPTO_KEY_LEN];
	size_t count;     /* records at the last count */
	int64_t count_at; /* mono ms of that count; 0 = never */
};

/* A process-wide sequence: several pb_spool in one process (threads)
   still make distinct names. */
static unsigned spool_seq;

/* --- names and checks --------------------------------------------------- */

static int
valid_kind(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= PB_SPOOL_MAX_KIND - 1)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return i > 0;
}

static int
valid_key(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= PB_SPOOL_MAX_KEY - 1)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return i > 0;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A record's final name: 13 digits, '-', 10 digits, '-', 10 digits, .rec */
static int
is_record_name(const char *n)
{
	return strlen(n) == NAME_LEN && all_digits(n, 13) && n[13] == '-' &&
	       all_digits(n + 14, 10) && n[24] == '-' &&
	       all_digits(n + 25, 10) && strcmp(n + 35, ".rec") == 0;
}

static void
log_record(enum pb_log_level lvl, const char *event, const char *name,
           const char *kind, const char *key, const char *why)
{
	struct pb_logline l;

	pb_log_begin(&l, lvl, event);
	if (name != NULL)
		pb_log_str(&l, "file", name);
	if (kind != NULL)
		pb_log_str(&l, "kind", kind);
	if (key != NULL)
		pb_log_str(&l, "key", key);
	pb_log_str(&l, "reason", why);
	pb_log_end(&l);
}

/* --- open/close --------------------------------------------------------- */

/* The directory must be ours and not writable by anyone else. */
static enum pb_err
check_dir(int fd, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return PB_ERR_IO;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		pb_log_msg(PB_LOG_ERROR, "spool_dir_unsafe", what);
		return PB_ERR_CONFIG;
	}
	return PB_OK;
}

enum pb_err
pb_spool_open(const struct pb_spool_opts *o, struct pb_spool **out)
{
	struct pb_spool *s = NULL;
	enum pb_err rc = PB_ERR_INVAL;

	if (out != NULL)
		*out = NULL;
	if (o == NULL || out == NULL || o->dir == NULL || o->dir[0] == '\0' ||
	    strlen(o->dir) >= PATH_MAX ||
	    o->max_records > PB_SPOOL_LIMIT_MAX_RECORDS ||
	    o->max_record > PB_SPOOL_LIMIT_MAX_RECORD ||
	    (o->key != NULL && o->max_record > PB_CRYPTO_SEAL_MAX))
		goto out;
	rc = PB_ERR_NOMEM;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out;
	s->dirfd = s->failfd = -1;
	s->max_records =
	    o->max_records != 0 ? o->max_records : PB_SPOOL_DEFAULT_MAX_RECORDS;
	s->max_record =
	    o->max_record != 0 ? o->max_record : PB_SPOOL_DEFAULT_MAX_RECORD;
	if (o->key != NULL) {
		rc = PB_ERR_INTERNAL;
		if (sodium_init() < 0)
			goto out;
		memcpy(s->key, o->key, PB_CRYPTO_KEY_LEN);
		s->sealed = 1;
	}

	rc = PB_ERR_IO;
	if (mkdir(o->dir, 0700) != 0 && errno != EEXIST)
		goto out;
	s->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		goto out;
	rc = check_dir(s->dirfd, "spool directory");
	if (rc != PB_OK)
		goto out;
	rc = PB_ERR_IO;
	if (mkdirat(s->dirfd, FAILED_DIR, 0700) != 0 && errno != EEXIST)
		goto out;
	s->failfd = openat(s->dirfd, FAILED_DIR,
	                   O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->failfd < 0)
		goto out;
	rc = check_dir(s->failfd, "spool failed/ directory");
	if (rc != PB_OK)
		goto out;
	*out = s;
	s = NULL;
	rc = PB_OK;
out:
	pb_spool_close(s);
	return rc;
}

void
pb_spool_close(struct pb_spool *s)
{
	if (s == NULL)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->failfd >= 0)
		close(s->failfd);
	sodium_memzero(s->key, sizeof(s->key));
	free(s);
}

/* --- directory scan ----------------------------------------------------- */

/* The oldest names kept while scanning: a max-heap of at most cap names,
   so memory stays bounded however many records the directory holds. */
struct scan {
	char (*names)[NAME_BUF];
	size_t n, alloc, cap;
	size_t total; /* record names seen */
};

static void
heap_swap(struct scan *sc, size_t a, size_t b)
{
	char t[NAME_BUF];

	memcpy(t, sc->names[a], NAME_BUF);
	memcpy(sc->names[a], sc->names[b], NAME_BUF);
	memcpy(sc->names[b], t, NAME_BUF);
}

static void
heap_down(struct scan *sc, size_t i)
{
	size_t l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < sc->n && strcmp(sc->names[l], sc->names[m]) > 0)
			m = l;
		if (r < sc->n && strcmp(sc->names[r], sc->names[m]) > 0)
			m = r;
		if (m == i)
			return;
		heap_swap(sc, i, m);
		i = m;
	}
}

static void
heap_up(struct scan *sc, size_t i)
{
	size_t p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (strcmp(sc->names[p], sc->names[i]) >= 0)
			return;
		heap_swap(sc, i, p);
		i = p;
	}
}

static enum pb_err
scan_add(struct scan *sc, const char *name)
{
	char(*grown)[NAME_BUF];
	size_t na;

	sc->total++;
	if (sc->cap == 0)
		return PB_OK;
	if (sc->n == sc->cap) {
		/* full: keep name only if it is older than the newest kept */
		if (strcmp(name, sc->names[0]) >= 0)
			return PB_OK;
		memcpy(sc->names[0], name, NAME_BUF);
		heap_down(sc, 0);
		return PB_OK;
	}
	if (sc->n == sc->alloc) {
		na = sc->alloc == 0 ? 64 : sc->alloc * 2;
		if (na > sc->cap)
			na = sc->cap;
		grown = realloc(sc->names, na * sizeof(*grown));
		if (grown == NULL)
			return PB_ERR_NOMEM;
		sc->names = grown;
		sc->alloc = na;
	}
	memcpy(sc->names[sc->n], name, NAME_BUF);
	heap_up(sc, sc->n);
	sc->n++;
	return PB_OK;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Remove a temp file a crash left behind, once it is old enough that no
   live writer can still be filling it. */
static void
reap_tmp(struct pb_spool *s, const char *name, time_t now)
{
	struct stat st;

	if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode))
		return;
	if (st.st_mtime > now - PB_SPOOL_TMP_MAX_AGE_S)
		return;
	if (unlinkat(s->dirfd, name, 0) == 0)
		log_record(PB_LOG_WARN, "spool_tmp_removed", name, NULL, NULL,
		           "temporary file left by a crash");
}

/*
 * One pass over the directory: count the records, keep the cap oldest
 * names in sc (cap 0: count only), and remove stale temp files when reap.
 */
static enum pb_err
scan_dir(struct pb_spool *s, struct scan *sc, int reap)
{
	struct dirent *de;
	DIR *d = NULL;
	time_t now = time(NULL);
	int fd;
	enum pb_err rc = PB_ERR_IO;

	fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		goto out;
	}
	rc = PB_OK;
	while (rc == PB_OK) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = PB_ERR_IO;
			break;
		}
		if (is_record_name(de->d_name))
			rc = scan_add(sc, de->d_name);
		else if (reap && strncmp(de->d_name, TMP_PREFIX,
		                         sizeof(TMP_PREFIX) - 1) == 0)
			reap_tmp(s, de->d_name, now);
	}
	if (rc == PB_OK) {
		s->count = sc->total;
		s->count_at = pb_clock_mono_ms();
		if (s->count_at == 0)
			s->count_at = 1;
	}
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

size_t
pb_spool_pending(struct pb_spool *s)
{
	struct scan sc;

	if (s == NULL)
		return 0;
	memset(&sc, 0, sizeof(sc));
	if (scan_dir(s, &sc, 0) != PB_OK)
		return 0;
	return sc.total;
}

/* --- put ---------------------------------------------------------------- */

static enum pb_err
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return PB_ERR_IO;
		}
		c += w;
		n -= (size_t)w;
	}
	return PB_OK;
}

/* PB_ERR_TOOBIG (and a log line) when a record of len bytes is over
 * max_record or the spool holds max_records already. */
static enum pb_err
check_room(struct pb_spool *s, const char *kind, const char *key, size_t len)
{
	struct pb_logline l;
	struct scan sc;
	int64_t mono;

	if (len > s->max_record) {
		pb_log_begin(&l, PB_LOG_ERROR, "spool_record_too_big");
		pb_log_str(&l, "kind", kind);
		pb_log_str(&l, "key", key);
		pb_log_int(&l, "bytes", (long long)len);
		pb_log_int(&l, "max", (long long)s->max_record);
		pb_log_end(&l);
		return PB_ERR_TOOBIG;
	}
	mono = pb_clock_mono_ms();
	if (s->count_at == 0 || mono - s->count_at >= COUNT_TTL_MS) {
		memset(&sc, 0, sizeof(sc));
		(void)scan_dir(s, &sc, 0); /* on failure the old count stays */
	}
	if (s->count >= s->max_records) {
		pb_log_begin(&l, PB_LOG_ERROR, "spool_full");
		pb_log_str(&l, "kind", kind);
		pb_log_str(&l, "key", key);
		pb_log_int(&l, "records", (long long)s->count);
		pb_log_int(&l, "max", (long long)s->max_records);
		pb_log_end(&l);
		return PB_ERR_TOOBIG;
	}
	return PB_OK;
}

/*
 * A new record's name (NAME_BUF bytes) and its temp name (TMP_BUF).
 * The name is unique by construction: the time, this process, and a
 * sequence no other pb_spool of this process uses.  The temp file
 * carries the final name behind a prefix that readers ignore.
 */
static enum pb_err
new_names(char *name, char *tmp)
{
	unsigned seq;
	int64_t now;

	seq = __atomic_add_fetch(&spool_seq, 1, __ATOMIC_RELAXED);
	now = pb_clock_now_ms();
	if (now < 0)
		now = 0;
	if (now > MAX_NAME_MS)
		now = MAX_NAME_MS;
	if (snprintf(name, NAME_BUF, "%013" PRId64 "-%010ld-%010u.rec", now,
	             (long)getpid(), seq) != NAME_LEN ||
	    snprintf(tmp, TMP_BUF, TMP_PREFIX "%s", name) >= TMP_BUF)
		return PB_ERR_INTERNAL;
	return PB_OK;
}

/* Write header and payload to tmp, fsync it and rename it to name; on
 * failure PB_ERR_IO with *err (errno) and no temp file left. */
static enum pb_err
write_record(struct pb_spool *s, const char *tmp, const char *name,
             const char *hdr, size_t hlen, const void *payload, size_t plen,
             int *err)
{
	int fd, tmp_made = 0;
	enum pb_err rc = PB_ERR_IO;

	fd = openat(s->dirfd, tmp,
	            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*err = errno;
		goto out;
	}
	tmp_made = 1;
	if (write_all(fd, hdr, hlen) != PB_OK ||
	    write_all(fd, payload, plen) != PB_OK || fsync(fd) != 0) {
		*err = errno;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		*err = errno;
		goto out;
	}
	fd = -1;
	if (renameat(s->dirfd, tmp, s->dirfd, name) != 0) {
		*err = errno;
		goto out;
	}
	tmp_made = 0;
	rc = PB_OK;
out:
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		(void)unlinkat(s->dirfd, tmp, 0);
	return rc;
}

enum pb_err
pb_spool_put(struct pb_spool *s, const char *kind, const char *key,
             const void *data, size_t len)
{
	struct pb_logline l;
	unsigned char *sealed = NULL;
	const void *payload = data;
	size_t plen = len;
	char hdr[HDR_MAX], tmp[TMP_BUF], name[NAME_BUF];
	int n, saved_errno = 0;
	enum pb_err rc = PB_ERR_INVAL;

	if (s == NULL || !valid_kind(kind) || !valid_key(key) ||
	    (data == NULL && len > 0))
		goto out;
	if (data == NULL)
		payload = "";
	rc = check_room(s, kind, key, len);
	if (rc != PB_OK)
		goto out;
	if (s->sealed) {
		rc = pb_crypto_seal(s->key, payload, len, &sealed, &plen);
		if (rc != PB_OK)
			goto out;
		payload = sealed;
	}
	rc = PB_ERR_INTERNAL;
	n = snprintf(hdr, sizeof(hdr), MAGIC " %s %s %c %zu\n", kind, key,
	             s->sealed ? 's' : 'p', plen);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		goto out;
	rc = new_names(name, tmp);
	if (rc != PB_OK)
		goto out;
	rc = write_record(s, tmp, name, hdr, (size_t)n, payload, plen,
	                  &saved_errno);
	if (rc != PB_OK)
		goto out;
	s->count++;
	if (fsync(s->dirfd) != 0) {
		/* the record is in place but may not survive a power cut */
		saved_errno = errno;
		rc = PB_ERR_IO;
		goto out;
	}
	rc = PB_OK;
out:
	if (rc == PB_ERR_IO) {
		pb_log_begin(&l, PB_LOG_ERROR, "spool_put_failed");
		pb_log_str(&l, "kind", kind);
		pb_log_str(&l, "key", key);
		pb_log_int(&l, "errno", saved_errno);
		pb_log_end(&l);
	}
	free(sealed);
	return rc;
}

/* --- replay ------------------------------------------------------------- */

/* A record read from its file. */
struct record {
	char kind[PB_SPOOL_MAX_KIND];
	char key[PB_SPOOL_MAX_KEY];
	char *raw;         /* the whole file, NUL-terminated */
	char *plain;       /* decrypted data (sealed records) */
	size_t plain_size; /* bytes allocated at plain */
	const char *data;  /* points into raw or plain */
	size_t len;        /* bytes of data */
};

static void
record_free(struct record *r)
{
	if (r->plain != NULL) {
		sodium_memzero(r->plain, r->plain_size);
		free(r->plain);
	}
	if (r->raw != NULL)
		free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* Next space-separated field of the header line [*p, end) into out. */
static int
hdr_field(const char **p, const char *end, char *out, size_t outlen)
{
	const char *q = *p;
	size_t n;

	while (q < end && *q != ' ')
		q++;
	n = (size_t)(q - *p);
	if (n == 0 || n >= outlen)
		return 0;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = q < end ? q + 1 : q;
	return 1;
}

/* The whole file open on fd (at most limit bytes) into r->raw,
 * NUL-terminated; *size its length. */
static enum pb_err
read_whole(int fd, size_t limit, struct record *r, size_t *size,
           const char **why)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0)
		return PB_ERR_IO;
	*size = (size_t)st.st_size;
	if (*size > limit) {
		*why = "file larger than max_record allows";
		return PB_ERR_TOOBIG;
	}
	r->raw = malloc(*size + 1);
	if (r->raw == NULL) {
		*why = "out of memory";
		return PB_ERR_NOMEM;
	}
	while (got < *size) {
		n = pread(fd, r->raw + got, *size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return PB_ERR_IO;
		got += (size_t)n;
	}
	r->raw[*size] = '\0';
	return PB_OK;
}

/*
 * Check the header line of r->raw (size bytes): kind and key into r,
 * the flag ('s' sealed, 'p' plain) into *flag, the header's length with
 * its newline into *hlen.  The data length it names must be the rest.
 */
static enum pb_err
parse_header(struct record *r, size_t size, char *flag, size_t *hlen,
             const char **why)
{
	const char *p, *nl;
	char magic[16], f[4], lenstr[24];
	unsigned long long v;
	char *e;

	*why = "malformed header";
	nl = memchr(r->raw, '\n', size < HDR_MAX ? size : HDR_MAX);
	/* a NUL would end a field early: "key\0junk" must not pass as "key"
	   (found by tests/fuzz/fuzz_spool) */
	if (nl == NULL || memchr(r->raw, '\0', (size_t)(nl - r->raw)) != NULL)
		return PB_ERR_PARSE;
	p = r->raw;
	if (!hdr_field(&p, nl, magic, sizeof(magic)) ||
	    strcmp(magic, MAGIC) != 0) {
		*why = "unknown format version";
		return PB_ERR_PARSE;
	}
	if (!hdr_field(&p, nl, r->kind, sizeof(r->kind)) ||
	    !valid_kind(r->kind) ||
	    !hdr_field(&p, nl, r->key, sizeof(r->key)) || !valid_key(r->key) ||
	    !hdr_field(&p, nl, f, sizeof(f)) ||
	    (strcmp(f, "s") != 0 && strcmp(f, "p") != 0) ||
	    !hdr_field(&p, nl, lenstr, sizeof(lenstr)) || p != nl ||
	    !all_digits(lenstr, strlen(lenstr))) {
		/* only checked names go to the log */
		if (!valid_kind(r->kind))
			r->kind[0] = '\0';
		if (!valid_key(r->key))
			r->key[0] = '\0';
		return PB_ERR_PARSE;
	}
	errno = 0;
	v = strtoull(lenstr, &e, 10);
	*hlen = (size_t)(nl - r->raw) + 1;
	if (errno != 0 || *e != '\0' ||
	    v != (unsigned long long)(size - *hlen)) {
		*why = "truncated or padded record";
		return PB_ERR_PARSE;
	}
	*flag = f[0];
	return PB_OK;
}

/* Decrypt the dlen sealed bytes at r->raw + hlen into r->plain. */
static enum pb_err
open_sealed(struct pb_spool *s, struct record *r, size_t hlen, size_t dlen,
            const char **why)
{
	enum pb_err rc;

	if (!s->sealed) {
		*why = "sealed record but the spool has no key";
		return PB_ERR_INVAL;
	}
	if (dlen < PB_CRYPTO_SEAL_MIN ||
	    dlen - PB_CRYPTO_SEAL_MIN >
	        s->max_record +
	            (PB_CRYPTO_SEAL_OVERHEAD - PB_CRYPTO_SEAL_MIN)) {
		*why = "sealed data of a wrong size";
		return PB_ERR_PARSE;
	}
	/* room for a record sealed before key versions (crypto.h) */
	r->plain_size = dlen - PB_CRYPTO_SEAL_MIN + 1;
	r->plain = malloc(r->plain_size);
	if (r->plain == NULL) {
		*why = "out of memory";
		return PB_ERR_NOMEM;
	}
	rc = pb_crypto_open(s->key, r->raw + hlen, dlen, r->plain,
	                    r->plain_size, &r->len);
	if (rc != PB_OK) {
		*why = "cannot decrypt (forged data or another key)";
		return rc;
	}
	r->data = r->plain;
	return PB_OK;
}

/*
 * Read and check the record open on fd; *why is set to a static reason
 * when it cannot be used.  kind/key are filled as soon as they are known
 * (for the log).
 */
static enum pb_err
record_read(struct pb_spool *s, int fd, struct record *r, const char **why)
{
	size_t size = 0, hlen = 0, dlen;
	char flag = 0;
	enum pb_err rc;

	*why = "unreadable";
	rc = read_whole(fd, HDR_MAX + s->max_record + PB_CRYPTO_SEAL_OVERHEAD,
	                r, &size, why);
	if (rc != PB_OK)
		goto out;
	rc = parse_header(r, size, &flag, &hlen, why);
	if (rc != PB_OK)
		goto out;
	dlen = size - hlen;
	if (flag == 's') {
		rc = open_sealed(s, r, hlen, dlen, why);
		if (rc != PB_OK)
			goto out;
	} else if (dlen > s->max_record) {
		*why = "record larger than max_record";
		rc = PB_ERR_TOOBIG;
		goto out;
	} else {
		r->data = r->raw + hlen;
		r->len = dlen;
	}
	*why = NULL;
	rc = PB_OK;
out:
	return rc;
}

/* Move a claimed record to failed/ (the caller holds its lock). */
static void
move_failed(struct pb_spool *s, const char *name, const struct record *r,
            const char *why)
{
	int moved = renameat(s->dirfd, name, s->failfd, name) == 0;

	log_record(PB_LOG_ERROR,
	           moved ? "spool_record_failed" : "spool_record_stuck", name,
	           r->kind[0] != '\0' ? r->kind : NULL,
	           r->key[0] != '\0' ? r->key : NULL, why);
}

/* Claim name: open it and take its lock.  -1 when someone else has it or
   it is gone (applied or moved since the scan). */
static int
claim(struct pb_spool *s, const char *name)
{
	struct stat a, b;
	int fd;

	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		goto busy;
	/* the previous holder may have unlinked or moved it before our
	   lock: it must still be this file under this name */
	if (fstat(fd, &a) != 0 ||
	    fstatat(s->dirfd, name, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		goto busy;
	return fd;
busy:
	close(fd);
	return -1;
}

enum pb_err
pb_spool_replay(struct pb_spool *s, pb_spool_fn fn, void *ud, size_t max,
                size_t *done)
{
	struct scan sc;
	struct record r;
	const char *why;
	size_t i, tried = 0, applied = 0, moved = 0;
	int fd, changed = 0;
	enum pb_err rc = PB_ERR_INVAL, frc;

	memset(&sc, 0, sizeof(sc));
	memset(&r, 0, sizeof(r));
	if (done != NULL)
		*done = 0;
	if (s == NULL || fn == NULL)
		goto out;
	sc.cap = max != 0 && max < s->max_records ? max : s->max_records;
	rc = scan_dir(s, &sc, 1);
	if (rc != PB_OK)
		goto out;
	if (sc.n > 1)
		qsort(sc.names, sc.n, NAME_BUF, name_cmp);
	for (i = 0; i < sc.n && (max == 0 || tried < max); i++) {
		fd = claim(s, sc.names[i]);
		if (fd < 0)
			continue;
		tried++;
		frc = record_read(s, fd, &r, &why);
		if (frc == PB_ERR_NOMEM) {
			/* not the record's fault: leave it for later */
			close(fd);
			rc = PB_ERR_NOMEM;
			break;
		}
		if (frc != PB_OK) {
			move_failed(s, sc.names[i], &r, why);
			moved++;
		} else {
			frc = fn(ud, r.kind, r.key, r.data, r.len);
			if (frc == PB_OK) {
				if (unlinkat(s->dirfd, sc.names[i], 0) == 0)
					changed = 1;
				applied++;
			} else if (frc == PB_ERR_UNAVAILABLE) {
				record_free(&r);
				close(fd);
				rc = PB_ERR_UNAVAILABLE;
				break;
			} else {
				move_failed(s, sc.names[i], &r,
				            pb_strerror(frc));
				moved++;
			}
		}
		record_free(&r);
		close(fd); /* releases the claim */
	}
	if (changed || moved > 0) {
		/* one directory sync for the whole pass; a delete lost to a
		   power cut only means one more (idempotent) replay */
		(void)fsync(s->dirfd);
		if (moved > 0)
			(void)fsync(s->failfd);
		s->count_at = 0;
	}
out:
	record_free(&r);
	free(sc.names);
	if (done != NULL)
		*done = applied;
	return rc;
}
