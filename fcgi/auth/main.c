/*
 * phonebill-auth - the auth service, a FastCGI responder under /api/v1/auth.
 * Thin on purpose: the route table and the start-up spec; the handlers are
 * in handlers.c, the user store in users.c.
 */
#include "app.h"
#include "cli.h"
#include "auth.h"
#include "health.h"
#include "metrics.h"
#include "metrics_http.h"

static const struct pb_route routes[] = {
    {"GET", "/api/v1/auth/health", pb_health_handler},
    {"GET", "/api/v1/auth/metrics", pb_metrics_handler},
    {"POST", "/api/v1/auth/login", auth_login},
    {"POST", "/api/v1/auth/logout", auth_logout},
    {"GET", "/api/v1/auth/verify", auth_verify},
    {"POST", "/api/v1/auth/refresh", auth_refresh},
    {"GET", "/api/v1/auth/permissions", auth_permissions},
    {"POST", "/api/v1/auth/permissions/check", auth_permissions_check},
    {"GET", "/api/v1/auth/user-info", auth_user_info},
};

static const char *const auth_keys[] = {AUTH_CONFIG_KEYS, NULL};

static const struct pb_app_spec spec = {
    .service = "auth",
    .flags = PB_APP_PII,
    .prefix = "/api/v1/auth",
    PB_APP_ROUTES(routes),
    .extra_keys = auth_keys,
    .init = auth_init,
    .fini = auth_fini,
    .what = "the auth service (/api/v1/auth): sign-in, tokens, sessions",
};

PB_APP_MAIN(spec)
