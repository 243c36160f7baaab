/* Unit tests of the .evtx reader on the generated fixtures of
 * tests/data/events (tests/data/events/make_evtx.py writes them): the
 * normalized events as on_event receives them, the counts, the problems
 * reported for damaged files, and the errors for files that are no .evtx. */
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

#define FIXTURE_DIR DA_TEST_DATA_DIR "/events"

#define DOMAIN_SID "S-1-5-21-3623811015-3361044348-30300820"
#define DC "DC1.contoso.test"

/* ---- Helpers ----------------------------------------------------------------------------- */

#define MAX_EVENTS 64
#define MAX_PROBLEMS 8
#define MAX_TARGETS 4

/* What a test checks of one event, copied while the event is valid. */
struct seen_event {
    unsigned long event_id;
    char time[48];
    char computer[64];
    uint64_t record_id;
    bool has_record_id;
    char source_file[512];
    unsigned long position;
    char subject_sid[96];
    uint64_t subject_logon_id;
    bool has_subject_logon_id;
    char target_sid[96];
    enum da_delegate_list_state delegate_list_state;
    char targets[MAX_TARGETS][64];
    size_t target_count;
    uint32_t old_uac;
    uint32_t new_uac;
    bool has_uac_change;
    char object_guid[48];
    char attribute_name[64];
    char attribute_value[64];
    enum da_directory_operation operation;
    char correlation_id[48];
    uint64_t target_logon_id;
    bool has_target_logon_id;
    unsigned long logon_type;
    char ip_address[64];
    char explicit_user_name[64];
    char target_server_name[64];
};

struct seen_problem {
    char file[512];
    char kind[16];
    unsigned long position;
    char message[1024];
};

struct collector {
    struct seen_event events[MAX_EVENTS];
    size_t event_count;
    struct seen_problem problems[MAX_PROBLEMS];
    size_t problem_count;
    size_t stop_after; /* return 7 from on_event after this many; 0: never */
};

static void copy(char *destination, size_t size, const char *source)
{
    snprintf(destination, size, "%s", source != NULL ? source : "");
}

static int collect_event(const struct da_event *event, void *context, struct da_error *err)
{
    struct collector *collector = context;
    struct seen_event *seen;

    assert_true(collector->event_count < MAX_EVENTS);
    seen = &collector->events[collector->event_count++];
    seen->event_id = event->event_id;
    copy(seen->time, sizeof seen->time, event->time);
    copy(seen->computer, sizeof seen->computer, event->computer);
    seen->record_id = event->record_id;
    seen->has_record_id = event->has_record_id;
    copy(seen->source_file, sizeof seen->source_file, event->source_file);
    seen->position = event->source_position;
    copy(seen->subject_sid, sizeof seen->subject_sid, event->subject_sid);
    seen->subject_logon_id = event->subject_logon_id;
    seen->has_subject_logon_id = event->has_subject_logon_id;
    copy(seen->target_sid, sizeof seen->target_sid, event->target_sid);
    seen->delegate_list_state = event->delegate_list_state;
    assert_true(event->allowed_to_delegate_to.count <= MAX_TARGETS);
    seen->target_count = event->allowed_to_delegate_to.count;
    for (size_t i = 0; i < seen->target_count; i++)
        copy(seen->targets[i], sizeof seen->targets[i], event->allowed_to_delegate_to.items[i]);
    seen->old_uac = event->old_uac;
    seen->new_uac = event->new_uac;
    seen->has_uac_change = event->has_uac_change;
    copy(seen->object_guid, sizeof seen->object_guid, event->object_guid);
    copy(seen->attribute_name, sizeof seen->attribute_name, event->attribute_name);
    copy(seen->attribute_value, sizeof seen->attribute_value, event->attribute_value);
    seen->operation = event->operation;
    copy(seen->correlation_id, sizeof seen->correlation_id, event->correlation_id);
    seen->target_logon_id = event->target_logon_id;
    seen->has_target_logon_id = event->has_target_logon_id;
    seen->logon_type = event->logon_type;
    copy(seen->ip_address, sizeof seen->ip_address, event->ip_address);
    copy(seen->explicit_user_name, sizeof seen->explicit_user_name, event->explicit_user_name);
    copy(seen->target_server_name, sizeof seen->target_server_name, event->target_server_name);

    if (collector->stop_after != 0 && collector->event_count >= collector->stop_after)
        return da_error_set(err, 7, "stopped by the test");
    return 0;
}

static void collect_problem(const char *file, const char *position_kind, unsigned long position,
                            const char *message, void *context)
{
    struct collector *collector = context;
    struct seen_problem *problem;

    assert_true(collector->problem_count < MAX_PROBLEMS);
    problem = &collector->problems[collector->problem_count++];
    copy(problem->file, sizeof problem->file, file);
    copy(problem->kind, sizeof problem->kind, position_kind);
    problem->position = position;
    copy(problem->message, sizeof problem->message, message);
}

/* Reads FIXTURE_DIR/name into *collector; returns the reader's status. */
static int read_fixture(const char *name, struct collector *collector,
                        struct da_event_read_stats *stats, struct da_error *err)
{
    char path[512];
    struct da_event_reader reader = {
        .on_event = collect_event,
        .on_problem = collect_problem,
        .context = collector,
    };

    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, name);
    return da_events_read_evtx(path, &reader, stats, err);
}

static struct collector *new_collector(void)
{
    struct collector *collector = calloc(1, sizeof *collector);

    assert_non_null(collector);
    return collector;
}

/* Reads a fixture that must read without error and checks its counts. */
static struct collector *read_ok(const char *name, unsigned long records, unsigned long kept,
                                 unsigned long malformed)
{
    struct collector *collector = new_collector();
    struct da_event_read_stats stats = {99, 99, 99}; /* the reader resets them */
    struct da_error err = {0};

    assert_int_equal(read_fixture(name, collector, &stats, &err), 0);
    assert_int_equal(stats.records, records);
    assert_int_equal(stats.kept, kept);
    assert_int_equal(stats.malformed, malformed);
    assert_int_equal(collector->event_count, kept);
    assert_int_equal(collector->problem_count, malformed);
    return collector;
}

static void assert_system(const struct seen_event *event, unsigned long event_id,
                          const char *time, uint64_t record_id, unsigned long position)
{
    assert_int_equal(event->event_id, event_id);
    assert_string_equal(event->time, time);
    assert_string_equal(event->computer, DC);
    assert_true(event->has_record_id);
    assert_int_equal(event->record_id, record_id);
    assert_int_equal(event->position, position);
    assert_non_null(strstr(event->source_file, "/events/evtx-"));
}

/* The 4738 that every damaged copy of evtx-multi.evtx still starts with. */
static void assert_krbtgt_4738(const struct seen_event *event)
{
    assert_system(event, 4738, "2024-03-01T10:15:30.1234567Z", 101, 1);
    assert_string_equal(event->target_sid, DOMAIN_SID "-1104");
    assert_string_equal(event->subject_sid, DOMAIN_SID "-500");
    assert_true(event->has_subject_logon_id);
    assert_int_equal(event->subject_logon_id, 0x3e7a1);
    assert_int_equal(event->delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_int_equal(event->target_count, 1);
    assert_string_equal(event->targets[0], "krbtgt/CONTOSO.TEST");
    assert_true(event->has_uac_change);
    assert_int_equal(event->old_uac, 0x210);
    assert_int_equal(event->new_uac, 0x1000210);
}

/* ---- Valid files ------------------------------------------------------------------------- */

static bool only_logons(unsigned long event_id, void *context)
{
    (void)context;
    return event_id == 4624;
}

static bool only_logon_text(const char *text, size_t length, void *context)
{
    const char *needle = ">4624<";

    (void)context;
    for (size_t i = 0; i + strlen(needle) <= length; i++) {
        if (memcmp(text + i, needle, strlen(needle)) == 0)
            return true;
    }
    return false;
}

/* The fixtures write EventID as template text, not as a substitution value,
 * so libevtx cannot read the identifier early and the record falls through
 * to wants_text on its XML. */
static void skipped_event_ids_not_rendered(void **state)
{
    struct collector *collector = new_collector();
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    struct da_event_reader reader = {
        .on_event = collect_event,
        .on_problem = collect_problem,
        .context = collector,
        .wants_event_id = only_logons,
        .wants_text = only_logon_text,
    };
    char path[512];

    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, "evtx-multi.evtx");
    assert_int_equal(da_events_read_evtx(path, &reader, &stats, &err), 0);
    assert_int_equal(stats.records, 7);
    assert_int_equal(stats.kept, 1);
    assert_int_equal(collector->event_count, 1);
    assert_int_equal(collector->events[0].event_id, 4624);
    free(collector);
}

/* Reads a fixture in slices of chunks_per_slice chunks (0: whole). */
static struct collector *read_sliced(const char *name, unsigned chunks_per_slice,
                                     struct da_event_read_stats *stats)
{
    struct collector *collector = new_collector();
    struct da_error err = {0};
    struct da_event_reader reader = {
        .on_event = collect_event,
        .on_problem = collect_problem,
        .context = collector,
    };
    char path[512];

    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, name);
    assert_int_equal(da_events_read_evtx_in_slices(path, chunks_per_slice, &reader, stats, &err),
                     0);
    return collector;
}

/* libevtx gets one chunk at a time behind a rewritten header; the records,
 * their positions and the events must be those of a whole-file read. */
static void slices_match_whole_file(void **state)
{
    static const char *const names[] = {"evtx-three-chunks.evtx", "evtx-truncated.evtx"};

    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        struct da_event_read_stats whole_stats = {0};
        struct da_event_read_stats sliced_stats = {0};
        struct collector *whole = read_sliced(names[n], 0, &whole_stats);
        struct collector *sliced = read_sliced(names[n], 1, &sliced_stats);

        assert_int_equal(sliced_stats.records, whole_stats.records);
        assert_int_equal(sliced_stats.kept, whole_stats.kept);
        assert_int_equal(sliced->event_count, whole->event_count);
        assert_true(whole->event_count > 0);
        for (size_t i = 0; i < whole->event_count; i++) {
            assert_int_equal(sliced->events[i].event_id, whole->events[i].event_id);
            assert_int_equal(sliced->events[i].record_id, whole->events[i].record_id);
            assert_int_equal(sliced->events[i].position, whole->events[i].position);
            assert_string_equal(sliced->events[i].target_sid, whole->events[i].target_sid);
        }
        free(whole);
        free(sliced);
    }
}

static void test_single_4738(void **state)
{
    struct collector *collector = read_ok("evtx-4738-krbtgt.evtx", 1, 1, 0);

    assert_krbtgt_4738(&collector->events[0]);
    assert_string_equal(collector->events[0].source_file,
                        FIXTURE_DIR "/evtx-4738-krbtgt.evtx");
    free(collector);
}

/* 4738, 4742, 5136 add and delete, 4624, 4648 and a 4688 that is skipped. */
static void test_every_kind(void **state)
{
    struct collector *collector = read_ok("evtx-multi.evtx", 7, 6, 0);
    const struct seen_event *event = collector->events;

    assert_krbtgt_4738(&event[0]);

    assert_system(&event[1], 4742, "2024-03-01T10:16:00.5Z", 102, 2);
    assert_string_equal(event[1].target_sid, DOMAIN_SID "-1105");
    assert_int_equal(event[1].delegate_list_state, DA_DELEGATE_LIST_SET);
    assert_int_equal(event[1].target_count, 2);
    assert_string_equal(event[1].targets[0], "cifs/fs1.contoso.test");
    assert_string_equal(event[1].targets[1], "krbtgt/contoso.test");
    assert_true(event[1].has_uac_change);
    assert_int_equal(event[1].old_uac, 0x1000);
    assert_int_equal(event[1].new_uac, 0x1001000);

    assert_system(&event[2], 5136, "2024-03-01T10:17:00Z", 103, 3);
    assert_int_equal(event[2].operation, DA_OPERATION_VALUE_ADDED);
    assert_string_equal(event[2].attribute_name, "msDS-AllowedToDelegateTo");
    assert_string_equal(event[2].attribute_value, "krbtgt/CONTOSO.TEST");
    assert_string_equal(event[2].object_guid, "5f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    assert_string_equal(event[2].correlation_id, "a1b2c3d4-0001-4000-8000-00000000abcd");

    assert_system(&event[3], 5136, "2024-03-01T10:18:00Z", 104, 4);
    assert_int_equal(event[3].operation, DA_OPERATION_VALUE_DELETED);
    assert_string_equal(event[3].attribute_value, "cifs/fs1.contoso.test");
    assert_string_equal(event[3].correlation_id, "a1b2c3d4-0001-4000-8000-00000000abcd");

    assert_system(&event[4], 4624, "2024-03-01T10:20:00Z", 105, 5);
    assert_string_equal(event[4].subject_sid, DOMAIN_SID "-1104");
    assert_true(event[4].has_target_logon_id);
    assert_int_equal(event[4].target_logon_id, 0x5a3f21);
    assert_int_equal(event[4].logon_type, 3);
    assert_string_equal(event[4].ip_address, "::ffff:10.0.0.23");

    assert_system(&event[5], 4648, "2024-03-01T10:21:00Z", 106, 6);
    assert_true(event[5].has_subject_logon_id);
    assert_int_equal(event[5].subject_logon_id, 0x5a3f21);
    assert_string_equal(event[5].explicit_user_name, "Administrator");
    assert_string_equal(event[5].target_server_name, "dc1.contoso.test");
    assert_string_equal(event[5].ip_address, "10.0.0.23");
    free(collector);
}

/* Records 1000-1049 in chunks of 20, 20 and 10; each tenth sets krbtgt. */
static void test_three_chunks(void **state)
{
    struct collector *collector = read_ok("evtx-three-chunks.evtx", 50, 50, 0);

    for (size_t i = 0; i < 50; i++) {
        const struct seen_event *event = &collector->events[i];

        assert_int_equal(event->record_id, 1000 + i);
        assert_int_equal(event->position, i + 1);
        if (i % 10 == 9) {
            assert_int_equal(event->delegate_list_state, DA_DELEGATE_LIST_SET);
            assert_string_equal(event->targets[0], "krbtgt/CONTOSO.TEST");
        } else {
            assert_int_equal(event->delegate_list_state, DA_DELEGATE_LIST_UNCHANGED);
        }
    }
    assert_string_equal(collector->events[49].time, "2024-03-02T08:00:49Z");
    free(collector);
}

/* stats may be NULL. */
static void test_no_stats(void **state)
{
    struct collector *collector = new_collector();
    struct da_error err = {0};

    assert_int_equal(read_fixture("evtx-multi.evtx", collector, NULL, &err), 0);
    assert_int_equal(collector->event_count, 6);
    free(collector);
}

/* A non-zero return of on_event stops the reading and is returned. */
static void test_stop_from_callback(void **state)
{
    struct collector *collector = new_collector();
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};

    collector->stop_after = 2;
    assert_int_equal(read_fixture("evtx-multi.evtx", collector, &stats, &err), 7);
    assert_string_equal(err.message, "stopped by the test");
    assert_int_equal(collector->event_count, 2);
    assert_int_equal(stats.kept, 2);
    assert_int_equal(stats.records, 2);
    free(collector);
}

/* da_events_read_file recognises the format and gives the same events. */
static void test_read_file_detects_evtx(void **state)
{
    struct collector *collector = new_collector();
    struct da_event_reader reader = {.on_event = collect_event, .context = collector};
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    enum da_event_format format = DA_EVENT_FORMAT_UNKNOWN;

    assert_int_equal(da_events_detect(FIXTURE_DIR "/evtx-multi.evtx", &format, &err), 0);
    assert_int_equal(format, DA_EVENT_FORMAT_EVTX);
    assert_int_equal(da_events_read_file(FIXTURE_DIR "/evtx-multi.evtx", &reader, &stats, &err), 0);
    assert_int_equal(stats.records, 7);
    assert_int_equal(stats.kept, 6);
    assert_krbtgt_4738(&collector->events[0]);
    free(collector);
}

/* ---- Damaged files ----------------------------------------------------------------------- */

static void assert_damage_report(const struct seen_problem *problem, unsigned long position)
{
    assert_string_equal(problem->kind, "record");
    assert_int_equal(problem->position, position);
    assert_non_null(strstr(problem->file, "/events/evtx-"));
    assert_non_null(strstr(problem->message, "damaged"));
}

/* Record 103 has a token that is no binary XML: libevtx fails on that
 * record only, and the records after it are read. */
static void test_bad_record_content(void **state)
{
    struct collector *collector = read_ok("evtx-bad-binxml.evtx", 7, 5, 2);
    const struct seen_problem *problem = &collector->problems[0];

    assert_krbtgt_4738(&collector->events[0]);
    assert_int_equal(collector->events[1].record_id, 102);
    assert_int_equal(collector->events[2].record_id, 104);
    assert_int_equal(collector->events[2].position, 4);
    assert_int_equal(collector->events[4].record_id, 106);

    assert_string_equal(problem->file, FIXTURE_DIR "/evtx-bad-binxml.evtx");
    assert_string_equal(problem->kind, "record");
    assert_int_equal(problem->position, 3);
    assert_non_null(strstr(problem->message, "libevtx cannot read the record: libevtx_"));
    /* libevtx also marks the file corrupted, which is reported after the
     * last record. */
    assert_damage_report(&collector->problems[1], 8);
    free(collector);
}

/* Record 103 has no record signature, or an impossible size: libevtx
 * stops reading the chunk there and marks the file corrupted. */
static void test_bad_record_header(void **state)
{
    const char *names[] = {"evtx-bad-signature.evtx", "evtx-bad-size.evtx"};

    for (size_t i = 0; i < 2; i++) {
        struct collector *collector = read_ok(names[i], 2, 2, 1);

        assert_krbtgt_4738(&collector->events[0]);
        assert_int_equal(collector->events[1].record_id, 102);
        assert_damage_report(&collector->problems[0], 3);
        free(collector);
    }
}

/* Cut in the middle of the second chunk: the first chunk is read, the
 * second is lost whole, and the damage is reported. */
static void test_truncated(void **state)
{
    struct collector *collector = read_ok("evtx-truncated.evtx", 20, 20, 1);

    assert_int_equal(collector->events[19].record_id, 1019);
    assert_damage_report(&collector->problems[0], 21);
    free(collector);
}

/* A file header and no chunk. */
static void test_header_only(void **state)
{
    struct collector *collector = read_ok("evtx-header-only.evtx", 0, 0, 1);

    assert_damage_report(&collector->problems[0], 1);
    free(collector);
}

/* ---- Files that are no .evtx ------------------------------------------------------------- */

static void test_not_evtx(void **state)
{
    struct collector *collector = new_collector();
    struct da_event_read_stats stats = {0};
    struct da_error err = {0};
    const char *path = DA_TEST_DATA_DIR "/snapshots/valid_v1.json";
    struct da_event_reader reader = {.on_event = collect_event, .context = collector};

    assert_int_equal(da_events_read_evtx(path, &reader, &stats, &err), DA_ERR_USAGE);
    assert_int_equal(err.status, DA_ERR_USAGE);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "no .evtx file"));
    assert_int_equal(collector->event_count, 0);
    free(collector);
}

/* The signature is there, the rest is not: libevtx's own message. */
static void test_signature_only(void **state)
{
    char path[] = "/tmp/test_events_evtx.XXXXXX";
    int fd = mkstemp(path);
    struct collector *collector = new_collector();
    struct da_event_reader reader = {.on_event = collect_event, .context = collector};
    struct da_error err = {0};
    static const char junk[] = "ElfFile\0this is not the rest of an evtx file header";

    assert_true(fd >= 0);
    assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);

    assert_int_equal(da_events_read_evtx(path, &reader, NULL, &err), DA_ERR_USAGE);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "libevtx cannot open it as an .evtx file: libevtx_"));
    unlink(path);
    free(collector);
}

static void test_missing_file(void **state)
{
    struct collector *collector = new_collector();
    struct da_event_reader reader = {.on_event = collect_event, .context = collector};
    struct da_error err = {0};
    const char *path = FIXTURE_DIR "/no-such-file.evtx";

    assert_int_equal(da_events_read_evtx(path, &reader, NULL, &err), DA_ERR_LOCAL);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "No such file"));
    free(collector);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_4738),
        cmocka_unit_test(slices_match_whole_file),
        cmocka_unit_test(skipped_event_ids_not_rendered),
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_three_chunks),
        cmocka_unit_test(test_no_stats),
        cmocka_unit_test(test_stop_from_callback),
        cmocka_unit_test(test_read_file_detects_evtx),
        cmocka_unit_test(test_bad_record_content),
        cmocka_unit_test(test_bad_record_header),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_not_evtx),
        cmocka_unit_test(test_signature_only),
        cmocka_unit_test(test_missing_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
