/* prefork.c - children accepting on one FastCGI socket (prefork.h). */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prefork.h"

#define PREFORK_POLL_MS 200     /* ms between looks at the children */
#define PREFORK_RESPAWN_MS 1000 /* ms before a dead child is replaced */

static volatile sig_atomic_t stop_sig;

static void
on_stop(int sig)
{
	stop_sig = sig;
}

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL); /* a signal may cut it short */
}

/* PB_PREFORK_ENV as a count: 0 unset, -1 invalid. */
static int
children_wanted(void)
{
	const char *v = getenv(PB_PREFORK_ENV);
	char *end = NULL;
	long n;

	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 ||
	    n > PB_PREFORK_MAX)
		return -1;
	return n == 1 ? 0 : (int)n; /* one: this process serves */
}

static void
handlers(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/* In the child: 1 to serve, 0 when the parent is already gone. */
static int
child_start(pid_t parent)
{
	handlers(SIG_DFL); /* pb_request_serve installs its own */
	(void)unsetenv(PB_OWN_SOCKET_ENV); /* shared with the siblings */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(0);
	return 1;
}

/* Forget the child pid (it was reaped); 1 when it was one of ours. */
static int
reaped(pid_t *kids, int n, pid_t pid, int st)
{
	struct pb_logline l;
	int i;

	for (i = 0; i < n; i++) {
		if (kids[i] != pid)
			continue;
		kids[i] = 0;
		pb_log_begin(&l, stop_sig ? PB_LOG_INFO : PB_LOG_WARN,
		             "prefork_child_exit");
		pb_log_int(&l, "pid", pid);
		pb_log_int(&l, "status",
		           WIFEXITED(st) ? WEXITSTATUS(st)
		                         : 128 + WTERMSIG(st));
		pb_log_end(&l);
		return 1;
	}
	return 0;
}

/* The path listen_fd's unix socket is bound to, into sa; 0 if none. */
static int
socket_path(int listen_fd, struct sockaddr_un *sa)
{
	const socklen_t head = offsetof(struct sockaddr_un, sun_path);
	socklen_t len = sizeof(*sa);

	memset(sa, 0, sizeof(*sa));
	if (getsockname(listen_fd, (struct sockaddr *)sa, &len) != 0)
		return 0;
	sa->sun_path[sizeof(sa->sun_path) - 1] = '\0';
	/* abstract (leading NUL) and unnamed sockets have no path */
	return sa->sun_family == AF_UNIX && len > head &&
	       sa->sun_path[0] != '\0';
}

void
pb_prefork_let_go(int listen_fd)
{
	struct sockaddr_un sa;
	const char *own = getenv(PB_OWN_SOCKET_ENV);
	struct pb_logline l;
	char why[128];

	if (own == NULL || strcmp(own, "1") != 0 ||
	    !socket_path(listen_fd, &sa))
		return;
	if (unlink(sa.sun_path) != 0 && errno != ENOENT) {
		/* GNU strerror_r: returns the text */
		pb_log_msg(PB_LOG_WARN, "socket_unlink_failed",
		           strerror_r(errno, why, sizeof(why)));
		return;
	}
	pb_log_begin(&l, PB_LOG_INFO, "socket_released");
	pb_log_str(&l, "path", sa.sun_path);
	pb_log_end(&l);
}

int
pb_prefork(int *status)
{
	pid_t kids[PB_PREFORK_MAX], parent = getpid(), pid;
	int n = children_wanted(), i, st, died;

	*status = 0;
	if (n == 0)
		return 1;
	if (n < 0) {
		pb_log_msg(PB_LOG_ERROR, "startup_failed",
		           PB_PREFORK_ENV " must be a number from 1 to 64");
		*status = 1;
		return -1;
	}
	memset(kids, 0, sizeof(kids));
	handlers(on_stop);
	while (!stop_sig) {
		for (i = 0; i < n && !stop_sig; i++) {
			if (kids[i] != 0)
				continue;
			pid = fork();
			if (pid == 0)
				return child_start(parent);
			if (pid < 0) {
				char why[128];

				/* GNU strerror_r: thread-safe, returns the
				   text (in why or a static string) */
				pb_log_msg(PB_LOG_ERROR, "prefork_failed",
				           strerror_r(errno, why, sizeof(why)));
				break;
			}
			kids[i] = pid;
		}
		died = 0;
		for (;;) {
			pid = waitpid(-1, &st, WNOHANG);
			if (pid <= 0)
				break;
			died |= reaped(kids, n, pid, st);
		}
		/* a child that dies at once must not become a fork storm */
		nap_ms(died ? PREFORK_RESPAWN_MS : PREFORK_POLL_MS);
	}
	pb_prefork_let_go(0); /* the children drain what is queued */
	for (i = 0; i < n; i++)
		if (kids[i] > 0)
			(void)kill(kids[i], SIGTERM);
	for (;;) {
		pid = waitpid(-1, &st, 0);
		if (pid > 0)
			(void)reaped(kids, n, pid, st);
		else if (errno != EINTR)
			break;
	}
	return 0;
}
