#!/usr/bin/env bash
# tests/e2e/run.sh BASE_URL - the web UI's end-to-end tests in Debian's
# headless chromium, driven by playwright-core (never a downloaded browser).
# Prints "PASS e2e <name>" / "FAIL e2e <name>: <reason>" / "SKIP e2e <name>:
# <reason>" per test and a last line "e2e: N passed, N failed, N skipped";
# exits non-zero when a test failed.
#
#   tests/e2e/run.sh https://127.0.0.1:8543     (a self-signed certificate is accepted)
#
# Environment (all optional):
#   PHONEBILL_E2E_KOS_URL    the KOS simulator (expected bill values, data reset
#                            after the plan change); without it the expected
#                            values come from our bill API
#   PHONEBILL_E2E_STATE      the stack's state directory (var/dev, var/test):
#                            a throwaway user for the lockout test is created
#                            there with phonebill-admin; without it the test
#                            uses an unknown user id (same answers by design)
#   PHONEBILL_E2E_JWT_SECRET_FILE  the stack's JWT secret: the refresh test
#                            then also uses a genuinely expired access token
#   PHONEBILL_E2E_SHOTS      screenshot folder (default var/e2e-shots)
#   PHONEBILL_E2E_ONLY       space-separated test names to run
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
base=${1%/}

if [ ! -x /usr/bin/chromium ]; then
	echo "FAIL e2e setup: /usr/bin/chromium is missing (Debian package chromium; script/setup installs it)"
	echo "e2e: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
	echo "FAIL e2e setup: tests/e2e/node_modules is missing (script/setup runs npm ci there)"
	echo "e2e: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

# A throwaway user for the lockout test, made the way script/lib/stack.sh
# seeds the demo users (admin CLI, password on stdin).
if [ -n "${PHONEBILL_E2E_STATE:-}" ] && [ -f "$PHONEBILL_E2E_STATE/stack.env" ]; then
	lock_user=e2e-lock-$(date +%s | tail -c 9)
	lock_pw=E2e-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')!
	if out=$(
		PB_STATE=$PHONEBILL_E2E_STATE PB_REUSE_ENV=1
		# shellcheck source=../../script/lib/stack.sh
		. "$root/script/lib/stack.sh"
		pb_stack_init >/dev/null
		printf '%s\n' "$lock_pw" | pb_as_run_user env -i PATH="$PATH" LANG=C.UTF-8 \
			PHONEBILL_CONFIG="$PB_CONF_DIR/auth.conf" \
			"${PB_BIN_ADMIN:-$root/fcgi/admin/phonebill-admin}" add "$lock_user" \
			--customer C0020 --line 010-9999-0002 --name 잠금테스트 --perm BILL_INQUIRY 2>&1
	); then
		export PHONEBILL_E2E_LOCK_USER=$lock_user PHONEBILL_E2E_LOCK_PASSWORD=$lock_pw
	else
		echo "e2e: could not create the lockout test user ($out); using an unknown id" >&2
	fi
fi

export PHONEBILL_E2E_SHOTS=${PHONEBILL_E2E_SHOTS:-$root/var/e2e-shots}
exec node "$here/run.mjs" "$base"
