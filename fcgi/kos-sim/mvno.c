/*
 * mvno.c - the MVNO AP stand-in: receives the service's signed result
 * notifications, stores each one once, acknowledges every delivery.
 *
 * Signature (docs/KOS-SIMULATOR.md):
 *   X-Timestamp: <unix seconds>
 *   X-Signature: sha256=<lower-case hex HMAC-SHA256(secret, "<ts>.<body>")>
 * Missing or malformed headers, a wrong signature or |now - ts| over
 * sim.max_skew_s -> 401.  De-duplication key: the Idempotency-Key header,
 * else eventType + requestId from the body, else the body's SHA-256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "sim.h"

#define SIG_PREFIX "sha256="
#define TS_MAX_DIGITS 12 /* unix seconds, far past 2100 */
#define KEY_MAX 128      /* bytes of an Idempotency-Key */
#define LIST_DEFAULT 50
#define LIST_MAX 200
#define LIST_BODY_BUDGET (4L * 1024 * 1024) /* bytes of bodies per listing */

static void
unauthorized(struct pb_req *req, const char *message, const char *why)
{
	cJSON *d = cJSON_CreateObject();
	int fail = 0;

	ks_add_str(d, "reason", why, &fail);
	if (fail) {
		cJSON_Delete(d);
		d = NULL;
	}
	ks_log_event("mvno_rejected", NULL, KS_RC_UNAUTHORIZED, why);
	ks_reply(req, 401, KS_RC_UNAUTHORIZED, message, d);
}

/* Strict decimal seconds; -1 when malformed. */
static long long
parse_ts(const char *s)
{
	long long v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= TS_MAX_DIGITS)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "sha256=" + 64 hex digits -> 32 bytes; 0 when malformed. */
static int
parse_sig(const char *s, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	size_t plen = sizeof(SIG_PREFIX) - 1, got = 0;
	const char *end = NULL;

	if (s == NULL || strncmp(s, SIG_PREFIX, plen) != 0 ||
	    strlen(s + plen) != 2 * crypto_auth_hmacsha256_BYTES)
		return 0;
	if (sodium_hex2bin(mac, crypto_auth_hmacsha256_BYTES, s + plen,
	                   2 * crypto_auth_hmacsha256_BYTES, NULL, &got,
	                   &end) != 0 ||
	    got != crypto_auth_hmacsha256_BYTES || end == NULL || *end != '\0')
		return 0;
	return 1;
}

static int
printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e ||
		    n >= max)
			return 0;
	return n > 0;
}

/* A short string member, or NULL when absent, not a string or too long. */
static const char *
short_member(const cJSON *o, const char *name, size_t max)
{
	const char *v = pb_json_get_string(o, name);

	return v != NULL && v[0] != '\0' && strlen(v) <= max ? v : NULL;
}

/* 1 when mac is HMAC-SHA256(secret, "<tss>.<body>"). */
static int
sig_matches(const char *secret, size_t slen, const char *tss, const char *body,
            size_t blen, const unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	unsigned char want[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state hs;
	int ok;

	crypto_auth_hmacsha256_init(&hs, (const unsigned char *)secret, slen);
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)tss,
	                              strlen(tss));
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&hs, (const unsigned char *)body, blen);
	crypto_auth_hmacsha256_final(&hs, want);
	sodium_memzero(&hs, sizeof(hs));
	ok = sodium_memcmp(mac, want, sizeof(want)) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

/*
 * The delivery signed with the current secret (or during a rotation the
 * other one) within the allowed clock skew: 1, *ts its timestamp; else
 * answered 401, 0.
 */
static int
mvno_authentic(struct pb_req *req, const char *body, long long *ts)
{
	const struct ks_state *st = req->app->svc;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	const char *sig, *tss;
	long long now_s, skew;

	sig = pb_req_param(req, "HTTP_X_SIGNATURE");
	tss = pb_req_param(req, "HTTP_X_TIMESTAMP");
	if (sig == NULL || tss == NULL) {
		unauthorized(req,
		             "서명 헤더(X-Signature, X-Timestamp)가 "
		             "없습니다.",
		             "missing signature headers");
		return 0;
	}
	*ts = parse_ts(tss);
	if (*ts < 0) {
		unauthorized(req, "X-Timestamp 형식이 올바르지 않습니다.",
		             "malformed timestamp");
		return 0;
	}
	now_s = pb_clock_now_ms() / 1000;
	skew = now_s > *ts ? now_s - *ts : *ts - now_s;
	if (skew > st->max_skew_s) {
		unauthorized(req, "요청 시각이 허용 범위를 벗어났습니다.",
		             "timestamp outside the allowed window");
		return 0;
	}
	if (!parse_sig(sig, mac)) {
		unauthorized(req, "X-Signature 형식이 올바르지 않습니다.",
		             "malformed signature");
		return 0;
	}
	if (!sig_matches(st->hmac_secret, st->hmac_len, tss, body,
	                 req->body_len, mac) &&
	    (st->hmac_other == NULL ||
	     !sig_matches(st->hmac_other, strlen(st->hmac_other), tss, body,
	                  req->body_len, mac))) {
		unauthorized(req, "서명이 올바르지 않습니다.",
		             "signature mismatch");
		return 0;
	}
	return 1;
}

/* The key a repeated delivery is known by: its Idempotency-Key, else its
 * event type and requestId, else the body's SHA-256. */
static void
dedup_key(const char *idem, const char *event, const char *rid,
          const char *body, size_t blen, char *key, size_t keysz)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];

	if (idem != NULL) {
		snprintf(key, keysz, "idem:%s", idem);
	} else if (rid != NULL) {
		snprintf(key, keysz, "req:%s:%s", event != NULL ? event : "",
		         rid);
	} else {
		crypto_hash_sha256(digest, (const unsigned char *)body, blen);
		sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
		snprintf(key, keysz, "sha256:%s", hex);
	}
}

/* What a delivery carries, as stored. */
struct delivery {
	const char *key, *idem, *event, *rid, *body;
	size_t blen;
	long long ts;
};

/* Stored, or counted again when its key is known: *id, *affected (1 for
 * a new one). */
static enum pb_err
mvno_store(struct pb_db *db, const struct delivery *d, uint64_t *affected,
           uint64_t *id)
{
	struct pb_db_param p[8];
	char now[32];

	ks_utc_datetime(pb_clock_now_ms(), now, sizeof(now));
	p[0] = PB_DB_P_STR(d->key);
	p[1] = d->idem != NULL ? PB_DB_P_STR(d->idem) : PB_DB_P_NULL;
	p[2] = d->event != NULL ? PB_DB_P_STR(d->event) : PB_DB_P_NULL;
	p[3] = d->rid != NULL ? PB_DB_P_STR(d->rid) : PB_DB_P_NULL;
	p[4] = PB_DB_P_INT(d->ts);
	p[5] = PB_DB_P_BIN(d->body, d->blen);
	p[6] = PB_DB_P_STR(now);
	p[7] = PB_DB_P_STR(now);
	return pb_db_exec(
	    db,
	    "INSERT INTO mvno_deliveries (dedup_key, "
	    "idempotency_key, event_type, request_id, signature_ts, body, "
	    "received_at, last_received_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?) "
	    "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), "
	    "delivery_count = delivery_count + 1, "
	    "last_received_at = VALUES(last_received_at)",
	    p, 8, affected, id);
}

/* The acknowledgement, and its log line. */
static void
mvno_ack(struct pb_req *req, const struct delivery *d, uint64_t affected,
         uint64_t id)
{
	struct pb_logline l;
	cJSON *data;
	int fail = 0;

	data = cJSON_CreateObject();
	ks_add_int(data, "deliveryId", (long long)id, &fail);
	ks_add_bool(data, "duplicate", affected != 1, &fail);
	if (fail) {
		cJSON_Delete(data);
		data = NULL;
	}
	pb_log_begin(&l, PB_LOG_INFO, "mvno_received");
	pb_log_str(&l, "event_type", d->event);
	pb_log_str(&l, "request", d->rid);
	pb_log_int(&l, "delivery_id", (long long)id);
	pb_log_int(&l, "duplicate", affected != 1);
	pb_log_end(&l);
	ks_reply(req, 200, KS_RC_OK, "수신되었습니다.", data);
}

void
ks_mvno_receive(struct pb_req *req)
{
	struct delivery d;
	char key[256];
	const char *why = NULL;
	cJSON *root = NULL;
	uint64_t affected = 0, id = 0;

	if (!ks_fault_begin(req, KS_OP_MVNO))
		return;
	memset(&d, 0, sizeof(d));
	d.body = req->body != NULL ? req->body : "";
	d.blen = req->body_len;
	if (!mvno_authentic(req, d.body, &d.ts))
		return;
	if (pb_json_parse(d.body, d.blen, PB_JSON_MAX_DEPTH, &root, &why) !=
	        PB_OK ||
	    !cJSON_IsObject(root)) {
		ks_reply_invalid(
		    req, "", why != NULL ? why : "body must be a JSON object");
		goto out;
	}
	d.event = short_member(root, "eventType", 64);
	if (d.event == NULL)
		d.event = short_member(root, "type", 64);
	d.rid = short_member(root, "requestId", 128);
	d.idem = pb_req_param(req, "HTTP_IDEMPOTENCY_KEY");
	if (d.idem != NULL && !printable(d.idem, KEY_MAX)) {
		ks_reply_invalid(req, "Idempotency-Key",
		                 "1-128 printable ASCII characters");
		goto out;
	}
	dedup_key(d.idem, d.event, d.rid, d.body, d.blen, key, sizeof(key));
	d.key = key;
	if (mvno_store(req->app->db, &d, &affected, &id) != PB_OK) {
		/* not acknowledged: the sender must retry */
		pb_log_msg(PB_LOG_ERROR, "mvno_store_failed",
		           pb_db_last_error(req->app->db));
		(void)pb_req_add_header(req, "Retry-After", "1");
		ks_reply(req, 503, KS_RC_SYSTEM,
		         "일시적으로 수신할 수 없습니다. 다시 시도해주세요.",
		         NULL);
		goto out;
	}
	mvno_ack(req, &d, affected, id);
out:
	cJSON_Delete(root);
}

/* --- admin: /_sim/mvno/deliveries --------------------------------------- */
struct list_ctx {
	cJSON *arr;
	long budget; /* bytes of bodies still allowed */
	int truncated, fail, count;
};

static enum pb_err
delivery_row(void *ud, const struct pb_db_row *r)
{
	struct list_ctx *c = ud;
	cJSON *o, *body = NULL;
	char ts[40];

	if (r->ncols != 10)
		return PB_ERR_INTERNAL;
	if ((long)r->lens[6] > c->budget) {
		c->truncated = 1;
		return PB_ERR_TOOBIG; /* stops the listing here */
	}
	c->budget -= (long)r->lens[6];
	o = ks_push_obj(c->arr, &c->fail);
	ks_add_int(o, "id", ks_col_ll(r->vals[0], 0), &c->fail);
	ks_datetime_rfc3339(r->vals[7], ts, sizeof(ts));
	ks_add_str(o, "receivedAt", ts, &c->fail);
	ks_datetime_rfc3339(r->vals[8], ts, sizeof(ts));
	ks_add_str(o, "lastReceivedAt", ts, &c->fail);
	ks_add_int(o, "deliveryCount", ks_col_ll(r->vals[9], 1), &c->fail);
	ks_add_str(o, "eventType", r->vals[3], &c->fail);
	ks_add_str(o, "requestId", r->vals[4], &c->fail);
	ks_add_str(o, "idempotencyKey", r->vals[2], &c->fail);
	ks_add_str(o, "dedupKey", r->vals[1], &c->fail);
	ks_add_int(o, "signatureTimestamp", ks_col_ll(r->vals[5], 0), &c->fail);
	if (r->vals[6] == NULL ||
	    pb_json_parse(r->vals[6], r->lens[6], PB_JSON_MAX_DEPTH, &body,
	                  NULL) != PB_OK)
		body = cJSON_CreateString(r->vals[6] != NULL ? r->vals[6] : "");
	ks_add_item(o, "body", body, &c->fail);
	c->count++;
	return c->fail ? PB_ERR_NOMEM : PB_OK;
}

void
ks_mvno_list(struct pb_req *req)
{
	struct list_ctx c;
	struct pb_db_param p[5];
	char lim[16], rid[KEY_MAX + 1], event[KEY_MAX + 1];
	cJSON *data = NULL;
	long long limit = LIST_DEFAULT;
	int fail = 0, q;
	enum pb_err rc;

	if (!ks_admin_allowed(req))
		return;
	q = ks_query_get(req->query, "limit", lim, sizeof(lim));
	if (q == 1) {
		limit = ks_col_ll(lim, -1);
		if (limit < 1 || limit > LIST_MAX) {
			ks_reply_invalid(req, "limit", "must be 1..200");
			return;
		}
	} else if (q < 0) {
		ks_reply_invalid(req, "limit", "must be 1..200");
		return;
	}
	if (ks_query_get(req->query, "requestId", rid, sizeof(rid)) < 1)
		rid[0] = '\0';
	if (ks_query_get(req->query, "eventType", event, sizeof(event)) < 1)
		event[0] = '\0';

	memset(&c, 0, sizeof(c));
	c.budget = LIST_BODY_BUDGET;
	data = cJSON_CreateObject();
	c.arr = ks_add_arr(data, "deliveries", &fail);
	if (fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 500, KS_RC_SYSTEM, "메모리가 부족합니다.",
		               NULL);
		return;
	}
	p[0] = PB_DB_P_STR(rid);
	p[1] = PB_DB_P_STR(rid);
	p[2] = PB_DB_P_STR(event);
	p[3] = PB_DB_P_STR(event);
	p[4] = PB_DB_P_INT(limit);
	rc = pb_db_query(
	    req->app->db,
	    "SELECT id, dedup_key, idempotency_key, "
	    "event_type, request_id, signature_ts, body, received_at, "
	    "last_received_at, delivery_count FROM mvno_deliveries "
	    "WHERE (? = '' OR request_id = ?) AND (? = '' OR event_type = ?) "
	    "ORDER BY id DESC LIMIT ?",
	    p, 5, delivery_row, &c);
	if ((rc != PB_OK && !(rc == PB_ERR_TOOBIG && c.truncated)) || c.fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	ks_add_int(data, "count", c.count, &fail);
	ks_add_bool(data, "truncated", c.truncated, &fail);
	if (fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 500, KS_RC_SYSTEM, "메모리가 부족합니다.",
		               NULL);
		return;
	}
	ks_admin_reply(req, 200, KS_RC_OK, "수신 내역입니다.", data);
}

void
ks_mvno_clear(struct pb_req *req)
{
	cJSON *d;
	uint64_t n = 0;
	int fail = 0;

	if (!ks_admin_allowed(req))
		return;
	if (pb_db_exec(req->app->db, "DELETE FROM mvno_deliveries", NULL, 0, &n,
	               NULL) != PB_OK) {
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	d = cJSON_CreateObject();
	ks_add_int(d, "deleted", (long long)n, &fail);
	if (fail) {
		cJSON_Delete(d);
		d = NULL;
	}
	pb_log_msg(PB_LOG_INFO, "mvno_deliveries_cleared", "all deliveries");
	ks_admin_reply(req, 200, KS_RC_OK, "수신 내역을 삭제했습니다.", d);
}
