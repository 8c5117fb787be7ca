# shellcheck shell=bash
# script/lib/cluster.sh - several phonebill nodes on one machine (issue 13),
# on top of script/lib/stack.sh: a 3-node Galera cluster (MariaDB +
# galera-4), Redis primary + replica + 3 sentinels, two web nodes (node1
# lighttpd, node2 Apache; each its services, its KOS simulator and its
# phonebill-worker), haproxy in front of the web nodes (HTTP) and of the
# Galera writer (TCP, one node at a time).  Loopback only; every port is
# PB_CLUSTER_BASE + a fixed number (below 32768).  Sourced by script/cluster
# and, for the node configs, by stack.sh's pb_service_configs.
#
# State: var/cluster (PB_CLUSTER_DIR): galera/gN, redis/{primary,replica,
# sN}, haproxy/, node1/ node2/ (each a stack.sh state directory whose
# cluster.env makes the services use TCP addresses).

pbc_init() {
	PB_CLUSTER_DIR=${PB_CLUSTER_DIR:-$PB_ROOT/var/cluster}
	mkdir -p "$PB_CLUSTER_DIR"
	PB_CLUSTER_DIR=$(cd "$PB_CLUSTER_DIR" && pwd)
	local off=${PHONEBILL_PORT_OFFSET:-0}
	B=${PB_CLUSTER_BASE:-$((23000 + off))}
	[ "$((B + 99))" -lt 32768 ] || pb_die "cluster ports must stay below 32768"
	PBC_HTTP=$B PBC_DB=$((B + 1)) PBC_STATS=$((B + 2)) PBC_DB_READ=$((B + 3))
	PBC_N1_HTTP=$((B + 10)) PBC_N1_HTTPS=$((B + 11)) PBC_N1_KOS=$((B + 12))
	PBC_N2_HTTP=$((B + 20)) PBC_N2_HTTPS=$((B + 21)) PBC_N2_KOS=$((B + 22))
	PBC_REDIS_P=$((B + 30)) PBC_REDIS_R=$((B + 31))
	PBC_SENT1=$((B + 35))
	PBC_GALERA=$((B + 40))   # g1..g3: mysql B+40.., gcomm B+50.., IST B+56.., SST B+60..
	PBC_GCHECK=$((B + 44))   # g1..g3: galera-check (HTTP, for haproxy) B+44..46
	PBC_SENTINELS="127.0.0.1:$PBC_SENT1,127.0.0.1:$((PBC_SENT1 + 1)),127.0.0.1:$((PBC_SENT1 + 2))"
	PBC_SECRETS=$PB_CLUSTER_DIR/secrets
}

# --- the node configs (called from stack.sh's pb_service_configs) ------------

# The services and the KOS simulator of a node reach Redis through the
# sentinels and MariaDB through haproxy's writer port.
pbc_node_configs() {
	local f
	# shellcheck disable=SC1091
	. "$PB_STATE/cluster.env"
	for f in "$PB_CONF_DIR"/auth.conf "$PB_CONF_DIR"/bill.conf \
	    "$PB_CONF_DIR"/product.conf "$PB_CONF_DIR"/kos-sim.conf; do
		[ -f "$f" ] || continue
		sed -i -e '/^redis\.socket *=/d' -e '/^db\.socket *=/d' "$f"
		{
			echo "# several nodes (script/cluster)"
			case $f in */kos-sim.conf) ;; *)
				echo "redis.sentinels = $PBC_SENTINELS"
				echo "redis.master_name = phonebill"
				echo "redis.wait_replicas = 1" ;;
			esac
			echo "db.host = 127.0.0.1"
			echo "db.port = $PBC_DB"
			case $f in */bill.conf|*/product.conf)
				# history listings read from any synced Galera node
				echo "db.read_host = 127.0.0.1"
				echo "db.read_port = $PBC_DB_READ" ;;
			esac
		} >>"$f"
	done
}

# --- Galera ------------------------------------------------------------------

pbc_gdir() { echo "$PB_CLUSTER_DIR/galera/g$1"; }
pbc_gsock() { echo "$(pbc_gdir "$1")/mariadb.sock"; }

pbc_galera_ready() {
	mariadb --no-defaults --protocol=socket -S "$(pbc_gsock "$1")" -u root \
		--batch --skip-column-names -e "SHOW STATUS LIKE 'wsrep_ready'" 2>/dev/null | grep -q ON
}

pbc_galera_sql() {
	local n=$1
	shift
	mariadb --no-defaults --protocol=socket -S "$(pbc_gsock "$n")" -u root "$@"
}

# pbc_galera_start N [new]: node N; "new" bootstraps the cluster with it.
pbc_galera_start() {
	local n=$1 new=${2:-} d port gcomm ist sst addr
	d=$(pbc_gdir "$n")
	if pb_pid_of "$d/mariadb.pid" mariadbd >/dev/null; then return 0; fi
	port=$((PBC_GALERA + n - 1)) gcomm=$((B + 50 + n - 1))
	ist=$((B + 56 + n - 1)) sst=$((B + 60 + n - 1))
	addr="gcomm://127.0.0.1:$((B + 50)),127.0.0.1:$((B + 51)),127.0.0.1:$((B + 52))"
	mkdir -p "$d"
	chown mysql: "$d"
	chmod 0755 "$d"
	if [ ! -d "$d/data/mysql" ]; then
		mkdir -p "$d/data"
		chown mysql: "$d/data"
		chmod 0700 "$d/data"
		if [ "$new" = new ]; then
			mariadb-install-db --no-defaults --user=mysql --datadir="$d/data" \
				--auth-root-authentication-method=socket --skip-test-db \
				>"$d/install.log" 2>&1 || pb_die "mariadb-install-db failed (g$n)"
		fi
	fi
	local args=(--no-defaults --user=mysql --datadir="$d/data" --socket="$d/mariadb.sock"
		--pid-file="$d/mariadb.pid" --log-error="$d/mariadb.err"
		--port="$port" --bind-address=127.0.0.1 --skip-name-resolve
		--character-set-server=utf8mb4 --collation-server=utf8mb4_nopad_bin
		--default-time-zone=+00:00 --max-connections=200 --wait-timeout=28800
		--innodb-buffer-pool-size=32M --performance-schema=OFF
		--innodb-log-file-size=48M --innodb-flush-log-at-trx-commit=2
		--binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2
		--wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so
		--wsrep-cluster-name=phonebill --wsrep-cluster-address="$addr"
		--wsrep-node-name="g$n" --wsrep-node-address="127.0.0.1:$gcomm"
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$gcomm;ist.recv_addr=127.0.0.1:$ist;gcache.size=32M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S"
		--wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$sst"
		--wsrep-slave-threads=2)
	[ "$new" = new ] && args+=(--wsrep-new-cluster)
	pb_log "starting Galera node g$n (port $port, gcomm $gcomm${new:+, bootstrap})"
	setsid mariadbd "${args[@]}" </dev/null >>"$d/mariadb.out" 2>&1 &
	pb_wait_for 120 "Galera node g$n" pbc_galera_ready "$n" ||
		{ tail -n 20 "$d/mariadb.err" >&2; pb_die "Galera node g$n did not join"; }
}

pbc_galera_stop() {
	pb_stop_pid "$(pbc_gdir "$1")/mariadb.pid" mariadbd "Galera node g$1" 60
}

# The node most advanced after a full stop (grastate.dat safe_to_bootstrap
# or the highest seqno); 1 on a fresh cluster.
pbc_galera_bootstrap_node() {
	local n best=1 seq bestseq=-2 g
	for n in 1 2 3; do
		g=$(pbc_gdir "$n")/data/grastate.dat
		[ -f "$g" ] || continue
		if grep -q '^safe_to_bootstrap: *1' "$g"; then echo "$n"; return; fi
		seq=$(sed -n 's/^seqno: *//p' "$g")
		[ "${seq:--1}" -gt "$bestseq" ] && { bestseq=$seq; best=$n; }
	done
	sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$(pbc_gdir "$best")/data/grastate.dat" 2>/dev/null || true
	echo "$best"
}

pbc_galera_start_all() {
	local first n
	# a node still runs: the cluster exists, the others join it
	for n in 1 2 3; do
		if pb_pid_of "$(pbc_gdir "$n")/mariadb.pid" mariadbd >/dev/null; then
			pbc_galera_rejoin
			return
		fi
	done
	first=$(pbc_galera_bootstrap_node)
	pbc_galera_start "$first" new
	for n in 1 2 3; do
		[ "$n" = "$first" ] || pbc_galera_start "$n"
	done
}

# Schema and accounts (from 127.0.0.1 too: the services come through
# haproxy), over TCP through haproxy's writer port as an admin account with
# a password -- the way a deployment without a local socket runs it.  The
# admin and haproxy's check account are made on a node's socket first
# (Galera replicates them).
pbc_galera_accounts() {
	local n pw
	for n in 1 2 3; do pbc_galera_ready "$n" && break; done
	pw=$(tr -d '\n' <"$PBC_SECRETS/db_admin_password")
	pbc_galera_sql "$n" <<EOF || pb_die "cannot create the admin and haproxy accounts"
CREATE USER IF NOT EXISTS 'haproxy'@'127.0.0.1';
CREATE USER IF NOT EXISTS 'phonebill_admin'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'phonebill_admin'@'127.0.0.1' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'phonebill_admin'@'127.0.0.1' WITH GRANT OPTION;
EOF
}

# galera-check N: an HTTP check of node N's wsrep state on B+44+N-1, for
# haproxy (200 only when Synced and ready).  Runs as nobody: it logs in as
# the haproxy account over TCP.
pbc_gcheck_start() {
	local n=$1 d
	d=$(pbc_gdir "$n")
	mkdir -p "$d/check"
	chown nobody: "$d/check"
	pb_pid_of "$d/check/galera-check.pid" galera-check >/dev/null && return 0
	setsid setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		/usr/bin/python3 "$PB_ROOT/script/galera-check" \
		--listen "127.0.0.1:$((PBC_GCHECK + n - 1))" --host 127.0.0.1 \
		--port "$((PBC_GALERA + n - 1))" --user haproxy \
		--pidfile "$d/check/galera-check.pid" \
		</dev/null >>"$d/check/galera-check.log" 2>&1 &
	pb_wait_for 10 "galera-check g$n" pb_pid_of "$d/check/galera-check.pid" galera-check ||
		pb_die "galera-check g$n did not start (see $d/check/galera-check.log)"
}

pbc_gcheck_stop() {
	pb_stop_pid "$(pbc_gdir "$1")/check/galera-check.pid" galera-check "galera-check g$1" 10
}

# What galera-check says of node N (200 synced / 503 why).
pbc_gcheck() {
	curl -s --max-time 5 -w ' (%{http_code})' "http://127.0.0.1:$((PBC_GCHECK + $1 - 1))/"
}

# Desync node N (wsrep_desync: it stays in the cluster and keeps taking
# queries, but is no longer Synced -- what a donor or a backup looks like)
# or resync it.
pbc_galera_desync() {
	local n=${1:?node} on=${2:-ON}
	pbc_galera_sql "$n" -e "SET GLOBAL wsrep_desync = $on"
	echo "g$n wsrep_desync=$on"
}

pbc_db_via_haproxy() {
	mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$PBC_DB" -u haproxy \
		--connect-timeout=2 ping
}

pbc_galera_migrate() {
	pb_wait_for 30 "the Galera writer through haproxy" pbc_db_via_haproxy ||
		pb_die "haproxy does not reach a Galera node"
	"$PB_ROOT/db/migrate" --host 127.0.0.1 --port "$PBC_DB" --admin-user phonebill_admin \
		--admin-password-file "$PBC_SECRETS/db_admin_password" \
		--secrets "$PBC_SECRETS" --with-kos-sim --account-host localhost,127.0.0.1 ||
		pb_die "migrations failed"
}

# --- Redis + Sentinel ----------------------------------------------------------

pbc_redis_conf() {
	local name=$1 port=$2 replicaof=${3:-} d=$PB_CLUSTER_DIR/redis/$1 pw
	pw=$(tr -d '\n' <"$PBC_SECRETS/redis_password")
	mkdir -p "$d"
	(umask 077 && cat >"$d/redis.conf" <<EOF
port $port
bind 127.0.0.1
protected-mode yes
daemonize yes
pidfile $d/redis.pid
logfile $d/redis.log
dir $d
appendonly yes
appendfsync everysec
auto-aof-rewrite-min-size 256mb
save ""
maxmemory 128mb
maxmemory-policy noeviction
requirepass $pw
masterauth $pw
replica-serve-stale-data no
# a replica in sync at once (Redis 7 waits 5 s for more replicas by default:
# a failover in that window would promote an empty replica)
repl-diskless-sync-delay 0
EOF
	)
	[ -n "$replicaof" ] && echo "replicaof 127.0.0.1 $replicaof" >>"$d/redis.conf"
	chown -R redis: "$d"
}

# Failover timing (ms): a master that has not answered PING for
# down-after-milliseconds is subjectively down; with the quorum's agreement
# (asked once a second) a sentinel runs for leader (after up to 1 s random
# delay), promotes the replica and sees the promotion in its next INFO (1 s).
# 1000 on loopback (the default 30 s is for networks with hiccups);
# failover-timeout bounds a failed election, retried after twice it: 3 s,
# not the default 3 min.  parallel-syncs: one replica, so 1.
pbc_sentinel_conf() {
	local i=$1 d=$PB_CLUSTER_DIR/redis/s$1 pw
	pw=$(tr -d '\n' <"$PBC_SECRETS/redis_password")
	mkdir -p "$d"
	(umask 077 && cat >"$d/sentinel.conf" <<EOF
port $((PBC_SENT1 + i - 1))
bind 127.0.0.1
daemonize yes
pidfile $d/sentinel.pid
logfile $d/sentinel.log
dir $d
sentinel monitor phonebill 127.0.0.1 $PBC_REDIS_P 2
sentinel auth-pass phonebill $pw
sentinel down-after-milliseconds phonebill 1000
sentinel failover-timeout phonebill 3000
sentinel parallel-syncs phonebill 1
EOF
	)
	chown -R redis: "$d"
}

pbc_redis_start() {
	local name port
	for name in primary replica; do
		port=$PBC_REDIS_P
		[ "$name" = replica ] && port=$PBC_REDIS_R
		pb_pid_of "$PB_CLUSTER_DIR/redis/$name/redis.pid" redis-server >/dev/null && continue
		# a restart keeps the role the sentinels gave it (they rewrite nothing
		# here: the role is asked of the sentinels at start)
		if [ ! -f "$PB_CLUSTER_DIR/redis/$name/redis.conf" ]; then
			if [ "$name" = replica ]; then
				pbc_redis_conf "$name" "$port" "$PBC_REDIS_P"
			else
				pbc_redis_conf "$name" "$port"
			fi
		fi
		runuser -u redis -- redis-server "$PB_CLUSTER_DIR/redis/$name/redis.conf" ||
			pb_die "redis $name did not start"
	done
	local i
	for i in 1 2 3; do
		pb_pid_of "$PB_CLUSTER_DIR/redis/s$i/sentinel.pid" redis-sentinel >/dev/null && continue
		[ -f "$PB_CLUSTER_DIR/redis/s$i/sentinel.conf" ] || pbc_sentinel_conf "$i"
		runuser -u redis -- redis-sentinel "$PB_CLUSTER_DIR/redis/s$i/sentinel.conf" ||
			pb_die "sentinel $i did not start"
	done
	pb_wait_for 30 "sentinels to see the replica" pbc_sentinel_sees_replica ||
		pb_die "the sentinels do not see the Redis replica"
	pb_wait_for 60 "the Redis replica in sync" pbc_replica_in_sync ||
		pb_log "warning: no Redis replica in sync (writes wait for it)"
}

pbc_sentinel_sees_replica() {
	redis-cli -p "$PBC_SENT1" SENTINEL replicas phonebill 2>/dev/null | grep -q '^slave$'
}

# The master has a replica whose link is up and synced (state=online).
pbc_replica_in_sync() {
	local m
	m=$(pbc_redis_master)
	REDISCLI_AUTH=$(tr -d '\n' <"$PBC_SECRETS/redis_password") \
		redis-cli -h "${m%:*}" -p "${m#*:}" INFO replication 2>/dev/null | grep -q 'state=online'
}

pbc_redis_master() {
	redis-cli -p "$PBC_SENT1" SENTINEL get-master-addr-by-name phonebill 2>/dev/null | paste -sd: -
}

pbc_redis_stop() {
	local i name
	for i in 1 2 3; do
		pb_stop_pid "$PB_CLUSTER_DIR/redis/s$i/sentinel.pid" redis-sentinel "sentinel $i" 20
	done
	for name in primary replica; do
		pb_stop_pid "$PB_CLUSTER_DIR/redis/$name/redis.pid" redis-server "redis $name" 20
	done
}

# --- haproxy -----------------------------------------------------------------

pbc_haproxy_start() {
	local d=$PB_CLUSTER_DIR/haproxy
	mkdir -p "$d"
	pb_pid_of "$d/haproxy.pid" haproxy >/dev/null && return 0
	cat >"$d/haproxy.cfg" <<EOF
# generated by script/lib/cluster.sh
global
	daemon
	pidfile $d/haproxy.pid
	maxconn 2000
	stats socket $d/admin.sock mode 600 level admin

defaults
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	timeout check 2s
	log 127.0.0.1 local0 emerg

# the web nodes: a node whose auth health is not 200 gets no requests; a
# request whose connection could not be made goes to the other node
frontend web
	mode http
	bind 127.0.0.1:$PBC_HTTP
	option forwardfor
	default_backend webnodes

backend webnodes
	mode http
	balance roundrobin
	option redispatch
	retries 2
	retry-on conn-failure empty-response response-timeout
	option httpchk GET /api/v1/auth/health
	http-check expect status 200
	default-server inter 1s fall 2 rise 2
	server node1 127.0.0.1:$PBC_N1_HTTP check
	server node2 127.0.0.1:$PBC_N2_HTTP check
	# When every node fails its check the cause is shared (Redis or MariaDB
	# switching over): send requests on anyway, so that clients get the
	# services' own 503 + Retry-After (JSON) rather than haproxy's page.
	option allbackups
	server node1-any 127.0.0.1:$PBC_N1_HTTP backup
	server node2-any 127.0.0.1:$PBC_N2_HTTP backup

# one Galera writer at a time: g1, else g2, else g3; sessions to a node
# marked down are cut so that the services reconnect to the next.  The
# check is each node's galera-check (HTTP 200 only when wsrep_ready=ON and
# Synced): a node that accepts logins but is desynced, joining or outside
# the primary component is out.  When g1 is back, the sessions on a backup
# are cut too, so that the services never write on two nodes at once.
listen galera
	mode tcp
	bind 127.0.0.1:$PBC_DB
	timeout client 1h
	timeout server 1h
	option httpchk GET /
	http-check expect status 200
	default-server inter 1s fall 2 rise 3 on-marked-down shutdown-sessions
	server g1 127.0.0.1:$PBC_GALERA check port $PBC_GCHECK on-marked-up shutdown-backup-sessions
	server g2 127.0.0.1:$((PBC_GALERA + 1)) check port $((PBC_GCHECK + 1)) backup
	server g3 127.0.0.1:$((PBC_GALERA + 2)) check port $((PBC_GCHECK + 2)) backup

# history listings (db.read_host): any synced node, the same check
listen galera_read
	mode tcp
	bind 127.0.0.1:$PBC_DB_READ
	timeout client 1h
	timeout server 1h
	balance leastconn
	option httpchk GET /
	http-check expect status 200
	default-server inter 1s fall 2 rise 3 on-marked-down shutdown-sessions
	server g1 127.0.0.1:$PBC_GALERA check port $PBC_GCHECK
	server g2 127.0.0.1:$((PBC_GALERA + 1)) check port $((PBC_GCHECK + 1))
	server g3 127.0.0.1:$((PBC_GALERA + 2)) check port $((PBC_GCHECK + 2))

listen stats
	mode http
	bind 127.0.0.1:$PBC_STATS
	stats enable
	stats uri /
EOF
	haproxy -c -f "$d/haproxy.cfg" >/dev/null || pb_die "haproxy rejects $d/haproxy.cfg"
	pb_log "starting haproxy (http://127.0.0.1:$PBC_HTTP/, MariaDB writer 127.0.0.1:$PBC_DB, readers 127.0.0.1:$PBC_DB_READ)"
	haproxy -f "$d/haproxy.cfg" || pb_die "haproxy did not start"
}

# A command on haproxy's admin socket ("show stat", "set server ...").
pbc_haproxy_cmd() {
	echo "$*" | socat stdio "unix-connect:$PB_CLUSTER_DIR/haproxy/admin.sock"
}

# The state haproxy gives server SRV of listener PX (UP, DOWN, MAINT, ...).
pbc_haproxy_server() {
	pbc_haproxy_cmd "show stat" | awk -F, -v px="$1" -v sv="$2" \
		'$1 == px && $2 == sv { print $18; found = 1 } END { exit !found }'
}

pbc_haproxy_stop() {
	pb_stop_pid "$PB_CLUSTER_DIR/haproxy/haproxy.pid" haproxy haproxy 10
}

# --- web nodes -----------------------------------------------------------------

# pbc_node N: set stack.sh's variables for web node N (in a subshell).
pbc_node() {
	local n=$1
	PB_STATE=$PB_CLUSTER_DIR/node$n
	if [ "$n" = 1 ]; then
		PB_HTTP_PORT=$PBC_N1_HTTP PB_HTTPS_PORT=$PBC_N1_HTTPS PB_KOS_PORT=$PBC_N1_KOS
	else
		PB_HTTP_PORT=$PBC_N2_HTTP PB_HTTPS_PORT=$PBC_N2_HTTPS PB_KOS_PORT=$PBC_N2_KOS
	fi
	PB_APACHE_HTTP_PORT=$PB_HTTP_PORT PB_APACHE_HTTPS_PORT=$PB_HTTPS_PORT
	PB_APACHE_KOS_PORT=$PB_KOS_PORT
	export PB_STATE PB_HTTP_PORT PB_HTTPS_PORT PB_KOS_PORT PB_APACHE_HTTP_PORT \
		PB_APACHE_HTTPS_PORT PB_APACHE_KOS_PORT
	export PB_PROCS=${PB_CLUSTER_PROCS:-2}
	pb_stack_init
	# the node's secrets are the cluster's (one set for every node)
	if [ ! -L "$PB_STATE/secrets" ]; then
		rm -rf "$PB_STATE/secrets"
		ln -s "$PBC_SECRETS" "$PB_STATE/secrets"
	fi
	{
		echo "# a node of script/cluster: the services use these addresses"
		printf 'PBC_SENTINELS=%q\nPBC_DB=%q\nPBC_DB_READ=%q\n' "$PBC_SENTINELS" \
			"$PBC_DB" "$PBC_DB_READ"
	} >"$PB_STATE/cluster.env"
}

pbc_node_start() {
	local n=$1
	(
		set -e
		pbc_node "$n"
		if [ "$n" = 1 ]; then pb_lighttpd_start; else pb_apache_start; fi
		pb_wait_health "http://127.0.0.1:$PB_HTTP_PORT/api/v1/auth/health" 60
	)
}

pbc_node_stop() {
	local n=$1
	[ -f "$PB_CLUSTER_DIR/node$n/stack.env" ] || return 0
	(
		pbc_node "$n" >/dev/null
		pb_worker_stop
		if [ "$n" = 1 ]; then pb_lighttpd_stop; else pb_apache_stop; fi
	)
}

# The demo users, once, through node 1's configs.
pbc_seed() {
	(set -e; pbc_node 1; pb_seed_users)
}

pbc_secrets() {
	mkdir -p "$PBC_SECRETS"
	(PB_SECRETS=$PBC_SECRETS PB_AS_ROOT=${PB_AS_ROOT:-0} pb_secrets)
	# the admin over TCP (db/migrate --host): root only
	if [ ! -s "$PBC_SECRETS/db_admin_password" ]; then
		(umask 077 && openssl rand -hex 32 >"$PBC_SECRETS/db_admin_password")
	fi
	chown -R www-data:www-data "$PBC_SECRETS" 2>/dev/null || true
	chown root: "$PBC_SECRETS/db_admin_password"
	chmod 0600 "$PBC_SECRETS/db_admin_password"
}

pbc_status() {
	local n
	echo "haproxy: http://127.0.0.1:$PBC_HTTP/  MariaDB writer 127.0.0.1:$PBC_DB  stats http://127.0.0.1:$PBC_STATS/"
	for n in 1 2 3; do
		if pbc_galera_ready "$n"; then
			echo "galera g$n: $(pbc_galera_sql "$n" --batch --skip-column-names -e \
				"SELECT CONCAT(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('WSREP_CLUSTER_SIZE','WSREP_LOCAL_STATE_COMMENT')" | paste -sd' ' -)"
		else
			echo "galera g$n: down"
		fi
	done
	for n in 1 2 3; do
		echo "galera-check g$n: $(pbc_gcheck "$n" | tr -d '\n')"
	done
	echo "redis master (sentinels): $(pbc_redis_master)"
	for n in 1 2; do
		echo "node$n: auth health $(curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
			"http://127.0.0.1:$((B + n * 10))/api/v1/auth/health")"
	done
}

# --- drills (script/cluster DRILL-COMMAND; tests/integration/test_cluster.py) --

# The integration tests' view of the cluster as one "stack" directory:
# conf (node1's, for phonebill-admin), secrets, and an admin socket on g3
# (Galera: every node has every committed row; g3 is never killed).
pbc_test_handles() {
	mkdir -p "$PB_CLUSTER_DIR/mariadb"
	ln -sfn "$PB_CLUSTER_DIR/node1/conf" "$PB_CLUSTER_DIR/conf"
	ln -sfn "$(pbc_gsock 3)" "$PB_CLUSTER_DIR/mariadb/mariadb.sock"
}

pbc_kill9() {
	local pidfile=$1 expect=$2 pid
	pid=$(pb_pid_of "$pidfile" "$expect") || { pb_log "$pidfile: not running"; return 1; }
	kill -KILL "$pid"
	echo "$pid"
}

# SIGKILL the Redis server the sentinels call master.
pbc_redis_kill_master() {
	local port name
	port=$(pbc_redis_master | cut -d: -f2)
	name=primary
	[ "$port" = "$PBC_REDIS_R" ] && name=replica
	pbc_kill9 "$PB_CLUSTER_DIR/redis/$name/redis.pid" redis-server >/dev/null
	echo "redis $name (port $port)"
}

# SIGKILL the Galera node haproxy sends writes to (the first one up).
pbc_galera_kill_writer() {
	local n
	for n in 1 2 3; do
		if pb_pid_of "$(pbc_gdir "$n")/mariadb.pid" mariadbd >/dev/null; then
			pbc_kill9 "$(pbc_gdir "$n")/mariadb.pid" mariadbd >/dev/null
			echo "g$n"
			return 0
		fi
	done
	return 1
}

# Every Galera node that is down joins again (IST/SST from the others).
pbc_galera_rejoin() {
	local n
	for n in 1 2 3; do
		pb_pid_of "$(pbc_gdir "$n")/mariadb.pid" mariadbd >/dev/null || pbc_galera_start "$n"
	done
}

# SIGKILL web node N: the web server and every FastCGI program under it.
pbc_node_kill() {
	local n=$1 pidfile pid kids
	pidfile=$PB_CLUSTER_DIR/node$n/lighttpd/lighttpd.pid
	[ "$n" = 2 ] && pidfile=$PB_CLUSTER_DIR/node$n/apache/run/apache2.pid
	pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null) || return 1
	[ -n "$pid" ] || return 1
	kids=$(pb_descendants "$pid" 2>/dev/null || true)
	# shellcheck disable=SC2086
	kill -KILL "$pid" $kids 2>/dev/null || true
	echo "node$n (pid $pid and $(echo "$kids" | wc -w) children)"
}

pbc_worker() {
	local n=$1 what=$2
	(pbc_node "$n" >/dev/null; case $what in
		kill) pb_worker_kill ;;
		start) pb_worker_start ;;
	esac)
}
