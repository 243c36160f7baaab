/* The JSON form of a verify result (format "delegaudit-verify", version 1),
 * which auditor/verify_load.c reads back. docs/verify-json.md documents
 * each member.
 *
 * { "format": "delegaudit-verify", "format_version": 1,
 *   "time", "base_dn", "selection", "verdict", "summary", "exit_status",
 *   "rounds", "waited_seconds", "krbtgt_converged",
 *   "domain_controllers": [ { "name", "host", "invocation_id", "read_only",
 *       "reachable", "problem", "seconds",
 *       "krbtgt": { "read", "password_last_set", "password": STAMP } } ],
 *   "accounts": [ { "guid", "dn", "sam_account_name", "sid", "finding_time",
 *       "remediation_turns_off_protocol_transition",
 *       "domain_controllers": [ { "dc", "state", "read", "found",
 *           "user_account_control", "protocol_transition",
 *           "protocol_transition_left_on", "behind", "allowed_to_delegate_to",
 *           "krbtgt_targets", "delegation_metadata": STAMP,
 *           "uac_metadata": STAMP } ] } ] }
 *
 * STAMP is null when the DC returned no metadata, else
 * { "version", "originating_time", "originating_invocation_id",
 *   "originating_dc", "originating_usn", "local_usn" }.
 * Each account has one cell in "domain_controllers" per DC, in the order of
 * the top-level "domain_controllers", and "dc" repeats the DC's name.
 * Unknown strings are null. Times are UTC strings as the DCs returned them. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "auditor/escape.h"
#include "reports/verify_report.h"

static cJSON *string_or_null(const char *value)
{
    return value != NULL ? cJSON_CreateString(value) : cJSON_CreateNull();
}

/* Adds item to object. A NULL item (out of memory) returns false; an item
 * that cannot be added is deleted. */
static bool add(cJSON *object, const char *name, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToObject(object, name, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static bool append(cJSON *array, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

/* A USN as a raw item with its decimal digits: cJSON 1.7.15 prints a
 * number with 15 significant digits when that is within DBL_EPSILON of the
 * value, which above about 4.5e15 can be a neighbouring integer. */
static cJSON *usn(uint64_t value)
{
    char digits[24];

    snprintf(digits, sizeof(digits), "%" PRIu64, value);
    return cJSON_CreateRaw(digits);
}

static cJSON *string_array(const struct da_strv *values)
{
    cJSON *array = cJSON_CreateArray();

    for (size_t i = 0; array != NULL && i < values->count; i++) {
        if (!append(array, cJSON_CreateString(values->items[i]))) {
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

static cJSON *stamp_to_json(const struct da_verify_stamp *stamp)
{
    cJSON *object;

    if (!stamp->known)
        return cJSON_CreateNull();
    object = cJSON_CreateObject();
    if (object == NULL || !add(object, "version", cJSON_CreateNumber(stamp->version)) ||
        !add(object, "originating_time", string_or_null(stamp->originating_time)) ||
        !add(object, "originating_invocation_id",
             string_or_null(stamp->originating_invocation_id)) ||
        !add(object, "originating_dc", string_or_null(stamp->originating_dc)) ||
        !add(object, "originating_usn", usn(stamp->originating_usn)) ||
        !add(object, "local_usn", usn(stamp->local_usn))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *krbtgt_to_json(const struct da_verify_krbtgt *krbtgt)
{
    cJSON *object = cJSON_CreateObject();

    if (object == NULL || !add(object, "read", cJSON_CreateBool(krbtgt->read)) ||
        !add(object, "password_last_set", string_or_null(krbtgt->password_last_set)) ||
        !add(object, "password", stamp_to_json(&krbtgt->password))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *dc_to_json(const struct da_verify_dc *dc)
{
    cJSON *object = cJSON_CreateObject();

    if (object == NULL || !add(object, "name", string_or_null(dc->name)) ||
        !add(object, "host", string_or_null(dc->host)) ||
        !add(object, "invocation_id", string_or_null(dc->invocation_id)) ||
        !add(object, "read_only", cJSON_CreateBool(dc->read_only)) ||
        !add(object, "reachable", cJSON_CreateBool(dc->reachable)) ||
        !add(object, "problem", string_or_null(dc->problem)) ||
        !add(object, "seconds", cJSON_CreateNumber(round(dc->seconds * 1000) / 1000)) ||
        !add(object, "krbtgt", krbtgt_to_json(&dc->krbtgt))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *cell_to_json(const struct da_verify_dc *dc, const struct da_verify_cell *cell)
{
    cJSON *object = cJSON_CreateObject();
    bool protocol_transition =
        (cell->user_account_control & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) != 0;

    if (object == NULL || !add(object, "dc", string_or_null(dc->name)) ||
        !add(object, "state", cJSON_CreateString(da_verify_state_name(cell->state))) ||
        !add(object, "read", cJSON_CreateBool(cell->read)) ||
        !add(object, "found", cJSON_CreateBool(cell->found)) ||
        !add(object, "user_account_control", cJSON_CreateNumber(cell->user_account_control)) ||
        !add(object, "protocol_transition", cJSON_CreateBool(protocol_transition)) ||
        !add(object, "protocol_transition_left_on",
             cJSON_CreateBool(cell->protocol_transition_left_on)) ||
        !add(object, "behind", cJSON_CreateBool(cell->behind)) ||
        !add(object, "allowed_to_delegate_to", string_array(&cell->allowed_to_delegate_to)) ||
        !add(object, "krbtgt_targets", string_array(&cell->krbtgt_targets)) ||
        !add(object, "delegation_metadata", stamp_to_json(&cell->delegation)) ||
        !add(object, "uac_metadata", stamp_to_json(&cell->uac))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *account_to_json(const struct da_verify_result *result,
                              const struct da_verify_account *account)
{
    cJSON *object = cJSON_CreateObject();
    cJSON *cells = NULL;

    if (object == NULL || !add(object, "guid", string_or_null(account->guid)) ||
        !add(object, "dn", string_or_null(account->dn)) ||
        !add(object, "sam_account_name", string_or_null(account->sam_account_name)) ||
        !add(object, "sid", string_or_null(account->sid)) ||
        !add(object, "finding_time", string_or_null(account->finding_time)) ||
        !add(object, "remediation_turns_off_protocol_transition",
             cJSON_CreateBool(account->remediation_turns_off_protocol_transition)))
        goto fail;

    cells = cJSON_AddArrayToObject(object, "domain_controllers");
    if (cells == NULL)
        goto fail;
    for (size_t j = 0; j < result->dc_count; j++) {
        if (!append(cells, cell_to_json(&result->dcs[j], &account->cells[j])))
            goto fail;
    }
    return object;

fail:
    cJSON_Delete(object);
    return NULL;
}

cJSON *da_verify_to_json(const struct da_verify_result *result)
{
    cJSON *document = cJSON_CreateObject();
    cJSON *dcs = NULL;
    cJSON *accounts = NULL;
    char *summary = da_verify_verdict_line(result);

    if (document == NULL || summary == NULL)
        goto fail;
    if (!add(document, "format", cJSON_CreateString(DA_VERIFY_FORMAT)) ||
        !add(document, "format_version", cJSON_CreateNumber(DA_VERIFY_FORMAT_VERSION)) ||
        !add(document, "time", string_or_null(result->time)) ||
        !add(document, "base_dn", string_or_null(result->base_dn)) ||
        !add(document, "selection", string_or_null(result->selection)) ||
        !add(document, "verdict", cJSON_CreateString(da_verify_verdict_name(result->verdict))) ||
        !add(document, "summary", cJSON_CreateString(summary)) ||
        !add(document, "exit_status", cJSON_CreateNumber(da_verify_exit_status(result))) ||
        !add(document, "rounds", cJSON_CreateNumber(result->rounds)) ||
        !add(document, "waited_seconds",
             cJSON_CreateNumber(round(result->waited_seconds * 1000) / 1000)) ||
        !add(document, "krbtgt_converged", cJSON_CreateBool(result->krbtgt_converged)))
        goto fail;

    dcs = cJSON_AddArrayToObject(document, "domain_controllers");
    if (dcs == NULL)
        goto fail;
    for (size_t j = 0; j < result->dc_count; j++) {
        if (!append(dcs, dc_to_json(&result->dcs[j])))
            goto fail;
    }

    accounts = cJSON_AddArrayToObject(document, "accounts");
    if (accounts == NULL)
        goto fail;
    for (size_t i = 0; i < result->account_count; i++) {
        if (!append(accounts, account_to_json(result, &result->accounts[i])))
            goto fail;
    }

    free(summary);
    return document;

fail:
    free(summary);
    cJSON_Delete(document);
    return NULL;
}

int da_verify_write_json(FILE *out, const struct da_verify_result *result)
{
    cJSON *document = da_verify_to_json(result);
    char *printed = document != NULL ? cJSON_Print(document) : NULL;
    /* cJSON copies strings byte for byte, so invalid UTF-8 from the
     * directory would make the document invalid JSON. */
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
