# conf/dist/service.sed - turns the local stack's service config templates
# into the installed examples (after the @VARS@ are filled by Makefile.am).
1,3c\
# phonebill service configuration, installed as an example by make install\
# (docdir/examples) and as /etc/phonebill/<service>.conf by the Debian\
# package.  See phonebill.conf(5) and the README, "Deploying on Debian".
s|^redis\.socket = @REDIS_SOCKET@$|# Debian's redis-server listens on 127.0.0.1:6379 (or set redis.socket)\
redis.host = 127.0.0.1\
redis.port = 6379|
s|^auth\.trusted_proxies = 127\.0\.0\.1$|# auth.trusted_proxies = (the addresses of your load balancers)|
s|^mvno\.url = .*|# empty: results are not delivered to an MVNO AP\
mvno.url =|
