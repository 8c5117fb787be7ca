/* permit.c - host-wide permits on flock'ed files (see permit.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "permit.h"

struct pb_permits {
	int n;
	int next; /* where the next try starts */
	int fd[PB_PERMITS_MAX];
	/* flock again on a file this process already locked succeeds: so
	 * what we hold is skipped */
	unsigned char held[PB_PERMITS_MAX];
};

void
pb_permits_free(struct pb_permits *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		if (p->fd[i] >= 0)
			(void)close(p->fd[i]); /* drops any lock */
	free(p);
}

enum pb_err
pb_permits_open(const char *prefix, int n, struct pb_permits **out)
{
	struct pb_permits *p = NULL;
	char path[4096];
	enum pb_err rc = PB_ERR_INVAL;
	int i, len;

	*out = NULL;
	if (prefix == NULL || prefix[0] == '\0' || n < 1 || n > PB_PERMITS_MAX)
		goto out;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < PB_PERMITS_MAX; i++)
		p->fd[i] = -1;
	p->n = n;
	p->next = (int)(getpid() % n);
	for (i = 0; i < n; i++) {
		len = snprintf(path, sizeof(path), "%s.%d", prefix, i);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			rc = PB_ERR_TOOBIG;
			goto out;
		}
		p->fd[i] =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (p->fd[i] < 0) {
			rc = PB_ERR_IO;
			goto out;
		}
	}
	*out = p;
	p = NULL;
	rc = PB_OK;
out:
	pb_permits_free(p);
	return rc;
}

enum pb_err
pb_permits_try(struct pb_permits *p, int *slot)
{
	int i, k;

	*slot = -1;
	if (p == NULL)
		return PB_ERR_INVAL;
	for (i = 0; i < p->n; i++) {
		k = (p->next + i) % p->n;
		if (p->held[k])
			continue;
		if (flock(p->fd[k], LOCK_EX | LOCK_NB) == 0) {
			p->held[k] = 1;
			p->next = (k + 1) % p->n;
			*slot = k;
			return PB_OK;
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			return PB_ERR_IO;
	}
	return PB_ERR_UNAVAILABLE;
}

void
pb_permits_release(struct pb_permits *p, int slot)
{
	if (p == NULL || slot < 0 || slot >= p->n || !p->held[slot])
		return;
	(void)flock(p->fd[slot], LOCK_UN);
	p->held[slot] = 0;
}
