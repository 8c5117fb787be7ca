/*
 * permit.h - a host-wide counting semaphore that a dead holder cannot
 * keep: n permits, one file per permit, taken with flock.
 *
 * The auth service uses it to bound the password hashes in flight on a
 * host (issue 18 item 7): each Argon2id verification holds one permit, and
 * a login that finds none free is refused at once (503 + Retry-After)
 * instead of queueing behind the others.  Every process of every pool on
 * the host opens the same files (<prefix>.0 .. <prefix>.<n-1>, created
 * 0600 when missing), so the bound is per host, whatever the number of
 * processes.  The kernel drops a lock when its holder dies (kill -9 too):
 * no lease, no clean-up.  flock needs a local filesystem (tmpfs: /run).
 *
 * Ownership: pb_permits_open allocates; pb_permits_free (NULL-safe) closes
 * the files and releases what is held.  Not thread-safe: one per thread.
 * After fork() a child must open its own (flock locks belong to the open
 * file, which a fork shares).  Limits: 1 <= n <= PB_PERMITS_MAX.
 */
#ifndef PB_PERMIT_H
#define PB_PERMIT_H

#include "err.h"

#define PB_PERMITS_MAX 64

struct pb_permits;

/* Open (creating) n permit files named prefix.0 .. prefix.<n-1>. */
enum pb_err pb_permits_open(const char *prefix, int n, struct pb_permits **out);
void pb_permits_free(struct pb_permits *p);

/*
 * Take a free permit without waiting: PB_OK and *slot (0..n-1), or
 * PB_ERR_UNAVAILABLE when every permit is held (by anyone on the host).
 * Starts at a per-process offset so the processes do not all try the same
 * file first.
 */
enum pb_err pb_permits_try(struct pb_permits *p, int *slot);
/* Give back the permit slot (taken by pb_permits_try); no-op when < 0. */
void pb_permits_release(struct pb_permits *p, int slot);

#endif
