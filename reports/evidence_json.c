/* The remediation report as one JSON document (schema
 * "delegaudit-remediation-report", version 1). Logon ids are hex strings
 * ("0x3e7"), times UTC ISO 8601 strings. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auditor/escape.h"
#include "reports/evidence_report.h"
#include "reports/remediation.h"
#include "reports/verify_report.h"

static cJSON *string_or_null(const char *value)
{
    return value != NULL ? cJSON_CreateString(value) : cJSON_CreateNull();
}

/* Adds item to object; a NULL item (out of memory) marks the build failed. */
static bool add(cJSON *object, const char *name, cJSON *item)
{
    if (item == NULL)
        return false;
    cJSON_AddItemToObject(object, name, item);
    return true;
}

static cJSON *string_array(const struct da_strv *values)
{
    cJSON *array = cJSON_CreateArray();

    for (size_t i = 0; array != NULL && i < values->count; i++) {
        cJSON *item = cJSON_CreateString(values->items[i]);

        if (item == NULL) {
            cJSON_Delete(array);
            return NULL;
        }
        cJSON_AddItemToArray(array, item);
    }
    return array;
}

static cJSON *logon_id(bool present, uint64_t value)
{
    char text[32];

    if (!present)
        return cJSON_CreateNull();
    snprintf(text, sizeof(text), "0x%" PRIx64, value);
    return cJSON_CreateString(text);
}

static cJSON *create_step(const struct da_evidence_step *step)
{
    const struct da_event *event = step->event;
    cJSON *object = cJSON_CreateObject();
    cJSON *actor = cJSON_CreateObject();
    cJSON *source = cJSON_CreateObject();
    bool ok = object != NULL && actor != NULL && source != NULL;

    ok = ok && add(actor, "domain", string_or_null(event->subject_domain_name)) &&
         add(actor, "name", string_or_null(event->subject_user_name)) &&
         add(actor, "sid", string_or_null(event->subject_sid)) &&
         add(actor, "logon_id", logon_id(event->has_subject_logon_id, event->subject_logon_id));
    ok = ok && add(source, "file", string_or_null(event->source_file)) &&
         add(source, "position", cJSON_CreateNumber((double)event->source_position));
    ok = ok && add(object, "time", string_or_null(event->time)) &&
         add(object, "computer", string_or_null(event->computer)) &&
         add(object, "event_id", cJSON_CreateNumber((double)event->event_id)) &&
         add(object, "step", cJSON_CreateString(da_step_kind_name(step->kind))) &&
         add(object, "values", string_array(&step->values)) && add(object, "actor", actor);
    if (ok)
        actor = NULL;
    ok = ok && add(object, "source", source);
    if (ok)
        return object;
    cJSON_Delete(actor);
    cJSON_Delete(source);
    cJSON_Delete(object);
    return NULL;
}

static cJSON *create_logon(const struct da_event *logon)
{
    cJSON *object;

    if (logon == NULL)
        return cJSON_CreateNull();
    object = cJSON_CreateObject();
    if (object == NULL || !add(object, "time", string_or_null(logon->time)) ||
        !add(object, "logon_type", cJSON_CreateNumber((double)logon->logon_type)) ||
        !add(object, "ip_address", string_or_null(logon->ip_address)) ||
        !add(object, "ip_port", string_or_null(logon->ip_port)) ||
        !add(object, "workstation_name", string_or_null(logon->workstation_name)) ||
        !add(object, "authentication_package", string_or_null(logon->authentication_package)) ||
        !add(object, "logon_process", string_or_null(logon->logon_process)) ||
        !add(object, "account_name", string_or_null(logon->subject_user_name)) ||
        !add(object, "account_sid", string_or_null(logon->subject_sid))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *create_session(const struct da_session_evidence *session)
{
    cJSON *object = cJSON_CreateObject();
    cJSON *uses = cJSON_CreateArray();
    char *query = da_remediation_kql_session(session->change);

    if (object == NULL || uses == NULL)
        goto fail;
    for (size_t i = 0; i < session->explicit_credential_count; i++) {
        const struct da_event *use = session->explicit_credentials[i];
        cJSON *item = cJSON_CreateObject();

        if (item == NULL)
            goto fail;
        cJSON_AddItemToArray(uses, item);
        if (!add(item, "time", string_or_null(use->time)) ||
            !add(item, "user_name", string_or_null(use->explicit_user_name)) ||
            !add(item, "domain_name", string_or_null(use->explicit_domain_name)) ||
            !add(item, "target_server_name", string_or_null(use->target_server_name)) ||
            !add(item, "ip_address", string_or_null(use->ip_address)))
            goto fail;
    }
    if (!add(object, "computer", string_or_null(session->change->computer)) ||
        !add(object, "logon_id", logon_id(session->change->has_subject_logon_id,
                                          session->change->subject_logon_id)) ||
        !add(object, "logon", create_logon(session->logon)))
        goto fail;
    cJSON_AddItemToObject(object, "explicit_credentials", uses);
    uses = NULL;
    if (!add(object, "kql", string_or_null(query)))
        goto fail;
    free(query);
    return object;

fail:
    free(query);
    cJSON_Delete(uses);
    cJSON_Delete(object);
    return NULL;
}

static cJSON *create_scope_event(const struct da_event *event)
{
    cJSON *object = cJSON_CreateObject();

    if (object == NULL || !add(object, "time", string_or_null(event->time)) ||
        !add(object, "computer", string_or_null(event->computer)) ||
        !add(object, "event_id", cJSON_CreateNumber((double)event->event_id)) ||
        !add(object, "target_sid", string_or_null(event->target_sid)) ||
        !add(object, "target_user_name", string_or_null(event->target_user_name)) ||
        !add(object, "object_dn", string_or_null(event->object_dn)) ||
        !add(object, "attribute", string_or_null(event->attribute_name)) ||
        !add(object, "attribute_value", string_or_null(event->attribute_value)) ||
        !add(object, "allowed_to_delegate_to", string_array(&event->allowed_to_delegate_to))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *create_remediation(const struct da_evidence_report *report,
                                 const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;
    cJSON *object = cJSON_CreateObject();
    char *ldif = NULL;
    char *powershell = NULL;
    bool turn_off = false;
    bool ok;

    if (finding != NULL) {
        turn_off = da_remediation_turns_off_protocol_transition(finding->account, entry);
        ldif = da_remediation_ldif(finding->account, &finding->values, turn_off);
        powershell = da_remediation_powershell(finding->account, &finding->values, turn_off);
    }
    ok = object != NULL && add(object, "ldif", string_or_null(ldif)) &&
         add(object, "powershell", string_or_null(powershell)) &&
         add(object, "turns_off_protocol_transition", cJSON_CreateBool(turn_off)) &&
         add(object, "reset_krbtgt_twice",
             cJSON_CreateBool(da_evidence_advises_krbtgt_reset(entry))) &&
         add(object, "verify_command", string_or_null(report->verify_command));
    free(ldif);
    free(powershell);
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *create_entry(const struct da_evidence_report *report,
                           const struct da_account_evidence *entry)
{
    const struct da_finding *finding = entry->finding;
    cJSON *object = cJSON_CreateObject();
    cJSON *account = cJSON_CreateObject();
    cJSON *list;
    char *query = da_remediation_kql_account(entry->sid, entry->guid);
    bool ok = object != NULL && account != NULL;

    ok = ok && add(account, "guid", string_or_null(entry->guid)) &&
         add(account, "sid", string_or_null(entry->sid)) &&
         add(account, "dn", string_or_null(entry->dn)) &&
         add(account, "sam_account_name", string_or_null(entry->sam_account_name));
    ok = ok && add(object, "kind", cJSON_CreateString(finding != NULL ? "finding" : "historical")) &&
         add(object, "rule_id", string_or_null(finding != NULL ? finding->rule_id : NULL)) &&
         add(object, "severity",
             string_or_null(finding != NULL ? da_severity_name(finding->severity) : NULL)) &&
         add(object, "account", account);
    if (ok)
        account = NULL;
    ok = ok && add(object, "values", finding != NULL ? string_array(&finding->values)
                                                     : cJSON_CreateArray()) &&
         add(object, "protocol_transition",
             finding != NULL ? cJSON_CreateBool(da_account_protocol_transition(finding->account))
                             : cJSON_CreateNull()) &&
         add(object, "evidence_status",
             cJSON_CreateString(da_evidence_status_name(entry->status)));

    list = ok ? cJSON_AddArrayToObject(object, "timeline") : NULL;
    for (size_t i = 0; list != NULL && i < entry->step_count && ok; i++) {
        cJSON *item = create_step(&entry->steps[i]);

        ok = item != NULL;
        if (ok)
            cJSON_AddItemToArray(list, item);
    }
    list = ok ? cJSON_AddArrayToObject(object, "sessions") : NULL;
    for (size_t i = 0; list != NULL && i < entry->session_count && ok; i++) {
        cJSON *item = create_session(&entry->sessions[i]);

        ok = item != NULL;
        if (ok)
            cJSON_AddItemToArray(list, item);
    }
    list = ok ? cJSON_AddArrayToObject(object, "actor_scope") : NULL;
    for (size_t i = 0; list != NULL && i < entry->actor_scope_count && ok; i++) {
        cJSON *item = create_scope_event(entry->actor_scope[i]);

        ok = item != NULL;
        if (ok)
            cJSON_AddItemToArray(list, item);
    }
    ok = ok && list != NULL && add(object, "remediation", create_remediation(report, entry)) &&
         add(object, "kql_account", string_or_null(query));

    free(query);
    if (ok)
        return object;
    cJSON_Delete(account);
    cJSON_Delete(object);
    return NULL;
}

/* The verify document, as da_verify_write_json writes it, with the file
 * it was read from. */
static cJSON *create_verification(const struct da_evidence_report *report)
{
    cJSON *object = da_verify_to_json(report->verify);

    if (object != NULL && !add(object, "path", string_or_null(report->verify_path))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *create_document(const struct da_evidence_report *report)
{
    const struct da_poll_info *poll = &report->snapshot->poll;
    cJSON *document = cJSON_CreateObject();
    cJSON *poll_object = cJSON_CreateObject();
    cJSON *exports = cJSON_CreateObject();
    cJSON *paths = cJSON_CreateArray();
    cJSON *entries;
    bool ok = document != NULL && poll_object != NULL && exports != NULL && paths != NULL;

    for (size_t i = 0; ok && i < report->event_path_count; i++) {
        cJSON *item = cJSON_CreateString(report->event_paths[i]);

        ok = item != NULL;
        if (ok)
            cJSON_AddItemToArray(paths, item);
    }
    ok = ok && add(poll_object, "time", string_or_null(poll->time)) &&
         add(poll_object, "dc_host", string_or_null(poll->dc_host)) &&
         add(poll_object, "uri", string_or_null(poll->uri)) &&
         add(poll_object, "base_dn", string_or_null(poll->base_dn)) &&
         add(poll_object, "domain_sid", string_or_null(poll->domain_sid));
    ok = ok && add(exports, "paths", paths);
    if (ok)
        paths = NULL;
    ok = ok && add(exports, "files", cJSON_CreateNumber((double)report->totals.files)) &&
         add(exports, "records", cJSON_CreateNumber((double)report->totals.records)) &&
         add(exports, "kept", cJSON_CreateNumber((double)report->totals.kept)) &&
         add(exports, "malformed", cJSON_CreateNumber((double)report->totals.malformed));
    ok = ok && add(document, "format", cJSON_CreateString(DA_EVIDENCE_REPORT_FORMAT)) &&
         add(document, "format_version", cJSON_CreateNumber(DA_EVIDENCE_REPORT_FORMAT_VERSION)) &&
         add(document, "poll", poll_object);
    if (ok)
        poll_object = NULL;
    ok = ok && add(document, "snapshot_file", string_or_null(report->snapshot_path)) &&
         add(document, "event_exports", exports);
    if (ok)
        exports = NULL;

    entries = ok ? cJSON_AddArrayToObject(document, "entries") : NULL;
    for (size_t i = 0; entries != NULL && i < report->entry_count && ok; i++) {
        cJSON *item = create_entry(report, &report->entries[i]);

        ok = item != NULL;
        if (ok)
            cJSON_AddItemToArray(entries, item);
    }
    if (ok && entries != NULL && report->verify != NULL)
        ok = add(document, "verification", create_verification(report));
    if (ok && entries != NULL)
        return document;

    cJSON_Delete(paths);
    cJSON_Delete(exports);
    cJSON_Delete(poll_object);
    cJSON_Delete(document);
    return NULL;
}

int da_evidence_report_write_json(FILE *out, const struct da_evidence_report *report)
{
    cJSON *document = create_document(report);
    char *printed = document != NULL ? cJSON_Print(document) : NULL;
    char *repaired = printed != NULL ? da_escape_json_document(printed) : NULL;
    int rc = -1;

    if (repaired != NULL && fputs(repaired, out) >= 0 && fputc('\n', out) != EOF &&
        fflush(out) == 0 && !ferror(out))
        rc = 0;
    free(repaired);
    free(printed);
    cJSON_Delete(document);
    return rc;
}
