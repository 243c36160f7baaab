/* The evidence join, on hand-built events and snapshots: the change that
 * added a krbtgt target, the actor's session, the actor's other changes,
 * missing evidence, and a backdoor that was added and removed again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auditor/evidence.h"
#include "auditor/findings.h"

#define DOMAIN_SID "S-1-5-21-1-2-3"
#define GUID_BACKDOOR "11111111-1111-1111-1111-111111111111"
#define GUID_QUIET "22222222-2222-2222-2222-222222222222"
#define GUID_FORMER "33333333-3333-3333-3333-333333333333"
#define GUID_OTHER "44444444-4444-4444-4444-444444444444"
#define ADMIN_SID DOMAIN_SID "-500"
#define LOGON_ID UINT64_C(0x1a2b3c)

static void add_account(struct da_snapshot *snapshot, const char *guid, const char *sid,
                        const char *dn, const char *sam, uint32_t uac, const char *target)
{
    struct da_account account = {0};

    account.guid = strdup(guid);
    account.sid = strdup(sid);
    account.dn = strdup(dn);
    account.sam_account_name = strdup(sam);
    account.kind = DA_KIND_USER;
    account.user_account_control = uac;
    if (target != NULL)
        assert_int_equal(da_strv_append(&account.allowed_to_delegate_to, target), 0);
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
}

static struct da_snapshot *build_snapshot(void)
{
    struct da_snapshot *snapshot = da_snapshot_new();
    struct da_krbtgt krbtgt = {0};

    krbtgt.dn = strdup("CN=krbtgt,CN=Users,DC=contoso,DC=test");
    krbtgt.sid = strdup(DOMAIN_SID "-502");
    krbtgt.sam_account_name = strdup("krbtgt");
    assert_int_equal(da_strv_append(&krbtgt.service_principal_names, "kadmin/changepw"), 0);
    assert_int_equal(da_snapshot_add_krbtgt(snapshot, &krbtgt), 0);

    add_account(snapshot, GUID_BACKDOOR, DOMAIN_SID "-1105", "CN=svc-backdoor,DC=contoso,DC=test",
                "svc-backdoor", 0x1000200, "krbtgt/CONTOSO.TEST");
    add_account(snapshot, GUID_QUIET, DOMAIN_SID "-1106", "CN=svc-quiet,DC=contoso,DC=test",
                "svc-quiet", 0x200, "KRBTGT/contoso.test");
    add_account(snapshot, GUID_FORMER, DOMAIN_SID "-1107", "CN=svc-former,DC=contoso,DC=test",
                "svc-former", 0x200, "cifs/fs1.contoso.test");
    add_account(snapshot, GUID_OTHER, DOMAIN_SID "-1108", "CN=svc-other,DC=contoso,DC=test",
                "svc-other", 0x200, "cifs/fs2.contoso.test");
    assert_int_equal(da_snapshot_sort(snapshot), 0);
    return snapshot;
}

static struct da_event account_change(const char *time, const char *target_sid,
                                      const char *target)
{
    struct da_event event = {0};

    event.event_id = DA_EVENT_USER_CHANGED;
    event.time = (char *)time;
    event.computer = (char *)"DC1.contoso.test";
    event.subject_sid = (char *)ADMIN_SID;
    event.subject_user_name = (char *)"Administrator";
    event.subject_logon_id = LOGON_ID;
    event.has_subject_logon_id = true;
    event.target_sid = (char *)target_sid;
    event.delegate_list_state = DA_DELEGATE_LIST_SET;
    return event;
}

static struct da_event object_change(const char *time, const char *guid, const char *value,
                                     enum da_directory_operation operation)
{
    struct da_event event = {0};

    event.event_id = DA_EVENT_OBJECT_MODIFIED;
    event.time = (char *)time;
    event.computer = (char *)"DC1";
    event.subject_sid = (char *)DOMAIN_SID "-1500";
    event.subject_logon_id = 0x77;
    event.has_subject_logon_id = true;
    event.object_guid = (char *)guid;
    event.object_dn = (char *)"CN=svc-former,DC=contoso,DC=test";
    event.attribute_name = (char *)"msDS-AllowedToDelegateTo";
    event.attribute_value = (char *)value;
    event.operation = operation;
    event.correlation_id = (char *)"55555555-5555-5555-5555-555555555555";
    return event;
}

struct fixture {
    struct da_snapshot *snapshot;
    const struct da_snapshot *snapshots[1]; /* the store borrows this array */
    struct da_findings findings;
    struct da_evidence *evidence;
    struct da_account_evidence *entries;
    size_t count;
};

static void load_events(struct fixture *fixture)
{
    struct da_event backdoor = account_change("2026-12-01T10:00:00.5Z", DOMAIN_SID "-1105", NULL);
    struct da_event scope = account_change("2026-12-01T10:05:00Z", DOMAIN_SID "-1108", NULL);
    struct da_event added = object_change("2026-12-02T08:00:00Z", GUID_FORMER,
                                          "krbtgt/CONTOSO.TEST", DA_OPERATION_VALUE_ADDED);
    struct da_event removed = object_change("2026-12-03T08:00:00Z", GUID_FORMER,
                                            "krbtgt/CONTOSO.TEST", DA_OPERATION_VALUE_DELETED);
    struct da_event logon = {0};
    struct da_event other_dc_logon;
    struct da_event explicit_use = {0};
    struct da_event unrelated = {0};

    assert_int_equal(da_strv_append(&backdoor.allowed_to_delegate_to, "krbtgt/CONTOSO.TEST"), 0);
    backdoor.old_uac = 0x210;
    backdoor.new_uac = 0x1000210;
    backdoor.has_uac_change = true;
    assert_int_equal(da_strv_append(&scope.allowed_to_delegate_to, "cifs/fs2.contoso.test"), 0);

    unrelated.event_id = 4688;

    logon.event_id = DA_EVENT_LOGON;
    logon.time = (char *)"2026-12-01T09:58:00Z";
    logon.computer = (char *)"dc1";
    logon.target_logon_id = LOGON_ID;
    logon.has_target_logon_id = true;
    logon.logon_type = 10;
    logon.ip_address = (char *)"192.0.2.10";
    logon.authentication_package = (char *)"Kerberos";
    other_dc_logon = logon;
    other_dc_logon.computer = (char *)"DC2.contoso.test";

    explicit_use.event_id = DA_EVENT_EXPLICIT_CREDENTIALS;
    explicit_use.time = (char *)"2026-12-01T09:59:00Z";
    explicit_use.computer = (char *)"DC1.CONTOSO.TEST";
    explicit_use.subject_logon_id = LOGON_ID;
    explicit_use.has_subject_logon_id = true;
    explicit_use.explicit_user_name = (char *)"backup-admin";

    /* Pass one, in file order, which need not be time order. */
    assert_int_equal(da_evidence_add_change(fixture->evidence, &removed), 0);
    assert_int_equal(da_evidence_add_change(fixture->evidence, &scope), 0);
    assert_int_equal(da_evidence_add_change(fixture->evidence, &backdoor), 0);
    assert_int_equal(da_evidence_add_change(fixture->evidence, &added), 0);
    assert_int_equal(da_evidence_add_change(fixture->evidence, &unrelated), 0);
    /* Pass two. */
    assert_true(da_evidence_wants_session(fixture->evidence, &logon));
    assert_false(da_evidence_wants_session(fixture->evidence, &other_dc_logon));
    assert_int_equal(da_evidence_add_session(fixture->evidence, &logon), 0);
    assert_int_equal(da_evidence_add_session(fixture->evidence, &other_dc_logon), 0);
    assert_int_equal(da_evidence_add_session(fixture->evidence, &explicit_use), 0);

    da_strv_clear(&backdoor.allowed_to_delegate_to);
    da_strv_clear(&scope.allowed_to_delegate_to);
}

static int setup(void **state)
{
    struct fixture *fixture = calloc(1, sizeof(*fixture));

    fixture->snapshot = build_snapshot();
    fixture->snapshots[0] = fixture->snapshot;
    assert_int_equal(da_findings_compute(fixture->snapshot, &fixture->findings), 0);
    assert_int_equal(fixture->findings.count, 2);
    fixture->evidence = da_evidence_new(fixture->snapshots, 1);
    assert_non_null(fixture->evidence);
    load_events(fixture);
    assert_int_equal(da_evidence_join(fixture->evidence, &fixture->findings, &fixture->entries,
                                      &fixture->count), 0);
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fixture = *state;

    da_account_evidence_free(fixture->entries, fixture->count);
    da_evidence_free(fixture->evidence);
    da_findings_clear(&fixture->findings);
    da_snapshot_free(fixture->snapshot);
    free(fixture);
    return 0;
}

static const struct da_account_evidence *entry_of(const struct fixture *fixture, const char *guid)
{
    for (size_t i = 0; i < fixture->count; i++) {
        if (fixture->entries[i].guid != NULL && strcmp(fixture->entries[i].guid, guid) == 0)
            return &fixture->entries[i];
    }
    fail_msg("no evidence entry for %s", guid);
    return NULL;
}

static void join_finds_addition(void **state)
{
    const struct fixture *fixture = *state;
    const struct da_account_evidence *entry = entry_of(fixture, GUID_BACKDOOR);

    assert_non_null(entry->finding);
    assert_int_equal(entry->status, DA_EVIDENCE_FOUND);
    assert_int_equal(entry->step_count, 2);
    assert_int_equal(entry->steps[0].kind, DA_STEP_KRBTGT_ADDED);
    assert_int_equal(entry->steps[0].values.count, 1);
    assert_string_equal(entry->steps[0].values.items[0], "krbtgt/CONTOSO.TEST");
    assert_string_equal(entry->steps[0].event->subject_sid, ADMIN_SID);
    assert_int_equal(entry->steps[1].kind, DA_STEP_PROTOCOL_TRANSITION_ON);
    assert_true(entry->protocol_transition_turned_on);
}

static void join_links_actor_session(void **state)
{
    const struct fixture *fixture = *state;
    const struct da_account_evidence *entry = entry_of(fixture, GUID_BACKDOOR);

    assert_int_equal(entry->session_count, 1);
    assert_non_null(entry->sessions[0].logon);
    /* "dc1" and "DC1.contoso.test" name the same DC; DC2 does not. */
    assert_string_equal(entry->sessions[0].logon->ip_address, "192.0.2.10");
    assert_int_equal(entry->sessions[0].logon->logon_type, 10);
    assert_int_equal(entry->sessions[0].explicit_credential_count, 1);
    assert_string_equal(entry->sessions[0].explicit_credentials[0]->explicit_user_name,
                        "backup-admin");
}

static void join_lists_actor_scope(void **state)
{
    const struct fixture *fixture = *state;
    const struct da_account_evidence *entry = entry_of(fixture, GUID_BACKDOOR);

    assert_int_equal(entry->actor_scope_count, 1);
    assert_string_equal(entry->actor_scope[0]->target_sid, DOMAIN_SID "-1108");
}

static void join_reports_missing_evidence(void **state)
{
    const struct fixture *fixture = *state;
    const struct da_account_evidence *entry = entry_of(fixture, GUID_QUIET);

    assert_non_null(entry->finding);
    assert_int_equal(entry->status, DA_EVIDENCE_MISSING);
    assert_int_equal(entry->step_count, 0);
    assert_int_equal(entry->session_count, 0);
}

static void join_reports_removed_backdoor(void **state)
{
    const struct fixture *fixture = *state;
    const struct da_account_evidence *entry = entry_of(fixture, GUID_FORMER);

    assert_null(entry->finding);
    assert_true(entry->removed_since);
    assert_string_equal(entry->sam_account_name, "svc-former");
    assert_int_equal(entry->step_count, 2);
    /* File order was removal first; the timeline is in time order. */
    assert_int_equal(entry->steps[0].kind, DA_STEP_KRBTGT_ADDED);
    assert_int_equal(entry->steps[1].kind, DA_STEP_KRBTGT_REMOVED);
}

static void join_skips_ordinary_accounts(void **state)
{
    const struct fixture *fixture = *state;

    /* Two findings and one removed backdoor; svc-other only appears in the
     * actor scope. */
    assert_int_equal(fixture->count, 3);
    for (size_t i = 0; i < fixture->count; i++)
        assert_string_not_equal(fixture->entries[i].guid, GUID_OTHER);
}

/* A 5136 that names an account only by a DN it had before a rename (no
 * ObjectGUID in the export) still matches through the older snapshot. */
static void join_matches_renamed_account(void **state)
{
    struct da_snapshot *older = da_snapshot_new();
    struct da_snapshot *newer = build_snapshot();
    const struct da_snapshot *snapshots[2] = {newer, older};
    struct da_findings findings = {0};
    struct da_evidence *evidence;
    struct da_account_evidence *entries = NULL;
    size_t count = 0;
    struct da_event added = object_change("2026-12-01T07:00:00Z", NULL, "krbtgt/CONTOSO.TEST",
                                          DA_OPERATION_VALUE_ADDED);

    add_account(older, GUID_BACKDOOR, DOMAIN_SID "-1105", "CN=old-name,OU=Old,DC=contoso,DC=test",
                "old-name", 0x200, NULL);
    assert_int_equal(da_snapshot_sort(older), 0);
    added.object_dn = (char *)"cn=OLD-NAME,ou=old,dc=contoso,dc=test";

    assert_int_equal(da_findings_compute(newer, &findings), 0);
    evidence = da_evidence_new(snapshots, 2);
    assert_int_equal(da_evidence_add_change(evidence, &added), 0);
    assert_int_equal(da_evidence_join(evidence, &findings, &entries, &count), 0);

    for (size_t i = 0; i < count; i++) {
        if (entries[i].guid == NULL || strcmp(entries[i].guid, GUID_BACKDOOR) != 0)
            continue;
        assert_int_equal(entries[i].status, DA_EVIDENCE_FOUND);
        assert_int_equal(entries[i].step_count, 1);
        assert_int_equal(entries[i].steps[0].kind, DA_STEP_KRBTGT_ADDED);
    }
    da_account_evidence_free(entries, count);
    da_evidence_free(evidence);
    da_findings_clear(&findings);
    da_snapshot_free(newer);
    da_snapshot_free(older);
}

static void names_are_stable(void **state)
{
    assert_string_equal(da_step_kind_name(DA_STEP_KRBTGT_ADDED), "krbtgt-added");
    assert_string_equal(da_step_kind_name(DA_STEP_PROTOCOL_TRANSITION_OFF),
                        "protocol-transition-off");
    assert_string_equal(da_evidence_status_name(DA_EVIDENCE_MISSING), "missing");
    assert_string_equal(da_evidence_status_name(DA_EVIDENCE_FOUND), "found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(join_finds_addition, setup, teardown),
        cmocka_unit_test_setup_teardown(join_links_actor_session, setup, teardown),
        cmocka_unit_test_setup_teardown(join_lists_actor_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(join_reports_missing_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(join_reports_removed_backdoor, setup, teardown),
        cmocka_unit_test_setup_teardown(join_skips_ordinary_accounts, setup, teardown),
        cmocka_unit_test(join_matches_renamed_account),
        cmocka_unit_test(names_are_stable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
