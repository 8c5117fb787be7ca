/* handlers.c - the seven operations of /api/v1/auth. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "authz.h"
#include "clock.h"
#include "crypto.h"
#include "handoff.h"
#include "json.h"
#include "jwt.h"
#include "lockout.h"
#include "log.h"
#include "ratelimit.h"
#include "metrics.h"

#define ADDR_MAX 64

struct auth_svc *
auth_svc(struct pb_req *req)
{
	struct auth_svc *sv = req->app->svc;

	/* the one cast of app->svc in this service */
	if (sv == NULL || sv->app != req->app) {
		pb_log_msg(PB_LOG_ERROR, "internal_error",
		           "app->svc is not the auth service's");
		abort();
	}
	return sv;
}

static void
internal(struct pb_req *req, const char *what)
{
	pb_log_msg(PB_LOG_ERROR, "internal_error", what);
	pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
}

/*
 * The client's address: REMOTE_ADDR as the web server set it.  Trusted
 * proxies are the web server's business (lighttpd mod_extforward, Apache
 * mod_remoteip); X-Forwarded-For is never read here, so no spelling of it
 * (X_Forwarded_For reaches us as HTTP_X_FORWARDED_FOR too) moves a client
 * into another rate-limit bucket or into the history.
 */
static void
client_addr(struct pb_req *req, char *out, size_t outlen)
{
	(void)pb_strlcpy(out, req->remote_addr, outlen);
}

/* IPv4: last octet dropped (a.b.c.x); IPv6: first three groups + ::x. */
static void
mask_addr(const char *addr, char *out, size_t outlen)
{
	const char *p;
	size_t n;
	int groups = 0;

	if (strchr(addr, ':') == NULL) {
		p = strrchr(addr, '.');
		n = p != NULL ? (size_t)(p - addr) : 0;
		snprintf(out, outlen, "%.*s.x", (int)n, addr);
		return;
	}
	for (p = addr; *p != '\0' && groups < 3; p++)
		if (*p == ':')
			groups++;
	n = (size_t)(p - addr);
	snprintf(out, outlen, "%.*s:x", (int)n, addr);
}

/* What a login leaves in the history; result and reason are literals. */
struct history {
	const char *result;
	const char *reason;
	char uid[AUTH_UID_MAX + 1];
	char client[ADDR_MAX + 8];
};

/* The record of attempt h, handed to phonebill-worker (handoff.h). */
static enum pb_err
history_handoff(struct pb_req *req, const struct history *h)
{
	const char *ua = pb_req_param(req, "HTTP_USER_AGENT");
	struct auth_login_rec r;
	char *text = NULL;
	size_t len = 0;
	enum pb_err rc;

	auth_login_rec_init(&r);
	(void)pb_strlcpy(r.base.request_id, req->request_id,
	                 sizeof(r.base.request_id));
	(void)pb_strlcpy(r.user_id, h->uid, sizeof(r.user_id));
	(void)pb_strlcpy(r.result, h->result, sizeof(r.result));
	(void)pb_strlcpy(r.reason, h->reason != NULL ? h->reason : "",
	                 sizeof(r.reason));
	(void)pb_strlcpy(r.client, h->client, sizeof(r.client));
	/* cut to the column */
	(void)pb_strlcpy(r.agent, ua != NULL ? ua : "", sizeof(r.agent));
	r.at_ms = pb_clock_now_ms();
	rc = pb_crypto_random_hex(16, r.event_id, sizeof(r.event_id));
	if (rc == PB_OK)
		rc = auth_login_rec_encode(&r, &text, &len);
	if (rc == PB_OK)
		rc = pb_handoff_put(req->app->redis, req->app->pii_key,
		                    PB_HANDOFF_LOGIN, text, len, NULL, 0);
	if (text != NULL)
		sodium_memzero(text, len);
	free(text);
	return rc;
}

/*
 * Hand the attempt to phonebill-worker (handoff.h) before the answer goes
 * out, and log it.  Rate-limited attempts are only logged: a flood must
 * not become a flood of history rows.  PB_OK when the record is durable
 * (or none was due).
 */
static enum pb_err
history_record(struct pb_req *req, const struct history *h)
{
	struct pb_logline l;
	enum pb_err rc = PB_OK;

	pb_metrics_login(h->result, h->reason);
	if (strcmp(h->result, "RATE_LIMITED") != 0)
		rc = history_handoff(req, h);
	pb_log_begin(&l, rc == PB_OK ? PB_LOG_INFO : PB_LOG_WARN, "login");
	pb_log_str(&l, "user", h->uid);
	pb_log_str(&l, "result", h->result);
	pb_log_str(&l, "reason", h->reason);
	pb_log_str(&l, "client", h->client);
	if (rc != PB_OK)
		pb_log_str(&l, "history", pb_strerror(rc));
	pb_log_end(&l);
	return rc;
}

static cJSON *
user_json(const struct pb_session *s)
{
	cJSON *u = cJSON_CreateObject(), *perms = pb_authz_perms_json(s->perms);

	if (u == NULL || perms == NULL ||
	    cJSON_AddStringToObject(u, "userId", s->user_id) == NULL ||
	    cJSON_AddStringToObject(u, "userName", s->name) == NULL ||
	    cJSON_AddStringToObject(u, "phoneNumber", s->line) == NULL) {
		cJSON_Delete(u);
		cJSON_Delete(perms);
		return NULL;
	}
	cJSON_AddItemToObject(u, "permissions", perms);
	return u;
}

/* New access and refresh tokens for session s; caller frees both. */
static enum pb_err
issue_pair(struct pb_req *req, const struct pb_session *s, int64_t now_s,
           char **access, char **refresh)
{
	struct pb_jwt_claims c;
	const char *key = req->app->jwt_secret;
	enum pb_err rc;

	*access = *refresh = NULL;
	memset(&c, 0, sizeof(c));
	(void)pb_strlcpy(c.sub, s->user_id, sizeof(c.sub));
	(void)pb_strlcpy(c.sid, s->sid, sizeof(c.sid));
	c.iat = c.nbf = now_s;
	c.typ = PB_JWT_ACCESS;
	c.exp = now_s + PB_AUTHZ_ACCESS_TTL_S;
	rc = pb_crypto_random_hex(16, c.jti, sizeof(c.jti));
	if (rc == PB_OK)
		rc = pb_jwt_issue(key, strlen(key), &c, access);
	if (rc != PB_OK)
		goto out;
	c.typ = PB_JWT_REFRESH;
	c.exp = now_s + PB_AUTHZ_REFRESH_TTL_S;
	/* never past the session's absolute lifetime */
	if (s->born_ms > 0 &&
	    (s->born_ms + auth_svc(req)->session_max_ms) / 1000 < c.exp)
		c.exp = (s->born_ms + auth_svc(req)->session_max_ms) / 1000;
	(void)pb_strlcpy(c.jti, s->rjti, sizeof(c.jti));
	rc = pb_jwt_issue(key, strlen(key), &c, refresh);
out:
	if (rc != PB_OK) {
		free(*access);
		*access = NULL;
	}
	return rc;
}

/*
 * A permit to compute one password hash (permit.h): PB_OK and *slot, or
 * the login is answered 503 + Retry-After at once -- it must not queue
 * behind the hashes already running on this host.
 */
static enum pb_err
hash_permit(struct pb_req *req, int *slot)
{
	enum pb_err rc;

	rc = pb_permits_try(auth_svc(req)->hash_permits, slot);
	if (rc == PB_OK)
		return PB_OK;
	pb_log_msg(PB_LOG_WARN, "login_shed",
	           rc == PB_ERR_UNAVAILABLE
	               ? "every password-hash permit is in use"
	               : "permit files unusable");
	(void)pb_req_add_header(req, "Retry-After", "1");
	pb_req_error(req, 503, "SERVICE_UNAVAILABLE",
	             "로그인 요청이 많습니다. "
	             "잠시 후 다시 시도해주세요.",
	             "too many logins in progress", NULL);
	return rc;
}

/*
 * The user store could not give the account: a store that is down is 503,
 * but a row we cannot read (a column that does not decrypt, or a key
 * that is not the one it was sealed with) is data corruption: 500, and
 * said so in the log -- retrying will not help.
 */
static void
user_load_failed(struct pb_req *req, const char *uid, enum pb_err rc)
{
	struct pb_logline l;

	if (rc != PB_ERR_INTERNAL) {
		pb_req_unavailable(req, "database");
		return;
	}
	pb_log_begin(&l, PB_LOG_ERROR, "data_corruption");
	pb_log_str(&l, "user", uid);
	pb_log_str(&l, "table", "phonebill_auth.users");
	pb_log_str(&l, "msg",
	           "the row's encrypted columns do not open "
	           "(damaged, or sealed with another key)");
	pb_log_end(&l);
	pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL, NULL);
}

/* The password was right but its hash is weaker than today's settings:
 * store a new one (failure only logged; the login goes on). */
static void
rehash(struct pb_req *req, const struct auth_user *u, const char *pw,
       size_t pwlen)
{
	char hash[PB_CRYPTO_HASH_MAX];
	enum pb_err rc;

	rc = pb_crypto_pwhash(pw, pwlen, hash, sizeof(hash));
	if (rc == PB_OK)
		rc = auth_user_set_password(req->app, u->user_id, hash);
	pb_log_msg(rc == PB_OK ? PB_LOG_INFO : PB_LOG_WARN, "password_rehash",
	           rc == PB_OK ? "stored with the current settings"
	                       : pb_strerror(rc));
	sodium_memzero(hash, sizeof(hash));
}

static void
lock_message(const struct auth_svc *sv, char *out, size_t outlen)
{
	long min = (long)((sv->lock.lock_ms + 59999) / 60000);

	snprintf(out, outlen,
	         "계정이 잠금되었습니다. %ld분 후 다시 "
	         "시도해주세요.",
	         min);
}

/* One login's state, from the body to the answer. */
struct login {
	struct auth_svc *sv;
	struct history h;
	struct auth_user u;
	struct pb_session s;
	char addr[ADDR_MAX];
	char ukey[PB_SESSION_UKEY_MAX + 1];
	const char *pw; /* borrowed from the body */
	size_t pwlen;
	int auto_login, slot, permit, known;
	int64_t now_ms, until; /* ms */
};

/* The body: userId canonical, password within bounds; 0 when answered. */
static int
login_input(struct pb_req *req, const cJSON *root, struct login *g)
{
	char details[160];

	g->pw = pb_json_get_string(root, "password");
	(void)pb_json_get_bool(root, "autoLogin", &g->auto_login);
	if (auth_uid_canon(pb_json_get_string(root, "userId"), g->h.uid,
	                   sizeof(g->h.uid)) != PB_OK) {
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL,
		             "userId: 3-20 of [A-Za-z0-9_-]", NULL);
		return 0;
	}
	g->pwlen = strlen(g->pw);
	if (g->pwlen < AUTH_PW_MIN || g->pwlen > AUTH_PW_MAX) {
		snprintf(details, sizeof(details), "password: %d-%d bytes",
		         AUTH_PW_MIN, AUTH_PW_MAX);
		pb_req_error(req, 400, "VALIDATION_ERROR", NULL, details, NULL);
		return 0;
	}
	client_addr(req, g->addr, sizeof(g->addr));
	mask_addr(g->addr, g->h.client, sizeof(g->h.client));
	return 1;
}

/* The per-address rate limit, before anything costs us, and the user's
 * session version; 0 when answered (429 or 503). */
static int
login_admitted(struct pb_req *req, struct login *g)
{
	char retry_s[16];
	int retry = 0;
	enum pb_err rc;

	rc = pb_ratelimit_hit(req->app->redis, "login", g->addr,
	                      g->sv->rate_limit, g->sv->rate_window_ms, &retry);
	if (rc == PB_ERR_RATE_LIMITED) {
		snprintf(retry_s, sizeof(retry_s), "%d", retry);
		(void)pb_req_add_header(req, "Retry-After", retry_s);
		pb_req_error(req, 429, "RATE_LIMITED", NULL, NULL, NULL);
		g->h.result = "RATE_LIMITED";
		(void)history_record(req, &g->h);
		return 0;
	}
	/* the user's version before the account is read: a change made
	 * after this read outdates the session at once (session.h) */
	if (rc != PB_OK ||
	    pb_authz_user_key(req->app, g->h.uid, g->ukey, sizeof(g->ukey)) !=
	        PB_OK ||
	    pb_session_user_version(req->app->redis, g->ukey, g->s.ver,
	                            sizeof(g->s.ver)) != PB_OK) {
		pb_req_unavailable(req, "redis");
		return 0;
	}
	return 1;
}

/* Retry-After: s until the lock ends (at least 1). */
static void
retry_after_lock(struct pb_req *req, const struct login *g)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld",
	         g->until > g->now_ms
	             ? (long long)((g->until - g->now_ms + 999) / 1000)
	             : 1LL);
	(void)pb_req_add_header(req, "Retry-After", v);
}

/* The account was locked before this attempt: 401 AUTH_003. */
static void
login_locked(struct pb_req *req, struct login *g)
{
	char msg[160], details[160];

	/* the web UI shows the unlock time */
	retry_after_lock(req, g);
	lock_message(g->sv, msg, sizeof(msg));
	/* the configured limit (auth.max_failures), not a literal */
	snprintf(details, sizeof(details),
	         "이전 %d회 연속 실패로 인한 "
	         "임시 잠금 상태입니다.",
	         g->sv->lock.max_failures);
	pb_req_error(req, 401, "AUTH_003", msg, details, NULL);
	g->h.result = "LOCKED";
	g->h.reason = "ACCOUNT_LOCKED";
	(void)history_record(req, &g->h);
}

/* The account (or its absence), then a reserved attempt and a hash
 * permit; 0 when answered. */
static int
login_reserve(struct pb_req *req, struct login *g)
{
	enum pb_err rc;

	/* the account (or its absence) first: a DB outage must not use up
	 * one of the five attempts */
	rc = auth_user_load(req->app, g->h.uid, &g->u);
	if (rc != PB_OK && rc != PB_ERR_NOTFOUND) {
		user_load_failed(req, g->h.uid, rc);
		return 0;
	}
	g->known = rc == PB_OK && strcmp(g->u.status, "ACTIVE") == 0;
	g->now_ms = pb_clock_now_ms();
	rc = pb_lockout_reserve(req->app->redis, g->ukey, &g->sv->lock,
	                        g->now_ms, &g->slot, &g->until);
	if (rc == PB_ERR_LOCKED) {
		login_locked(req, g);
		return 0;
	}
	if (rc != PB_OK) {
		pb_req_unavailable(req, "redis");
		return 0;
	}
	/* after the reservation (a locked account needs no permit); a shed
	 * login gives its attempt back */
	if (hash_permit(req, &g->permit) != PB_OK) {
		(void)pb_lockout_cancel(req->app->redis, g->ukey, g->now_ms);
		return 0;
	}
	return 1;
}

/* A wrong password (or unknown id): count it, maybe lock, answer 401. */
static void
login_failed(struct pb_req *req, struct login *g)
{
	const struct auth_svc *sv = g->sv;
	long lock_min = (long)((sv->lock.lock_ms + 59999) / 60000);
	char msg[160], details[160];
	int locked_now = 0, remaining = 0;

	if (pb_lockout_fail(req->app->redis, g->ukey, &sv->lock,
	                    pb_clock_now_ms(), g->slot, &locked_now, &remaining,
	                    &g->until) != PB_OK) {
		pb_req_unavailable(req, "redis");
		return;
	}
	/* a lock ends the account's sessions too */
	if (locked_now && g->known)
		(void)pb_session_user_bump(req->app->redis, g->ukey);
	g->h.result = locked_now ? "LOCKED" : "FAILURE";
	g->h.reason = locked_now ? "LOCKED_NOW" : "BAD_CREDENTIALS";
	if (locked_now) {
		retry_after_lock(req, g);
		snprintf(msg, sizeof(msg),
		         "%d회 연속 실패하여 %ld분간 "
		         "계정이 잠금되었습니다.",
		         sv->lock.max_failures, lock_min);
		snprintf(details, sizeof(details),
		         "%ld분 후 다시 "
		         "시도해주세요.",
		         lock_min);
		pb_req_error(req, 401, "AUTH_002", msg, details, NULL);
	} else {
		snprintf(details, sizeof(details),
		         "남은 시도 횟수: "
		         "%d회",
		         remaining);
		pb_req_error(req, 401, "AUTH_001",
		             "ID 또는 비밀번호를 확인해주세요", details, NULL);
	}
	(void)history_record(req, &g->h);
}

/* The password against the stored hash (a dummy for unknown ids), under
 * the permit, which is given back here. */
static enum pb_err
login_verify(struct pb_req *req, struct login *g)
{
	struct pb_logline l;
	enum pb_err rc;

	/* one verification per reserved slot; unknown ids hit the dummy */
	rc = pb_crypto_pwverify(g->known ? g->u.hash : NULL, g->pw, g->pwlen);
	if (rc == PB_OK && pb_crypto_pwhash_outdated(g->u.hash))
		rehash(req, &g->u, g->pw,
		       g->pwlen); /* still under the permit */
	pb_permits_release(g->sv->hash_permits, g->permit);
	g->permit = -1;
	pb_log_begin(&l, PB_LOG_INFO, "pwhash_verify");
	pb_log_int(&l, "slot", g->slot);
	pb_log_end(&l);
	return rc;
}

/* The password was right: the attempts reset and a new session; 0 when
 * answered (503). */
static int
login_session(struct pb_req *req, struct login *g)
{
	struct pb_session *s = &g->s;
	const struct auth_svc *sv = g->sv;

	(void)pb_strlcpy(s->user_id, g->u.user_id, sizeof(s->user_id));
	(void)pb_strlcpy(s->customer_id, g->u.customer_id,
	                 sizeof(s->customer_id));
	(void)pb_strlcpy(s->line, g->u.line, sizeof(s->line));
	(void)pb_strlcpy(s->name, g->u.name, sizeof(s->name));
	s->perms = g->u.perms;
	s->auto_login = g->auto_login;
	s->born_ms = g->now_ms;
	if (pb_lockout_reset(req->app->redis, g->ukey) != PB_OK ||
	    pb_crypto_random_hex(16, s->sid, sizeof(s->sid)) != PB_OK ||
	    pb_crypto_random_hex(16, s->rjti, sizeof(s->rjti)) != PB_OK ||
	    pb_session_create(req->app->redis, s,
	                      g->auto_login ||
	                              sv->session_max_ms < PB_AUTHZ_IDLE_MS
	                          ? sv->session_max_ms
	                          : PB_AUTHZ_IDLE_MS) != PB_OK) {
		pb_req_unavailable(req, "redis");
		return 0;
	}
	return 1;
}

/* Free a token after wiping it. */
static void
token_free(char *t)
{
	if (t == NULL)
		return;
	sodium_memzero(t, strlen(t));
	free(t);
}

/* The tokens and the user, once the login is in the history: 200. */
static void
login_answer(struct pb_req *req, struct login *g)
{
	char *access = NULL, *refresh = NULL;
	cJSON *data = NULL, *user = NULL;

	if (issue_pair(req, &g->s, g->now_ms / 1000, &access, &refresh) !=
	    PB_OK) {
		internal(req, "token issue failed");
		goto out;
	}
	data = cJSON_CreateObject();
	user = user_json(&g->s);
	if (data == NULL || user == NULL ||
	    cJSON_AddStringToObject(data, "accessToken", access) == NULL ||
	    cJSON_AddStringToObject(data, "refreshToken", refresh) == NULL ||
	    cJSON_AddNumberToObject(data, "expiresIn", PB_AUTHZ_ACCESS_TTL_S) ==
	        NULL) {
		cJSON_Delete(user);
		internal(req, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(data, "user", user);
	/* no token leaves before the login is in the history */
	g->h.result = "SUCCESS";
	if (history_record(req, &g->h) != PB_OK) {
		pb_req_unavailable(req, "history");
		goto out;
	}
	pb_req_ok(req, 200, "로그인이 성공적으로 완료되었습니다.", data);
	data = NULL;
out:
	cJSON_Delete(data);
	token_free(access);
	token_free(refresh);
}

void
auth_login(struct pb_req *req)
{
	static const struct pb_json_field spec[] = {
	    {"userId", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 64},
	    {"password", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 128},
	    {"autoLogin", PB_JSON_BOOL, PB_JSON_NULLABLE, 0, 0},
	};
	struct login g;
	cJSON *root;

	memset(&g, 0, sizeof(g));
	g.sv = auth_svc(req);
	g.permit = -1;
	root = pb_req_json_body(req, spec, sizeof(spec) / sizeof(spec[0]));
	if (root == NULL || !login_input(req, root, &g) ||
	    !login_admitted(req, &g) || !login_reserve(req, &g))
		goto out;
	if (login_verify(req, &g) != PB_OK)
		login_failed(req, &g);
	else if (login_session(req, &g))
		login_answer(req, &g);
out:
	pb_permits_release(g.sv->hash_permits, g.permit);
	cJSON_Delete(root);
	sodium_memzero(&g.u, sizeof(g.u));
}

void
auth_logout(struct pb_req *req)
{
	struct pb_principal p;
	struct pb_logline l;
	int64_t left_ms;
	enum pb_err rc;

	if (pb_authz_require(req, 0, &p) != PB_OK)
		return;
	left_ms = p.tok.exp * 1000 - pb_clock_now_ms();
	rc = pb_session_deny(req->app->redis, p.tok.jti, left_ms + 1000);
	if (rc == PB_OK)
		rc = pb_session_delete(req->app->redis, p.s.sid);
	if (rc != PB_OK) {
		pb_req_unavailable(req, "redis");
		return;
	}
	pb_log_begin(&l, PB_LOG_INFO, "logout");
	pb_log_str(&l, "user", p.s.user_id);
	pb_log_end(&l);
	pb_req_ok(req, 200, "로그아웃이 성공적으로 완료되었습니다.", NULL);
}

void
auth_verify(struct pb_req *req)
{
	struct pb_principal p;
	cJSON *data = NULL, *user = NULL;
	int64_t left;

	if (pb_authz_require(req, 0, &p) != PB_OK)
		return;
	left = p.tok.exp - pb_clock_now_ms() / 1000;
	data = cJSON_CreateObject();
	user = user_json(&p.s);
	if (data == NULL || user == NULL ||
	    cJSON_AddBoolToObject(data, "valid", 1) == NULL ||
	    cJSON_AddNumberToObject(data, "expiresIn",
	                            (double)(left > 0 ? left : 0)) == NULL) {
		cJSON_Delete(data);
		cJSON_Delete(user);
		internal(req, "out of memory");
		return;
	}
	cJSON_AddItemToObject(data, "user", user);
	pb_req_ok(req, 200, "토큰이 유효합니다.", data);
}

static void
refresh_invalid(struct pb_req *req)
{
	pb_req_error(req, 401, "REFRESH_TOKEN_INVALID",
	             "Refresh Token이 유효하지 않습니다.",
	             "다시 로그인해주세요.", NULL);
}

/* Log why a refresh was refused; reason is a literal. */
static void
refresh_log(const char *uid, const char *reason)
{
	struct pb_logline l;

	pb_log_begin(&l, PB_LOG_INFO, "refresh_refused");
	pb_log_str(&l, "user", uid);
	pb_log_str(&l, "reason", reason);
	pb_log_end(&l);
}

/*
 * Re-read the token's user from MariaDB: PB_OK with *perms when it exists,
 * is ACTIVE and not locked.  Otherwise the session is ended and the answer
 * sent (401, or 503 when a store is down).
 */
static enum pb_err
refresh_user(struct pb_req *req, const struct pb_jwt_claims *c, unsigned *perms)
{
	struct auth_user u;
	char ukey[PB_SESSION_UKEY_MAX + 1];
	const char *why = NULL;
	int64_t until = 0;
	enum pb_err rc;

	rc = auth_user_load(req->app, c->sub, &u);
	if (rc != PB_OK && rc != PB_ERR_NOTFOUND) {
		user_load_failed(req, c->sub, rc);
		goto out;
	}
	if (rc == PB_ERR_NOTFOUND)
		why = "deleted";
	else if (strcmp(u.status, "ACTIVE") != 0)
		why = "inactive";
	if (why == NULL) {
		/* the lockout record is keyed by the user key (no raw id) */
		rc = pb_authz_user_key(req->app, c->sub, ukey, sizeof(ukey));
		if (rc == PB_OK)
			rc = pb_lockout_check(req->app->redis, ukey,
			                      pb_clock_now_ms(), &until);
		if (rc == PB_ERR_LOCKED)
			why = "locked";
		else if (rc != PB_OK) {
			pb_req_unavailable(req, "redis");
			goto out;
		}
	}
	if (why != NULL) {
		(void)pb_session_delete(req->app->redis, c->sid);
		refresh_log(c->sub, why);
		refresh_invalid(req);
		rc = PB_ERR_FORBIDDEN;
		goto out;
	}
	*perms = u.perms;
	rc = PB_OK;
out:
	sodium_memzero(&u, sizeof(u));
	return rc;
}

/* Rotate the session's refresh token; answered unless PB_OK. */
static enum pb_err
refresh_rotate(struct pb_req *req, const struct pb_jwt_claims *c,
               unsigned perms, struct pb_session *s)
{
	struct pb_session_rotation x;
	char ukey[PB_SESSION_UKEY_MAX + 1], new_rjti[PB_SESSION_ID_MAX + 1];
	struct pb_logline l;
	enum pb_err rc;

	if (pb_authz_user_key(req->app, c->sub, ukey, sizeof(ukey)) != PB_OK ||
	    pb_crypto_random_hex(16, new_rjti, sizeof(new_rjti)) != PB_OK) {
		internal(req, "user key or random");
		return PB_ERR_INTERNAL;
	}
	memset(&x, 0, sizeof(x));
	x.sid = c->sid;
	x.uid = c->sub;
	x.ukey = ukey;
	x.rjti = c->jti;
	x.new_rjti = new_rjti;
	x.idle_ttl_ms = PB_AUTHZ_IDLE_MS;
	x.now_ms = pb_clock_now_ms();
	x.max_life_ms = auth_svc(req)->session_max_ms;
	x.perms = perms;
	rc = pb_session_rotate(req->app->redis, &x, s);
	if (rc == PB_ERR_UNAVAILABLE) {
		pb_req_unavailable(req, "redis");
		return rc;
	}
	if (rc == PB_ERR_REUSED) {
		/* a used refresh token came back: stolen or replayed */
		pb_log_begin(&l, PB_LOG_WARN, "security_refresh_reuse");
		pb_log_str(&l, "user", c->sub);
		pb_log_str(&l, "action", "session family revoked");
		pb_log_end(&l);
	} else if (rc == PB_ERR_TIMEOUT) {
		refresh_log(c->sub, "absolute_lifetime");
	} else if (rc != PB_OK) {
		refresh_log(c->sub, "session_ended");
	}
	if (rc != PB_OK)
		refresh_invalid(req);
	return rc;
}

void
auth_refresh(struct pb_req *req)
{
	static const struct pb_json_field spec[] = {
	    {"refreshToken", PB_JSON_STRING, PB_JSON_REQUIRED, 1,
	     PB_JWT_MAX_TOKEN},
	};
	struct pb_jwt_claims c;
	struct pb_session s;
	cJSON *root = NULL, *data = NULL;
	char *access = NULL, *refresh = NULL;
	const char *key = req->app->jwt_secret;
	int64_t now_s = pb_clock_now_ms() / 1000;
	unsigned perms = 0;
	enum pb_err rc;

	root = pb_req_json_body(req, spec, 1);
	if (root == NULL)
		goto out;
	rc = pb_jwt_verify_any(key, req->app->jwt_accept,
	                       pb_json_get_string(root, "refreshToken"),
	                       PB_JWT_REFRESH, now_s, &c);
	if (rc != PB_OK) {
		refresh_invalid(req);
		goto out;
	}
	/* the account as it is now: deleted, suspended, locked end here;
	 * permissions come from the store, not from the old session */
	if (refresh_user(req, &c, &perms) != PB_OK ||
	    refresh_rotate(req, &c, perms, &s) != PB_OK)
		goto out;
	if (issue_pair(req, &s, now_s, &access, &refresh) != PB_OK) {
		internal(req, "token issue failed");
		goto out;
	}
	data = cJSON_CreateObject();
	if (data == NULL ||
	    cJSON_AddStringToObject(data, "accessToken", access) == NULL ||
	    cJSON_AddStringToObject(data, "refreshToken", refresh) == NULL ||
	    cJSON_AddNumberToObject(data, "expiresIn", PB_AUTHZ_ACCESS_TTL_S) ==
	        NULL) {
		internal(req, "out of memory");
		goto out;
	}
	pb_req_ok(req, 200, "토큰이 성공적으로 갱신되었습니다.", data);
	data = NULL;
out:
	cJSON_Delete(root);
	cJSON_Delete(data);
	free(access);
	free(refresh);
}

static cJSON *
perm_json(unsigned bit, unsigned have)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL ||
	    cJSON_AddStringToObject(o, "permission", pb_authz_perm_name(bit)) ==
	        NULL ||
	    cJSON_AddStringToObject(o, "description",
	                            pb_authz_perm_text(bit)) == NULL ||
	    cJSON_AddBoolToObject(o, "granted", (have & bit) != 0) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void
auth_permissions(struct pb_req *req)
{
	static const unsigned bits[] = {PB_PERM_BILL_INQUIRY,
	                                PB_PERM_PRODUCT_CHANGE};
	struct pb_principal p;
	cJSON *data = NULL, *arr;
	size_t i;

	if (pb_authz_require(req, 0, &p) != PB_OK)
		return;
	data = cJSON_CreateObject();
	arr = data != NULL ? cJSON_AddArrayToObject(data, "permissions") : NULL;
	if (arr == NULL ||
	    cJSON_AddStringToObject(data, "userId", p.s.user_id) == NULL)
		goto fail;
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		cJSON *o = perm_json(bits[i], p.s.perms);
		if (o == NULL)
			goto fail;
		cJSON_AddItemToArray(arr, o);
	}
	pb_req_ok(req, 200, "권한 정보를 성공적으로 조회했습니다.", data);
	return;
fail:
	cJSON_Delete(data);
	internal(req, "out of memory");
}

void
auth_permissions_check(struct pb_req *req)
{
	static const struct pb_json_field spec[] = {
	    {"serviceType", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 32},
	};
	struct pb_principal p;
	cJSON *root = NULL, *data = NULL, *det;
	const char *type;
	unsigned bit;
	int has;

	if (pb_authz_require(req, 0, &p) != PB_OK)
		return;
	root = pb_req_json_body(req, spec, 1);
	if (root == NULL)
		return;
	type = pb_json_get_string(root, "serviceType");
	bit = pb_authz_perm_parse(type);
	if (bit == 0) {
		pb_req_error(req, 400, "VALIDATION_ERROR",
		             "serviceType은 BILL_INQUIRY 또는 "
		             "PRODUCT_CHANGE여야 합니다.",
		             "serviceType: BILL_INQUIRY or PRODUCT_CHANGE",
		             NULL);
		goto out;
	}
	has = (p.s.perms & bit) != 0;
	data = cJSON_CreateObject();
	det = perm_json(bit, p.s.perms);
	if (data == NULL || det == NULL ||
	    cJSON_AddStringToObject(data, "serviceType", type) == NULL ||
	    cJSON_AddBoolToObject(data, "hasPermission", has) == NULL) {
		cJSON_Delete(det);
		internal(req, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(data, "permissionDetails", det);
	pb_req_ok(req, 200,
	          has ? "서비스 접근 권한이 확인되었습니다."
	              : "서비스 접근 권한이 없습니다.",
	          data);
	data = NULL;
out:
	cJSON_Delete(data);
	cJSON_Delete(root);
}

void
auth_user_info(struct pb_req *req)
{
	struct pb_principal p;
	struct auth_user u;
	cJSON *data = NULL, *perms = NULL;
	char last[PB_CLOCK_RFC3339_LEN];
	const char *status;
	enum pb_err rc;

	if (pb_authz_require(req, 0, &p) != PB_OK)
		return;
	rc = auth_user_load(req->app, p.s.user_id, &u);
	if (rc == PB_ERR_NOTFOUND) {
		pb_req_error(req, 404, "USER_NOT_FOUND",
		             "사용자 정보를 찾을 수 없습니다.",
		             "해당 사용자가 존재하지 않습니다.", NULL);
		goto out;
	}
	if (rc == PB_ERR_INTERNAL) {
		user_load_failed(req, p.s.user_id, rc);
		goto out;
	}
	if (rc == PB_OK)
		rc = auth_last_login(req->app, p.s.user_id, last, sizeof(last));
	if (rc != PB_OK) {
		pb_req_unavailable(req, "database");
		goto out;
	}
	status = strcmp(u.status, "ACTIVE") == 0 ? "ACTIVE" : "INACTIVE";
	data = cJSON_CreateObject();
	perms = pb_authz_perms_json(u.perms);
	if (data == NULL || perms == NULL ||
	    cJSON_AddStringToObject(data, "userId", u.user_id) == NULL ||
	    cJSON_AddStringToObject(data, "userName", u.name) == NULL ||
	    cJSON_AddStringToObject(data, "phoneNumber", u.line) == NULL ||
	    cJSON_AddStringToObject(data, "status", status) == NULL ||
	    (last[0] != '\0' &&
	     cJSON_AddStringToObject(data, "lastLoginAt", last) == NULL)) {
		cJSON_Delete(perms);
		internal(req, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(data, "permissions", perms);
	pb_req_ok(req, 200, "사용자 정보를 성공적으로 조회했습니다.", data);
	data = NULL;
out:
	cJSON_Delete(data);
	sodium_memzero(&u, sizeof(u));
}

enum pb_err
auth_init(struct pb_app *app, char *err, size_t errlen)
{
	struct auth_svc *sv;
	long maxf = 5, lock = 1800, rl = 20, win = 60, life = 86400, np = 2;
	enum pb_err rc;

	rc = pb_config_get_long(app->cfg, "auth.max_failures", 5, 1, 100, &maxf,
	                        err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "auth.lock_seconds", 1800, 1,
		                        86400 * 7, &lock, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "auth.login_rate_limit", 20,
		                        1, 1000000, &rl, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "auth.login_rate_window_s",
		                        60, 1, 86400, &win, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "auth.session_max_s", 86400,
		                        60, 86400 * 30, &life, err, errlen);
	if (rc == PB_OK)
		rc = pb_config_get_long(app->cfg, "auth.hash_permits", 2, 1,
		                        PB_PERMITS_MAX, &np, err, errlen);
	if (rc != PB_OK)
		return rc;
	if (pb_crypto_dummy_init() != PB_OK) {
		snprintf(err, errlen, "cannot make the dummy password hash");
		return PB_ERR_NOMEM;
	}
	sv = calloc(1, sizeof(*sv));
	if (sv == NULL) {
		snprintf(err, errlen, "out of memory");
		return PB_ERR_NOMEM;
	}
	sv->lock.max_failures = (int)maxf;
	sv->lock.lock_ms = (int64_t)lock * 1000;
	sv->rate_limit = rl;
	sv->rate_window_ms = (int64_t)win * 1000;
	sv->session_max_ms = (int64_t)life * 1000;
	if (pb_permits_open(pb_config_get(app->cfg, "auth.hash_permit_file",
	                                  "/run/phonebill/auth-hash"),
	                    (int)np, &sv->hash_permits) != PB_OK) {
		free(sv);
		snprintf(err, errlen,
		         "auth.hash_permit_file: cannot open "
		         "%ld permit files (their directory must exist and be "
		         "writable by the service)",
		         np);
		return PB_ERR_CONFIG;
	}
	/* accepted so that old configs still start, but not used */
	if (pb_config_get(app->cfg, "auth.trusted_proxies", "")[0] != '\0')
		pb_log_msg(PB_LOG_WARN, "config_ignored",
		           "auth.trusted_proxies: "
		           "the client address comes from the web server "
		           "(mod_extforward, mod_remoteip)");
	sv->app = app;
	app->svc = sv;
	return PB_OK;
}

void
auth_fini(struct pb_app *app)
{
	struct auth_svc *sv = app->svc;

	if (sv != NULL)
		pb_permits_free(sv->hash_permits);
	free(app->svc);
	app->svc = NULL;
}
