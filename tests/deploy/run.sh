#!/usr/bin/env bash
# tests/deploy/run.sh - script/test's part "deploy": the Debian package as an
# operator would use it on this machine.  Builds phonebill and
# phonebill-kos-sim from a copy of the working tree (dpkg-buildpackage),
# installs them, starts MariaDB and Redis directly on private sockets under
# var/deploy (no systemd here, and policy-rc.d refuses service starts),
# points /etc/phonebill at them, migrates, serves the package's snippets
# with Debian's own apache2 on 127.0.0.1:(25080 + PHONEBILL_PORT_OFFSET)
# (the simulator on 26080 + offset), creates a user with phonebill-admin,
# runs login -> bill -> plan change, installs the packages a second time
# (the upgrade path), purges them and checks that the machine is as before:
# no files, users, processes or Apache settings left.
# The README's "Deploying on Debian" is this script in words.
# Root only (dpkg).  Prints PASS/FAIL lines and "deploy: N passed, N failed".
# shellcheck disable=SC2015  # pass/fail always succeed
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OFF=${PHONEBILL_PORT_OFFSET:-0}
HTTP_PORT=$((25080 + OFF)) KOS_PORT=$((26080 + OFF))
DEPLOY=$ROOT/var/deploy
MODS="fcgid headers rewrite include unique_id buffer"
USER_ID=deploy01 USER_PW='Deploy!Pass1' USER_LINE=010-1234-5678
export DEBIAN_FRONTEND=noninteractive

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS deploy $*"; }
fail() { failed=$((failed + 1)); echo "FAIL deploy $*"; }
finish() { echo "deploy: $passed passed, $failed failed"; [ "$failed" = 0 ]; }

if [ "$(id -u)" != 0 ]; then
	echo "SKIP deploy: needs root (dpkg, Debian's apache2)"
	echo "deploy: 0 passed, 0 failed"
	exit 0
fi
# One deploy test per machine at a time: it installs system packages.
exec 8>/run/lock/phonebill-deploy.lock
flock -w 900 8 || { fail "another deploy test holds /run/lock/phonebill-deploy.lock"; finish; exit 1; }

# shellcheck source=../../script/lib/stack.sh
. script/lib/stack.sh

# --- what "as before" means ---------------------------------------------------
snapshot() {
	{
		find /etc/apache2 /var/lib/apache2 /etc/lighttpd /etc/phonebill \
			/usr/share/phonebill /usr/lib/phonebill /usr/share/doc/phonebill \
			/var/spool/phonebill /var/log/phonebill /run/phonebill \
			/etc/logrotate.d /usr/lib/tmpfiles.d /etc/systemd/system \
			/usr/sbin -maxdepth 4 -not -path '/var/lib/apache2/fcgid/sock/*' \
			-printf '%p %y %m %u:%g %l\n' 2>/dev/null
		find /etc/apache2 /etc/lighttpd -type f -exec md5sum {} + 2>/dev/null
		getent passwd; getent group
	} | sort
}
phonebill_pids() {
	local d exe
	for d in /proc/[0-9]*; do
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		case $exe in /usr/sbin/phonebill-*) echo "${d#/proc/}" ;; esac
	done
}
debian_apache_pid() { pb_pid_of /run/apache2/apache2.pid apache2; }

apt_retry() {
	local i
	for ((i = 0; i < 30; i++)); do
		apt-get -o DPkg::Lock::Timeout=60 "$@" && return 0
		sleep 5
	done
	return 1
}

if dpkg-query -W -f='${Status}' phonebill 2>/dev/null | grep -q installed; then
	fail "phonebill is already installed on this machine: not touching it"
	finish; exit 1
fi
if debian_apache_pid >/dev/null; then
	fail "Debian's apache2 already runs (/run/apache2/apache2.pid): not touching it"
	finish; exit 1
fi
rm -rf "$DEPLOY"
mkdir -p "$DEPLOY"
chmod 0755 "$DEPLOY"
snapshot >"$DEPLOY/before.txt"
mods_before=""
for m in $MODS; do a2query -q -m "$m" && mods_before="$mods_before $m"; done
cp -a /etc/apache2/ports.conf "$DEPLOY/ports.conf.orig"
cp -a /etc/apache2/conf-available/security.conf "$DEPLOY/security.conf.orig"

# --- the backends: Debian's mariadbd and redis-server, private sockets ----------
export PB_STATE=$DEPLOY
pb_stack_init
export PB_SECRETS=/etc/phonebill/secrets

# phonebill-worker as its systemd unit runs it (debian/phonebill.phonebill-
# worker.service; no systemd here): as www-data, with the services' files.
worker_start() {
	setsid setpriv --reuid=www-data --regid=www-data --init-groups \
		/usr/sbin/phonebill-worker --config-dir /etc/phonebill \
		--log /var/log/phonebill/worker.log </dev/null >>"$DEPLOY/worker.out" 2>&1 &
	echo $! >"$DEPLOY/worker.pid"
}
worker_stop() {
	local pid
	pid=$(cat "$DEPLOY/worker.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	pb_wait_for 30 "phonebill-worker to stop" sh -c "! kill -0 $pid 2>/dev/null"
	rm -f "$DEPLOY/worker.pid"
}

teardown() {
	worker_stop
	if debian_apache_pid >/dev/null; then
		apache2ctl stop >/dev/null 2>&1
		pb_wait_for 30 "apache2 to stop" sh -c '! test -e /run/apache2/apache2.pid'
	fi
	(pb_redis_stop) >/dev/null 2>&1
	(pb_mariadb_stop) >/dev/null 2>&1
	if dpkg-query -W -f='${Status}' phonebill-kos-sim 2>/dev/null | grep -q 'ok installed\|config-files'; then
		apt_retry purge -y -q phonebill-kos-sim >>"$DEPLOY/apt.log" 2>&1
	fi
	if dpkg-query -W -f='${Status}' phonebill 2>/dev/null | grep -q 'ok installed\|config-files'; then
		apt_retry purge -y -q phonebill >>"$DEPLOY/apt.log" 2>&1
	fi
	# Undo the operator's own edits: the modules this test enabled, the
	# listener and the server tokens.
	local m
	for m in $MODS; do
		case " $mods_before " in *" $m "*) continue ;; esac
		a2dismod -q -f "$m" >/dev/null 2>&1
		rm -f "/var/lib/apache2/module/disabled_by_admin/$m" \
			"/var/lib/apache2/module/enabled_by_admin/$m"
	done
	# a2enmod/a2enconf leave empty state directories behind.
	local d
	for d in /var/lib/apache2/conf/* /var/lib/apache2/module/*; do
		[ -d "$d" ] || continue
		grep -q "^$d d " "$DEPLOY/before.txt" || rmdir "$d" 2>/dev/null
	done
	cp -a "$DEPLOY/ports.conf.orig" /etc/apache2/ports.conf
	cp -a "$DEPLOY/security.conf.orig" /etc/apache2/conf-available/security.conf
}
cleanup_on_exit() {
	local rc=$?
	[ -n "${DEPLOY_DONE:-}" ] || teardown
	return $rc
}
trap cleanup_on_exit EXIT
trap 'exit 130' INT TERM

# --- 1. build -------------------------------------------------------------------
# From a copy of the tracked and new files: dpkg-buildpackage cleans and
# configures its tree, which must not be the developer's build.
rm -rf "$DEPLOY/src"
mkdir -p "$DEPLOY/src"
git ls-files -co --exclude-standard -z |
	grep -zv '^var/\|node_modules/' | tar --null -T - -cf - | tar -xf - -C "$DEPLOY/src"
if (cd "$DEPLOY/src" && dpkg-buildpackage -us -uc -b -j2) >"$DEPLOY/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b built $(cd "$DEPLOY" && echo phonebill_*.deb phonebill-kos-sim_*.deb)"
else
	tail -n 30 "$DEPLOY/build.log"
	fail "dpkg-buildpackage failed (log var/deploy/build.log)"
	finish; exit 1
fi
DEBS=("$DEPLOY"/phonebill_*.deb "$DEPLOY"/phonebill-kos-sim_*.deb)

# --- 2. install -----------------------------------------------------------------
if apt_retry install -y -q --no-install-recommends "${DEBS[@]}" >"$DEPLOY/apt.log" 2>&1; then
	pass "apt-get install ./phonebill_*.deb ./phonebill-kos-sim_*.deb"
else
	tail -n 20 "$DEPLOY/apt.log"
	fail "apt-get install failed (log var/deploy/apt.log)"
	finish; exit 1
fi
bad=""
for f in /usr/sbin/phonebill-auth /usr/sbin/phonebill-bill /usr/sbin/phonebill-product \
	/usr/sbin/phonebill-admin /usr/sbin/phonebill-kos-sim /usr/lib/phonebill/migrate \
	/usr/share/phonebill/www/index.html /etc/apache2/conf-available/phonebill.conf \
	/etc/lighttpd/conf-available/50-phonebill.conf /etc/logrotate.d/phonebill \
	/usr/lib/tmpfiles.d/phonebill.conf /etc/phonebill/auth.conf; do
	[ -e "$f" ] || bad="$bad $f"
done
[ -z "$bad" ] && pass "the package's files are in place" || fail "missing:$bad"
modes=$(stat -c '%n %a %U:%G' /etc/phonebill/secrets /etc/phonebill/secrets/pii_key \
	/etc/phonebill/secrets/db_kos_sim_password /var/spool/phonebill/bill /var/log/phonebill /run/phonebill)
want="/etc/phonebill/secrets 700 www-data:www-data
/etc/phonebill/secrets/pii_key 600 www-data:www-data
/etc/phonebill/secrets/db_kos_sim_password 600 www-data:www-data
/var/spool/phonebill/bill 700 www-data:www-data
/var/log/phonebill 750 www-data:www-data
/run/phonebill 750 www-data:www-data"
[ "$modes" = "$want" ] && pass "secrets and directories: owners and modes" ||
	fail "owners and modes: got $(echo "$modes" | tr '\n' ';')"
[ -x /usr/sbin/phonebill-kos-sim ] && ! grep -q kos-sim <(dpkg -L phonebill) &&
	pass "the KOS simulator is only in phonebill-kos-sim" || fail "phonebill ships the KOS simulator"

# --- 3. backends and configuration ---------------------------------------------------
if (set -e; pb_mariadb_start) >"$DEPLOY/backends.log" 2>&1 &&
	(set -e; pb_redis_start) >>"$DEPLOY/backends.log" 2>&1; then
	pass "MariaDB and Redis started on private sockets under var/deploy"
else
	tail -n 20 "$DEPLOY/backends.log"
	fail "MariaDB/Redis did not start (log var/deploy/backends.log)"
	finish; exit 1
fi
for c in auth bill product; do
	sed -i -e "s|^db\.socket = .*|db.socket = $PB_DB_SOCKET|" \
		-e "s|^redis\.host = .*|redis.socket = $PB_REDIS_SOCKET|" -e '/^redis\.port = /d' \
		-e "s|^kos\.url = .*|kos.url = http://127.0.0.1:$KOS_PORT|" "/etc/phonebill/$c.conf"
done
sed -i "s|^db\.socket = .*|db.socket = $PB_DB_SOCKET|" /etc/phonebill/kos-sim.conf
if /usr/lib/phonebill/migrate --socket "$PB_DB_SOCKET" --secrets /etc/phonebill/secrets \
	--with-kos-sim >"$DEPLOY/migrate.log" 2>&1; then
	pass "/usr/lib/phonebill/migrate --with-kos-sim"
else
	tail -n 20 "$DEPLOY/migrate.log"
	fail "migrate failed (log var/deploy/migrate.log)"
fi

# --- 4. Debian's apache2 ---------------------------------------------------------
sed -i "s|^Listen 80\$|Listen 127.0.0.1:$HTTP_PORT|" /etc/apache2/ports.conf
sed -i -e 's|^ServerTokens .*|ServerTokens Prod|' -e 's|^ServerSignature .*|ServerSignature Off|' \
	/etc/apache2/conf-available/security.conf
sed -i "s|127\.0\.0\.1:9080|127.0.0.1:$KOS_PORT|g" /etc/apache2/conf-available/phonebill-kos-sim.conf
# shellcheck disable=SC2086
a2enmod -q $MODS >"$DEPLOY/a2en.log" 2>&1
a2enconf -q phonebill phonebill-kos-sim >>"$DEPLOY/a2en.log" 2>&1
if apache2ctl configtest >>"$DEPLOY/a2en.log" 2>&1 && apache2ctl start >>"$DEPLOY/a2en.log" 2>&1 &&
	pb_wait_health "http://127.0.0.1:$HTTP_PORT/api/v1/auth/health" 30 >>"$DEPLOY/a2en.log" 2>&1 &&
	pb_wait_health "http://127.0.0.1:$KOS_PORT/_sim/health" 30 >>"$DEPLOY/a2en.log" 2>&1; then
	pass "Debian's apache2 serves the package's snippets on 127.0.0.1:$HTTP_PORT (simulator :$KOS_PORT)"
else
	cat "$DEPLOY/a2en.log"; tail -n 20 /var/log/apache2/error.log
	fail "Debian's apache2 did not come up with phonebill.conf"
fi
worker_start
if pb_wait_for 10 "phonebill-worker" sh -c "kill -0 \$(cat '$DEPLOY/worker.pid') 2>/dev/null &&
	runuser -u www-data -- /usr/sbin/phonebill-worker --config-dir /etc/phonebill status | grep -q '\"state\":[[:space:]]*\"UP\"'"; then
	pass "phonebill-worker runs as www-data with /etc/phonebill (status: UP)"
else
	cat "$DEPLOY/worker.out"
	fail "phonebill-worker did not come up (var/deploy/worker.out)"
fi
# Errors in the snippet would show here (Apache's own error log).
if grep -q 'AH00526\|Syntax error' /var/log/apache2/error.log 2>/dev/null; then
	fail "apache2's error log has syntax errors"
fi

# --- 5. a user, and the customer's way through it ------------------------------------
admin() {
	runuser -u www-data -- env PHONEBILL_CONFIG=/etc/phonebill/auth.conf phonebill-admin "$@"
}
if out=$(printf '%s\n' "$USER_PW" | admin add "$USER_ID" --customer C0001 --line "$USER_LINE" \
	--name 배포시험 --perm BILL_INQUIRY --perm PRODUCT_CHANGE 2>&1); then
	pass "phonebill-admin add $USER_ID (runuser -u www-data)"
else
	fail "phonebill-admin add: $out"
fi
admin list 2>&1 | grep -q "$USER_ID" && pass "phonebill-admin list shows $USER_ID" ||
	fail "phonebill-admin list does not show $USER_ID"
flow() {
	DEPLOY_BASE="http://127.0.0.1:$HTTP_PORT" DEPLOY_KOS="http://127.0.0.1:$KOS_PORT" \
	DEPLOY_USER=$USER_ID DEPLOY_PASSWORD=$USER_PW DEPLOY_LINE=$USER_LINE \
		python3 tests/deploy/flow.py | sed 's/^\(PASS\|FAIL\) /\1 deploy /' | tee "$DEPLOY/flow$1.log"
	passed=$((passed + $(grep -c '^PASS' "$DEPLOY/flow$1.log")))
	failed=$((failed + $(grep -c '^FAIL' "$DEPLOY/flow$1.log")))
}
flow 1
[ -s /var/log/phonebill/auth.log ] && [ "$(stat -c %U /var/log/phonebill/auth.log)" = www-data ] &&
	pass "the services log to /var/log/phonebill/auth.log" ||
	fail "no /var/log/phonebill/auth.log owned by www-data"

m=$(curl -s --max-time 10 -D "$DEPLOY/metrics.h" "http://127.0.0.1:$HTTP_PORT/api/v1/bills/metrics")
if grep -qi '^Content-Type: text/plain; version=0.0.4' "$DEPLOY/metrics.h" &&
	echo "$m" | grep -q '^phonebill_http_requests_total{service="bill",method="POST",route="/api/v1/bills/inquiry",status="200"} [1-9]' &&
	[ -s /run/phonebill/metrics-bill ]; then
	pass "/api/v1/bills/metrics through Apache: the inquiries counted (/run/phonebill/metrics-bill)"
else
	fail "/metrics through Apache: $(head -c 300 "$DEPLOY/metrics.h")"
fi
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$HTTP_PORT/api/v1/bills/health?ready")
[ "$c" = 200 ] && pass "/api/v1/bills/health?ready 200" || fail "health?ready: $c"
# health and logins have process classes of their own: the packaged
# wrappers are installed and exec the packaged programs (their answers
# above came through them: the Aliases map those routes to the wrappers)
for w in phonebill-bill-health phonebill-product-health phonebill-auth-login; do
	t=$(sed -n 's|^exec \(/usr/sbin/phonebill-[a-z]*\) .*|\1|p' "/usr/lib/phonebill/$w" 2>/dev/null)
	if [ -x "/usr/lib/phonebill/$w" ] && [ -n "$t" ] && [ -x "$t" ]; then
		pass "$w installed (execs $t)"
	else
		fail "$w: not installed or its program missing ('$t')"
	fi
done
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$HTTP_PORT/api/v1/products/health")
[ "$c" = 200 ] && pass "/api/v1/products/health 200 (its own class)" || fail "products/health: $c"

# --- 5b. the admin CLI's other commands, --version of every program ------------------
login_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
		-d "{\"userId\":\"$USER_ID\",\"password\":\"$1\",\"autoLogin\":false}" \
		"http://127.0.0.1:$HTTP_PORT/api/v1/auth/login"
}
row=$(admin list 2>&1 | grep "^$USER_ID ")
case $row in
*ACTIVE*BILL_INQUIRY,PRODUCT_CHANGE*failures=0*) pass "phonebill-admin list: status, permissions, lock state ($row)" ;;
*) fail "phonebill-admin list row: '$row'" ;;
esac
for i in 1 2 3 4 5; do login_code 'wrong-password' >/dev/null; done
row=$(admin list 2>&1 | grep "^$USER_ID ")
case $row in *LOCKED*) pass "list shows the lock after 5 failed logins" ;; *) fail "no lock shown: '$row'" ;; esac
admin unlock "$USER_ID" >/dev/null 2>&1
row=$(admin list 2>&1 | grep "^$USER_ID ")
case $row in *failures=0*) pass "unlock clears it" ;; *) fail "after unlock: '$row'" ;; esac
admin disable "$USER_ID" >/dev/null 2>&1
c1=$(login_code "$USER_PW")
row=$(admin list 2>&1 | grep "^$USER_ID ")
admin enable "$USER_ID" >/dev/null 2>&1
c2=$(login_code "$USER_PW")
case "$c1 $c2 $row" in
"401 200 "*SUSPENDED*) pass "disable: login 401 (status SUSPENDED); enable: login 200" ;;
*) fail "disable/enable: logins $c1 $c2, list '$row'" ;;
esac
vers=""
for p in auth bill product admin kos-sim; do
	v=$(/usr/sbin/phonebill-$p --version 2>&1) && vers="$vers${v%% (*} "
	/usr/sbin/phonebill-$p --help 2>&1 | grep -q '^usage: phonebill-' || vers="$vers(no --help: $p) "
done
[ "$vers" = "phonebill-auth phonebill-bill phonebill-product phonebill-admin phonebill-kos-sim " ] &&
	pass "--version and --help of every program" || fail "--version/--help: $vers"

# --- 5c. history retention: purge-history ------------------------------------------
dbq() { mariadb --no-defaults --protocol=socket -S "$PB_DB_SOCKET" -u root --batch --skip-column-names -e "$1"; }
# Age half of the deploy user's rows by 500 days (login, bill request and
# process history, the plan change); the purge must take exactly those.
dbq "UPDATE phonebill_auth.login_history SET created_at = created_at - INTERVAL 500 DAY WHERE user_id = '$USER_ID' AND result = 'FAILURE';
UPDATE phonebill_bill.bill_request_history SET requested_at = requested_at - INTERVAL 500 DAY WHERE user_id = '$USER_ID';
UPDATE phonebill_bill.bill_process_history p JOIN phonebill_bill.bill_request_history r USING (request_id) SET p.created_at = p.created_at - INTERVAL 500 DAY WHERE r.user_id = '$USER_ID';
UPDATE phonebill_product.product_change_history SET requested_at = requested_at - INTERVAL 500 DAY WHERE user_id = '$USER_ID'" \
	>>"$DEPLOY/purge.log" 2>&1
counts() {
	dbq "SELECT (SELECT COUNT(*) FROM phonebill_auth.login_history WHERE user_id = '$USER_ID' AND created_at < UTC_TIMESTAMP() - INTERVAL 400 DAY),
	(SELECT COUNT(*) FROM phonebill_auth.login_history WHERE user_id = '$USER_ID' AND created_at >= UTC_TIMESTAMP() - INTERVAL 400 DAY),
	(SELECT COUNT(*) FROM phonebill_bill.bill_request_history WHERE requested_at < UTC_TIMESTAMP() - INTERVAL 400 DAY),
	(SELECT COUNT(*) FROM phonebill_bill.bill_process_history WHERE created_at < UTC_TIMESTAMP() - INTERVAL 400 DAY),
	(SELECT COUNT(*) FROM phonebill_product.product_change_history WHERE requested_at < UTC_TIMESTAMP() - INTERVAL 400 DAY)" | tr '\t' ' '
}
# the history of the steps above is written by phonebill-worker
pb_wait_for 30 "the worker's backlog to empty" sh -c "runuser -u www-data -- \
	/usr/sbin/phonebill-worker --config-dir /etc/phonebill status | grep -q '\"backlog\":[[:space:]]*0,'" ||
	fail "phonebill-worker left a backlog"
old=$(counts)
dry=$(/usr/lib/phonebill/purge-history --socket "$PB_DB_SOCKET" --older-than 400d --dry-run 2>&1)
/usr/lib/phonebill/purge-history --socket "$PB_DB_SOCKET" --older-than 400d --batch 2 \
	--pause-ms 1 >>"$DEPLOY/purge.log" 2>&1
new=$(counts)
# shellcheck disable=SC2086
set -- $old
if [ "$1" -ge 3 ] && [ "$2" -ge 1 ] && [ "$3" -ge 1 ] && [ "$4" -ge 1 ] && [ "$5" -ge 1 ] &&
	[ "$new" = "0 $2 0 0 0" ] && echo "$dry" | grep -q "login_history: $1 rows"; then
	pass "purge-history --older-than 400d: old login/request/process/change rows gone, recent kept (before: $old, after: $new)"
else
	cat "$DEPLOY/purge.log"; echo "$dry"
	fail "purge-history: before '$old', after '$new' (want '0 ${2:-?} 0 0 0')"
fi

# --- 6. lighttpd: the snippet passes Debian's lighttpd config test -----------------
if lighty-enable-mod phonebill >"$DEPLOY/lighty.log" 2>&1 &&
	lighttpd -tt -f /etc/lighttpd/lighttpd.conf >>"$DEPLOY/lighty.log" 2>&1; then
	pass "lighty-enable-mod phonebill: lighttpd -tt accepts it"
else
	cat "$DEPLOY/lighty.log"
	fail "lighttpd rejects /etc/lighttpd/conf-available/50-phonebill.conf"
fi
lighty-disable-mod phonebill >>"$DEPLOY/lighty.log" 2>&1

# --- 7. the upgrade path: the same packages again ------------------------------------
sum_before=$(md5sum /etc/phonebill/secrets/* | sort)
if apt_retry install -y -q --reinstall --no-install-recommends "${DEBS[@]}" >>"$DEPLOY/apt.log" 2>&1; then
	pass "second install (apt-get install --reinstall)"
else
	tail -n 20 "$DEPLOY/apt.log"
	fail "second install failed"
fi
[ "$(md5sum /etc/phonebill/secrets/* | sort)" = "$sum_before" ] &&
	pass "the second install kept the secrets" || fail "the second install changed the secrets"
grep -q "^kos.url = http://127.0.0.1:$KOS_PORT\$" /etc/phonebill/bill.conf &&
	pass "the second install kept the edited /etc/phonebill/bill.conf" ||
	fail "the second install replaced /etc/phonebill/bill.conf"
apache2ctl graceful >>"$DEPLOY/a2en.log" 2>&1
# as systemctl restart would after an upgrade
worker_stop
worker_start
sleep 1
pb_wait_health "http://127.0.0.1:$HTTP_PORT/api/v1/auth/health" 30 >/dev/null 2>&1
DEPLOY_SHORT=1 flow 2
admin delete "$USER_ID" >/dev/null 2>&1
c1=$(login_code "$USER_PW")
if [ "$c1" = 401 ] && ! admin list 2>&1 | grep -q "^$USER_ID "; then
	pass "phonebill-admin delete: gone from list, login 401"
else
	fail "after delete: login $c1"
fi

# --- 8. purge: the machine as it was ----------------------------------------------------
teardown
DEPLOY_DONE=1
sleep 1
left=$(phonebill_pids | tr '\n' ' ')
[ -z "$left" ] && pass "no phonebill process left" || fail "phonebill processes left: $left"
debian_apache_pid >/dev/null && fail "Debian's apache2 still runs" || pass "Debian's apache2 stopped"
! dpkg-query -W -f='${Status}' phonebill phonebill-kos-sim 2>/dev/null | grep -q 'installed\|config-files' &&
	pass "apt-get purge removed both packages" || fail "a package is still known to dpkg"
snapshot >"$DEPLOY/after.txt"
if diff "$DEPLOY/before.txt" "$DEPLOY/after.txt" >"$DEPLOY/leftovers.diff"; then
	pass "after the purge: files, Apache/lighttpd settings, users and groups as before"
else
	head -n 20 "$DEPLOY/leftovers.diff"
	fail "the machine differs after the purge (var/deploy/leftovers.diff)"
fi
rm -rf "$DEPLOY/mariadb" "$DEPLOY/redis" "$DEPLOY/src"
finish
