/*
 * product.h - the product service's private parts (phonebill-product).
 *
 * catalog.c   the customer's line and plan, the plan catalogue (both
 *             cached), ProductInfo, and the pre-check
 * handlers.c  menu, customer, available plans, change/validation
 * change.c    the change, its status, and resolving unknown outcomes
 * record.c    the history table and its MVNO outbox
 * query.c     GET /products/history
 * The service's state (app->svc) is its struct pb_backoffice.
 */
#ifndef PB_PRODUCT_PRODUCT_H
#define PB_PRODUCT_PRODUCT_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "app.h"
#include "authz.h"
#include "backoffice.h"
#include "history.h"
#include "kos.h"
#include "mvno.h"
#include "request.h"

#define PROD_CUSTOMER_TTL_S (4 * 3600) /* s, customer and current plan */
#define PROD_CATALOG_TTL_S (24 * 3600) /* s, the plan catalogue */
#define PROD_NEG_TTL_S 60              /* s, "no such line" and the like */
#define PROD_CODE_MAX 33               /* bytes of a product code + NUL */
#define PROD_NAME_MAX 129
#define PROD_MSG_MAX 256
#define PROD_CHECK_AFTER_MS 5000 /* ms before asking KOS again */

extern const struct pb_history_spec prod_history_spec;

/* The service's state of a request's app (aborts on another app's state:
 * a programming error). */
struct pb_backoffice *prod_svc(struct pb_req *req);

#define PROD_ID_MAX 65    /* bytes of a user or customer id + NUL */
#define PROD_FIELD_MAX 64 /* bytes of a code, order number + NUL */

/*
 * One change as product_change_history keeps it (record.c): a REQUESTED
 * row completed, or a whole row for a change refused by the pre-check.
 * A string "" is absent (NULL in its column); base.line is the line's 11
 * digits, base.mvno the MVNO payload (borrowed when the service fills
 * it, owned by a decoded record).
 */
struct prod_hist_rec {
	struct pb_history_rec base;
	char user_id[PROD_ID_MAX];
	char customer_id[PROD_ID_MAX];
	char idem[PB_MVNO_IDEM_MAX + 1];
	char current_code[PROD_CODE_MAX], current_name[PROD_NAME_MAX];
	char target_code[PROD_CODE_MAX], target_name[PROD_NAME_MAX];
	char status[16]; /* COMPLETED, FAILED */
	char result_code[PROD_FIELD_MAX];
	char result_message[PB_KOS_MESSAGE_MAX];
	char error_code[PROD_FIELD_MAX];
	char order_no[PROD_FIELD_MAX];
	char effective_date[16];
	const char *response; /* the data answered (JSON text) or NULL;
	                         borrowed, or in the decoded record's block */
	int64_t requested_at; /* ms; 0: the row exists (completed_at then) */
	int64_t completed_at; /* ms */
	/* the last KOS call ("" kos_failure: none was made) */
	char breaker_state[32];
	char kos_failure[32];
	long long kos_attempts, kos_latency_ms;
};

/* An empty record of this kind. */
void prod_hist_rec_init(struct prod_hist_rec *r);
/* The storage form (JSON text, *out malloc'd) and back (*out: one
 * malloc'd block, free with prod_history_spec.rec_free; why: the reason
 * for a refusal). */
enum pb_err prod_hist_rec_encode(const struct prod_hist_rec *r, char **out,
                                 size_t *outlen);
enum pb_err prod_hist_rec_decode(const char *json, size_t len,
                                 struct prod_hist_rec **out, char *why);

/* The handles one thread works with (request thread or worker). */
struct prod_ctx {
	struct pb_app *app;
	struct pb_backoffice *svc;
	struct pb_redis *redis;
	struct pb_db *db;
	struct pb_kos *kos;
	struct pb_history *hist;
	const char *rid; /* X-Request-ID for KOS calls */
};

/* What a KOS failure means for the client (for kos_failed). */
struct prod_kos_err {
	enum pb_err rc;
	int64_t retry_after_ms;
};

/*
 * The customer of a line (11 digits) as our CustomerInfo JSON (lineNumber
 * "010-...", customerName, lineStatus, operatorCode, currentProduct,
 * contractInfo), cached 4 h; fresh: skip the cache (and refresh it).
 * PB_OK with *out; PB_ERR_NOTFOUND with *code set ("3001"...) and
 * *message for KOS's answers; otherwise the KOS failure.
 */
enum pb_err prod_customer(struct prod_ctx *c, const char *digits, int fresh,
                          cJSON **out, char *code, size_t codelen,
                          char *message, size_t msglen,
                          struct prod_kos_err *ke);
/* The text of the cached customer (served as is by GET /customer). */
enum pb_err prod_customer_text(struct prod_ctx *c, const char *digits,
                               char **text, size_t *len, char *code,
                               size_t codelen, char *message, size_t msglen,
                               struct prod_kos_err *ke);
/* Every plan (both operators) as an array of ProductInfo + onSale. */
enum pb_err prod_catalog(struct prod_ctx *c, cJSON **out,
                         struct prod_kos_err *ke);
/* The plan called code in the catalogue, or NULL. */
const cJSON *prod_plan(const cJSON *catalog, const char *code);
/* Drop the cached customer and the bill of the month of since_ms (the
 * change was sent) and of the current month of a line. */
void prod_invalidate(struct prod_ctx *c, const char *digits, int64_t since_ms);

/* The three pre-check items. */
struct prod_check {
	const char *type; /* PRODUCT_AVAILABLE, ... */
	int pass;
	char message[PROD_MSG_MAX];
};
struct prod_precheck {
	int ok;
	struct prod_check items[3];
	char reason[PROD_MSG_MAX]; /* the first failure's message */
	char current_name[PROD_NAME_MAX];
	char target_name[PROD_NAME_MAX];
};
void prod_run_precheck(const cJSON *customer, const cJSON *catalog,
                       const char *current_code, const char *target_code,
                       struct prod_precheck *out);
/* {validationResult, validationDetails[], failureReason?} */
cJSON *prod_precheck_json(const struct prod_precheck *p);

/* The request thread's handles. */
void prod_ctx_init(struct prod_ctx *c, struct pb_req *req);

/* 503 / 502 for a KOS failure; 404 for KOS's "no such line" answers. */
void prod_kos_failed(struct pb_req *req, const struct prod_kos_err *ke);
void prod_not_found(struct pb_req *req, const char *code, const char *message);

/* 1 when s is a product code: 1-32 of [A-Za-z0-9._-]. */
int prod_code_valid(const char *s);
/* "010-1234-5678" or "01012345678" of the principal -> 11 digits; 403
 * answered (and 0 returned) when the line is not the caller's. */
int prod_own_line(struct pb_req *req, const struct pb_principal *p,
                  const char *line, char digits[12]);

cJSON *prod_change_body(struct pb_req *req, const struct pb_principal *p,
                        int with_dates, const char **cur, const char **tgt,
                        char digits[12]);

/* handlers */
void prod_menu(struct pb_req *req);
void prod_customer_info(struct pb_req *req);
void prod_available(struct pb_req *req);
void prod_validation(struct pb_req *req);
void prod_change(struct pb_req *req);
void prod_change_status(struct pb_req *req);
void prod_history(struct pb_req *req);

/* Worker pass: ask KOS about changes whose outcome is unknown. */
void prod_resolve_pending(struct pb_backoffice *bo);

#endif
