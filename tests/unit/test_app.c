/*
 * test_app.c - a service's start-up (lib/web/app.c, pb_app_init_config):
 * the config checks, the defaults, the secrets and the hooks, against the
 * test stack's real Redis and MariaDB (skips without them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "jwt.h"
#include "tap.h"

static char dir[64], path[128];
static int inits, finis;
static const char *redis_sock, *db_sock, *db_user, *db_name;

static enum pb_err
hook_init(struct pb_app *app, char *err, size_t errlen)
{
	inits++;
	if (pb_config_get(app->cfg, "test.fail_init", NULL) != NULL) {
		snprintf(err, errlen, "init refused");
		return PB_ERR_STATE;
	}
	app->svc = &inits; /* fini runs only when svc is set */
	return PB_OK;
}

static void
hook_fini(struct pb_app *app)
{
	(void)app;
	finis++;
}

static const char *const extra[] = {"test.fail_init", "test.thing", NULL};

static const struct pb_app_spec spec = {
    .service = "unit",
    .extra_keys = extra,
    .init = hook_init,
    .fini = hook_fini,
};

static const struct pb_app_spec spec_noredis = {
    .service = "unit",
    .flags = PB_APP_NO_REDIS | PB_APP_NO_JWT,
};

/* The stack's connection settings, then more lines. */
static void
config(const char *more)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return;
	fprintf(f,
	        "redis.socket = %s\ndb.socket = %s\ndb.user = %s\n"
	        "db.name = %s\n%s",
	        redis_sock, db_sock, db_user, db_name, more);
	fclose(f);
}

static enum pb_err
start(const struct pb_app_spec *sp, struct pb_app *app, const char *more,
      char *err, size_t errlen)
{
	config(more);
	return pb_app_init_config(app, sp, path, err, errlen);
}

static void
test_good(void)
{
	struct pb_app app;
	char err[256];

	inits = finis = 0;
	is_int(start(&spec, &app, "test.thing = 1\n", err, sizeof(err)), PB_OK,
	       "a good config starts");
	ok(app.redis != NULL && app.db != NULL, "Redis and MariaDB handles");
	ok(app.jwt_secret != NULL && strlen(app.jwt_secret) >= PB_JWT_KEY_MIN,
	   "the JWT secret from the environment");
	is_int((long)app.max_body, PB_DEFAULT_MAX_BODY,
	       "http.max_body default");
	is_int(app.tz_offset_min, PB_CLOCK_KST_OFFSET_MIN, "KST by default");
	is_int(inits, 1, "init hook ran once");
	is_int(pb_redis_ping(app.redis), PB_OK, "Redis answers");
	pb_app_fini(&app);
	is_int(finis, 1, "fini hook ran");
	ok(app.redis == NULL && app.db == NULL && app.jwt_secret == NULL,
	   "everything released");

	is_int(start(&spec, &app,
	             "http.max_body = 2048\ntz.offset_minutes = 0\n", err,
	             sizeof(err)),
	       PB_OK, "limits from the file");
	is_int((long)app.max_body, 2048, "http.max_body");
	is_int(app.tz_offset_min, 0, "tz.offset_minutes");
	pb_app_fini(&app);

	is_int(start(&spec_noredis, &app, "", err, sizeof(err)), PB_OK,
	       "a program without Redis and JWT");
	ok(app.redis == NULL && app.jwt_secret == NULL && app.db != NULL,
	   "only the database handle");
	pb_app_fini(&app);
}

static void
refused(const char *more, const char *needle, const char *what)
{
	struct pb_app app;
	char err[256];
	enum pb_err rc;

	rc = start(&spec, &app, more, err, sizeof(err));
	ok(rc != PB_OK, what);
	ok(strstr(err, needle) != NULL, "and the reason names it");
	if (strstr(err, needle) == NULL)
		printf("# err: %s\n", err);
	ok(app.redis == NULL && app.db == NULL && app.cfg == NULL,
	   "nothing left open");
}

static void
test_refused(void)
{
	refused("db.nmae = x\n", "db.nmae", "a typo in a key");
	refused("jwt.secret = 0123456789abcdef0123456789abcdef\n", "jwt.secret",
	        "a secret in the config file itself");
	refused("tz.offset_minutes = 900\n", "tz.offset_minutes",
	        "an offset past +14:00");
	refused("http.max_body = 1000\n", "http.max_body",
	        "a body limit under 1 KiB");
	refused("redis.timeout_ms = soon\n", "redis.timeout_ms",
	        "a number that is not one");
	inits = finis = 0;
	refused("test.fail_init = 1\n", "init refused",
	        "the init hook refuses");
	is_int(finis, 0, "fini not run for an init that set nothing up");

	setenv("PHONEBILL_JWT_SECRET", "too-short", 1);
	refused("", "jwt.secret", "a JWT secret under 32 bytes");
	setenv("PHONEBILL_JWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
}

int
main(void)
{
	const char *rpass = getenv("PHONEBILL_TEST_REDIS_PASSWORD");
	const char *dpass = getenv("PHONEBILL_TEST_DB_PASSWORD");

	redis_sock = getenv("PHONEBILL_TEST_REDIS_SOCKET");
	db_sock = getenv("PHONEBILL_TEST_DB_SOCKET");
	db_user = getenv("PHONEBILL_TEST_DB_USER");
	db_name = getenv("PHONEBILL_TEST_DB_NAME");
	if (redis_sock == NULL || rpass == NULL || db_sock == NULL ||
	    db_user == NULL || db_name == NULL || dpass == NULL)
		return tap_skip_all("PHONEBILL_TEST_REDIS_* / _DB_* not set");
	snprintf(dir, sizeof(dir), "/tmp/pb-test-app-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return tap_skip_all("mkdtemp failed");
	snprintf(path, sizeof(path), "%s/unit.conf", dir);
	/* secrets come from the environment, never the file */
	setenv("PHONEBILL_REDIS_PASSWORD", rpass, 1);
	setenv("PHONEBILL_DB_PASSWORD", dpass, 1);
	setenv("PHONEBILL_JWT_SECRET", "0123456789abcdef0123456789abcdef", 1);
	test_good();
	test_refused();
	unlink(path);
	rmdir(dir);
	return tap_done();
}
