#include "reports/evidence_report.h"

#include <stdlib.h>
#include <string.h>

#include "auditor/escape.h"

bool da_report_format_parse(const char *name, enum da_report_format *format)
{
    static const struct {
        const char *name;
        enum da_report_format format;
    } formats[] = {
        {"text", DA_REPORT_TEXT},
        {"json", DA_REPORT_JSON},
        {"markdown", DA_REPORT_MARKDOWN},
        {"html", DA_REPORT_HTML},
    };

    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *format = formats[i].format;
            return true;
        }
    }
    return false;
}

bool da_evidence_advises_krbtgt_reset(const struct da_account_evidence *entry)
{
    /* NOTE: the exports are not searched for ticket requests (4769 with
     * S4U), so no report can show that a backdoor went unused. Every
     * finding and every removed backdoor therefore gets the advice. */
    return entry != NULL;
}

int da_evidence_report_write(FILE *out, enum da_report_format format,
                             const struct da_evidence_report *report)
{
    switch (format) {
    case DA_REPORT_TEXT:
        return da_evidence_report_write_text(out, report);
    case DA_REPORT_JSON:
        return da_evidence_report_write_json(out, report);
    case DA_REPORT_MARKDOWN:
        return da_evidence_report_write_markdown(out, report);
    case DA_REPORT_HTML:
        return da_evidence_report_write_html(out, report);
    }
    return -1;
}

const char *da_step_description(enum da_step_kind kind)
{
    switch (kind) {
    case DA_STEP_KRBTGT_ADDED:
        return "krbtgt target added";
    case DA_STEP_KRBTGT_REMOVED:
        return "krbtgt target removed";
    case DA_STEP_PROTOCOL_TRANSITION_ON:
        return "protocol transition turned on";
    case DA_STEP_PROTOCOL_TRANSITION_OFF:
        return "protocol transition turned off";
    case DA_STEP_OTHER_DELEGATION_CHANGE:
    default:
        return "other delegation change";
    }
}

const char *da_logon_type_name(unsigned long type)
{
    switch (type) {
    case 2:
        return "interactive";
    case 3:
        return "network";
    case 4:
        return "batch";
    case 5:
        return "service";
    case 7:
        return "unlock";
    case 8:
        return "network cleartext";
    case 9:
        return "new credentials";
    case 10:
        return "remote interactive (RDP)";
    case 11:
        return "cached interactive";
    default:
        return "other";
    }
}

bool da_report_shows_exactly(const char *block)
{
    const char *line = block;
    bool exact = true;

    while (exact && line != NULL && *line != '\0') {
        const char *end = strchr(line, '\n');
        size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, length);
        char *escaped = copy != NULL ? da_escape_text(copy) : NULL;

        /* When memory runs out, the block counts as changed. */
        exact = escaped != NULL && strcmp(copy, escaped) == 0;
        free(escaped);
        free(copy);
        line += end != NULL ? length + 1 : length;
    }
    return exact;
}

void da_evidence_report_summarize(const struct da_evidence_report *report,
                                  struct da_evidence_summary *summary)
{
    memset(summary, 0, sizeof(*summary));
    for (size_t i = 0; i < report->entry_count; i++) {
        const struct da_account_evidence *entry = &report->entries[i];

        if (entry->finding == NULL) {
            summary->historical++;
            continue;
        }
        if (entry->finding->severity == DA_SEVERITY_CRITICAL)
            summary->critical++;
        else
            summary->high++;
        if (entry->status == DA_EVIDENCE_FOUND)
            summary->found++;
        else if (entry->status == DA_EVIDENCE_PARTIAL)
            summary->partial++;
        else
            summary->missing++;
    }
}
