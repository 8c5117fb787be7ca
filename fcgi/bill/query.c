/*
 * query.c - GET /bills/inquiry/{requestId} and GET /bills/history.
 *
 * A stored result is the caller's own or it does not exist (404 either
 * way: another user's request id is not even confirmed to exist).  Redis
 * holds the last hour's answers (so a result is visible at once, even
 * while MariaDB is away); MariaDB holds them all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bill.h"
#include "cache.h"
#include "clock.h"
#include "crypto.h"
#include "history.h"
#include "json.h"
#include "listing.h"
#include "log.h"

#define PAGE_SIZE_DEFAULT 20

/* --- GET /bills/inquiry/{requestId} ----------------------------------------
 */

struct stored {
	char user[PB_SESSION_ID_MAX + 1];
	char status[16];
	char message[PB_KOS_MESSAGE_MAX];
	char error_code[64];
	char *response; /* data object text, or NULL */
	int found;
};

static enum pb_err
stored_row(void *ud, const struct pb_db_row *row)
{
	struct stored *s = ud;

	if (row->ncols < 5 || s->found)
		return PB_OK;
	s->found = 1;
	(void)pb_strlcpy(s->user, row->vals[0] != NULL ? row->vals[0] : "",
	                 sizeof(s->user));
	(void)pb_strlcpy(s->status, row->vals[1] != NULL ? row->vals[1] : "",
	                 sizeof(s->status));
	(void)pb_strlcpy(s->message, row->vals[3] != NULL ? row->vals[3] : "",
	                 sizeof(s->message));
	(void)pb_strlcpy(s->error_code,
	                 row->vals[4] != NULL ? row->vals[4] : "",
	                 sizeof(s->error_code));
	if (row->vals[2] != NULL) {
		s->response = malloc(row->lens[2] + 1);
		if (s->response == NULL)
			return PB_ERR_NOMEM;
		memcpy(s->response, row->vals[2], row->lens[2]);
		s->response[row->lens[2]] = '\0';
	}
	return PB_OK;
}

/* The Korean reason of a failed inquiry, for errorMessage. */
static const char *
failure_text(const struct stored *s)
{
	if (strcmp(s->error_code, "BILL_NOT_FOUND") == 0)
		return "해당 월의 청구 내역이 없습니다";
	if (strcmp(s->error_code, "UPSTREAM_INVALID") == 0)
		return "KOS 시스템 응답 오류";
	return "KOS 시스템 연동 실패";
}

/* Where a stored result was looked for, and what came of it. */
enum lookup {
	L_ABSENT,      /* not there (look further) */
	L_FOUND,       /* *data set */
	L_NOTFOUND,    /* none, or not the caller's: 404 */
	L_UNAVAILABLE, /* the store is away: 503 */
	L_INTERNAL     /* unreadable: 500 */
};

/* The answer kept in Redis for a while ("<user>\n<data>", v[0..len)). */
static enum lookup
status_from_cache(char *v, size_t len, const char *uid, cJSON **data)
{
	char *nl = v != NULL ? memchr(v, '\n', len) : NULL;

	if (nl == NULL)
		return L_ABSENT;
	*nl = '\0';
	if (!pb_crypto_str_eq(v, uid))
		return L_NOTFOUND;
	if (pb_json_parse(nl + 1, len - (size_t)(nl + 1 - v), PB_JSON_MAX_DEPTH,
	                  data, NULL) != PB_OK)
		return L_INTERNAL;
	return L_FOUND;
}

/* A failed inquiry's data from its row: status, errorMessage, details. */
static cJSON *
failure_json(const char *rid, const struct stored *s)
{
	cJSON *data = cJSON_CreateObject();

	if (data == NULL ||
	    cJSON_AddStringToObject(data, "requestId", rid) == NULL ||
	    cJSON_AddStringToObject(data, "status",
	                            s->status[0] != '\0' ? s->status
	                                                 : "FAILED") == NULL ||
	    cJSON_AddStringToObject(data, "errorMessage", failure_text(s)) ==
	        NULL ||
	    (s->message[0] != '\0' &&
	     cJSON_AddStringToObject(data, "details", s->message) == NULL)) {
		cJSON_Delete(data);
		return NULL;
	}
	return data;
}

/* The row in bill_request_history (MariaDB keeps it for good). */
static enum lookup
status_from_db(struct pb_req *req, const char *rid, const char *uid,
               cJSON **data)
{
	struct pb_db_param prm[1];
	struct stored s;
	enum lookup res = L_INTERNAL;
	enum pb_err rc;

	memset(&s, 0, sizeof(s));
	prm[0] = PB_DB_P_STR(rid);
	rc = pb_db_query(
	    req->app->db,
	    "SELECT user_id, status, response_json, result_message, error_code "
	    "FROM bill_request_history WHERE request_id = ?",
	    prm, 1, stored_row, &s);
	if (rc == PB_ERR_UNAVAILABLE) {
		res = L_UNAVAILABLE;
	} else if (rc != PB_OK) {
		res = L_INTERNAL;
	} else if (!s.found || !pb_crypto_str_eq(s.user, uid)) {
		res = L_NOTFOUND;
	} else if (s.response == NULL) {
		*data = failure_json(rid, &s);
		res = *data != NULL ? L_FOUND : L_INTERNAL;
	} else {
		res = pb_json_parse(s.response, strlen(s.response),
		                    PB_JSON_MAX_DEPTH, data, NULL) == PB_OK
		          ? L_FOUND
		          : L_INTERNAL;
	}
	free(s.response);
	return res;
}

/* The answer for what the lookup found; takes data. */
static void
status_answer(struct pb_req *req, enum lookup res, cJSON *data)
{
	const char *st = pb_json_get_string(data, "status");

	switch (res) {
	case L_FOUND:
		pb_req_ok(req, 200,
		          st != NULL && strcmp(st, "COMPLETED") == 0
		              ? "요금조회 결과를 조회했습니다"
		              : "요금조회에 실패했습니다",
		          data);
		return;
	case L_UNAVAILABLE:
		pb_req_unavailable(req, "database");
		break;
	case L_ABSENT:
	case L_NOTFOUND:
		pb_req_error(req, 404, "NOT_FOUND", NULL, "no such requestId",
		             NULL);
		break;
	case L_INTERNAL:
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		break;
	}
	cJSON_Delete(data);
}

void
bill_status(struct pb_req *req)
{
	const char *rid = pb_req_path_param(req, "requestId");
	int valid = rid != NULL && pb_req_id_valid(rid);
	struct pb_principal p;
	struct pb_cache_getcmd get;
	char key[96], *v = NULL;
	size_t len = 0;
	cJSON *data = NULL;
	redisReply *pre = NULL;
	enum lookup res = L_NOTFOUND;
	int have_get;

	/* the stored answer is read in the session check's round trip */
	have_get = valid &&
	           snprintf(key, sizeof(key), "v1:bill-req:%s", rid) <
	               (int)sizeof(key) &&
	           pb_cache_getcmd_make(&get, key) == PB_OK;
	if (pb_authz_require_pipe(req, PB_PERM_BILL_INQUIRY, &p,
	                          have_get ? &get.cmd : NULL, have_get ? 1 : 0,
	                          &pre) != PB_OK)
		return;
	if (valid && have_get &&
	    pb_cache_getcmd_value(&get, pre, &v, &len) == PB_OK)
		res = status_from_cache(v, len, p.s.user_id, &data);
	else if (valid)
		res = L_ABSENT;
	if (res == L_ABSENT)
		res = status_from_db(req, rid, p.s.user_id, &data);
	status_answer(req, res, data);
	free(v);
	freeReplyObject(pre);
}

/* --- GET /bills/history -----------------------------------------------------
 */

struct page_ctx {
	struct pb_req *req;
	struct pb_history h; /* for opening the sealed line numbers */
	cJSON *items;
	long long total;
};

static enum pb_err
item_row(void *ud, const struct pb_db_row *row)
{
	struct page_ctx *c = ud;
	char ts[PB_CLOCK_RFC3339_LEN], line[16], *digits = NULL;
	size_t dlen = 0;
	cJSON *it;
	int tz = c->req->app->tz_offset_min;

	if (row->ncols < 7)
		return PB_ERR_INTERNAL;
	it = cJSON_CreateObject();
	if (it == NULL || !cJSON_AddItemToArray(c->items, it))
		goto nomem;
	if (pb_history_open(&c->h, row->vals[1], row->lens[1], &digits,
	                    &dlen) != PB_OK ||
	    pb_authz_line_format(digits, line, sizeof(line)) != PB_OK) {
		free(digits);
		pb_log_msg(PB_LOG_ERROR, "history_line_unreadable",
		           row->vals[0]);
		return PB_ERR_INTERNAL;
	}
	free(digits);
	if (cJSON_AddStringToObject(it, "requestId", row->vals[0]) == NULL ||
	    cJSON_AddStringToObject(it, "lineNumber", line) == NULL ||
	    cJSON_AddStringToObject(it, "inquiryMonth", row->vals[2]) == NULL ||
	    !pb_listing_rfc3339(row->vals[3], tz, ts, sizeof(ts)) ||
	    cJSON_AddStringToObject(it, "requestTime", ts) == NULL ||
	    (row->vals[4] != NULL &&
	     (!pb_listing_rfc3339(row->vals[4], tz, ts, sizeof(ts)) ||
	      cJSON_AddStringToObject(it, "processTime", ts) == NULL)) ||
	    cJSON_AddStringToObject(it, "status", row->vals[5]) == NULL ||
	    (row->vals[6] != NULL &&
	     cJSON_AddStringToObject(it, "resultSummary", row->vals[6]) ==
	         NULL))
		goto nomem;
	return PB_OK;
nomem:
	return PB_ERR_NOMEM;
}

void
bill_history(struct pb_req *req)
{
	struct pb_principal p;
	static const char *const statuses[] = {"COMPLETED", "PROCESSING",
	                                       "FAILED", NULL};
	static const struct pb_listing_opts lo = {PAGE_SIZE_DEFAULT, statuses};
	struct pb_listing f;
	struct page_ctx c;
	unsigned char bidx[PB_CRYPTO_INDEX_LEN];
	char details[96];
	char digits[16];
	enum pb_err rc;
	int tz = req->app->tz_offset_min;

	memset(&c, 0, sizeof(c));
	if (pb_authz_require(req, PB_PERM_BILL_INQUIRY, &p) != PB_OK)
		return;
	if (!pb_listing_parse(req->query, &lo, &f, details, sizeof(details))) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL, details, NULL);
		return;
	}
	if (f.line[0] != '\0' && !pb_authz_line_is_own(&p, f.line)) {
		pb_req_error(
		    req, 403, "FORBIDDEN", "본인 회선만 조회할 수 있습니다",
		    "lineNumber is not the signed-in user's line", NULL);
		return;
	}
	memset(bidx, 0, sizeof(bidx));
	c.req = req;
	pb_app_history_keys(req->app, &c.h);
	if (f.line[0] != '\0') {
		bill_line_digits(f.line, digits, sizeof(digits));
		pb_history_line_index(&c.h, digits, bidx);
	}
	c.items = cJSON_CreateArray();
	rc = c.items == NULL
	         ? PB_ERR_NOMEM
	         : pb_listing_query_read(
	               req->app->read_db, req->app->db, "bill_request_history",
	               "request_id, line_number_enc, billing_month, "
	               "requested_at, "
	               "completed_at, status, result_summary",
	               p.s.user_id, &f, f.line[0] != '\0' ? bidx : NULL,
	               f.status, tz, item_row, &c, &c.total);
	pb_listing_reply(req, rc, c.items, &f, c.total, PB_LISTING_BILL,
	                 "요금조회 이력을 조회했습니다");
}
