/* Unit tests of event normalization (da_event_build and the value parsers)
 * and of format detection, on fixtures in tests/data/events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/events/event.h"
#include "auditor/events/reader.h"

#define FIXTURE_DIR DA_TEST_DATA_DIR "/events"

#define DOMAIN_SID "S-1-5-21-1004336348-1177238915-682003330"

/* ---- Helpers ----------------------------------------------------------------------------- */

#define RAW_EVENT(id, time, pairs)                                                                 \
    ((struct da_raw_event){.event_id = (id),                                                      \
                           .time_created = (time),                                                \
                           .computer = "dc1.contoso.test",                                        \
                           .record_id = "4711",                                                   \
                           .fields = (pairs),                                                     \
                           .field_count = sizeof(pairs) / sizeof((pairs)[0])})

static enum da_event_build_result build(const struct da_raw_event *raw, struct da_event *event,
                                        char *problem, size_t problem_size)
{
    return da_event_build(raw, "security.xml", 17, event, problem, problem_size);
}

/* ---- Value parsers ----------------------------------------------------------------------- */

static void logon_id_hex_ignores_case(void **state)
{
    uint64_t upper = 0;
    uint64_t lower = 0;

    assert_true(da_event_parse_logon_id("0x3E7", &upper));
    assert_true(da_event_parse_logon_id("0x3e7", &lower));
    assert_int_equal(upper, 0x3e7);
    assert_int_equal(lower, upper);
}

static void logon_id_decimal_and_limits(void **state)
{
    uint64_t value = 0;

    assert_true(da_event_parse_logon_id("999", &value));
    assert_int_equal(value, 999);
    assert_true(da_event_parse_logon_id("0xFFFFFFFFFFFFFFFF", &value));
    assert_true(value == UINT64_MAX);
    assert_true(da_event_parse_logon_id("0x00000000000000000001", &value));
    assert_int_equal(value, 1);
    assert_true(da_event_parse_logon_id("18446744073709551615", &value));
    assert_true(value == UINT64_MAX);

    assert_false(da_event_parse_logon_id("18446744073709551616", &value));
    assert_false(da_event_parse_logon_id("0x10000000000000000", &value));
    assert_false(da_event_parse_logon_id("0x", &value));
    assert_false(da_event_parse_logon_id("", &value));
    assert_false(da_event_parse_logon_id("-", &value));
    assert_false(da_event_parse_logon_id("0x3E7 ", &value));
    assert_false(da_event_parse_logon_id("-1", &value));
    assert_false(da_event_parse_logon_id(NULL, &value));
}

static void check_time(const char *input, const char *expected)
{
    char *normalized = da_event_normalize_time(input);

    if (expected == NULL) {
        if (normalized != NULL)
            fail_msg("\"%s\" became \"%s\", expected rejection", input ? input : "(null)",
                     normalized);
        return;
    }
    if (normalized == NULL)
        fail_msg("\"%s\" was rejected, expected \"%s\"", input, expected);
    assert_string_equal(normalized, expected);
    free(normalized);
}

static void time_keeps_fraction_in_utc(void **state)
{
    check_time("2026-12-04T19:51:00.1234567Z", "2026-12-04T19:51:00.1234567Z");
    check_time("2026-12-04T20:51:00.123+01:00", "2026-12-04T19:51:00.123Z");
    check_time("2026-12-04T19:51:00.123456789Z", "2026-12-04T19:51:00.123456789Z");
    check_time("2026-12-04T19:51:00Z", "2026-12-04T19:51:00Z");
    check_time("2026-12-04 19:51:00z", "2026-12-04T19:51:00Z");
}

static void time_offsets_cross_dates(void **state)
{
    check_time("2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00Z");
    check_time("2027-01-01T00:30:00.5+0100", "2026-12-31T23:30:00.5Z");
    check_time("2028-03-01T00:00:00+00:01", "2028-02-29T23:59:00Z");
    check_time("2026-03-01T00:00:00+00:01", "2026-02-28T23:59:00Z");
    check_time("2000-02-29T12:00:00+05:30", "2000-02-29T06:30:00Z");
}

static void time_rejects_invalid(void **state)
{
    check_time("2026-12-04T19:51:00", NULL);     /* no offset */
    check_time("2026-12-04T19:51:00.Z", NULL);
    check_time("2026-12-04T19:51:00.1234567890Z", NULL);
    check_time("2026-13-04T19:51:00Z", NULL);
    check_time("2026-02-29T19:51:00Z", NULL);
    check_time("2026-12-04T24:00:00Z", NULL);
    check_time("2026-12-04T19:51:60Z", NULL);
    check_time("2026-12-04T19:51:00+24:00", NULL);
    check_time("2026-12-04T19:51:00Zjunk", NULL);
    check_time("12/04/2026 19:51:00", NULL);
    check_time("", NULL);
    check_time(NULL, NULL);
}

static void sid_upper_case_prefix(void **state)
{
    char *sid = da_event_normalize_sid("s-1-5-21-1004336348-1177238915-682003330-1105");

    assert_non_null(sid);
    assert_string_equal(sid, DOMAIN_SID "-1105");
    free(sid);

    sid = da_event_normalize_sid("S-1-5-18");
    assert_non_null(sid);
    assert_string_equal(sid, "S-1-5-18");
    free(sid);

    sid = da_event_normalize_sid("S-1-0-0");
    assert_non_null(sid);
    assert_string_equal(sid, "S-1-0-0");
    free(sid);
}

static void sid_rejects_invalid(void **state)
{
    static const char *const bad[] = {
        "", "S-", "S-1", "S-1-", "S-1-5-", "S-1--5", "X-1-5-18", "S-1-5-18 ", "{S-1-5-18}",
        "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "S-1-5-1234567890123456", "CONTOSO\\bob",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *sid = da_event_normalize_sid(bad[i]);

        if (sid != NULL)
            fail_msg("\"%s\" was accepted as \"%s\"", bad[i], sid);
    }
    assert_null(da_event_normalize_sid(NULL));
}

static void guid_lower_case_without_braces(void **state)
{
    char *guid = da_event_normalize_guid("{6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F607}");

    assert_non_null(guid);
    assert_string_equal(guid, "6f1c2b9a-3d4e-4f50-8a61-b2c3d4e5f607");
    free(guid);

    guid = da_event_normalize_guid("6f1c2b9a-3D4E-4f50-8a61-b2c3d4e5f607");
    assert_non_null(guid);
    assert_string_equal(guid, "6f1c2b9a-3d4e-4f50-8a61-b2c3d4e5f607");
    free(guid);
}

static void guid_rejects_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "{6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F607",
        "6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F607}",
        "6F1C2B9A3D4E4F508A61B2C3D4E5F607",
        "6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F60G",
        "6F1C2B9A-3D4E-4F50-8A61B-2C3D4E5F607",
        "-",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *guid = da_event_normalize_guid(bad[i]);

        if (guid != NULL)
            fail_msg("\"%s\" was accepted as \"%s\"", bad[i], guid);
    }
    assert_null(da_event_normalize_guid(NULL));
}

/* ---- da_event_build ---------------------------------------------------------------------- */

static void user_changed_krbtgt_protocol_transition(void **state)
{
    const struct da_event_field fields[] = {
        {"TargetUserName", "svc-backup"},
        {"TargetDomainName", "CONTOSO"},
        {"TargetSid", "s-1-5-21-1004336348-1177238915-682003330-1105"},
        {"SubjectUserSid", DOMAIN_SID "-500"},
        {"SubjectUserName", "Administrator"},
        {"SubjectDomainName", "CONTOSO"},
        {"SubjectLogonId", "0x4F2A1"},
        {"AllowedToDelegateTo", "krbtgt/CONTOSO.TEST"},
        {"OldUacValue", "0x210"},
        {"NewUacValue", "0x1000210"},
    };
    struct da_raw_event raw = RAW_EVENT(4738, "2026-12-04T20:51:00.123+01:00", fields);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_KEPT);
    assert_int_equal(event.event_id, 4738);
    assert_string_equal(event.time, "2026-12-04T19:51:00.123Z");
    assert_string_equal(event.computer, "dc1.contoso.test");
    assert_true(event.has_record_id);
    assert_int_equal(event.record_id, 4711);
    assert_string_equal(event.source_file, "security.xml");
    assert_int_equal(event.source_position, 17);
    assert_string_equal(event.target_sid, DOMAIN_SID "-1105");
    assert_string_equal(event.target_user_name, "svc-backup");
    assert_string_equal(event.target_domain_name, "CONTOSO");
    assert_string_equal(event.subject_sid, DOMAIN_SID "-500");
    assert_string_equal(event.subject_user_name, "Administrator");
    assert_string_equal(event.subject_domain_name, "CONTOSO");
    assert_true(event.has_subject_logon_id);
    assert_int_equal(event.subject_logon_id, 0x4f2a1);
    assert_int_equal(event.delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_int_equal(event.allowed_to_delegate_to.count, 1);
    assert_string_equal(event.allowed_to_delegate_to.items[0], "krbtgt/CONTOSO.TEST");
    assert_true(event.has_uac_change);
    assert_int_equal(event.old_uac, 0x210);
    assert_int_equal(event.new_uac, 0x1000210);
    assert_null(event.object_guid);
    assert_false(event.has_target_logon_id);
    da_event_clear(&event);
}

static void computer_changed_splits_list(void **state)
{
    const struct da_event_field fields[] = {
        {"TargetUserName", "WEB01$"},
        {"TargetSid", DOMAIN_SID "-1108"},
        {"AllowedToDelegateTo",
         "\r\n\tcifs/fs01.contoso.test\r\n\t\tHTTP/web02.contoso.test \n\tKRBTGT/contoso.test\t\r\n"},
        {"OldUacValue", "0x1000"},
        {"NewUacValue", "-"},
    };
    struct da_raw_event raw = RAW_EVENT(4742, "2026-12-04T19:52:10Z", fields);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_KEPT);
    assert_int_equal(event.delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_int_equal(event.allowed_to_delegate_to.count, 3);
    assert_string_equal(event.allowed_to_delegate_to.items[0], "cifs/fs01.contoso.test");
    assert_string_equal(event.allowed_to_delegate_to.items[1], "HTTP/web02.contoso.test");
    assert_string_equal(event.allowed_to_delegate_to.items[2], "KRBTGT/contoso.test");
    /* One UAC value alone is no change that can be compared. */
    assert_false(event.has_uac_change);
    assert_null(event.subject_sid);
    assert_false(event.has_subject_logon_id);
    da_event_clear(&event);
}

static void delegate_list_states(void **state)
{
    static const struct {
        const char *value;
        enum da_delegate_list_state expected;
    } cases[] = {
        {"-", DA_DELEGATE_LIST_UNCHANGED},
        {"%%1793", DA_DELEGATE_LIST_CLEARED},
        {"<value not set>", DA_DELEGATE_LIST_CLEARED},
        {" %%1793\r\n", DA_DELEGATE_LIST_CLEARED},
        {"", DA_DELEGATE_LIST_CLEARED},
        {NULL, DA_DELEGATE_LIST_ABSENT},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct da_event_field fields[] = {
            {"TargetSid", DOMAIN_SID "-1110"},
            {cases[i].value != NULL ? "AllowedToDelegateTo" : "Dummy", cases[i].value},
        };
        struct da_raw_event raw = RAW_EVENT(4738, "2026-12-04T19:53:00Z", fields);
        struct da_event event;
        char problem[256];

        assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_KEPT);
        if (event.delegate_list_state != cases[i].expected)
            fail_msg("AllowedToDelegateTo \"%s\": state %d, expected %d",
                     cases[i].value ? cases[i].value : "(absent)", event.delegate_list_state,
                     cases[i].expected);
        assert_int_equal(event.allowed_to_delegate_to.count, 0);
        da_event_clear(&event);
    }
}

static void account_changed_requires_target_sid(void **state)
{
    const struct da_event_field fields[] = {
        {"TargetUserName", "dave"},
        {"AllowedToDelegateTo", "krbtgt/CONTOSO.TEST"},
    };
    struct da_raw_event raw = RAW_EVENT(4738, "2026-12-04T19:58:00Z", fields);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "TargetSid"));
    assert_non_null(strstr(problem, "4738"));
    /* Nothing is left to free after a malformed record. */
    assert_null(event.time);
    assert_null(event.target_user_name);
}

static void account_changed_rejects_bad_values(void **state)
{
    static const struct {
        const char *name;
        const char *value;
    } cases[] = {
        {"TargetSid", "CONTOSO\\dave"},
        {"TargetSid", "-"},
        {"OldUacValue", "528"},
        {"NewUacValue", "0x1zz"},
        {"NewUacValue", "0x100000000"},
        {"SubjectLogonId", "0xG"},
        {"SubjectUserSid", "nobody"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct da_event_field fields[] = {
            {"TargetSid", DOMAIN_SID "-1113"},
            {"OldUacValue", "0x10"},
            {"NewUacValue", "0x10"},
            {"SubjectLogonId", "0x3e7"},
            {"SubjectUserSid", "S-1-5-18"},
        };
        struct da_raw_event raw = RAW_EVENT(4742, "2026-12-04T19:58:00Z", fields);
        struct da_event event;
        char problem[256];

        /* Replace the one field under test with its bad value. */
        for (size_t j = 0; j < sizeof(fields) / sizeof(fields[0]); j++) {
            if (strcmp(fields[j].name, cases[i].name) == 0)
                fields[j].value = cases[i].value;
        }

        if (build(&raw, &event, problem, sizeof(problem)) != DA_EVENT_MALFORMED)
            fail_msg("%s \"%s\" was accepted", cases[i].name, cases[i].value);
        if (strstr(problem, cases[i].name) == NULL)
            fail_msg("problem \"%s\" does not name %s", problem, cases[i].name);
    }
}

static void kept_event_requires_valid_time(void **state)
{
    const struct da_event_field fields[] = {
        {"TargetSid", DOMAIN_SID "-1105"},
    };
    struct da_raw_event missing_time = RAW_EVENT(4738, NULL, fields);
    struct da_raw_event bad_time = RAW_EVENT(4738, "yesterday", fields);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&missing_time, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "TimeCreated"));
    assert_int_equal(build(&bad_time, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "TimeCreated"));
    assert_non_null(strstr(problem, "yesterday"));
}

static void invalid_record_id_is_malformed(void **state)
{
    const struct da_event_field fields[] = {
        {"TargetSid", DOMAIN_SID "-1105"},
    };
    struct da_raw_event raw = RAW_EVENT(4738, "2026-12-04T19:58:00Z", fields);
    struct da_event event;
    char problem[256];

    raw.record_id = "12a";
    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "EventRecordID"));

    raw.record_id = NULL;
    raw.computer = NULL;
    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_KEPT);
    assert_false(event.has_record_id);
    assert_null(event.computer);
    da_event_clear(&event);
}

static void object_modified_added_and_deleted(void **state)
{
    static const struct {
        const char *operation;
        enum da_directory_operation expected;
    } cases[] = {
        {"%%14674", DA_OPERATION_VALUE_ADDED},
        {"%%14675", DA_OPERATION_VALUE_DELETED},
        {"%%14676", DA_OPERATION_OTHER},
        {"-", DA_OPERATION_NONE},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct da_event_field fields[] = {
            {"SubjectUserSid", DOMAIN_SID "-500"},
            {"SubjectUserName", "Administrator"},
            {"SubjectDomainName", "CONTOSO"},
            {"SubjectLogonId", "0x4F2A1"},
            {"ObjectDN", "CN=svc-backup,OU=Service Accounts,DC=contoso,DC=test"},
            {"ObjectGUID", "{6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F607}"},
            {"ObjectClass", "user"},
            {"AttributeLDAPDisplayName", "msds-allowedtodelegateto"},
            {"AttributeValue", "krbtgt/CONTOSO.TEST"},
            {"OperationType", cases[i].operation},
            {"OpCorrelationID", "{0A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9}"},
        };
        struct da_raw_event raw = RAW_EVENT(5136, "2026-12-04T19:56:00.1Z", fields);
        struct da_event event;
        char problem[256];

        assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_KEPT);
        assert_int_equal(event.operation, cases[i].expected);
        assert_string_equal(event.object_dn,
                            "CN=svc-backup,OU=Service Accounts,DC=contoso,DC=test");
        assert_string_equal(event.object_guid, "6f1c2b9a-3d4e-4f50-8a61-b2c3d4e5f607");
        assert_string_equal(event.object_class, "user");
        assert_string_equal(event.attribute_name, "msds-allowedtodelegateto");
        assert_string_equal(event.attribute_value, "krbtgt/CONTOSO.TEST");
        assert_string_equal(event.correlation_id, "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9");
        assert_string_equal(event.subject_sid, DOMAIN_SID "-500");
        assert_string_equal(event.subject_user_name, "Administrator");
        assert_string_equal(event.subject_domain_name, "CONTOSO");
        assert_int_equal(event.subject_logon_id, 0x4f2a1);
        da_event_clear(&event);
    }
}

static void object_modified_keeps_four_attributes(void **state)
{
    static const struct {
        const char *attribute;
        enum da_event_build_result expected;
    } cases[] = {
        {"msDS-AllowedToDelegateTo", DA_EVENT_KEPT},
        {"USERACCOUNTCONTROL", DA_EVENT_KEPT},
        {"servicePrincipalName", DA_EVENT_KEPT},
        {"msDS-AllowedToActOnBehalfOfOtherIdentity", DA_EVENT_KEPT},
        {"description", DA_EVENT_SKIPPED},
        {"msDS-AllowedToDelegateToX", DA_EVENT_SKIPPED},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct da_event_field fields[] = {
            {"ObjectGUID", "{6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F607}"},
            {"AttributeLDAPDisplayName", cases[i].attribute},
        };
        struct da_raw_event raw = RAW_EVENT(5136, "2026-12-04T19:56:00Z", fields);
        struct da_event event;
        char problem[256];
        enum da_event_build_result result = build(&raw, &event, problem, sizeof(problem));

        if (result != cases[i].expected)
            fail_msg("%s: result %d, expected %d", cases[i].attribute, result,
                     cases[i].expected);
        /* The DN alone is not needed when the GUID is there. */
        if (result == DA_EVENT_KEPT)
            assert_null(event.object_dn);
        da_event_clear(&event);
    }
}

static void object_modified_requires_object(void **state)
{
    const struct da_event_field no_object[] = {
        {"AttributeLDAPDisplayName", "userAccountControl"},
        {"AttributeValue", "16777744"},
    };
    const struct da_event_field bad_guid[] = {
        {"ObjectGUID", "not-a-guid"},
        {"ObjectDN", "CN=x,DC=contoso,DC=test"},
        {"AttributeLDAPDisplayName", "userAccountControl"},
    };
    const struct da_event_field no_attribute[] = {
        {"ObjectGUID", "{6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F607}"},
    };
    struct da_raw_event raw_no_object = RAW_EVENT(5136, "2026-12-04T19:56:00Z", no_object);
    struct da_raw_event raw_bad_guid = RAW_EVENT(5136, "2026-12-04T19:56:00Z", bad_guid);
    struct da_raw_event raw_no_attribute = RAW_EVENT(5136, "2026-12-04T19:56:00Z", no_attribute);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw_no_object, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "ObjectGUID and ObjectDN"));
    assert_int_equal(build(&raw_bad_guid, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "ObjectGUID"));
    assert_non_null(strstr(problem, "not-a-guid"));
    assert_int_equal(build(&raw_no_attribute, &event, problem, sizeof(problem)),
                     DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "AttributeLDAPDisplayName"));
}

static void logon_target_becomes_subject(void **state)
{
    const struct da_event_field fields[] = {
        {"SubjectUserSid", "S-1-0-0"},
        {"SubjectUserName", "-"},
        {"SubjectLogonId", "0x0"},
        {"TargetUserSid", DOMAIN_SID "-1105"},
        {"TargetUserName", "svc-backup"},
        {"TargetDomainName", "CONTOSO.TEST"},
        {"TargetLogonId", "0x3E7A2B"},
        {"LogonType", "3"},
        {"LogonProcessName", "Kerberos  "},
        {"AuthenticationPackageName", "Kerberos"},
        {"WorkstationName", "-"},
        {"IpAddress", "192.0.2.10"},
        {"IpPort", "49832"},
    };
    struct da_raw_event raw = RAW_EVENT(4624, "2026-12-04T19:57:00.3Z", fields);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_KEPT);
    assert_string_equal(event.subject_sid, DOMAIN_SID "-1105");
    assert_string_equal(event.subject_user_name, "svc-backup");
    assert_string_equal(event.subject_domain_name, "CONTOSO.TEST");
    assert_false(event.has_subject_logon_id);
    assert_true(event.has_target_logon_id);
    assert_int_equal(event.target_logon_id, 0x3e7a2b);
    assert_int_equal(event.logon_type, 3);
    assert_string_equal(event.logon_process, "Kerberos");
    assert_string_equal(event.authentication_package, "Kerberos");
    assert_null(event.workstation_name);
    assert_string_equal(event.ip_address, "192.0.2.10");
    assert_string_equal(event.ip_port, "49832");
    assert_null(event.target_sid);
    da_event_clear(&event);
}

static void logon_requires_logon_id(void **state)
{
    const struct da_event_field no_id[] = {
        {"TargetUserSid", DOMAIN_SID "-1105"},
        {"LogonType", "3"},
    };
    const struct da_event_field bad_type[] = {
        {"TargetLogonId", "999"},
        {"LogonType", "network"},
    };
    struct da_raw_event raw_no_id = RAW_EVENT(4624, "2026-12-04T19:57:00Z", no_id);
    struct da_raw_event raw_bad_type = RAW_EVENT(4624, "2026-12-04T19:57:00Z", bad_type);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw_no_id, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "TargetLogonId"));
    assert_int_equal(build(&raw_bad_type, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "LogonType"));
}

static void explicit_credentials_fields(void **state)
{
    const struct da_event_field fields[] = {
        {"SubjectUserSid", DOMAIN_SID "-1105"},
        {"SubjectUserName", "svc-backup"},
        {"SubjectDomainName", "CONTOSO"},
        {"SubjectLogonId", "0x3e7a2b"},
        {"TargetUserName", "Administrator"},
        {"TargetDomainName", "CONTOSO.TEST"},
        {"TargetServerName", "dc1.contoso.test"},
        {"TargetInfo", "dc1.contoso.test"},
        {"IpAddress", "-"},
        {"IpPort", "-"},
    };
    const struct da_event_field no_logon_id[] = {
        {"SubjectUserSid", DOMAIN_SID "-1105"},
    };
    struct da_raw_event raw = RAW_EVENT(4648, "2026-12-04T19:57:01.4Z", fields);
    struct da_raw_event raw_no_id = RAW_EVENT(4648, "2026-12-04T19:57:01.4Z", no_logon_id);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_KEPT);
    assert_string_equal(event.subject_sid, DOMAIN_SID "-1105");
    assert_string_equal(event.subject_user_name, "svc-backup");
    assert_string_equal(event.subject_domain_name, "CONTOSO");
    assert_true(event.has_subject_logon_id);
    assert_int_equal(event.subject_logon_id, 0x3e7a2b);
    assert_string_equal(event.explicit_user_name, "Administrator");
    assert_string_equal(event.explicit_domain_name, "CONTOSO.TEST");
    assert_string_equal(event.target_server_name, "dc1.contoso.test");
    assert_string_equal(event.target_info, "dc1.contoso.test");
    assert_null(event.ip_address);
    assert_null(event.ip_port);
    assert_null(event.target_user_name);
    da_event_clear(&event);

    assert_int_equal(build(&raw_no_id, &event, problem, sizeof(problem)), DA_EVENT_MALFORMED);
    assert_non_null(strstr(problem, "SubjectLogonId"));
}

static void other_events_skipped(void **state)
{
    const struct da_event_field fields[] = {
        {"NewProcessName", "C:\\Windows\\System32\\cmd.exe"},
    };
    /* Not even the time is checked for an event of no interest. */
    struct da_raw_event raw = RAW_EVENT(4688, NULL, fields);
    struct da_event event;
    char problem[256];

    assert_int_equal(build(&raw, &event, problem, sizeof(problem)), DA_EVENT_SKIPPED);
    assert_null(event.time);
}

static void clear_accepts_null_and_empty(void **state)
{
    struct da_event event = {0};

    da_event_clear(NULL);
    da_event_clear(&event);
    da_event_clear(&event);
}

/* ---- Detection --------------------------------------------------------------------------- */

static void check_detected(const char *name, enum da_event_format expected)
{
    enum da_event_format format = DA_EVENT_FORMAT_UNKNOWN;
    struct da_error err = {0};
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, name);
    if (da_events_detect(path, &format, &err) != DA_OK)
        fail_msg("%s: %s", name, err.message);
    if (format != expected)
        fail_msg("%s detected as %s, expected %s", name, da_event_format_name(format),
                 da_event_format_name(expected));
}

static void detect_xml_forms(void **state)
{
    check_detected("wevtutil-delegation-events.xml", DA_EVENT_FORMAT_XML);
    check_detected("eventviewer-saved-4738-4742-4688.xml", DA_EVENT_FORMAT_XML);
    check_detected("eventviewer-saved-no-events.xml", DA_EVENT_FORMAT_XML);
    check_detected("getwinevent-toxml-4624-4648-5136.xml", DA_EVENT_FORMAT_XML);
    check_detected("powershell-utf16le-4624-4648-5136.xml", DA_EVENT_FORMAT_XML);
    check_detected("utf8-bom-4738-krbtgt.xml", DA_EVENT_FORMAT_XML);
    check_detected("truncated-inside-4742.xml", DA_EVENT_FORMAT_XML);
}

static void detect_json_lines_and_documents(void **state)
{
    check_detected("detect-two-lines.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    check_detected("detect-one-line-no-newline.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    check_detected("detect-nested-hits.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    check_detected("detect-utf8-bom.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    check_detected("detect-es-search-one-line.json", DA_EVENT_FORMAT_JSON);
    check_detected("detect-es-search-pretty.json", DA_EVENT_FORMAT_JSON);
    check_detected("detect-pretty-object.json", DA_EVENT_FORMAT_JSON);
    check_detected("detect-array.json", DA_EVENT_FORMAT_JSON);
}

static void detect_evtx_by_magic(void **state)
{
    check_detected("detect-magic-only.evtx", DA_EVENT_FORMAT_EVTX);
}

static void check_rejected(const char *name, const char *expected_text)
{
    enum da_event_format format = DA_EVENT_FORMAT_XML;
    struct da_error err = {0};
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, name);
    if (da_events_detect(path, &format, &err) != DA_ERR_USAGE)
        fail_msg("%s was not rejected as no export (format %s)", name,
                 da_event_format_name(format));
    assert_int_equal(format, DA_EVENT_FORMAT_UNKNOWN);
    if (strstr(err.message, name) == NULL)
        fail_msg("message \"%s\" does not name the file %s", err.message, name);
    if (strstr(err.message, expected_text) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", err.message, expected_text);
}

static void detect_rejects_other_files(void **state)
{
    check_rejected("not-an-export.html", "starts with \"<!DOCTYPE html>");
    check_rejected("not-an-export.csv", "starts with \"Keywords,Date and Time");
    check_rejected("not-an-export.png", "starts with \"\\x89PNG");
    check_rejected("empty-file.xml", "empty");
    check_rejected("whitespace-only.xml", "white space");
    check_rejected("utf16be-bom.xml", "big-endian");
}

static void detect_missing_file_is_local_error(void **state)
{
    enum da_event_format format = DA_EVENT_FORMAT_XML;
    struct da_error err = {0};

    assert_int_equal(da_events_detect(FIXTURE_DIR "/no-such-file.xml", &format, &err),
                     DA_ERR_LOCAL);
    assert_non_null(strstr(err.message, "no-such-file.xml"));
    assert_int_equal(format, DA_EVENT_FORMAT_UNKNOWN);
}

static void format_names_are_stable(void **state)
{
    assert_string_equal(da_event_format_name(DA_EVENT_FORMAT_XML), "xml");
    assert_string_equal(da_event_format_name(DA_EVENT_FORMAT_JSON_LINES), "json-lines");
    assert_string_equal(da_event_format_name(DA_EVENT_FORMAT_JSON), "json");
    assert_string_equal(da_event_format_name(DA_EVENT_FORMAT_EVTX), "evtx");
    assert_string_equal(da_event_format_name(DA_EVENT_FORMAT_UNKNOWN), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logon_id_hex_ignores_case),
        cmocka_unit_test(logon_id_decimal_and_limits),
        cmocka_unit_test(time_keeps_fraction_in_utc),
        cmocka_unit_test(time_offsets_cross_dates),
        cmocka_unit_test(time_rejects_invalid),
        cmocka_unit_test(sid_upper_case_prefix),
        cmocka_unit_test(sid_rejects_invalid),
        cmocka_unit_test(guid_lower_case_without_braces),
        cmocka_unit_test(guid_rejects_invalid),
        cmocka_unit_test(user_changed_krbtgt_protocol_transition),
        cmocka_unit_test(computer_changed_splits_list),
        cmocka_unit_test(delegate_list_states),
        cmocka_unit_test(account_changed_requires_target_sid),
        cmocka_unit_test(account_changed_rejects_bad_values),
        cmocka_unit_test(kept_event_requires_valid_time),
        cmocka_unit_test(invalid_record_id_is_malformed),
        cmocka_unit_test(object_modified_added_and_deleted),
        cmocka_unit_test(object_modified_keeps_four_attributes),
        cmocka_unit_test(object_modified_requires_object),
        cmocka_unit_test(logon_target_becomes_subject),
        cmocka_unit_test(logon_requires_logon_id),
        cmocka_unit_test(explicit_credentials_fields),
        cmocka_unit_test(other_events_skipped),
        cmocka_unit_test(clear_accepts_null_and_empty),
        cmocka_unit_test(detect_xml_forms),
        cmocka_unit_test(detect_json_lines_and_documents),
        cmocka_unit_test(detect_evtx_by_magic),
        cmocka_unit_test(detect_rejects_other_files),
        cmocka_unit_test(detect_missing_file_is_local_error),
        cmocka_unit_test(format_names_are_stable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
