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

void
bill_status(struct pb_req *req)
{
	const char *rid = pb_req_path_param(req, "requestId");
	struct pb_principal p;
	struct stored s;
	struct pb_db_param prm[1];
	struct pb_cache_getcmd get;
	char key[96], *v = NULL, *nl;
	size_t len = 0;
	cJSON *data = NULL;
	redisReply *pre = NULL;
	enum pb_err rc;
	int have_get;

	memset(&s, 0, sizeof(s));
	/* the stored answer is read in the session check's round trip */
	have_get = rid != NULL && pb_req_id_valid(rid) &&
	           snprintf(key, sizeof(key), "v1:bill-req:%s", rid) <
	               (int)sizeof(key) &&
	           pb_cache_getcmd_make(&get, key) == PB_OK;
	if (pb_authz_require_pipe(req, PB_PERM_BILL_INQUIRY, &p,
	                          have_get ? &get.cmd : NULL, have_get ? 1 : 0,
	                          &pre) != PB_OK)
		return;
	if (rid == NULL || !pb_req_id_valid(rid)) {
		pb_req_error(req, 404, "NOT_FOUND", NULL, "no such requestId",
		             NULL);
		goto out;
	}
	nl = NULL;
	if (have_get && pb_cache_getcmd_value(&get, pre, &v, &len) == PB_OK)
		nl = memchr(v, '\n', len);
	if (nl != NULL) {
		*nl = '\0';
		if (!pb_crypto_str_eq(v, p.s.user_id))
			goto notfound;
		if (pb_json_parse(nl + 1, len - (size_t)(nl + 1 - v),
		                  PB_JSON_MAX_DEPTH, &data, NULL) != PB_OK)
			goto internal;
		goto answer;
	}
	prm[0] = PB_DB_P_STR(rid);
	rc = pb_db_query(
	    req->app->db,
	    "SELECT user_id, status, response_json, result_message, error_code "
	    "FROM bill_request_history WHERE request_id = ?",
	    prm, 1, stored_row, &s);
	if (rc == PB_ERR_UNAVAILABLE) {
		pb_req_unavailable(req, "database");
		goto out;
	}
	if (rc != PB_OK)
		goto internal;
	if (!s.found || !pb_crypto_str_eq(s.user, p.s.user_id))
		goto notfound;
	if (s.response != NULL) {
		if (pb_json_parse(s.response, strlen(s.response),
		                  PB_JSON_MAX_DEPTH, &data, NULL) != PB_OK)
			goto internal;
	} else {
		data = cJSON_CreateObject();
		if (data == NULL ||
		    cJSON_AddStringToObject(data, "requestId", rid) == NULL ||
		    cJSON_AddStringToObject(
		        data, "status",
		        s.status[0] != '\0' ? s.status : "FAILED") == NULL ||
		    cJSON_AddStringToObject(data, "errorMessage",
		                            failure_text(&s)) == NULL)
			goto internal;
		if (s.message[0] != '\0' &&
		    cJSON_AddStringToObject(data, "details", s.message) == NULL)
			goto internal;
	}
answer:
	pb_req_ok(req, 200,
	          strcmp(pb_json_get_string(data, "status") != NULL
	                     ? pb_json_get_string(data, "status")
	                     : "",
	                 "COMPLETED") == 0
	              ? "요금조회 결과를 조회했습니다"
	              : "요금조회에 실패했습니다",
	          data);
	data = NULL;
	goto out;
notfound:
	pb_req_error(req, 404, "NOT_FOUND", NULL, "no such requestId", NULL);
	goto out;
internal:
	pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
out:
	cJSON_Delete(data);
	free(s.response);
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
