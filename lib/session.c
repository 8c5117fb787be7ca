/* session.c - session records in Redis (see session.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "session.h"

#define KEY_MAX 96  /* bytes of a Redis key */

/* KEYS[1] session, KEYS[2] deny; ARGV[1] uid, ARGV[2] idle ttl ms */
static const char touch_lua[] =
	"if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end "
	"local v = redis.call('HMGET', KEYS[1], 'uid', 'cust', 'line', "
	"'name', 'perms', 'auto', 'rjti') "
	"if not v[1] or v[1] ~= ARGV[1] then return 0 end "
	"if v[6] ~= '1' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
	"return v";

/* KEYS[1] session; ARGV[1] uid, ARGV[2] presented jti, ARGV[3] new jti,
 * ARGV[4] idle ttl ms.  0: no session, -1: reuse (revoked), else fields. */
static const char rotate_lua[] =
	"local v = redis.call('HMGET', KEYS[1], 'uid', 'cust', 'line', "
	"'name', 'perms', 'auto', 'rjti') "
	"if not v[1] or v[1] ~= ARGV[1] then return 0 end "
	"if v[7] ~= ARGV[2] then redis.call('DEL', KEYS[1]) return -1 end "
	"redis.call('HSET', KEYS[1], 'rjti', ARGV[3]) "
	"if v[6] ~= '1' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end "
	"v[7] = ARGV[3] "
	"return v";

static enum pb_err
key_of(const char *prefix, const char *id, char *out, size_t outlen)
{
	int n;

	if (id == NULL || id[0] == '\0' || strlen(id) > PB_SESSION_ID_MAX)
		return PB_ERR_INVAL;
	n = snprintf(out, outlen, "%s%s", prefix, id);
	return n > 0 && (size_t)n < outlen ? PB_OK : PB_ERR_TOOBIG;
}

/* Copy the 7 HMGET fields into out. */
static enum pb_err
fill(const redisReply *rep, const char *sid, struct pb_session *out)
{
	const redisReply *e;
	size_t i;
	char *end = NULL;
	unsigned long perms;

	/* an error reply is Redis failing, not a missing session (503) */
	if (rep->type == REDIS_REPLY_ERROR)
		return PB_ERR_UNAVAILABLE;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 7)
		return PB_ERR_NOTFOUND;
	for (i = 0; i < 7; i++)
		if (rep->element[i]->type != REDIS_REPLY_STRING)
			return PB_ERR_INTERNAL;
	e = rep->element[4];
	perms = strtoul(e->str, &end, 10);
	if (end == e->str || *end != '\0' || perms > 0xffu)
		return PB_ERR_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (pb_strlcpy(out->sid, sid, sizeof(out->sid)) != PB_OK ||
	    pb_strlcpy(out->user_id, rep->element[0]->str,
	    sizeof(out->user_id)) != PB_OK ||
	    pb_strlcpy(out->customer_id, rep->element[1]->str,
	    sizeof(out->customer_id)) != PB_OK ||
	    pb_strlcpy(out->line, rep->element[2]->str,
	    sizeof(out->line)) != PB_OK ||
	    pb_strlcpy(out->name, rep->element[3]->str,
	    sizeof(out->name)) != PB_OK ||
	    pb_strlcpy(out->rjti, rep->element[6]->str,
	    sizeof(out->rjti)) != PB_OK)
		return PB_ERR_INTERNAL;
	out->perms = (unsigned)perms;
	out->auto_login = strcmp(rep->element[5]->str, "1") == 0;
	return PB_OK;
}

enum pb_err
pb_session_create(struct pb_redis *r, const struct pb_session *s,
    int64_t ttl_ms)
{
	char key[KEY_MAX], perms[16], ttl[24];
	const char *argv[20];
	redisReply *rep = NULL;
	enum pb_err rc;
	int n = 0;

	rc = key_of("v1:sess:", s->sid, key, sizeof(key));
	if (rc != PB_OK)
		goto out;
	snprintf(perms, sizeof(perms), "%u", s->perms);
	snprintf(ttl, sizeof(ttl), "%" PRId64, ttl_ms > 0 ? ttl_ms : 1);
	/* MULTI-free: HSET then PEXPIRE in one script */
	argv[n++] = "EVAL";
	argv[n++] = "redis.call('HSET', KEYS[1], 'uid', ARGV[1], 'cust', "
	    "ARGV[2], 'line', ARGV[3], 'name', ARGV[4], 'perms', ARGV[5], "
	    "'auto', ARGV[6], 'rjti', ARGV[7]) "
	    "redis.call('PEXPIRE', KEYS[1], ARGV[8]) return 1";
	argv[n++] = "1";
	argv[n++] = key;
	argv[n++] = s->user_id;
	argv[n++] = s->customer_id;
	argv[n++] = s->line;
	argv[n++] = s->name;
	argv[n++] = perms;
	argv[n++] = s->auto_login ? "1" : "0";
	argv[n++] = s->rjti;
	argv[n++] = ttl;
	rc = pb_redis_cmd_str(r, &rep, n, argv);
	if (rc == PB_OK && rep->type != REDIS_REPLY_INTEGER)
		rc = PB_ERR_INTERNAL;
	if (rc == PB_OK)
		rc = pb_redis_durable(r);  /* a failover keeps the session */
out:
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_session_touch(struct pb_redis *r, const char *sid, const char *uid,
    const char *jti, int64_t idle_ttl_ms, struct pb_session *out)
{
	char key[KEY_MAX], deny[KEY_MAX], ttl[24];
	const char *argv[7];
	redisReply *rep = NULL;
	enum pb_err rc;

	memset(out, 0, sizeof(*out));
	rc = key_of("v1:sess:", sid, key, sizeof(key));
	if (rc == PB_OK)
		rc = key_of("v1:deny:", jti, deny, sizeof(deny));
	if (rc != PB_OK || uid == NULL) {
		rc = PB_ERR_NOTFOUND;
		goto out;
	}
	snprintf(ttl, sizeof(ttl), "%" PRId64, idle_ttl_ms > 0 ?
	    idle_ttl_ms : 1);
	argv[0] = "EVAL";
	argv[1] = touch_lua;
	argv[2] = "2";
	argv[3] = key;
	argv[4] = deny;
	argv[5] = uid;
	argv[6] = ttl;
	rc = pb_redis_cmd_str(r, &rep, 7, argv);
	if (rc != PB_OK)
		goto out;
	rc = fill(rep, sid, out);
out:
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_session_rotate(struct pb_redis *r, const char *sid, const char *uid,
    const char *rjti, const char *new_rjti, int64_t idle_ttl_ms,
    struct pb_session *out)
{
	char key[KEY_MAX], ttl[24];
	const char *argv[8];
	redisReply *rep = NULL;
	enum pb_err rc;

	memset(out, 0, sizeof(*out));
	rc = key_of("v1:sess:", sid, key, sizeof(key));
	if (rc != PB_OK || uid == NULL || rjti == NULL || new_rjti == NULL) {
		rc = PB_ERR_NOTFOUND;
		goto out;
	}
	snprintf(ttl, sizeof(ttl), "%" PRId64, idle_ttl_ms > 0 ?
	    idle_ttl_ms : 1);
	argv[0] = "EVAL";
	argv[1] = rotate_lua;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = uid;
	argv[5] = rjti;
	argv[6] = new_rjti;
	argv[7] = ttl;
	rc = pb_redis_cmd_str(r, &rep, 8, argv);
	if (rc != PB_OK)
		goto out;
	if (rep->type == REDIS_REPLY_INTEGER) {
		rc = rep->integer == -1 ? PB_ERR_STATE : PB_ERR_NOTFOUND;
		goto out;
	}
	rc = fill(rep, sid, out);
out:
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_session_delete(struct pb_redis *r, const char *sid)
{
	char key[KEY_MAX];
	const char *argv[2];
	redisReply *rep = NULL;
	enum pb_err rc;

	rc = key_of("v1:sess:", sid, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	argv[0] = "DEL";
	argv[1] = key;
	rc = pb_redis_cmd_str(r, &rep, 2, argv);
	if (rc == PB_OK && rep->type == REDIS_REPLY_ERROR)
		rc = PB_ERR_INTERNAL;
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_session_deny(struct pb_redis *r, const char *jti, int64_t ttl_ms)
{
	char key[KEY_MAX], ttl[24];
	const char *argv[5];
	redisReply *rep = NULL;
	enum pb_err rc;

	rc = key_of("v1:deny:", jti, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	snprintf(ttl, sizeof(ttl), "%" PRId64, ttl_ms > 0 ? ttl_ms : 1);
	argv[0] = "SET";
	argv[1] = key;
	argv[2] = "1";
	argv[3] = "PX";
	argv[4] = ttl;
	rc = pb_redis_cmd_str(r, &rep, 5, argv);
	if (rc == PB_OK && rep->type == REDIS_REPLY_ERROR)
		rc = PB_ERR_INTERNAL;
	freeReplyObject(rep);
	return rc;
}
