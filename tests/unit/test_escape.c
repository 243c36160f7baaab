/* Unit tests of reports/escape.c: terminal-safe escaping of directory values
 * and the UTF-8 repair of printed JSON documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/escape.h"

struct escape_case {
    const char *name;
    const char *input;
    const char *expected;
};

static const struct escape_case escape_cases[] = {
    {"plain ASCII", "svc-web", "svc-web"},
    {"empty string", "", ""},
    {"NULL", NULL, "-"},
    {"ESC sequence", "\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
    {"OSC title sequence", "\x1b]0;owned\x07", "\\x1b]0;owned\\x07"},
    {"CR LF TAB", "a\r\nb\tc", "a\\x0d\\x0ab\\x09c"},
    {"NUL-adjacent C0", "\x01\x1f", "\\x01\\x1f"},
    {"DEL", "del\x7f", "del\\x7f"},
    {"C1 first", "\xc2\x80", "\\u0080"},
    {"C1 CSI", "x\xc2\x9b" "2J", "x\\u009b2J"},
    {"C1 last", "\xc2\x9f", "\\u009f"},
    {"no-break space kept", "a\xc2\xa0" "b", "a\xc2\xa0" "b"},
    {"backslash", "CONTOSO\\svc", "CONTOSO\\svc"},
    {"escaped DN comma", "CN=M\xc3\xbcller\\, J\xc3\xb6rg", "CN=M\xc3\xbcller\\, J\xc3\xb6rg"},
    {"backslash before x", "fake\\x1b", "fake\\\\x1b"},
    {"backslash before u", "fake\\u202e", "fake\\\\u202e"},
    {"escape-like text", "\\x1b", "\\\\x1b"},
    {"German name kept", "M\xc3\xbcller, J\xc3\xb6rg", "M\xc3\xbcller, J\xc3\xb6rg"},
    {"CJK kept", "\xe6\x9d\xb1\xe4\xba\xac", "\xe6\x9d\xb1\xe4\xba\xac"},
    {"four-byte kept", "key \xf0\x9f\x94\x91", "key \xf0\x9f\x94\x91"},
    {"U+10FFFF kept", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
    {"U+FFFD kept", "\xef\xbf\xbd", "\xef\xbf\xbd"},
    {"invalid byte FF", "a\xff" "b", "a\\xffb"},
    {"invalid byte FE", "\xfe", "\\xfe"},
    {"stray continuation", "\x80" "a", "\\x80a"},
    {"overlong slash", "\xc0\xaf", "\\xc0\\xaf"},
    {"overlong C1 lead", "\xc1\xbf", "\\xc1\\xbf"},
    {"overlong three bytes", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
    {"overlong four bytes", "\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"},
    {"lone high surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
    {"lone low surrogate", "\xed\xbf\xbf", "\\xed\\xbf\\xbf"},
    {"above U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
    {"lead F5", "\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80"},
    {"truncated at end", "a\xe2\x80", "a\\xe2\\x80"},
    {"truncated before ASCII", "\xe2\x80" "A", "\\xe2\\x80A"},
    {"truncated four bytes", "\xf0\x9f\x94" "x", "\\xf0\\x9f\\x94x"},
    {"line separator", "a\xe2\x80\xa8" "b", "a\\u2028b"},
    {"paragraph separator", "\xe2\x80\xa9", "\\u2029"},
    {"LRE", "\xe2\x80\xaa", "\\u202a"},
    {"RLO", "exe.\xe2\x80\xae" "txt", "exe.\\u202etxt"},
    {"LRI", "\xe2\x81\xa6", "\\u2066"},
    {"PDI", "\xe2\x81\xa9", "\\u2069"},
    {"RLM", "\xe2\x80\x8f", "\\u200f"},
    {"Arabic letter mark", "\xd8\x9c", "\\u061c"},
    {"zero-width space", "krb\xe2\x80\x8btgt", "krb\\u200btgt"},
    {"word joiner", "\xe2\x81\xa0", "\\u2060"},
    {"byte order mark", "\xef\xbb\xbf" "svc", "\\ufeffsvc"},
    {"en dash kept", "a\xe2\x80\x93" "b", "a\xe2\x80\x93" "b"},
};

static void escape_text_table(void **state)
{
    (void)state;

    for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
        const struct escape_case *test_case = &escape_cases[i];
        char *escaped = da_escape_text(test_case->input);

        assert_non_null(escaped);
        if (strcmp(escaped, test_case->expected) != 0)
            print_message("failing case: %s\n", test_case->name);
        assert_string_equal(escaped, test_case->expected);
        free(escaped);
    }
}

static void escape_fputs_writes_escaped(void **state)
{
    char *buffer = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buffer, &size);

    (void)state;
    assert_non_null(out);

    assert_int_equal(da_escape_fputs("a\x1b" "b", out), 0);
    assert_int_equal(da_escape_fputs(NULL, out), 0);
    assert_int_equal(fclose(out), 0);

    assert_string_equal(buffer, "a\\x1bb-");
    free(buffer);
}

static void escape_fputs_write_error(void **state)
{
    FILE *read_only = fopen("/dev/null", "r");

    (void)state;
    assert_non_null(read_only);
    assert_int_equal(da_escape_fputs("value", read_only), -1);
    fclose(read_only);
}

/* True when text contains a byte sequence that must never reach a
 * terminal: a C0 control, DEL, or the UTF-8 form of a C1 control, U+2028,
 * U+2029, a bidi embedding or override, or a bidi isolate. */
static bool contains_unsafe_sequence(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;

    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return true;
        if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae)
            return true;
        if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
            return true;
    }
    return false;
}

/* Random byte strings, with a fixed seed so that a failure repeats. The
 * escaped text must contain no unsafe sequence, and it must be valid UTF-8
 * with nothing left to escape, which da_escape_json_document checks by
 * returning it unchanged. */
static void escape_text_random_bytes(void **state)
{
    unsigned int seed = 20261204;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        char input[24];
        size_t length = (size_t)(rand_r(&seed) % (sizeof(input) - 1));
        char *escaped;
        char *rechecked;

        for (size_t i = 0; i < length; i++) {
            /* Favour bytes that start or continue multi-byte sequences. */
            int byte = rand_r(&seed) % 4 == 0 ? rand_r(&seed) % 0x80
                                              : 0x80 + rand_r(&seed) % 0x80;

            input[i] = (char)(byte == 0 ? 1 : byte);
        }
        input[length] = '\0';

        escaped = da_escape_text(input);
        assert_non_null(escaped);
        assert_false(contains_unsafe_sequence(escaped));

        rechecked = da_escape_json_document(escaped);
        assert_non_null(rechecked);
        assert_string_equal(rechecked, escaped);

        free(rechecked);
        free(escaped);
    }
}

static const struct escape_case json_cases[] = {
    {"ASCII document unchanged", "{\"a\": \"b\\u001b\"}", "{\"a\": \"b\\u001b\"}"},
    {"letters unchanged", "[\"M\xc3\xbcller\"]", "[\"M\xc3\xbcller\"]"},
    {"invalid byte", "[\"a\xff" "b\"]", "[\"a\\ufffdb\"]"},
    {"overlong slash", "[\"\xc0\xaf\"]", "[\"\\ufffd\\ufffd\"]"},
    {"lone surrogate", "[\"\xed\xa0\x80\"]", "[\"\\ufffd\\ufffd\\ufffd\"]"},
    {"C1 control", "[\"\xc2\x85\"]", "[\"\\u0085\"]"},
    {"RLO", "[\"\xe2\x80\xae\"]", "[\"\\u202e\"]"},
    {"line separator", "[\"\xe2\x80\xa8\"]", "[\"\\u2028\"]"},
    {"DEL kept", "[\"\x7f\"]", "[\"\x7f\"]"},
};

static void escape_json_document_table(void **state)
{
    (void)state;

    for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
        char *escaped = da_escape_json_document(json_cases[i].input);

        assert_non_null(escaped);
        if (strcmp(escaped, json_cases[i].expected) != 0)
            print_message("failing case: %s\n", json_cases[i].name);
        assert_string_equal(escaped, json_cases[i].expected);
        free(escaped);
    }

    assert_null(da_escape_json_document(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_text_table),
        cmocka_unit_test(escape_fputs_writes_escaped),
        cmocka_unit_test(escape_fputs_write_error),
        cmocka_unit_test(escape_text_random_bytes),
        cmocka_unit_test(escape_json_document_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
