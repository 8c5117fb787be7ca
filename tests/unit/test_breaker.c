/*
 * test_breaker.c - the shared circuit breaker, in one process and across
 * fork()ed processes.
 *
 * The module's source is compiled into this test (not taken from the
 * library archive, which then never pulls breaker.o) so that the robust
 * mutex check can lock the mutex in the mapped file the way a process
 * that dies mid-update would, without a test-only export.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/backoffice/breaker.c"
#include "clock.h"
#include "log.h"
#include "tap.h"

#define NCHILD 6

static const char *const names[] = {"kos.bill", "kos.product", "kos.order"};

/* window 2000 ms, 5 calls, 50 %, slow 50 ms, 50 %, open 300 ms, 2, 200 ms;
   no slow run, no probe budget, no bulkhead */
static const struct pb_breaker_opts opts = {2000, 5, 50, 50, 50, 300, 2,
                                            200,  0, 0,  0,  0,  0,   0};

/* the same with a run of 3 slow calls, probes of 40 ms, a bulkhead of 2
   whose slots lapse after 300 ms, no wait for a slot, compartment 0 */
static const struct pb_breaker_opts bopts = {2000, 5, 50, 50, 50,  300, 2,
                                             200,  3, 40, 2,  300, 0,   0};

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One whole call lasting dur_ms (the ticket is backdated). */
static enum pb_err
call(struct pb_breaker *b, int g, enum pb_breaker_outcome o, int64_t dur_ms)
{
	struct pb_breaker_ticket t;
	int64_t retry;
	enum pb_err rc;

	rc = pb_breaker_acquire(b, g, &t, &retry);
	if (rc != PB_OK)
		return rc;
	t.start_ms -= dur_ms;
	pb_breaker_release(b, &t, o);
	return PB_OK;
}

static void
calls(struct pb_breaker *b, int g, enum pb_breaker_outcome o, int64_t dur_ms,
      int n)
{
	while (n-- > 0)
		(void)call(b, g, o, dur_ms);
}

static struct pb_breaker_stats
stats(struct pb_breaker *b, int g)
{
	struct pb_breaker_stats s;

	(void)pb_breaker_stats(b, g, &s);
	return s;
}

static int
wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
mkpath(char *out, size_t len, const char *tag)
{
	snprintf(out, len, "/tmp/pb_test_breaker.%ld.%s", (long)getpid(), tag);
	(void)unlink(out);
}

static void
test_args(const char *path)
{
	const char *const dup[] = {"a", "a"};
	const char *const nine[] = {"1", "2", "3", "4", "5",
	                            "6", "7", "8", "9"};
	const char *const longname[] = {"0123456789012345678901234567890123"};
	struct pb_breaker_opts o = opts;
	struct pb_breaker *b = (struct pb_breaker *)&o;
	struct pb_breaker_ticket t;
	int64_t retry = 5;

	is_int(pb_breaker_open(NULL, names, 3, &opts, &b), PB_ERR_INVAL,
	       "open: NULL path refused");
	ok(b == NULL, "open: *out NULL on failure");
	is_int(pb_breaker_open(path, names, 0, &opts, &b), PB_ERR_INVAL,
	       "open: no groups refused");
	is_int(pb_breaker_open(path, nine, 9, &opts, &b), PB_ERR_INVAL,
	       "open: more than PB_BREAKER_MAX_GROUPS refused");
	is_int(pb_breaker_open(path, dup, 2, &opts, &b), PB_ERR_INVAL,
	       "open: duplicate names refused");
	is_int(pb_breaker_open(path, longname, 1, &opts, &b), PB_ERR_INVAL,
	       "open: name over PB_BREAKER_NAME_MAX refused");
	o.half_open_permits = NPERMITS + 1;
	is_int(pb_breaker_open(path, names, 3, &o, &b), PB_ERR_INVAL,
	       "open: too many permits refused");
	o = opts;
	o.failure_pct = 101;
	is_int(pb_breaker_open(path, names, 3, &o, &b), PB_ERR_INVAL,
	       "open: failure_pct over 100 refused");
	ok(access(path, F_OK) != 0, "open: refused arguments create no file");
	pb_breaker_close(NULL);
	ok(1, "close(NULL) is a no-op");
	is_int(pb_breaker_acquire(NULL, 0, &t, &retry), PB_ERR_INVAL,
	       "acquire: NULL breaker refused");
	is_int(retry, 0, "acquire: retry zeroed on refusal");
	is_str(pb_breaker_state_name(PB_BREAKER_CLOSED), "CLOSED",
	       "name CLOSED");
	is_str(pb_breaker_state_name(PB_BREAKER_OPEN), "OPEN", "name OPEN");
	is_str(pb_breaker_state_name(PB_BREAKER_HALF_OPEN), "HALF_OPEN",
	       "name HALF_OPEN");
}

/* Thresholds, fast fail, half-open, staleness: one process. */
static void
test_single(const char *path, const char *logpath)
{
	struct pb_breaker *b = NULL;
	struct pb_breaker_ticket t, t2, t3, old;
	struct pb_breaker_stats s;
	struct stat st;
	struct timespec t0, t1;
	int64_t retry = 0, now;
	uint64_t rejected, ns;
	char diag[80];
	int i, slow_ok = 1;

	is_int(pb_breaker_open(path, names, 3, &opts, &b), PB_OK,
	       "open creates");
	if (b == NULL)
		return;
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	       st.st_size == (off_t)sizeof(struct shared_state),
	   "file is 0600, full size");
	is_int(pb_breaker_group(b, "kos.bill"), 0, "group kos.bill is 0");
	is_int(pb_breaker_group(b, "kos.order"), 2, "group kos.order is 2");
	is_int(pb_breaker_group(b, "kos.nope"), -1, "unknown group is -1");
	is_int(pb_breaker_group(b, NULL), -1, "NULL name is -1");
	is_int(pb_breaker_acquire(b, 3, &t, &retry), PB_ERR_INVAL,
	       "acquire: group out of range refused");
	is_int(pb_breaker_stats(b, -1, &s), PB_ERR_INVAL,
	       "stats: group out of range refused");

	/* under min_calls nothing is judged, even at 100 % failures */
	calls(b, 0, PB_BREAKER_FAILURE, 0, 4);
	s = stats(b, 0);
	is_int(s.state, PB_BREAKER_CLOSED, "4 failures < min_calls: closed");
	ok(s.calls == 4 && s.failures == 4 && s.slow == 0,
	   "window counts 4/4/0");
	is_int(s.transitions, 0, "no transition yet");

	/* the fifth failure reaches min_calls at 100 % */
	now = pb_clock_mono_ms();
	is_int(call(b, 0, PB_BREAKER_FAILURE, 0), PB_OK, "5th call allowed");
	s = stats(b, 0);
	is_int(s.state, PB_BREAKER_OPEN, "5 failures: open");
	is_int(s.transitions, 1, "one transition");
	ok(s.open_until_ms >= now + opts.open_ms &&
	       s.open_until_ms <= pb_clock_mono_ms() + opts.open_ms,
	   "open_until is now + open_ms");
	ok(s.calls == 5 && s.failures == 5,
	   "window kept while open (for /health)");

	/* open: refused fast, retry >= 1000 ms */
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_ERR_UNAVAILABLE,
	       "open: acquire refused");
	ok(retry >= MIN_RETRY_MS, "open: retry_after >= 1000 ms");
	is_int(t.group, -1, "refused ticket carries no group");
	pb_breaker_release(b, &t, PB_BREAKER_FAILURE);
	is_int(stats(b, 0).calls, 5,
	       "releasing a refused ticket records nothing");
	rejected = stats(b, 0).rejected;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10000; i++)
		if (pb_breaker_acquire(b, 0, &t, &retry) != PB_ERR_UNAVAILABLE)
			slow_ok = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
	                (t1.tv_nsec - t0.tv_nsec)) /
	     10000;
	snprintf(diag, sizeof(diag), "open acquire: %" PRIu64 " ns", ns);
	tap_diag(diag);
	ok(slow_ok, "10000 acquires on an open breaker all refused");
	ok(ns < 50000, "open acquire < 50 us each (no blocking)");
	is_int(stats(b, 0).rejected, rejected + 10000, "rejected counts them");

	/* groups are independent; business answers never open */
	is_int(stats(b, 1).state, PB_BREAKER_CLOSED,
	       "kos.product still closed");
	calls(b, 1, PB_BREAKER_SUCCESS, 0, 100);
	s = stats(b, 1);
	ok(s.state == PB_BREAKER_CLOSED && s.calls == 100 && s.failures == 0,
	   "100 business answers: closed, 100 calls, 0 failures");

	/* the threshold: 4/9 stays closed, 5/10 (50 %) opens */
	calls(b, 2, PB_BREAKER_SUCCESS, 0, 5);
	calls(b, 2, PB_BREAKER_FAILURE, 0, 4);
	is_int(stats(b, 2).state, PB_BREAKER_CLOSED, "4 of 9 failed: closed");
	(void)call(b, 2, PB_BREAKER_FAILURE, 0);
	is_int(stats(b, 2).state, PB_BREAKER_OPEN, "5 of 10 failed: open");

	/* stale release: acquired before kos.product opened */
	is_int(pb_breaker_acquire(b, 1, &old, &retry), PB_OK,
	       "acquire (to go stale)");
	calls(b, 1, PB_BREAKER_FAILURE, 0, 100);
	s = stats(b, 1);
	ok(s.state == PB_BREAKER_OPEN && s.failures == 100,
	   "kos.product opened");
	pb_breaker_release(b, &old, PB_BREAKER_FAILURE);
	is_int(stats(b, 1).failures, 100, "stale release is not counted");

	/* open_ms later: half-open, two permits */
	sleep_ms(opts.open_ms + 50);
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK,
	       "after open_ms: probe 1");
	is_int(t.probe, 1, "ticket is a probe");
	is_int(stats(b, 0).state, PB_BREAKER_HALF_OPEN, "half-open");
	is_int(pb_breaker_acquire(b, 0, &t2, &retry), PB_OK, "probe 2");
	is_int(pb_breaker_acquire(b, 0, &t3, &retry), PB_ERR_UNAVAILABLE,
	       "third call refused: permits exhausted");
	is_int(retry, HALF_OPEN_RETRY_MS, "half-open full: retry 1000 ms");
	is_int(stats(b, 0).permits_in_use, 2, "2 permits in use");
	pb_breaker_release(b, &t, PB_BREAKER_SUCCESS);
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_HALF_OPEN && s.permits_in_use == 1,
	   "1 success of 2: still half-open, 1 permit in use");
	pb_breaker_release(b, &t2, PB_BREAKER_SUCCESS);
	s = stats(b, 0);
	is_int(s.state, PB_BREAKER_CLOSED, "2 successes: closed");
	ok(s.calls == 0 && s.failures == 0, "window cleared on closing");
	is_int(s.transitions, 3, "CLOSED->OPEN->HALF_OPEN->CLOSED");
	pb_breaker_release(b, &t2, PB_BREAKER_FAILURE);
	is_int(stats(b, 0).state, PB_BREAKER_CLOSED,
	       "double release is a no-op");

	/* a failing probe opens again */
	calls(b, 0, PB_BREAKER_FAILURE, 0, 5);
	is_int(stats(b, 0).state, PB_BREAKER_OPEN, "opened again");
	sleep_ms(opts.open_ms + 50);
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK, "probe");
	is_int(pb_breaker_acquire(b, 0, &t2, &retry), PB_OK, "second probe");
	now = pb_clock_mono_ms();
	pb_breaker_release(b, &t, PB_BREAKER_FAILURE);
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_OPEN && s.open_until_ms >= now + opts.open_ms,
	   "probe failure: open with a new open_until");
	pb_breaker_release(b, &t2, PB_BREAKER_SUCCESS);
	is_int(stats(b, 0).state, PB_BREAKER_OPEN,
	       "late success of the other probe (stale) changes nothing");
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_ERR_UNAVAILABLE,
	       "reopened: refused");
	ok(retry >= MIN_RETRY_MS, "reopened: retry >= 1000 ms");

	/* a dead-simple check that the transition was logged */
	{
		char buf[8192];
		ssize_t n;
		int fd = open(logpath, O_RDONLY);

		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		ok(strstr(buf, "event=breaker_transition group=\"kos.bill\" "
		               "from=\"CLOSED\" to=\"OPEN\"") != NULL,
		   "transition CLOSED->OPEN logged");
		ok(strstr(buf, "from=\"HALF_OPEN\" to=\"CLOSED\"") != NULL,
		   "transition HALF_OPEN->CLOSED logged");
	}
	pb_breaker_close(b);
}

/* Slow calls, window expiry, reopening and reinitialising the file. */
static void
test_file(const char *path)
{
	const char *const other[] = {"kos.other"};
	struct pb_breaker *b = NULL;
	struct pb_breaker_stats s;
	char junk[512];
	uint64_t trans;
	int64_t until;
	int fd;
	size_t left;

	is_int(pb_breaker_open(path, names, 3, &opts, &b), PB_OK,
	       "open file 2");
	if (b == NULL)
		return;
	/* slow: 2 slow of 5 (40 %) stays closed, 3 of 6 (50 %) opens */
	calls(b, 0, PB_BREAKER_SUCCESS, 60, 2);
	calls(b, 0, PB_BREAKER_SUCCESS, 10, 3);
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_CLOSED && s.slow == 2 && s.calls == 5,
	   "2 slow of 5: closed, counted slow");
	(void)call(b, 0, PB_BREAKER_SUCCESS, 60);
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_OPEN && s.slow == 3 && s.failures == 0,
	   "3 slow of 6 (50 %): open");
	(void)call(b, 1, PB_BREAKER_FAILURE, 60);
	ok(stats(b, 1).slow == 0 && stats(b, 1).failures == 1,
	   "a slow failure is a failure, not a slow call");

	/* the window slides: old failures fall out */
	calls(b, 2, PB_BREAKER_FAILURE, 0, 4);
	is_int(stats(b, 2).calls, 4, "4 failures in the window");
	sleep_ms(opts.window_ms + 100);
	is_int(stats(b, 2).calls, 0, "after window_ms: window empty");
	(void)call(b, 2, PB_BREAKER_FAILURE, 0);
	s = stats(b, 2);
	ok(s.state == PB_BREAKER_CLOSED && s.calls == 1,
	   "5th failure after the window: 1 call, closed");

	/* reopening keeps the state */
	trans = stats(b, 0).transitions;
	until = stats(b, 0).open_until_ms;
	pb_breaker_close(b);
	b = NULL;
	is_int(pb_breaker_open(path, names, 3, &opts, &b), PB_OK, "reopen");
	if (b == NULL)
		return;
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_OPEN && s.transitions == trans &&
	       s.open_until_ms == until && stats(b, 2).calls == 1,
	   "reopened file keeps state and counters");
	pb_breaker_close(b);
	b = NULL;

	/* other group names: a fresh file */
	is_int(pb_breaker_open(path, other, 1, &opts, &b), PB_OK,
	       "open with other group names");
	if (b == NULL)
		return;
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_CLOSED && s.transitions == 0 && s.calls == 0,
	   "other names: reinitialised");
	is_int(pb_breaker_group(b, "kos.other"), 0, "new group name");
	pb_breaker_close(b);
	b = NULL;

	/* bad magic, right size */
	memset(junk, 'X', sizeof(junk));
	fd = open(path, O_WRONLY | O_TRUNC);
	for (left = sizeof(struct shared_state); fd >= 0 && left > 0;) {
		ssize_t n =
		    write(fd, junk, left < sizeof(junk) ? left : sizeof(junk));

		if (n <= 0)
			break;
		left -= (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	ok(left == 0, "wrote a full-size file of junk");
	is_int(pb_breaker_open(path, names, 3, &opts, &b), PB_OK,
	       "open over bad magic");
	if (b == NULL)
		return;
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_CLOSED && s.calls == 0 && s.transitions == 0,
	   "bad magic: reinitialised");
	calls(b, 0, PB_BREAKER_FAILURE, 0, 5);
	is_int(stats(b, 0).state, PB_BREAKER_OPEN, "reinitialised file works");
	pb_breaker_close(b);
	b = NULL;

	/* short file */
	fd = open(path, O_WRONLY | O_TRUNC);
	ok(fd >= 0 && write(fd, junk, 100) == 100, "wrote a 100-byte file");
	if (fd >= 0)
		close(fd);
	is_int(pb_breaker_open(path, names, 3, &opts, &b), PB_OK,
	       "open over a short file");
	ok(b != NULL && stats(b, 0).state == PB_BREAKER_CLOSED,
	   "short file: reinitialised");
	pb_breaker_close(b);
}

/* Children that wait on go[0] and then open path and run n calls. */
static void
test_processes(const char *path)
{
	struct pb_breaker *b = NULL;
	struct pb_breaker_stats s;
	pid_t pid[NCHILD];
	int go[2], i, good = 0;

	/* many processes creating the file at once: nothing lost */
	if (pipe(go) != 0)
		return;
	for (i = 0; i < NCHILD; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct pb_breaker *c = NULL;
			char x;

			close(go[1]);
			if (read(go[0], &x, 1) != 0) /* EOF: go */
				_exit(1);
			if (pb_breaker_open(path, names, 3, &opts, &c) != PB_OK)
				_exit(1);
			calls(c, 1, PB_BREAKER_SUCCESS, 0, 10);
			pb_breaker_close(c);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < NCHILD; i++)
		good += pid[i] > 0 && wait_child(pid[i]) == 0;
	is_int(good, NCHILD, "children opened the new file concurrently");
	is_int(pb_breaker_open(path, names, 3, &opts, &b), PB_OK,
	       "parent opens the shared file");
	if (b == NULL)
		return;
	is_int(stats(b, 1).calls, NCHILD * 10, "no child's calls were lost");

	/* failures recorded by other processes open the parent's breaker */
	for (i = 0, good = 0; i < 5; i++) {
		pid_t p = fork();

		if (p == 0) {
			struct pb_breaker *c = NULL;

			if (pb_breaker_open(path, names, 3, &opts, &c) != PB_OK)
				_exit(1);
			(void)call(c, 0, PB_BREAKER_FAILURE, 0);
			pb_breaker_close(c);
			_exit(0);
		}
		good += p > 0 && wait_child(p) == 0;
	}
	is_int(good, 5, "5 children recorded one failure each");
	s = stats(b, 0);
	ok(s.state == PB_BREAKER_OPEN && s.failures == 5,
	   "parent sees the breaker open");
	pb_breaker_close(b);
}

/*
 * A child takes the only permit and waits on a pipe; parent checks
 * that the permit is held, then (dead) lets the child exit, or (ttl)
 * waits for the ttl with the child alive.
 */
static void
test_permits(const char *path, int dead)
{
	struct pb_breaker_opts o = opts;
	struct pb_breaker *b = NULL;
	struct pb_breaker_ticket t;
	int64_t retry;
	pid_t p;
	int up[2], down[2];
	char x = 0;

	o.half_open_permits = 1;
	if (dead)
		o.permit_ttl_ms = 60000; /* only pid death can free it */
	is_int(pb_breaker_open(path, names, 3, &o, &b), PB_OK,
	       "open (permits)");
	if (b == NULL || pipe(up) != 0 || pipe(down) != 0)
		return;
	calls(b, 0, PB_BREAKER_FAILURE, 0, 5);
	sleep_ms(o.open_ms + 50);
	p = fork();
	if (p == 0) {
		struct pb_breaker *c = NULL;

		close(up[0]);
		close(down[1]);
		if (pb_breaker_open(path, names, 3, &o, &c) != PB_OK ||
		    pb_breaker_acquire(c, 0, &t, &retry) != PB_OK || !t.probe)
			_exit(1);
		if (write(up[1], "p", 1) != 1 || read(down[0], &x, 1) != 0)
			_exit(1);
		if (!dead) /* a hung holder that comes back late */
			pb_breaker_release(c, &t, PB_BREAKER_SUCCESS);
		_exit(0); /* dead: never releases */
	}
	close(up[1]);
	close(down[0]);
	ok(p > 0 && read(up[0], &x, 1) == 1 && x == 'p',
	   "child holds the half-open permit");
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_ERR_UNAVAILABLE,
	       "permit held by a live child: refused");
	if (dead) {
		close(down[1]);
		is_int(wait_child(p), 0, "child exited without releasing");
		is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK,
		       "holder gone: parent gets the permit (well before ttl)");
		pb_breaker_release(b, &t, PB_BREAKER_SUCCESS);
		is_int(stats(b, 0).state, PB_BREAKER_CLOSED,
		       "parent's probe succeeds: closed");
	} else {
		sleep_ms(o.permit_ttl_ms + 50);
		is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK,
		       "ttl passed, holder alive: parent gets the permit");
		is_int(stats(b, 0).permits_in_use, 1, "one permit in use");
		close(down[1]);
		is_int(wait_child(p), 0, "late holder released and exited");
		is_int(stats(b, 0).state, PB_BREAKER_HALF_OPEN,
		       "the lapsed permit's success does not close it");
		pb_breaker_release(b, &t, PB_BREAKER_SUCCESS);
		is_int(stats(b, 0).state, PB_BREAKER_CLOSED,
		       "parent's probe succeeds: closed");
	}
	close(up[0]);
	pb_breaker_close(b);
}

/* A child dies holding the mutex: the next locker carries on. */
static pid_t
die_holding_lock(const char *path)
{
	pid_t p = fork();

	if (p == 0) {
		struct pb_breaker *c = NULL;

		if (pb_breaker_open(path, names, 3, &opts, &c) != PB_OK ||
		    pthread_mutex_lock(&c->s->mu) != 0)
			_exit(1);
		_exit(0);
	}
	return p;
}

static void
test_robust(const char *path)
{
	struct pb_breaker *b = NULL;
	struct pb_breaker_ticket t;
	struct pb_breaker_stats s;
	int64_t retry;
	pid_t p;
	int rc;

	is_int(pb_breaker_open(path, names, 3, &opts, &b), PB_OK,
	       "open (robust)");
	if (b == NULL)
		return;
	alarm(10); /* a wedged mutex fails the test, not the run */
	p = die_holding_lock(path);
	is_int(wait_child(p), 0, "child locked the mutex and died");
	rc = pthread_mutex_lock(&b->s->mu);
	is_int(rc, EOWNERDEAD, "next locker sees EOWNERDEAD");
	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(&b->s->mu);
	if (rc == 0 || rc == EOWNERDEAD)
		pthread_mutex_unlock(&b->s->mu);

	p = die_holding_lock(path);
	is_int(wait_child(p), 0, "another child died holding the mutex");
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK,
	       "acquire recovers the mutex");
	pb_breaker_release(b, &t, PB_BREAKER_FAILURE);
	is_int(pb_breaker_stats(b, 0, &s), PB_OK, "stats after recovery");
	is_int(s.failures, 1, "state usable after recovery");
	alarm(0);
	pb_breaker_close(b);
}

/* The slow run: a fresh hang opens whatever the window's history. */
static void
test_slow_run(const char *path)
{
	struct pb_breaker *b = NULL;
	struct pb_breaker_ticket t;
	struct pb_breaker_stats s;
	int64_t retry;

	(void)unlink(path);
	if (pb_breaker_open(path, names, 3, &bopts, &b) != PB_OK) {
		ok(0, "slow run: open");
		return;
	}
	calls(b, 0, PB_BREAKER_SUCCESS, 0, 300); /* a healthy history */
	calls(b, 0, PB_BREAKER_FAILURE, 0, 5);   /* fast failures */
	s = stats(b, 0);
	is_int(s.state, PB_BREAKER_CLOSED, "fast failures are no slow run");
	is_int(s.slow_run, 0, "run 0 after fast calls");
	calls(b, 0, PB_BREAKER_SUCCESS, 60, 2);
	calls(b, 0, PB_BREAKER_SUCCESS, 0, 1);
	calls(b, 0, PB_BREAKER_FAILURE, 60, 2);
	s = stats(b, 0);
	is_int(s.state, PB_BREAKER_CLOSED, "a fast answer ends the run");
	is_int(s.slow_run, 2, "run counts slow failures (timeouts) too");
	ok(s.slow * 100 < 50 * s.calls && s.failures * 100 < 50 * s.calls,
	   "the window's rates alone would stay closed");
	calls(b, 0, PB_BREAKER_FAILURE, 60, 1);
	s = stats(b, 0);
	is_int(s.state, PB_BREAKER_OPEN,
	       "3 slow calls in a row open after 300 healthy ones");
	is_int(stats(b, 1).state, PB_BREAKER_CLOSED, "other groups untouched");
	/* half-open: a probe carries its budget; a slow probe reopens */
	sleep_ms(320);
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK, "probe allowed");
	ok(t.probe == 1 && t.timeout_ms == 40,
	   "probe carries probe_timeout_ms");
	sleep_ms(60); /* past slow_call_ms (50 ms) */
	pb_breaker_release(b, &t, PB_BREAKER_SUCCESS);
	is_int(stats(b, 0).state, PB_BREAKER_OPEN, "a slow probe reopens");
	sleep_ms(320);
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK, "probe again");
	pb_breaker_release(b, &t, PB_BREAKER_SUCCESS);
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK, "second probe");
	pb_breaker_release(b, &t, PB_BREAKER_SUCCESS);
	is_int(stats(b, 0).state, PB_BREAKER_CLOSED, "fast probes close");
	is_int(pb_breaker_acquire(b, 0, &t, &retry), PB_OK, "closed call");
	is_int(t.timeout_ms, 0, "no budget cap when closed");
	pb_breaker_release(b, &t, PB_BREAKER_SUCCESS);
	pb_breaker_close(b);
}

/* The bulkhead: a cap, immediate refusal, lapses, and shedding. */
static void
test_bulkhead(const char *path)
{
	struct pb_breaker *b = NULL;
	struct pb_breaker_ticket t1, t2, t3;
	struct pb_breaker_stats s;
	int64_t retry;
	pid_t p;

	(void)unlink(path);
	if (pb_breaker_open(path, names, 3, &bopts, &b) != PB_OK) {
		ok(0, "bulkhead: open");
		return;
	}
	is_int(pb_breaker_acquire(b, 0, &t1, &retry), PB_OK, "slot 1");
	is_int(pb_breaker_acquire(b, 1, &t2, &retry), PB_OK,
	       "slot 2 (another group: the bulkhead is host-wide)");
	is_int(pb_breaker_acquire(b, 0, &t3, &retry), PB_ERR_UNAVAILABLE,
	       "third call refused");
	is_int(t3.refused, PB_BREAKER_REFUSED_FULL, "refused: FULL");
	is_int(retry, 1000, "Retry-After 1 s when full");
	s = stats(b, 0);
	ok(s.bulkhead_max == 2 && s.bulkhead_in_use == 2 &&
	       s.bulkhead_rejected == 1,
	   "stats: max 2, in use 2, rejected 1");
	is_int(s.slow_run, 0,
	       "a refusal while the holders are fast is no slow call");
	is_int(pb_breaker_slow_now(b, 0), 0, "not slow: holders are young");
	pb_breaker_release(b, &t1, PB_BREAKER_SUCCESS);
	is_int(stats(b, 0).bulkhead_in_use, 1, "release gives the slot back");
	is_int(pb_breaker_acquire(b, 0, &t1, &retry), PB_OK, "slot reused");
	/* the holders are past slow_call_ms (50 ms): refusals are slow calls */
	sleep_ms(60);
	is_int(pb_breaker_slow_now(b, 0), 1, "slow now: a holder is overdue");
	is_int(pb_breaker_slow_now(b, 2), 0, "not for a group without holders");
	is_int(stats(b, 0).slow_run, 0, "asking is no slow call");
	is_int(pb_breaker_give_up(b, 2), 0,
	       "a waiter on a group without holders waits on");
	is_int(pb_breaker_give_up(b, 0), 1,
	       "a waiter gives up on the overdue holder");
	is_int(stats(b, 0).slow_run, 1, "and counts in the holder's run");
	(void)pb_breaker_acquire(b, 2, &t3, &retry);
	is_int(stats(b, 0).slow_run, 2, "refusals count in the holder's run");
	(void)pb_breaker_acquire(b, 2, &t3, &retry);
	is_int(stats(b, 0).state, PB_BREAKER_OPEN,
	       "the third slow one (a waiter, two refusals) opens the slow "
	       "group");
	is_int(stats(b, 2).state, PB_BREAKER_CLOSED, "the refused group stays");
	pb_breaker_release(b, &t1, PB_BREAKER_FAILURE);
	pb_breaker_release(b, &t2, PB_BREAKER_SUCCESS);
	s = stats(b, 0);
	ok(s.bulkhead_in_use == 0 && s.state == PB_BREAKER_OPEN,
	   "stale tickets still give their slots back");
	/* a process dies holding a slot: its slot is taken back */
	p = fork();
	if (p == 0) {
		struct pb_breaker_ticket c1, c2;

		_exit(pb_breaker_acquire(b, 1, &c1, &retry) == PB_OK &&
		              pb_breaker_acquire(b, 1, &c2, &retry) == PB_OK
		          ? 0
		          : 1);
	}
	is_int(wait_child(p), 0, "child took both slots and died");
	is_int(pb_breaker_acquire(b, 1, &t1, &retry), PB_OK,
	       "a dead holder's slot is free");
	/* a hung holder (alive, ours) lapses after slot_ttl */
	is_int(pb_breaker_acquire(b, 1, &t2, &retry), PB_OK, "second slot");
	is_int(pb_breaker_acquire(b, 1, &t3, &retry), PB_ERR_UNAVAILABLE,
	       "full again");
	sleep_ms(320);
	is_int(pb_breaker_acquire(b, 1, &t3, &retry), PB_OK,
	       "a slot held past slot_ttl lapses");
	pb_breaker_release(b, &t1, PB_BREAKER_SUCCESS); /* lapsed: no-op */
	pb_breaker_release(b, &t3, PB_BREAKER_SUCCESS);
	pb_breaker_release(b, &t2, PB_BREAKER_SUCCESS);
	is_int(stats(b, 1).bulkhead_in_use, 0, "all slots back");
	pb_breaker_close(b);
}

/* Compartments keep their own caps; a young holder is waited for. */
static void
test_compartments(const char *path)
{
	struct pb_breaker_opts o1 = bopts, o2 = bopts;
	struct pb_breaker *b1 = NULL, *b2 = NULL;
	struct pb_breaker_ticket t1, t2, t3;
	struct pb_breaker_stats s;
	int64_t retry, t0, waited;
	pid_t p;

	(void)unlink(path);
	o1.bulkhead_max = 1;
	o1.bulkhead_compartment = 1;
	o1.bulkhead_wait_ms = 150;
	o1.slow_call_ms = 1000;
	o1.bulkhead_ttl_ms = 10000;
	o2 = o1;
	o2.bulkhead_compartment = 2;
	if (pb_breaker_open(path, names, 3, &o1, &b1) != PB_OK ||
	    pb_breaker_open(path, names, 3, &o2, &b2) != PB_OK) {
		ok(0, "compartments: open");
		return;
	}
	is_int(pb_breaker_acquire(b1, 0, &t1, &retry), PB_OK, "bill's slot");
	is_int(pb_breaker_acquire(b2, 1, &t2, &retry), PB_OK,
	       "product's slot: another compartment");
	ok(stats(b1, 0).bulkhead_in_use == 1 &&
	       stats(b2, 0).bulkhead_in_use == 1,
	   "each compartment counts its own");
	/* full, holder young: waited for until the holder has run
	 * bulkhead_wait_ms (the patience runs from the holder's start) */
	t0 = pb_clock_mono_ms();
	is_int(pb_breaker_acquire(b1, 0, &t3, &retry), PB_ERR_UNAVAILABLE,
	       "full: refused after the wait");
	waited = pb_clock_mono_ms() - t0;
	ok(waited >= 150 - (t0 - t1.slot_ms),
	   "a young holder is waited for (bulkhead_wait_ms from its start)");
	is_int(t3.refused, PB_BREAKER_REFUSED_FULL, "refused FULL");
	s = stats(b1, 0);
	ok(s.bulkhead_rejected == 1 && s.slow_run == 0,
	   "one refusal counted, no slow call");
	/* the holder has now run bulkhead_wait_ms: refused without a wait
	 * (a wait would be 150 ms; the refusal takes microseconds) */
	t0 = pb_clock_mono_ms();
	is_int(pb_breaker_acquire(b1, 0, &t3, &retry), PB_ERR_UNAVAILABLE,
	       "full, holder past bulkhead_wait_ms: refused");
	ok(pb_clock_mono_ms() - t0 < 150, "an older holder is not waited for");
	ok(stats(b1, 0).slow_run == 0,
	   "not yet slow_call_ms: no slow call counted");
	/* the holder leaves while we wait: the slot is ours */
	p = fork();
	if (p == 0) {
		sleep_ms(50);
		pb_breaker_release(b1, &t1, PB_BREAKER_SUCCESS);
		_exit(0);
	}
	is_int(pb_breaker_acquire(b1, 0, &t3, &retry), PB_ERR_UNAVAILABLE,
	       "a child cannot release the parent's slot (pid differs)");
	is_int(wait_child(p), 0, "child done");
	pb_breaker_release(b1, &t1, PB_BREAKER_SUCCESS);
	is_int(pb_breaker_acquire(b1, 0, &t1, &retry), PB_OK, "slot again");
	p = fork();
	if (p == 0) {
		struct pb_breaker_ticket c;

		/* the child waits for the parent's slot, which frees in 50 ms
		 */
		_exit(pb_breaker_acquire(b1, 0, &c, &retry) == PB_OK ? 0 : 1);
	}
	sleep_ms(50);
	pb_breaker_release(b1, &t1, PB_BREAKER_SUCCESS);
	is_int(wait_child(p), 0, "a waiter gets the slot freed meanwhile");
	pb_breaker_release(b2, &t2, PB_BREAKER_SUCCESS);
	pb_breaker_close(b1);
	pb_breaker_close(b2);
}

int
main(void)
{
	char p1[96], p2[96], p3[96], p4[96], p5[96], p6[96], logp[96];
	int logfd;

	mkpath(p1, sizeof(p1), "single");
	mkpath(p2, sizeof(p2), "file");
	mkpath(p3, sizeof(p3), "procs");
	mkpath(p4, sizeof(p4), "dead");
	mkpath(p5, sizeof(p5), "ttl");
	mkpath(p6, sizeof(p6), "robust");
	mkpath(logp, sizeof(logp), "log");
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	pb_log_open("test", logfd, PB_LOG_DEBUG);

	test_args(p1);
	test_single(p1, logp);
	test_file(p2);
	test_processes(p3);
	test_permits(p4, 1);
	test_permits(p5, 0);
	test_robust(p6);
	test_slow_run(p1);
	test_bulkhead(p1);
	test_compartments(p1);

	pb_log_open("test", -1, PB_LOG_ERROR);
	if (logfd >= 0)
		close(logfd);
	unlink(p1);
	unlink(p2);
	unlink(p3);
	unlink(p4);
	unlink(p5);
	unlink(p6);
	unlink(logp);
	return tap_done();
}
