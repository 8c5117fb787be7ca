/* worker.c - one background thread for periodic work (see worker.h). */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "worker.h"

struct pb_worker {
	pthread_t thread;
	pid_t pid; /* process that started the thread */
	pb_worker_fn fn;
	void *ud;
	int64_t interval_ms;  /* ms between the end of a call and the
	                         next */
	int wake_rd, wake_wr; /* self-pipe, both ends non-blocking */
	int stop;             /* set by pb_worker_stop (atomic) */
};

/* Empty the pipe: every pending wake is served by the next call. */
static void
drain(int fd)
{
	char buf[64];
	ssize_t n;

	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
}

static int
stopping(struct pb_worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
}

static void *
worker_main(void *arg)
{
	struct pb_worker *w = arg;
	struct pollfd pfd;
	int64_t deadline, left;
	int r;

	while (!stopping(w)) {
		drain(w->wake_rd);
		w->fn(w->ud);
		deadline = pb_clock_mono_ms() + w->interval_ms;
		for (;;) {
			if (stopping(w))
				break;
			left = deadline - pb_clock_mono_ms();
			if (left <= 0)
				break;
			pfd.fd = w->wake_rd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
			if (r > 0)
				break; /* woken (or asked to stop) */
			if (r < 0 && errno != EINTR) {
				/* cannot wait on the pipe: fall back to a
				   plain sleep so the loop never spins */
				struct timespec ts;

				pb_log_msg(PB_LOG_ERROR, "worker_poll_failed",
				           "poll on the wake-up pipe failed");
				if (left > 1000)
					left = 1000;
				ts.tv_sec = (time_t)(left / 1000);
				ts.tv_nsec = (long)(left % 1000) * 1000000L;
				(void)nanosleep(&ts, NULL);
			}
		}
	}
	return NULL;
}

static void
release(struct pb_worker *w)
{
	if (w->wake_rd >= 0)
		close(w->wake_rd);
	if (w->wake_wr >= 0)
		close(w->wake_wr);
	free(w);
}

enum pb_err
pb_worker_start(pb_worker_fn fn, void *ud, int64_t interval_ms,
                struct pb_worker **out)
{
	struct pb_worker *w = NULL;
	sigset_t all, old;
	int fds[2], masked = 0;
	enum pb_err rc = PB_ERR_INVAL;

	if (out != NULL)
		*out = NULL;
	if (fn == NULL || out == NULL || interval_ms < 1 ||
	    interval_ms > PB_WORKER_MAX_INTERVAL_MS)
		goto out;
	rc = PB_ERR_NOMEM;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto out;
	w->wake_rd = w->wake_wr = -1;
	w->fn = fn;
	w->ud = ud;
	w->interval_ms = interval_ms;
	w->pid = getpid();
	rc = PB_ERR_INTERNAL;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		goto out;
	w->wake_rd = fds[0];
	w->wake_wr = fds[1];

	/* The thread inherits the creator's mask: block everything for the
	   creation only, so no signal can reach the thread before it runs. */
	sigfillset(&all);
	if (pthread_sigmask(SIG_BLOCK, &all, &old) != 0)
		goto out;
	masked = 1;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		goto out;
	*out = w;
	w = NULL;
	rc = PB_OK;
out:
	if (masked)
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w != NULL)
		release(w);
	return rc;
}

void
pb_worker_wake(struct pb_worker *w)
{
	ssize_t n;
	int saved;

	if (w == NULL)
		return;
	saved = errno; /* may run in a signal handler */
	/* EAGAIN: the pipe is full, a wake is pending anyway */
	do {
		n = write(w->wake_wr, "w", 1);
	} while (n < 0 && errno == EINTR);
	errno = saved;
}

void
pb_worker_stop(struct pb_worker *w)
{
	if (w == NULL)
		return;
	if (w->pid == getpid()) {
		__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
		pb_worker_wake(w);
		(void)pthread_join(w->thread, NULL);
	}
	release(w);
}
