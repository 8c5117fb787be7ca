/*
 * admin.c - loopback-only helpers for tests and demos: the line directory
 * and restoring the seeded plans.
 */
#include <string.h>

#include "log.h"
#include "sim.h"

struct lines_ctx {
	cJSON *arr;
	int fail;
};

static enum pb_err
line_row(void *ud, const struct pb_db_row *r)
{
	struct lines_ctx *c = ud;
	cJSON *o;

	if (r->ncols != 6)
		return PB_ERR_INTERNAL;
	o = ks_push_obj(c->arr, &c->fail);
	ks_add_str(o, "lineNumber", r->vals[0], &c->fail);
	ks_add_str(o, "customerId", r->vals[1], &c->fail);
	ks_add_str(o, "customerType", r->vals[2], &c->fail);
	ks_add_str(o, "operatorCode", r->vals[3], &c->fail);
	ks_add_str(o, "productCode", r->vals[4], &c->fail);
	ks_add_str(o, "lineStatus", r->vals[5], &c->fail);
	return c->fail ? PB_ERR_NOMEM : PB_OK;
}

void
ks_admin_lines(struct pb_req *req)
{
	struct lines_ctx c;
	cJSON *data;
	int fail = 0;

	if (!ks_admin_allowed(req))
		return;
	memset(&c, 0, sizeof(c));
	data = cJSON_CreateObject();
	c.arr = ks_add_arr(data, "lines", &fail);
	if (fail ||
	    pb_db_query(
	        req->app->db,
	        "SELECT l.line_number, "
	        "l.customer_id, c.customer_type, l.operator_code, l.plan_code, "
	        "l.line_status FROM subscriber_lines l JOIN customers c "
	        "ON c.customer_id = l.customer_id ORDER BY l.line_number",
	        NULL, 0, line_row, &c) != PB_OK ||
	    c.fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	ks_admin_reply(req, 200, KS_RC_OK, "회선 목록입니다.", data);
}

void
ks_admin_data_reset(struct pb_req *req)
{
	struct pb_db *db = req->app->db;
	uint64_t orders = 0, lines = 0;
	cJSON *d;
	int fail = 0;

	if (!ks_admin_allowed(req))
		return;
	if (pb_db_begin(db) != PB_OK ||
	    pb_db_exec(db, "DELETE FROM change_orders", NULL, 0, &orders,
	               NULL) != PB_OK ||
	    pb_db_exec(
	        db,
	        "UPDATE subscriber_lines SET plan_code = "
	        "seed_plan_code WHERE NOT (plan_code <=> seed_plan_code)",
	        NULL, 0, &lines, NULL) != PB_OK ||
	    pb_db_commit(db) != PB_OK) {
		(void)pb_db_rollback(db);
		pb_log_msg(PB_LOG_ERROR, "sim_data_reset_failed",
		           pb_db_last_error(db));
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	d = cJSON_CreateObject();
	ks_add_int(d, "ordersDeleted", (long long)orders, &fail);
	ks_add_int(d, "linesRestored", (long long)lines, &fail);
	if (fail) {
		cJSON_Delete(d);
		d = NULL;
	}
	pb_log_msg(PB_LOG_INFO, "sim_data_reset", "seeded plans restored");
	ks_admin_reply(req, 200, KS_RC_OK,
	               "상품 변경 내역을 지우고 초기 요금제로 되돌렸습니다.",
	               d);
}
