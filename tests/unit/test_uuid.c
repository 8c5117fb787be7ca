/* test_uuid.c - version 4 UUIDs as text (lib/core/uuid.c). */
#include <sodium.h>
#include <string.h>

#include "tap.h"
#include "uuid.h"

/* "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx", lower-case hex */
static int
shaped(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdef", s[i]) == NULL) {
			return 0;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

int
main(void)
{
	unsigned char b[16];
	char a[PB_UUID_LEN], c[PB_UUID_LEN], small[36];
	int i, all = 1;

	if (sodium_init() < 0)
		return tap_skip_all("sodium_init failed");
	is_int(pb_uuid_v4(a, sizeof(a)), PB_OK, "random uuid");
	ok(shaped(a), "version 4, RFC 4122 variant, lower-case hex");
	for (i = 0; i < 1000; i++) {
		(void)pb_uuid_v4(c, sizeof(c));
		all &= shaped(c) && strcmp(a, c) != 0;
	}
	ok(all, "1000 more: each well formed and unlike the first");

	memset(b, 0xff, sizeof(b));
	is_int(pb_uuid_v4_format(b, a, sizeof(a)), PB_OK, "format all ones");
	is_str(a, "ffffffff-ffff-4fff-bfff-ffffffffffff",
	       "bits 4 and 10xx set");
	memset(b, 0, sizeof(b));
	(void)pb_uuid_v4_format(b, a, sizeof(a));
	is_str(a, "00000000-0000-4000-8000-000000000000", "all zeros");
	for (i = 0; i < 16; i++)
		b[i] = (unsigned char)(i * 17);
	(void)pb_uuid_v4_format(b, a, sizeof(a));
	is_str(a, "00112233-4455-4677-8899-aabbccddeeff", "byte order kept");

	memset(small, 'x', sizeof(small));
	is_int(pb_uuid_v4(small, sizeof(small)), PB_ERR_TOOBIG,
	       "36 bytes are too few");
	ok(small[0] == '\0', "and the buffer is left empty");
	return tap_done();
}
