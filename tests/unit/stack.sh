#!/usr/bin/env bash
# tests/unit/stack.sh - make check's own throw-away stack: a private Redis,
# a private MariaDB (fresh data directory, the migrations of db/ with the
# phonebill_unittest database) and the KOS simulator behind a private
# lighttpd, all from script/lib/stack.sh, under $top_builddir/var/check.
#
#   stack.sh up ENVFILE   (make, before the first unit test) start it and
#                         write the tests' PHONEBILL_TEST_* settings to
#                         ENVFILE (sourced by AM_TESTS_ENVIRONMENT); when
#                         the caller provides a stack (script/test:
#                         PHONEBILL_TEST_REDIS_SOCKET is set) ENVFILE stays
#                         empty and nothing starts
#   stack.sh down         stop it (tests/unit/check-end.sh, the last test)
#   stack.sh guard PID    (internal) stop it once make process PID is gone:
#                         after a failure, make -k or Ctrl-C as well
#
# Ports, below 32768, moved by PHONEBILL_PORT_OFFSET (0..999) as
# script/test's are, in ranges of their own: lighttpd 12080/12443 + offset,
# the KOS simulator 13080 + offset (mutual TLS: 14080 + offset),
# test_sentinel's Redis pair and sentinel 15379..15381 + offset.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
BUILD=$(cd "$top_builddir" && pwd)
# shellcheck source=../../script/lib/stack.sh
. "$top_srcdir/script/lib/stack.sh"

OFF=${PHONEBILL_PORT_OFFSET:-0}
case $OFF in '' | *[!0-9]*) pb_die "PHONEBILL_PORT_OFFSET must be a number" ;; esac
[ "$OFF" -lt 1000 ] || pb_die "PHONEBILL_PORT_OFFSET must be below 1000"
export PB_STATE=$BUILD/var/check
export PB_HTTP_PORT=$((12080 + OFF)) PB_HTTPS_PORT=$((12443 + OFF))
export PB_KOS_PORT=$((13080 + OFF)) PB_KOS_TLS_PORT=$((14080 + OFF))
export PB_PROCS=1 PB_LOG_LEVEL=info PB_UNITTEST_DB=1
# MariaDB at +09:00 as in script/test: the programs must store UTC.
export PB_DB_TIME_ZONE=+09:00
# the programs of this build (a VPATH build keeps them out of the sources)
export PB_BIN_AUTH=$BUILD/fcgi/auth/phonebill-auth
export PB_BIN_BILL=$BUILD/fcgi/bill/phonebill-bill
export PB_BIN_PRODUCT=$BUILD/fcgi/product/phonebill-product
export PB_BIN_KOS=$BUILD/fcgi/kos-sim/phonebill-kos-sim
export PB_BIN_WORKER=$BUILD/fcgi/worker/phonebill-worker
SENTINEL_PORT=$((15379 + OFF))
LOCK=$BUILD/var/check.lock

# make_pid: the nearest make above this script (the one running the tests).
make_pid() {
	local p=$$ comm
	while [ "$p" -gt 1 ]; do
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || return 1
		comm=$(cat "/proc/$p/comm" 2>/dev/null) || return 1
		case $comm in make | gmake) echo "$p" && return 0 ;; esac
	done
	return 1
}

stop() {
	[ -f "$PB_STATE/stack.env" ] || return 0
	(PB_REUSE_ENV=1 pb_stack_init && pb_stack_stop) 2>&1 |
		grep -v ' stopped$' >&2
	rm -f "$PB_STATE/stack.env"
}

# q VALUE: VALUE quoted for sh
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

up() {
	local envfile=$1 owner=$2 v
	# one left by an interrupted run, then a fresh start (secrets and
	# certificates are kept)
	stop
	rm -rf "$PB_STATE/mariadb" "$PB_STATE/redis" "$PB_STATE/lighttpd/log"
	echo "make check: starting its own stack in $PB_STATE (ports $PB_HTTP_PORT, $PB_HTTPS_PORT, $PB_KOS_PORT, $PB_KOS_TLS_PORT, $SENTINEL_PORT..$((SENTINEL_PORT + 2)))"
	# stopped again whatever happens to make from now on
	setsid "$BASH" "$0" guard "$owner" </dev/null >/dev/null 2>&1 &
	if ! (
		set -e
		pb_stack_init
		pb_secrets
		pb_mariadb_start
		pb_migrate
		pb_redis_start
	) >"$BUILD/var/check.log" 2>&1; then
		tail -n 20 "$BUILD/var/check.log" >&2
		pb_die "make check: MariaDB/Redis/migrations did not start (log: $BUILD/var/check.log)"
	fi
	pb_stack_init 2>/dev/null
	if ! pb_kos_sim_up >>"$BUILD/var/check.log" 2>&1; then
		tail -n 20 "$BUILD/var/check.log" >&2
		pb_die "make check: the KOS simulator did not start (log: $PB_LIGHTTPD_DIR/log/error.log)"
	fi
	pb_unit_env "$SENTINEL_PORT"
	export PHONEBILL_TEST_KOS_URL=http://127.0.0.1:$PB_KOS_PORT
	export PHONEBILL_CHECK_STACK=$PB_STATE
	{
		echo "# make check's own stack (tests/unit/stack.sh)"
		for v in "${!PHONEBILL_TEST_@}" PHONEBILL_CHECK_STACK; do
			echo "$v=$(q "${!v}"); export $v"
		done
	} >"$envfile"
}

guard() {
	local pid=$1
	trap '' INT HUP TERM
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
	done
	locked stop 2>/dev/null
}

# locked WHAT...: under the lock (one start or stop at a time; a stop
# left to the guard of the last run ends before the next start).  -o: the
# daemons started do not inherit it.
locked() {
	mkdir -p "$BUILD/var"
	flock -o "$LOCK" "$BASH" "$0" "$@"
}

case ${1:-} in
up)
	# the make running the tests, found before flock comes between
	: >"${2:?stack.sh up ENVFILE}"
	if [ -n "${PHONEBILL_TEST_REDIS_SOCKET:-}" ]; then
		echo "make check: the caller's stack (PHONEBILL_TEST_*), none of its own"
		exit 0
	fi
	owner=$(make_pid) || pb_die "stack.sh up: run it from make check"
	locked _up "${2:?stack.sh up ENVFILE}" "$owner"
	;;
down) locked stop ;;
guard) guard "${2:?stack.sh guard PID}" ;;
_up) up "$2" "$3" ;;
stop) stop ;;
*) pb_die "usage: stack.sh up ENVFILE | down | guard PID" ;;
esac
