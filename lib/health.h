/*
 * health.h - GET /api/v1/<service>/health.
 *
 * 200 with {"status":"UP","service":...,"redis":"UP","database":"UP",
 * "time":...} when every required dependency answers; 503 with the same
 * data (the failing ones "DOWN"), the error envelope and Retry-After
 * otherwise.  Never touches KOS (a health probe must not add load there).
 */
#ifndef PB_HEALTH_H
#define PB_HEALTH_H

#include "request.h"

void pb_health_handler(struct pb_req *req);

#endif
