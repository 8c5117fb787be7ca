/*
 * simadmin.h - for unit tests that drive the KOS simulator's /_sim/ admin
 * interface (faults, counters, deliveries) through lib/http.
 */
#ifndef PB_TEST_SIMADMIN_H
#define PB_TEST_SIMADMIN_H

#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "http.h"
#include "json.h"

/*
 * method path (JSON body or NULL) against base with h; *out (may be NULL)
 * receives the parsed answer.  Returns the HTTP status, 0 on failure.
 */
static inline long
sim_admin(struct pb_http *h, const char *base, const char *method,
          const char *path, const char *body, cJSON **out)
{
	struct pb_http_req req;
	struct pb_http_resp r;
	char url[512];
	long status = 0;

	if (out != NULL)
		*out = NULL;
	snprintf(url, sizeof(url), "%s%s", base, path);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.total_timeout_ms = 5000;
	req.max_response = 4 * 1024 * 1024;
	if (pb_http_do(h, &req, &r) == PB_OK) {
		status = r.status;
		if (out != NULL && r.body.data != NULL)
			(void)pb_json_parse(r.body.data, r.body.len, 0, out,
			                    NULL);
	}
	pb_http_resp_free(&r);
	return status;
}

#endif
