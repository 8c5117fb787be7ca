/*
 * test_worker.c - lib/worker.c: arguments, periodic calls, a prompt wake,
 * stop while fn runs, the thread's signal mask, stop in a forked child.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "worker.h"
#include "tap.h"

struct probe {
	int calls;        /* atomic */
	int in_fn;        /* atomic: 1 while fn runs */
	int finished;     /* atomic: calls that returned */
	int slow_ms;      /* how long each call takes */
	int hold;         /* atomic: while 1, a call waits */
	int term_blocked; /* seen by the thread */
	int int_blocked;
};

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void
tick(void *ud)
{
	struct probe *p = ud;
	sigset_t cur;

	__atomic_store_n(&p->in_fn, 1, __ATOMIC_SEQ_CST);
	if (pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0) {
		p->term_blocked = sigismember(&cur, SIGTERM) == 1;
		p->int_blocked = sigismember(&cur, SIGINT) == 1;
	}
	__atomic_add_fetch(&p->calls, 1, __ATOMIC_SEQ_CST);
	if (p->slow_ms > 0)
		sleep_ms(p->slow_ms);
	while (__atomic_load_n(&p->hold, __ATOMIC_SEQ_CST))
		sleep_ms(1);
	__atomic_add_fetch(&p->finished, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&p->in_fn, 0, __ATOMIC_SEQ_CST);
}

static int
calls(struct probe *p)
{
	return __atomic_load_n(&p->calls, __ATOMIC_SEQ_CST);
}

/* Wait up to ms for p->calls to reach n; returns the ms it took or -1. */
static long
wait_calls(struct probe *p, int n, long ms)
{
	int64_t t0 = pb_clock_mono_ms();

	while (calls(p) < n) {
		if (pb_clock_mono_ms() - t0 > ms)
			return -1;
		sleep_ms(2);
	}
	return (long)(pb_clock_mono_ms() - t0);
}

static void
test_args(void)
{
	struct pb_worker *w = (struct pb_worker *)1;
	struct probe p;

	memset(&p, 0, sizeof(p));
	is_int(pb_worker_start(NULL, &p, 100, &w), PB_ERR_INVAL, "NULL fn");
	ok(w == NULL, "out NULLed on failure");
	is_int(pb_worker_start(tick, &p, 0, &w), PB_ERR_INVAL, "interval 0");
	is_int(pb_worker_start(tick, &p, -5, &w), PB_ERR_INVAL,
	       "negative interval");
	is_int(pb_worker_start(tick, &p, PB_WORKER_MAX_INTERVAL_MS + 1, &w),
	       PB_ERR_INVAL, "interval over a day");
	pb_worker_wake(NULL);
	pb_worker_stop(NULL);
	ok(1, "wake(NULL) and stop(NULL) are no-ops");
	is_int(calls(&p), 0, "fn never called");
}

static void
test_ticks(void)
{
	struct pb_worker *w = NULL;
	struct probe p;
	sigset_t before, after;

	memset(&p, 0, sizeof(p));
	(void)pthread_sigmask(SIG_BLOCK, NULL, &before);
	is_int(pb_worker_start(tick, &p, 30, &w), PB_OK, "start, 30 ms");
	(void)pthread_sigmask(SIG_BLOCK, NULL, &after);
	ok(sigismember(&after, SIGTERM) == sigismember(&before, SIGTERM) &&
	       sigismember(&after, SIGINT) == sigismember(&before, SIGINT),
	   "caller's signal mask restored");
	ok(wait_calls(&p, 1, 1000) >= 0, "first call at once");
	ok(wait_calls(&p, 5, 2000) >= 0, "periodic calls happen");
	pb_worker_stop(w);
	ok(1, "stopped");
	ok(p.term_blocked && p.int_blocked,
	   "SIGTERM and SIGINT blocked in the thread");
}

static void
test_wake(void)
{
	struct pb_worker *w = NULL;
	struct probe p;
	long took;
	int i, before;

	memset(&p, 0, sizeof(p));
	is_int(pb_worker_start(tick, &p, 60000, &w), PB_OK, "start, 60 s");
	ok(wait_calls(&p, 1, 1000) >= 0, "first call at once");
	sleep_ms(50);
	is_int(calls(&p), 1, "no second call before the interval");
	pb_worker_wake(w);
	took = wait_calls(&p, 2, 1000);
	ok(took >= 0 && took < 200, "wake: a call within 200 ms");

	pb_worker_stop(w);

	/* wakes sent while fn runs coalesce into one call after it */
	memset(&p, 0, sizeof(p));
	p.hold = 1;
	is_int(pb_worker_start(tick, &p, 60000, &w), PB_OK, "start, held fn");
	ok(wait_calls(&p, 1, 1000) >= 0, "first call started");
	before = calls(&p);
	for (i = 0; i < 100000; i++)
		pb_worker_wake(w);
	ok(1, "100000 wakes never blocked (the pipe fills, wakes stay "
	      "pending)");
	__atomic_store_n(&p.hold, 0, __ATOMIC_SEQ_CST);
	ok(wait_calls(&p, before + 1, 2000) >= 0, "one call after them");
	sleep_ms(300);
	is_int(calls(&p), before + 1, "the wakes coalesced into that one call");
	pb_worker_stop(w);
}

static void
test_stop_during_fn(void)
{
	struct pb_worker *w = NULL;
	struct probe p;
	int64_t t0, took;

	memset(&p, 0, sizeof(p));
	p.slow_ms = 300;
	is_int(pb_worker_start(tick, &p, 10, &w), PB_OK, "start, slow fn");
	ok(wait_calls(&p, 1, 1000) >= 0, "fn running");
	ok(__atomic_load_n(&p.in_fn, __ATOMIC_SEQ_CST) == 1,
	   "stop called while fn is in progress");
	t0 = pb_clock_mono_ms();
	pb_worker_stop(w);
	took = pb_clock_mono_ms() - t0;
	is_int(p.in_fn, 0,
	       "the call in progress completed before stop "
	       "returned");
	is_int(p.finished, p.calls, "every started call finished");
	is_int(p.calls, 1, "no call after stop was asked");
	ok(took >= 100 && took < 1000, "stop waited for fn (about 300 ms)");
}

static void
test_fork(void)
{
	struct pb_worker *w = NULL;
	struct probe p;
	int status = -1;
	pid_t pid;

	memset(&p, 0, sizeof(p));
	is_int(pb_worker_start(tick, &p, 20, &w), PB_OK, "start before fork");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* no thread here: stop only frees */
		pb_worker_stop(w);
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0,
	   "stop in a forked child returns");
	ok(wait_calls(&p, calls(&p) + 2, 1000) >= 0,
	   "the parent's worker still runs");
	pb_worker_stop(w);
}

int
main(void)
{
	test_args();
	test_ticks();
	test_wake();
	test_stop_during_fn();
	test_fork();
	return tap_done();
}
