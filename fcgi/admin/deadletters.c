/*
 * deadletters.c - phonebill-admin dead-letters: what phonebill-worker set
 * aside because it could not open or parse it, or MariaDB refused it as a
 * record (lib/backoffice/handoff.h, PB_HANDOFF_DEAD).
 *
 *   phonebill-admin dead-letters list            one line per entry
 *   phonebill-admin dead-letters requeue ID|all  back into the stream
 *   phonebill-admin dead-letters purge [ID|all]  drop (default all)
 *
 * Entries stay sealed: the list shows kind, reason and ids, never data.
 * Requeue is for after the cause is fixed (a key put back, a migration
 * applied); an entry that fails again comes back here.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "handoff.h"

#define PAGE 100

static const char *
fv(const redisReply *fields, const char *name, size_t *len)
{
	size_t i;

	for (i = 0;
	     fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements;
	     i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(fields->element[i]->str, name) == 0 &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING) {
			if (len != NULL)
				*len = fields->element[i + 1]->len;
			return fields->element[i + 1]->str;
		}
	return NULL;
}

/* Move one entry (id, fields) back into the stream and delete it here. */
static enum pb_err
requeue_one(struct pb_redis *r, const char *id, const redisReply *fields)
{
	const char *k = fv(fields, "k", NULL), *d;
	const char *argv[9], *del[3];
	size_t len[9], dl[3], dlen = 0, i;
	redisReply *rep = NULL;
	enum pb_err rc;

	d = fv(fields, "d", &dlen);
	if (k == NULL || d == NULL)
		return PB_ERR_INVAL;
	argv[0] = "XADD";
	argv[1] = PB_HANDOFF_STREAM;
	argv[2] = "*";
	argv[3] = "k";
	argv[4] = k;
	argv[5] = "v";
	argv[6] = "1";
	argv[7] = "d";
	argv[8] = d;
	for (i = 0; i < 8; i++)
		len[i] = strlen(argv[i]);
	len[8] = dlen;
	rc = pb_redis_cmd(r, &rep, 9, argv, len);
	if (rc == PB_OK && rep->type == REDIS_REPLY_ERROR)
		rc = PB_ERR_UNAVAILABLE;
	if (rep != NULL)
		freeReplyObject(rep);
	if (rc != PB_OK)
		return rc;
	del[0] = "XDEL";
	del[1] = PB_HANDOFF_DEAD;
	del[2] = id;
	for (i = 0; i < 3; i++)
		dl[i] = strlen(del[i]);
	rc = pb_redis_cmd(r, &rep, 3, del, dl);
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

int
admin_dead_letters(struct pb_app *app, int argc, char **argv)
{
	const char *sub = argc >= 3 ? argv[2] : "list";
	const char *which = argc >= 4 ? argv[3] : "all";
	const char *range[] = {"XRANGE", PB_HANDOFF_DEAD, "-",
	                       "+",      "COUNT",         "1000"};
	redisReply *rep = NULL;
	size_t i, n = 0, failed = 0;
	int status = 1;

	if (app->redis == NULL || argc > 4 ||
	    (strcmp(sub, "list") != 0 && strcmp(sub, "requeue") != 0 &&
	     strcmp(sub, "purge") != 0) ||
	    (strcmp(sub, "requeue") == 0 && argc != 4))
		return admin_usage();
	if (pb_redis_cmd_str(app->redis, &rep, 6, range) != PB_OK ||
	    rep->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "phonebill-admin: Redis: %s\n",
		        pb_redis_last_error(app->redis));
		goto out;
	}
	for (i = 0; i < rep->elements; i++) {
		const redisReply *e = rep->element[i];
		const char *id;

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
			continue;
		id = e->element[0]->str;
		if (strcmp(which, "all") != 0 && strcmp(which, id) != 0)
			continue;
		n++;
		if (strcmp(sub, "list") == 0) {
			const char *k = fv(e->element[1], "k", NULL);
			const char *why = fv(e->element[1], "reason", NULL);
			const char *orig = fv(e->element[1], "id", NULL);

			printf("%s kind=%s reason=%s entry=%s\n", id,
			       k != NULL ? k : "-", why != NULL ? why : "-",
			       orig != NULL ? orig : "-");
		} else if (strcmp(sub, "requeue") == 0) {
			failed +=
			    requeue_one(app->redis, id, e->element[1]) != PB_OK;
		} else {
			const char *del[] = {"XDEL", PB_HANDOFF_DEAD, id};
			redisReply *d = NULL;

			failed +=
			    pb_redis_cmd_str(app->redis, &d, 3, del) != PB_OK;
			if (d != NULL)
				freeReplyObject(d);
		}
	}
	if (strcmp(sub, "list") != 0)
		printf("dead-letters %s: %zu done, %zu failed\n", sub,
		       n - failed, failed);
	else if (n == 0)
		printf("no dead letters\n");
	status = failed == 0 && (n > 0 || strcmp(which, "all") == 0) ? 0 : 1;
out:
	if (rep != NULL)
		freeReplyObject(rep);
	return status;
}
