# shellcheck shell=bash
# script/lib/stack.sh - start and stop the local stack (MariaDB, Redis, the
# migrations, lighttpd or Apache running the FastCGI services) under one state
# directory.  Sourced by script/server, script/test, script/stackctl and
# tests/bench/run.sh; it never uses Debian's packaged daemons, their configs,
# ports or data directories.
#
# Inputs (environment, set before calling pb_stack_init):
#   PB_STATE             state directory (absolute or relative to the repo), required
#   PB_HTTP_PORT         lighttpd plain HTTP port            (default 8080)
#   PB_HTTPS_PORT        lighttpd HTTPS port                 (default 8443)
#   PB_APACHE_HTTP_PORT  Apache plain HTTP port              (default PB_HTTP_PORT)
#   PB_APACHE_HTTPS_PORT Apache HTTPS port                   (default PB_HTTPS_PORT)
#   PB_PROCS             FastCGI processes per service       (default 2)
#   PB_LOGIN_PROCS       processes of the auth login pool    (default 2 x PB_PROCS)
#   PB_KOS_PROCS         processes of the KOS simulator / MVNO AP stand-in
#                        on lighttpd's plain port and Apache's (default PB_PROCS)
#   PB_HASH_PERMITS      auth.hash_permits: hashes in flight  (default 2)
#   PB_KOS_TLS_PORT      the KOS simulator over mutual TLS on lighttpd
#                        (default PB_KOS_PORT + 1000)
#   PB_LOG_LEVEL         services' log.level                 (default info)
#   PB_UNITTEST_DB       1: also create phonebill_unittest   (default 0)
#   PB_BIN_AUTH, PB_BIN_BILL, PB_BIN_PRODUCT   FastCGI programs (default: the build's)
#   PB_KOS_PORT          KOS simulator port on lighttpd      (default 9080)
#   PB_APACHE_KOS_PORT   KOS simulator port on Apache        (default PB_KOS_PORT)
#   PB_BIN_KOS           the KOS simulator program           (default: the build's)
#   PB_BIN_WORKER        phonebill-worker                    (default: the build's)
#   PB_DB_TIME_ZONE      MariaDB's default_time_zone         (default +00:00; the
#                        programs set their sessions to UTC whatever it is)
#   PHONEBILL_CLOCK_OFFSET_MS, PHONEBILL_ALLOW_CLOCK_OVERRIDE (tests only): passed
#                        to the programs lighttpd spawns, its error.cgi and
#                        phonebill-worker
#   PB_TRUSTED_PROXIES   space-separated proxy addresses whose X-Forwarded-For
#                        the web server believes (mod_extforward/mod_remoteip);
#                        empty: the client is the TCP peer    (default empty)
# pb_stack_init writes them to $PB_STATE/stack.env so that script/stackctl can
# act on a running stack later with the same values.
#
# Every daemon writes a pid file; stopping only ever signals the pid read from
# that file, after checking that the process still runs the expected program.

PB_ROOT=${PB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

pb_log() { printf 'stack: %s\n' "$*" >&2; }
pb_die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# --- initialisation ----------------------------------------------------------

pb_stack_init() {
	[ -n "${PB_STATE:-}" ] || pb_die "PB_STATE is not set"
	umask 022
	case $PB_STATE in /*) ;; *) PB_STATE=$PB_ROOT/$PB_STATE ;; esac
	mkdir -p "$PB_STATE"
	PB_STATE=$(cd "$PB_STATE" && pwd)
	if [ -f "$PB_STATE/stack.env" ] && [ "${PB_REUSE_ENV:-0}" = 1 ]; then
		# shellcheck disable=SC1091
		. "$PB_STATE/stack.env"
	fi
	PB_HTTP_PORT=${PB_HTTP_PORT:-8080}
	PB_HTTPS_PORT=${PB_HTTPS_PORT:-8443}
	PB_APACHE_HTTP_PORT=${PB_APACHE_HTTP_PORT:-$PB_HTTP_PORT}
	PB_APACHE_HTTPS_PORT=${PB_APACHE_HTTPS_PORT:-$PB_HTTPS_PORT}
	PB_PROCS=${PB_PROCS:-2}
	PB_LOGIN_PROCS=${PB_LOGIN_PROCS:-$((PB_PROCS * 2))}
	PB_KOS_PROCS=${PB_KOS_PROCS:-$PB_PROCS}
	PB_HASH_PERMITS=${PB_HASH_PERMITS:-2}
	PB_KOS_TLS_PORT=${PB_KOS_TLS_PORT:-$((PB_KOS_PORT + 1000))}
	PB_LOG_LEVEL=${PB_LOG_LEVEL:-info}
	PB_DB_TIME_ZONE=${PB_DB_TIME_ZONE:-+00:00}
	PB_UNITTEST_DB=${PB_UNITTEST_DB:-0}
	PB_KOS_PORT=${PB_KOS_PORT:-9080}
	PB_BREAKER_OPEN_MS=${PB_BREAKER_OPEN_MS:-30000}
	PB_APACHE_KOS_PORT=${PB_APACHE_KOS_PORT:-$PB_KOS_PORT}
	PB_BIN_KOS=${PB_BIN_KOS:-$PB_ROOT/fcgi/kos-sim/phonebill-kos-sim}
	PB_TRUSTED_PROXIES=${PB_TRUSTED_PROXIES-}
	case $PB_TRUSTED_PROXIES in *[!0-9a-fA-F.:\ ]*) pb_die "PB_TRUSTED_PROXIES: addresses only" ;; esac
	PB_BIN_AUTH=${PB_BIN_AUTH:-$PB_ROOT/fcgi/auth/phonebill-auth}
	PB_BIN_BILL=${PB_BIN_BILL:-$PB_ROOT/fcgi/bill/phonebill-bill}
	PB_BIN_PRODUCT=${PB_BIN_PRODUCT:-$PB_ROOT/fcgi/product/phonebill-product}
	PB_BIN_WORKER=${PB_BIN_WORKER:-$PB_ROOT/fcgi/worker/phonebill-worker}
	PB_WORKER_DIR=$PB_STATE/worker
	case $PB_PROCS in ''|*[!0-9]*) pb_die "PB_PROCS must be a number" ;; esac
	[ "$PB_PROCS" -ge 1 ] || pb_die "PB_PROCS must be at least 1"

	if [ "$(id -u)" = 0 ]; then
		PB_AS_ROOT=1
		PB_RUN_USER=www-data PB_RUN_GROUP=www-data
		PB_DB_USER=mysql PB_REDIS_USER=redis
		PB_DB_ADMIN=root
		for u in www-data mysql redis; do
			id "$u" >/dev/null 2>&1 || pb_die "system user '$u' is missing (install the packages: script/setup)"
		done
	else
		PB_AS_ROOT=0
		PB_RUN_USER=$(id -un) PB_RUN_GROUP=$(id -gn)
		PB_DB_USER=$PB_RUN_USER PB_REDIS_USER=$PB_RUN_USER
		PB_DB_ADMIN=$PB_RUN_USER
	fi

	# Directory layout (absolute paths, shared by the templates).
	PB_SECRETS=$PB_STATE/secrets
	PB_CONF_DIR=$PB_STATE/conf
	PB_TLS_DIR=$PB_STATE/tls
	PB_DB_DIR=$PB_STATE/mariadb
	PB_DB_SOCKET=$PB_DB_DIR/mariadb.sock
	PB_REDIS_DIR=$PB_STATE/redis
	PB_REDIS_SOCKET=$PB_REDIS_DIR/redis.sock
	PB_LIGHTTPD_DIR=$PB_STATE/lighttpd
	PB_APACHE_DIR=$PB_STATE/apache
	PB_WWW_DIR=$PB_ROOT/www

	mkdir -p "$PB_CONF_DIR" "$PB_TLS_DIR"
	chmod 0755 "$PB_STATE" "$PB_CONF_DIR"
	if [ "$PB_AS_ROOT" = 1 ]; then
		# MariaDB, Redis and the web server's workers run as other users:
		# each must be able to reach the state directory and the programs.
		local u
		for u in "$PB_RUN_USER" "$PB_DB_USER" "$PB_REDIS_USER"; do
			pb_check_traverse "$u" "$PB_STATE"
		done
		pb_check_traverse "$PB_RUN_USER" "$PB_ROOT/fcgi"
	fi
	chmod 0700 "$PB_TLS_DIR"
	pb_write_env
}

pb_write_env() {
	local f=$PB_STATE/stack.env
	{
		echo "# written by script/lib/stack.sh; read by script/stackctl"
		for v in PB_HTTP_PORT PB_HTTPS_PORT PB_APACHE_HTTP_PORT PB_APACHE_HTTPS_PORT \
		    PB_PROCS PB_LOG_LEVEL PB_UNITTEST_DB PB_KOS_PORT PB_APACHE_KOS_PORT \
		    PB_BIN_AUTH PB_BIN_BILL PB_BIN_PRODUCT PB_BIN_KOS PB_BREAKER_OPEN_MS \
		    PB_DB_TIME_ZONE PB_TRUSTED_PROXIES PB_LOGIN_PROCS PB_HASH_PERMITS PB_KOS_TLS_PORT \
		    PB_KOS_PROCS; do
			printf '%s=%q\n' "$v" "${!v}"
		done
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

# Run a command as the FastCGI programs' user (www-data when root).
pb_as_run_user() {
	if [ "$PB_AS_ROOT" = 1 ]; then
		runuser -u "$PB_RUN_USER" -- "$@"
	else
		"$@"
	fi
}

# pb_check_traverse USER DIR: every directory from / down to DIR must be
# searchable by USER.
pb_check_traverse() {
	local user=$1 dir=$2 d="" part
	local IFS=/
	for part in $dir; do
		[ -n "$part" ] || continue
		d=$d/$part
		[ -d "$d" ] || break
		if ! runuser -u "$user" -- test -x "$d" 2>/dev/null; then
			pb_die "user $user cannot enter $d (needed for $dir): run 'chmod o+x $d', or put the repository somewhere every user can reach (e.g. /srv or /tmp)"
		fi
	done
}

# The web servers' workers and the FastCGI programs run as $PB_RUN_USER: it
# must be able to reach the binaries, the configs, the secrets and www/.
pb_check_reachable() {
	local p
	for p in "$@"; do
		if ! pb_as_run_user test -r "$p"; then
			local d=$p bad=""
			while [ "$d" != / ] && [ -n "$d" ]; do
				d=$(dirname "$d")
				pb_as_run_user test -x "$d" || bad=$d
			done
			if [ -n "$bad" ]; then
				pb_die "user $PB_RUN_USER cannot traverse $bad (needed for $p): run 'chmod o+x $bad' or clone the repo elsewhere (e.g. under /srv or /tmp)"
			fi
			pb_die "user $PB_RUN_USER cannot read $p"
		fi
	done
}

# --- pid files ---------------------------------------------------------------

# pb_pid_of PIDFILE EXE-SUBSTRING: print the pid if it is alive and its
# command line contains the expected program name.
pb_pid_of() {
	local pidfile=$1 expect=$2 pid cmd
	[ -r "$pidfile" ] || return 1
	pid=$(tr -dc '0-9' <"$pidfile")
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	case $cmd in *"$expect"*) echo "$pid" ;; *) return 1 ;; esac
}

# pb_stop_pid PIDFILE EXE-SUBSTRING NAME [TIMEOUT-S]
pb_stop_pid() {
	local pidfile=$1 expect=$2 name=$3 timeout=${4:-30} pid i
	if ! pid=$(pb_pid_of "$pidfile" "$expect"); then
		rm -f "$pidfile"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		pb_log "$name (pid $pid) did not stop in ${timeout}s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$pidfile"
	pb_log "$name stopped"
}

# pb_wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s.
pb_wait_for() {
	local timeout=$1 what=$2 i
	shift 2
	for ((i = 0; i < timeout * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	pb_log "timed out after ${timeout}s waiting for $what"
	return 1
}

# Fail early and clearly when a port is taken by something else.
pb_port_free() {
	local port=$1
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		pb_die "port 127.0.0.1:$port is already in use by another program"
	fi
}

# --- secrets -----------------------------------------------------------------

# Secrets are generated once, into $PB_SECRETS, mode 0600, owned by the user
# the FastCGI programs run as.  Values are hex so that they can be placed in
# SQL and in redis.conf without quoting problems.
PB_SECRET_NAMES="redis_password jwt_secret db_auth_password db_bill_password db_product_password db_unittest_password db_kos_sim_password mvno_hmac_secret pii_key pii_index_key"

pb_secrets() {
	local s f
	mkdir -p "$PB_SECRETS"
	chmod 0700 "$PB_SECRETS"
	for s in $PB_SECRET_NAMES; do
		f=$PB_SECRETS/$s
		if [ ! -s "$f" ]; then
			(umask 077 && openssl rand -hex 32 >"$f.tmp") || pb_die "openssl rand failed"
			mv "$f.tmp" "$f"
		fi
		chmod 0600 "$f"
	done
	if [ "$PB_AS_ROOT" = 1 ]; then
		chown -R "$PB_RUN_USER:$PB_RUN_GROUP" "$PB_SECRETS"
	fi
}

pb_secret() { tr -d '\n' <"$PB_SECRETS/$1"; }

# --- TLS ---------------------------------------------------------------------

# pb_kos_tls_certs: a test CA, the KOS simulator's server certificate and
# the services' client certificate (mutual TLS to KOS), under
# $PB_STATE/kos-tls (not under the web server's 0700 tls/: the services
# read their client certificate there); the client key is theirs only.
pb_kos_tls_certs() {
	local d=$PB_STATE/kos-tls
	[ -s "$d/client.key" ] && [ -s "$d/server.pem" ] && return 0
	mkdir -p "$d"
	pb_log "generating the KOS test CA and certificates (mutual TLS)"
	(
		set -e
		umask 077
		cd "$d"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-days 825 -subj "/CN=phonebill test KOS CA" -keyout ca.key -out ca.pem \
			-addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
		for who in server client; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-subj "/CN=kos-$who" -keyout "$who.key" -out "$who.csr" 2>/dev/null
		done
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		for who in server client; do
			openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
				-days 825 -extfile "$who.ext" -out "$who.pem" 2>/dev/null
		done
		rm -f ./*.csr ./*.ext ca.srl
	) || pb_die "openssl could not create the KOS certificates"
	chmod 0755 "$d"
	chmod 0644 "$d/ca.pem" "$d/server.pem" "$d/client.pem"
	chmod 0600 "$d/ca.key" "$d/server.key" "$d/client.key"
	if [ "$PB_AS_ROOT" = 1 ]; then
		chown "$PB_RUN_USER:$PB_RUN_GROUP" "$d/client.key" "$d/server.key"
	fi
}

pb_tls_cert() {
	pb_tls_cert_make
	pb_kos_tls_certs
	# lighttpd re-reads the key on a reload (SIGUSR1) after dropping to
	# the run user: without this, a reload is a shutdown.
	if [ "$PB_AS_ROOT" = 1 ]; then
		chown -R "$PB_RUN_USER:$PB_RUN_GROUP" "$PB_TLS_DIR"
	fi
}

pb_tls_cert_make() {
	[ -s "$PB_TLS_DIR/cert.pem" ] && [ -s "$PB_TLS_DIR/key.pem" ] && return 0
	pb_log "generating a self-signed certificate for 127.0.0.1/localhost"
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 825 -subj "/CN=localhost" -addext "basicConstraints=critical,CA:FALSE" \
	    -addext "extendedKeyUsage=serverAuth" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -keyout "$PB_TLS_DIR/key.pem" -out "$PB_TLS_DIR/cert.pem" 2>/dev/null) ||
		pb_die "openssl could not create the certificate"
	chmod 0600 "$PB_TLS_DIR/key.pem"
	chmod 0644 "$PB_TLS_DIR/cert.pem"
}

# --- templates ---------------------------------------------------------------

# pb_proxy_confs: the client address settings of both web servers from
# PB_TRUSTED_PROXIES (lighttpd mod_extforward, Apache mod_remoteip).  With no
# trusted proxy the client is the TCP peer and X-Forwarded-For is ignored.
pb_proxy_confs() {
	local a lt=$PB_CONF_DIR/extforward.conf ap=$PB_CONF_DIR/remoteip.conf
	{
		echo "# written by script/lib/stack.sh from PB_TRUSTED_PROXIES"
		echo 'extforward.headers = ( "X-Forwarded-For" )'
		printf 'extforward.forwarder = ('
		for a in $PB_TRUSTED_PROXIES; do printf ' "%s" => "trust",' "$a"; done
		echo ' )'
	} >"$lt"
	{
		echo "# written by script/lib/stack.sh from PB_TRUSTED_PROXIES"
		if [ -n "${PB_TRUSTED_PROXIES// /}" ]; then
			echo "RemoteIPHeader X-Forwarded-For"
			for a in $PB_TRUSTED_PROXIES; do echo "RemoteIPInternalProxy $a"; done
		fi
	} >"$ap"
}

# pb_render TEMPLATE OUTPUT: replace @VAR@ with the value of PB_VAR (or of the
# few plain names below).  Fails on any @WORD@ left unreplaced.
pb_render() {
	local in=$1 out=$2 sedscript v
	sedscript=$(mktemp)
	for v in STATE ROOT CONF_DIR TLS_DIR SECRETS DB_SOCKET REDIS_SOCKET WWW_DIR \
	    LIGHTTPD_DIR APACHE_DIR HTTP_PORT HTTPS_PORT APACHE_HTTP_PORT APACHE_HTTPS_PORT \
	    PROCS LOG_LEVEL RUN_USER RUN_GROUP BIN_AUTH BIN_BILL BIN_PRODUCT KOS_PORT \
	    BIN_KOS APACHE_KOS_PORT LOGIN_PROCS HASH_PERMITS KOS_TLS_PORT KOS_PROCS \
	    SERVICE DB_NAME DB_USER_NAME REDIS_LOG SVC_KOS_PORT BREAKER_OPEN_MS \
	    CLOCK_OFFSET_MS ALLOW_CLOCK_OVERRIDE; do
		local name=PB_$v val
		val=${!name-}
		val=${val//\\/\\\\}
		val=${val//|/\\|}
		val=${val//&/\\&}
		printf 's|@%s@|%s|g\n' "$v" "$val" >>"$sedscript"
	done
	sed -f "$sedscript" "$in" >"$out.tmp"
	rm -f "$sedscript"
	if grep -n '@[A-Z_]*@' "$out.tmp" | grep -v '^[0-9]*:[[:space:]]*#' >&2; then
		rm -f "$out.tmp"
		pb_die "unreplaced @VARS@ in $in"
	fi
	mv "$out.tmp" "$out"
}

# The services' own config files (no secrets inside: *_file keys point to
# $PB_SECRETS).
# PB_SVC_KOS_PORT: the KOS simulator port the services call (the web
# server being started serves it).
pb_service_configs() {
	local svc extra
	PB_SVC_KOS_PORT=${PB_SVC_KOS_PORT:-$PB_KOS_PORT}
	PB_BREAKER_OPEN_MS=${PB_BREAKER_OPEN_MS:-30000}
	# The breaker's state file and the history spools, writable by the
	# services' user only.
	mkdir -p "$PB_STATE/run" "$PB_STATE/spool/bill" "$PB_STATE/spool/product"
	chmod 0750 "$PB_STATE/run" "$PB_STATE/spool"
	chmod 0700 "$PB_STATE/spool/bill" "$PB_STATE/spool/product"
	if [ "$PB_AS_ROOT" = 1 ]; then
		chown "$PB_RUN_USER:$PB_RUN_GROUP" "$PB_STATE/run" "$PB_STATE/spool" \
			"$PB_STATE/spool/bill" "$PB_STATE/spool/product"
	fi
	for svc in auth bill product; do
		PB_SERVICE=$svc PB_DB_NAME=phonebill_$svc PB_DB_USER_NAME=phonebill_$svc \
			pb_render "$PB_ROOT/conf/phonebill/service.conf.in" "$PB_CONF_DIR/$svc.conf"
		extra=
		case $svc in
		auth) extra=auth.conf.in ;;
		bill|product) extra=backoffice.conf.in ;;
		esac
		if [ -n "$extra" ]; then
			PB_SERVICE=$svc pb_render "$PB_ROOT/conf/phonebill/$extra" "$PB_CONF_DIR/$svc.conf.extra"
			cat "$PB_CONF_DIR/$svc.conf.extra" >>"$PB_CONF_DIR/$svc.conf"
			rm -f "$PB_CONF_DIR/$svc.conf.extra"
		fi
		chmod 0644 "$PB_CONF_DIR/$svc.conf"
	done
	# The KOS simulator: its own database and account (kos_sim).
	pb_render "$PB_ROOT/conf/phonebill/kos-sim.conf.in" "$PB_CONF_DIR/kos-sim.conf"
	chmod 0644 "$PB_CONF_DIR/kos-sim.conf"
	# a node of several (script/cluster): TCP addresses instead of sockets
	if [ -f "$PB_STATE/cluster.env" ]; then
		# shellcheck source=cluster.sh
		. "$PB_ROOT/script/lib/cluster.sh"
		pbc_node_configs
	fi
}

pb_www() {
	if [ ! -d "$PB_WWW_DIR" ]; then
		mkdir -p "$PB_WWW_DIR"
		cat >"$PB_WWW_DIR/index.html" <<'EOF'
<!doctype html>
<html lang="ko">
<head><meta charset="utf-8"><title>phonebill</title></head>
<body><h1>phonebill</h1><p>The web UI is not built yet. API: <code>/api/v1/auth/health</code></p></body>
</html>
EOF
	fi
}

# JSON error documents the web servers send for errors they answer themselves
# (a body over the server's limit, an unknown service prefix, a dead backend).
pb_error_docs() {
	local dir=$1 code
	mkdir -p "$dir"
	for code in 400 403 404 405 408 411 413 414 431 500 502 503 504; do
		cp "$PB_ROOT/conf/httpd/errors/$code.json" "$dir/$code.json" 2>/dev/null || true
	done
}

# --- MariaDB -----------------------------------------------------------------

pb_mariadb_admin() {
	mariadb --no-defaults --protocol=socket -S "$PB_DB_SOCKET" -u "$PB_DB_ADMIN" "$@"
}

pb_mariadb_ready() {
	mariadb-admin --no-defaults --protocol=socket -S "$PB_DB_SOCKET" -u "$PB_DB_ADMIN" \
		--connect-timeout=2 ping
}

pb_mariadb_start() {
	if pb_pid_of "$PB_DB_DIR/mariadb.pid" mariadbd >/dev/null; then
		pb_wait_for 60 "MariaDB" pb_mariadb_ready || pb_die "MariaDB runs but does not answer"
		return 0
	fi
	mkdir -p "$PB_DB_DIR"
	[ "$PB_AS_ROOT" = 1 ] && chown "$PB_DB_USER:" "$PB_DB_DIR"
	chmod 0755 "$PB_DB_DIR"
	# A first start that failed leaves a half-made data directory (root
	# without its socket grant: "Access denied" for ever after).  The
	# marker lives until the first start answered: if it is still there,
	# nothing was ever stored, and the directory is made again.
	if [ -f "$PB_DB_DIR/initialising" ]; then
		pb_log "the last initialisation of $PB_DB_DIR/data did not finish: starting it again"
		rm -rf "$PB_DB_DIR/data"
	fi
	if [ ! -d "$PB_DB_DIR/data/mysql" ]; then
		pb_log "initialising MariaDB data directory $PB_DB_DIR/data"
		: >"$PB_DB_DIR/initialising"
		rm -rf "$PB_DB_DIR/data"
		mkdir -p "$PB_DB_DIR/data"
		[ "$PB_AS_ROOT" = 1 ] && chown "$PB_DB_USER:" "$PB_DB_DIR/data"
		chmod 0700 "$PB_DB_DIR/data"
		local extra=()
		[ "$PB_AS_ROOT" = 1 ] && extra=(--user="$PB_DB_USER")
		mariadb-install-db --no-defaults "${extra[@]}" --datadir="$PB_DB_DIR/data" \
			--auth-root-authentication-method=socket --skip-test-db \
			>"$PB_DB_DIR/install.log" 2>&1 ||
			{ tail -n 20 "$PB_DB_DIR/install.log" >&2; pb_die "mariadb-install-db failed"; }
	fi
	rm -f "$PB_DB_SOCKET"
	local args=(--no-defaults)
	[ "$PB_AS_ROOT" = 1 ] && args+=(--user="$PB_DB_USER")
	args+=(--datadir="$PB_DB_DIR/data" --socket="$PB_DB_SOCKET"
		--pid-file="$PB_DB_DIR/mariadb.pid" --log-error="$PB_DB_DIR/mariadb.err"
		--skip-networking --skip-name-resolve
		--character-set-server=utf8mb4 --collation-server=utf8mb4_nopad_bin
		--default-time-zone="$PB_DB_TIME_ZONE"
		--innodb-buffer-pool-size="${PB_DB_BUFFER_POOL:-64M}" --max-connections=300
		--wait-timeout=28800)
	# PB_DB_EXTRA_ARGS: more mariadbd options (benchmarks: performance
	# schema), split on blanks
	# shellcheck disable=SC2206
	[ -n "${PB_DB_EXTRA_ARGS:-}" ] && args+=($PB_DB_EXTRA_ARGS)
	pb_log "starting MariaDB (socket $PB_DB_SOCKET)"
	setsid mariadbd "${args[@]}" </dev/null >>"$PB_DB_DIR/mariadb.out" 2>&1 &
	local i
	for ((i = 0; i < 600; i++)); do
		pb_mariadb_ready >/dev/null 2>&1 && break
		if [ "$i" -gt 20 ] && ! pb_pid_of "$PB_DB_DIR/mariadb.pid" mariadbd >/dev/null &&
			! jobs -r | grep -q .; then
			break
		fi
		sleep 0.1
	done
	if ! pb_mariadb_ready >/dev/null 2>&1; then
		tail -n 20 "$PB_DB_DIR/mariadb.err" >&2 2>/dev/null
		[ -f "$PB_DB_DIR/initialising" ] &&
			pb_log "the next start initialises $PB_DB_DIR/data again"
		pb_die "MariaDB did not start (log: $PB_DB_DIR/mariadb.err)"
	fi
	rm -f "$PB_DB_DIR/initialising"
}

pb_mariadb_stop() {
	pb_stop_pid "$PB_DB_DIR/mariadb.pid" mariadbd MariaDB 60
}

pb_migrate() {
	# The local stacks always run the KOS simulator (db/kos-sim).
	local extra=(--with-kos-sim)
	[ "$PB_UNITTEST_DB" = 1 ] && extra+=(--with-unittest)
	"$PB_ROOT/db/migrate" --socket "$PB_DB_SOCKET" --admin-user "$PB_DB_ADMIN" \
		--secrets "$PB_SECRETS" "${extra[@]}" || pb_die "migrations failed"
}

# --- Redis -------------------------------------------------------------------

pb_redis_ready() {
	REDISCLI_AUTH=$(pb_secret redis_password) redis-cli -s "$PB_REDIS_SOCKET" ping 2>/dev/null |
		grep -qx PONG
}

pb_redis_start() {
	if pb_pid_of "$PB_REDIS_DIR/redis.pid" redis-server >/dev/null; then
		return 0
	fi
	mkdir -p "$PB_REDIS_DIR/data"
	chmod 0750 "$PB_REDIS_DIR"
	chmod 0700 "$PB_REDIS_DIR/data"
	# redis.conf carries requirepass: readable by the Redis user only.
	local conf=$PB_REDIS_DIR/redis.conf pw
	pw=$(pb_secret redis_password)
	case $pw in *[!A-Za-z0-9]*|'') pb_die "redis_password must be alphanumeric" ;; esac
	(umask 077 && PB_REDIS_LOG=$PB_REDIS_DIR/redis.log \
		pb_render "$PB_ROOT/conf/redis/redis.conf.in" "$conf")
	printf 'requirepass %s\n' "$pw" >>"$conf"
	chmod 0600 "$conf"
	if [ "$PB_AS_ROOT" = 1 ]; then
		# Group www-data so that the web server's user reaches the socket
		# (unixsocketperm 770) and nobody else does.
		chown -R "$PB_REDIS_USER:$PB_RUN_GROUP" "$PB_REDIS_DIR"
	fi
	rm -f "$PB_REDIS_SOCKET"
	pb_log "starting Redis (socket $PB_REDIS_SOCKET)"
	if [ "$PB_AS_ROOT" = 1 ]; then
		runuser -u "$PB_REDIS_USER" -g "$PB_RUN_GROUP" -- redis-server "$conf" ||
			pb_die "redis-server failed to start"
	else
		redis-server "$conf" || pb_die "redis-server failed to start"
	fi
	pb_wait_for 20 "Redis" pb_redis_ready ||
		{ tail -n 20 "$PB_REDIS_DIR/redis.log" >&2; pb_die "Redis did not start"; }
}

pb_redis_stop() {
	pb_stop_pid "$PB_REDIS_DIR/redis.pid" redis-server Redis 30
}

# --- lighttpd ----------------------------------------------------------------

pb_lighttpd_conf() {
	local d=$PB_LIGHTTPD_DIR
	mkdir -p "$d/sockets" "$d/log" "$d/tmp" "$d/errors"
	if [ "$PB_AS_ROOT" = 1 ]; then
		chown "$PB_RUN_USER:$PB_RUN_GROUP" "$d/sockets" "$d/log" "$d/tmp"
	fi
	chmod 0700 "$d/sockets" "$d/tmp"
	chmod 0755 "$d" "$d/log" "$d/errors"
	pb_error_docs "$d/errors"
	# lighttpd looks for <prefix><status>.html: the JSON documents under that name
	# (their Content-Type is set in the config).
	# Static files: the timestamp is the time this config was made (lighttpd
	# cannot fill it per request; Apache does, with mod_include).
	local f now
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	[ -f "$PB_CONF_DIR/lighttpd.local.conf" ] || echo "# extra lighttpd settings for this stack" >"$PB_CONF_DIR/lighttpd.local.conf"
	for f in "$d"/errors/*.json; do
		[ -e "$f" ] || continue
		sed "s|@TIMESTAMP@|$now|" "$f" >"$d/errors/api-$(basename "$f" .json).html"
	done
	# Errors found while the request is parsed (before any $HTTP condition
	# applies) get the envelope through the global errorfile-prefix.
	for f in 400 411 413 414 431; do
		[ -e "$d/errors/api-$f.html" ] && cp "$d/errors/api-$f.html" "$d/errors/early-$f.html"
	done
	[ -f "$PB_CONF_DIR/lighttpd.local.conf" ] || echo "# extra lighttpd settings for this stack" >"$PB_CONF_DIR/lighttpd.local.conf"
	pb_proxy_confs
	# ... which are only the fallback: error.cgi answers with the time of
	# the error (and the programs' clock override, for the test stack).
	cp "$PB_ROOT/conf/httpd/lighttpd/error.cgi" "$d/errors/error.cgi"
	chmod 0644 "$d/errors/error.cgi" "$d"/errors/*.json
	PB_CLOCK_OFFSET_MS=${PHONEBILL_CLOCK_OFFSET_MS:-} \
	PB_ALLOW_CLOCK_OVERRIDE=${PHONEBILL_ALLOW_CLOCK_OVERRIDE:-0} \
	pb_render "$PB_ROOT/conf/httpd/lighttpd/phonebill.conf.in" "$PB_CONF_DIR/lighttpd.conf"
	lighttpd -tt -f "$PB_CONF_DIR/lighttpd.conf" >/dev/null ||
		pb_die "lighttpd rejects $PB_CONF_DIR/lighttpd.conf"
}

pb_fcgi_prereqs() {
	local b
	for b in "$PB_BIN_AUTH" "$PB_BIN_BILL" "$PB_BIN_PRODUCT" "$PB_BIN_KOS"; do
		[ -x "$b" ] || pb_die "FastCGI program $b is missing: build first (script/setup)"
	done
	pb_check_reachable "$PB_BIN_AUTH" "$PB_BIN_BILL" "$PB_BIN_PRODUCT" "$PB_BIN_KOS" \
		"$PB_CONF_DIR/auth.conf" "$PB_SECRETS/jwt_secret" "$PB_WWW_DIR/index.html"
}

pb_lighttpd_start() {
	if pb_pid_of "$PB_LIGHTTPD_DIR/lighttpd.pid" lighttpd >/dev/null; then
		return 0
	fi
	# programs left by a lighttpd that was killed: never adopted
	pb_stop_orphans
	PB_SVC_KOS_PORT=$PB_KOS_PORT pb_service_configs
	pb_www
	pb_tls_cert
	pb_lighttpd_conf
	pb_fcgi_prereqs
	pb_port_free "$PB_HTTP_PORT"
	pb_port_free "$PB_HTTPS_PORT"
	pb_port_free "$PB_KOS_PORT"
	pb_log "starting lighttpd (https://127.0.0.1:$PB_HTTPS_PORT/, http://127.0.0.1:$PB_HTTP_PORT/)"
	# lighttpd daemonises itself (server.pid-file) once it listens and has
	# spawned the FastCGI processes.
	lighttpd -f "$PB_CONF_DIR/lighttpd.conf" </dev/null ||
		{ tail -n 20 "$PB_LIGHTTPD_DIR/log/error.log" >&2 2>/dev/null; pb_die "lighttpd failed to start"; }
	pb_wait_for 10 "lighttpd pid file" pb_pid_of "$PB_LIGHTTPD_DIR/lighttpd.pid" lighttpd ||
		{ tail -n 20 "$PB_LIGHTTPD_DIR/log/error.log" >&2 2>/dev/null; pb_die "lighttpd did not start"; }
	pb_worker_restart
}

pb_lighttpd_stop() {
	pb_stop_web "$PB_LIGHTTPD_DIR/lighttpd.pid" lighttpd lighttpd
	pb_stop_orphans
}

# pb_lighttpd_reload: the config made again and re-read by the running
# lighttpd (SIGUSR1: graceful restart, same pid, the FastCGI programs
# restarted); it must still run afterwards.
pb_lighttpd_reload() {
	local pid i
	pid=$(pb_pid_of "$PB_LIGHTTPD_DIR/lighttpd.pid" lighttpd) ||
		pb_die "lighttpd does not run: nothing to reload"
	PB_SVC_KOS_PORT=$PB_KOS_PORT pb_service_configs
	pb_lighttpd_conf
	pb_log "reloading lighttpd (pid $pid)"
	kill -USR1 "$pid"
	for ((i = 0; i < 30; i++)); do
		sleep 0.1
		kill -0 "$pid" 2>/dev/null || break
	done
	kill -0 "$pid" 2>/dev/null ||
		{ tail -n 20 "$PB_LIGHTTPD_DIR/log/error.log" >&2; pb_die "lighttpd stopped instead of reloading"; }
	pb_wait_health "http://127.0.0.1:$PB_HTTP_PORT/api/v1/auth/health" 30 ||
		pb_die "lighttpd does not answer after the reload"
}

# --- Apache ------------------------------------------------------------------

pb_apache_conf() {
	local d=$PB_APACHE_DIR
	mkdir -p "$d/log" "$d/run" "$d/fcgid" "$d/errors"
	if [ "$PB_AS_ROOT" = 1 ]; then
		chown "$PB_RUN_USER:$PB_RUN_GROUP" "$d/fcgid"
		PB_APACHE_USER_DIRECTIVES="User $PB_RUN_USER
Group $PB_RUN_GROUP"
	else
		PB_APACHE_USER_DIRECTIVES="# not root: Apache runs as $(id -un)"
	fi
	chmod 0700 "$d/fcgid"
	chmod 0755 "$d" "$d/errors"
	pb_error_docs "$d/errors"
	# mod_include fills the timestamp per request.
	local f ts='<!--#config timefmt="%Y-%m-%dT%H:%M:%SZ" --><!--#echo var="DATE_GMT" -->'
	for f in "$d"/errors/*.json; do
		[ -e "$f" ] || continue
		sed "s|@TIMESTAMP@|$ts|" "$f" >"${f%.json}.shtml"
	done
	[ -f "$PB_CONF_DIR/apache.local.conf" ] || echo "# extra Apache settings for this stack" >"$PB_CONF_DIR/apache.local.conf"
	pb_proxy_confs
	# the login pool's own mod_fcgid class (a file of its own)
	printf '#!/bin/sh\nexec %q\n' "$PB_BIN_AUTH" >"$d/phonebill-auth-login"
	chmod 0755 "$d/phonebill-auth-login"
	pb_render "$PB_ROOT/conf/httpd/apache/phonebill.conf.in" "$PB_CONF_DIR/apache.conf.tmp"
	# User/Group lines are multi-line: substituted here, not by sed.
	awk -v repl="$PB_APACHE_USER_DIRECTIVES" '{ if ($0 == "#@USER_DIRECTIVES@") print repl; else print }' \
		"$PB_CONF_DIR/apache.conf.tmp" >"$PB_CONF_DIR/apache.conf"
	rm -f "$PB_CONF_DIR/apache.conf.tmp"
	apache2 -t -f "$PB_CONF_DIR/apache.conf" >/dev/null 2>"$d/configtest.log" ||
		{ cat "$d/configtest.log" >&2; pb_die "Apache rejects $PB_CONF_DIR/apache.conf"; }
}

pb_apache_start() {
	if pb_pid_of "$PB_APACHE_DIR/run/apache2.pid" apache2 >/dev/null; then
		return 0
	fi
	PB_SVC_KOS_PORT=$PB_APACHE_KOS_PORT pb_service_configs
	pb_www
	pb_tls_cert
	pb_apache_conf
	pb_fcgi_prereqs
	pb_port_free "$PB_APACHE_HTTP_PORT"
	pb_port_free "$PB_APACHE_HTTPS_PORT"
	pb_port_free "$PB_APACHE_KOS_PORT"
	pb_log "starting Apache (https://127.0.0.1:$PB_APACHE_HTTPS_PORT/, http://127.0.0.1:$PB_APACHE_HTTP_PORT/)"
	# A clean environment: Debian's apache2 reads APACHE_* variables only from
	# its own envvars file, which this config does not use.
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C \
		apache2 -f "$PB_CONF_DIR/apache.conf" -k start </dev/null ||
		{ tail -n 20 "$PB_APACHE_DIR/log/error.log" >&2 2>/dev/null; pb_die "Apache failed to start"; }
	pb_wait_for 10 "Apache pid file" pb_pid_of "$PB_APACHE_DIR/run/apache2.pid" apache2 ||
		{ tail -n 20 "$PB_APACHE_DIR/log/error.log" >&2 2>/dev/null; pb_die "Apache did not start"; }
	pb_worker_restart
}

pb_apache_stop() {
	pb_stop_web "$PB_APACHE_DIR/run/apache2.pid" apache2 Apache
}

# --- phonebill-worker ---------------------------------------------------------
# One per stack (a node), as the services' user, with the services' config
# files; restarted whenever a web server start rewrote them.  setpriv execs
# (no intermediate process), so the pid file names the worker itself.

pb_worker_start() {
	if pb_pid_of "$PB_WORKER_DIR/worker.pid" phonebill-worker >/dev/null; then
		return 0
	fi
	[ -x "$PB_BIN_WORKER" ] || pb_die "$PB_BIN_WORKER is missing: build first (script/setup)"
	[ -f "$PB_CONF_DIR/bill.conf" ] || pb_service_configs
	mkdir -p "$PB_WORKER_DIR"
	local as=()
	if [ "$PB_AS_ROOT" = 1 ]; then
		chown "$PB_RUN_USER:$PB_RUN_GROUP" "$PB_WORKER_DIR"
		as=(setpriv --reuid="$PB_RUN_USER" --regid="$PB_RUN_GROUP" --init-groups)
	fi
	local clock=()
	[ -n "${PHONEBILL_ALLOW_CLOCK_OVERRIDE:-}" ] &&
		clock+=("PHONEBILL_ALLOW_CLOCK_OVERRIDE=$PHONEBILL_ALLOW_CLOCK_OVERRIDE")
	[ -n "${PHONEBILL_CLOCK_OFFSET_MS:-}" ] &&
		clock+=("PHONEBILL_CLOCK_OFFSET_MS=$PHONEBILL_CLOCK_OFFSET_MS")
	setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "${clock[@]}" \
		"${as[@]}" "$PB_BIN_WORKER" --config-dir "$PB_CONF_DIR" \
		--name "$(basename "$PB_STATE")-worker" --log "$PB_WORKER_DIR/worker.log" \
		</dev/null >>"$PB_WORKER_DIR/worker.out" 2>&1 &
	echo $! >"$PB_WORKER_DIR/worker.pid"
	sleep 0.2
	pb_pid_of "$PB_WORKER_DIR/worker.pid" phonebill-worker >/dev/null ||
		{ tail -n 5 "$PB_WORKER_DIR/worker.out" >&2; pb_die "phonebill-worker did not start"; }
}

pb_worker_stop() {
	pb_stop_pid "$PB_WORKER_DIR/worker.pid" phonebill-worker phonebill-worker 30
}

# SIGKILL, for the drills: nothing it held may be lost.
pb_worker_kill() {
	local pid
	pid=$(pb_pid_of "$PB_WORKER_DIR/worker.pid" phonebill-worker) || return 0
	kill -KILL "$pid"
	rm -f "$PB_WORKER_DIR/worker.pid"
}

pb_worker_restart() {
	pb_worker_stop
	pb_worker_start
}

# --- health ------------------------------------------------------------------

# pb_wait_health URL SECONDS: until the URL answers 200.
pb_health_ok() {
	[ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 3 "$1")" = 200 ]
}

pb_wait_health() {
	local url=$1 timeout=${2:-30}
	if ! pb_wait_for "$timeout" "$url" pb_health_ok "$url"; then
		pb_log "last answer from $url:"
		curl -sk -i --max-time 3 "$url" >&2 || true
		echo >&2
		return 1
	fi
}

# --- the whole stack ---------------------------------------------------------

# pb_seed_users: the demo users (README), with the admin CLI; idempotent
# (--if-missing).  Passwords go to the CLI on stdin, never on a command line.
pb_seed_users() {
	local bin=${PB_BIN_ADMIN:-$PB_ROOT/fcgi/admin/phonebill-admin}
	[ -x "$bin" ] || pb_die "$bin is missing: build first (script/setup)"
	pb_service_configs
	local id cust line name pw perms out
	while read -r id cust line name pw perms; do
		# shellcheck disable=SC2086
		out=$(printf '%s\n' "$pw" | pb_as_run_user env -i PATH="$PATH" LANG=C.UTF-8 \
			PHONEBILL_CONFIG="$PB_CONF_DIR/auth.conf" \
			"$bin" add "$id" --customer "$cust" --line "$line" --name "$name" $perms \
			--if-missing 2>&1) || pb_die "seeding $id failed: $out"
	done <<'USERS'
demo01 C0001 010-1234-5678 김민준 Phonebill!1 --perm BILL_INQUIRY --perm PRODUCT_CHANGE
demo02 C0002 010-2345-6789 이서연 Phonebill!2 --perm BILL_INQUIRY
demo03 C0003 010-3456-7890 박지훈 Phonebill!3 --perm BILL_INQUIRY --perm PRODUCT_CHANGE
USERS
	pb_log "demo users seeded (demo01, demo02, demo03)"
}

# pb_backends_start: secrets, MariaDB, migrations, Redis, demo users.
pb_backends_start() {
	pb_secrets
	pb_mariadb_start
	pb_migrate
	pb_redis_start
	pb_seed_users
}

# pb_unit_env SENTINEL-PORT: export what the unit tests (make check) need
# of this stack: Redis, the phonebill_unittest database (PB_UNITTEST_DB=1),
# the MVNO secret, and the port test_sentinel starts its own Redis pair and
# sentinel on (+0..+2).  Used by script/test and by make check's own stack
# (tests/unit/stack.sh).
pb_unit_env() {
	export PHONEBILL_TEST_REDIS_SOCKET=$PB_REDIS_SOCKET
	PHONEBILL_TEST_REDIS_PASSWORD=$(pb_secret redis_password)
	export PHONEBILL_TEST_REDIS_PASSWORD
	export PHONEBILL_TEST_DB_SOCKET=$PB_DB_SOCKET
	export PHONEBILL_TEST_DB_USER=phonebill_unittest
	PHONEBILL_TEST_DB_PASSWORD=$(pb_secret db_unittest_password)
	export PHONEBILL_TEST_DB_PASSWORD
	export PHONEBILL_TEST_DB_NAME=phonebill_unittest
	export PHONEBILL_TEST_SENTINEL_PORT=$1
	export PHONEBILL_TEST_MVNO_SECRET_FILE=$PB_SECRETS/mvno_hmac_secret
}

# pb_kos_sim_up: lighttpd started (the KOS simulator has its own port
# there) and the simulator answering its health check; false otherwise.
# pb_lighttpd_start returns at once when lighttpd runs already.
pb_kos_sim_up() {
	(set -e; pb_lighttpd_start) &&
		pb_wait_health "http://127.0.0.1:$PB_KOS_PORT/_sim/health" 30
}

pb_stack_stop() {
	pb_worker_stop
	pb_lighttpd_stop
	pb_apache_stop
	pb_redis_stop
	pb_mariadb_stop
}

# pb_descendants PID: every process below PID.
pb_descendants() {
	local queue=("$1") p d ppid
	local -A kids=()
	for d in /proc/[0-9]*; do
		ppid=$(awk '{ print $4 }' "$d/stat" 2>/dev/null) || continue
		[ -n "$ppid" ] && kids[$ppid]+=" ${d#/proc/}"
	done
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		for d in ${kids[$p]:-}; do
			echo "$d"
			queue+=("$d")
		done
	done
}

# pb_stop_web PIDFILE EXE NAME: stop a web server; then make sure that none
# of the FastCGI programs it ran outlives it (a program that ignores SIGTERM
# would otherwise stay behind, orphaned).  Their pids are written to
# <pidfile>.fcgi before the server stops and only those are signalled.
pb_stop_web() {
	local pidfile=$1 exe=$2 name=$3 pid kids p i left
	if pid=$(pb_pid_of "$pidfile" "$exe"); then
		kids=$(comm -12 <(pb_descendants "$pid" | sort) <(pb_fcgi_pids | sort))
		echo "$kids" >"$pidfile.fcgi"
	fi
	pb_stop_pid "$pidfile" "$exe" "$name" 30
	[ -s "$pidfile.fcgi" ] || { rm -f "$pidfile.fcgi"; return 0; }
	for ((i = 0; i < 50; i++)); do
		left=""
		# shellcheck disable=SC2013 # pids, one or more a line
		for p in $(cat "$pidfile.fcgi"); do
			pb_is_stack_fcgi "$p" && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		pb_log "FastCGI processes$left outlived $name by 5s: SIGKILL"
		# shellcheck disable=SC2086 # $left is a list of pids
		kill -KILL $left 2>/dev/null || true
	fi
	rm -f "$pidfile.fcgi"
}

# pb_stop_orphans: this stack's FastCGI programs whose web server is gone
# (a lighttpd killed with SIGKILL leaves them running, bound to its
# sockets; the next lighttpd would adopt them and never respawn one that
# dies).  An orphan is a stack program whose parent is no web server and
# no valgrind/spawn-fcgi of the leak check.
pb_stop_orphans() {
	local p ppid pcomm left="" i
	for p in $(pb_fcgi_pids); do
		ppid=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || continue
		pcomm=$(cat "/proc/$ppid/comm" 2>/dev/null) || pcomm=
		# (a program's parent may be another: lib/web/prefork.c's children)
		case $pcomm in lighttpd|apache2|valgrind*|memcheck*|spawn-fcgi|phonebill-*) continue ;; esac
		# the leak check's service: valgrind itself carries the config
		case $(cat "/proc/$p/comm" 2>/dev/null) in valgrind*|memcheck*) continue ;; esac
		left="$left $p"
	done
	[ -n "$left" ] || return 0
	pb_log "stopping orphaned FastCGI processes:$left"
	# shellcheck disable=SC2086
	kill -TERM $left 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		local alive=""
		for p in $left; do pb_is_stack_fcgi "$p" && alive="$alive $p"; done
		[ -z "$alive" ] && return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $alive 2>/dev/null || true
}

# pb_is_stack_fcgi PID: PID runs with one of this stack's service configs.
pb_is_stack_fcgi() {
	{ tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null |
		grep -qx "PHONEBILL_CONFIG=$PB_CONF_DIR/[a-z-]*\.conf"
}

# The pids of this stack's FastCGI programs (read from /proc: a process
# whose environment names one of this stack's config files).  For tests that
# check that no process died; nothing is ever signalled by this list.
pb_fcgi_pids() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		pb_is_stack_fcgi "$pid" && echo "$pid"
	done
	return 0
}

pb_status() {
	local name pidfile exe pid
	while read -r name pidfile exe; do
		if pid=$(pb_pid_of "$PB_STATE/$pidfile" "$exe"); then
			printf '%-9s running (pid %s)\n' "$name" "$pid"
		else
			printf '%-9s stopped\n' "$name"
		fi
	done <<EOF
mariadb mariadb/mariadb.pid mariadbd
redis redis/redis.pid redis-server
lighttpd lighttpd/lighttpd.pid lighttpd
apache apache/run/apache2.pid apache2
worker worker/worker.pid phonebill-worker
EOF
}
