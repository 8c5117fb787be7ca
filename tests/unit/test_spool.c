/*
 * test_spool.c - lib/io/spool.c: round trip, order, sealing, replay
 * outcomes (applied, unavailable, failed), limits, concurrent replayers
 * (processes and threads), a dead claimant, crash leftovers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "crypto.h"
#include "log.h"
#include "spool.h"
#include "tap.h"

static char top[64]; /* mkdtemp */
static char logpath[96];
static int logfd = -1;
static unsigned dir_seq;

/* A fresh spool directory path under top (not created). */
static const char *
newdir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/s%u", top, ++dir_seq);
	return buf;
}

static struct pb_spool *
open_spool(const char *dir, size_t max_records, size_t max_record,
           const unsigned char *key)
{
	struct pb_spool_opts o;
	struct pb_spool *s = NULL;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.max_records = max_records;
	o.max_record = max_record;
	o.key = key;
	if (pb_spool_open(&o, &s) != PB_OK)
		return NULL;
	return s;
}

/* Number of entries in dir whose name ends with suffix ("" = all but
   . and ..). */
static int
count_files(const char *dir, const char *suffix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t sl = strlen(suffix), nl;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		nl = strlen(de->d_name);
		if (nl >= sl && strcmp(de->d_name + nl - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The name of the first file in dir ending with suffix. */
static int
first_file(const char *dir, const char *suffix, char *out, size_t outlen)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t sl = strlen(suffix), nl;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (de->d_name[0] != '.' && nl >= sl &&
		    strcmp(de->d_name + nl - sl, suffix) == 0) {
			snprintf(out, outlen, "%s/%s", dir, de->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

static size_t
read_file(const char *path, char *out, size_t outlen)
{
	size_t o = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		out[0] = '\0';
		return 0;
	}
	while (o + 1 < outlen && (n = read(fd, out + o, outlen - o - 1)) > 0)
		o += (size_t)n;
	out[o] = '\0';
	close(fd);
	return o;
}

static int
write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int good;

	if (fd < 0)
		return 0;
	good = write(fd, data, len) == (ssize_t)len;
	close(fd);
	return good;
}

static int
log_has(const char *needle)
{
	static char buf[65536];

	read_file(logpath, buf, sizeof(buf));
	return strstr(buf, needle) != NULL;
}

static void
rmtree(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		tap_diag("rm -rf failed");
}

/* --- a collecting fn ----------------------------------------------------- */

#define MAXSEEN 256
struct seen {
	int n;
	char kind[MAXSEEN][PB_SPOOL_MAX_KIND];
	char key[MAXSEEN][PB_SPOOL_MAX_KEY];
	char data[MAXSEEN][128];
	size_t len[MAXSEEN];
	int nul_ok;           /* every data was NUL-terminated */
	const char *fail_key; /* answer fail_rc for this key */
	enum pb_err fail_rc;
};

static enum pb_err
collect(void *ud, const char *kind, const char *key, const char *data,
        size_t len)
{
	struct seen *s = ud;

	if (s->fail_key != NULL && strcmp(key, s->fail_key) == 0)
		return s->fail_rc;
	if (s->n >= MAXSEEN)
		return PB_ERR_INTERNAL;
	snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", kind);
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key);
	memcpy(s->data[s->n], data, len < 127 ? len : 127);
	s->data[s->n][len < 127 ? len : 127] = '\0';
	s->len[s->n] = len;
	if (data[len] != '\0')
		s->nul_ok = 0;
	s->n++;
	return PB_OK;
}

static void
seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	s->nul_ok = 1;
}

/* --- tests ---------------------------------------------------------------- */

static void
test_open(void)
{
	struct pb_spool_opts o;
	struct pb_spool *s = (struct pb_spool *)1;
	unsigned char key[PB_CRYPTO_KEY_LEN];
	char dir[128], path[160];
	struct stat st;

	memset(&o, 0, sizeof(o));
	memset(key, 1, sizeof(key));
	is_int(pb_spool_open(&o, &s), PB_ERR_INVAL, "dir required");
	ok(s == NULL, "out NULLed on failure");
	is_int(pb_spool_open(NULL, &s), PB_ERR_INVAL, "NULL opts");
	o.dir = newdir(dir, sizeof(dir));
	o.key = key;
	o.max_record = PB_CRYPTO_SEAL_MAX + 1;
	is_int(pb_spool_open(&o, &s), PB_ERR_INVAL,
	       "sealed records over PB_CRYPTO_SEAL_MAX refused");
	o.key = NULL;
	o.max_record = PB_SPOOL_LIMIT_MAX_RECORD + 1;
	is_int(pb_spool_open(&o, &s), PB_ERR_INVAL, "max_record ceiling");
	o.max_record = 0;
	snprintf(path, sizeof(path), "%s/no/such/parent", top);
	o.dir = path;
	is_int(pb_spool_open(&o, &s), PB_ERR_IO, "missing parent: PB_ERR_IO");

	o.dir = dir;
	is_int(pb_spool_open(&o, &s), PB_OK, "open creates the directory");
	ok(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (st.st_mode & 0777) == 0700,
	   "created 0700");
	snprintf(path, sizeof(path), "%s/failed", dir);
	ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (st.st_mode & 0777) == 0700,
	   "failed/ created 0700");
	is_int(pb_spool_pending(s), 0, "empty spool: nothing pending");
	pb_spool_close(s);
	pb_spool_close(NULL);

	s = open_spool(dir, 0, 0, NULL);
	ok(s != NULL, "reopen an existing spool");
	pb_spool_close(s);
	ok(chmod(dir, 0777) == 0, "chmod 0777");
	is_int(pb_spool_open(&o, &s), PB_ERR_CONFIG,
	       "world-writable directory refused");
	ok(chmod(dir, 0700) == 0, "chmod back");
	snprintf(path, sizeof(path), "%s/afile", top);
	ok(write_file(path, "x", 1), "a plain file");
	o.dir = path;
	is_int(pb_spool_open(&o, &s), PB_ERR_IO, "a file is not a spool");
}

static void
test_roundtrip(void)
{
	struct pb_spool *s;
	struct seen seen;
	char dir[128];
	size_t done = 99;
	static const char bin[] = {'a', '\0', 'b', '\n', 'c'};

	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, NULL);
	ok(s != NULL, "open");
	if (s == NULL)
		return;
	is_int(pb_spool_put(s, "bill.history", "req-1", "{\"a\":1}", 7), PB_OK,
	       "put 1");
	is_int(pb_spool_put(s, "product_history", "req-2", bin, sizeof(bin)),
	       PB_OK, "put 2 (binary, with a NUL)");
	is_int(pb_spool_put(s, "login-history", "req-3", NULL, 0), PB_OK,
	       "put 3 (empty data)");
	is_int(pb_spool_pending(s), 3, "3 pending");
	is_int(count_files(dir, ".rec"), 3, "3 record files");
	is_int(count_files(dir, ""), 4, "no temp files left (3 + failed/)");

	seen_init(&seen);
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_OK, "replay");
	is_int(done, 3, "3 applied");
	is_int(seen.n, 3, "fn called 3 times");
	is_str(seen.kind[0], "bill.history", "kind 1");
	is_str(seen.key[0], "req-1", "key 1");
	is_str(seen.data[0], "{\"a\":1}", "data 1");
	is_int(seen.len[0], 7, "len 1");
	ok(seen.len[1] == sizeof(bin) &&
	       memcmp(seen.data[1], bin, sizeof(bin)) == 0,
	   "binary data intact");
	is_int(seen.len[2], 0, "empty data");
	ok(seen.nul_ok, "data NUL-terminated");
	is_int(pb_spool_pending(s), 0, "applied records deleted");
	is_int(count_files(dir, ".rec"), 0, "no record files left");
	seen_init(&seen);
	is_int(pb_spool_replay(s, collect, &seen, 0, NULL), PB_OK,
	       "replay of an empty spool (done NULL)");
	is_int(seen.n, 0, "nothing to apply");
	pb_spool_close(s);
}

static void
test_order(void)
{
	struct pb_spool *s;
	struct seen seen;
	char dir[128], key[16];
	int i, good = 1;
	int64_t t0 = pb_clock_now_ms();
	size_t done = 0;
	pid_t pid;
	int status;

	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, NULL);
	ok(s != NULL, "open");
	if (s == NULL)
		return;
	/* time decides first: a record made "later" by the clock but put
	   first comes out last */
	pb_clock_set_fixed(t0 + 5000);
	(void)pb_spool_put(s, "k", "late", "L", 1);
	pb_clock_set_fixed(t0 + 1000);
	(void)pb_spool_put(s, "k", "early", "E", 1);
	/* another process, in between */
	pb_clock_set_fixed(t0 + 3000);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct pb_spool *c = open_spool(dir, 0, 0, NULL);
		int rc =
		    c != NULL && pb_spool_put(c, "k", "child", "C", 1) == PB_OK
		        ? 0
		        : 1;

		pb_spool_close(c);
		pb_spool_close(s); /* the parent's copy */
		_exit(rc);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0,
	   "a child process put a record");
	/* same millisecond: order of the puts */
	pb_clock_set_fixed(t0 + 4000);
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "same-%02d", i);
		(void)pb_spool_put(s, "k", key, "S", 1);
	}
	pb_clock_reset();
	seen_init(&seen);
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_OK, "replay");
	is_int(done, 53, "53 applied");
	is_str(seen.key[0], "early", "earliest time first");
	is_str(seen.key[1], "child", "the other process's record by time");
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "same-%02d", i);
		if (strcmp(seen.key[2 + i], key) != 0)
			good = 0;
	}
	ok(good, "within one millisecond: order of the puts");
	is_str(seen.key[52], "late", "latest time last");
	pb_spool_close(s);
}

static void
test_sealed(void)
{
	struct pb_spool *s, *plain, *other;
	unsigned char key[PB_CRYPTO_KEY_LEN], key2[PB_CRYPTO_KEY_LEN];
	struct seen seen;
	char dir[128], path[256], buf[4096];
	const char *pii = "{\"line\":\"01012345678\",\"name\":\"SECRET-NAME\"}";
	size_t n, done = 0;

	memset(key, 0x5a, sizeof(key));
	memset(key2, 0x33, sizeof(key2));
	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, key);
	ok(s != NULL, "open with a key");
	if (s == NULL)
		return;
	is_int(pb_spool_put(s, "bill", "req-s1", pii, strlen(pii)), PB_OK,
	       "sealed put");
	ok(first_file(dir, ".rec", path, sizeof(path)), "record file found");
	n = read_file(path, buf, sizeof(buf));
	ok(n > strlen(pii), "file holds header and sealed data");
	ok(memmem(buf, n, "01012345678", 11) == NULL &&
	       memmem(buf, n, "SECRET-NAME", 11) == NULL,
	   "personal data not in clear in the file");
	ok(strncmp(buf, "PBSPOOL1 bill req-s1 s ", 23) == 0,
	   "header: version, kind, key, sealed flag");
	seen_init(&seen);
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_OK, "replay");
	is_int(done, 1, "applied");
	is_str(seen.data[0], pii, "decrypted on replay");

	/* read by a spool without the key, or with another key: failed/ */
	(void)pb_spool_put(s, "bill", "req-s2", pii, strlen(pii));
	plain = open_spool(dir, 0, 0, NULL);
	seen_init(&seen);
	is_int(pb_spool_replay(plain, collect, &seen, 0, &done), PB_OK,
	       "replay without the key");
	is_int(seen.n, 0, "sealed record not handed to fn without the key");
	snprintf(path, sizeof(path), "%s/failed", dir);
	is_int(count_files(path, ".rec"), 1, "moved to failed/");
	ok(log_has("reason=\"sealed record but the spool has no key\""),
	   "logged why");
	(void)pb_spool_put(s, "bill", "req-s3", pii, strlen(pii));
	other = open_spool(dir, 0, 0, key2);
	seen_init(&seen);
	(void)pb_spool_replay(other, collect, &seen, 0, &done);
	is_int(seen.n, 0, "wrong key: not applied");
	is_int(count_files(path, ".rec"), 2, "wrong key: moved to failed/");
	ok(log_has("key=\"req-s3\" reason=\"cannot decrypt"),
	   "logged with the key");
	ok(!log_has("SECRET-NAME") && !log_has("01012345678"),
	   "the data never logged");
	is_int(pb_spool_pending(s), 0, "failed records are not pending");

	/* plain records written before a key was configured are read */
	(void)pb_spool_put(plain, "bill", "req-p1", "old", 3);
	seen_init(&seen);
	(void)pb_spool_replay(s, collect, &seen, 0, &done);
	ok(seen.n == 1 && strcmp(seen.data[0], "old") == 0,
	   "a plain record is read by a keyed spool");
	/* sealed before key versions (nonce || ciphertext || tag, 40 bytes of
	 * overhead, not 43): still read, its plaintext fits (crypto.h) */
	{
		unsigned char ct[256];
		unsigned long long clen = 0;
		char hdr[96];
		int fd, hl;

		randombytes_buf(ct, 24);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    ct + 24, &clen, (const unsigned char *)pii, strlen(pii),
		    NULL, 0, NULL, ct, key);
		hl = snprintf(hdr, sizeof(hdr), "PBSPOOL1 bill req-l1 s %llu\n",
		              24 + clen);
		snprintf(path, sizeof(path),
		         "%s/0000000000001-0000000001-"
		         "0000000001.rec",
		         dir);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		ok(fd >= 0 && write(fd, hdr, (size_t)hl) == hl &&
		       write(fd, ct, 24 + clen) == (ssize_t)(24 + clen),
		   "an unversioned sealed record written");
		if (fd >= 0)
			close(fd);
		seen_init(&seen);
		(void)pb_spool_replay(s, collect, &seen, 0, &done);
		ok(seen.n == 1 && strcmp(seen.data[0], pii) == 0,
		   "an unversioned sealed record is read");
	}
	pb_spool_close(other);
	pb_spool_close(plain);
	pb_spool_close(s);
}

static void
test_outcomes(void)
{
	struct pb_spool *s;
	struct seen seen;
	char dir[128], path[160];
	size_t done = 0;

	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, NULL);
	ok(s != NULL, "open");
	if (s == NULL)
		return;
	(void)pb_spool_put(s, "k", "r1", "one", 3);
	(void)pb_spool_put(s, "k", "r2", "two", 3);
	(void)pb_spool_put(s, "k", "r3", "three", 5);

	/* the destination goes away at r2 */
	seen_init(&seen);
	seen.fail_key = "r2";
	seen.fail_rc = PB_ERR_UNAVAILABLE;
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_ERR_UNAVAILABLE,
	       "UNAVAILABLE stops the replay");
	is_int(done, 1, "one applied before");
	is_int(seen.n, 1, "r3 not tried");
	is_int(pb_spool_pending(s), 2, "r2 and r3 kept");
	seen_init(&seen);
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_OK,
	       "replay when it is back");
	ok(done == 2 && strcmp(seen.key[0], "r2") == 0 &&
	       strcmp(seen.key[1], "r3") == 0,
	   "r2 then r3 applied");

	/* a record the destination refuses goes to failed/ */
	(void)pb_spool_put(s, "hist", "bad-1", "PRIVATE-DATA", 12);
	(void)pb_spool_put(s, "hist", "ok-1", "fine", 4);
	seen_init(&seen);
	seen.fail_key = "bad-1";
	seen.fail_rc = PB_ERR_PARSE;
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_OK,
	       "other errors do not stop the replay");
	ok(done == 1 && strcmp(seen.key[0], "ok-1") == 0,
	   "the next record applied");
	snprintf(path, sizeof(path), "%s/failed", dir);
	is_int(count_files(path, ".rec"), 1, "refused record in failed/");
	is_int(pb_spool_pending(s), 0, "nothing pending");
	ok(log_has("event=spool_record_failed") &&
	       log_has("kind=\"hist\" key=\"bad-1\""),
	   "logged with kind and key");
	ok(!log_has("PRIVATE-DATA"), "never the data");

	/* max per call */
	(void)pb_spool_put(s, "k", "m1", "1", 1);
	(void)pb_spool_put(s, "k", "m2", "2", 1);
	(void)pb_spool_put(s, "k", "m3", "3", 1);
	seen_init(&seen);
	(void)pb_spool_replay(s, collect, &seen, 2, &done);
	ok(done == 2 && strcmp(seen.key[0], "m1") == 0 &&
	       strcmp(seen.key[1], "m2") == 0,
	   "max 2: the two oldest");
	is_int(pb_spool_pending(s), 1, "one left");
	is_int(pb_spool_replay(s, NULL, NULL, 0, &done), PB_ERR_INVAL,
	       "NULL fn refused");
	(void)pb_spool_replay(s, collect, &seen, 0, &done);
	pb_spool_close(s);
}

static enum pb_err
apply_all(void *ud, const char *kind, const char *key, const char *data,
          size_t len)
{
	(void)ud;
	(void)kind;
	(void)key;
	(void)data;
	(void)len;
	return PB_OK;
}

static void
test_limits(void)
{
	struct pb_spool *s;
	char dir[128], big[64], k[80];
	size_t done = 0;

	s = open_spool(newdir(dir, sizeof(dir)), 3, 16, NULL);
	ok(s != NULL, "open with 3 records of 16 bytes");
	if (s == NULL)
		return;
	memset(big, 'x', sizeof(big));
	is_int(pb_spool_put(s, "", "k", "d", 1), PB_ERR_INVAL, "empty kind");
	is_int(pb_spool_put(s, "Bill", "k", "d", 1), PB_ERR_INVAL,
	       "upper case kind");
	is_int(pb_spool_put(s, "a b", "k", "d", 1), PB_ERR_INVAL,
	       "space in kind");
	is_int(pb_spool_put(s, NULL, "k", "d", 1), PB_ERR_INVAL, "NULL kind");
	memset(k, 'a', sizeof(k));
	k[PB_SPOOL_MAX_KIND] = '\0';
	is_int(pb_spool_put(s, k, "k", "d", 1), PB_ERR_INVAL,
	       "kind of PB_SPOOL_MAX_KIND characters refused");
	is_int(pb_spool_put(s, "k", "", "d", 1), PB_ERR_INVAL, "empty key");
	is_int(pb_spool_put(s, "k", "a/b", "d", 1), PB_ERR_INVAL,
	       "slash in key");
	is_int(pb_spool_put(s, "k", "a\nb", "d", 1), PB_ERR_INVAL,
	       "newline in key");
	is_int(pb_spool_put(s, "k", NULL, "d", 1), PB_ERR_INVAL, "NULL key");
	memset(k, 'a', sizeof(k));
	k[PB_SPOOL_MAX_KEY] = '\0';
	is_int(pb_spool_put(s, "k", k, "d", 1), PB_ERR_INVAL,
	       "key of 65 characters refused");
	is_int(pb_spool_put(s, "k", "r", NULL, 1), PB_ERR_INVAL,
	       "NULL data with a length");
	is_int(pb_spool_put(NULL, "k", "r", "d", 1), PB_ERR_INVAL,
	       "NULL spool");
	is_int(pb_spool_put(s, "k", "r", big, 17), PB_ERR_TOOBIG,
	       "17 bytes over max_record 16");
	ok(log_has("event=spool_record_too_big"), "too big logged");
	is_int(pb_spool_pending(s), 0, "nothing stored by refused puts");

	memset(k, 'a', sizeof(k));
	k[PB_SPOOL_MAX_KEY - 1] = '\0';
	is_int(pb_spool_put(s, "k", k, big, 16), PB_OK,
	       "64-character key (a full request id), 16 bytes");
	memset(k, 'a', sizeof(k));
	k[PB_SPOOL_MAX_KIND - 1] = '\0';
	is_int(pb_spool_put(s, k, "r", "d", 1), PB_OK, "31-character kind");
	is_int(pb_spool_put(s, "k", "r3", "d", 1), PB_OK, "third record");
	is_int(pb_spool_put(s, "k", "r4", "d", 1), PB_ERR_TOOBIG,
	       "fourth over max_records 3");
	ok(log_has("event=spool_full") && log_has("key=\"r4\""),
	   "full spool logged with the key");
	is_int(pb_spool_pending(s), 3, "still 3");
	is_int(pb_spool_replay(s, apply_all, NULL, 1, &done), PB_OK,
	       "replay one");
	is_int(pb_spool_put(s, "k", "r5", "d", 1), PB_OK,
	       "room again after a replay");
	pb_spool_close(s);
}

/* --- concurrency ------------------------------------------------------------
 */

#define NRECORDS 200
#define NCHILD 4

/* Children report each applied key on a pipe ("key\n", atomic writes). */
static int report_fd = -1;

static enum pb_err
apply_report(void *ud, const char *kind, const char *key, const char *data,
             size_t len)
{
	char line[80];
	int n;
	struct timespec ts = {0, 200000}; /* 0.2 ms: let others run */

	(void)ud;
	(void)kind;
	(void)len;
	if (strcmp(data, key) != 0)
		return PB_ERR_PARSE;
	n = snprintf(line, sizeof(line), "%s\n", key);
	if (write(report_fd, line, (size_t)n) != n)
		return PB_ERR_IO;
	nanosleep(&ts, NULL);
	return PB_OK;
}

static int
key_index(const char *key)
{
	int v;

	if (strncmp(key, "c-", 2) != 0)
		return -1;
	v = (int)strtol(key + 2, NULL, 10);
	return v >= 0 && v < NRECORDS ? v : -1;
}

static void
test_processes(void)
{
	struct pb_spool *s;
	char dir[128], key[32], buf[65536];
	int hits[NRECORDS], fds[2], i, good_children = 0, once = 1, status;
	int bad = 0;
	pid_t pids[NCHILD];
	size_t got = 0;
	ssize_t n;
	char *line, *save = NULL;

	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, NULL);
	ok(s != NULL, "open");
	if (s == NULL)
		return;
	for (i = 0; i < NRECORDS; i++) {
		snprintf(key, sizeof(key), "c-%03d", i);
		if (pb_spool_put(s, "k", key, key, strlen(key)) != PB_OK)
			bad++;
	}
	is_int(bad, 0, "200 records put");
	ok(pipe(fds) == 0, "pipe");
	fflush(stdout);
	for (i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct pb_spool *c;
			size_t done = 0;
			enum pb_err rc;

			close(fds[0]);
			pb_spool_close(s); /* the parent's copy */
			report_fd = fds[1];
			c = open_spool(dir, 0, 0, NULL);
			rc = c != NULL ? pb_spool_replay(c, apply_report, NULL,
			                                 0, &done)
			               : PB_ERR_IO;
			pb_spool_close(c);
			_exit(rc == PB_OK ? 0 : 1);
		}
	}
	close(fds[1]);
	while (got + 1 < sizeof(buf) &&
	       (n = read(fds[0], buf + got, sizeof(buf) - got - 1)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fds[0]);
	for (i = 0; i < NCHILD; i++) {
		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			good_children++;
	}
	is_int(good_children, NCHILD, "4 children replayed the same dir");
	memset(hits, 0, sizeof(hits));
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		i = key_index(line);
		if (i < 0)
			once = 0;
		else
			hits[i]++;
	}
	for (i = 0; i < NRECORDS; i++)
		if (hits[i] != 1)
			once = 0;
	ok(once, "every record applied exactly once");
	is_int(pb_spool_pending(s), 0, "nothing pending");
	snprintf(buf, sizeof(buf), "%s/failed", dir);
	is_int(count_files(buf, ""), 0, "nothing failed");
	pb_spool_close(s);
}

/* Threads of one process, each with its own pb_spool. */
struct thr {
	const char *dir;
	int *hits; /* atomic increments */
	enum pb_err rc;
};

static enum pb_err
apply_count(void *ud, const char *kind, const char *key, const char *data,
            size_t len)
{
	struct thr *t = ud;
	int i = key_index(key);

	(void)kind;
	(void)data;
	(void)len;
	if (i < 0)
		return PB_ERR_PARSE;
	__atomic_add_fetch(&t->hits[i], 1, __ATOMIC_SEQ_CST);
	return PB_OK;
}

static void *
thread_replay(void *arg)
{
	struct thr *t = arg;
	struct pb_spool *s = open_spool(t->dir, 0, 0, NULL);

	t->rc =
	    s != NULL ? pb_spool_replay(s, apply_count, t, 0, NULL) : PB_ERR_IO;
	pb_spool_close(s);
	return NULL;
}

static void
test_threads(void)
{
	struct pb_spool *s;
	struct thr t[3];
	pthread_t th[3];
	char dir[128], key[32];
	int hits[NRECORDS], i, once = 1, started = 0;

	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, NULL);
	ok(s != NULL, "open");
	if (s == NULL)
		return;
	for (i = 0; i < NRECORDS; i++) {
		snprintf(key, sizeof(key), "c-%03d", i);
		(void)pb_spool_put(s, "k", key, key, strlen(key));
	}
	memset(hits, 0, sizeof(hits));
	for (i = 0; i < 3; i++) {
		t[i].dir = dir;
		t[i].hits = hits;
		t[i].rc = PB_ERR_INTERNAL;
		if (pthread_create(&th[i], NULL, thread_replay, &t[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	is_int(started, 3, "3 threads");
	ok(t[0].rc == PB_OK && t[1].rc == PB_OK && t[2].rc == PB_OK,
	   "each replayed");
	for (i = 0; i < NRECORDS; i++)
		if (hits[i] != 1)
			once = 0;
	ok(once, "threads: every record applied exactly once");
	is_int(pb_spool_pending(s), 0, "nothing pending");
	pb_spool_close(s);
}

/* A claimant holding a record, then dying. */
static void
test_dead_claimant(void)
{
	struct pb_spool *s;
	struct seen seen;
	char dir[128], path[256];
	int sync[2], status;
	char c;
	size_t done = 0;
	pid_t pid;

	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, NULL);
	ok(s != NULL, "open");
	if (s == NULL)
		return;
	(void)pb_spool_put(s, "k", "held", "h", 1);
	ok(first_file(dir, ".rec", path, sizeof(path)), "record file");
	ok(pipe(sync) == 0, "pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int fd;

		pb_spool_close(s); /* the parent's copy */
		fd = open(path, O_RDONLY);
		/* claim it the way a replayer does, then hang */
		if (fd < 0 || flock(fd, LOCK_EX) != 0)
			_exit(1);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ok(pid > 0 && read(sync[0], &c, 1) == 1, "child claimed the record");
	seen_init(&seen);
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_OK,
	       "replay while it is claimed");
	is_int(seen.n, 0, "a claimed record is skipped");
	is_int(pb_spool_pending(s), 1, "and kept");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	seen_init(&seen);
	(void)pb_spool_replay(s, collect, &seen, 0, &done);
	ok(seen.n == 1 && strcmp(seen.key[0], "held") == 0,
	   "after the claimant died the record is replayed");
	close(sync[0]);
	close(sync[1]);
	pb_spool_close(s);
}

/* What a crash can leave: temp files, truncated or foreign files. */
static void
test_leftovers(void)
{
	struct pb_spool *s;
	struct seen seen;
	struct timespec old[2];
	char dir[128], path[256], buf[512], rec[256];
	size_t n, done = 0;

	s = open_spool(newdir(dir, sizeof(dir)), 0, 0, NULL);
	ok(s != NULL, "open");
	if (s == NULL)
		return;
	/* a half-written temp file, two minutes old, and a fresh one */
	snprintf(path, sizeof(path),
	         "%s/.tmp-0000000000001-0000000001-"
	         "0000000001.rec",
	         dir);
	ok(write_file(path, "PBSPOOL1 k half p 100\nabc", 25), "old temp");
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 120;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	ok(utimensat(AT_FDCWD, path, old, 0) == 0, "aged two minutes");
	snprintf(path, sizeof(path),
	         "%s/.tmp-0000000000002-0000000001-"
	         "0000000002.rec",
	         dir);
	ok(write_file(path, "PBSPOOL1 k fresh p 100\nab", 25), "fresh temp");
	is_int(pb_spool_pending(s), 0, "temp files are not pending");

	/* a record file cut short (header says 100 bytes, 3 follow) */
	(void)pb_spool_put(s, "k", "whole", "0123456789", 10);
	ok(first_file(dir, ".rec", rec, sizeof(rec)), "record file");
	n = read_file(rec, buf, sizeof(buf));
	ok(n > 5 && truncate(rec, (off_t)(n - 5)) == 0, "truncated by 5");
	snprintf(path, sizeof(path),
	         "%s/0000000000003-0000000001-"
	         "0000000003.rec",
	         dir);
	ok(write_file(path, "garbage without a header", 24),
	   "a garbage file with a record name");
	snprintf(path, sizeof(path),
	         "%s/0000000000004-0000000001-"
	         "0000000004.rec",
	         dir);
	ok(write_file(path, "PBSPOOL9 k v p 1\nx", 18),
	   "a record of an unknown format version");
	/* a NUL inside a header field (tests/fuzz/fuzz_spool found it
	   passing as the key before it) */
	snprintf(path, sizeof(path),
	         "%s/0000000000005-0000000001-"
	         "0000000005.rec",
	         dir);
	ok(write_file(path, "PBSPOOL1 k v\0junk p 1\nx", 23),
	   "a record with a NUL in its key field");
	(void)pb_spool_put(s, "k", "good", "g", 1);
	is_int(pb_spool_pending(s), 5, "5 record names pending");

	seen_init(&seen);
	is_int(pb_spool_replay(s, collect, &seen, 0, &done), PB_OK, "replay");
	ok(seen.n == 1 && strcmp(seen.key[0], "good") == 0,
	   "only the good record applied");
	snprintf(path, sizeof(path), "%s/failed", dir);
	is_int(count_files(path, ".rec"), 4, "the four bad ones in failed/");
	ok(log_has("key=\"whole\" reason=\"truncated or padded record\""),
	   "the truncated record logged with its key");
	ok(log_has("reason=\"unknown format version\""),
	   "the unknown version logged");
	is_int(count_files(dir, ".rec"), 1, "only the fresh temp file left");
	snprintf(path, sizeof(path),
	         "%s/.tmp-0000000000002-0000000001-"
	         "0000000002.rec",
	         dir);
	ok(access(path, F_OK) == 0, "the fresh temp file kept");
	ok(log_has("event=spool_tmp_removed"), "the old one removed, logged");
	is_int(pb_spool_pending(s), 0, "nothing pending");
	pb_spool_close(s);
}

int
main(void)
{
	if (sodium_init() < 0)
		return tap_skip_all("sodium_init failed");
	snprintf(top, sizeof(top), "/tmp/pb-test-spool-XXXXXX");
	if (mkdtemp(top) == NULL)
		return tap_skip_all("mkdtemp failed");
	snprintf(logpath, sizeof(logpath), "%s/test.log", top);
	logfd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
	pb_log_open("test_spool", logfd, PB_LOG_INFO);

	test_open();
	test_roundtrip();
	test_order();
	test_sealed();
	test_outcomes();
	test_limits();
	test_processes();
	test_threads();
	test_dead_claimant();
	test_leftovers();

	pb_log_open("test_spool", -1, PB_LOG_INFO);
	if (logfd >= 0)
		close(logfd);
	rmtree(top);
	return tap_done();
}
