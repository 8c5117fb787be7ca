#!/usr/bin/env bash
# tests/bench/run.sh - throughput and latency of our endpoints against the
# smallest possible FastCGI program (tests/bench/hello-fcgi), both behind
# the same lighttpd, same process count, plain HTTP, measured in one run.
# BENCH_SERVER=apache: the same through Apache 2.4 + mod_fcgid instead (the
# stack's conf/httpd/apache/ config; /hello a mod_fcgid class of its own with
# the services' process count and recycling, every measured class pre-warmed
# to its full process count first: mod_fcgid spawns on demand).
#
#   tests/bench/run.sh [health|inquiry|zipf|pipeline|all]     (default all)
#
#   health   wrk: /hello vs BENCH_PATH (default /api/v1/auth/health)
#   inquiry  wrk: /hello vs the cached bill inquiry (POST /api/v1/bills/inquiry
#            as demo01, one line and month, cache warmed first), every answer
#            checked for 200 (tests/bench/inquiry.lua); then the inquiry
#            again with MVNO delivery off (mvno.url emptied in the rendered
#            bill.conf, the web server restarted), then once more with
#            phonebill-worker stopped (SIGSTOP: the answers alone, the
#            history waiting in the stream), then the default config back.
#            For reference also GET /bills/inquiry/{id} (same token check
#            and Redis read, no history write or delivery behind it).
#            Printed besides: each program's CPU share and microseconds
#            per request (hello, GET, inquiry, answers alone), MariaDB's
#            CPU by account (our worker against the MVNO AP's stand-in),
#            Redis commands, round trips and forks, a plan change row
#            (tests/bench/change.py) and a login row (login_flood.py)
#   zipf     tests/bench/zipf.py: a user per simulator line with bills, a
#            cold bill cache, N inquiries with Zipf-distributed line and
#            month; KOS calls per 100 inquiries and the cache hit ratio
#   pipeline the path after the answer (phonebill-worker): a 10 s wrk
#            saturation run of the cached inquiry, then the seconds until
#            the hand-off backlog and the MVNO outbox are empty; then 200
#            inquiries/s for 10 s (tests/bench/paced.py) and the time from
#            each answer to its acknowledged MVNO delivery (p50/p99/max,
#            from the rows); the CPU share of each program (tests/bench/cpu.py)
#
# Each mode builds, starts var/bench (ports 24080/24443, KOS 25080) if it is
# not running, measures and prints; the stack is stopped at the end.
# Environment: BENCH_SERVER (lighttpd or apache, default lighttpd),
# BENCH_PORT_OFFSET (added to the three default ports, 0; below 6600 keeps
# every port below 32768), BENCH_DURATION (10s), BENCH_CONNECTIONS (health
# 32, inquiry 50), BENCH_CHANGES (plan changes, 30), BENCH_LOGINS (the
# login flood, 60), BENCH_REDIS_MAXMEMORY (512mb), BENCH_PERF=1 (perf record on the
# stack during the cached inquiry run, top symbols printed), BENCH_THREADS
# (wrk threads, 2), BENCH_PROCS (FastCGI processes per program, 2), BENCH_PATH, BENCH_MONTH (inquiry month YYYY-MM, default the
# previous month in KST), BENCH_ZIPF_REQUESTS (3000), BENCH_ZIPF_THREADS
# (16), BENCH_ZIPF_S (1.1), BENCH_ZIPF_SEED (1), BENCH_KEEP_STACK=1,
# BENCH_PROBE=1 (pipeline: the queues every 2 s while draining),
# BENCH_PIPELINE_LINES_ONLY=1 (pipeline: only the many-lines run),
# BENCH_KOS_PROCS (simulator / MVNO AP processes, 4), BENCH_DB_BUFFER_POOL
# (the MariaDB buffer pool, 512M).
# Not part of script/test: numbers depend on the machine; nothing here
# passes or fails on a number.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

MODE=${1:-all}
case $MODE in
health|inquiry|zipf|pipeline|all) ;;
*)
	echo "usage: $0 [health|inquiry|zipf|pipeline|all]" >&2
	exit 2
	;;
esac

DURATION=${BENCH_DURATION:-10s}
THREADS=${BENCH_THREADS:-2}
TARGET=${BENCH_PATH:-/api/v1/auth/health}

SERVER=${BENCH_SERVER:-lighttpd}
case $SERVER in
lighttpd|apache) ;;
*)
	echo "BENCH_SERVER must be lighttpd or apache" >&2
	exit 2
	;;
esac
OFF=${BENCH_PORT_OFFSET:-0}
case $OFF in ''|*[!0-9]*) echo "BENCH_PORT_OFFSET must be a number" >&2; exit 2 ;; esac

export PB_STATE=var/bench
# Below 32768: Linux hands out the ports above to outgoing connections.
# Apache takes the same ports (PB_APACHE_* default to these): one web
# server runs at a time.
export PB_HTTP_PORT=${BENCH_HTTP_PORT:-$((24080 + OFF))} PB_HTTPS_PORT=${BENCH_HTTPS_PORT:-$((24443 + OFF))}
export PB_KOS_PORT=${BENCH_KOS_PORT:-$((25080 + OFF))}
export PB_PROCS=${BENCH_PROCS:-2}
# The KOS simulator is also the MVNO AP's stand-in.  A real MVNO AP runs on
# its own servers; here it shares the two cores, and with two processes it
# was the pipeline's bottleneck (every delivery is two fsync'd commits
# there, about 1 ms of a process).  Four processes keep it out of the way of
# what is measured (our worker).  The MariaDB of the benchmark gets a
# buffer pool that holds a run's history (production sizes it to the data;
# the test stacks keep 64 MB).
export PB_KOS_PROCS=${BENCH_KOS_PROCS:-4}
export PB_DB_BUFFER_POOL=${BENCH_DB_BUFFER_POOL:-512M}
# The services log every request at info: warn keeps the disk out of it.
export PB_LOG_LEVEL=${BENCH_LOG_LEVEL:-warn}
# Logins name their own client address (X-Forwarded-For from loopback).
export PB_TRUSTED_PROXIES=127.0.0.1

script/setup
[ -x tests/bench/hello-fcgi ] || make tests/bench/hello-fcgi >/dev/null
# shellcheck source=../../script/lib/stack.sh
. script/lib/stack.sh
# A run starts from empty databases, as script/test does: a backlog of
# deliveries or history left by an earlier run would be measured too.
if [ -f "$PB_STATE/stack.env" ]; then
	(PB_REUSE_ENV=1 pb_stack_init && pb_stack_stop) >/dev/null 2>&1 || true
fi
rm -rf "$PB_STATE/mariadb" "$PB_STATE/redis" "$PB_STATE/spool" "$PB_STATE/apache/log"
pb_stack_init

# MVNO delivery on or off for the bill service: pb_lighttpd_start and
# pb_apache_start render the service configs afresh from the templates, so
# the switch is applied to the rendered bill.conf right after each
# rendering (the template stays as it is).  BENCH_MVNO=off empties
# mvno.url, which disables delivery.
BENCH_MVNO=on
eval "pb_service_configs_stock() $(declare -f pb_service_configs | tail -n +2)"
# shellcheck disable=SC2317  # called by script/lib/stack.sh
pb_service_configs() {
	pb_service_configs_stock
	if [ "$BENCH_MVNO" = off ]; then
		sed -i 's|^mvno\.url *=.*$|mvno.url =|' "$PB_CONF_DIR/bill.conf"
	fi
	# BENCH_MVNO_INFLIGHT: deliveries in flight at once (mvno.inflight)
	if [ -n "${BENCH_MVNO_INFLIGHT:-}" ]; then
		sed -i '/^mvno\.inflight *=/d' "$PB_CONF_DIR/bill.conf"
		echo "mvno.inflight = $BENCH_MVNO_INFLIGHT" >>"$PB_CONF_DIR/bill.conf"
	fi
}

# BENCH_STOPPED: the pid of a phonebill-worker stopped for a run (SIGSTOP),
# let go again whatever ends the script.
BENCH_STOPPED=
# shellcheck disable=SC2317 # called by the trap below
stop_all() {
	[ -n "$BENCH_STOPPED" ] && kill -CONT "$BENCH_STOPPED" 2>/dev/null
	[ "${BENCH_KEEP_STACK:-0}" = 1 ] || (pb_stack_stop) >/dev/null 2>&1
}
trap stop_all EXIT

BENCH_DIR=$PB_STATE/bench      # generated files (tokens are not kept)
mkdir -p "$BENCH_DIR"
chmod 0700 "$BENCH_DIR"

HELLO=$ROOT/tests/bench/hello-fcgi
base=http://127.0.0.1:$PB_HTTP_PORT
kos=http://127.0.0.1:$PB_KOS_PORT

# hello_conf: a fresh per-stack config each run (included by the stack's),
# /hello served like a service.
hello_conf() {
	if [ "$SERVER" = lighttpd ]; then
		cat >"$PB_CONF_DIR/lighttpd.local.conf" <<EOF
# benchmark baseline (tests/bench/run.sh)
fastcgi.server += (
	"/hello" => ((
		"socket" => "$PB_LIGHTTPD_DIR/sockets/hello.sock",
		"bin-path" => "$HELLO",
		"max-procs" => $PB_PROCS,
		"min-procs" => $PB_PROCS,
		"check-local" => "disable",
	)),
)
EOF
		return 0
	fi
	# mod_fcgid: a class of its own with the bill service's options
	# (process count, recycling after MaxRequestsPerProcess requests, read
	# from the template).  The state directory in its environment lets
	# tests/bench/cpu.py --only find it (Apache's programs inherit nothing).
	local recycle
	recycle=$(sed -n '/^FcgidCmdOptions "@BIN_BILL@"/,/[^\\]$/p' \
		"$ROOT/conf/httpd/apache/phonebill.conf.in" | grep -o 'MaxRequestsPerProcess [0-9]*')
	[ -n "$recycle" ] || pb_die "no MaxRequestsPerProcess for the bill class in conf/httpd/apache/phonebill.conf.in"
	cat >"$PB_CONF_DIR/apache.local.conf" <<EOF
# benchmark baseline (tests/bench/run.sh)
FcgidCmdOptions "$HELLO" \\
	InitialEnv PHONEBILL_BENCH_STATE=$PB_STATE \\
	MaxProcesses $PB_PROCS MinProcesses $PB_PROCS $recycle IOTimeout 40
Alias /hello "$HELLO"
<Location /hello>
	SetHandler fcgid-script
	Options +ExecCGI
	Require all granted
</Location>
EOF
}

# fcgid_procs PROGRAM: how many processes run PROGRAM under the stack's Apache.
fcgid_procs() {
	local apid p n=0
	apid=$(pb_pid_of "$PB_APACHE_DIR/run/apache2.pid" apache2) || { echo 0; return 0; }
	for p in $(pb_descendants "$apid"); do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$1" ] && n=$((n + 1))
	done
	echo "$n"
}

# fcgid_prewarm URL PROGRAM WANT: load on URL until PROGRAM runs WANT
# processes (60 s at most).  mod_fcgid starts a class's processes on
# demand only, one per spawn request, and a request that finds every
# process of its class busy sleeps a whole second before it asks again:
# left to the measured run, that spawning would be measured.
fcgid_prewarm() {
	local url=$1 bin=$2 want=$3 conns=${BENCH_CONNECTIONS:-50} i n
	[ "$conns" -gt "$want" ] || conns=$((want + 1))
	for ((i = 0; i < 30; i++)); do
		n=$(fcgid_procs "$bin")
		[ "$n" -ge "$want" ] && break
		wrk -t"$THREADS" -c"$conns" -d2s "$url" >/dev/null 2>&1 || true
	done
	if [ "$n" -ge "$want" ]; then
		echo "mod_fcgid: $n processes of $(basename "$bin") after $((i * 2)) s of warm-up load"
	else
		echo "warning: mod_fcgid runs $n processes of $(basename "$bin") (want $want) after $((i * 2)) s of load"
	fi
}

# fcgid_summary: under Apache, what mod_fcgid runs now and what it warned
# of in this run (the log starts empty; "can't apply process slot" is a
# request it gave up on, a 503).
fcgid_summary() {
	[ "$SERVER" = apache ] || return 0
	echo "mod_fcgid now: $(fcgid_procs "$HELLO") hello-fcgi, $(fcgid_procs "$PB_BIN_BILL") phonebill-bill (with health) processes;" \
		"$(awk '/mod_fcgid: / { n++ } /apply process slot/ { s++ }
		    END { printf "error log: %d mod_fcgid warnings, %d without a process slot", n, s }' \
			"$PB_APACHE_DIR/log/error.log")"
}

web_stop() { "pb_${SERVER}_stop"; }
web_start() { "pb_${SERVER}_start"; }

# web_ready: every program answers; under Apache every class the inquiry
# bench uses runs at its full size, as lighttpd starts them (the bill
# program's count includes the process of its health class; the login
# pool is left to spawn on demand: warming it would hash passwords).
web_ready() {
	pb_wait_health "$base/hello" 30 || pb_die "/hello does not answer 200"
	pb_wait_health "$base/api/v1/auth/health" 30 || pb_die "the auth service does not answer 200"
	pb_wait_health "$base/api/v1/bills/health" 30 || pb_die "the bill service does not answer 200"
	pb_wait_health "$kos/_sim/health" 30 || pb_die "the KOS simulator does not answer 200"
	[ "$SERVER" = apache ] || return 0
	fcgid_prewarm "$base/hello" "$HELLO" "$PB_PROCS"
	# (no login has run since the start: no process of the login pool)
	fcgid_prewarm "$base/api/v1/auth/health" "$PB_BIN_AUTH" "$PB_PROCS"
	# no token: the programs themselves answer 401 at once
	fcgid_prewarm "$base/api/v1/bills/inquiry/prewarm" "$PB_BIN_BILL" $((PB_PROCS + 1))
	fcgid_prewarm "$base/api/v1/products/menu" "$PB_BIN_PRODUCT" "$PB_PROCS"
	# the MVNO AP stand-in (deliveries) and KOS (plan changes)
	fcgid_prewarm "$kos/_sim/health" "$PB_BIN_KOS" "$PB_KOS_PROCS"
}

web_stop
hello_conf
pb_backends_start
# The stack's Redis has 128 MB (noeviction): at bench rates the stored
# answers (an hour each) and the hand-off backlog outgrow it within one
# 10 s run, and then the inquiry answers 503 (as it must: the history
# cannot be made durable).  The bench measures speed, so its Redis gets
# BENCH_REDIS_MAXMEMORY (512mb).
REDISCLI_AUTH=$(pb_secret redis_password) redis-cli -s "$PB_REDIS_SOCKET" \
	config set maxmemory "${BENCH_REDIS_MAXMEMORY:-512mb}" >/dev/null
# MariaDB counts busy time per account (db_stats); off by default.
pb_mariadb_admin -e "SET GLOBAL userstat = 1" >/dev/null
pb_check_reachable "$HELLO"
web_start
web_ready

# --- helpers -----------------------------------------------------------------

# wrk's latency table: "50%   1.23ms"; normalise to milliseconds.
ms() {
	awk -v k="$1" '$1 == k {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
		printf "%.2f", v }'
}

declare -A rps p50 p99 errs checked reqs

# wrk_run NAME URL CONNECTIONS [LUA-SCRIPT]: a 2 s warm-up, then the
# measured run; results in rps[NAME] p50[NAME] p99[NAME] errs[NAME] and,
# with the Lua script, checked[NAME] ("ok=N failed=N statuses=..."); prints
# each program's CPU during the measured run (tests/bench/cpu.py).
wrk_run() {
	local name=$1 url=$2 conns=$3 lua=${4:-} out
	local args=(-t"$THREADS" -c"$conns")
	[ -n "$lua" ] && args+=(-s "$lua")
	[ "${WRK_NO_WARMUP:-0}" = 1 ] || wrk "${args[@]}" -d2s "$url" >/dev/null 2>&1 || true # warm-up
	python3 tests/bench/cpu.py snap "$BENCH_DIR/cpu-$name.json" --only "$PB_STATE"
	out=$(wrk "${args[@]}" -d"$DURATION" --latency "$url")
	echo "--- wrk $name: $url ($conns connections)"
	echo "$out" | sed -n '/Latency Distribution/,/Requests\/sec/p'
	echo "$out" | grep '^bench-status' || true
	rps[$name]=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	p50[$name]=$(echo "$out" | ms 50%)
	p99[$name]=$(echo "$out" | ms 99%)
	errs[$name]=$(echo "$out" | awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }')
	reqs[$name]=$(echo "$out" | awk '/requests in/ { print $1 }')
	checked[$name]=$(echo "$out" | sed -n 's/^bench-status \(ok=[0-9]* failed=[0-9]* statuses=[^ ]*\).*/\1/p')
	python3 tests/bench/cpu.py diff "$BENCH_DIR/cpu-$name.json" --only "$PB_STATE" --requests "${reqs[$name]:-0}"
}

row() {
	printf '%-34s %10s %8s %8s  %s\n' "$@"
}

# ratio NAME BASE: NAME's req/s over BASE's
ratio() {
	awk -v a="${rps[$1]:-0}" -v b="${rps[$2]:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "-" }'
}

# The month before the current one, as the stack sees it (the simulator's
# current month, KST; its clock may be moved, the host's is not asked).
prev_month_kst() {
	local cur y m
	cur=$(curl -s --max-time 5 "$kos/api/v1/kos/bill/available-months/01012345678" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["currentMonth"])') ||
		pb_die "the KOS simulator does not say which month it is"
	y=${cur:0:4} m=$((10#${cur:4:2} - 1))
	[ "$m" -eq 0 ] && { m=12; y=$((y - 1)); }
	printf '%04d-%02d\n' "$y" "$m"
}

# login USER XFF: the access token; the password on stdin.  The login rate
# limit counts per client address; the bench stack trusts X-Forwarded-For
# from 127.0.0.1 (PB_TRUSTED_PROXIES), so each login names its own.
login() {
	python3 tests/bench/zipf.py token --base "$base" --user "$1" --xff "$2"
}

sql() { pb_mariadb_admin -N -B -e "$1"; }

# MVNO outbox of the bill service: pending and delivered rows.
outbox() {
	sql "SELECT CONCAT('pending=', COALESCE(SUM(mvno_next_at IS NOT NULL), 0),
	    ' delivered=', COALESCE(SUM(mvno_delivered_at IS NOT NULL), 0))
	    FROM phonebill_bill.bill_request_history"
}

# redis_unlink PATTERN: remove the matching keys; print how many.
redis_unlink() {
	local auth
	auth=$(pb_secret redis_password)
	REDISCLI_AUTH=$auth redis-cli -s "$PB_REDIS_SOCKET" --scan --pattern "$1" |
		REDISCLI_AUTH=$auth xargs -r -n 500 redis-cli -s "$PB_REDIS_SOCKET" UNLINK |
		awk '{ s += $1 } END { print s + 0 }'
}

redis_memory() {
	REDISCLI_AUTH=$(pb_secret redis_password) redis-cli -s "$PB_REDIS_SOCKET" info memory |
		tr -d '\r' | awk -F: '$1 == "used_memory_human" { u = $2 } $1 == "maxmemory_human" { m = $2 }
		    $1 == "maxmemory_policy" { p = $2 } END { printf "used %s of maxmemory %s (%s)", u, m, p }'
}

# redis_stats FILE: INFO commandstats + INFO stats of the stack's Redis.
redis_stats() {
	REDISCLI_AUTH=$(pb_secret redis_password) redis-cli -s "$PB_REDIS_SOCKET" info commandstats >"$1"
	REDISCLI_AUTH=$(pb_secret redis_password) redis-cli -s "$PB_REDIS_SOCKET" info stats >>"$1"
}

# db_stats FILE: MariaDB's CPU and busy time per account (USER_STATISTICS; the
# bench turns userstat on after the stack starts), so that mariadbd's CPU
# share splits into our worker (phonebill_bill: history rows and their
# delivery bookkeeping) and the MVNO AP's stand-in (kos_sim: every receipt
# is a fault lookup and two commits), which in production runs elsewhere.
db_stats() {
	sql "SELECT USER, BUSY_TIME, CPU_TIME, COMMIT_TRANSACTIONS, ROWS_INSERTED + ROWS_UPDATED
	    FROM information_schema.USER_STATISTICS" >"$1" 2>/dev/null || : >"$1"
}

# db_split BEFORE AFTER: one line, the accounts' CPU and busy seconds
# between two db_stats snapshots, largest first.
db_split() {
	awk 'NR == FNR { b[$1] = $2; u[$1] = $3; c[$1] = $4; next }
	    { d = $3 - u[$1]; if (d > 0.0005) printf "%s %.2f %.2f %d\n", $1, d, $2 - b[$1], $4 - c[$1] }' "$1" "$2" |
		sort -k2,2 -rn | awk 'BEGIN { printf "mariadbd CPU by account (its statements; background threads not counted):" }
		    { printf " %s %.2f s (busy %.2f s, %d commits)", $1, $2, $3, $4 } END { print "" }'
}

# redis_per_request BEFORE AFTER REQUESTS: Redis commands and round trips
# per request between two redis_stats snapshots.  Round trips are the
# server's socket reads (total_reads_processed): a pipeline sent in one
# write is one read.  Every client counts (the worker's XREADGROUP/XACK and
# health checks too, a small share at these rates); and the forks (INFO
# stats total_forks) during the run.
redis_per_request() {
	python3 - "$1" "$2" "$3" <<'PYEOF'
import re, sys
def load(p):
    calls, stats = {}, {}
    for line in open(p):
        line = line.strip()
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m:
            calls[m.group(1)] = int(m.group(2))
        elif ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            stats[k] = v
    return calls, stats
(b, bs), (a, as_), n = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
if n <= 0:
    print("Redis per request: no requests"); sys.exit(0)
d = {k: a[k] - b.get(k, 0) for k in a if a[k] - b.get(k, 0) > 0}
d.pop("info", None)
total = sum(d.values())
reads = int(as_.get("total_reads_processed", 0)) - int(bs.get("total_reads_processed", 0))
top = " ".join("%s %.2f" % (k, v / n) for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:8])
forks = int(as_.get("total_forks", 0)) - int(bs.get("total_forks", 0))
fork = "; %d fork(s) during the run (append-only file rewrites or dumps; the last held every client %s us)" % (forks, as_.get("latest_fork_usec", "?")) if forks > 0 else "; no fork during the run"
print("Redis per request: %.2f commands, %.2f round trips (server reads); commands: %s%s" % (total / n, reads / n, top, fork))
PYEOF
}

# Every inquiry keeps its answer an hour in Redis (v1:bill-req:{requestId},
# about 1.6 KB, for GET /bills/inquiry/{id}); at benchmark rates they fill
# the stack's 128 MB Redis (maxmemory-policy noeviction) in about a minute,
# after which Redis refuses writes (logins answer 503).  Each run starts
# without them, so that runs can follow each other; the memory used after
# a run is printed.
clear_stored_results() {
	echo "stored results removed from Redis: $(redis_unlink 'v1:bill-req:*') v1:bill-req:* keys; $(redis_memory)"
}

sim_calls() {
	curl -s --max-time 5 "$kos/_sim/stats" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["operations"][sys.argv[1]]["calls"])' "$1"
}

# restart_mvno on|off: the web server (and every FastCGI program) again,
# with the bill service's MVNO delivery on or off; checked through its health.
restart_mvno() {
	local want
	BENCH_MVNO=$1
	web_stop 2>/dev/null
	web_start 2>/dev/null
	web_ready
	want=ENABLED
	[ "$1" = off ] && want=DISABLED
	curl -s "$base/api/v1/bills/health" | grep -q "\"mvno\":\"$want\"" ||
		pb_die "the bill service's health does not say mvno $want"
}

# --- health: /hello vs a GET endpoint ------------------------------------------

bench_health() {
	local conns=${BENCH_CONNECTIONS:-32}
	pb_wait_health "$base$TARGET" 30 || pb_die "$TARGET does not answer 200"
	echo "=== health: /hello vs $TARGET"
	wrk_run hello "$base/hello" "$conns"
	wrk_run target "$base$TARGET" "$conns"
	echo
	row endpoint req/s p50_ms p99_ms
	row /hello "${rps[hello]}" "${p50[hello]}" "${p99[hello]}"
	row "$TARGET" "${rps[target]}" "${p50[target]}" "${p99[target]}"
	echo "ratio $TARGET / hello (req/s): $(ratio target hello)"
	echo "($THREADS threads, $conns connections, $DURATION, $PB_PROCS processes each, $SERVER plain HTTP, $(nproc) cores)"
	for name in hello target; do
		[ -n "${errs[$name]}" ] && echo "warning: $name: ${errs[$name]}"
	done
	echo
}

# --- inquiry: /hello vs the cached bill inquiry ----------------------------------

bench_inquiry() {
	local conns=${BENCH_CONNECTIONS:-50} month=${BENCH_MONTH:-$(prev_month_kst)}
	local line=010-1234-5678 lua=tests/bench/inquiry.lua
	local code before after rid
	local -A ob_start ob_end rpr

	echo "=== inquiry: /hello vs POST /api/v1/bills/inquiry (demo01, $line, $month, cached)"
	clear_stored_results
	# demo01's password is the README's (script/lib/stack.sh seeds it).
	BENCH_TOKEN=$(login demo01 10.250.0.1 <<<'Phonebill!1') || pb_die "demo01 cannot log in"
	export BENCH_TOKEN BENCH_LINE=$line BENCH_MONTH=$month

	# Warm the cache: one inquiry (a KOS call when the key is cold).
	before=$(sim_calls bill.inquiry)
	code=$(curl -s -o "$BENCH_DIR/inquiry.json" -w '%{http_code}' --max-time 10 \
		"$base/api/v1/bills/inquiry" -H "Authorization: Bearer $BENCH_TOKEN" \
		-H 'Content-Type: application/json' \
		-d "{\"lineNumber\":\"$line\",\"inquiryMonth\":\"$month\"}")
	[ "$code" = 200 ] || { cat "$BENCH_DIR/inquiry.json" >&2; pb_die "the warming inquiry answered $code"; }
	after=$(sim_calls bill.inquiry)
	echo "cache warmed: one inquiry, $((after - before)) KOS call(s); response $(wc -c <"$BENCH_DIR/inquiry.json") bytes"
	rid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["data"]["requestId"])' "$BENCH_DIR/inquiry.json")

	# The baseline runs the same Lua (without a token: a plain GET) so that
	# both pay the same client-side cost of checking every response.
	wrk_run hello "$base/hello" "$conns" "$lua"
	# A reference inside the bill service: the warming inquiry's stored
	# result.  The same token check and a Redis read of the same size, but
	# no history rows and no MVNO delivery behind it.
	BENCH_GET=1 wrk -t"$THREADS" -c"$conns" -s "$lua" -d2s "$base/api/v1/bills/inquiry/$rid" >/dev/null 2>&1 || true
	redis_stats "$BENCH_DIR/redis.before"
	BENCH_GET=1 WRK_NO_WARMUP=1 wrk_run status "$base/api/v1/bills/inquiry/$rid" "$conns" "$lua"
	redis_stats "$BENCH_DIR/redis.after"
	rpr[status]=$(redis_per_request "$BENCH_DIR/redis.before" "$BENCH_DIR/redis.after" "${reqs[status]:-0}")
	echo "${rpr[status]}"
	before=$(sim_calls bill.inquiry)
	ob_start[on]=$(outbox)
	# the warm-up inside wrk_run would be counted too: snapshots after it
	wrk -t"$THREADS" -c"$conns" -s "$lua" -d2s "$base/api/v1/bills/inquiry" >/dev/null 2>&1 || true
	redis_stats "$BENCH_DIR/redis.before"
	db_stats "$BENCH_DIR/db.before"
	# BENCH_PERF=1: perf (software clock) on the stack's
	# processes during the measured run; the top symbols after it
	local perf_pid=
	if [ "${BENCH_PERF:-0}" = 1 ]; then
		perf record -q -e cpu-clock -o "$BENCH_DIR/perf.data" \
			-p "$(python3 tests/bench/cpu.py pids - --only "$PB_STATE")" \
			-- sleep "${DURATION%s}" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	WRK_NO_WARMUP=1 wrk_run inquiry "$base/api/v1/bills/inquiry" "$conns" "$lua"
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid" || true
		echo "--- perf (cpu-clock) during the inquiry run: by program and object, then top symbols"
		perf report -i "$BENCH_DIR/perf.data" --no-children -g none --sort comm,dso \
			--stdio 2>/dev/null | grep -v '^#' | grep '%' | sed -n 1,12p
		perf report -i "$BENCH_DIR/perf.data" --no-children -g none --sort comm,dso,sym \
			--stdio 2>/dev/null | grep -v '^#' | grep '%' | sed -n 1,20p
	fi
	redis_stats "$BENCH_DIR/redis.after"
	db_stats "$BENCH_DIR/db.after"
	db_split "$BENCH_DIR/db.before" "$BENCH_DIR/db.after"
	rpr[inquiry]=$(redis_per_request "$BENCH_DIR/redis.before" "$BENCH_DIR/redis.after" "${reqs[inquiry]:-0}")
	echo "${rpr[inquiry]}"
	ob_end[on]=$(outbox)
	after=$(sim_calls bill.inquiry)
	echo "KOS bill.inquiry calls during warm-up + run: $((after - before))"
	echo "MVNO outbox before: ${ob_start[on]}; after: ${ob_end[on]}"
	echo "Redis after the run: $(redis_memory)"
	clear_stored_results

	echo "--- restarting $SERVER with MVNO delivery off (mvno.url empty in $PB_CONF_DIR/bill.conf)"
	restart_mvno off
	before=$(sim_calls bill.inquiry)
	ob_start[off]=$(outbox)
	wrk_run inquiry_nomvno "$base/api/v1/bills/inquiry" "$conns" "$lua"
	ob_end[off]=$(outbox)
	after=$(sim_calls bill.inquiry)
	echo "KOS bill.inquiry calls during warm-up + run: $((after - before))"
	echo "MVNO outbox before: ${ob_start[off]}; after: ${ob_end[off]}"
	echo "Redis after the run: $(redis_memory)"
	clear_stored_results
	# The answers alone: the same run with phonebill-worker stopped
	# (SIGSTOP), so that the history waits in the stream and MariaDB and
	# the worker take no CPU; what the path up to the answer costs when
	# the work after it runs on other machines.  Then it drains.
	BENCH_STOPPED=$(pb_pid_of "$PB_WORKER_DIR/worker.pid" phonebill-worker) || pb_die "no phonebill-worker"
	kill -STOP "$BENCH_STOPPED"
	WRK_NO_WARMUP=1 wrk_run inquiry_front "$base/api/v1/bills/inquiry" "$conns" "$lua"
	kill -CONT "$BENCH_STOPPED"
	BENCH_STOPPED=
	echo "history written $(drained_after 120 stream) s after the worker went on"
	clear_stored_results
	echo "--- restarting $SERVER with the default config (MVNO delivery on)"
	restart_mvno on
	unset BENCH_TOKEN
	bench_change_login

	echo
	row endpoint req/s p50_ms p99_ms "checked responses"
	row /hello "${rps[hello]}" "${p50[hello]}" "${p99[hello]}" "${checked[hello]}"
	row "GET inquiry/{id} (reference)" "${rps[status]}" "${p50[status]}" "${p99[status]}" "${checked[status]}"
	row "inquiry (cached, MVNO on)" "${rps[inquiry]}" "${p50[inquiry]}" "${p99[inquiry]}" "${checked[inquiry]}"
	row "inquiry (cached, MVNO off)" "${rps[inquiry_nomvno]}" "${p50[inquiry_nomvno]}" "${p99[inquiry_nomvno]}" "${checked[inquiry_nomvno]}"
	row "inquiry (MVNO off, worker stopped)" "${rps[inquiry_front]}" "${p50[inquiry_front]}" "${p99[inquiry_front]}" "${checked[inquiry_front]}"
	row "plan change (full, one at a time)" "-" "${p50[change]:--}" "${p99[change]:--}" "${checked[change]:-}"
	row "login (one at a time)" "-" "${p50[login]:--}" "-" "${checked[login]:-}"
	local target="target >= 0.5, p99 <= 5 ms"
	[ "$SERVER" = apache ] && target="target: lighttpd's ratio within 20 %, p99 <= 20 ms"
	echo "ratio inquiry / hello (req/s): MVNO on $(ratio inquiry hello), MVNO off $(ratio inquiry_nomvno hello)   ($target)"
	echo "reference GET inquiry/{id} / hello: $(ratio status hello) (no history write, no MVNO delivery)"
	echo "answers alone (worker stopped: no MariaDB, no worker) / hello: $(ratio inquiry_front hello)"
	echo "inquiry (MVNO on): ${rpr[inquiry]}"
	echo "GET inquiry/{id}:  ${rpr[status]}"
	echo "login flood: ${login_rate:-?} logins/s = $(awk -v r="${login_rate:-0}" -v c="$(nproc)" 'BEGIN { printf "%.1f", r / c }') password hashes per second per core (answers that needed a hash, 401: unknown ids get the dummy hash; 503s are logins the pool turned away)"
	echo "($THREADS threads, $conns connections, $DURATION after a 2 s warm-up, $PB_PROCS processes each, $SERVER plain HTTP, $(nproc) cores)"
	fcgid_summary
	for name in hello status inquiry inquiry_nomvno inquiry_front; do
		[ -n "${errs[$name]}" ] && echo "warning: $name: ${errs[$name]}"
		case ${checked[$name]} in
		*failed=0\ *) ;;
		*) echo "warning: $name: not every response was 200: ${checked[$name]:-no bench-status line}" ;;
		esac
	done
	echo
}

# bench_change_login: the plan change (tests/bench/change.py: full changes
# of demo01's line, one at a time, back and forth between two plans) and
# the login (tests/bench/login_flood.py: one at a time for its latency,
# then a flood for the rate of password hashes).  Fills p50/p99/checked
# [change] and [login], login_rate.
bench_change_login() {
	local tok out
	tok=$(login demo01 10.250.0.5 <<<'Phonebill!1') || pb_die "demo01 cannot log in"
	out=$(python3 tests/bench/change.py --base "$base" --token "$tok" \
		--line 010-1234-5678 --changes "${BENCH_CHANGES:-30}") || out="change: failed"
	echo "$out"
	p50[change]=$(echo "$out" | sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p')
	p99[change]=$(echo "$out" | sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p')
	checked[change]=$(echo "$out" | sed -n 's/.*statuses \({[^}]*}\).*/\1/p' | tr -d ' ')
	out=$(python3 tests/bench/login_flood.py --base "$base" --logins 10 --workers 1)
	echo "login one at a time: $out"
	p50[login]=$(echo "$out" | sed -n 's/.*latency median \([0-9]*\) ms.*/\1/p')
	checked[login]=$(echo "$out" | sed -n 's/.*statuses \({[^}]*}\).*/\1/p' | tr -d ' ')
	out=$(python3 tests/bench/login_flood.py --base "$base" --logins "${BENCH_LOGINS:-60}")
	echo "login flood: $out"
	login_rate=$(echo "$out" | sed -n 's/.* hashed \([0-9.]*\)\/s.*/\1/p')
}

# --- zipf: a skewed workload over every line, from a cold cache -----------------

# bench_users: a bench user (bench-<line>, BILL_INQUIRY) per simulator line
# with bills, all with one password ($BENCH_DIR/user.pw); the list goes to
# $BENCH_DIR/users as "id line status months".
bench_users() {
	local bin=${PB_BIN_ADMIN:-$ROOT/fcgi/admin/phonebill-admin}
	local pwfile=$BENCH_DIR/user.pw users=$BENCH_DIR/users lines=$BENCH_DIR/lines
	local digits cust status nmonths id line out n=0

	# One password for the bench users, generated once for this state dir.
	[ -s "$pwfile" ] || (umask 077 && printf 'Bench-%s\n' "$(openssl rand -hex 12)" >"$pwfile")
	python3 tests/bench/zipf.py lines --kos "$kos" >"$lines"
	: >"$users"
	while read -r digits cust status nmonths; do
		case $digits in '#'*) continue ;; esac
		id=bench-$digits
		line=${digits:0:3}-${digits:3:4}-${digits:7:4}
		# as script/lib/stack.sh's pb_seed_users does
		out=$(pb_as_run_user env -i PATH="$PATH" LANG=C.UTF-8 \
			PHONEBILL_CONFIG="$PB_CONF_DIR/auth.conf" \
			"$bin" add "$id" --customer "$cust" --line "$line" --name "벤치 $digits" \
			--perm BILL_INQUIRY --if-missing 2>&1 <"$pwfile") ||
			pb_die "adding $id failed: $out"
		echo "$id $line $status $nmonths" >>"$users"
		n=$((n + 1))
	done <"$lines"
	grep '^#' "$lines" || true
	echo "$n bench users (bench-<line>, BILL_INQUIRY), one per line with bills"
}

bench_zipf() {
	local pwfile=$BENCH_DIR/user.pw users=$BENCH_DIR/users hist_before

	echo "=== zipf: ${BENCH_ZIPF_REQUESTS:-3000} inquiries over every simulator line with bills, cold cache"
	bench_users

	# A cold cache: every v1:bill:* key goes (not the stale copies, which
	# an inquiry does not read while KOS answers).
	clear_stored_results
	echo "cold cache: $(redis_unlink 'v1:bill:*') v1:bill:* keys removed"

	hist_before=$(sql "SELECT COALESCE(MAX(id), 0) FROM phonebill_bill.bill_process_history")
	python3 tests/bench/zipf.py run --base "$base" --kos "$kos" --users "$users" \
		--password-file "$pwfile" --requests "${BENCH_ZIPF_REQUESTS:-3000}" \
		--threads "${BENCH_ZIPF_THREADS:-16}" --s "${BENCH_ZIPF_S:-1.1}" \
		--seed "${BENCH_ZIPF_SEED:-1}"
	# The history rows are written by phonebill-worker after the answers
	# (in batches): wait for all of them (30 s at most), then
	# read what the service itself recorded.
	local want=${BENCH_ZIPF_REQUESTS:-3000} got=0 i
	for ((i = 0; i < 300; i++)); do
		got=$(sql "SELECT COUNT(*) FROM phonebill_bill.bill_process_history WHERE id > $hist_before")
		[ "$got" -ge "$want" ] && break
		sleep 0.1
	done
	echo "history rows written $((i / 10)).$((i % 10)) s after the last answer ($got of $want)"
	sql "SELECT COUNT(*), COALESCE(SUM(cache_hit), 0), COALESCE(SUM(kos_called), 0),
	    COALESCE(ROUND(AVG(IF(kos_called, elapsed_ms, NULL)), 1), 0),
	    COALESCE(ROUND(AVG(IF(kos_called, NULL, elapsed_ms)), 1), 0)
	    FROM phonebill_bill.bill_process_history WHERE id > $hist_before" |
		awk '{ r = $1 > 0 ? 100 * $2 / $1 : 0
		    printf "history (bill_process_history): %d rows, cache_hit %d (%.1f %%), kos_called %d\n", $1, $2, r, $3
		    printf "  server-side elapsed_ms (answer ready), mean: with a KOS call %s, without %s\n", $4, $5 }'
	echo
}

# --- pipeline: what happens after the answer ---------------------------------------

# history_state: the bill service's health "history" object, one line.
history_state() {
	curl -s --max-time 5 "$base/api/v1/bills/health" |
		python3 -c 'import json, sys; h = json.load(sys.stdin)["data"]["history"]; print(" ".join("%s=%s" % kv for kv in sorted(h.items())))'
}

# drained_after SECONDS [stream]: poll until nothing waits (hand-off
# backlog and MVNO outbox; with "stream" the backlog only: the history
# written, deliveries not waited for); print how long it took.
drained_after() {
	local limit=$1 t0 now b o=0
	t0=$(date +%s%N)
	while :; do
		b=$(REDISCLI_AUTH=$(pb_secret redis_password) redis-cli -s "$PB_REDIS_SOCKET" XLEN v1:history)
		[ "${2:-}" = stream ] ||
			o=$(sql "SELECT COUNT(*) FROM phonebill_bill.bill_request_history WHERE mvno_next_at IS NOT NULL")
		now=$(date +%s%N)
		if [ "$b" = 0 ] && [ "$o" = 0 ]; then
			awk -v n="$((now - t0))" 'BEGIN { printf "%.1f", n / 1e9 }'
			return 0
		fi
		[ $(((now - t0) / 1000000000)) -ge "$limit" ] && { echo "not drained after ${limit}s (backlog $b, outbox $o)"; return 0; }
		# BENCH_PROBE=1: the two queues every 2 s, on stderr
		[ -n "${BENCH_PROBE:-}" ] && [ $(((now - t0) / 100000000 % 20)) = 0 ] &&
			echo "  probe $(((now - t0) / 1000000)) ms: backlog $b, outbox $o" >&2
		sleep 0.2
	done
}

# saturate NAME: a wrk run of the cached inquiry (BENCH_TOKEN or
# BENCH_TOKENS set by the caller), then how long until nothing waits.
saturate() {
	local name=$1 before n
	clear_stored_results
	before=$(sql "SELECT COALESCE(MAX(id), 0) FROM phonebill_bill.bill_request_history")
	wrk_run "$name" "$base/api/v1/bills/inquiry" "$conns" tests/bench/inquiry.lua
	n=$(sql "SELECT COUNT(*) FROM phonebill_bill.bill_request_history WHERE id > $before")
	echo "right after the run: $(history_state)"
	python3 tests/bench/cpu.py snap "$BENCH_DIR/cpu-drain.json" --only "$PB_STATE"
	echo "saturation ($name): ${rps[$name]} req/s for $DURATION; backlog and outbox empty $(drained_after 90) s after the run ($n rows so far)"
	echo "CPU while draining (after the load stopped):"
	python3 tests/bench/cpu.py diff "$BENCH_DIR/cpu-drain.json" --only "$PB_STATE"
}

# bench_tokens N MONTH: "token line;..." for up to N bench users whose
# cached inquiry of MONTH answers 200 (the cache is warmed on the way).
bench_tokens() {
	local want=$1 month=$2 id line status nmonths tok code out="" n=0
	while read -r id line status nmonths; do
		[ "$n" -ge "$want" ] && break
		tok=$(login "$id" 10.250.1.$((n + 2)) <"$BENCH_DIR/user.pw") || continue
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
			-H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
			-d "{\"lineNumber\":\"$line\",\"inquiryMonth\":\"$month\"}" \
			"$base/api/v1/bills/inquiry")
		[ "$code" = 200 ] || continue
		out="$out${out:+;}$tok $line"
		n=$((n + 1))
	done <"$BENCH_DIR/users"
	printf '%s\n' "$out"
}

bench_pipeline() {
	local conns=${BENCH_CONNECTIONS:-50} month=${BENCH_MONTH:-$(prev_month_kst)}
	local line=010-1234-5678 before t2 t3 nlines=${BENCH_LINES:-16}
	echo "=== pipeline: hand-off, phonebill-worker and MVNO delivery after the answers"
	export BENCH_MONTH=$month
	# Saturation over many customer lines (how load arrives in production):
	# results of different lines are delivered in parallel (mvno.inflight).
	bench_users >/dev/null
	BENCH_TOKENS=$(bench_tokens "$nlines" "$month")
	export BENCH_TOKENS
	echo "saturation over $(tr ';' '\n' <<<"$BENCH_TOKENS" | grep -c .) lines (bench users), $conns connections"
	saturate saturate-lines
	unset BENCH_TOKENS
	# BENCH_PIPELINE_LINES_ONLY=1: stop after the many-lines run
	[ -n "${BENCH_PIPELINE_LINES_ONLY:-}" ] && return 0
	# Saturation from one line: its results go to the MVNO AP strictly one
	# after the other, so the AP's round trip bounds the drain.
	BENCH_TOKEN=$(login demo01 10.250.0.2 <<<'Phonebill!1') || pb_die "demo01 cannot log in"
	export BENCH_TOKEN BENCH_LINE=$line
	saturate saturate-one-line
	clear_stored_results
	before=$(sql "SELECT COALESCE(MAX(id), 0) FROM phonebill_bill.bill_request_history")
	# the paced run spreads over the three demo lines (demo02, demo03 may
	# read their bills): one line's deliveries are sent one at a time
	t2=$(login demo02 10.250.0.3 <<<'Phonebill!2') || pb_die "demo02 cannot log in"
	t3=$(login demo03 10.250.0.4 <<<'Phonebill!3') || pb_die "demo03 cannot log in"
	echo "before the paced run: $(history_state)"
	python3 tests/bench/paced.py --base "$base" --token "$BENCH_TOKEN" --line "$line" \
		--also "$t2,010-2345-6789" --also "$t3,010-3456-7890" \
		--month "$month" --rate "${BENCH_RATE:-200}" --seconds 10
	echo "paced run drained $(drained_after 30) s after its last answer"
	sql "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, completed_at, mvno_delivered_at) DIV 1000 AS ms
	    FROM phonebill_bill.bill_request_history WHERE id > $before AND mvno_delivered_at IS NOT NULL
	    GROUP BY ms ORDER BY ms" |
		awk '{ for (i = 0; i < $1; i++) v[n++] = $2 } END {
		    if (n == 0) { print "answer -> acknowledged delivery: no rows"; exit }
		    printf "answer -> acknowledged MVNO delivery (%d results): p50 %d ms, p99 %d ms, max %d ms (target p99 <= 2000)\n",
		        n, v[int(n * 0.5)], v[int(n * 0.99)], v[n - 1] }'
	unset BENCH_TOKEN
	echo
}

# Other work on the machine skews every number: say how busy it was.
echo "=== $(nproc) cores; load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg); $PB_PROCS processes per service, $PB_KOS_PROCS of the simulator, MariaDB buffer pool $PB_DB_BUFFER_POOL"
case $MODE in
health) bench_health ;;
inquiry) bench_inquiry ;;
zipf) bench_zipf ;;
pipeline) bench_pipeline ;;
all)
	bench_health
	bench_zipf
	bench_inquiry
	bench_pipeline
	;;
esac
exit 0
