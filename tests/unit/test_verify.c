/* The verify verdict, on results built here: stamps ordered as AD resolves
 * conflicts, the state of each account on each DC, and the verdict over
 * them. Also the duration and filter helpers of the verify command. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auditor/error.h"
#include "auditor/verify.h"
#include "auditor/verify_run.h"
#include "ldap/dc_read.h"
#include "ldap/topology.h"

static void set_stamp(struct da_verify_stamp *stamp, uint32_t version, const char *time,
                      const char *invocation)
{
    da_verify_stamp_clear(stamp);
    stamp->known = true;
    stamp->version = version;
    stamp->originating_time = strdup(time);
    stamp->originating_invocation_id = strdup(invocation);
    stamp->originating_usn = 100 + version;
}

#define DC1_ID "11111111-1111-1111-1111-111111111111"
#define DC2_ID "22222222-2222-2222-2222-222222222222"

/* Two DCs that were read, one account on both, clean and converged. */
static void make_result(struct da_verify_result *result, size_t dc_count)
{
    assert_int_equal(da_verify_result_init(result, dc_count, 1), 0);
    for (size_t j = 0; j < dc_count; j++) {
        struct da_verify_cell *cell = &result->accounts[0].cells[j];

        result->dcs[j].name = strdup(j == 0 ? "DC1" : "DC2");
        result->dcs[j].reachable = true;
        result->dcs[j].krbtgt.read = true;
        set_stamp(&result->dcs[j].krbtgt.password, 4, "2026-12-04T20:00:00Z", DC1_ID);
        cell->read = true;
        cell->found = true;
        cell->user_account_control = 0x200;
        set_stamp(&cell->delegation, 3, "2026-12-04T21:00:00Z", DC1_ID);
        set_stamp(&cell->uac, 2, "2026-12-04T21:00:00Z", DC1_ID);
    }
    result->accounts[0].guid = strdup("0c8d6f55-1b0e-4b5e-9d55-2f3c1a6e7b10");
}

static void stamps_order_by_version_time_then_dc(void **state)
{
    struct da_verify_stamp a = {0}, b = {0}, unknown = {0};

    set_stamp(&a, 3, "2026-12-04T21:00:00Z", DC1_ID);
    set_stamp(&b, 2, "2026-12-05T00:00:00Z", DC2_ID);
    assert_true(da_verify_stamp_compare(&a, &b) > 0); /* version first */
    set_stamp(&b, 3, "2026-12-04T21:00:01Z", DC1_ID);
    assert_true(da_verify_stamp_compare(&a, &b) < 0); /* then time */
    set_stamp(&b, 3, "2026-12-04T21:00:00Z", DC2_ID);
    assert_true(da_verify_stamp_compare(&a, &b) < 0); /* then invocationId */
    set_stamp(&b, 3, "2026-12-04T21:00:00Z", "11111111-1111-1111-1111-111111111111");
    assert_int_equal(da_verify_stamp_compare(&a, &b), 0);
    assert_true(da_verify_stamp_compare(&a, &unknown) > 0);
    assert_int_equal(da_verify_stamp_compare(&unknown, &unknown), 0);
    da_verify_stamp_clear(&a);
    da_verify_stamp_clear(&b);
}

static void same_stamps_everywhere_converge(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    da_verify_evaluate(&result);
    assert_int_equal(result.verdict, DA_VERDICT_CONVERGED);
    assert_int_equal(result.accounts[0].cells[0].state, DA_VERIFY_CLEAN);
    assert_int_equal(result.accounts[0].cells[1].state, DA_VERIFY_CLEAN);
    assert_true(result.krbtgt_converged);
    assert_int_equal(da_verify_exit_status(&result), DA_OK);
    da_verify_result_clear(&result);
}

static void older_version_is_behind(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    set_stamp(&result.accounts[0].cells[1].delegation, 2, "2026-12-04T20:00:00Z", DC1_ID);
    da_verify_evaluate(&result);
    assert_int_equal(result.accounts[0].cells[0].state, DA_VERIFY_CLEAN);
    assert_int_equal(result.accounts[0].cells[1].state, DA_VERIFY_BEHIND);
    assert_true(result.accounts[0].cells[1].behind);
    assert_int_equal(result.verdict, DA_VERDICT_NOT_CONVERGED);
    assert_int_equal(da_verify_exit_status(&result), DA_FINDINGS);
    da_verify_result_clear(&result);
}

static void older_uac_write_is_behind(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    set_stamp(&result.accounts[0].cells[0].uac, 3, "2026-12-04T21:30:00Z", DC1_ID);
    da_verify_evaluate(&result);
    assert_int_equal(result.accounts[0].cells[1].state, DA_VERIFY_BEHIND);
    assert_int_equal(result.verdict, DA_VERDICT_NOT_CONVERGED);
    da_verify_result_clear(&result);
}

static void krbtgt_target_outranks_behind(void **state)
{
    struct da_verify_result result;
    struct da_verify_cell *cell;

    make_result(&result, 2);
    cell = &result.accounts[0].cells[1];
    set_stamp(&cell->delegation, 2, "2026-12-04T20:00:00Z", DC1_ID);
    da_strv_append(&cell->allowed_to_delegate_to, "krbtgt/CONTOSO.TEST");
    da_strv_append(&cell->krbtgt_targets, "krbtgt/CONTOSO.TEST");
    da_verify_evaluate(&result);
    assert_int_equal(cell->state, DA_VERIFY_KRBTGT);
    assert_true(cell->behind);
    assert_int_equal(result.verdict, DA_VERDICT_BACKDOORED);
    assert_int_equal(da_verify_exit_status(&result), DA_FINDINGS);
    da_verify_result_clear(&result);
}

static void unreachable_dc_is_unverified_not_clean(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    result.dcs[1].reachable = false;
    result.dcs[1].problem = strdup("connecting to ldaps://dc2.contoso.test failed");
    result.accounts[0].cells[1].read = false;
    da_verify_evaluate(&result);
    assert_int_equal(result.accounts[0].cells[1].state, DA_VERIFY_UNVERIFIED);
    assert_int_equal(result.verdict, DA_VERDICT_UNVERIFIED);
    assert_int_equal(da_verify_exit_status(&result), DA_UNVERIFIED);
    da_verify_result_clear(&result);
}

/* A backdoor on a DC that was read outranks a DC that could not be read. */
static void backdoor_outranks_unverified(void **state)
{
    struct da_verify_result result;

    make_result(&result, 3);
    result.dcs[2].reachable = false;
    result.accounts[0].cells[2].read = false;
    da_strv_append(&result.accounts[0].cells[1].krbtgt_targets, "KRBTGT/contoso");
    da_verify_evaluate(&result);
    assert_int_equal(result.verdict, DA_VERDICT_BACKDOORED);
    da_verify_result_clear(&result);
}

static void absent_on_one_dc_is_not_converged(void **state)
{
    struct da_verify_result result;
    struct da_verify_cell *cell;

    make_result(&result, 2);
    cell = &result.accounts[0].cells[0];
    cell->found = false;
    da_verify_stamp_clear(&cell->delegation);
    da_verify_stamp_clear(&cell->uac);
    da_verify_evaluate(&result);
    assert_int_equal(cell->state, DA_VERIFY_ABSENT);
    assert_int_equal(result.verdict, DA_VERDICT_NOT_CONVERGED);

    /* Gone everywhere: the deletion has replicated. */
    cell = &result.accounts[0].cells[1];
    cell->found = false;
    da_verify_evaluate(&result);
    assert_int_equal(result.accounts[0].cells[0].state, DA_VERIFY_CLEAN);
    assert_int_equal(result.verdict, DA_VERDICT_CONVERGED);
    da_verify_result_clear(&result);
}

static void missing_metadata_is_behind(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    da_verify_stamp_clear(&result.accounts[0].cells[1].delegation);
    da_verify_evaluate(&result);
    assert_int_equal(result.accounts[0].cells[1].state, DA_VERIFY_BEHIND);
    da_verify_result_clear(&result);
}

static void protocol_transition_left_on_is_incomplete(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    result.accounts[0].remediation_turns_off_protocol_transition = true;
    result.accounts[0].cells[0].user_account_control = 0x1000200;
    result.accounts[0].cells[1].user_account_control = 0x1000200;
    da_verify_evaluate(&result);
    assert_true(result.accounts[0].cells[0].protocol_transition_left_on);
    assert_int_equal(result.verdict, DA_VERDICT_INCOMPLETE);
    assert_int_equal(da_verify_exit_status(&result), DA_FINDINGS);

    /* The same flag on an account whose finding had it off is no concern. */
    result.accounts[0].remediation_turns_off_protocol_transition = false;
    da_verify_evaluate(&result);
    assert_int_equal(result.verdict, DA_VERDICT_CONVERGED);
    da_verify_result_clear(&result);
}

static void krbtgt_reset_not_replicated_is_not_converged(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    set_stamp(&result.dcs[0].krbtgt.password, 6, "2026-12-04T22:00:00Z", DC1_ID);
    da_verify_evaluate(&result);
    assert_false(result.krbtgt_converged);
    assert_int_equal(result.verdict, DA_VERDICT_NOT_CONVERGED);
    da_verify_result_clear(&result);
}

static void rodc_secret_time_is_the_same_write(void **state)
{
    struct da_verify_result result;

    make_result(&result, 2);
    /* A read-only DC reports the time of unicodePwd, a secret, as zero. */
    set_stamp(&result.dcs[1].krbtgt.password, 4, "1601-01-01T00:00:00Z", DC1_ID);
    da_verify_evaluate(&result);
    assert_true(result.krbtgt_converged);
    assert_int_equal(result.verdict, DA_VERDICT_CONVERGED);

    /* Without the krbtgt account from one DC, the password is unverified. */
    result.dcs[1].krbtgt.read = false;
    da_verify_evaluate(&result);
    assert_false(result.krbtgt_converged);
    assert_int_equal(result.verdict, DA_VERDICT_UNVERIFIED);
    da_verify_result_clear(&result);
}

static void names_round_trip(void **state)
{
    for (int i = DA_VERIFY_CLEAN; i <= DA_VERIFY_UNVERIFIED; i++) {
        enum da_verify_state parsed;

        assert_true(da_verify_state_parse(da_verify_state_name(i), &parsed));
        assert_int_equal(parsed, i);
    }
    for (int i = DA_VERDICT_CONVERGED; i <= DA_VERDICT_UNVERIFIED; i++) {
        enum da_verify_verdict parsed;

        assert_true(da_verify_verdict_parse(da_verify_verdict_name(i), &parsed));
        assert_int_equal(parsed, i);
    }
    enum da_verify_state state_value;
    assert_false(da_verify_state_parse("green", &state_value));
}

static void durations_parse(void **state)
{
    double seconds = -1;

    assert_int_equal(da_verify_parse_duration("90", &seconds), 0);
    assert_true(seconds == 90);
    assert_int_equal(da_verify_parse_duration("30s", &seconds), 0);
    assert_true(seconds == 30);
    assert_int_equal(da_verify_parse_duration("10m", &seconds), 0);
    assert_true(seconds == 600);
    assert_int_equal(da_verify_parse_duration("1h", &seconds), 0);
    assert_true(seconds == 3600);
    assert_int_equal(da_verify_parse_duration("1.5m", &seconds), 0);
    assert_true(seconds == 90);
    assert_int_equal(da_verify_parse_duration("", &seconds), -1);
    assert_int_equal(da_verify_parse_duration("-5", &seconds), -1);
    assert_int_equal(da_verify_parse_duration("10 m", &seconds), -1);
    assert_int_equal(da_verify_parse_duration("5d", &seconds), -1);
    assert_int_equal(da_verify_parse_duration("200h", &seconds), -1);
    assert_int_equal(da_verify_parse_duration("nan", &seconds), -1);
    assert_int_equal(da_verify_parse_duration("1e400", &seconds), -1);
}

static void guid_filter_uses_objectguid_byte_order(void **state)
{
    const char *guids[] = {"0c8d6f55-1b0e-4b5e-9d55-2f3c1a6e7b10",
                           "FFEEDDCC-BBAA-9988-7766-554433221100"};
    char *filter = da_dc_guid_filter(guids, 2);

    assert_non_null(filter);
    assert_string_equal(filter,
                        "(|(objectGUID=\\55\\6f\\8d\\0c\\0e\\1b\\5e\\4b\\9d\\55\\2f\\3c\\1a\\6e"
                        "\\7b\\10)(objectGUID=\\cc\\dd\\ee\\ff\\aa\\bb\\88\\99\\77\\66\\55\\44"
                        "\\33\\22\\11\\00))");
    free(filter);

    const char *bad[] = {"0c8d6f55-1b0e-4b5e-9d55-2f3c1a6e7b1"};
    assert_null(da_dc_guid_filter(bad, 1));
    const char *bad_digit[] = {"0c8d6f55-1b0e-4b5e-9d55-2f3c1a6e7b1g"};
    assert_null(da_dc_guid_filter(bad_digit, 1));
}

static void account_filter_by_kind_of_name(void **state)
{
    char *filter = da_dc_account_filter("svc-web*)(x");

    assert_string_equal(filter, "(sAMAccountName=svc-web\\2a\\29\\28x)");
    free(filter);
    filter = da_dc_account_filter("CN=svc,OU=x,DC=contoso,DC=test");
    assert_string_equal(filter, "(distinguishedName=CN=svc,OU=x,DC=contoso,DC=test)");
    free(filter);
    filter = da_dc_account_filter("S-1-5-21-1-2-3-502");
    assert_non_null(filter);
    assert_string_equal(filter, "(objectSid=\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00\\00\\00"
                                "\\01\\00\\00\\00\\02\\00\\00\\00\\03\\00\\00\\00\\f6\\01\\00"
                                "\\00)");
    free(filter);
    assert_null(da_dc_account_filter("S-1-5-x"));
}

static void read_only_dcs_are_recognised(void **state)
{
    static const char ro[] = "CN=NTDS-DSA-RO,CN=Schema,CN=Configuration,DC=contoso,DC=test";
    static const char rw[] = "CN=NTDS-DSA,CN=Schema,CN=Configuration,DC=contoso,DC=test";

    assert_true(da_topology_read_only("TRUE", rw));
    assert_true(da_topology_read_only(NULL, ro));
    assert_true(da_topology_read_only("FALSE", ro));
    assert_true(da_topology_read_only(NULL, "cn=ntds-dsa-ro,CN=Schema,CN=Configuration,DC=x"));
    assert_false(da_topology_read_only("FALSE", rw));
    assert_false(da_topology_read_only(NULL, NULL));
    assert_false(da_topology_read_only(NULL, "CN=NTDS-DSA-ROX"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stamps_order_by_version_time_then_dc),
        cmocka_unit_test(same_stamps_everywhere_converge),
        cmocka_unit_test(older_version_is_behind),
        cmocka_unit_test(older_uac_write_is_behind),
        cmocka_unit_test(krbtgt_target_outranks_behind),
        cmocka_unit_test(unreachable_dc_is_unverified_not_clean),
        cmocka_unit_test(backdoor_outranks_unverified),
        cmocka_unit_test(absent_on_one_dc_is_not_converged),
        cmocka_unit_test(missing_metadata_is_behind),
        cmocka_unit_test(protocol_transition_left_on_is_incomplete),
        cmocka_unit_test(krbtgt_reset_not_replicated_is_not_converged),
        cmocka_unit_test(rodc_secret_time_is_the_same_write),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(durations_parse),
        cmocka_unit_test(guid_filter_uses_objectguid_byte_order),
        cmocka_unit_test(account_filter_by_kind_of_name),
        cmocka_unit_test(read_only_dcs_are_recognised),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
