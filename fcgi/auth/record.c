/*
 * record.c - the auth service's login history table, for phonebill-worker.
 *
 * A record (built by handlers.c before the answer goes out) is a JSON
 * object: eventId (random, the row's idempotency key), requestId, userId
 * (canonical id as typed), result (SUCCESS, FAILURE, LOCKED), reason,
 * client (masked address), agent (User-Agent, cut to 128) and at (ms, the
 * service's clock).  A replay of the same record changes nothing.
 */
#include <string.h>

#include "auth.h"
#include "history.h"
#include "json.h"

static const char insert_login[] =
    "INSERT INTO login_history (request_id, event_id, user_id, result, "
    "reason, client_masked, user_agent, created_at) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id";

static struct pb_db_param
opt(const cJSON *o, const char *name)
{
	const char *v = pb_json_get_string(o, name);

	return v != NULL ? PB_DB_P_STR(v) : PB_DB_P_NULL;
}

static enum pb_err
apply(struct pb_history *h, struct pb_db *db, const cJSON *rec)
{
	char at[PB_HISTORY_SQLTIME_LEN], agent[129];
	const char *ua = pb_json_get_string(rec, "agent");
	const char *result = pb_json_get_string(rec, "result");
	struct pb_db_param p[8];
	long long ms = 0;

	(void)h;
	if (pb_json_get_string(rec, "eventId") == NULL ||
	    pb_json_get_string(rec, "requestId") == NULL ||
	    pb_json_get_string(rec, "userId") == NULL || result == NULL ||
	    !pb_json_get_int(rec, "at", &ms) || ms <= 0)
		return PB_ERR_INVAL;
	(void)pb_strlcpy(agent, ua != NULL ? ua : "", sizeof(agent));
	pb_history_sqltime(ms, at, sizeof(at));
	p[0] = PB_DB_P_STR(pb_json_get_string(rec, "requestId"));
	p[1] = PB_DB_P_STR(pb_json_get_string(rec, "eventId"));
	p[2] = PB_DB_P_STR(pb_json_get_string(rec, "userId"));
	p[3] = PB_DB_P_STR(result);
	p[4] = opt(rec, "reason");
	p[5] = pb_json_get_string(rec, "client") != NULL
	           ? PB_DB_P_STR(pb_json_get_string(rec, "client"))
	           : PB_DB_P_STR("");
	p[6] = PB_DB_P_STR(agent);
	p[7] = PB_DB_P_STR(at);
	return pb_db_exec(db, insert_login, p, 8, NULL, NULL);
}

const struct pb_history_spec auth_login_spec = {
    .kind = "auth.login",
    .apply = apply,
};
