/*
 * breaker.h - a circuit breaker shared by every process on the host.
 *
 * One process sees too few calls to judge KOS and must not keep hammering
 * a dead KOS alone, so the state lives in a small file mapped by every
 * process (MAP_SHARED) and is changed only under a process-shared robust
 * mutex (a process that dies holding it cannot wedge the others).  One
 * breaker per KOS operation group.
 *
 * CLOSED -> OPEN when, over the sliding window, at least min_calls calls
 * ended and the failure rate or the slow-call rate reached its threshold.
 * OPEN -> HALF_OPEN after open_ms.  In HALF_OPEN only half_open_permits
 * calls may run at once; a permit whose holder has not released it within
 * permit_ttl_ms (the process died, or hung) is taken back.  All permitted
 * probes succeeding -> CLOSED (window cleared); any probe failing -> OPEN
 * again.  Only transport errors, timeouts, HTTP 5xx and garbage are
 * failures: KOS business result codes are answers (PB_BREAKER_SUCCESS).
 *
 * A fresh hang must not be diluted by a healthy history: besides the rates
 * over the window, consecutive_slow slow calls in a row (a call lasting
 * slow_call_ms or more, whatever its outcome; a fast call ends the run)
 * open the breaker at once.  A call refused by the bulkhead while one of
 * the slots is held by a call already past slow_call_ms counts as one more
 * slow call in the run of that call's group (it would have waited on the
 * same slow KOS).  A half-open probe that is slow reopens the breaker, and
 * each probe's ticket carries probe_timeout_ms, the budget it may use.
 *
 * The bulkhead: at most bulkhead_max calls of one compartment (a service's
 * pool of processes, all its groups together) run at once on the host.
 * A call over that is refused (the caller answers from a stale copy or
 * 503): at once when a call holding a slot of the compartment has run
 * bulkhead_wait_ms or more, or a breaker involved is not CLOSED (KOS is
 * suspect: waiting would park one more process); else it waits for a slot
 * while every holder is younger than bulkhead_wait_ms (KOS answers; two
 * calls at the same moment are no reason to refuse).  The patience runs
 * from the holder's start, so the first moments of a hang park a waiter
 * for bulkhead_wait_ms at most, and later callers are refused at once.  A
 * slot belongs to a pid and lapses when that process is gone or after
 * bulkhead_ttl_ms, so a process killed mid-call cannot leak it.
 *
 * Times are pb_clock_mono_ms() (never the overridable wall clock).
 */
#ifndef PB_BREAKER_H
#define PB_BREAKER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PB_BREAKER_MAX_GROUPS 8
#define PB_BREAKER_NAME_MAX 32    /* bytes, including the NUL */
#define PB_BREAKER_MAX_PERMITS 16 /* half_open_permits ceiling */
#define PB_BREAKER_MAX_SLOTS 64   /* bulkhead_max ceiling */

enum pb_breaker_state {
	PB_BREAKER_CLOSED = 0,
	PB_BREAKER_OPEN,
	PB_BREAKER_HALF_OPEN
};

enum pb_breaker_outcome {
	PB_BREAKER_SUCCESS = 0, /* an answer, business codes included */
	PB_BREAKER_FAILURE      /* transport, timeout, 5xx, garbage */
};

struct pb_breaker_opts {
	int64_t window_ms;    /* ms of the sliding window; 0 -> 60000 */
	unsigned min_calls;   /* calls in the window before judging; 0 -> 10 */
	unsigned failure_pct; /* open at this failure rate, %; 0 -> 50 */
	int64_t slow_call_ms; /* a call this long counts as slow; 0 -> 3000 */
	unsigned slow_pct;    /* open at this slow-call rate, %; 0 -> 80 */
	int64_t open_ms;      /* ms to stay open; 0 -> 30000 */
	unsigned half_open_permits; /* probes at once in half-open; 0 -> 3 */
	int64_t permit_ttl_ms; /* ms before an unreleased permit lapses; 0 ->
	                          10000 */
	/* added for the bulkhead (0 = off where not said otherwise) */
	unsigned consecutive_slow; /* slow calls in a row that open; 0 off */
	int64_t probe_timeout_ms;  /* ms budget of a half-open probe; 0 none */
	unsigned bulkhead_max; /* calls at once per compartment; 0 unlimited */
	int64_t bulkhead_ttl_ms;  /* ms before a held slot lapses; 0 -> 10000 */
	int64_t bulkhead_wait_ms; /* ms a call may wait for a slot while KOS
	                             answers (no holder past slow_call_ms) */
	unsigned bulkhead_compartment; /* whose slots count towards the cap:
	                               one per service (pool of processes) */
};

/* Why pb_breaker_acquire refused. */
enum pb_breaker_refusal {
	PB_BREAKER_REFUSED_NONE = 0,
	PB_BREAKER_REFUSED_OPEN, /* open, or half-open with every permit out */
	PB_BREAKER_REFUSED_FULL  /* the bulkhead is full */
};

/* What a caller holds between acquire and release. */
struct pb_breaker_ticket {
	int group;
	int probe;           /* 1 when this call holds a half-open permit */
	uint64_t generation; /* state generation at acquire */
	int64_t start_ms;    /* monotonic ms */
	int slot;            /* bulkhead slot held, -1 none */
	int64_t slot_ms;     /* monotonic ms the slot was taken */
	int64_t timeout_ms;  /* ms this call may take (probes), 0 = its own */
	enum pb_breaker_refusal refused; /* set when acquire refused */
};

struct pb_breaker_stats {
	enum pb_breaker_state state;
	unsigned calls; /* calls ended in the window */
	unsigned failures;
	unsigned slow;
	unsigned permits_in_use; /* half-open probes running */
	int64_t open_until_ms;   /* when OPEN: monotonic ms it may half-open */
	uint64_t transitions;    /* state changes since the file was made */
	uint64_t rejected;       /* calls refused while open */
	unsigned slow_run;       /* slow calls in a row so far */
	/* the bulkhead of this handle's compartment */
	unsigned bulkhead_max;      /* 0: no bulkhead */
	unsigned bulkhead_in_use;   /* slots held now */
	uint64_t bulkhead_rejected; /* calls refused because it was full (all
	                               compartments of the host) */
};

struct pb_breaker;

/*
 * Map (creating if needed, mode 0600) the state file at path, with the
 * named groups names[0..ngroups) (e.g. "kos.bill", "kos.product") and the
 * same opts for each.  Every process of every service on the host passes
 * the same path.  A file made with other group names or another layout is
 * reinitialised (a new file renamed over the path; processes still
 * mapping the old one are not disturbed).  Every process must pass the same
 * opts: the window's bucket width is fixed by the process that creates the
 * file.  PB_ERR_CONFIG for half_open_permits over PB_BREAKER_MAX_PERMITS or
 * a path that is not a regular file of ours.  Keep the file on tmpfs (/run):
 * its monotonic times mean nothing after a reboot.  Caller frees with
 * pb_breaker_close.
 */
enum pb_err pb_breaker_open(const char *path, const char *const *names,
                            size_t ngroups, const struct pb_breaker_opts *opts,
                            struct pb_breaker **out);
void pb_breaker_close(struct pb_breaker *b);

/* Index of the group called name, or -1. */
int pb_breaker_group(const struct pb_breaker *b, const char *name);

/*
 * Ask to call group (this may wait bulkhead_wait_ms for a slot, above).
 * PB_OK: go ahead and call pb_breaker_release with the
 * ticket when the call ends.  PB_ERR_UNAVAILABLE: the breaker is open (or
 * half-open with every permit taken); do not call, and tell the client to
 * retry after *retry_after_ms (max(1000, time left open); 1000 when
 * half-open with every permit taken).  t->refused says which:
 * PB_BREAKER_REFUSED_OPEN, or PB_BREAKER_REFUSED_FULL when the bulkhead has
 * no free slot (retry after 1000 ms).  PB_ERR_INVAL for a bad group,
 * PB_ERR_INTERNAL if the shared mutex cannot be taken (treat as open).
 * With PB_OK, t->timeout_ms > 0 caps the call's budget (a probe).
 * Never blocks on I/O.
 */
enum pb_err pb_breaker_acquire(struct pb_breaker *b, int group,
                               struct pb_breaker_ticket *t,
                               int64_t *retry_after_ms);

/*
 * Record how the call ended (duration measured from the ticket) and give
 * back its bulkhead slot.  A ticket acquired before a state transition is
 * not counted (stale; its slot is still given back), and releasing the
 * same ticket twice does nothing.
 */
void pb_breaker_release(struct pb_breaker *b, struct pb_breaker_ticket *t,
                        enum pb_breaker_outcome outcome);

/*
 * Whether a caller should stop waiting for another process's call of
 * group (single-flight waiters): 1 when the breaker is not CLOSED or a
 * call of group holding a bulkhead slot has run slow_call_ms or more; 0
 * otherwise (also for a bad group or a lock failure: then the waiter's
 * own deadline decides).  Never blocks on I/O.
 */
int pb_breaker_slow_now(struct pb_breaker *b, int group);

/*
 * pb_breaker_slow_now() for a waiter that stops when it says 1: when the
 * cause is a call of group past slow_call_ms (the breaker still CLOSED),
 * the waiter counts as one more slow call in group's run, as a call the
 * bulkhead refused does (it would have waited on the same slow KOS).  So
 * a hang opens the breaker as fast when every request wants one hot key
 * (one caller, the rest waiting) as when they want many.
 */
int pb_breaker_give_up(struct pb_breaker *b, int group);

/*
 * Current state and counters of group (for /health and logs).  An open
 * breaker whose wait has passed still reads OPEN until the next acquire
 * moves it to half-open.  PB_ERR_INVAL for a bad group.
 */
enum pb_err pb_breaker_stats(struct pb_breaker *b, int group,
                             struct pb_breaker_stats *out);

/* "CLOSED", "OPEN", "HALF_OPEN". */
const char *pb_breaker_state_name(enum pb_breaker_state s);

#endif
