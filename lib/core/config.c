/* config.c - key=value file, environment overrides, protected secrets. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"

struct pb_config_entry {
	char key[PB_CONFIG_MAX_KEY];
	char *value;
};

struct pb_config {
	struct pb_config_entry *entries;
	size_t n;
};

static int
valid_key(const char *k)
{
	size_t i;

	if (k[0] == '\0')
		return 0;
	for (i = 0; k[i] != '\0'; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

/* PHONEBILL_<KEY>[suffix] into out; 0 if it does not fit. */
static int
env_name(const char *key, const char *suffix, char *out, size_t outlen)
{
	size_t o, i;
	static const char pfx[] = "PHONEBILL_";

	if (outlen < sizeof(pfx))
		return 0;
	memcpy(out, pfx, sizeof(pfx) - 1);
	o = sizeof(pfx) - 1;
	for (i = 0; key[i] != '\0'; i++) {
		if (o + 1 >= outlen)
			return 0;
		out[o++] =
		    key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
	}
	for (i = 0; suffix[i] != '\0'; i++) {
		if (o + 1 >= outlen)
			return 0;
		out[o++] = suffix[i];
	}
	out[o] = '\0';
	return 1;
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

static const struct pb_config_entry *
find(const struct pb_config *c, const char *key)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].key, key) == 0)
			return &c->entries[i];
	return NULL;
}

void
pb_config_free(struct pb_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->entries[i].value);
	free(c->entries);
	free(c);
}

/* Read at most PB_CONFIG_MAX_FILE bytes of path into b. */
static enum pb_err
read_small_file(int fd, struct pb_buf *b)
{
	char chunk[4096];
	ssize_t r;
	enum pb_err rc;

	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return PB_ERR_IO;
		}
		if (r == 0)
			return PB_OK;
		rc = pb_buf_append(b, chunk, (size_t)r);
		if (rc != PB_OK)
			return rc;
	}
}

static enum pb_err
parse(struct pb_config *c, char *text, size_t len, const char *path, char *err,
      size_t errlen)
{
	char *line = text, *nl, *eq, *k, *v;
	unsigned lineno = 0;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in config", path);
		return PB_ERR_PARSE;
	}
	while (line != NULL && *line != '\0') {
		lineno++;
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		k = trim(line);
		line = nl != NULL ? nl + 1 : NULL;
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected key = value",
			         path, lineno);
			return PB_ERR_PARSE;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (!valid_key(k) || strlen(k) >= PB_CONFIG_MAX_KEY) {
			snprintf(err, errlen, "%s:%u: invalid key", path,
			         lineno);
			return PB_ERR_PARSE;
		}
		if (strlen(v) >= PB_CONFIG_MAX_VALUE) {
			snprintf(err, errlen, "%s:%u: value too long", path,
			         lineno);
			return PB_ERR_PARSE;
		}
		if (find(c, k) != NULL) {
			snprintf(err, errlen, "%s:%u: duplicate key %s", path,
			         lineno, k);
			return PB_ERR_PARSE;
		}
		if (c->n >= PB_CONFIG_MAX_ENTRIES) {
			snprintf(err, errlen, "%s:%u: too many entries", path,
			         lineno);
			return PB_ERR_TOOBIG;
		}
		memcpy(c->entries[c->n].key, k, strlen(k) + 1);
		c->entries[c->n].value = strdup(v);
		if (c->entries[c->n].value == NULL)
			return PB_ERR_NOMEM;
		c->n++;
	}
	return PB_OK;
}

enum pb_err
pb_config_load(const char *path, struct pb_config **out, char *err,
               size_t errlen)
{
	struct pb_config *c = NULL;
	struct pb_buf b;
	enum pb_err rc = PB_ERR_NOMEM;
	int fd = -1;

	*out = NULL;
	err[0] = '\0';
	pb_buf_init(&b, PB_CONFIG_MAX_FILE);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto out;
	c->entries = calloc(PB_CONFIG_MAX_ENTRIES, sizeof(*c->entries));
	if (c->entries == NULL)
		goto out;
	if (path == NULL) {
		rc = PB_OK;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %m", path);
		rc = PB_ERR_CONFIG;
		goto out;
	}
	rc = read_small_file(fd, &b);
	if (rc != PB_OK) {
		snprintf(err, errlen, "%s: %s", path,
		         rc == PB_ERR_TOOBIG ? "larger than 64 KiB"
		                             : "read failed");
		goto out;
	}
	if (b.len > 0)
		rc = parse(c, b.data, b.len, path, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	pb_buf_free(&b);
	if (rc != PB_OK) {
		if (err[0] == '\0')
			snprintf(err, errlen, "config: %s", pb_strerror(rc));
		pb_config_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

enum pb_err
pb_config_check_known(const struct pb_config *c, const char *const *known,
                      char *err, size_t errlen)
{
	size_t i, j;
	int found;

	if (c == NULL)
		return PB_OK;
	for (i = 0; i < c->n; i++) {
		found = 0;
		for (j = 0; known[j] != NULL; j++) {
			if (strcmp(c->entries[i].key, known[j]) == 0) {
				found = 1;
				break;
			}
		}
		if (!found) {
			snprintf(err, errlen, "unknown config key: %s",
			         c->entries[i].key);
			return PB_ERR_CONFIG;
		}
	}
	return PB_OK;
}

const char *
pb_config_get(const struct pb_config *c, const char *key, const char *def)
{
	char name[PB_CONFIG_MAX_KEY + 16];
	const char *v;
	const struct pb_config_entry *e;

	if (env_name(key, "", name, sizeof(name))) {
		v = getenv(name);
		if (v != NULL && *v != '\0')
			return v;
	}
	e = find(c, key);
	if (e != NULL && e->value[0] != '\0')
		return e->value;
	return def;
}

enum pb_err
pb_config_get_long(const struct pb_config *c, const char *key, long def,
                   long min, long max, long *out, char *err, size_t errlen)
{
	const char *s = pb_config_get(c, key, NULL);
	char *end;
	long v;

	*out = def;
	if (s == NULL)
		return PB_OK;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		snprintf(err, errlen,
		         "config %s: expected an integer in "
		         "[%ld, %ld]",
		         key, min, max);
		return PB_ERR_CONFIG;
	}
	*out = v;
	return PB_OK;
}

/* Read a protected secret file into a fresh buffer. */
static enum pb_err
read_secret_file(const char *key, const char *path, char **out, char *err,
                 size_t errlen)
{
	struct stat st;
	struct pb_buf b;
	enum pb_err rc = PB_ERR_CONFIG;
	int fd;

	pb_buf_init(&b, PB_CONFIG_MAX_SECRET);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "secret %s: cannot open %s: %m", key,
		         path);
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret %s: %s is not a regular file",
		         key, path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen,
		         "secret %s: %s must be owned by root or "
		         "uid %ld",
		         key, path, (long)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen,
		         "secret %s: %s is readable by group or "
		         "others (chmod 600)",
		         key, path);
		goto out;
	}
	rc = read_small_file(fd, &b);
	if (rc != PB_OK) {
		snprintf(err, errlen, "secret %s: cannot read %s", key, path);
		rc = PB_ERR_CONFIG;
		goto out;
	}
	/* one trailing newline (and CR) is formatting, not secret */
	while (b.len > 0 &&
	       (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (b.len == 0) {
		snprintf(err, errlen, "secret %s: %s is empty", key, path);
		rc = PB_ERR_CONFIG;
		goto out;
	}
	*out = pb_buf_steal(&b);
	rc = PB_OK;
out:
	if (fd >= 0)
		close(fd);
	if (b.data != NULL)
		sodium_memzero(b.data, b.cap);
	pb_buf_free(&b);
	return rc;
}

enum pb_err
pb_config_secret(const struct pb_config *c, const char *key, size_t min_len,
                 char **out, char *err, size_t errlen)
{
	char name[PB_CONFIG_MAX_KEY + 16], filekey[PB_CONFIG_MAX_KEY + 8];
	const char *v, *path;
	char *s = NULL;
	enum pb_err rc = PB_ERR_CONFIG;

	*out = NULL;
	if (find(c, key) != NULL) {
		snprintf(err, errlen,
		         "secret %s must not be in the config "
		         "file; use %s_file or the environment",
		         key, key);
		goto out;
	}
	if (!env_name(key, "", name, sizeof(name)) ||
	    snprintf(filekey, sizeof(filekey), "%s_file", key) >=
	        (int)sizeof(filekey)) {
		snprintf(err, errlen, "secret key too long");
		goto out;
	}
	v = getenv(name);
	if (v != NULL && *v != '\0') {
		if (strlen(v) > PB_CONFIG_MAX_SECRET) {
			snprintf(err, errlen, "secret %s too long", key);
			goto out;
		}
		s = strdup(v);
		if (s == NULL) {
			rc = PB_ERR_NOMEM;
			goto out;
		}
	} else {
		path = pb_config_get(c, filekey, NULL);
		if (path == NULL) {
			snprintf(err, errlen,
			         "secret %s is required: set %s "
			         "or %s_FILE, or %s in the config file",
			         key, name, name, filekey);
			goto out;
		}
		rc = read_secret_file(key, path, &s, err, errlen);
		if (rc != PB_OK)
			goto out;
	}
	if (strlen(s) < min_len) {
		snprintf(err, errlen, "secret %s is shorter than %zu bytes",
		         key, min_len);
		rc = PB_ERR_CONFIG;
		goto out;
	}
	*out = s;
	s = NULL;
	rc = PB_OK;
out:
	pb_config_secret_free(s);
	return rc;
}

void
pb_config_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	sodium_memzero(secret, strlen(secret));
	free(secret);
}
