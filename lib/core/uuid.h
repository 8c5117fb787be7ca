/*
 * uuid.h - RFC 4122 version 4 UUIDs as text: request ids and KOS
 * requestIds.
 *
 * pb_uuid_v4 draws 16 bytes from libsodium's randombytes_buf (safe in
 * any thread and after fork(); sodium_init() should have run, as every
 * service does at start-up).  pb_uuid_v4_format shapes 16 bytes the
 * caller chose (a keyed hash, say) the same way: version 4 and the RFC
 * 4122 variant are set, the other 122 bits are kept.  Text is lower-case
 * hex, "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx": PB_UUID_LEN bytes with
 * the NUL.  No state, no allocation.  pb_req_id_valid checks an id that
 * came from outside (X-Request-ID, a history record).
 */
#ifndef PB_UUID_H
#define PB_UUID_H

#include <stddef.h>

#include "err.h"

#define PB_UUID_LEN 37   /* bytes: 36 characters + NUL */
#define PB_REQ_ID_MAX 64 /* chars of a client-supplied X-Request-ID */

/* b[0..16) with the version and variant bits set (b is changed), as text
   into out; PB_ERR_TOOBIG (out empty when outlen > 0) if outlen is under
   PB_UUID_LEN. */
enum pb_err pb_uuid_v4_format(unsigned char b[16], char *out, size_t outlen);

/* A random UUID v4 into out; PB_ERR_TOOBIG as above. */
enum pb_err pb_uuid_v4(char *out, size_t outlen);

/* A request id we accept from a client or a record: 1..PB_REQ_ID_MAX
   characters of [A-Za-z0-9._-]. */
int pb_req_id_valid(const char *s);

#endif
