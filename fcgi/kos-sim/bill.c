/*
 * bill.c - bills, computed rather than stored.
 *
 * A bill is a pure function of (line, month, plan in force that month,
 * today): usage comes from a small integer hash of (line number, month),
 * scaled to the line's usage profile and plan allowances; charges,
 * discounts, VAT, contract and instalment figures follow from the seeded
 * terms.  Closed months never change; the current month is "so far":
 * prorated by the day of month (KST), so it grows as the clock moves.
 * Money is integer won; prorated amounts are floored to 10 won.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim.h"

#define SUSPEND_FEE 3850     /* won per month while suspended */
#define DATA_RATE 22         /* won per MB over a pay-per-use allowance */
#define DATA_CAP 30000       /* won per month: overage ceiling */
#define VOICE_RATE 119       /* won per minute over (1.98 won/s) */
#define SMS_RATE 22          /* won per message over */
#define SELECTIVE_PCT 25     /* % of the base fee, selective contract */
#define LONGTERM_MONTHS 24   /* months of service for the loyalty discount */
#define LONGTERM_AMOUNT 1100 /* won per month */
#define PROMO_MONTHS 3       /* first months after activation */
#define PROMO_AMOUNT 5500    /* won per month */
#define BILLING_DAY 5        /* day of the following month the bill is issued */

struct range {
	long lo, hi;
};

/* Full-month usage by profile (1 light, 2 average, 3 heavy, 4 data). */
static const struct range voice_unl[4] = {
    {30, 120}, {90, 260}, {180, 480}, {60, 200}}; /* min */
static const struct range sms_unl[4] = {
    {3, 30}, {10, 60}, {20, 120}, {5, 40}}; /* msgs */
static const struct range data_unl[4] = {
    {1500, 4000}, {5000, 16000}, {20000, 60000}, {40000, 140000}}; /* MB */
/* Percent of a limited allowance used in a full month. */
static const struct range voice_pct[4] = {
    {25, 80}, {40, 105}, {60, 118}, {20, 70}};
static const struct range sms_pct[4] = {
    {10, 60}, {20, 90}, {40, 110}, {10, 50}};
static const struct range data_pct[4] = {
    {30, 80}, {55, 112}, {80, 125}, {90, 140}};

static long
pick(const struct range *r, uint32_t h)
{
	return r->lo + (long)(h % (uint32_t)(r->hi - r->lo + 1));
}

/* Money for num/den of a month, floored to 10 won. */
static long
prorate(long amount, long num, long den)
{
	if (num >= den)
		return amount;
	return amount * num / den / 10 * 10;
}

/* A month's frame: which days count, and the day the plan is read on. */
struct frame {
	int cur_mi, mi, current;
	int y, m, dim;
	int start_d, end_d;
	long end_dn, today_dn;
	long act_dn;
	int act_mi;
};

static void
frame_init(const struct ks_line *l, const struct ks_day *today, int mi,
           struct frame *f)
{
	struct ks_day a;

	memset(f, 0, sizeof(*f));
	f->cur_mi = ks_month_index(today->y, today->m);
	f->mi = mi;
	f->current = mi == f->cur_mi;
	ks_month_split(mi, &f->y, &f->m);
	f->dim = ks_days_in_month(f->y, f->m);
	f->today_dn = ks_day_number(today->y, today->m, today->d);
	f->act_dn = ks_rel_day(f->cur_mi, l->act_ago, l->act_day);
	ks_day_from_number(f->act_dn, &a);
	f->act_mi = ks_month_index(a.y, a.m);
	f->start_d = mi == f->act_mi ? a.d : 1;
	f->end_d = f->current ? today->d : f->dim;
	f->end_dn = ks_day_number(f->y, f->m, f->end_d);
}

static const char *
frame_plan(const struct ks_line *l, const struct frame *f)
{
	return f->current ? l->plan_code : ks_plan_at(l, f->cur_mi, f->end_dn);
}

/* Does the line have a bill for month mi? */
static int
has_bill(const struct ks_line *l, const struct ks_plan *plans, size_t n,
         const struct ks_day *today, int mi)
{
	struct frame f;
	size_t i;

	frame_init(l, today, mi, &f);
	if (mi > f.cur_mi || mi < f.cur_mi - (KS_BILL_WINDOW - 1))
		return 0;
	if (mi < f.act_mi || f.act_dn > f.end_dn)
		return 0;
	if (strcmp(l->status, "TERMINATED") == 0 && l->status_ago >= 0 &&
	    mi > f.cur_mi - l->status_ago)
		return 0;
	for (i = 0; i < l->ngaps; i++)
		if (f.cur_mi - l->gaps[i] == mi)
			return 0;
	return ks_plan_find(plans, n, frame_plan(l, &f)) != NULL;
}

static void
item(cJSON *arr, const char *code, const char *name, long amount, int *fail)
{
	cJSON *o = ks_push_obj(arr, fail);

	ks_add_str(o, "code", code, fail);
	ks_add_str(o, "name", name, fail);
	ks_add_int(o, "amount", amount, fail);
}

/* Take up to want from *left (discounts never exceed the base fee). */
static long
cap(long want, long *left)
{
	long v = want < *left ? want : *left;

	if (v < 0)
		v = 0;
	*left -= v;
	return v;
}

struct usage {
	long voice, sms, data_mb;
};

static void
usage_for(const struct ks_line *l, const struct ks_plan *p,
          const struct frame *f, int suspended, struct usage *u)
{
	int pi = l->profile - 1;
	long num = f->end_d - f->start_d + 1, den = f->dim;

	memset(u, 0, sizeof(*u));
	if (suspended)
		return;
	u->voice =
	    p->voice_min == KS_UNLIMITED
	        ? pick(&voice_unl[pi], ks_hash(l->number, f->mi, 1))
	        : p->voice_min *
	              pick(&voice_pct[pi], ks_hash(l->number, f->mi, 1)) / 100;
	u->sms = p->sms == KS_UNLIMITED
	             ? pick(&sms_unl[pi], ks_hash(l->number, f->mi, 2))
	             : p->sms *
	                   pick(&sms_pct[pi], ks_hash(l->number, f->mi, 2)) /
	                   100;
	u->data_mb =
	    p->data_mb == KS_UNLIMITED
	        ? pick(&data_unl[pi], ks_hash(l->number, f->mi, 3))
	        : p->data_mb *
	              pick(&data_pct[pi], ks_hash(l->number, f->mi, 3)) / 100;
	/* part of the month: usage so far, or since activation */
	u->voice = u->voice * num / den;
	u->sms = u->sms * num / den;
	u->data_mb = u->data_mb * num / den;
}

static void
usage_json(cJSON *data, const struct ks_plan *p, const struct usage *u,
           int *fail)
{
	cJSON *o = ks_add_obj(data, "usage", fail), *v;
	long gb10 = (u->data_mb * 10 + 512) / 1024; /* tenths of a GB */
	char disp[48];

	v = ks_add_obj(o, "voice", fail);
	ks_add_int(v, "usedMinutes", u->voice, fail);
	ks_add_bool(v, "unlimited", p->voice_min == KS_UNLIMITED, fail);
	if (p->voice_min == KS_UNLIMITED)
		ks_add_null(v, "allowanceMinutes", fail);
	else
		ks_add_int(v, "allowanceMinutes", p->voice_min, fail);
	snprintf(disp, sizeof(disp), "%ld분", u->voice);
	ks_add_str(v, "display", disp, fail);

	v = ks_add_obj(o, "sms", fail);
	ks_add_int(v, "usedCount", u->sms, fail);
	ks_add_bool(v, "unlimited", p->sms == KS_UNLIMITED, fail);
	if (p->sms == KS_UNLIMITED)
		ks_add_null(v, "allowanceCount", fail);
	else
		ks_add_int(v, "allowanceCount", p->sms, fail);
	snprintf(disp, sizeof(disp), "%ld건", u->sms);
	ks_add_str(v, "display", disp, fail);

	v = ks_add_obj(o, "data", fail);
	ks_add_int(v, "usedMb", u->data_mb, fail);
	ks_add_num(v, "usedGb", (double)gb10 / 10.0, fail);
	ks_add_bool(v, "unlimited", p->data_mb == KS_UNLIMITED, fail);
	if (p->data_mb == KS_UNLIMITED)
		ks_add_null(v, "allowanceMb", fail);
	else
		ks_add_int(v, "allowanceMb", p->data_mb, fail);
	if (u->data_mb < 1024)
		snprintf(disp, sizeof(disp), "%ldMB", u->data_mb);
	else
		snprintf(disp, sizeof(disp), "%ld.%ldGB", gb10 / 10, gb10 % 10);
	ks_add_str(v, "display", disp, fail);
}

static int
pays_by_hand(const char *method)
{
	return strstr(method, "지로") != NULL ||
	       strstr(method, "계좌이체") != NULL;
}

static void
payment_json(cJSON *data, const struct ks_line *l, const struct frame *f,
             int *fail)
{
	cJSON *o = ks_add_obj(data, "paymentInfo", fail);
	int ny, nm, cy, cm, rank, newest;
	long bill_dn, due_dn, prev_due_dn, paid_dn = -1;
	const char *status;
	char a[16];

	ks_month_split(f->mi + 1, &ny, &nm);
	bill_dn =
	    ks_day_number(ny, nm, BILLING_DAY < l->pay_day ? BILLING_DAY : 1);
	due_dn = ks_day_number(ny, nm, l->pay_day);
	if (f->current || f->today_dn <= due_dn) {
		status = "UNPAID";
	} else {
		/* the newest bills whose due date passed are the overdue ones
		 */
		ks_month_split(f->cur_mi, &cy, &cm);
		prev_due_dn = ks_day_number(cy, cm, l->pay_day);
		newest =
		    f->today_dn > prev_due_dn ? f->cur_mi - 1 : f->cur_mi - 2;
		rank = newest - f->mi;
		if (rank < l->overdue_months) {
			status = "OVERDUE";
		} else {
			status = "PAID";
			paid_dn =
			    pays_by_hand(l->pay_method)
			        ? due_dn -
			              (long)(ks_hash(l->number, f->mi, 7) % 5)
			        : due_dn;
		}
	}
	ks_format_day(bill_dn, a, sizeof(a));
	ks_add_str(o, "billingDate", a, fail);
	ks_format_day(due_dn, a, sizeof(a));
	ks_add_str(o, "dueDate", a, fail);
	ks_add_str(o, "paymentStatus", status, fail);
	ks_add_str(o, "paymentMethod", l->pay_method, fail);
	if (paid_dn >= 0) {
		ks_format_day(paid_dn, a, sizeof(a));
		ks_add_str(o, "paidDate", a, fail);
	} else {
		ks_add_null(o, "paidDate", fail);
	}
}

/* What a month costs before VAT (won), as bill_json adds it up. */
struct sums {
	long num;  /* days billed */
	long base; /* base fee (or suspension fee), prorated */
	long over; /* data, voice and SMS overage */
	long vas;  /* value-added services */
	long disc; /* discounts */
};

/* The billInfo's head: line, month, period, product, contract. */
static void
bill_head(cJSON *b, const struct ks_line *l, const struct ks_plan *p,
          const struct frame *f, const struct ks_contract_view *cv, int *fail)
{
	char a[64];

	ks_add_str(b, "lineNumber", l->number, fail);
	ks_format_month(f->mi, a, sizeof(a));
	ks_add_str(b, "billingMonth", a, fail);
	ks_add_str(b, "billStatus", f->current ? "ESTIMATED" : "CONFIRMED",
	           fail);
	ks_format_day(ks_day_number(f->y, f->m, f->start_d), a, sizeof(a));
	ks_add_str(b, "periodStart", a, fail);
	ks_format_day(f->end_dn, a, sizeof(a));
	ks_add_str(b, "periodEnd", a, fail);
	ks_add_str(b, "productCode", p->code, fail);
	ks_add_str(b, "productName", p->name, fail);
	ks_add_str(b, "network", p->network, fail);
	ks_add_int(b, "monthlyFee", p->fee, fail);
	ks_add_item(b, "contractInfo", ks_contract_json(l, cv, fail), fail);
}

/* The base fee, overage and value-added service items of charges. */
static void
bill_charges(cJSON *charges, const struct ks_line *l, const struct ks_plan *p,
             const struct frame *f, const struct usage *u, int suspended,
             struct sums *s, int *fail)
{
	char name[KS_NAME_MAX + 64];
	long d;
	size_t i;

	if (suspended) {
		s->base = prorate(SUSPEND_FEE, s->num, f->dim);
		item(charges, "SUSPENSION_FEE", "이용정지 기본료", s->base,
		     fail);
	} else {
		s->base = prorate(p->fee, s->num, f->dim);
		snprintf(name, sizeof(name), "기본료 (%s)", p->name);
		item(charges, "BASE_FEE", name, s->base, fail);
	}
	if (p->data_mb != KS_UNLIMITED && p->throttle_kbps == 0 &&
	    u->data_mb > p->data_mb) {
		d = (u->data_mb - p->data_mb) * DATA_RATE / 10 * 10;
		if (d > DATA_CAP)
			d = DATA_CAP;
		s->over += d;
		item(charges, "DATA_OVERAGE", "데이터 초과 사용료", d, fail);
	}
	if (p->voice_min != KS_UNLIMITED && u->voice > p->voice_min) {
		d = (u->voice - p->voice_min) * VOICE_RATE / 10 * 10;
		s->over += d;
		item(charges, "VOICE_OVERAGE", "음성 초과 사용료", d, fail);
	}
	if (p->sms != KS_UNLIMITED && u->sms > p->sms) {
		d = (u->sms - p->sms) * SMS_RATE / 10 * 10;
		s->over += d;
		item(charges, "SMS_OVERAGE", "문자 초과 사용료", d, fail);
	}
	for (i = 0; !suspended && i < l->nvas; i++) {
		d = prorate(l->vas[i].fee, s->num, f->dim);
		s->vas += d;
		snprintf(name, sizeof(name), "부가서비스 (%s)", l->vas[i].name);
		item(charges, "VAS", name, d, fail);
	}
}

/* The discounts: none while suspended, on the base fee only, never more
 * than it. */
static void
bill_discounts(cJSON *discounts, const struct ks_line *l, const struct frame *f,
               const struct ks_contract_view *cv, struct sums *s, int *fail)
{
	long left = s->base, d;

	if (strcmp(cv->status, "ACTIVE") == 0 &&
	    strcmp(l->contract.kind, "SELECTIVE") == 0) {
		d = cap(s->base * SELECTIVE_PCT / 100 / 10 * 10, &left);
		s->disc += d;
		item(discounts, "SELECTIVE_CONTRACT", "선택약정 할인 (25%)", d,
		     fail);
	}
	if (l->family_discount > 0 && left > 0) {
		d = cap(prorate(l->family_discount, s->num, f->dim), &left);
		s->disc += d;
		item(discounts, "FAMILY", "가족결합 할인", d, fail);
	}
	if (f->mi - f->act_mi >= LONGTERM_MONTHS && left > 0) {
		d = cap(prorate(LONGTERM_AMOUNT, s->num, f->dim), &left);
		s->disc += d;
		item(discounts, "LOYALTY", "장기고객 할인", d, fail);
	}
	if (f->mi - f->act_mi < PROMO_MONTHS && left > 0) {
		d = cap(prorate(PROMO_AMOUNT, s->num, f->dim), &left);
		s->disc += d;
		item(discounts, "PROMOTION", "신규가입 프로모션 할인", d, fail);
	}
}

/* The billInfo object of month mi (has_bill() must hold). */
static cJSON *
bill_json(const struct ks_line *l, const struct ks_plan *plans, size_t n,
          const struct ks_day *today, int mi, int *fail)
{
	struct frame f;
	struct usage u;
	struct ks_contract_view cv;
	struct ks_device_view dv;
	struct sums s;
	const struct ks_plan *p;
	cJSON *b, *charges, *discounts;
	char name[KS_NAME_MAX + 64];
	long vat, total;
	int suspended;

	frame_init(l, today, mi, &f);
	p = ks_plan_find(plans, n, frame_plan(l, &f));
	if (p == NULL) {
		*fail = 1;
		return NULL;
	}
	b = cJSON_CreateObject();
	if (b == NULL) {
		*fail = 1;
		return NULL;
	}
	memset(&s, 0, sizeof(s));
	s.num = f.end_d - f.start_d + 1;
	suspended = strcmp(l->status, "SUSPENDED") == 0 && l->status_ago >= 0 &&
	            mi > f.cur_mi - l->status_ago;
	usage_for(l, p, &f, suspended, &u);
	ks_contract_at(l, f.cur_mi, f.end_dn, &cv);
	ks_device_at(l, f.cur_mi, mi, &dv);

	bill_head(b, l, p, &f, &cv, fail);
	charges = ks_add_arr(b, "charges", fail);
	bill_charges(charges, l, p, &f, &u, suspended, &s, fail);
	discounts = ks_add_arr(b, "discounts", fail);
	if (!suspended)
		bill_discounts(discounts, l, &f, &cv, &s, fail);

	/* instalment (VAT-free), then VAT on the services */
	if (dv.present && dv.charge > 0) {
		snprintf(name, sizeof(name), "단말기 할부금 (%s, %d/%d회차)",
		         l->device.name, dv.paid_months, l->device.term_months);
		item(charges, "DEVICE_INSTALLMENT", name, dv.charge, fail);
	}
	vat = (s.base + s.over + s.vas - s.disc) / 10 / 10 * 10;
	if (vat < 0)
		vat = 0;
	item(charges, "VAT", "부가가치세", vat, fail);
	total = s.base + s.over + s.vas + dv.charge + vat;

	ks_add_int(b, "totalCharge", total, fail);
	ks_add_int(b, "totalDiscount", s.disc, fail);
	ks_add_int(b, "totalAmount", total - s.disc, fail);
	usage_json(b, p, &u, fail);
	ks_add_int(b, "terminationFee", cv.etf, fail);
	ks_add_item(b, "deviceInstallment", ks_device_json(l, &dv, fail), fail);
	ks_add_int(b, "deviceInstallmentRemaining", dv.remaining, fail);
	payment_json(b, l, &f, fail);
	return b;
}

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
	ks_add_str(o, "operatorCode", l->operator_code, fail);
	ks_add_str(o, "lineStatus", l->status, fail);
	return o;
}

/* Small data for a refusal: the line and (when given) the month. */
static cJSON *
refusal(const char *line, const char *month)
{
	cJSON *d = cJSON_CreateObject();
	int fail = 0;

	ks_add_str(d, "lineNumber", line, &fail);
	if (month != NULL)
		ks_add_str(d, "billingMonth", month, &fail);
	if (fail) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

/*
 * Load the line and the plan catalogue for a bill operation.  Answers the
 * line-level outcomes itself -- 1001 no such line, 1002 terminated, 9999
 * when the database fails -- and then returns 1 (*code set for business
 * outcomes); returns 0 when the caller goes on.  *l and *plans are the
 * caller's to free in both cases.
 */
static int
bill_line_load(struct pb_req *req, const char *line, const char *month,
               struct ks_line **l, struct ks_plan **plans, size_t *nplans,
               const char **code)
{
	int found = 0;

	*l = malloc(sizeof(**l));
	*plans = calloc(KS_MAX_PLANS, sizeof(**plans));
	if (*l == NULL || *plans == NULL) {
		ks_reply_system(req, "out of memory");
		return 1;
	}
	if (ks_line_load(req->app->db, line, *l, &found) != PB_OK ||
	    ks_plans_load(req->app->db, *plans, KS_MAX_PLANS, nplans) !=
	        PB_OK) {
		ks_reply_system(req, pb_db_last_error(req->app->db));
		return 1;
	}
	if (!found) {
		*code = KS_RC_BILL_NO_LINE;
		ks_reply(req, 200, *code, "존재하지 않는 회선입니다.",
		         refusal(line, month));
		return 1;
	}
	if (strcmp((*l)->status, "TERMINATED") == 0) {
		*code = KS_RC_BILL_INACTIVE;
		ks_reply(req, 200, *code, "해지된 회선입니다.",
		         refusal(line, month));
		return 1;
	}
	return 0;
}

void
ks_bill_inquiry(struct pb_req *req)
{
	static const struct pb_json_field spec[] = {
	    {"lineNumber", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 32},
	    {"billingMonth", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 16},
	    {"requestId", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 128},
	};
	struct ks_plan *plans = NULL;
	struct ks_line *l = NULL;
	struct ks_day today;
	cJSON *root = NULL, *data = NULL;
	const char *line, *month, *rid, *code = NULL;
	size_t nplans = 0;
	int mi, fail = 0;

	if (!ks_fault_begin(req, KS_OP_BILL_INQUIRY))
		return;
	root = ks_parse_body(req, spec, sizeof(spec) / sizeof(spec[0]));
	if (root == NULL)
		return;
	line = pb_json_get_string(root, "lineNumber");
	month = pb_json_get_string(root, "billingMonth");
	rid = pb_json_get_string(root, "requestId");
	if (!ks_line_valid(line)) {
		ks_reply_invalid(req, "lineNumber", "must be 11 digits");
		goto out;
	}
	mi = ks_month_parse(month);
	if (mi < 0) {
		ks_reply_invalid(req, "billingMonth", "must be YYYYMM");
		goto out;
	}
	if (!pb_req_id_valid(rid)) {
		ks_reply_invalid(req, "requestId",
		                 "must be 1-64 characters of [A-Za-z0-9._-]");
		goto out;
	}
	if (bill_line_load(req, line, month, &l, &plans, &nplans, &code))
		goto out;
	ks_today(req->app, &today);
	if (!has_bill(l, plans, nplans, &today, mi)) {
		code = KS_RC_BILL_NO_BILL;
		ks_reply(req, 200, code, "해당 월의 청구 내역이 없습니다.",
		         refusal(line, month));
		goto out;
	}
	data = cJSON_CreateObject();
	ks_add_str(data, "requestId", rid, &fail);
	ks_add_item(data, "billInfo",
	            bill_json(l, plans, nplans, &today, mi, &fail), &fail);
	ks_add_item(data, "customerInfo", customer_json(l, &fail), &fail);
	if (data == NULL || fail) {
		cJSON_Delete(data);
		ks_reply_system(req, "cannot build the bill");
		goto out;
	}
	code = KS_RC_OK;
	ks_reply(req, 200, code, "요금 조회가 완료되었습니다.", data);
out:
	if (code != NULL)
		ks_log_event("kos_bill_inquiry", line, code, month);
	free(plans);
	free(l);
	cJSON_Delete(root);
}

void
ks_bill_months(struct pb_req *req)
{
	struct ks_plan *plans = NULL;
	struct ks_line *l = NULL;
	struct ks_day today;
	cJSON *data = NULL, *arr;
	const char *line = pb_req_path_param(req, "lineNumber"), *code = NULL;
	char m[8];
	size_t nplans = 0;
	int cur_mi, mi, fail = 0, count = 0;

	if (!ks_fault_begin(req, KS_OP_BILL_MONTHS))
		return;
	if (!ks_line_valid(line)) {
		ks_reply_invalid(req, "lineNumber", "must be 11 digits");
		return;
	}
	if (bill_line_load(req, line, NULL, &l, &plans, &nplans, &code))
		goto out;
	ks_today(req->app, &today);
	cur_mi = ks_month_index(today.y, today.m);
	data = cJSON_CreateObject();
	ks_add_str(data, "lineNumber", line, &fail);
	ks_format_month(cur_mi, m, sizeof(m));
	ks_add_str(data, "currentMonth", m, &fail);
	arr = ks_add_arr(data, "availableMonths", &fail);
	for (mi = cur_mi; mi > cur_mi - KS_BILL_WINDOW; mi--) {
		if (!has_bill(l, plans, nplans, &today, mi))
			continue;
		ks_format_month(mi, m, sizeof(m));
		if (arr == NULL ||
		    !cJSON_AddItemToArray(arr, cJSON_CreateString(m)))
			fail = 1;
		count++;
	}
	ks_add_int(data, "count", count, &fail);
	if (data == NULL || fail) {
		cJSON_Delete(data);
		ks_reply_system(req, "cannot build the month list");
		goto out;
	}
	code = KS_RC_OK;
	ks_reply(req, 200, code, "청구 가능 월 조회가 완료되었습니다.", data);
out:
	if (code != NULL)
		ks_log_event("kos_bill_months", line, code, NULL);
	free(plans);
	free(l);
}
