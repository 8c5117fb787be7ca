/*
 * worker.h - one background thread per process for periodic work
 * (spool replay, MVNO retries).
 *
 * The thread calls fn(ud) once at start, then again interval_ms after
 * each call returns (a fixed delay, not a fixed rate), and at once when
 * woken.  Wakes that arrive while fn runs are coalesced into one more call
 * right after it.  fn runs only in the worker thread, never twice at the
 * same time, and must use its own handles (pb_db, pb_http, pb_spool ...),
 * never the request thread's: none of those is thread-safe.
 *
 * Every signal is blocked in the thread (the mask is set before the thread
 * exists, so there is no window), so SIGTERM/SIGINT keep going to the main
 * thread and its accept loop.  Log lines from fn carry no request id
 * (log.c keeps the id per thread).
 *
 * Start the worker in the process that will use it, after any fork(): a
 * child does not inherit the thread.  Libraries with global set-up
 * (curl_global_init, sodium_init, mysql_library_init) must have been set
 * up by the main thread before pb_worker_start.
 */
#ifndef PB_WORKER_H
#define PB_WORKER_H

#include <stdint.h>

#include "err.h"

#define PB_WORKER_MAX_INTERVAL_MS (24LL * 3600 * 1000) /* ms, one day */

typedef void (*pb_worker_fn)(void *ud);

struct pb_worker;

/*
 * Start a thread calling fn(ud) every interval_ms (1 ..
 * PB_WORKER_MAX_INTERVAL_MS) and at once when woken; ud is borrowed until
 * pb_worker_stop returns.  PB_ERR_INVAL for a NULL fn or an interval out
 * of range, PB_ERR_NOMEM, PB_ERR_INTERNAL when the thread or its wake-up
 * pipe cannot be made.  Caller stops (and frees) with pb_worker_stop.
 */
enum pb_err pb_worker_start(pb_worker_fn fn, void *ud, int64_t interval_ms,
                            struct pb_worker **out);

/*
 * Run fn soon: from the request thread (e.g. after a response) or from a
 * signal handler.  One non-blocking write(2); never blocks, never fails
 * visibly (a wake already pending is enough).  NULL is a no-op.
 */
void pb_worker_wake(struct pb_worker *w);

/*
 * Ask the thread to finish, wait for the call of fn in progress (if any)
 * to return, join the thread and free w.  fn is not called again.  NULL
 * is a no-op.  In a child process after fork() (where the thread does not
 * exist) only the memory and descriptors are released.
 */
void pb_worker_stop(struct pb_worker *w);

#endif
