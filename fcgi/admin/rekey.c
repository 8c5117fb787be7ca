/*
 * rekey.c - phonebill-admin rekey: seal again, under the current PII key
 * (pii.key of pii.key_version), what MariaDB holds sealed under another.
 *
 *   phonebill-admin rekey [--dry-run] [--batch N] [--config FILE]...
 *
 * Each FILE is a service's config (default: the admin's own,
 * PHONEBILL_CONFIG, i.e. the auth service's); its database account (which
 * may UPDATE its own database, nothing else: db/migrate) and its key ring
 * do the work, so every database is re-sealed by the account that owns it
 * (docs/DESIGN.md "PII key rotation").  Tables: users (auth),
 * bill_request_history (bill), product_change_history (product), whichever
 * the database has.
 *
 * Rows go in batches of N (default 500, 1-5000) per transaction, locked
 * (FOR UPDATE) while re-sealed, in id order.  Only a value whose header
 * names another version than the current one is touched, so a run that
 * stopped is simply run again.  A value no key of the ring opens is left
 * as it is and counted (exit status 1).  Then the sessions in Redis
 * (through the admin's own config) the same way.  --dry-run counts what a
 * run would touch and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "crypto.h"
#include "buf.h"

#define BATCH_DEFAULT 500
#define BATCH_MAX 5000
#define VALUE_MAX (1024 * 1024) /* bytes: a MEDIUMBLOB payload */

/* A table with two sealed columns (constants: the SQL is built from these
 * names only, never from data). */
struct rk_table {
	const char *name;
	const char *col[2];
	const char *keep; /* column the UPDATE must leave as it was */
};

static const struct rk_table tables[] = {
    {"users", {"line_number_enc", "name_enc"}, "updated_at"},
    {"bill_request_history", {"line_number_enc", "mvno_payload_enc"}, NULL},
    {"product_change_history", {"line_number_enc", "mvno_payload_enc"}, NULL},
};

struct rk_row {
	unsigned long long id;
	unsigned char *val[2]; /* NULL: SQL NULL */
	size_t len[2];
};

struct rk_batch {
	struct rk_row *rows;
	size_t n, cap;
	int err;
};

struct rk_stats {
	unsigned long long sealed, unreadable, rows;
};

static void
batch_clear(struct rk_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->rows[i].val[0]);
		free(b->rows[i].val[1]);
	}
	b->n = 0;
	b->err = 0;
}

static enum pb_err
batch_row(void *ud, const struct pb_db_row *row)
{
	struct rk_batch *b = ud;
	struct rk_row *r;
	int i;

	if (row->ncols < 3 || row->vals[0] == NULL || b->n >= b->cap)
		return PB_ERR_INTERNAL;
	r = &b->rows[b->n++];
	memset(r, 0, sizeof(*r));
	r->id = strtoull(row->vals[0], NULL, 10);
	for (i = 0; i < 2; i++) {
		if (row->vals[i + 1] == NULL)
			continue;
		r->val[i] = malloc(row->lens[i + 1] + 1);
		if (r->val[i] == NULL)
			return PB_ERR_NOMEM;
		memcpy(r->val[i], row->vals[i + 1], row->lens[i + 1]);
		r->len[i] = row->lens[i + 1];
	}
	return PB_OK;
}

static enum pb_err
count_row(void *ud, const struct pb_db_row *row)
{
	unsigned long long *n = ud;

	if (row->ncols >= 1 && row->vals[0] != NULL)
		*n = strtoull(row->vals[0], NULL, 10);
	return PB_OK;
}

/* The WHERE condition "a column names another version than hex". */
static void
stale_cond(const struct rk_table *t, char *out, size_t outlen)
{
	snprintf(out, outlen,
	         "((%s IS NOT NULL AND HEX(LEFT(%s, 3)) <> ?) OR "
	         "(%s IS NOT NULL AND HEX(LEFT(%s, 3)) <> ?))",
	         t->col[0], t->col[0], t->col[1], t->col[1]);
}

/* Open v and seal it again under the current key; *out malloc'd. */
static enum pb_err
reseal(struct pb_app *app, const unsigned char *v, size_t len,
       unsigned char **out, size_t *outlen)
{
	char *pt = NULL;
	size_t ptlen = 0;
	enum pb_err rc;

	rc = pb_crypto_open_alloc(app->pii_key, v, len, VALUE_MAX, &pt, &ptlen);
	if (rc == PB_OK)
		rc = pb_crypto_seal(app->pii_key, pt, ptlen, out, outlen);
	if (pt != NULL) {
		sodium_memzero(pt, ptlen);
		free(pt);
	}
	return rc;
}

/* Re-seal one row's stale columns (inside the batch's transaction). */
static enum pb_err
rekey_row(struct pb_app *app, const struct rk_table *t, const struct rk_row *r,
          struct rk_stats *st)
{
	char sql[256];
	unsigned char *nv = NULL;
	size_t nlen = 0;
	unsigned cur = pb_crypto_ring_current();
	enum pb_err rc = PB_OK;
	int i;

	for (i = 0; i < 2 && rc == PB_OK; i++) {
		if (r->val[i] == NULL ||
		    pb_crypto_sealed_version(r->val[i], r->len[i]) == cur)
			continue;
		if (reseal(app, r->val[i], r->len[i], &nv, &nlen) != PB_OK) {
			fprintf(stderr,
			        "phonebill-admin: rekey %s id=%llu %s: "
			        "no key of the ring opens it; left as it is\n",
			        t->name, r->id, t->col[i]);
			st->unreadable++;
			continue;
		}
		if (t->keep != NULL)
			snprintf(sql, sizeof(sql),
			         "UPDATE %s SET %s = ?, %s = "
			         "%s WHERE id = ?",
			         t->name, t->col[i], t->keep, t->keep);
		else
			snprintf(sql, sizeof(sql),
			         "UPDATE %s SET %s = ? WHERE "
			         "id = ?",
			         t->name, t->col[i]);
		rc = pb_db_exec(
		    app->db, sql,
		    (struct pb_db_param[]){PB_DB_P_BIN(nv, nlen),
		                           PB_DB_P_INT((long long)r->id)},
		    2, NULL, NULL);
		free(nv);
		nv = NULL;
		if (rc == PB_OK)
			st->sealed++;
	}
	return rc;
}

/* One batch after *last: lock, re-seal, commit.  *more: a full batch. */
static enum pb_err
rekey_batch(struct pb_app *app, const struct rk_table *t, struct rk_batch *b,
            const char *hex, unsigned long long *last, int *more,
            struct rk_stats *st)
{
	char sql[512], cond[256];
	enum pb_err rc;
	size_t i;

	stale_cond(t, cond, sizeof(cond));
	snprintf(sql, sizeof(sql),
	         "SELECT id, %s, %s FROM %s WHERE id > ? "
	         "AND %s ORDER BY id LIMIT ? FOR UPDATE",
	         t->col[0], t->col[1], t->name, cond);
	batch_clear(b);
	rc = pb_db_begin(app->db);
	if (rc == PB_OK)
		rc = pb_db_query(
		    app->db, sql,
		    (struct pb_db_param[]){PB_DB_P_INT((long long)*last),
		                           PB_DB_P_STR(hex), PB_DB_P_STR(hex),
		                           PB_DB_P_INT((long long)b->cap)},
		    4, batch_row, b);
	for (i = 0; rc == PB_OK && i < b->n; i++) {
		rc = rekey_row(app, t, &b->rows[i], st);
		*last = b->rows[i].id;
	}
	if (rc == PB_OK)
		rc = pb_db_commit(app->db);
	if (rc != PB_OK)
		(void)pb_db_rollback(app->db);
	else
		st->rows += b->n;
	*more = rc == PB_OK && b->n == b->cap;
	return rc;
}

/* Count, or re-seal, one table of app's database. */
static enum pb_err
rekey_table(struct pb_app *app, const struct rk_table *t, size_t batch, int dry,
            struct rk_stats *st)
{
	char sql[512], cond[256], hex[8];
	struct rk_batch b;
	unsigned long long last = 0, n = 0;
	int more = 1;
	enum pb_err rc = PB_OK;

	snprintf(hex, sizeof(hex), "5042%02X", pb_crypto_ring_current());
	stale_cond(t, cond, sizeof(cond));
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE %s", t->name,
	         cond);
	rc = pb_db_query(
	    app->db, sql,
	    (struct pb_db_param[]){PB_DB_P_STR(hex), PB_DB_P_STR(hex)}, 2,
	    count_row, &n);
	if (rc != PB_OK)
		return rc;
	printf("rekey %s: %llu rows hold values under another key version "
	       "than %u\n",
	       t->name, n, pb_crypto_ring_current());
	if (dry || n == 0)
		return PB_OK;
	memset(&b, 0, sizeof(b));
	b.cap = batch;
	b.rows = calloc(batch, sizeof(*b.rows));
	if (b.rows == NULL)
		return PB_ERR_NOMEM;
	while (more && rc == PB_OK) {
		rc = rekey_batch(app, t, &b, hex, &last, &more, st);
		if (rc == PB_OK)
			printf("rekey %s: %llu of %llu rows done (id <= %llu), "
			       "%llu values re-sealed, %llu unreadable\n",
			       t->name, st->rows, n, last, st->sealed,
			       st->unreadable);
		fflush(stdout);
	}
	batch_clear(&b);
	free(b.rows);
	return rc;
}

/*
 * Sessions in Redis (session.h: v1:sess:<sid>, field pii = base64 of the
 * sealed line and name) live up to auth.session_max_s: re-sealed in place,
 * only when the field is still what was read, so the old key can go at
 * once after a run.  Cached bills need nothing (a value that does not
 * open is a miss).
 */
#define SESS_PII_MAX 512 /* bytes of the base64 field (session.c) */

static const char cas_lua[] =
    "if redis.call('HGET', KEYS[1], 'pii') == ARGV[1] then "
    "redis.call('HSET', KEYS[1], 'pii', ARGV[2]) return 1 end return 0";

/* The field re-sealed, base64 into nb64 (SESS_PII_MAX bytes). */
static enum pb_err
reseal_b64(struct pb_app *app, const unsigned char *ct, size_t ctlen,
           char *nb64)
{
	unsigned char *nv = NULL;
	size_t nlen = 0;
	enum pb_err rc;

	rc = reseal(app, ct, ctlen, &nv, &nlen);
	if (rc == PB_OK &&
	    sodium_base64_encoded_len(nlen, sodium_base64_VARIANT_ORIGINAL) >
	        SESS_PII_MAX)
		rc = PB_ERR_TOOBIG;
	if (rc == PB_OK)
		sodium_bin2base64(nb64, SESS_PII_MAX, nv, nlen,
		                  sodium_base64_VARIANT_ORIGINAL);
	free(nv);
	return rc;
}

static void
rekey_session(struct pb_app *app, const char *key, int dry, struct rk_stats *st)
{
	const char *get[] = {"HGET", key, "pii"};
	const char *ev[6];
	unsigned char ct[SESS_PII_MAX];
	char old[SESS_PII_MAX], nb64[SESS_PII_MAX];
	redisReply *rep = NULL;
	size_t ctlen = 0;

	if (pb_redis_cmd_str(app->redis, &rep, 3, get) != PB_OK ||
	    rep->type != REDIS_REPLY_STRING || rep->len == 0 ||
	    rep->len >= sizeof(old) ||
	    sodium_base642bin(ct, sizeof(ct), rep->str, rep->len, NULL, &ctlen,
	                      NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    pb_crypto_sealed_version(ct, ctlen) == pb_crypto_ring_current())
		goto out;
	memcpy(old, rep->str, rep->len);
	old[rep->len] = '\0';
	st->rows++;
	if (dry)
		goto out;
	if (reseal_b64(app, ct, ctlen, nb64) != PB_OK) {
		st->unreadable++;
		goto out;
	}
	freeReplyObject(rep);
	rep = NULL;
	ev[0] = "EVAL";
	ev[1] = cas_lua;
	ev[2] = "1";
	ev[3] = key;
	ev[4] = old;
	ev[5] = nb64;
	if (pb_redis_cmd_str(app->redis, &rep, 6, ev) == PB_OK &&
	    rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
		st->sealed++;
out:
	sodium_memzero(ct, sizeof(ct));
	if (rep != NULL)
		freeReplyObject(rep);
}

/* SCAN every session; PB_ERR_UNAVAILABLE when Redis cannot be asked. */
static enum pb_err
rekey_sessions(struct pb_app *app, int dry, struct rk_stats *total)
{
	char cursor[32] = "0";
	const char *scan[] = {"SCAN",      cursor,  "MATCH",
	                      "v1:sess:*", "COUNT", "500"};
	struct rk_stats st;
	redisReply *rep = NULL;
	enum pb_err rc = PB_OK;
	size_t i;

	memset(&st, 0, sizeof(st));
	if (app->redis == NULL)
		return PB_OK;
	do {
		rc = pb_redis_cmd_str(app->redis, &rep, 6, scan);
		if (rc != PB_OK || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = PB_ERR_UNAVAILABLE;
			break;
		}
		(void)pb_strlcpy(cursor, rep->element[0]->str, sizeof(cursor));
		for (i = 0; i < rep->element[1]->elements; i++)
			if (rep->element[1]->element[i]->type ==
			    REDIS_REPLY_STRING)
				rekey_session(app,
				              rep->element[1]->element[i]->str,
				              dry, &st);
		freeReplyObject(rep);
		rep = NULL;
	} while (strcmp(cursor, "0") != 0);
	if (rep != NULL)
		freeReplyObject(rep);
	if (rc != PB_OK) {
		fprintf(stderr, "phonebill-admin: rekey: Redis: %s\n",
		        pb_redis_last_error(app->redis));
		return rc;
	}
	printf("rekey sessions: %llu held another key version than %u%s, "
	       "%llu re-sealed, %llu unreadable\n",
	       st.rows, pb_crypto_ring_current(), dry ? " (dry run)" : "",
	       st.sealed, st.unreadable);
	total->sealed += st.sealed;
	total->unreadable += st.unreadable;
	return PB_OK;
}

static enum pb_err
table_row(void *ud, const struct pb_db_row *row)
{
	unsigned *mask = ud;
	size_t i;

	for (i = 0; row->ncols >= 1 && row->vals[0] != NULL &&
	            i < sizeof(tables) / sizeof(tables[0]);
	     i++)
		if (strcmp(row->vals[0], tables[i].name) == 0)
			*mask |= 1u << i;
	return PB_OK;
}

/* Every sealed table of app's database; adds to *total. */
static enum pb_err
rekey_db(struct pb_app *app, size_t batch, int dry, struct rk_stats *total)
{
	struct rk_stats st;
	unsigned mask = 0;
	size_t i;
	enum pb_err rc;

	rc = pb_db_query(
	    app->db,
	    "SELECT table_name FROM "
	    "information_schema.tables WHERE table_schema = DATABASE()",
	    NULL, 0, table_row, &mask);
	for (i = 0; rc == PB_OK && i < sizeof(tables) / sizeof(tables[0]);
	     i++) {
		if (!(mask & (1u << i)))
			continue;
		memset(&st, 0, sizeof(st));
		rc = rekey_table(app, &tables[i], batch, dry, &st);
		total->sealed += st.sealed;
		total->unreadable += st.unreadable;
		total->rows += st.rows;
	}
	if (rc != PB_OK)
		fprintf(stderr, "phonebill-admin: rekey: database: %s (%s)\n",
		        pb_strerror(rc), pb_db_last_error(app->db));
	return rc;
}

static const struct pb_app_spec other_spec = {
    .service = "admin",
    .flags =
        PB_APP_PII | PB_APP_OTHERS_CONFIG | PB_APP_NO_REDIS | PB_APP_NO_JWT,
};

/* rekey under the config at path (another service's). */
static enum pb_err
rekey_config(const char *path, size_t batch, int dry, struct rk_stats *total)
{
	struct pb_app other;
	char err[512];
	enum pb_err rc;

	rc = pb_app_init_config(&other, &other_spec, path, err, sizeof(err));
	if (rc != PB_OK) {
		fprintf(stderr, "phonebill-admin: rekey: %s: %s\n", path, err);
		return rc;
	}
	rc = rekey_db(&other, batch, dry, total);
	pb_app_fini(&other);
	return rc;
}

int
admin_rekey(struct pb_app *app, int argc, char **argv)
{
	struct rk_stats total;
	long batch = BATCH_DEFAULT;
	int dry = 0, nconf = 0, i;
	char *end = NULL;
	enum pb_err rc = PB_OK;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0) {
			dry = 1;
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			batch = strtol(argv[++i], &end, 10);
			if (end == argv[i] || *end != '\0' || batch < 1 ||
			    batch > BATCH_MAX)
				return admin_usage();
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			i++;
			nconf++;
		} else {
			return admin_usage();
		}
	}
	memset(&total, 0, sizeof(total));
	for (i = 2; i < argc && rc == PB_OK; i++)
		if (strcmp(argv[i], "--config") == 0)
			rc =
			    rekey_config(argv[++i], (size_t)batch, dry, &total);
		else if (strcmp(argv[i], "--batch") == 0)
			i++;
	if (rc == PB_OK && nconf == 0)
		rc = rekey_db(app, (size_t)batch, dry, &total);
	if (rc == PB_OK)
		rc = rekey_sessions(app, dry, &total);
	if (rc == PB_OK && !dry)
		printf("rekey: %llu values re-sealed under key version %u, "
		       "%llu could not be opened\n",
		       total.sealed, pb_crypto_ring_current(),
		       total.unreadable);
	return rc == PB_OK && total.unreadable == 0 ? 0 : 1;
}
