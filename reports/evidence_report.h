/* Remediation reports: krbtgt delegation findings joined with the event
 * evidence, in text, JSON, Markdown or one self-contained HTML file. The
 * renderers read a finished model; they never query or read logs. */
#ifndef DELEGAUDIT_EVIDENCE_REPORT_H
#define DELEGAUDIT_EVIDENCE_REPORT_H

#include <stdio.h>

#include "auditor/evidence.h"
#include "auditor/findings.h"
#include "auditor/model.h"

struct da_verify_result;

#define DA_EVIDENCE_REPORT_FORMAT "delegaudit-remediation-report"
#define DA_EVIDENCE_REPORT_FORMAT_VERSION 1

enum da_report_format {
    DA_REPORT_TEXT,
    DA_REPORT_JSON,
    DA_REPORT_MARKDOWN,
    DA_REPORT_HTML,
};

/* Parses "text", "json", "markdown" or "html". */
bool da_report_format_parse(const char *name, enum da_report_format *format);

/* Counters of the event exports read for the report. */
struct da_event_totals {
    unsigned long files;
    unsigned long records;
    unsigned long kept;
    unsigned long malformed;
};

struct da_evidence_report {
    const struct da_snapshot *snapshot;   /* the newest poll */
    const char *snapshot_path;            /* NULL when not saved */
    const struct da_findings *findings;   /* of snapshot */
    const struct da_account_evidence *entries; /* from da_evidence_join */
    size_t entry_count;
    const char *const *event_paths;       /* as given with --events */
    size_t event_path_count;
    struct da_event_totals totals;
    const char *verify_command;           /* the poll command to verify with, or NULL */
    const struct da_verify_result *verify; /* NULL: no verify results given */
    const char *verify_path;              /* file verify was read from, or NULL */
};

/* Writes the report. Every directory and event value is escaped for the
 * format: control characters for text, JSON string rules, Markdown and HTML
 * special characters. Returns -1 on a write error or when memory runs out. */
int da_evidence_report_write(FILE *out, enum da_report_format format,
                             const struct da_evidence_report *report);

/* The writers behind da_evidence_report_write. */
int da_evidence_report_write_text(FILE *out, const struct da_evidence_report *report);
int da_evidence_report_write_json(FILE *out, const struct da_evidence_report *report);
int da_evidence_report_write_markdown(FILE *out, const struct da_evidence_report *report);
int da_evidence_report_write_html(FILE *out, const struct da_evidence_report *report);

/* Counts of a report's entries, for its summary. */
struct da_evidence_summary {
    unsigned long critical;
    unsigned long high;
    unsigned long found;   /* findings whose krbtgt addition the events show */
    unsigned long partial;
    unsigned long missing;
    unsigned long historical; /* removed backdoors */
};

void da_evidence_report_summarize(const struct da_evidence_report *report,
                                  struct da_evidence_summary *summary);

/* Plain English for a step, as "krbtgt target added". */
const char *da_step_description(enum da_step_kind kind);

/* The name of a 4624 LogonType, as "remote interactive (RDP)"; "other" for
 * a number without one. */
const char *da_logon_type_name(unsigned long type);

/* True when da_escape_text leaves every line of block unchanged, so that a
 * generated command can be pasted as a report displays it. */
bool da_report_shows_exactly(const char *block);

/* True when the report advises resetting the krbtgt password twice for
 * this entry: the evidence shows the backdoor existed, or the question of
 * how it came to be stays open. */
bool da_evidence_advises_krbtgt_reset(const struct da_account_evidence *entry);

#endif
