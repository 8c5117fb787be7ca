#!/bin/sh
# check-source.sh - the house rules a compiler does not enforce (TAP).
# 1. banned functions in lib/ and fcgi/; 2. only pb_ symbols exported by
# libphonebill; 3. no C++ comments in lib/ and fcgi/.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
n=0
fail=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

hits=$(grep -nE '(^|[^_a-zA-Z0-9])(sprintf|strcpy|strcat|strtok|atoi|gets)[[:space:]]*\(' \
	"$top_srcdir"/lib/*.c "$top_srcdir"/lib/*.h "$top_srcdir"/fcgi/*/*.c 2>/dev/null)
[ -z "$hits" ]; t $? "no banned functions (sprintf strcpy strcat strtok atoi gets)"
[ -n "$hits" ] && echo "$hits" | sed 's/^/# /'

lib="$top_builddir/lib/.libs/libphonebill.a"
if [ -f "$lib" ]; then
	bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF==3 {print $3}' | grep -v '^pb_')
	[ -z "$bad" ]; t $? "libphonebill exports only pb_ symbols"
	[ -n "$bad" ] && echo "$bad" | sed 's/^/# /'
else
	echo "ok $((n + 1)) # SKIP library not built"; n=$((n + 1))
fi

cc=$(grep -nE '^[[:space:]]*//|[;{}][[:space:]]*//' "$top_srcdir"/lib/*.[ch] "$top_srcdir"/fcgi/*/*.c 2>/dev/null)
[ -z "$cc" ]; t $? "comments are /* */ only"
[ -n "$cc" ] && echo "$cc" | sed 's/^/# /'
echo "1..$n"
exit $fail
