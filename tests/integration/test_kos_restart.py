"""A plan change made through the KOS simulator survives a restart.

MariaDB and the web server (and with it every simulator process) are
stopped and started again; the line keeps its new plan, the bill of the
current month shows it, and the same requestId still answers the first
order.  Needs PHONEBILL_TEST_KOS_URL and PHONEBILL_TEST_STACK_CTL; runs
before test_outage.
"""
import test_kos_sim as k

ORDER = 85


def _sim_up():
    try:
        return k.call("GET", "/_sim/health", timeout=5).status == 200
    except OSError:
        return False


def test_product_change_persists_across_restart(ctx):
    line = k.TEST_LINE_A
    before = k._plan_of(line)
    target = "5G-SLIM-001" if before != "5G-SLIM-001" else "5G-STANDARD-001"
    request_id = k.rid()
    first = k.change(line, before, target, request_id)
    assert first["resultCode"] == "0000", first
    try:
        web = ctx.name.split("@")[0]    # "lighttpd@<instant>" (script/test calendar)
        ctx.stack("%s-stop" % web, "mariadb-stop")
        assert not _sim_up(), "the simulator still answers with its server stopped"
        ctx.stack("mariadb-start", "%s-start" % web)
        ctx.wait_for("the simulator after the restart", _sim_up, timeout=60)
        assert k._plan_of(line) == target, "the plan change did not survive"
        today = k.server_today(k.months(line))
        cur = k.bill(line, k.month_str(today))["data"]["billInfo"]
        assert cur["productCode"] == target, cur
        again = k.change(line, before, target, request_id)
        assert again["data"]["orderNo"] == first["data"]["orderNo"], again
    finally:
        if _sim_up():
            back = k.change(line, target, before)
            assert back["resultCode"] == "0000", back
    assert k._plan_of(line) == before
