/* app.c - service start-up: config, log, secrets, handles, loop. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app.h"
#include "cache.h"
#include "cli.h"
#include "history.h"
#include "jwt.h"
#include "session.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "prefork.h"

/* Keys every service understands; a service may add its own. */
static const char *const common_keys[] = {"log.level",
                                          "log.file",
                                          "redis.socket",
                                          "redis.host",
                                          "redis.port",
                                          "redis.password_file",
                                          "redis.timeout_ms",
                                          "redis.sentinels",
                                          "redis.master_name",
                                          "redis.wait_replicas",
                                          "db.socket",
                                          "db.host",
                                          "db.port",
                                          "db.name",
                                          "db.user",
                                          "db.password_file",
                                          "db.timeout_s",
                                          "db.read_host",
                                          "db.read_port",
                                          "jwt.secret_file",
                                          "jwt.accept_secret_file",
                                          "pii.key_file",
                                          "pii.index_key_file",
                                          "pii.key_version",
                                          "pii.previous_key_file",
                                          "pii.previous_key_version",
                                          "http.max_body",
                                          "tz.offset_minutes",
                                          "metrics.file",
                                          "metrics.allow",
                                          NULL};

#define MAX_KEYS 128

/* common_keys + spec->extra_keys into one NULL-terminated list. */
static void
known_keys(const struct pb_app_spec *spec, const char **out, size_t max)
{
	size_t n = 0, i;

	for (i = 0; common_keys[i] != NULL && n + 1 < max; i++)
		out[n++] = common_keys[i];
	for (i = 0; spec->extra_keys != NULL && spec->extra_keys[i] != NULL &&
	            n + 1 < max;
	     i++)
		out[n++] = spec->extra_keys[i];
	out[n] = NULL;
}

static enum pb_err
open_log(struct pb_app *app, char *err, size_t errlen)
{
	enum pb_log_level lvl = PB_LOG_INFO;
	const char *s = pb_config_get(app->cfg, "log.level", "info");
	const char *file = pb_config_get(app->cfg, "log.file", NULL);

	if (pb_log_level_parse(s, &lvl) != PB_OK) {
		snprintf(err, errlen,
		         "log.level must be debug, info, warn or "
		         "error");
		return PB_ERR_CONFIG;
	}
	if (file != NULL) {
		if (pb_log_open_file(app->spec->service, file, lvl) != PB_OK) {
			snprintf(err, errlen, "cannot open log.file %s", file);
			return PB_ERR_CONFIG;
		}
	} else {
		pb_log_open(app->spec->service, -1, lvl);
	}
	return PB_OK;
}

/*
 * The PII key ring (crypto.h): pii.key of pii.key_version (default 1)
 * seals, pii.previous_key of pii.previous_key_version (default one less)
 * still opens while `phonebill-admin rekey` moves the data (README).
 */
static enum pb_err
load_pii_ring(struct pb_app *app, char *err, size_t errlen)
{
	unsigned char prev[PB_CRYPTO_KEY_LEN];
	char *hex = NULL;
	long ver = 1, pver = 0;
	int has_prev;
	enum pb_err rc;

	rc = pb_config_get_long(app->cfg, "pii.key_version", 1, 1,
	                        PB_CRYPTO_KEY_VERSION_MAX, &ver, err, errlen);
	has_prev =
	    pb_config_get(app->cfg, "pii.previous_key_file", NULL) != NULL ||
	    getenv("PHONEBILL_PII_PREVIOUS_KEY") != NULL ||
	    getenv("PHONEBILL_PII_PREVIOUS_KEY_FILE") != NULL;
	if (rc == PB_OK && has_prev)
		rc = pb_config_get_long(
		    app->cfg, "pii.previous_key_version", ver > 1 ? ver - 1 : 0,
		    1, PB_CRYPTO_KEY_VERSION_MAX, &pver, err, errlen);
	if (rc == PB_OK && has_prev)
		rc = pb_config_secret(app->cfg, "pii.previous_key", 64, &hex,
		                      err, errlen);
	if (rc == PB_OK && has_prev &&
	    pb_crypto_key_from_hex(hex, prev) != PB_OK) {
		snprintf(err, errlen,
		         "pii.previous_key must be 64 hex "
		         "characters");
		rc = PB_ERR_CONFIG;
	}
	pb_config_secret_free(hex);
	if (rc == PB_OK &&
	    pb_crypto_ring_set((unsigned)ver, app->pii_key, (unsigned)pver,
	                       has_prev ? prev : NULL) != PB_OK) {
		snprintf(err, errlen,
		         "pii.previous_key_version (1-255) must "
		         "differ from pii.key_version");
		rc = PB_ERR_CONFIG;
	}
	sodium_memzero(prev, sizeof(prev));
	return rc;
}

/* The two PII keys (hex secrets) into app->pii_key / pii_index_key. */
static enum pb_err
load_pii(struct pb_app *app, char *err, size_t errlen)
{
	static const char *const names[] = {"pii.key", "pii.index_key"};
	unsigned char *dst[2];
	char *hex = NULL;
	enum pb_err rc = PB_OK;
	size_t i;

	dst[0] = app->pii_key;
	dst[1] = app->pii_index_key;
	for (i = 0; i < 2 && rc == PB_OK; i++) {
		rc =
		    pb_config_secret(app->cfg, names[i], 64, &hex, err, errlen);
		if (rc != PB_OK)
			break;
		rc = pb_crypto_key_from_hex(hex, dst[i]);
		if (rc != PB_OK)
			snprintf(err, errlen, "%s must be 64 hex characters",
			         names[i]);
		pb_config_secret_free(hex);
		hex = NULL;
	}
	if (rc == PB_OK)
		rc = load_pii_ring(app, err, errlen);
	if (rc == PB_OK) {
		app->has_pii = 1;
		/* identifying cache keys hashed, their values sealed (cache.h)
		 */
		pb_cache_protect(app->pii_key, app->pii_index_key);
		/* and the session's line number and name sealed (session.h) */
		pb_session_protect(app->pii_key);
	}
	return rc;
}

enum pb_err
pb_app_redis_open(struct pb_app *app, struct pb_redis **out, char *err,
                  size_t errlen)
{
	struct pb_redis_opts o;
	char *password = NULL;
	long port = 6379, timeout = 1000, wait = 0;
	enum pb_err rc;

	memset(&o, 0, sizeof(o));
	o.socket = pb_config_get(app->cfg, "redis.socket", NULL);
	o.host = pb_config_get(app->cfg, "redis.host",
	                       o.socket ? NULL : "127.0.0.1");
	/* several nodes: the sentinels name the master (redis.h) */
	o.sentinels = pb_config_get(app->cfg, "redis.sentinels", NULL);
	o.master_name =
	    pb_config_get(app->cfg, "redis.master_name", "phonebill");
	rc = pb_config_get_long(app->cfg, "redis.port", 6379, 1, 65535, &port,
	                        err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "redis.timeout_ms", 1000, 10,
		                        60000, &timeout, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "redis.wait_replicas", 0, 0,
		                        8, &wait, err, errlen);
	if (rc != PB_OK)
		return rc;
	o.wait_replicas = (int)wait;
	o.wait_ms = (int)timeout / 2; /* WAIT answers before the read timeout */
	/* Redis AUTH is required: ARCHITECTURE.md runs Redis with requirepass
	 */
	rc = pb_config_secret(app->cfg, "redis.password", 1, &password, err,
	                      errlen);
	if (rc != PB_OK)
		return rc;
	o.port = (int)port;
	o.password = password;
	o.timeout_ms = (int)timeout;
	o.connect_timeout_ms = (int)timeout;
	rc = pb_redis_new(&o, out);
	pb_config_secret_free(password);
	if (rc != PB_OK)
		snprintf(err, errlen, "redis: %s", pb_strerror(rc));
	return rc;
}

/* read: the db.read_host address (TCP) rather than db.socket/db.host */
static enum pb_err
db_open(struct pb_app *app, int read, struct pb_db **out, char *err,
        size_t errlen)
{
	struct pb_db_opts o;
	char *password = NULL;
	long port = 3306, timeout = 5;
	enum pb_err rc;

	memset(&o, 0, sizeof(o));
	o.socket = read ? NULL : pb_config_get(app->cfg, "db.socket", NULL);
	o.host = read ? pb_config_get(app->cfg, "db.read_host", NULL)
	              : pb_config_get(app->cfg, "db.host",
	                              o.socket ? NULL : "127.0.0.1");
	o.user = pb_config_get(app->cfg, "db.user", NULL);
	o.database = pb_config_get(app->cfg, "db.name", NULL);
	if (o.user == NULL || o.database == NULL) {
		snprintf(err, errlen, "db.user and db.name are required");
		return PB_ERR_CONFIG;
	}
	rc = pb_config_get_long(app->cfg, read ? "db.read_port" : "db.port",
	                        3306, 1, 65535, &port, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "db.timeout_s", 5, 1, 60,
		                        &timeout, err, errlen);
	if (rc != PB_OK)
		return rc;
	rc = pb_config_secret(app->cfg, "db.password", 1, &password, err,
	                      errlen);
	if (rc != PB_OK)
		return rc;
	o.port = (unsigned)port;
	o.password = password;
	o.connect_timeout_s = 2;
	o.rw_timeout_s = (unsigned)timeout;
	rc = pb_db_new(&o, out);
	pb_config_secret_free(password);
	if (rc != PB_OK)
		snprintf(err, errlen, "db: %s", pb_strerror(rc));
	return rc;
}

enum pb_err
pb_app_db_open(struct pb_app *app, struct pb_db **out, char *err, size_t errlen)
{
	return db_open(app, 0, out, err, errlen);
}

enum pb_err
pb_app_init(struct pb_app *app, const struct pb_app_spec *spec, char *err,
            size_t errlen)
{
	return pb_app_init_config(app, spec, getenv("PHONEBILL_CONFIG"), err,
	                          errlen);
}

/* The libraries' process-wide set-up and the clock override. */
static enum pb_err
init_libraries(char *err, size_t errlen)
{
	enum pb_err rc;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium initialisation failed");
		return PB_ERR_INTERNAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return PB_ERR_INTERNAL;
	}
	if (pb_db_library_init() != PB_OK) {
		snprintf(err, errlen,
		         "MariaDB client library initialisation failed");
		return PB_ERR_INTERNAL;
	}
	rc = pb_clock_init_from_env();
	if (rc != PB_OK)
		snprintf(err, errlen,
		         "PHONEBILL_CLOCK_OFFSET_MS is malformed "
		         "or not allowed");
	return rc;
}

/* Known keys, the log, the body limit (*max_body, bytes), the time zone
 * (*tz, minutes east of UTC) and the JWT keys from the loaded config. */
static enum pb_err
read_settings(struct pb_app *app, const struct pb_app_spec *spec,
              long *max_body, long *tz, char *err, size_t errlen)
{
	const char *keys[MAX_KEYS];
	enum pb_err rc;

	known_keys(spec, keys, MAX_KEYS);
	rc = (spec->flags & PB_APP_OTHERS_CONFIG)
	         ? PB_OK
	         : pb_config_check_known(app->cfg, keys, err, errlen);
	if (rc == PB_OK)
		rc = open_log(app, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(
		    app->cfg, "http.max_body", PB_DEFAULT_MAX_BODY, 1024,
		    16L * 1024 * 1024, max_body, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "tz.offset_minutes",
		                        PB_CLOCK_KST_OFFSET_MIN, -720, 840, tz,
		                        err, errlen);
	if (rc == PB_OK && !(spec->flags & PB_APP_NO_JWT))
		rc = pb_config_secret(app->cfg, "jwt.secret", PB_JWT_KEY_MIN,
		                      &app->jwt_secret, err, errlen);
	/* a second, accept-only key while keys rotate (README) */
	if (rc == PB_OK && !(spec->flags & PB_APP_NO_JWT) &&
	    (pb_config_get(app->cfg, "jwt.accept_secret_file", NULL) != NULL ||
	     getenv("PHONEBILL_JWT_ACCEPT_SECRET") != NULL ||
	     getenv("PHONEBILL_JWT_ACCEPT_SECRET_FILE") != NULL))
		rc = pb_config_secret(app->cfg, "jwt.accept_secret",
		                      PB_JWT_KEY_MIN, &app->jwt_accept, err,
		                      errlen);
	return rc;
}

/* The personal-data keys, Redis and MariaDB (and its read address). */
static enum pb_err
open_stores(struct pb_app *app, const struct pb_app_spec *spec, char *err,
            size_t errlen)
{
	enum pb_err rc = PB_OK;

	if (spec->flags & PB_APP_PII)
		rc = load_pii(app, err, errlen);
	if (rc == PB_OK && !(spec->flags & PB_APP_NO_REDIS))
		rc = pb_app_redis_open(app, &app->redis, err, errlen);
	if (rc == PB_OK)
		rc = pb_app_db_open(app, &app->db, err, errlen);
	/* optional: the same account on a read address (history listings) */
	if (rc == PB_OK &&
	    pb_config_get(app->cfg, "db.read_host", NULL) != NULL)
		rc = db_open(app, 1, &app->read_db, err, errlen);
	return rc;
}

enum pb_err
pb_app_init_config(struct pb_app *app, const struct pb_app_spec *spec,
                   const char *config_path, char *err, size_t errlen)
{
	long max_body = PB_DEFAULT_MAX_BODY, tz = PB_CLOCK_KST_OFFSET_MIN;
	enum pb_err rc;

	memset(app, 0, sizeof(*app));
	app->spec = spec;
	err[0] = '\0';
	pb_log_open(spec->service, -1, PB_LOG_INFO);
	rc = init_libraries(err, errlen);
	if (rc != PB_OK)
		goto out;
	rc = pb_config_load(config_path, &app->cfg, err, errlen);
	if (rc != PB_OK)
		goto out;
	rc = read_settings(app, spec, &max_body, &tz, err, errlen);
	if (rc == PB_OK)
		rc = open_stores(app, spec, err, errlen);
	if (rc != PB_OK)
		goto out;
	app->max_body = (size_t)max_body;
	app->tz_offset_min = (int)tz;
	/* the services' shared counters (metrics.h); not for the CLI */
	if (spec->nroutes > 0 &&
	    pb_config_get(app->cfg, "metrics.file", NULL) != NULL)
		rc = pb_metrics_open(
		    pb_config_get(app->cfg, "metrics.file", NULL),
		    spec->service, spec->routes, spec->nroutes,
		    pb_config_get(app->cfg, "metrics.allow", NULL), err,
		    errlen);
	if (rc == PB_OK && spec->init != NULL)
		rc = spec->init(app, err, errlen);
out:
	if (rc != PB_OK)
		pb_app_fini(app);
	return rc;
}

void
pb_app_fini(struct pb_app *app)
{
	if (app->spec != NULL && app->spec->fini != NULL && app->svc != NULL)
		app->spec->fini(app);
	pb_redis_free(app->redis);
	pb_db_free(app->db);
	pb_db_free(app->read_db);
	pb_config_secret_free(app->jwt_secret);
	pb_config_secret_free(app->jwt_accept);
	app->jwt_accept = NULL;
	sodium_memzero(app->pii_key, sizeof(app->pii_key));
	sodium_memzero(app->pii_index_key, sizeof(app->pii_index_key));
	app->has_pii = 0;
	pb_config_free(app->cfg);
	if (app->spec != NULL && app->spec->nroutes > 0)
		pb_metrics_close();
	app->redis = NULL;
	app->db = NULL;
	app->read_db = NULL;
	app->jwt_secret = NULL;
	app->cfg = NULL;
}

void
pb_app_history_keys(const struct pb_app *app, struct pb_history *h)
{
	h->pii_key = app != NULL && app->has_pii ? app->pii_key : NULL;
	h->pii_index_key =
	    app != NULL && app->has_pii ? app->pii_index_key : NULL;
}

int
pb_app_main(const struct pb_app_spec *spec)
{
	struct pb_app app;
	struct pb_serve serve;
	char err[512];
	int status;

	/* lighttpd: children sharing the socket (prefork.h); the parent
	   only supervises them and returns here when they are done */
	if (pb_prefork(&status) != 1)
		return status;
	if (pb_app_init(&app, spec, err, sizeof(err)) != PB_OK) {
		pb_log_msg(PB_LOG_ERROR, "startup_failed", err);
		pb_log_close();
		return 1;
	}
	pb_log_msg(PB_LOG_INFO, "startup", "ready");
	serve.routes = spec->routes;
	serve.nroutes = spec->nroutes;
	serve.max_body = app.max_body;
	serve.tz_offset_min = app.tz_offset_min;
	serve.app = &app;
	status = pb_request_serve(&serve);
	pb_app_fini(&app);
	pb_db_library_end();
	curl_global_cleanup();
	pb_log_close();
	return status;
}

int
pb_app_cli(int argc, char **argv, const struct pb_app_spec *spec)
{
	char prog[64], help[1024];
	int rc;

	snprintf(prog, sizeof(prog), "phonebill-%s", spec->service);
	snprintf(help, sizeof(help),
	         "usage: %s [--version | --help]\n"
	         "%s, a FastCGI responder: the web server\n"
	         "starts it (socket on stdin) with PHONEBILL_CONFIG naming its "
	         "config\nfile.  See %s.\n",
	         prog, spec->what != NULL ? spec->what : "a phonebill service",
	         spec->man != NULL ? spec->man : "phonebill-auth(8)");
	rc = pb_cli_std(argc, argv, prog, help);
	return rc >= 0 ? rc : pb_app_main(spec);
}
