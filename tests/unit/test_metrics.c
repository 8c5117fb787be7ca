/* test_metrics.c - shared counters: two processes, one sum; layout
 * changes re-create the file; the address list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_http.h"
#include "tap.h"

static void
h(struct pb_req *r)
{
	(void)r;
}

static const struct pb_route routes[] = {
    {"GET", "/api/v1/bills/health", h},
    {"POST", "/api/v1/bills/inquiry", h},
};

static const struct pb_route other_routes[] = {
    {"GET", "/api/v1/bills/health", h},
};

/* The value of the first line starting with prefix, or -1. */
static long
sample(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	return p != NULL ? strtol(p + strlen(prefix), NULL, 10) : -1;
}

static char *
render(void)
{
	struct pb_buf b;

	pb_buf_init(&b, 1u << 20);
	if (pb_metrics_render(&b) != PB_OK) {
		pb_buf_free(&b);
		return NULL;
	}
	return pb_buf_steal(&b);
}

int
main(void)
{
	char path[] = "/tmp/pb-test-metrics-XXXXXX", err[256];
	char *text;
	pid_t child;
	int fd, st = 0, i;
	const char *inq =
	    "phonebill_http_requests_total{service=\"bill\","
	    "method=\"POST\",route=\"/api/v1/bills/inquiry\",status=\"200\"} ";

	fd = mkstemp(path);
	ok(fd >= 0, "temporary file");
	close(fd);
	is_int(pb_metrics_open(path, "bill", routes, 2, NULL, err, sizeof(err)),
	       PB_OK, "open");
	child = fork();
	if (child == 0) {
		/* another process of the service, its own mapping */
		pb_metrics_close();
		if (pb_metrics_open(path, "bill", routes, 2, NULL, err,
		                    sizeof(err)) != PB_OK)
			_exit(1);
		for (i = 0; i < 1000; i++)
			pb_metrics_request(&routes[1], "POST", 200, 3000);
		_exit(0);
	}
	for (i = 0; i < 500; i++)
		pb_metrics_request(&routes[1], "POST", 200, 20000);
	waitpid(child, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child counted");
	pb_metrics_request(NULL, "GET", 404, 100);
	pb_metrics_cache("bill", 0);
	pb_metrics_cache("bill", -1);
	text = render();
	ok(text != NULL, "render");
	is_int(sample(text, inq), 1500, "both processes' requests in one sum");
	is_int(sample(text, "phonebill_http_request_duration_seconds_bucket{"
	                    "service=\"bill\",method=\"POST\",route=\"/api/v1/"
	                    "bills/inquiry\","
	                    "status=\"200\",le=\"0.005\"} "),
	       1000, "3 ms in the 5 ms bucket");
	is_int(sample(text, "phonebill_http_request_duration_seconds_bucket{"
	                    "service=\"bill\",method=\"POST\",route=\"/api/v1/"
	                    "bills/inquiry\","
	                    "status=\"200\",le=\"0.025\"} "),
	       1500, "buckets are cumulative");
	ok(strstr(text, "route=\"unmatched\",status=\"404\"} 1") != NULL,
	   "unmatched route");
	ok(strstr(text, "cache=\"bill\",result=\"hit\"} 1") != NULL &&
	       strstr(text, "cache=\"bill\",result=\"error\"} 1") != NULL,
	   "cache look-ups");
	ok(strstr(text, "phonebill_http_request_duration_seconds_sum{service="
	                "\"bill\",method=\"POST\",route=\"/api/v1/bills/"
	                "inquiry\",status="
	                "\"200\"} 13.000000") != NULL,
	   "sum in seconds (1000 x 3 ms + 500 x 20 ms)");
	free(text);
	pb_metrics_close();

	/* the same file with another route table starts from zero */
	is_int(pb_metrics_open(path, "bill", other_routes, 1, NULL, err,
	                       sizeof(err)),
	       PB_OK, "open with another layout");
	text = render();
	ok(text != NULL &&
	       strstr(text, "route=\"/api/v1/bills/inquiry\"") == NULL,
	   "re-created: no old series");
	free(text);
	pb_metrics_close();
	pb_metrics_request(&routes[0], "GET", 200, 1);
	ok(1, "closed: counting is a no-op");

	ok(pb_metrics_addr_allowed("127.0.0.1,::1", "::1"), "allowed ::1");
	ok(pb_metrics_addr_allowed("10.0.0.1, 127.0.0.1", "127.0.0.1"),
	   "allowed with a space");
	ok(!pb_metrics_addr_allowed("127.0.0.1", "127.0.0.10"),
	   "no prefix match");
	ok(!pb_metrics_addr_allowed("127.0.0.1", ""), "empty address");
	ok(!pb_metrics_addr_allowed("", "127.0.0.1"), "empty list");
	unlink(path);
	return tap_done();
}
