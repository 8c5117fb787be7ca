"""Auth with Redis stopped: login and every token check fail closed (503),
never unlimited attempts or unchecked tokens.  Needs PHONEBILL_TEST_STACK_CTL."""
import json

from helpers import error_envelope

ORDER = 89


def test_redis_down_login_and_verify_503(ctx):
    r = ctx.request("POST", "/api/v1/auth/login",
                    body=json.dumps({"userId": "demo01", "password": "Phonebill!1"}),
                    headers={"Content-Type": "application/json",
                             "X-Forwarded-For": "10.250.0.1"})
    assert r.status == 200, r
    at = r.json()["data"]["accessToken"]
    ctx.stack("redis-stop")
    try:
        for pw in ("Phonebill!1", "Wrong-Password-1"):
            r = ctx.request("POST", "/api/v1/auth/login",
                            body=json.dumps({"userId": "demo01", "password": pw}),
                            headers={"Content-Type": "application/json",
                                     "X-Forwarded-For": "10.250.0.2"})
            error_envelope(r, "SERVICE_UNAVAILABLE", 503)
            assert r.header("Retry-After"), "no Retry-After"
        r = ctx.request("GET", "/api/v1/auth/verify", headers={"Authorization": "Bearer " + at})
        error_envelope(r, "SERVICE_UNAVAILABLE", 503)
    finally:
        ctx.stack("redis-start")
    ctx.wait_for("verify works again",
                 lambda: ctx.request("GET", "/api/v1/auth/verify",
                                     headers={"Authorization": "Bearer " + at}).status == 200,
                 timeout=30)
