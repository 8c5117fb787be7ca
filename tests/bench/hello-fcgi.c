/*
 * hello-fcgi.c - the benchmark baseline: the smallest useful FastCGI
 * responder.  It answers every request with a fixed JSON body, so a run
 * through the same web server measures what the server and the FastCGI
 * protocol cost on their own, and our endpoints can be expressed as a
 * ratio of it.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <string.h>

static const char body[] = "{\"success\":true,\"message\":\"hello\"}";

int
main(void)
{
	FCGX_Request req;

	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_FPrintF(req.out,
		             "Status: 200 OK\r\n"
		             "Content-Type: application/json; charset=utf-8\r\n"
		             "Content-Length: %u\r\n\r\n",
		             (unsigned)(sizeof(body) - 1));
		FCGX_PutStr(body, (int)(sizeof(body) - 1), req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
