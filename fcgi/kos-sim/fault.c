/*
 * fault.c - fault switches and per-operation counters.
 *
 * Both live in MariaDB (sim_faults, sim_stats) so that every simulator
 * process -- the web server runs several -- sees the same switches and adds
 * to the same counters.  One row is read per call; that is cheap enough for
 * a simulator and keeps the processes stateless.
 *
 * Modes answered before the handler runs (no side effect): http500,
 * http503, hang, garbage, redirect, error9999.  Modes applied to the real
 * answer after the handler ran (a product change is then really made):
 * truncated, oversized.
 */
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "sim.h"

#define LATENCY_MAX_MS 60000  /* ms, each of fixed and random */
#define HANG_MAX_MS 120000    /* ms */
#define HANG_DEFAULT_MS 30000 /* ms: past any sane client timeout */
#define OVERSIZE_DEFAULT (5L * 1024 * 1024) /* bytes */
#define OVERSIZE_MAX (16L * 1024 * 1024)    /* bytes */
#define RATE_ONE 1000000L                   /* ppm */
#define DEFAULT_LOCATION "http://127.0.0.1:9/kos-moved"

enum fmode {
	M_NONE = 0,
	M_500,
	M_503,
	M_HANG,
	M_GARBAGE,
	M_TRUNC,
	M_OVERSIZE,
	M_REDIRECT,
	M_9999,
	M_COUNT
};

static const char *const mode_names[M_COUNT] = {
    "none",      "http500",   "http503",  "hang",     "garbage",
    "truncated", "oversized", "redirect", "error9999"};

struct fault {
	int present;
	char operation[KS_CODE_MAX];
	char mode[16];
	long rate_ppm;
	long latency_ms, lat_min, lat_max, hang_ms;
	long long remaining; /* -1: no limit */
	char location[513];
	long oversized; /* bytes */
	char updated_at[32];
};

struct fault_pair {
	struct fault specific, any;
};

/* The response fault waiting for the handler's answer (one per process:
 * a FastCGI process serves one request at a time). */
static struct {
	const struct pb_req *req;
	int64_t start_ms;
	enum fmode mode;
	long oversized;
} pending;

#define FAULT_COLS                                                             \
	"operation, mode, error_rate_ppm, latency_ms, "                        \
	"latency_min_ms, latency_max_ms, hang_ms, remaining, location, "       \
	"oversized_bytes, updated_at"

static enum fmode
mode_parse(const char *s)
{
	unsigned i;

	for (i = 0; i < M_COUNT; i++)
		if (strcmp(s, mode_names[i]) == 0)
			return (enum fmode)i;
	return M_COUNT;
}

static void
fault_from_row(const struct pb_db_row *r, struct fault *f)
{
	memset(f, 0, sizeof(*f));
	f->present = 1;
	(void)pb_strlcpy(f->operation, r->vals[0] ? r->vals[0] : "",
	                 sizeof(f->operation));
	(void)pb_strlcpy(f->mode, r->vals[1] ? r->vals[1] : "none",
	                 sizeof(f->mode));
	f->rate_ppm = (long)ks_col_ll(r->vals[2], RATE_ONE);
	f->latency_ms = (long)ks_col_ll(r->vals[3], 0);
	f->lat_min = (long)ks_col_ll(r->vals[4], 0);
	f->lat_max = (long)ks_col_ll(r->vals[5], 0);
	f->hang_ms = (long)ks_col_ll(r->vals[6], HANG_DEFAULT_MS);
	f->remaining = ks_col_ll(r->vals[7], -1);
	(void)pb_strlcpy(f->location, r->vals[8] ? r->vals[8] : "",
	                 sizeof(f->location));
	f->oversized = (long)ks_col_ll(r->vals[9], OVERSIZE_DEFAULT);
	(void)pb_strlcpy(f->updated_at, r->vals[10] ? r->vals[10] : "",
	                 sizeof(f->updated_at));
	/* clamp what another writer might have put in the table */
	if (f->latency_ms > LATENCY_MAX_MS)
		f->latency_ms = LATENCY_MAX_MS;
	if (f->lat_max > LATENCY_MAX_MS)
		f->lat_max = LATENCY_MAX_MS;
	if (f->lat_min > f->lat_max)
		f->lat_min = f->lat_max;
	if (f->hang_ms > HANG_MAX_MS || f->hang_ms < 0)
		f->hang_ms = HANG_MAX_MS;
	if (f->oversized > OVERSIZE_MAX || f->oversized < 0)
		f->oversized = OVERSIZE_MAX;
}

static enum pb_err
pair_row(void *ud, const struct pb_db_row *r)
{
	struct fault_pair *fp = ud;

	if (r->ncols != 11)
		return PB_ERR_INTERNAL;
	if (r->vals[0] != NULL && strcmp(r->vals[0], "*") == 0)
		fault_from_row(r, &fp->any);
	else
		fault_from_row(r, &fp->specific);
	return PB_OK;
}

static void
stat_bump(struct pb_db *db, enum ks_op op, const char *sql)
{
	struct pb_db_param p[1];

	p[0] = PB_DB_P_STR(ks_op_name(op));
	if (pb_db_exec(db, sql, p, 1, NULL, NULL) != PB_OK)
		pb_log_msg(PB_LOG_WARN, "sim_stats_failed",
		           pb_db_last_error(db));
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	/* a signal (SIGTERM from the web server) cuts the sleep short */
	(void)nanosleep(&ts, NULL);
}

static void
log_fault(enum ks_op op, const char *what, long ms)
{
	struct pb_logline l;

	pb_log_begin(&l, PB_LOG_INFO, "sim_fault_injected");
	pb_log_str(&l, "op", ks_op_name(op));
	pb_log_str(&l, "fault", what);
	if (ms > 0)
		pb_log_int(&l, "ms", ms);
	pb_log_end(&l);
}

/* One more call of op in sim_stats (a failure is logged, not answered). */
static void
count_call(struct pb_db *db, enum ks_op op)
{
	struct pb_db_param cp[2];
	char now[32];

	ks_utc_datetime(pb_clock_now_ms(), now, sizeof(now));
	cp[0] = PB_DB_P_STR(now);
	cp[1] = PB_DB_P_STR(ks_op_name(op));
	if (pb_db_exec(db,
	               "UPDATE sim_stats SET calls = calls + 1, "
	               "last_call_at = ? WHERE operation = ?",
	               cp, 2, NULL, NULL) != PB_OK)
		pb_log_msg(PB_LOG_WARN, "sim_stats_failed",
		           pb_db_last_error(db));
}

/*
 * The fault set for op (before one for every operation '*'), read into
 * *fp, with one of its remaining uses taken; NULL when none applies.
 */
static const struct fault *
fault_pick(struct pb_db *db, enum ks_op op, struct fault_pair *fp)
{
	struct pb_db_param p[1];
	const struct fault *f;
	uint64_t affected = 0;

	memset(fp, 0, sizeof(*fp));
	p[0] = PB_DB_P_STR(ks_op_name(op));
	if (pb_db_query(db,
	                "SELECT " FAULT_COLS " FROM sim_faults "
	                "WHERE operation IN (?, '*')",
	                p, 1, pair_row, fp) != PB_OK) {
		/* the handler will meet the same database and answer 9999 */
		pb_log_msg(PB_LOG_WARN, "sim_faults_unreadable",
		           pb_db_last_error(db));
		return NULL;
	}
	f = fp->specific.present ? &fp->specific
	    : fp->any.present    ? &fp->any
	                         : NULL;
	if (f == NULL || f->remaining < 0)
		return f;
	p[0] = PB_DB_P_STR(f->operation);
	if (pb_db_exec(db,
	               "UPDATE sim_faults SET remaining = "
	               "remaining - 1 WHERE operation = ? AND remaining > 0",
	               p, 1, &affected, NULL) != PB_OK ||
	    affected == 0)
		return NULL;
	return f;
}

/* The fault's latency (fixed plus random), slept and counted. */
static void
fault_delay(struct pb_db *db, enum ks_op op, const struct fault *f)
{
	long delay = f->latency_ms;

	if (f->lat_max > 0)
		delay +=
		    f->lat_min + (long)randombytes_uniform(
		                     (uint32_t)(f->lat_max - f->lat_min + 1));
	if (delay > 0) {
		stat_bump(db, op,
		          "UPDATE sim_stats SET delayed_calls = "
		          "delayed_calls + 1 WHERE operation = ?");
		log_fault(op, "latency", delay);
		sleep_ms(delay);
	}
}

/*
 * The fault of mode that fires: answered here (0), or for the truncated
 * and oversized answers left pending for ks_reply (1).
 */
static int
fault_answer(struct pb_req *req, const struct fault *f, enum fmode mode)
{
	static const char garbage[] =
	    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title>"
	    "</head><body><h1>KOS-Order 게이트웨이 오류</h1></body></html>\n"
	    "\x01\x02\xfe\xff{\"success\":tru";

	switch (mode) {
	case M_500:
		ks_admin_reply(req, 500, KS_RC_SYSTEM,
		               "KOS 시스템 내부 오류입니다. (장애 주입)", NULL);
		return 0;
	case M_503:
		(void)pb_req_add_header(req, "Retry-After", "1");
		ks_admin_reply(
		    req, 503, KS_RC_SYSTEM,
		    "KOS 시스템을 일시적으로 사용할 수 없습니다. (장애 주입)",
		    NULL);
		return 0;
	case M_9999:
		ks_admin_reply(req, 200, KS_RC_SYSTEM,
		               "시스템 오류가 발생했습니다. (장애 주입)", NULL);
		return 0;
	case M_HANG:
		sleep_ms(f->hang_ms);
		(void)pb_req_add_header(req, "Retry-After", "1");
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "KOS 시스템 응답 지연 (장애 주입)", NULL);
		return 0;
	case M_GARBAGE:
		pb_req_send(req, 200, garbage, sizeof(garbage) - 1);
		return 0;
	case M_REDIRECT:
		if (pb_req_add_header(req, "Location",
		                      f->location[0] != '\0'
		                          ? f->location
		                          : DEFAULT_LOCATION) != PB_OK)
			(void)pb_req_add_header(req, "Location",
			                        DEFAULT_LOCATION);
		ks_admin_reply(req, 302, KS_RC_SYSTEM,
		               "KOS 시스템이 이동되었습니다. (장애 주입)",
		               NULL);
		return 0;
	case M_TRUNC:
	case M_OVERSIZE:
		pending.req = req;
		pending.start_ms = req->start_ms;
		pending.mode = mode;
		pending.oversized = f->oversized;
		return 1;
	default:
		return 1;
	}
}

int
ks_fault_begin(struct pb_req *req, enum ks_op op)
{
	struct pb_db *db = req->app->db;
	struct fault_pair fp;
	const struct fault *f;
	enum fmode mode;

	memset(&pending, 0, sizeof(pending));
	count_call(db, op);
	f = fault_pick(db, op, &fp);
	if (f == NULL)
		return 1;
	fault_delay(db, op, f);
	mode = mode_parse(f->mode);
	if (mode == M_NONE || mode == M_COUNT)
		return 1;
	if (f->rate_ppm < RATE_ONE &&
	    (long)randombytes_uniform((uint32_t)RATE_ONE) >= f->rate_ppm)
		return 1;
	stat_bump(db, op,
	          "UPDATE sim_stats SET faults = faults + 1 "
	          "WHERE operation = ?");
	log_fault(op, mode_names[mode], mode == M_HANG ? f->hang_ms : 0);
	return fault_answer(req, f, mode);
}

/* body without its closing '}' + ,"padding":"xxx..."} to about size bytes. */
static void
send_oversized(struct pb_req *req, int status, const char *body, size_t len,
               long size)
{
	static const char pad_key[] = ",\"padding\":\"";
	char chunk[4096];
	struct pb_buf b;
	size_t want, n;

	want = (size_t)size > len + 32 ? (size_t)size - len - 32 : 0;
	pb_buf_init(&b, len + want + 64);
	memset(chunk, 'x', sizeof(chunk));
	if (pb_buf_append(&b, body, len - 1) != PB_OK ||
	    pb_buf_append(&b, pad_key, sizeof(pad_key) - 1) != PB_OK)
		goto fallback;
	while (want > 0) {
		n = want < sizeof(chunk) ? want : sizeof(chunk);
		if (pb_buf_append(&b, chunk, n) != PB_OK)
			goto fallback;
		want -= n;
	}
	if (pb_buf_append(&b, "\"}", 2) != PB_OK)
		goto fallback;
	pb_req_send(req, status, b.data, b.len);
	pb_buf_free(&b);
	return;
fallback:
	pb_buf_free(&b);
	pb_req_send(req, status, body, len);
}

void
ks_fault_clear(void)
{
	memset(&pending, 0, sizeof(pending));
}

void
ks_fault_emit(struct pb_req *req, int status, const char *body, size_t len)
{
	enum fmode mode = M_NONE;
	long size = 0;

	if (pending.req == req && pending.start_ms == req->start_ms) {
		mode = pending.mode;
		size = pending.oversized;
	}
	memset(&pending, 0, sizeof(pending));
	if (mode == M_TRUNC && len > 1) {
		/* a JSON text cut in half: Content-Length matches what is sent,
		 * FastCGI cannot promise more than it delivers */
		pb_req_send(req, status, body, len / 2);
		return;
	}
	if (mode == M_OVERSIZE && len >= 2 && body[len - 1] == '}') {
		send_oversized(req, status, body, len, size);
		return;
	}
	pb_req_send(req, status, body, len);
}

/* --- admin: /_sim/faults ------------------------------------------------ */
static cJSON *
fault_json(const struct fault *f, int *fail)
{
	cJSON *o = cJSON_CreateObject();
	char ts[40];

	if (o == NULL) {
		*fail = 1;
		return NULL;
	}
	ks_add_str(o, "operation", f->operation, fail);
	ks_add_str(o, "mode", f->mode, fail);
	ks_add_num(o, "errorRate", (double)f->rate_ppm / (double)RATE_ONE,
	           fail);
	ks_add_int(o, "latencyMs", f->latency_ms, fail);
	ks_add_int(o, "latencyRandomMinMs", f->lat_min, fail);
	ks_add_int(o, "latencyRandomMaxMs", f->lat_max, fail);
	ks_add_int(o, "hangMs", f->hang_ms, fail);
	if (f->remaining >= 0)
		ks_add_int(o, "times", f->remaining, fail);
	else
		ks_add_null(o, "times", fail);
	ks_add_str(o, "location",
	           f->location[0] != '\0' ? f->location : DEFAULT_LOCATION,
	           fail);
	ks_add_int(o, "oversizedBytes", f->oversized, fail);
	ks_datetime_rfc3339(f->updated_at, ts, sizeof(ts));
	ks_add_str(o, "updatedAt", ts, fail);
	return o;
}

struct list_ctx {
	cJSON *arr;
	int fail;
};

static enum pb_err
list_row(void *ud, const struct pb_db_row *r)
{
	struct list_ctx *c = ud;
	struct fault f;
	cJSON *o;

	if (r->ncols != 11)
		return PB_ERR_INTERNAL;
	fault_from_row(r, &f);
	o = fault_json(&f, &c->fail);
	if (o == NULL || !cJSON_AddItemToArray(c->arr, o)) {
		cJSON_Delete(o);
		c->fail = 1;
		return PB_ERR_NOMEM;
	}
	return PB_OK;
}

static void
reply_faults(struct pb_req *req, const char *message)
{
	struct list_ctx c;
	cJSON *data = cJSON_CreateObject(), *names;
	unsigned i;
	int fail = 0;

	memset(&c, 0, sizeof(c));
	c.arr = ks_add_arr(data, "faults", &fail);
	if (data == NULL || fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 500, KS_RC_SYSTEM, "메모리가 부족합니다.",
		               NULL);
		return;
	}
	if (pb_db_query(req->app->db,
	                "SELECT " FAULT_COLS " FROM sim_faults "
	                "ORDER BY operation",
	                NULL, 0, list_row, &c) != PB_OK) {
		cJSON_Delete(data);
		pb_log_msg(PB_LOG_ERROR, "sim_faults_failed",
		           pb_db_last_error(req->app->db));
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	names = ks_add_arr(data, "operations", &fail);
	for (i = 0; names != NULL && i < KS_OP_COUNT; i++)
		if (!cJSON_AddItemToArray(
		        names, cJSON_CreateString(ks_op_name((enum ks_op)i))))
			fail = 1;
	if (names != NULL &&
	    !cJSON_AddItemToArray(names, cJSON_CreateString("*")))
		fail = 1;
	names = ks_add_arr(data, "modes", &fail);
	for (i = 0; names != NULL && i < M_COUNT; i++)
		if (!cJSON_AddItemToArray(names,
		                          cJSON_CreateString(mode_names[i])))
			fail = 1;
	if (fail || c.fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 500, KS_RC_SYSTEM, "메모리가 부족합니다.",
		               NULL);
		return;
	}
	ks_admin_reply(req, 200, KS_RC_OK, message, data);
}

void
ks_faults_get(struct pb_req *req)
{
	if (!ks_admin_allowed(req))
		return;
	reply_faults(req, "장애 주입 설정입니다.");
}

static int
location_ok(const char *s)
{
	const char *p;

	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0 &&
	    s[0] != '/')
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

/* A fault as POST /_sim/faults sets it. */
struct fault_set {
	const char *op, *mode, *loc;
	long long lat, lmin, lmax, hang, times, over, ppm;
};

/* The checked body (rate: its errorRate, detached) read into fs; a bad
 * value answered (0). */
static int
fault_set_read(struct pb_req *req, const cJSON *root, const cJSON *rate,
               struct fault_set *fs)
{
	enum ks_op dummy;

	if (rate != NULL) {
		if (!cJSON_IsNumber(rate) || !(rate->valuedouble >= 0.0) ||
		    rate->valuedouble > 1.0) {
			ks_reply_invalid(req, "errorRate", "must be 0..1");
			return 0;
		}
		fs->ppm =
		    (long long)(rate->valuedouble * (double)RATE_ONE + 0.5);
	}
	fs->op = pb_json_get_string(root, "operation");
	if (strcmp(fs->op, "*") != 0 && !ks_op_parse(fs->op, &dummy)) {
		ks_reply_invalid(req, "operation", "unknown operation");
		return 0;
	}
	fs->mode = pb_json_get_string(root, "mode");
	if (fs->mode == NULL)
		fs->mode = "none";
	if (mode_parse(fs->mode) == M_COUNT) {
		ks_reply_invalid(req, "mode", "unknown mode");
		return 0;
	}
	fs->loc = pb_json_get_string(root, "location");
	if (fs->loc != NULL && !location_ok(fs->loc)) {
		ks_reply_invalid(
		    req, "location",
		    "must be an http(s) URL or a path, printable ASCII");
		return 0;
	}
	(void)pb_json_get_int(root, "latencyMs", &fs->lat);
	(void)pb_json_get_int(root, "latencyRandomMinMs", &fs->lmin);
	(void)pb_json_get_int(root, "latencyRandomMaxMs", &fs->lmax);
	(void)pb_json_get_int(root, "hangMs", &fs->hang);
	(void)pb_json_get_int(root, "times", &fs->times);
	(void)pb_json_get_int(root, "oversizedBytes", &fs->over);
	if (fs->lmin > fs->lmax) {
		ks_reply_invalid(req, "latencyRandomMinMs",
		                 "must not exceed latencyRandomMaxMs");
		return 0;
	}
	return 1;
}

/* The fault stored (replacing the operation's). */
static enum pb_err
fault_set_store(struct pb_db *db, const struct fault_set *fs)
{
	struct pb_db_param p[11];
	char now[32];

	ks_utc_datetime(pb_clock_now_ms(), now, sizeof(now));
	p[0] = PB_DB_P_STR(fs->op);
	p[1] = PB_DB_P_STR(fs->mode);
	p[2] = PB_DB_P_INT(fs->ppm);
	p[3] = PB_DB_P_INT(fs->lat);
	p[4] = PB_DB_P_INT(fs->lmin);
	p[5] = PB_DB_P_INT(fs->lmax);
	p[6] = PB_DB_P_INT(fs->hang);
	p[7] = fs->times >= 0 ? PB_DB_P_INT(fs->times) : PB_DB_P_NULL;
	p[8] = PB_DB_P_STR(fs->loc != NULL ? fs->loc : "");
	p[9] = PB_DB_P_INT(fs->over);
	p[10] = PB_DB_P_STR(now);
	return pb_db_exec(
	    db,
	    "INSERT INTO sim_faults (" FAULT_COLS
	    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY "
	    "UPDATE "
	    "mode = VALUES(mode), error_rate_ppm = VALUES(error_rate_ppm), "
	    "latency_ms = VALUES(latency_ms), "
	    "latency_min_ms = VALUES(latency_min_ms), "
	    "latency_max_ms = VALUES(latency_max_ms), "
	    "hang_ms = VALUES(hang_ms), remaining = VALUES(remaining), "
	    "location = VALUES(location), "
	    "oversized_bytes = VALUES(oversized_bytes), "
	    "updated_at = VALUES(updated_at)",
	    p, 11, NULL, NULL);
}

void
ks_faults_post(struct pb_req *req)
{
	static const struct pb_json_field spec[] = {
	    {"operation", PB_JSON_STRING, PB_JSON_REQUIRED, 1, 32},
	    {"mode", PB_JSON_STRING, 0, 1, 16},
	    {"latencyMs", PB_JSON_INT, 0, 0, LATENCY_MAX_MS},
	    {"latencyRandomMinMs", PB_JSON_INT, 0, 0, LATENCY_MAX_MS},
	    {"latencyRandomMaxMs", PB_JSON_INT, 0, 0, LATENCY_MAX_MS},
	    {"hangMs", PB_JSON_INT, 0, 100, HANG_MAX_MS},
	    {"times", PB_JSON_INT, PB_JSON_NULLABLE, 1, 1000000},
	    {"location", PB_JSON_STRING, 0, 1, 512},
	    {"oversizedBytes", PB_JSON_INT, 0, 1024, OVERSIZE_MAX},
	};
	struct fault_set fs = {.hang = HANG_DEFAULT_MS,
	                       .times = -1,
	                       .over = OVERSIZE_DEFAULT,
	                       .ppm = RATE_ONE};
	struct pb_logline l;
	cJSON *root = NULL, *rate = NULL;
	const char *why = NULL, *field = NULL;

	if (!ks_admin_allowed(req))
		return;
	if (req->body == NULL ||
	    pb_json_parse(req->body, req->body_len, PB_JSON_MAX_DEPTH, &root,
	                  &why) != PB_OK) {
		ks_reply_invalid(req, "", why != NULL ? why : "body required");
		goto out;
	}
	/* errorRate is a fraction; pb_json_check knows integers only */
	if (cJSON_IsObject(root))
		rate =
		    cJSON_DetachItemFromObjectCaseSensitive(root, "errorRate");
	if (pb_json_check(root, spec, sizeof(spec) / sizeof(spec[0]), &field,
	                  &why) != PB_OK) {
		ks_reply_invalid(req, field, why);
		goto out;
	}
	if (!fault_set_read(req, root, rate, &fs))
		goto out;
	if (fault_set_store(req->app->db, &fs) != PB_OK) {
		pb_log_msg(PB_LOG_ERROR, "sim_faults_failed",
		           pb_db_last_error(req->app->db));
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		goto out;
	}
	pb_log_begin(&l, PB_LOG_INFO, "sim_fault_set");
	pb_log_str(&l, "op", fs.op);
	pb_log_str(&l, "mode", fs.mode);
	pb_log_int(&l, "rate_ppm", fs.ppm);
	pb_log_int(&l, "latency_ms", fs.lat);
	pb_log_end(&l);
	reply_faults(req, "장애 주입이 설정되었습니다.");
out:
	cJSON_Delete(rate);
	cJSON_Delete(root);
}

static void
reply_deleted(struct pb_req *req, const char *message, uint64_t n)
{
	cJSON *d = cJSON_CreateObject();
	int fail = 0;

	ks_add_int(d, "deleted", (long long)n, &fail);
	if (fail) {
		cJSON_Delete(d);
		d = NULL;
	}
	ks_admin_reply(req, 200, KS_RC_OK, message, d);
}

void
ks_faults_delete(struct pb_req *req)
{
	uint64_t n = 0;

	if (!ks_admin_allowed(req))
		return;
	if (pb_db_exec(req->app->db, "DELETE FROM sim_faults", NULL, 0, &n,
	               NULL) != PB_OK) {
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	pb_log_msg(PB_LOG_INFO, "sim_faults_reset", "all fault switches off");
	reply_deleted(req, "모든 장애 주입이 해제되었습니다.", n);
}

void
ks_faults_delete_one(struct pb_req *req)
{
	const char *op = pb_req_path_param(req, "operation");
	struct pb_db_param p[1];
	enum ks_op dummy;
	uint64_t n = 0;

	if (!ks_admin_allowed(req))
		return;
	if (op == NULL || (strcmp(op, "*") != 0 && !ks_op_parse(op, &dummy))) {
		ks_reply_invalid(req, "operation", "unknown operation");
		return;
	}
	p[0] = PB_DB_P_STR(op);
	if (pb_db_exec(req->app->db,
	               "DELETE FROM sim_faults WHERE "
	               "operation = ?",
	               p, 1, &n, NULL) != PB_OK) {
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	reply_deleted(req, "장애 주입이 해제되었습니다.", n);
}

/* --- admin: /_sim/stats ------------------------------------------------- */
struct stats_ctx {
	cJSON *by_op;
	long long calls, faults, delayed;
	int fail;
};

static enum pb_err
stats_row(void *ud, const struct pb_db_row *r)
{
	struct stats_ctx *c = ud;
	char ts[40];
	cJSON *o;
	long long calls, faults, delayed;

	if (r->ncols != 5 || r->vals[0] == NULL)
		return PB_ERR_INTERNAL;
	calls = ks_col_ll(r->vals[1], 0);
	faults = ks_col_ll(r->vals[2], 0);
	delayed = ks_col_ll(r->vals[3], 0);
	o = ks_add_obj(c->by_op, r->vals[0], &c->fail);
	ks_add_int(o, "calls", calls, &c->fail);
	ks_add_int(o, "faults", faults, &c->fail);
	ks_add_int(o, "delayed", delayed, &c->fail);
	if (r->vals[4] != NULL) {
		ks_datetime_rfc3339(r->vals[4], ts, sizeof(ts));
		ks_add_str(o, "lastCallAt", ts, &c->fail);
	} else {
		ks_add_null(o, "lastCallAt", &c->fail);
	}
	c->calls += calls;
	c->faults += faults;
	c->delayed += delayed;
	return c->fail ? PB_ERR_NOMEM : PB_OK;
}

void
ks_stats_get(struct pb_req *req)
{
	struct stats_ctx c;
	cJSON *data = cJSON_CreateObject(), *tot;
	int fail = 0;

	if (!ks_admin_allowed(req)) {
		cJSON_Delete(data);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.by_op = ks_add_obj(data, "operations", &fail);
	if (fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 500, KS_RC_SYSTEM, "메모리가 부족합니다.",
		               NULL);
		return;
	}
	if (pb_db_query(
	        req->app->db,
	        "SELECT operation, calls, faults, "
	        "delayed_calls, last_call_at FROM sim_stats ORDER BY operation",
	        NULL, 0, stats_row, &c) != PB_OK ||
	    c.fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	tot = ks_add_obj(data, "total", &fail);
	ks_add_int(tot, "calls", c.calls, &fail);
	ks_add_int(tot, "faults", c.faults, &fail);
	ks_add_int(tot, "delayed", c.delayed, &fail);
	if (fail) {
		cJSON_Delete(data);
		ks_admin_reply(req, 500, KS_RC_SYSTEM, "메모리가 부족합니다.",
		               NULL);
		return;
	}
	ks_admin_reply(req, 200, KS_RC_OK, "호출 통계입니다.", data);
}

void
ks_stats_delete(struct pb_req *req)
{
	if (!ks_admin_allowed(req))
		return;
	if (pb_db_exec(req->app->db,
	               "UPDATE sim_stats SET calls = 0, "
	               "faults = 0, delayed_calls = 0, last_call_at = NULL",
	               NULL, 0, NULL, NULL) != PB_OK) {
		ks_admin_reply(req, 503, KS_RC_SYSTEM,
		               "데이터베이스를 사용할 수 없습니다.", NULL);
		return;
	}
	pb_log_msg(PB_LOG_INFO, "sim_stats_reset", "counters zeroed");
	ks_admin_reply(req, 200, KS_RC_OK, "호출 통계가 초기화되었습니다.",
	               NULL);
}
