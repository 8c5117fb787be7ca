/* test_buf.c - bounded buffer and pb_strlcpy. */
#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct pb_buf b;
	char small[4];
	char *p;

	pb_buf_init(&b, 10);
	is_int(pb_buf_append_str(&b, "hello"), PB_OK, "append within max");
	is_int(pb_buf_append_str(&b, "world"), PB_OK, "append up to max");
	is_int(b.len, 10, "len counts bytes");
	is_str(b.data, "helloworld", "content NUL-terminated");
	is_int(pb_buf_append_char(&b, 'x'), PB_ERR_TOOBIG, "over max refused");
	is_str(b.data, "helloworld", "refused append leaves buffer as it was");
	pb_buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	is_int(pb_buf_printf(&b, "%d-%s", 42, "ab"), PB_OK, "printf");
	is_str(b.data, "42-ab", "printf content");
	is_int(pb_buf_printf(&b, "%s", "0123456789"), PB_ERR_TOOBIG,
	       "printf over max refused");
	is_str(b.data, "42-ab", "refused printf leaves buffer");
	p = pb_buf_steal(&b);
	is_str(p, "42-ab", "steal hands over data");
	ok(b.data == NULL && b.len == 0, "steal empties buffer");
	free(p);
	pb_buf_free(&b);
	pb_buf_free(NULL);

	pb_buf_init(&b, 100000);
	for (int i = 0; i < 10000; i++)
		if (pb_buf_append_str(&b, "0123456789") != PB_OK)
			break;
	is_int(b.len, 100000, "grows across many reallocations to max");
	is_int(pb_buf_append(&b, "", 0), PB_OK, "empty append at max is fine");
	pb_buf_free(&b);

	is_int(pb_strlcpy(small, "abc", sizeof(small)), PB_OK, "strlcpy fits");
	is_str(small, "abc", "strlcpy content");
	is_int(pb_strlcpy(small, "abcd", sizeof(small)), PB_ERR_TOOBIG,
	       "strlcpy reports truncation");
	is_str(small, "abc", "strlcpy truncates safely");
	is_int(pb_strlcpy(small, "x", 0), PB_ERR_TOOBIG, "strlcpy zero size");
	return tap_done();
}
