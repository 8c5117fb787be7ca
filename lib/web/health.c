/* health.c - dependency health endpoint. */
#include <string.h>

#include "app.h"
#include "clock.h"
#include "health.h"
#include "log.h"

/* ?ready (or ready=...) anywhere in the query: the readiness view. */
static int
want_ready(const char *q)
{
	size_t n;

	while (q != NULL && *q != '\0') {
		n = strcspn(q, "&");
		if ((n == 5 || (n > 5 && q[5] == '=')) &&
		    strncmp(q, "ready", 5) == 0)
			return 1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* The back office's report (kos.status) says DEGRADED. */
static int
kos_degraded(const cJSON *data)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(data, "kos"), "status");

	return cJSON_IsString(st) && strcmp(st->valuestring, "DEGRADED") == 0;
}

#define PING_CACHE_MS 1000 /* ms a ping's answer is reused */

/*
 * Ping at most once a second per process (issue 19): health answers from
 * the last ping in between, so a burst of probes costs no round trips and
 * a dependency that stalls is waited on once a second at most.
 */
static void
pings(struct pb_app *app, int *redis_up, int *db_up, char *role, size_t rolelen,
      const char **db_why)
{
	static int64_t at = -PING_CACHE_MS;
	static int last_redis, last_db;
	static char last_role[16];
	static const char *last_why;
	int64_t now = pb_clock_mono_ms();

	/* UP only on a master (a demoted replica cannot take our writes)
	 * and a writable database (issue 13) */
	if (now - at >= PING_CACHE_MS || !last_redis || !last_db) {
		last_role[0] = '\0';
		last_redis = app->redis == NULL ||
		             (pb_redis_role(app->redis, last_role,
		                            sizeof(last_role)) == PB_OK &&
		              strcmp(last_role, "master") == 0);
		last_why = NULL;
		last_db = pb_db_writable(app->db, &last_why) == PB_OK;
		at = now;
	}
	*redis_up = last_redis;
	*db_up = last_db;
	(void)pb_strlcpy(role, last_role, rolelen);
	*db_why = last_why;
}

void
pb_health_handler(struct pb_req *req)
{
	struct pb_app *app = req->app;
	char ts[PB_CLOCK_RFC3339_LEN];
	char role[16] = "";
	const char *db_why = NULL;
	int redis_up, db_up, svc_up = 1, degraded;
	cJSON *data;

	/* a program without Redis (PB_APP_NO_REDIS) reports it as not used */
	pings(app, &redis_up, &db_up, role, sizeof(role), &db_why);
	if (!redis_up)
		pb_log_msg(PB_LOG_WARN, "health_redis_down",
		           pb_redis_last_error(app->redis));
	if (!db_up)
		pb_log_msg(PB_LOG_WARN, "health_db_down",
		           db_why != NULL && strcmp(db_why, "unavailable") != 0
		               ? db_why
		               : pb_db_last_error(app->db));
	(void)pb_clock_rfc3339(pb_clock_now_ms(), app->tz_offset_min, ts,
	                       sizeof(ts));
	data = cJSON_CreateObject();
	if (data == NULL ||
	    cJSON_AddStringToObject(
	        data, "status", redis_up && db_up ? "UP" : "DOWN") == NULL ||
	    cJSON_AddStringToObject(data, "service", app->spec->service) ==
	        NULL ||
	    cJSON_AddStringToObject(data, "redis",
	                            app->redis == NULL ? "NOT_USED"
	                            : redis_up         ? "UP"
	                                               : "DOWN") == NULL ||
	    cJSON_AddStringToObject(data, "database", db_up ? "UP" : "DOWN") ==
	        NULL ||
	    (app->redis != NULL &&
	     cJSON_AddStringToObject(data, "redisRole",
	                             role[0] != '\0' ? role : "unknown") ==
	         NULL) ||
	    cJSON_AddStringToObject(data, "databaseWritable",
	                            db_up ? "yes"
	                            : db_why != NULL &&
	                                    strcmp(db_why, "unavailable") != 0
	                                ? db_why
	                                : "unknown") == NULL ||
	    cJSON_AddStringToObject(data, "time", ts) == NULL) {
		cJSON_Delete(data);
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		return;
	}
	if (app->spec->health != NULL)
		svc_up = app->spec->health(app, data);
	if (!svc_up)
		cJSON_ReplaceItemInObject(data, "status",
		                          cJSON_CreateString("DOWN"));
	/* KOS unreachable or a breaker open: alive (200), not ready */
	degraded = redis_up && db_up && svc_up && kos_degraded(data);
	if (degraded)
		cJSON_ReplaceItemInObject(data, "status",
		                          cJSON_CreateString("DEGRADED"));
	if (degraded && want_ready(req->query)) {
		(void)pb_req_add_header(req, "Retry-After", "5");
		pb_req_error(
		    req, 503, "SERVICE_UNAVAILABLE", NULL,
		    "not ready: KOS unreachable or a circuit breaker open",
		    data);
		return;
	}
	if (redis_up && db_up && svc_up) {
		pb_req_ok(req, 200, "정상", data);
		return;
	}
	(void)pb_req_add_header(req, "Retry-After", "5");
	pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL,
	             !redis_up && !db_up ? "redis and database unavailable"
	             : !redis_up         ? "redis unavailable"
	             : !db_up            ? "database unavailable"
	                                 : "a dependency is unavailable",
	             data);
}
