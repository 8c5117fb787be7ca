#!/usr/bin/env bash
# tests/bench/run.sh - throughput and latency of a service endpoint against
# the smallest possible FastCGI program (tests/bench/hello-fcgi), both
# behind the same lighttpd, same process count, plain HTTP.
#
#   tests/bench/run.sh            (build, start var/bench, measure, stop)
#
# Environment: BENCH_DURATION (10s), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_PROCS (FastCGI processes per program, 2), BENCH_PATH (the endpoint
# compared with /hello, default /api/v1/auth/health), BENCH_KEEP_STACK=1.
# Not part of script/test: numbers depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
TARGET=${BENCH_PATH:-/api/v1/auth/health}

export PB_STATE=var/bench
export PB_HTTP_PORT=${BENCH_HTTP_PORT:-38080} PB_HTTPS_PORT=${BENCH_HTTPS_PORT:-38443}
export PB_KOS_PORT=${BENCH_KOS_PORT:-39080}
export PB_PROCS=${BENCH_PROCS:-2}
# The services log every request at info: warn keeps the disk out of it.
export PB_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}

script/setup
[ -x tests/bench/hello-fcgi ] || make tests/bench/hello-fcgi >/dev/null
# shellcheck source=../../script/lib/stack.sh
. script/lib/stack.sh
pb_stack_init

stop_all() { [ "${BENCH_KEEP_STACK:-0}" = 1 ] || (pb_stack_stop) >/dev/null 2>&1; }
trap stop_all EXIT

# A fresh lighttpd config each run: /hello served like a service.
pb_lighttpd_stop
cat >"$PB_CONF_DIR/lighttpd.local.conf" <<EOF
# benchmark baseline (tests/bench/run.sh)
fastcgi.server += (
	"/hello" => ((
		"socket" => "$PB_LIGHTTPD_DIR/sockets/hello.sock",
		"bin-path" => "$ROOT/tests/bench/hello-fcgi",
		"max-procs" => $PB_PROCS,
		"min-procs" => $PB_PROCS,
		"check-local" => "disable",
	)),
)
EOF
pb_backends_start
pb_lighttpd_start
pb_check_reachable "$ROOT/tests/bench/hello-fcgi"
base=http://127.0.0.1:$PB_HTTP_PORT
pb_wait_health "$base$TARGET" 30 || pb_die "$TARGET does not answer 200"
pb_wait_health "$base/hello" 30 || pb_die "/hello does not answer 200"

# wrk's latency table: "50%   1.23ms"; normalise to milliseconds.
ms() {
	awk -v k="$1" '$1 == k {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
		printf "%.2f", v }'
}

declare -A rps p50 p99 errs
for name in hello target; do
	path=/hello
	[ "$name" = target ] && path=$TARGET
	wrk -t"$THREADS" -c"$CONNS" -d2s "$base$path" >/dev/null 2>&1 || true # warm-up
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$base$path")
	echo "--- wrk $base$path"
	echo "$out" | sed -n '/Latency Distribution/,/Requests\/sec/p'
	rps[$name]=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	p50[$name]=$(echo "$out" | ms 50%)
	p99[$name]=$(echo "$out" | ms 99%)
	errs[$name]=$(echo "$out" | awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }')
done

echo
printf '%-24s %12s %10s %10s\n' endpoint req/s p50_ms p99_ms
printf '%-24s %12s %10s %10s\n' /hello "${rps[hello]}" "${p50[hello]}" "${p99[hello]}"
printf '%-24s %12s %10s %10s\n' "$TARGET" "${rps[target]}" "${p50[target]}" "${p99[target]}"
awk -v a="${rps[target]}" -v b="${rps[hello]}" -v t="$TARGET" \
	'BEGIN { if (b > 0) printf "ratio %s / hello (req/s): %.2f\n", t, a / b }'
echo "($THREADS threads, $CONNS connections, $DURATION, $PB_PROCS processes each, lighttpd plain HTTP, $(nproc) cores)"
for name in hello target; do
	[ -n "${errs[$name]}" ] && echo "warning: $name: ${errs[$name]}"
done
exit 0
