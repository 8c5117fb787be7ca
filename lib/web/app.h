/*
 * app.h - the per-process context of a service and its start-up.
 *
 * A service's main() fills a struct pb_app_spec (name, URL prefix, route
 * table, extra config keys, hooks) and calls pb_app_main(), which loads
 * the config (PHONEBILL_CONFIG), opens the log, loads secrets (refusing to
 * start without them), creates the long-lived Redis and MariaDB handles,
 * runs the request loop and releases everything on SIGTERM.
 */
#ifndef PB_APP_H
#define PB_APP_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "crypto.h"

#include "config.h"
#include "db.h"
#include "err.h"
#include "redis.h"
#include "request.h"

#define PB_DEFAULT_MAX_BODY 65536 /* bytes */

struct pb_app;
struct pb_history;

/* pb_app_spec.flags: dependencies a program does without. */
#define PB_APP_NO_REDIS 0x1u /* no Redis handle (app->redis NULL) */
#define PB_APP_NO_JWT 0x2u   /* no JWT secret (app->jwt_secret NULL) */
#define PB_APP_PII 0x4u      /* load pii.key and pii.index_key */
/* another program's configuration: keys this one does not know are
 * that program's business (phonebill-worker reads the services' files) */
#define PB_APP_OTHERS_CONFIG 0x8u

struct pb_app_spec {
	const char *service; /* "auth", also the log's svc= */
	unsigned flags;      /* PB_APP_NO_* */
	const char *prefix;  /* "/api/v1/auth" */
	const struct pb_route *routes;
	size_t nroutes;
	const char *const *extra_keys; /* more config keys, NULL-terminated */
	/* optional: called after the common set-up / before tear-down */
	enum pb_err (*init)(struct pb_app *app, char *err, size_t errlen);
	void (*fini)(struct pb_app *app);
	/* optional: add the service's own state to GET .../health's data
	 * (breakers, spool, outbox); return 0 when something it needs is
	 * down (the answer is then 503) */
	int (*health)(struct pb_app *app, cJSON *data);
	const void *ctx; /* service-defined, for the hooks */
	/* --help: what the program is, and its man page (NULL:
	 * phonebill-auth(8), which describes the three services) */
	const char *what;
	const char *man;
};

/* .routes and .nroutes of a spec from a route array. */
#define PB_APP_ROUTES(t) .routes = (t), .nroutes = sizeof(t) / sizeof((t)[0])

struct pb_app {
	const struct pb_app_spec *spec;
	struct pb_config *cfg;
	struct pb_redis *redis;
	struct pb_db *db;
	struct pb_db *read_db; /* NULL, or db.read_host: for history
	                          listings (pb_listing_query_read) */
	char *jwt_secret;      /* >= PB_JWT_KEY_MIN bytes */
	char *jwt_accept;      /* NULL, or a second key accepted (not
	                          used to sign) during a rotation:
	                          jwt.accept_secret(_file) */
	/* with PB_APP_PII: XChaCha20-Poly1305 key and blind-index HMAC key
	 * (secrets pii.key / pii.index_key, 64 hex characters each) */
	int has_pii;
	unsigned char pii_key[PB_CRYPTO_KEY_LEN];
	unsigned char pii_index_key[PB_CRYPTO_KEY_LEN];
	size_t max_body;   /* bytes */
	int tz_offset_min; /* minutes east of UTC for responses */
	void *svc;         /* service-private state (init/fini) */
};

/*
 * Set up app from spec and the environment.  On failure err holds a
 * one-line reason for the operator and everything is released.
 */
enum pb_err pb_app_init(struct pb_app *app, const struct pb_app_spec *spec,
                        char *err, size_t errlen);
/* The same with the configuration file named (not PHONEBILL_CONFIG):
 * for phonebill-worker, which runs each service's history part with that
 * service's own configuration. */
enum pb_err pb_app_init_config(struct pb_app *app,
                               const struct pb_app_spec *spec,
                               const char *config_path, char *err,
                               size_t errlen);
void pb_app_fini(struct pb_app *app);

/*
 * Open another MariaDB handle with the service's db.* settings (for a
 * background thread, which must never share the request thread's).
 * Caller frees with pb_db_free.
 */
enum pb_err pb_app_db_open(struct pb_app *app, struct pb_db **out, char *err,
                           size_t errlen);
/* The same for Redis (redis.* settings). */
enum pb_err pb_app_redis_open(struct pb_app *app, struct pb_redis **out,
                              char *err, size_t errlen);
/* Lend h the PII keys of app (NULL pointers when app has none). */
void pb_app_history_keys(const struct pb_app *app, struct pb_history *h);
/*
 * main() of a FastCGI program phonebill-<service>: --version and --help
 * (usage, then "<what>, a FastCGI responder: ...  See <man>."), else
 * pb_app_main(spec).  PB_APP_MAIN(spec) defines that main().
 */
int pb_app_cli(int argc, char **argv, const struct pb_app_spec *spec);
#define PB_APP_MAIN(spec)                                                      \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		return pb_app_cli(argc, argv, &(spec));                        \
	}
/* init + pb_request_serve + fini; returns the process exit status. */
int pb_app_main(const struct pb_app_spec *spec);

#endif
