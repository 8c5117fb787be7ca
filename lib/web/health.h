/*
 * health.h - GET /api/v1/<service>/health.
 *
 * 200 with {"status":"UP","service":...,"redis":"UP","database":"UP",
 * "time":...} when every required dependency answers; 503 with the same
 * data (the failing ones "DOWN"), the error envelope and Retry-After
 * otherwise.  Never touches KOS (a health probe must not add load there).
 *
 * A service that calls KOS adds "kos": {"status": "UP" | "DEGRADED", ...}:
 * DEGRADED when a circuit breaker is not CLOSED or every KOS call of a
 * group's current window failed (3 or more).  Then the top-level status is
 * DEGRADED and the answer still 200 (liveness: restarting the service would not
 * help); with ?ready in the query (readiness, for a load balancer) it is
 * 503 SERVICE_UNAVAILABLE with the same data and Retry-After.  Without any
 * KOS traffic there is no evidence, and the status stays UP.
 */
#ifndef PB_HEALTH_H
#define PB_HEALTH_H

#include "request.h"

void pb_health_handler(struct pb_req *req);

#endif
