/* The JSON report: one document of schema "delegaudit-report", version 1,
 * as report.h lists it. */
#include "reports/report.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "auditor/snapshot.h"
#include "auditor/escape.h"

/* Adds item to object under name. Deletes item when adding fails, so the
 * caller can pass a constructor call directly. Returns false when item is
 * NULL or adding fails, both meaning that memory ran out. */
static bool add_item(cJSON *object, const char *name, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToObject(object, name, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool append_item(cJSON *array, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static cJSON *create_string_or_null(const char *value)
{
    return value != NULL ? cJSON_CreateString(value) : cJSON_CreateNull();
}

/* cJSON 1.7.15 prints a number with 15 significant digits whenever that
 * text reads back within a relative DBL_EPSILON, so large integers come
 * out rounded: 9007199254740991 prints as 9.00719925474099e+15. A raw
 * item keeps the exact decimal text. */
static cJSON *create_uint64(uint64_t value)
{
    char text[24];

    snprintf(text, sizeof(text), "%" PRIu64, value);
    return cJSON_CreateRaw(text);
}

static cJSON *create_string_array(const struct da_strv *values)
{
    cJSON *array = cJSON_CreateArray();

    if (array == NULL)
        return NULL;
    for (size_t i = 0; i < values->count; i++) {
        if (!append_item(array, cJSON_CreateString(values->items[i]))) {
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

static cJSON *create_poll(const struct da_poll_info *poll)
{
    cJSON *object = cJSON_CreateObject();

    if (object == NULL)
        return NULL;
    if (!add_item(object, "time", create_string_or_null(poll->time)) ||
        !add_item(object, "dc_host", create_string_or_null(poll->dc_host)) ||
        !add_item(object, "uri", create_string_or_null(poll->uri)) ||
        !add_item(object, "invocation_id", create_string_or_null(poll->invocation_id)) ||
        !add_item(object, "highest_committed_usn", create_uint64(poll->highest_committed_usn)) ||
        !add_item(object, "base_dn", create_string_or_null(poll->base_dn)) ||
        !add_item(object, "domain_sid", create_string_or_null(poll->domain_sid)) ||
        !add_item(object, "complete", cJSON_CreateBool(poll->complete))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *create_statistics(const struct da_poll_stats *stats)
{
    cJSON *object;

    if (stats == NULL)
        return cJSON_CreateNull();

    object = cJSON_CreateObject();
    if (object == NULL)
        return NULL;
    if (!add_item(object, "entries", create_uint64(stats->entries)) ||
        !add_item(object, "pages", create_uint64(stats->pages)) ||
        !add_item(object, "references_skipped", create_uint64(stats->references_skipped)) ||
        !add_item(object, "seconds", cJSON_CreateNumber(stats->seconds))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

/* Builds { "guid", then the members of da_account_to_json }. */
static cJSON *create_account(const struct da_account *account)
{
    cJSON *object = NULL;
    cJSON *members = NULL;

    if (account == NULL)
        return cJSON_CreateNull();

    members = da_account_to_json(account);
    object = cJSON_CreateObject();
    if (members == NULL || object == NULL)
        goto fail;

    /* The snapshot keys accounts by GUID, so its account object has no
     * "guid" member. Add one unless a later version of it does. */
    if (cJSON_GetObjectItemCaseSensitive(members, "guid") == NULL &&
        !add_item(object, "guid", create_string_or_null(account->guid)))
        goto fail;

    while (members->child != NULL) {
        cJSON *member = cJSON_DetachItemViaPointer(members, members->child);

        /* cJSON_AddItemToArray keeps the member's own key. */
        if (!cJSON_AddItemToArray(object, member)) {
            cJSON_Delete(member);
            goto fail;
        }
    }

    cJSON_Delete(members);
    return object;

fail:
    cJSON_Delete(object);
    cJSON_Delete(members);
    return NULL;
}

/* true or false for an account, null without one. */
static cJSON *create_protocol_transition(const struct da_account *account)
{
    if (account == NULL)
        return cJSON_CreateNull();
    return cJSON_CreateBool(da_account_protocol_transition(account));
}

static cJSON *create_finding(const struct da_finding *finding)
{
    cJSON *object = cJSON_CreateObject();

    if (object == NULL)
        return NULL;
    if (!add_item(object, "rule_id", create_string_or_null(finding->rule_id)) ||
        !add_item(object, "severity", cJSON_CreateString(da_severity_name(finding->severity))) ||
        !add_item(object, "account", create_account(finding->account)) ||
        !add_item(object, "values", create_string_array(&finding->values)) ||
        !add_item(object, "protocol_transition", create_protocol_transition(finding->account))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *create_findings(const struct da_findings *findings)
{
    cJSON *array = cJSON_CreateArray();

    if (array == NULL || findings == NULL)
        return array;
    for (size_t i = 0; i < findings->count; i++) {
        if (!append_item(array, create_finding(&findings->items[i]))) {
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

static cJSON *create_user_account_control(const struct da_account *account)
{
    if (account == NULL)
        return cJSON_CreateNull();
    return create_uint64(account->user_account_control);
}

static cJSON *create_previous_dn(const struct da_account_change *change)
{
    if (!change->moved || change->before == NULL)
        return cJSON_CreateNull();
    return create_string_or_null(change->before->dn);
}

static cJSON *create_previous_sam_account_name(const struct da_account_change *change)
{
    if (!change->sam_account_name_changed || change->before == NULL)
        return cJSON_CreateNull();
    return create_string_or_null(change->before->sam_account_name);
}

static cJSON *create_presence(const struct da_account_change *change)
{
    if (change->type != DA_CHANGE_LOST)
        return cJSON_CreateNull();
    return cJSON_CreateString(da_presence_name(change->presence));
}

static cJSON *create_change(const struct da_account_change *change)
{
    const struct da_account *before = change->before;
    const struct da_account *after = change->after;
    const struct da_account *account = after != NULL ? after : before;
    cJSON *object;

    if (account == NULL)
        return NULL;
    object = cJSON_CreateObject();
    if (object == NULL)
        return NULL;

    if (!add_item(object, "type", cJSON_CreateString(da_change_type_name(change->type))) ||
        !add_item(object, "guid", create_string_or_null(account->guid)) ||
        !add_item(object, "dn", create_string_or_null(account->dn)) ||
        !add_item(object, "previous_dn", create_previous_dn(change)) ||
        !add_item(object, "sam_account_name", create_string_or_null(account->sam_account_name)) ||
        !add_item(object, "kind", cJSON_CreateString(da_account_kind_name(account->kind))) ||
        !add_item(object, "moved", cJSON_CreateBool(change->moved)) ||
        !add_item(object, "sam_account_name_changed",
                  cJSON_CreateBool(change->sam_account_name_changed)) ||
        !add_item(object, "previous_sam_account_name", create_previous_sam_account_name(change)) ||
        !add_item(object, "sid_changed", cJSON_CreateBool(change->sid_changed)) ||
        !add_item(object, "kind_changed", cJSON_CreateBool(change->kind_changed)) ||
        !add_item(object, "protocol_transition_changed",
                  cJSON_CreateBool(change->protocol_transition_changed)) ||
        !add_item(object, "protocol_transition", create_protocol_transition(after)) ||
        !add_item(object, "unconstrained_changed",
                  cJSON_CreateBool(change->unconstrained_changed)) ||
        !add_item(object, "user_account_control_changed",
                  cJSON_CreateBool(change->user_account_control_changed)) ||
        !add_item(object, "user_account_control_before", create_user_account_control(before)) ||
        !add_item(object, "user_account_control_after", create_user_account_control(after)) ||
        !add_item(object, "targets_added", create_string_array(&change->targets_added)) ||
        !add_item(object, "targets_removed", create_string_array(&change->targets_removed)) ||
        !add_item(object, "allowed_to_act_added",
                  create_string_array(&change->allowed_to_act_added)) ||
        !add_item(object, "allowed_to_act_removed",
                  create_string_array(&change->allowed_to_act_removed)) ||
        !add_item(object, "allowed_to_act_changed",
                  cJSON_CreateBool(change->allowed_to_act_changed)) ||
        !add_item(object, "presence", create_presence(change))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *create_changes(const struct da_diff *diff)
{
    cJSON *array;

    if (diff == NULL)
        return cJSON_CreateNull();

    array = cJSON_CreateArray();
    if (array == NULL)
        return NULL;
    for (size_t i = 0; i < diff->count; i++) {
        if (!append_item(array, create_change(&diff->changes[i]))) {
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

static cJSON *create_optional_poll(const struct da_snapshot *snapshot)
{
    if (snapshot == NULL)
        return cJSON_CreateNull();
    return create_poll(&snapshot->poll);
}

static cJSON *create_document(const struct da_report *report)
{
    cJSON *document = cJSON_CreateObject();

    if (document == NULL)
        return NULL;
    if (!add_item(document, "format", cJSON_CreateString(DA_REPORT_FORMAT)) ||
        !add_item(document, "format_version", cJSON_CreateNumber(DA_REPORT_FORMAT_VERSION)) ||
        !add_item(document, "command", create_string_or_null(report->command)) ||
        !add_item(document, "poll", create_poll(&report->current->poll)) ||
        !add_item(document, "previous_poll", create_optional_poll(report->previous)) ||
        !add_item(document, "snapshot_file", create_string_or_null(report->current_path)) ||
        !add_item(document, "previous_snapshot_file",
                  create_string_or_null(report->previous_path)) ||
        !add_item(document, "statistics", create_statistics(report->stats)) ||
        !add_item(document, "findings", create_findings(report->findings)) ||
        !add_item(document, "changes", create_changes(report->diff)) ||
        !add_item(document, "comparison_skipped",
                  create_string_or_null(report->comparison_skipped))) {
        cJSON_Delete(document);
        return NULL;
    }
    return document;
}

int da_report_write_json(FILE *out, const struct da_report *report)
{
    cJSON *document = NULL;
    char *printed = NULL;
    char *escaped = NULL;
    int result = -1;

    if (out == NULL || report == NULL || report->current == NULL)
        return -1;

    document = create_document(report);
    if (document == NULL)
        goto out;
    printed = cJSON_Print(document);
    if (printed == NULL)
        goto out;

    /* cJSON 1.7.15 escapes quotes, backslashes and control characters
     * below U+0020, but copies every other byte as it is, invalid UTF-8
     * included, so its output can be invalid JSON. The account objects
     * come from da_account_to_json, out of reach of this file. So instead
     * of repairing each string before it goes into cJSON, this repairs the
     * printed document once. Each invalid byte becomes \ufffd (U+FFFD),
     * and C1 controls and invisible characters become \uXXXX escapes,
     * which keeps them off a terminal that shows the file. */
    escaped = da_escape_json_document(printed);
    if (escaped == NULL)
        goto out;

    if (fputs(escaped, out) == EOF || fputc('\n', out) == EOF)
        goto out;
    if (fflush(out) != 0 || ferror(out))
        goto out;
    result = 0;

out:
    free(escaped);
    cJSON_free(printed);
    cJSON_Delete(document);
    return result;
}
