/*
 * config.h - one key=value config file plus environment overrides, and
 * secrets that only come from the environment or a protected file.
 *
 * File format: "key = value" per line, '#' starts a comment line, blank
 * lines ignored.  Keys are [a-z0-9._]; values are trimmed; no quoting.
 * Limits: file 64 KiB, 256 entries, key 64 bytes, value 1024 bytes;
 * a duplicate key is an error.
 *
 * Override: environment PHONEBILL_<KEY> (dots become '_', upper-cased)
 * wins over the file: "db.name" <- PHONEBILL_DB_NAME.
 *
 * Secrets (pb_config_secret): never read from the config file itself.  The
 * value comes from PHONEBILL_<KEY> or from the file named by
 * PHONEBILL_<KEY>_FILE or the config key "<key>_file".  That file must be a
 * regular file owned by root or by the effective uid, with no group or
 * other permission bits (0600/0400).
 */
#ifndef PB_CONFIG_H
#define PB_CONFIG_H

#include <stddef.h>
#include "err.h"

#define PB_CONFIG_MAX_FILE (64 * 1024) /* bytes */
#define PB_CONFIG_MAX_ENTRIES 256
#define PB_CONFIG_MAX_KEY 64      /* bytes, including NUL */
#define PB_CONFIG_MAX_VALUE 1024  /* bytes, including NUL */
#define PB_CONFIG_MAX_SECRET 4096 /* bytes */

struct pb_config;

/*
 * Load path (NULL: an empty config, environment only).  On failure *out is
 * NULL and err holds a one-line reason naming the file and line.  The
 * caller frees *out with pb_config_free.
 */
enum pb_err pb_config_load(const char *path, struct pb_config **out, char *err,
                           size_t errlen);
void pb_config_free(struct pb_config *c);

/*
 * Fail with PB_ERR_CONFIG (and the key in err) if the file holds a key not
 * in known[] (NULL-terminated): a typo must not silently use a default.
 */
enum pb_err pb_config_check_known(const struct pb_config *c,
                                  const char *const *known, char *err,
                                  size_t errlen);

/* Value of key after environment override, or def.  Borrowed from c/env. */
const char *pb_config_get(const struct pb_config *c, const char *key,
                          const char *def);

/* Integer value within [min, max]; def when unset; PB_ERR_CONFIG if bad. */
enum pb_err pb_config_get_long(const struct pb_config *c, const char *key,
                               long def, long min, long max, long *out,
                               char *err, size_t errlen);

/*
 * Load secret key (see above).  min_len: shortest acceptable value in
 * bytes (0: any non-empty).  On PB_OK *out is a NUL-terminated copy the
 * caller releases with pb_config_secret_free (wiped before free).
 * PB_ERR_CONFIG with a reason in err when missing, too short, in the
 * config file itself, or held in an unprotected file.
 */
enum pb_err pb_config_secret(const struct pb_config *c, const char *key,
                             size_t min_len, char **out, char *err,
                             size_t errlen);
void pb_config_secret_free(char *secret);

#endif
