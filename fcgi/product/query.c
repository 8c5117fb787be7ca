/* query.c - GET /products/history: the caller's plan changes, newest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "history.h"
#include "json.h"
#include "listing.h"
#include "log.h"
#include "product.h"

#define PAGE_SIZE_DEFAULT 10

struct page_ctx {
	struct pb_req *req;
	struct pb_history h;
	cJSON *items;
	long long total;
};

static int
add_time(cJSON *o, const char *name, const char *sql, int tz)
{
	char ts[PB_CLOCK_RFC3339_LEN];

	if (sql == NULL)
		return 1;
	return pb_listing_rfc3339(sql, tz, ts, sizeof(ts)) &&
	       cJSON_AddStringToObject(o, name, ts) != NULL;
}

static int
add_str(cJSON *o, const char *name, const char *v)
{
	return v == NULL || cJSON_AddStringToObject(o, name, v) != NULL;
}

/* request_id, line_number_enc, status, current code/name, target
 * code/name, requested_at, completed_at, result_message, kos_order_no */
static enum pb_err
item_row(void *ud, const struct pb_db_row *row)
{
	struct page_ctx *c = ud;
	int tz = c->req->app->tz_offset_min;
	char line[16], *digits = NULL;
	size_t dlen = 0;
	const char *st;
	cJSON *it;

	if (row->ncols < 11)
		return PB_ERR_INTERNAL;
	if (pb_history_open(&c->h, row->vals[1], row->lens[1], &digits,
	                    &dlen) != PB_OK ||
	    pb_authz_line_format(digits, line, sizeof(line)) != PB_OK) {
		free(digits);
		pb_log_msg(PB_LOG_ERROR, "history_line_unreadable",
		           row->vals[0]);
		return PB_ERR_INTERNAL;
	}
	free(digits);
	st = row->vals[2] != NULL && strcmp(row->vals[2], "REQUESTED") == 0
	         ? "PROCESSING"
	         : row->vals[2];
	it = cJSON_CreateObject();
	if (it == NULL || !cJSON_AddItemToArray(c->items, it)) {
		cJSON_Delete(it);
		return PB_ERR_NOMEM;
	}
	if (!add_str(it, "requestId", row->vals[0]) ||
	    !add_str(it, "lineNumber", line) ||
	    !add_str(it, "processStatus", st) ||
	    !add_str(it, "currentProductCode", row->vals[3]) ||
	    !add_str(it, "currentProductName", row->vals[4]) ||
	    !add_str(it, "targetProductCode", row->vals[5]) ||
	    !add_str(it, "targetProductName", row->vals[6]) ||
	    !add_time(it, "requestedAt", row->vals[7], tz) ||
	    !add_time(it, "processedAt", row->vals[8], tz) ||
	    !add_str(it, "resultMessage", row->vals[9]) ||
	    !add_str(it, "orderNumber", row->vals[10]))
		return PB_ERR_NOMEM;
	return PB_OK;
}

void
prod_history(struct pb_req *req)
{
	static const char *const statuses[] = {"COMPLETED", "PROCESSING",
	                                       "FAILED", NULL};
	static const struct pb_listing_opts lo = {PAGE_SIZE_DEFAULT, statuses};
	struct pb_principal p;
	struct pb_listing f;
	struct page_ctx c;
	unsigned char bidx[PB_CRYPTO_INDEX_LEN];
	char details[96];
	char digits[12];
	const char *status;
	enum pb_err rc;
	int tz = req->app->tz_offset_min;

	memset(&c, 0, sizeof(c));
	if (pb_authz_require(req, PB_PERM_PRODUCT_CHANGE, &p) != PB_OK)
		return;
	if (!pb_listing_parse(req->query, &lo, &f, details, sizeof(details))) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL, details, NULL);
		return;
	}
	memset(bidx, 0, sizeof(bidx));
	c.req = req;
	pb_app_history_keys(req->app, &c.h);
	if (f.line[0] != '\0') {
		if (!prod_own_line(req, &p, f.line, digits))
			return;
		pb_history_line_index(&c.h, digits, bidx);
	}
	/* PROCESSING is stored as REQUESTED */
	status = strcmp(f.status, "PROCESSING") == 0 ? "REQUESTED" : f.status;
	c.items = cJSON_CreateArray();
	rc =
	    c.items == NULL
	        ? PB_ERR_NOMEM
	        : pb_listing_query_read(
	              req->app->read_db, req->app->db, "product_change_history",
	              "request_id, line_number_enc, status, "
	              "current_product_code, "
	              "current_product_name, target_product_code, "
	              "target_product_name, "
	              "requested_at, completed_at, result_message, "
	              "kos_order_no",
	              p.s.user_id, &f, f.line[0] != '\0' ? bidx : NULL, status,
	              tz, item_row, &c, &c.total);
	pb_listing_reply(req, rc, c.items, &f, c.total, PB_LISTING_PRODUCT,
	                 "상품변경 이력을 조회했습니다");
}
