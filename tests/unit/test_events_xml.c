/* Unit tests of the XML reader: the wevtutil, Event Viewer and Get-WinEvent
 * forms, UTF-16LE input, damaged and truncated files, and elements that
 * cross read blocks. Fixtures are in tests/data/events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditor/events/reader.h"
#include "auditor/events/xml.h"

#define FIXTURE_DIR DA_TEST_DATA_DIR "/events"

#define DOMAIN_SID "S-1-5-21-1004336348-1177238915-682003330"
#define EVENT_XMLNS "xmlns='http://schemas.microsoft.com/win/2004/08/events/event'"

/* ---- Collecting what the reader reports -------------------------------------------------- */

struct problem {
    char *file;
    char *position_kind;
    unsigned long position;
    char *message;
};

struct collected {
    struct da_event events[64];
    size_t event_count;
    struct problem problems[16];
    size_t problem_count;
    int stop_after; /* on_event returns DA_ERR_LOCAL after this many; 0 never */
};

static char *copy_text(const char *text)
{
    char *copy = NULL;

    if (text == NULL)
        return NULL;
    copy = strdup(text);
    assert_non_null(copy);
    return copy;
}

/* Deep copy, because the reader's event is valid during the call only. */
static void copy_event(struct da_event *copy, const struct da_event *event)
{
    *copy = *event;
    copy->time = copy_text(event->time);
    copy->computer = copy_text(event->computer);
    copy->source_file = copy_text(event->source_file);
    copy->subject_sid = copy_text(event->subject_sid);
    copy->subject_user_name = copy_text(event->subject_user_name);
    copy->subject_domain_name = copy_text(event->subject_domain_name);
    copy->target_sid = copy_text(event->target_sid);
    copy->target_user_name = copy_text(event->target_user_name);
    copy->target_domain_name = copy_text(event->target_domain_name);
    assert_int_equal(da_strv_copy(&copy->allowed_to_delegate_to, &event->allowed_to_delegate_to),
                     0);
    copy->object_dn = copy_text(event->object_dn);
    copy->object_guid = copy_text(event->object_guid);
    copy->object_class = copy_text(event->object_class);
    copy->attribute_name = copy_text(event->attribute_name);
    copy->attribute_value = copy_text(event->attribute_value);
    copy->correlation_id = copy_text(event->correlation_id);
    copy->ip_address = copy_text(event->ip_address);
    copy->ip_port = copy_text(event->ip_port);
    copy->workstation_name = copy_text(event->workstation_name);
    copy->authentication_package = copy_text(event->authentication_package);
    copy->logon_process = copy_text(event->logon_process);
    copy->target_server_name = copy_text(event->target_server_name);
    copy->target_info = copy_text(event->target_info);
    copy->explicit_user_name = copy_text(event->explicit_user_name);
    copy->explicit_domain_name = copy_text(event->explicit_domain_name);
}

static int collect_event(const struct da_event *event, void *context, struct da_error *err)
{
    struct collected *collected = context;

    if (collected->stop_after > 0 && (int)collected->event_count == collected->stop_after)
        return da_error_set(err, DA_ERR_LOCAL, "stopped by the test");
    /* Events beyond the array are counted by stats only. */
    if (collected->event_count < sizeof(collected->events) / sizeof(collected->events[0]))
        copy_event(&collected->events[collected->event_count], event);
    collected->event_count++;
    return DA_OK;
}

static void collect_problem(const char *file, const char *position_kind, unsigned long position,
                            const char *message, void *context)
{
    struct collected *collected = context;
    struct problem *problem = NULL;

    if (collected->problem_count == sizeof(collected->problems) / sizeof(collected->problems[0]))
        fail_msg("more problems than expected; this one at %s %lu: %s", position_kind, position,
                 message);
    problem = &collected->problems[collected->problem_count++];
    problem->file = copy_text(file);
    problem->position_kind = copy_text(position_kind);
    problem->position = position;
    problem->message = copy_text(message);
}

static void collected_clear(struct collected *collected)
{
    size_t stored = collected->event_count;

    if (stored > sizeof(collected->events) / sizeof(collected->events[0]))
        stored = sizeof(collected->events) / sizeof(collected->events[0]);
    for (size_t i = 0; i < stored; i++)
        da_event_clear(&collected->events[i]);
    for (size_t i = 0; i < collected->problem_count; i++) {
        free(collected->problems[i].file);
        free(collected->problems[i].position_kind);
        free(collected->problems[i].message);
    }
    memset(collected, 0, sizeof(*collected));
}

static int read_fixture(const char *name, struct collected *collected,
                        struct da_event_read_stats *stats, struct da_error *err)
{
    struct da_event_reader reader = {
        .on_event = collect_event,
        .on_problem = collect_problem,
        .context = collected,
    };
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, name);
    return da_events_read_file(path, &reader, stats, err);
}

static void assert_problem(const struct problem *problem, const char *file_suffix,
                           unsigned long line, const char *text)
{
    size_t file_length = strlen(problem->file);
    size_t suffix_length = strlen(file_suffix);

    assert_true(file_length >= suffix_length);
    assert_string_equal(problem->file + file_length - suffix_length, file_suffix);
    assert_string_equal(problem->position_kind, "line");
    if (problem->position != line)
        fail_msg("problem \"%s\" at line %lu, expected line %lu", problem->message,
                 problem->position, line);
    if (strstr(problem->message, text) == NULL)
        fail_msg("problem \"%s\" does not contain \"%s\"", problem->message, text);
}

/* ---- Checks of the events in the fixtures ------------------------------------------------ */

static void assert_krbtgt_user_change(const struct da_event *event)
{
    assert_int_equal(event->event_id, 4738);
    assert_string_equal(event->computer, "dc1.contoso.test");
    assert_string_equal(event->target_sid, DOMAIN_SID "-1105");
    assert_string_equal(event->target_user_name, "svc-backup");
    assert_string_equal(event->target_domain_name, "CONTOSO");
    assert_string_equal(event->subject_sid, DOMAIN_SID "-500");
    assert_string_equal(event->subject_user_name, "Administrator");
    assert_string_equal(event->subject_domain_name, "CONTOSO");
    assert_true(event->has_subject_logon_id);
    assert_int_equal(event->subject_logon_id, 0x4f2a1);
    assert_int_equal(event->delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_int_equal(event->allowed_to_delegate_to.count, 1);
    assert_string_equal(event->allowed_to_delegate_to.items[0], "krbtgt/CONTOSO.TEST");
    assert_true(event->has_uac_change);
    assert_int_equal(event->old_uac, 0x210);
    assert_int_equal(event->new_uac, 0x1000210);
}

static void assert_logon(const struct da_event *event)
{
    assert_int_equal(event->event_id, 4624);
    assert_string_equal(event->time, "2026-12-04T19:57:00.3000000Z");
    assert_string_equal(event->subject_sid, DOMAIN_SID "-1105");
    assert_string_equal(event->subject_user_name, "svc-backup");
    assert_string_equal(event->subject_domain_name, "CONTOSO.TEST");
    assert_false(event->has_subject_logon_id);
    assert_true(event->has_target_logon_id);
    assert_int_equal(event->target_logon_id, 0x3e7a2b);
    assert_int_equal(event->logon_type, 3);
    assert_string_equal(event->ip_address, "192.0.2.10");
    assert_string_equal(event->ip_port, "49832");
    assert_null(event->workstation_name);
    assert_string_equal(event->authentication_package, "Kerberos");
    assert_string_equal(event->logon_process, "Kerberos");
}

static void assert_explicit_credentials(const struct da_event *event)
{
    assert_int_equal(event->event_id, 4648);
    assert_string_equal(event->time, "2026-12-04T19:57:01.4000000Z");
    assert_string_equal(event->subject_sid, DOMAIN_SID "-1105");
    assert_string_equal(event->subject_user_name, "svc-backup");
    assert_string_equal(event->subject_domain_name, "CONTOSO");
    assert_true(event->has_subject_logon_id);
    assert_int_equal(event->subject_logon_id, 0x3e7a2b);
    assert_string_equal(event->explicit_user_name, "Administrator");
    assert_string_equal(event->explicit_domain_name, "CONTOSO.TEST");
    assert_string_equal(event->target_server_name, "dc1.contoso.test");
    assert_string_equal(event->target_info, "dc1.contoso.test");
    assert_null(event->ip_address);
    assert_null(event->ip_port);
}

static void assert_object_modified(const struct da_event *event, enum da_directory_operation op,
                                   const char *attribute, const char *value)
{
    assert_int_equal(event->event_id, 5136);
    assert_int_equal(event->operation, op);
    assert_string_equal(event->attribute_name, attribute);
    assert_string_equal(event->attribute_value, value);
    assert_string_equal(event->object_dn, "CN=svc-backup,OU=Service Accounts,DC=contoso,DC=test");
    assert_string_equal(event->object_guid, "6f1c2b9a-3d4e-4f50-8a61-b2c3d4e5f607");
    assert_string_equal(event->object_class, "user");
    assert_string_equal(event->correlation_id, "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9");
    assert_string_equal(event->subject_sid, DOMAIN_SID "-500");
    assert_string_equal(event->subject_user_name, "Administrator");
    assert_int_equal(event->subject_logon_id, 0x4f2a1);
}

/* ---- The export forms -------------------------------------------------------------------- */

static bool only_text_with(const char *text, size_t length, void *context)
{
    const char *needle = "<EventID>4738</EventID>";

    (void)context;
    for (size_t i = 0; i + strlen(needle) <= length; i++) {
        if (memcmp(text + i, needle, strlen(needle)) == 0)
            return true;
    }
    return false;
}

static void skipped_records_not_parsed(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    struct da_event_reader reader = {
        .on_event = collect_event,
        .on_problem = collect_problem,
        .context = &collected,
        .wants_text = only_text_with,
    };
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", FIXTURE_DIR, "wevtutil-delegation-events.xml");
    assert_int_equal(da_events_read_file(path, &reader, &stats, &err), DA_OK);
    /* Every record is counted, only the 4738s are parsed and kept. */
    assert_int_equal(stats.records, 11);
    assert_true(stats.kept >= 1);
    assert_true(stats.kept < 9);
    for (size_t i = 0; i < collected.event_count; i++)
        assert_int_equal(collected.events[i].event_id, 4738);
    assert_int_equal(stats.malformed, 0);
    collected_clear(&collected);
}

static void wevtutil_without_root(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    const struct da_event *events = collected.events;

    assert_int_equal(read_fixture("wevtutil-delegation-events.xml", &collected, &stats, &err),
                     DA_OK);
    assert_int_equal(stats.records, 11);
    assert_int_equal(stats.kept, 9);
    assert_int_equal(stats.malformed, 0);
    assert_int_equal(collected.event_count, 9);
    assert_int_equal(collected.problem_count, 0);

    assert_krbtgt_user_change(&events[0]);
    assert_string_equal(events[0].time, "2026-12-04T19:51:00.1234567Z");
    assert_true(events[0].has_record_id);
    assert_int_equal(events[0].record_id, 10001);
    assert_int_equal(events[0].source_position, 1);
    assert_non_null(strstr(events[0].source_file, "wevtutil-delegation-events.xml"));

    /* Literal CR LF tab tab between the SPNs, as wevtutil writes them. */
    assert_int_equal(events[1].event_id, 4742);
    assert_string_equal(events[1].target_user_name, "WEB01$");
    assert_string_equal(events[1].target_sid, DOMAIN_SID "-1108");
    assert_int_equal(events[1].delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_int_equal(events[1].allowed_to_delegate_to.count, 3);
    assert_string_equal(events[1].allowed_to_delegate_to.items[0], "cifs/fs01.contoso.test");
    assert_string_equal(events[1].allowed_to_delegate_to.items[1], "HTTP/web02.contoso.test");
    assert_string_equal(events[1].allowed_to_delegate_to.items[2], "KRBTGT/contoso.test");
    assert_false(events[1].has_uac_change);

    assert_string_equal(events[2].target_user_name, "alice");
    assert_int_equal(events[2].delegate_list_state, DA_DELEGATE_LIST_UNCHANGED);
    assert_string_equal(events[3].target_user_name, "bob");
    assert_int_equal(events[3].delegate_list_state, DA_DELEGATE_LIST_CLEARED);
    assert_true(events[3].has_uac_change);
    assert_int_equal(events[3].old_uac, 0x10);
    assert_int_equal(events[3].new_uac, 0x1000010);
    assert_string_equal(events[4].target_user_name, "carol");
    assert_int_equal(events[4].delegate_list_state, DA_DELEGATE_LIST_CLEARED);
    /* The 4742 value spans three lines, so record 3 starts on line 3 and
     * the records after it on line 4. */
    assert_int_equal(events[2].source_position, 3);
    assert_int_equal(events[3].source_position, 4);

    /* The pair of one change: delete the old value, add the new one. */
    assert_object_modified(&events[5], DA_OPERATION_VALUE_DELETED, "msDS-AllowedToDelegateTo",
                           "cifs/fs01.contoso.test");
    assert_object_modified(&events[6], DA_OPERATION_VALUE_ADDED, "msDS-AllowedToDelegateTo",
                           "krbtgt/CONTOSO.TEST");
    assert_int_equal(events[6].record_id, 10007);

    assert_logon(&events[7]);
    assert_explicit_credentials(&events[8]);
    /* 4624 TargetLogonId 0x3E7A2B and 4648 SubjectLogonId 0x3e7a2b join. */
    assert_true(events[7].target_logon_id == events[8].subject_logon_id);

    collected_clear(&collected);
}

static void eventviewer_saved_with_root(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    const struct da_event *events = collected.events;

    assert_int_equal(read_fixture("eventviewer-saved-4738-4742-4688.xml", &collected, &stats, &err),
                     DA_OK);
    assert_int_equal(stats.records, 3);
    assert_int_equal(stats.kept, 2);
    assert_int_equal(stats.malformed, 0);
    assert_int_equal(collected.problem_count, 0);

    /* The +01:00 offset becomes UTC, and the decoy in the rendered message
     * ("cifs/decoy...") is never read. */
    assert_krbtgt_user_change(&events[0]);
    assert_string_equal(events[0].time, "2026-12-04T19:51:00.123Z");
    assert_int_equal(events[0].record_id, 20001);
    assert_int_equal(events[0].source_position, 2);

    /* &#13;&#10;&#9;&#9; keeps the CR that a literal CR LF loses in XML. */
    assert_int_equal(events[1].event_id, 4742);
    assert_string_equal(events[1].time, "2026-12-04T19:52:10.123456789Z");
    assert_int_equal(events[1].allowed_to_delegate_to.count, 2);
    assert_string_equal(events[1].allowed_to_delegate_to.items[0], "cifs/fs01.contoso.test");
    assert_string_equal(events[1].allowed_to_delegate_to.items[1], "HTTP/web02.contoso.test");

    collected_clear(&collected);
}

static void eventviewer_saved_without_events(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};

    assert_int_equal(read_fixture("eventviewer-saved-no-events.xml", &collected, &stats, &err),
                     DA_OK);
    assert_int_equal(stats.records, 0);
    assert_int_equal(stats.kept, 0);
    assert_int_equal(stats.malformed, 0);
}

static void check_toxml_events(const char *name)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    const struct da_event *events = collected.events;

    if (read_fixture(name, &collected, &stats, &err) != DA_OK)
        fail_msg("%s: %s", name, err.message);
    assert_int_equal(stats.records, 3);
    assert_int_equal(stats.kept, 3);
    assert_int_equal(stats.malformed, 0);

    /* The 4624 has <EventID Qualifiers=''>. */
    assert_logon(&events[0]);
    assert_int_equal(events[0].source_position, 1);
    assert_explicit_credentials(&events[1]);
    assert_int_equal(events[1].source_position, 2);
    assert_object_modified(&events[2], DA_OPERATION_VALUE_ADDED, "servicePrincipalName",
                           "HTTP/svc-backup.contoso.test");
    assert_int_equal(events[2].source_position, 3);

    collected_clear(&collected);
}

static void getwinevent_toxml_per_line(void **state)
{
    check_toxml_events("getwinevent-toxml-4624-4648-5136.xml");
}

static void powershell_utf16le_with_bom(void **state)
{
    check_toxml_events("powershell-utf16le-4624-4648-5136.xml");
}

static void utf8_with_bom(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};

    assert_int_equal(read_fixture("utf8-bom-4738-krbtgt.xml", &collected, &stats, &err), DA_OK);
    assert_int_equal(stats.records, 1);
    assert_int_equal(stats.kept, 1);
    assert_krbtgt_user_change(&collected.events[0]);
    collected_clear(&collected);
}

/* ---- Damaged input ----------------------------------------------------------------------- */

static void truncated_last_record(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};

    assert_int_equal(read_fixture("truncated-inside-4742.xml", &collected, &stats, &err), DA_OK);
    assert_int_equal(stats.records, 2);
    assert_int_equal(stats.kept, 1);
    assert_int_equal(stats.malformed, 1);
    assert_krbtgt_user_change(&collected.events[0]);
    assert_int_equal(collected.problem_count, 1);
    assert_problem(&collected.problems[0], "/truncated-inside-4742.xml", 2, "truncated");
    collected_clear(&collected);
}

static void damaged_records_reported_by_line(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    const char *name = "damaged-records-lines-3-5-6-7.xml";

    assert_int_equal(read_fixture(name, &collected, &stats, &err), DA_OK);
    assert_int_equal(stats.records, 8);
    assert_int_equal(stats.kept, 4);
    assert_int_equal(stats.malformed, 4);

    assert_int_equal(collected.event_count, 4);
    assert_krbtgt_user_change(&collected.events[0]);
    assert_int_equal(collected.events[0].source_position, 1);
    assert_logon(&collected.events[1]);
    assert_int_equal(collected.events[1].source_position, 2);
    assert_explicit_credentials(&collected.events[2]);
    assert_int_equal(collected.events[2].source_position, 4);
    assert_explicit_credentials(&collected.events[3]);
    assert_int_equal(collected.events[3].source_position, 8);

    assert_int_equal(collected.problem_count, 4);
    assert_problem(&collected.problems[0], name, 3, "invalid XML");
    assert_problem(&collected.problems[1], name, 5, "TargetSid");
    assert_problem(&collected.problems[2], name, 6, "TimeCreated");
    assert_problem(&collected.problems[3], name, 7, "no closing </Event>");
    collected_clear(&collected);
}

static void not_an_export_is_usage_error(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};

    assert_int_equal(read_fixture("not-an-export.html", &collected, &stats, &err), DA_ERR_USAGE);
    assert_non_null(strstr(err.message, "not-an-export.html"));
    assert_non_null(strstr(err.message, "starts with"));
    assert_int_equal(collected.event_count, 0);
    assert_int_equal(stats.records, 0);
}

static void callback_error_stops_reading(void **state)
{
    struct collected collected = {.stop_after = 2};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};

    assert_int_equal(read_fixture("wevtutil-delegation-events.xml", &collected, &stats, &err),
                     DA_ERR_LOCAL);
    assert_string_equal(err.message, "stopped by the test");
    assert_int_equal(collected.event_count, 2);
    collected_clear(&collected);
}

/* ---- Generated files --------------------------------------------------------------------- */

static char *temporary_path(void)
{
    char *path = strdup("/tmp/test_events_xml.XXXXXX");
    int descriptor = -1;

    assert_non_null(path);
    descriptor = mkstemp(path);
    assert_true(descriptor >= 0);
    close(descriptor);
    return path;
}

static void format_explicit_event(char *buffer, size_t size, unsigned long record,
                                  const char *user_name)
{
    int written = snprintf(
        buffer, size,
        "<Event " EVENT_XMLNS "><System><EventID>4648</EventID>"
        "<TimeCreated SystemTime='2026-12-04T19:57:01Z'/><EventRecordID>%lu</EventRecordID>"
        "<Computer>dc1.contoso.test</Computer></System><EventData>"
        "<Data Name='SubjectUserSid'>" DOMAIN_SID "-1105</Data>"
        "<Data Name='SubjectUserName'>%s</Data><Data Name='SubjectLogonId'>0x%lx</Data>"
        "<Data Name='TargetUserName'>Administrator</Data></EventData></Event>",
        record, user_name, record);

    assert_true(written > 0 && (size_t)written < size);
}

static struct da_event_reader collecting_reader(struct collected *collected)
{
    return (struct da_event_reader){
        .on_event = collect_event,
        .on_problem = collect_problem,
        .context = collected,
    };
}

/* Thousands of records over many 64 KiB blocks, so that block boundaries
 * cut tags and elements at many different places. */
static void many_records_across_blocks(void **state)
{
    char *path = temporary_path();
    FILE *stream = fopen(path, "w");
    struct collected collected = {0};
    struct da_event_reader reader = collecting_reader(&collected);
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    char event[2048];
    const unsigned long count = 3000;

    assert_non_null(stream);
    fputs("<?xml version='1.0' encoding='UTF-8'?>\n<Events>\n", stream);
    for (unsigned long i = 1; i <= count; i++) {
        format_explicit_event(event, sizeof(event), i, "svc-backup");
        fputs(event, stream);
        fputs(i % 3 == 0 ? "\n" : "", stream);
    }
    fputs("</Events>\n", stream);
    assert_int_equal(fclose(stream), 0);

    assert_int_equal(da_events_read_xml(path, &reader, &stats, &err), DA_OK);
    assert_int_equal(stats.records, count);
    assert_int_equal(stats.kept, count);
    assert_int_equal(stats.malformed, 0);
    assert_int_equal(collected.event_count, count);
    assert_int_equal(collected.events[63].record_id, 64);
    assert_int_equal(collected.events[63].subject_logon_id, 64);
    /* Records 61, 62 and 63 share line 23, after two lines of prolog. */
    assert_int_equal(collected.events[60].source_position, 23);
    assert_int_equal(collected.events[62].source_position, 23);
    assert_int_equal(collected.events[63].source_position, 24);

    collected_clear(&collected);
    unlink(path);
    free(path);
}

/* Writes text as UTF-16LE; text is ASCII apart from the one U+1F600 that
 * "\xf0\x9f\x98\x80" encodes, which becomes a surrogate pair. */
static void write_utf16le(FILE *stream, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (p[0] == 0xf0 && p[1] == 0x9f && p[2] == 0x98 && p[3] == 0x80) {
            fwrite("\x3d\xd8\x00\xde", 1, 4, stream);
            p += 3;
        } else {
            fputc(*p, stream);
            fputc(0, stream);
        }
    }
}

/* The surrogate pair of one character sits across the boundary of the
 * first 64 KiB block, so the decoder must carry it into the next block. */
static void utf16_character_across_blocks(void **state)
{
    char *path = temporary_path();
    FILE *stream = fopen(path, "wb");
    struct collected collected = {0};
    struct da_event_reader reader = collecting_reader(&collected);
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    char event[2048];
    char *padding = NULL;

    assert_non_null(stream);
    format_explicit_event(event, sizeof(event), 7, "svc\xf0\x9f\x98\x80");
    size_t before = (size_t)(strstr(event, "\xf0\x9f\x98\x80") - event);
    /* The BOM takes bytes 0-1; the pair must start at byte 65534. */
    size_t padding_length = (65534 - 2) / 2 - before;
    padding = malloc(padding_length + 1);
    assert_non_null(padding);
    memset(padding, 'x', padding_length);
    memcpy(padding, "<!--", 4);
    memcpy(padding + padding_length - 4, "-->\n", 4);
    padding[padding_length] = '\0';

    fwrite("\xff\xfe", 1, 2, stream);
    write_utf16le(stream, padding);
    write_utf16le(stream, event);
    assert_int_equal(fclose(stream), 0);

    assert_int_equal(da_events_read_xml(path, &reader, &stats, &err), DA_OK);
    assert_int_equal(stats.kept, 1);
    assert_int_equal(stats.malformed, 0);
    assert_string_equal(collected.events[0].subject_user_name, "svc\xf0\x9f\x98\x80");
    assert_int_equal(collected.events[0].source_position, 2);

    collected_clear(&collected);
    free(padding);
    unlink(path);
    free(path);
}

/* An element over the 16 MiB limit is reported at its line, and the
 * record after it is still read. */
static void oversized_element_skipped(void **state)
{
    char *path = temporary_path();
    FILE *stream = fopen(path, "w");
    struct collected collected = {0};
    struct da_event_reader reader = collecting_reader(&collected);
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    char event[2048];
    char chunk[4096];

    assert_non_null(stream);
    format_explicit_event(event, sizeof(event), 1, "svc-backup");
    fputs(event, stream);
    fputs("\n<Event " EVENT_XMLNS "><System><EventID>4648</EventID></System><EventData>"
          "<Data Name='Padding'>",
          stream);
    memset(chunk, 'a', sizeof(chunk));
    for (size_t written = 0; written < 17u * 1024 * 1024; written += sizeof(chunk))
        assert_int_equal(fwrite(chunk, 1, sizeof(chunk), stream), sizeof(chunk));
    fputs("</Data></EventData></Event>\n", stream);
    format_explicit_event(event, sizeof(event), 3, "svc-backup");
    fputs(event, stream);
    assert_int_equal(fclose(stream), 0);

    assert_int_equal(da_events_read_xml(path, &reader, &stats, &err), DA_OK);
    assert_int_equal(stats.records, 3);
    assert_int_equal(stats.kept, 2);
    assert_int_equal(stats.malformed, 1);
    assert_int_equal(collected.problem_count, 1);
    assert_int_equal(collected.problems[0].position, 2);
    assert_non_null(strstr(collected.problems[0].message, "16 MiB"));
    assert_int_equal(collected.events[1].record_id, 3);
    assert_int_equal(collected.events[1].source_position, 3);

    collected_clear(&collected);
    unlink(path);
    free(path);
}

/* ---- One element ------------------------------------------------------------------------- */

static void parse_one_element(const char *xml, struct collected *collected,
                              struct da_event_read_stats *stats)
{
    struct da_event_reader reader = collecting_reader(collected);
    struct da_error err = {0};

    assert_int_equal(da_events_parse_event_xml(xml, strlen(xml), "security.evtx", "record", 5,
                                               &reader, stats, &err),
                     DA_OK);
}

static void element_empty_data_is_empty_value(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};

    /* No namespace at all, an empty Data, and UserData that is ignored. */
    parse_one_element("<Event><System><EventID>5136</EventID>"
                      "<TimeCreated SystemTime='2026-12-04T19:56:00Z'/></System><EventData>"
                      "<Data Name='ObjectGUID'>{6F1C2B9A-3D4E-4F50-8A61-B2C3D4E5F607}</Data>"
                      "<Data Name='AttributeLDAPDisplayName'>userAccountControl</Data>"
                      "<Data Name='AttributeValue'></Data><Data Name='ObjectClass'/>"
                      "<Data>positional</Data></EventData>"
                      "<UserData><Data Name='ObjectDN'>CN=decoy</Data></UserData></Event>",
                      &collected, &stats);
    assert_int_equal(stats.records, 1);
    assert_int_equal(stats.kept, 1);
    assert_string_equal(collected.events[0].attribute_value, "");
    assert_string_equal(collected.events[0].object_class, "");
    assert_null(collected.events[0].object_dn);
    assert_int_equal(collected.events[0].source_position, 5);
    collected_clear(&collected);
}

static void element_problems_use_position_kind(void **state)
{
    static const struct {
        const char *xml;
        const char *text;
    } cases[] = {
        {"<Event><System><EventID>4738</EventID></System>", "invalid XML"},
        {"<Events/>", "no <Event>"},
        {"<Event xmlns='urn:other'><System><EventID>4738</EventID></System></Event>",
         "no <Event>"},
        {"<Event><EventData/></Event>", "without System"},
        {"<Event><System><EventID/></System></Event>", "without System/EventID"},
        {"<Event><System><EventID>47x38</EventID></System></Event>", "invalid System/EventID"},
        {"<Event><System><EventID>65536</EventID></System></Event>", "invalid System/EventID"},
        {"<!DOCTYPE Event SYSTEM 'http://192.0.2.1/x.dtd'><Event><System><EventID>4738"
         "</EventID><TimeCreated SystemTime='2026-12-04T19:56:00Z'/></System></Event>",
         "TargetSid"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct collected collected = {0};
        struct da_event_read_stats stats = {0};

        parse_one_element(cases[i].xml, &collected, &stats);
        assert_int_equal(stats.records, 1);
        assert_int_equal(stats.malformed, 1);
        assert_int_equal(collected.problem_count, 1);
        assert_string_equal(collected.problems[0].file, "security.evtx");
        assert_string_equal(collected.problems[0].position_kind, "record");
        assert_int_equal(collected.problems[0].position, 5);
        if (strstr(collected.problems[0].message, cases[i].text) == NULL)
            fail_msg("case %zu: problem \"%s\" does not contain \"%s\"", i,
                     collected.problems[0].message, cases[i].text);
        collected_clear(&collected);
    }
}

static void element_external_entity_not_loaded(void **state)
{
    struct collected collected = {0};
    struct da_event_read_stats stats = {0};

    /* An external entity is neither fetched nor substituted: the value
     * stays empty, so the SID is missing. */
    parse_one_element("<!DOCTYPE Event [<!ENTITY sid SYSTEM 'file:///etc/hostname'>]>"
                      "<Event><System><EventID>4738</EventID>"
                      "<TimeCreated SystemTime='2026-12-04T19:56:00Z'/></System><EventData>"
                      "<Data Name='TargetSid'>&sid;</Data></EventData></Event>",
                      &collected, &stats);
    assert_int_equal(stats.kept, 0);
    assert_int_equal(stats.malformed, 1);
    assert_non_null(strstr(collected.problems[0].message, "without TargetSid"));
    collected_clear(&collected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wevtutil_without_root),
        cmocka_unit_test(skipped_records_not_parsed),
        cmocka_unit_test(eventviewer_saved_with_root),
        cmocka_unit_test(eventviewer_saved_without_events),
        cmocka_unit_test(getwinevent_toxml_per_line),
        cmocka_unit_test(powershell_utf16le_with_bom),
        cmocka_unit_test(utf8_with_bom),
        cmocka_unit_test(truncated_last_record),
        cmocka_unit_test(damaged_records_reported_by_line),
        cmocka_unit_test(not_an_export_is_usage_error),
        cmocka_unit_test(callback_error_stops_reading),
        cmocka_unit_test(many_records_across_blocks),
        cmocka_unit_test(utf16_character_across_blocks),
        cmocka_unit_test(oversized_element_skipped),
        cmocka_unit_test(element_empty_data_is_empty_value),
        cmocka_unit_test(element_problems_use_position_kind),
        cmocka_unit_test(element_external_entity_not_loaded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
