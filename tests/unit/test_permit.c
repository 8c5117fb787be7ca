/* test_permit.c - host-wide permits: taken, refused when all are held
 * (also by another process), released, and freed when the holder dies. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "permit.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/pb-permit-XXXXXX", prefix[64];
	struct pb_permits *a = NULL, *b = NULL;
	int s1 = -1, s2 = -1, s3 = -1, i, st, pipefd[2];
	pid_t pid;
	char c;

	if (mkdtemp(dir) == NULL)
		return tap_skip_all("mkdtemp");
	snprintf(prefix, sizeof(prefix), "%s/hash", dir);
	is_int(pb_permits_open(prefix, 0, &a), PB_ERR_INVAL, "n = 0 refused");
	is_int(pb_permits_open(prefix, PB_PERMITS_MAX + 1, &a), PB_ERR_INVAL,
	       "n over the maximum refused");
	is_int(pb_permits_open(prefix, 2, &a), PB_OK, "open a");
	is_int(pb_permits_open(prefix, 2, &b), PB_OK, "open b (same files)");
	is_int(pb_permits_try(a, &s1), PB_OK, "a takes one");
	is_int(pb_permits_try(b, &s2), PB_OK, "b takes the other");
	ok(s1 != s2, "two different permits");
	is_int(pb_permits_try(a, &s3), PB_ERR_UNAVAILABLE, "none left for a");
	is_int(s3, -1, "no slot");
	pb_permits_release(b, s2);
	is_int(pb_permits_try(a, &s3), PB_OK, "free again after a release");
	is_int(s3, s2, "the released one");
	pb_permits_release(a, s3);
	pb_permits_release(a, s1);
	pb_permits_release(a, -1);

	/* another process holds both and is killed: both come back */
	if (pipe(pipefd) != 0)
		return tap_skip_all("pipe");
	pid = fork();
	if (pid == 0) {
		struct pb_permits *k = NULL;
		int x, y;

		if (pb_permits_open(prefix, 2, &k) != PB_OK ||
		    pb_permits_try(k, &x) != PB_OK ||
		    pb_permits_try(k, &y) != PB_OK)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	(void)close(pipefd[1]);
	ok(read(pipefd[0], &c, 1) == 1, "child holds both");
	is_int(pb_permits_try(a, &s1), PB_ERR_UNAVAILABLE,
	       "held by another process");
	kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	is_int(pb_permits_try(a, &s1), PB_OK, "a dead holder's permit is free");
	is_int(pb_permits_try(b, &s2), PB_OK, "and the other one");
	pb_permits_free(a);
	pb_permits_free(b);
	pb_permits_free(NULL);
	for (i = 0; i < 2; i++) {
		snprintf(prefix, sizeof(prefix), "%s/hash.%d", dir, i);
		(void)unlink(prefix);
	}
	(void)rmdir(dir);
	return tap_done();
}
