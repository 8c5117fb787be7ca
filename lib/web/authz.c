/* authz.c - bearer token + live session + permission (see authz.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "app.h"
#include "authz.h"
#include "clock.h"
#include "log.h"

static const struct {
	unsigned bit;
	const char *name;
	const char *text;
} perms[] = {
    {PB_PERM_BILL_INQUIRY, "BILL_INQUIRY", "요금 조회 서비스 이용 권한"},
    {PB_PERM_PRODUCT_CHANGE, "PRODUCT_CHANGE", "상품 변경 서비스 이용 권한"},
};
#define NPERMS (sizeof(perms) / sizeof(perms[0]))

unsigned
pb_authz_perm_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NPERMS; i++)
		if (strcmp(perms[i].name, name) == 0)
			return perms[i].bit;
	return 0;
}

const char *
pb_authz_perm_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < NPERMS; i++)
		if (perms[i].bit == bit)
			return perms[i].name;
	return NULL;
}

const char *
pb_authz_perm_text(unsigned bit)
{
	size_t i;

	for (i = 0; i < NPERMS; i++)
		if (perms[i].bit == bit)
			return perms[i].text;
	return NULL;
}

cJSON *
pb_authz_perms_json(unsigned bits)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a != NULL && i < NPERMS; i++) {
		cJSON *s;

		if (!(bits & perms[i].bit))
			continue;
		s = cJSON_CreateString(perms[i].name);
		if (s == NULL) {
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, s);
	}
	return a;
}

enum pb_err
pb_authz_line_format(const char *in, char *out, size_t outlen)
{
	char d[12];
	size_t n = 0, i;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (in == NULL || out == NULL || outlen < 14)
		return PB_ERR_INVAL;
	for (i = 0; in[i] != '\0'; i++) {
		if (in[i] == '-')
			continue;
		if (in[i] < '0' || in[i] > '9' || n >= 11)
			return PB_ERR_INVAL;
		d[n++] = in[i];
	}
	d[n] = '\0';
	if (n != 11 || d[0] != '0' || d[1] != '1')
		return PB_ERR_INVAL;
	/* dashes, when present, must be where they belong */
	if (strchr(in, '-') != NULL &&
	    (strlen(in) != 13 || in[3] != '-' || in[8] != '-'))
		return PB_ERR_INVAL;
	snprintf(out, outlen, "%.3s-%.4s-%.4s", d, d + 3, d + 7);
	return PB_OK;
}

int
pb_authz_line_is_own(const struct pb_principal *p, const char *line)
{
	char a[16], masked[32];
	struct pb_logline l;

	if (p == NULL)
		return 0;
	if (pb_authz_line_format(line, a, sizeof(a)) == PB_OK &&
	    strcmp(a, p->s.line) == 0)
		return 1;
	/* the caller answers 403: say who asked (never the raw line) */
	pb_log_begin(&l, PB_LOG_INFO, "forbidden");
	pb_log_str(&l, "user", p->s.user_id);
	pb_log_str(&l, "reason", "not the caller's line");
	if (pb_mask_phone(line != NULL ? line : "", masked, sizeof(masked)) ==
	    PB_OK)
		pb_log_str(&l, "line", masked);
	pb_log_end(&l);
	return 0;
}

enum pb_err
pb_authz_user_key(const struct pb_app *app, const char *uid, char *out,
                  size_t outlen)
{
	unsigned char idx[PB_CRYPTO_INDEX_LEN];
	char in[8 + PB_SESSION_ID_MAX + 1];
	int n;

	if (outlen > 0)
		out[0] = '\0';
	if (app == NULL || !app->has_pii || uid == NULL)
		return PB_ERR_CONFIG;
	if (outlen < 33)
		return PB_ERR_TOOBIG;
	/* "uid:" keeps it apart from the line numbers' index */
	n = snprintf(in, sizeof(in), "uid:%s", uid);
	if (n < 0 || (size_t)n >= sizeof(in))
		return PB_ERR_INVAL;
	pb_crypto_blind_index(app->pii_index_key, in, (size_t)n, idx);
	sodium_bin2hex(out, outlen, idx, 16);
	return PB_OK;
}

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *
bearer(const struct pb_req *req)
{
	const char *h = pb_req_param(req, "HTTP_AUTHORIZATION");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

enum pb_err
pb_authz_require(struct pb_req *req, unsigned perm, struct pb_principal *out)
{
	return pb_authz_require_pipe(req, perm, out, NULL, 0, NULL);
}

/* The access token's signature, type and expiry into out->tok; answers
 * 401 (TOKEN_EXPIRED or TOKEN_INVALID) itself when it fails. */
static enum pb_err
token_check(struct pb_req *req, const struct pb_app *app, const char *tok,
            struct pb_principal *out)
{
	enum pb_err rc;

	rc = pb_jwt_verify_any(app->jwt_secret, app->jwt_accept, tok,
	                       PB_JWT_ACCESS, pb_clock_now_ms() / 1000,
	                       &out->tok);
	if (rc == PB_ERR_TIMEOUT)
		pb_req_error(req, 401, "TOKEN_EXPIRED",
		             "토큰이 만료되었습니다.",
		             "새로운 토큰을 발급받아주세요.", NULL);
	else if (rc != PB_OK)
		pb_req_error(req, 401, "TOKEN_INVALID",
		             "유효하지 않은 토큰입니다.",
		             "올바른 토큰을 제공해주세요.", NULL);
	return rc;
}

enum pb_err
pb_authz_require_pipe(struct pb_req *req, unsigned perm,
                      struct pb_principal *out,
                      const struct pb_redis_cmdv *extra, size_t nextra,
                      redisReply **replies)
{
	const struct pb_app *app = req->app;
	const char *tok;
	char ukey[PB_SESSION_UKEY_MAX + 1];
	struct pb_logline l;
	enum pb_err rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nextra; i++)
		replies[i] = NULL;
	tok = bearer(req);
	if (tok == NULL) {
		pb_req_error(req, 401, "UNAUTHORIZED", "인증이 필요합니다.",
		             "유효한 토큰이 필요합니다.", NULL);
		rc = PB_ERR_INVAL;
		goto out;
	}
	if (app == NULL || app->jwt_secret == NULL || app->redis == NULL) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		rc = PB_ERR_CONFIG;
		goto out;
	}
	rc = token_check(req, app, tok, out);
	if (rc != PB_OK)
		goto out;
	rc = pb_authz_user_key(app, out->tok.sub, ukey, sizeof(ukey));
	if (rc != PB_OK) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	rc = pb_session_touch_pipe(app->redis, out->tok.sid, out->tok.sub, ukey,
	                           out->tok.jti, PB_AUTHZ_IDLE_MS, &out->s,
	                           extra, nextra, replies);
	if (rc == PB_ERR_UNAVAILABLE) {
		(void)pb_req_add_header(req, "Retry-After", "5");
		pb_req_error(req, 503, "SERVICE_UNAVAILABLE", NULL, NULL, NULL);
		goto out;
	}
	if (rc != PB_OK) {
		pb_req_error(req, 401, "TOKEN_INVALID",
		             "유효하지 않은 토큰입니다.",
		             "세션이 종료되었습니다. 다시 "
		             "로그인해주세요.",
		             NULL);
		goto out;
	}
	if ((out->s.perms & perm) != perm) {
		pb_log_begin(&l, PB_LOG_INFO, "forbidden");
		pb_log_str(&l, "user", out->s.user_id);
		pb_log_int(&l, "need", (long long)perm);
		pb_log_end(&l);
		pb_req_error(req, 403, "FORBIDDEN",
		             "서비스 이용 권한이 없습니다", NULL, NULL);
		rc = PB_ERR_FORBIDDEN;
		goto out;
	}
	rc = PB_OK;
out:
	if (rc != PB_OK) {
		memset(out, 0, sizeof(*out));
		for (i = 0; i < nextra; i++) {
			freeReplyObject(replies[i]);
			replies[i] = NULL;
		}
	}
	return rc;
}
