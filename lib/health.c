/* health.c - dependency health endpoint. */
#include <string.h>

#include "app.h"
#include "clock.h"
#include "health.h"
#include "log.h"

void
pb_health_handler(struct pb_req *req)
{
	struct pb_app *app = req->app;
	char ts[PB_CLOCK_RFC3339_LEN];
	char role[16] = "";
	const char *db_why = NULL;
	int redis_up, db_up, svc_up = 1;
	cJSON *data;

	/* a program without Redis (PB_APP_NO_REDIS) reports it as not used;
	 * UP only on a master: a demoted replica cannot take our writes */
	redis_up = app->redis == NULL ||
	    (pb_redis_role(app->redis, role, sizeof(role)) == PB_OK &&
	    strcmp(role, "master") == 0);
	db_up = pb_db_writable(app->db, &db_why) == PB_OK;
	if (!redis_up)
		pb_log_msg(PB_LOG_WARN, "health_redis_down",
		    pb_redis_last_error(app->redis));
	if (!db_up)
		pb_log_msg(PB_LOG_WARN, "health_db_down", db_why != NULL &&
		    strcmp(db_why, "unavailable") != 0 ? db_why :
		    pb_db_last_error(app->db));
	(void)pb_clock_rfc3339(pb_clock_now_ms(), app->tz_offset_min, ts,
	    sizeof(ts));
	data = cJSON_CreateObject();
	if (data == NULL ||
	    cJSON_AddStringToObject(data, "status",
	    redis_up && db_up ? "UP" : "DOWN") == NULL ||
	    cJSON_AddStringToObject(data, "service", app->spec->service) == NULL ||
	    cJSON_AddStringToObject(data, "redis", app->redis == NULL ?
	    "NOT_USED" : redis_up ? "UP" : "DOWN") == NULL ||
	    cJSON_AddStringToObject(data, "database", db_up ? "UP" : "DOWN") == NULL ||
	    (app->redis != NULL && cJSON_AddStringToObject(data, "redisRole",
	    role[0] != '\0' ? role : "unknown") == NULL) ||
	    cJSON_AddStringToObject(data, "databaseWritable", db_up ? "yes" :
	    db_why != NULL && strcmp(db_why, "unavailable") != 0 ? db_why :
	    "unknown") == NULL ||
	    cJSON_AddStringToObject(data, "time", ts) == NULL) {
		cJSON_Delete(data);
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
		return;
	}
	if (app->spec->health != NULL)
		svc_up = app->spec->health(app, data);
	if (!svc_up)
		cJSON_ReplaceItemInObject(data, "status",
		    cJSON_CreateString("DOWN"));
	if (redis_up && db_up && svc_up) {
		pb_req_ok(req, 200, "정상", data);
		return;
	}
	(void)pb_req_add_header(req, "Retry-After", "5");
	pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL,
	    !redis_up && !db_up ? "redis and database unavailable" :
	    !redis_up ? "redis unavailable" : !db_up ? "database unavailable" :
	    "a dependency is unavailable", data);
}
