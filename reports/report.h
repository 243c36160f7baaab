/* Renderers for the result of `delegaudit poll` and `delegaudit diff`.
 * They read a finished model and write it out; they never query. */
#ifndef DELEGAUDIT_REPORT_H
#define DELEGAUDIT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "auditor/diff.h"
#include "auditor/findings.h"
#include "auditor/model.h"

#define DA_REPORT_FORMAT "delegaudit-report"
#define DA_REPORT_FORMAT_VERSION 1

struct da_report {
    const char *command;                 /* "poll" or "diff" */
    const struct da_snapshot *current;   /* the new poll, or NEW of a diff */
    const struct da_snapshot *previous;  /* NULL on the first poll */
    const char *current_path;            /* file of current; NULL if not saved */
    const char *previous_path;           /* file of previous; NULL if none */
    const struct da_findings *findings;  /* findings of current */
    const struct da_diff *diff;          /* NULL when there is no previous */
    const struct da_poll_stats *stats;   /* NULL for diff */
    /* Reason that diff is NULL although previous is set, such as snapshots of two
     * different search bases; NULL otherwise. */
    const char *comparison_skipped;
};

/* Writes the human-readable report. Directory values pass through
 * da_escape_text. A report whose command is "diff" gets a header naming
 * both files. Returns -1 on a write error, when memory runs out or when
 * report->current is NULL. */
int da_report_write_text(FILE *out, const struct da_report *report);

/* Writes one JSON document (schema "delegaudit-report", version 1):
 * { "format", "format_version", "command", "poll", "previous_poll",
 *   "snapshot_file", "previous_snapshot_file", "statistics",
 *   "findings": [ { "rule_id", "severity", "account": {...}, "values",
 *                   "protocol_transition" } ],
 *   "changes": [ ... ] or null when there is no baseline or no comparison,
 *   "comparison_skipped": why a previous snapshot was not compared, or null }.
 * "poll" and "previous_poll" (null on the first poll) hold the members of
 * the snapshot's "poll" object. "statistics" is { "entries", "pages",
 * "references_skipped", "seconds" }, null for diff. A finding's "account"
 * is "guid" followed by the members of da_account_to_json. Each change is
 * { "type", "guid", "dn" (the new DN, or the last one for "lost"),
 *   "previous_dn" (null unless "moved"), "sam_account_name", "kind",
 *   "moved", "sam_account_name_changed", "previous_sam_account_name"
 *   (null unless it changed), "sid_changed", "kind_changed",
 *   "protocol_transition_changed",
 *   "protocol_transition" (new value, null for "lost"),
 *   "unconstrained_changed", "user_account_control_changed",
 *   "user_account_control_before" (null for "gained"),
 *   "user_account_control_after" (null for "lost"),
 *   "targets_added", "targets_removed", "allowed_to_act_added",
 *   "allowed_to_act_removed", "allowed_to_act_changed",
 *   "presence" (null unless "lost") }.
 * Integers outside "account" are written as exact decimal numbers, also
 * above 2^53. Strings are UTF-8: a byte that is not
 * valid UTF-8 is written as U+FFFD, and C1 controls and invisible
 * characters as \uXXXX escapes (see da_escape_json_document).
 * Returns -1 on a write error, when memory runs out or when
 * report->current is NULL. */
int da_report_write_json(FILE *out, const struct da_report *report);

#endif
