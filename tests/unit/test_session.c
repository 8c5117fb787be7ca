/* test_session.c - create, touch, rotate, reuse, deny, delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "tap.h"

int
main(void)
{
	const char *sock = getenv("PHONEBILL_TEST_REDIS_SOCKET");
	const char *pass = getenv("PHONEBILL_TEST_REDIS_PASSWORD");
	struct pb_redis_opts o = { 0 };
	struct pb_redis *r = NULL;
	struct pb_session s, got;

	if (sock == NULL || pass == NULL)
		return tap_skip_all("PHONEBILL_TEST_REDIS_SOCKET not set");
	o.socket = sock;
	o.password = pass;
	is_int(pb_redis_new(&o, &r), PB_OK, "redis");
	memset(&s, 0, sizeof(s));
	snprintf(s.sid, sizeof(s.sid), "unitsess%08d", (int)getpid());
	snprintf(s.user_id, sizeof(s.user_id), "demo01");
	snprintf(s.customer_id, sizeof(s.customer_id), "C0001");
	snprintf(s.line, sizeof(s.line), "010-1234-5678");
	snprintf(s.name, sizeof(s.name), "김민준");
	snprintf(s.rjti, sizeof(s.rjti), "rjti-one-0000000");
	s.perms = 3;
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create");
	is_int(pb_session_touch(r, s.sid, "demo01", "ajti-1", 60000, &got),
	    PB_OK, "touch");
	is_str(got.name, "김민준", "name");
	is_str(got.line, "010-1234-5678", "line");
	is_int(got.perms, 3, "perms");
	is_int(pb_session_touch(r, s.sid, "demo02", "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "other user's session");
	is_int(pb_session_rotate(r, s.sid, "demo01", "rjti-one-0000000",
	    "rjti-two-0000000", 60000, &got), PB_OK, "rotate");
	is_str(got.rjti, "rjti-two-0000000", "new refresh id");
	is_int(pb_session_rotate(r, s.sid, "demo01", "rjti-one-0000000",
	    "rjti-three-00000", 60000, &got), PB_ERR_STATE,
	    "reuse revokes the family");
	is_int(pb_session_touch(r, s.sid, "demo01", "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "session gone after reuse");
	is_int(pb_session_rotate(r, s.sid, "demo01", "rjti-two-0000000",
	    "rjti-four-000000", 60000, &got), PB_ERR_NOTFOUND,
	    "no session: not found");
	is_int(pb_session_create(r, &s, 60000), PB_OK, "create again");
	is_int(pb_session_deny(r, "ajti-2", 60000), PB_OK, "deny");
	is_int(pb_session_touch(r, s.sid, "demo01", "ajti-2", 60000, &got),
	    PB_ERR_NOTFOUND, "denylisted jti");
	is_int(pb_session_delete(r, s.sid), PB_OK, "delete");
	is_int(pb_session_touch(r, s.sid, "demo01", "ajti-1", 60000, &got),
	    PB_ERR_NOTFOUND, "deleted");
	is_int(pb_session_delete(r, ""), PB_ERR_INVAL, "empty sid");
	pb_redis_free(r);
	return tap_done();
}
