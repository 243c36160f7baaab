/* Renderers for the result of `delegaudit poll` and `delegaudit diff`.
 * They read a finished model and write it out; they never query. */
#ifndef DELEGAUDIT_REPORT_H
#define DELEGAUDIT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "auditor/diff.h"
#include "auditor/findings.h"
#include "auditor/model.h"

/* Counters of one poll, for the summary. */
struct da_poll_stats {
    unsigned long entries;          /* accounts read */
    unsigned long pages;            /* paged-results responses */
    unsigned long references_skipped; /* continuation references not followed */
    double seconds;                 /* wall time of the searches */
};

struct da_report {
    const char *command;                 /* "poll" or "diff" */
    const struct da_snapshot *current;   /* the new poll, or NEW of a diff */
    const struct da_snapshot *previous;  /* NULL on the first poll */
    const char *current_path;            /* file of current; NULL if not saved */
    const char *previous_path;           /* file of previous; NULL if none */
    const struct da_findings *findings;  /* findings of current */
    const struct da_diff *diff;          /* NULL when there is no previous */
    const struct da_poll_stats *stats;   /* NULL for diff */
};

/* Writes the human-readable report. Directory values pass through
 * da_escape_text. Returns -1 on a write error. */
int da_report_write_text(FILE *out, const struct da_report *report);

/* Writes one JSON document (schema "delegaudit-report", version 1):
 * { "format", "format_version", "command", "poll", "previous_poll",
 *   "snapshot_file", "previous_snapshot_file", "statistics",
 *   "findings": [ { "rule_id", "severity", "account": {...}, "values" } ],
 *   "changes": [ ... ] or null when there is no baseline }.
 * Returns -1 on a write error or when memory runs out. */
int da_report_write_json(FILE *out, const struct da_report *report);

#endif
