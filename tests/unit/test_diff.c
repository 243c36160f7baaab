/* Unit tests for da_diff_compute. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditor/diff.h"

#define GUID_1 "00000000-0000-0000-0000-000000000001"
#define GUID_2 "00000000-0000-0000-0000-000000000002"
#define GUID_3 "00000000-0000-0000-0000-000000000003"
#define GUID_4 "00000000-0000-0000-0000-000000000004"

#define UAC_NORMAL_ACCOUNT 0x200u

static char *copy_string(const char *value)
{
    char *copy = NULL;

    if (value == NULL)
        return NULL;
    copy = strdup(value);
    assert_non_null(copy);
    return copy;
}

/* Adds a user account named name. The DN and sAMAccountName derive from
 * the name, the RID from the last GUID group, and targets is a
 * NULL-terminated list or NULL. Returns the account inside the snapshot,
 * valid until the next account is added. */
static struct da_account *add_account(struct da_snapshot *snapshot, const char *guid,
                                      const char *name, const char *const *targets)
{
    struct da_account account = {0};
    char dn[256];
    char sid[64];

    snprintf(dn, sizeof(dn), "CN=%s,CN=Users,DC=contoso,DC=test", name);
    snprintf(sid, sizeof(sid), "S-1-5-21-1-2-3-%lu", 1000 + strtoul(guid + 24, NULL, 16));
    account.guid = copy_string(guid);
    account.dn = copy_string(dn);
    account.sid = copy_string(sid);
    account.sam_account_name = copy_string(name);
    account.kind = DA_KIND_USER;
    account.user_account_control = UAC_NORMAL_ACCOUNT;
    account.when_changed = copy_string("20260101000000.0Z");
    account.usn_changed = 1000;
    for (size_t i = 0; targets != NULL && targets[i] != NULL; i++)
        assert_int_equal(da_strv_append(&account.allowed_to_delegate_to, targets[i]), 0);
    assert_int_equal(da_snapshot_add_account(snapshot, &account), 0);
    return &snapshot->accounts[snapshot->account_count - 1];
}

static struct da_snapshot *new_snapshot(void)
{
    struct da_snapshot *snapshot = da_snapshot_new();

    assert_non_null(snapshot);
    return snapshot;
}

/* Builds the same three accounts in before and after. */
static void add_base_accounts(struct da_snapshot *snapshot)
{
    static const char *const svc1_targets[] = {"cifs/fs1.contoso.test", "http/web.contoso.test",
                                               NULL};
    static const char *const svc2_targets[] = {"krbtgt/CONTOSO.TEST", NULL};
    struct da_account *account = NULL;

    add_account(snapshot, GUID_1, "svc1", svc1_targets);
    account = add_account(snapshot, GUID_2, "svc2", svc2_targets);
    account->user_account_control |= DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION;
    account = add_account(snapshot, GUID_3, "file1", NULL);
    account->has_allowed_to_act = true;
    assert_int_equal(da_strv_append(&account->allowed_to_act, "S-1-5-21-1-2-3-1100"), 0);
    assert_int_equal(da_snapshot_sort(snapshot), 0);
}

static void assert_only_flags(const struct da_account_change *change, bool moved,
                              bool user_account_control, bool protocol_transition)
{
    assert_int_equal(change->moved, moved);
    assert_false(change->sam_account_name_changed);
    assert_false(change->sid_changed);
    assert_false(change->kind_changed);
    assert_int_equal(change->user_account_control_changed, user_account_control);
    assert_int_equal(change->protocol_transition_changed, protocol_transition);
    assert_false(change->unconstrained_changed);
    assert_false(change->allowed_to_act_changed);
    assert_int_equal(change->targets_added.count, 0);
    assert_int_equal(change->targets_removed.count, 0);
    assert_int_equal(change->allowed_to_act_added.count, 0);
    assert_int_equal(change->allowed_to_act_removed.count, 0);
    assert_int_equal(change->presence, DA_PRESENCE_UNKNOWN);
}

static void type_and_presence_names(void **state)
{
    (void)state;
    assert_string_equal(da_change_type_name(DA_CHANGE_GAINED), "gained");
    assert_string_equal(da_change_type_name(DA_CHANGE_LOST), "lost");
    assert_string_equal(da_change_type_name(DA_CHANGE_MODIFIED), "modified");
    assert_string_equal(da_presence_name(DA_PRESENCE_UNKNOWN), "unknown");
    assert_string_equal(da_presence_name(DA_PRESENCE_EXISTS), "exists");
    assert_string_equal(da_presence_name(DA_PRESENCE_NOT_FOUND), "not-found");
}

static void identical_snapshots_no_changes(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 0);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void rename_is_one_modified(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    account = (struct da_account *)da_snapshot_find(after, GUID_2);
    assert_non_null(account);
    free(account->dn);
    account->dn = copy_string("CN=svc2,OU=Service Accounts,DC=contoso,DC=test");

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    assert_int_equal(diff.changes[0].type, DA_CHANGE_MODIFIED);
    assert_ptr_equal(diff.changes[0].before, da_snapshot_find(before, GUID_2));
    assert_ptr_equal(diff.changes[0].after, account);
    assert_only_flags(&diff.changes[0], true, false, false);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void case_only_rename_is_moved(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    account = (struct da_account *)da_snapshot_find(after, GUID_1);
    assert_non_null(account);
    free(account->dn);
    account->dn = copy_string("CN=SVC1,CN=Users,DC=contoso,DC=test");

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    assert_int_equal(diff.changes[0].type, DA_CHANGE_MODIFIED);
    assert_only_flags(&diff.changes[0], true, false, false);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void targets_added_and_removed(void **state)
{
    static const char *const before_targets[] = {"cifs/fs1.contoso.test", "http/web.contoso.test",
                                                 "ldap/dc1.contoso.test", NULL};
    static const char *const after_targets[] = {"ldap/dc1.contoso.test", "krbtgt/CONTOSO.TEST",
                                                "CIFS/fs1.contoso.test", "krbtgt/CONTOSO.TEST",
                                                "cifs/fs1.contoso.test", NULL};
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};
    const struct da_account_change *change = NULL;

    (void)state;
    add_account(before, GUID_1, "svc1", before_targets);
    add_account(after, GUID_1, "svc1", after_targets);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    change = &diff.changes[0];
    assert_int_equal(change->type, DA_CHANGE_MODIFIED);
    assert_false(change->moved);
    assert_false(change->user_account_control_changed);
    /* Exact comparison: a new letter case is a new value. The repeated
     * krbtgt value is reported once, in the order of the after side. */
    assert_int_equal(change->targets_added.count, 2);
    assert_string_equal(change->targets_added.items[0], "krbtgt/CONTOSO.TEST");
    assert_string_equal(change->targets_added.items[1], "CIFS/fs1.contoso.test");
    assert_int_equal(change->targets_removed.count, 1);
    assert_string_equal(change->targets_removed.items[0], "http/web.contoso.test");

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void reordered_targets_no_change(void **state)
{
    static const char *const before_targets[] = {"a/1", "b/2", "c/3", NULL};
    static const char *const after_targets[] = {"c/3", "a/1", "b/2", "a/1", NULL};
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};

    (void)state;
    add_account(before, GUID_1, "svc1", before_targets);
    add_account(after, GUID_1, "svc1", after_targets);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 0);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void account_gained_and_lost(void **state)
{
    static const char *const lost_targets[] = {"cifs/old.contoso.test", "cifs/old.contoso.test",
                                               "http/old.contoso.test", NULL};
    static const char *const gained_targets[] = {"krbtgt/CONTOSO.TEST", NULL};
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    account = add_account(before, GUID_1, "old", lost_targets);
    account->has_allowed_to_act = true;
    assert_int_equal(da_strv_append(&account->allowed_to_act, "S-1-5-21-1-2-3-1500"), 0);
    add_account(after, GUID_2, "new", gained_targets);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 2);

    assert_int_equal(diff.changes[0].type, DA_CHANGE_LOST);
    assert_ptr_equal(diff.changes[0].before, &before->accounts[0]);
    assert_null(diff.changes[0].after);
    assert_int_equal(diff.changes[0].presence, DA_PRESENCE_UNKNOWN);
    assert_int_equal(diff.changes[0].targets_removed.count, 2);
    assert_string_equal(diff.changes[0].targets_removed.items[0], "cifs/old.contoso.test");
    assert_string_equal(diff.changes[0].targets_removed.items[1], "http/old.contoso.test");
    assert_int_equal(diff.changes[0].targets_added.count, 0);
    assert_int_equal(diff.changes[0].allowed_to_act_removed.count, 1);
    assert_string_equal(diff.changes[0].allowed_to_act_removed.items[0], "S-1-5-21-1-2-3-1500");

    assert_int_equal(diff.changes[1].type, DA_CHANGE_GAINED);
    assert_null(diff.changes[1].before);
    assert_ptr_equal(diff.changes[1].after, &after->accounts[0]);
    assert_int_equal(diff.changes[1].presence, DA_PRESENCE_UNKNOWN);
    assert_int_equal(diff.changes[1].targets_added.count, 1);
    assert_string_equal(diff.changes[1].targets_added.items[0], "krbtgt/CONTOSO.TEST");
    assert_int_equal(diff.changes[1].targets_removed.count, 0);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void protocol_transition_flip(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    account = (struct da_account *)da_snapshot_find(after, GUID_1);
    assert_non_null(account);
    account->user_account_control |= DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION;

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    assert_ptr_equal(diff.changes[0].after, account);
    assert_only_flags(&diff.changes[0], false, true, true);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void unconstrained_flip(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    account = (struct da_account *)da_snapshot_find(before, GUID_3);
    assert_non_null(account);
    account->user_account_control |= DA_UAC_TRUSTED_FOR_DELEGATION;

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    assert_true(diff.changes[0].unconstrained_changed);
    assert_true(diff.changes[0].user_account_control_changed);
    assert_false(diff.changes[0].protocol_transition_changed);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void unrelated_uac_bit_change(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    account = (struct da_account *)da_snapshot_find(after, GUID_2);
    assert_non_null(account);
    account->user_account_control |= DA_UAC_ACCOUNTDISABLE;

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    assert_only_flags(&diff.changes[0], false, true, false);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void metadata_and_spn_changes_ignored(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    account = (struct da_account *)da_snapshot_find(after, GUID_1);
    assert_non_null(account);
    free(account->when_changed);
    account->when_changed = copy_string("20260202000000.0Z");
    account->usn_changed = 99999;
    assert_int_equal(da_strv_append(&account->service_principal_names, "http/svc1.contoso.test"),
                     0);
    account = (struct da_account *)da_snapshot_find(after, GUID_2);
    assert_non_null(account);
    free(account->when_changed);
    account->when_changed = NULL;

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 0);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void other_account_fields_changed(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    account = (struct da_account *)da_snapshot_find(after, GUID_1);
    free(account->sam_account_name);
    account->sam_account_name = copy_string("svc1-renamed");
    account = (struct da_account *)da_snapshot_find(after, GUID_2);
    free(account->sid);
    account->sid = NULL;
    account = (struct da_account *)da_snapshot_find(after, GUID_3);
    account->kind = DA_KIND_COMPUTER;

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 3);
    assert_true(diff.changes[0].sam_account_name_changed);
    assert_false(diff.changes[0].sid_changed);
    assert_true(diff.changes[1].sid_changed);
    assert_false(diff.changes[1].sam_account_name_changed);
    assert_true(diff.changes[2].kind_changed);
    assert_false(diff.changes[2].moved);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void allowed_to_act_changes(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);
    add_base_accounts(after);
    /* GUID_3 trusts S-...-1100 before; after it trusts S-...-1200 instead. */
    account = (struct da_account *)da_snapshot_find(after, GUID_3);
    da_strv_clear(&account->allowed_to_act);
    assert_int_equal(da_strv_append(&account->allowed_to_act, "S-1-5-21-1-2-3-1200"), 0);
    /* GUID_1 gains the attribute, but no SID could be read from it. */
    account = (struct da_account *)da_snapshot_find(after, GUID_1);
    account->has_allowed_to_act = true;

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 2);
    assert_true(diff.changes[0].allowed_to_act_changed);
    assert_int_equal(diff.changes[0].allowed_to_act_added.count, 0);
    assert_int_equal(diff.changes[0].allowed_to_act_removed.count, 0);
    assert_true(diff.changes[1].allowed_to_act_changed);
    assert_int_equal(diff.changes[1].allowed_to_act_added.count, 1);
    assert_string_equal(diff.changes[1].allowed_to_act_added.items[0], "S-1-5-21-1-2-3-1200");
    assert_int_equal(diff.changes[1].allowed_to_act_removed.count, 1);
    assert_string_equal(diff.changes[1].allowed_to_act_removed.items[0], "S-1-5-21-1-2-3-1100");

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void empty_before_all_gained(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(after);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 3);
    for (size_t i = 0; i < diff.count; i++) {
        assert_int_equal(diff.changes[i].type, DA_CHANGE_GAINED);
        assert_ptr_equal(diff.changes[i].after, &after->accounts[i]);
    }
    assert_int_equal(diff.changes[0].targets_added.count, 2);
    assert_int_equal(diff.changes[2].allowed_to_act_added.count, 1);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void empty_after_all_lost(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};

    (void)state;
    add_base_accounts(before);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 3);
    for (size_t i = 0; i < diff.count; i++)
        assert_int_equal(diff.changes[i].type, DA_CHANGE_LOST);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void both_empty_no_changes(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};

    (void)state;
    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 0);
    assert_null(diff.changes);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void repeats_in_long_lists(void **state)
{
    /* Longer than the lists diff.c compares pair by pair. */
    static const char *const before_targets[] = {
        "a/1",  "a/2",  "a/3",  "a/4",    "a/5", "a/6",    "a/7",    "a/8", "a/9",
        "a/10", "a/11", "a/12", "gone/1", "a/1", "gone/1", "gone/2", NULL};
    static const char *const after_targets[] = {"new/2", "a/12",  "a/11",  "a/10", "a/9",   "a/8",
                                                "a/7",   "a/6",   "a/5",   "a/4",  "a/3",   "a/2",
                                                "a/1",   "new/1", "new/2", "a/1",  "new/1", NULL};
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};
    const struct da_account_change *change = NULL;

    (void)state;
    add_account(before, GUID_1, "svc1", before_targets);
    add_account(after, GUID_1, "svc1", after_targets);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    change = &diff.changes[0];
    assert_int_equal(change->targets_added.count, 2);
    assert_string_equal(change->targets_added.items[0], "new/2");
    assert_string_equal(change->targets_added.items[1], "new/1");
    assert_int_equal(change->targets_removed.count, 2);
    assert_string_equal(change->targets_removed.items[0], "gone/1");
    assert_string_equal(change->targets_removed.items[1], "gone/2");

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

/* Adds 5,000 targets "cifs/host<first..first+4999>.contoso.test", in
 * ascending or descending order. */
static void add_many_targets(struct da_account *account, size_t first, bool descending)
{
    char value[64];

    for (size_t i = 0; i < 5000; i++) {
        size_t number = descending ? first + 4999 - i : first + i;

        snprintf(value, sizeof(value), "cifs/host%05zu.contoso.test", number);
        assert_int_equal(da_strv_append(&account->allowed_to_delegate_to, value), 0);
    }
}

static void account_with_5000_values(void **state)
{
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *account = NULL;
    struct da_diff diff = {0};
    const struct da_account_change *change = NULL;

    (void)state;
    /* before contains hosts 0..4999, after contains 2..5001 in reverse order. */
    account = add_account(before, GUID_1, "big", NULL);
    add_many_targets(account, 0, false);
    account = add_account(after, GUID_1, "big", NULL);
    add_many_targets(account, 2, true);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    change = &diff.changes[0];
    assert_int_equal(change->targets_added.count, 2);
    assert_string_equal(change->targets_added.items[0], "cifs/host05001.contoso.test");
    assert_string_equal(change->targets_added.items[1], "cifs/host05000.contoso.test");
    assert_int_equal(change->targets_removed.count, 2);
    assert_string_equal(change->targets_removed.items[0], "cifs/host00000.contoso.test");
    assert_string_equal(change->targets_removed.items[1], "cifs/host00001.contoso.test");
    da_diff_clear(&diff);

    /* The same 5,000 values in the opposite order are no change. */
    da_strv_clear(&account->allowed_to_delegate_to);
    add_many_targets(account, 0, true);
    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 0);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void changes_in_guid_order(void **state)
{
    static const char *const targets[] = {"cifs/fs1.contoso.test", NULL};
    static const char *const new_targets[] = {"cifs/fs2.contoso.test", NULL};
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};

    (void)state;
    /* Inserted out of order; GUID_4 is lost, GUID_1 gained, GUID_3
     * modified, GUID_2 unchanged. */
    add_account(before, GUID_4, "d", targets);
    add_account(before, GUID_3, "c", targets);
    add_account(before, GUID_2, "b", targets);
    add_account(after, GUID_3, "c", new_targets);
    add_account(after, GUID_2, "b", targets);
    add_account(after, GUID_1, "a", targets);
    assert_int_equal(da_snapshot_sort(before), 0);
    assert_int_equal(da_snapshot_sort(after), 0);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 3);
    assert_int_equal(diff.changes[0].type, DA_CHANGE_GAINED);
    assert_string_equal(diff.changes[0].after->guid, GUID_1);
    assert_int_equal(diff.changes[1].type, DA_CHANGE_MODIFIED);
    assert_string_equal(diff.changes[1].after->guid, GUID_3);
    assert_int_equal(diff.changes[2].type, DA_CHANGE_LOST);
    assert_string_equal(diff.changes[2].before->guid, GUID_4);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static void unsorted_snapshots_still_paired(void **state)
{
    static const char *const targets[] = {"cifs/fs1.contoso.test", NULL};
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_account *renamed = NULL;
    struct da_diff diff = {0};

    (void)state;
    /* da_snapshot_sort never runs: the accounts stay in insertion order. */
    add_account(before, GUID_3, "c", targets);
    add_account(before, GUID_1, "a", targets);
    add_account(before, GUID_2, "b", targets);
    add_account(after, GUID_2, "b", targets);
    renamed = add_account(after, GUID_1, "a", targets);
    free(renamed->dn);
    renamed->dn = copy_string("CN=a,OU=Moved,DC=contoso,DC=test");
    add_account(after, GUID_3, "c", targets);

    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(diff.count, 1);
    assert_int_equal(diff.changes[0].type, DA_CHANGE_MODIFIED);
    assert_ptr_equal(diff.changes[0].after, renamed);
    assert_true(diff.changes[0].moved);

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

static double seconds_between(const struct timespec *start, const struct timespec *end)
{
    return (double)(end->tv_sec - start->tv_sec) + (double)(end->tv_nsec - start->tv_nsec) / 1e9;
}

static void diff_100000_accounts(void **state)
{
    static const char *const targets[] = {"cifs/fs1.contoso.test", "http/web.contoso.test", NULL};
    static const char *const changed_targets[] = {"cifs/fs1.contoso.test", "krbtgt/CONTOSO.TEST",
                                                  NULL};
    struct da_snapshot *before = new_snapshot();
    struct da_snapshot *after = new_snapshot();
    struct da_diff diff = {0};
    struct timespec start;
    struct timespec end;
    char guid[40];
    char name[32];

    (void)state;
    /* Every 1,000th account changes one target; the rest are identical. */
    for (size_t i = 0; i < 100000; i++) {
        snprintf(guid, sizeof(guid), "%08zx-0000-0000-0000-000000000000", i);
        snprintf(name, sizeof(name), "svc%zu", i);
        add_account(before, guid, name, targets);
        add_account(after, guid, name, i % 1000 == 0 ? changed_targets : targets);
    }
    assert_int_equal(da_snapshot_sort(before), 0);
    assert_int_equal(da_snapshot_sort(after), 0);

    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
    assert_int_equal(da_diff_compute(before, after, &diff), 0);
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &end), 0);

    assert_int_equal(diff.count, 100);
    for (size_t i = 0; i < diff.count; i++) {
        assert_int_equal(diff.changes[i].type, DA_CHANGE_MODIFIED);
        assert_int_equal(diff.changes[i].targets_added.count, 1);
        assert_int_equal(diff.changes[i].targets_removed.count, 1);
    }
    print_message("diff of 100,000 accounts per side: %.3f s\n", seconds_between(&start, &end));

    da_diff_clear(&diff);
    da_snapshot_free(after);
    da_snapshot_free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_and_presence_names),
        cmocka_unit_test(identical_snapshots_no_changes),
        cmocka_unit_test(rename_is_one_modified),
        cmocka_unit_test(case_only_rename_is_moved),
        cmocka_unit_test(targets_added_and_removed),
        cmocka_unit_test(reordered_targets_no_change),
        cmocka_unit_test(account_gained_and_lost),
        cmocka_unit_test(protocol_transition_flip),
        cmocka_unit_test(unconstrained_flip),
        cmocka_unit_test(unrelated_uac_bit_change),
        cmocka_unit_test(metadata_and_spn_changes_ignored),
        cmocka_unit_test(other_account_fields_changed),
        cmocka_unit_test(allowed_to_act_changes),
        cmocka_unit_test(empty_before_all_gained),
        cmocka_unit_test(empty_after_all_lost),
        cmocka_unit_test(both_empty_no_changes),
        cmocka_unit_test(repeats_in_long_lists),
        cmocka_unit_test(account_with_5000_values),
        cmocka_unit_test(changes_in_guid_order),
        cmocka_unit_test(unsorted_snapshots_still_paired),
        cmocka_unit_test(diff_100000_accounts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
