/* test-term-safe.c — pa_term_safe: what reaches the terminal from traffic
 * carries no byte a terminal acts on, and reads as the bytes it is made of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "privaudit.h"

static void test_plain_text_passes(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(pa_term_safe("api.lanxin.cn", out, sizeof out), "api.lanxin.cn");
	assert_string_equal(pa_term_safe("\xe8\x93\x9d\xe4\xbf\xa1 Lanxin", out, sizeof out),
			    "\xe8\x93\x9d\xe4\xbf\xa1 Lanxin"); /* 蓝信: CJK stays as it is */
	assert_string_equal(pa_term_safe("", out, sizeof out), "");
	assert_string_equal(pa_term_safe(NULL, out, sizeof out), "");
}

static void test_controls_are_escaped(void **state)
{
	(void)state;
	char out[128];
	/* OSC set-title, BEL, CSI colour and clear screen, CR, DEL. */
	assert_string_equal(pa_term_safe("a\x1b]0;t\x07\x1b[31m\x1b[2J\r\x7f", out, sizeof out),
			    "a\\x1b]0;t\\x07\\x1b[31m\\x1b[2J\\x0d\\x7f");
	assert_string_equal(pa_term_safe("a\\b", out, sizeof out), "a\\\\b");
	/* C1 CSI (U+009B) and the bidi override U+202E, isolates, marks. */
	assert_string_equal(pa_term_safe("x\xc2\x9b" "1m", out, sizeof out), "x\\u{009b}1m");
	assert_string_equal(pa_term_safe("exe\xe2\x80\xaetxt.com", out, sizeof out), "exe\\u{202e}txt.com");
	assert_string_equal(pa_term_safe("\xe2\x81\xa6\xe2\x80\x8f", out, sizeof out), "\\u{2066}\\u{200f}");
	/* Bytes that are not UTF-8, one escape each. */
	assert_string_equal(pa_term_safe("h\xff\xc3", out, sizeof out), "h\\xff\\xc3");
	assert_null(memchr(out, 0x1b, strlen(out)));
}

static void test_cut_at_a_whole_escape(void **state)
{
	(void)state;
	char out[8];
	/* "ab" + "\x1b" (4 bytes) fits in 7; the next escape does not. */
	assert_string_equal(pa_term_safe("ab\x1b\x1b", out, sizeof out), "ab\\x1b");
	char small[4];
	assert_string_equal(pa_term_safe("\xe2\x80\xae", small, sizeof small), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_passes),
		cmocka_unit_test(test_controls_are_escaped),
		cmocka_unit_test(test_cut_at_a_whole_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
