# error.cgi - the JSON error document for errors lighttpd answers itself
# under /api/ (body over the limit, unknown service prefix, backend down),
# with the time of the error.  lighttpd's server.errorfile-prefix documents
# are static files and cannot carry it, so server.error-handler runs this
# (mod_cgi, /bin/sh) instead; the status of the original request arrives in
# REDIRECT_STATUS and is sent back in "Status:".  The documents beside this
# script (NNN.json) hold "@TIMESTAMP@", replaced here by the time in KST
# (the services' tz.offset_minutes default), moved like the services' clock
# by PHONEBILL_CLOCK_OFFSET_MS when PHONEBILL_ALLOW_CLOCK_OVERRIDE=1 (tests).
# Called directly (no REDIRECT_STATUS) it answers the 404 document.
dir=${SCRIPT_FILENAME%/*}
code=${REDIRECT_STATUS:-404}
case $code in [1-5][0-9][0-9]) ;; *) code=500 ;; esac
[ "$code" -ge 400 ] || code=404
doc=$dir/$code.json
[ -r "$doc" ] || doc=$dir/500.json
now=$(date +%s)
off=${PHONEBILL_CLOCK_OFFSET_MS:-0}
case $off in ''|-|*[!0-9-]*|?*-*) off=0 ;; esac
[ "${PHONEBILL_ALLOW_CLOCK_OVERRIDE:-0}" = 1 ] || off=0
ts=$(date -u -d "@$((now + off / 1000 + 9 * 3600))" +%Y-%m-%dT%H:%M:%S+09:00)
printf 'Status: %s\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n\r\n' "$code"
sed "s|@TIMESTAMP@|$ts|" "$doc"
