/*
 * breaker.c - a circuit breaker shared by the host's processes (breaker.h).
 *
 * The state file is one struct shared_state, mapped MAP_SHARED by every
 * process: a header (magic, version, layout size, group count, bucket
 * width), one robust process-shared mutex, and PB_BREAKER_MAX_GROUPS
 * groups.  Each group holds its state, a generation bumped at every
 * transition, open_until, a ring of NBUCKETS time buckets for the sliding
 * window, NPERMITS half-open permit slots {pid, acquired_at} and the
 * transitions/rejected counters.  After the groups, the host-wide
 * bulkhead: NSLOTS slots {pid, group, started_at} and its rejected count.
 *
 * Creation and validation run under flock(2) on the file.  A file that
 * is not a valid breaker file for our names and layout is never rewritten
 * in place (an older binary may still have it mapped and be using its
 * mutex): a fresh file is built under a temporary name, its magic written
 * last, and rename(2)d over the path.  Processes waiting for the flock of
 * the old file notice the inode changed and start again.
 *
 * Every change under the mutex is a handful of ordered stores (the state
 * word last), so when a holder dies (EOWNERDEAD) the state is still
 * usable and we only mark the mutex consistent.  No I/O or logging under
 * the mutex; transitions are logged after unlocking.
 *
 * Stale releases: a ticket whose generation is not the group's current
 * generation (some transition happened since its acquire) is ignored
 * entirely: not counted in the window, no state decision.  A half-open
 * probe whose permit lapsed (TTL or holder declared dead) but whose
 * generation still matches reopens the breaker on FAILURE; its SUCCESS is
 * not counted towards closing (the permit went to another probe).  A
 * probe that held its permit and took slow_call_ms or more reopens it.
 *
 * Monotonic times in the file are only meaningful within one boot; keep
 * the file on a tmpfs (/run).  Values from the future are clamped anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "breaker.h"
#include "buf.h"
#include "clock.h"
#include "log.h"

#define MAGIC UINT64_C(0x31524b4252425050) /* "PPBRBKR1" little-endian */
#define LAYOUT_VERSION 2                   /* 2: slow runs and the bulkhead */
#define NBUCKETS 120                       /* buckets in the ring */
/* half-open permits a group can hold */
#define NPERMITS PB_BREAKER_MAX_PERMITS
#define NSLOTS PB_BREAKER_MAX_SLOTS /* bulkhead slots of the host */
#define FULL_RETRY_MS 1000      /* ms, Retry-After when the bulkhead is full */
#define SLOT_NAP_MS 2           /* ms between looks for a slot while waiting */
#define MIN_RETRY_MS 1000       /* ms, least Retry-After when open */
#define HALF_OPEN_RETRY_MS 1000 /* ms, Retry-After when every permit is out */
#define OPEN_TRIES 8            /* attempts when the file is being replaced */
#define TMP_PATH_MAX 4096       /* bytes, the temporary file's name */

struct bucket {
	int64_t start_ms; /* monotonic ms this bucket's slice began */
	uint32_t calls;
	uint32_t failures;
	uint32_t slow;
	uint32_t pad;
};

struct permit {
	int64_t pid;         /* holder; 0 = free */
	int64_t acquired_ms; /* monotonic ms */
};

struct slot {
	int64_t pid;         /* holder; 0 = free */
	int64_t started_ms;  /* monotonic ms */
	int64_t group;       /* the holder's group */
	int64_t compartment; /* the holder's bulkhead_compartment */
};

struct group {
	char name[PB_BREAKER_NAME_MAX];
	uint32_t state;     /* enum pb_breaker_state */
	uint32_t probes_ok; /* successful probes in this half-open period */
	uint32_t slow_run;  /* slow calls in a row (CLOSED) */
	uint32_t pad;
	uint64_t generation;   /* bumped at every transition */
	int64_t open_until_ms; /* monotonic ms */
	uint64_t transitions;
	uint64_t rejected;
	struct permit permits[NPERMITS];
	struct bucket buckets[NBUCKETS];
};

struct shared_state {
	uint64_t magic; /* written last at creation */
	uint32_t version;
	uint32_t size; /* bytes, sizeof(struct shared_state) */
	uint32_t ngroups;
	uint32_t bucket_ms; /* ms per bucket, fixed when the file is made */
	pthread_mutex_t mu;
	struct group g[PB_BREAKER_MAX_GROUPS];
	struct slot slots[NSLOTS];
	uint64_t bulkhead_rejected;
};

struct pb_breaker {
	struct shared_state *s;
	int ngroups;
	int64_t window_ms; /* opts.window_ms capped to the ring's span */
	struct pb_breaker_opts o;
};

/* A transition decided under the lock, logged after it. */
struct change {
	int changed;
	int group; /* the group that changed */
	enum pb_breaker_state from, to;
	unsigned calls, failures, slow, run;
};

const char *
pb_breaker_state_name(enum pb_breaker_state s)
{
	switch (s) {
	case PB_BREAKER_CLOSED:
		return "CLOSED";
	case PB_BREAKER_OPEN:
		return "OPEN";
	case PB_BREAKER_HALF_OPEN:
		return "HALF_OPEN";
	}
	return "UNKNOWN";
}

static void
apply_defaults(const struct pb_breaker_opts *in, struct pb_breaker_opts *o)
{
	if (in != NULL)
		*o = *in;
	else
		memset(o, 0, sizeof(*o));
	if (o->window_ms == 0)
		o->window_ms = 60000;
	if (o->min_calls == 0)
		o->min_calls = 10;
	if (o->failure_pct == 0)
		o->failure_pct = 50;
	if (o->slow_call_ms == 0)
		o->slow_call_ms = 3000;
	if (o->slow_pct == 0)
		o->slow_pct = 80;
	if (o->open_ms == 0)
		o->open_ms = 30000;
	if (o->half_open_permits == 0)
		o->half_open_permits = 3;
	if (o->permit_ttl_ms == 0)
		o->permit_ttl_ms = 10000;
	if (o->bulkhead_ttl_ms == 0)
		o->bulkhead_ttl_ms = 10000;
}

static int
opts_valid(const struct pb_breaker_opts *o)
{
	/* one day (ms) is far beyond any sane setting and keeps sums small */
	const int64_t day = 24LL * 3600 * 1000;

	return o->window_ms > 0 && o->window_ms <= day &&
	       o->failure_pct <= 100 && o->slow_pct <= 100 &&
	       o->slow_call_ms > 0 && o->slow_call_ms <= day &&
	       o->open_ms > 0 && o->open_ms <= day &&
	       o->half_open_permits <= NPERMITS && o->permit_ttl_ms > 0 &&
	       o->permit_ttl_ms <= day && o->probe_timeout_ms >= 0 &&
	       o->probe_timeout_ms <= day && o->bulkhead_max <= NSLOTS &&
	       o->bulkhead_ttl_ms > 0 && o->bulkhead_ttl_ms <= day &&
	       o->bulkhead_wait_ms >= 0 && o->bulkhead_wait_ms <= day;
}

static int
names_valid(const char *const *names, size_t n)
{
	size_t i, j, len;

	if (names == NULL || n == 0 || n > PB_BREAKER_MAX_GROUPS)
		return 0;
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			return 0;
		len = strlen(names[i]);
		if (len == 0 || len >= PB_BREAKER_NAME_MAX)
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return 0;
	}
	return 1;
}

static int
header_valid(const struct shared_state *s, const char *const *names, size_t n)
{
	size_t i;

	if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != MAGIC ||
	    s->version != LAYOUT_VERSION || s->size != sizeof(*s) ||
	    s->ngroups != n || s->bucket_ms == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (memchr(s->g[i].name, '\0', PB_BREAKER_NAME_MAX) == NULL ||
		    strcmp(s->g[i].name, names[i]) != 0)
			return 0;
	return 1;
}

/* Fill a zeroed mapping; the magic goes in last. */
static enum pb_err
init_shared(struct shared_state *s, const char *const *names, size_t n,
            uint32_t bucket_ms)
{
	pthread_mutexattr_t a;
	enum pb_err rc = PB_ERR_INTERNAL;
	size_t i;

	if (pthread_mutexattr_init(&a) != 0)
		return PB_ERR_INTERNAL;
	if (pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&s->mu, &a) != 0)
		goto out;
	s->version = LAYOUT_VERSION;
	s->size = sizeof(*s);
	s->ngroups = (uint32_t)n;
	s->bucket_ms = bucket_ms;
	for (i = 0; i < n; i++) {
		(void)pb_strlcpy(s->g[i].name, names[i], PB_BREAKER_NAME_MAX);
		s->g[i].state = PB_BREAKER_CLOSED;
	}
	__atomic_store_n(&s->magic, MAGIC, __ATOMIC_RELEASE);
	rc = PB_OK;
out:
	pthread_mutexattr_destroy(&a);
	return rc;
}

/*
 * Build a valid file under a temporary name and rename it over path.
 * The caller holds the flock of the file it found at path.
 */
static enum pb_err
replace_file(const char *path, const char *const *names, size_t n,
             uint32_t bucket_ms)
{
	char tmp[TMP_PATH_MAX];
	struct shared_state *s = MAP_FAILED;
	enum pb_err rc = PB_ERR_IO;
	int fd = -1, len;

	len = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (len < 0 || (size_t)len >= sizeof(tmp))
		return PB_ERR_TOOBIG;
	(void)unlink(tmp); /* left by an earlier process with our pid */
	fd =
	    open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	if (ftruncate(fd, (off_t)sizeof(*s)) != 0)
		goto out;
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		goto out;
	rc = init_shared(s, names, n, bucket_ms);
	if (rc != PB_OK)
		goto out;
	if (rename(tmp, path) != 0) {
		rc = PB_ERR_IO;
		goto out;
	}
	rc = PB_OK;
out:
	if (s != MAP_FAILED)
		munmap(s, sizeof(*s));
	if (fd >= 0)
		close(fd);
	if (rc != PB_OK && fd >= 0)
		(void)unlink(tmp);
	return rc;
}

/*
 * Map the shared state at path: a valid file as it is, any other file
 * (or none) replaced by a fresh one under the flock of the file found,
 * at most OPEN_TRIES times when another process replaces it meanwhile.
 * *replaced is set when a file with content was replaced.
 */
static enum pb_err
map_state(const char *path, const char *const *names, size_t ngroups,
          uint32_t bucket_ms, struct shared_state **out, int *replaced)
{
	struct shared_state *s = MAP_FAILED;
	struct stat st, pst;
	enum pb_err rc = PB_ERR_IO;
	int fd = -1, tries;

	for (tries = 0; tries < OPEN_TRIES && s == MAP_FAILED; tries++) {
		rc = PB_ERR_IO;
		fd =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0)
			goto out;
		if (stat(path, &pst) != 0 || pst.st_ino != st.st_ino ||
		    pst.st_dev != st.st_dev) {
			close(fd); /* replaced while we waited: again */
			fd = -1;
			continue;
		}
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			rc = PB_ERR_CONFIG; /* not ours: do not touch it */
			goto out;
		}
		if (st.st_size == (off_t)sizeof(*s)) {
			s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
			         MAP_SHARED, fd, 0);
			if (s == MAP_FAILED)
				goto out;
			if (header_valid(s, names, ngroups))
				break;
			munmap(s, sizeof(*s));
			s = MAP_FAILED;
		}
		*replaced |= st.st_size != 0;
		rc = replace_file(path, names, ngroups, bucket_ms);
		if (rc != PB_OK)
			goto out;
		close(fd); /* drops the flock; others retry */
		fd = -1;
	}
	rc = s != MAP_FAILED ? PB_OK : PB_ERR_IO;
	*out = s;
out:
	/* explicitly: the mapping keeps the open file, and so the flock */
	if (fd >= 0) {
		(void)flock(fd, LOCK_UN);
		close(fd);
	}
	return rc;
}

enum pb_err
pb_breaker_open(const char *path, const char *const *names, size_t ngroups,
                const struct pb_breaker_opts *opts, struct pb_breaker **out)
{
	struct pb_breaker *b = NULL;
	struct shared_state *s = MAP_FAILED;
	enum pb_err rc = PB_ERR_INVAL;
	int64_t bucket_ms, span;
	int replaced = 0;

	if (out == NULL)
		return PB_ERR_INVAL;
	*out = NULL;
	if (path == NULL || *path == '\0' || !names_valid(names, ngroups))
		goto out;
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	apply_defaults(opts, &b->o);
	if (!opts_valid(&b->o))
		goto out;
	/* the ring covers the window: ceil(window / NBUCKETS) ms per bucket */
	bucket_ms = (b->o.window_ms + NBUCKETS - 1) / NBUCKETS;
	rc =
	    map_state(path, names, ngroups, (uint32_t)bucket_ms, &s, &replaced);
	if (rc != PB_OK)
		goto out;
	b->s = s;
	s = MAP_FAILED;
	b->ngroups = (int)ngroups;
	span = (int64_t)b->s->bucket_ms * NBUCKETS;
	b->window_ms = b->o.window_ms < span ? b->o.window_ms : span;
	*out = b;
	b = NULL;
	rc = PB_OK;
out:
	if (s != MAP_FAILED)
		munmap(s, sizeof(*s));
	free(b);
	if (rc == PB_OK && replaced) {
		struct pb_logline l;

		pb_log_begin(&l, PB_LOG_WARN, "breaker_reinit");
		pb_log_str(&l, "path", path);
		pb_log_end(&l);
	}
	return rc;
}

void
pb_breaker_close(struct pb_breaker *b)
{
	if (b == NULL)
		return;
	munmap(b->s, sizeof(*b->s));
	free(b);
}

int
pb_breaker_group(const struct pb_breaker *b, const char *name)
{
	int i;

	if (b == NULL || name == NULL)
		return -1;
	for (i = 0; i < b->ngroups; i++)
		if (strcmp(b->s->g[i].name, name) == 0)
			return i;
	return -1;
}

static int
lock(struct pb_breaker *b)
{
	int rc = pthread_mutex_lock(&b->s->mu);

	/* the holder died mid-update; every update leaves valid state */
	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(&b->s->mu);
	return rc;
}

static void
unlock(struct pb_breaker *b)
{
	pthread_mutex_unlock(&b->s->mu);
}

/* Whether something held by pid since at_ms is free again (never held,
 * lapsed after ttl_ms, or its holder is gone). */
static int
held_free(int64_t pid, int64_t at_ms, int64_t now, int64_t ttl_ms)
{
	if (pid <= 0)
		return 1;
	if (now - at_ms >= ttl_ms || at_ms > now)
		return 1;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* Whether a permit slot may be handed out (free, lapsed or orphaned). */
static int
permit_free(const struct permit *p, int64_t now, int64_t ttl_ms)
{
	return held_free(p->pid, p->acquired_ms, now, ttl_ms);
}

static int
slot_free(const struct pb_breaker *b, const struct slot *k, int64_t now)
{
	return held_free(k->pid, k->started_ms, now, b->o.bulkhead_ttl_ms);
}

/* A slot held by a call of our compartment (free ones are not ours). */
static int
slot_ours(const struct pb_breaker *b, const struct slot *k, int64_t now)
{
	return k->compartment == (int64_t)b->o.bulkhead_compartment &&
	       !slot_free(b, k, now);
}

/* Index of a free slot, or -1 when our compartment holds bulkhead_max. */
static int
find_slot(const struct pb_breaker *b, int64_t now)
{
	unsigned i, used = 0;
	int first = -1;

	for (i = 0; i < NSLOTS; i++) {
		if (slot_free(b, &b->s->slots[i], now)) {
			if (first < 0)
				first = (int)i;
		} else if (b->s->slots[i].compartment ==
		           (int64_t)b->o.bulkhead_compartment) {
			used++;
		}
	}
	return used < b->o.bulkhead_max ? first : -1;
}

/*
 * Under the lock: whether every call holding a slot of ours looks healthy
 * (younger than bulkhead_wait_ms, its group CLOSED): only then is a slot
 * worth waiting for.  The patience is counted from the holder's start,
 * not the waiter's: once a holder has run bulkhead_wait_ms, KOS is not
 * answering as it does and nobody waits, so a fresh hang parks a process
 * for bulkhead_wait_ms at most, once.  A probe of a half-open group is no
 * sign of health.
 */
static int
holders_healthy(const struct pb_breaker *b, int64_t now)
{
	const struct slot *k;
	unsigned i;

	for (i = 0; i < NSLOTS; i++) {
		k = &b->s->slots[i];
		if (!slot_ours(b, k, now))
			continue;
		if (now - k->started_ms >= b->o.bulkhead_wait_ms ||
		    now - k->started_ms >= b->o.slow_call_ms || k->group < 0 ||
		    k->group >= b->ngroups ||
		    b->s->g[k->group].state != PB_BREAKER_CLOSED)
			return 0;
	}
	return 1;
}

/* Under the lock: a slot of ours held past slow_call_ms, or NULL. */
static const struct slot *
overdue_slot(const struct pb_breaker *b, int64_t now)
{
	const struct slot *k;
	unsigned i;

	for (i = 0; i < NSLOTS; i++) {
		k = &b->s->slots[i];
		if (slot_ours(b, k, now) &&
		    now - k->started_ms >= b->o.slow_call_ms)
			return k;
	}
	return NULL;
}

static void
window_sum(const struct pb_breaker *b, const struct group *g, int64_t now,
           unsigned *calls, unsigned *failures, unsigned *slow)
{
	int64_t w = b->s->bucket_ms;
	const struct bucket *k;
	int i;

	*calls = *failures = *slow = 0;
	for (i = 0; i < NBUCKETS; i++) {
		k = &g->buckets[i];
		/* a bucket counts while any part of it is inside the window */
		if (k->start_ms <= now &&
		    k->start_ms + w > now - b->window_ms) {
			*calls += k->calls;
			*failures += k->failures;
			*slow += k->slow;
		}
	}
}

static void
record(const struct pb_breaker *b, struct group *g, int64_t now, int failure,
       int slow)
{
	int64_t w = b->s->bucket_ms;
	struct bucket *k = &g->buckets[(now / w) % NBUCKETS];

	if (k->start_ms != now - now % w) {
		k->calls = k->failures = k->slow = 0;
		k->start_ms = now - now % w;
	}
	k->calls++;
	k->failures += failure != 0;
	k->slow += slow != 0;
}

/* Under the lock.  Callers set open_until_ms first when going OPEN. */
static void
set_state(struct group *g, enum pb_breaker_state to, struct change *c)
{
	c->changed = 1;
	c->from = (enum pb_breaker_state)g->state;
	c->to = to;
	c->run = g->slow_run;
	memset(g->permits, 0, sizeof(g->permits));
	g->probes_ok = 0;
	g->slow_run = 0;
	if (to == PB_BREAKER_CLOSED)
		memset(g->buckets, 0, sizeof(g->buckets));
	g->generation++;
	g->transitions++;
	g->state = to;
}

/*
 * Under the lock: one more slow call in g's run; the run reaching
 * consecutive_slow opens a CLOSED breaker whatever the window says (a long
 * healthy history must not hide a fresh hang).
 */
static void
slow_run_add(const struct pb_breaker *b, int group, int64_t now,
             struct change *c)
{
	struct group *g = &b->s->g[group];

	g->slow_run++;
	if (b->o.consecutive_slow == 0 || g->slow_run < b->o.consecutive_slow ||
	    g->state != PB_BREAKER_CLOSED)
		return;
	window_sum(b, g, now, &c->calls, &c->failures, &c->slow);
	c->group = group;
	g->open_until_ms = now + b->o.open_ms;
	set_state(g, PB_BREAKER_OPEN, c);
}

/*
 * Under the lock: the bulkhead refused a call.  When a slot is held by a
 * call already past slow_call_ms, the refused call would have waited on
 * the same slow KOS: one more slow call in the holder group's run.
 */
static void
shed(struct pb_breaker *b, int64_t now, struct change *c)
{
	const struct slot *k = overdue_slot(b, now);

	b->s->bulkhead_rejected++;
	if (k != NULL && k->group >= 0 && k->group < b->ngroups)
		slow_run_add(b, (int)k->group, now, c);
}

static void
log_change(const struct pb_breaker *b, int group, const struct change *c)
{
	struct pb_logline l;

	pb_log_begin(&l, c->to == PB_BREAKER_OPEN ? PB_LOG_WARN : PB_LOG_INFO,
	             "breaker_transition");
	pb_log_str(&l, "group", b->s->g[group].name);
	pb_log_str(&l, "from", pb_breaker_state_name(c->from));
	pb_log_str(&l, "to", pb_breaker_state_name(c->to));
	if (c->to == PB_BREAKER_OPEN) {
		pb_log_int(&l, "calls", c->calls);
		pb_log_int(&l, "failures", c->failures);
		pb_log_int(&l, "slow", c->slow);
		pb_log_int(&l, "slow_run", c->run);
		pb_log_int(&l, "open_ms", b->o.open_ms);
	}
	pb_log_end(&l);
}

/* Under the lock, group HALF_OPEN: take a permit; 0 when all are out. */
static int
take_permit(struct pb_breaker *b, struct group *g, int64_t now)
{
	unsigned i;

	for (i = 0; i < b->o.half_open_permits; i++) {
		if (permit_free(&g->permits[i], now, b->o.permit_ttl_ms)) {
			g->permits[i].acquired_ms = now;
			g->permits[i].pid = getpid();
			return 1;
		}
	}
	return 0;
}

/*
 * One try.  When the bulkhead is full, may_wait is set, our group is
 * CLOSED and every holder looks healthy (KOS answers, we are only busy),
 * nothing is counted and *again is set: the caller may look again soon.
 */
static enum pb_err
acquire_once(struct pb_breaker *b, int group, struct pb_breaker_ticket *t,
             int64_t *retry, int may_wait, int *again)
{
	struct change c = {0};
	struct group *g = &b->s->g[group];
	enum pb_err rc = PB_ERR_UNAVAILABLE;
	int64_t now = pb_clock_mono_ms();
	int slot = -1;

	*again = 0;
	c.group = group;
	if (lock(b) != 0)
		return PB_ERR_INTERNAL;
	if (g->state > PB_BREAKER_HALF_OPEN)
		g->state = PB_BREAKER_CLOSED; /* a damaged file */
	t->refused = PB_BREAKER_REFUSED_OPEN;
	if (g->state == PB_BREAKER_OPEN) {
		/* open_until from another boot's clock would be far ahead */
		if (g->open_until_ms > now + b->o.open_ms)
			g->open_until_ms = now + b->o.open_ms;
		if (now < g->open_until_ms) {
			g->rejected++;
			*retry = g->open_until_ms - now;
			if (*retry < MIN_RETRY_MS)
				*retry = MIN_RETRY_MS;
			goto out;
		}
		set_state(g, PB_BREAKER_HALF_OPEN, &c);
	}
	if (b->o.bulkhead_max > 0) {
		slot = find_slot(b, now);
		if (slot < 0) {
			t->refused = PB_BREAKER_REFUSED_FULL;
			*retry = FULL_RETRY_MS;
			if (may_wait && g->state == PB_BREAKER_CLOSED &&
			    holders_healthy(b, now))
				*again = 1;
			else
				shed(b, now, &c);
			goto out;
		}
	}
	if (g->state == PB_BREAKER_HALF_OPEN) {
		if (!take_permit(b, g, now)) {
			g->rejected++;
			*retry = HALF_OPEN_RETRY_MS;
			goto out;
		}
		t->probe = 1;
		t->timeout_ms = b->o.probe_timeout_ms;
	}
	if (slot >= 0) {
		b->s->slots[slot].group = group;
		b->s->slots[slot].compartment = b->o.bulkhead_compartment;
		b->s->slots[slot].started_ms = now;
		b->s->slots[slot].pid = getpid();
	}
	t->refused = PB_BREAKER_REFUSED_NONE;
	t->slot = slot;
	t->slot_ms = now;
	t->group = group;
	t->generation = g->generation;
	t->start_ms = now;
	rc = PB_OK;
out:
	unlock(b);
	if (c.changed)
		log_change(b, c.group, &c);
	return rc;
}

enum pb_err
pb_breaker_acquire(struct pb_breaker *b, int group, struct pb_breaker_ticket *t,
                   int64_t *retry_after_ms)
{
	struct timespec nap = {0, SLOT_NAP_MS * 1000000L};
	enum pb_err rc;
	int64_t retry = 0, until;
	int again;

	if (retry_after_ms != NULL)
		*retry_after_ms = 0;
	if (t != NULL) {
		memset(t, 0, sizeof(*t));
		t->group = -1;
		t->slot = -1;
	}
	if (b == NULL || t == NULL || group < 0 || group >= b->ngroups)
		return PB_ERR_INVAL;
	until = pb_clock_mono_ms() + b->o.bulkhead_wait_ms;
	for (;;) {
		rc = acquire_once(b, group, t, &retry,
		                  pb_clock_mono_ms() < until, &again);
		if (!again)
			break;
		(void)nanosleep(&nap, NULL);
	}
	if (retry_after_ms != NULL)
		*retry_after_ms = retry;
	return rc;
}

/* Under the lock: a CLOSED group's call ended; judge the run and rates. */
static void
judge_closed(struct pb_breaker *b, int group, int64_t now, int failure,
             int slow, int long_call, struct change *c)
{
	struct group *g = &b->s->g[group];

	c->group = group;
	record(b, g, now, failure, slow);
	if (!long_call)
		g->slow_run = 0; /* a fast answer (or fast failure) */
	else
		slow_run_add(b, group, now, c);
	if (g->state != PB_BREAKER_CLOSED || (!failure && !slow))
		return; /* opened, or cannot push a rate up */
	window_sum(b, g, now, &c->calls, &c->failures, &c->slow);
	if (c->calls >= b->o.min_calls &&
	    ((uint64_t)c->failures * 100 >=
	         (uint64_t)b->o.failure_pct * c->calls ||
	     (uint64_t)c->slow * 100 >= (uint64_t)b->o.slow_pct * c->calls)) {
		g->open_until_ms = now + b->o.open_ms;
		set_state(g, PB_BREAKER_OPEN, c);
	}
}

void
pb_breaker_release(struct pb_breaker *b, struct pb_breaker_ticket *t,
                   enum pb_breaker_outcome outcome)
{
	struct change c = {0};
	struct group *g;
	struct slot *k;
	int64_t now, pid;
	int failure, slow, long_call, held = 0, i;

	if (b == NULL || t == NULL || t->group < 0 || t->group >= b->ngroups)
		return;
	g = &b->s->g[t->group];
	now = pb_clock_mono_ms();
	pid = getpid();
	failure = outcome != PB_BREAKER_SUCCESS;
	long_call = now - t->start_ms >= b->o.slow_call_ms;
	slow = !failure && long_call;
	if (lock(b) != 0)
		goto out;
	if (t->slot >= 0 && t->slot < NSLOTS) {
		k = &b->s->slots[t->slot];
		if (k->pid == pid && k->started_ms == t->slot_ms)
			k->pid = 0; /* ours (a lapsed slot may be another's) */
	}
	if (t->generation != g->generation)
		goto unlock; /* stale: a transition came between */
	if (g->state == PB_BREAKER_CLOSED && !t->probe) {
		judge_closed(b, t->group, now, failure, slow, long_call, &c);
	} else if (g->state == PB_BREAKER_HALF_OPEN && t->probe) {
		for (i = 0; i < NPERMITS && !held; i++) {
			if (g->permits[i].pid == pid &&
			    g->permits[i].acquired_ms == t->start_ms) {
				g->permits[i].pid = 0;
				held = 1;
			}
		}
		c.group = t->group;
		if (failure || (held && long_call)) {
			/* a slow probe is no proof of health either (a lapsed
			   one's permit went to another probe, which decides) */
			g->open_until_ms = now + b->o.open_ms;
			set_state(g, PB_BREAKER_OPEN, &c);
		} else if (held && ++g->probes_ok >= b->o.half_open_permits) {
			set_state(g, PB_BREAKER_CLOSED, &c);
		}
	}
unlock:
	unlock(b);
	if (c.changed)
		log_change(b, c.group, &c);
out:
	t->group = -1; /* a second release is a no-op */
	t->slot = -1;
}

/* Under the lock: whether group's breaker is not CLOSED (1) or a call of
 * group holding a slot has run slow_call_ms (2); 0 when neither. */
static int
slow_locked(const struct pb_breaker *b, int group, int64_t now)
{
	const struct slot *k;
	unsigned i;

	if (b->s->g[group].state != PB_BREAKER_CLOSED)
		return 1;
	for (i = 0; i < NSLOTS; i++) {
		k = &b->s->slots[i];
		if (k->group == group && !slot_free(b, k, now) &&
		    now - k->started_ms >= b->o.slow_call_ms)
			return 2;
	}
	return 0;
}

static int
slow_now(struct pb_breaker *b, int group, int count)
{
	struct change c = {0};
	int64_t now;
	int slow;

	if (b == NULL || group < 0 || group >= b->ngroups)
		return 0;
	now = pb_clock_mono_ms();
	if (lock(b) != 0)
		return 0;
	slow = slow_locked(b, group, now);
	if (slow == 2 && count)
		slow_run_add(b, group, now, &c);
	unlock(b);
	if (c.changed)
		log_change(b, group, &c);
	return slow != 0;
}

int
pb_breaker_slow_now(struct pb_breaker *b, int group)
{
	return slow_now(b, group, 0);
}

int
pb_breaker_give_up(struct pb_breaker *b, int group)
{
	return slow_now(b, group, 1);
}

enum pb_err
pb_breaker_stats(struct pb_breaker *b, int group, struct pb_breaker_stats *out)
{
	struct group *g;
	int64_t now;
	unsigned i;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (b == NULL || out == NULL || group < 0 || group >= b->ngroups)
		return PB_ERR_INVAL;
	g = &b->s->g[group];
	now = pb_clock_mono_ms();
	if (lock(b) != 0)
		return PB_ERR_INTERNAL;
	out->state = (enum pb_breaker_state)g->state;
	window_sum(b, g, now, &out->calls, &out->failures, &out->slow);
	if (g->state == PB_BREAKER_HALF_OPEN)
		for (i = 0; i < b->o.half_open_permits; i++)
			out->permits_in_use += !permit_free(&g->permits[i], now,
			                                    b->o.permit_ttl_ms);
	if (g->state == PB_BREAKER_OPEN)
		out->open_until_ms = g->open_until_ms;
	out->transitions = g->transitions;
	out->rejected = g->rejected;
	out->slow_run = g->slow_run;
	out->bulkhead_max = b->o.bulkhead_max;
	for (i = 0; i < NSLOTS; i++)
		out->bulkhead_in_use += slot_ours(b, &b->s->slots[i], now);
	out->bulkhead_rejected = b->s->bulkhead_rejected;
	unlock(b);
	return PB_OK;
}
