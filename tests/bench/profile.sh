#!/usr/bin/env bash
# tests/bench/profile.sh - where a cached bill inquiry's time goes inside
# phonebill-bill: valgrind --tool=callgrind on the bill program under a
# short, light load, then the top functions (instructions, inclusive and
# self) per request.  Instruction counts do not depend on how busy the
# machine is, so two runs (before and after a change) compare even on a
# shared machine; wall time under valgrind means nothing.
#
#   tests/bench/profile.sh [inquiry|status]      (default inquiry)
#
#   inquiry  POST /api/v1/bills/inquiry as demo01 (cached, MVNO on)
#   status   GET /api/v1/bills/inquiry/{id} (the reference path)
#
# One bill process (PB_PROCS=1) runs under callgrind, collecting only inside
# pb_request_serve (start-up is left out); wrk sends requests for
# PROFILE_SECONDS (20) over 2 connections (a few thousand under valgrind).  The stack is
# var/profile on ports 24380/24743, KOS 25380.  Output: the annotated
# totals in var/profile/callgrind/report.txt and the top lines here.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MODE=${1:-inquiry}
case $MODE in inquiry|status) ;; *) echo "usage: $0 [inquiry|status]" >&2; exit 2 ;; esac
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

export PB_STATE=var/profile
export PB_HTTP_PORT=${PROFILE_HTTP_PORT:-24380} PB_HTTPS_PORT=${PROFILE_HTTPS_PORT:-24743}
export PB_KOS_PORT=${PROFILE_KOS_PORT:-25380}
export PB_PROCS=1 PB_LOG_LEVEL=warn PB_TRUSTED_PROXIES=127.0.0.1
SECONDS_=${PROFILE_SECONDS:-20}

script/setup >/dev/null
# shellcheck source=../../script/lib/stack.sh
. script/lib/stack.sh
if [ -f "$PB_STATE/stack.env" ]; then
	(PB_REUSE_ENV=1 pb_stack_init && pb_stack_stop) >/dev/null 2>&1 || true
fi
rm -rf "$PB_STATE/mariadb" "$PB_STATE/redis" "$PB_STATE/spool" "$PB_STATE/callgrind"
mkdir -p "$PB_STATE/callgrind"
CG=$(cd "$PB_STATE/callgrind" && pwd)
# the web server's user writes the profiles
chmod 1777 "$CG"
cat >"$CG/bill-wrapper" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --toggle-collect=pb_request_serve \\
	--callgrind-out-file=$CG/callgrind.out.%p --log-file=$CG/valgrind.%p.log \\
	$ROOT/fcgi/bill/phonebill-bill
EOF
chmod 0755 "$CG/bill-wrapper"
export PB_BIN_BILL=$CG/bill-wrapper
pb_stack_init
stop_all() { (pb_stack_stop) >/dev/null 2>&1 || true; }
trap stop_all EXIT
pb_backends_start
pb_lighttpd_start
base=http://127.0.0.1:$PB_HTTP_PORT
kos=http://127.0.0.1:$PB_KOS_PORT
# valgrind starts slowly
pb_wait_health "$base/api/v1/bills/health" 120 || pb_die "the bill service does not answer 200"
pb_wait_health "$kos/_sim/health" 30 || pb_die "the KOS simulator does not answer 200"

cur=$(curl -s --max-time 5 "$kos/api/v1/kos/bill/available-months/01012345678" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["currentMonth"])')
y=${cur:0:4} m=$((10#${cur:4:2} - 1))
[ "$m" -eq 0 ] && { m=12; y=$((y - 1)); }
BENCH_MONTH=$(printf '%04d-%02d' "$y" "$m")
BENCH_TOKEN=$(python3 tests/bench/zipf.py token --base "$base" --user demo01 --xff 10.250.0.9 <<<'Phonebill!1')
export BENCH_TOKEN BENCH_MONTH BENCH_LINE=010-1234-5678
out=$(curl -s --max-time 60 "$base/api/v1/bills/inquiry" -H "Authorization: Bearer $BENCH_TOKEN" \
	-H 'Content-Type: application/json' \
	-d "{\"lineNumber\":\"$BENCH_LINE\",\"inquiryMonth\":\"$BENCH_MONTH\"}")
rid=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["requestId"])')
url=$base/api/v1/bills/inquiry
[ "$MODE" = status ] && { url=$url/$rid; export BENCH_GET=1; }
wrk -t1 -c2 -d"${SECONDS_}s" -s tests/bench/inquiry.lua "$url" | tee "$CG/wrk.txt" | grep -E 'requests in|bench-status'
n=$(awk '/requests in/ { print $1 }' "$CG/wrk.txt")

# a graceful stop writes the profile (the program exits on SIGTERM)
for f in "$CG"/valgrind.*.log; do
	p=${f##*/valgrind.}; p=${p%.log}
	kill -TERM "$p" 2>/dev/null || true
done
for _ in $(seq 100); do
	ls "$CG"/callgrind.out.* >/dev/null 2>&1 && ! pgrep -f "$CG/callgrind.out" >/dev/null && break
	sleep 0.2
done
# the prefork child served the requests: the largest profile
prof=$(find "$CG" -maxdepth 1 -name 'callgrind.out.*' -printf '%s %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-)
callgrind_annotate --inclusive=yes "$prof" >"$CG/report-inclusive.txt" 2>/dev/null
callgrind_annotate "$prof" >"$CG/report.txt" 2>/dev/null
total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' "$CG/report.txt")
echo "=== callgrind, $MODE: $n requests, $total instructions in pb_request_serve: $((total / (n > 0 ? n : 1))) per request"
# "file:function [object]" -> "function (object)"; the frames above
# pb_request_serve (libc start, main) are left out
top() {
	awk -v n="$n" -v t="$total" -v max="$2" '/^ *[0-9,]+ .*[:(]/ && c < max {
		v = $1; gsub(",", "", v); if (v + 0 == 0) next
		fn = $0; sub(/^ *[0-9,]+ *(\([^)]*\))? */, "", fn)
		if (fn ~ /PROGRAM TOTALS|libc-start|below main|main\.c:main |pb_app_main|ld-linux/) next
		obj = fn; sub(/^.*\[/, "", obj); sub(/\]$/, "", obj); sub(/^.*\//, "", obj)
		sub(/ \[.*$/, "", fn); sub(/^.*:/, "", fn)
		printf "%10d %5.1f%%  %s (%s)\n", v / n, 100 * v / t, fn, obj; c++ }' "$1"
}
echo "--- top inclusive (instructions per request, share of the request)"
top "$CG/report-inclusive.txt" 25
echo "--- top self"
top "$CG/report.txt" 15
