/*
 * fuzz_request.c - libFuzzer target for the request-side parsers: the
 * router (method + path with {placeholders}), Content-Type,
 * Content-Length and X-Request-ID validation.  The input is split at the
 * first two NUL bytes into method, path and a header value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

static void
h(struct pb_req *req)
{
	(void)req;
}

static const struct pb_route routes[] = {
    {"GET", "/api/v1/bills/menu", h},
    {"POST", "/api/v1/bills/inquiry", h},
    {"GET", "/api/v1/bills/inquiry/{requestId}", h},
    {"GET", "/api/v1/products/customer/{lineNumber}", h},
    {"GET", "/a/{b}/{c}/{d}/{e}", h},
    {"PUT", "/a/{b}/{c}/{d}/{e}", h},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *method, *path, *value, *nul;
	const struct pb_route *r;
	struct pb_req req;
	char allow[64];
	size_t i;
	long long cl;
	enum pb_err rc;

	if (size > 4096)
		return 0;
	copy = malloc(size + 3);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = copy[size + 1] = copy[size + 2] = '\0';
	method = copy;
	nul = memchr(copy, '\0', size + 1);
	path = nul + 1;
	value = path + strlen(path) + 1;
	if (value > copy + size + 2)
		value = copy + size + 2;

	memset(&req, 0, sizeof(req));
	rc = pb_route_match(routes, sizeof(routes) / sizeof(routes[0]), method,
	                    path, &req, &r, allow, sizeof(allow));
	if (rc == PB_OK) {
		if (r == NULL)
			abort();
		for (i = 0; i < req.nparams; i++)
			if (req.params[i][0] == '\0' ||
			    strchr(req.params[i], '/') != NULL)
				abort(); /* a param is one non-empty segment */
	} else if (rc == PB_ERR_METHOD && allow[0] == '\0') {
		abort(); /* 405 must name what is allowed */
	}
	free(req.param_store);

	(void)pb_req_json_content_type(value);
	cl = pb_req_content_length(value);
	if (cl < -2)
		abort();
	if (pb_req_id_valid(value) &&
	    (strlen(value) > PB_REQ_ID_MAX || strpbrk(value, " \r\n:") != NULL))
		abort();
	free(copy);
	return 0;
}
