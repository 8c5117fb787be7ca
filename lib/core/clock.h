/*
 * clock.h - the single source of time for the services.
 *
 * Wall-clock time can be pinned or shifted, by tests in-process
 * (pb_clock_set_*) or for a whole program through the environment
 * (PHONEBILL_CLOCK_OFFSET_MS, read by pb_clock_init_from_env; refused
 * unless PHONEBILL_ALLOW_CLOCK_OVERRIDE=1 so production cannot be fooled
 * by a stray variable).  Monotonic time is never overridden: deadlines
 * and latencies must not jump.
 */
#ifndef PB_CLOCK_H
#define PB_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

/* Korea Standard Time (UTC+9) in minutes east of UTC: the zone customers
   see and the default of tz.offset_minutes; storage is always UTC. */
#define PB_CLOCK_KST_OFFSET_MIN 540

/* Milliseconds since the Unix epoch, after any override. */
int64_t pb_clock_now_ms(void);
/* Milliseconds from CLOCK_MONOTONIC, for durations and deadlines. */
int64_t pb_clock_mono_ms(void);

/* Pin wall time to ms (tests).  pb_clock_reset() undoes any override. */
void pb_clock_set_fixed(int64_t ms);
/* Shift wall time by offset ms (may be negative). */
void pb_clock_set_offset(int64_t offset_ms);
void pb_clock_reset(void);
/* Apply PHONEBILL_CLOCK_OFFSET_MS when allowed; PB_ERR_CONFIG if malformed. */
enum pb_err pb_clock_init_from_env(void);

/*
 * Format ms as RFC 3339 with a fixed UTC offset in minutes
 * (PB_CLOCK_KST_OFFSET_MIN = 540 = +09:00):
 * "2026-11-24T10:30:00+09:00" (25 bytes + NUL).  Offset 0 prints "Z".
 * Returns PB_ERR_TOOBIG if out is under PB_CLOCK_RFC3339_LEN bytes.
 */
#define PB_CLOCK_RFC3339_LEN 32
enum pb_err pb_clock_rfc3339(int64_t ms, int offset_min, char *out,
                             size_t outlen);

/* Calendar fields of ms shifted by offset_min (month 1-12). */
struct pb_date {
	int year, month, day, hour, min, sec;
};
void pb_clock_date(int64_t ms, int offset_min, struct pb_date *out);
/* The inverse: ms since the epoch of the local time d at offset_min
 * (fields are not range-checked; sec may carry into minutes, etc.). */
int64_t pb_clock_from_date(const struct pb_date *d, int offset_min);

#endif
