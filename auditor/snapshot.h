/* Snapshot documents: the JSON form of a da_snapshot, and atomic files.
 *
 * A snapshot document looks like this (format_version 1):
 *   { "format": "delegaudit-snapshot", "format_version": 1,
 *     "poll": { "time", "dc_host", "uri", "invocation_id",
 *               "highest_committed_usn", "base_dn", "domain_sid", "complete" },
 *     "krbtgt_accounts": [ { "dn", "sid", "sam_account_name",
 *                            "read_only_dc", "service_principal_names" } ],
 *     "accounts": { "<objectGUID>": { "dn", "sid", "sam_account_name", "kind",
 *                   "user_account_control", "allowed_to_delegate_to",
 *                   "service_principal_names", "allowed_to_act",
 *                   "has_allowed_to_act", "when_changed", "usn_changed" } } }
 * USNs are written as JSON numbers; a reader rejects values that are not
 * whole numbers in 0 .. 2^53 - 1, because from 2^53 on a double (what cJSON
 * reads numbers into) cannot tell neighbouring integers apart.
 * A NULL string is written as null. A reader accepts null or a missing
 * member for every string except poll.time, poll.uri, poll.base_dn, the
 * account "dn" and "kind" and the krbtgt "dn", which a poll always sets. */
#ifndef DELEGAUDIT_SNAPSHOT_H
#define DELEGAUDIT_SNAPSHOT_H

#include <cjson/cJSON.h>

#include "auditor/error.h"
#include "auditor/model.h"

#define DA_SNAPSHOT_FORMAT "delegaudit-snapshot"
#define DA_SNAPSHOT_FORMAT_VERSION 1

/* Builds the JSON form of one account, without its GUID key. Returns NULL
 * when memory runs out. The report renderers use it too.
 * usn_changed (like poll.highest_committed_usn in the document) is a raw
 * item (cJSON_IsRaw) holding decimal digits, because cJSON 1.7.15 can print
 * a large number as a neighbouring integer. */
cJSON *da_account_to_json(const struct da_account *account);

/* Builds the whole snapshot document. Returns NULL when memory runs out. */
cJSON *da_snapshot_to_json(const struct da_snapshot *snapshot);

/* Validates a snapshot document and builds a sorted snapshot from it.
 * On failure *out is untouched and err names the invalid member. */
int da_snapshot_from_json(const cJSON *json, struct da_snapshot **out, struct da_error *err);

/* Reads and validates a snapshot file. A missing, unreadable, truncated,
 * corrupt or newer-format file is DA_ERR_LOCAL with the path in the
 * message. */
int da_snapshot_read_file(const char *path, struct da_snapshot **out, struct da_error *err);

/* Writes a snapshot file atomically: a temporary file in the same
 * directory, fsync, rename over path, fsync of the directory. On failure
 * the previous content of path is unchanged and the temporary file is
 * removed, except when only the final fsync of the directory fails: path
 * then has the new content, and the message reports that. The document is
 * read back before anything is written, so a snapshot this function saves
 * is one that da_snapshot_read_file accepts. */
int da_snapshot_write_file(const char *path, const struct da_snapshot *snapshot,
                           struct da_error *err);

/* Writes data to path with the same atomic sequence. */
int da_file_write_atomic(const char *path, const char *data, size_t length,
                         struct da_error *err);

#endif
