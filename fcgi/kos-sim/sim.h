/*
 * sim.h - phonebill-kos-sim: the KOS-Order simulator and the MVNO AP
 * receiver, one FastCGI program on libphonebill.
 *
 * Modules (one .c each; file-local helpers stay static, everything shared
 * is declared here with the ks_ prefix -- pb_ belongs to the library):
 *   main.c     route table, start-up spec, init/fini hooks
 *   kos.c      the KOS envelope, input checks, JSON and query helpers
 *   cal.c      calendar arithmetic, the deterministic hash
 *   fault.c    fault switches and counters (shared through MariaDB)
 *   world.c    loading plans, lines and their history from kos_sim
 *   bill.c     bill computation and the two bill operations
 *   product.c  product inquiry, list and change
 *   mvno.c     the MVNO AP receiver and its delivery log
 *   admin.c    loopback-only test helpers (/_sim/data, /_sim/lines)
 *
 * Ownership: every ks_reply*() takes ownership of its cJSON argument.
 * Strings returned by ks_* lookups are borrowed from the request or from
 * static storage, as stated per function.
 */
#ifndef KS_SIM_H
#define KS_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "app.h"
#include "json.h"
#include "request.h"

/* --- per-process state (app->svc) --------------------------------------- */
#define KS_MAX_SKEW_DEFAULT 300 /* s, MVNO signature timestamp window */
#define KS_HMAC_SECRET_MIN 32   /* bytes */

struct ks_state {
	char *hmac_secret; /* owned; released by pb_config_secret_free */
	size_t hmac_len;   /* bytes */
	char *hmac_other;  /* NULL, or the secret also accepted during
	                      a rotation (mvno.hmac_other_secret) */
	long max_skew_s;   /* s */
};

/* --- operations (fault switches and counters are per operation) -------- */
enum ks_op {
	KS_OP_BILL_INQUIRY = 0,
	KS_OP_BILL_MONTHS,
	KS_OP_PRODUCT_INQUIRY,
	KS_OP_PRODUCT_LIST,
	KS_OP_PRODUCT_CHANGE,
	KS_OP_MVNO,
	KS_OP_COUNT
};

/* "bill.inquiry", ...; static storage. */
const char *ks_op_name(enum ks_op op);
/* 1 and *out when s names an operation (not "*"). */
int ks_op_parse(const char *s, enum ks_op *out);

/* --- result codes (API.md, "KOS-Order") --------------------------------- */
#define KS_RC_OK "0000"
#define KS_RC_BILL_NO_LINE "1001"
#define KS_RC_BILL_INACTIVE "1002"
#define KS_RC_BILL_NO_BILL "1003"
#define KS_RC_CHG_NO_LINE "2001"
#define KS_RC_CHG_INACTIVE "2002"
#define KS_RC_CHG_NO_PRODUCT "2003"
#define KS_RC_CHG_NOT_ON_SALE "2004"
#define KS_RC_CHG_OTHER_OP "2005"
#define KS_RC_CHG_FAILED "2099"
#define KS_RC_PRD_NO_LINE "3001"
#define KS_RC_PRD_INACTIVE "3002"
#define KS_RC_PRD_NO_PRODUCT "3003"
#define KS_RC_INVALID "4000"      /* HTTP 400 */
#define KS_RC_UNAUTHORIZED "4010" /* HTTP 401, MVNO signature */
#define KS_RC_FORBIDDEN "4030"    /* HTTP 403, admin from afar */
#define KS_RC_SYSTEM "9999"

/* --- kos.c: envelope ---------------------------------------------------- */
/*
 * Send {success, resultCode, resultMessage, data, timestamp, traceId}.
 * success is true exactly for "0000"; data (owned, may be NULL -> null).
 * KOS operations answer through ks_reply so that a pending "truncated" or
 * "oversized" fault mangles the real answer; admin answers never mangle.
 */
void ks_reply(struct pb_req *req, int status, const char *code,
              const char *message, cJSON *data);
void ks_admin_reply(struct pb_req *req, int status, const char *code,
                    const char *message, cJSON *data);
/* The envelope as text (caller frees with cJSON_free); NULL on OOM. */
char *ks_envelope_text(const struct pb_req *req, const char *code,
                       const char *message, cJSON *data);
/* HTTP 400, resultCode 4000, data {field, reason}. */
void ks_reply_invalid(struct pb_req *req, const char *field, const char *why);
/* HTTP 200, resultCode 9999; what (English) goes to the log only. */
void ks_reply_system(struct pb_req *req, const char *what);

/*
 * Parse the body as a strict JSON object and check it against spec.  On
 * failure sends 400 and returns NULL; otherwise the caller owns the tree.
 */
cJSON *ks_parse_body(struct pb_req *req, const struct pb_json_field *spec,
                     size_t n);

/* 11 ASCII digits starting with "01". */
int ks_line_valid(const char *s);
/* "YYYYMM" with month 01-12 -> month index (year * 12 + month - 1) or -1. */
int ks_month_parse(const char *s);

/*
 * 1 when REMOTE_ADDR is a loopback address; otherwise sends 403 and
 * returns 0.
 */
int ks_admin_allowed(struct pb_req *req);

/*
 * Value of name in the query string, percent-decoded into out (NUL-
 * terminated).  Returns 1 when present and it fit, 0 when absent, -1 when
 * malformed or too long.
 */
int ks_query_get(const char *query, const char *name, char *out, size_t outlen);

/* Log one event with the line number masked (line may be NULL). */
void ks_log_event(const char *event, const char *line, const char *code,
                  const char *detail);

/* cJSON building: each helper sets *fail on any allocation failure. */
/* Attach item (owned; NULL counts as a failure) under k. */
void ks_add_item(cJSON *o, const char *k, cJSON *item, int *fail);
void ks_add_str(cJSON *o, const char *k, const char *v, int *fail);
void ks_add_int(cJSON *o, const char *k, long long v, int *fail);
void ks_add_num(cJSON *o, const char *k, double v, int *fail);
void ks_add_bool(cJSON *o, const char *k, int v, int *fail);
void ks_add_null(cJSON *o, const char *k, int *fail);
/* Add a new object / array under k (or NULL + *fail). */
cJSON *ks_add_obj(cJSON *o, const char *k, int *fail);
cJSON *ks_add_arr(cJSON *o, const char *k, int *fail);
/* Append a new object to array a (or NULL + *fail). */
cJSON *ks_push_obj(cJSON *a, int *fail);

/* Parse a decimal column; def when NULL or malformed. */
long long ks_col_ll(const char *s, long long def);

/* --- cal.c: calendar and hash ------------------------------------------- */
struct ks_day {
	int y, m, d;
};

int ks_days_in_month(int y, int m);
/* Days since 1970-01-01 (proleptic Gregorian). */
long ks_day_number(int y, int m, int d);
void ks_day_from_number(long n, struct ks_day *out);
int ks_month_index(int y, int m);
void ks_month_split(int mi, int *y, int *m);
/* Today in the service's time zone (app->tz_offset_min, KST). */
void ks_today(const struct pb_app *app, struct ks_day *out);
/* The day "months_ago" months before month index cur_mi, day clamped. */
long ks_rel_day(int cur_mi, int months_ago, int day);
/* "YYYY-MM-DD" of a day number into out (>= 11 bytes). */
void ks_format_day(long dn, char *out, size_t outlen);
/* "YYYYMM" into out (>= 7 bytes). */
void ks_format_month(int mi, char *out, size_t outlen);
/* "YYYY-MM-DD HH:MM:SS.mmm" UTC, for DATETIME(3) columns (>= 24 bytes). */
void ks_utc_datetime(int64_t ms, char *out, size_t outlen);
/* "2026-11-24 01:02:03.456" (UTC) -> "2026-11-24T01:02:03.456Z". */
void ks_datetime_rfc3339(const char *db, char *out, size_t outlen);
/* A small deterministic integer hash of (s, a, salt). */
uint32_t ks_hash(const char *s, int a, uint32_t salt);

/* --- fault.c ------------------------------------------------------------ */
/*
 * Count the call and apply the operation's fault switch.  Returns 1 when
 * the handler should go on (possibly after injected latency, possibly with
 * its answer to be truncated or padded), 0 when the fault already answered.
 */
int ks_fault_begin(struct pb_req *req, enum ks_op op);
/* Send body through the pending response fault of req, if any. */
void ks_fault_emit(struct pb_req *req, int status, const char *body,
                   size_t len);
/* Forget any pending response fault (admin requests call this first). */
void ks_fault_clear(void);
void ks_faults_get(struct pb_req *req);
void ks_faults_post(struct pb_req *req);
void ks_faults_delete(struct pb_req *req);
void ks_faults_delete_one(struct pb_req *req);
void ks_stats_get(struct pb_req *req);
void ks_stats_delete(struct pb_req *req);

/* --- world.c: the data model -------------------------------------------- */
#define KS_CODE_MAX 33  /* bytes incl. NUL: plan/operator codes */
#define KS_NAME_MAX 129 /* bytes incl. NUL: display names */
#define KS_MAX_PLANS 64
#define KS_MAX_VAS 8
#define KS_MAX_SEED 16
#define KS_MAX_ORDERS 200 /* newest successful orders loaded */
#define KS_MAX_GAPS 24
#define KS_BILL_WINDOW 24  /* months of bills kept, incl. current */
#define KS_UNLIMITED (-1L) /* internal only; never sent */

struct ks_plan {
	char code[KS_CODE_MAX];
	char name[KS_NAME_MAX];
	char operator_code[KS_CODE_MAX];
	char network[8];
	long fee;           /* won per month */
	long data_mb;       /* KS_UNLIMITED or MB */
	long voice_min;     /* KS_UNLIMITED or minutes */
	long sms;           /* KS_UNLIMITED or messages */
	long throttle_kbps; /* 0: pay per MB after the allowance */
	int on_sale;
	char description[256];
};

struct ks_contract {
	int present;
	char type[KS_NAME_MAX]; /* "24개월 약정" */
	char kind[16];          /* SELECTIVE | SUBSIDY */
	int term_months, start_ago, start_day;
	long etf_base; /* won */
};

struct ks_device {
	int present;
	char name[KS_NAME_MAX];
	long price; /* won */
	int term_months, start_ago;
};

struct ks_vas {
	char code[KS_CODE_MAX];
	char name[KS_NAME_MAX];
	long fee; /* won per month */
};

struct ks_seed_plan {
	int months_ago, day;
	char plan[KS_CODE_MAX];
};

struct ks_order_plan {
	long eff_dn; /* effective day number */
	char target[KS_CODE_MAX];
	char previous[KS_CODE_MAX];
};

struct ks_line {
	char number[12];
	char customer_id[KS_CODE_MAX];
	char customer_name[KS_NAME_MAX];
	char customer_type[16];
	char operator_code[KS_CODE_MAX];
	char plan_code[KS_CODE_MAX]; /* "" when none */
	char status[16];
	int act_ago, act_day;
	int status_ago, status_day; /* -1 when none */
	char status_reason[KS_NAME_MAX];
	int profile;
	char pay_method[KS_NAME_MAX];
	int pay_day;
	int overdue_months;
	long family_discount; /* won per month */
	struct ks_contract contract;
	struct ks_device device;
	struct ks_vas vas[KS_MAX_VAS];
	size_t nvas;
	struct ks_seed_plan seed[KS_MAX_SEED];
	size_t nseed;
	struct ks_order_plan orders[KS_MAX_ORDERS]; /* newest first */
	size_t norders;
	int orders_truncated;
	int gaps[KS_MAX_GAPS]; /* months ago */
	size_t ngaps;
};

/*
 * Load the line with everything attached (customer, contract, device,
 * services, plan history, successful orders, gaps).  *found is 0 when no
 * such line exists (PB_OK).  out is caller storage (large: heap it).
 */
enum pb_err ks_line_load(struct pb_db *db, const char *number,
                         struct ks_line *out, int *found);
/* All plans, ordered by operator and sort order. */
enum pb_err ks_plans_load(struct pb_db *db, struct ks_plan *out, size_t max,
                          size_t *n);
const struct ks_plan *ks_plan_find(const struct ks_plan *plans, size_t n,
                                   const char *code);
/* One plan by code; *found 0 when unknown. */
enum pb_err ks_plan_load(struct pb_db *db, const char *code,
                         struct ks_plan *out, int *found);

/* The plan code in force on day dn ("" when none); borrowed from l. */
const char *ks_plan_at(const struct ks_line *l, int cur_mi, long dn);
/* Plan as JSON ({productCode, ..., dataAllowance{unlimited,...}, ...}). */
cJSON *ks_plan_json(const struct ks_plan *p, int *fail);

/*
 * Contract terms on day dn: status NONE (no contract yet or none at all),
 * ACTIVE or EXPIRED, with dates and the expected early-termination fee.
 */
struct ks_contract_view {
	const char *status;
	long start_dn, end_dn; /* valid unless NONE */
	long etf;              /* won */
	int remaining_months;
};
void ks_contract_at(const struct ks_line *l, int cur_mi, long dn,
                    struct ks_contract_view *out);
cJSON *ks_contract_json(const struct ks_line *l,
                        const struct ks_contract_view *v, int *fail);

/* Device instalment after the payment of month mi. */
struct ks_device_view {
	int present;  /* 0: no device bought by then */
	long monthly; /* won, regular instalment */
	long charge;  /* won billed in month mi */
	int paid_months, remaining_months;
	long remaining; /* won still owed after month mi */
};
void ks_device_at(const struct ks_line *l, int cur_mi, int mi,
                  struct ks_device_view *out);
cJSON *ks_device_json(const struct ks_line *l, const struct ks_device_view *v,
                      int *fail);

/* --- handlers ----------------------------------------------------------- */
void ks_bill_inquiry(struct pb_req *req);
void ks_bill_months(struct pb_req *req);
void ks_product_inquiry(struct pb_req *req);
void ks_product_list(struct pb_req *req);
void ks_product_change(struct pb_req *req);
void ks_mvno_receive(struct pb_req *req);
void ks_mvno_list(struct pb_req *req);
void ks_mvno_clear(struct pb_req *req);
void ks_admin_lines(struct pb_req *req);
void ks_admin_data_reset(struct pb_req *req);

#endif
