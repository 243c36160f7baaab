/* The human-readable report, for a terminal or a cron mail.
 *
 * Every value that comes from the directory or from a snapshot file passes
 * through da_escape_text, so that no control character or terminal escape
 * sequence reaches the reader. Literal text and numbers are written as is. */
#include "reports/report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditor/match.h"
#include "auditor/escape.h"

/* Width of the label column in the details of a finding or change. */
#define LABEL_WIDTH 20

/* The output stream and whether a write or an allocation failed. The error
 * is checked once at the end, so the writers below need not check each
 * call. */
struct text_writer {
    FILE *out;
    bool failed;
};

static void put(struct text_writer *writer, const char *literal)
{
    if (fputs(literal, writer->out) == EOF)
        writer->failed = true;
}

/* Writes program text and numbers. Never pass a directory value in the
 * arguments: use put_value for those. */
__attribute__((format(printf, 2, 3)))
static void put_format(struct text_writer *writer, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    if (vfprintf(writer->out, format, args) < 0)
        writer->failed = true;
    va_end(args);
}

/* Writes a directory or file value escaped, "-" when it is NULL. */
static void put_value(struct text_writer *writer, const char *value)
{
    if (da_escape_fputs(value, writer->out) != 0)
        writer->failed = true;
}

/* Starts a detail line: indent, label, padding up to the value column. */
static void put_label(struct text_writer *writer, const char *indent, const char *label)
{
    put_format(writer, "%s%-*s", indent, LABEL_WIDTH - 1, label);
    put(writer, " ");
}

static const char *plural(unsigned long count, const char *singular, const char *plural_form)
{
    return count == 1 ? singular : plural_form;
}

/* The name to show for an account: sAMAccountName, else the DN, else the
 * GUID. */
static const char *account_name(const struct da_account *account)
{
    if (account->sam_account_name != NULL)
        return account->sam_account_name;
    if (account->dn != NULL)
        return account->dn;
    return account->guid;
}

/* Writes "name (kind)" or "name (kind, disabled)". */
static void put_account_title(struct text_writer *writer, const struct da_account *account)
{
    put_value(writer, account_name(account));
    put(writer, " (");
    put(writer, da_account_kind_name(account->kind));
    if ((account->user_account_control & DA_UAC_ACCOUNTDISABLE) != 0)
        put(writer, ", disabled");
    put(writer, ")");
}

/* Writes userAccountControl in hex with the delegation-related flags that
 * are set. */
static void put_user_account_control(struct text_writer *writer, uint32_t value)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } flags[] = {
        {DA_UAC_ACCOUNTDISABLE, "ACCOUNTDISABLE"},
        {DA_UAC_SERVER_TRUST_ACCOUNT, "SERVER_TRUST_ACCOUNT"},
        {DA_UAC_TRUSTED_FOR_DELEGATION, "TRUSTED_FOR_DELEGATION"},
        {DA_UAC_NOT_DELEGATED, "NOT_DELEGATED"},
        {DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION, "TRUSTED_TO_AUTH_FOR_DELEGATION"},
        {DA_UAC_PARTIAL_SECRETS_ACCOUNT, "PARTIAL_SECRETS_ACCOUNT"},
    };
    bool any_flag = false;

    put_format(writer, "0x%08lx", (unsigned long)value);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if ((value & flags[i].bit) == 0)
            continue;
        put(writer, any_flag ? ", " : " (");
        put(writer, flags[i].name);
        any_flag = true;
    }
    if (any_flag)
        put(writer, ")");
}

/* Header: the poll, its statistics and the snapshot file. */

static void write_incomplete_warning(struct text_writer *writer, const struct da_poll_info *poll,
                                     const char *which)
{
    if (poll->complete)
        return;
    put_format(writer, "Warning: the %s poll did not read every page, so accounts may be "
                       "missing from it.\n",
               which);
}

static void write_krbtgt_summary(struct text_writer *writer, const struct da_snapshot *snapshot)
{
    unsigned long read_only = 0;

    for (size_t i = 0; i < snapshot->krbtgt_count; i++) {
        if (snapshot->krbtgts[i].read_only_dc)
            read_only++;
    }

    put_format(writer, "krbtgt accounts: %lu", (unsigned long)snapshot->krbtgt_count);
    if (read_only > 0)
        put_format(writer, " (%lu of %s)", read_only,
                   plural(read_only, "a read-only DC", "read-only DCs"));
    put(writer, "\n");
}

static void write_poll_header(struct text_writer *writer, const struct da_report *report)
{
    const struct da_poll_info *poll = &report->current->poll;
    const struct da_poll_stats *stats = report->stats;

    put(writer, "delegaudit poll of ");
    put_value(writer, poll->dc_host);
    put(writer, " (");
    put_value(writer, poll->uri);
    put(writer, "), base ");
    put_value(writer, poll->base_dn);
    if (poll->domain_sid != NULL) {
        put(writer, ", domain SID ");
        put_value(writer, poll->domain_sid);
    }
    put(writer, "\n");

    put(writer, "Time ");
    put_value(writer, poll->time);
    put_format(writer, ", highestCommittedUSN %llu, invocationId ",
               (unsigned long long)poll->highest_committed_usn);
    put_value(writer, poll->invocation_id);
    put(writer, "\n");

    if (stats != NULL) {
        put_format(writer, "Read %lu %s with delegation settings in %lu %s (%.2f s).\n",
                   stats->entries, plural(stats->entries, "account", "accounts"), stats->pages,
                   plural(stats->pages, "page", "pages"), stats->seconds);
        if (stats->references_skipped > 0)
            put_format(writer, "Skipped %lu continuation %s: accounts in other naming contexts "
                               "or domains were not read.\n",
                       stats->references_skipped,
                       plural(stats->references_skipped, "reference", "references"));
    }
    write_krbtgt_summary(writer, report->current);
    write_incomplete_warning(writer, poll, "current");

    if (report->current_path != NULL) {
        put(writer, "Snapshot saved: ");
        put_value(writer, report->current_path);
        put(writer, "\n");
    } else {
        put(writer, "Snapshot not saved.\n");
    }
}

static void write_diff_side(struct text_writer *writer, const char *label,
                            const struct da_snapshot *snapshot)
{
    put(writer, label);
    if (snapshot == NULL) {
        put(writer, "-\n");
        return;
    }

    put(writer, "poll of ");
    put_value(writer, snapshot->poll.dc_host);
    put(writer, " (");
    put_value(writer, snapshot->poll.uri);
    put(writer, ") at ");
    put_value(writer, snapshot->poll.time);
    put(writer, ", base ");
    put_value(writer, snapshot->poll.base_dn);
    put_format(writer, ", highestCommittedUSN %llu\n",
               (unsigned long long)snapshot->poll.highest_committed_usn);
}

/* For `delegaudit diff`, current is NEW (current_path) and previous is OLD
 * (previous_path). */
static void write_diff_header(struct text_writer *writer, const struct da_report *report)
{
    put(writer, "delegaudit diff ");
    put_value(writer, report->previous_path);
    put(writer, " -> ");
    put_value(writer, report->current_path);
    put(writer, "\n");

    write_diff_side(writer, "Old  ", report->previous);
    write_diff_side(writer, "New  ", report->current);
    if (report->previous != NULL)
        write_incomplete_warning(writer, &report->previous->poll, "old");
    write_incomplete_warning(writer, &report->current->poll, "new");
}

/* A note when the two snapshots were read with different search bases:
 * accounts outside one of them then show up as gained or lost. */
static void write_base_note(struct text_writer *writer, const struct da_report *report)
{
    const char *current_base = report->current->poll.base_dn;
    const char *previous_base;

    if (report->previous == NULL)
        return;
    previous_base = report->previous->poll.base_dn;
    if (current_base == NULL || previous_base == NULL ||
        strcasecmp(current_base, previous_base) == 0)
        return;

    put(writer, "Note: the previous snapshot used base ");
    put_value(writer, previous_base);
    put(writer, ", so accounts outside one of the two bases appear as gained or lost.\n");
}

/* Findings. */

static const char *severity_label(enum da_severity severity)
{
    return severity == DA_SEVERITY_CRITICAL ? "CRITICAL" : "HIGH";
}

static const char *finding_values_label(const char *rule_id)
{
    if (rule_id == NULL)
        return "Values";
    if (strcmp(rule_id, DA_RULE_KRBTGT_RESOURCE_BASED) == 0)
        return "Trustees";
    if (strcmp(rule_id, DA_RULE_KRBTGT_PROTOCOL_TRANSITION) == 0 ||
        strcmp(rule_id, DA_RULE_KRBTGT_CONSTRAINED) == 0)
        return "Targets";
    return "Values";
}

/* Returns why the rule matters, or NULL for a rule this file does not
 * know. A line break in the text continues under the word after "Why: ". */
static const char *finding_reason(const char *rule_id)
{
    if (rule_id == NULL)
        return NULL;
    if (strcmp(rule_id, DA_RULE_KRBTGT_PROTOCOL_TRANSITION) == 0)
        return "S4U2self plus S4U2proxy to this target yield a TGT for any user,\n"
               "without that user taking part.";
    if (strcmp(rule_id, DA_RULE_KRBTGT_CONSTRAINED) == 0)
        return "S4U2proxy to this target turns any forwardable service ticket that\n"
               "a user presents to this account into a TGT for that user.";
    if (strcmp(rule_id, DA_RULE_KRBTGT_RESOURCE_BASED) == 0)
        return "the listed principals can use S4U2self plus S4U2proxy to this\n"
               "krbtgt account to get a TGT for any user.";
    return NULL;
}

/* Writes "Why: " and the reason, indenting its continuation lines. */
static void write_reason(struct text_writer *writer, const char *indent, const char *reason)
{
    put(writer, indent);
    put(writer, "Why: ");
    for (const char *p = reason; *p != '\0'; p++) {
        if (fputc(*p, writer->out) == EOF)
            writer->failed = true;
        if (*p == '\n') {
            put(writer, indent);
            put(writer, "     ");
        }
    }
    put(writer, "\n");
}

/* Writes a GeneralizedTime such as "20261204202033.0Z" in the ISO 8601 form
 * of the poll times, "2026-12-04T20:20:33Z". Any other form is written as
 * it is, escaped. */
static void put_generalized_time(struct text_writer *writer, const char *value)
{
    size_t digits = 0;

    while (value != NULL && value[digits] >= '0' && value[digits] <= '9')
        digits++;
    if (value == NULL || digits != 14 ||
        (strcmp(value + 14, "Z") != 0 && strcmp(value + 14, ".0Z") != 0)) {
        put_value(writer, value);
        return;
    }
    put_format(writer, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", value, value + 4, value + 6, value + 8,
               value + 10, value + 12);
}

static void write_finding(struct text_writer *writer, const struct da_finding *finding)
{
    const struct da_account *account = finding->account;
    const char *indent = "    ";
    const char *reason = finding_reason(finding->rule_id);

    put_format(writer, "  %-8s ", severity_label(finding->severity));
    put_value(writer, finding->rule_id);
    put(writer, "\n");

    put_label(writer, indent, "Account");
    if (account != NULL)
        put_account_title(writer, account);
    else
        put(writer, "-");
    put(writer, "\n");

    if (account != NULL) {
        put_label(writer, indent, "DN");
        put_value(writer, account->dn);
        put(writer, "\n");
        put_label(writer, indent, "SID");
        put_value(writer, account->sid);
        put(writer, "\n");
        put_label(writer, indent, "GUID");
        put_value(writer, account->guid);
        put(writer, "\n");
    }

    for (size_t i = 0; i < finding->values.count; i++) {
        put_label(writer, indent, i == 0 ? finding_values_label(finding->rule_id) : "");
        put_value(writer, finding->values.items[i]);
        put(writer, "\n");
    }

    if (account != NULL) {
        /* Protocol transition matters for the account that delegates, not
         * for a krbtgt account that others delegate to. */
        if (strcmp(finding->rule_id, DA_RULE_KRBTGT_RESOURCE_BASED) != 0) {
            put_label(writer, indent, "Protocol transition");
            put(writer, da_account_protocol_transition(account)
                            ? "on (TRUSTED_TO_AUTH_FOR_DELEGATION)\n"
                            : "off\n");
        }
        put_label(writer, indent, "userAccountControl");
        put_user_account_control(writer, account->user_account_control);
        put(writer, "\n");
        put_label(writer, indent, "whenChanged");
        put_generalized_time(writer, account->when_changed);
        put(writer, "\n");
    }

    if (reason != NULL)
        write_reason(writer, indent, reason);
}

static void write_findings(struct text_writer *writer, const struct da_findings *findings)
{
    size_t count = findings != NULL ? findings->count : 0;
    unsigned long critical = 0;
    unsigned long high = 0;

    if (count == 0) {
        put(writer, "No findings.\n");
        return;
    }

    for (size_t i = 0; i < count; i++) {
        if (findings->items[i].severity == DA_SEVERITY_CRITICAL)
            critical++;
        else
            high++;
    }
    put_format(writer, "Findings: %lu (%lu critical, %lu high)\n", (unsigned long)count,
               critical, high);

    /* Critical findings come first, each severity in the snapshot's order. */
    for (size_t i = 0; i < count; i++) {
        if (findings->items[i].severity == DA_SEVERITY_CRITICAL)
            write_finding(writer, &findings->items[i]);
    }
    for (size_t i = 0; i < count; i++) {
        if (findings->items[i].severity != DA_SEVERITY_CRITICAL)
            write_finding(writer, &findings->items[i]);
    }
}

/* Changes. */

static bool is_krbtgt_target(const struct da_report *report, const char *target)
{
    const struct da_snapshot *current = report->current;
    const struct da_snapshot *previous = report->previous;

    if (da_target_is_krbtgt(target, current->krbtgts, current->krbtgt_count))
        return true;
    return previous != NULL &&
           da_target_is_krbtgt(target, previous->krbtgts, previous->krbtgt_count);
}

static bool lists_krbtgt_target(const struct da_report *report, const struct da_strv *values)
{
    for (size_t i = 0; i < values->count; i++) {
        if (is_krbtgt_target(report, values->items[i]))
            return true;
    }
    return false;
}

static bool is_urgent_change(const struct da_report *report,
                             const struct da_account_change *change)
{
    return change->protocol_transition_changed ||
           lists_krbtgt_target(report, &change->targets_added) ||
           lists_krbtgt_target(report, &change->targets_removed);
}

/* Writes one line per value: "added msDS-AllowedToDelegateTo cifs/fs1". */
static void put_value_lines(struct text_writer *writer, const struct da_report *report,
                            const char *verb, const char *attribute,
                            const struct da_strv *values, bool mark_krbtgt)
{
    for (size_t i = 0; i < values->count; i++) {
        put_format(writer, "      %s %s ", verb, attribute);
        put_value(writer, values->items[i]);
        if (mark_krbtgt && is_krbtgt_target(report, values->items[i]))
            put(writer, "  <- krbtgt target");
        put(writer, "\n");
    }
}

static const char *presence_text(enum da_presence presence)
{
    switch (presence) {
    case DA_PRESENCE_EXISTS:
        return "still in the directory";
    case DA_PRESENCE_NOT_FOUND:
        return "not found: deleted or moved out of the search base";
    case DA_PRESENCE_UNKNOWN:
    default:
        return "not checked whether the account still exists";
    }
}

static void write_change_title(struct text_writer *writer, const struct da_account_change *change,
                               const struct da_account *account)
{
    switch (change->type) {
    case DA_CHANGE_GAINED:
        put(writer, "  + ");
        put_account_title(writer, account);
        put(writer, " gained delegation\n");
        break;
    case DA_CHANGE_LOST:
        put(writer, "  - ");
        put_account_title(writer, account);
        put(writer, " lost all delegation; ");
        put(writer, presence_text(change->presence));
        put(writer, "\n");
        break;
    case DA_CHANGE_MODIFIED:
    default:
        put(writer, "  ~ ");
        put_account_title(writer, account);
        put(writer, " changed\n");
        break;
    }
}

/* The switches of one change: protocol transition, unconstrained
 * delegation and msDS-AllowedToActOnBehalfOfOtherIdentity presence. For a
 * gained or lost account they describe the one side that exists. */
static void write_change_switches(struct text_writer *writer,
                                  const struct da_account_change *change)
{
    const struct da_account *before = change->before;
    const struct da_account *after = change->after;

    if (change->type == DA_CHANGE_GAINED && after != NULL) {
        if (da_account_protocol_transition(after))
            put(writer, "      protocol transition on\n");
        if (da_account_unconstrained(after))
            put(writer, "      unconstrained delegation on\n");
        if (after->has_allowed_to_act && after->allowed_to_act.count == 0)
            put(writer, "      msDS-AllowedToActOnBehalfOfOtherIdentity set, no trustee read\n");
        return;
    }
    if (change->type == DA_CHANGE_LOST && before != NULL) {
        if (da_account_protocol_transition(before))
            put(writer, "      protocol transition was on\n");
        if (da_account_unconstrained(before))
            put(writer, "      unconstrained delegation was on\n");
        return;
    }
    if (before == NULL || after == NULL)
        return;

    if (change->protocol_transition_changed)
        put(writer, da_account_protocol_transition(after)
                        ? "      protocol transition turned on\n"
                        : "      protocol transition turned off\n");
    if (change->unconstrained_changed)
        put(writer, da_account_unconstrained(after)
                        ? "      unconstrained delegation turned on\n"
                        : "      unconstrained delegation turned off\n");
    if (change->allowed_to_act_changed && change->allowed_to_act_added.count == 0 &&
        change->allowed_to_act_removed.count == 0) {
        if (!before->has_allowed_to_act && after->has_allowed_to_act)
            put(writer, "      msDS-AllowedToActOnBehalfOfOtherIdentity set\n");
        else if (before->has_allowed_to_act && !after->has_allowed_to_act)
            put(writer, "      msDS-AllowedToActOnBehalfOfOtherIdentity cleared\n");
        else
            put(writer, "      msDS-AllowedToActOnBehalfOfOtherIdentity changed\n");
    }
    if (change->user_account_control_changed) {
        put(writer, "      userAccountControl ");
        put_user_account_control(writer, before->user_account_control);
        put(writer, " -> ");
        put_user_account_control(writer, after->user_account_control);
        put(writer, "\n");
    }
}

/* Points from a change to the findings of the same account. */
static void write_change_findings(struct text_writer *writer, const struct da_findings *findings,
                                  const struct da_account *account)
{
    if (findings == NULL || account == NULL)
        return;

    for (size_t i = 0; i < findings->count; i++) {
        const struct da_account *found = findings->items[i].account;

        if (found == NULL)
            continue;
        if (found != account &&
            (found->guid == NULL || account->guid == NULL || strcmp(found->guid, account->guid) != 0))
            continue;
        put_format(writer, "      finding %s ", severity_label(findings->items[i].severity));
        put_value(writer, findings->items[i].rule_id);
        put(writer, "\n");
    }
}

/* sAMAccountName, objectSid and kind of a modified account, where they
 * changed. */
static void write_identity_changes(struct text_writer *writer,
                                   const struct da_account_change *change)
{
    const char *indent = "      ";

    if (change->sam_account_name_changed) {
        put_label(writer, indent, "sAMAccountName");
        put_value(writer, change->before->sam_account_name);
        put(writer, " -> ");
        put_value(writer, change->after->sam_account_name);
        put(writer, "\n");
    }
    if (change->sid_changed) {
        put_label(writer, indent, "objectSid");
        put_value(writer, change->before->sid);
        put(writer, " -> ");
        put_value(writer, change->after->sid);
        put(writer, "\n");
    }
    if (change->kind_changed) {
        put_label(writer, indent, "Kind");
        put(writer, da_account_kind_name(change->before->kind));
        put(writer, " -> ");
        put(writer, da_account_kind_name(change->after->kind));
        put(writer, "\n");
    }
}

static void write_change(struct text_writer *writer, const struct da_report *report,
                         const struct da_account_change *change)
{
    const char *indent = "      ";
    const struct da_account *account = change->after != NULL ? change->after : change->before;

    if (account == NULL)
        return;

    write_change_title(writer, change, account);

    put_label(writer, indent, "DN");
    put_value(writer, account->dn);
    put(writer, "\n");
    if (change->moved && change->before != NULL) {
        put_label(writer, indent, "Renamed or moved");
        put(writer, "from ");
        put_value(writer, change->before->dn);
        put(writer, "\n");
    }
    put_label(writer, indent, "GUID");
    put_value(writer, account->guid);
    put(writer, "\n");
    if (change->before != NULL && change->after != NULL)
        write_identity_changes(writer, change);

    put_value_lines(writer, report, "added", "msDS-AllowedToDelegateTo", &change->targets_added,
                    true);
    put_value_lines(writer, report, "removed", "msDS-AllowedToDelegateTo",
                    &change->targets_removed, true);
    put_value_lines(writer, report, "added", "msDS-AllowedToActOnBehalfOfOtherIdentity",
                    &change->allowed_to_act_added, false);
    put_value_lines(writer, report, "removed", "msDS-AllowedToActOnBehalfOfOtherIdentity",
                    &change->allowed_to_act_removed, false);
    write_change_switches(writer, change);
    write_change_findings(writer, report->findings, change->after);
}

static bool is_diff_command(const struct da_report *report)
{
    return report->command != NULL && strcmp(report->command, "diff") == 0;
}

static void write_changes(struct text_writer *writer, const struct da_report *report)
{
    const struct da_diff *diff = report->diff;
    bool diff_command = is_diff_command(report);

    if (diff == NULL) {
        if (report->previous == NULL && !diff_command) {
            put(writer, "First poll: no previous snapshot to compare with.\n");
        } else if (report->comparison_skipped != NULL) {
            put(writer, "Not compared with the previous snapshot: ");
            put_value(writer, report->comparison_skipped);
            put(writer, ".\n");
        } else
            put(writer, "No comparison with a previous snapshot.\n");
        return;
    }

    write_base_note(writer, report);

    if (diff_command) {
        if (diff->count == 0)
            put(writer, "No changes.\n");
        else
            put_format(writer, "Changes: %lu\n", (unsigned long)diff->count);
    } else {
        put(writer, diff->count == 0 ? "No changes since " : "Changes since ");
        put_value(writer, report->previous != NULL ? report->previous->poll.time : NULL);
        if (report->previous_path != NULL) {
            put(writer, " (");
            put_value(writer, report->previous_path);
            put(writer, ")");
        }
        if (diff->count == 0)
            put(writer, ".\n");
        else
            put_format(writer, ": %lu\n", (unsigned long)diff->count);
    }

    /* Changes that add or remove a krbtgt target, or turn protocol
     * transition on or off, come first: after a bulk change they would
     * otherwise be buried in GUID order among thousands of others. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < diff->count; i++) {
            const struct da_account_change *change = &diff->changes[i];

            if (is_urgent_change(report, change) == (pass == 0))
                write_change(writer, report, change);
        }
    }
}

int da_report_write_text(FILE *out, const struct da_report *report)
{
    struct text_writer writer = {.out = out, .failed = false};

    if (out == NULL || report == NULL || report->current == NULL)
        return -1;

    if (is_diff_command(report))
        write_diff_header(&writer, report);
    else
        write_poll_header(&writer, report);
    put(&writer, "\n");

    write_findings(&writer, report->findings);
    put(&writer, "\n");

    write_changes(&writer, report);

    if (fflush(out) != 0 || ferror(out))
        writer.failed = true;
    return writer.failed ? -1 : 0;
}
