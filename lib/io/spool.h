/*
 * spool.h - a durable local spool for history records that could not be
 * written to MariaDB (ARCHITECTURE.md "History without loss").
 *
 * One record per file in one directory, named
 *   <ms since the epoch, 13 digits>-<pid, 10 digits>-<seq, 10 digits>.rec
 * so that the names sort oldest first across every process writing the
 * directory (ties within a millisecond are broken by pid, then by a
 * per-process counter).  A record file is a one-line text header
 *   PBSPOOL1 <kind> <key> <s|p> <bytes>\n
 * (format version, kind, key, sealed or plain, bytes that follow) and the
 * data.  With a key, the data is sealed with pb_crypto_seal
 * (XChaCha20-Poly1305): personal data never sits in clear on disk; kind
 * and key (a request id) are in clear, so they must not be personal.
 * Plain records (written before a key was configured) are still read.
 *
 * A put is durable when it returns PB_OK: the file is written under a
 * temporary name (".tmp-..."), fsync'ed, renamed to its final name, and
 * the directory is fsync'ed.  Temporary files left by a crash are ignored
 * and removed by pb_spool_replay once they are older than a minute.
 *
 * Replay claims each record with flock(LOCK_EX|LOCK_NB) on its open file,
 * so several processes (or threads, each with its own pb_spool) may
 * replay one directory at once and fn runs for a record in one place at a
 * time; the kernel drops the lock of a claimant that dies, and the record
 * is replayable again.  A record may therefore be applied more than once
 * (a crash between fn and the unlink, or a lost directory update): fn
 * must be idempotent (history rows are de-duplicated by request_id).
 * flock needs a local filesystem (not NFS).
 *
 * The directory must be owned by the process's user and not writable by
 * group or others (records written there are trusted).  Failed records
 * go to dir/failed/ for a person to look at; they are not counted as
 * pending and never replayed.
 *
 * A struct pb_spool is not thread-safe: one per thread.  sodium_init()
 * is called by pb_spool_open when a key is given.
 */
#ifndef PB_SPOOL_H
#define PB_SPOOL_H

#include <stddef.h>

#include "err.h"

/* kind: 1-31 of [a-z0-9._-]; key: 1-64 of [A-Za-z0-9._-], i.e. any
   request id (DESIGN.md).  Both sizes are bytes including the NUL. */
#define PB_SPOOL_MAX_KIND 32
#define PB_SPOOL_MAX_KEY 65
#define PB_SPOOL_DEFAULT_MAX_RECORDS 100000
#define PB_SPOOL_DEFAULT_MAX_RECORD (256 * 1024)     /* bytes */
#define PB_SPOOL_LIMIT_MAX_RECORD (16 * 1024 * 1024) /* bytes */
#define PB_SPOOL_LIMIT_MAX_RECORDS 10000000
#define PB_SPOOL_TMP_MAX_AGE_S 60 /* s before a temp file is junk */

struct pb_spool_opts {
	const char *dir;          /* created 0700 if missing (parent must
	                             exist); read by pb_spool_open only */
	size_t max_records;       /* 0 -> 100000, at most 10^7; put beyond
	                             it -> PB_ERR_TOOBIG (and logged).  The
	                             count is re-read from the directory at
	                             most once a second, so with several
	                             writers the ceiling is approximate. */
	size_t max_record;        /* bytes of data, 0 -> 256 KiB; at most
	                             16 MiB, and PB_CRYPTO_SEAL_MAX with a
	                             key */
	const unsigned char *key; /* NULL: stored as is; else
	                             PB_CRYPTO_KEY_LEN bytes (copied): every
	                             record's data sealed */
};

struct pb_spool;

/*
 * Open (and create) the spool directory and its failed/ subdirectory.
 * PB_ERR_INVAL for bad options, PB_ERR_CONFIG when the directory is not
 * ours or is writable by group/others, PB_ERR_IO when it cannot be
 * created or opened (or is not a directory), PB_ERR_NOMEM.  *out is NULL
 * on failure; caller frees with pb_spool_close.
 */
enum pb_err pb_spool_open(const struct pb_spool_opts *o, struct pb_spool **out);
/* Close the directory and wipe the key; NULL is a no-op. */
void pb_spool_close(struct pb_spool *s);

/*
 * Store one record: kind (1-31 of [a-z0-9._-]), key (1-64 of
 * [A-Za-z0-9._-]), data[0..len) (any bytes; data may be NULL when len is
 * 0).  Durable when PB_OK: written to a temp file in dir, fsync, rename
 * to its final name, fsync(dir).  PB_ERR_INVAL for a bad kind or key,
 * PB_ERR_TOOBIG for data over max_record or a spool holding max_records
 * (both logged with kind and key), PB_ERR_IO when writing failed (logged;
 * nothing is left behind, except when only the final fsync of the
 * directory failed: the record may then survive and be replayed).
 */
enum pb_err pb_spool_put(struct pb_spool *s, const char *kind, const char *key,
                         const void *data, size_t len);

/*
 * Called for each replayed record: data decrypted, NUL-terminated (the
 * NUL is not counted in len; data may hold other NULs), borrowed for the
 * call.  Return PB_OK when the record is applied (it is deleted),
 * PB_ERR_UNAVAILABLE when the destination is down (replay stops, the
 * record stays), anything else when the record can never be applied (it
 * goes to failed/).
 */
typedef enum pb_err (*pb_spool_fn)(void *ud, const char *kind, const char *key,
                                   const char *data, size_t len);

/*
 * Replay up to max records (0 = all, at most max_records in one call),
 * oldest first.  Records another replayer holds are skipped.  fn PB_OK
 * -> record deleted; fn PB_ERR_UNAVAILABLE -> stop, keep the record,
 * return PB_ERR_UNAVAILABLE; any other error -> record moved to
 * dir/failed/ (logged with kind and key, never the data) and replay
 * continues.  A record that cannot be read, parsed or decrypted, or is
 * over max_record, is moved to failed/ too.  *done (may be NULL) =
 * records applied (fn PB_OK).  PB_OK when the pass ended normally,
 * PB_ERR_IO when the directory could not be read, PB_ERR_NOMEM.
 */
enum pb_err pb_spool_replay(struct pb_spool *s, pb_spool_fn fn, void *ud,
                            size_t max, size_t *done);

/*
 * Records waiting (for /health): one readdir pass over the directory
 * (about 10 ms for 100000 records).  Records being replayed count;
 * failed ones do not.  0 when the directory cannot be read.
 */
size_t pb_spool_pending(struct pb_spool *s);

#endif
