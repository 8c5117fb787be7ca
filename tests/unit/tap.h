/*
 * tap.h - a minimal TAP producer for the unit tests (header only).
 *
 * Each check prints "ok N - name" or "not ok N - name"; tap_done() prints
 * the plan and returns the exit status (0 when every check passed).
 * tap_skip_all() prints "1..0 # SKIP reason" for a test that cannot run.
 */
#ifndef PB_TAP_H
#define PB_TAP_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int tap_n;
static int tap_failed;

static inline int
tap_ok(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	if (cond) {
		printf("ok %d - %s\n", tap_n, name);
	} else {
		tap_failed++;
		printf("not ok %d - %s\n# at %s:%d\n", tap_n, name, file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, name) tap_ok(!!(cond), __FILE__, __LINE__, (name))

#define is_int(got, want, name)                                                \
	do {                                                                   \
		long long tap_g_ = (long long)(got),                           \
		          tap_w_ = (long long)(want);                          \
		if (!tap_ok(tap_g_ == tap_w_, __FILE__, __LINE__, (name)))     \
			printf("# got %lld, want %lld\n", tap_g_, tap_w_);     \
	} while (0)

#define is_str(got, want, name)                                                \
	do {                                                                   \
		const char *tap_g_ = (got), *tap_w_ = (want);                  \
		int tap_c_ = tap_g_ != NULL && tap_w_ != NULL &&               \
		             strcmp(tap_g_, tap_w_) == 0;                      \
		if (!tap_ok(tap_c_, __FILE__, __LINE__, (name)))               \
			printf("# got \"%s\", want \"%s\"\n",                  \
			       tap_g_ ? tap_g_ : "(null)",                     \
			       tap_w_ ? tap_w_ : "(null)");                    \
	} while (0)

static inline void
tap_diag(const char *msg)
{
	printf("# %s\n", msg);
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed == 0 ? 0 : 1;
}

static inline int
tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	return 0;
}

#endif
