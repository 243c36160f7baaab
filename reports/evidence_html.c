/* The remediation report as one self-contained HTML5 file: a style sheet
 * in the document, no script, no external resource of any kind, so that
 * it opens offline, can be mailed as is and prints on paper.
 *
 * Every directory and event value passes through da_escape_text (control
 * characters, invalid UTF-8 and invisible characters become visible \xNN
 * or \uXXXX) and then through put_html, which escapes &, <, >, " and '.
 * The Content-Security-Policy in the head forbids scripts and every fetch
 * as a second line of defence should an escape ever be missed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/escape.h"
#include "reports/evidence_report.h"
#include "reports/remediation.h"
#include "reports/verify_report.h"
#include "reports/writer.h"

/* Writes text that da_escape_text already made printable, with the HTML
 * special characters as character references. Safe in element content
 * and in quoted attribute values. */
static void put_escaped_html(struct da_writer *writer, const char *text)
{
    for (; *text != '\0'; text++) {
        switch (*text) {
        case '&':
            da_put(writer, "&amp;");
            break;
        case '<':
            da_put(writer, "&lt;");
            break;
        case '>':
            da_put(writer, "&gt;");
            break;
        case '"':
            da_put(writer, "&quot;");
            break;
        case '\'':
            da_put(writer, "&#39;");
            break;
        default:
            if (fputc(*text, writer->out) == EOF)
                writer->failed = true;
            break;
        }
    }
}

/* Writes a directory or event value. NULL is written as "-". */
static void put_html(struct da_writer *writer, const char *value)
{
    char *escaped = da_escape_text(value);

    if (escaped == NULL) {
        writer->failed = true;
        return;
    }
    put_escaped_html(writer, escaped);
    free(escaped);
}

static void put_code(struct da_writer *writer, const char *value)
{
    da_put(writer, "<code>");
    put_html(writer, value);
    da_put(writer, "</code>");
}

/* Writes generated text (LDIF, commands, queries) as a <pre> block of the
 * given class, escaping each line and keeping the line breaks. A NULL
 * block means that its generator ran out of memory. */
static void put_block(struct da_writer *writer, const char *class_name, const char *block)
{
    const char *line = block;

    if (block == NULL) {
        writer->failed = true;
        return;
    }
    da_put(writer, "<pre class=\"%s\">", class_name);
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, length);

        if (copy == NULL) {
            writer->failed = true;
            break;
        }
        put_html(writer, copy);
        da_put(writer, "\n");
        free(copy);
        line += end != NULL ? length + 1 : length;
    }
    da_put(writer, "</pre>\n");
}

static void put_principal(struct da_writer *writer, const char *domain, const char *name)
{
    da_put(writer, "<code>");
    if (domain != NULL) {
        put_html(writer, domain);
        da_put(writer, "\\");
    }
    put_html(writer, name);
    da_put(writer, "</code>");
}

static void put_strv(struct da_writer *writer, const struct da_strv *values)
{
    if (values->count == 0)
        da_put(writer, "-");
    for (size_t i = 0; i < values->count; i++) {
        if (i > 0)
            da_put(writer, "<br>");
        put_code(writer, values->items[i]);
    }
}

/* Borders and type carry the meaning, not colour alone, so that the page
 * reads the same in black and white. */
static const char style_sheet[] =
    "body{font-family:system-ui,sans-serif;color:#111;background:#fff;line-height:1.4;"
    "max-width:72rem;margin:1.5rem auto;padding:0 1rem}\n"
    "h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:0}h3{font-size:1.05rem}\n"
    "table{border-collapse:collapse;width:100%;margin:.4rem 0}\n"
    "th,td{border:1px solid #888;padding:.2rem .4rem;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}\n"
    "th{font-weight:600}\n"
    "td.number{text-align:right}\n"
    "code,pre{font-family:ui-monospace,Consolas,monospace;font-size:.9em}\n"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid #888;padding:.5rem;"
    "background:#f4f4f4}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem}\n"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}\n"
    "section.entry{border:1px solid #888;border-left:.5rem solid #888;padding:.8rem 1rem;"
    "margin:1.5rem 0}\n"
    "section.critical{border-left-color:#a00}\n"
    "section.high{border-left-color:#c60}\n"
    "section.historical{border-left-style:double}\n"
    ".severity{text-transform:uppercase;letter-spacing:.05em}\n"
    ".open,.reset{border:2px solid #111;padding:.4rem .6rem;font-weight:600}\n"
    "@media print{\n"
    "body{max-width:none;margin:0;padding:0;font-size:10pt}\n"
    "pre{background:none}\n"
    "section.entry{page-break-inside:avoid;break-inside:avoid}\n"
    "h2,h3{page-break-after:avoid;break-after:avoid}\n"
    "tr,pre{page-break-inside:avoid;break-inside:avoid}\n"
    "}\n";

static void write_head(struct da_writer *writer, const struct da_evidence_report *report)
{
    da_put(writer, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    da_put(writer, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n");
    da_put(writer, "<meta name=\"referrer\" content=\"no-referrer\">\n");
    da_put(writer, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    da_put(writer, "<title>delegaudit remediation report, ");
    put_html(writer, report->snapshot->poll.dc_host);
    da_put(writer, ", ");
    put_html(writer, report->snapshot->poll.time);
    da_put(writer, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style_sheet);
}

static void write_header(struct da_writer *writer, const struct da_evidence_report *report)
{
    const struct da_poll_info *poll = &report->snapshot->poll;
    const struct da_event_totals *totals = &report->totals;

    da_put(writer, "<header>\n<h1>delegaudit remediation report</h1>\n<dl>\n");
    da_put(writer, "<dt>Domain controller</dt><dd>");
    put_code(writer, poll->dc_host);
    da_put(writer, "</dd>\n<dt>Base DN</dt><dd>");
    put_code(writer, poll->base_dn);
    da_put(writer, "</dd>\n<dt>Poll time (UTC)</dt><dd>");
    put_code(writer, poll->time);
    da_put(writer, "</dd>\n<dt>Snapshot</dt><dd>");
    if (report->snapshot_path != NULL)
        put_code(writer, report->snapshot_path);
    else
        da_put(writer, "not saved");
    da_put(writer,
           "</dd>\n<dt>Event exports</dt><dd>%lu file%s, %lu records read, %lu kept, "
           "%lu malformed</dd>\n",
           totals->files, totals->files == 1 ? "" : "s", totals->records, totals->kept,
           totals->malformed);
    da_put(writer, "<dt>Export files</dt><dd>");
    if (report->event_path_count == 0)
        da_put(writer, "None.");
    for (size_t i = 0; i < report->event_path_count; i++) {
        if (i > 0)
            da_put(writer, "<br>");
        put_code(writer, report->event_paths[i]);
    }
    da_put(writer, "</dd>\n</dl>\n</header>\n");
}

static void write_summary(struct da_writer *writer, const struct da_evidence_report *report)
{
    struct da_evidence_summary summary;

    da_evidence_report_summarize(report, &summary);

    da_put(writer, "<section class=\"summary\">\n<h2>Summary</h2>\n<table>\n");
    da_put(writer, "<tr><th>findings, critical</th><td class=\"number\">%lu</td></tr>\n",
           summary.critical);
    da_put(writer, "<tr><th>findings, high</th><td class=\"number\">%lu</td></tr>\n", summary.high);
    da_put(writer, "<tr><th>evidence found</th><td class=\"number\">%lu</td></tr>\n",
           summary.found);
    da_put(writer, "<tr><th>evidence partial</th><td class=\"number\">%lu</td></tr>\n",
           summary.partial);
    da_put(writer, "<tr><th>evidence missing</th><td class=\"number\">%lu</td></tr>\n",
           summary.missing);
    da_put(writer,
           "<tr><th>removed backdoors shown by the events (historical)</th>"
           "<td class=\"number\">%lu</td></tr>\n</table>\n",
           summary.historical);

    da_put(writer,
           "<p>Findings that no event in the exports explains (from %lu records in %lu "
           "file%s):</p>\n",
           report->totals.records, report->totals.files, report->totals.files == 1 ? "" : "s");
    if (summary.missing == 0) {
        da_put(writer, "<p>None.</p>\n</section>\n");
        return;
    }
    da_put(writer, "<ul>\n");
    for (size_t i = 0; i < report->entry_count; i++) {
        const struct da_account_evidence *entry = &report->entries[i];

        if (entry->finding == NULL || entry->status != DA_EVIDENCE_MISSING)
            continue;
        da_put(writer, "<li>");
        put_code(writer, entry->sam_account_name);
        da_put(writer, " ");
        put_code(writer, entry->dn);
        da_put(writer, "</li>\n");
    }
    da_put(writer, "</ul>\n</section>\n");
}

static void write_verification_password(struct da_writer *writer,
                                        const struct da_verify_result *result,
                                        const struct da_verify_dc *dc)
{
    const struct da_verify_krbtgt *krbtgt = &dc->krbtgt;

    da_put(writer, "<tr><td>");
    put_code(writer, dc->name);
    if (!dc->reachable || !krbtgt->read) {
        da_put(writer, "</td><td>not read</td><td>-</td><td>-</td><td>-</td></tr>\n");
        return;
    }
    if (krbtgt->password.known)
        da_put(writer, "</td><td class=\"number\">%" PRIu32 "</td><td>", krbtgt->password.version);
    else
        da_put(writer, "</td><td>no metadata</td><td>");
    if (krbtgt->password_last_set != NULL)
        put_code(writer, krbtgt->password_last_set);
    else
        da_put(writer, "never");
    da_put(writer, "</td><td>");
    if (krbtgt->password.known && krbtgt->password.originating_dc != NULL)
        put_code(writer, krbtgt->password.originating_dc);
    else if (krbtgt->password.known)
        put_code(writer, krbtgt->password.originating_invocation_id);
    else
        da_put(writer, "-");
    switch (da_verify_krbtgt_reset_order(result, dc)) {
    case DA_RESET_AFTER_FINDING:
        da_put(writer, "</td><td>after</td></tr>\n");
        break;
    case DA_RESET_BEFORE_FINDING:
        da_put(writer, "</td><td>before</td></tr>\n");
        break;
    case DA_RESET_NOT_COMPARED:
        da_put(writer, "</td><td>-</td></tr>\n");
        break;
    }
}

/* Writes the verify results: the verdict, a table of each account's state
 * on each DC, and the krbtgt password on each DC. */
static void write_verification(struct da_writer *writer, const struct da_evidence_report *report)
{
    const struct da_verify_result *result = report->verify;
    char *verdict = da_verify_verdict_line(result);

    da_put(writer, "<section class=\"verification\">\n<h2>Verification across domain "
                   "controllers</h2>\n");
    if (verdict == NULL)
        writer->failed = true;
    da_put(writer, "<p%s>", result->verdict != DA_VERDICT_CONVERGED ? " class=\"open\"" : "");
    put_html(writer, verdict);
    free(verdict);
    da_put(writer, "</p>\n<dl>\n<dt>Verified at (UTC)</dt><dd>");
    put_code(writer, result->time);
    da_put(writer, "</dd>\n<dt>Base DN</dt><dd>");
    put_code(writer, result->base_dn);
    da_put(writer, "</dd>\n<dt>Domain controllers</dt><dd>%zu, in %u round%s</dd>\n",
           result->dc_count, result->rounds, result->rounds == 1 ? "" : "s");
    if (report->verify_path != NULL) {
        da_put(writer, "<dt>Results</dt><dd>");
        put_code(writer, report->verify_path);
        da_put(writer, "</dd>\n");
    }
    da_put(writer, "</dl>\n");

    da_put(writer, "<table>\n<tr><th>account</th>");
    for (size_t j = 0; j < result->dc_count; j++) {
        da_put(writer, "<th>");
        put_html(writer, result->dcs[j].name);
        da_put(writer, "</th>");
    }
    da_put(writer, "</tr>\n");
    for (size_t i = 0; i < result->account_count; i++) {
        const struct da_verify_account *account = &result->accounts[i];

        da_put(writer, "<tr><td>");
        put_code(writer, account->sam_account_name);
        da_put(writer, "<br>");
        put_code(writer, account->dn);
        da_put(writer, "</td>");
        for (size_t j = 0; j < result->dc_count; j++) {
            da_put(writer, "<td>%s", da_verify_state_name(account->cells[j].state));
            if (account->cells[j].protocol_transition_left_on)
                da_put(writer, ", protocol transition still on");
            da_put(writer, "</td>");
        }
        da_put(writer, "</tr>\n");
    }
    da_put(writer, "</table>\n");

    da_put(writer, "<h3>krbtgt password</h3>\n<p>%s</p>\n",
           result->krbtgt_converged
               ? "Every domain controller that answered holds the same krbtgt password."
               : "The domain controllers hold different krbtgt passwords: a reset has not "
                 "replicated everywhere yet.");
    da_put(writer, "<table>\n<tr><th>DC</th><th>password version</th><th>last set (UTC)</th>"
                   "<th>set at</th><th>relative to the newest finding</th></tr>\n");
    for (size_t j = 0; j < result->dc_count; j++)
        write_verification_password(writer, result, &result->dcs[j]);
    da_put(writer, "</table>\n</section>\n");
}

static void write_account(struct da_writer *writer, const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;
    const struct da_account *account = finding != NULL ? finding->account : NULL;

    da_put(writer, "<dl>\n<dt>Severity</dt><dd>");
    if (finding != NULL) {
        da_put(writer, "<strong class=\"severity\">%s</strong>, rule ",
               da_severity_name(finding->severity));
        put_code(writer, finding->rule_id);
    } else {
        da_put(writer, "<strong class=\"severity\">historical</strong>: the events show a krbtgt "
                       "target added to this account and later removed; the backdoor existed");
    }
    da_put(writer, "</dd>\n<dt>sAMAccountName</dt><dd>");
    put_code(writer, entry->sam_account_name);
    da_put(writer, "</dd>\n<dt>Kind</dt><dd>%s</dd>\n<dt>DN</dt><dd>",
           account != NULL ? da_account_kind_name(account->kind) : "unknown (no snapshot entry)");
    put_code(writer, entry->dn);
    da_put(writer, "</dd>\n<dt>SID</dt><dd>");
    put_code(writer, entry->sid);
    da_put(writer, "</dd>\n<dt>GUID</dt><dd>");
    put_code(writer, entry->guid);
    da_put(writer, "</dd>\n");
    if (account != NULL) {
        da_put(writer, "<dt>Offending values</dt><dd>");
        put_strv(writer, &finding->values);
        da_put(writer, "</dd>\n<dt>Protocol transition</dt><dd>%s</dd>\n<dt>whenChanged</dt><dd>",
               da_account_protocol_transition(account) ? "on" : "off");
        put_code(writer, account->when_changed);
        da_put(writer, "</dd>\n");
    }
    if (entry->protocol_transition_turned_on)
        da_put(writer, "<dt>Events</dt><dd>show protocol transition turned on</dd>\n");
    da_put(writer, "</dl>\n");
}

static void write_status(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "<h3>Evidence: %s</h3>\n", da_evidence_status_name(entry->status));
    switch (entry->status) {
    case DA_EVIDENCE_FOUND:
        da_put(writer, "<p>The exports hold the change that added the krbtgt target.</p>\n");
        break;
    case DA_EVIDENCE_PARTIAL:
        da_put(writer, "<p class=\"open\">Events concern this account, but none shows the krbtgt "
                       "target added: the question stays open.</p>\n");
        break;
    case DA_EVIDENCE_MISSING:
    default:
        da_put(writer, "<p class=\"open\">No event in the exports explains this change: the "
                       "evidence is missing and the question stays open.</p>\n");
        break;
    }
}

static void write_timeline(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "<h3>Timeline</h3>\n");
    if (entry->step_count == 0) {
        da_put(writer, "<p>None.</p>\n");
        return;
    }
    da_put(writer, "<table>\n<tr><th>time (UTC)</th><th>DC</th><th>event</th><th>step</th>"
                   "<th>values</th><th>actor</th><th>logon id</th><th>source</th></tr>\n");
    for (size_t i = 0; i < entry->step_count; i++) {
        const struct da_evidence_step *step = &entry->steps[i];
        const struct da_event *event = step->event;

        da_put(writer, "<tr><td>");
        put_html(writer, event->time);
        da_put(writer, "</td><td>");
        put_html(writer, event->computer);
        da_put(writer, "</td><td>%lu</td><td>%s</td><td>", event->event_id,
               da_step_description(step->kind));
        put_strv(writer, &step->values);
        da_put(writer, "</td><td>");
        put_principal(writer, event->subject_domain_name, event->subject_user_name);
        da_put(writer, "<br>");
        put_code(writer, event->subject_sid);
        da_put(writer, "</td><td>");
        if (event->has_subject_logon_id)
            da_put(writer, "<code>0x%" PRIx64 "</code>", event->subject_logon_id);
        else
            da_put(writer, "-");
        da_put(writer, "</td><td><code>");
        put_html(writer, event->source_file);
        da_put(writer, ":%lu</code></td></tr>\n", event->source_position);
    }
    da_put(writer, "</table>\n");
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
}

static void write_sessions(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "<h3>Sessions of the actors</h3>\n");
    if (entry->session_count == 0) {
        da_put(writer, "<p>None.</p>\n");
        return;
    }
    da_put(writer, "<ul>\n");
    for (size_t i = 0; i < entry->session_count; i++) {
        const struct da_session_evidence *session = &entry->sessions[i];

        da_put(writer, "<li>Logon id <code>0x%" PRIx64 "</code> on ",
               session->change->subject_logon_id);
        put_code(writer, session->change->computer);
        da_put(writer, ": ");
        if (session->logon != NULL)
            write_logon(writer, session->logon);
        else
            da_put(writer, "no matching logon event (4624) in the exports");
        da_put(writer, "\n<ul>\n");
        if (session->explicit_credential_count == 0)
            da_put(writer, "<li>Explicit credentials (4648): none.</li>\n");
        for (size_t j = 0; j < session->explicit_credential_count; j++) {
            const struct da_event *use = session->explicit_credentials[j];

            da_put(writer, "<li>Explicit credentials (4648) at ");
            put_code(writer, use->time);
            da_put(writer, ": target user ");
            put_principal(writer, use->explicit_domain_name, use->explicit_user_name);
            da_put(writer, ", target server ");
            put_code(writer, use->target_server_name);
            da_put(writer, ", from ");
            put_code(writer, use->ip_address);
            da_put(writer, "</li>\n");
        }
        da_put(writer, "</ul>\n</li>\n");
    }
    da_put(writer, "</ul>\n");
}

static void write_scope(struct da_writer *writer, const struct da_account_evidence *entry)
{
    da_put(writer, "<h3>Other delegation changes by the same actors</h3>\n");
    if (entry->actor_scope_count == 0) {
        da_put(writer, "<p>None.</p>\n");
        return;
    }
    da_put(writer, "<table>\n<tr><th>time (UTC)</th><th>event</th><th>target account</th>"
                   "<th>values</th></tr>\n");
    for (size_t i = 0; i < entry->actor_scope_count; i++) {
        const struct da_event *event = entry->actor_scope[i];

        da_put(writer, "<tr><td>");
        put_html(writer, event->time);
        da_put(writer, "</td><td>%lu</td><td>", event->event_id);
        if (event->event_id == DA_EVENT_OBJECT_MODIFIED) {
            put_code(writer, event->object_dn);
            da_put(writer, "</td><td>");
            put_html(writer, event->attribute_name);
            da_put(writer, ": ");
            put_code(writer, event->attribute_value);
        } else {
            put_code(writer, event->target_user_name);
            da_put(writer, "<br>");
            put_code(writer, event->target_sid);
            da_put(writer, "</td><td>");
            put_strv(writer, &event->allowed_to_delegate_to);
        }
        da_put(writer, "</td></tr>\n");
    }
    da_put(writer, "</table>\n");
}

/* Writes a warning when an offending value contains characters that the
 * blocks show as \xNN or \uXXXX escapes. Pasted as displayed, such a
 * command names another value and removes nothing. */
static void write_inexact_note(struct da_writer *writer, const char *ldif, const char *powershell)
{
    if (ldif == NULL || powershell == NULL || da_report_shows_exactly(powershell))
        return;
    if (da_report_shows_exactly(ldif))
        da_put(writer, "<p class=\"open\">An offending value contains control or invisible "
                       "characters, which the PowerShell command shows as <code>\\xNN</code> or "
                       "<code>\\uXXXX</code> escapes: use the LDIF, whose base64 keeps the exact "
                       "bytes.</p>\n");
    else
        da_put(writer,
               "<p class=\"open\">An offending value contains control or invisible "
               "characters, which both blocks show as <code>\\xNN</code> or "
               "<code>\\uXXXX</code> escapes: neither removes the value as displayed. "
               "Write the LDIF with the value in base64 (<code>::</code>), taking the exact "
               "value from the snapshot file.</p>\n");
}

static void write_remediation(struct da_writer *writer, const struct da_evidence_report *report,
                              const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;

    da_put(writer, "<h3>Remediation</h3>\n");
    if (finding != NULL) {
        bool turn_off = da_remediation_turns_off_protocol_transition(finding->account, entry);
        char *ldif = da_remediation_ldif(finding->account, &finding->values, turn_off);
        char *powershell = da_remediation_powershell(finding->account, &finding->values, turn_off);

        da_put(writer, "<p>With <code>ldapmodify</code> (save as a file and pass it with "
                       "<code>-f</code>):</p>\n");
        put_block(writer, "ldif", ldif);
        da_put(writer, "<p>With PowerShell (ActiveDirectory module):</p>\n");
        put_block(writer, "powershell", powershell);
        if (da_account_protocol_transition(finding->account) && !turn_off)
            da_put(writer, "<p>Protocol transition stays on because the account keeps other "
                           "delegation targets: review whether it needs it.</p>\n");
        write_inexact_note(writer, ldif, powershell);
        free(ldif);
        free(powershell);
    } else {
        da_put(writer, "<p>The krbtgt target is gone already: nothing to remove, so no "
                       "LDIF.</p>\n");
    }

    if (finding != NULL)
        da_put(writer, "<p>Verify: poll again and check that the finding is gone");
    else
        da_put(writer, "<p>Verify: poll again and check that no krbtgt target came back");
    if (report->verify_command != NULL) {
        da_put(writer, ":</p>\n");
        put_block(writer, "command", report->verify_command);
    } else {
        da_put(writer, " (<code>delegaudit poll</code> with the options of the poll "
                       "above).</p>\n");
    }
    da_put(writer,
           "<p>Changes reach the other domain controllers by replication. Run "
           "<code>delegaudit verify</code> with the same connection options and "
           "<code>--state</code> to check that every domain controller has the clean value; "
           "add <code>--wait 15m</code> to wait for replication.</p>\n");
    if (da_evidence_advises_krbtgt_reset(entry))
        da_put(writer, "<p class=\"reset\">Reset the krbtgt password twice, letting replication "
                       "complete in between: the logs cannot show whether the backdoor was used to "
                       "obtain tickets, and tickets issued through it stay valid until the second "
                       "reset.</p>\n");
}

static void write_queries(struct da_writer *writer, const struct da_account_evidence *entry)
{
    char *query = da_remediation_kql_account(entry->sid, entry->guid);

    da_put(writer, "<h3>KQL queries</h3>\n");
    if (query != NULL) {
        da_put(writer, "<p>Changes of the account:</p>\n");
        put_block(writer, "kql", query);
        free(query);
    } else if (entry->sid == NULL && entry->guid == NULL) {
        da_put(writer, "<p>No SID or GUID is known for the account: no query.</p>\n");
    } else {
        writer->failed = true;
    }
    for (size_t i = 0; i < entry->session_count; i++) {
        const struct da_event *change = entry->sessions[i].change;

        query = da_remediation_kql_session(change);
        if (query == NULL)
            continue;
        da_put(writer, "<p>Every event of the actor session <code>0x%" PRIx64 "</code> on ",
               change->subject_logon_id);
        put_code(writer, change->computer);
        da_put(writer, ":</p>\n");
        put_block(writer, "kql", query);
        free(query);
    }
}

static void write_entry(struct da_writer *writer, const struct da_evidence_report *report,
                        const struct da_account_evidence *entry, size_t number)
{
    const struct da_finding *finding = entry->finding;
    const char *severity = "historical";

    if (finding != NULL)
        severity = da_severity_name(finding->severity);
    da_put(writer, "<section class=\"entry %s\">\n<h2>%zu. <span class=\"severity\">%s</span>, ",
           severity, number, severity);
    if (finding == NULL)
        da_put(writer, "removed backdoor, ");
    put_code(writer, entry->sam_account_name);
    da_put(writer, "</h2>\n");

    write_account(writer, entry);
    write_status(writer, entry);
    write_timeline(writer, entry);
    write_sessions(writer, entry);
    write_scope(writer, entry);
    write_remediation(writer, report, entry);
    write_queries(writer, entry);
    da_put(writer, "</section>\n");
}

int da_evidence_report_write_html(FILE *out, const struct da_evidence_report *report)
{
    struct da_writer writer = {out, false};

    write_head(&writer, report);
    write_header(&writer, report);
    da_put(&writer, "<main>\n");
    write_summary(&writer, report);
    if (report->verify != NULL)
        write_verification(&writer, report);
    if (report->entry_count == 0)
        da_put(&writer, "<h2>Findings</h2>\n<p>None: no krbtgt delegation finding and no removed "
                        "backdoor.</p>\n");
    for (size_t i = 0; i < report->entry_count; i++)
        write_entry(&writer, report, &report->entries[i], i + 1);
    da_put(&writer, "</main>\n</body>\n</html>\n");

    if (fflush(out) != 0 || ferror(out))
        writer.failed = true;
    return writer.failed ? -1 : 0;
}
