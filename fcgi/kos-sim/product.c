/*
 * product.c - product inquiry, product list and product change.
 *
 * A change is one transaction: the order row (unique request_id) is
 * inserted first, so a repeated requestId -- even one racing the first on
 * another process -- meets the unique key, waits for the first to commit
 * and is answered from the stored response without touching the line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sim.h"

static cJSON *
customer_json(const struct ks_line *l, int *fail)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		*fail = 1;
		return NULL;
	}
	ks_add_str(o, "customerId", l->customer_id, fail);
	ks_add_str(o, "customerName", l->customer_name, fail);
	ks_add_str(o, "customerType", l->customer_type, fail);
	ks_add_str(o, "lineNumber", l->number, fail);
	ks_add_str(o, "lineStatus", l->status, fail);
	ks_add_str(o, "statusReason",
	           l->status_reason[0] != '\0' ? l->status_reason : NULL, fail);
	ks_add_str(o, "operatorCode", l->operator_code, fail);
	return o;
}

/* The day the current plan took effect (newest order, else the seed). */
static long
plan_since(const struct ks_line *l, int cur_mi, long today_dn)
{
	long best = -1, rdn;
	size_t i;

	if (l->norders > 0)
		return l->orders[0].eff_dn;
	for (i = 0; i < l->nseed; i++) {
		rdn = ks_rel_day(cur_mi, l->seed[i].months_ago, l->seed[i].day);
		if (rdn <= today_dn && rdn > best)
			best = rdn;
	}
	return best;
}

static cJSON *
line_refusal(const char *line)
{
	cJSON *d = cJSON_CreateObject();
	int fail = 0;

	ks_add_str(d, "lineNumber", line, &fail);
	if (fail) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/* lineNumber and requestId checked; a bad one answered (0). */
static int
line_and_rid_valid(struct pb_req *req, const char *line, const char *rid)
{
	if (!ks_line_valid(line)) {
		ks_reply_invalid(req, "lineNumber", "must be 11 digits");
		return 0;
	}
	if (!pb_req_id_valid(rid)) {
		ks_reply_invalid(req, "requestId",
		                 "must be 1-64 characters of [A-Za-z0-9._-]");
		return 0;
	}
	return 1;
}

/*
 * A line the inquiry cannot answer for (none, terminated, no product):
 * answered, and its result code returned; NULL when it can.
 */
static const char *
inquiry_refused(struct pb_req *req, const struct ks_line *l, int found,
                int pfound, const char *line)
{
	const char *code = NULL, *msg = NULL;

	if (!found) {
		code = KS_RC_PRD_NO_LINE;
		msg = "존재하지 않는 회선입니다.";
	} else if (strcmp(l->status, "TERMINATED") == 0) {
		code = KS_RC_PRD_INACTIVE;
		msg = "해지된 회선입니다.";
	} else if (!pfound) {
		code = KS_RC_PRD_NO_PRODUCT;
		msg = "가입 상품 정보가 없습니다.";
	}
	if (code != NULL)
		ks_reply(req, 200, code, msg, line_refusal(line));
	return code;
}

/* The inquiry's data: customer, product (since when), contract, device. */
static cJSON *
inquiry_data(struct pb_req *req, const struct ks_line *l,
             const struct ks_plan *plan, const char *rid, int *fail)
{
	struct ks_contract_view cv;
	struct ks_device_view dv;
	struct ks_day today;
	cJSON *data, *prod;
	char since[16];
	long today_dn, sdn;
	int cur_mi;

	ks_today(req->app, &today);
	cur_mi = ks_month_index(today.y, today.m);
	today_dn = ks_day_number(today.y, today.m, today.d);
	ks_contract_at(l, cur_mi, today_dn, &cv);
	ks_device_at(l, cur_mi, cur_mi, &dv);

	data = cJSON_CreateObject();
	ks_add_str(data, "requestId", rid, fail);
	ks_add_item(data, "customerInfo", customer_json(l, fail), fail);
	prod = ks_plan_json(plan, fail);
	sdn = plan_since(l, cur_mi, today_dn);
	if (sdn >= 0) {
		ks_format_day(sdn, since, sizeof(since));
		ks_add_str(prod, "productStartDate", since, fail);
	} else {
		ks_add_null(prod, "productStartDate", fail);
	}
	ks_add_item(data, "productInfo", prod, fail);
	ks_add_item(data, "contractInfo", ks_contract_json(l, &cv, fail), fail);
	ks_add_item(data, "deviceInstallment", ks_device_json(l, &dv, fail),
	            fail);
	return data;
}

void
ks_product_inquiry(struct pb_req *req)
{
	static const struct pb_json_field spec[] = {
	    {"lineNumber", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 32},
	    {"requestId", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 128},
	};
	struct ks_line *l = NULL;
	struct ks_plan plan;
	cJSON *root, *data = NULL;
	const char *line, *rid, *code = NULL;
	int found = 0, pfound = 0, fail = 0;

	if (!ks_fault_begin(req, KS_OP_PRODUCT_INQUIRY))
		return;
	root = ks_parse_body(req, spec, sizeof(spec) / sizeof(spec[0]));
	if (root == NULL)
		return;
	line = pb_json_get_string(root, "lineNumber");
	rid = pb_json_get_string(root, "requestId");
	if (!line_and_rid_valid(req, line, rid))
		goto out;
	l = malloc(sizeof(*l));
	if (l == NULL) {
		ks_reply_system(req, "out of memory");
		goto out;
	}
	if (ks_line_load(req->app->db, line, l, &found) != PB_OK ||
	    (found && l->plan_code[0] != '\0' &&
	     ks_plan_load(req->app->db, l->plan_code, &plan, &pfound) !=
	         PB_OK)) {
		ks_reply_system(req, pb_db_last_error(req->app->db));
		goto out;
	}
	code = inquiry_refused(req, l, found, pfound, line);
	if (code != NULL)
		goto out;
	data = inquiry_data(req, l, &plan, rid, &fail);
	if (data == NULL || fail) {
		cJSON_Delete(data);
		ks_reply_system(req, "cannot build the product inquiry");
		goto out;
	}
	code = KS_RC_OK;
	ks_reply(req, 200, code, "가입 상품 조회가 완료되었습니다.", data);
out:
	if (code != NULL)
		ks_log_event("kos_product_inquiry", line, code, NULL);
	free(l);
	cJSON_Delete(root);
}

void
ks_product_list(struct pb_req *req)
{
	struct ks_plan *plans;
	cJSON *data = NULL, *arr;
	size_t n = 0, i;
	int fail = 0;

	if (!ks_fault_begin(req, KS_OP_PRODUCT_LIST))
		return;
	plans = calloc(KS_MAX_PLANS, sizeof(*plans));
	if (plans == NULL) {
		ks_reply_system(req, "out of memory");
		return;
	}
	if (ks_plans_load(req->app->db, plans, KS_MAX_PLANS, &n) != PB_OK) {
		ks_reply_system(req, pb_db_last_error(req->app->db));
		goto out;
	}
	data = cJSON_CreateObject();
	arr = ks_add_arr(data, "products", &fail);
	for (i = 0; i < n && !fail; i++) {
		cJSON *p = ks_plan_json(&plans[i], &fail);

		if (p == NULL || arr == NULL || !cJSON_AddItemToArray(arr, p)) {
			cJSON_Delete(p);
			fail = 1;
		}
	}
	ks_add_int(data, "totalCount", (long long)n, &fail);
	if (data == NULL || fail) {
		cJSON_Delete(data);
		ks_reply_system(req, "cannot build the product list");
		goto out;
	}
	ks_reply(req, 200, KS_RC_OK, "상품 목록 조회가 완료되었습니다.", data);
	ks_log_event("kos_product_list", NULL, KS_RC_OK, NULL);
out:
	free(plans);
}

/* --- change ------------------------------------------------------------- */
struct locked_line {
	int found;
	char status[16];
	char operator_code[KS_CODE_MAX];
	char plan_code[KS_CODE_MAX];
};

static enum pb_err
locked_row(void *ud, const struct pb_db_row *r)
{
	struct locked_line *ll = ud;

	if (r->ncols != 3)
		return PB_ERR_INTERNAL;
	ll->found = 1;
	(void)pb_strlcpy(ll->status, r->vals[0] ? r->vals[0] : "",
	                 sizeof(ll->status));
	(void)pb_strlcpy(ll->operator_code, r->vals[1] ? r->vals[1] : "",
	                 sizeof(ll->operator_code));
	(void)pb_strlcpy(ll->plan_code, r->vals[2] ? r->vals[2] : "",
	                 sizeof(ll->plan_code));
	return PB_OK;
}

struct stored {
	int found;
	char *json; /* owned */
	char line[16];
	char target[72];
};

static enum pb_err
stored_row(void *ud, const struct pb_db_row *r)
{
	struct stored *s = ud;

	if (r->ncols != 3)
		return PB_ERR_INTERNAL;
	s->found = 1;
	free(s->json);
	s->json = r->vals[0] != NULL ? strdup(r->vals[0]) : NULL;
	(void)pb_strlcpy(s->line, r->vals[1] ? r->vals[1] : "",
	                 sizeof(s->line));
	(void)pb_strlcpy(s->target, r->vals[2] ? r->vals[2] : "",
	                 sizeof(s->target));
	return PB_OK;
}

/* Answer a repeated requestId from the stored first answer. */
static void
replay(struct pb_req *req, const char *rid, const char *line,
       const char *target)
{
	struct stored s;
	struct pb_db_param p[1];
	cJSON *root = NULL, *data;
	const char *code, *msg;

	memset(&s, 0, sizeof(s));
	p[0] = PB_DB_P_STR(rid);
	if (pb_db_query(
	        req->app->db,
	        "SELECT response_json, line_number, "
	        "target_product_code FROM change_orders WHERE request_id = ?",
	        p, 1, stored_row, &s) != PB_OK ||
	    !s.found || s.json == NULL ||
	    pb_json_parse(s.json, strlen(s.json), PB_JSON_MAX_DEPTH, &root,
	                  NULL) != PB_OK) {
		ks_reply_system(req, "stored change order unreadable");
		goto out;
	}
	code = pb_json_get_string(root, "resultCode");
	msg = pb_json_get_string(root, "resultMessage");
	if (code == NULL || msg == NULL) {
		ks_reply_system(req, "stored change order incomplete");
		goto out;
	}
	if (strcmp(s.line, line) != 0 || strcmp(s.target, target) != 0)
		ks_log_event(
		    "kos_change_replay_mismatch", line, code,
		    "same requestId, different order: first answer returned");
	ks_log_event("kos_product_change_replayed", line, code, NULL);
	data = cJSON_DetachItemFromObjectCaseSensitive(root, "data");
	if (cJSON_IsNull(data)) {
		cJSON_Delete(data);
		data = NULL;
	}
	ks_reply(req, 200, code, msg, data);
out:
	cJSON_Delete(root);
	free(s.json);
}

struct decision {
	const char *code;
	const char *message;
	const char *reason; /* machine-readable, data.reason */
};

static void
decide(const struct locked_line *ll, const struct ks_plan *target,
       int target_found, const char *current_code, const char *target_code,
       struct decision *d)
{
	d->reason = NULL;
	if (!ll->found) {
		d->code = KS_RC_CHG_NO_LINE;
		d->message = "존재하지 않는 회선입니다.";
		d->reason = "LINE_NOT_FOUND";
	} else if (strcmp(ll->status, "SUSPENDED") == 0) {
		d->code = KS_RC_CHG_INACTIVE;
		d->message = "정지된 회선은 상품을 변경할 수 없습니다.";
		d->reason = "LINE_SUSPENDED";
	} else if (strcmp(ll->status, "ACTIVE") != 0) {
		d->code = KS_RC_CHG_INACTIVE;
		d->message = "해지된 회선은 상품을 변경할 수 없습니다.";
		d->reason = "LINE_TERMINATED";
	} else if (!target_found) {
		d->code = KS_RC_CHG_NO_PRODUCT;
		d->message = "존재하지 않는 상품입니다.";
		d->reason = "PRODUCT_NOT_FOUND";
	} else if (ll->plan_code[0] == '\0' ||
	           strcmp(current_code, ll->plan_code) != 0) {
		d->code = KS_RC_CHG_FAILED;
		d->message = "현재 이용 중인 상품 정보가 일치하지 않습니다.";
		d->reason = "CURRENT_PRODUCT_MISMATCH";
	} else if (strcmp(target_code, ll->plan_code) == 0) {
		d->code = KS_RC_CHG_FAILED;
		d->message =
		    "현재 이용 중인 상품과 동일한 상품으로는 변경할 수 "
		    "없습니다.";
		d->reason = "SAME_PRODUCT";
	} else if (!target->on_sale) {
		d->code = KS_RC_CHG_NOT_ON_SALE;
		d->message = "판매가 종료된 상품입니다.";
		d->reason = "PRODUCT_NOT_ON_SALE";
	} else if (strcmp(target->operator_code, ll->operator_code) != 0) {
		d->code = KS_RC_CHG_OTHER_OP;
		d->message = "다른 사업자의 상품으로는 변경할 수 없습니다.";
		d->reason = "OPERATOR_MISMATCH";
	} else {
		d->code = KS_RC_OK;
		d->message = "상품 변경이 완료되었습니다.";
	}
}

/* One product change order, as it goes. */
struct change {
	const char *line, *cur, *tgt, *rid; /* the body's */
	struct locked_line ll;
	struct ks_plan target, prev;
	int tfound, pfound;
	struct decision d;
	struct ks_day today;
	int64_t now_ms;
	uint64_t order_id;
	char now[32], order_no[40], eff[16];
};

/* The body, parsed and checked into c; NULL when answered. */
static cJSON *
change_parse(struct pb_req *req, struct change *c)
{
	static const struct pb_json_field spec[] = {
	    {"lineNumber", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 32},
	    {"currentProductCode", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 64},
	    {"targetProductCode", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 64},
	    {"requestId", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 128},
	};
	cJSON *root;

	root = ks_parse_body(req, spec, sizeof(spec) / sizeof(spec[0]));
	if (root == NULL)
		return NULL;
	c->line = pb_json_get_string(root, "lineNumber");
	c->cur = pb_json_get_string(root, "currentProductCode");
	c->tgt = pb_json_get_string(root, "targetProductCode");
	c->rid = pb_json_get_string(root, "requestId");
	if (!line_and_rid_valid(req, c->line, c->rid)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/*
 * A transaction with the order row inserted first (c->order_id): 1.  A
 * repeated requestId is answered from its first answer, a failure
 * answered, with the transaction rolled back: 0.
 */
static int
change_insert(struct pb_req *req, struct change *c)
{
	struct pb_db *db = req->app->db;
	struct pb_db_param p[5];
	enum pb_err rc;

	if (pb_db_begin(db) != PB_OK) {
		ks_reply_system(req, pb_db_last_error(db));
		return 0;
	}
	p[0] = PB_DB_P_STR(c->rid);
	p[1] = PB_DB_P_STR(c->line);
	p[2] = PB_DB_P_STR(c->cur);
	p[3] = PB_DB_P_STR(c->tgt);
	p[4] = PB_DB_P_STR(c->now);
	rc = pb_db_exec(
	    db,
	    "INSERT INTO change_orders (request_id, "
	    "line_number, current_product_code, target_product_code, "
	    "created_at) VALUES (?, ?, ?, ?, ?)",
	    p, 5, NULL, &c->order_id);
	if (rc == PB_ERR_DUPLICATE) {
		/* the same requestId was (or is being) processed: its first
		 * answer stands */
		(void)pb_db_rollback(db);
		replay(req, c->rid, c->line, c->tgt);
		return 0;
	}
	if (rc != PB_OK) {
		ks_reply_system(req, pb_db_last_error(db));
		(void)pb_db_rollback(db);
		return 0;
	}
	return 1;
}

/* The line locked, the target and the current plan read: 1; 0 on error. */
static int
change_lock(struct pb_db *db, struct change *c)
{
	struct pb_db_param p[1];

	memset(&c->ll, 0, sizeof(c->ll));
	p[0] = PB_DB_P_STR(c->line);
	return pb_db_query(
	           db,
	           "SELECT line_status, operator_code, plan_code "
	           "FROM subscriber_lines WHERE line_number = ? FOR UPDATE",
	           p, 1, locked_row, &c->ll) == PB_OK &&
	       ks_plan_load(db, c->tgt, &c->target, &c->tfound) == PB_OK &&
	       (c->ll.plan_code[0] == '\0' ||
	        ks_plan_load(db, c->ll.plan_code, &c->prev, &c->pfound) ==
	            PB_OK);
}

/* An accepted change: the order's fields and the line's new plan. */
static enum pb_err
change_apply(struct pb_req *req, struct change *c, cJSON *data, int *fail)
{
	char processed[PB_CLOCK_RFC3339_LEN];
	struct pb_db_param p[2];

	snprintf(c->order_no, sizeof(c->order_no), "KOS%04d%02d%02d-%08llu",
	         c->today.y, c->today.m, c->today.d,
	         (unsigned long long)c->order_id);
	ks_format_day(ks_day_number(c->today.y, c->today.m, c->today.d), c->eff,
	              sizeof(c->eff));
	(void)pb_clock_rfc3339(c->now_ms, req->app->tz_offset_min, processed,
	                       sizeof(processed));
	ks_add_str(data, "orderNo", c->order_no, fail);
	ks_add_str(data, "previousProductCode", c->ll.plan_code, fail);
	ks_add_str(data, "previousProductName", c->pfound ? c->prev.name : NULL,
	           fail);
	ks_add_str(data, "productCode", c->target.code, fail);
	ks_add_str(data, "productName", c->target.name, fail);
	ks_add_int(data, "monthlyFee", c->target.fee, fail);
	ks_add_str(data, "effectiveDate", c->eff, fail);
	ks_add_str(data, "processedAt", processed, fail);
	p[0] = PB_DB_P_STR(c->tgt);
	p[1] = PB_DB_P_STR(c->line);
	return pb_db_exec(req->app->db,
	                  "UPDATE subscriber_lines SET plan_code = ? "
	                  "WHERE line_number = ?",
	                  p, 2, NULL, NULL);
}

/*
 * The answer (the line's new plan written when accepted) as a repeated
 * requestId will be answered with, and *text its encoding; NULL when
 * answered (a failure).
 */
static cJSON *
change_answer(struct pb_req *req, struct change *c, char **text)
{
	cJSON *data, *stored;
	int fail = 0;

	data = cJSON_CreateObject();
	ks_add_str(data, "lineNumber", c->line, &fail);
	if (strcmp(c->d.code, KS_RC_OK) == 0) {
		if (change_apply(req, c, data, &fail) != PB_OK) {
			cJSON_Delete(data);
			ks_reply_system(req, pb_db_last_error(req->app->db));
			return NULL;
		}
	} else {
		ks_add_str(data, "currentProductCode",
		           c->ll.plan_code[0] != '\0' ? c->ll.plan_code : NULL,
		           &fail);
		ks_add_str(data, "targetProductCode", c->tgt, &fail);
		ks_add_str(data, "reason", c->d.reason, &fail);
	}
	stored = cJSON_CreateObject();
	ks_add_str(stored, "resultCode", c->d.code, &fail);
	ks_add_str(stored, "resultMessage", c->d.message, &fail);
	ks_add_item(stored, "data", data, &fail);
	if (!fail)
		*text = pb_json_print(stored);
	if (*text == NULL) {
		cJSON_Delete(stored);
		ks_reply_system(req, "cannot encode the change result");
		return NULL;
	}
	return stored;
}

/* The order's outcome and stored answer written, and committed. */
static enum pb_err
change_store(struct pb_db *db, const struct change *c, const char *text)
{
	struct pb_db_param p[7];
	enum pb_err rc;

	p[0] = c->ll.plan_code[0] != '\0' ? PB_DB_P_STR(c->ll.plan_code)
	                                  : PB_DB_P_NULL;
	p[1] = PB_DB_P_STR(c->d.code);
	p[2] = PB_DB_P_INT(strcmp(c->d.code, KS_RC_OK) == 0);
	p[3] = c->order_no[0] != '\0' ? PB_DB_P_STR(c->order_no) : PB_DB_P_NULL;
	p[4] = c->eff[0] != '\0' ? PB_DB_P_STR(c->eff) : PB_DB_P_NULL;
	p[5] = PB_DB_P_STR(text);
	p[6] = PB_DB_P_INT((long long)c->order_id);
	rc = pb_db_exec(
	    db,
	    "UPDATE change_orders SET previous_plan_code = ?, "
	    "result_code = ?, success = ?, order_no = ?, effective_on = ?, "
	    "response_json = ? WHERE id = ?",
	    p, 7, NULL, NULL);
	if (rc == PB_OK)
		rc = pb_db_commit(db);
	return rc;
}

void
ks_product_change(struct pb_req *req)
{
	struct pb_db *db = req->app->db;
	struct change c;
	cJSON *root = NULL, *stored = NULL;
	const char *logcode = NULL;
	char detail[160];
	char *text = NULL;
	int in_tx = 0;

	if (!ks_fault_begin(req, KS_OP_PRODUCT_CHANGE))
		return;
	memset(&c, 0, sizeof(c));
	root = change_parse(req, &c);
	if (root == NULL)
		return;
	c.now_ms = pb_clock_now_ms();
	ks_utc_datetime(c.now_ms, c.now, sizeof(c.now));
	ks_today(req->app, &c.today);
	if (!change_insert(req, &c))
		goto out;
	in_tx = 1;
	if (!change_lock(db, &c)) {
		ks_reply_system(req, pb_db_last_error(db));
		goto out;
	}
	decide(&c.ll, &c.target, c.tfound, c.cur, c.tgt, &c.d);
	stored = change_answer(req, &c, &text);
	if (stored == NULL)
		goto out;
	if (change_store(db, &c, text) != PB_OK) {
		ks_reply_system(req, pb_db_last_error(db));
		goto out;
	}
	in_tx = 0;
	logcode = c.d.code;
	snprintf(detail, sizeof(detail), "%s -> %s%s%s", c.ll.plan_code, c.tgt,
	         c.order_no[0] != '\0' ? " order=" : "", c.order_no);
	ks_reply(req, 200, c.d.code, c.d.message,
	         cJSON_DetachItemFromObjectCaseSensitive(stored, "data"));
out:
	if (in_tx)
		(void)pb_db_rollback(db);
	if (logcode != NULL)
		ks_log_event("kos_product_change", c.line, logcode, detail);
	cJSON_free(text);
	cJSON_Delete(stored);
	cJSON_Delete(root);
}
