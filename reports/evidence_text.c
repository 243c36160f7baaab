/* The remediation report as text, for a terminal or a mail. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/escape.h"
#include "reports/evidence_report.h"
#include "reports/remediation.h"
#include "reports/verify_report.h"

struct writer {
    FILE *out;
    bool failed;
};

static void put(struct writer *writer, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct writer *writer, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vfprintf(writer->out, fmt, ap) < 0)
        writer->failed = true;
    va_end(ap);
}

/* Writes a directory or event value with control characters escaped. */
static void put_value(struct writer *writer, const char *value)
{
    char *escaped = da_escape_text(value);

    if (escaped == NULL) {
        writer->failed = true;
        return;
    }
    put(writer, "%s", escaped);
    free(escaped);
}

/* Writes a block of generated text (LDIF, commands, queries) indented. The
 * generators quote directory values themselves; control characters are
 * escaped here too so that none reaches the terminal. */
static void put_block(struct writer *writer, const char *indent, const char *block)
{
    const char *line = block;

    while (line != NULL && *line != '\0') {
        const char *end = strchr(line, '\n');
        size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, length);

        if (copy == NULL) {
            writer->failed = true;
            return;
        }
        put(writer, "%s", indent);
        put_value(writer, copy);
        put(writer, "\n");
        free(copy);
        line = end != NULL ? end + 1 : NULL;
    }
}

static void put_actor(struct writer *writer, const struct da_event *event)
{
    if (event->subject_domain_name != NULL) {
        put_value(writer, event->subject_domain_name);
        put(writer, "\\");
    }
    put_value(writer, event->subject_user_name);
    put(writer, " (");
    put_value(writer, event->subject_sid);
    put(writer, ")");
}

static void write_header(struct writer *writer, const struct da_evidence_report *report)
{
    const struct da_poll_info *poll = &report->snapshot->poll;

    put(writer, "delegaudit remediation report\n");
    put(writer, "Poll of ");
    put_value(writer, poll->dc_host);
    put(writer, ", base ");
    put_value(writer, poll->base_dn);
    put(writer, ", at ");
    put_value(writer, poll->time);
    put(writer, "\n");
    if (report->snapshot_path != NULL) {
        put(writer, "Snapshot ");
        put_value(writer, report->snapshot_path);
        put(writer, "\n");
    }
    put(writer, "Event exports: %lu file%s, %lu records, %lu kept, %lu malformed\n",
        report->totals.files, report->totals.files == 1 ? "" : "s", report->totals.records,
        report->totals.kept, report->totals.malformed);
    for (size_t i = 0; i < report->event_path_count; i++) {
        put(writer, "  ");
        put_value(writer, report->event_paths[i]);
        put(writer, "\n");
    }
}

static void write_summary(struct writer *writer, const struct da_evidence_report *report)
{
    struct da_evidence_summary summary;

    da_evidence_report_summarize(report, &summary);
    put(writer,
        "\nFindings: %lu (%lu critical, %lu high); evidence found for %lu, partial for "
        "%lu, missing for %lu\n",
        summary.critical + summary.high, summary.critical, summary.high, summary.found,
        summary.partial, summary.missing);
    put(writer, "Removed backdoors shown by the events: %lu\n", summary.historical);
}

static void write_timeline(struct writer *writer, const struct da_account_evidence *entry)
{
    put(writer, "    Timeline:\n");
    if (entry->step_count == 0) {
        put(writer, "      None.\n");
        return;
    }
    for (size_t i = 0; i < entry->step_count; i++) {
        const struct da_evidence_step *step = &entry->steps[i];
        const struct da_event *event = step->event;

        put(writer, "      ");
        put_value(writer, event->time);
        put(writer, " %lu on ", event->event_id);
        put_value(writer, event->computer);
        put(writer, ": %s", da_step_description(step->kind));
        for (size_t j = 0; j < step->values.count; j++) {
            put(writer, j == 0 ? " " : ", ");
            put_value(writer, step->values.items[j]);
        }
        put(writer, "\n        by ");
        put_actor(writer, event);
        if (event->has_subject_logon_id)
            put(writer, ", logon id 0x%" PRIx64, event->subject_logon_id);
        put(writer, "; ");
        put_value(writer, event->source_file);
        put(writer, ":%lu\n", event->source_position);
    }
}

static void write_sessions(struct writer *writer, const struct da_account_evidence *entry)
{
    put(writer, "    Sessions of the actors:\n");
    if (entry->session_count == 0) {
        put(writer, "      None.\n");
        return;
    }
    for (size_t i = 0; i < entry->session_count; i++) {
        const struct da_session_evidence *session = &entry->sessions[i];
        const struct da_event *logon = session->logon;

        put(writer, "      logon id 0x%" PRIx64 " on ", session->change->subject_logon_id);
        put_value(writer, session->change->computer);
        put(writer, ": ");
        if (logon == NULL) {
            put(writer, "no matching logon event (4624) in the exports\n");
        } else {
            put(writer, "logon type %lu, %s, from ", logon->logon_type,
                da_logon_type_name(logon->logon_type));
            put_value(writer, logon->ip_address);
            put(writer, " (workstation ");
            put_value(writer, logon->workstation_name);
            put(writer, "), package ");
            put_value(writer, logon->authentication_package);
            put(writer, ", at ");
            put_value(writer, logon->time);
            put(writer, "\n");
        }
        for (size_t j = 0; j < session->explicit_credential_count; j++) {
            const struct da_event *use = session->explicit_credentials[j];

            put(writer, "        explicit credentials (4648) for ");
            if (use->explicit_domain_name != NULL) {
                put_value(writer, use->explicit_domain_name);
                put(writer, "\\");
            }
            put_value(writer, use->explicit_user_name);
            put(writer, " to ");
            put_value(writer, use->target_server_name);
            put(writer, " at ");
            put_value(writer, use->time);
            put(writer, "\n");
        }
    }
}

static void write_scope(struct writer *writer, const struct da_account_evidence *entry)
{
    put(writer, "    Other delegation changes by the same actors:\n");
    if (entry->actor_scope_count == 0) {
        put(writer, "      None.\n");
        return;
    }
    for (size_t i = 0; i < entry->actor_scope_count; i++) {
        const struct da_event *event = entry->actor_scope[i];

        put(writer, "      ");
        put_value(writer, event->time);
        put(writer, " %lu ", event->event_id);
        if (event->event_id == DA_EVENT_OBJECT_MODIFIED) {
            put_value(writer, event->object_dn);
            put(writer, " ");
            put_value(writer, event->attribute_name);
            put(writer, " ");
            put_value(writer, event->attribute_value);
        } else {
            put_value(writer, event->target_user_name);
            put(writer, " (");
            put_value(writer, event->target_sid);
            put(writer, ")");
            for (size_t j = 0; j < event->allowed_to_delegate_to.count; j++) {
                put(writer, j == 0 ? " " : ", ");
                put_value(writer, event->allowed_to_delegate_to.items[j]);
            }
        }
        put(writer, "\n");
    }
}

static void write_remediation(struct writer *writer, const struct da_evidence_report *report,
                              const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;

    put(writer, "    Remediation:\n");
    if (finding != NULL) {
        bool turn_off = da_remediation_turns_off_protocol_transition(finding->account, entry);
        char *ldif = da_remediation_ldif(finding->account, &finding->values, turn_off);
        char *powershell = da_remediation_powershell(finding->account, &finding->values, turn_off);

        if (ldif == NULL || powershell == NULL)
            writer->failed = true;
        put(writer, "      With ldapmodify:\n");
        put_block(writer, "        ", ldif);
        put(writer, "      With PowerShell (ActiveDirectory module):\n");
        put_block(writer, "        ", powershell);
        if (da_account_protocol_transition(finding->account) && !turn_off)
            put(writer, "      Protocol transition stays on because the account keeps other "
                        "targets: review whether it needs it.\n");
        free(ldif);
        free(powershell);
    } else {
        put(writer, "      The krbtgt target is gone already: nothing to remove.\n");
    }

    put(writer, "      Verify: poll again");
    if (report->verify_command != NULL) {
        put(writer, " (");
        put_value(writer, report->verify_command);
        put(writer, ")");
    }
    put(writer, " and check that the finding is gone; then run delegaudit verify with the "
                "same options (--wait 15m waits for replication) to check that every domain "
                "controller has the clean value.\n");
    if (da_evidence_advises_krbtgt_reset(entry))
        put(writer, "      Reset the krbtgt password twice, letting replication complete in "
                    "between: the logs cannot show whether the backdoor was used to obtain "
                    "tickets.\n");
}

static void write_queries(struct writer *writer, const struct da_account_evidence *entry)
{
    char *query = da_remediation_kql_account(entry->sid, entry->guid);

    put(writer, "    KQL for the account's changes:\n");
    if (query != NULL)
        put_block(writer, "      ", query);
    free(query);
    for (size_t i = 0; i < entry->session_count; i++) {
        query = da_remediation_kql_session(entry->sessions[i].change);
        if (query == NULL)
            continue;
        put(writer, "    KQL for the actor session 0x%" PRIx64 ":\n",
            entry->sessions[i].change->subject_logon_id);
        put_block(writer, "      ", query);
        free(query);
    }
}

static void write_entry(struct writer *writer, const struct da_evidence_report *report,
                        const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;

    put(writer, "\n");
    if (finding != NULL) {
        put(writer, "  %s ", finding->severity == DA_SEVERITY_CRITICAL ? "CRITICAL" : "HIGH");
        put_value(writer, finding->rule_id);
    } else {
        put(writer, "  HISTORICAL a krbtgt target that the events show added and later removed");
    }
    put(writer, "\n    Account: ");
    put_value(writer, entry->sam_account_name);
    put(writer, "\n    DN: ");
    put_value(writer, entry->dn);
    put(writer, "\n    SID: ");
    put_value(writer, entry->sid);
    put(writer, ", GUID ");
    put_value(writer, entry->guid);
    put(writer, "\n");
    if (finding != NULL) {
        put(writer, "    Targets:");
        for (size_t i = 0; i < finding->values.count; i++) {
            put(writer, " ");
            put_value(writer, finding->values.items[i]);
        }
        put(writer, "\n    Protocol transition %s\n",
            da_account_protocol_transition(finding->account) ? "on" : "off");
    }

    put(writer, "    Evidence: %s", da_evidence_status_name(entry->status));
    if (entry->status == DA_EVIDENCE_MISSING)
        put(writer, ". No event in the exports explains this change: the evidence is missing "
                    "and the question stays open");
    else if (entry->status == DA_EVIDENCE_PARTIAL)
        put(writer, ". Events concern this account, but none shows the krbtgt target added: "
                    "the question stays open");
    put(writer, ".\n");

    write_timeline(writer, entry);
    write_sessions(writer, entry);
    write_scope(writer, entry);
    write_remediation(writer, report, entry);
    write_queries(writer, entry);
}

int da_evidence_report_write_text(FILE *out, const struct da_evidence_report *report)
{
    struct writer writer = {out, false};

    write_header(&writer, report);
    write_summary(&writer, report);
    if (report->verify != NULL &&
        da_verify_write_text_section(out, report->verify, report->verify_path) != 0)
        writer.failed = true;
    if (report->entry_count == 0)
        put(&writer, "\nNo krbtgt delegation finding and no removed backdoor.\n");
    for (size_t i = 0; i < report->entry_count; i++)
        write_entry(&writer, report, &report->entries[i]);

    if (fflush(out) != 0 || ferror(out))
        writer.failed = true;
    return writer.failed ? -1 : 0;
}
