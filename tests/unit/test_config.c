/* test_config.c - file format, overrides, secrets and their protection. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[] = "/tmp/pb-test-config-XXXXXX";

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

int
main(void)
{
	struct pb_config *c = NULL;
	char err[512], *secret = NULL;
	const char *p;
	long v;
	static const char *const known[] = {"db.name", "db.port",
	                                    "jwt.secret_file",
	                                    "redis.password_file", NULL};

	if (mkdtemp(dir) == NULL)
		return tap_skip_all("cannot create temp dir");
	unsetenv("PHONEBILL_DB_NAME");
	unsetenv("PHONEBILL_JWT_SECRET");
	unsetenv("PHONEBILL_JWT_SECRET_FILE");

	p = write_file("a.conf",
	               "# comment\n\n db.name = phonebill_auth \n"
	               "db.port=3307\r\n",
	               0644);
	is_int(pb_config_load(p, &c, err, sizeof(err)), PB_OK, "load");
	is_str(pb_config_get(c, "db.name", NULL), "phonebill_auth",
	       "value trimmed");
	is_str(pb_config_get(c, "db.missing", "dflt"), "dflt", "default");
	is_int(
	    pb_config_get_long(c, "db.port", 1, 1, 65535, &v, err, sizeof(err)),
	    PB_OK, "integer");
	is_int(v, 3307, "integer value (CRLF tolerated)");
	is_int(
	    pb_config_get_long(c, "db.port", 1, 1, 1000, &v, err, sizeof(err)),
	    PB_ERR_CONFIG, "integer out of range");
	is_int(
	    pb_config_get_long(c, "db.none", 42, 1, 1000, &v, err, sizeof(err)),
	    PB_OK, "integer default");
	is_int(v, 42, "default used");
	setenv("PHONEBILL_DB_NAME", "from_env", 1);
	is_str(pb_config_get(c, "db.name", NULL), "from_env", "env overrides");
	unsetenv("PHONEBILL_DB_NAME");
	is_int(pb_config_check_known(c, known, err, sizeof(err)), PB_OK,
	       "known keys");
	pb_config_free(c);

	p = write_file("typo.conf", "db.nmae = x\n", 0644);
	pb_config_load(p, &c, err, sizeof(err));
	is_int(pb_config_check_known(c, known, err, sizeof(err)), PB_ERR_CONFIG,
	       "unknown key refused");
	ok(strstr(err, "db.nmae") != NULL, "error names the key");
	pb_config_free(c);

	p = write_file("dup.conf", "db.name = a\ndb.name = b\n", 0644);
	is_int(pb_config_load(p, &c, err, sizeof(err)), PB_ERR_PARSE,
	       "duplicate key refused");
	ok(c == NULL && strstr(err, ":2:") != NULL, "error has line number");
	p = write_file("bad.conf", "just words\n", 0644);
	is_int(pb_config_load(p, &c, err, sizeof(err)), PB_ERR_PARSE,
	       "line without = refused");
	p = write_file("badkey.conf", "DB.Name = x\n", 0644);
	is_int(pb_config_load(p, &c, err, sizeof(err)), PB_ERR_PARSE,
	       "upper-case key refused");
	is_int(pb_config_load("/nonexistent/x.conf", &c, err, sizeof(err)),
	       PB_ERR_CONFIG, "missing file");
	is_int(pb_config_load(NULL, &c, err, sizeof(err)), PB_OK,
	       "NULL path: empty config");
	pb_config_free(c);

	/* secrets */
	p = write_file("jwt", "0123456789abcdef0123456789abcdef\n", 0600);
	char line[300];
	snprintf(line, sizeof(line), "jwt.secret_file = %s\n", p);
	p = write_file("s.conf", line, 0644);
	pb_config_load(p, &c, err, sizeof(err));
	is_int(pb_config_secret(c, "jwt.secret", 32, &secret, err, sizeof(err)),
	       PB_OK, "secret from protected file");
	is_str(secret, "0123456789abcdef0123456789abcdef", "newline stripped");
	pb_config_secret_free(secret);
	is_int(pb_config_secret(c, "jwt.secret", 33, &secret, err, sizeof(err)),
	       PB_ERR_CONFIG, "too short refused");
	ok(secret == NULL && strstr(err, "shorter") != NULL, "says too short");
	chmod(write_file("jwt", "0123456789abcdef0123456789abcdef\n", 0644),
	      0644);
	is_int(pb_config_secret(c, "jwt.secret", 32, &secret, err, sizeof(err)),
	       PB_ERR_CONFIG, "world-readable secret file refused");
	ok(strstr(err, "chmod 600") != NULL, "says how to fix");
	chmod(write_file("jwt", "0123456789abcdef0123456789abcdef\n", 0640),
	      0640);
	is_int(pb_config_secret(c, "jwt.secret", 32, &secret, err, sizeof(err)),
	       PB_ERR_CONFIG, "group-readable secret file refused");
	setenv("PHONEBILL_JWT_SECRET", "short", 1);
	is_int(pb_config_secret(c, "jwt.secret", 32, &secret, err, sizeof(err)),
	       PB_ERR_CONFIG, "short env secret refused");
	setenv("PHONEBILL_JWT_SECRET", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
	       1);
	is_int(pb_config_secret(c, "jwt.secret", 32, &secret, err, sizeof(err)),
	       PB_OK, "env secret wins");
	is_str(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "env value");
	pb_config_secret_free(secret);
	unsetenv("PHONEBILL_JWT_SECRET");
	is_int(
	    pb_config_secret(c, "redis.password", 1, &secret, err, sizeof(err)),
	    PB_ERR_CONFIG, "missing secret refused");
	ok(strstr(err, "required") != NULL, "says required");
	pb_config_free(c);

	p = write_file("inline.conf",
	               "jwt.secret = 0123456789abcdef0123456789abcdef\n", 0644);
	pb_config_load(p, &c, err, sizeof(err));
	is_int(pb_config_secret(c, "jwt.secret", 32, &secret, err, sizeof(err)),
	       PB_ERR_CONFIG, "secret in the config file refused");
	ok(strstr(err, "must not be in the config file") != NULL, "says why");
	pb_config_free(c);

	p = write_file("empty", "\n", 0600);
	snprintf(line, sizeof(line), "%s", p);
	setenv("PHONEBILL_JWT_SECRET_FILE", line, 1);
	is_int(
	    pb_config_secret(NULL, "jwt.secret", 1, &secret, err, sizeof(err)),
	    PB_ERR_CONFIG, "empty secret file refused");
	unsetenv("PHONEBILL_JWT_SECRET_FILE");

	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove temp dir");
	}
	return tap_done();
}
