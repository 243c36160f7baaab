/* Unit tests of the audit model: string vectors, accounts and snapshots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/model.h"

static void fill_account(struct da_account *account, const char *guid, const char *dn)
{
    memset(account, 0, sizeof(*account));
    account->guid = strdup(guid);
    account->dn = strdup(dn);
    assert_non_null(account->guid);
    assert_non_null(account->dn);
}

static void strv_append_grows(void **state)
{
    struct da_strv strv = {0};
    char name[32];

    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "cifs/host%d", i);
        assert_int_equal(da_strv_append(&strv, name), 0);
    }
    assert_int_equal(strv.count, 100);
    assert_true(strv.capacity >= 100);
    assert_string_equal(strv.items[0], "cifs/host0");
    assert_string_equal(strv.items[99], "cifs/host99");
    da_strv_clear(&strv);
    assert_null(strv.items);
    assert_int_equal(strv.count, 0);
    assert_int_equal(strv.capacity, 0);
}

static void strv_append_copies_value(void **state)
{
    struct da_strv strv = {0};
    char value[] = "HOST/web01";

    (void)state;
    assert_int_equal(da_strv_append(&strv, value), 0);
    value[0] = 'X';
    assert_string_equal(strv.items[0], "HOST/web01");
    da_strv_clear(&strv);
}

static void strv_append_owned_rejects_null(void **state)
{
    struct da_strv strv = {0};
    char *owned = strdup("ldap/dc1");

    (void)state;
    assert_int_equal(da_strv_append_owned(&strv, NULL), -1);
    assert_int_equal(strv.count, 0);
    assert_int_equal(da_strv_append_owned(&strv, owned), 0);
    assert_ptr_equal(strv.items[0], owned);
    da_strv_clear(&strv);
}

static void strv_copy_is_deep(void **state)
{
    struct da_strv source = {0};
    struct da_strv copy = {0};

    (void)state;
    assert_int_equal(da_strv_append(&source, "a"), 0);
    assert_int_equal(da_strv_append(&source, "b,c"), 0);
    assert_int_equal(da_strv_copy(&copy, &source), 0);
    assert_int_equal(copy.count, 2);
    assert_ptr_not_equal(copy.items[0], source.items[0]);
    assert_string_equal(copy.items[1], "b,c");
    da_strv_clear(&source);
    assert_string_equal(copy.items[0], "a");
    da_strv_clear(&copy);
}

static void strv_copy_of_empty(void **state)
{
    struct da_strv source = {0};
    struct da_strv copy = {0};

    (void)state;
    assert_int_equal(da_strv_copy(&copy, &source), 0);
    assert_int_equal(copy.count, 0);
    da_strv_clear(&copy);
}

static void strv_contains_exact_match(void **state)
{
    struct da_strv strv = {0};

    (void)state;
    assert_false(da_strv_contains(&strv, "cifs/fs01"));
    assert_int_equal(da_strv_append(&strv, "cifs/fs01"), 0);
    assert_true(da_strv_contains(&strv, "cifs/fs01"));
    assert_false(da_strv_contains(&strv, "CIFS/fs01"));
    assert_false(da_strv_contains(&strv, "cifs/fs0"));
    da_strv_clear(&strv);
}

static void account_copy_is_deep(void **state)
{
    struct da_account source;
    struct da_account copy;

    (void)state;
    fill_account(&source, "01234567-89ab-4cde-8f01-23456789abcd", "CN=WEB01,DC=example,DC=test");
    source.sid = strdup("S-1-5-21-1-2-3-1105");
    source.when_changed = strdup("20261204194500.0Z");
    source.kind = DA_KIND_GMSA;
    source.user_account_control = DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION;
    source.has_allowed_to_act = true;
    source.usn_changed = 9007199254740991ull;
    assert_int_equal(da_strv_append(&source.allowed_to_delegate_to, "cifs/fs01"), 0);
    assert_int_equal(da_strv_append(&source.allowed_to_act, "S-1-5-21-1-2-3-1106"), 0);

    assert_int_equal(da_account_copy(&copy, &source), 0);
    da_account_clear(&source);

    assert_string_equal(copy.guid, "01234567-89ab-4cde-8f01-23456789abcd");
    assert_string_equal(copy.dn, "CN=WEB01,DC=example,DC=test");
    assert_string_equal(copy.sid, "S-1-5-21-1-2-3-1105");
    assert_null(copy.sam_account_name);
    assert_string_equal(copy.when_changed, "20261204194500.0Z");
    assert_int_equal(copy.kind, DA_KIND_GMSA);
    assert_int_equal(copy.user_account_control, DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION);
    assert_true(copy.has_allowed_to_act);
    assert_true(copy.usn_changed == 9007199254740991ull);
    assert_int_equal(copy.allowed_to_delegate_to.count, 1);
    assert_string_equal(copy.allowed_to_delegate_to.items[0], "cifs/fs01");
    assert_int_equal(copy.service_principal_names.count, 0);
    assert_string_equal(copy.allowed_to_act.items[0], "S-1-5-21-1-2-3-1106");
    da_account_clear(&copy);
}

static void account_clear_zeroes(void **state)
{
    struct da_account account;
    static const struct da_account zero = {0};

    (void)state;
    fill_account(&account, "01234567-89ab-4cde-8f01-23456789abcd", "CN=x");
    assert_int_equal(da_strv_append(&account.service_principal_names, "HOST/x"), 0);
    da_account_clear(&account);
    assert_memory_equal(&account, &zero, sizeof(account));
    /* A second clear of a zeroed account must be harmless. */
    da_account_clear(&account);
}

static void account_delegation_predicates(void **state)
{
    struct da_account account = {0};

    (void)state;
    assert_false(da_account_has_delegation(&account));

    account.user_account_control = DA_UAC_TRUSTED_FOR_DELEGATION;
    assert_true(da_account_unconstrained(&account));
    assert_false(da_account_protocol_transition(&account));
    assert_true(da_account_has_delegation(&account));

    account.user_account_control = DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION;
    assert_false(da_account_unconstrained(&account));
    assert_true(da_account_protocol_transition(&account));
    assert_true(da_account_has_delegation(&account));

    account.user_account_control = 0;
    account.has_allowed_to_act = true;
    assert_true(da_account_has_delegation(&account));
    account.has_allowed_to_act = false;

    assert_int_equal(da_strv_append(&account.allowed_to_delegate_to, "cifs/fs01"), 0);
    assert_true(da_account_has_delegation(&account));
    da_account_clear(&account);
}

static void snapshot_add_moves_account(void **state)
{
    struct da_snapshot *snapshot = da_snapshot_new();
    struct da_account account;
    struct da_krbtgt krbtgt = {0};
    static const struct da_account zero_account = {0};
    static const struct da_krbtgt zero_krbtgt = {0};

    (void)state;
    assert_non_null(snapshot);
    fill_account(&account, "01234567-89ab-4cde-8f01-23456789abcd", "CN=a");
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
    assert_memory_equal(&account, &zero_account, sizeof(account));
    assert_int_equal(snapshot->account_count, 1);
    assert_string_equal(snapshot->accounts[0].dn, "CN=a");

    krbtgt.dn = strdup("CN=krbtgt,CN=Users,DC=example,DC=test");
    krbtgt.read_only_dc = true;
    assert_int_equal(da_snapshot_add_krbtgt(snapshot, &krbtgt), 0);
    assert_memory_equal(&krbtgt, &zero_krbtgt, sizeof(krbtgt));
    assert_int_equal(snapshot->krbtgt_count, 1);
    assert_true(snapshot->krbtgts[0].read_only_dc);

    da_snapshot_free(snapshot);
    da_snapshot_free(NULL);
}

static void snapshot_sort_and_find(void **state)
{
    struct da_snapshot *snapshot = da_snapshot_new();

    (void)state;
    assert_non_null(snapshot);
    /* More accounts than the first allocation holds, added out of order:
     * the multiplier scatters the first group of hex digits. */
    for (unsigned i = 0; i < 100; i++) {
        struct da_account account;
        char guid[40];

        snprintf(guid, sizeof(guid), "%08x-0000-4000-8000-%012x", i * 2654435761u, i);
        fill_account(&account, guid, "CN=x");
        assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
    }
    assert_int_equal(snapshot->account_count, 100);

    assert_int_equal(da_snapshot_sort(snapshot), 0);
    for (size_t i = 1; i < snapshot->account_count; i++)
        assert_true(strcmp(snapshot->accounts[i - 1].guid, snapshot->accounts[i].guid) < 0);

    for (size_t i = 0; i < snapshot->account_count; i++) {
        const struct da_account *found = da_snapshot_find(snapshot, snapshot->accounts[i].guid);

        assert_ptr_equal(found, &snapshot->accounts[i]);
    }
    assert_null(da_snapshot_find(snapshot, "12345678-0000-4000-8000-000000000000"));
    assert_null(da_snapshot_find(snapshot, ""));
    da_snapshot_free(snapshot);
}

static void snapshot_find_in_empty(void **state)
{
    struct da_snapshot *snapshot = da_snapshot_new();

    (void)state;
    assert_int_equal(da_snapshot_sort(snapshot), 0);
    assert_null(da_snapshot_find(snapshot, "00000000-0000-4000-8000-000000000000"));
    da_snapshot_free(snapshot);
}

static void snapshot_sort_rejects_duplicate(void **state)
{
    struct da_snapshot *snapshot = da_snapshot_new();
    struct da_account account;

    (void)state;
    fill_account(&account, "22222222-0000-4000-8000-000000000000", "CN=first");
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
    fill_account(&account, "11111111-0000-4000-8000-000000000000", "CN=other");
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
    fill_account(&account, "22222222-0000-4000-8000-000000000000", "CN=second");
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);

    assert_int_equal(da_snapshot_sort(snapshot), -1);
    da_snapshot_free(snapshot);
}

static void kind_name_round_trip(void **state)
{
    static const enum da_account_kind kinds[] = {
        DA_KIND_USER, DA_KIND_COMPUTER,      DA_KIND_GMSA,
        DA_KIND_MSA,  DA_KIND_INETORGPERSON, DA_KIND_OTHER,
    };

    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        enum da_account_kind parsed = DA_KIND_OTHER;
        const char *name = da_account_kind_name(kinds[i]);

        assert_non_null(name);
        assert_true(da_account_kind_parse(name, &parsed));
        assert_int_equal(parsed, kinds[i]);
    }
    assert_string_equal(da_account_kind_name(DA_KIND_GMSA), "gmsa");
    assert_string_equal(da_account_kind_name((enum da_account_kind)99), "other");
}

static void kind_parse_rejects_unknown(void **state)
{
    enum da_account_kind kind = DA_KIND_USER;

    (void)state;
    assert_false(da_account_kind_parse("User", &kind));
    assert_false(da_account_kind_parse("", &kind));
    assert_false(da_account_kind_parse("computers", &kind));
    assert_int_equal(kind, DA_KIND_USER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strv_append_grows),
        cmocka_unit_test(strv_append_copies_value),
        cmocka_unit_test(strv_append_owned_rejects_null),
        cmocka_unit_test(strv_copy_is_deep),
        cmocka_unit_test(strv_copy_of_empty),
        cmocka_unit_test(strv_contains_exact_match),
        cmocka_unit_test(account_copy_is_deep),
        cmocka_unit_test(account_clear_zeroes),
        cmocka_unit_test(account_delegation_predicates),
        cmocka_unit_test(snapshot_add_moves_account),
        cmocka_unit_test(snapshot_sort_and_find),
        cmocka_unit_test(snapshot_find_in_empty),
        cmocka_unit_test(snapshot_sort_rejects_duplicate),
        cmocka_unit_test(kind_name_round_trip),
        cmocka_unit_test(kind_parse_rejects_unknown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
