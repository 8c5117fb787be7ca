/*
 * mvno_multi.c - several MVNO deliveries in flight at once (mvno.h).
 *
 * One CURLM with a fixed pool of easy handles: libcurl keeps the
 * connections of a multi handle in one cache, so consecutive deliveries
 * to the MVNO AP reuse them (no TCP or TLS set-up per delivery).  Jobs of
 * one group (a customer's line) are sent one at a time in array order; a
 * job whose group has an unacknowledged earlier job is not sent at all
 * (PB_ERR_SKIPPED), so the receiver never sees a line's results out of
 * order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "mvno.h"

struct slot {
	CURL *easy;
	struct curl_slist *hdrs;
	struct pb_buf resp;
	size_t job; /* index of the job it carries */
	int busy;
	int64_t start_ms;
	char errbuf[CURL_ERROR_SIZE];
};

struct pb_mvno_multi {
	CURLM *multi;
	unsigned nslots;
	struct slot slots[PB_MVNO_MULTI_MAX];
};

/* job states while delivering */
enum { J_WAIT, J_RUN, J_DONE };

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb;

	return pb_buf_append(&s->resp, p, n) == PB_OK ? n : 0;
}

enum pb_err
pb_mvno_multi_new(unsigned inflight, struct pb_mvno_multi **out)
{
	struct pb_mvno_multi *m;
	unsigned i;

	*out = NULL;
	if (inflight < 1 || inflight > PB_MVNO_MULTI_MAX)
		return PB_ERR_INVAL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return PB_ERR_NOMEM;
	m->multi = curl_multi_init();
	m->nslots = inflight;
	for (i = 0; m->multi != NULL && i < inflight; i++) {
		m->slots[i].easy = curl_easy_init();
		if (m->slots[i].easy == NULL)
			break;
		pb_buf_init(&m->slots[i].resp, PB_MVNO_MAX_RESPONSE);
	}
	if (m->multi == NULL || i < inflight) {
		pb_mvno_multi_free(m);
		return PB_ERR_NOMEM;
	}
	(void)curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	                        (long)inflight);
	*out = m;
	return PB_OK;
}

void
pb_mvno_multi_free(struct pb_mvno_multi *m)
{
	unsigned i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nslots; i++) {
		if (m->slots[i].busy)
			(void)curl_multi_remove_handle(m->multi,
			                               m->slots[i].easy);
		if (m->slots[i].easy != NULL)
			curl_easy_cleanup(m->slots[i].easy);
		curl_slist_free_all(m->slots[i].hdrs);
		pb_buf_free(&m->slots[i].resp);
	}
	if (m->multi != NULL)
		(void)curl_multi_cleanup(m->multi);
	free(m);
}

static int
job_ok(const struct pb_mvno_opts *o, const struct pb_mvno_job *j)
{
	return o != NULL && pb_mvno_url_ok(o->url) && o->secret != NULL &&
	       o->secret_len >= PB_MVNO_SECRET_MIN && j->body != NULL &&
	       j->len > 0 && j->len <= PB_MVNO_MAX_BODY &&
	       pb_mvno_looks_like_object(j->body, j->len) &&
	       pb_mvno_header_ok(j->idem_key, PB_MVNO_IDEM_MAX, 0x21) &&
	       (j->request_id == NULL ||
	        pb_mvno_header_ok(j->request_id, 128, 0x20));
}

/* Headers of one delivery into s->hdrs; PB_OK or PB_ERR_NOMEM. */
static enum pb_err
build_headers(struct slot *s, const struct pb_mvno_opts *o,
              const struct pb_mvno_job *j)
{
	char ts[24], sig[PB_MVNO_SIG_LEN], line[PB_MVNO_IDEM_MAX + 48];
	struct curl_slist *h = NULL, *t;
	enum pb_err rc;

	snprintf(ts, sizeof(ts), "%" PRId64, pb_clock_now_ms() / 1000);
	rc = pb_mvno_sign(o->secret, o->secret_len, ts, j->body, j->len, sig,
	                  sizeof(sig));
	if (rc != PB_OK)
		return rc;
#define ADD(fmt, v)                                                            \
	do {                                                                   \
		snprintf(line, sizeof(line), fmt, v);                          \
		t = curl_slist_append(h, line);                                \
		if (t == NULL)                                                 \
			goto nomem;                                            \
		h = t;                                                         \
	} while (0)
	ADD("%s", "Content-Type: application/json");
	ADD("X-Timestamp: %s", ts);
	ADD("X-Signature: %s", sig);
	ADD("Idempotency-Key: %s", j->idem_key);
	if (j->request_id != NULL)
		ADD("X-Request-ID: %s", j->request_id);
	ADD("%s", "Expect:");
#undef ADD
	sodium_memzero(sig, sizeof(sig));
	s->hdrs = h;
	return PB_OK;
nomem:
	sodium_memzero(sig, sizeof(sig));
	curl_slist_free_all(h);
	return PB_ERR_NOMEM;
}

static enum pb_err
start(struct pb_mvno_multi *m, struct slot *s, const struct pb_mvno_opts *o,
      struct pb_mvno_job *j, size_t idx)
{
	long timeout =
	    o->timeout_ms > 0 ? o->timeout_ms : PB_MVNO_DEFAULT_TIMEOUT;
	CURL *e = s->easy;
	enum pb_err rc;

	curl_easy_reset(e);
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	pb_buf_reset(&s->resp);
	rc = build_headers(s, o, j);
	if (rc != PB_OK)
		return rc;
	s->errbuf[0] = '\0';
	(void)curl_easy_setopt(e, CURLOPT_URL, o->url);
	(void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(e, CURLOPT_PROXY, "");
	(void)curl_easy_setopt(
	    e, CURLOPT_CONNECTTIMEOUT_MS,
	    timeout < PB_MVNO_CONNECT_MS ? timeout : (long)PB_MVNO_CONNECT_MS);
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	(void)curl_easy_setopt(e, CURLOPT_POST, 1L);
	(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
	(void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	                       (curl_off_t)j->len);
	(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	(void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	(void)curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (curl_multi_add_handle(m->multi, e) != CURLM_OK)
		return PB_ERR_INTERNAL;
	s->busy = 1;
	s->job = idx;
	s->start_ms = pb_clock_mono_ms();
	return PB_OK;
}

/* A transfer ended: judge it like pb_mvno_deliver does. */
static void
finish(struct pb_mvno_multi *m, struct slot *s, CURLcode cc,
       struct pb_mvno_job *j)
{
	long status = 0;

	(void)curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	(void)curl_multi_remove_handle(m->multi, s->easy);
	s->busy = 0;
	j->att.http_status = status;
	j->att.elapsed_ms = pb_clock_mono_ms() - s->start_ms;
	j->rc = PB_ERR_UNAVAILABLE;
	if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(j->att.error, sizeof(j->att.error), "timeout");
	else if (cc == CURLE_WRITE_ERROR)
		snprintf(j->att.error, sizeof(j->att.error),
		         "response_too_big");
	else if (cc != CURLE_OK)
		snprintf(j->att.error, sizeof(j->att.error), "transport");
	else if (status < 200 || status > 299)
		snprintf(j->att.error, sizeof(j->att.error), "http_%ld",
		         status);
	else if (pb_mvno_refused_in_body(&s->resp, &j->att.duplicate))
		snprintf(j->att.error, sizeof(j->att.error),
		         "not_acknowledged");
	else {
		j->att.error[0] = '\0';
		j->rc = PB_OK;
	}
	pb_mvno_log_attempt(j->rc, &j->att, j->idem_key, j->request_id);
}

static int
same_group(const struct pb_mvno_job *a, const struct pb_mvno_job *b)
{
	return a->group != NULL && b->group != NULL &&
	       strcmp(a->group, b->group) == 0;
}

/*
 * prev[i]: the nearest earlier job of job i's group, or n when none.  The
 * search runs backwards and stops at the first match, so one line's chunk
 * costs one comparison per job and many lines a few each; it is done once
 * per call, not at every start (which made a chunk of one line quadratic
 * in its length: milliseconds per delivery).
 */
static void
link_groups(const struct pb_mvno_job *jobs, size_t n, size_t *prev)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		prev[i] = n;
		for (k = i; jobs[i].group != NULL && k-- > 0;) {
			if (same_group(&jobs[k], &jobs[i])) {
				prev[i] = k;
				break;
			}
		}
	}
}

/* The state of job i given the earlier job of its group: 1 may start,
 * 0 must wait, -1 never (an earlier one failed; a job skipped after a
 * failure fails in turn, so the refusal runs down the group). */
static int
may_start(const struct pb_mvno_job *jobs, const unsigned char *st,
          const size_t *prev, size_t n, size_t i)
{
	size_t k = prev[i];

	if (k == n)
		return 1;
	if (st[k] != J_DONE)
		return 0;
	return jobs[k].rc == PB_OK ? 1 : -1;
}

/* Start what may start in free slots; returns how many run.  *first is
 * the first job not yet started (the scan starts there). */
static unsigned
fill(struct pb_mvno_multi *m, const struct pb_mvno_opts *o,
     struct pb_mvno_job *jobs, size_t n, unsigned char *st, const size_t *prev,
     size_t *first)
{
	unsigned running = 0, si;
	size_t i;
	int ok;

	for (si = 0; si < m->nslots; si++)
		running += m->slots[si].busy;
	while (*first < n && st[*first] != J_WAIT)
		(*first)++;
	for (i = *first; i < n && running < m->nslots; i++) {
		if (st[i] != J_WAIT)
			continue;
		ok = may_start(jobs, st, prev, n, i);
		if (ok == 0)
			continue;
		if (ok < 0) {
			jobs[i].rc = PB_ERR_SKIPPED;
			snprintf(jobs[i].att.error, sizeof(jobs[i].att.error),
			         "after_failure");
			st[i] = J_DONE;
			continue;
		}
		for (si = 0; m->slots[si].busy; si++)
			;
		if (start(m, &m->slots[si], o, &jobs[i], i) != PB_OK) {
			jobs[i].rc = PB_ERR_UNAVAILABLE;
			snprintf(jobs[i].att.error, sizeof(jobs[i].att.error),
			         "nomem");
			st[i] = J_DONE;
			continue;
		}
		st[i] = J_RUN;
		running++;
	}
	return running;
}

size_t
pb_mvno_deliver_many(struct pb_mvno_multi *m, const struct pb_mvno_opts *o,
                     struct pb_mvno_job *jobs, size_t n)
{
	unsigned char *st = calloc(n > 0 ? n : 1, 1);
	size_t *prev = calloc(n > 0 ? n : 1, sizeof(*prev));
	size_t i, acked = 0, first = 0;
	int still, q, nomem = st == NULL || prev == NULL;
	CURLMsg *msg;
	unsigned si;

	for (i = 0; i < n; i++) {
		memset(&jobs[i].att, 0, sizeof(jobs[i].att));
		jobs[i].rc = PB_ERR_INVAL;
		if (nomem || !job_ok(o, &jobs[i])) {
			snprintf(jobs[i].att.error, sizeof(jobs[i].att.error),
			         nomem ? "nomem" : "invalid");
			if (!nomem)
				st[i] = J_DONE;
		}
	}
	if (nomem)
		goto out;
	link_groups(jobs, n, prev);
	while (fill(m, o, jobs, n, st, prev, &first) > 0) {
		(void)curl_multi_perform(m->multi, &still);
		for (msg = curl_multi_info_read(m->multi, &q); msg != NULL;
		     msg = curl_multi_info_read(m->multi, &q)) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (si = 0; si < m->nslots; si++)
				if (m->slots[si].busy &&
				    m->slots[si].easy == msg->easy_handle)
					break;
			if (si == m->nslots)
				continue;
			i = m->slots[si].job;
			finish(m, &m->slots[si], msg->data.result, &jobs[i]);
			st[i] = J_DONE;
		}
		if (still > 0)
			(void)curl_multi_poll(m->multi, NULL, 0, 100, NULL);
	}
	for (i = 0; i < n; i++)
		acked += jobs[i].rc == PB_OK;
out:
	free(prev);
	free(st);
	return acked;
}
