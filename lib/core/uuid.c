/* uuid.c - version 4 UUIDs as text (uuid.h). */
#include "uuid.h"

#include <sodium.h>

enum pb_err
pb_uuid_v4_format(unsigned char b[16], char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (outlen < PB_UUID_LEN) {
		if (outlen > 0)
			out[0] = '\0';
		return PB_ERR_TOOBIG;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
	return PB_OK;
}

enum pb_err
pb_uuid_v4(char *out, size_t outlen)
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	return pb_uuid_v4_format(b, out, outlen);
}

int
pb_req_id_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (i >= PB_REQ_ID_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}
