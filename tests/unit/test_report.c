/* Unit tests of the text and JSON renderers in reports/.
 *
 * The findings and the diff are built by hand, so these tests check the
 * renderers alone and not da_findings_compute or da_diff_compute. Output
 * goes to an in-memory stream. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "reports/report.h"

#define GUID_BACKDOOR "0a000000-0000-4000-8000-000000000001"
#define GUID_SQL "0b000000-0000-4000-8000-000000000002"
#define GUID_WEB "0c000000-0000-4000-8000-000000000003"
#define GUID_NEW "0d000000-0000-4000-8000-000000000004"
#define GUID_OLD "0e000000-0000-4000-8000-000000000005"

#define DOMAIN_SID "S-1-5-21-1004336348-1177238915-682003330"
#define CURRENT_PATH "/var/lib/delegaudit/snapshot-20261204T195100Z.json"
#define PREVIOUS_PATH "/var/lib/delegaudit/snapshot-20261203T195100Z.json"

#define UAC_NORMAL_ACCOUNT 0x00000200u
#define UAC_WORKSTATION_TRUST_ACCOUNT 0x00001000u

/* Fixtures: snapshots, findings and diffs built by hand. */

struct account_spec {
    const char *guid;
    const char *dn;
    const char *sid;
    const char *sam_account_name;
    enum da_account_kind kind;
    uint32_t user_account_control;
    const char *targets[4];        /* NULL-terminated */
    const char *allowed_to_act[3]; /* NULL-terminated */
    const char *when_changed;
};

static const struct account_spec backdoor_spec = {
    GUID_BACKDOOR,
    "CN=svc-backdoor,OU=Service Accounts,DC=contoso,DC=test",
    DOMAIN_SID "-1105",
    "svc-backdoor",
    DA_KIND_USER,
    UAC_NORMAL_ACCOUNT | DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
    {"krbtgt/CONTOSO.TEST", "cifs/fs1.contoso.test", NULL},
    {NULL},
    "20261204195012.0Z",
};

static const struct account_spec sql_spec = {
    GUID_SQL,
    "CN=svc-sql,OU=Service Accounts,DC=contoso,DC=test",
    DOMAIN_SID "-1106",
    "svc-sql",
    DA_KIND_USER,
    UAC_NORMAL_ACCOUNT,
    {"krbtgt/contoso.test", NULL},
    {NULL},
    "20261101080000.0Z",
};

/* svc-web before and after an attacker moved it, added a krbtgt target,
 * removed another target and turned protocol transition on. */
static const struct account_spec web_before_spec = {
    GUID_WEB,
    "CN=svc-web,OU=Old Web,DC=contoso,DC=test",
    DOMAIN_SID "-1107",
    "svc-web",
    DA_KIND_USER,
    UAC_NORMAL_ACCOUNT,
    {"http/web1.contoso.test", "http/web2.contoso.test", NULL},
    {NULL},
    "20261001080000.0Z",
};

static const struct account_spec web_after_spec = {
    GUID_WEB,
    "CN=svc-web,OU=Web,DC=contoso,DC=test",
    DOMAIN_SID "-1107",
    "svc-web",
    DA_KIND_USER,
    UAC_NORMAL_ACCOUNT | DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
    {"http/web1.contoso.test", "krbtgt/CONTOSO.TEST", NULL},
    {NULL},
    "20261204194500.0Z",
};

static const struct account_spec new_spec = {
    GUID_NEW,
    "CN=WS01,OU=Workstations,DC=contoso,DC=test",
    DOMAIN_SID "-1200",
    "WS01$",
    DA_KIND_COMPUTER,
    UAC_WORKSTATION_TRUST_ACCOUNT,
    {"cifs/fs2.contoso.test", NULL},
    {DOMAIN_SID "-1201", NULL},
    "20261204190000.0Z",
};

static const struct account_spec old_spec = {
    GUID_OLD,
    "CN=svc-old,OU=Service Accounts,DC=contoso,DC=test",
    DOMAIN_SID "-1108",
    "svc-old",
    DA_KIND_USER,
    UAC_NORMAL_ACCOUNT,
    {"cifs/old.contoso.test", NULL},
    {NULL},
    "20250101000000.0Z",
};

static char *duplicate_or_null(const char *value)
{
    char *copy;

    if (value == NULL)
        return NULL;
    copy = strdup(value);
    assert_non_null(copy);
    return copy;
}

static void append_values(struct da_strv *strv, const char *const *values)
{
    for (size_t i = 0; values[i] != NULL; i++)
        assert_int_equal(da_strv_append(strv, values[i]), 0);
}

static void add_account(struct da_snapshot *snapshot, const struct account_spec *spec)
{
    struct da_account account = {0};

    account.guid = duplicate_or_null(spec->guid);
    account.dn = duplicate_or_null(spec->dn);
    account.sid = duplicate_or_null(spec->sid);
    account.sam_account_name = duplicate_or_null(spec->sam_account_name);
    account.kind = spec->kind;
    account.user_account_control = spec->user_account_control;
    append_values(&account.allowed_to_delegate_to, spec->targets);
    append_values(&account.allowed_to_act, spec->allowed_to_act);
    account.has_allowed_to_act = spec->allowed_to_act[0] != NULL;
    account.when_changed = duplicate_or_null(spec->when_changed);
    account.usn_changed = 4000;
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
}

static void add_domain_krbtgt(struct da_snapshot *snapshot)
{
    struct da_krbtgt krbtgt = {0};

    krbtgt.dn = duplicate_or_null("CN=krbtgt,CN=Users,DC=contoso,DC=test");
    krbtgt.sid = duplicate_or_null(DOMAIN_SID "-502");
    krbtgt.sam_account_name = duplicate_or_null("krbtgt");
    assert_int_equal(da_strv_append(&krbtgt.service_principal_names, "kadmin/changepw"), 0);
    assert_int_equal(da_snapshot_add_krbtgt(snapshot, &krbtgt), 0);
}

static struct da_snapshot *new_snapshot(const char *time, uint64_t highest_committed_usn)
{
    struct da_snapshot *snapshot = da_snapshot_new();

    assert_non_null(snapshot);
    snapshot->poll.time = duplicate_or_null(time);
    snapshot->poll.dc_host = duplicate_or_null("dc1.contoso.test");
    snapshot->poll.uri = duplicate_or_null("ldaps://dc1.contoso.test");
    snapshot->poll.invocation_id = duplicate_or_null("6f1c0b52-3a4d-4e5f-8a9b-0c1d2e3f4a5b");
    snapshot->poll.highest_committed_usn = highest_committed_usn;
    snapshot->poll.base_dn = duplicate_or_null("DC=contoso,DC=test");
    snapshot->poll.domain_sid = duplicate_or_null(DOMAIN_SID);
    snapshot->poll.complete = true;
    add_domain_krbtgt(snapshot);
    return snapshot;
}

static const struct da_account *find_account(const struct da_snapshot *snapshot, const char *guid)
{
    const struct da_account *account = da_snapshot_find(snapshot, guid);

    assert_non_null(account);
    return account;
}

static void add_finding(struct da_findings *findings, const char *rule_id,
                        enum da_severity severity, const struct da_account *account,
                        const char *value)
{
    struct da_finding *items =
        realloc(findings->items, (findings->count + 1) * sizeof(*findings->items));
    struct da_finding *finding;

    assert_non_null(items);
    findings->items = items;
    finding = &findings->items[findings->count++];
    memset(finding, 0, sizeof(*finding));
    finding->rule_id = rule_id;
    finding->severity = severity;
    finding->account = account;
    assert_int_equal(da_strv_append(&finding->values, value), 0);
}

static void free_findings(struct da_findings *findings)
{
    for (size_t i = 0; i < findings->count; i++)
        da_strv_clear(&findings->items[i].values);
    free(findings->items);
    memset(findings, 0, sizeof(*findings));
}

static struct da_account_change *add_change(struct da_diff *diff, enum da_change_type type,
                                            const struct da_account *before,
                                            const struct da_account *after)
{
    struct da_account_change *changes =
        realloc(diff->changes, (diff->count + 1) * sizeof(*diff->changes));
    struct da_account_change *change;

    assert_non_null(changes);
    diff->changes = changes;
    change = &diff->changes[diff->count++];
    memset(change, 0, sizeof(*change));
    change->type = type;
    change->before = before;
    change->after = after;
    return change;
}

static void free_diff(struct da_diff *diff)
{
    for (size_t i = 0; i < diff->count; i++) {
        da_strv_clear(&diff->changes[i].targets_added);
        da_strv_clear(&diff->changes[i].targets_removed);
        da_strv_clear(&diff->changes[i].allowed_to_act_added);
        da_strv_clear(&diff->changes[i].allowed_to_act_removed);
    }
    free(diff->changes);
    memset(diff, 0, sizeof(*diff));
}

/* A poll of the directory after an attack, with or without the poll of the
 * day before as its baseline. */
struct scenario {
    struct da_snapshot *current;
    struct da_snapshot *previous;
    struct da_findings findings;
    struct da_diff diff;
    struct da_poll_stats stats;
    struct da_report report;
};

static void build_findings(struct scenario *scenario)
{
    const struct da_snapshot *current = scenario->current;

    add_finding(&scenario->findings, DA_RULE_KRBTGT_PROTOCOL_TRANSITION, DA_SEVERITY_CRITICAL,
                find_account(current, GUID_BACKDOOR), "krbtgt/CONTOSO.TEST");
    add_finding(&scenario->findings, DA_RULE_KRBTGT_CONSTRAINED, DA_SEVERITY_HIGH,
                find_account(current, GUID_SQL), "krbtgt/contoso.test");
    add_finding(&scenario->findings, DA_RULE_KRBTGT_PROTOCOL_TRANSITION, DA_SEVERITY_CRITICAL,
                find_account(current, GUID_WEB), "krbtgt/CONTOSO.TEST");
}

/* The changes from previous to current, in GUID order: svc-web modified,
 * WS01$ gained, svc-old lost. */
static void build_diff(struct scenario *scenario)
{
    const struct da_snapshot *current = scenario->current;
    const struct da_snapshot *previous = scenario->previous;
    struct da_account_change *change;

    change = add_change(&scenario->diff, DA_CHANGE_MODIFIED, find_account(previous, GUID_WEB),
                        find_account(current, GUID_WEB));
    change->moved = true;
    change->protocol_transition_changed = true;
    change->user_account_control_changed = true;
    assert_int_equal(da_strv_append(&change->targets_added, "krbtgt/CONTOSO.TEST"), 0);
    assert_int_equal(da_strv_append(&change->targets_removed, "http/web2.contoso.test"), 0);

    change = add_change(&scenario->diff, DA_CHANGE_GAINED, NULL, find_account(current, GUID_NEW));
    assert_int_equal(da_strv_append(&change->targets_added, "cifs/fs2.contoso.test"), 0);
    assert_int_equal(da_strv_append(&change->allowed_to_act_added, DOMAIN_SID "-1201"), 0);
    change->allowed_to_act_changed = true;

    change = add_change(&scenario->diff, DA_CHANGE_LOST, find_account(previous, GUID_OLD), NULL);
    assert_int_equal(da_strv_append(&change->targets_removed, "cifs/old.contoso.test"), 0);
    change->presence = DA_PRESENCE_NOT_FOUND;
}

static void scenario_build(struct scenario *scenario, bool with_previous)
{
    memset(scenario, 0, sizeof(*scenario));

    scenario->current = new_snapshot("2026-12-04T19:51:00Z", 4242);
    add_account(scenario->current, &backdoor_spec);
    add_account(scenario->current, &sql_spec);
    add_account(scenario->current, &web_after_spec);
    add_account(scenario->current, &new_spec);
    assert_int_equal(da_snapshot_sort(scenario->current), 0);
    build_findings(scenario);

    scenario->stats.entries = 262;
    scenario->stats.pages = 3;
    scenario->stats.references_skipped = 0;
    scenario->stats.seconds = 0.11;

    scenario->report.command = "poll";
    scenario->report.current = scenario->current;
    scenario->report.current_path = CURRENT_PATH;
    scenario->report.findings = &scenario->findings;
    scenario->report.stats = &scenario->stats;

    if (!with_previous)
        return;

    scenario->previous = new_snapshot("2026-12-03T19:51:00Z", 4100);
    add_account(scenario->previous, &backdoor_spec);
    add_account(scenario->previous, &sql_spec);
    add_account(scenario->previous, &web_before_spec);
    add_account(scenario->previous, &old_spec);
    assert_int_equal(da_snapshot_sort(scenario->previous), 0);
    build_diff(scenario);

    scenario->report.previous = scenario->previous;
    scenario->report.previous_path = PREVIOUS_PATH;
    scenario->report.diff = &scenario->diff;
}

/* Turns the scenario into the report of `delegaudit diff OLD NEW`. */
static void scenario_make_diff_command(struct scenario *scenario)
{
    scenario->report.command = "diff";
    scenario->report.stats = NULL;
    scenario->report.current_path = "/srv/new.json";
    scenario->report.previous_path = "/srv/old.json";
}

static void scenario_free(struct scenario *scenario)
{
    free_diff(&scenario->diff);
    free_findings(&scenario->findings);
    da_snapshot_free(scenario->previous);
    da_snapshot_free(scenario->current);
    memset(scenario, 0, sizeof(*scenario));
}

/* Rendering helpers. */

typedef int (*report_writer)(FILE *out, const struct da_report *report);

static char *render(report_writer writer, const struct da_report *report)
{
    char *buffer = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buffer, &size);

    assert_non_null(out);
    assert_int_equal(writer(out, report), 0);
    assert_int_equal(fclose(out), 0);
    assert_non_null(buffer);
    return buffer;
}

/* Renders the JSON report, checks that it ends with a newline and parses
 * it back. */
static cJSON *render_json(const struct da_report *report, char **text)
{
    char *buffer = render(da_report_write_json, report);
    size_t length = strlen(buffer);
    cJSON *document;

    assert_true(length > 0);
    assert_int_equal(buffer[length - 1], '\n');
    document = cJSON_Parse(buffer);
    if (document == NULL)
        print_message("invalid JSON:\n%s\n", buffer);
    assert_non_null(document);

    if (text != NULL)
        *text = buffer;
    else
        free(buffer);
    return document;
}

static void assert_contains(const char *text, const char *expected)
{
    if (strstr(text, expected) == NULL)
        print_message("expected text not found: \"%s\"\nin output:\n%s\n", expected, text);
    assert_non_null(strstr(text, expected));
}

static void assert_not_contains(const char *text, const char *unexpected)
{
    if (strstr(text, unexpected) != NULL)
        print_message("unexpected text found: \"%s\"\nin output:\n%s\n", unexpected, text);
    assert_null(strstr(text, unexpected));
}

static const cJSON *member(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

    if (item == NULL)
        print_message("missing member \"%s\"\n", name);
    assert_non_null(item);
    return item;
}

static void assert_member_string(const cJSON *object, const char *name, const char *expected)
{
    const cJSON *item = member(object, name);

    assert_true(cJSON_IsString(item));
    assert_string_equal(item->valuestring, expected);
}

static void assert_member_null(const cJSON *object, const char *name)
{
    const cJSON *item = member(object, name);

    if (!cJSON_IsNull(item))
        print_message("member \"%s\" is not null\n", name);
    assert_true(cJSON_IsNull(item));
}

static void assert_member_number(const cJSON *object, const char *name, double expected)
{
    const cJSON *item = member(object, name);

    assert_true(cJSON_IsNumber(item));
    assert_true(item->valuedouble == expected);
}

static void assert_member_bool(const cJSON *object, const char *name, bool expected)
{
    const cJSON *item = member(object, name);

    if (!cJSON_IsBool(item) || cJSON_IsTrue(item) != expected)
        print_message("member \"%s\" is not %s\n", name, expected ? "true" : "false");
    assert_true(cJSON_IsBool(item));
    assert_int_equal(cJSON_IsTrue(item) ? 1 : 0, expected ? 1 : 0);
}

/* Checks that a member is an array of exactly the expected strings. */
static void assert_member_strings(const cJSON *object, const char *name,
                                  const char *const *expected, size_t count)
{
    const cJSON *array = member(object, name);

    assert_true(cJSON_IsArray(array));
    assert_int_equal(cJSON_GetArraySize(array), count);
    for (size_t i = 0; i < count; i++) {
        const cJSON *item = cJSON_GetArrayItem(array, (int)i);

        assert_true(cJSON_IsString(item));
        assert_string_equal(item->valuestring, expected[i]);
    }
}

/* Position of expected in text, for checks of order. */
static size_t offset_of(const char *text, const char *expected)
{
    assert_contains(text, expected);
    return (size_t)(strstr(text, expected) - text);
}

/* Text report. */

static void text_first_poll_with_findings(void **state)
{
    struct scenario scenario;
    char *text;

    (void)state;
    scenario_build(&scenario, false);
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "delegaudit poll of dc1.contoso.test (ldaps://dc1.contoso.test), "
                          "base DC=contoso,DC=test, domain SID " DOMAIN_SID "\n");
    assert_contains(text, "Time 2026-12-04T19:51:00Z, highestCommittedUSN 4242, invocationId "
                          "6f1c0b52-3a4d-4e5f-8a9b-0c1d2e3f4a5b\n");
    assert_contains(text, "Read 262 accounts with delegation settings in 3 pages (0.11 s).\n");
    assert_contains(text, "krbtgt accounts: 1\n");
    assert_contains(text, "Snapshot saved: " CURRENT_PATH "\n");
    assert_contains(text, "Findings: 3 (2 critical, 1 high)\n");
    assert_contains(text, "  CRITICAL krbtgt-delegation-protocol-transition\n"
                          "    Account             svc-backdoor (user)\n"
                          "    DN                  CN=svc-backdoor,OU=Service Accounts,"
                          "DC=contoso,DC=test\n"
                          "    SID                 " DOMAIN_SID "-1105\n"
                          "    GUID                " GUID_BACKDOOR "\n"
                          "    Targets             krbtgt/CONTOSO.TEST\n"
                          "    Protocol transition on (TRUSTED_TO_AUTH_FOR_DELEGATION)\n"
                          "    userAccountControl  0x01000200 (TRUSTED_TO_AUTH_FOR_DELEGATION)\n"
                          "    whenChanged         2026-12-04T19:50:12Z\n"
                          "    Why: S4U2self plus S4U2proxy");
    assert_contains(text, "  HIGH     krbtgt-delegation\n"
                          "    Account             svc-sql (user)\n");
    assert_contains(text, "    Protocol transition off\n");
    assert_contains(text, "First poll: no previous snapshot to compare with.\n");
    assert_not_contains(text, "Changes");

    /* Critical findings come first, although svc-sql sorts before svc-web. */
    assert_true(offset_of(text, "svc-web (user)") < offset_of(text, "svc-sql (user)"));

    free(text);
    scenario_free(&scenario);
}

static void text_poll_with_changes(void **state)
{
    struct scenario scenario;
    char *text;

    (void)state;
    scenario_build(&scenario, true);
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "delegaudit poll of dc1.contoso.test");
    assert_contains(text, "Changes since 2026-12-03T19:51:00Z (" PREVIOUS_PATH "): 3\n");

    assert_contains(text, "  ~ svc-web (user) changed\n"
                          "      DN                  CN=svc-web,OU=Web,DC=contoso,DC=test\n"
                          "      Renamed or moved    from CN=svc-web,OU=Old Web,"
                          "DC=contoso,DC=test\n"
                          "      GUID                " GUID_WEB "\n"
                          "      added msDS-AllowedToDelegateTo krbtgt/CONTOSO.TEST"
                          "  <- krbtgt target\n"
                          "      removed msDS-AllowedToDelegateTo http/web2.contoso.test\n"
                          "      protocol transition turned on\n"
                          "      userAccountControl 0x00000200 -> 0x01000200 "
                          "(TRUSTED_TO_AUTH_FOR_DELEGATION)\n"
                          "      finding CRITICAL krbtgt-delegation-protocol-transition\n");

    assert_contains(text, "  + WS01$ (computer) gained delegation\n"
                          "      DN                  CN=WS01,OU=Workstations,DC=contoso,DC=test\n"
                          "      GUID                " GUID_NEW "\n"
                          "      added msDS-AllowedToDelegateTo cifs/fs2.contoso.test\n"
                          "      added msDS-AllowedToActOnBehalfOfOtherIdentity " DOMAIN_SID
                          "-1201\n");

    assert_contains(text, "  - svc-old (user) lost all delegation; not found: deleted or moved "
                          "out of the search base\n"
                          "      DN                  CN=svc-old,OU=Service Accounts,"
                          "DC=contoso,DC=test\n"
                          "      GUID                " GUID_OLD "\n"
                          "      removed msDS-AllowedToDelegateTo cifs/old.contoso.test\n");

    /* An ordinary target carries no krbtgt mark. */
    assert_not_contains(text, "cifs/fs2.contoso.test  <- krbtgt target");
    /* Findings come before changes. */
    assert_true(offset_of(text, "Findings: ") < offset_of(text, "Changes since"));

    free(text);
    scenario_free(&scenario);
}

static void text_krbtgt_changes_first(void **state)
{
    struct scenario scenario;
    struct da_account_change web;
    char *text;

    (void)state;
    scenario_build(&scenario, true);
    /* Put the change that adds a krbtgt target last, as GUID order may. */
    web = scenario.diff.changes[0];
    scenario.diff.changes[0] = scenario.diff.changes[1];
    scenario.diff.changes[1] = scenario.diff.changes[2];
    scenario.diff.changes[2] = web;
    text = render(da_report_write_text, &scenario.report);

    assert_true(offset_of(text, "~ svc-web (user) changed") <
                offset_of(text, "+ WS01$ (computer) gained delegation"));
    /* The other changes keep their order. */
    assert_true(offset_of(text, "+ WS01$ (computer) gained delegation") <
                offset_of(text, "- svc-old (user) lost all delegation"));

    free(text);
    scenario_free(&scenario);
}

static void text_lost_presence_wording(void **state)
{
    static const struct {
        enum da_presence presence;
        const char *expected;
    } cases[] = {
        {DA_PRESENCE_UNKNOWN, "svc-old (user) lost all delegation; not checked whether the "
                              "account still exists\n"},
        {DA_PRESENCE_EXISTS, "svc-old (user) lost all delegation; still in the directory\n"},
        {DA_PRESENCE_NOT_FOUND, "svc-old (user) lost all delegation; not found: deleted or "
                                "moved out of the search base\n"},
    };
    struct scenario scenario;

    (void)state;
    scenario_build(&scenario, true);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text;

        scenario.diff.changes[2].presence = cases[i].presence;
        text = render(da_report_write_text, &scenario.report);
        assert_contains(text, cases[i].expected);
        free(text);
    }

    scenario_free(&scenario);
}

static void text_diff_command_header(void **state)
{
    struct scenario scenario;
    char *text;

    (void)state;
    scenario_build(&scenario, true);
    scenario_make_diff_command(&scenario);
    text = render(da_report_write_text, &scenario.report);

    assert_true(strncmp(text, "delegaudit diff /srv/old.json -> /srv/new.json\n", 47) == 0);
    assert_contains(text, "Old  poll of dc1.contoso.test (ldaps://dc1.contoso.test) at "
                          "2026-12-03T19:51:00Z, base DC=contoso,DC=test, "
                          "highestCommittedUSN 4100\n");
    assert_contains(text, "New  poll of dc1.contoso.test (ldaps://dc1.contoso.test) at "
                          "2026-12-04T19:51:00Z, base DC=contoso,DC=test, "
                          "highestCommittedUSN 4242\n");
    assert_contains(text, "Changes: 3\n");
    assert_contains(text, "  ~ svc-web (user) changed\n");
    assert_not_contains(text, "delegaudit poll");
    assert_not_contains(text, "Snapshot saved");
    assert_not_contains(text, "Read 262");

    free(text);
    scenario_free(&scenario);
}

static void text_no_findings_no_changes(void **state)
{
    struct scenario scenario;
    struct da_findings no_findings = {0};
    struct da_diff no_changes = {0};
    char *text;

    (void)state;
    scenario_build(&scenario, true);
    scenario.report.findings = &no_findings;
    scenario.report.diff = &no_changes;
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "\nNo findings.\n");
    assert_contains(text, "\nNo changes since 2026-12-03T19:51:00Z (" PREVIOUS_PATH ").\n");
    assert_not_contains(text, "CRITICAL");
    free(text);

    scenario_make_diff_command(&scenario);
    text = render(da_report_write_text, &scenario.report);
    assert_contains(text, "\nNo findings.\n");
    assert_contains(text, "\nNo changes.\n");
    free(text);

    /* A NULL findings pointer reads as no findings. */
    scenario.report.findings = NULL;
    text = render(da_report_write_text, &scenario.report);
    assert_contains(text, "\nNo findings.\n");
    free(text);

    scenario_free(&scenario);
}

static void text_statistics_wording(void **state)
{
    struct scenario scenario;
    char *text;

    (void)state;
    scenario_build(&scenario, false);
    scenario.stats.entries = 1;
    scenario.stats.pages = 1;
    scenario.stats.references_skipped = 2;
    scenario.current->poll.complete = false;
    scenario.current->krbtgts[0].read_only_dc = true;
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "Read 1 account with delegation settings in 1 page (0.11 s).\n");
    assert_contains(text, "Skipped 2 continuation references: accounts in other naming "
                          "contexts or domains were not read.\n");
    assert_contains(text, "Warning: the current poll did not read every page, so accounts "
                          "may be missing from it.\n");
    assert_contains(text, "krbtgt accounts: 1 (1 of a read-only DC)\n");

    free(text);
    scenario_free(&scenario);
}

/* A directory value that tries to rewrite the terminal and to forge lines
 * of the report. */
#define HOSTILE_NAME "evil\x1b]0;owned\x07\nCRITICAL forged line\r\x1b[2J"
#define HOSTILE_TARGET "krbtgt/CONTOSO.TEST\n    Why: forged"
#define INVALID_UTF8_TARGET "cifs/\xff\xc0\xaf\xed\xa0\x80"
#define C1_AND_BIDI_DN "CN=\xc2\x9b" "2J\xe2\x80\xae" "gpj.exe,DC=contoso,DC=test"

static void scenario_make_hostile(struct scenario *scenario)
{
    struct da_account *account = (struct da_account *)find_account(scenario->current,
                                                                   GUID_BACKDOOR);

    free(account->sam_account_name);
    account->sam_account_name = duplicate_or_null(HOSTILE_NAME);
    free(account->dn);
    account->dn = duplicate_or_null(C1_AND_BIDI_DN);
    assert_int_equal(da_strv_append(&account->allowed_to_delegate_to, INVALID_UTF8_TARGET), 0);
    assert_int_equal(da_strv_append(&scenario->findings.items[0].values, HOSTILE_TARGET), 0);
    assert_int_equal(da_strv_append(&scenario->findings.items[0].values, INVALID_UTF8_TARGET),
                     0);
}

static void text_hostile_values_escaped(void **state)
{
    struct scenario scenario;
    char *text;

    (void)state;
    scenario_build(&scenario, true);
    scenario_make_hostile(&scenario);
    text = render(da_report_write_text, &scenario.report);

    assert_null(strchr(text, '\x1b'));
    assert_null(strchr(text, '\x07'));
    assert_null(strchr(text, '\r'));
    assert_not_contains(text, "\nCRITICAL forged line");
    assert_not_contains(text, "\n    Why: forged");
    assert_not_contains(text, "\xc2\x9b");
    assert_not_contains(text, "\xe2\x80\xae");
    assert_not_contains(text, "\xff");

    assert_contains(text, "    Account             evil\\x1b]0;owned\\x07\\x0aCRITICAL forged "
                          "line\\x0d\\x1b[2J (user)\n");
    assert_contains(text, "    DN                  CN=\\u009b2J\\u202egpj.exe,"
                          "DC=contoso,DC=test\n");
    assert_contains(text, "                        krbtgt/CONTOSO.TEST\\x0a    Why: forged\n");
    assert_contains(text, "                        cifs/\\xff\\xc0\\xaf\\xed\\xa0\\x80\n");

    free(text);
    scenario_free(&scenario);
}

static void text_resource_based_and_unknown_rule(void **state)
{
    struct scenario scenario;
    struct da_findings findings = {0};
    char *text;

    (void)state;
    scenario_build(&scenario, false);
    add_finding(&findings, DA_RULE_KRBTGT_RESOURCE_BASED, DA_SEVERITY_CRITICAL,
                find_account(scenario.current, GUID_NEW), DOMAIN_SID "-1201");
    add_finding(&findings, "rule-from-a-later-version", DA_SEVERITY_HIGH,
                find_account(scenario.current, GUID_SQL), "some value");
    scenario.report.findings = &findings;
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "Findings: 2 (1 critical, 1 high)\n");
    assert_contains(text, "  CRITICAL krbtgt-resource-based-delegation\n"
                          "    Account             WS01$ (computer)\n");
    assert_contains(text, "    Trustees            " DOMAIN_SID "-1201\n");
    /* No protocol transition line for the krbtgt account delegated to. */
    assert_true(offset_of(text, "Protocol transition") > offset_of(text, "rule-from-a-later"));
    assert_contains(text, "    Why: the listed principals can use S4U2self plus S4U2proxy to "
                          "this\n"
                          "         krbtgt account to get a TGT for any user.\n");
    assert_contains(text, "  HIGH     rule-from-a-later-version\n");
    assert_contains(text, "    Values              some value\n");
    /* A rule this version does not know gets no reason line. */
    assert_int_equal(offset_of(text, "Why:"), offset_of(text, "Why: the listed"));
    assert_null(strstr(strstr(text, "rule-from-a-later-version"), "Why:"));

    free(text);
    free_findings(&findings);
    scenario_free(&scenario);
}

/* Builds an account on the stack. Its strings are literals: never pass it
 * to da_account_clear. */
static struct da_account stack_account(const char *guid, const char *dn, const char *sid,
                                       const char *sam_account_name, enum da_account_kind kind,
                                       uint32_t user_account_control)
{
    struct da_account account = {0};

    account.guid = (char *)guid;
    account.dn = (char *)dn;
    account.sid = (char *)sid;
    account.sam_account_name = (char *)sam_account_name;
    account.kind = kind;
    account.user_account_control = user_account_control;
    return account;
}

static void text_change_details(void **state)
{
    struct scenario scenario;
    struct da_diff diff = {0};
    struct da_account before = stack_account(GUID_WEB, "CN=svc-web,DC=contoso,DC=test",
                                             DOMAIN_SID "-1107", "svc-web", DA_KIND_USER,
                                             UAC_NORMAL_ACCOUNT |
                                                 DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION);
    struct da_account after = stack_account(GUID_WEB, "CN=svc-web,DC=contoso,DC=test",
                                            "S-1-5-21-9-9-9-2107", "web01$", DA_KIND_COMPUTER,
                                            UAC_WORKSTATION_TRUST_ACCOUNT | DA_UAC_ACCOUNTDISABLE |
                                                DA_UAC_TRUSTED_FOR_DELEGATION);
    struct da_account gained = stack_account(GUID_NEW, "CN=svc-t2a4d,DC=contoso,DC=test", NULL,
                                             "svc-t2a4d", DA_KIND_GMSA,
                                             DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION |
                                                 DA_UAC_TRUSTED_FOR_DELEGATION);
    struct da_account lost = stack_account(GUID_OLD, "CN=svc-gone,DC=contoso,DC=test", NULL,
                                           NULL, DA_KIND_MSA,
                                           DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION);
    struct da_account_change *change;
    char *text;

    (void)state;
    after.has_allowed_to_act = true;
    gained.has_allowed_to_act = true;

    change = add_change(&diff, DA_CHANGE_MODIFIED, &before, &after);
    change->sam_account_name_changed = true;
    change->sid_changed = true;
    change->kind_changed = true;
    change->protocol_transition_changed = true;
    change->unconstrained_changed = true;
    change->user_account_control_changed = true;
    change->allowed_to_act_changed = true;
    add_change(&diff, DA_CHANGE_GAINED, NULL, &gained);
    add_change(&diff, DA_CHANGE_LOST, &lost, NULL);

    scenario_build(&scenario, true);
    scenario.report.diff = &diff;
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "  ~ web01$ (computer, disabled) changed\n"
                          "      DN                  CN=svc-web,DC=contoso,DC=test\n"
                          "      GUID                " GUID_WEB "\n"
                          "      sAMAccountName      svc-web -> web01$\n"
                          "      objectSid           " DOMAIN_SID "-1107 -> S-1-5-21-9-9-9-2107\n"
                          "      Kind                user -> computer\n"
                          "      protocol transition turned off\n"
                          "      unconstrained delegation turned on\n"
                          "      msDS-AllowedToActOnBehalfOfOtherIdentity set\n"
                          "      userAccountControl 0x01000200 (TRUSTED_TO_AUTH_FOR_DELEGATION) -> "
                          "0x00081002 (ACCOUNTDISABLE, TRUSTED_FOR_DELEGATION)\n");
    assert_contains(text, "  + svc-t2a4d (gmsa) gained delegation\n"
                          "      DN                  CN=svc-t2a4d,DC=contoso,DC=test\n"
                          "      GUID                " GUID_NEW "\n"
                          "      protocol transition on\n"
                          "      unconstrained delegation on\n"
                          "      msDS-AllowedToActOnBehalfOfOtherIdentity set, no trustee read\n");
    /* Without sAMAccountName the DN names the account. */
    assert_contains(text, "  - CN=svc-gone,DC=contoso,DC=test (msa) lost all delegation; not "
                          "checked whether the account still exists\n"
                          "      DN                  CN=svc-gone,DC=contoso,DC=test\n"
                          "      GUID                " GUID_OLD "\n"
                          "      protocol transition was on\n");
    assert_not_contains(text, "Renamed or moved");

    free(text);
    free_diff(&diff);
    scenario_free(&scenario);
}

static void text_base_change_note(void **state)
{
    struct scenario scenario;
    char *text;

    (void)state;
    scenario_build(&scenario, true);
    free(scenario.previous->poll.base_dn);
    scenario.previous->poll.base_dn = duplicate_or_null("OU=Service Accounts,DC=contoso,DC=test");
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "Note: the previous snapshot used base OU=Service Accounts,DC=contoso,"
                          "DC=test, so accounts outside one of the two bases appear as gained "
                          "or lost.\n");
    free(text);

    /* DNs compare without case, as AD compares them. */
    free(scenario.previous->poll.base_dn);
    scenario.previous->poll.base_dn = duplicate_or_null("dc=CONTOSO,dc=test");
    text = render(da_report_write_text, &scenario.report);
    assert_not_contains(text, "Note:");
    free(text);

    scenario_free(&scenario);
}

/* JSON report. */

static const cJSON *finding_for(const cJSON *document, const char *guid)
{
    const cJSON *finding;

    cJSON_ArrayForEach(finding, member(document, "findings")) {
        const cJSON *account = member(finding, "account");

        if (strcmp(member(account, "guid")->valuestring, guid) == 0)
            return finding;
    }
    print_message("no finding for account %s\n", guid);
    fail();
    return NULL;
}

static void json_first_poll_with_findings(void **state)
{
    static const char *const backdoor_targets[] = {"krbtgt/CONTOSO.TEST"};
    struct scenario scenario;
    cJSON *document;
    const cJSON *poll;
    const cJSON *finding;
    const cJSON *account;

    (void)state;
    scenario_build(&scenario, false);
    document = render_json(&scenario.report, NULL);

    assert_member_string(document, "format", "delegaudit-report");
    assert_member_number(document, "format_version", 1);
    assert_member_string(document, "command", "poll");
    assert_member_null(document, "previous_poll");
    assert_member_string(document, "snapshot_file", CURRENT_PATH);
    assert_member_null(document, "previous_snapshot_file");
    assert_member_null(document, "changes");

    poll = member(document, "poll");
    assert_member_string(poll, "time", "2026-12-04T19:51:00Z");
    assert_member_string(poll, "dc_host", "dc1.contoso.test");
    assert_member_string(poll, "uri", "ldaps://dc1.contoso.test");
    assert_member_string(poll, "invocation_id", "6f1c0b52-3a4d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_member_number(poll, "highest_committed_usn", 4242);
    assert_member_string(poll, "base_dn", "DC=contoso,DC=test");
    assert_member_string(poll, "domain_sid", DOMAIN_SID);
    assert_member_bool(poll, "complete", true);

    assert_member_number(member(document, "statistics"), "entries", 262);
    assert_member_number(member(document, "statistics"), "pages", 3);
    assert_member_number(member(document, "statistics"), "references_skipped", 0);
    assert_member_number(member(document, "statistics"), "seconds", 0.11);

    /* The JSON keeps the snapshot's order of findings, unlike the text. */
    assert_int_equal(cJSON_GetArraySize(member(document, "findings")), 3);
    finding = cJSON_GetArrayItem(member(document, "findings"), 0);
    assert_member_string(finding, "rule_id", DA_RULE_KRBTGT_PROTOCOL_TRANSITION);
    assert_member_string(finding, "severity", da_severity_name(DA_SEVERITY_CRITICAL));
    assert_member_strings(finding, "values", backdoor_targets, 1);
    assert_member_bool(finding, "protocol_transition", true);

    account = member(finding, "account");
    assert_string_equal(account->child->string, "guid");
    assert_member_string(account, "guid", GUID_BACKDOOR);
    assert_member_string(account, "dn", backdoor_spec.dn);
    assert_member_string(account, "sam_account_name", "svc-backdoor");
    assert_member_string(account, "kind", "user");

    finding = finding_for(document, GUID_SQL);
    assert_member_string(finding, "rule_id", DA_RULE_KRBTGT_CONSTRAINED);
    assert_member_string(finding, "severity", da_severity_name(DA_SEVERITY_HIGH));
    assert_member_bool(finding, "protocol_transition", false);

    cJSON_Delete(document);
    scenario_free(&scenario);
}

static const cJSON *change_for(const cJSON *document, const char *guid)
{
    const cJSON *change;

    cJSON_ArrayForEach(change, member(document, "changes")) {
        if (strcmp(member(change, "guid")->valuestring, guid) == 0)
            return change;
    }
    print_message("no change for account %s\n", guid);
    fail();
    return NULL;
}

static void json_diff_changes(void **state)
{
    static const char *const web_added[] = {"krbtgt/CONTOSO.TEST"};
    static const char *const web_removed[] = {"http/web2.contoso.test"};
    static const char *const new_added[] = {"cifs/fs2.contoso.test"};
    static const char *const new_trustees[] = {DOMAIN_SID "-1201"};
    static const char *const old_removed[] = {"cifs/old.contoso.test"};
    struct scenario scenario;
    cJSON *document;
    const cJSON *change;

    (void)state;
    scenario_build(&scenario, true);
    scenario_make_diff_command(&scenario);
    document = render_json(&scenario.report, NULL);

    assert_member_string(document, "command", "diff");
    assert_member_string(document, "snapshot_file", "/srv/new.json");
    assert_member_string(document, "previous_snapshot_file", "/srv/old.json");
    assert_member_null(document, "statistics");
    assert_member_string(member(document, "previous_poll"), "time", "2026-12-03T19:51:00Z");
    assert_member_number(member(document, "previous_poll"), "highest_committed_usn", 4100);
    assert_true(cJSON_IsArray(member(document, "changes")));
    assert_int_equal(cJSON_GetArraySize(member(document, "changes")), 3);

    change = change_for(document, GUID_WEB);
    assert_member_string(change, "type", da_change_type_name(DA_CHANGE_MODIFIED));
    assert_member_string(change, "dn", web_after_spec.dn);
    assert_member_string(change, "previous_dn", web_before_spec.dn);
    assert_member_string(change, "sam_account_name", "svc-web");
    assert_member_string(change, "kind", "user");
    assert_member_bool(change, "moved", true);
    assert_member_bool(change, "sam_account_name_changed", false);
    assert_member_bool(change, "protocol_transition_changed", true);
    assert_member_bool(change, "protocol_transition", true);
    assert_member_bool(change, "unconstrained_changed", false);
    assert_member_bool(change, "user_account_control_changed", true);
    assert_member_number(change, "user_account_control_before", 0x200);
    assert_member_number(change, "user_account_control_after", 0x01000200);
    assert_member_strings(change, "targets_added", web_added, 1);
    assert_member_strings(change, "targets_removed", web_removed, 1);
    assert_member_strings(change, "allowed_to_act_added", NULL, 0);
    assert_member_strings(change, "allowed_to_act_removed", NULL, 0);
    assert_member_bool(change, "allowed_to_act_changed", false);
    assert_member_null(change, "presence");

    change = change_for(document, GUID_NEW);
    assert_member_string(change, "type", da_change_type_name(DA_CHANGE_GAINED));
    assert_member_string(change, "kind", "computer");
    assert_member_null(change, "previous_dn");
    assert_member_bool(change, "protocol_transition", false);
    assert_member_null(change, "user_account_control_before");
    assert_member_number(change, "user_account_control_after", 0x1000);
    assert_member_strings(change, "targets_added", new_added, 1);
    assert_member_strings(change, "allowed_to_act_added", new_trustees, 1);
    assert_member_bool(change, "allowed_to_act_changed", true);
    assert_member_null(change, "presence");

    change = change_for(document, GUID_OLD);
    assert_member_string(change, "type", da_change_type_name(DA_CHANGE_LOST));
    assert_member_string(change, "dn", old_spec.dn);
    assert_member_null(change, "previous_dn");
    assert_member_null(change, "protocol_transition");
    assert_member_number(change, "user_account_control_before", 0x200);
    assert_member_null(change, "user_account_control_after");
    assert_member_strings(change, "targets_removed", old_removed, 1);
    assert_member_string(change, "presence", da_presence_name(DA_PRESENCE_NOT_FOUND));

    cJSON_Delete(document);
    scenario_free(&scenario);
}

static void json_no_findings_no_changes(void **state)
{
    struct scenario scenario;
    struct da_findings no_findings = {0};
    struct da_diff no_changes = {0};
    cJSON *document;

    (void)state;
    scenario_build(&scenario, true);
    scenario.report.findings = &no_findings;
    scenario.report.diff = &no_changes;
    document = render_json(&scenario.report, NULL);

    assert_true(cJSON_IsArray(member(document, "findings")));
    assert_int_equal(cJSON_GetArraySize(member(document, "findings")), 0);
    assert_true(cJSON_IsArray(member(document, "changes")));
    assert_int_equal(cJSON_GetArraySize(member(document, "changes")), 0);
    assert_true(cJSON_IsObject(member(document, "previous_poll")));

    cJSON_Delete(document);
    scenario_free(&scenario);
}

enum json_type {
    JSON_STRING,
    JSON_NUMBER,
    JSON_BOOL,
    JSON_ARRAY,
    JSON_OBJECT,
    JSON_STRING_OR_NULL,
    JSON_NUMBER_OR_NULL,
    JSON_BOOL_OR_NULL,
    JSON_OBJECT_OR_NULL,
    JSON_ARRAY_OR_NULL,
};

struct member_type {
    const char *name;
    enum json_type type;
};

static bool has_type(const cJSON *item, enum json_type type)
{
    switch (type) {
    case JSON_STRING:
        return cJSON_IsString(item);
    case JSON_NUMBER:
        return cJSON_IsNumber(item);
    case JSON_BOOL:
        return cJSON_IsBool(item);
    case JSON_ARRAY:
        return cJSON_IsArray(item);
    case JSON_OBJECT:
        return cJSON_IsObject(item);
    case JSON_STRING_OR_NULL:
        return cJSON_IsString(item) || cJSON_IsNull(item);
    case JSON_NUMBER_OR_NULL:
        return cJSON_IsNumber(item) || cJSON_IsNull(item);
    case JSON_BOOL_OR_NULL:
        return cJSON_IsBool(item) || cJSON_IsNull(item);
    case JSON_OBJECT_OR_NULL:
        return cJSON_IsObject(item) || cJSON_IsNull(item);
    case JSON_ARRAY_OR_NULL:
        return cJSON_IsArray(item) || cJSON_IsNull(item);
    }
    return false;
}

/* Checks that object has exactly the listed members, with their types. */
static void assert_members(const cJSON *object, const struct member_type *members, size_t count)
{
    assert_true(cJSON_IsObject(object));
    for (size_t i = 0; i < count; i++) {
        const cJSON *item = member(object, members[i].name);

        if (!has_type(item, members[i].type))
            print_message("member \"%s\" has the wrong type\n", members[i].name);
        assert_true(has_type(item, members[i].type));
    }
    assert_int_equal(cJSON_GetArraySize(object), count);
}

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const struct member_type document_members[] = {
    {"format", JSON_STRING},
    {"format_version", JSON_NUMBER},
    {"command", JSON_STRING},
    {"poll", JSON_OBJECT},
    {"previous_poll", JSON_OBJECT_OR_NULL},
    {"snapshot_file", JSON_STRING_OR_NULL},
    {"previous_snapshot_file", JSON_STRING_OR_NULL},
    {"statistics", JSON_OBJECT_OR_NULL},
    {"findings", JSON_ARRAY},
    {"changes", JSON_ARRAY_OR_NULL},
    {"comparison_skipped", JSON_STRING_OR_NULL},
};

static const struct member_type poll_members[] = {
    {"time", JSON_STRING_OR_NULL},
    {"dc_host", JSON_STRING_OR_NULL},
    {"uri", JSON_STRING_OR_NULL},
    {"invocation_id", JSON_STRING_OR_NULL},
    {"highest_committed_usn", JSON_NUMBER},
    {"base_dn", JSON_STRING_OR_NULL},
    {"domain_sid", JSON_STRING_OR_NULL},
    {"complete", JSON_BOOL},
};

static const struct member_type statistics_members[] = {
    {"entries", JSON_NUMBER},
    {"pages", JSON_NUMBER},
    {"references_skipped", JSON_NUMBER},
    {"seconds", JSON_NUMBER},
};

static const struct member_type finding_members[] = {
    {"rule_id", JSON_STRING},
    {"severity", JSON_STRING},
    {"account", JSON_OBJECT},
    {"values", JSON_ARRAY},
    {"protocol_transition", JSON_BOOL},
};

static const struct member_type change_members[] = {
    {"type", JSON_STRING},
    {"guid", JSON_STRING},
    {"dn", JSON_STRING},
    {"previous_dn", JSON_STRING_OR_NULL},
    {"sam_account_name", JSON_STRING_OR_NULL},
    {"kind", JSON_STRING},
    {"moved", JSON_BOOL},
    {"sam_account_name_changed", JSON_BOOL},
    {"previous_sam_account_name", JSON_STRING_OR_NULL},
    {"sid_changed", JSON_BOOL},
    {"kind_changed", JSON_BOOL},
    {"protocol_transition_changed", JSON_BOOL},
    {"protocol_transition", JSON_BOOL_OR_NULL},
    {"unconstrained_changed", JSON_BOOL},
    {"user_account_control_changed", JSON_BOOL},
    {"user_account_control_before", JSON_NUMBER_OR_NULL},
    {"user_account_control_after", JSON_NUMBER_OR_NULL},
    {"targets_added", JSON_ARRAY},
    {"targets_removed", JSON_ARRAY},
    {"allowed_to_act_added", JSON_ARRAY},
    {"allowed_to_act_removed", JSON_ARRAY},
    {"allowed_to_act_changed", JSON_BOOL},
    {"presence", JSON_STRING_OR_NULL},
};

static void json_schema_members_typed(void **state)
{
    struct scenario scenario;
    cJSON *document;
    const cJSON *item;

    (void)state;
    scenario_build(&scenario, true);
    document = render_json(&scenario.report, NULL);

    assert_members(document, document_members, COUNT(document_members));
    assert_members(member(document, "poll"), poll_members, COUNT(poll_members));
    assert_members(member(document, "previous_poll"), poll_members, COUNT(poll_members));
    assert_members(member(document, "statistics"), statistics_members,
                   COUNT(statistics_members));

    cJSON_ArrayForEach(item, member(document, "findings")) {
        const cJSON *value;

        assert_members(item, finding_members, COUNT(finding_members));
        assert_true(cJSON_IsString(member(member(item, "account"), "guid")));
        cJSON_ArrayForEach(value, member(item, "values")) {
            assert_true(cJSON_IsString(value));
        }
    }
    cJSON_ArrayForEach(item, member(document, "changes")) {
        assert_members(item, change_members, COUNT(change_members));
    }

    cJSON_Delete(document);
    scenario_free(&scenario);
}

static void json_hostile_values_round_trip(void **state)
{
    struct scenario scenario;
    cJSON *document;
    char *text;
    const cJSON *finding;
    const cJSON *values;

    (void)state;
    scenario_build(&scenario, true);
    scenario_make_hostile(&scenario);
    document = render_json(&scenario.report, &text);

    /* No raw control, C1, bidi or invalid byte in the document itself. */
    assert_null(strchr(text, '\x1b'));
    assert_null(strchr(text, '\x07'));
    assert_null(strchr(text, '\r'));
    assert_not_contains(text, "\xc2\x9b");
    assert_not_contains(text, "\xe2\x80\xae");
    assert_not_contains(text, "\xff");
    assert_not_contains(text, "\xc0\xaf");
    assert_not_contains(text, "\xed\xa0\x80");

    /* Valid values decode to exactly what the directory returned. */
    finding = finding_for(document, GUID_BACKDOOR);
    assert_member_string(member(finding, "account"), "sam_account_name", HOSTILE_NAME);
    assert_member_string(member(finding, "account"), "dn", C1_AND_BIDI_DN);
    values = member(finding, "values");
    assert_int_equal(cJSON_GetArraySize(values), 3);
    assert_string_equal(cJSON_GetArrayItem(values, 1)->valuestring, HOSTILE_TARGET);

    /* Each invalid byte becomes U+FFFD. */
    assert_string_equal(cJSON_GetArrayItem(values, 2)->valuestring,
                        "cifs/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd");

    cJSON_Delete(document);
    free(text);
    scenario_free(&scenario);
}

/* NULL optional fields. */

static void scenario_make_sparse(struct scenario *scenario)
{
    struct da_account *account = (struct da_account *)find_account(scenario->current, GUID_SQL);
    struct da_poll_info *poll = &scenario->current->poll;

    free(account->sid);
    account->sid = NULL;
    free(account->sam_account_name);
    account->sam_account_name = NULL;
    free(account->when_changed);
    account->when_changed = NULL;

    free(poll->domain_sid);
    poll->domain_sid = NULL;
    free(poll->invocation_id);
    poll->invocation_id = NULL;
    free(poll->dc_host);
    poll->dc_host = NULL;

    scenario->report.current_path = NULL;
    scenario->report.previous_path = NULL;
}

static void text_null_optional_fields(void **state)
{
    struct scenario scenario;
    char *text;

    (void)state;
    scenario_build(&scenario, true);
    scenario_make_sparse(&scenario);
    text = render(da_report_write_text, &scenario.report);

    assert_contains(text, "delegaudit poll of - (ldaps://dc1.contoso.test), "
                          "base DC=contoso,DC=test\n");
    assert_contains(text, ", invocationId -\n");
    assert_contains(text, "Snapshot not saved.\n");
    /* Without sAMAccountName the DN names the account. */
    assert_contains(text, "    Account             CN=svc-sql,OU=Service Accounts,"
                          "DC=contoso,DC=test (user)\n");
    assert_contains(text, "    SID                 -\n");
    assert_contains(text, "    whenChanged         -\n");
    assert_contains(text, "Changes since 2026-12-03T19:51:00Z: 3\n");
    assert_not_contains(text, "(null)");
    free(text);

    scenario_make_diff_command(&scenario);
    scenario.report.current_path = NULL;
    scenario.report.previous_path = NULL;
    text = render(da_report_write_text, &scenario.report);
    assert_contains(text, "delegaudit diff - -> -\n");
    assert_not_contains(text, "(null)");
    free(text);

    scenario_free(&scenario);
}

static void json_null_optional_fields(void **state)
{
    struct scenario scenario;
    cJSON *document;
    const cJSON *poll;

    (void)state;
    scenario_build(&scenario, true);
    scenario_make_sparse(&scenario);
    document = render_json(&scenario.report, NULL);

    assert_members(document, document_members, COUNT(document_members));
    assert_member_null(document, "snapshot_file");
    assert_member_null(document, "previous_snapshot_file");
    poll = member(document, "poll");
    assert_members(poll, poll_members, COUNT(poll_members));
    assert_member_null(poll, "domain_sid");
    assert_member_null(poll, "invocation_id");
    assert_member_null(poll, "dc_host");
    assert_member_string(member(finding_for(document, GUID_SQL), "account"), "guid", GUID_SQL);

    cJSON_Delete(document);
    scenario_free(&scenario);
}

static void json_usn_written_exactly(void **state)
{
    struct scenario scenario;
    cJSON *document;
    char *text;

    (void)state;
    scenario_build(&scenario, false);
    /* 2^53 + 1 is the first integer a double cannot hold. */
    scenario.current->poll.highest_committed_usn = UINT64_C(9007199254740993);
    document = render_json(&scenario.report, &text);

    assert_contains(text, "9007199254740993");

    cJSON_Delete(document);
    free(text);
    scenario_free(&scenario);
}

/* cJSON allocation hooks that fail the n-th allocation. */
static unsigned long allocations_left;

static void *failing_malloc(size_t size)
{
    if (allocations_left == 0)
        return NULL;
    allocations_left--;
    return malloc(size);
}

/* Fails each cJSON allocation in turn, da_account_to_json's included: the
 * writer must return -1 each time, and the sanitizer build checks that
 * nothing leaks. The escaping of the printed document allocates with plain
 * malloc, which this test does not reach. */
static void json_out_of_memory(void **state)
{
    cJSON_Hooks failing_hooks = {failing_malloc, free};
    struct scenario scenario;
    unsigned long limit;
    int result = -1;

    (void)state;
    scenario_build(&scenario, true);

    for (limit = 0; limit < 100000 && result != 0; limit++) {
        char *buffer = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buffer, &size);

        assert_non_null(out);
        allocations_left = limit;
        cJSON_InitHooks(&failing_hooks);
        result = da_report_write_json(out, &scenario.report);
        cJSON_InitHooks(NULL);
        assert_int_equal(fclose(out), 0);

        if (result != 0)
            assert_int_equal(result, -1);
        free(buffer);
    }
    assert_int_equal(result, 0);
    /* The loop must have failed some allocations before it succeeded. */
    assert_true(limit > 100);

    scenario_free(&scenario);
}

/* Errors. */

static void report_write_errors(void **state)
{
    static const char *const paths[] = {"/dev/full", "/dev/null"};
    static const char *const modes[] = {"w", "r"};
    struct scenario scenario;

    (void)state;
    scenario_build(&scenario, true);

    /* /dev/full fails the flush with ENOSPC; a read-only stream fails each
     * write. */
    for (size_t i = 0; i < COUNT(paths); i++) {
        FILE *out = fopen(paths[i], modes[i]);

        assert_non_null(out);
        assert_int_equal(da_report_write_text(out, &scenario.report), -1);
        clearerr(out);
        assert_int_equal(da_report_write_json(out, &scenario.report), -1);
        fclose(out);
    }

    scenario.report.current = NULL;
    assert_int_equal(da_report_write_text(stdout, &scenario.report), -1);
    assert_int_equal(da_report_write_json(stdout, &scenario.report), -1);
    assert_int_equal(da_report_write_text(stdout, NULL), -1);
    assert_int_equal(da_report_write_json(stdout, NULL), -1);

    scenario_free(&scenario);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_first_poll_with_findings),
        cmocka_unit_test(text_poll_with_changes),
        cmocka_unit_test(text_krbtgt_changes_first),
        cmocka_unit_test(text_lost_presence_wording),
        cmocka_unit_test(text_diff_command_header),
        cmocka_unit_test(text_no_findings_no_changes),
        cmocka_unit_test(text_statistics_wording),
        cmocka_unit_test(text_hostile_values_escaped),
        cmocka_unit_test(text_null_optional_fields),
        cmocka_unit_test(text_resource_based_and_unknown_rule),
        cmocka_unit_test(text_change_details),
        cmocka_unit_test(text_base_change_note),
        cmocka_unit_test(json_first_poll_with_findings),
        cmocka_unit_test(json_diff_changes),
        cmocka_unit_test(json_no_findings_no_changes),
        cmocka_unit_test(json_schema_members_typed),
        cmocka_unit_test(json_hostile_values_round_trip),
        cmocka_unit_test(json_null_optional_fields),
        cmocka_unit_test(json_usn_written_exactly),
        cmocka_unit_test(json_out_of_memory),
        cmocka_unit_test(report_write_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
