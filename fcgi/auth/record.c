/*
 * record.c - the auth service's login history table, for phonebill-worker.
 *
 * A record (struct auth_login_rec, filled by handlers.c before the answer
 * goes out) crosses the stream as a JSON object: eventId (random, the
 * row's idempotency key), requestId, userId (canonical id as typed),
 * result (SUCCESS, FAILURE, LOCKED), reason (absent: none), client
 * (masked address), agent (User-Agent, cut to 128) and at (ms, the
 * service's clock).  Those names are the stream's format (version "1");
 * only encode and decode below know them.  A replay of the same record
 * changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "json.h"

static const char insert_login[] =
    "INSERT INTO login_history (request_id, event_id, user_id, result, "
    "reason, client_masked, user_agent, created_at) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id";

/* The login record behind base: the one cast of this kind. */
static const struct auth_login_rec *
login_of(const struct pb_history_rec *base)
{
	if (base == NULL || base->spec != &auth_login_spec)
		return NULL;
	return (const struct auth_login_rec *)(const void *)base;
}

void
auth_login_rec_init(struct auth_login_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->base.spec = &auth_login_spec;
}

enum pb_err
auth_login_rec_encode(const struct auth_login_rec *r, char **out,
                      size_t *outlen)
{
	cJSON *o = cJSON_CreateObject();
	enum pb_err rc = PB_ERR_NOMEM;

	*out = NULL;
	*outlen = 0;
	if (o == NULL ||
	    cJSON_AddStringToObject(o, "eventId", r->event_id) == NULL ||
	    cJSON_AddStringToObject(o, "requestId", r->base.request_id) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "userId", r->user_id) == NULL ||
	    cJSON_AddStringToObject(o, "result", r->result) == NULL ||
	    (r->reason[0] != '\0' &&
	     cJSON_AddStringToObject(o, "reason", r->reason) == NULL) ||
	    cJSON_AddStringToObject(o, "client", r->client) == NULL ||
	    cJSON_AddStringToObject(o, "agent", r->agent) == NULL ||
	    cJSON_AddNumberToObject(o, "at", (double)r->at_ms) == NULL)
		goto out;
	*out = cJSON_PrintUnformatted(o);
	if (*out != NULL) {
		*outlen = strlen(*out);
		rc = PB_OK;
	}
out:
	cJSON_Delete(o);
	return rc;
}

static enum pb_err
decode_fields(const cJSON *o, struct auth_login_rec *r, char *why)
{
	long long at = 0;
	enum pb_err rc;

	rc = pb_history_get_str(o, "requestId", 1, r->base.request_id,
	                        sizeof(r->base.request_id), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "eventId", 1, r->event_id,
		                        sizeof(r->event_id), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "userId", 1, r->user_id,
		                        sizeof(r->user_id), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "result", 1, r->result,
		                        sizeof(r->result), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "reason", 0, r->reason,
		                        sizeof(r->reason), why);
	if (rc == PB_OK)
		rc = pb_history_get_str(o, "client", 0, r->client,
		                        sizeof(r->client), why);
	/* cut to the column, as the service does (and always did here) */
	if (rc == PB_OK)
		(void)pb_strlcpy(r->agent,
		                 pb_json_get_string(o, "agent") != NULL
		                     ? pb_json_get_string(o, "agent")
		                     : "",
		                 sizeof(r->agent));
	if (rc == PB_OK)
		rc = pb_history_get_int(o, "at", &at, why);
	if (rc == PB_OK && at <= 0) {
		(void)pb_strlcpy(why, "at: missing or not positive",
		                 PB_HISTORY_WHY_MAX);
		rc = PB_ERR_INVAL;
	}
	r->at_ms = at;
	return rc;
}

enum pb_err
auth_login_rec_decode(const char *json, size_t len, struct auth_login_rec **out,
                      char *why)
{
	struct auth_login_rec *r = NULL;
	cJSON *o = NULL;
	enum pb_err rc;

	*out = NULL;
	rc = pb_history_parse(json, len, &o, why);
	if (rc != PB_OK)
		return rc;
	r = malloc(sizeof(*r));
	if (r == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	auth_login_rec_init(r);
	rc = decode_fields(o, r, why);
	if (rc == PB_OK) {
		*out = r;
		r = NULL;
	}
out:
	free(r);
	cJSON_Delete(o);
	return rc;
}

static enum pb_err
encode(const struct pb_history_rec *base, char **out, size_t *outlen)
{
	const struct auth_login_rec *r = login_of(base);

	*out = NULL;
	*outlen = 0;
	return r != NULL ? auth_login_rec_encode(r, out, outlen) : PB_ERR_INVAL;
}

PB_HISTORY_ADAPTERS(struct auth_login_rec, login_of, auth_login_rec_decode)

static enum pb_err
apply(struct pb_history *h, struct pb_db *db, const struct pb_history_rec *base)
{
	const struct auth_login_rec *r = login_of(base);
	char at[PB_HISTORY_SQLTIME_LEN];
	struct pb_db_param p[8];

	(void)h;
	if (r == NULL)
		return PB_ERR_INVAL;
	pb_history_sqltime(r->at_ms, at, sizeof(at));
	p[0] = PB_DB_P_STR(r->base.request_id);
	p[1] = PB_DB_P_STR(r->event_id);
	p[2] = PB_DB_P_STR(r->user_id);
	p[3] = PB_DB_P_STR(r->result);
	p[4] = r->reason[0] != '\0' ? PB_DB_P_STR(r->reason) : PB_DB_P_NULL;
	p[5] = PB_DB_P_STR(r->client);
	p[6] = PB_DB_P_STR(r->agent);
	p[7] = PB_DB_P_STR(at);
	return pb_db_exec(db, insert_login, p, 8, NULL, NULL);
}

const struct pb_history_spec auth_login_spec = {
    .kind = "auth.login",
    .encode = encode,
    .decode = decode,
    .rec_free = rec_free,
    .apply = apply,
};
