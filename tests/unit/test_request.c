/* test_request.c - routing, media type, request id, envelopes. */
#include "json.h"
#include "request.h"
#include "tap.h"

static int called;

static void
h_get(struct pb_req *req)
{
	(void)req;
	called = 1;
}
static void
h_post(struct pb_req *req)
{
	(void)req;
	called = 2;
}
static void
h_item(struct pb_req *req)
{
	(void)req;
	called = 3;
}

static const struct pb_route routes[] = {
    {"GET", "/api/v1/bills/menu", h_get},
    {"POST", "/api/v1/bills/inquiry", h_post},
    {"GET", "/api/v1/bills/inquiry/{requestId}", h_item},
    {"DELETE", "/api/v1/bills/inquiry/{requestId}", h_item},
    {"GET", "/api/v1/x/{a}/y/{b}", h_item},
};
#define NR (sizeof(routes) / sizeof(routes[0]))

static cJSON *
sent_json(struct pb_req *req)
{
	cJSON *j = NULL;

	if (pb_json_parse(req->sent.data, req->sent.len, 0, &j, NULL) != PB_OK)
		return NULL;
	return j;
}

static void
req_init(struct pb_req *req)
{
	memset(req, 0, sizeof(*req));
	pb_buf_init(&req->headers, PB_REQ_MAX_HEADERS);
	pb_buf_init(&req->sent, 65536);
	snprintf(req->request_id, sizeof(req->request_id), "rid-test");
}

static void
req_clear(struct pb_req *req)
{
	free(req->param_store);
	pb_buf_free(&req->headers);
	pb_buf_free(&req->sent);
	memset(req, 0, sizeof(*req));
}

int
main(void)
{
	struct pb_req req;
	const struct pb_route *r;
	char allow[64];
	cJSON *j, *e;

	req_init(&req);
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/bills/menu", &req, &r,
	                      allow, sizeof(allow)),
	       PB_OK, "exact match");
	ok(r == &routes[0], "right route");
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/bills/nope", &req, &r,
	                      allow, sizeof(allow)),
	       PB_ERR_NOTFOUND, "unknown path");
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/bills/menu/", &req,
	                      &r, allow, sizeof(allow)),
	       PB_ERR_NOTFOUND, "trailing slash differs");
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/bills//menu", &req,
	                      &r, allow, sizeof(allow)),
	       PB_ERR_NOTFOUND, "empty segment");
	is_int(pb_route_match(routes, NR, "PUT", "/api/v1/bills/menu", &req, &r,
	                      allow, sizeof(allow)),
	       PB_ERR_METHOD, "wrong method");
	is_str(allow, "GET", "Allow lists the method");
	is_int(pb_route_match(routes, NR, "POST", "/api/v1/bills/inquiry/abc",
	                      &req, &r, allow, sizeof(allow)),
	       PB_ERR_METHOD, "param route method");
	is_str(allow, "GET, DELETE", "Allow lists every method once");
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/bills/inquiry/R-1",
	                      &req, &r, allow, sizeof(allow)),
	       PB_OK, "param route");
	is_str(pb_req_path_param(&req, "requestId"), "R-1", "param value");
	ok(pb_req_path_param(&req, "other") == NULL, "unknown param NULL");
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/bills/inquiry/", &req,
	                      &r, allow, sizeof(allow)),
	       PB_ERR_NOTFOUND, "empty param does not match");
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/x/1/y/22", &req, &r,
	                      allow, sizeof(allow)),
	       PB_OK, "two params");
	ok(strcmp(pb_req_path_param(&req, "a"), "1") == 0 &&
	       strcmp(pb_req_path_param(&req, "b"), "22") == 0,
	   "both values");
	is_int(pb_route_match(routes, NR, "GET", "/api/v1/bills/inquiry/a/b",
	                      &req, &r, allow, sizeof(allow)),
	       PB_ERR_NOTFOUND, "param never spans segments");
	is_int(pb_route_match(routes, NR, "GET", "", &req, &r, allow,
	                      sizeof(allow)),
	       PB_ERR_NOTFOUND, "empty path");

	ok(pb_req_json_content_type("application/json"), "plain json");
	ok(pb_req_json_content_type("application/json; charset=utf-8"),
	   "json utf-8");
	ok(pb_req_json_content_type("Application/JSON;charset=\"UTF-8\""),
	   "case-insensitive, quoted charset");
	ok(!pb_req_json_content_type("application/json; charset=latin1"),
	   "other charset refused");
	ok(!pb_req_json_content_type("text/plain"), "text/plain refused");
	ok(!pb_req_json_content_type("application/jsonx"),
	   "prefix trick refused");
	ok(!pb_req_json_content_type(NULL), "missing refused");

	ok(pb_req_id_valid("abc-DEF_1.2"), "valid id");
	ok(!pb_req_id_valid(""), "empty id");
	ok(!pb_req_id_valid("a b"), "space refused");
	ok(!pb_req_id_valid("a\r\nX-Evil: 1"), "header injection refused");
	ok(pb_req_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                   "aaaaaaaaaaaaa"),
	   "64 chars ok");
	ok(!pb_req_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                    "aaaaaaaaaaaaaaa"),
	   "65 chars refused");

	is_int(pb_req_add_header(&req, "Retry-After", "5"), PB_OK, "header");
	is_int(pb_req_add_header(&req, "X", "a\r\nSet-Cookie: x"), PB_ERR_INVAL,
	       "CRLF in header value refused");
	is_int(pb_req_add_header(&req, "X:Y", "a"), PB_ERR_INVAL,
	       "colon in header name refused");
	pb_req_error(&req, 404, "NOT_FOUND", NULL, "no such thing", NULL);
	is_int(req.status, 404, "status recorded");
	j = sent_json(&req);
	ok(j != NULL, "error body is strict JSON");
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	ok(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "success")),
	   "success false");
	is_str(pb_json_get_string(e, "code"), "NOT_FOUND", "code");
	is_str(pb_json_get_string(e, "message"),
	       pb_req_default_message("NOT_FOUND"), "default Korean message");
	is_str(pb_json_get_string(e, "details"), "no such thing", "details");
	ok(pb_json_get_string(e, "timestamp") != NULL &&
	       strlen(pb_json_get_string(e, "timestamp")) == 25,
	   "RFC 3339 timestamp with offset");
	cJSON_Delete(j);
	pb_req_ok(&req, 200, "again", NULL);
	is_int(req.status, 404, "second response ignored");
	req_clear(&req);

	req_init(&req);
	{
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "k", "값");
		pb_req_ok(&req, 200, "조회 성공", d);
	}
	j = sent_json(&req);
	ok(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "success")),
	   "success true");
	is_str(pb_json_get_string(j, "message"), "조회 성공", "message");
	is_str(pb_json_get_string(cJSON_GetObjectItemCaseSensitive(j, "data"),
	                          "k"),
	       "값", "data carried");
	cJSON_Delete(j);
	req_clear(&req);

	ok(strcmp(pb_req_default_message("SERVICE_UNAVAILABLE"),
	          "일시적으로 서비스 이용이 어렵습니다.") == 0,
	   "503 text of API.md");
	ok(pb_req_default_message("NO_SUCH_CODE") != NULL, "unknown code text");
	(void)called;
	return tap_done();
}
