/*
 * auth.h - the auth service's private parts: its settings and the user
 * store (phonebill_auth.users / user_permissions / login_history), shared
 * by the FastCGI program and the phonebill-admin CLI.
 */
#ifndef PB_AUTH_AUTH_H
#define PB_AUTH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "crypto.h"
#include "history.h"
#include "lockout.h"
#include "permit.h"
#include "request.h"
#include "session.h"

#define AUTH_UID_MIN 3
#define AUTH_UID_MAX 20
#define AUTH_PW_MIN 8   /* bytes */
#define AUTH_PW_MAX 128 /* bytes (ASVS 2.1.2: at least 64) */

/* The service's settings (app->svc; handlers reach them by auth_svc()). */
/* The auth service's own configuration keys (the service and the admin
 * CLI read the same file). */
#define AUTH_CONFIG_KEYS                                                       \
	"auth.max_failures", "auth.lock_seconds", "auth.login_rate_limit",     \
	    "auth.login_rate_window_s", "auth.trusted_proxies",                \
	    "auth.session_max_s", "auth.hash_permits", "auth.hash_permit_file"

struct auth_svc {
	struct pb_app
	    *app; /* the app whose svc this is: the accessor's check */
	struct pb_lockout_opts lock;
	long rate_limit;        /* login attempts per window per address */
	int64_t rate_window_ms; /* ms */
	int64_t session_max_ms; /* ms, absolute lifetime from login */
	struct pb_permits *hash_permits; /* host-wide hashes in flight */
};

struct auth_user {
	uint64_t id;
	char user_id[AUTH_UID_MAX + 1];
	char customer_id[65];
	char line[16]; /* "010-1234-5678" */
	char name[PB_SESSION_NAME_MAX];
	char hash[PB_CRYPTO_HASH_MAX];
	char status[16]; /* ACTIVE, INACTIVE, SUSPENDED */
	unsigned perms;  /* PB_PERM_* */
};

/* Trim ASCII space and lower-case in into out; PB_ERR_INVAL unless the
 * result is 3-20 of [a-z0-9_-]. */
enum pb_err auth_uid_canon(const char *in, char *out, size_t outlen);

/* Load a user by canonical id: PB_OK, PB_ERR_NOTFOUND, or a DB error. */
enum pb_err auth_user_load(struct pb_app *app, const char *uid,
                           struct auth_user *out);
/* Insert u (line already normalised; hash from pb_crypto_pwhash).
 * PB_ERR_DUPLICATE when the id exists. */
enum pb_err auth_user_add(struct pb_app *app, const struct auth_user *u);
enum pb_err auth_user_set_password(struct pb_app *app, const char *uid,
                                   const char *hash);
/* Grant (on=1) or revoke a PB_PERM_* bit. */
enum pb_err auth_user_set_perm(struct pb_app *app, const char *uid,
                               unsigned bit, int on);

/* Set users.status (ACTIVE, INACTIVE, SUSPENDED); PB_ERR_NOTFOUND. */
enum pb_err auth_user_set_status(struct pb_app *app, const char *uid,
                                 const char *status);
/* Delete the user (permissions go with it); PB_ERR_NOTFOUND. */
enum pb_err auth_user_delete(struct pb_app *app, const char *uid);
/* End every session of uid on every node (session.h's user version). */
enum pb_err auth_user_revoke(struct pb_app *app, const char *uid);

typedef void (*auth_user_fn)(void *ud, const struct auth_user *u);
/* Every user, ordered by id, decrypted (the callback masks what it shows). */
enum pb_err auth_user_list(struct pb_app *app, auth_user_fn fn, void *ud);

/* Time of the last successful login as RFC 3339 ("" when none). */
enum pb_err auth_last_login(struct pb_app *app, const char *uid, char *out,
                            size_t outlen);

/* Handlers (handlers.c). */
void auth_login(struct pb_req *req);
void auth_logout(struct pb_req *req);
void auth_verify(struct pb_req *req);
void auth_refresh(struct pb_req *req);
void auth_permissions(struct pb_req *req);
void auth_permissions_check(struct pb_req *req);
void auth_user_info(struct pb_req *req);
enum pb_err auth_init(struct pb_app *app, char *err, size_t errlen);
void auth_fini(struct pb_app *app);

/* The service's settings of a request's app (aborts on another app's
 * state: a programming error). */
struct auth_svc *auth_svc(struct pb_req *req);

/* The login history table (record.c): applied by phonebill-worker. */
extern const struct pb_history_spec auth_login_spec;

#define AUTH_RESULT_MAX 16 /* bytes: SUCCESS, FAILURE, LOCKED + NUL */
#define AUTH_REASON_MAX 32 /* bytes: BAD_CREDENTIALS ... + NUL */
#define AUTH_CLIENT_MAX 72 /* bytes: a masked address + NUL */
#define AUTH_AGENT_MAX 129 /* bytes: User-Agent, cut to the column */

/* One login attempt as login_history keeps it (record.c). */
struct auth_login_rec {
	struct pb_history_rec base;     /* request_id; no line, no MVNO */
	char event_id[33];              /* random: the row's idempotency key */
	char user_id[AUTH_UID_MAX + 1]; /* canonical id as typed */
	char result[AUTH_RESULT_MAX];
	char reason[AUTH_REASON_MAX]; /* "" none */
	char client[AUTH_CLIENT_MAX];
	char agent[AUTH_AGENT_MAX];
	int64_t at_ms; /* ms since the epoch, the service's clock */
};

/* An empty record of this kind. */
void auth_login_rec_init(struct auth_login_rec *r);
/* The storage form (JSON text; *out malloc'd) and back (*out malloc'd,
 * free with auth_login_spec.rec_free; why: the reason for a refusal). */
enum pb_err auth_login_rec_encode(const struct auth_login_rec *r, char **out,
                                  size_t *outlen);
enum pb_err auth_login_rec_decode(const char *json, size_t len,
                                  struct auth_login_rec **out, char *why);

#endif
