/* The remediation report as text, for a terminal or a mail. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/escape.h"
#include "reports/evidence_report.h"
#include "reports/remediation.h"
#include "reports/verify_report.h"
#include "reports/writer.h"

/* Writes a block of generated text (LDIF, commands, queries) indented. The
 * generators quote directory values themselves; control characters are
 * escaped here too so that none reaches the terminal. */
static void put_block(struct da_writer *writer, const char *indent, const char *block)
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
        da_put(writer, "%s", indent);
        da_put_text(writer, copy);
        da_put(writer, "\n");
        free(copy);
        line = end != NULL ? end + 1 : NULL;
    }
}

static void put_actor(struct da_writer *writer, const struct da_event *event)
{
    if (event->subject_domain_name != NULL) {
        da_put_text(writer, event->subject_domain_name);
        da_put(writer, "\\");
    }
    da_put_text(writer, event->subject_user_name);
    da_put(writer, " (");
    da_put_text(writer, event->subject_sid);
    da_put(writer, ")");
}

static void write_header(struct da_writer *writer, const struct da_evidence_report *report)
{
    const struct da_poll_info *poll = &report->snapshot->poll;

    da_put(writer, "delegaudit remediation report\n");
    da_put(writer, "Poll of ");
    da_put_text(writer, poll->dc_host);
    da_put(writer, ", base ");
    da_put_text(writer, poll->base_dn);
    da_put(writer, ", at ");
    da_put_text(writer, poll->time);
    da_put(writer, "\n");
    if (report->snapshot_path != NULL) {
        da_put(writer, "Snapshot ");
        da_put_text(writer, report->snapshot_path);
        da_put(writer, "\n");
    }
    da_put(writer, "Event exports: %lu file%s, %lu records, %lu kept, %lu malformed\n",
           report->totals.files, report->totals.files == 1 ? "" : "s", report->totals.records,
           report->totals.kept, report->totals.malformed);
    for (size_t i = 0; i < report->event_path_count; i++) {
        da_put(writer, "  ");
        da_put_text(writer, report->event_paths[i]);
        da_put(writer, "\n");
    }
}

static void write_summary(struct da_writer *writer, const struct da_evidence_report *report)
{
    struct da_evidence_summary summary;

    da_evidence_report_summarize(report, &summary);
    da_put(writer,
           "\nFindings: %lu (%lu critical, %lu high); evidence found for %lu, partial for "
           "%lu, missing for %lu\n",
           summary.critical + summary.high, summary.critical, summary.high, summary.found,
           summary.partial, summary.missing);
    da_put(writer, "Removed backdoors shown by the events: %lu\n", summary.historical);
}

static void write_timeline(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "    Timeline:\n");
    if (entry->step_count == 0) {
        da_put(writer, "      None.\n");
        return;
    }
    for (size_t i = 0; i < entry->step_count; i++) {
        const struct da_evidence_step *step = &entry->steps[i];
        const struct da_event *event = step->event;

        da_put(writer, "      ");
        da_put_text(writer, event->time);
        da_put(writer, " %lu on ", event->event_id);
        da_put_text(writer, event->computer);
        da_put(writer, ": %s", da_step_description(step->kind));
        for (size_t j = 0; j < step->values.count; j++) {
            da_put(writer, j == 0 ? " " : ", ");
            da_put_text(writer, step->values.items[j]);
        }
        da_put(writer, "\n        by ");
        put_actor(writer, event);
        if (event->has_subject_logon_id)
            da_put(writer, ", logon id 0x%" PRIx64, event->subject_logon_id);
        da_put(writer, "; ");
        da_put_text(writer, event->source_file);
        da_put(writer, ":%lu\n", event->source_position);
    }
}

static void write_sessions(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "    Sessions of the actors:\n");
    if (entry->session_count == 0) {
        da_put(writer, "      None.\n");
        return;
    }
    for (size_t i = 0; i < entry->session_count; i++) {
        const struct da_session_evidence *session = &entry->sessions[i];
        const struct da_event *logon = session->logon;

        da_put(writer, "      logon id 0x%" PRIx64 " on ", session->change->subject_logon_id);
        da_put_text(writer, session->change->computer);
        da_put(writer, ": ");
        if (logon == NULL) {
            da_put(writer, "no matching logon event (4624) in the exports\n");
        } else {
            da_put(writer, "logon type %lu, %s, from ", logon->logon_type,
                   da_logon_type_name(logon->logon_type));
            da_put_text(writer, logon->ip_address);
            da_put(writer, " (workstation ");
            da_put_text(writer, logon->workstation_name);
            da_put(writer, "), package ");
            da_put_text(writer, logon->authentication_package);
            da_put(writer, ", at ");
            da_put_text(writer, logon->time);
            da_put(writer, "\n");
        }
        for (size_t j = 0; j < session->explicit_credential_count; j++) {
            const struct da_event *use = session->explicit_credentials[j];

            da_put(writer, "        explicit credentials (4648) for ");
            if (use->explicit_domain_name != NULL) {
                da_put_text(writer, use->explicit_domain_name);
                da_put(writer, "\\");
            }
            da_put_text(writer, use->explicit_user_name);
            da_put(writer, " to ");
            da_put_text(writer, use->target_server_name);
            da_put(writer, " at ");
            da_put_text(writer, use->time);
            da_put(writer, "\n");
        }
    }
}

static void write_scope(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "    Other delegation changes by the same actors:\n");
    if (entry->actor_scope_count == 0) {
        da_put(writer, "      None.\n");
        return;
    }
    for (size_t i = 0; i < entry->actor_scope_count; i++) {
        const struct da_event *event = entry->actor_scope[i];

        da_put(writer, "      ");
        da_put_text(writer, event->time);
        da_put(writer, " %lu ", event->event_id);
        if (event->event_id == DA_EVENT_OBJECT_MODIFIED) {
            da_put_text(writer, event->object_dn);
            da_put(writer, " ");
            da_put_text(writer, event->attribute_name);
            da_put(writer, " ");
            da_put_text(writer, event->attribute_value);
        } else {
            da_put_text(writer, event->target_user_name);
            da_put(writer, " (");
            da_put_text(writer, event->target_sid);
            da_put(writer, ")");
            for (size_t j = 0; j < event->allowed_to_delegate_to.count; j++) {
                da_put(writer, j == 0 ? " " : ", ");
                da_put_text(writer, event->allowed_to_delegate_to.items[j]);
            }
        }
        da_put(writer, "\n");
    }
}

static void write_remediation(struct da_writer *writer, const struct da_evidence_report *report,
                              const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;

    da_put(writer, "    Remediation:\n");
    if (finding != NULL) {
        bool turn_off = da_remediation_turns_off_protocol_transition(finding->account, entry);
        char *ldif = da_remediation_ldif(finding->account, &finding->values, turn_off);
        char *powershell = da_remediation_powershell(finding->account, &finding->values, turn_off);

        if (ldif == NULL || powershell == NULL)
            writer->failed = true;
        da_put(writer, "      With ldapmodify:\n");
        put_block(writer, "        ", ldif);
        da_put(writer, "      With PowerShell (ActiveDirectory module):\n");
        put_block(writer, "        ", powershell);
        if (da_account_protocol_transition(finding->account) && !turn_off)
            da_put(writer, "      Protocol transition stays on because the account keeps other "
                           "targets: review whether it needs it.\n");
        free(ldif);
        free(powershell);
    } else {
        da_put(writer, "      The krbtgt target is gone already: nothing to remove.\n");
    }

    da_put(writer, "      Verify: poll again");
    if (report->verify_command != NULL) {
        da_put(writer, " (");
        da_put_text(writer, report->verify_command);
        da_put(writer, ")");
    }
    da_put(writer, " and check that the finding is gone; then run delegaudit verify with the "
                   "same options (--wait 15m waits for replication) to check that every domain "
                   "controller has the clean value.\n");
    if (da_evidence_advises_krbtgt_reset(entry))
        da_put(writer, "      Reset the krbtgt password twice, letting replication complete in "
                       "between: the logs cannot show whether the backdoor was used to obtain "
                       "tickets.\n");
}

static void write_queries(struct da_writer *writer, const struct da_account_evidence *entry)
{
    char *query = da_remediation_kql_account(entry->sid, entry->guid);

    da_put(writer, "    KQL for the account's changes:\n");
    if (query != NULL)
        put_block(writer, "      ", query);
    free(query);
    for (size_t i = 0; i < entry->session_count; i++) {
        query = da_remediation_kql_session(entry->sessions[i].change);
        if (query == NULL)
            continue;
        da_put(writer, "    KQL for the actor session 0x%" PRIx64 ":\n",
               entry->sessions[i].change->subject_logon_id);
        put_block(writer, "      ", query);
        free(query);
    }
}

static void write_entry(struct da_writer *writer, const struct da_evidence_report *report,
                        const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;

    da_put(writer, "\n");
    if (finding != NULL) {
        da_put(writer, "  %s ", finding->severity == DA_SEVERITY_CRITICAL ? "CRITICAL" : "HIGH");
        da_put_text(writer, finding->rule_id);
    } else {
        da_put(writer, "  HISTORICAL a krbtgt target that the events show added and later removed");
    }
    da_put(writer, "\n    Account: ");
    da_put_text(writer, entry->sam_account_name);
    da_put(writer, "\n    DN: ");
    da_put_text(writer, entry->dn);
    da_put(writer, "\n    SID: ");
    da_put_text(writer, entry->sid);
    da_put(writer, ", GUID ");
    da_put_text(writer, entry->guid);
    da_put(writer, "\n");
    if (finding != NULL) {
        da_put(writer, "    Targets:");
        for (size_t i = 0; i < finding->values.count; i++) {
            da_put(writer, " ");
            da_put_text(writer, finding->values.items[i]);
        }
        da_put(writer, "\n    Protocol transition %s\n",
               da_account_protocol_transition(finding->account) ? "on" : "off");
    }

    da_put(writer, "    Evidence: %s", da_evidence_status_name(entry->status));
    if (entry->status == DA_EVIDENCE_MISSING)
        da_put(writer, ". No event in the exports explains this change: the evidence is missing "
                       "and the question stays open");
    else if (entry->status == DA_EVIDENCE_PARTIAL)
        da_put(writer, ". Events concern this account, but none shows the krbtgt target added: "
                       "the question stays open");
    da_put(writer, ".\n");

    write_timeline(writer, entry);
    write_sessions(writer, entry);
    write_scope(writer, entry);
    write_remediation(writer, report, entry);
    write_queries(writer, entry);
}

int da_evidence_report_write_text(FILE *out, const struct da_evidence_report *report)
{
    struct da_writer writer = {out, false};

    write_header(&writer, report);
    write_summary(&writer, report);
    if (report->verify != NULL &&
        da_verify_write_text_section(out, report->verify, report->verify_path) != 0)
        writer.failed = true;
    if (report->entry_count == 0)
        da_put(&writer, "\nNo krbtgt delegation finding and no removed backdoor.\n");
    for (size_t i = 0; i < report->entry_count; i++)
        write_entry(&writer, report, &report->entries[i]);

    if (fflush(out) != 0 || ferror(out))
        writer.failed = true;
    return writer.failed ? -1 : 0;
}
