/* Remediation text: LDIF, PowerShell and KQL built from directory values,
 * which may contain anything an attacker could write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "reports/remediation.h"

#define GUID "59add99a-e4d7-4482-b1c7-eabf37bbbd9e"

static struct da_account make_account(const char *dn, uint32_t uac)
{
    struct da_account account = {0};

    account.guid = (char *)GUID;
    account.dn = (char *)dn;
    account.user_account_control = uac;
    return account;
}

static void ldif_removes_values(void **state)
{
    struct da_account account = make_account("CN=svc-backdoor,OU=Lab,DC=contoso,DC=test", 0x1000200);
    struct da_strv values = {0};
    char *ldif;

    assert_int_equal(da_strv_append(&values, "krbtgt/CONTOSO.TEST"), 0);
    ldif = da_remediation_ldif(&account, &values, true);
    assert_non_null(ldif);
    assert_non_null(strstr(ldif, "dn: CN=svc-backdoor,OU=Lab,DC=contoso,DC=test\n"
                                 "changetype: modify\n"
                                 "delete: msDS-AllowedToDelegateTo\n"
                                 "msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST\n"
                                 "-\n"
                                 "replace: userAccountControl\n"
                                 "userAccountControl: 512\n"
                                 "-\n"));
    free(ldif);

    ldif = da_remediation_ldif(&account, &values, false);
    assert_null(strstr(ldif, "userAccountControl"));
    free(ldif);
    da_strv_clear(&values);
}

static void ldif_encodes_unsafe_values(void **state)
{
    /* "CN=Müller\, Jörg" is not ASCII; a value starting with ':' or space
     * and one with a newline are not SAFE-STRINGs either. */
    struct da_account account = make_account("CN=M\xc3\xbcller\\, J\xc3\xb6rg,DC=contoso,DC=test",
                                             0x200);
    struct da_strv values = {0};
    char *ldif;

    assert_int_equal(da_strv_append(&values, ":krbtgt/X"), 0);
    assert_int_equal(da_strv_append(&values, "krbtgt/X\ninjected: yes"), 0);
    ldif = da_remediation_ldif(&account, &values, false);
    assert_non_null(ldif);
    assert_non_null(strstr(ldif, "dn:: Q049TcO8bGxlclwsIErDtnJnLERDPWNvbnRvc28sREM9dGVzdA==\n"));
    assert_non_null(strstr(ldif, "msDS-AllowedToDelegateTo:: OmtyYnRndC9Y\n"));
    assert_null(strstr(ldif, "\ninjected: yes"));
    free(ldif);
    da_strv_clear(&values);
}

static void powershell_quotes_values(void **state)
{
    struct da_account account = make_account("CN=x,DC=contoso,DC=test", 0x1000200);
    struct da_strv values = {0};
    char *commands;

    assert_int_equal(da_strv_append(&values, "krbtgt/CONTOSO'; Remove-ADUser x; '"), 0);
    assert_int_equal(da_strv_append(&values, "krbtgt/\xe2\x80\x99quoted"), 0);
    commands = da_remediation_powershell(&account, &values, true);
    assert_non_null(commands);
    assert_non_null(strstr(commands, "Set-ADObject -Identity '" GUID "' -Remove "
                                     "@{'msDS-AllowedToDelegateTo'=@('krbtgt/CONTOSO''; "
                                     "Remove-ADUser x; ''', 'krbtgt/\xe2\x80\x99\xe2\x80\x99quoted')}\n"));
    assert_non_null(strstr(commands, "Set-ADAccountControl -Identity '" GUID
                                     "' -TrustedToAuthForDelegation $false\n"));
    free(commands);
    da_strv_clear(&values);
}

static void commands_exact_with_control_bytes(void **state)
{
    struct da_account account = make_account("CN=x,DC=contoso,DC=test", 0x200);
    struct da_strv values = {0};
    char *text;

    assert_int_equal(da_strv_append(&values, "krbtgt/A\x1b[2Jb"), 0);
    text = da_remediation_ldif(&account, &values, false);
    /* "krbtgt/A\x1b[2Jb" in base64. */
    assert_non_null(strstr(text, "msDS-AllowedToDelegateTo:: a3JidGd0L0EbWzJKYg==\n"));
    free(text);

    text = da_remediation_powershell(&account, &values, false);
    assert_non_null(strstr(text, "@(('' + 'krbtgt/A' + [char]0x1b + '[2Jb'))"));
    assert_null(strchr(text, 0x1b));
    free(text);
    da_strv_clear(&values);
}

static void kql_session_and_account(void **state)
{
    struct da_event change = {0};
    char *query;

    change.computer = (char *)"DC1.contoso.test";
    change.subject_logon_id = 0x3e7;
    change.has_subject_logon_id = true;
    query = da_remediation_kql_session(&change);
    assert_string_equal(query, "winlog.computer_name:\"DC1.contoso.test\" and "
                               "(winlog.event_data.SubjectLogonId:(\"0x3e7\" or \"0x3E7\") or "
                               "winlog.event_data.TargetLogonId:(\"0x3e7\" or \"0x3E7\"))");
    free(query);

    change.has_subject_logon_id = false;
    assert_null(da_remediation_kql_session(&change));

    query = da_remediation_kql_account("S-1-5-21-1-2-3-1105", "ab\"cd");
    assert_string_equal(query, "winlog.event_id:(4738 or 4742 or 5136) and "
                               "(winlog.event_data.TargetSid:\"S-1-5-21-1-2-3-1105\" or "
                               "winlog.event_data.ObjectGUID:(\"{ab\\\"cd}\" or "
                               "\"{AB\\\"CD}\"))");
    free(query);
}

static void protocol_transition_decision(void **state)
{
    struct da_account account = make_account("CN=x,DC=contoso,DC=test", 0x1000200);
    struct da_finding finding = {0};
    struct da_account_evidence evidence = {0};

    assert_int_equal(da_strv_append(&account.allowed_to_delegate_to, "krbtgt/CONTOSO.TEST"), 0);
    assert_int_equal(da_strv_append(&finding.values, "krbtgt/CONTOSO.TEST"), 0);
    evidence.finding = &finding;

    /* Only the krbtgt target: nothing is left to delegate to. */
    assert_true(da_remediation_turns_off_protocol_transition(&account, &evidence));

    /* Another target stays: keep protocol transition unless the evidence
     * shows it was turned on by the change. */
    assert_int_equal(da_strv_append(&account.allowed_to_delegate_to, "http/web.contoso.test"), 0);
    assert_false(da_remediation_turns_off_protocol_transition(&account, &evidence));
    evidence.protocol_transition_turned_on = true;
    assert_true(da_remediation_turns_off_protocol_transition(&account, &evidence));

    account.user_account_control = 0x200;
    assert_false(da_remediation_turns_off_protocol_transition(&account, &evidence));

    da_strv_clear(&account.allowed_to_delegate_to);
    da_strv_clear(&finding.values);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ldif_removes_values),
        cmocka_unit_test(ldif_encodes_unsafe_values),
        cmocka_unit_test(powershell_quotes_values),
        cmocka_unit_test(commands_exact_with_control_bytes),
        cmocka_unit_test(kql_session_and_account),
        cmocka_unit_test(protocol_transition_decision),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
