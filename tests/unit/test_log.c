/* test_log.c - escaping, masking, one line per event, per-thread ids. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"

static size_t
read_all(int fd, char *out, size_t outlen)
{
	ssize_t n;
	size_t o = 0;

	lseek(fd, 0, SEEK_SET);
	while (o + 1 < outlen && (n = read(fd, out + o, outlen - o - 1)) > 0)
		o += (size_t)n;
	out[o] = '\0';
	return o;
}

/* A second thread: its lines carry its own request id, or none. */
static void *
other_thread(void *arg)
{
	(void)arg;
	pb_log_msg(PB_LOG_INFO, "from_thread_a", "no id here");
	pb_log_set_request_id("rid-thread");
	pb_log_msg(PB_LOG_INFO, "from_thread_b", "own id");
	return NULL;
}

int
main(void)
{
	char out[PB_LOG_LINE_MAX * 2], m[64], big[8000];
	FILE *f;
	int fd, lines = 0;
	size_t n, i;
	struct pb_logline l;

	pb_log_escape("a\nb\rc\td\"e\\f", out, sizeof(out));
	is_str(out, "a\\nb\\rc\\td\\\"e\\\\f",
	       "CR LF TAB quote backslash escaped");
	pb_log_escape("x\x01y\x7fz", out, sizeof(out));
	is_str(out, "x\\x01y\\x7fz", "control and DEL as \\xNN");
	pb_log_escape("홍길동", out, sizeof(out));
	is_str(out, "홍길동", "valid UTF-8 kept");
	pb_log_escape("a\xc0\xafz", out, sizeof(out));
	is_str(out, "a\\xc0\\xafz", "overlong UTF-8 escaped");
	pb_log_escape("\xed\xa0\x80", out, sizeof(out));
	is_str(out, "\\xed\\xa0\\x80", "UTF-8 surrogate escaped");
	n = pb_log_escape("abc\n", out, 5);
	ok(n == 3 && strcmp(out, "abc") == 0, "escape never splits a sequence");

	pb_mask_phone("010-1234-5678", m, sizeof(m));
	is_str(m, "010-****-5678", "phone with dashes");
	pb_mask_phone("01012345678", m, sizeof(m));
	is_str(m, "010-****-5678", "phone digits only");
	pb_mask_phone("0212345678", m, sizeof(m));
	is_str(m, "021-****-5678", "10-digit phone");
	pb_mask_phone("12345", m, sizeof(m));
	is_str(m, "****2345", "odd number keeps last four");
	pb_mask_phone("1", m, sizeof(m));
	is_str(m, "****", "short number fully hidden");
	is_int(pb_mask_phone("01012345678", m, 5), PB_ERR_TOOBIG, "small out");

	pb_mask_name("홍길동", m, sizeof(m));
	is_str(m, "홍*동", "three-syllable name");
	pb_mask_name("남궁민수", m, sizeof(m));
	is_str(m, "남**수", "four-syllable name");
	pb_mask_name("홍길", m, sizeof(m));
	is_str(m, "홍*", "two-syllable name");
	pb_mask_name("홍", m, sizeof(m));
	is_str(m, "*", "one syllable");
	pb_mask_name("Kim", m, sizeof(m));
	is_str(m, "K*m", "latin name");
	pb_mask_name("a\xff", m, sizeof(m));
	is_str(m, "***", "invalid UTF-8 name");
	pb_mask_name("a\nb", m, sizeof(m));
	is_str(m, "***", "control characters in a name");

	is_int(pb_mask_digits("/api/v1/kos/bill/available-months/01012345678",
	                      6, out, sizeof(out)),
	       PB_OK, "mask digits");
	is_str(out, "/api/v1/kos/bill/available-months/###########",
	       "line number in a path hidden");
	pb_mask_digits("/api/v1/x/2026/12345/123456", 6, out, sizeof(out));
	is_str(out, "/api/v1/x/2026/12345/######", "short runs kept");
	is_int(pb_mask_digits("ab0101234567", 6, m, 6), PB_ERR_TOOBIG,
	       "mask digits: small out");
	is_str(m, "ab", "never emits part of a digit run");

	f = tmpfile();
	fd = fileno(f);
	pb_log_open("test", fd, PB_LOG_INFO);
	pb_log_set_request_id("rid-1");
	pb_log_begin(&l, PB_LOG_INFO, "login");
	pb_log_str(&l, "user", "evil\nlevel=error event=forged");
	pb_log_int(&l, "status", 401);
	pb_log_str(&l, "Bad Key!", "v");
	pb_log_end(&l);
	pb_log_msg(PB_LOG_DEBUG, "hidden", "filtered by level");
	read_all(fd, out, sizeof(out));
	for (i = 0; out[i] != '\0'; i++)
		lines += out[i] == '\n';
	is_int(lines, 1, "injected newline stays on one line");
	ok(strstr(out, "user=\"evil\\nlevel=error event=forged\"") != NULL,
	   "injection escaped inside quotes");
	ok(strstr(out, " rid=\"rid-1\"") != NULL, "request id stamped");
	ok(strstr(out, " svc=test ") != NULL, "service stamped");
	ok(strstr(out, " event=login") != NULL, "event named");
	ok(strstr(out, " status=401") != NULL, "integer field");
	ok(strstr(out, " _ad__ey_=\"v\"") != NULL, "key sanitised");
	ok(strstr(out, "hidden") == NULL, "debug filtered at info");
	ok(strncmp(out, "ts=", 3) == 0, "line starts with timestamp");

	/* an oversized value is cut and marked, still one line */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(ftruncate(fd, 0) == 0, "log file truncated");
	lseek(fd, 0, SEEK_SET);
	pb_log_msg(PB_LOG_ERROR, "big", big);
	n = read_all(fd, out, sizeof(out));
	ok(n <= PB_LOG_LINE_MAX, "line capped");
	ok(n > 0 && out[n - 1] == '\n' && strstr(out, "truncated=1") != NULL,
	   "truncated line marked and terminated");

	/* the request id is per thread */
	{
		pthread_t th;
		char *a, *b, *c;

		ok(ftruncate(fd, 0) == 0, "log file truncated again");
		lseek(fd, 0, SEEK_SET);
		pb_log_set_request_id("rid-main");
		ok(pthread_create(&th, NULL, other_thread, NULL) == 0 &&
		       pthread_join(th, NULL) == 0,
		   "thread ran");
		pb_log_msg(PB_LOG_INFO, "from_main", "main id");
		read_all(fd, out, sizeof(out));
		a = strstr(out, "event=from_thread_a");
		b = strstr(out, "event=from_thread_b");
		c = strstr(out, "event=from_main");
		ok(a != NULL && b != NULL && c != NULL, "three lines");
		ok(strstr(out, "rid=\"rid-main\" event=from_thread") == NULL,
		   "a thread never carries the main thread's id");
		ok(strstr(out, "rid=\"rid-thread\" event=from_thread_b") !=
		       NULL,
		   "a thread's own id stamped");
		ok(strstr(out, "rid=\"rid-main\" event=from_main") != NULL,
		   "main thread's id unchanged by the thread");
	}

	enum pb_log_level lv;
	is_int(pb_log_level_parse("warn", &lv), PB_OK, "parse level");
	is_int(lv, PB_LOG_WARN, "parsed value");
	is_int(pb_log_level_parse("WARN", &lv), PB_ERR_INVAL, "unknown level");
	pb_log_set_request_id(NULL);
	pb_log_open("test", -1, PB_LOG_INFO);
	fclose(f);
	return tap_done();
}
