/* The text output of `delegaudit verify`, for a terminal: the verdict
 * first, then the evidence for it, then the next step. Also the helpers
 * that the remediation report renderers share with it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/escape.h"
#include "reports/verify_report.h"
#include "reports/writer.h"

/* Number of characters (UTF-8 code points) in text, for aligning columns. */
static size_t display_length(const char *text)
{
    size_t length = 0;

    for (; *text != '\0'; text++) {
        if (((unsigned char)*text & 0xc0) != 0x80)
            length++;
    }
    return length;
}

/* Writes an escaped value padded with spaces to width characters. */
static void put_column(struct da_writer *writer, const char *value, size_t width)
{
    char *escaped = da_escape_text(value);
    size_t length;

    if (escaped == NULL) {
        writer->failed = true;
        return;
    }
    length = display_length(escaped);
    da_put(writer, "%s", escaped);
    for (; length < width; length++)
        da_put(writer, " ");
    free(escaped);
}

static size_t escaped_length(const char *value)
{
    char *escaped = da_escape_text(value);
    size_t length = escaped != NULL ? display_length(escaped) : 0;

    free(escaped);
    return length;
}

/* ---- Shared helpers -------------------------------------------------------------------- */

/* The name that identifies an account to a reader: its sAMAccountName, else
 * its DN, else its GUID. */
static const char *account_label(const struct da_verify_account *account)
{
    if (account->sam_account_name != NULL)
        return account->sam_account_name;
    if (account->dn != NULL)
        return account->dn;
    return account->guid;
}

static bool all_digits(const char *text, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}

/* A UTC time split into its 14 digits YYYYMMDDHHMMSS and the digits of its
 * fraction of a second. */
struct utc_time {
    char digits[15];
    const char *fraction;
    size_t fraction_length;
};

/* Parses "YYYY-MM-DDTHH:MM:SS[.f]Z" (ISO 8601) or "YYYYMMDDHHMMSS[.f]Z"
 * (GeneralizedTime, where a comma may separate the fraction). */
static bool parse_utc_time(const char *text, struct utc_time *time)
{
    static const size_t iso_digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    const char *rest;

    if (text == NULL)
        return false;
    if (strlen(text) >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' &&
        text[13] == ':' && text[16] == ':') {
        for (size_t i = 0; i < 14; i++) {
            if (!all_digits(text + iso_digits[i], 1))
                return false;
            time->digits[i] = text[iso_digits[i]];
        }
        rest = text + 19;
    } else if (strlen(text) >= 15 && all_digits(text, 14)) {
        memcpy(time->digits, text, 14);
        rest = text + 14;
    } else {
        return false;
    }
    time->digits[14] = '\0';

    time->fraction = rest;
    time->fraction_length = 0;
    if (*rest == '.' || *rest == ',') {
        time->fraction = rest + 1;
        time->fraction_length = strspn(rest + 1, "0123456789");
        rest += 1 + time->fraction_length;
    }
    return strcmp(rest, "Z") == 0;
}

/* Compares two parsed times. A missing fraction digit counts as 0. */
static int compare_utc_times(const struct utc_time *a, const struct utc_time *b)
{
    int order = strcmp(a->digits, b->digits);
    size_t longest =
        a->fraction_length > b->fraction_length ? a->fraction_length : b->fraction_length;

    if (order != 0)
        return order;
    for (size_t i = 0; i < longest; i++) {
        char left = i < a->fraction_length ? a->fraction[i] : '0';
        char right = i < b->fraction_length ? b->fraction[i] : '0';

        if (left != right)
            return left < right ? -1 : 1;
    }
    return 0;
}

/* Orders two finding times by value when both parse, else as text. */
static int compare_finding_times(const char *a, const char *b)
{
    struct utc_time left;
    struct utc_time right;

    if (parse_utc_time(a, &left) && parse_utc_time(b, &right))
        return compare_utc_times(&left, &right);
    return strcmp(a, b);
}

const char *da_verify_newest_finding_time(const struct da_verify_result *result)
{
    const char *newest = NULL;

    for (size_t i = 0; i < result->account_count; i++) {
        const char *time = result->accounts[i].finding_time;

        if (time == NULL)
            continue;
        if (newest == NULL || compare_finding_times(time, newest) > 0)
            newest = time;
    }
    return newest;
}

enum da_verify_reset_order da_verify_krbtgt_reset_order(const struct da_verify_result *result,
                                                        const struct da_verify_dc *dc)
{
    const char *finding_time = da_verify_newest_finding_time(result);
    struct utc_time finding;
    struct utc_time password;

    if (!dc->krbtgt.read || !parse_utc_time(finding_time, &finding) ||
        !parse_utc_time(dc->krbtgt.password_last_set, &password))
        return DA_RESET_NOT_COMPARED;
    return compare_utc_times(&password, &finding) > 0 ? DA_RESET_AFTER_FINDING
                                                      : DA_RESET_BEFORE_FINDING;
}

/* The first cell in the given state, in account then DC order. Returns the
 * number of cells in that state. */
static size_t find_state(const struct da_verify_result *result, enum da_verify_state state,
                         size_t *account_index, size_t *dc_index)
{
    size_t found = 0;

    for (size_t i = 0; i < result->account_count; i++) {
        for (size_t j = 0; j < result->dc_count; j++) {
            if (result->accounts[i].cells[j].state != state)
                continue;
            if (found == 0) {
                *account_index = i;
                *dc_index = j;
            }
            found++;
        }
    }
    return found;
}

/* Like find_state, for the cells with protocol transition left on. */
static size_t find_left_on(const struct da_verify_result *result, size_t *account_index,
                           size_t *dc_index)
{
    size_t found = 0;

    for (size_t i = 0; i < result->account_count; i++) {
        for (size_t j = 0; j < result->dc_count; j++) {
            if (!result->accounts[i].cells[j].protocol_transition_left_on)
                continue;
            if (found == 0) {
                *account_index = i;
                *dc_index = j;
            }
            found++;
        }
    }
    return found;
}

/* The first DC that could not be read, and how many could not. */
static size_t find_unreachable(const struct da_verify_result *result, size_t *dc_index)
{
    size_t found = 0;

    for (size_t j = 0; j < result->dc_count; j++) {
        if (result->dcs[j].reachable)
            continue;
        if (found == 0)
            *dc_index = j;
        found++;
    }
    return found;
}

/* The first DC that was read without the krbtgt account, or NULL. */
static const struct da_verify_dc *krbtgt_unread(const struct da_verify_result *result)
{
    for (size_t j = 0; j < result->dc_count; j++) {
        if (result->dcs[j].reachable && !result->dcs[j].krbtgt.read)
            return &result->dcs[j];
    }
    return NULL;
}

static const char *text_or_dash(const char *text)
{
    return text != NULL ? text : "-";
}

static const char *dc_name(const struct da_verify_dc *dc)
{
    return text_or_dash(dc->name);
}

/* count is in account and DC pairs, the unit of the table below. */
static void write_more(FILE *stream, size_t count)
{
    if (count == 2)
        fprintf(stream, " (and 1 more account and DC pair below)");
    else if (count > 2)
        fprintf(stream, " (and %zu more account and DC pairs below)", count - 1);
}

static void write_not_converged(FILE *stream, const struct da_verify_result *result)
{
    size_t account = 0;
    size_t dc = 0;
    size_t absent_account = 0;
    size_t absent_dc = 0;
    size_t behind = find_state(result, DA_VERIFY_BEHIND, &account, &dc);
    size_t absent = find_state(result, DA_VERIFY_ABSENT, &absent_account, &absent_dc);

    if (behind > 0) {
        fprintf(stream, "not converged: %s is behind for %s", dc_name(&result->dcs[dc]),
                text_or_dash(account_label(&result->accounts[account])));
    } else if (absent > 0) {
        fprintf(stream, "not converged: %s does not hold %s, which other domain controllers hold",
                dc_name(&result->dcs[absent_dc]),
                text_or_dash(account_label(&result->accounts[absent_account])));
    } else {
        fprintf(stream, "not converged: the domain controllers hold different krbtgt passwords");
        return;
    }
    write_more(stream, behind + absent);
}

static void write_verdict_reason(FILE *stream, const struct da_verify_result *result)
{
    size_t account = 0;
    size_t dc = 0;
    size_t count;

    switch (result->verdict) {
    case DA_VERDICT_CONVERGED:
        fprintf(stream, "converged: every domain controller holds the same newest write and no "
                        "krbtgt target");
        return;
    case DA_VERDICT_BACKDOORED:
        count = find_state(result, DA_VERIFY_KRBTGT, &account, &dc);
        if (count == 0 || result->accounts[account].cells[dc].krbtgt_targets.count == 0)
            break;
        fprintf(stream, "BACKDOORED: %s still lists %s for %s", dc_name(&result->dcs[dc]),
                result->accounts[account].cells[dc].krbtgt_targets.items[0],
                text_or_dash(account_label(&result->accounts[account])));
        write_more(stream, count);
        return;
    case DA_VERDICT_INCOMPLETE:
        count = find_left_on(result, &account, &dc);
        if (count == 0)
            break;
        fprintf(stream, "incomplete: protocol transition is still on for %s on %s",
                text_or_dash(account_label(&result->accounts[account])), dc_name(&result->dcs[dc]));
        write_more(stream, count);
        return;
    case DA_VERDICT_NOT_CONVERGED:
        write_not_converged(stream, result);
        return;
    case DA_VERDICT_UNVERIFIED:
        count = find_unreachable(result, &dc);
        if (count > 0) {
            fprintf(stream, "unverified: %s could not be read (%s)", dc_name(&result->dcs[dc]),
                    result->dcs[dc].problem != NULL ? result->dcs[dc].problem
                                                    : "no reason recorded");
            if (count > 1)
                fprintf(stream, " (and %zu more domain controllers)", count - 1);
            return;
        }
        count = find_state(result, DA_VERIFY_UNVERIFIED, &account, &dc);
        if (count == 0) {
            const struct da_verify_dc *unread = krbtgt_unread(result);

            if (unread == NULL)
                break;
            fprintf(stream, "unverified: %s did not return the krbtgt account, so its "
                            "password state is unknown", dc_name(unread));
            return;
        }
        fprintf(stream, "unverified: %s did not return %s", dc_name(&result->dcs[dc]),
                text_or_dash(account_label(&result->accounts[account])));
        write_more(stream, count);
        return;
    }
    /* A verdict without a cell behind it: a result that was not evaluated. */
    fprintf(stream, "%s", da_verify_verdict_name(result->verdict));
}

char *da_verify_verdict_line(const struct da_verify_result *result)
{
    char *line = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&line, &size);
    bool failed;

    if (stream == NULL)
        return NULL;
    write_verdict_reason(stream, result);
    failed = ferror(stream) != 0;
    if (fclose(stream) != 0 || failed) {
        free(line);
        return NULL;
    }
    return line;
}

/* ---- The text output ------------------------------------------------------------------- */

static const char *const delegation_attribute = "msDS-AllowedToDelegateTo";

/* Writes the originating DC of a stamp: its name, or its invocationId when
 * no DC in the topology has that invocationId. */
static void put_origin(struct da_writer *writer, const struct da_verify_stamp *stamp)
{
    if (stamp->originating_dc != NULL) {
        da_put_text(writer, stamp->originating_dc);
        return;
    }
    da_put(writer, "invocationId ");
    da_put_text(writer, stamp->originating_invocation_id);
}

static void put_stamp(struct da_writer *writer, const char *attribute,
                      const struct da_verify_stamp *stamp)
{
    if (!stamp->known) {
        da_put(writer, "no metadata for %s", attribute);
        return;
    }
    da_put(writer, "%s version %" PRIu32 ", written ", attribute, stamp->version);
    da_put_text(writer, stamp->originating_time);
    da_put(writer, " at ");
    put_origin(writer, stamp);
    da_put(writer, ", originating USN %" PRIu64 ", local USN %" PRIu64, stamp->originating_usn,
           stamp->local_usn);
}

static size_t dc_name_width(const struct da_verify_result *result)
{
    size_t width = 0;

    for (size_t j = 0; j < result->dc_count; j++) {
        size_t length = escaped_length(result->dcs[j].name);

        if (length > width)
            width = length;
    }
    return width;
}

static void write_header(struct da_writer *writer, const struct da_verify_result *result)
{
    char *verdict = da_verify_verdict_line(result);

    if (verdict == NULL)
        writer->failed = true;
    da_put_text(writer, verdict);
    free(verdict);
    da_put(writer, "\nBase DN: ");
    da_put_text(writer, result->base_dn);
    da_put(writer, "\nVerified: ");
    da_put_text(writer, result->selection);
    da_put(writer, "\nTime: ");
    da_put_text(writer, result->time);
    da_put(writer, " (UTC), %u round%s, waited %.1f s\n", result->rounds,
           result->rounds == 1 ? "" : "s", result->waited_seconds);
}

static void write_dcs(struct da_writer *writer, const struct da_verify_result *result)
{
    size_t name_width = dc_name_width(result);
    size_t host_width = 0;

    for (size_t j = 0; j < result->dc_count; j++) {
        size_t length = escaped_length(result->dcs[j].host);

        if (length > host_width)
            host_width = length;
    }

    da_put(writer, "\nDomain controllers (%zu):\n", result->dc_count);
    for (size_t j = 0; j < result->dc_count; j++) {
        const struct da_verify_dc *dc = &result->dcs[j];

        da_put(writer, "  ");
        put_column(writer, dc->name, name_width);
        da_put(writer, "  ");
        put_column(writer, dc->host, host_width);
        /* A DC known only by its --dc host name, never read, has no known
         * role. */
        da_put(writer, "  %s  ",
               dc->read_only                                 ? "read-only"
               : !dc->reachable && dc->invocation_id == NULL ? "unknown  "
                                                             : "writable ");
        if (dc->reachable) {
            da_put(writer, "answered in %.1f s\n", dc->seconds);
        } else {
            da_put(writer, "UNVERIFIED: ");
            da_put_text(writer, dc->problem != NULL ? dc->problem : "no reason recorded");
            da_put(writer, "\n");
        }
    }
}

static void write_cell(struct da_writer *writer, const struct da_verify_cell *cell)
{
    if (cell->state == DA_VERIFY_UNVERIFIED) {
        da_put(writer, "not read");
        return;
    }
    if (!cell->found) {
        da_put(writer, "no such object on this domain controller");
        return;
    }
    put_stamp(writer, delegation_attribute, &cell->delegation);
    if (cell->behind) {
        da_put(writer, "; ");
        put_stamp(writer, "userAccountControl", &cell->uac);
    }
    if (cell->krbtgt_targets.count > 0) {
        da_put(writer, "; still lists");
        for (size_t k = 0; k < cell->krbtgt_targets.count; k++) {
            da_put(writer, k == 0 ? " " : ", ");
            da_put_text(writer, cell->krbtgt_targets.items[k]);
        }
    }
    if (cell->protocol_transition_left_on)
        da_put(writer, "; protocol transition still on");
}

static void write_accounts(struct da_writer *writer, const struct da_verify_result *result)
{
    size_t name_width = dc_name_width(result);

    da_put(writer, "\nAccounts (%zu):\n", result->account_count);
    if (result->account_count == 0)
        da_put(writer, "  None.\n");
    for (size_t i = 0; i < result->account_count; i++) {
        const struct da_verify_account *account = &result->accounts[i];

        da_put(writer, "  ");
        da_put_text(writer, account->sam_account_name);
        da_put(writer, "  ");
        da_put_text(writer, account->dn);
        da_put(writer, "\n");
        if (account->finding_time != NULL) {
            da_put(writer, "    finding time ");
            da_put_text(writer, account->finding_time);
            da_put(writer, "\n");
        }
        for (size_t j = 0; j < result->dc_count; j++) {
            const struct da_verify_cell *cell = &account->cells[j];

            da_put(writer, "    ");
            put_column(writer, result->dcs[j].name, name_width);
            da_put(writer, "  %-13s  ", da_verify_state_name(cell->state));
            write_cell(writer, cell);
            da_put(writer, "\n");
        }
    }
}

static void write_password(struct da_writer *writer, const struct da_verify_result *result,
                           const struct da_verify_dc *dc)
{
    const struct da_verify_krbtgt *krbtgt = &dc->krbtgt;

    if (!dc->reachable || !krbtgt->read) {
        da_put(writer, "not read%s",
               dc->reachable ? "" : ": the domain controller could not be read");
        return;
    }
    if (krbtgt->password.known)
        da_put(writer, "password version %" PRIu32 ", ", krbtgt->password.version);
    else
        da_put(writer, "no metadata for the password, ");
    if (krbtgt->password_last_set != NULL) {
        da_put(writer, "last set ");
        da_put_text(writer, krbtgt->password_last_set);
    } else {
        da_put(writer, "never set");
    }
    if (krbtgt->password.known) {
        da_put(writer, " at ");
        put_origin(writer, &krbtgt->password);
    }
    switch (da_verify_krbtgt_reset_order(result, dc)) {
    case DA_RESET_AFTER_FINDING:
        da_put(writer, "; set after the newest finding");
        break;
    case DA_RESET_BEFORE_FINDING:
        da_put(writer, "; set before the newest finding");
        break;
    case DA_RESET_NOT_COMPARED:
        break;
    }
}

static void write_krbtgt(struct da_writer *writer, const struct da_verify_result *result)
{
    const char *finding_time = da_verify_newest_finding_time(result);
    size_t name_width = dc_name_width(result);

    da_put(writer, "\nkrbtgt password:\n");
    da_put(writer, "  Newest finding time: ");
    if (finding_time != NULL)
        da_put_text(writer, finding_time);
    else
        da_put(writer, "none recorded");
    da_put(writer, "\n");
    for (size_t j = 0; j < result->dc_count; j++) {
        da_put(writer, "  ");
        put_column(writer, result->dcs[j].name, name_width);
        da_put(writer, "  ");
        write_password(writer, result, &result->dcs[j]);
        da_put(writer, "\n");
    }
    if (result->krbtgt_converged)
        da_put(writer, "  Every domain controller that answered holds the same krbtgt password.\n");
    else if (krbtgt_unread(result) != NULL)
        da_put(writer, "  A domain controller did not return the krbtgt account: check that the "
                       "bind account can read it there.\n");
    else
        da_put(writer, "  The domain controllers hold different krbtgt passwords: a reset has not "
                       "replicated everywhere yet.\n");
}

/* The DC that holds the newest msDS-AllowedToDelegateTo write of an
 * account, or NULL when no DC that answered holds the object. */
static const struct da_verify_dc *newest_source(const struct da_verify_result *result,
                                                const struct da_verify_account *account)
{
    const struct da_verify_cell *best = NULL;
    const struct da_verify_dc *source = NULL;

    for (size_t j = 0; j < result->dc_count; j++) {
        const struct da_verify_cell *cell = &account->cells[j];

        if (cell->state == DA_VERIFY_UNVERIFIED || !cell->found)
            continue;
        if (best == NULL || da_verify_stamp_compare(&cell->delegation, &best->delegation) > 0) {
            best = cell;
            source = &result->dcs[j];
        }
    }
    return source;
}

/* The name to give a DC in a command: its DNS host name when known. */
static const char *command_name(const struct da_verify_dc *dc)
{
    return dc->host != NULL ? dc->host : dc->name;
}

/* Writes the commands that replicate the account's newest write to the
 * DC at dc_index, which is behind or lacks the object. */
static void write_replication(struct da_writer *writer, const struct da_verify_result *result,
                              size_t account_index, size_t dc_index)
{
    const struct da_verify_account *account = &result->accounts[account_index];
    const struct da_verify_dc *target = &result->dcs[dc_index];
    const struct da_verify_dc *source = newest_source(result, account);

    if (source == NULL)
        return;
    da_put(writer, "  To force it from ");
    da_put_text(writer, source->name);
    da_put(writer, ", which holds the newest write of ");
    da_put_text(writer, account_label(account));
    da_put(writer, ", to ");
    da_put_text(writer, target->name);
    da_put(writer, ":\n    on Windows: repadmin /syncall ");
    da_put_text(writer, command_name(source));
    da_put(writer, " /AdeP\n    on Samba:   samba-tool drs replicate ");
    da_put_text(writer, command_name(target));
    da_put(writer, " ");
    da_put_text(writer, command_name(source));
    da_put(writer, " ");
    da_put_text(writer, result->base_dn);
    da_put(writer, "\n");
}

static void write_unreachable_steps(struct da_writer *writer, const struct da_verify_result *result)
{
    for (size_t j = 0; j < result->dc_count; j++) {
        const struct da_verify_dc *dc = &result->dcs[j];

        if (dc->reachable)
            continue;
        da_put(writer, "  Check that ");
        da_put_text(writer, dc->name);
        da_put(writer, " (");
        da_put_text(writer, dc->host);
        da_put(writer, ") answers from here: its DNS name, the network path, the LDAP port and "
                       "the credentials. Until it answers, it may still hold a krbtgt target.\n");
    }
}

static void write_krbtgt_steps(struct da_writer *writer, const struct da_verify_result *result)
{
    const struct da_verify_dc *before = NULL;

    for (size_t j = 0; j < result->dc_count && before == NULL; j++) {
        if (da_verify_krbtgt_reset_order(result, &result->dcs[j]) == DA_RESET_BEFORE_FINDING)
            before = &result->dcs[j];
    }
    if (before != NULL) {
        da_put(writer, "  Reset the krbtgt password twice, letting replication complete in "
                       "between: on ");
        da_put_text(writer, before->name);
        da_put(writer, " it was last set before the newest finding, so tickets obtained through "
                       "the backdoor are still valid.\n");
    }
    if (!result->krbtgt_converged)
        da_put(writer, "  Wait until the krbtgt password reset reaches every domain controller "
                       "before the second reset, and run delegaudit verify again.\n");
}

static void write_next_step(struct da_writer *writer, const struct da_verify_result *result)
{
    size_t account = 0;
    size_t dc = 0;

    da_put(writer, "\nNext step:\n");
    switch (result->verdict) {
    case DA_VERDICT_CONVERGED:
        da_put(writer, "  Nothing is left to replicate for these accounts. Keep polling: a krbtgt "
                       "target that comes back means that someone can still write it.\n");
        break;
    case DA_VERDICT_BACKDOORED:
        if (find_state(result, DA_VERIFY_KRBTGT, &account, &dc) > 0 &&
            result->accounts[account].cells[dc].behind) {
            da_put(writer, "  ");
            da_put_text(writer, result->dcs[dc].name);
            da_put(writer, " has not received the newest write yet. Wait for replication and run "
                           "delegaudit verify again with --wait 10m, or force replication.\n");
            write_replication(writer, result, account, dc);
        } else {
            da_put(writer,
                   "  The newest write still lists a krbtgt target: remove it (delegaudit "
                   "report prints the LDIF and the PowerShell command), then run delegaudit "
                   "verify again. If it was removed before, someone wrote it back: find out "
                   "who before anything else.\n");
        }
        break;
    case DA_VERDICT_INCOMPLETE:
        if (find_left_on(result, &account, &dc) > 0) {
            da_put(writer, "  Turn protocol transition off for ");
            da_put_text(writer, account_label(&result->accounts[account]));
            da_put(writer, ": clear TRUSTED_TO_AUTH_FOR_DELEGATION (0x1000000) in "
                           "userAccountControl, then run delegaudit verify again.\n");
        }
        break;
    case DA_VERDICT_NOT_CONVERGED:
        da_put(writer, "  Wait for replication and run delegaudit verify again with --wait 10m, or "
                       "force replication.\n");
        if (find_state(result, DA_VERIFY_BEHIND, &account, &dc) > 0 ||
            find_state(result, DA_VERIFY_ABSENT, &account, &dc) > 0)
            write_replication(writer, result, account, dc);
        break;
    case DA_VERDICT_UNVERIFIED:
        if (find_unreachable(result, &dc) == 0)
            da_put(writer,
                   "  Run delegaudit verify again: a domain controller answered but did not "
                   "return every account.\n");
        break;
    }
    write_unreachable_steps(writer, result);
    write_krbtgt_steps(writer, result);
}

int da_verify_write_text(FILE *out, const struct da_verify_result *result)
{
    struct da_writer writer = {out, false};

    write_header(&writer, result);
    write_dcs(&writer, result);
    write_accounts(&writer, result);
    write_krbtgt(&writer, result);
    write_next_step(&writer, result);

    if (fflush(out) != 0 || ferror(out))
        writer.failed = true;
    return writer.failed ? -1 : 0;
}

/* ---- The section of the remediation report --------------------------------------------- */

int da_verify_write_text_section(FILE *out, const struct da_verify_result *result, const char *path)
{
    struct da_writer writer = {out, false};
    char *verdict = da_verify_verdict_line(result);
    size_t name_width = dc_name_width(result);

    da_put(&writer, "\nVerification across domain controllers\n");
    if (path != NULL) {
        da_put(&writer, "  Results: ");
        da_put_text(&writer, path);
        da_put(&writer, "\n");
    }
    if (verdict == NULL)
        writer.failed = true;
    da_put(&writer, "  ");
    da_put_text(&writer, verdict);
    free(verdict);
    da_put(&writer, "\n  Verified at ");
    da_put_text(&writer, result->time);
    da_put(&writer, " (UTC) on %zu domain controller%s, base ", result->dc_count,
           result->dc_count == 1 ? "" : "s");
    da_put_text(&writer, result->base_dn);
    da_put(&writer, "\n");

    for (size_t i = 0; i < result->account_count; i++) {
        const struct da_verify_account *account = &result->accounts[i];

        da_put(&writer, "  ");
        da_put_text(&writer, account->sam_account_name);
        da_put(&writer, " (");
        da_put_text(&writer, account->dn);
        da_put(&writer, "):\n");
        for (size_t j = 0; j < result->dc_count; j++) {
            const struct da_verify_cell *cell = &account->cells[j];

            da_put(&writer, "    ");
            put_column(&writer, result->dcs[j].name, name_width);
            da_put(&writer, "  %s", da_verify_state_name(cell->state));
            if (cell->protocol_transition_left_on)
                da_put(&writer, ", protocol transition still on");
            da_put(&writer, "\n");
        }
    }

    da_put(&writer, "  krbtgt password:\n");
    for (size_t j = 0; j < result->dc_count; j++) {
        da_put(&writer, "    ");
        put_column(&writer, result->dcs[j].name, name_width);
        da_put(&writer, "  ");
        write_password(&writer, result, &result->dcs[j]);
        da_put(&writer, "\n");
    }

    if (fflush(out) != 0 || ferror(out))
        writer.failed = true;
    return writer.failed ? -1 : 0;
}
