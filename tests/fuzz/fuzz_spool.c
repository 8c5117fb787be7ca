/*
 * fuzz_spool.c - libFuzzer target for the spool's record reader
 * (lib/io/spool.c: the header line, the length check, sealed data).
 *
 * The first input byte picks a mode, the rest is the payload:
 *   0: the payload is a record file, replayed from a spool without a key;
 *   1: the same with a key (sealed records are opened);
 *   2: the payload is stored with pb_spool_put in the keyed spool and
 *      replayed; 3: the same without a key.
 * Properties checked (abort() on violation, so libFuzzer keeps the input):
 *   - replay never crashes or over-reads, whatever the file holds;
 *   - the callback gets a valid kind and key and NUL-terminated data;
 *     for a plain record file, data is the file's tail and the header
 *     names the same kind and key;
 *   - afterwards nothing is pending: the record was applied (deleted) or
 *     moved to failed/, exactly one of the two;
 *   - modes 2 and 3 give back exactly what was stored.
 * The spools live in /dev/shm/fuzz_spool.<pid> (or under TMPDIR), removed
 * at exit or by the next run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "0000000000001-0000000001-0000000001.rec"
#define MAX_RECORD 1024 /* bytes: small, so that the limit is reached */

static char base[64], dirs[2][96];
static struct pb_spool *spools[2]; /* [0] no key, [1] sealed */

struct seen {
	const uint8_t *want; /* roundtrip: what was stored; else NULL */
	size_t want_len;
	const uint8_t *file; /* record file mode: its bytes */
	size_t file_len;
	int calls;
	int refused; /* the callback asked for failed/ */
};

/* Remove the files in dir (not below); how many there were. */
static int
empty_dir(const char *dir)
{
	char p[192];
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_type != DT_REG)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The records moved to dir/failed/, removed; how many there were. */
static int
drain(const char *dir)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/failed", dir);
	return empty_dir(p);
}

/* Remove the spool tree under b (two spools, each with failed/). */
static void
rm_tree(const char *b)
{
	static const char *const sub[] = {"plain/failed", "plain",
	                                  "sealed/failed", "sealed", ""};
	char p[128];
	size_t i;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", b, sub[i]);
		empty_dir(p);
		rmdir(p);
	}
}

/* libFuzzer ends with _Exit (no atexit): the trees of runs that are gone
   are removed by the next run. */
static void
rm_stale(const char *parent)
{
	char p[128];
	struct dirent *e;
	DIR *d = opendir(parent);
	long pid;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "fuzz_spool.", 11) != 0)
			continue;
		pid = strtol(e->d_name + 11, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			snprintf(p, sizeof(p), "%s/%s", parent, e->d_name);
			rm_tree(p);
		}
	}
	closedir(d);
}

static void
at_exit(void)
{
	pb_spool_close(spools[0]);
	pb_spool_close(spools[1]);
	rm_tree(base);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct pb_spool_opts o;
	const char *tmp = getenv("TMPDIR"), *parent;
	int i, devnull;

	(void)argc;
	(void)argv;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pb_log_open("fuzz_spool", devnull, PB_LOG_ERROR);
	/* tmpfs: the spool fsyncs every record */
	parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
	         : tmp != NULL                 ? tmp
	                                       : "/tmp";
	rm_stale(parent);
	snprintf(base, sizeof(base), "%s/fuzz_spool.%ld", parent,
	         (long)getpid());
	rm_tree(base);
	if (mkdir(base, 0700) != 0)
		abort();
	for (i = 0; i < 2; i++) {
		snprintf(dirs[i], sizeof(dirs[i]), "%s/%s", base,
		         i ? "sealed" : "plain");
		memset(&o, 0, sizeof(o));
		o.dir = dirs[i];
		o.max_record = MAX_RECORD;
		o.key = i ? key : NULL;
		if (pb_spool_open(&o, &spools[i]) != PB_OK)
			abort();
	}
	atexit(at_exit);
	return 0;
}

static int
name_ok(const char *s, const char *extra)
{
	size_t n = strlen(s);

	return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") +
	                        strspn(s, extra) >=
	                    n;
}

static enum pb_err
on_record(void *ud, const char *kind, const char *key, const char *data,
          size_t len)
{
	struct seen *sn = ud;
	char hdr[160];
	int n;

	sn->calls++;
	if (!name_ok(kind, "") || strlen(kind) >= PB_SPOOL_MAX_KIND ||
	    strlen(key) >= PB_SPOOL_MAX_KEY || len > MAX_RECORD ||
	    data[len] != '\0')
		abort();
	if (sn->want != NULL &&
	    (len != sn->want_len || memcmp(data, sn->want, len) != 0))
		abort();
	if (sn->file != NULL) {
		n = snprintf(hdr, sizeof(hdr), "PBSPOOL1 %s %s ", kind, key);
		if (n < 0 || (size_t)n >= sizeof(hdr) ||
		    sn->file_len < (size_t)n + len ||
		    memcmp(sn->file, hdr, (size_t)n) != 0)
			abort();
		/* plain: the data is the file's tail */
		if (sn->file[n] == 'p' &&
		    memcmp(sn->file + sn->file_len - len, data, len) != 0)
			abort();
	}
	if (len > 0 && data[0] == '!') {
		sn->refused = 1;
		return PB_ERR_INVAL; /* to failed/ */
	}
	return PB_OK;
}

static void
write_record(const char *dir, const uint8_t *p, size_t n)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, NAME);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen sn;
	size_t done = 0;
	int mode, sealed, failed;

	if (size < 1 || size > 4096)
		return 0;
	mode = data[0] % 4;
	sealed = mode == 1 || mode == 2;
	memset(&sn, 0, sizeof(sn));
	if (mode <= 1) {
		sn.file = data + 1;
		sn.file_len = size - 1;
		write_record(dirs[sealed], data + 1, size - 1);
	} else {
		sn.want = data + 1;
		sn.want_len = size - 1;
		if (pb_spool_put(spools[sealed], "fuzz", "k-1", data + 1,
		                 size - 1) != PB_OK) {
			if (size - 1 <= MAX_RECORD)
				abort(); /* a record within limits is stored */
			return 0;
		}
	}
	if (pb_spool_replay(spools[sealed], on_record, &sn, 0, &done) != PB_OK)
		abort();
	failed = drain(dirs[sealed]);
	if (failed > 1 || pb_spool_pending(spools[sealed]) != 0 ||
	    sn.calls > 1 || done != (size_t)(sn.calls - sn.refused) ||
	    (done == 1) == failed)
		abort();
	if (mode >= 2 && sn.calls != 1)
		abort(); /* what was put comes back */
	return 0;
}
