/* test_session.c - create, touch, rotate, reuse, deny, delete, the user
 * version (account changes end sessions) and the absolute lifetime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "session.h"
#include "tap.h"

#define LIFE_MS 86400000LL /* ms */

static enum pb_err
rotate(struct pb_redis *r, const struct pb_session *s, const char *ukey,
       const char *old, const char *new_rjti, int64_t now_ms, unsigned perms,
       struct pb_session *got)
{
	struct pb_session_rotation x;

	memset(&x, 0, sizeof(x));
	x.sid = s->sid;
	x.uid = s->user_id;
	x.ukey = ukey;
	x.rjti = old;
	x.new_rjti = new_rjti;
	x.idle_ttl_ms = 60000;
	x.now_ms = now_ms;
	x.max_life_ms = LIFE_MS;
	x.perms = perms;
	return pb_session_rotate(r, &x, got);
}

int
main(void)
{
	const char *sock = getenv("PHONEBILL_TEST_REDIS_SOCKET");
	const char *pass = getenv("PHONEBILL_TEST_REDIS_PASSWORD");
	struct pb_redis_opts o = {0};
	struct pb_redis *r = NULL;
	struct pb_session s, got;
	char ukey[PB_SESSION_UKEY_MAX + 1], ver[24];
	int64_t born = 1700000000000LL;

	if (sock == NULL || pass == NULL)
		return tap_skip_all("PHONEBILL_TEST_REDIS_SOCKET not set");
	o.socket = sock;
	o.password = pass;
	is_int(pb_redis_new(&o, &r), PB_OK, "redis");
	snprintf(ukey, sizeof(ukey), "unitukey%08d", (int)getpid());
	is_int(pb_session_user_version(r, ukey, ver, sizeof(ver)), PB_OK,
	       "version");
	is_str(ver, "0", "a user never changed is version 0");
	memset(&s, 0, sizeof(s));
	snprintf(s.sid, sizeof(s.sid), "unitsess%08d", (int)getpid());
	snprintf(s.user_id, sizeof(s.user_id), "demo01");
	snprintf(s.customer_id, sizeof(s.customer_id), "C0001");
	snprintf(s.line, sizeof(s.line), "010-9999-0000");
	snprintf(s.name, sizeof(s.name), "홍길동");
	snprintf(s.rjti, sizeof(s.rjti), "rjti-one-0000000");
	snprintf(s.ver, sizeof(s.ver), "%s", ver);
	s.perms = 3;
	s.born_ms = born;
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create");
	is_int(
	    pb_session_touch(r, s.sid, "demo01", ukey, "ajti-1", 60000, &got),
	    PB_OK, "touch");
	is_str(got.name, "홍길동", "name");
	is_str(got.line, "010-9999-0000", "line");
	is_int(got.perms, 3, "perms");
	is_int(got.born_ms == born, 1, "born kept");
	is_int(
	    pb_session_touch(r, s.sid, "demo02", ukey, "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "other user's session");
	/* the caller's read in the same round trip */
	{
		const char *get[2] = {"GET", "pb:test:sess-pipe"};
		const char *set[3] = {"SET", "pb:test:sess-pipe", "v"};
		size_t lens[3] = {3, 17, 1};
		struct pb_redis_cmdv cmd = {2, get, lens};
		redisReply *rep = NULL, *extra = NULL;

		is_int(pb_redis_cmd(r, &rep, 3, set, lens), PB_OK,
		       "set a value");
		freeReplyObject(rep);
		is_int(pb_session_touch_pipe(r, s.sid, "demo01", ukey, "ajti-1",
		                             60000, &got, &cmd, 1, &extra),
		       PB_OK, "touch with a GET");
		is_str(got.line, "010-9999-0000",
		       "session read in the pipeline");
		ok(extra != NULL && extra->type == REDIS_REPLY_STRING &&
		       strcmp(extra->str, "v") == 0,
		   "the GET's reply handed back");
		freeReplyObject(extra);
		extra = NULL;
		is_int(pb_session_touch_pipe(r, s.sid, "demo02", ukey, "ajti-1",
		                             60000, &got, &cmd, 1, &extra),
		       PB_ERR_NOTFOUND,
		       "pipeline: other user's session refused");
		freeReplyObject(extra);
	}
	is_int(rotate(r, &s, ukey, "rjti-one-0000000", "rjti-two-0000000",
	              born + 1000, 1, &got),
	       PB_OK, "rotate");
	is_str(got.rjti, "rjti-two-0000000", "new refresh id");
	is_int(got.perms, 1, "rotate takes the re-read permissions");
	is_int(rotate(r, &s, ukey, "rjti-one-0000000", "rjti-three-00000",
	              born + 2000, 1, &got),
	       PB_ERR_REUSED, "reuse revokes the family");
	is_int(
	    pb_session_touch(r, s.sid, "demo01", ukey, "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "session gone after reuse");
	is_int(rotate(r, &s, ukey, "rjti-two-0000000", "rjti-four-000000",
	              born + 3000, 1, &got),
	       PB_ERR_NOTFOUND, "no session: not found");

	/* the absolute lifetime: rotation within it, refused at its end */
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create again");
	is_int(rotate(r, &s, ukey, "rjti-one-0000000", "rjti-two-0000000",
	              born + LIFE_MS - 1, 3, &got),
	       PB_OK, "rotate 1 ms before the end");
	/* that rotation leaves the session 1 ms of (real) time in Redis: a
	   slower next call (ASan, a busy machine) found it expired; a fresh
	   one for the refusal */
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create once more");
	is_int(rotate(r, &s, ukey, "rjti-one-0000000", "rjti-three-00000",
	              born + LIFE_MS, 3, &got),
	       PB_ERR_TIMEOUT, "refused at the end");
	is_int(
	    pb_session_touch(r, s.sid, "demo01", ukey, "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "and the session is gone");

	/* an account change: the version moves, old sessions end */
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create (version 0)");
	is_int(pb_session_user_bump(r, ukey), PB_OK, "bump");
	is_int(
	    pb_session_touch(r, s.sid, "demo01", ukey, "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "outdated session refused");
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create (old version)");
	is_int(rotate(r, &s, ukey, "rjti-one-0000000", "rjti-two-0000000",
	              born + 1000, 3, &got),
	       PB_ERR_NOTFOUND, "outdated session cannot refresh");
	is_int(pb_session_user_version(r, ukey, ver, sizeof(ver)), PB_OK,
	       "version again");
	is_str(ver, "1", "version 1 after one bump");
	snprintf(s.ver, sizeof(s.ver), "%s", ver);
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create (version 1)");
	is_int(
	    pb_session_touch(r, s.sid, "demo01", ukey, "ajti-1", 60000, &got),
	    PB_OK, "a session of the current version lives");

	is_int(pb_session_deny(r, "ajti-2", 60000), PB_OK, "deny");
	is_int(
	    pb_session_touch(r, s.sid, "demo01", ukey, "ajti-2", 60000, &got),
	    PB_ERR_NOTFOUND, "denylisted jti");
	is_int(pb_session_delete(r, s.sid), PB_OK, "delete");
	is_int(
	    pb_session_touch(r, s.sid, "demo01", ukey, "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "deleted");
	is_int(pb_session_delete(r, ""), PB_ERR_INVAL, "empty sid");

	/* protected: line and name only sealed in 'pii' */
	{
		unsigned char k[PB_CRYPTO_KEY_LEN];
		const char *hget[3] = {"HGET", NULL, "line"};
		char skey[96];
		redisReply *rep = NULL;

		memset(k, 7, sizeof(k));
		pb_session_protect(k);
		is_int(pb_session_create(r, &s, 60000), PB_OK, "create sealed");
		snprintf(skey, sizeof(skey), "v1:sess:%s", s.sid);
		hget[1] = skey;
		is_int(pb_redis_cmd_str(r, &rep, 3, hget), PB_OK, "HGET line");
		ok(rep != NULL && rep->type == REDIS_REPLY_STRING &&
		       rep->len == 0,
		   "no line in clear");
		freeReplyObject(rep);
		is_int(pb_session_touch(r, s.sid, "demo01", ukey, "ajti-1",
		                        60000, &got),
		       PB_OK, "touch sealed");
		is_str(got.line, "010-9999-0000", "line opened");
		is_str(got.name, "홍길동", "name opened");
		(void)pb_session_delete(r, s.sid);
	}
	{
		const char *argv[2] = {"DEL", NULL};
		redisReply *rep = NULL;
		char key[96];

		snprintf(key, sizeof(key), "v1:uver:%s", ukey);
		argv[1] = key;
		(void)pb_redis_cmd_str(r, &rep, 2, argv);
		freeReplyObject(rep);
	}
	pb_redis_free(r);
	return tap_done();
}
