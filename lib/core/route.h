/*
 * route.h - a route of a service's table: method, pattern, handler.
 *
 * Below both the request layer (lib/web/request.c matches and calls it)
 * and the metrics counters (lib/core/metrics.c labels its series with
 * method and pattern), so that neither has to include the other.
 * struct pb_req is only named here; lib/web/request.h defines it.
 */
#ifndef PB_ROUTE_H
#define PB_ROUTE_H

struct pb_req;

typedef void (*pb_handler_fn)(struct pb_req *req);

/* A route: exact segments, or "{name}" for one non-empty segment. */
struct pb_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/v1/bills/inquiry/{requestId}" */
	pb_handler_fn fn;
};

#endif
