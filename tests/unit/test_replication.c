/* Replication metadata: msDS-ReplAttributeMetaData XML as Windows DCs write it
 * (raw '&' in DNs, trailing NUL, CRLF) and replPropertyMetaData blobs built
 * here byte by byte, valid and damaged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldap/replication.h"

#define DSA_DN                                                                                     \
    "CN=NTDS Settings,CN=DC1,CN=Servers,CN=A&B Site,CN=Sites,CN=Configuration,DC=contoso,DC=test"

/* The metadata of msDS-AllowedToDelegateTo, with "\n\t" or "\r\n\t" between elements. */
static char *make_xml(const char *newline, const char *version_element, const char *dsa_dn)
{
    static char text[2048];

    snprintf(
        text, sizeof(text),
        "<DS_REPL_ATTR_META_DATA>%s"
        "<pszAttributeName>msDS-AllowedToDelegateTo</pszAttributeName>%s"
        "%s%s"
        "<ftimeLastOriginatingChange>2026-12-04T19:51:00.0000000Z</ftimeLastOriginatingChange>%s"
        "<uuidLastOriginatingDsaInvocationID>6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B</"
        "uuidLastOriginatingDsaInvocationID>%s"
        "<usnOriginatingChange>41234</usnOriginatingChange>%s"
        "<usnLocalChange>41240</usnLocalChange>%s"
        "<pszLastOriginatingDsaDN>%s</pszLastOriginatingDsaDN>%s"
        "</DS_REPL_ATTR_META_DATA>%s",
        newline, newline, version_element, newline, newline, newline, newline, newline, dsa_dn,
        newline, newline);
    return text;
}

static const char version_3[] = "<dwVersion>3</dwVersion>";

static void check_parsed_xml(const struct da_attribute_metadata *meta)
{
    assert_string_equal(meta->attribute, "msDS-AllowedToDelegateTo");
    assert_int_equal(meta->attid, 0);
    assert_int_equal(meta->version, 3);
    assert_string_equal(meta->originating_time, "2026-12-04T19:51:00Z");
    assert_string_equal(meta->originating_invocation_id, "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
    assert_int_equal(meta->originating_usn, 41234);
    assert_int_equal(meta->local_usn, 41240);
    assert_string_equal(meta->originating_dsa_dn, DSA_DN);
}

/* Parses a copy of exactly length bytes, so that AddressSanitizer catches any
 * read past length. */
static bool parse_exact_copy(const char *text, size_t length, struct da_attribute_metadata *meta)
{
    char *copy = malloc(length);
    bool parsed;

    assert_non_null(copy);
    memcpy(copy, text, length);
    parsed = da_repl_parse_xml(copy, length, meta);
    free(copy);
    return parsed;
}

static void xml_keeps_raw_ampersand(void **state)
{
    const char *xml = make_xml("\n\t", version_3, DSA_DN);
    struct da_attribute_metadata meta;

    assert_true(parse_exact_copy(xml, strlen(xml), &meta));
    check_parsed_xml(&meta);
    assert_non_null(strstr(meta.originating_dsa_dn, "A&B Site"));
}

static void xml_stops_at_trailing_nul(void **state)
{
    const char *xml = make_xml("\n\t", version_3, DSA_DN);
    size_t length = strlen(xml);
    char *buffer = malloc(length + 1);
    const char *missing_version;
    size_t missing_length;
    char joined[4096];
    struct da_attribute_metadata meta;

    assert_non_null(buffer);
    memcpy(buffer, xml, length);
    buffer[length] = '\0';
    assert_true(da_repl_parse_xml(buffer, length + 1, &meta));
    check_parsed_xml(&meta);
    free(buffer);

    /* An element after the NUL does not count. make_xml reuses its buffer,
     * so xml is no longer valid from here on. */
    missing_version = make_xml("\n\t", "", DSA_DN);
    missing_length = strlen(missing_version);
    memcpy(joined, missing_version, missing_length);
    joined[missing_length] = '\0';
    memcpy(joined + missing_length + 1, version_3, sizeof(version_3));
    assert_false(da_repl_parse_xml(joined, missing_length + sizeof(version_3), &meta));
}

static void xml_accepts_crlf_and_tabs(void **state)
{
    const char *xml = make_xml("\r\n\t", "<dwVersion>\t3\r\n</dwVersion>", DSA_DN);
    struct da_attribute_metadata meta;

    assert_true(da_repl_parse_xml(xml, strlen(xml), &meta));
    check_parsed_xml(&meta);
}

static void xml_without_version_is_invalid(void **state)
{
    const char *xml = make_xml("\n\t", "", DSA_DN);
    struct da_attribute_metadata meta;

    assert_false(da_repl_parse_xml(xml, strlen(xml), &meta));
}

static void xml_with_bad_values_is_invalid(void **state)
{
    const char *xml = make_xml("\n\t", "<dwVersion>4294967296</dwVersion>", DSA_DN);
    struct da_attribute_metadata meta;

    assert_false(da_repl_parse_xml(xml, strlen(xml), &meta));
    xml = make_xml("\n\t", "<dwVersion>-3</dwVersion>", DSA_DN);
    assert_false(da_repl_parse_xml(xml, strlen(xml), &meta));
    xml = make_xml("\n\t", "<dwVersion></dwVersion>", DSA_DN);
    assert_false(da_repl_parse_xml(xml, strlen(xml), &meta));
}

static void xml_value_too_long_is_invalid(void **state)
{
    char long_dn[600];
    const char *xml;
    struct da_attribute_metadata meta;

    memset(long_dn, 'A', sizeof(long_dn) - 1);
    long_dn[sizeof(long_dn) - 1] = '\0';
    xml = make_xml("\n\t", version_3, long_dn);
    assert_false(da_repl_parse_xml(xml, strlen(xml), &meta));

    /* 511 bytes is the longest DN that fits with its NUL. */
    long_dn[511] = '\0';
    xml = make_xml("\n\t", version_3, long_dn);
    assert_true(da_repl_parse_xml(xml, strlen(xml), &meta));
    assert_int_equal(strlen(meta.originating_dsa_dn), 511);
}

static void xml_without_dsa_dn_is_valid(void **state)
{
    const char *xml = make_xml("\n\t", version_3, DSA_DN);
    char *copy = strdup(xml);
    char *start = strstr(copy, "<pszLastOriginatingDsaDN>");
    char *end = strstr(copy, "</pszLastOriginatingDsaDN>");
    struct da_attribute_metadata meta;

    assert_non_null(copy);
    end += strlen("</pszLastOriginatingDsaDN>");
    memmove(start, end, strlen(end) + 1);
    assert_true(da_repl_parse_xml(copy, strlen(copy), &meta));
    assert_string_equal(meta.originating_dsa_dn, "");
    assert_int_equal(meta.local_usn, 41240);
    free(copy);
}

static void xml_truncated_is_invalid(void **state)
{
    const char *xml = make_xml("\n\t", version_3, DSA_DN);
    const char *cut = strstr(xml, "<usnLocalChange>41240</");
    struct da_attribute_metadata meta;

    assert_non_null(cut);
    /* Ends inside usnLocalChange, before its end tag. */
    assert_false(parse_exact_copy(xml, (size_t)(cut - xml) + strlen("<usnLocalChange>412"), &meta));
    /* Ends inside the end tag itself. */
    assert_false(
        parse_exact_copy(xml, (size_t)(cut - xml) + strlen("<usnLocalChange>41240</usn"), &meta));
}

static void xml_rejects_malformed_time_and_guid(void **state)
{
    static const char *const bad_times[] = {
        "2026-12-04 19:51:00Z",  "2026-12-04T19:51:00",       "2026-13-04T19:51:00Z",
        "2026-12-04T19:51:00.Z", "2026-12-04T19:51:00.00x0Z", "2026-12-04T19:51Z",
    };
    const char *xml = make_xml("\n\t", version_3, DSA_DN);
    const char *good_time = "2026-12-04T19:51:00.0000000Z";
    struct da_attribute_metadata meta;

    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        char text[2048];
        const char *at = strstr(xml, good_time);

        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - xml), xml, bad_times[i],
                 at + strlen(good_time));
        if (da_repl_parse_xml(text, strlen(text), &meta))
            fail_msg("time \"%s\" was accepted", bad_times[i]);
    }

    {
        char text[2048];
        const char *guid = "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B";
        const char *at = strstr(xml, guid);

        snprintf(text, sizeof(text), "%.*s{%s}%s", (int)(at - xml), xml,
                 "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", at + strlen(guid));
        assert_true(da_repl_parse_xml(text, strlen(text), &meta));
        assert_string_equal(meta.originating_invocation_id, "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - xml), xml,
                 "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4g", at + strlen(guid));
        assert_false(da_repl_parse_xml(text, strlen(text), &meta));
    }
}

/* Seconds between 1601-01-01 and a UTC date, by counting days year by year. */
static uint64_t seconds_since_1601_by_counting(int year, int month, int day, int hour, int minute,
                                               int second)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    uint64_t days = 0;

    for (int y = 1601; y < year; y++)
        days += ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 366 : 365;
    for (int m = 1; m < month; m++)
        days +=
            month_days[m - 1] + (m == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0));
    days += (uint64_t)(day - 1);
    return days * 86400 + (uint64_t)hour * 3600 + (uint64_t)minute * 60 + (uint64_t)second;
}

/* The same by the C library: Unix time plus the 369 years from 1601 to 1970. */
static uint64_t seconds_since_1601_by_timegm(int year, int month, int day, int hour, int minute,
                                             int second)
{
    struct tm tm = {0};

    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return (uint64_t)((int64_t)timegm(&tm) + INT64_C(11644473600));
}

static void put_le32(unsigned char *at, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        at[i] = (unsigned char)(value >> (8 * i));
}

static void put_le64(unsigned char *at, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        at[i] = (unsigned char)(value >> (8 * i));
}

/* GUID 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b in objectGUID byte order. */
static const unsigned char invocation_id_bytes[16] = {
    0x3b, 0x2a, 0x1c, 0x6f, 0x5e, 0x4d, 0x60, 0x4f, 0x8a, 0x7b, 0x9c, 0x0d, 0x1e, 0x2f, 0x3a, 0x4b,
};

static void put_entry(unsigned char *entry, uint32_t attid, uint32_t version, uint64_t time,
                      uint64_t originating_usn, uint64_t local_usn)
{
    put_le32(entry, attid);
    put_le32(entry + 4, version);
    put_le64(entry + 8, time);
    memcpy(entry + 16, invocation_id_bytes, sizeof(invocation_id_bytes));
    put_le64(entry + 32, originating_usn);
    put_le64(entry + 40, local_usn);
}

/* A header and two entries: objectClass (attid 0) first, then msDS-AllowedToDelegateTo. */
static size_t make_blob(unsigned char blob[16 + 2 * 48])
{
    memset(blob, 0, 16 + 2 * 48);
    put_le32(blob, 1);
    put_le32(blob + 8, 2);
    put_entry(blob + 16, 0x00000000u, 1, seconds_since_1601_by_counting(2026, 1, 2, 3, 4, 5), 100,
              100);
    put_entry(blob + 16 + 48, DA_ATTID_ALLOWED_TO_DELEGATE_TO, 3,
              seconds_since_1601_by_counting(2026, 12, 4, 19, 51, 0), 41234,
              UINT64_C(0x1122334455667788));
    return 16 + 2 * 48;
}

static void helpers_agree_on_seconds_since_1601(void **state)
{
    assert_int_equal(seconds_since_1601_by_counting(2026, 12, 4, 19, 51, 0),
                     seconds_since_1601_by_timegm(2026, 12, 4, 19, 51, 0));
    /* A third figure, from Python's datetime arithmetic. */
    assert_int_equal(seconds_since_1601_by_counting(2026, 12, 4, 19, 51, 0), UINT64_C(13440887460));
    assert_int_equal(seconds_since_1601_by_counting(1970, 1, 1, 0, 0, 0), UINT64_C(11644473600));
    assert_int_equal(seconds_since_1601_by_counting(2000, 12, 31, 23, 59, 59),
                     seconds_since_1601_by_timegm(2000, 12, 31, 23, 59, 59));
}

static void binary_finds_second_entry(void **state)
{
    unsigned char blob[16 + 2 * 48];
    size_t length = make_blob(blob);
    struct da_attribute_metadata meta;

    assert_int_equal(da_repl_find_binary(blob, length, DA_ATTID_ALLOWED_TO_DELEGATE_TO, &meta), 1);
    assert_string_equal(meta.attribute, "");
    assert_int_equal(meta.attid, 0x000906fbu);
    assert_int_equal(meta.version, 3);
    assert_string_equal(meta.originating_time, "2026-12-04T19:51:00Z");
    assert_string_equal(meta.originating_invocation_id, "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
    assert_int_equal(meta.originating_usn, 41234);
    assert_int_equal(meta.local_usn, UINT64_C(0x1122334455667788));
    assert_string_equal(meta.originating_dsa_dn, "");
}

static void binary_finds_first_entry(void **state)
{
    unsigned char blob[16 + 2 * 48];
    size_t length = make_blob(blob);
    struct da_attribute_metadata meta;

    assert_int_equal(da_repl_find_binary(blob, length, 0, &meta), 1);
    assert_int_equal(meta.version, 1);
    assert_string_equal(meta.originating_time, "2026-01-02T03:04:05Z");
}

/* Checks every day from 1601 to 2400 at 23:59:59 against the date given to the
 * counting helper. The range crosses every kind of leap year and century. */
static void binary_converts_every_day(void **state)
{
    unsigned char blob[16 + 48];
    struct da_attribute_metadata meta;
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    memset(blob, 0, sizeof(blob));
    put_le32(blob, 1);
    put_le32(blob + 8, 1);
    for (int year = 1601; year <= 2400; year++) {
        bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

        for (int month = 1; month <= 12; month++) {
            int last = month_days[month - 1] + (month == 2 && leap);

            for (int day = 1; day <= last; day++) {
                char expected[32];

                put_entry(blob + 16, 7, 1,
                          seconds_since_1601_by_counting(year, month, day, 23, 59, 59), 1, 1);
                snprintf(expected, sizeof(expected), "%04d-%02d-%02dT23:59:59Z", year, month, day);
                if (da_repl_find_binary(blob, sizeof(blob), 7, &meta) != 1 ||
                    strcmp(meta.originating_time, expected) != 0)
                    fail_msg("expected %s, got %s", expected, meta.originating_time);
            }
        }
    }
}

static void binary_time_after_9999_is_invalid(void **state)
{
    unsigned char blob[16 + 48];
    struct da_attribute_metadata meta;

    memset(blob, 0, sizeof(blob));
    put_le32(blob, 1);
    put_le32(blob + 8, 1);
    put_entry(blob + 16, 7, 1, seconds_since_1601_by_counting(9999, 12, 31, 23, 59, 59), 1, 1);
    assert_int_equal(da_repl_find_binary(blob, sizeof(blob), 7, &meta), 1);
    assert_string_equal(meta.originating_time, "9999-12-31T23:59:59Z");
    put_entry(blob + 16, 7, 1, seconds_since_1601_by_counting(10000, 1, 1, 0, 0, 0), 1, 1);
    assert_int_equal(da_repl_find_binary(blob, sizeof(blob), 7, &meta), -1);
    /* A negative int64 time. */
    put_entry(blob + 16, 7, 1, UINT64_MAX, 1, 1);
    assert_int_equal(da_repl_find_binary(blob, sizeof(blob), 7, &meta), -1);
}

static void binary_unknown_attid_is_absent(void **state)
{
    unsigned char blob[16 + 2 * 48];
    size_t length = make_blob(blob);
    struct da_attribute_metadata meta;

    assert_int_equal(da_repl_find_binary(blob, length, 0x00090001u, &meta), 0);
}

static void binary_header_only_is_empty(void **state)
{
    unsigned char blob[16] = {1};
    struct da_attribute_metadata meta;

    assert_int_equal(da_repl_find_binary(blob, sizeof(blob), 0, &meta), 0);
}

/* Copies the first length bytes to a buffer of exactly that size, so that
 * AddressSanitizer catches any read past length. */
static int find_in_exact_copy(const unsigned char *blob, size_t length, uint32_t attid)
{
    unsigned char *copy = malloc(length == 0 ? 1 : length);
    struct da_attribute_metadata meta;
    int found;

    assert_non_null(copy);
    memcpy(copy, blob, length);
    found = da_repl_find_binary(copy, length, attid, &meta);
    free(copy);
    return found;
}

static void binary_one_byte_short_is_invalid(void **state)
{
    unsigned char blob[16 + 2 * 48];
    size_t length = make_blob(blob);

    assert_int_equal(find_in_exact_copy(blob, length - 1, DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
}

static void binary_one_byte_long_is_invalid(void **state)
{
    unsigned char blob[16 + 2 * 48 + 1];
    size_t length = make_blob(blob);

    blob[length] = 0;
    assert_int_equal(find_in_exact_copy(blob, length + 1, DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
}

static void binary_count_beyond_blob_is_invalid(void **state)
{
    unsigned char blob[16 + 2 * 48];
    size_t length = make_blob(blob);

    put_le32(blob + 8, 3);
    assert_int_equal(find_in_exact_copy(blob, length, DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
}

static void binary_version_2_is_invalid(void **state)
{
    unsigned char blob[16 + 2 * 48];
    size_t length = make_blob(blob);

    put_le32(blob, 2);
    assert_int_equal(find_in_exact_copy(blob, length, DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
}

static void binary_length_15_is_invalid(void **state)
{
    unsigned char blob[16 + 2 * 48];

    make_blob(blob);
    assert_int_equal(find_in_exact_copy(blob, 15, DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
    assert_int_equal(find_in_exact_copy(blob, 0, DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
}

static void binary_huge_count_is_invalid(void **state)
{
    unsigned char blob[16 + 2 * 48];

    make_blob(blob);
    put_le32(blob + 8, 0xffffffffu);
    /* Only the header is present: reading any entry would overflow the copy. */
    assert_int_equal(find_in_exact_copy(blob, 16, DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
    assert_int_equal(find_in_exact_copy(blob, sizeof(blob), DA_ATTID_ALLOWED_TO_DELEGATE_TO), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xml_keeps_raw_ampersand),
        cmocka_unit_test(xml_stops_at_trailing_nul),
        cmocka_unit_test(xml_accepts_crlf_and_tabs),
        cmocka_unit_test(xml_without_version_is_invalid),
        cmocka_unit_test(xml_with_bad_values_is_invalid),
        cmocka_unit_test(xml_value_too_long_is_invalid),
        cmocka_unit_test(xml_without_dsa_dn_is_valid),
        cmocka_unit_test(xml_truncated_is_invalid),
        cmocka_unit_test(xml_rejects_malformed_time_and_guid),
        cmocka_unit_test(helpers_agree_on_seconds_since_1601),
        cmocka_unit_test(binary_finds_second_entry),
        cmocka_unit_test(binary_finds_first_entry),
        cmocka_unit_test(binary_converts_every_day),
        cmocka_unit_test(binary_time_after_9999_is_invalid),
        cmocka_unit_test(binary_unknown_attid_is_absent),
        cmocka_unit_test(binary_header_only_is_empty),
        cmocka_unit_test(binary_one_byte_short_is_invalid),
        cmocka_unit_test(binary_one_byte_long_is_invalid),
        cmocka_unit_test(binary_count_beyond_blob_is_invalid),
        cmocka_unit_test(binary_version_2_is_invalid),
        cmocka_unit_test(binary_length_15_is_invalid),
        cmocka_unit_test(binary_huge_count_is_invalid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
