#!/bin/sh
# check-end.sh - the last test of make check (its log depends on all the
# others' in Makefile.am).  1. No unit program skipped anything: every
# test runs for real, so a skip is a failure (issue 17: zero skips).
# 2. make check's own stack, when it started one (tests/unit/stack.sh),
# stopped; a stack the caller provided (script/test) is left running.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
env=$top_builddir/tests/unit/stack.env
# this run's results: newer than the stack's settings, written before the
# first test (all of them when there are none)
if [ -f "$env" ]; then
	trs=$(find "$top_builddir/tests/unit" -name '*.trs' -newer "$env")
else
	trs=$(find "$top_builddir/tests/unit" -name '*.trs')
fi
# shellcheck disable=SC2086 # a list of file names without blanks
skips=$(grep -l '^:test-result: SKIP' $trs /dev/null 2>/dev/null)
if [ -n "${PHONEBILL_CHECK_STACK:-}" ]; then
	echo "1..2"
else
	echo "1..1"
fi
if [ -z "$skips" ]; then
	echo "ok 1 - no unit program skipped a test"
else
	echo "not ok 1 - unit programs skipped tests: a skip is a failure here"
	for f in $skips; do
		echo "# $(basename "$f" .trs): $(grep -c '^:test-result: SKIP' "$f") skipped (see ${f%.trs}.log)"
	done
fi
if [ -n "${PHONEBILL_CHECK_STACK:-}" ]; then
	if bash "$top_srcdir/tests/unit/stack.sh" down; then
		echo "ok 2 - make check's own stack stopped ($PHONEBILL_CHECK_STACK)"
	else
		echo "not ok 2 - make check's own stack did not stop ($PHONEBILL_CHECK_STACK)"
	fi
fi
exit 0
