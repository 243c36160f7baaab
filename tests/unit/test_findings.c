/* Unit tests for da_findings_compute. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auditor/findings.h"

#define KRBTGT_DN "CN=krbtgt,CN=Users,DC=contoso,DC=test"
#define KRBTGT_SID "S-1-5-21-1004336348-1177238915-682003330-502"

static char *copy_string(const char *value)
{
    char *copy = NULL;

    if (value == NULL)
        return NULL;
    copy = strdup(value);
    assert_non_null(copy);
    return copy;
}

/* Adds an account; targets is a NULL-terminated list or NULL. */
static void add_account(struct da_snapshot *snapshot, const char *guid, const char *dn,
                        const char *sid, uint32_t user_account_control, const char *const *targets)
{
    struct da_account account = {0};

    account.guid = copy_string(guid);
    account.dn = copy_string(dn);
    account.sid = copy_string(sid);
    account.kind = DA_KIND_USER;
    account.user_account_control = 0x200u | user_account_control;
    for (size_t i = 0; targets != NULL && targets[i] != NULL; i++)
        assert_int_equal(da_strv_append(&account.allowed_to_delegate_to, targets[i]), 0);
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
}

static struct da_account *last_account(struct da_snapshot *snapshot)
{
    return &snapshot->accounts[snapshot->account_count - 1];
}

static void add_domain_krbtgt(struct da_snapshot *snapshot, const char *sid)
{
    struct da_krbtgt krbtgt = {0};

    krbtgt.dn = copy_string(KRBTGT_DN);
    krbtgt.sid = copy_string(sid);
    krbtgt.sam_account_name = copy_string("krbtgt");
    assert_int_equal(da_strv_append(&krbtgt.service_principal_names, "kadmin/changepw"), 0);
    assert_int_equal(da_snapshot_add_krbtgt(snapshot, &krbtgt), 0);
}

static struct da_snapshot *new_snapshot(void)
{
    struct da_snapshot *snapshot = da_snapshot_new();

    assert_non_null(snapshot);
    add_domain_krbtgt(snapshot, KRBTGT_SID);
    return snapshot;
}

static void severity_names(void **state)
{
    (void)state;
    assert_string_equal(da_severity_name(DA_SEVERITY_HIGH), "high");
    assert_string_equal(da_severity_name(DA_SEVERITY_CRITICAL), "critical");
}

static void protocol_transition_is_critical(void **state)
{
    static const char *const targets[] = {"krbtgt/CONTOSO.TEST", NULL};
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    add_account(snapshot, "00000000-0000-0000-0000-000000000001",
                "CN=svc1,CN=Users,DC=contoso,DC=test", "S-1-5-21-1-2-3-1101",
                DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, targets);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 1);
    assert_string_equal(findings.items[0].rule_id, DA_RULE_KRBTGT_PROTOCOL_TRANSITION);
    assert_int_equal(findings.items[0].severity, DA_SEVERITY_CRITICAL);
    assert_ptr_equal(findings.items[0].account, &snapshot->accounts[0]);
    assert_int_equal(findings.items[0].values.count, 1);
    assert_string_equal(findings.items[0].values.items[0], "krbtgt/CONTOSO.TEST");

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void constrained_only_is_high(void **state)
{
    static const char *const targets[] = {"KRBTGT/contoso.test", NULL};
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    add_account(snapshot, "00000000-0000-0000-0000-000000000001",
                "CN=svc1,CN=Users,DC=contoso,DC=test", "S-1-5-21-1-2-3-1101", 0, targets);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 1);
    assert_string_equal(findings.items[0].rule_id, DA_RULE_KRBTGT_CONSTRAINED);
    assert_int_equal(findings.items[0].severity, DA_SEVERITY_HIGH);
    assert_int_equal(findings.items[0].values.count, 1);
    assert_string_equal(findings.items[0].values.items[0], "KRBTGT/contoso.test");

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void only_matching_targets_listed(void **state)
{
    static const char *const targets[] = {
        "cifs/dc1.contoso.test", "kadmin/changepw@CONTOSO.TEST", "http/web.contoso.test",
        "krbtgt/CONTOSO",        "kadmin/changepw:464",          NULL,
    };
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    add_account(snapshot, "00000000-0000-0000-0000-000000000001",
                "CN=svc1,CN=Users,DC=contoso,DC=test", "S-1-5-21-1-2-3-1101",
                DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, targets);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 1);
    assert_int_equal(findings.items[0].values.count, 2);
    assert_string_equal(findings.items[0].values.items[0], "kadmin/changepw@CONTOSO.TEST");
    assert_string_equal(findings.items[0].values.items[1], "krbtgt/CONTOSO");

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void ordinary_delegation_not_reported(void **state)
{
    static const char *const targets[] = {"cifs/dc1.contoso.test", "http/krbtgt.contoso.test",
                                          NULL};
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    /* Constrained delegation with protocol transition to ordinary services. */
    add_account(snapshot, "00000000-0000-0000-0000-000000000001",
                "CN=svc1,CN=Users,DC=contoso,DC=test", "S-1-5-21-1-2-3-1101",
                DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, targets);
    /* Unconstrained delegation. */
    add_account(snapshot, "00000000-0000-0000-0000-000000000002",
                "CN=app1,CN=Computers,DC=contoso,DC=test", "S-1-5-21-1-2-3-1102",
                DA_UAC_TRUSTED_FOR_DELEGATION, NULL);
    /* Resource-based delegation on an ordinary account. */
    add_account(snapshot, "00000000-0000-0000-0000-000000000003",
                "CN=file1,CN=Computers,DC=contoso,DC=test", "S-1-5-21-1-2-3-1103", 0, NULL);
    last_account(snapshot)->has_allowed_to_act = true;
    assert_int_equal(da_strv_append(&last_account(snapshot)->allowed_to_act, "S-1-5-21-1-2-3-1101"),
                     0);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 0);

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void resource_based_on_krbtgt(void **state)
{
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    /* The SID decides, whatever the letter case of its "S". */
    add_account(snapshot, "00000000-0000-0000-0000-000000000001", KRBTGT_DN,
                "s-1-5-21-1004336348-1177238915-682003330-502", 0x2u, NULL);
    last_account(snapshot)->has_allowed_to_act = true;
    assert_int_equal(da_strv_append(&last_account(snapshot)->allowed_to_act, "S-1-5-21-1-2-3-1101"),
                     0);
    assert_int_equal(da_strv_append(&last_account(snapshot)->allowed_to_act, "S-1-5-21-1-2-3-1102"),
                     0);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 1);
    assert_string_equal(findings.items[0].rule_id, DA_RULE_KRBTGT_RESOURCE_BASED);
    assert_int_equal(findings.items[0].severity, DA_SEVERITY_CRITICAL);
    assert_int_equal(findings.items[0].values.count, 2);
    assert_string_equal(findings.items[0].values.items[0], "S-1-5-21-1-2-3-1101");
    assert_string_equal(findings.items[0].values.items[1], "S-1-5-21-1-2-3-1102");

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void resource_based_unparsed_descriptor(void **state)
{
    struct da_snapshot *snapshot = da_snapshot_new();
    struct da_findings findings = {0};

    (void)state;
    assert_non_null(snapshot);
    /* Neither side has a SID, so the DN decides, compared without case. */
    add_domain_krbtgt(snapshot, NULL);
    add_account(snapshot, "00000000-0000-0000-0000-000000000001",
                "cn=KRBTGT,cn=users,dc=CONTOSO,dc=test", NULL, 0, NULL);
    last_account(snapshot)->has_allowed_to_act = true;

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 1);
    assert_string_equal(findings.items[0].rule_id, DA_RULE_KRBTGT_RESOURCE_BASED);
    assert_int_equal(findings.items[0].values.count, 1);
    assert_string_equal(findings.items[0].values.items[0], "(unparsed security descriptor)");

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void different_sid_same_dn_not_krbtgt(void **state)
{
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    /* Both sides carry a SID, and the SIDs differ: the DN is not consulted. */
    add_account(snapshot, "00000000-0000-0000-0000-000000000001", KRBTGT_DN, "S-1-5-21-1-2-3-1101",
                0, NULL);
    last_account(snapshot)->has_allowed_to_act = true;

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 0);

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void krbtgt_account_both_rules(void **state)
{
    static const char *const targets[] = {"krbtgt/CONTOSO.TEST", NULL};
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    add_account(snapshot, "00000000-0000-0000-0000-000000000001", KRBTGT_DN, KRBTGT_SID,
                DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, targets);
    last_account(snapshot)->has_allowed_to_act = true;
    assert_int_equal(da_strv_append(&last_account(snapshot)->allowed_to_act, "S-1-5-21-1-2-3-1101"),
                     0);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 2);
    assert_string_equal(findings.items[0].rule_id, DA_RULE_KRBTGT_PROTOCOL_TRANSITION);
    assert_string_equal(findings.items[1].rule_id, DA_RULE_KRBTGT_RESOURCE_BASED);
    assert_ptr_equal(findings.items[0].account, findings.items[1].account);

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void findings_follow_account_order(void **state)
{
    static const char *const krbtgt_target[] = {"krbtgt/CONTOSO.TEST", NULL};
    static const char *const ordinary_target[] = {"cifs/dc1.contoso.test", NULL};
    struct da_snapshot *snapshot = new_snapshot();
    struct da_findings findings = {0};

    (void)state;
    add_account(snapshot, "00000000-0000-0000-0000-000000000003",
                "CN=svc3,CN=Users,DC=contoso,DC=test", "S-1-5-21-1-2-3-1103", 0, krbtgt_target);
    add_account(snapshot, "00000000-0000-0000-0000-000000000002",
                "CN=svc2,CN=Users,DC=contoso,DC=test", "S-1-5-21-1-2-3-1102",
                DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, ordinary_target);
    add_account(snapshot, "00000000-0000-0000-0000-000000000001",
                "CN=svc1,CN=Users,DC=contoso,DC=test", "S-1-5-21-1-2-3-1101",
                DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, krbtgt_target);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 2);
    assert_ptr_equal(findings.items[0].account, &snapshot->accounts[0]);
    assert_string_equal(findings.items[0].rule_id, DA_RULE_KRBTGT_CONSTRAINED);
    assert_ptr_equal(findings.items[1].account, &snapshot->accounts[2]);
    assert_string_equal(findings.items[1].rule_id, DA_RULE_KRBTGT_PROTOCOL_TRANSITION);

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

static void empty_snapshot_no_findings(void **state)
{
    struct da_snapshot *snapshot = da_snapshot_new();
    struct da_findings findings = {0};

    (void)state;
    assert_non_null(snapshot);

    assert_int_equal(da_findings_compute(snapshot, &findings), 0);
    assert_int_equal(findings.count, 0);
    assert_null(findings.items);

    da_findings_clear(&findings);
    da_snapshot_free(snapshot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(severity_names),
        cmocka_unit_test(protocol_transition_is_critical),
        cmocka_unit_test(constrained_only_is_high),
        cmocka_unit_test(only_matching_targets_listed),
        cmocka_unit_test(ordinary_delegation_not_reported),
        cmocka_unit_test(resource_based_on_krbtgt),
        cmocka_unit_test(resource_based_unparsed_descriptor),
        cmocka_unit_test(different_sid_same_dn_not_krbtgt),
        cmocka_unit_test(krbtgt_account_both_rules),
        cmocka_unit_test(findings_follow_account_order),
        cmocka_unit_test(empty_snapshot_no_findings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
