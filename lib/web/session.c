/* session.c - session records in Redis (see session.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "crypto.h"
#include "session.h"

#define KEY_MAX 96 /* bytes of a Redis key */

#define NFIELDS 10 /* uid cust line name perms auto rjti ver born pii */
#define FIELDS                                                                 \
	"'uid', 'cust', 'line', 'name', 'perms', 'auto', 'rjti', "             \
	"'ver', 'born', 'pii'"
#define PII_MAX 512 /* bytes of the base64 sealed "line\nname" */

/* pb_session_protect's key: line and name sealed in the 'pii' field. */
static struct {
	int on;
	unsigned char key[PB_CRYPTO_KEY_LEN];
} prot;

void
pb_session_protect(const unsigned char *seal_key)
{
	if (seal_key == NULL)
		return;
	memcpy(prot.key, seal_key, sizeof(prot.key));
	prot.on = 1;
}

/* "line\nname" sealed, base64 into out (outlen >= PII_MAX). */
static enum pb_err
seal_pii(const struct pb_session *s, char *out, size_t outlen)
{
	char pt[16 + PB_SESSION_NAME_MAX + 2];
	unsigned char *ct = NULL;
	size_t ctlen = 0;
	enum pb_err rc;
	int n;

	n = snprintf(pt, sizeof(pt), "%s\n%s", s->line, s->name);
	if (n < 0 || (size_t)n >= sizeof(pt))
		return PB_ERR_TOOBIG;
	rc = pb_crypto_seal(prot.key, pt, (size_t)n, &ct, &ctlen);
	sodium_memzero(pt, sizeof(pt));
	if (rc != PB_OK)
		return rc;
	if (sodium_base64_encoded_len(ctlen, sodium_base64_VARIANT_ORIGINAL) >
	    outlen)
		rc = PB_ERR_TOOBIG;
	else
		sodium_bin2base64(out, outlen, ct, ctlen,
		                  sodium_base64_VARIANT_ORIGINAL);
	free(ct);
	return rc;
}

/* The 'pii' field back into out->line and out->name. */
static enum pb_err
open_pii(const char *b64, struct pb_session *out)
{
	unsigned char ct[PII_MAX];
	char pt[16 + PB_SESSION_NAME_MAX + 2], *nl;
	size_t ctlen = 0, ptlen = 0;
	enum pb_err rc = PB_ERR_INTERNAL;

	if (!prot.on ||
	    sodium_base642bin(ct, sizeof(ct), b64, strlen(b64), NULL, &ctlen,
	                      NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    pb_crypto_open(prot.key, ct, ctlen, pt, sizeof(pt), &ptlen) !=
	        PB_OK)
		goto out;
	nl = strchr(pt, '\n');
	if (nl == NULL)
		goto out;
	*nl = '\0';
	if (pb_strlcpy(out->line, pt, sizeof(out->line)) == PB_OK &&
	    pb_strlcpy(out->name, nl + 1, sizeof(out->name)) == PB_OK)
		rc = PB_OK;
out:
	sodium_memzero(pt, sizeof(pt));
	return rc;
}

/* KEYS[1] session, KEYS[2] deny, KEYS[3] user version; ARGV[1] uid,
 * ARGV[2] idle ttl ms.  A session without ver/born (made before they
 * existed) counts as version 0, born 0. */
static const char touch_lua[] =
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end "
    "local v = redis.call('HMGET', KEYS[1], " FIELDS ") "
    "if not v[1] or v[1] ~= ARGV[1] then return 0 end "
    "v[8] = v[8] or '0' v[9] = v[9] or '0' v[10] = v[10] or '' "
    "v[3] = v[3] or '' v[4] = v[4] or '' "
    "if v[8] ~= (redis.call('GET', KEYS[3]) or '0') then "
    "redis.call('DEL', KEYS[1]) return 0 end "
    "if v[6] ~= '1' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
    "return v";

/* KEYS[1] session, KEYS[2] user version; ARGV[1] uid, ARGV[2] presented
 * jti, ARGV[3] new jti, ARGV[4] idle ttl ms, ARGV[5] now ms, ARGV[6] max
 * life ms, ARGV[7] perms.  0: no session or outdated, -1: reuse
 * (revoked), -2: past its absolute lifetime, else the fields.  A session
 * without born gets it now (sessions made before the lifetime existed). */
static const char rotate_lua[] =
    "local v = redis.call('HMGET', KEYS[1], " FIELDS ") "
    "if not v[1] or v[1] ~= ARGV[1] then return 0 end "
    "local now = tonumber(ARGV[5]) local life = tonumber(ARGV[6]) "
    "v[8] = v[8] or '0' v[10] = v[10] or '' "
    "v[3] = v[3] or '' v[4] = v[4] or '' "
    "if v[8] ~= (redis.call('GET', KEYS[2]) or '0') then "
    "redis.call('DEL', KEYS[1]) return 0 end "
    "if v[7] ~= ARGV[2] then redis.call('DEL', KEYS[1]) return -1 end "
    "local born = tonumber(v[9]) or now "
    "local left = born + life - now "
    "if left <= 0 then redis.call('DEL', KEYS[1]) return -2 end "
    "redis.call('HSET', KEYS[1], 'rjti', ARGV[3], 'perms', ARGV[7], "
    "'born', born) "
    "local ttl = left "
    "if v[6] ~= '1' and tonumber(ARGV[4]) < left then ttl = ARGV[4] end "
    "redis.call('PEXPIRE', KEYS[1], ttl) "
    "v[5] = ARGV[7] v[7] = ARGV[3] v[9] = tostring(born) "
    "return v";

/* KEYS[1] session; ARGV: the fields, ARGV[8] the ttl ms. */
static const char create_lua[] =
    "redis.call('HSET', KEYS[1], 'uid', ARGV[1], 'cust', "
    "ARGV[2], 'line', ARGV[3], 'name', ARGV[4], 'perms', ARGV[5], "
    "'auto', ARGV[6], 'rjti', ARGV[7], 'ver', ARGV[9], 'born', "
    "ARGV[10], 'pii', ARGV[11]) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[8]) return 1";

static enum pb_err
key_of(const char *prefix, const char *id, char *out, size_t outlen)
{
	int n;

	if (id == NULL || id[0] == '\0' || strlen(id) > PB_SESSION_ID_MAX)
		return PB_ERR_INVAL;
	n = snprintf(out, outlen, "%s%s", prefix, id);
	return n > 0 && (size_t)n < outlen ? PB_OK : PB_ERR_TOOBIG;
}

/* Copy the NFIELDS HMGET fields into out. */
static enum pb_err
fill(const redisReply *rep, const char *sid, struct pb_session *out)
{
	const redisReply *e;
	size_t i;
	char *end = NULL;
	unsigned long perms;
	long long born;

	/* an error reply is Redis failing, not a missing session (503) */
	if (rep->type == REDIS_REPLY_ERROR)
		return PB_ERR_UNAVAILABLE;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != NFIELDS)
		return PB_ERR_NOTFOUND;
	for (i = 0; i < NFIELDS; i++)
		if (rep->element[i]->type != REDIS_REPLY_STRING)
			return PB_ERR_INTERNAL;
	e = rep->element[4];
	perms = strtoul(e->str, &end, 10);
	if (end == e->str || *end != '\0' || perms > 0xffu)
		return PB_ERR_INTERNAL;
	e = rep->element[8];
	born = strtoll(e->str, &end, 10);
	if (end == e->str || *end != '\0' || born < 0)
		return PB_ERR_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (pb_strlcpy(out->sid, sid, sizeof(out->sid)) != PB_OK ||
	    pb_strlcpy(out->user_id, rep->element[0]->str,
	               sizeof(out->user_id)) != PB_OK ||
	    pb_strlcpy(out->customer_id, rep->element[1]->str,
	               sizeof(out->customer_id)) != PB_OK ||
	    pb_strlcpy(out->line, rep->element[2]->str, sizeof(out->line)) !=
	        PB_OK ||
	    pb_strlcpy(out->name, rep->element[3]->str, sizeof(out->name)) !=
	        PB_OK ||
	    pb_strlcpy(out->rjti, rep->element[6]->str, sizeof(out->rjti)) !=
	        PB_OK ||
	    pb_strlcpy(out->ver, rep->element[7]->str, sizeof(out->ver)) !=
	        PB_OK)
		return PB_ERR_INTERNAL;
	out->born_ms = (int64_t)born;
	if (rep->element[9]->str[0] != '\0' &&
	    open_pii(rep->element[9]->str, out) != PB_OK)
		return PB_ERR_INTERNAL;
	out->perms = (unsigned)perms;
	out->auto_login = strcmp(rep->element[5]->str, "1") == 0;
	return PB_OK;
}

enum pb_err
pb_session_create(struct pb_redis *r, const struct pb_session *s,
                  int64_t ttl_ms)
{
	char key[KEY_MAX], perms[16], ttl[24], born[24], pii[PII_MAX];
	const char *argv[12];
	redisReply *rep = NULL;
	enum pb_err rc;
	int n = 0;

	rc = key_of("v1:sess:", s->sid, key, sizeof(key));
	if (rc != PB_OK)
		goto out;
	snprintf(perms, sizeof(perms), "%u", s->perms);
	snprintf(ttl, sizeof(ttl), "%" PRId64, ttl_ms > 0 ? ttl_ms : 1);
	snprintf(born, sizeof(born), "%" PRId64, s->born_ms);
	pii[0] = '\0';
	if (prot.on) {
		rc = seal_pii(s, pii, sizeof(pii));
		if (rc != PB_OK)
			goto out;
	}
	/* MULTI-free: HSET then PEXPIRE in one script */
	argv[n++] = key;
	argv[n++] = s->user_id;
	argv[n++] = s->customer_id;
	/* sealed: line and name only in 'pii' */
	argv[n++] = prot.on ? "" : s->line;
	argv[n++] = prot.on ? "" : s->name;
	argv[n++] = perms;
	argv[n++] = s->auto_login ? "1" : "0";
	argv[n++] = s->rjti;
	argv[n++] = ttl;
	argv[n++] = s->ver[0] != '\0' ? s->ver : "0";
	argv[n++] = born;
	argv[n++] = pii;
	rc = pb_redis_eval(r, create_lua, 1, n, argv, &rep);
	if (rc == PB_OK && rep->type != REDIS_REPLY_INTEGER)
		rc = PB_ERR_INTERNAL;
	if (rc == PB_OK)
		rc = pb_redis_durable(r); /* a failover keeps the session */
out:
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_session_touch(struct pb_redis *r, const char *sid, const char *uid,
                 const char *ukey, const char *jti, int64_t idle_ttl_ms,
                 struct pb_session *out)
{
	return pb_session_touch_pipe(r, sid, uid, ukey, jti, idle_ttl_ms, out,
	                             NULL, 0, NULL);
}

enum pb_err
pb_session_touch_pipe(struct pb_redis *r, const char *sid, const char *uid,
                      const char *ukey, const char *jti, int64_t idle_ttl_ms,
                      struct pb_session *out, const struct pb_redis_cmdv *extra,
                      size_t nextra, redisReply **replies)
{
	char key[KEY_MAX], deny[KEY_MAX], ver[KEY_MAX], ttl[24];
	const char *args[5];
	struct pb_redis_cmdv cmds[PB_REDIS_MAX_PIPE];
	redisReply *reps[PB_REDIS_MAX_PIPE];
	struct pb_redis_evalcmd e;
	enum pb_err rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nextra; i++)
		replies[i] = NULL;
	reps[0] = NULL;
	rc = nextra < PB_REDIS_MAX_PIPE ? PB_OK : PB_ERR_INVAL;
	if (rc == PB_OK)
		rc = key_of("v1:sess:", sid, key, sizeof(key));
	if (rc == PB_OK)
		rc = key_of("v1:deny:", jti, deny, sizeof(deny));
	if (rc == PB_OK)
		rc = key_of("v1:uver:", ukey, ver, sizeof(ver));
	if (rc != PB_OK || uid == NULL) {
		rc = PB_ERR_NOTFOUND;
		goto out;
	}
	snprintf(ttl, sizeof(ttl), "%" PRId64,
	         idle_ttl_ms > 0 ? idle_ttl_ms : 1);
	args[0] = key;
	args[1] = deny;
	args[2] = ver;
	args[3] = uid;
	args[4] = ttl;
	rc = pb_redis_evalcmd_make(r, &e, touch_lua, 3, 5, args);
	if (rc != PB_OK)
		goto out;
	/* the session script first, then the caller's commands: one write */
	cmds[0] = e.cmd;
	for (i = 0; i < nextra; i++)
		cmds[i + 1] = extra[i];
	rc = pb_redis_pipe(r, cmds, nextra + 1, reps);
	if (rc != PB_OK)
		goto out;
	for (i = 0; i < nextra; i++)
		replies[i] = reps[i + 1];
	rc = pb_redis_evalcmd_settle(r, &e, &reps[0]);
	if (rc == PB_OK)
		rc = fill(reps[0], sid, out);
out:
	freeReplyObject(reps[0]);
	return rc;
}

enum pb_err
pb_session_rotate(struct pb_redis *r, const struct pb_session_rotation *x,
                  struct pb_session *out)
{
	char key[KEY_MAX], ver[KEY_MAX], ttl[24], now[24], life[24], perms[16];
	const char *argv[9];
	redisReply *rep = NULL;
	enum pb_err rc;

	memset(out, 0, sizeof(*out));
	rc = key_of("v1:sess:", x->sid, key, sizeof(key));
	if (rc == PB_OK)
		rc = key_of("v1:uver:", x->ukey, ver, sizeof(ver));
	if (rc != PB_OK || x->uid == NULL || x->rjti == NULL ||
	    x->new_rjti == NULL) {
		rc = PB_ERR_NOTFOUND;
		goto out;
	}
	snprintf(ttl, sizeof(ttl), "%" PRId64,
	         x->idle_ttl_ms > 0 ? x->idle_ttl_ms : 1);
	snprintf(now, sizeof(now), "%" PRId64, x->now_ms);
	snprintf(life, sizeof(life), "%" PRId64, x->max_life_ms);
	snprintf(perms, sizeof(perms), "%u", x->perms);
	argv[0] = key;
	argv[1] = ver;
	argv[2] = x->uid;
	argv[3] = x->rjti;
	argv[4] = x->new_rjti;
	argv[5] = ttl;
	argv[6] = now;
	argv[7] = life;
	argv[8] = perms;
	rc = pb_redis_eval(r, rotate_lua, 2, 9, argv, &rep);
	if (rc != PB_OK)
		goto out;
	if (rep->type == REDIS_REPLY_INTEGER) {
		rc = rep->integer == -1   ? PB_ERR_REUSED
		     : rep->integer == -2 ? PB_ERR_TIMEOUT
		                          : PB_ERR_NOTFOUND;
		goto out;
	}
	rc = fill(rep, x->sid, out);
out:
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_session_user_version(struct pb_redis *r, const char *ukey, char *out,
                        size_t outlen)
{
	char key[KEY_MAX];
	const char *argv[2];
	redisReply *rep = NULL;
	enum pb_err rc;

	if (outlen > 0)
		out[0] = '\0';
	rc = key_of("v1:uver:", ukey, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	argv[0] = "GET";
	argv[1] = key;
	rc = pb_redis_cmd_str(r, &rep, 2, argv);
	if (rc != PB_OK)
		goto out;
	if (rep->type == REDIS_REPLY_NIL)
		rc = pb_strlcpy(out, "0", outlen);
	else if (rep->type == REDIS_REPLY_STRING)
		rc = pb_strlcpy(out, rep->str, outlen);
	else
		rc = PB_ERR_INTERNAL;
out:
	freeReplyObject(rep);
	return rc;
}

enum pb_err
pb_session_user_bump(struct pb_redis *r, const char *ukey)
{
	char key[KEY_MAX];
	enum pb_err rc;

	rc = key_of("v1:uver:", ukey, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	return pb_redis_key_cmd(r, "INCR", key, REDIS_REPLY_INTEGER);
}

enum pb_err
pb_session_delete(struct pb_redis *r, const char *sid)
{
	char key[KEY_MAX];
	enum pb_err rc;

	rc = key_of("v1:sess:", sid, key, sizeof(key));
	if (rc != PB_OK)
		return rc;
	return pb_redis_key_cmd(r, "DEL", key, -1);
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
