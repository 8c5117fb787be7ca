/*
 * fuzz_config.c - libFuzzer target for the config file parser
 * (lib/core/config.c, pb_config_load).
 *
 * The input is the file (written to a memfd, loaded through
 * /proc/self/fd/N).  A small model of the format in this file decides
 * what the parser must do, and the properties are (abort() on violation,
 * so libFuzzer keeps the input):
 *   - pb_config_load never crashes or over-reads;
 *   - it accepts exactly the files the model accepts: lines "key = value"
 *     with keys of [a-z0-9._] under 64 bytes, values under 1024 bytes, no
 *     duplicate key, at most 256 entries, no NUL byte; '#' lines and blank
 *     lines ignored; spaces, tabs (and a CR at the end) trimmed;
 *   - refused: *out NULL and a non-empty, NUL-terminated reason;
 *   - accepted: every key reads back its trimmed value (the environment
 *     override PHONEBILL_FUZZ_ENV wins for "fuzz.env"), pb_config_get_long
 *     stays within its bounds, and pb_config_check_known accepts the
 *     file's own keys and refuses an empty list when there is a key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 4096

struct model {
	char *key[MAX_LINES];
	char *val[MAX_LINES];
	size_t n;
	int ok;
};

static int memfd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* only our own override: the caller's PHONEBILL_* must not leak in */
	clearenv();
	setenv("PHONEBILL_FUZZ_ENV", "from-env", 1);
	memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
key_ok(const char *k)
{
	return k[0] != '\0' && strlen(k) < PB_CONFIG_MAX_KEY &&
	       strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789._") == strlen(k);
}

/* The model: m->ok when the file must load; text is cut up in place. */
static void
model_parse(struct model *m, char *text, size_t len)
{
	char *line = text, *nl, *k, *eq, *v;
	size_t i;

	m->n = 0;
	m->ok = memchr(text, '\0', len) == NULL;
	while (m->ok && line != NULL && *line != '\0') {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		k = trim(line);
		line = nl != NULL ? nl + 1 : NULL;
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL || m->n >= PB_CONFIG_MAX_ENTRIES) {
			m->ok = 0;
			break;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (!key_ok(k) || strlen(v) >= PB_CONFIG_MAX_VALUE)
			m->ok = 0;
		for (i = 0; i < m->n; i++)
			if (strcmp(m->key[i], k) == 0)
				m->ok = 0;
		m->key[m->n] = k;
		m->val[m->n] = v;
		m->n++;
	}
}

static void
check_loaded(const struct pb_config *c, const struct model *m)
{
	static const char *const none[] = {NULL};
	const char *known[PB_CONFIG_MAX_ENTRIES + 1];
	char err[256];
	const char *got, *want;
	long v;
	size_t i;

	for (i = 0; i < m->n; i++) {
		want = m->val[i][0] != '\0' ? m->val[i] : "\x01unset";
		if (strcmp(m->key[i], "fuzz.env") == 0)
			want = "from-env";
		got = pb_config_get(c, m->key[i], "\x01unset");
		if (got == NULL || strcmp(got, want) != 0)
			abort();
		if (pb_config_get_long(c, m->key[i], 7, -1000, 1000, &v, err,
		                       sizeof(err)) == PB_OK &&
		    (v < -1000 || v > 1000))
			abort();
		known[i] = m->key[i];
	}
	known[m->n] = NULL;
	if (pb_config_check_known(c, known, err, sizeof(err)) != PB_OK)
		abort();
	if (m->n > 0 &&
	    pb_config_check_known(c, none, err, sizeof(err)) == PB_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct pb_config *c = (struct pb_config *)1;
	char err[256], *text;
	enum pb_err rc;

	if (size > 16384)
		return 0;
	if (ftruncate(memfd, 0) != 0 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	model_parse(&m, text, size);
	memset(err, 'x', sizeof(err));
	rc = pb_config_load(path, &c, err, sizeof(err));
	if (rc == PB_OK) {
		if (c == NULL || !m.ok)
			abort();
		check_loaded(c, &m);
		pb_config_free(c);
	} else if (c != NULL || m.ok || err[0] == '\0' ||
	           memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	free(text);
	return 0;
}
