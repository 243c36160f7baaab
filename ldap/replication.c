#include "ldap/replication.h"

#include <stdio.h>
#include <string.h>

/* A span of the input: the text between an element's start and end tags. */
struct span {
    const char *start;
    size_t length;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds needle in the first length bytes of haystack, without reading past them. */
static const char *find_bytes(const char *haystack, size_t length, const char *needle,
                              size_t needle_length)
{
    if (needle_length == 0 || needle_length > length)
        return NULL;
    for (size_t i = 0; i + needle_length <= length; i++) {
        if (memcmp(haystack + i, needle, needle_length) == 0)
            return haystack + i;
    }
    return NULL;
}

/* Finds the first <name>...</name> in text and trims the whitespace around the
 * value. Returns false when either tag is missing or the name is too long to be
 * one of ours. Character references are left as they are: DCs write a raw '&'. */
static bool find_element(const char *text, size_t length, const char *name, struct span *value)
{
    char open[64];
    char close[64];
    int open_length = snprintf(open, sizeof(open), "<%s>", name);
    int close_length = snprintf(close, sizeof(close), "</%s>", name);
    const char *start;
    const char *end;

    if (open_length < 0 || (size_t)open_length >= sizeof(open) || close_length < 0 ||
        (size_t)close_length >= sizeof(close))
        return false;

    start = find_bytes(text, length, open, (size_t)open_length);
    if (start == NULL)
        return false;
    start += open_length;
    end = find_bytes(start, length - (size_t)(start - text), close, (size_t)close_length);
    if (end == NULL)
        return false;

    while (start < end && is_space(*start))
        start++;
    while (end > start && is_space(end[-1]))
        end--;
    value->start = start;
    value->length = (size_t)(end - start);
    return true;
}

/* Copies a span into a field of size bytes. A value that does not fit is invalid. */
static bool copy_span(const struct span *value, char *field, size_t size)
{
    if (value->length >= size)
        return false;
    memcpy(field, value->start, value->length);
    field[value->length] = '\0';
    return true;
}

/* Parses an unsigned decimal number of digits only, no larger than max. */
static bool parse_unsigned(const struct span *value, uint64_t max, uint64_t *number)
{
    uint64_t result = 0;

    if (value->length == 0)
        return false;
    for (size_t i = 0; i < value->length; i++) {
        char c = value->start[i];
        unsigned digit;

        if (c < '0' || c > '9')
            return false;
        digit = (unsigned)(c - '0');
        if (result > (max - digit) / 10)
            return false;
        result = result * 10 + digit;
    }
    *number = result;
    return true;
}

/* Reads count digits at text as a number. */
static bool read_digits(const char *text, size_t count, unsigned *number)
{
    unsigned result = 0;

    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        result = result * 10 + (unsigned)(text[i] - '0');
    }
    *number = result;
    return true;
}

/* Accepts "YYYY-MM-DDTHH:MM:SS" with an optional fraction and a final 'Z', and
 * writes it without the fraction. */
static bool normalize_time(const struct span *value, char *field, size_t size)
{
    static const char shape[] = "0000-00-00T00:00:00";
    const size_t shape_length = sizeof(shape) - 1;
    const char *text = value->start;
    unsigned year, month, day, hour, minute, second;
    size_t i = shape_length;

    if (value->length < shape_length + 1 || size < shape_length + 2)
        return false;
    if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
        return false;
    if (!read_digits(text, 4, &year) || !read_digits(text + 5, 2, &month) ||
        !read_digits(text + 8, 2, &day) || !read_digits(text + 11, 2, &hour) ||
        !read_digits(text + 14, 2, &minute) || !read_digits(text + 17, 2, &second))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return false;

    if (text[i] == '.') {
        i++;
        if (i >= value->length || text[i] < '0' || text[i] > '9')
            return false;
        while (i < value->length && text[i] >= '0' && text[i] <= '9')
            i++;
    }
    if (i + 1 != value->length || text[i] != 'Z')
        return false;

    memcpy(field, text, shape_length);
    field[shape_length] = 'Z';
    field[shape_length + 1] = '\0';
    return true;
}

/* Accepts a GUID in the 8-4-4-4-12 form, with or without braces, and writes it
 * in lower case without braces. */
static bool normalize_guid(const struct span *value, char *field, size_t size)
{
    const size_t guid_length = 36;
    const char *text = value->start;
    size_t length = value->length;

    if (length == guid_length + 2 && text[0] == '{' && text[length - 1] == '}') {
        text++;
        length -= 2;
    }
    if (length != guid_length || size < guid_length + 1)
        return false;

    for (size_t i = 0; i < guid_length; i++) {
        char c = text[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
            field[i] = c;
        } else if (c >= '0' && c <= '9') {
            field[i] = c;
        } else if (c >= 'a' && c <= 'f') {
            field[i] = c;
        } else if (c >= 'A' && c <= 'F') {
            field[i] = (char)(c - 'A' + 'a');
        } else {
            return false;
        }
    }
    field[guid_length] = '\0';
    return true;
}

bool da_repl_parse_xml(const char *value, size_t length, struct da_attribute_metadata *out)
{
    struct da_attribute_metadata parsed = {0};
    const char *nul = value == NULL ? NULL : memchr(value, '\0', length);
    struct span span;
    uint64_t number;

    if (value == NULL || out == NULL)
        return false;
    if (nul != NULL)
        length = (size_t)(nul - value);

    if (!find_element(value, length, "pszAttributeName", &span) || span.length == 0 ||
        !copy_span(&span, parsed.attribute, sizeof(parsed.attribute)))
        return false;

    if (!find_element(value, length, "dwVersion", &span) ||
        !parse_unsigned(&span, UINT32_MAX, &number))
        return false;
    parsed.version = (uint32_t)number;

    if (!find_element(value, length, "ftimeLastOriginatingChange", &span) ||
        !normalize_time(&span, parsed.originating_time, sizeof(parsed.originating_time)))
        return false;

    if (!find_element(value, length, "uuidLastOriginatingDsaInvocationID", &span) ||
        !normalize_guid(&span, parsed.originating_invocation_id,
                        sizeof(parsed.originating_invocation_id)))
        return false;

    if (!find_element(value, length, "usnOriginatingChange", &span) ||
        !parse_unsigned(&span, UINT64_MAX, &parsed.originating_usn))
        return false;

    if (!find_element(value, length, "usnLocalChange", &span) ||
        !parse_unsigned(&span, UINT64_MAX, &parsed.local_usn))
        return false;

    /* Optional: absent when the originating DSA is unknown. */
    if (find_element(value, length, "pszLastOriginatingDsaDN", &span) &&
        !copy_span(&span, parsed.originating_dsa_dn, sizeof(parsed.originating_dsa_dn)))
        return false;

    *out = parsed;
    return true;
}

enum {
    BLOB_HEADER_SIZE = 16,
    BLOB_ENTRY_SIZE = 48,
};

static uint32_t read_le32(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
           (uint32_t)bytes[3] << 24;
}

static uint64_t read_le64(const unsigned char *bytes)
{
    return (uint64_t)read_le32(bytes) | (uint64_t)read_le32(bytes + 4) << 32;
}

static bool is_leap_year(unsigned year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Writes seconds since 1601-01-01 UTC as "YYYY-MM-DDTHH:MM:SSZ". The origin
 * starts a 400-year Gregorian cycle, so the date falls out of counting whole
 * cycles, centuries, four-year blocks and years, each leap day sitting at the
 * end of its block. Years past 9999 are rejected. */
bool da_repl_format_seconds_since_1601(uint64_t seconds, char *field, size_t size)
{
    static const unsigned month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const uint64_t days_per_400_years = 146097;
    const uint64_t days_per_100_years = 36524;
    const uint64_t days_per_4_years = 1461;
    uint64_t days = seconds / 86400;
    unsigned second_of_day = (unsigned)(seconds % 86400);
    uint64_t blocks;
    uint64_t year = 1601;
    unsigned month = 0;
    int written;

    year += 400 * (days / days_per_400_years);
    days %= days_per_400_years;
    blocks = days / days_per_100_years;
    if (blocks > 3)
        blocks = 3;
    year += 100 * blocks;
    days -= blocks * days_per_100_years;
    year += 4 * (days / days_per_4_years);
    days %= days_per_4_years;
    blocks = days / 365;
    if (blocks > 3)
        blocks = 3;
    year += blocks;
    days -= blocks * 365;
    if (year > 9999)
        return false;

    for (month = 0; month < 12; month++) {
        unsigned length = month_days[month] + (month == 1 && is_leap_year((unsigned)year));

        if (days < length)
            break;
        days -= length;
    }

    written = snprintf(field, size, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)year, month + 1,
                       (unsigned)days + 1, second_of_day / 3600, second_of_day / 60 % 60,
                       second_of_day % 60);
    return written > 0 && (size_t)written < size;
}

/* Writes a GUID stored like objectGUID: the first three groups little-endian,
 * the last eight bytes in order. */
static void format_guid(const unsigned char *bytes, char *field, size_t size)
{
    snprintf(field, size, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             (unsigned)read_le32(bytes), (unsigned)(bytes[4] | bytes[5] << 8),
             (unsigned)(bytes[6] | bytes[7] << 8), bytes[8], bytes[9], bytes[10], bytes[11],
             bytes[12], bytes[13], bytes[14], bytes[15]);
}

int da_repl_find_binary(const unsigned char *blob, size_t length, uint32_t attid,
                        struct da_attribute_metadata *out)
{
    struct da_attribute_metadata found = {0};
    uint32_t count;

    if (blob == NULL || out == NULL || length < BLOB_HEADER_SIZE)
        return -1;
    if (read_le32(blob) != 1)
        return -1;
    count = read_le32(blob + 8);
    /* Bounding count first keeps 16 + 48 * count from overflowing. */
    if (count > (length - BLOB_HEADER_SIZE) / BLOB_ENTRY_SIZE)
        return -1;
    if (length != BLOB_HEADER_SIZE + (size_t)BLOB_ENTRY_SIZE * count)
        return -1;

    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *entry = blob + BLOB_HEADER_SIZE + (size_t)BLOB_ENTRY_SIZE * i;

        if (read_le32(entry) != attid)
            continue;

        found.attid = attid;
        found.version = read_le32(entry + 4);
        /* A time past year 9999 cannot be written in the field's format. */
        if (!da_repl_format_seconds_since_1601(read_le64(entry + 8), found.originating_time,
                                       sizeof(found.originating_time)))
            return -1;
        format_guid(entry + 16, found.originating_invocation_id,
                    sizeof(found.originating_invocation_id));
        found.originating_usn = read_le64(entry + 32);
        found.local_usn = read_le64(entry + 40);
        *out = found;
        return 1;
    }
    return 0;
}
