/* history.c - history rows, the spool replay and the MVNO outbox (history.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "mvno.h"
#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "history.h"
#include "json.h"
#include "uuid.h"
#include "log.h"

#define RID_MAX 65

void
pb_history_sqltime(int64_t ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&t, &tm) == NULL) {
		(void)pb_strlcpy(out, "1970-01-01 00:00:00.000", outlen);
		return;
	}
	snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%03d",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

enum pb_err
pb_history_seal(struct pb_history *h, const char *text, size_t len,
                unsigned char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (h->pii_key == NULL)
		return PB_ERR_CONFIG;
	return pb_crypto_seal(h->pii_key, text, len, out, outlen);
}

void
pb_history_line_index(struct pb_history *h, const char *digits,
                      unsigned char *out)
{
	if (h->pii_index_key == NULL) {
		memset(out, 0, PB_CRYPTO_INDEX_LEN);
		return;
	}
	pb_crypto_blind_index(h->pii_index_key, digits, strlen(digits), out);
}

enum pb_err
pb_history_open(struct pb_history *h, const void *ct, size_t ctlen, char **out,
                size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (h->pii_key == NULL)
		return PB_ERR_CONFIG;
	return pb_crypto_open_alloc(h->pii_key, ct, ctlen,
	                            PB_HISTORY_PAYLOAD_MAX, out, outlen);
}

/* The record's request id, when it is one. */
static const char *
rec_id(const struct pb_history_rec *rec)
{
	return rec != NULL && pb_req_id_valid(rec->request_id) ? rec->request_id
	                                                       : NULL;
}

enum pb_err
pb_history_save(struct pb_history *h, struct pb_db *db,
                const struct pb_history_rec *rec)
{
	struct pb_logline l;
	const char *rid = rec_id(rec);
	char *text = NULL;
	size_t len = 0;
	enum pb_err rc, src;

	if (rid == NULL)
		return PB_ERR_INVAL;
	rc = src = pb_db_begin(db);
	if (rc == PB_OK)
		rc = src = h->spec->apply(h, db, rec);
	if (rc == PB_OK)
		rc = src = pb_db_commit(db);
	if (rc != PB_OK)
		(void)pb_db_rollback(db);
	if (rc == PB_OK || h->spool == NULL)
		goto out;
	rc = h->spec->encode(rec, &text, &len);
	if (rc == PB_OK)
		rc = pb_spool_put(h->spool, h->spec->kind, rid, text, len);
out:
	pb_log_begin(&l,
	             rc == PB_OK ? (src == PB_OK ? PB_LOG_DEBUG : PB_LOG_WARN)
	                         : PB_LOG_ERROR,
	             rc != PB_OK    ? "history_lost"
	             : src == PB_OK ? "history_written"
	                            : "history_spooled");
	pb_log_str(&l, "kind", h->spec->kind);
	pb_log_str(&l, "request_id", rid);
	if (src != PB_OK)
		pb_log_str(&l, "db", pb_strerror(src));
	if (rc != PB_OK)
		pb_log_str(&l, "error", pb_strerror(rc));
	pb_log_end(&l);
	free(text);
	return rc;
}

enum pb_err
pb_history_write(struct pb_history *h, struct pb_db *db,
                 const struct pb_history_rec *rec)
{
	enum pb_err rc;

	if (rec_id(rec) == NULL)
		return PB_ERR_INVAL;
	rc = pb_db_begin(db);
	if (rc == PB_OK)
		rc = h->spec->apply(h, db, rec);
	if (rc == PB_OK)
		rc = pb_db_commit(db);
	if (rc != PB_OK)
		(void)pb_db_rollback(db);
	return rc;
}

struct replay_ctx {
	struct pb_history *h;
	struct pb_db *db;
};

static enum pb_err
replay_one(void *ud, const char *kind, const char *key, const char *data,
           size_t len)
{
	struct replay_ctx *c = ud;
	const struct pb_history_spec *s = c->h->spec;
	struct pb_history_rec *rec = NULL;
	char why[PB_HISTORY_WHY_MAX];
	enum pb_err rc;

	if (strcmp(kind, s->kind) != 0)
		return PB_ERR_INVAL;
	rc = s->decode(data, len, &rec, why);
	if (rc != PB_OK) {
		pb_log_msg(PB_LOG_ERROR, "history_spool_undecodable", why);
		return rc;
	}
	if (s->prepare != NULL)
		s->prepare(c->h, rec);
	rc = rec_id(rec) != NULL && strcmp(rec_id(rec), key) == 0
	         ? pb_db_begin(c->db)
	         : PB_ERR_INVAL;
	if (rc == PB_OK)
		rc = s->apply(c->h, c->db, rec);
	if (rc == PB_OK)
		rc = pb_db_commit(c->db);
	if (rc != PB_OK)
		(void)pb_db_rollback(c->db);
	s->rec_free(rec);
	return rc;
}

enum pb_err
pb_history_replay(struct pb_history *h, struct pb_db *db, size_t max,
                  size_t *done)
{
	struct replay_ctx c = {h, db};
	size_t n = 0;
	enum pb_err rc;

	if (done != NULL)
		*done = 0;
	if (h->spool == NULL || pb_spool_pending(h->spool) == 0)
		return PB_OK;
	rc = pb_spool_replay(h->spool, replay_one, &c, max, &n);
	if (n > 0) {
		struct pb_logline l;

		pb_log_begin(&l, PB_LOG_INFO, "history_replayed");
		pb_log_str(&l, "kind", h->spec->kind);
		pb_log_int(&l, "records", (long long)n);
		pb_log_end(&l);
	}
	if (done != NULL)
		*done = n;
	return rc;
}

/* --- the outbox -------------------------------------------------------------
 */

static unsigned
max_attempts(const struct pb_history *h)
{
	return h->max_attempts > 0 ? h->max_attempts : 15;
}

/* A delivery that was not acknowledged: due again after a backoff, or a
 * dead letter once it has had its attempts. */
static enum pb_err
reschedule(struct pb_history *h, struct pb_db *db, const char *rid,
           long long attempt, const char *err)
{
	const struct pb_history_spec *s = h->spec;
	struct pb_db_param p[3];
	struct pb_logline l;

	if (attempt >= (long long)max_attempts(h) && s->sql_dead != NULL) {
		p[0] = PB_DB_P_STR(err);
		p[1] = PB_DB_P_STR(rid);
		pb_log_begin(&l, PB_LOG_ERROR, "mvno_dead_letter");
		pb_log_str(&l, "kind", s->kind);
		pb_log_str(&l, "request_id", rid);
		pb_log_int(&l, "attempts", attempt);
		pb_log_str(&l, "error", err);
		pb_log_end(&l);
		return pb_db_exec(db, s->sql_dead, p, 2, NULL, NULL);
	}
	p[0] =
	    PB_DB_P_INT(pb_mvno_backoff_ms((unsigned)attempt) * 1000); /* us */
	p[1] = PB_DB_P_STR(err);
	p[2] = PB_DB_P_STR(rid);
	return pb_db_exec(db, s->sql_retry, p, 3, NULL, NULL);
}

/* One multi-row statement for jobs[from..from+k) (k <= CHUNK): the
 * attempt rows, padded with the first row again (a duplicate is ignored). */
static enum pb_err
book_attempts(struct pb_history *h, struct pb_db *db,
              const struct pb_mvno_job *jobs, const size_t *idx, size_t k)
{
	struct pb_db_param p[PB_HISTORY_BOOK_CHUNK * 6];
	size_t i, j;

	for (i = 0; i < PB_HISTORY_BOOK_CHUNK; i++) {
		const struct pb_mvno_job *jb = &jobs[idx[i < k ? i : 0]];
		int ok = jb->rc == PB_OK;

		j = i * 6;
		p[j] = PB_DB_P_STR(jb->request_id);
		p[j + 1] = PB_DB_P_INT(jb->attempt > 0 ? jb->attempt : 1);
		p[j + 2] = PB_DB_P_INT(jb->att.http_status);
		p[j + 3] = PB_DB_P_INT(jb->att.elapsed_ms);
		p[j + 4] = PB_DB_P_STR(ok ? "ACKNOWLEDGED" : "FAILED");
		p[j + 5] = ok ? PB_DB_P_NULL : PB_DB_P_STR(jb->att.error);
	}
	return pb_db_exec(db, h->spec->sql_attempt_many, p,
	                  PB_HISTORY_BOOK_CHUNK * 6, NULL, NULL);
}

/* The acknowledged ones among idx[0..k): delivered, in one statement. */
static enum pb_err
book_delivered(struct pb_history *h, struct pb_db *db,
               const struct pb_mvno_job *jobs, const size_t *idx, size_t k)
{
	struct pb_db_param p[PB_HISTORY_BOOK_CHUNK];
	size_t i, n = 0;

	for (i = 0; i < k; i++)
		if (jobs[idx[i]].rc == PB_OK)
			p[n++] = PB_DB_P_STR(jobs[idx[i]].request_id);
	if (n == 0)
		return PB_OK;
	for (i = n; i < PB_HISTORY_BOOK_CHUNK; i++)
		p[i] = p[0];
	return pb_db_exec(db, h->spec->sql_delivered_many, p,
	                  PB_HISTORY_BOOK_CHUNK, NULL, NULL);
}

enum pb_err
pb_history_book(struct pb_history *h, struct pb_db *db,
                const struct pb_mvno_job *jobs, size_t n)
{
	size_t idx[PB_HISTORY_BOOK_CHUNK], i = 0, k;
	enum pb_err rc = PB_OK, r;

	if (h->spec->sql_attempt_many == NULL)
		return PB_OK;
	/* one transaction for the lot: one commit (one log flush) per
	 * chunk of deliveries rather than two per 16 */
	rc = pb_db_begin(db);
	while (rc == PB_OK && i < n) {
		/* the jobs that were sent (an unsent one books nothing: its
		 * row stays due, with its lease) */
		for (k = 0; i < n && k < PB_HISTORY_BOOK_CHUNK; i++)
			if (jobs[i].rc == PB_OK ||
			    jobs[i].rc == PB_ERR_UNAVAILABLE)
				idx[k++] = i;
		if (k == 0)
			break;
		r = book_attempts(h, db, jobs, idx, k);
		if (r == PB_OK)
			r = book_delivered(h, db, jobs, idx, k);
		for (size_t j = 0; r == PB_OK && j < k; j++)
			if (jobs[idx[j]].rc != PB_OK)
				r = reschedule(h, db, jobs[idx[j]].request_id,
				               jobs[idx[j]].attempt > 0
				                   ? jobs[idx[j]].attempt
				                   : 1,
				               jobs[idx[j]].att.error);
		if (r != PB_OK)
			rc = r;
	}
	if (rc == PB_OK)
		rc = pb_db_commit(db);
	if (rc != PB_OK)
		(void)pb_db_rollback(db);
	return rc;
}

enum pb_err
pb_history_due_now(struct pb_history *h, struct pb_db *db,
                   const char *const *rids, size_t n)
{
	struct pb_db_param p[PB_HISTORY_BOOK_CHUNK];
	size_t i = 0, k;
	enum pb_err rc = PB_OK;

	if (h->spec->sql_due_many == NULL || n == 0)
		return PB_OK;
	while (rc == PB_OK && i < n) {
		for (k = 0; i < n && k < PB_HISTORY_BOOK_CHUNK; k++, i++)
			p[k] = PB_DB_P_STR(rids[i]);
		for (; k < PB_HISTORY_BOOK_CHUNK; k++)
			p[k] = p[0];
		rc = pb_db_exec(db, h->spec->sql_due_many, p,
		                PB_HISTORY_BOOK_CHUNK, NULL, NULL);
	}
	return rc;
}

static enum pb_err
count_cb(void *ud, const struct pb_db_row *row)
{
	int *n = ud;

	*n = row->ncols == 1 && row->vals[0] != NULL &&
	     strcmp(row->vals[0], "0") != 0;
	return PB_OK;
}

enum pb_err
pb_history_unsettled(struct pb_history *h, struct pb_db *db, int *unsettled)
{
	*unsettled = 1; /* not known: as if */
	if (h->spec->sql_unsettled == NULL) {
		*unsettled = 0;
		return PB_OK;
	}
	return pb_db_query(db, h->spec->sql_unsettled, NULL, 0, count_cb,
	                   unsettled);
}

struct claimed {
	struct pb_history *h;
	pb_history_due_fn fn;
	void *ud;
	size_t n;
};

static enum pb_err
claimed_row(void *ud, const struct pb_db_row *row)
{
	struct claimed *c = ud;
	char idx[2 * PB_CRYPTO_INDEX_LEN + 1], *body = NULL;
	size_t blen = 0;
	long long attempts;
	enum pb_err rc;

	if (row->ncols < 4 || row->vals[0] == NULL || row->vals[1] == NULL ||
	    row->vals[3] == NULL || row->lens[3] != PB_CRYPTO_INDEX_LEN)
		return PB_OK;
	attempts = row->vals[2] != NULL ? strtoll(row->vals[2], NULL, 10) : 0;
	sodium_bin2hex(idx, sizeof(idx), (const unsigned char *)row->vals[3],
	               PB_CRYPTO_INDEX_LEN);
	rc = pb_history_open(c->h, row->vals[1], row->lens[1], &body, &blen);
	if (rc != PB_OK) {
		pb_log_msg(PB_LOG_ERROR, "mvno_payload_unreadable",
		           row->vals[0]);
		return PB_OK; /* its lease ends; an operator sees the lag */
	}
	c->n++;
	rc = c->fn(c->ud, row->vals[0], body, blen, attempts + 1, idx);
	sodium_memzero(body, blen);
	free(body);
	return rc;
}

enum pb_err
pb_history_claim_due(struct pb_history *h, struct pb_db *db, const char *token,
                     size_t max, pb_history_due_fn fn, void *ud,
                     size_t *claimed)
{
	const struct pb_history_spec *s = h->spec;
	struct claimed c = {h, fn, ud, 0};
	struct pb_db_param p[2];
	uint64_t won = 0;
	enum pb_err rc;

	*claimed = 0;
	if (s->sql_claim_many == NULL || max == 0)
		return PB_OK;
	p[0] = PB_DB_P_STR(token);
	p[1] = PB_DB_P_INT((long long)max);
	rc = pb_db_exec(db, s->sql_claim_many, p, 2, &won, NULL);
	if (rc != PB_OK || won == 0)
		return rc;
	p[0] = PB_DB_P_STR(token);
	rc = pb_db_query(db, s->sql_claimed, p, 1, claimed_row, &c);
	*claimed = c.n;
	return rc;
}

/* --- decode helpers ---------------------------------------------------------
 */

enum pb_err
pb_history_parse(const char *json, size_t len, cJSON **out, char *why)
{
	*out = NULL;
	why[0] = '\0';
	if (pb_json_parse(json, len, PB_JSON_MAX_DEPTH, out, NULL) == PB_OK &&
	    cJSON_IsObject(*out))
		return PB_OK;
	cJSON_Delete(*out);
	*out = NULL;
	snprintf(why, PB_HISTORY_WHY_MAX, "not a JSON object");
	return PB_ERR_PARSE;
}

/* The record's answer ("response", a string or absent): its text's
 * size with the NUL into *rlen (0 without one). */
static enum pb_err
response_of(const cJSON *o, const cJSON **resp, size_t *rlen, char *why)
{
	*resp = cJSON_GetObjectItemCaseSensitive(o, "response");
	*rlen = 0;
	if (*resp != NULL && !cJSON_IsNull(*resp) && !cJSON_IsString(*resp)) {
		(void)pb_strlcpy(why, "response: not a string",
		                 PB_HISTORY_WHY_MAX);
		return PB_ERR_INVAL;
	}
	if (cJSON_IsString(*resp))
		*rlen = strlen((*resp)->valuestring) + 1;
	return PB_OK;
}

enum pb_err
pb_history_decode_block(const char *json, size_t len,
                        const struct pb_history_spec *spec, size_t size,
                        size_t response_off, pb_history_fields_fn fields,
                        void **out, char *why)
{
	const cJSON *resp;
	struct pb_history_rec *base = NULL;
	const char *copy = NULL;
	size_t rlen;
	cJSON *o = NULL;
	enum pb_err rc;

	*out = NULL;
	rc = pb_history_parse(json, len, &o, why);
	if (rc == PB_OK)
		rc = response_of(o, &resp, &rlen, why);
	if (rc != PB_OK)
		goto out;
	base = calloc(1, size + rlen);
	if (base == NULL) {
		rc = PB_ERR_NOMEM;
		goto out;
	}
	base->spec = spec;
	if (rlen > 0) {
		memcpy((char *)base + size, resp->valuestring, rlen);
		copy = (const char *)base + size;
	}
	memcpy((char *)base + response_off, &copy, sizeof(copy));
	rc = fields(o, base, why);
	if (rc == PB_OK) {
		*out = base;
		base = NULL;
	}
out:
	pb_history_rec_free_block(base);
	cJSON_Delete(o);
	return rc;
}

void
pb_history_rec_free_block(struct pb_history_rec *base)
{
	if (base == NULL)
		return;
	free(base->mvno);
	/* base is the record's first member: the block's address */
	free(base);
}

/* The member name of o: NULL when absent (or null). */
static const cJSON *
member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNull(v) ? NULL : v;
}

static enum pb_err
bad(char *why, const char *name, const char *what)
{
	snprintf(why, PB_HISTORY_WHY_MAX, "%s: %s", name, what);
	return PB_ERR_INVAL;
}

enum pb_err
pb_history_get_strs(const cJSON *o, void *rec, const struct pb_history_str *f,
                    size_t n, char *why)
{
	enum pb_err rc = PB_OK;
	size_t i;

	for (i = 0; rc == PB_OK && i < n; i++)
		rc = pb_history_get_str(o, f[i].name, f[i].required,
		                        (char *)rec + f[i].off, f[i].cap, why);
	return rc;
}

enum pb_err
pb_history_line_ok(const char *line, char *why)
{
	if (strlen(line) == 11)
		return PB_OK;
	(void)pb_strlcpy(why, "line: not 11 digits", PB_HISTORY_WHY_MAX);
	return PB_ERR_INVAL;
}

enum pb_err
pb_history_get_str(const cJSON *o, const char *name, int required, char *out,
                   size_t cap, char *why)
{
	const cJSON *v = member(o, name);

	out[0] = '\0';
	if (v == NULL)
		return required ? bad(why, name, "missing") : PB_OK;
	if (!cJSON_IsString(v))
		return bad(why, name, "not a string");
	if (pb_strlcpy(out, v->valuestring, cap) != PB_OK) {
		out[0] = '\0';
		return bad(why, name, "too long");
	}
	if (required && out[0] == '\0')
		return bad(why, name, "empty");
	return PB_OK;
}

enum pb_err
pb_history_get_dup(const cJSON *o, const char *name, size_t max, char **out,
                   char *why)
{
	const cJSON *v = member(o, name);

	*out = NULL;
	if (v == NULL)
		return PB_OK;
	if (!cJSON_IsString(v))
		return bad(why, name, "not a string");
	if (strlen(v->valuestring) > max)
		return bad(why, name, "too long");
	*out = strdup(v->valuestring);
	return *out != NULL ? PB_OK : PB_ERR_NOMEM;
}

enum pb_err
pb_history_get_int(const cJSON *o, const char *name, long long *out, char *why)
{
	const cJSON *v = member(o, name);

	*out = 0;
	if (v == NULL)
		return PB_OK;
	if (!pb_json_get_int(o, name, out))
		return bad(why, name, "not an integer");
	return PB_OK;
}
