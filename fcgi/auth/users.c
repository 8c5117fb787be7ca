/* users.c - the user store: users, permissions, login history (MariaDB). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth.h"
#include "authz.h"
#include "clock.h"
#include "db.h"

enum pb_err
auth_uid_canon(const char *in, char *out, size_t outlen)
{
	size_t b = 0, e, n, i;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (in == NULL || out == NULL)
		return PB_ERR_INVAL;
	e = strnlen(in, 256);
	while (b < e && (in[b] == ' ' || in[b] == '\t'))
		b++;
	while (e > b && (in[e - 1] == ' ' || in[e - 1] == '\t'))
		e--;
	n = e - b;
	if (n < AUTH_UID_MIN || n > AUTH_UID_MAX || n + 1 > outlen)
		return PB_ERR_INVAL;
	for (i = 0; i < n; i++) {
		char c = in[b + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-')) {
			out[0] = '\0';
			return PB_ERR_INVAL;
		}
		out[i] = c;
	}
	out[n] = '\0';
	return PB_OK;
}

/* "BILL_INQUIRY,PRODUCT_CHANGE" (GROUP_CONCAT) into PB_PERM_* bits. */
static void
parse_perm_list(const char *list, unsigned *perms)
{
	char name[40];
	size_t n;

	while (*list != '\0') {
		n = strcspn(list, ",");
		if (n < sizeof(name)) {
			memcpy(name, list, n);
			name[n] = '\0';
			*perms |= pb_authz_perm_parse(name);
		}
		list += n;
		if (*list == ',')
			list++;
	}
}

struct load_ctx {
	struct pb_app *app;
	struct auth_user *u;
	int found;
	enum pb_err err;
};

static enum pb_err
user_row(void *ud, const struct pb_db_row *row)
{
	struct load_ctx *c = ud;
	struct auth_user *u = c->u;
	char digits[32];
	size_t n = 0;
	int i;

	if (row->ncols < 7 || row->vals[0] == NULL || row->vals[2] == NULL ||
	    row->vals[3] == NULL || row->vals[4] == NULL)
		return c->err = PB_ERR_INTERNAL;
	u->id = strtoull(row->vals[0], NULL, 10);
	(void)pb_strlcpy(u->user_id, row->vals[6], sizeof(u->user_id));
	(void)pb_strlcpy(u->customer_id, row->vals[1] ? row->vals[1] : "",
	                 sizeof(u->customer_id));
	if (pb_crypto_open(c->app->pii_key, row->vals[2], row->lens[2], digits,
	                   sizeof(digits), &n) != PB_OK ||
	    pb_authz_line_format(digits, u->line, sizeof(u->line)) != PB_OK ||
	    pb_crypto_open(c->app->pii_key, row->vals[3], row->lens[3], u->name,
	                   sizeof(u->name), &n) != PB_OK)
		return c->err = PB_ERR_INTERNAL;
	if (pb_strlcpy(u->hash, row->vals[4], sizeof(u->hash)) != PB_OK)
		return c->err = PB_ERR_INTERNAL;
	(void)pb_strlcpy(u->status, row->vals[5] ? row->vals[5] : "",
	                 sizeof(u->status));
	for (i = 0; i < (int)sizeof(digits); i++)
		digits[i] = 0;
	/* the listing's 8th column: the permissions, comma-separated */
	if (row->ncols >= 8 && row->vals[7] != NULL)
		parse_perm_list(row->vals[7], &u->perms);
	c->found = 1;
	return PB_OK;
}

static enum pb_err
perm_row(void *ud, const struct pb_db_row *row)
{
	struct auth_user *u = ud;

	if (row->ncols == 1 && row->vals[0] != NULL)
		u->perms |= pb_authz_perm_parse(row->vals[0]);
	return PB_OK;
}

#define USER_COLS                                                              \
	"SELECT id, customer_id, line_number_enc, name_enc, "                  \
	"password_hash, status, user_id FROM users "

enum pb_err
auth_user_load(struct pb_app *app, const char *uid, struct auth_user *out)
{
	struct load_ctx c = {app, out, 0, PB_OK};
	struct pb_db_param p[1];
	enum pb_err rc;

	memset(out, 0, sizeof(*out));
	p[0] = PB_DB_P_STR(uid);
	rc = pb_db_query(app->db, USER_COLS "WHERE user_id = ?", p, 1, user_row,
	                 &c);
	if (rc == PB_OK && c.err != PB_OK)
		rc = c.err;
	if (rc == PB_OK && !c.found)
		rc = PB_ERR_NOTFOUND;
	if (rc == PB_OK) {
		struct pb_db_param q[1] = {PB_DB_P_INT((long long)out->id)};
		rc = pb_db_query(app->db,
		                 "SELECT permission FROM "
		                 "user_permissions WHERE user_ref = ?",
		                 q, 1, perm_row, out);
	}
	if (rc != PB_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

enum pb_err
auth_user_add(struct pb_app *app, const struct auth_user *u)
{
	unsigned char *lenc = NULL, *nenc = NULL;
	unsigned char bidx[PB_CRYPTO_INDEX_LEN];
	size_t llen = 0, nlen = 0, i, n = 0;
	char digits[12];
	struct pb_db_param p[6];
	enum pb_err rc;

	for (i = 0; u->line[i] != '\0' && n < 11; i++)
		if (u->line[i] != '-')
			digits[n++] = u->line[i];
	digits[n] = '\0';
	if (n != 11)
		return PB_ERR_INVAL;
	rc = pb_crypto_seal(app->pii_key, digits, n, &lenc, &llen);
	if (rc == PB_OK)
		rc = pb_crypto_seal(app->pii_key, u->name, strlen(u->name),
		                    &nenc, &nlen);
	if (rc != PB_OK)
		goto out;
	pb_crypto_blind_index(app->pii_index_key, digits, n, bidx);
	p[0] = PB_DB_P_STR(u->user_id);
	p[1] = PB_DB_P_STR(u->customer_id);
	p[2] = PB_DB_P_BIN((const char *)lenc, llen);
	p[3] = PB_DB_P_BIN((const char *)bidx, sizeof(bidx));
	p[4] = PB_DB_P_BIN((const char *)nenc, nlen);
	p[5] = PB_DB_P_STR(u->hash);
	rc = pb_db_exec(
	    app->db,
	    "INSERT INTO users (user_id, customer_id, "
	    "line_number_enc, line_number_bidx, name_enc, password_hash) "
	    "VALUES (?, ?, ?, ?, ?, ?)",
	    p, 6, NULL, NULL);
out:
	free(lenc);
	free(nenc);
	return rc;
}

enum pb_err
auth_user_set_password(struct pb_app *app, const char *uid, const char *hash)
{
	struct pb_db_param p[2] = {PB_DB_P_STR(hash), PB_DB_P_STR(uid)};
	uint64_t affected = 0;
	enum pb_err rc;

	rc = pb_db_exec(app->db,
	                "UPDATE users SET password_hash = ? WHERE "
	                "user_id = ?",
	                p, 2, &affected, NULL);
	if (rc == PB_OK && affected == 0)
		rc = PB_ERR_NOTFOUND;
	return rc;
}

enum pb_err
auth_user_set_perm(struct pb_app *app, const char *uid, unsigned bit, int on)
{
	struct auth_user u;
	const char *name = pb_authz_perm_name(bit);
	struct pb_db_param p[2];
	enum pb_err rc;

	if (name == NULL)
		return PB_ERR_INVAL;
	rc = auth_user_load(app, uid, &u);
	if (rc != PB_OK)
		return rc;
	p[0] = PB_DB_P_INT((long long)u.id);
	p[1] = PB_DB_P_STR(name);
	if (on)
		rc = pb_db_exec(app->db,
		                "INSERT IGNORE INTO user_permissions "
		                "(user_ref, permission) VALUES (?, ?)",
		                p, 2, NULL, NULL);
	else
		rc = pb_db_exec(app->db,
		                "DELETE FROM user_permissions WHERE "
		                "user_ref = ? AND permission = ?",
		                p, 2, NULL, NULL);
	return rc;
}

enum pb_err
auth_user_set_status(struct pb_app *app, const char *uid, const char *status)
{
	struct pb_db_param p[2] = {PB_DB_P_STR(status), PB_DB_P_STR(uid)};
	struct auth_user u;
	uint64_t affected = 0;
	enum pb_err rc;

	rc = pb_db_exec(app->db,
	                "UPDATE users SET status = ? WHERE "
	                "user_id = ?",
	                p, 2, &affected, NULL);
	/* 0 rows also when the status was already this one */
	if (rc == PB_OK && affected == 0)
		rc = auth_user_load(app, uid, &u);
	sodium_memzero(&u, sizeof(u));
	return rc;
}

enum pb_err
auth_user_delete(struct pb_app *app, const char *uid)
{
	struct pb_db_param p[1] = {PB_DB_P_STR(uid)};
	uint64_t affected = 0;
	enum pb_err rc;

	rc = pb_db_exec(app->db, "DELETE FROM users WHERE user_id = ?", p, 1,
	                &affected, NULL);
	if (rc == PB_OK && affected == 0)
		rc = PB_ERR_NOTFOUND;
	return rc;
}

enum pb_err
auth_user_revoke(struct pb_app *app, const char *uid)
{
	char ukey[PB_SESSION_UKEY_MAX + 1];
	enum pb_err rc;

	rc = pb_authz_user_key(app, uid, ukey, sizeof(ukey));
	if (rc == PB_OK)
		rc = pb_session_user_bump(app->redis, ukey);
	return rc;
}

struct list_ctx {
	struct pb_app *app;
	auth_user_fn fn;
	void *ud;
};

static enum pb_err
list_row(void *ud, const struct pb_db_row *row)
{
	struct list_ctx *l = ud;
	struct auth_user u;
	struct load_ctx c = {l->app, &u, 0, PB_OK};

	memset(&u, 0, sizeof(u));
	if (user_row(&c, row) != PB_OK)
		return PB_ERR_INTERNAL;
	l->fn(l->ud, &u);
	return PB_OK;
}

enum pb_err
auth_user_list(struct pb_app *app, auth_user_fn fn, void *ud)
{
	struct list_ctx l = {app, fn, ud};

	return pb_db_query(
	    app->db,
	    "SELECT id, customer_id, line_number_enc, "
	    "name_enc, password_hash, status, user_id, (SELECT GROUP_CONCAT("
	    "permission ORDER BY permission SEPARATOR ',') FROM "
	    "user_permissions WHERE user_ref = users.id) FROM users ORDER BY "
	    "id",
	    NULL, 0, list_row, &l);
}

struct last_ctx {
	int64_t ms;
	int found;
};

static enum pb_err
last_row(void *ud, const struct pb_db_row *row)
{
	struct last_ctx *c = ud;
	struct tm tm;
	char *end;
	long frac = 0;

	if (row->ncols != 1 || row->vals[0] == NULL)
		return PB_OK;
	memset(&tm, 0, sizeof(tm));
	end = strptime(row->vals[0], "%Y-%m-%d %H:%M:%S", &tm);
	if (end == NULL)
		return PB_OK;
	if (*end == '.')
		frac = strtol(end + 1, NULL, 10) / 1000; /* us -> ms */
	c->ms = (int64_t)timegm(&tm) * 1000 + frac;
	c->found = 1;
	return PB_OK;
}

enum pb_err
auth_last_login(struct pb_app *app, const char *uid, char *out, size_t outlen)
{
	struct last_ctx c = {0, 0};
	struct pb_db_param p[1] = {PB_DB_P_STR(uid)};
	enum pb_err rc;

	out[0] = '\0';
	rc = pb_db_query(
	    app->db,
	    "SELECT DATE_FORMAT(MAX(created_at), "
	    "'%Y-%m-%d %H:%i:%s.%f') FROM login_history WHERE user_id = ? "
	    "AND result = 'SUCCESS'",
	    p, 1, last_row, &c);
	if (rc == PB_OK && c.found)
		rc = pb_clock_rfc3339(c.ms, app->tz_offset_min, out, outlen);
	return rc;
}
