/* The JSON reader: Winlogbeat, NXLog and evtx_dump records in NDJSON
 * files, JSON arrays and Elasticsearch _search responses. */
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

#define EVENTS_DIR DA_TEST_DATA_DIR "/events/"
#define SEEN_MAX 32

#define SID_DOMAIN "S-1-5-21-1004336348-1177238915-682003330"

/* The fields of a kept event that the tests check, copied because the
 * event is valid during the callback only. */
struct seen_event {
    unsigned long event_id;
    char *time;
    char *computer;
    uint64_t record_id;
    bool has_record_id;
    char *source_file;
    unsigned long source_position;
    char *subject_sid;
    uint64_t subject_logon_id;
    bool has_subject_logon_id;
    char *target_sid;
    char *target_user_name;
    enum da_delegate_list_state delegate_list_state;
    char *delegate_list; /* the values joined with '|' */
    uint32_t old_uac;
    uint32_t new_uac;
    bool has_uac_change;
    char *object_dn;
    char *object_guid;
    char *attribute_name;
    char *attribute_value;
    enum da_directory_operation operation;
    char *correlation_id;
    uint64_t target_logon_id;
    bool has_target_logon_id;
    unsigned long logon_type;
    char *ip_address;
    char *ip_port;
    char *workstation_name;
    char *logon_process;
    char *explicit_user_name;
    char *target_server_name;
};

struct seen_problem {
    char *file;
    char *position_kind;
    unsigned long position;
    char *message;
};

struct collected {
    struct seen_event events[SEEN_MAX];
    size_t event_count;
    struct seen_problem problems[SEEN_MAX];
    size_t problem_count;
    struct da_event_read_stats stats;
    struct da_error err;
    int rc;
    size_t stop_after; /* on_event fails at this event when not 0 */
};

static char *copy_or_null(const char *text)
{
    return text != NULL ? strdup(text) : NULL;
}

static char *join_values(const struct da_strv *values)
{
    size_t length = 1;
    char *joined = NULL;

    for (size_t i = 0; i < values->count; i++)
        length += strlen(values->items[i]) + 1;
    joined = calloc(1, length);
    assert_non_null(joined);
    for (size_t i = 0; i < values->count; i++) {
        if (i > 0)
            strcat(joined, "|");
        strcat(joined, values->items[i]);
    }
    return joined;
}

static int collect_event(const struct da_event *event, void *context, struct da_error *err)
{
    struct collected *collected = context;
    struct seen_event *seen = NULL;

    assert_true(collected->event_count < SEEN_MAX);
    seen = &collected->events[collected->event_count++];
    seen->event_id = event->event_id;
    seen->time = copy_or_null(event->time);
    seen->computer = copy_or_null(event->computer);
    seen->record_id = event->record_id;
    seen->has_record_id = event->has_record_id;
    seen->source_file = copy_or_null(event->source_file);
    seen->source_position = event->source_position;
    seen->subject_sid = copy_or_null(event->subject_sid);
    seen->subject_logon_id = event->subject_logon_id;
    seen->has_subject_logon_id = event->has_subject_logon_id;
    seen->target_sid = copy_or_null(event->target_sid);
    seen->target_user_name = copy_or_null(event->target_user_name);
    seen->delegate_list_state = event->delegate_list_state;
    seen->delegate_list = join_values(&event->allowed_to_delegate_to);
    seen->old_uac = event->old_uac;
    seen->new_uac = event->new_uac;
    seen->has_uac_change = event->has_uac_change;
    seen->object_dn = copy_or_null(event->object_dn);
    seen->object_guid = copy_or_null(event->object_guid);
    seen->attribute_name = copy_or_null(event->attribute_name);
    seen->attribute_value = copy_or_null(event->attribute_value);
    seen->operation = event->operation;
    seen->correlation_id = copy_or_null(event->correlation_id);
    seen->target_logon_id = event->target_logon_id;
    seen->has_target_logon_id = event->has_target_logon_id;
    seen->logon_type = event->logon_type;
    seen->ip_address = copy_or_null(event->ip_address);
    seen->ip_port = copy_or_null(event->ip_port);
    seen->workstation_name = copy_or_null(event->workstation_name);
    seen->logon_process = copy_or_null(event->logon_process);
    seen->explicit_user_name = copy_or_null(event->explicit_user_name);
    seen->target_server_name = copy_or_null(event->target_server_name);

    if (collected->stop_after != 0 && collected->event_count == collected->stop_after)
        return da_error_set(err, DA_ERR_LOCAL, "stopped by the test");
    return 0;
}

static void collect_problem(const char *file, const char *position_kind, unsigned long position,
                            const char *message, void *context)
{
    struct collected *collected = context;
    struct seen_problem *problem = NULL;

    assert_true(collected->problem_count < SEEN_MAX);
    problem = &collected->problems[collected->problem_count++];
    problem->file = strdup(file);
    problem->position_kind = strdup(position_kind);
    problem->position = position;
    problem->message = strdup(message);
}

static void collected_free(struct collected *collected)
{
    for (size_t i = 0; i < collected->event_count; i++) {
        struct seen_event *seen = &collected->events[i];
        char *strings[] = {
            seen->time,
            seen->computer,
            seen->source_file,
            seen->subject_sid,
            seen->target_sid,
            seen->target_user_name,
            seen->delegate_list,
            seen->object_dn,
            seen->object_guid,
            seen->attribute_name,
            seen->attribute_value,
            seen->correlation_id,
            seen->ip_address,
            seen->ip_port,
            seen->workstation_name,
            seen->logon_process,
            seen->explicit_user_name,
            seen->target_server_name,
        };

        for (size_t j = 0; j < sizeof(strings) / sizeof(strings[0]); j++)
            free(strings[j]);
    }
    for (size_t i = 0; i < collected->problem_count; i++) {
        free(collected->problems[i].file);
        free(collected->problems[i].position_kind);
        free(collected->problems[i].message);
    }
    free(collected);
}

static struct collected *read_path(const char *path, enum da_event_format format, size_t stop_after)
{
    struct collected *collected = calloc(1, sizeof(*collected));
    struct da_event_reader reader = {
        .on_event = collect_event,
        .on_problem = collect_problem,
    };

    assert_non_null(collected);
    collected->stop_after = stop_after;
    reader.context = collected;
    collected->rc = da_events_read_json(path, format, &reader, &collected->stats, &collected->err);
    return collected;
}

static struct collected *read_fixture(const char *name, enum da_event_format format)
{
    char path[512];

    snprintf(path, sizeof(path), "%s%s", EVENTS_DIR, name);
    return read_path(path, format, 0);
}

static char *write_temporary(const char *content, size_t length)
{
    char *path = strdup("/tmp/delegaudit-test-json-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, length), (ssize_t)length);
    close(fd);
    return path;
}

static void assert_stats(const struct collected *collected, unsigned long records,
                         unsigned long kept, unsigned long malformed)
{
    assert_int_equal(collected->stats.records, records);
    assert_int_equal(collected->stats.kept, kept);
    assert_int_equal(collected->stats.malformed, malformed);
    assert_int_equal(collected->event_count, kept);
    assert_int_equal(collected->problem_count, malformed);
}

static void assert_problem(const struct collected *collected, size_t index, unsigned long line,
                           const char *message_part)
{
    const struct seen_problem *problem = &collected->problems[index];

    assert_true(index < collected->problem_count);
    assert_string_equal(problem->position_kind, "line");
    assert_int_equal(problem->position, line);
    assert_non_null(strstr(problem->file, "/tmp/") != NULL ? problem->file
                                                           : strstr(problem->file, "/events/"));
    if (strstr(problem->message, message_part) == NULL)
        fail_msg("problem at line %lu is \"%s\", expected it to contain \"%s\"", line,
                 problem->message, message_part);
}

/* The 4738 that every shape carries: krbtgt delegation with protocol
 * transition turned on. */
static void assert_krbtgt_4738(const struct seen_event *seen)
{
    assert_int_equal(seen->event_id, DA_EVENT_USER_CHANGED);
    assert_string_equal(seen->target_sid, SID_DOMAIN "-1105");
    assert_int_equal(seen->delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_string_equal(seen->delegate_list, "krbtgt/CONTOSO.TEST");
    assert_true(seen->has_uac_change);
    assert_int_equal(seen->old_uac, 0x210);
    assert_int_equal(seen->new_uac, 0x1000210);
}

/* ---- NDJSON shapes --------------------------------------------------------------------- */

static void nested_winlogbeat_events(void **state)
{
    struct collected *collected =
        read_fixture("ndjson-winlogbeat-nested.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 9, 8, 0);

    assert_krbtgt_4738(&events[0]);
    assert_string_equal(events[0].time, "2026-12-04T19:51:00.123Z");
    assert_string_equal(events[0].computer, "DC1.contoso.test");
    assert_true(events[0].has_record_id);
    assert_int_equal(events[0].record_id, 1001);
    assert_int_equal(events[0].source_position, 1);
    assert_non_null(strstr(events[0].source_file, "ndjson-winlogbeat-nested.ndjson"));
    assert_string_equal(events[0].subject_sid, SID_DOMAIN "-500");
    assert_true(events[0].has_subject_logon_id);
    assert_int_equal(events[0].subject_logon_id, 0x4f1a2);

    /* A number as event id; winlog.time_created wins over @timestamp. */
    assert_int_equal(events[1].event_id, DA_EVENT_COMPUTER_CHANGED);
    assert_string_equal(events[1].time, "2026-12-04T19:52:29.5412345Z");
    assert_string_equal(events[1].target_sid, SID_DOMAIN "-1107");
    assert_int_equal(events[1].delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_string_equal(events[1].delegate_list, "cifs/a.contoso.test|krbtgt/CONTOSO");
    assert_false(events[1].has_uac_change);

    assert_int_equal(events[2].delegate_list_state, DA_DELEGATE_LIST_UNCHANGED);
    assert_int_equal(events[3].delegate_list_state, DA_DELEGATE_LIST_CLEARED);

    /* The blank line 5 is no record, but it is counted as a line. */
    assert_int_equal(events[4].event_id, DA_EVENT_OBJECT_MODIFIED);
    assert_int_equal(events[4].source_position, 6);
    assert_int_equal(events[4].operation, DA_OPERATION_VALUE_DELETED);
    assert_string_equal(events[4].attribute_value, "cifs/old.contoso.test");
    assert_int_equal(events[5].operation, DA_OPERATION_VALUE_ADDED);
    assert_string_equal(events[5].attribute_name, "msDS-AllowedToDelegateTo");
    assert_string_equal(events[5].attribute_value, "krbtgt/CONTOSO.TEST");
    assert_string_equal(events[5].object_guid, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    assert_string_equal(events[5].correlation_id, "6a0f1c2b-9d3e-4f5a-8b7c-1d2e3f4a5b6c");
    assert_string_equal(events[4].correlation_id, events[5].correlation_id);
    assert_string_equal(events[5].object_dn, "CN=svc-web,OU=Service Accounts,DC=contoso,DC=test");

    assert_int_equal(events[6].event_id, DA_EVENT_LOGON);
    assert_true(events[6].has_target_logon_id);
    assert_int_equal(events[6].target_logon_id, 0x3e7);
    assert_int_equal(events[6].logon_type, 3);
    assert_string_equal(events[6].ip_address, "192.0.2.15");
    assert_string_equal(events[6].ip_port, "50512");
    assert_string_equal(events[6].logon_process, "Kerberos");
    assert_string_equal(events[6].subject_sid, SID_DOMAIN "-500");

    assert_int_equal(events[7].event_id, DA_EVENT_EXPLICIT_CREDENTIALS);
    assert_string_equal(events[7].explicit_user_name, "svc-backup");
    assert_string_equal(events[7].target_server_name, "DC1.contoso.test");
    assert_int_equal(events[7].subject_logon_id, 0x4f1a2);
    assert_null(events[7].ip_address);

    collected_free(collected);
}

static void flattened_winlogbeat_keys(void **state)
{
    struct collected *collected =
        read_fixture("ndjson-winlogbeat-flattened.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 2, 2, 0);

    /* Dotted keys throughout; no winlog.computer_name, so host.name. */
    assert_krbtgt_4738(&events[0]);
    assert_string_equal(events[0].computer, "dc1.contoso.test");
    assert_int_equal(events[0].record_id, 2001);
    assert_int_equal(events[0].subject_logon_id, 0x4f1a2);

    /* event.code as a number, and nested and dotted keys mixed. */
    assert_int_equal(events[1].event_id, DA_EVENT_COMPUTER_CHANGED);
    assert_string_equal(events[1].computer, "DC2.contoso.test");
    assert_string_equal(events[1].time, "2026-12-04T19:52:00Z");
    assert_string_equal(events[1].delegate_list, "cifs/a.contoso.test|krbtgt/CONTOSO");
    assert_false(events[1].has_record_id);

    collected_free(collected);
}

static void winlogbeat6_events(void **state)
{
    struct collected *collected =
        read_fixture("ndjson-winlogbeat6.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 2, 2, 0);

    assert_krbtgt_4738(&events[0]);
    assert_string_equal(events[0].computer, "DC1.contoso.test");
    assert_int_equal(events[0].record_id, 3001);
    assert_string_equal(events[0].time, "2026-12-04T19:51:00.000Z");

    assert_int_equal(events[1].event_id, DA_EVENT_LOGON);
    assert_int_equal(events[1].record_id, 3002);
    assert_int_equal(events[1].target_logon_id, 0x3e7);
    assert_string_equal(events[1].ip_address, "::1");

    collected_free(collected);
}

static void nxlog_events(void **state)
{
    struct collected *collected = read_fixture("ndjson-nxlog.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    /* The 4688 on line 3 is read and skipped. */
    assert_stats(collected, 4, 3, 0);

    /* EventTime has no zone and is taken as UTC; the 64-bit Keywords
     * number beyond 2^53 is a System field and not read. */
    assert_krbtgt_4738(&events[0]);
    assert_string_equal(events[0].time, "2026-12-04T20:51:00Z");
    assert_string_equal(events[0].computer, "DC1.contoso.test");
    assert_int_equal(events[0].record_id, 4001);
    assert_string_equal(events[0].subject_sid, SID_DOMAIN "-500");

    /* No EventTime: EventReceivedTime. String EventID and RecordNumber. */
    assert_int_equal(events[1].event_id, DA_EVENT_LOGON);
    assert_string_equal(events[1].time, "2026-12-04T20:52:01Z");
    assert_int_equal(events[1].record_id, 4002);
    assert_int_equal(events[1].target_logon_id, 0x3e7);
    assert_int_equal(events[1].logon_type, 3);

    assert_int_equal(events[2].event_id, DA_EVENT_EXPLICIT_CREDENTIALS);
    assert_int_equal(events[2].source_position, 4);
    assert_string_equal(events[2].explicit_user_name, "svc-backup");

    collected_free(collected);
}

static void nxlog_time_with_offset(void **state)
{
    static const char line[] = "{\"EventTime\":\"2026-12-04 21:53:00.250+01:00\",\"EventID\":4624,"
                               "\"TargetLogonId\":\"0x3E7\"}\n";
    char *path = write_temporary(line, sizeof(line) - 1);
    struct collected *collected = read_path(path, DA_EVENT_FORMAT_JSON_LINES, 0);

    assert_stats(collected, 1, 1, 0);
    assert_string_equal(collected->events[0].time, "2026-12-04T20:53:00.250Z");

    collected_free(collected);
    unlink(path);
    free(path);
}

static void evtx_dump_lines(void **state)
{
    struct collected *collected =
        read_fixture("ndjson-evtx-dump.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 3, 2, 0);

    assert_krbtgt_4738(&events[0]);
    assert_string_equal(events[0].time, "2026-12-04T19:51:00.123456Z");
    assert_string_equal(events[0].computer, "DC1.contoso.test");
    assert_int_equal(events[0].record_id, 42);

    /* EventID as {"#text": ...}; numbers and booleans become text. */
    assert_int_equal(events[1].event_id, DA_EVENT_LOGON);
    assert_int_equal(events[1].record_id, 41);
    assert_int_equal(events[1].logon_type, 3);
    assert_string_equal(events[1].ip_port, "50512");
    assert_string_equal(events[1].workstation_name, "false");
    assert_int_equal(events[1].target_logon_id, 0x3e7);

    collected_free(collected);
}

static void byte_order_mark_accepted(void **state)
{
    struct collected *collected = read_fixture("ndjson-bom.ndjson", DA_EVENT_FORMAT_JSON_LINES);

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 1, 1, 0);
    assert_string_equal(collected->events[0].computer, "DC1");

    collected_free(collected);
}

/* ---- Malformed NDJSON ------------------------------------------------------------------ */

static void invalid_lines_reported(void **state)
{
    struct collected *collected =
        read_fixture("ndjson-invalid-lines.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 10, 4, 6);

    assert_problem(collected, 0, 3, "invalid JSON");
    assert_problem(collected, 1, 5, "missing event id");
    assert_problem(collected, 2, 6, "TargetSid");
    assert_problem(collected, 3, 7, "not a JSON object");
    assert_problem(collected, 4, 8, "invalid winlog.event_id");
    assert_problem(collected, 5, 9, "text after the value");

    /* The lines after each bad one are still read. */
    assert_int_equal(events[0].source_position, 1);
    assert_int_equal(events[1].source_position, 2);
    assert_int_equal(events[2].source_position, 4);
    assert_int_equal(events[2].event_id, DA_EVENT_COMPUTER_CHANGED);
    assert_int_equal(events[3].source_position, 10);
    assert_int_equal(events[3].event_id, DA_EVENT_EXPLICIT_CREDENTIALS);

    collected_free(collected);
}

static void bad_encoding_reported(void **state)
{
    struct collected *collected =
        read_fixture("ndjson-bad-encoding.ndjson", DA_EVENT_FORMAT_JSON_LINES);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 5, 2, 3);

    assert_problem(collected, 0, 2, "bad encoding");
    assert_problem(collected, 1, 3, "\\u0000");
    assert_problem(collected, 2, 5, "bad encoding");

    assert_string_equal(events[0].target_user_name, "svc-caf\xc3\xa9");
    /* An escaped backslash before "u0000" is no NUL escape. */
    assert_string_equal(events[1].target_user_name, "back\\u0000slash");

    collected_free(collected);
}

static void overlong_line_skipped(void **state)
{
    static const char valid[] =
        "{\"@timestamp\":\"2026-12-04T19:51:00Z\",\"winlog\":{"
        "\"event_id\":4624,\"event_data\":{\"TargetLogonId\":\"0x3E7\"}}}\n";
    size_t long_length = ((size_t)16 << 20) + 100;
    size_t total = 2 * (sizeof(valid) - 1) + long_length + 1;
    char *content = malloc(total);
    char *cursor = content;
    char *path = NULL;
    struct collected *collected = NULL;

    assert_non_null(content);
    memcpy(cursor, valid, sizeof(valid) - 1);
    cursor += sizeof(valid) - 1;
    memset(cursor, 'x', long_length);
    cursor[0] = '"';
    cursor += long_length;
    *cursor++ = '\n';
    memcpy(cursor, valid, sizeof(valid) - 1);
    path = write_temporary(content, total);
    free(content);

    collected = read_path(path, DA_EVENT_FORMAT_JSON_LINES, 0);
    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 3, 2, 1);
    assert_problem(collected, 0, 2, "longer than 16 MiB");
    assert_int_equal(collected->events[1].source_position, 3);

    collected_free(collected);
    unlink(path);
    free(path);
}

static void large_record_id_rejected(void **state)
{
    static const char lines[] =
        "{\"@timestamp\":\"2026-12-04T19:51:00Z\",\"winlog\":{\"event_id\":4624,"
        "\"record_id\":9007199254740993,\"event_data\":{\"TargetLogonId\":\"0x3E7\"}}}\n"
        "{\"@timestamp\":\"2026-12-04T19:51:00Z\",\"winlog\":{\"event_id\":4624,"
        "\"record_id\":\"9007199254740993\",\"event_data\":{\"TargetLogonId\":\"0x3E7\"}}}\n";
    char *path = write_temporary(lines, sizeof(lines) - 1);
    struct collected *collected = read_path(path, DA_EVENT_FORMAT_JSON_LINES, 0);

    /* As a number the id may already be rounded; as a string it is exact. */
    assert_stats(collected, 2, 1, 1);
    assert_problem(collected, 0, 1, "too large");
    assert_int_equal(collected->events[0].record_id, 9007199254740993ULL);

    collected_free(collected);
    unlink(path);
    free(path);
}

/* ---- Single documents ------------------------------------------------------------------ */

static void search_response_hits(void **state)
{
    struct collected *collected =
        read_fixture("json-elasticsearch-search.json", DA_EVENT_FORMAT_JSON);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    /* The "hits" under _shards and aggregations are no records. */
    assert_stats(collected, 4, 2, 1);

    assert_krbtgt_4738(&events[0]);
    assert_int_equal(events[0].source_position, 9);
    assert_int_equal(events[0].record_id, 5001);
    assert_string_equal(events[0].time, "2026-12-04T19:51:00.123Z");

    assert_int_equal(events[1].event_id, DA_EVENT_OBJECT_MODIFIED);
    assert_int_equal(events[1].source_position, 35);
    assert_int_equal(events[1].operation, DA_OPERATION_VALUE_ADDED);
    assert_string_equal(events[1].object_guid, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");

    assert_problem(collected, 0, 66, "missing event id");

    collected_free(collected);
}

static void array_of_mixed_shapes(void **state)
{
    struct collected *collected = read_fixture("json-array-mixed.json", DA_EVENT_FORMAT_JSON);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 7, 4, 2);

    /* Brackets and escaped quotes inside a string do not end the element. */
    assert_int_equal(events[0].event_id, DA_EVENT_COMPUTER_CHANGED);
    assert_int_equal(events[0].source_position, 2);
    assert_string_equal(events[0].delegate_list, "cifs/a.contoso.test|krbtgt/CONTOSO");

    assert_int_equal(events[1].event_id, DA_EVENT_LOGON);
    assert_int_equal(events[1].source_position, 3);
    assert_string_equal(events[1].time, "2026-12-04T20:52:00Z");
    assert_int_equal(events[1].target_logon_id, 0x3e7);

    assert_int_equal(events[2].event_id, DA_EVENT_EXPLICIT_CREDENTIALS);
    assert_int_equal(events[2].source_position, 5);
    assert_int_equal(events[2].record_id, 6003);
    assert_int_equal(events[2].subject_logon_id, 0x4f1a2);

    assert_int_equal(events[3].event_id, DA_EVENT_USER_CHANGED);
    assert_int_equal(events[3].source_position, 16);
    assert_int_equal(events[3].delegate_list_state, DA_DELEGATE_LIST_CLEARED);

    assert_problem(collected, 0, 17, "not a JSON object");
    assert_problem(collected, 1, 18, "missing event id");

    collected_free(collected);
}

static void truncated_document(void **state)
{
    struct collected *collected = read_fixture("json-truncated.json", DA_EVENT_FORMAT_JSON);

    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 3, 2, 1);
    assert_problem(collected, 0, 4, "truncated");
    assert_int_equal(collected->events[0].event_id, DA_EVENT_USER_CHANGED);
    assert_string_equal(collected->events[0].delegate_list, "krbtgt/CONTOSO.TEST");
    assert_int_equal(collected->events[1].source_position, 3);

    collected_free(collected);
}

static void document_ends_between_elements(void **state)
{
    static const char text[] =
        "\xEF\xBB\xBF[\n{\"@timestamp\":\"2026-12-04T19:51:00Z\",\"winlog\":{\"event_id\":4624,"
        "\"event_data\":{\"TargetLogonId\":\"0x3E7\"}}},\n\n";
    char *path = write_temporary(text, sizeof(text) - 1);
    struct collected *collected = read_path(path, DA_EVENT_FORMAT_JSON, 0);

    /* The BOM is skipped; the missing "]" is a problem but no record. */
    assert_stats(collected, 1, 1, 1);
    assert_int_equal(collected->events[0].source_position, 2);
    assert_problem(collected, 0, 4, "before the document is closed");

    collected_free(collected);
    unlink(path);
    free(path);
}

static void overlong_element_skipped(void **state)
{
    static const char head[] = "[{\"padding\":\"";
    static const char tail[] =
        "\"},\n{\"@timestamp\":\"2026-12-04T19:51:00Z\",\"winlog\":{"
        "\"event_id\":4624,\"event_data\":{\"TargetLogonId\":\"0x3E7\"}}}]\n";
    size_t padding = ((size_t)16 << 20) + 10;
    size_t total = sizeof(head) - 1 + padding + sizeof(tail) - 1;
    char *content = malloc(total);
    char *path = NULL;
    struct collected *collected = NULL;

    assert_non_null(content);
    memcpy(content, head, sizeof(head) - 1);
    memset(content + sizeof(head) - 1, 'y', padding);
    memcpy(content + sizeof(head) - 1 + padding, tail, sizeof(tail) - 1);
    path = write_temporary(content, total);
    free(content);

    collected = read_path(path, DA_EVENT_FORMAT_JSON, 0);
    assert_int_equal(collected->rc, 0);
    assert_stats(collected, 2, 1, 1);
    assert_problem(collected, 0, 1, "longer than 16 MiB");
    assert_int_equal(collected->events[0].source_position, 2);

    collected_free(collected);
    unlink(path);
    free(path);
}

static void evtx_dump_record_separators(void **state)
{
    struct collected *collected = read_fixture("json-evtx-dump-records.json", DA_EVENT_FORMAT_JSON);
    const struct seen_event *events = collected->events;

    assert_int_equal(collected->rc, 0);
    /* "Record N" lines are skipped silently, other text is reported. */
    assert_stats(collected, 2, 2, 1);
    assert_krbtgt_4738(&events[0]);
    assert_int_equal(events[0].source_position, 2);
    assert_int_equal(events[1].event_id, DA_EVENT_LOGON);
    assert_int_equal(events[1].source_position, 26);
    assert_problem(collected, 0, 44, "not JSON");

    collected_free(collected);
}

/* ---- Reader contract ------------------------------------------------------------------- */

static void callback_error_stops_reading(void **state)
{
    char path[512];
    struct collected *collected = NULL;

    snprintf(path, sizeof(path), "%s%s", EVENTS_DIR, "ndjson-winlogbeat-nested.ndjson");
    collected = read_path(path, DA_EVENT_FORMAT_JSON_LINES, 2);
    assert_int_equal(collected->rc, DA_ERR_LOCAL);
    assert_string_equal(collected->err.message, "stopped by the test");
    assert_int_equal(collected->event_count, 2);
    collected_free(collected);

    snprintf(path, sizeof(path), "%s%s", EVENTS_DIR, "json-array-mixed.json");
    collected = read_path(path, DA_EVENT_FORMAT_JSON, 1);
    assert_int_equal(collected->rc, DA_ERR_LOCAL);
    assert_int_equal(collected->event_count, 1);
    collected_free(collected);
}

static void utf16_file_rejected(void **state)
{
    static const char text[] = "\xFF\xFE{\0\"\0";
    char *path = write_temporary(text, sizeof(text) - 1);
    struct collected *collected = read_path(path, DA_EVENT_FORMAT_JSON_LINES, 0);

    assert_int_equal(collected->rc, DA_ERR_USAGE);
    assert_non_null(strstr(collected->err.message, "UTF-16"));
    assert_non_null(strstr(collected->err.message, path));

    collected_free(collected);
    unlink(path);
    free(path);
}

static void missing_file_is_error(void **state)
{
    struct collected *collected =
        read_path("/nonexistent/delegaudit.ndjson", DA_EVENT_FORMAT_JSON_LINES, 0);

    assert_int_equal(collected->rc, DA_ERR_LOCAL);
    assert_non_null(strstr(collected->err.message, "/nonexistent/delegaudit.ndjson"));
    collected_free(collected);
}

static void null_stats_and_problem_callback(void **state)
{
    struct da_event_reader reader = {.on_event = collect_event};
    struct collected *collected = calloc(1, sizeof(*collected));
    struct da_error err = {0};

    assert_non_null(collected);
    reader.context = collected;
    assert_int_equal(da_events_read_json(EVENTS_DIR "ndjson-invalid-lines.ndjson",
                                         DA_EVENT_FORMAT_JSON_LINES, &reader, NULL, &err),
                     0);
    assert_int_equal(collected->event_count, 4);
    collected_free(collected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_winlogbeat_events),
        cmocka_unit_test(flattened_winlogbeat_keys),
        cmocka_unit_test(winlogbeat6_events),
        cmocka_unit_test(nxlog_events),
        cmocka_unit_test(nxlog_time_with_offset),
        cmocka_unit_test(evtx_dump_lines),
        cmocka_unit_test(byte_order_mark_accepted),
        cmocka_unit_test(invalid_lines_reported),
        cmocka_unit_test(bad_encoding_reported),
        cmocka_unit_test(overlong_line_skipped),
        cmocka_unit_test(large_record_id_rejected),
        cmocka_unit_test(search_response_hits),
        cmocka_unit_test(array_of_mixed_shapes),
        cmocka_unit_test(truncated_document),
        cmocka_unit_test(document_ends_between_elements),
        cmocka_unit_test(overlong_element_skipped),
        cmocka_unit_test(evtx_dump_record_separators),
        cmocka_unit_test(callback_error_stops_reading),
        cmocka_unit_test(utf16_file_rejected),
        cmocka_unit_test(missing_file_is_error),
        cmocka_unit_test(null_stats_and_problem_callback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
