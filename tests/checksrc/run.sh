#!/bin/sh
# run.sh - `make checksrc`: the source checks of issue 17, as TAP.
#   1. tests/unit/check-source.sh (banned functions, pb_ exports, comment
#      style, no assignment in conditions, no include cycle in lib/);
#   2. shellcheck on every shell script: script/*, script/lib/*, db/migrate,
#      db/purge-history, .ci/run, tests/**/*.sh, debian maintainer scripts;
#   3. clang-format --dry-run on every C file under lib/, fcgi/ and tests/,
#      and no line over 80 columns.
# A missing tool is a SKIP line, not a pass.  Exit 1 on any "not ok".
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
export top_srcdir top_builddir
n=0
fail=0
t() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

# 1. the house rules (renumbered)
out=$(sh "$top_srcdir/tests/unit/check-source.sh")
while IFS= read -r l; do
	case $l in
	"not ok "*) t 1 "$(echo "$l" | sed 's/^not ok [0-9]* - //')" ;;
	"ok "*"# SKIP"*) skip "${l#*# SKIP }" ;;
	"ok "*) t 0 "$(echo "$l" | sed 's/^ok [0-9]* - //')" ;;
	1..*) ;;
	*) echo "$l" ;;
	esac
done <<EOF_OUT
$out
EOF_OUT

# 2. shellcheck
scripts=$(
	cd "$top_srcdir" || exit 1
	for f in script/* script/lib/* db/migrate db/purge-history .ci/run \
		debian/*.postinst debian/*.postrm debian/*.preinst debian/*.prerm; do
		[ -f "$f" ] || continue
		case $(head -n1 "$f") in
		'#!'*sh*) echo "$f" ;;
		*) case $f in *.sh) echo "$f" ;; esac ;;
		esac
	done
	find tests -name node_modules -prune -o -type f -name '*.sh' -print | sort
)
if command -v shellcheck >/dev/null 2>&1; then
	for f in $scripts; do
		# -x -P SCRIPTDIR: follow the `. lib/stack.sh` of each script
		msg=$(cd "$top_srcdir" && shellcheck -x -P SCRIPTDIR -f gcc "$f" 2>&1)
		t $? "shellcheck $f"
		[ -n "$msg" ] && echo "$msg" | sed 's/^/# /'
	done
else
	skip "shellcheck: not installed"
fi

# 3. clang-format and 80 columns on every C file of the tree (reformatted
#    once in issue 17; a tab counts as 8 columns, as .clang-format says)
cfiles=$(cd "$top_srcdir" && find lib fcgi tests -name node_modules -prune \
	-o -type f \( -name '*.c' -o -name '*.h' \) -print | sort)
if command -v clang-format >/dev/null 2>&1; then
	for f in $cfiles; do
		msg=$(cd "$top_srcdir" && clang-format --dry-run --Werror "$f" 2>&1)
		t $? "clang-format $f"
		[ -n "$msg" ] && echo "$msg" | head -n 20 | sed 's/^/# /'
	done
else
	skip "clang-format: not installed"
fi
# shellcheck disable=SC2086 # one path a word, no spaces in them
long=$(cd "$top_srcdir" && awk '{ l = $0; gsub(/\t/, "        ", l)
	if (length(l) > 80) print FILENAME ":" FNR ": " length(l) " columns" }' \
	$cfiles)
[ -z "$long" ]
t $? "no C line over 80 columns"
[ -n "$long" ] && echo "$long" | head -n 20 | sed 's/^/# /'
echo "1..$n"
exit $fail
