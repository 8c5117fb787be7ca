/* metrics_http.c - GET <prefix>/metrics (see metrics_http.h). */
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

#include "buf.h"
#include "metrics.h"
#include "metrics_http.h"
#include "request.h"

int
pb_metrics_addr_allowed(const char *list, const char *addr)
{
	size_t n, alen;

	if (list == NULL || addr == NULL || addr[0] == '\0')
		return 0;
	alen = strlen(addr);
	while (*list != '\0') {
		while (*list == ' ' || *list == ',')
			list++;
		n = strcspn(list, ", ");
		if (n == alen && n > 0 && strncmp(list, addr, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

void
pb_metrics_handler(struct pb_req *req)
{
	struct pb_buf body;
	char head[256];
	int n;

	pb_buf_init(&body, 4u * 1024 * 1024);
	if (pb_metrics_allow() == NULL) {
		pb_req_error(req, 404, "NOT_FOUND", NULL,
		             "metrics are off "
		             "(metrics.file)",
		             NULL);
		goto out;
	}
	if (!pb_metrics_addr_allowed(pb_metrics_allow(), req->remote_addr)) {
		pb_req_error(req, 403, "FORBIDDEN", NULL,
		             "metrics: address "
		             "not in metrics.allow",
		             NULL);
		goto out;
	}
	if (pb_metrics_render(&body) != PB_OK || req->fcgx == NULL) {
		pb_req_error(req, 500, "INTERNAL_SERVER_ERROR", NULL, NULL,
		             NULL);
		goto out;
	}
	/* text, not the JSON envelope: written here, not by pb_req_send */
	n = snprintf(
	    head, sizeof(head),
	    "Status: 200 OK\r\n"
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nX-Request-ID: %s\r\n"
	    "Cache-Control: no-store\r\n\r\n",
	    body.len, req->request_id);
	req->responded = 1;
	req->status = 200;
	if (n > 0 && (size_t)n < sizeof(head)) {
		FCGX_PutStr(head, n, req->fcgx->out);
		FCGX_PutStr(body.data, (int)body.len, req->fcgx->out);
	}
out:
	pb_buf_free(&body);
}
