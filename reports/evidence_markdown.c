/* The remediation report as Markdown (CommonMark with GitHub tables), for
 * a ticket, a wiki page or a mail that renders Markdown.
 *
 * Directory and event values are first passed through da_escape_text, so
 * control characters, invalid UTF-8 and invisible characters show as
 * \xNN or \uXXXX. Then:
 *  - in running text and table cells, every character with an inline
 *    meaning to CommonMark or GitHub Markdown is backslash-escaped, so a
 *    value can produce no emphasis, link, HTML tag, entity or extra table
 *    cell;
 *  - in code spans and fenced blocks, the fence is one backtick longer
 *    than the longest backtick run of the content, so no value can close
 *    it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditor/escape.h"
#include "reports/evidence_report.h"
#include "reports/remediation.h"
#include "reports/verify_report.h"
#include "reports/writer.h"

/* Returns true for a character with an inline meaning to CommonMark or to
 * a GitHub extension (tables, strikethrough, math, attribute lists). */
static bool markdown_special(char character)
{
    return character != '\0' && strchr("\\`*_{}[]<>#+!|~$&@", character) != NULL;
}

/* Returns true when the ':' or '.' at text[i] would let GitHub's extended
 * autolinks turn "scheme://..." or "www." into a link. */
static bool autolink_trigger(const char *text, size_t i)
{
    if (text[i] == ':')
        return text[i + 1] == '/';
    if (text[i] == '.' && i >= 3)
        return strncasecmp(text + i - 3, "www", 3) == 0;
    return false;
}

/* Writes a value as Markdown text: safe in a paragraph, a list item, a
 * heading and a table cell. */
static void put_text(struct da_writer *writer, const char *value)
{
    char *escaped = da_escape_text(value);

    if (escaped == NULL) {
        writer->failed = true;
        return;
    }
    for (size_t i = 0; escaped[i] != '\0'; i++) {
        if (markdown_special(escaped[i]) || autolink_trigger(escaped, i))
            da_put(writer, "\\");
        da_put(writer, "%c", escaped[i]);
    }
    free(escaped);
}

static size_t longest_backtick_run(const char *text)
{
    size_t longest = 0;
    size_t run = 0;

    for (; *text != '\0'; text++) {
        run = *text == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    return longest;
}

static void put_backticks(struct da_writer *writer, size_t count)
{
    for (size_t i = 0; i < count; i++)
        da_put(writer, "`");
}

/* Writes a value as a code span. A value that starts or ends with a
 * backtick or a space is padded with one space on each side, which the
 * parser strips again: the backtick cannot merge with the fence, and the
 * value's own spaces are kept. Not for table cells, where GitHub splits on
 * '|' even inside code spans. */
static void put_code(struct da_writer *writer, const char *value)
{
    char *escaped = da_escape_text(value);
    size_t length;
    const char *padding = "";
    size_t fence;

    if (escaped == NULL) {
        writer->failed = true;
        return;
    }
    length = strlen(escaped);
    if (length > 0 && (escaped[0] == '`' || escaped[0] == ' ' || escaped[length - 1] == '`' ||
                       escaped[length - 1] == ' '))
        padding = " ";
    fence = longest_backtick_run(escaped) + 1;
    put_backticks(writer, fence);
    da_put(writer, "%s%s%s", padding, escaped, padding);
    put_backticks(writer, fence);
    free(escaped);
}

/* Returns a copy of block with control characters escaped line by line,
 * keeping its line breaks. Returns NULL when memory runs out. */
static char *escape_lines(const char *block)
{
    char *result = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&result, &size);
    const char *line = block;
    bool ok = stream != NULL;

    while (ok && *line != '\0') {
        const char *end = strchr(line, '\n');
        size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, length);
        char *escaped = copy != NULL ? da_escape_text(copy) : NULL;

        ok = escaped != NULL && fprintf(stream, "%s\n", escaped) >= 0;
        free(escaped);
        free(copy);
        line = end != NULL ? end + 1 : line + length;
    }
    if (stream != NULL && fclose(stream) != 0)
        ok = false;
    if (!ok) {
        free(result);
        return NULL;
    }
    return result;
}

/* Writes generated text (LDIF, commands, queries) as a fenced code block.
 * A NULL block means that its generator ran out of memory. */
static void put_block(struct da_writer *writer, const char *info, const char *block)
{
    char *escaped = block != NULL ? escape_lines(block) : NULL;
    size_t fence;

    if (escaped == NULL) {
        writer->failed = true;
        return;
    }
    fence = longest_backtick_run(escaped) + 1;
    if (fence < 3)
        fence = 3;
    da_put(writer, "\n");
    put_backticks(writer, fence);
    da_put(writer, "%s\n%s", info, escaped);
    put_backticks(writer, fence);
    da_put(writer, "\n\n");
    free(escaped);
}

/* "DOMAIN\name" as text, for a table cell or a list item. */
static void put_principal(struct da_writer *writer, const char *domain, const char *name)
{
    if (domain != NULL) {
        put_text(writer, domain);
        da_put(writer, "\\\\");
    }
    put_text(writer, name);
}

static void put_strv_text(struct da_writer *writer, const struct da_strv *values)
{
    if (values->count == 0)
        da_put(writer, "-");
    for (size_t i = 0; i < values->count; i++) {
        if (i > 0)
            da_put(writer, ", ");
        put_text(writer, values->items[i]);
    }
}

static void put_strv_code(struct da_writer *writer, const struct da_strv *values)
{
    if (values->count == 0)
        da_put(writer, "none");
    for (size_t i = 0; i < values->count; i++) {
        if (i > 0)
            da_put(writer, ", ");
        put_code(writer, values->items[i]);
    }
}

static void write_header(struct da_writer *writer, const struct da_evidence_report *report)
{
    const struct da_poll_info *poll = &report->snapshot->poll;
    const struct da_event_totals *totals = &report->totals;

    da_put(writer, "# delegaudit remediation report\n\n");
    da_put(writer, "- Poll: domain controller ");
    put_code(writer, poll->dc_host);
    da_put(writer, ", base ");
    put_code(writer, poll->base_dn);
    da_put(writer, ", at ");
    put_code(writer, poll->time);
    da_put(writer, " (UTC)\n- Snapshot: ");
    if (report->snapshot_path != NULL)
        put_code(writer, report->snapshot_path);
    else
        da_put(writer, "not saved");
    da_put(writer, "\n- Event exports: %lu file%s, %lu records read, %lu kept, %lu malformed\n",
           totals->files, totals->files == 1 ? "" : "s", totals->records, totals->kept,
           totals->malformed);
    if (report->event_path_count == 0)
        da_put(writer, "  - None.\n");
    for (size_t i = 0; i < report->event_path_count; i++) {
        da_put(writer, "  - ");
        put_code(writer, report->event_paths[i]);
        da_put(writer, "\n");
    }
}

static void write_summary(struct da_writer *writer, const struct da_evidence_report *report)
{
    struct da_evidence_summary summary;

    da_evidence_report_summarize(report, &summary);

    da_put(writer, "\n## Summary\n\n");
    da_put(writer, "| | count |\n| --- | ---: |\n");
    da_put(writer, "| findings, critical | %lu |\n", summary.critical);
    da_put(writer, "| findings, high | %lu |\n", summary.high);
    da_put(writer, "| evidence found | %lu |\n", summary.found);
    da_put(writer, "| evidence partial | %lu |\n", summary.partial);
    da_put(writer, "| evidence missing | %lu |\n", summary.missing);
    da_put(writer, "| removed backdoors shown by the events (historical) | %lu |\n",
           summary.historical);

    da_put(writer,
           "\nFindings that no event in the exports explains (from %lu records in %lu "
           "file%s):\n\n",
           report->totals.records, report->totals.files, report->totals.files == 1 ? "" : "s");
    if (summary.missing == 0)
        da_put(writer, "None.\n");
    for (size_t i = 0; i < report->entry_count; i++) {
        const struct da_account_evidence *entry = &report->entries[i];

        if (entry->finding == NULL || entry->status != DA_EVIDENCE_MISSING)
            continue;
        da_put(writer, "- ");
        put_code(writer, entry->sam_account_name);
        da_put(writer, " ");
        put_code(writer, entry->dn);
        da_put(writer, "\n");
    }
}

static void write_verification_password(struct da_writer *writer,
                                        const struct da_verify_result *result,
                                        const struct da_verify_dc *dc)
{
    const struct da_verify_krbtgt *krbtgt = &dc->krbtgt;

    da_put(writer, "| ");
    put_text(writer, dc->name);
    if (!dc->reachable || !krbtgt->read) {
        da_put(writer, " | not read | - | - | - |\n");
        return;
    }
    if (krbtgt->password.known)
        da_put(writer, " | %" PRIu32 " | ", krbtgt->password.version);
    else
        da_put(writer, " | no metadata | ");
    if (krbtgt->password_last_set != NULL)
        put_text(writer, krbtgt->password_last_set);
    else
        da_put(writer, "never");
    da_put(writer, " | ");
    if (krbtgt->password.known && krbtgt->password.originating_dc != NULL)
        put_text(writer, krbtgt->password.originating_dc);
    else if (krbtgt->password.known)
        put_text(writer, krbtgt->password.originating_invocation_id);
    else
        da_put(writer, "-");
    switch (da_verify_krbtgt_reset_order(result, dc)) {
    case DA_RESET_AFTER_FINDING:
        da_put(writer, " | after |\n");
        break;
    case DA_RESET_BEFORE_FINDING:
        da_put(writer, " | before |\n");
        break;
    case DA_RESET_NOT_COMPARED:
        da_put(writer, " | - |\n");
        break;
    }
}

/* Writes the verify results: the verdict, a table of each account's state
 * on each DC, and the krbtgt password on each DC. */
static void write_verification(struct da_writer *writer, const struct da_evidence_report *report)
{
    const struct da_verify_result *result = report->verify;
    char *verdict = da_verify_verdict_line(result);

    da_put(writer, "\n## Verification across domain controllers\n\n");
    if (verdict == NULL)
        writer->failed = true;
    da_put(writer, "- Verdict: **");
    put_text(writer, verdict);
    free(verdict);
    da_put(writer, "**\n- Verified at ");
    put_code(writer, result->time);
    da_put(writer, " (UTC), base ");
    put_code(writer, result->base_dn);
    da_put(writer, ", %zu domain controller%s, %u round%s\n", result->dc_count,
           result->dc_count == 1 ? "" : "s", result->rounds, result->rounds == 1 ? "" : "s");
    if (report->verify_path != NULL) {
        da_put(writer, "- Results: ");
        put_code(writer, report->verify_path);
        da_put(writer, "\n");
    }

    da_put(writer, "\n| account |");
    for (size_t j = 0; j < result->dc_count; j++) {
        da_put(writer, " ");
        put_text(writer, result->dcs[j].name);
        da_put(writer, " |");
    }
    da_put(writer, "\n| --- |");
    for (size_t j = 0; j < result->dc_count; j++)
        da_put(writer, " --- |");
    da_put(writer, "\n");
    for (size_t i = 0; i < result->account_count; i++) {
        const struct da_verify_account *account = &result->accounts[i];

        da_put(writer, "| ");
        put_text(writer, account->sam_account_name);
        da_put(writer, " ");
        put_text(writer, account->dn);
        da_put(writer, " |");
        for (size_t j = 0; j < result->dc_count; j++) {
            da_put(writer, " %s", da_verify_state_name(account->cells[j].state));
            if (account->cells[j].protocol_transition_left_on)
                da_put(writer, ", protocol transition still on");
            da_put(writer, " |");
        }
        da_put(writer, "\n");
    }

    da_put(writer, "\nkrbtgt password on each domain controller%s:\n\n",
           result->krbtgt_converged ? ", the same on every one that answered"
                                    : ", which differs: a reset has not replicated everywhere yet");
    da_put(writer, "| DC | password version | last set (UTC) | set at | relative to the newest "
                   "finding |\n| --- | ---: | --- | --- | --- |\n");
    for (size_t j = 0; j < result->dc_count; j++)
        write_verification_password(writer, result, &result->dcs[j]);
}

static void write_account(struct da_writer *writer, const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;
    const struct da_account *account = finding != NULL ? finding->account : NULL;

    if (finding != NULL) {
        da_put(writer, "- Severity: **%s**, rule ", da_severity_name(finding->severity));
        put_code(writer, finding->rule_id);
        da_put(writer, "\n");
    } else {
        da_put(writer, "- Severity: **historical**: the events show a krbtgt target added to this "
                       "account and later removed; the backdoor existed\n");
    }
    da_put(writer, "- sAMAccountName: ");
    put_code(writer, entry->sam_account_name);
    da_put(writer, "\n- Kind: %s\n- DN: ",
           account != NULL ? da_account_kind_name(account->kind) : "unknown (no snapshot entry)");
    put_code(writer, entry->dn);
    da_put(writer, "\n- SID: ");
    put_code(writer, entry->sid);
    da_put(writer, "\n- GUID: ");
    put_code(writer, entry->guid);
    da_put(writer, "\n");
    if (account != NULL) {
        da_put(writer, "- Offending values: ");
        put_strv_code(writer, &finding->values);
        da_put(writer, "\n- Protocol transition: %s\n- whenChanged: ",
               da_account_protocol_transition(account) ? "on" : "off");
        put_code(writer, account->when_changed);
        da_put(writer, "\n");
    }
    if (entry->protocol_transition_turned_on)
        da_put(writer, "- The events show protocol transition turned on.\n");
}

static void write_status(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "\n### Evidence: %s\n\n", da_evidence_status_name(entry->status));
    switch (entry->status) {
    case DA_EVIDENCE_FOUND:
        da_put(writer, "The exports hold the change that added the krbtgt target.\n");
        break;
    case DA_EVIDENCE_PARTIAL:
        da_put(writer, "Events concern this account, but none shows the krbtgt target added: the "
                       "question stays open.\n");
        break;
    case DA_EVIDENCE_MISSING:
    default:
        da_put(writer, "No event in the exports explains this change: the evidence is missing "
                       "and the question stays open.\n");
        break;
    }
}

static void write_timeline(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "\n### Timeline\n\n");
    if (entry->step_count == 0) {
        da_put(writer, "None.\n");
        return;
    }
    da_put(writer, "| time (UTC) | DC | event | step | values | actor | logon id | source |\n");
    da_put(writer, "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < entry->step_count; i++) {
        const struct da_evidence_step *step = &entry->steps[i];
        const struct da_event *event = step->event;

        da_put(writer, "| ");
        put_text(writer, event->time);
        da_put(writer, " | ");
        put_text(writer, event->computer);
        da_put(writer, " | %lu | %s | ", event->event_id, da_step_description(step->kind));
        put_strv_text(writer, &step->values);
        da_put(writer, " | ");
        put_principal(writer, event->subject_domain_name, event->subject_user_name);
        da_put(writer, " ");
        put_text(writer, event->subject_sid);
        da_put(writer, " | ");
        if (event->has_subject_logon_id)
            da_put(writer, "0x%" PRIx64, event->subject_logon_id);
        else
            da_put(writer, "-");
        da_put(writer, " | ");
        put_text(writer, event->source_file);
        da_put(writer, ":%lu |\n", event->source_position);
    }
}

static void write_logon(struct da_writer *writer, const struct da_event *logon)
{
    da_put(writer, "logon (4624) at ");
    put_code(writer, logon->time);
    da_put(writer, ", type %lu (%s), account ", logon->logon_type,
           da_logon_type_name(logon->logon_type));
    put_principal(writer, logon->subject_domain_name, logon->subject_user_name);
    da_put(writer, ", from ");
    put_code(writer, logon->ip_address);
    da_put(writer, " port ");
    put_code(writer, logon->ip_port);
    da_put(writer, ", workstation ");
    put_code(writer, logon->workstation_name);
    da_put(writer, ", authentication package ");
    put_code(writer, logon->authentication_package);
    da_put(writer, ", logon process ");
    put_code(writer, logon->logon_process);
    da_put(writer, "\n");
}

static void write_sessions(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "\n### Sessions of the actors\n\n");
    if (entry->session_count == 0) {
        da_put(writer, "None.\n");
        return;
    }
    for (size_t i = 0; i < entry->session_count; i++) {
        const struct da_session_evidence *session = &entry->sessions[i];

        da_put(writer, "- Logon id 0x%" PRIx64 " on ", session->change->subject_logon_id);
        put_code(writer, session->change->computer);
        da_put(writer, ": ");
        if (session->logon != NULL)
            write_logon(writer, session->logon);
        else
            da_put(writer, "no matching logon event (4624) in the exports\n");
        if (session->explicit_credential_count == 0)
            da_put(writer, "  - Explicit credentials (4648): none.\n");
        for (size_t j = 0; j < session->explicit_credential_count; j++) {
            const struct da_event *use = session->explicit_credentials[j];

            da_put(writer, "  - Explicit credentials (4648) at ");
            put_code(writer, use->time);
            da_put(writer, ": target user ");
            put_principal(writer, use->explicit_domain_name, use->explicit_user_name);
            da_put(writer, ", target server ");
            put_code(writer, use->target_server_name);
            da_put(writer, ", from ");
            put_code(writer, use->ip_address);
            da_put(writer, "\n");
        }
    }
}

static void write_scope(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "\n### Other delegation changes by the same actors\n\n");
    if (entry->actor_scope_count == 0) {
        da_put(writer, "None.\n");
        return;
    }
    da_put(writer, "| time (UTC) | event | target account | values |\n");
    da_put(writer, "| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < entry->actor_scope_count; i++) {
        const struct da_event *event = entry->actor_scope[i];

        da_put(writer, "| ");
        put_text(writer, event->time);
        da_put(writer, " | %lu | ", event->event_id);
        if (event->event_id == DA_EVENT_OBJECT_MODIFIED) {
            put_text(writer, event->object_dn);
            da_put(writer, " | ");
            put_text(writer, event->attribute_name);
            da_put(writer, ": ");
            put_text(writer, event->attribute_value);
        } else {
            put_text(writer, event->target_user_name);
            da_put(writer, " ");
            put_text(writer, event->target_sid);
            da_put(writer, " | ");
            put_strv_text(writer, &event->allowed_to_delegate_to);
        }
        da_put(writer, " |\n");
    }
}

/* Writes a warning when an offending value contains characters that the
 * blocks show as \xNN or \uXXXX escapes. Pasted as displayed, such a
 * command names another value and removes nothing. */
static void write_inexact_note(struct da_writer *writer, const char *ldif, const char *powershell)
{
    if (ldif == NULL || powershell == NULL || da_report_shows_exactly(powershell))
        return;
    if (da_report_shows_exactly(ldif))
        da_put(writer, "**An offending value contains control or invisible characters**, which the "
                       "PowerShell command shows as `\\xNN` or `\\uXXXX` escapes: use the LDIF, "
                       "whose base64 keeps the exact bytes.\n\n");
    else
        da_put(writer,
               "**An offending value contains control or invisible characters**, which both "
               "blocks show as `\\xNN` or `\\uXXXX` escapes: neither removes the value as "
               "displayed. Write the LDIF with the value in base64 (`::`), taking the exact "
               "value from the snapshot file.\n\n");
}

static void write_remediation(struct da_writer *writer, const struct da_evidence_report *report,
                              const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;

    da_put(writer, "\n### Remediation\n\n");
    if (finding != NULL) {
        bool turn_off = da_remediation_turns_off_protocol_transition(finding->account, entry);
        char *ldif = da_remediation_ldif(finding->account, &finding->values, turn_off);
        char *powershell = da_remediation_powershell(finding->account, &finding->values, turn_off);

        da_put(writer, "With `ldapmodify` (save as a file and pass it with `-f`):\n");
        put_block(writer, "ldif", ldif);
        da_put(writer, "With PowerShell (ActiveDirectory module):\n");
        put_block(writer, "powershell", powershell);
        if (da_account_protocol_transition(finding->account) && !turn_off)
            da_put(writer, "Protocol transition stays on because the account keeps other "
                           "delegation targets: review whether it needs it.\n\n");
        write_inexact_note(writer, ldif, powershell);
        free(ldif);
        free(powershell);
    } else {
        da_put(writer, "The krbtgt target is gone already: nothing to remove, so no LDIF.\n\n");
    }

    if (finding != NULL)
        da_put(writer, "Verify: poll again and check that the finding is gone");
    else
        da_put(writer, "Verify: poll again and check that no krbtgt target came back");
    if (report->verify_command != NULL) {
        da_put(writer, ":\n");
        put_block(writer, "sh", report->verify_command);
    } else {
        da_put(writer, " (`delegaudit poll` with the options of the poll above).\n\n");
    }
    da_put(writer, "Changes reach the other domain controllers by replication. Run "
                   "`delegaudit verify` with the same connection options and `--state` to check "
                   "that every domain controller has the clean value; add `--wait 15m` to wait for "
                   "replication.\n");
    if (da_evidence_advises_krbtgt_reset(entry))
        da_put(writer, "\n**Reset the krbtgt password twice**, letting replication complete in "
                       "between: the logs cannot show whether the backdoor was used to obtain "
                       "tickets, and tickets issued through it stay valid until the second "
                       "reset.\n");
}

static void write_queries(struct da_writer *writer, const struct da_account_evidence *entry)
{
    char *query = da_remediation_kql_account(entry->sid, entry->guid);

    da_put(writer, "\n### KQL queries\n\n");
    if (query != NULL) {
        da_put(writer, "Changes of the account:\n");
        put_block(writer, "kql", query);
        free(query);
    } else if (entry->sid == NULL && entry->guid == NULL) {
        da_put(writer, "No SID or GUID is known for the account: no query.\n");
    } else {
        writer->failed = true;
    }
    for (size_t i = 0; i < entry->session_count; i++) {
        const struct da_event *change = entry->sessions[i].change;

        query = da_remediation_kql_session(change);
        if (query == NULL)
            continue;
        da_put(writer, "Every event of the actor session 0x%" PRIx64 " on ",
               change->subject_logon_id);
        put_code(writer, change->computer);
        da_put(writer, ":\n");
        put_block(writer, "kql", query);
        free(query);
    }
}

static void write_entry(struct da_writer *writer, const struct da_evidence_report *report,
                        const struct da_account_evidence *entry, size_t number)
{
    const struct da_finding *finding = entry->finding;

    da_put(writer, "\n## %zu. ", number);
    if (finding != NULL)
        da_put(writer, "%s, ", finding->severity == DA_SEVERITY_CRITICAL ? "CRITICAL" : "HIGH");
    else
        da_put(writer, "HISTORICAL, removed backdoor, ");
    put_text(writer, entry->sam_account_name);
    da_put(writer, "\n\n");

    write_account(writer, entry);
    write_status(writer, entry);
    write_timeline(writer, entry);
    write_sessions(writer, entry);
    write_scope(writer, entry);
    write_remediation(writer, report, entry);
    write_queries(writer, entry);
}

int da_evidence_report_write_markdown(FILE *out, const struct da_evidence_report *report)
{
    struct da_writer writer = {out, false};

    write_header(&writer, report);
    write_summary(&writer, report);
    if (report->verify != NULL)
        write_verification(&writer, report);
    if (report->entry_count == 0)
        da_put(&writer, "\n## Findings\n\nNone: no krbtgt delegation finding and no removed "
                        "backdoor.\n");
    for (size_t i = 0; i < report->entry_count; i++)
        write_entry(&writer, report, &report->entries[i], i + 1);

    if (fflush(out) != 0 || ferror(out))
        writer.failed = true;
    return writer.failed ? -1 : 0;
}
