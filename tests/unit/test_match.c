/* Unit tests for da_target_is_krbtgt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auditor/match.h"

struct target_case {
    const char *target;
    bool expected;
};

/* Checked against the domain krbtgt account below, which carries the SPN
 * kadmin/changepw as on a Samba or Windows DC. */
static const struct target_case target_cases[] = {
    /* The krbtgt service class, whatever follows it. */
    {"krbtgt/CONTOSO", true},
    {"KRBTGT/contoso.test", true},
    {"krbtgt/CONTOSO.TEST@CONTOSO.TEST", true},
    {"krbtgt/contoso.test:88", true},
    {"krbtgt/contoso.test.", true},
    {"KrBtGt/CONTOSO.TEST", true},
    {"KrBtGt", true},
    {"krbtgt", true},
    {"krbtgt@CONTOSO.TEST", true},
    {"krbtgt/OTHER.TEST", true},
    {"krbtgt/", true},
    {"krbtgt/contoso.test/extra", true},
    {"krbtgt/x ", true},
    /* A servicePrincipalName of the krbtgt account. */
    {"kadmin/changepw", true},
    {"KADMIN/CHANGEPW", true},
    {"kadmin/changepw@CONTOSO.TEST", true},
    {"kadmin/changepw.", true},
    {"Kadmin/ChangePW.@contoso.test", true},
    /* The krbtgt account's sAMAccountName, as a one-component name. */
    {"KRBTGT@contoso.test", true},
    /* Other services, and names that only contain "krbtgt". */
    {"http/krbtgt.contoso.test", false},
    {"krbtgtx/host", false},
    {"xkrbtgt/host", false},
    {"krbtg/host", false},
    {"cifs/dc1.contoso.test", false},
    {"kadmin/changepw2", false},
    {"kadmin/changepw:464", false},
    {"kadmin/changepw/extra", false},
    {"kadmin", false},
    {"kadmin/", false},
    {"", false},
    {"@CONTOSO.TEST", false},
    /* Samba's KDC compares the full value, so a leading space names the
     * service class " krbtgt", not the ticket-granting service. */
    {" krbtgt/x", false},
    {"\tkrbtgt/x", false},
    {"/krbtgt", false},
    {"krbtgt\\/x", false},
    {"host/dc1.contoso.test", false},
};

static void init_krbtgt(struct da_krbtgt *krbtgt, const char *sam_account_name, const char *spn)
{
    memset(krbtgt, 0, sizeof(*krbtgt));
    krbtgt->sam_account_name = strdup(sam_account_name);
    assert_non_null(krbtgt->sam_account_name);
    if (spn != NULL)
        assert_int_equal(da_strv_append(&krbtgt->service_principal_names, spn), 0);
}

static void match_target_table(void **state)
{
    struct da_krbtgt krbtgt;
    size_t failures = 0;

    (void)state;
    init_krbtgt(&krbtgt, "krbtgt", "kadmin/changepw");

    for (size_t i = 0; i < sizeof(target_cases) / sizeof(target_cases[0]); i++) {
        const struct target_case *row = &target_cases[i];
        bool actual = da_target_is_krbtgt(row->target, &krbtgt, 1);

        if (actual != row->expected) {
            print_error("da_target_is_krbtgt(\"%s\") returned %s, expected %s\n", row->target,
                        actual ? "true" : "false", row->expected ? "true" : "false");
            failures++;
        }
    }

    da_krbtgt_clear(&krbtgt);
    assert_int_equal(failures, 0);
}

static void match_without_krbtgt_accounts(void **state)
{
    (void)state;

    /* The service class alone decides when no krbtgt account was read. */
    assert_true(da_target_is_krbtgt("krbtgt/CONTOSO.TEST", NULL, 0));
    assert_true(da_target_is_krbtgt("KRBTGT", NULL, 0));
    assert_false(da_target_is_krbtgt("kadmin/changepw", NULL, 0));
    assert_false(da_target_is_krbtgt("cifs/dc1.contoso.test", NULL, 0));
    assert_false(da_target_is_krbtgt("", NULL, 0));
    assert_false(da_target_is_krbtgt(NULL, NULL, 0));
}

static void match_rodc_krbtgt_spn(void **state)
{
    struct da_krbtgt krbtgts[2];

    (void)state;
    init_krbtgt(&krbtgts[0], "krbtgt", "kadmin/changepw");
    init_krbtgt(&krbtgts[1], "krbtgt_8245", "rodcsvc/rodc1.contoso.test.");
    krbtgts[1].read_only_dc = true;

    assert_true(da_target_is_krbtgt("RODCSVC/rodc1.contoso.test", krbtgts, 2));
    assert_true(da_target_is_krbtgt("rodcsvc/rodc1.contoso.test.", krbtgts, 2));
    assert_true(da_target_is_krbtgt("rodcsvc/RODC1.CONTOSO.TEST@CONTOSO.TEST", krbtgts, 2));
    assert_true(da_target_is_krbtgt("krbtgt_8245", krbtgts, 2));
    assert_true(da_target_is_krbtgt("KRBTGT_8245@CONTOSO.TEST", krbtgts, 2));
    assert_false(da_target_is_krbtgt("rodcsvc/rodc2.contoso.test", krbtgts, 2));
    assert_false(da_target_is_krbtgt("rodcsvc/rodc1.contoso.test:80", krbtgts, 2));
    assert_false(da_target_is_krbtgt("krbtgt_82450", krbtgts, 2));
    /* Only the first count accounts are searched. */
    assert_false(da_target_is_krbtgt("krbtgt_8245", krbtgts, 1));

    da_krbtgt_clear(&krbtgts[0]);
    da_krbtgt_clear(&krbtgts[1]);
}

static void match_spn_with_realm_and_port(void **state)
{
    struct da_krbtgt krbtgt;

    (void)state;
    init_krbtgt(&krbtgt, "krbtgt", "kadmin/changepw@CONTOSO.TEST");
    assert_int_equal(
        da_strv_append(&krbtgt.service_principal_names, "kpasswd/dc1.contoso.test:464"), 0);
    assert_int_equal(da_strv_append(&krbtgt.service_principal_names, ""), 0);

    assert_true(da_target_is_krbtgt("kadmin/changepw", &krbtgt, 1));
    assert_true(da_target_is_krbtgt("kpasswd/dc1.contoso.test:464", &krbtgt, 1));
    assert_true(da_target_is_krbtgt("kpasswd/DC1.contoso.test.:464@OTHER", &krbtgt, 1));
    assert_false(da_target_is_krbtgt("kpasswd/dc1.contoso.test", &krbtgt, 1));
    assert_false(da_target_is_krbtgt("kpasswd/dc1.contoso.test:88", &krbtgt, 1));
    /* An empty SPN on the account matches nothing, not even an empty name. */
    assert_false(da_target_is_krbtgt("", &krbtgt, 1));
    assert_false(da_target_is_krbtgt("@CONTOSO.TEST", &krbtgt, 1));

    da_krbtgt_clear(&krbtgt);
}

static void match_account_without_spns(void **state)
{
    struct da_krbtgt krbtgt;

    (void)state;
    init_krbtgt(&krbtgt, "krbtgt", NULL);

    assert_true(da_target_is_krbtgt("krbtgt/CONTOSO.TEST", &krbtgt, 1));
    assert_false(da_target_is_krbtgt("kadmin/changepw", &krbtgt, 1));

    da_krbtgt_clear(&krbtgt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(match_target_table),
        cmocka_unit_test(match_without_krbtgt_accounts),
        cmocka_unit_test(match_rodc_krbtgt_spn),
        cmocka_unit_test(match_spn_with_realm_and_port),
        cmocka_unit_test(match_account_without_spns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
