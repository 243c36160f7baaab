/* The renderers of verify results and the reader of their JSON form, on
 * results built by hand: three domain controllers, one of them
 * unreachable, and accounts in every state. One DN carries an ESC byte, a
 * newline and <script>, as an attacker could write into the directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auditor/verify_load.h"
#include "reports/evidence_report.h"
#include "reports/verify_report.h"

#define BASE_DN "DC=contoso,DC=test"
#define ID_DC1 "0a1b2c3d-0000-4000-8000-000000000001"
#define ID_DC2 "0a1b2c3d-0000-4000-8000-000000000002"
#define ID_GONE "0a1b2c3d-0000-4000-8000-0000000000ff"
#define SCRIPT "<script>alert(1)</script>"
#define NASTY_DN "CN=svc-new\x1b[31m\nfake line" SCRIPT ",OU=Lab," BASE_DN

enum { DC1, DC2, DC3, DC_COUNT };
enum { BACKDOOR, LAGGING, NEW_ACCOUNT, ACCOUNT_COUNT };

static char *copy(const char *text)
{
    char *result = text != NULL ? strdup(text) : NULL;

    if (text != NULL)
        assert_non_null(result);
    return result;
}

static void set_stamp(struct da_verify_stamp *stamp, uint32_t version, const char *time,
                      const char *invocation_id, const char *dc, uint64_t local_usn)
{
    da_verify_stamp_clear(stamp);
    stamp->known = true;
    stamp->version = version;
    stamp->originating_time = copy(time);
    stamp->originating_invocation_id = copy(invocation_id);
    stamp->originating_dc = copy(dc);
    stamp->originating_usn = 4000 + version;
    stamp->local_usn = local_usn;
}

static void set_dc(struct da_verify_dc *dc, const char *name, const char *host,
                   const char *invocation_id, bool read_only, const char *problem)
{
    dc->name = copy(name);
    dc->host = copy(host);
    dc->invocation_id = copy(invocation_id);
    dc->read_only = read_only;
    dc->reachable = problem == NULL;
    dc->problem = copy(problem);
    dc->seconds = problem == NULL ? 0.4 : 10.0;
    if (problem != NULL)
        return;
    dc->krbtgt.read = true;
    dc->krbtgt.password_last_set = copy("2026-12-05T01:00:00Z");
    set_stamp(&dc->krbtgt.password, 4, "2026-12-05T01:00:00Z", ID_DC1, "DC1", 9000);
}

static void set_account(struct da_verify_account *account, const char *guid, const char *dn,
                        const char *sam, const char *finding_time, bool turns_off)
{
    account->guid = copy(guid);
    account->dn = copy(dn);
    account->sam_account_name = copy(sam);
    account->sid = copy(sam != NULL ? "S-1-5-21-1004336348-1177238915-682003330-1105" : NULL);
    account->finding_time = copy(finding_time);
    account->remediation_turns_off_protocol_transition = turns_off;
}

/* A cell read from a DC that has the object, with delegation metadata
 * of the given version and UAC metadata of version 1. */
static void set_cell(struct da_verify_cell *cell, uint32_t uac, const char *target,
                     uint32_t version)
{
    cell->read = true;
    cell->found = true;
    cell->user_account_control = uac;
    if (target != NULL) {
        assert_int_equal(da_strv_append(&cell->allowed_to_delegate_to, target), 0);
        if (strncmp(target, "krbtgt/", 7) == 0)
            assert_int_equal(da_strv_append(&cell->krbtgt_targets, target), 0);
    }
    set_stamp(&cell->delegation, version, "2026-12-04T20:00:00Z", ID_DC1, "DC1", 5000 + version);
    set_stamp(&cell->uac, 1, "2026-01-01T00:00:00Z", ID_GONE, NULL, 100);
}

/* The backdoored result: DC2 still lists the krbtgt target that DC1
 * removed, DC2 is behind for svc-lag, DC2 lacks the new account, and DC3
 * did not answer. */
static struct da_verify_result *build_result(void)
{
    struct da_verify_result *result = calloc(1, sizeof(*result));
    struct da_verify_account *accounts;

    assert_non_null(result);
    assert_int_equal(da_verify_result_init(result, DC_COUNT, ACCOUNT_COUNT), 0);
    result->time = copy("2026-12-05T02:00:00Z");
    result->base_dn = copy(BASE_DN);
    result->selection = copy("the accounts of the findings in snapshot.json");
    result->rounds = 3;
    result->waited_seconds = 120.5;

    set_dc(&result->dcs[DC1], "DC1", "dc1.contoso.test", ID_DC1, false, NULL);
    set_dc(&result->dcs[DC2], "DC2", "dc2.contoso.test", ID_DC2, true, NULL);
    set_dc(&result->dcs[DC3], "DC3", "dc3.contoso.test", NULL, false,
           "connection refused (ldaps://dc3.contoso.test:636)");

    accounts = result->accounts;
    set_account(&accounts[BACKDOOR], "11111111-2222-3333-4444-555555555555",
                "CN=svc-backdoor,OU=Lab," BASE_DN, "svc-backdoor", "20261204195100.0Z", true);
    set_cell(&accounts[BACKDOOR].cells[DC1], 0x200, "cifs/fs1.contoso.test", 3);
    set_cell(&accounts[BACKDOOR].cells[DC2], 0x200 | DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
             "krbtgt/CONTOSO.TEST", 2);

    set_account(&accounts[LAGGING], "22222222-2222-3333-4444-555555555555",
                "CN=svc-lag,OU=Lab," BASE_DN, "svc-lag", "20261204190000.0Z", false);
    set_cell(&accounts[LAGGING].cells[DC1], 0x200, NULL, 5);
    set_cell(&accounts[LAGGING].cells[DC2], 0x200, "cifs/old.contoso.test", 4);

    set_account(&accounts[NEW_ACCOUNT], "33333333-2222-3333-4444-555555555555", NASTY_DN, NULL,
                NULL, false);
    set_cell(&accounts[NEW_ACCOUNT].cells[DC1], 0x200, NULL, 1);
    accounts[NEW_ACCOUNT].cells[DC2].read = true;

    da_verify_evaluate(result);
    return result;
}

static void free_result(struct da_verify_result *result)
{
    da_verify_result_clear(result);
    free(result);
}

static char *render_text(const struct da_verify_result *result)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);

    assert_non_null(stream);
    assert_int_equal(da_verify_write_text(stream, result), 0);
    assert_int_equal(fclose(stream), 0);
    return text;
}

static char *render_json(const struct da_verify_result *result)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);

    assert_non_null(stream);
    assert_int_equal(da_verify_write_json(stream, result), 0);
    assert_int_equal(fclose(stream), 0);
    return text;
}

/* Returns the verdict line of result, checked for NULL. */
static char *verdict_of(const struct da_verify_result *result)
{
    char *line = da_verify_verdict_line(result);

    assert_non_null(line);
    return line;
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* ---- Text ------------------------------------------------------------------------------ */

static void evaluate_sets_every_state(void **state)
{
    struct da_verify_result *result = build_result();

    (void)state;
    assert_int_equal(result->verdict, DA_VERDICT_BACKDOORED);
    assert_int_equal(result->accounts[BACKDOOR].cells[DC1].state, DA_VERIFY_CLEAN);
    assert_int_equal(result->accounts[BACKDOOR].cells[DC2].state, DA_VERIFY_KRBTGT);
    assert_int_equal(result->accounts[LAGGING].cells[DC2].state, DA_VERIFY_BEHIND);
    assert_int_equal(result->accounts[NEW_ACCOUNT].cells[DC2].state, DA_VERIFY_ABSENT);
    assert_int_equal(result->accounts[NEW_ACCOUNT].cells[DC3].state, DA_VERIFY_UNVERIFIED);
    free_result(result);
}

static void text_starts_with_verdict(void **state)
{
    struct da_verify_result *result = build_result();
    char *text = render_text(result);

    (void)state;
    assert_true(starts_with(text, "BACKDOORED: DC2 still lists krbtgt/CONTOSO.TEST for "
                                  "svc-backdoor\n"));
    assert_non_null(strstr(text, "\nBase DN: " BASE_DN "\n"));
    assert_non_null(strstr(text, "\nVerified: the accounts of the findings in snapshot.json\n"));
    assert_non_null(strstr(text, "\nTime: 2026-12-05T02:00:00Z (UTC), 3 rounds, waited 120.5 s\n"));
    free(text);
    free_result(result);
}

static void text_lists_dcs(void **state)
{
    struct da_verify_result *result = build_result();
    char *text = render_text(result);

    (void)state;
    assert_non_null(strstr(text, "\nDomain controllers (3):\n"));
    assert_non_null(strstr(text, "  DC1  dc1.contoso.test  writable   answered in 0.4 s\n"));
    assert_non_null(strstr(text, "  DC2  dc2.contoso.test  read-only  answered in 0.4 s\n"));
    assert_non_null(strstr(text, "  DC3  dc3.contoso.test  unknown    UNVERIFIED: connection "
                                 "refused (ldaps://dc3.contoso.test:636)\n"));
    free(text);
    free_result(result);
}

static void text_lists_cells(void **state)
{
    struct da_verify_result *result = build_result();
    char *text = render_text(result);

    (void)state;
    assert_non_null(strstr(text, "  svc-backdoor  CN=svc-backdoor,OU=Lab," BASE_DN "\n"
                                 "    finding time 20261204195100.0Z\n"
                                 "    DC1  clean          msDS-AllowedToDelegateTo version 3, "
                                 "written 2026-12-04T20:00:00Z at DC1, originating USN 4003, "
                                 "local USN 5003\n"));
    /* DC2: the krbtgt target, protocol transition and the older UAC write
     * of an originating DC whose name is unknown. */
    assert_non_null(strstr(text, "    DC2  krbtgt-target  msDS-AllowedToDelegateTo version 2, "
                                 "written 2026-12-04T20:00:00Z at DC1, originating USN 4002, "
                                 "local USN 5002; userAccountControl version 1, written "
                                 "2026-01-01T00:00:00Z at invocationId " ID_GONE
                                 ", originating USN 4001, local USN 100; still lists "
                                 "krbtgt/CONTOSO.TEST; protocol transition still on\n"));
    assert_non_null(strstr(text, "    DC3  unverified     not read\n"));
    assert_non_null(strstr(text, "    DC2  behind         msDS-AllowedToDelegateTo version 4"));
    assert_non_null(strstr(text, "    DC2  absent         no such object on this domain "
                                 "controller\n"));
    free(text);
    free_result(result);
}

static void text_shows_krbtgt_and_next_step(void **state)
{
    struct da_verify_result *result = build_result();
    char *text = render_text(result);

    (void)state;
    assert_non_null(strstr(text, "\nkrbtgt password:\n  Newest finding time: "
                                 "20261204195100.0Z\n"));
    assert_non_null(strstr(text, "  DC1  password version 4, last set 2026-12-05T01:00:00Z at "
                                 "DC1; set after the newest finding\n"));
    assert_non_null(strstr(text, "  DC3  not read: the domain controller could not be read\n"));
    assert_non_null(strstr(text, "  Every domain controller that answered holds the same "
                                 "krbtgt password.\n"));

    /* DC2 has an older write: replication, from DC1 to DC2. */
    assert_non_null(strstr(text, "\nNext step:\n  DC2 has not received the newest write yet."));
    assert_non_null(strstr(text, "on Windows: repadmin /syncall dc1.contoso.test /AdeP\n"));
    assert_non_null(strstr(text, "on Samba:   samba-tool drs replicate dc2.contoso.test "
                                 "dc1.contoso.test " BASE_DN "\n"));
    assert_non_null(strstr(text, "  Check that DC3 (dc3.contoso.test) answers from here"));
    /* The password was reset after the finding: no advice to reset it. */
    assert_null(strstr(text, "Reset the krbtgt password twice"));
    free(text);
    free_result(result);
}

static void text_escapes_directory_values(void **state)
{
    struct da_verify_result *result = build_result();
    char *text = render_text(result);

    (void)state;
    assert_null(strchr(text, '\x1b'));
    assert_non_null(strstr(text, "  -  CN=svc-new\\x1b[31m\\x0afake line" SCRIPT ",OU=Lab,"));
    assert_null(strstr(text, "\nfake line"));
    free(text);
    free_result(result);
}

static void text_advises_krbtgt_reset(void **state)
{
    struct da_verify_result *result = build_result();
    char *text;

    (void)state;
    /* A password set before the finding, as pwdLastSet in ISO form and the
     * finding as GeneralizedTime. */
    free(result->dcs[DC2].krbtgt.password_last_set);
    result->dcs[DC2].krbtgt.password_last_set = copy("2026-12-04T19:51:00Z");
    assert_int_equal(da_verify_krbtgt_reset_order(result, &result->dcs[DC1]),
                     DA_RESET_AFTER_FINDING);
    assert_int_equal(da_verify_krbtgt_reset_order(result, &result->dcs[DC2]),
                     DA_RESET_BEFORE_FINDING);
    assert_int_equal(da_verify_krbtgt_reset_order(result, &result->dcs[DC3]),
                     DA_RESET_NOT_COMPARED);

    text = render_text(result);
    assert_non_null(strstr(text, "2026-12-04T19:51:00Z at DC1; set before the newest finding\n"));
    assert_non_null(strstr(text, "  Reset the krbtgt password twice, letting replication "
                                 "complete in between: on DC2 it was last set before the "
                                 "newest finding"));
    free(text);
    free_result(result);
}

static void verdict_line_for_each_verdict(void **state)
{
    struct da_verify_result *result = build_result();
    struct da_verify_account *accounts = result->accounts;
    char *line;

    (void)state;
    /* Unverified: every reachable DC is clean and converged. */
    da_strv_clear(&accounts[BACKDOOR].cells[DC2].krbtgt_targets);
    accounts[BACKDOOR].cells[DC2].user_account_control = 0x200;
    set_stamp(&accounts[BACKDOOR].cells[DC2].delegation, 3, "2026-12-04T20:00:00Z", ID_DC1, "DC1",
              6000);
    set_stamp(&accounts[LAGGING].cells[DC2].delegation, 5, "2026-12-04T20:00:00Z", ID_DC1, "DC1",
              6000);
    set_stamp(&accounts[BACKDOOR].cells[DC2].uac, 1, "2026-01-01T00:00:00Z", ID_GONE, NULL, 100);
    accounts[NEW_ACCOUNT].cells[DC2] = accounts[NEW_ACCOUNT].cells[DC1];
    memset(&accounts[NEW_ACCOUNT].cells[DC1], 0, sizeof(accounts[NEW_ACCOUNT].cells[DC1]));
    set_cell(&accounts[NEW_ACCOUNT].cells[DC1], 0x200, NULL, 1);
    da_verify_evaluate(result);
    line = verdict_of(result);
    assert_string_equal(line, "unverified: DC3 could not be read (connection refused "
                              "(ldaps://dc3.contoso.test:636))");
    assert_int_equal(da_verify_exit_status(result), 5);
    free(line);

    /* Converged: DC3 is read with the same data. */
    result->dcs[DC3].reachable = true;
    free(result->dcs[DC3].problem);
    result->dcs[DC3].problem = NULL;
    result->dcs[DC3].krbtgt.read = true;
    set_stamp(&result->dcs[DC3].krbtgt.password, 4, "2026-12-05T01:00:00Z", ID_DC1, "DC1", 9000);
    for (size_t i = 0; i < ACCOUNT_COUNT; i++) {
        struct da_verify_cell *source = &accounts[i].cells[DC1];

        set_cell(&accounts[i].cells[DC3], source->user_account_control, NULL,
                 source->delegation.version);
    }
    da_verify_evaluate(result);
    line = verdict_of(result);
    assert_string_equal(line, "converged: every domain controller holds the same newest write "
                              "and no krbtgt target");
    assert_int_equal(da_verify_exit_status(result), 0);
    free(line);

    /* Not converged: the krbtgt passwords differ. */
    result->dcs[DC2].krbtgt.password.version = 5;
    da_verify_evaluate(result);
    line = verdict_of(result);
    assert_string_equal(line, "not converged: the domain controllers hold different krbtgt "
                              "passwords");
    free(line);
    result->dcs[DC2].krbtgt.password.version = 4;

    /* Not converged: DC3 is behind for svc-lag. */
    accounts[LAGGING].cells[DC3].delegation.version = 4;
    da_verify_evaluate(result);
    line = verdict_of(result);
    assert_string_equal(line, "not converged: DC3 is behind for svc-lag");
    assert_int_equal(da_verify_exit_status(result), 1);
    free(line);
    accounts[LAGGING].cells[DC3].delegation.version = 5;

    /* Incomplete: protocol transition stays on where the remediation turns
     * it off. */
    accounts[BACKDOOR].cells[DC1].user_account_control |= DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION;
    da_verify_evaluate(result);
    line = verdict_of(result);
    assert_string_equal(line, "incomplete: protocol transition is still on for svc-backdoor on "
                              "DC1");
    free(line);
    free_result(result);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void assert_member_type(const cJSON *object, const char *name, int type)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);

    if (item == NULL)
        fail_msg("member %s is missing", name);
    if ((item->type & 0xff) != type)
        fail_msg("member %s has type %d, expected %d", name, item->type & 0xff, type);
}

static void json_has_schema_keys(void **state)
{
    struct da_verify_result *result = build_result();
    char *text = render_json(result);
    cJSON *document = cJSON_Parse(text);
    const cJSON *dc;
    const cJSON *cell;
    const cJSON *stamp;

    (void)state;
    assert_non_null(document);
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_string_equal(cJSON_GetObjectItem(document, "format")->valuestring, "delegaudit-verify");
    assert_int_equal(cJSON_GetObjectItem(document, "format_version")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(document, "verdict")->valuestring, "backdoored");
    assert_int_equal(cJSON_GetObjectItem(document, "exit_status")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(document, "rounds")->valueint, 3);
    assert_member_type(document, "time", cJSON_String);
    assert_member_type(document, "base_dn", cJSON_String);
    assert_member_type(document, "selection", cJSON_String);
    assert_member_type(document, "waited_seconds", cJSON_Number);
    assert_member_type(document, "krbtgt_converged", cJSON_True);

    dc = cJSON_GetArrayItem(cJSON_GetObjectItem(document, "domain_controllers"), DC3);
    assert_non_null(dc);
    assert_string_equal(cJSON_GetObjectItem(dc, "name")->valuestring, "DC3");
    assert_member_type(dc, "host", cJSON_String);
    assert_member_type(dc, "invocation_id", cJSON_NULL);
    assert_member_type(dc, "read_only", cJSON_False);
    assert_member_type(dc, "reachable", cJSON_False);
    assert_member_type(dc, "problem", cJSON_String);
    assert_member_type(dc, "seconds", cJSON_Number);
    assert_member_type(cJSON_GetObjectItem(dc, "krbtgt"), "read", cJSON_False);
    assert_member_type(cJSON_GetObjectItem(dc, "krbtgt"), "password_last_set", cJSON_NULL);
    assert_member_type(cJSON_GetObjectItem(dc, "krbtgt"), "password", cJSON_NULL);

    cell = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(document, "accounts"), BACKDOOR),
                            "domain_controllers"),
        DC2);
    assert_non_null(cell);
    assert_string_equal(cJSON_GetObjectItem(cell, "dc")->valuestring, "DC2");
    assert_string_equal(cJSON_GetObjectItem(cell, "state")->valuestring, "krbtgt-target");
    assert_member_type(cell, "read", cJSON_True);
    assert_member_type(cell, "found", cJSON_True);
    assert_int_equal(cJSON_GetObjectItem(cell, "user_account_control")->valueint, 0x1000200);
    assert_member_type(cell, "protocol_transition", cJSON_True);
    assert_member_type(cell, "protocol_transition_left_on", cJSON_True);
    assert_member_type(cell, "behind", cJSON_True);
    assert_member_type(cell, "allowed_to_delegate_to", cJSON_Array);
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cell, "krbtgt_targets"), 0)->valuestring,
        "krbtgt/CONTOSO.TEST");

    stamp = cJSON_GetObjectItem(cell, "uac_metadata");
    assert_int_equal(cJSON_GetObjectItem(stamp, "version")->valueint, 1);
    assert_member_type(stamp, "originating_time", cJSON_String);
    assert_string_equal(cJSON_GetObjectItem(stamp, "originating_invocation_id")->valuestring,
                        ID_GONE);
    assert_member_type(stamp, "originating_dc", cJSON_NULL);
    assert_int_equal(cJSON_GetObjectItem(stamp, "originating_usn")->valueint, 4001);
    assert_int_equal(cJSON_GetObjectItem(stamp, "local_usn")->valueint, 100);

    /* The account without a sAMAccountName or finding. */
    {
        const cJSON *account =
            cJSON_GetArrayItem(cJSON_GetObjectItem(document, "accounts"), NEW_ACCOUNT);

        assert_string_equal(cJSON_GetObjectItem(account, "dn")->valuestring, NASTY_DN);
        assert_member_type(account, "guid", cJSON_String);
        assert_member_type(account, "sam_account_name", cJSON_NULL);
        assert_member_type(account, "sid", cJSON_NULL);
        assert_member_type(account, "finding_time", cJSON_NULL);
        assert_member_type(account, "remediation_turns_off_protocol_transition", cJSON_False);
    }
    cJSON_Delete(document);
    free(text);
    free_result(result);
}

/* Writes text to a new temporary file and returns its path. */
static char *write_temporary(const char *text, size_t length)
{
    char *path = strdup("/tmp/test_verify_reports.XXXXXX");
    int fd;

    assert_non_null(path);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, length), (ssize_t)length);
    assert_int_equal(close(fd), 0);
    return path;
}

static void assert_stamps_equal(const struct da_verify_stamp *a, const struct da_verify_stamp *b)
{
    assert_int_equal(a->known, b->known);
    assert_int_equal(da_verify_stamp_compare(a, b), 0);
    if (!a->known)
        return;
    assert_int_equal(a->local_usn, b->local_usn);
    if (a->originating_dc == NULL)
        assert_null(b->originating_dc);
    else
        assert_string_equal(a->originating_dc, b->originating_dc);
}

static void assert_optional_equal(const char *a, const char *b)
{
    if (a == NULL)
        assert_null(b);
    else
        assert_string_equal(a, b);
}

static void json_round_trip(void **state)
{
    struct da_verify_result *result = build_result();
    struct da_verify_result loaded;
    struct da_error err = {0};
    char *text = render_json(result);
    char *path = write_temporary(text, strlen(text));

    (void)state;
    assert_int_equal(da_verify_load_file(path, &loaded, &err), 0);
    assert_int_equal(loaded.verdict, result->verdict);
    assert_int_equal(loaded.krbtgt_converged, result->krbtgt_converged);
    assert_int_equal(da_verify_exit_status(&loaded), 1);
    assert_string_equal(loaded.time, result->time);
    assert_string_equal(loaded.base_dn, result->base_dn);
    assert_string_equal(loaded.selection, result->selection);
    assert_int_equal(loaded.rounds, 3);
    assert_true(loaded.waited_seconds == result->waited_seconds);
    assert_int_equal(loaded.dc_count, DC_COUNT);
    assert_int_equal(loaded.account_count, ACCOUNT_COUNT);

    for (size_t j = 0; j < DC_COUNT; j++) {
        const struct da_verify_dc *a = &result->dcs[j];
        const struct da_verify_dc *b = &loaded.dcs[j];

        assert_string_equal(a->name, b->name);
        assert_optional_equal(a->host, b->host);
        assert_optional_equal(a->invocation_id, b->invocation_id);
        assert_optional_equal(a->problem, b->problem);
        assert_int_equal(a->read_only, b->read_only);
        assert_int_equal(a->reachable, b->reachable);
        assert_true(a->seconds == b->seconds);
        assert_int_equal(a->krbtgt.read, b->krbtgt.read);
        assert_optional_equal(a->krbtgt.password_last_set, b->krbtgt.password_last_set);
        assert_stamps_equal(&a->krbtgt.password, &b->krbtgt.password);
    }
    for (size_t i = 0; i < ACCOUNT_COUNT; i++) {
        const struct da_verify_account *a = &result->accounts[i];
        const struct da_verify_account *b = &loaded.accounts[i];

        assert_string_equal(a->guid, b->guid);
        assert_string_equal(a->dn, b->dn);
        assert_optional_equal(a->sam_account_name, b->sam_account_name);
        assert_optional_equal(a->sid, b->sid);
        assert_optional_equal(a->finding_time, b->finding_time);
        assert_int_equal(a->remediation_turns_off_protocol_transition,
                         b->remediation_turns_off_protocol_transition);
        for (size_t j = 0; j < DC_COUNT; j++) {
            const struct da_verify_cell *x = &a->cells[j];
            const struct da_verify_cell *y = &b->cells[j];

            assert_int_equal(x->state, y->state);
            assert_int_equal(x->read, y->read);
            assert_int_equal(x->found, y->found);
            assert_int_equal(x->user_account_control, y->user_account_control);
            assert_int_equal(x->behind, y->behind);
            assert_int_equal(x->protocol_transition_left_on, y->protocol_transition_left_on);
            assert_int_equal(x->allowed_to_delegate_to.count, y->allowed_to_delegate_to.count);
            for (size_t k = 0; k < x->allowed_to_delegate_to.count; k++)
                assert_string_equal(x->allowed_to_delegate_to.items[k],
                                    y->allowed_to_delegate_to.items[k]);
            assert_int_equal(x->krbtgt_targets.count, y->krbtgt_targets.count);
            assert_stamps_equal(&x->delegation, &y->delegation);
            assert_stamps_equal(&x->uac, &y->uac);
        }
    }

    da_verify_result_clear(&loaded);
    unlink(path);
    free(path);
    free(text);
    free_result(result);
}

static void json_round_trip_large_usn(void **state)
{
    struct da_verify_result *result = build_result();
    struct da_verify_result loaded;
    struct da_error err = {0};
    char *text;
    char *path;

    (void)state;
    /* 2^53 - 1: the largest USN that a double holds exactly. */
    result->accounts[BACKDOOR].cells[DC1].delegation.local_usn = 9007199254740991ull;
    text = render_json(result);
    assert_non_null(strstr(text, "9007199254740991"));
    path = write_temporary(text, strlen(text));
    assert_int_equal(da_verify_load_file(path, &loaded, &err), 0);
    assert_int_equal(loaded.accounts[BACKDOOR].cells[DC1].delegation.local_usn,
                     9007199254740991ull);
    da_verify_result_clear(&loaded);
    unlink(path);
    free(path);
    free(text);
    free_result(result);
}

/* ---- Loading errors -------------------------------------------------------------------- */

/* Loads text from a file and checks the status and a part of the message. */
static void assert_load_fails(const char *text, size_t length, int status, const char *part)
{
    struct da_verify_result loaded;
    struct da_error err = {0};
    char *path = write_temporary(text, length);

    assert_int_equal(da_verify_load_file(path, &loaded, &err), status);
    assert_int_equal(err.status, status);
    if (strstr(err.message, part) == NULL)
        fail_msg("message \"%s\" does not contain \"%s\"", err.message, part);
    if (strstr(err.message, path) == NULL)
        fail_msg("message \"%s\" does not name the file", err.message);
    assert_null(loaded.dcs);
    assert_null(loaded.accounts);
    unlink(path);
    free(path);
}

/* Renders the backdoored result, lets edit change the parsed document and
 * returns it printed. */
static char *edited_document(void (*edit)(cJSON *document))
{
    struct da_verify_result *result = build_result();
    char *text = render_json(result);
    cJSON *document = cJSON_Parse(text);
    char *printed;

    assert_non_null(document);
    edit(document);
    printed = cJSON_Print(document);
    assert_non_null(printed);
    cJSON_Delete(document);
    free(text);
    free_result(result);
    return printed;
}

static cJSON *first_cell(cJSON *document, int account, int dc)
{
    cJSON *accounts = cJSON_GetObjectItem(document, "accounts");
    cJSON *cells = cJSON_GetObjectItem(cJSON_GetArrayItem(accounts, account), "domain_controllers");

    return cJSON_GetArrayItem(cells, dc);
}

static void edit_format(cJSON *document)
{
    cJSON_ReplaceItemInObject(document, "format", cJSON_CreateString("delegaudit-snapshot"));
}

static void edit_version(cJSON *document)
{
    cJSON_ReplaceItemInObject(document, "format_version", cJSON_CreateNumber(2));
}

static void edit_state(cJSON *document)
{
    cJSON_ReplaceItemInObject(first_cell(document, 2, 1), "state", cJSON_CreateString("green"));
}

static void edit_cells(cJSON *document)
{
    cJSON *accounts = cJSON_GetObjectItem(document, "accounts");

    cJSON_DeleteItemFromArray(
        cJSON_GetObjectItem(cJSON_GetArrayItem(accounts, 1), "domain_controllers"), 2);
}

static void edit_number_for_string(cJSON *document)
{
    cJSON *dcs = cJSON_GetObjectItem(document, "domain_controllers");

    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(dcs, 1), "host", cJSON_CreateNumber(42));
}

static void edit_dc_order(cJSON *document)
{
    cJSON_ReplaceItemInObject(first_cell(document, 0, 0), "dc", cJSON_CreateString("DC2"));
}

static void edit_usn(cJSON *document)
{
    cJSON *stamp = cJSON_GetObjectItem(first_cell(document, 0, 0), "delegation_metadata");

    cJSON_ReplaceItemInObject(stamp, "local_usn", cJSON_CreateNumber(-1));
}

static void edit_repeated_member(cJSON *document)
{
    cJSON_AddItemToObject(document, "base_dn", cJSON_CreateString("DC=evil,DC=test"));
}

static void load_rejects_invalid_documents(void **state)
{
    static const struct {
        void (*edit)(cJSON *document);
        int status;
        const char *message;
    } cases[] = {
        {edit_format, 2,
         "format is \"delegaudit-snapshot\", not \"delegaudit-verify\", so this "
         "is not a delegaudit verify document"},
        {edit_version, 2,
         "format_version 2 is newer than version 1, the newest this delegaudit "
         "reads; upgrade delegaudit to read it"},
        {edit_state, 2,
         "accounts[2].domain_controllers[1].state is \"green\", not one of "
         "clean, krbtgt-target, behind, absent, unverified; write the file with "
         "delegaudit verify --json"},
        {edit_cells, 2,
         "accounts[1].domain_controllers has 2 entries, but the document lists "
         "3 domain controllers"},
        {edit_number_for_string, 2, "domain_controllers[1].host is not a string or null"},
        {edit_dc_order, 2,
         "accounts[0].domain_controllers[0].dc is \"DC2\", but that place in "
         "domain_controllers holds \"DC1\""},
        {edit_usn, 2,
         "accounts[0].domain_controllers[0].delegation_metadata.local_usn is not a "
         "whole number 0..9007199254740991"},
        {edit_repeated_member, 2, "base_dn appears more than once"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = edited_document(cases[i].edit);

        assert_load_fails(text, strlen(text), cases[i].status, cases[i].message);
        free(text);
    }
}

static void load_rejects_newer_without_advice_to_rewrite(void **state)
{
    struct da_verify_result loaded;
    struct da_error err = {0};
    char *text = edited_document(edit_version);
    char *path = write_temporary(text, strlen(text));

    (void)state;
    assert_int_equal(da_verify_load_file(path, &loaded, &err), DA_ERR_USAGE);
    assert_null(strstr(err.message, "delegaudit verify --json"));
    unlink(path);
    free(path);
    free(text);
}

static void load_rejects_files_that_are_not_json(void **state)
{
    static const char not_json[] = "verdict: converged\n";
    static const char truncated[] = "{\"format\": \"delegaudit-verify\", \"format_version\": 1,";
    static const char trailing[] = "{\"format\": \"delegaudit-verify\"} {}";
    static const char nul_escape[] = "{\"format\": \"delegaudit-verify\\u0000x\"}";
    static const char array[] = "[1, 2]";
    static const char nul_byte[] = "{\"format\"\0: 1}";

    (void)state;
    assert_load_fails(not_json, strlen(not_json), DA_ERR_USAGE, "is not JSON: invalid at line 1");
    assert_load_fails(truncated, strlen(truncated), DA_ERR_USAGE, "is not JSON");
    assert_load_fails(trailing, strlen(trailing), DA_ERR_USAGE, "has data after the JSON");
    assert_load_fails(nul_escape, strlen(nul_escape), DA_ERR_USAGE, "\\u0000");
    assert_load_fails(nul_byte, sizeof(nul_byte) - 1, DA_ERR_USAGE, "contains a NUL byte");
    assert_load_fails(array, strlen(array), DA_ERR_USAGE, "is not a JSON object");
    assert_load_fails("", 0, DA_ERR_USAGE,
                      "is empty, so it is not a verify document; write "
                      "the file with delegaudit verify --json");
}

static void load_rejects_missing_file(void **state)
{
    struct da_verify_result loaded;
    struct da_error err = {0};

    (void)state;
    assert_int_equal(da_verify_load_file("/nonexistent/verify.json", &loaded, &err), DA_ERR_LOCAL);
    assert_non_null(strstr(err.message, "cannot open verify results /nonexistent/verify.json: "
                                        "No such file or directory; check the path"));
    assert_int_equal(da_verify_load_file("/tmp", &loaded, &err), DA_ERR_LOCAL);
    assert_non_null(strstr(err.message, "not a regular file"));
}

/* Every prefix of a valid document, and the document with each byte
 * changed, either loads or fails with a message: nothing crashes. */
static void load_survives_damaged_documents(void **state)
{
    struct da_verify_result *result = build_result();
    char *text = render_json(result);
    size_t length = strlen(text);

    (void)state;
    for (size_t cut = 0; cut < length; cut += 7) {
        struct da_verify_result loaded;
        struct da_error err = {0};
        char *path = write_temporary(text, cut);

        assert_int_not_equal(da_verify_load_file(path, &loaded, &err), 0);
        assert_true(err.message[0] != '\0');
        unlink(path);
        free(path);
    }
    for (size_t at = 0; at < length; at += 5) {
        struct da_verify_result loaded;
        struct da_error err = {0};
        char saved = text[at];
        char *path;

        text[at] = isdigit((unsigned char)saved) ? '"' : '9';
        path = write_temporary(text, length);
        if (da_verify_load_file(path, &loaded, &err) == 0)
            da_verify_result_clear(&loaded);
        else
            assert_true(err.message[0] != '\0');
        text[at] = saved;
        unlink(path);
        free(path);
    }
    free(text);
    free_result(result);
}

/* ---- The remediation report ------------------------------------------------------------ */

struct report_fixture {
    struct da_snapshot *snapshot;
    struct da_findings findings;
    struct da_verify_result *result;
    struct da_evidence_report report;
};

static int report_setup(void **state)
{
    struct report_fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->snapshot = da_snapshot_new();
    assert_non_null(f->snapshot);
    f->snapshot->poll.time = copy("2026-12-05T02:10:00Z");
    f->snapshot->poll.dc_host = copy("dc1.contoso.test");
    f->snapshot->poll.uri = copy("ldaps://dc1.contoso.test");
    f->snapshot->poll.base_dn = copy(BASE_DN);
    f->result = build_result();
    f->report.snapshot = f->snapshot;
    f->report.findings = &f->findings;
    f->report.verify = f->result;
    f->report.verify_path = "/var/lib/delegaudit/verify.json";
    *state = f;
    return 0;
}

static int report_teardown(void **state)
{
    struct report_fixture *f = *state;

    da_snapshot_free(f->snapshot);
    free_result(f->result);
    free(f);
    return 0;
}

static char *render_report(const struct da_evidence_report *report, enum da_report_format format)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);

    assert_non_null(stream);
    assert_int_equal(da_evidence_report_write(stream, format, report), 0);
    assert_int_equal(fclose(stream), 0);
    return text;
}

static void report_text_has_verification(void **state)
{
    struct report_fixture *f = *state;
    char *text = render_report(&f->report, DA_REPORT_TEXT);

    assert_non_null(strstr(text, "\nVerification across domain controllers\n"
                                 "  Results: /var/lib/delegaudit/verify.json\n"
                                 "  BACKDOORED: DC2 still lists krbtgt/CONTOSO.TEST for "
                                 "svc-backdoor\n"
                                 "  Verified at 2026-12-05T02:00:00Z (UTC) on 3 domain "
                                 "controllers, base " BASE_DN "\n"));
    assert_non_null(strstr(text, "    DC2  krbtgt-target, protocol transition still on\n"));
    assert_non_null(strstr(text, "    DC2  absent\n"));
    assert_non_null(strstr(text, "  krbtgt password:\n    DC1  password version 4, last set "
                                 "2026-12-05T01:00:00Z at DC1; set after the newest finding\n"));
    assert_null(strchr(text, '\x1b'));
    free(text);

    f->report.verify = NULL;
    text = render_report(&f->report, DA_REPORT_TEXT);
    assert_null(strstr(text, "Verification"));
    free(text);
}

static void report_json_has_verification(void **state)
{
    struct report_fixture *f = *state;
    char *text = render_report(&f->report, DA_REPORT_JSON);
    cJSON *document = cJSON_Parse(text);
    const cJSON *verification;

    assert_non_null(document);
    verification = cJSON_GetObjectItem(document, "verification");
    assert_non_null(verification);
    assert_string_equal(cJSON_GetObjectItem(verification, "format")->valuestring,
                        "delegaudit-verify");
    assert_string_equal(cJSON_GetObjectItem(verification, "verdict")->valuestring, "backdoored");
    assert_string_equal(cJSON_GetObjectItem(verification, "path")->valuestring,
                        "/var/lib/delegaudit/verify.json");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(verification, "accounts")), 3);
    cJSON_Delete(document);
    free(text);

    f->report.verify = NULL;
    text = render_report(&f->report, DA_REPORT_JSON);
    assert_null(strstr(text, "\"verification\""));
    free(text);
}

static void report_markdown_has_verification(void **state)
{
    struct report_fixture *f = *state;
    char *text = render_report(&f->report, DA_REPORT_MARKDOWN);

    assert_non_null(strstr(text, "\n## Verification across domain controllers\n\n"
                                 "- Verdict: **BACKDOORED: DC2 still lists krbtgt/CONTOSO.TEST "
                                 "for svc-backdoor**\n"));
    assert_non_null(strstr(text, "- Results: `/var/lib/delegaudit/verify.json`\n"));
    assert_non_null(strstr(text, "| account | DC1 | DC2 | DC3 |\n| --- | --- | --- | --- |\n"));
    assert_non_null(strstr(text, "| svc-backdoor CN=svc-backdoor,OU=Lab,DC=contoso,DC=test | "
                                 "clean | krbtgt-target, protocol transition still on | "
                                 "unverified |\n"));
    /* The nasty DN stays in its cell: no HTML, no line break. */
    assert_non_null(strstr(text, "| - CN=svc-new\\\\x1b\\[31m\\\\x0afake line\\<script\\>"
                                 "alert(1)\\</script\\>,OU=Lab,"));
    assert_non_null(strstr(text, "| DC1 | 4 | 2026-12-05T01:00:00Z | DC1 | after |\n"));
    assert_non_null(strstr(text, "| DC3 | not read | - | - | - |\n"));
    /* Every '<' is escaped, so none opens an HTML tag. */
    for (const char *at = strchr(text, '<'); at != NULL; at = strchr(at + 1, '<'))
        assert_true(at > text && at[-1] == '\\');
    assert_null(strchr(text, '\x1b'));
    free(text);
}

static void report_html_has_verification(void **state)
{
    struct report_fixture *f = *state;
    char *text = render_report(&f->report, DA_REPORT_HTML);

    assert_non_null(strstr(text, "<section class=\"verification\">\n<h2>Verification across "
                                 "domain controllers</h2>\n<p class=\"open\">BACKDOORED: DC2 "
                                 "still lists krbtgt/CONTOSO.TEST for svc-backdoor</p>\n"));
    assert_non_null(strstr(text, "<dt>Results</dt><dd><code>/var/lib/delegaudit/verify.json"
                                 "</code></dd>\n"));
    assert_non_null(strstr(text, "<tr><th>account</th><th>DC1</th><th>DC2</th><th>DC3</th>"
                                 "</tr>\n"));
    assert_non_null(strstr(text, "<td>clean</td><td>krbtgt-target, protocol transition still "
                                 "on</td><td>unverified</td></tr>\n"));
    assert_non_null(strstr(text, "<tr><td><code>DC1</code></td><td class=\"number\">4</td><td>"
                                 "<code>2026-12-05T01:00:00Z</code></td><td><code>DC1</code>"
                                 "</td><td>after</td></tr>\n"));
    free(text);
}

static void report_html_escapes_script_dn(void **state)
{
    struct report_fixture *f = *state;
    char *text = render_report(&f->report, DA_REPORT_HTML);

    assert_non_null(strstr(text, "<code>CN=svc-new\\x1b[31m\\x0afake line&lt;script&gt;alert(1)"
                                 "&lt;/script&gt;,OU=Lab,"));
    assert_null(strstr(text, "<script"));
    assert_null(strchr(text, '\x1b'));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evaluate_sets_every_state),
        cmocka_unit_test(text_starts_with_verdict),
        cmocka_unit_test(text_lists_dcs),
        cmocka_unit_test(text_lists_cells),
        cmocka_unit_test(text_shows_krbtgt_and_next_step),
        cmocka_unit_test(text_escapes_directory_values),
        cmocka_unit_test(text_advises_krbtgt_reset),
        cmocka_unit_test(verdict_line_for_each_verdict),
        cmocka_unit_test(json_has_schema_keys),
        cmocka_unit_test(json_round_trip),
        cmocka_unit_test(json_round_trip_large_usn),
        cmocka_unit_test(load_rejects_invalid_documents),
        cmocka_unit_test(load_rejects_newer_without_advice_to_rewrite),
        cmocka_unit_test(load_rejects_files_that_are_not_json),
        cmocka_unit_test(load_rejects_missing_file),
        cmocka_unit_test(load_survives_damaged_documents),
        cmocka_unit_test_setup_teardown(report_text_has_verification, report_setup,
                                        report_teardown),
        cmocka_unit_test_setup_teardown(report_json_has_verification, report_setup,
                                        report_teardown),
        cmocka_unit_test_setup_teardown(report_markdown_has_verification, report_setup,
                                        report_teardown),
        cmocka_unit_test_setup_teardown(report_html_has_verification, report_setup,
                                        report_teardown),
        cmocka_unit_test_setup_teardown(report_html_escapes_script_dn, report_setup,
                                        report_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
