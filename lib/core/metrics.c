/* metrics.c - shared Prometheus counters (see metrics.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

#define MAGIC 0x70626d6574726963ULL /* "pbmetric" */
#define LAYOUT_VERSION 1

/* The statuses with their own series; anything else is "other". */
static const int statuses[] = {200, 201, 202, 204, 304, 400, 401,
                               403, 404, 405, 408, 409, 413, 415,
                               422, 429, 500, 502, 503, 504};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

/* Histogram bucket bounds, microseconds (1 ms .. 10 s). */
static const int64_t bounds_us[] = {1000,    2500,    5000,    10000,  25000,
                                    50000,   100000,  250000,  500000, 1000000,
                                    2500000, 5000000, 10000000};
#define NBUCKETS (sizeof(bounds_us) / sizeof(bounds_us[0]))
/* per cell: count, sum of microseconds, one counter per bucket */
#define CELL (2 + NBUCKETS)

static const char *const caches[] = {"months", "bill", "customer", "catalog"};
#define NCACHES (sizeof(caches) / sizeof(caches[0]))
static const char *const cache_results[] = {"hit",    "waited", "loaded",
                                            "bypass", "stale",  "error"};
#define NCRESULTS (sizeof(cache_results) / sizeof(cache_results[0]))

static const char *const login_results[] = {"SUCCESS", "FAILURE", "LOCKED",
                                            "RATE_LIMITED", "other"};
#define NLOGIN (sizeof(login_results) / sizeof(login_results[0]))

struct header {
	uint64_t magic;
	uint64_t version;
	uint64_t layout; /* hash of sizes and the route table */
	uint64_t nroutes;
};

/* The mapped file: header, then the counters (all uint64_t). */
struct counters {
	struct header h;
	uint64_t req[PB_METRICS_MAX_ROUTES + 1][NSTATUS][CELL];
	uint64_t cache[NCACHES][NCRESULTS];
	uint64_t kos[PB_METRICS_MAX_GROUPS][2]; /* failure, success */
	uint64_t login[NLOGIN];
	uint64_t login_locks;
};

static struct {
	struct counters *c;
	const char *service;
	const struct pb_route *routes;
	size_t nroutes;
	char allow[256];
	const char *const *groups;
	size_t ngroups;
	pb_metrics_extra_fn extra;
	void *extra_ud;
} m;

static void
add(uint64_t *p, uint64_t v)
{
	(void)__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* FNV-1a over the layout: another route table is another file. */
static uint64_t
layout_hash(const struct pb_route *routes, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	const char *s;
	size_t i, k;
	uint64_t sizes[3] = {NSTATUS, NBUCKETS, sizeof(struct counters)};

	for (k = 0; k < sizeof(sizes); k++) {
		h ^= ((const unsigned char *)sizes)[k];
		h *= 1099511628211ULL;
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < 2; k++)
			for (s = k ? routes[i].pattern : routes[i].method;
			     *s != '\0'; s++) {
				h ^= (unsigned char)*s;
				h *= 1099511628211ULL;
			}
	return h;
}

/* Under flock: a fresh zeroed file when the layout is not ours. */
static enum pb_err
prepare_file(int fd, uint64_t layout, size_t n)
{
	struct header h;
	struct stat st;
	ssize_t r;

	if (fstat(fd, &st) != 0)
		return PB_ERR_IO;
	memset(&h, 0, sizeof(h));
	if (st.st_size == (off_t)sizeof(struct counters)) {
		r = pread(fd, &h, sizeof(h), 0);
		if (r == (ssize_t)sizeof(h) && h.magic == MAGIC &&
		    h.version == LAYOUT_VERSION && h.layout == layout &&
		    h.nroutes == n)
			return PB_OK;
	}
	if (ftruncate(fd, 0) != 0 ||
	    ftruncate(fd, (off_t)sizeof(struct counters)) != 0)
		return PB_ERR_IO;
	h.magic = MAGIC;
	h.version = LAYOUT_VERSION;
	h.layout = layout;
	h.nroutes = n;
	r = pwrite(fd, &h, sizeof(h), 0);
	return r == (ssize_t)sizeof(h) ? PB_OK : PB_ERR_IO;
}

enum pb_err
pb_metrics_open(const char *path, const char *service,
                const struct pb_route *routes, size_t nroutes,
                const char *allow, char *err, size_t errlen)
{
	int fd = -1;
	void *p = MAP_FAILED;
	enum pb_err rc = PB_ERR_CONFIG;

	pb_metrics_close();
	if (nroutes > PB_METRICS_MAX_ROUTES) {
		snprintf(err, errlen, "metrics: more than %d routes",
		         PB_METRICS_MAX_ROUTES);
		goto out;
	}
	if (pb_strlcpy(m.allow, allow != NULL ? allow : "127.0.0.1,::1",
	               sizeof(m.allow)) != PB_OK) {
		snprintf(err, errlen, "metrics.allow is too long");
		goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0 ||
	    prepare_file(fd, layout_hash(routes, nroutes), nroutes) != PB_OK) {
		snprintf(err, errlen, "metrics.file %s: %m", path);
		goto out;
	}
	p = mmap(NULL, sizeof(struct counters), PROT_READ | PROT_WRITE,
	         MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "metrics.file %s: mmap: %m", path);
		goto out;
	}
	m.c = p;
	m.service = service;
	m.routes = routes;
	m.nroutes = nroutes;
	rc = PB_OK;
out:
	if (fd >= 0) {
		/* explicitly: the mapping keeps the open file (and so a flock
		 * on it) alive after close */
		(void)flock(fd, LOCK_UN);
		close(fd);
	}
	return rc;
}

void
pb_metrics_close(void)
{
	if (m.c != NULL)
		(void)munmap(m.c, sizeof(struct counters));
	memset(&m, 0, sizeof(m));
}

int64_t
pb_metrics_now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t
status_index(int status)
{
	size_t i;

	for (i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void
pb_metrics_request(const struct pb_route *route, const char *method, int status,
                   int64_t elapsed_us)
{
	size_t r = PB_METRICS_MAX_ROUTES, b;
	uint64_t *cell;

	(void)method;
	if (m.c == NULL)
		return;
	if (route != NULL && route >= m.routes && route < m.routes + m.nroutes)
		r = (size_t)(route - m.routes);
	if (elapsed_us < 0)
		elapsed_us = 0;
	cell = m.c->req[r][status_index(status)];
	add(&cell[0], 1);
	add(&cell[1], (uint64_t)elapsed_us);
	/* cumulative at render time: only the first bucket that fits here */
	for (b = 0; b < NBUCKETS && elapsed_us > bounds_us[b]; b++)
		;
	if (b < NBUCKETS)
		add(&cell[2 + b], 1);
}

void
pb_metrics_cache(const char *cache, int source)
{
	size_t i, res;

	if (m.c == NULL || cache == NULL)
		return;
	/* source: enum pb_cache_source's numbers, in cache_results' order
	   (lib/backoffice/cache.c asserts it), or anything else for an
	   error */
	res = source >= 0 && source < (int)NCRESULTS - 1 ? (size_t)source
	                                                 : NCRESULTS - 1;
	for (i = 0; i < NCACHES; i++)
		if (strcmp(caches[i], cache) == 0)
			add(&m.c->cache[i][res], 1);
}

void
pb_metrics_kos(int group, int ok)
{
	if (m.c == NULL || group < 0 || group >= PB_METRICS_MAX_GROUPS)
		return;
	add(&m.c->kos[group][ok ? 1 : 0], 1);
}

void
pb_metrics_login(const char *result, const char *reason)
{
	size_t i;

	if (m.c == NULL || result == NULL)
		return;
	for (i = 0; i < NLOGIN - 1; i++)
		if (strcmp(login_results[i], result) == 0)
			break;
	add(&m.c->login[i], 1);
	if (reason != NULL && strcmp(reason, "LOCKED_NOW") == 0)
		add(&m.c->login_locks, 1);
}

void
pb_metrics_set_groups(const char *const *names, size_t n)
{
	m.groups = names;
	m.ngroups = n < PB_METRICS_MAX_GROUPS ? n : PB_METRICS_MAX_GROUPS;
}

void
pb_metrics_set_extra(pb_metrics_extra_fn fn, void *ud)
{
	m.extra = fn;
	m.extra_ud = ud;
}

/* The latency histogram and count of one (route, status) cell. */
static void
render_cell(struct pb_buf *o, const char *method, const char *route,
            const char *status, const uint64_t *cell)
{
	uint64_t cum = 0, n = get(&cell[0]);
	size_t b;

	(void)pb_buf_printf(o,
	                    "phonebill_http_requests_total{service=\"%s\","
	                    "method=\"%s\",route=\"%s\",status=\"%s\"} %" PRIu64
	                    "\n",
	                    m.service, method, route, status, n);
	for (b = 0; b < NBUCKETS; b++) {
		cum += get(&cell[2 + b]);
		(void)pb_buf_printf(
		    o,
		    "phonebill_http_request_duration_seconds_"
		    "bucket{service=\"%s\",method=\"%s\",route=\"%s\","
		    "status=\"%s\",le=\"%g\"} %" PRIu64 "\n",
		    m.service, method, route, status,
		    (double)bounds_us[b] / 1e6, cum);
	}
	(void)pb_buf_printf(
	    o,
	    "phonebill_http_request_duration_seconds_bucket{"
	    "service=\"%s\",method=\"%s\",route=\"%s\",status=\"%s\","
	    "le=\"+Inf\"} %" PRIu64 "\n"
	    "phonebill_http_request_duration_seconds_sum{service=\"%s\","
	    "method=\"%s\",route=\"%s\",status=\"%s\"} %.6f\n"
	    "phonebill_http_request_duration_seconds_count{service=\"%s\","
	    "method=\"%s\",route=\"%s\",status=\"%s\"} %" PRIu64 "\n",
	    m.service, method, route, status, n, m.service, method, route,
	    status, (double)get(&cell[1]) / 1e6, m.service, method, route,
	    status, n);
}

static void
render_requests(struct pb_buf *o)
{
	size_t r, s;
	char st[8];
	const char *method, *route;

	(void)pb_buf_append_str(
	    o, "# HELP phonebill_http_requests_total Requests answered by the "
	       "program, by route and status.\n"
	       "# TYPE phonebill_http_requests_total counter\n"
	       "# HELP phonebill_http_request_duration_seconds Time from the "
	       "request's arrival to its answer, by route and status.\n"
	       "# TYPE phonebill_http_request_duration_seconds histogram\n");
	for (r = 0; r <= m.nroutes; r++) {
		size_t idx = r < m.nroutes ? r : PB_METRICS_MAX_ROUTES;
		method = r < m.nroutes ? m.routes[r].method : "any";
		route = r < m.nroutes ? m.routes[r].pattern : "unmatched";
		for (s = 0; s < NSTATUS; s++) {
			if (get(&m.c->req[idx][s][0]) == 0)
				continue;
			if (s < NSTATUS - 1)
				snprintf(st, sizeof(st), "%d", statuses[s]);
			else
				snprintf(st, sizeof(st), "other");
			render_cell(o, method, route, st, m.c->req[idx][s]);
		}
	}
}

static void
render_events(struct pb_buf *o)
{
	size_t i, k;

	(void)pb_buf_append_str(
	    o,
	    "# HELP phonebill_cache_lookups_total "
	    "Cache look-ups by cache and result (hit, waited, loaded, bypass, "
	    "stale, error).\n# TYPE phonebill_cache_lookups_total counter\n");
	for (i = 0; i < NCACHES; i++)
		for (k = 0; k < NCRESULTS; k++)
			if (get(&m.c->cache[i][k]) > 0)
				(void)pb_buf_printf(
				    o,
				    "phonebill_cache_lookups_total"
				    "{service=\"%s\",cache=\"%s\",result=\"%"
				    "s\"} %" PRIu64 "\n",
				    m.service, caches[i], cache_results[k],
				    get(&m.c->cache[i][k]));
	(void)pb_buf_append_str(o,
	                        "# HELP phonebill_kos_calls_total KOS "
	                        "call attempts by breaker group and outcome.\n"
	                        "# TYPE phonebill_kos_calls_total counter\n");
	for (i = 0; i < m.ngroups; i++)
		for (k = 0; k < 2; k++)
			(void)pb_buf_printf(
			    o,
			    "phonebill_kos_calls_total{service="
			    "\"%s\",group=\"%s\",outcome=\"%s\"} %" PRIu64 "\n",
			    m.service, m.groups[i], k ? "success" : "failure",
			    get(&m.c->kos[i][k]));
	if (strcmp(m.service, "auth") != 0)
		return;
	(void)pb_buf_append_str(
	    o, "# HELP phonebill_login_attempts_total "
	       "Login attempts by result.\n"
	       "# TYPE phonebill_login_attempts_total counter\n");
	for (i = 0; i < NLOGIN; i++)
		(void)pb_buf_printf(o,
		                    "phonebill_login_attempts_total{service="
		                    "\"auth\",result=\"%s\"} %" PRIu64 "\n",
		                    login_results[i], get(&m.c->login[i]));
	(void)pb_buf_printf(
	    o,
	    "# HELP phonebill_login_locks_total Accounts "
	    "locked by consecutive failures.\n"
	    "# TYPE phonebill_login_locks_total counter\n"
	    "phonebill_login_locks_total{service=\"auth\"} %" PRIu64 "\n",
	    get(&m.c->login_locks));
}

enum pb_err
pb_metrics_render(struct pb_buf *out)
{
	if (m.c == NULL)
		return PB_ERR_STATE;
	render_requests(out);
	render_events(out);
	if (m.extra != NULL)
		m.extra(m.extra_ud, out, m.service);
	/*
	 * History backlog and delivery lag (phonebill-worker, issue 12): the
	 * lead adds them here or through pb_metrics_set_extra.
	 */
	return out->len > 0 ? PB_OK : PB_ERR_NOMEM;
}

const char *
pb_metrics_allow(void)
{
	return m.c != NULL ? m.allow : NULL;
}
