/*
 * phonebill-admin - provision the auth service's users (there is no public
 * self-registration).  Reads the auth service's config (PHONEBILL_CONFIG)
 * and its secrets like the service does.
 *
 *   phonebill-admin add USERID --customer ID --line 010-1234-5678 --name NAME
 *                   [--perm BILL_INQUIRY] [--perm PRODUCT_CHANGE]
 * [--if-missing] phonebill-admin passwd USERID phonebill-admin grant|revoke
 * USERID PERMISSION phonebill-admin unlock USERID phonebill-admin
 * suspend|activate|delete USERID  (disable|enable: the same) phonebill-admin
 * logout USERID phonebill-admin list phonebill-admin dead-letters list|requeue
 * ID|all|purge [ID|all] phonebill-admin rekey [--dry-run] [--batch N] [--config
 * FILE]... phonebill-admin --version | --help
 *
 * passwd, grant, revoke, suspend, activate, delete and logout end every
 * session of the user on every node at once (session.h's user version):
 * the user's next request with an old token is refused.
 * Passwords are read from stdin (one line; without echo on a terminal),
 * never from the command line, where ps and shell history would show them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "admin.h"
#include "app.h"
#include "../auth/auth.h"
#include "authz.h"
#include "cli.h"
#include "clock.h"
#include "json.h"
#include "lockout.h"
#include "log.h"

static const char *const admin_keys[] = {AUTH_CONFIG_KEYS, NULL};

static const struct pb_app_spec spec = {
    .service = "admin",
    .flags = PB_APP_PII,
    .extra_keys = admin_keys,
};

static const char help[] =
    "usage: phonebill-admin add USERID --customer ID --line NUMBER --name "
    "NAME\n"
    "                       [--perm PERMISSION]... [--if-missing]\n"
    "       phonebill-admin passwd USERID\n"
    "       phonebill-admin grant|revoke USERID PERMISSION\n"
    "       phonebill-admin unlock USERID      clear a login lockout\n"
    "       phonebill-admin suspend USERID     no more logins (status "
    "SUSPENDED)\n"
    "       phonebill-admin activate USERID    logins again (status ACTIVE)\n"
    "                                          (disable, enable: the same)\n"
    "       phonebill-admin delete USERID      the user and its permissions\n"
    "       phonebill-admin logout USERID      end every session now\n"
    "Every command but add, unlock and list ends the user's sessions at once.\n"
    "       phonebill-admin list               ids, lines and names masked\n"
    "       phonebill-admin dead-letters list|requeue ID|all|purge [ID|all]\n"
    "                                          history phonebill-worker set "
    "aside\n"
    "       phonebill-admin rekey [--dry-run] [--batch N] [--config FILE]...\n"
    "                                          seal again under the current "
    "PII\n"
    "                                          key what another version "
    "sealed\n"
    "                                          (each FILE: a service's "
    "config)\n"
    "       phonebill-admin --version | --help\n"
    "PERMISSION: BILL_INQUIRY or PRODUCT_CHANGE.  Reads the auth service's\n"
    "config (PHONEBILL_CONFIG) and secrets: run it as the services' user,\n"
    "e.g. runuser -u www-data -- env "
    "PHONEBILL_CONFIG=/etc/phonebill/auth.conf\n"
    "phonebill-admin list.  Passwords are read from stdin, never from\n"
    "arguments.\n";

int
admin_usage(void)
{
	fprintf(stderr, "%s", help);
	return 2;
}

/* One line from stdin into pw (no echo on a terminal); PB_OK if
 * AUTH_PW_MIN-AUTH_PW_MAX bytes. */
static enum pb_err
read_password(char *pw, size_t pwlen)
{
	struct termios old, noecho;
	int tty = isatty(STDIN_FILENO);
	size_t n;
	enum pb_err rc = PB_ERR_INVAL;

	if (tty) {
		fprintf(stderr, "password: ");
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			noecho = old;
			noecho.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
		} else {
			tty = 0;
		}
	}
	if (fgets(pw, (int)pwlen, stdin) != NULL) {
		n = strcspn(pw, "\r\n");
		pw[n] = '\0';
		if (n >= AUTH_PW_MIN && n <= AUTH_PW_MAX)
			rc = PB_OK;
	}
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (rc != PB_OK)
		fprintf(stderr,
		        "phonebill-admin: the password must be %d-%d "
		        "characters on one line of stdin\n",
		        AUTH_PW_MIN, AUTH_PW_MAX);
	return rc;
}

/* list: one line per user; the lock state from Redis at this moment. */
static void
print_user(void *ud, const struct auth_user *u)
{
	struct pb_app *app = ud;
	char line[32], name[PB_SESSION_NAME_MAX], perms[64], lock[40];
	char ukey[PB_SESSION_UKEY_MAX + 1];
	unsigned bit;
	int failures = 0;
	int64_t until = 0, now = pb_clock_now_ms();
	const char *pn;

	(void)pb_mask_phone(u->line, line, sizeof(line));
	(void)pb_mask_name(u->name, name, sizeof(name));
	perms[0] = '\0';
	for (bit = 1; bit <= PB_PERM_ALL; bit <<= 1) {
		pn = (u->perms & bit) ? pb_authz_perm_name(bit) : NULL;
		if (pn != NULL &&
		    strlen(perms) + strlen(pn) + 2 < sizeof(perms))
			snprintf(perms + strlen(perms),
			         sizeof(perms) - strlen(perms), "%s%s",
			         perms[0] ? "," : "", pn);
	}
	/* the lockout record is keyed by the user's keyed hash (issue 18) */
	if (pb_authz_user_key(app, u->user_id, ukey, sizeof(ukey)) != PB_OK ||
	    pb_lockout_peek(app->redis, ukey, &failures, &until) != PB_OK)
		snprintf(lock, sizeof(lock), "lock=unknown");
	else if (until > now)
		snprintf(lock, sizeof(lock), "LOCKED(%llds)",
		         (long long)((until - now + 999) / 1000));
	else
		snprintf(lock, sizeof(lock), "failures=%d", failures);
	printf("%-20s %-12s %-14s %-10s %-9s %-28s %s\n", u->user_id,
	       u->customer_id, line, name, u->status, perms[0] ? perms : "-",
	       lock);
}

static int
cmd_add(struct pb_app *app, int argc, char **argv)
{
	struct auth_user u;
	char pw[AUTH_PW_MAX + 8];
	unsigned perms = 0, bit;
	int if_missing = 0, i, status = 1;
	const char *cust = NULL, *line = NULL, *name = NULL;
	enum pb_err rc;

	memset(&u, 0, sizeof(u));
	if (argc < 3 ||
	    auth_uid_canon(argv[2], u.user_id, sizeof(u.user_id)) != PB_OK)
		return admin_usage();
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--if-missing") == 0) {
			if_missing = 1;
		} else if (i + 1 < argc && strcmp(argv[i], "--customer") == 0) {
			cust = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--line") == 0) {
			line = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--name") == 0) {
			name = argv[++i];
		} else if (i + 1 < argc && strcmp(argv[i], "--perm") == 0) {
			bit = pb_authz_perm_parse(argv[++i]);
			if (bit == 0)
				return admin_usage();
			perms |= bit;
		} else {
			return admin_usage();
		}
	}
	if (cust == NULL || line == NULL || name == NULL || cust[0] == '\0' ||
	    pb_authz_line_format(line, u.line, sizeof(u.line)) != PB_OK ||
	    pb_strlcpy(u.customer_id, cust, sizeof(u.customer_id)) != PB_OK ||
	    pb_strlcpy(u.name, name, sizeof(u.name)) != PB_OK ||
	    name[0] == '\0')
		return admin_usage();
	if (read_password(pw, sizeof(pw)) != PB_OK)
		goto out;
	{
		struct auth_user old;
		rc = auth_user_load(app, u.user_id, &old);
		sodium_memzero(&old, sizeof(old));
		if (rc == PB_OK && if_missing) {
			printf("%s exists; unchanged\n", u.user_id);
			status = 0;
			goto out;
		}
		if (rc == PB_OK) {
			fprintf(stderr, "phonebill-admin: %s exists\n",
			        u.user_id);
			goto out;
		}
		if (rc != PB_ERR_NOTFOUND) {
			fprintf(stderr, "phonebill-admin: database: %s\n",
			        pb_strerror(rc));
			goto out;
		}
	}
	if (pb_crypto_pwhash(pw, strlen(pw), u.hash, sizeof(u.hash)) != PB_OK ||
	    auth_user_add(app, &u) != PB_OK) {
		fprintf(stderr, "phonebill-admin: cannot add %s\n", u.user_id);
		goto out;
	}
	for (bit = 1; bit <= PB_PERM_ALL; bit <<= 1)
		if ((perms & bit) &&
		    auth_user_set_perm(app, u.user_id, bit, 1) != PB_OK) {
			fprintf(stderr, "phonebill-admin: cannot grant\n");
			goto out;
		}
	printf("%s added\n", u.user_id);
	status = 0;
out:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(&u, sizeof(u));
	return status;
}

/* suspend, activate, delete, logout: 1 when cmd is one (*rc set). */
static int
account_cmd(struct pb_app *app, const char *cmd, const char *uid,
            enum pb_err *rc)
{
	/* disable/enable: the words of the deploy guide for the same */
	if (strcmp(cmd, "suspend") == 0 || strcmp(cmd, "disable") == 0)
		*rc = auth_user_set_status(app, uid, "SUSPENDED");
	else if (strcmp(cmd, "activate") == 0 || strcmp(cmd, "enable") == 0)
		*rc = auth_user_set_status(app, uid, "ACTIVE");
	else if (strcmp(cmd, "delete") == 0)
		*rc = auth_user_delete(app, uid);
	else if (strcmp(cmd, "logout") == 0)
		*rc = PB_OK; /* the revocation below is all it does */
	else
		return 0;
	return 1;
}

static int
run(struct pb_app *app, int argc, char **argv)
{
	char uid[AUTH_UID_MAX + 1], pw[AUTH_PW_MAX + 8];
	char hash[PB_CRYPTO_HASH_MAX];
	const char *cmd = argv[1];
	unsigned bit;
	enum pb_err rc;
	int status = 1;

	if (strcmp(cmd, "add") == 0)
		return cmd_add(app, argc, argv);
	if (strcmp(cmd, "dead-letters") == 0)
		return admin_dead_letters(app, argc, argv);
	if (strcmp(cmd, "rekey") == 0)
		return admin_rekey(app, argc, argv);
	if (strcmp(cmd, "list") == 0) {
		if (argc != 2)
			return admin_usage();
		printf("%-20s %-12s %-14s %-10s %-9s %-28s %s\n", "USER",
		       "CUSTOMER", "LINE", "NAME", "STATUS", "PERMISSIONS",
		       "LOCK");
		rc = auth_user_list(app, print_user, app);
		if (rc != PB_OK)
			fprintf(stderr, "phonebill-admin: %s\n",
			        pb_strerror(rc));
		return rc == PB_OK ? 0 : 1;
	}
	if (argc < 3 || auth_uid_canon(argv[2], uid, sizeof(uid)) != PB_OK)
		return admin_usage();
	if (strcmp(cmd, "passwd") == 0 && argc == 3) {
		if (read_password(pw, sizeof(pw)) != PB_OK)
			return 1;
		rc = pb_crypto_pwhash(pw, strlen(pw), hash, sizeof(hash));
		sodium_memzero(pw, sizeof(pw));
		if (rc == PB_OK)
			rc = auth_user_set_password(app, uid, hash);
	} else if ((strcmp(cmd, "grant") == 0 || strcmp(cmd, "revoke") == 0) &&
	           argc == 4) {
		bit = pb_authz_perm_parse(argv[3]);
		if (bit == 0)
			return admin_usage();
		rc = auth_user_set_perm(app, uid, bit,
		                        strcmp(cmd, "grant") == 0);
	} else if (strcmp(cmd, "unlock") == 0 && argc == 3) {
		char ukey[PB_SESSION_UKEY_MAX + 1];

		rc = pb_authz_user_key(app, uid, ukey, sizeof(ukey));
		if (rc == PB_OK)
			rc = pb_lockout_reset(app->redis, ukey);
	} else if (argc == 3 && account_cmd(app, cmd, uid, &rc)) {
		/* done by account_cmd */
	} else {
		return admin_usage();
	}
	/* every change but an unlock ends the user's sessions */
	if (rc == PB_OK && strcmp(cmd, "unlock") != 0) {
		rc = auth_user_revoke(app, uid);
		if (rc != PB_OK)
			fprintf(stderr,
			        "phonebill-admin: %s changed, but the "
			        "sessions were not ended (Redis: %s); run "
			        "'phonebill-admin logout %s'\n",
			        uid, pb_strerror(rc), uid);
	}
	if (rc == PB_OK) {
		printf("%s: %s done\n", uid, cmd);
		status = 0;
	} else {
		fprintf(stderr, "phonebill-admin: %s %s: %s\n", cmd, uid,
		        pb_strerror(rc));
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct pb_app app;
	char err[512];
	int status;

	if (argc < 2)
		return admin_usage();
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 ||
	                  strcmp(argv[1], "--help") == 0))
		return pb_cli_std(argc, argv, "phonebill-admin", help);
	if (pb_app_init(&app, &spec, err, sizeof(err)) != PB_OK) {
		fprintf(stderr, "phonebill-admin: %s\n", err);
		return 1;
	}
	status = run(&app, argc, argv);
	pb_app_fini(&app);
	pb_db_library_end();
	pb_log_close();
	return status;
}
