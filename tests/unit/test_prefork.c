/*
 * test_prefork.c - PHONEBILL_FCGI_CHILDREN: the children, their restart,
 * the stop, and bad values.
 *
 * A "server" process (forked here) calls pb_prefork; each child it makes
 * reports its pid on a pipe and sleeps until told to stop.  The test kills
 * one child (it must be replaced) and then stops the server with SIGTERM:
 * pb_prefork must return 0 there only after every child has gone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "prefork.h"
#include "tap.h"

#define KIDS 3

/* Read one pid (a line) from f; 0 on EOF (alarm() bounds the wait). */
static pid_t
read_pid(FILE *f)
{
	char line[32];
	long v;

	if (fgets(line, sizeof(line), f) == NULL)
		return 0;
	v = strtol(line, NULL, 10);
	return (pid_t)v;
}

static int
alive(pid_t p)
{
	return kill(p, 0) == 0 || errno != ESRCH;
}

/* The server: children report and wait for SIGTERM. */
static void
server(int wfd)
{
	int status = 0, rc;

	rc = pb_prefork(&status);
	if (rc == 1) {
		char line[32];
		int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());

		if (write(wfd, line, (size_t)n) != n)
			_exit(3);
		for (;;)
			pause(); /* SIGTERM (default action) ends it */
	}
	_exit(rc == 0 ? 0 : 4);
}

int
main(void)
{
	pid_t srv, kids[KIDS + 1], again;
	int fds[2], st = 0, i, all_gone, status = 0;
	FILE *f;

	pb_log_open("test", -1, PB_LOG_ERROR);
	unsetenv(PB_PREFORK_ENV);
	is_int(pb_prefork(&status), 1, "unset: no fork, serve here");
	setenv(PB_PREFORK_ENV, "1", 1);
	is_int(pb_prefork(&status), 1, "1: no fork either");
	setenv(PB_PREFORK_ENV, "65", 1);
	is_int(pb_prefork(&status), -1, "65: refused");
	is_int(status, 1, "refused: exit status 1");
	setenv(PB_PREFORK_ENV, "2x", 1);
	is_int(pb_prefork(&status), -1, "not a number: refused");

	setenv(PB_PREFORK_ENV, "3", 1);
	if (pipe(fds) != 0)
		return 1;
	alarm(60);
	srv = fork();
	if (srv == 0) {
		close(fds[0]);
		server(fds[1]);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	for (i = 0; i < KIDS; i++)
		kids[i] = read_pid(f);
	ok(kids[0] > 0 && kids[1] > 0 && kids[2] > 0 && kids[0] != kids[1] &&
	       kids[1] != kids[2] && kids[0] != kids[2],
	   "three children started");
	ok(kids[0] != srv, "children are not the server itself");
	kill(kids[0], SIGKILL);
	again = read_pid(f);
	ok(again > 0 && again != kids[0] && again != kids[1] &&
	       again != kids[2],
	   "a killed child is replaced");
	kids[KIDS] = again;
	kill(srv, SIGTERM);
	is_int(waitpid(srv, &st, 0), srv, "server ends on SIGTERM");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "pb_prefork returned 0 there");
	all_gone = 1;
	for (i = 1; i <= KIDS; i++)
		all_gone &= !alive(kids[i]);
	ok(all_gone, "every child is gone when the server returns");
	fclose(f);
	return tap_done();
}
