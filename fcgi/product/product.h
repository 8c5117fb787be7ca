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
#include "request.h"

#define PROD_CUSTOMER_TTL_S (4 * 3600) /* s, customer and current plan */
#define PROD_CATALOG_TTL_S (24 * 3600) /* s, the plan catalogue */
#define PROD_NEG_TTL_S 60              /* s, "no such line" and the like */
#define PROD_CODE_MAX 33               /* bytes of a product code + NUL */
#define PROD_NAME_MAX 129
#define PROD_MSG_MAX 256
#define PROD_CHECK_AFTER_MS 5000 /* ms before asking KOS again */

extern const struct pb_history_spec prod_history_spec;

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
