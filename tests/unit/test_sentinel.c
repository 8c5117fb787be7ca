/*
 * test_sentinel.c - the Redis client through Sentinel, against a real
 * redis-server primary + replica and a real redis-sentinel that this test
 * starts on loopback (ports PHONEBILL_TEST_SENTINEL_PORT .. +2; skips
 * without it or without the programs).  Checks: discovery through a list
 * whose first sentinel is dead, READONLY from a replica is an outage and
 * never an answer (also inside a session script: 503, not 401), and a
 * SENTINEL FAILOVER is followed without a wrong answer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redis.h"
#include "session.h"
#include "tap.h"

#define PASS "sentinel-test-pw"

static char dir[256];
static int base;

static int
run(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static int
start_redis(int port, int replica_of)
{
	char cmd[1024], rep[64] = "";

	if (replica_of > 0)
		snprintf(rep, sizeof(rep), "--replicaof 127.0.0.1 %d",
		         replica_of);
	snprintf(cmd, sizeof(cmd),
	         "redis-server --port %d --bind 127.0.0.1 "
	         "--daemonize yes --pidfile %s/r%d.pid --logfile %s/r%d.log "
	         "--dir %s --save '' --appendonly no --requirepass %s "
	         "--masterauth %s %s",
	         port, dir, port, dir, port, dir, PASS, PASS, rep);
	return run(cmd);
}

static int
start_sentinel(int port, int master)
{
	char path[300], cmd[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/s%d.conf", dir, port);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        "port %d\nbind 127.0.0.1\ndaemonize yes\n"
	        "pidfile %s/s%d.pid\nlogfile %s/s%d.log\ndir %s\n"
	        "sentinel monitor pbtest 127.0.0.1 %d 1\n"
	        "sentinel auth-pass pbtest %s\n"
	        "sentinel down-after-milliseconds pbtest 1000\n"
	        "sentinel failover-timeout pbtest 5000\n",
	        port, dir, port, dir, port, dir, master, PASS);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "redis-sentinel %s", path);
	return run(cmd);
}

static void
stop_all(void)
{
	char cmd[700];

	snprintf(
	    cmd, sizeof(cmd),
	    "for p in %s/*.pid; do [ -f \"$p\" ] && "
	    "kill \"$(cat \"$p\")\" 2>/dev/null; done; sleep 0.3; rm -rf %s",
	    dir, dir);
	(void)run(cmd);
}

/* A connection to one fixed server. */
static struct pb_redis *
fixed(int port)
{
	struct pb_redis_opts o = {0};
	struct pb_redis *r = NULL;

	o.host = "127.0.0.1";
	o.port = port;
	o.password = PASS;
	(void)pb_redis_new(&o, &r);
	return r;
}

/* Wait (at most ~15 s) until `redis-cli` output of cmd contains want. */
static int
wait_for(int port, const char *args, const char *want)
{
	char cmd[512], out[512];
	FILE *p;
	int i;
	size_t n;

	for (i = 0; i < 150; i++) {
		snprintf(cmd, sizeof(cmd),
		         "REDISCLI_AUTH=%s redis-cli -p %d "
		         "%s 2>/dev/null",
		         port == base + 2 ? "" : PASS, port, args);
		p = popen(cmd, "r");
		if (p == NULL)
			return -1;
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = '\0';
		pclose(p);
		if (strstr(out, want) != NULL)
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

static void
replica_is_readonly(void)
{
	struct pb_redis *rep = fixed(base + 1);
	struct pb_session s, got;
	struct pb_redis *m = fixed(base);
	const char *set[] = {"SET", "pb:test:ro", "1"};
	const char *wait[] = {"WAIT", "1", "2000"};
	redisReply *reply = NULL;

	is_int(pb_redis_cmd_str(rep, &reply, 3, set), PB_ERR_UNAVAILABLE,
	       "READONLY from a replica is PB_ERR_UNAVAILABLE, not a reply");
	ok(reply == NULL, "no reply object handed out");
	ok(strstr(pb_redis_last_error(rep), "READONLY") != NULL,
	   "reason names READONLY");
	memset(&s, 0, sizeof(s));
	snprintf(s.sid, sizeof(s.sid), "sentineltest");
	snprintf(s.user_id, sizeof(s.user_id), "u1");
	snprintf(s.rjti, sizeof(s.rjti), "r1");
	is_int(pb_session_create(m, &s, 60000), PB_OK, "session on master");
	(void)pb_redis_cmd_str(m, &reply, 3, wait);
	freeReplyObject(reply);
	reply = NULL;
	is_int(pb_session_touch(rep, "sentineltest", "u1", "k1", "j1", 60000,
	                        &got),
	       PB_ERR_UNAVAILABLE,
	       "session touch on a replica: unavailable (503), not not-found");
	pb_redis_free(rep);
	pb_redis_free(m);
}

static void
failover(struct pb_redis *r)
{
	const char *set[] = {"SET", "pb:test:fo", "after"};
	const char *get[] = {"GET", "pb:test:k"};
	char cmd[256], want[32], role[16];
	redisReply *reply = NULL;
	int i, wrong = 0, done = 0;

	snprintf(cmd, sizeof(cmd),
	         "redis-cli -p %d SENTINEL FAILOVER pbtest "
	         ">/dev/null",
	         base + 2);
	ok(run(cmd) == 0, "SENTINEL FAILOVER accepted");
	snprintf(want, sizeof(want), "%d", base + 1);
	ok(wait_for(base + 2, "SENTINEL get-master-addr-by-name pbtest",
	            want) == 0,
	   "sentinel names the replica as master");
	/* until the old primary is demoted it may still take writes: that
	 * window is what pb_redis_durable (WAIT) guards */
	ok(wait_for(base, "ROLE", "slave") == 0, "old primary demoted");
	/* commands until one succeeds on the new master (at most ~10 s) */
	for (i = 0; i < 100 && !done; i++) {
		if (pb_redis_cmd_str(r, &reply, 3, set) == PB_OK) {
			if (reply->type == REDIS_REPLY_ERROR)
				wrong++;
			else
				done = 1;
			freeReplyObject(reply);
			reply = NULL;
		}
		if (!done)
			usleep(100 * 1000);
	}
	ok(done, "writes resume after the failover");
	is_int(wrong, 0, "no error reply was ever handed out");
	snprintf(want, sizeof(want), "127.0.0.1:%d", base + 1);
	is_str(pb_redis_server(r), want, "client now on the new master");
	is_int(pb_redis_role(r, role, sizeof(role)), PB_OK, "ROLE");
	is_str(role, "master", "role is master");
	is_int(pb_redis_cmd_str(r, &reply, 2, get), PB_OK, "GET");
	ok(reply != NULL && reply->type == REDIS_REPLY_STRING &&
	       strcmp(reply->str, "v") == 0,
	   "data written before is there");
	freeReplyObject(reply);
}

int
main(void)
{
	const char *p = getenv("PHONEBILL_TEST_SENTINEL_PORT");
	struct pb_redis_opts o = {0};
	struct pb_redis *r = NULL;
	redisReply *reply = NULL;
	const char *set[] = {"SET", "pb:test:k", "v"};
	char list[128], want[32], role[16];

	if (p == NULL || (base = (int)strtol(p, NULL, 10)) < 1024 ||
	    base > 32760)
		return tap_skip_all("PHONEBILL_TEST_SENTINEL_PORT not set");
	if (run("command -v redis-sentinel >/dev/null") != 0)
		return tap_skip_all("redis-sentinel not installed");
	snprintf(dir, sizeof(dir), "/tmp/pb-sentinel-test.%d", (int)getpid());
	if (mkdir(dir, 0700) != 0)
		return tap_skip_all("cannot create the work directory");
	ok(start_redis(base, 0) == 0 && start_redis(base + 1, base) == 0,
	   "redis primary and replica started");
	ok(wait_for(base, "INFO replication", "state=online") == 0,
	   "replica in sync");
	ok(start_sentinel(base + 2, base) == 0, "sentinel started");
	ok(wait_for(base + 2, "SENTINEL replicas pbtest", "slave") == 0,
	   "sentinel knows the replica");

	/* the first sentinel of the list is dead: the second answers */
	snprintf(list, sizeof(list), "127.0.0.1:%d, 127.0.0.1:%d", base + 3,
	         base + 2);
	o.sentinels = list;
	o.master_name = "pbtest";
	o.password = PASS;
	o.wait_replicas = 1;
	/* the replica acknowledges at once on a quiet machine; under ASan on
	 * a busy one it took over the default 500 ms: WAIT up to 3 s here
	 * (it returns as soon as the replica has the write) */
	o.timeout_ms = 5000;
	o.wait_ms = 3000;
	is_int(pb_redis_new(&o, &r), PB_OK, "new with sentinels");
	is_int(pb_redis_cmd_str(r, &reply, 3, set), PB_OK, "SET via sentinel");
	freeReplyObject(reply);
	reply = NULL;
	snprintf(want, sizeof(want), "127.0.0.1:%d", base);
	is_str(pb_redis_server(r), want, "connected to the primary");
	is_int(pb_redis_role(r, role, sizeof(role)), PB_OK, "ROLE answers");
	is_str(role, "master", "ROLE is master");
	is_int(pb_redis_durable(r), PB_OK, "WAIT: the replica has the write");
	tap_diag(pb_redis_last_error(r));
	o.timeout_ms = 0;
	o.wait_ms = 0;
	o.wait_replicas = 2;
	{
		struct pb_redis *r2 = NULL;

		(void)pb_redis_new(&o, &r2);
		is_int(pb_redis_cmd_str(r2, &reply, 3, set), PB_OK, "SET");
		freeReplyObject(reply);
		reply = NULL;
		is_int(
		    pb_redis_durable(r2), PB_ERR_UNAVAILABLE,
		    "WAIT for 2 "
		    "replicas of 1: a replica is attached, so no carrying on");
		pb_redis_free(r2);
	}
	{
		struct pb_redis_opts fo = {0};
		struct pb_redis *r3 = NULL;

		fo.host = "127.0.0.1";
		fo.port = base;
		fo.password = PASS;
		fo.wait_replicas = 2;
		(void)pb_redis_new(&fo, &r3);
		is_int(pb_redis_cmd_str(r3, &reply, 3, set), PB_OK, "SET");
		freeReplyObject(reply);
		reply = NULL;
		is_int(pb_redis_durable(r3), PB_ERR_UNAVAILABLE,
		       "no sentinels: WAIT for 2 replicas of 1 is unavailable");
		pb_redis_free(r3);
	}
	o.wait_replicas = 0;
	{
		struct pb_redis *r0 = NULL;

		(void)pb_redis_new(&o, &r0);
		is_int(pb_redis_durable(r0), PB_OK,
		       "no replicas asked: no WAIT");
		pb_redis_free(r0);
	}

	replica_is_readonly();
	failover(r);
	{
		char cmd[256];
		const char *set2[] = {"SET", "pb:test:alone", "1"};

		/* the replica (the old primary) goes: no replica attached, the
		 * sentinels still name this master -> writes carry on */
		snprintf(cmd, sizeof(cmd),
		         "REDISCLI_AUTH=%s redis-cli -p %d "
		         "SHUTDOWN NOSAVE >/dev/null 2>&1",
		         PASS, base);
		(void)run(cmd);
		ok(wait_for(base + 1, "INFO replication",
		            "connected_slaves:0") == 0,
		   "replica gone");
		is_int(pb_redis_cmd_str(r, &reply, 3, set2), PB_OK, "SET");
		freeReplyObject(reply);
		reply = NULL;
		is_int(pb_redis_durable(r), PB_OK,
		       "no replica attached, still the named master: carry on");
	}
	pb_redis_free(r);

	o.master_name = NULL;
	is_int(pb_redis_new(&o, &r), PB_ERR_INVAL, "sentinels need a name");
	o.master_name = "x";
	o.sentinels = "127.0.0.1";
	is_int(pb_redis_new(&o, &r), PB_ERR_INVAL, "host:port required");
	o.sentinels = "127.0.0.1:99999";
	is_int(pb_redis_new(&o, &r), PB_ERR_INVAL, "port range checked");
	stop_all();
	return tap_done();
}
