#!/usr/bin/env bash
# tests/bench/kos-hang.sh - what needs no KOS while KOS hangs (issue 19):
# p50/p99/max of cached inquiries, /bills/health, closed-month misses (stale
# copy allowed) and current-month misses under the bounded mixed load of
# tests/integration/kosload.py, per scenario, through lighttpd (plain HTTP).
#
#   tests/bench/kos-hang.sh [healthy] [hang] [cold] [random]   (default all)
#
#   healthy  KOS answers (the reference)
#   hang     a healthy period (half the duration), then bill.inquiry hangs
#   cold     bill.inquiry hangs from the start
#   random   bill.inquiry answers after a random 0-4 s
#
# BENCH_TREE: the phonebill tree measured (binaries and config templates;
# default this one, which must be built).  For "before" numbers unpack and
# build an older commit and point BENCH_TREE at it, e.g.
#   git archive c9a04aa | tar -x -C /tmp/base && (cd /tmp/base &&
#     autoreconf -fi && ./configure && make -j2)
#   BENCH_TREE=/tmp/base tests/bench/kos-hang.sh
# The load generator is always this tree's.  Environment: BENCH_DURATION
# (s per scenario, 20), BENCH_RATE (req/s at most, 175), BENCH_THREADS (8),
# BENCH_PROCS (FastCGI processes per service, 2), PHONEBILL_PORT_OFFSET
# (added to the ports 21080, 23443, 24080), BENCH_KEEP_STACK=1,
# BENCH_SERVER (lighttpd, or apache: the same stack behind Apache +
# mod_fcgid, whose processes are started on demand, so the healthy
# scenario is where they spawn).
# Not part of script/test; nothing here passes or fails on a number.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TREE=$(cd "${BENCH_TREE:-$ROOT}" && pwd)
OFF=${PHONEBILL_PORT_OFFSET:-0}
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(healthy hang cold random)

export PB_STATE=$ROOT/var/bench-kos
export PB_HTTP_PORT=$((21080 + OFF)) PB_HTTPS_PORT=$((23443 + OFF))
export PB_KOS_PORT=$((24080 + OFF))
export PB_PROCS=${BENCH_PROCS:-2}
export PB_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
# the production wait: a breaker that opens stays open 30 s
export PB_BREAKER_OPEN_MS=${BENCH_BREAKER_OPEN_MS:-30000}

[ -x "$TREE/fcgi/bill/phonebill-bill" ] || { echo "$TREE is not built" >&2; exit 2; }
# shellcheck source=../../script/lib/stack.sh
. "$TREE/script/lib/stack.sh"
if [ -f "$PB_STATE/stack.env" ]; then
	(PB_REUSE_ENV=1 pb_stack_init && pb_stack_stop) >/dev/null 2>&1 || true
fi
rm -rf "$PB_STATE/mariadb" "$PB_STATE/redis" "$PB_STATE/spool"
pb_stack_init
stop_all() { [ "${BENCH_KEEP_STACK:-0}" = 1 ] || (pb_stack_stop) >/dev/null 2>&1; }
trap stop_all EXIT
pb_backends_start
case ${BENCH_SERVER:-lighttpd} in
lighttpd) pb_lighttpd_start ;;
apache) pb_apache_start ;;
*) pb_die "BENCH_SERVER: lighttpd or apache" ;;
esac
base=http://127.0.0.1:$PB_HTTP_PORT
kos=http://127.0.0.1:$PB_KOS_PORT
pb_wait_health "$base/api/v1/bills/health" 30 || pb_die "the bill service does not answer 200"
pb_wait_health "$kos/_sim/health" 30 || pb_die "the KOS simulator does not answer 200"

# demo01's password is the README's (script/lib/stack.sh seeds it).
token=$(python3 "$ROOT/tests/bench/zipf.py" token --base "$base" --user demo01 \
	--xff 10.250.0.9 <<<'Phonebill!1')
echo "=== kos-hang: $TREE ($(git -C "$TREE" rev-parse --short HEAD 2>/dev/null || echo unpacked)), ${BENCH_SERVER:-lighttpd}, $PB_PROCS processes per service, $(nproc) cores"
python3 "$ROOT/tests/bench/kos_hang.py" --base "$base" --kos "$kos" \
	--state "$PB_STATE" --token "$token" --duration "${BENCH_DURATION:-20}" \
	--rate "${BENCH_RATE:-175}" --threads "${BENCH_THREADS:-8}" "${SCENARIOS[@]}"
