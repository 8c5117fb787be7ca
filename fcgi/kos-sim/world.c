/*
 * world.c - the simulated carrier's data: plans, lines and their history,
 * read from the kos_sim database, and the views derived from them
 * (plan in force on a day, contract terms, device instalment).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim.h"

static void
copy_col(char *dst, size_t dstlen, const char *v)
{
	(void)pb_strlcpy(dst, v != NULL ? v : "", dstlen);
}

/* "YYYY-MM-DD" -> day number, or -1. */
static long
parse_date(const char *s)
{
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2 ||
	    strspn(s + 8, "0123456789") != 2)
		return -1;
	y = (int)strtol(s, NULL, 10);
	m = (int)strtol(s + 5, NULL, 10);
	d = (int)strtol(s + 8, NULL, 10);
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	return ks_day_number(y, m, d);
}

/* --- plans -------------------------------------------------------------- */
#define PLAN_COLS                                                              \
	"plan_code, plan_name, operator_code, network, "                       \
	"monthly_fee, data_mb, voice_min, sms_count, throttle_kbps, on_sale, " \
	"description"

static void
plan_from_row(const struct pb_db_row *r, struct ks_plan *p)
{
	memset(p, 0, sizeof(*p));
	copy_col(p->code, sizeof(p->code), r->vals[0]);
	copy_col(p->name, sizeof(p->name), r->vals[1]);
	copy_col(p->operator_code, sizeof(p->operator_code), r->vals[2]);
	copy_col(p->network, sizeof(p->network), r->vals[3]);
	p->fee = (long)ks_col_ll(r->vals[4], 0);
	p->data_mb = (long)ks_col_ll(r->vals[5], KS_UNLIMITED);
	p->voice_min = (long)ks_col_ll(r->vals[6], KS_UNLIMITED);
	p->sms = (long)ks_col_ll(r->vals[7], KS_UNLIMITED);
	p->throttle_kbps = (long)ks_col_ll(r->vals[8], 0);
	p->on_sale = ks_col_ll(r->vals[9], 0) != 0;
	copy_col(p->description, sizeof(p->description), r->vals[10]);
}

struct plans_ctx {
	struct ks_plan *out;
	size_t max, n;
};

static enum pb_err
plans_row(void *ud, const struct pb_db_row *r)
{
	struct plans_ctx *c = ud;

	if (r->ncols != 11)
		return PB_ERR_INTERNAL;
	if (c->n >= c->max)
		return PB_ERR_TOOBIG;
	plan_from_row(r, &c->out[c->n++]);
	return PB_OK;
}

enum pb_err
ks_plans_load(struct pb_db *db, struct ks_plan *out, size_t max, size_t *n)
{
	struct plans_ctx c = {out, max, 0};
	enum pb_err rc;

	rc = pb_db_query(db,
	                 "SELECT " PLAN_COLS " FROM plans ORDER BY "
	                 "operator_code, sort_order, plan_code",
	                 NULL, 0, plans_row, &c);
	*n = rc == PB_OK ? c.n : 0;
	return rc;
}

enum pb_err
ks_plan_load(struct pb_db *db, const char *code, struct ks_plan *out,
             int *found)
{
	struct plans_ctx c = {out, 1, 0};
	struct pb_db_param p[1];
	enum pb_err rc;

	p[0] = PB_DB_P_STR(code);
	rc = pb_db_query(db,
	                 "SELECT " PLAN_COLS " FROM plans WHERE "
	                 "plan_code = ?",
	                 p, 1, plans_row, &c);
	*found = rc == PB_OK && c.n == 1;
	return rc;
}

const struct ks_plan *
ks_plan_find(const struct ks_plan *plans, size_t n, const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < n; i++)
		if (strcmp(plans[i].code, code) == 0)
			return &plans[i];
	return NULL;
}

static void
mb_display(long mb, char *out, size_t outlen)
{
	if (mb % 1024 == 0)
		snprintf(out, outlen, "%ldGB", mb / 1024);
	else if (mb >= 1024)
		snprintf(out, outlen, "%ld.%ldGB", mb / 1024,
		         (mb % 1024) * 10 / 1024);
	else
		snprintf(out, outlen, "%ldMB", mb);
}

static void
allowance(cJSON *o, const char *amount_key, long v, const char *unit, int *fail)
{
	char disp[32];

	ks_add_bool(o, "unlimited", v == KS_UNLIMITED, fail);
	if (v == KS_UNLIMITED) {
		ks_add_null(o, amount_key, fail);
		ks_add_str(o, "display", "무제한", fail);
		return;
	}
	ks_add_int(o, amount_key, v, fail);
	if (unit == NULL)
		mb_display(v, disp, sizeof(disp));
	else
		snprintf(disp, sizeof(disp), "%ld%s", v, unit);
	ks_add_str(o, "display", disp, fail);
}

cJSON *
ks_plan_json(const struct ks_plan *p, int *fail)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char after[64];

	if (o == NULL) {
		*fail = 1;
		return NULL;
	}
	ks_add_str(o, "productCode", p->code, fail);
	ks_add_str(o, "productName", p->name, fail);
	ks_add_str(o, "operatorCode", p->operator_code, fail);
	ks_add_str(o, "network", p->network, fail);
	ks_add_int(o, "monthlyFee", p->fee, fail);
	a = ks_add_obj(o, "dataAllowance", fail);
	allowance(a, "amountMb", p->data_mb, NULL, fail);
	if (p->data_mb == KS_UNLIMITED) {
		ks_add_null(a, "afterAllowance", fail);
	} else if (p->throttle_kbps > 0) {
		if (p->throttle_kbps % 1000 == 0)
			snprintf(after, sizeof(after),
			         "소진 후 %ldMbps 속도 제한",
			         p->throttle_kbps / 1000);
		else
			snprintf(after, sizeof(after),
			         "소진 후 %ldkbps 속도 제한", p->throttle_kbps);
		ks_add_str(a, "afterAllowance", after, fail);
	} else {
		ks_add_str(a, "afterAllowance", "초과 시 MB당 22원", fail);
	}
	ks_add_int(a, "throttleKbps", p->throttle_kbps, fail);
	allowance(ks_add_obj(o, "voiceAllowance", fail), "minutes",
	          p->voice_min, "분", fail);
	allowance(ks_add_obj(o, "smsAllowance", fail), "count", p->sms, "건",
	          fail);
	ks_add_bool(o, "onSale", p->on_sale, fail);
	ks_add_str(o, "description", p->description, fail);
	return o;
}

/* --- lines -------------------------------------------------------------- */
static enum pb_err
line_row(void *ud, const struct pb_db_row *r)
{
	struct ks_line *l = ud;

	if (r->ncols != 17)
		return PB_ERR_INTERNAL;
	copy_col(l->number, sizeof(l->number), r->vals[0]);
	copy_col(l->customer_id, sizeof(l->customer_id), r->vals[1]);
	copy_col(l->customer_name, sizeof(l->customer_name), r->vals[2]);
	copy_col(l->customer_type, sizeof(l->customer_type), r->vals[3]);
	copy_col(l->operator_code, sizeof(l->operator_code), r->vals[4]);
	copy_col(l->plan_code, sizeof(l->plan_code), r->vals[5]);
	copy_col(l->status, sizeof(l->status), r->vals[6]);
	l->act_ago = (int)ks_col_ll(r->vals[7], 0);
	l->act_day = (int)ks_col_ll(r->vals[8], 1);
	l->status_ago = (int)ks_col_ll(r->vals[9], -1);
	l->status_day = (int)ks_col_ll(r->vals[10], -1);
	copy_col(l->status_reason, sizeof(l->status_reason), r->vals[11]);
	l->profile = (int)ks_col_ll(r->vals[12], 2);
	copy_col(l->pay_method, sizeof(l->pay_method), r->vals[13]);
	l->pay_day = (int)ks_col_ll(r->vals[14], 25);
	l->overdue_months = (int)ks_col_ll(r->vals[15], 0);
	l->family_discount = (long)ks_col_ll(r->vals[16], 0);
	if (l->profile < 1 || l->profile > 4)
		l->profile = 2;
	if (l->pay_day < 1 || l->pay_day > 28)
		l->pay_day = 25;
	return PB_OK;
}

static enum pb_err
contract_row(void *ud, const struct pb_db_row *r)
{
	struct ks_contract *c = ud;

	if (r->ncols != 6)
		return PB_ERR_INTERNAL;
	c->present = 1;
	copy_col(c->type, sizeof(c->type), r->vals[0]);
	copy_col(c->kind, sizeof(c->kind), r->vals[1]);
	c->term_months = (int)ks_col_ll(r->vals[2], 24);
	c->start_ago = (int)ks_col_ll(r->vals[3], 0);
	c->start_day = (int)ks_col_ll(r->vals[4], 1);
	c->etf_base = (long)ks_col_ll(r->vals[5], 0);
	if (c->term_months < 1)
		c->term_months = 1;
	return PB_OK;
}

static enum pb_err
device_row(void *ud, const struct pb_db_row *r)
{
	struct ks_device *d = ud;

	if (r->ncols != 4)
		return PB_ERR_INTERNAL;
	d->present = 1;
	copy_col(d->name, sizeof(d->name), r->vals[0]);
	d->price = (long)ks_col_ll(r->vals[1], 0);
	d->term_months = (int)ks_col_ll(r->vals[2], 24);
	d->start_ago = (int)ks_col_ll(r->vals[3], 0);
	if (d->term_months < 1)
		d->term_months = 1;
	return PB_OK;
}

static enum pb_err
vas_row(void *ud, const struct pb_db_row *r)
{
	struct ks_line *l = ud;
	struct ks_vas *v;

	if (r->ncols != 3)
		return PB_ERR_INTERNAL;
	if (l->nvas >= KS_MAX_VAS)
		return PB_OK; /* more than we show; ignore the rest */
	v = &l->vas[l->nvas++];
	copy_col(v->code, sizeof(v->code), r->vals[0]);
	copy_col(v->name, sizeof(v->name), r->vals[1]);
	v->fee = (long)ks_col_ll(r->vals[2], 0);
	return PB_OK;
}

static enum pb_err
seed_row(void *ud, const struct pb_db_row *r)
{
	struct ks_line *l = ud;
	struct ks_seed_plan *s;

	if (r->ncols != 3)
		return PB_ERR_INTERNAL;
	if (l->nseed >= KS_MAX_SEED)
		return PB_OK;
	s = &l->seed[l->nseed++];
	s->months_ago = (int)ks_col_ll(r->vals[0], 0);
	s->day = (int)ks_col_ll(r->vals[1], 1);
	copy_col(s->plan, sizeof(s->plan), r->vals[2]);
	return PB_OK;
}

static enum pb_err
order_row(void *ud, const struct pb_db_row *r)
{
	struct ks_line *l = ud;
	struct ks_order_plan *o;
	long dn;

	if (r->ncols != 3)
		return PB_ERR_INTERNAL;
	if (l->norders >= KS_MAX_ORDERS) {
		l->orders_truncated = 1;
		return PB_OK;
	}
	dn = parse_date(r->vals[0]);
	if (dn < 0)
		return PB_OK;
	o = &l->orders[l->norders++];
	o->eff_dn = dn;
	copy_col(o->target, sizeof(o->target), r->vals[1]);
	copy_col(o->previous, sizeof(o->previous), r->vals[2]);
	return PB_OK;
}

static enum pb_err
gap_row(void *ud, const struct pb_db_row *r)
{
	struct ks_line *l = ud;

	if (r->ncols != 1)
		return PB_ERR_INTERNAL;
	if (l->ngaps < KS_MAX_GAPS)
		l->gaps[l->ngaps++] = (int)ks_col_ll(r->vals[0], -1);
	return PB_OK;
}

enum pb_err
ks_line_load(struct pb_db *db, const char *number, struct ks_line *l,
             int *found)
{
	struct pb_db_param p[1];
	enum pb_err rc;

	memset(l, 0, sizeof(*l));
	*found = 0;
	p[0] = PB_DB_P_STR(number);
	rc = pb_db_query(
	    db,
	    "SELECT l.line_number, l.customer_id, "
	    "c.customer_name, c.customer_type, l.operator_code, l.plan_code, "
	    "l.line_status, l.activated_months_ago, l.activated_day, "
	    "l.status_months_ago, l.status_day, l.status_reason, "
	    "l.usage_profile, l.payment_method, l.payment_day, "
	    "l.overdue_months, l.family_discount FROM subscriber_lines l "
	    "JOIN customers c ON c.customer_id = l.customer_id "
	    "WHERE l.line_number = ?",
	    p, 1, line_row, l);
	if (rc != PB_OK || l->number[0] == '\0')
		return rc;
	*found = 1;
	rc = pb_db_query(db,
	                 "SELECT contract_type, contract_kind, term_months, "
	                 "start_months_ago, start_day, etf_base FROM contracts "
	                 "WHERE line_number = ?",
	                 p, 1, contract_row, &l->contract);
	if (rc == PB_OK)
		rc = pb_db_query(
		    db,
		    "SELECT device_name, device_price, "
		    "term_months, start_months_ago FROM device_installments "
		    "WHERE line_number = ?",
		    p, 1, device_row, &l->device);
	if (rc == PB_OK)
		rc = pb_db_query(
		    db,
		    "SELECT service_code, service_name, "
		    "monthly_fee FROM line_services WHERE line_number = ? "
		    "ORDER BY service_code",
		    p, 1, vas_row, l);
	if (rc == PB_OK)
		rc = pb_db_query(db,
		                 "SELECT months_ago, day_of_month, plan_code "
		                 "FROM seed_plan_history WHERE line_number = ? "
		                 "ORDER BY months_ago DESC",
		                 p, 1, seed_row, l);
	if (rc == PB_OK)
		rc = pb_db_query(db,
		                 "SELECT effective_on, target_product_code, "
		                 "previous_plan_code FROM change_orders WHERE "
		                 "line_number = ? "
		                 "AND success = 1 ORDER BY id DESC LIMIT 201",
		                 p, 1, order_row, l);
	if (rc == PB_OK)
		rc = pb_db_query(db,
		                 "SELECT months_ago FROM bill_gaps "
		                 "WHERE line_number = ?",
		                 p, 1, gap_row, l);
	if (rc != PB_OK)
		*found = 0;
	return rc;
}

const char *
ks_plan_at(const struct ks_line *l, int cur_mi, long dn)
{
	const struct ks_seed_plan *best = NULL, *first = NULL;
	long best_dn = 0, rdn;
	size_t i;

	/* orders are newest first; the newest in force on dn wins */
	for (i = 0; i < l->norders; i++)
		if (l->orders[i].eff_dn <= dn)
			return l->orders[i].target;
	if (l->norders > 0 && l->orders_truncated)
		return l->orders[l->norders - 1].previous;
	for (i = 0; i < l->nseed; i++) {
		rdn = ks_rel_day(cur_mi, l->seed[i].months_ago, l->seed[i].day);
		if (first == NULL || l->seed[i].months_ago > first->months_ago)
			first = &l->seed[i];
		if (rdn <= dn && (best == NULL || rdn > best_dn)) {
			best = &l->seed[i];
			best_dn = rdn;
		}
	}
	if (best != NULL)
		return best->plan;
	if (first != NULL)
		return first->plan;
	return l->plan_code;
}

/* --- contract ----------------------------------------------------------- */
void
ks_contract_at(const struct ks_line *l, int cur_mi, long dn,
               struct ks_contract_view *v)
{
	const struct ks_contract *c = &l->contract;
	struct ks_day s, d;
	int emi, ey, em, dim, day;
	long total;

	memset(v, 0, sizeof(*v));
	v->status = "NONE";
	if (!c->present)
		return;
	v->start_dn = ks_rel_day(cur_mi, c->start_ago, c->start_day);
	ks_day_from_number(v->start_dn, &s);
	emi = ks_month_index(s.y, s.m) + c->term_months;
	ks_month_split(emi, &ey, &em);
	/* the anniversary of the day the contract really started (a seeded
	 * 31st is the 28th in February): the day before it ends the term */
	dim = ks_days_in_month(ey, em);
	day = s.d < dim ? s.d : dim;
	v->end_dn = ks_day_number(ey, em, day) - 1;
	if (dn < v->start_dn) {
		v->status = "NONE";
		return;
	}
	if (dn > v->end_dn) {
		v->status = "EXPIRED";
		return;
	}
	v->status = "ACTIVE";
	total = v->end_dn - v->start_dn + 1;
	/* falls linearly to 0 on the last day; won, floored to 10 */
	v->etf = c->etf_base * (v->end_dn - dn) / total / 10 * 10;
	ks_day_from_number(dn, &d);
	ks_day_from_number(v->end_dn, &s);
	v->remaining_months =
	    ks_month_index(s.y, s.m) - ks_month_index(d.y, d.m);
	if (v->remaining_months < 0)
		v->remaining_months = 0;
}

cJSON *
ks_contract_json(const struct ks_line *l, const struct ks_contract_view *v,
                 int *fail)
{
	cJSON *o = cJSON_CreateObject();
	char a[16], b[16];
	int none = strcmp(v->status, "NONE") == 0;

	if (o == NULL) {
		*fail = 1;
		return NULL;
	}
	ks_add_str(o, "contractType", none ? "무약정" : l->contract.type, fail);
	ks_add_str(o, "contractKind", none ? NULL : l->contract.kind, fail);
	ks_add_str(o, "status", v->status, fail);
	if (none) {
		ks_add_null(o, "termMonths", fail);
		ks_add_null(o, "startDate", fail);
		ks_add_null(o, "endDate", fail);
	} else {
		ks_format_day(v->start_dn, a, sizeof(a));
		ks_format_day(v->end_dn, b, sizeof(b));
		ks_add_int(o, "termMonths", l->contract.term_months, fail);
		ks_add_str(o, "startDate", a, fail);
		ks_add_str(o, "endDate", b, fail);
	}
	ks_add_int(o, "remainingMonths", v->remaining_months, fail);
	ks_add_int(o, "earlyTerminationFee", v->etf, fail);
	return o;
}

/* --- device instalment -------------------------------------------------- */
void
ks_device_at(const struct ks_line *l, int cur_mi, int mi,
             struct ks_device_view *v)
{
	const struct ks_device *d = &l->device;
	int k, term = d->term_months;

	memset(v, 0, sizeof(*v));
	if (!d->present)
		return;
	k = mi - (cur_mi - d->start_ago) + 1; /* payments made by month mi */
	if (k < 1)
		return;
	v->present = 1;
	v->monthly = d->price / term;
	v->paid_months = k < term ? k : term;
	v->remaining_months = term - v->paid_months;
	if (k < term)
		v->charge = v->monthly;
	else if (k == term)
		v->charge = d->price - v->monthly * (term - 1);
	v->remaining = k >= term ? 0 : d->price - v->monthly * k;
}

cJSON *
ks_device_json(const struct ks_line *l, const struct ks_device_view *v,
               int *fail)
{
	cJSON *o;

	if (!v->present)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (o == NULL) {
		*fail = 1;
		return NULL;
	}
	ks_add_str(o, "deviceName", l->device.name, fail);
	ks_add_int(o, "totalPrice", l->device.price, fail);
	ks_add_int(o, "monthlyAmount", v->monthly, fail);
	ks_add_int(o, "totalMonths", l->device.term_months, fail);
	ks_add_int(o, "paidMonths", v->paid_months, fail);
	ks_add_int(o, "remainingMonths", v->remaining_months, fail);
	ks_add_int(o, "remainingAmount", v->remaining, fail);
	return o;
}
