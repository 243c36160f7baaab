/* Escaping of directory values for terminals and logs, and of printed JSON
 * documents. Both walk the text with one strict UTF-8 decoder. */
#include "auditor/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes the UTF-8 sequence that starts at s, a NUL-terminated string.
 * Returns its length in bytes and stores the code point, or returns 0 when
 * s[0] does not start a valid sequence: a stray continuation byte, an
 * overlong form, a surrogate, a value above U+10FFFF or a sequence cut
 * short. Never reads past the terminating NUL, because NUL is not a
 * continuation byte. */
static size_t utf8_decode(const unsigned char *s, uint32_t *code_point)
{
    unsigned char lead = s[0];
    size_t length;
    uint32_t value;
    /* The range of the second byte excludes overlong forms after E0 and
     * F0, surrogates after ED and values above U+10FFFF after F4. */
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xbf;

    if (lead < 0x80) {
        *code_point = lead;
        return 1;
    }

    if (lead < 0xc2) {
        /* 80..BF continue a sequence, and C0 and C1 only start overlong forms. */
        return 0;
    } else if (lead < 0xe0) {
        length = 2;
        value = lead & 0x1fu;
    } else if (lead < 0xf0) {
        length = 3;
        value = lead & 0x0fu;
        if (lead == 0xe0)
            second_min = 0xa0;
        if (lead == 0xed)
            second_max = 0x9f;
    } else if (lead < 0xf5) {
        length = 4;
        value = lead & 0x07u;
        if (lead == 0xf0)
            second_min = 0x90;
        if (lead == 0xf4)
            second_max = 0x8f;
    } else {
        return 0;
    }

    if (s[1] < second_min || s[1] > second_max)
        return 0;
    value = (value << 6) | (s[1] & 0x3fu);

    for (size_t i = 2; i < length; i++) {
        if ((s[i] & 0xc0u) != 0x80u)
            return 0;
        value = (value << 6) | (s[i] & 0x3fu);
    }

    *code_point = value;
    return length;
}

/* True for valid characters above U+007F that da_escape_text writes as
 * \uXXXX: C1 controls, and the invisible characters that escape.h lists. */
static bool needs_unicode_escape(uint32_t code_point)
{
    if (code_point >= 0x80 && code_point <= 0x9f)
        return true;
    if (code_point == 0x061c || code_point == 0xfeff)
        return true;
    if (code_point >= 0x200b && code_point <= 0x200f)
        return true;
    if (code_point >= 0x2028 && code_point <= 0x202e)
        return true;
    return code_point >= 0x2060 && code_point <= 0x206f;
}

static const char hex_digits[] = "0123456789abcdef";

static char *write_byte_escape(char *out, unsigned char byte)
{
    *out++ = '\\';
    *out++ = 'x';
    *out++ = hex_digits[byte >> 4];
    *out++ = hex_digits[byte & 0x0f];
    return out;
}

static char *write_unicode_escape(char *out, uint32_t code_point)
{
    *out++ = '\\';
    *out++ = 'u';
    for (int shift = 12; shift >= 0; shift -= 4)
        *out++ = hex_digits[(code_point >> shift) & 0x0f];
    return out;
}

char *da_escape_text(const char *value)
{
    const unsigned char *in;
    size_t length;
    char *escaped;
    char *out;

    if (value == NULL)
        return strdup("-");

    /* The maximum growth is four output bytes per input byte, from \xNN.
     * A \uXXXX escape takes six bytes for a sequence of two or three. */
    length = strlen(value);
    if (length > (SIZE_MAX - 1) / 4)
        return NULL;
    escaped = malloc(length * 4 + 1);
    if (escaped == NULL)
        return NULL;

    in = (const unsigned char *)value;
    out = escaped;
    while (*in != '\0') {
        uint32_t code_point;
        size_t sequence_length = utf8_decode(in, &code_point);

        if (sequence_length == 0) {
            out = write_byte_escape(out, *in);
            in++;
            continue;
        }

        if (code_point < 0x20 || code_point == 0x7f) {
            out = write_byte_escape(out, (unsigned char)code_point);
        } else if (code_point == '\\' && (in[1] == 'x' || in[1] == 'u')) {
            /* Only a backslash that could start one of our escapes is
             * doubled, so DNs ("CN=Smith\, Ann") and NT names
             * ("CONTOSO\svc") print as the directory returns them. */
            *out++ = '\\';
            *out++ = '\\';
        } else if (needs_unicode_escape(code_point)) {
            out = write_unicode_escape(out, code_point);
        } else {
            memcpy(out, in, sequence_length);
            out += sequence_length;
        }
        in += sequence_length;
    }
    *out = '\0';

    return escaped;
}

int da_escape_fputs(const char *value, FILE *out)
{
    char *escaped = da_escape_text(value);
    int result = 0;

    if (escaped == NULL)
        return -1;
    if (fputs(escaped, out) == EOF)
        result = -1;
    free(escaped);
    return result;
}

char *da_escape_json_document(const char *json)
{
    const unsigned char *in;
    size_t length;
    char *escaped;
    char *out;

    if (json == NULL)
        return NULL;

    /* An invalid byte grows the most: one byte becomes the six of \ufffd. */
    length = strlen(json);
    if (length > (SIZE_MAX - 1) / 6)
        return NULL;
    escaped = malloc(length * 6 + 1);
    if (escaped == NULL)
        return NULL;

    in = (const unsigned char *)json;
    out = escaped;
    while (*in != '\0') {
        uint32_t code_point;
        size_t sequence_length = utf8_decode(in, &code_point);

        if (sequence_length == 0) {
            out = write_unicode_escape(out, 0xfffd);
            in++;
            continue;
        }

        if (code_point >= 0x80 && needs_unicode_escape(code_point)) {
            out = write_unicode_escape(out, code_point);
        } else {
            memcpy(out, in, sequence_length);
            out += sequence_length;
        }
        in += sequence_length;
    }
    *out = '\0';

    return escaped;
}
