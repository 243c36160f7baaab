#include "auditor/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auditor/json_member.h"

/* The maximum USN in a snapshot, 2^53 - 1. cJSON reads numbers into a
 * double, which cannot represent every integer from 2^53 on, so a larger
 * value in a file could round into range unnoticed. */
#define MAX_EXACT_INTEGER 9007199254740991.0
#define MAX_EXACT_INTEGER_TEXT "9007199254740991"
#define MAX_UINT32_TEXT "4294967295"

/* The maximum snapshot file size. A snapshot of even a very large domain
 * is far smaller, so a bigger file is not a snapshot. */
#define SNAPSHOT_FILE_MAX ((size_t)1 << 30)

/* Room for a member path such as accounts["<guid>"].service_principal_names. */
#define MEMBER_PATH_MAX 160

/* Maximum length of file content quoted in an error message. */
#define QUOTE_MAX 64

#define ADVICE_INVALID "restore it from a backup, or move it aside to start a new baseline"

/* ---- Writing -------------------------------------------------------------------------- */

static int add_string_or_null(cJSON *object, const char *name, const char *value)
{
    cJSON *item = value != NULL ? cJSON_CreateString(value) : cJSON_CreateNull();

    if (item == NULL)
        return -1;
    if (!cJSON_AddItemToObject(object, name, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

static int add_string_array(cJSON *object, const char *name, const struct da_strv *strv)
{
    cJSON *array = cJSON_AddArrayToObject(object, name);

    if (array == NULL)
        return -1;
    for (size_t i = 0; i < strv->count; i++) {
        cJSON *item = cJSON_CreateString(strv->items[i]);

        if (item == NULL)
            return -1;
        if (!cJSON_AddItemToArray(array, item)) {
            cJSON_Delete(item);
            return -1;
        }
    }
    return 0;
}

static int add_number(cJSON *object, const char *name, double value)
{
    return cJSON_AddNumberToObject(object, name, value) == NULL ? -1 : 0;
}

/* Adds a USN as a raw item that contains its decimal digits. cJSON 1.7.15
 * prints a number with 15 significant digits whenever the result is within
 * a relative DBL_EPSILON of the value. Above about 4.5e15 it can therefore
 * print a neighbouring integer, so the digits are written directly. */
static int add_usn(cJSON *object, const char *name, uint64_t value)
{
    char digits[24];
    cJSON *item = NULL;

    snprintf(digits, sizeof(digits), "%" PRIu64, value);
    item = cJSON_CreateRaw(digits);
    if (item == NULL)
        return -1;
    if (!cJSON_AddItemToObject(object, name, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

static int add_bool(cJSON *object, const char *name, bool value)
{
    return cJSON_AddBoolToObject(object, name, value) == NULL ? -1 : 0;
}

cJSON *da_account_to_json(const struct da_account *account)
{
    cJSON *json = cJSON_CreateObject();

    if (json == NULL)
        return NULL;

    if (add_string_or_null(json, "dn", account->dn) != 0 ||
        add_string_or_null(json, "sid", account->sid) != 0 ||
        add_string_or_null(json, "sam_account_name", account->sam_account_name) != 0 ||
        cJSON_AddStringToObject(json, "kind", da_account_kind_name(account->kind)) == NULL ||
        add_number(json, "user_account_control", account->user_account_control) != 0 ||
        add_string_array(json, "allowed_to_delegate_to", &account->allowed_to_delegate_to) != 0 ||
        add_string_array(json, "service_principal_names", &account->service_principal_names) != 0 ||
        add_string_array(json, "allowed_to_act", &account->allowed_to_act) != 0 ||
        add_bool(json, "has_allowed_to_act", account->has_allowed_to_act) != 0 ||
        add_string_or_null(json, "when_changed", account->when_changed) != 0 ||
        add_usn(json, "usn_changed", account->usn_changed) != 0) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

static cJSON *poll_to_json(const struct da_poll_info *poll)
{
    cJSON *json = cJSON_CreateObject();

    if (json == NULL)
        return NULL;

    if (add_string_or_null(json, "time", poll->time) != 0 ||
        add_string_or_null(json, "dc_host", poll->dc_host) != 0 ||
        add_string_or_null(json, "uri", poll->uri) != 0 ||
        add_string_or_null(json, "invocation_id", poll->invocation_id) != 0 ||
        add_usn(json, "highest_committed_usn", poll->highest_committed_usn) != 0 ||
        add_string_or_null(json, "base_dn", poll->base_dn) != 0 ||
        add_string_or_null(json, "domain_sid", poll->domain_sid) != 0 ||
        add_bool(json, "complete", poll->complete) != 0) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

static cJSON *krbtgt_to_json(const struct da_krbtgt *krbtgt)
{
    cJSON *json = cJSON_CreateObject();

    if (json == NULL)
        return NULL;

    if (add_string_or_null(json, "dn", krbtgt->dn) != 0 ||
        add_string_or_null(json, "sid", krbtgt->sid) != 0 ||
        add_string_or_null(json, "sam_account_name", krbtgt->sam_account_name) != 0 ||
        add_bool(json, "read_only_dc", krbtgt->read_only_dc) != 0 ||
        add_string_array(json, "service_principal_names", &krbtgt->service_principal_names) != 0) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* Adds item to container under name (an object member) or at the end (an
 * array when name is NULL). Deletes item when that fails. */
static int attach(cJSON *container, const char *name, cJSON *item)
{
    cJSON_bool added;

    if (item == NULL)
        return -1;
    added = name != NULL ? cJSON_AddItemToObject(container, name, item)
                         : cJSON_AddItemToArray(container, item);
    if (!added) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

cJSON *da_snapshot_to_json(const struct da_snapshot *snapshot)
{
    cJSON *json = NULL;
    cJSON *krbtgts = NULL;
    cJSON *accounts = NULL;

    json = cJSON_CreateObject();
    if (json == NULL)
        goto fail;

    if (cJSON_AddStringToObject(json, "format", DA_SNAPSHOT_FORMAT) == NULL ||
        add_number(json, "format_version", DA_SNAPSHOT_FORMAT_VERSION) != 0 ||
        attach(json, "poll", poll_to_json(&snapshot->poll)) != 0)
        goto fail;

    krbtgts = cJSON_AddArrayToObject(json, "krbtgt_accounts");
    if (krbtgts == NULL)
        goto fail;
    for (size_t i = 0; i < snapshot->krbtgt_count; i++) {
        if (attach(krbtgts, NULL, krbtgt_to_json(&snapshot->krbtgts[i])) != 0)
            goto fail;
    }

    accounts = cJSON_AddObjectToObject(json, "accounts");
    if (accounts == NULL)
        goto fail;
    for (size_t i = 0; i < snapshot->account_count; i++) {
        const struct da_account *account = &snapshot->accounts[i];

        /* An account without a GUID gets an empty key, which the reader
         * rejects. da_snapshot_write_file reads its output back, so it
         * reports such an account instead of writing an unreadable file. */
        if (attach(accounts, account->guid != NULL ? account->guid : "",
                   da_account_to_json(account)) != 0)
            goto fail;
    }

    return json;

fail:
    cJSON_Delete(json);
    return NULL;
}

/* ---- Reading: member paths and messages ------------------------------------------------ */

static bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* True for the lower-case 8-4-4-4-12 form that model.h uses for objectGUID. */
static bool is_guid(const char *text)
{
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return false;
        } else if (!is_lower_hex(text[i])) {
            return false;
        }
    }
    return text[36] == '\0';
}

static int out_of_memory(struct da_error *err)
{
    return da_error_set(err, DA_ERR_LOCAL, "out of memory while reading the snapshot");
}

/* Finds the member called name; *item is NULL when it is missing. A
 * repeated member is an error. */
static int find_member(const cJSON *object, const char *prefix, const char *name,
                       const cJSON **item, struct da_error *err)
{
    if (da_json_member(object, name, item) != 0)
        return da_error_set(err, DA_ERR_LOCAL, "%s%s: the member appears more than once",
                            prefix, name);
    return 0;
}

/* Reads a string member. A nullable member may be null or missing, and
 * both read as NULL. Callers mark as nullable every string that a poll
 * leaves NULL when the directory omits the attribute. Only the poll time,
 * URI and base DN and the account and krbtgt DNs are always set. */
static int read_string(const cJSON *object, const char *prefix, const char *name, bool nullable,
                       char **out, struct da_error *err)
{
    const cJSON *item = NULL;
    char *copy = NULL;
    int status;

    status = find_member(object, prefix, name, &item, err);
    if (status != 0)
        return status;

    if (nullable && (item == NULL || cJSON_IsNull(item))) {
        *out = NULL;
        return 0;
    }
    if (item == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "%s%s: missing member", prefix, name);
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "%s%s: expected a string%s", prefix, name,
                            nullable ? " or null" : "");

    copy = strdup(item->valuestring);
    if (copy == NULL)
        return out_of_memory(err);
    *out = copy;
    return 0;
}

static int read_bool(const cJSON *object, const char *prefix, const char *name, bool *out,
                     struct da_error *err)
{
    const cJSON *item = NULL;
    int status;

    status = find_member(object, prefix, name, &item, err);
    if (status != 0)
        return status;

    if (item == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "%s%s: missing member", prefix, name);
    if (!cJSON_IsBool(item))
        return da_error_set(err, DA_ERR_LOCAL, "%s%s: expected true or false", prefix, name);
    *out = cJSON_IsTrue(item);
    return 0;
}

/* Parses plain decimal digits, without sign or leading zeros, up to max. */
static int parse_digits(const char *text, double max, uint64_t *out)
{
    uint64_t value = 0;

    if (text == NULL || text[0] == '\0' || (text[0] == '0' && text[1] != '\0'))
        return -1;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        /* max is at most 2^53 - 1, so value * 10 + 9 cannot overflow. */
        value = value * 10 + (uint64_t)(*p - '0');
        if ((double)value > max)
            return -1;
    }
    *out = value;
    return 0;
}

/* Reads a whole number in 0 .. max. max must not exceed MAX_EXACT_INTEGER,
 * so that every accepted double converts to the integer the file wrote. */
static int read_whole_number(const cJSON *object, const char *prefix, const char *name, double max,
                             const char *max_text, uint64_t *out, struct da_error *err)
{
    const cJSON *item = NULL;
    double value;
    int status;

    status = find_member(object, prefix, name, &item, err);
    if (status != 0)
        return status;

    if (item == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "%s%s: missing member", prefix, name);
    if (cJSON_IsRaw(item)) {
        /* The parser never makes raw items, but a tree built by
         * da_snapshot_to_json contains USNs this way (see add_usn). */
        if (parse_digits(item->valuestring, max, out) != 0)
            goto invalid;
        return 0;
    }
    if (!cJSON_IsNumber(item))
        goto invalid;
    value = item->valuedouble;
    /* The range check comes first: converting an out-of-range double to an
     * integer is undefined behaviour. */
    if (!(value >= 0.0 && value <= max))
        goto invalid;
    if ((double)(uint64_t)value != value)
        goto invalid;

    *out = (uint64_t)value;
    return 0;

invalid:
    return da_error_set(err, DA_ERR_LOCAL, "%s%s: expected a whole number 0..%s", prefix, name,
                        max_text);
}

static int read_string_array(const cJSON *object, const char *prefix, const char *name,
                             struct da_strv *out, struct da_error *err)
{
    const cJSON *array = NULL;
    const cJSON *element = NULL;
    struct da_strv values = {0};
    size_t index = 0;
    int status;

    status = find_member(object, prefix, name, &array, err);
    if (status != 0)
        goto done;

    if (array == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "%s%s: missing member", prefix, name);
        goto done;
    }
    if (!cJSON_IsArray(array)) {
        status =
            da_error_set(err, DA_ERR_LOCAL, "%s%s: expected an array of strings", prefix, name);
        goto done;
    }

    cJSON_ArrayForEach(element, array)
    {
        if (!cJSON_IsString(element) || element->valuestring == NULL) {
            status = da_error_set(err, DA_ERR_LOCAL, "%s%s[%zu]: expected a string", prefix, name,
                                  index);
            goto done;
        }
        if (da_strv_append(&values, element->valuestring) != 0) {
            status = out_of_memory(err);
            goto done;
        }
        index++;
    }

    *out = values;
    memset(&values, 0, sizeof(values));

done:
    da_strv_clear(&values);
    return status;
}

/* ---- Reading: document parts ----------------------------------------------------------- */

static int read_poll(const cJSON *json, struct da_poll_info *out, struct da_error *err)
{
    static const char prefix[] = "poll.";
    const cJSON *poll = NULL;
    struct da_poll_info info = {0};
    uint64_t usn = 0;
    int status;

    status = find_member(json, "", "poll", &poll, err);
    if (status != 0)
        goto done;
    if (poll == NULL || !cJSON_IsObject(poll)) {
        status = da_error_set(err, DA_ERR_LOCAL, "poll: %s",
                              poll == NULL ? "missing member" : "expected an object");
        goto done;
    }

    status = read_string(poll, prefix, "time", false, &info.time, err);
    if (status == 0)
        status = read_string(poll, prefix, "dc_host", true, &info.dc_host, err);
    if (status == 0)
        status = read_string(poll, prefix, "uri", false, &info.uri, err);
    if (status == 0)
        status = read_string(poll, prefix, "invocation_id", true, &info.invocation_id, err);
    if (status == 0)
        status = read_whole_number(poll, prefix, "highest_committed_usn", MAX_EXACT_INTEGER,
                                   MAX_EXACT_INTEGER_TEXT, &usn, err);
    if (status == 0)
        status = read_string(poll, prefix, "base_dn", false, &info.base_dn, err);
    if (status == 0)
        status = read_string(poll, prefix, "domain_sid", true, &info.domain_sid, err);
    if (status == 0)
        status = read_bool(poll, prefix, "complete", &info.complete, err);
    if (status != 0)
        goto done;

    info.highest_committed_usn = usn;
    *out = info;
    memset(&info, 0, sizeof(info));

done:
    da_poll_info_clear(&info);
    return status;
}

static int read_krbtgt(const cJSON *item, size_t index, struct da_krbtgt *out, struct da_error *err)
{
    char prefix[MEMBER_PATH_MAX];
    struct da_krbtgt krbtgt = {0};
    int status;

    snprintf(prefix, sizeof(prefix), "krbtgt_accounts[%zu].", index);
    if (!cJSON_IsObject(item)) {
        status = da_error_set(err, DA_ERR_LOCAL, "krbtgt_accounts[%zu]: expected an object", index);
        goto done;
    }

    status = read_string(item, prefix, "dn", false, &krbtgt.dn, err);
    if (status == 0)
        status = read_string(item, prefix, "sid", true, &krbtgt.sid, err);
    if (status == 0)
        status = read_string(item, prefix, "sam_account_name", true, &krbtgt.sam_account_name, err);
    if (status == 0)
        status = read_bool(item, prefix, "read_only_dc", &krbtgt.read_only_dc, err);
    if (status == 0)
        status = read_string_array(item, prefix, "service_principal_names",
                                   &krbtgt.service_principal_names, err);
    if (status != 0)
        goto done;

    *out = krbtgt;
    memset(&krbtgt, 0, sizeof(krbtgt));

done:
    da_krbtgt_clear(&krbtgt);
    return status;
}

static int read_krbtgts(const cJSON *json, struct da_snapshot *snapshot, struct da_error *err)
{
    const cJSON *array = NULL;
    const cJSON *item = NULL;
    size_t index = 0;
    int status;

    status = find_member(json, "", "krbtgt_accounts", &array, err);
    if (status != 0)
        return status;
    if (array == NULL || !cJSON_IsArray(array))
        return da_error_set(err, DA_ERR_LOCAL, "krbtgt_accounts: %s",
                            array == NULL ? "missing member" : "expected an array");

    cJSON_ArrayForEach(item, array)
    {
        struct da_krbtgt krbtgt = {0};

        status = read_krbtgt(item, index, &krbtgt, err);
        if (status != 0)
            return status;
        if (da_snapshot_add_krbtgt(snapshot, &krbtgt) != 0) {
            da_krbtgt_clear(&krbtgt);
            return out_of_memory(err);
        }
        index++;
    }
    return 0;
}

static int read_account(const cJSON *item, const char *guid, struct da_account *out,
                        struct da_error *err)
{
    char prefix[MEMBER_PATH_MAX];
    struct da_account account = {0};
    char *kind = NULL;
    uint64_t user_account_control = 0;
    int status;

    snprintf(prefix, sizeof(prefix), "accounts[\"%s\"].", guid);
    if (!cJSON_IsObject(item)) {
        status = da_error_set(err, DA_ERR_LOCAL, "accounts[\"%s\"]: expected an object", guid);
        goto done;
    }

    account.guid = strdup(guid);
    if (account.guid == NULL) {
        status = out_of_memory(err);
        goto done;
    }

    status = read_string(item, prefix, "dn", false, &account.dn, err);
    if (status == 0)
        status = read_string(item, prefix, "sid", true, &account.sid, err);
    if (status == 0)
        status =
            read_string(item, prefix, "sam_account_name", true, &account.sam_account_name, err);
    if (status == 0)
        status = read_string(item, prefix, "kind", false, &kind, err);
    if (status == 0 && !da_account_kind_parse(kind, &account.kind))
        status = da_error_set(err, DA_ERR_LOCAL,
                              "%skind: expected one of user, computer, gmsa, msa, "
                              "inetorgperson, other",
                              prefix);
    if (status == 0)
        status = read_whole_number(item, prefix, "user_account_control", (double)UINT32_MAX,
                                   MAX_UINT32_TEXT, &user_account_control, err);
    if (status == 0)
        status = read_string_array(item, prefix, "allowed_to_delegate_to",
                                   &account.allowed_to_delegate_to, err);
    if (status == 0)
        status = read_string_array(item, prefix, "service_principal_names",
                                   &account.service_principal_names, err);
    if (status == 0)
        status = read_string_array(item, prefix, "allowed_to_act", &account.allowed_to_act, err);
    if (status == 0)
        status = read_bool(item, prefix, "has_allowed_to_act", &account.has_allowed_to_act, err);
    if (status == 0)
        status = read_string(item, prefix, "when_changed", true, &account.when_changed, err);
    if (status == 0)
        status = read_whole_number(item, prefix, "usn_changed", MAX_EXACT_INTEGER,
                                   MAX_EXACT_INTEGER_TEXT, &account.usn_changed, err);
    if (status != 0)
        goto done;

    account.user_account_control = (uint32_t)user_account_control;
    *out = account;
    memset(&account, 0, sizeof(account));

done:
    free(kind);
    da_account_clear(&account);
    return status;
}

static int read_accounts(const cJSON *json, struct da_snapshot *snapshot, struct da_error *err)
{
    const cJSON *object = NULL;
    const cJSON *item = NULL;
    int status;

    status = find_member(json, "", "accounts", &object, err);
    if (status != 0)
        return status;
    if (object == NULL || !cJSON_IsObject(object))
        return da_error_set(err, DA_ERR_LOCAL, "accounts: %s",
                            object == NULL ? "missing member" : "expected an object");

    cJSON_ArrayForEach(item, object)
    {
        struct da_account account = {0};

        if (item->string == NULL || !is_guid(item->string)) {
            char quoted[QUOTE_MAX * 4 + 4];
            const char *key = item->string != NULL ? item->string : "";

            da_error_quote(key, strlen(key), quoted, sizeof(quoted));
            return da_error_set(err, DA_ERR_LOCAL,
                                "accounts: key \"%s\" is not an objectGUID in lower-case "
                                "8-4-4-4-12 hex form",
                                quoted);
        }

        status = read_account(item, item->string, &account, err);
        if (status != 0)
            return status;
        if (da_snapshot_add_account(snapshot, &account) != 0) {
            da_account_clear(&account);
            return out_of_memory(err);
        }
    }

    /* Sorting also finds repeated keys, which cJSON keeps as separate
     * members; the sorted order puts the two copies side by side. */
    if (da_snapshot_sort(snapshot) != 0) {
        for (size_t i = 1; i < snapshot->account_count; i++) {
            if (strcmp(snapshot->accounts[i - 1].guid, snapshot->accounts[i].guid) == 0)
                return da_error_set(err, DA_ERR_LOCAL,
                                    "accounts: key \"%s\" appears more than once",
                                    snapshot->accounts[i].guid);
        }
        return da_error_set(err, DA_ERR_LOCAL, "accounts: a key appears more than once");
    }
    return 0;
}

/* Checks format and format_version. *newer is set when the version is one
 * this build cannot read because a later delegaudit wrote it. */
static int check_format(const cJSON *json, bool *newer, struct da_error *err)
{
    const cJSON *format = NULL;
    const cJSON *version = NULL;
    double value;
    int status;

    status = find_member(json, "", "format", &format, err);
    if (status != 0)
        return status;
    if (format == NULL)
        return da_error_set(err, DA_ERR_LOCAL,
                            "format: missing member, so this is not a delegaudit snapshot");
    if (!cJSON_IsString(format) || format->valuestring == NULL)
        return da_error_set(err, DA_ERR_LOCAL,
                            "format: expected the string \"%s\", so this is not a delegaudit "
                            "snapshot",
                            DA_SNAPSHOT_FORMAT);
    if (strcmp(format->valuestring, DA_SNAPSHOT_FORMAT) != 0) {
        char quoted[QUOTE_MAX * 4 + 4];

        da_error_quote(format->valuestring, strlen(format->valuestring), quoted, sizeof(quoted));
        return da_error_set(err, DA_ERR_LOCAL,
                            "format is \"%s\", expected \"%s\", so this is not a delegaudit "
                            "snapshot",
                            quoted, DA_SNAPSHOT_FORMAT);
    }

    status = find_member(json, "", "format_version", &version, err);
    if (status != 0)
        return status;
    if (version == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "format_version: missing member");
    if (!cJSON_IsNumber(version))
        return da_error_set(err, DA_ERR_LOCAL, "format_version: expected a whole number >= 1");
    value = version->valuedouble;
    if (!(value >= 1.0 && value <= MAX_EXACT_INTEGER) || (double)(uint64_t)value != value)
        return da_error_set(err, DA_ERR_LOCAL, "format_version: expected a whole number >= 1");
    if (value > DA_SNAPSHOT_FORMAT_VERSION) {
        *newer = true;
        return da_error_set(err, DA_ERR_LOCAL,
                            "format_version %llu is newer than version %d, the newest this "
                            "delegaudit reads, so a newer delegaudit wrote it; upgrade "
                            "delegaudit to read it",
                            (unsigned long long)value, DA_SNAPSHOT_FORMAT_VERSION);
    }
    return 0;
}

/* Implements da_snapshot_from_json. *newer lets the file reader choose
 * the advice that fits the error. */
static int snapshot_from_json(const cJSON *json, struct da_snapshot **out, bool *newer,
                              struct da_error *err)
{
    struct da_snapshot *snapshot = NULL;
    int status;

    *newer = false;
    if (json == NULL || !cJSON_IsObject(json)) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "expected a JSON object at the top level of the document");
        goto done;
    }

    status = check_format(json, newer, err);
    if (status != 0)
        goto done;

    snapshot = da_snapshot_new();
    if (snapshot == NULL) {
        status = out_of_memory(err);
        goto done;
    }

    status = read_poll(json, &snapshot->poll, err);
    if (status == 0)
        status = read_krbtgts(json, snapshot, err);
    if (status == 0)
        status = read_accounts(json, snapshot, err);
    if (status != 0)
        goto done;

    *out = snapshot;
    snapshot = NULL;

done:
    da_snapshot_free(snapshot);
    return status;
}

int da_snapshot_from_json(const cJSON *json, struct da_snapshot **out, struct da_error *err)
{
    bool newer = false;

    return snapshot_from_json(json, out, &newer, err);
}

/* ---- Reading: files -------------------------------------------------------------------- */

/* Reads the whole regular file at path into a NUL-terminated buffer. */
static int read_whole_file(const char *path, char **out, size_t *out_length, struct da_error *err)
{
    int fd = -1;
    struct stat info;
    char *buffer = NULL;
    size_t capacity = 0;
    size_t length = 0;
    int status = 0;

    /* O_NONBLOCK keeps open() from waiting on a FIFO; regular files ignore it. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot open snapshot %s: %s; check the path",
                              path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &info) != 0) {
        status =
            da_error_set(err, DA_ERR_LOCAL, "cannot read snapshot %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(info.st_mode)) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "snapshot %s is not a regular file; check the path", path);
        goto out;
    }
    if ((uintmax_t)info.st_size > SNAPSHOT_FILE_MAX) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "snapshot %s is %jd bytes, larger than the 1 GiB limit for "
                              "snapshots, so it is not a delegaudit snapshot; " ADVICE_INVALID,
                              path, (intmax_t)info.st_size);
        goto out;
    }

    /* st_size sizes the buffer with one spare byte, so that reading a file
     * of the size fstat reported needs no second allocation. The loop still
     * reads to end of file, so a file that grows is caught by the limit. */
    capacity = (size_t)info.st_size + 2;
    buffer = malloc(capacity);
    if (buffer == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory reading snapshot %s", path);
        goto out;
    }
    for (;;) {
        ssize_t got;

        if (length > SNAPSHOT_FILE_MAX) {
            status = da_error_set(err, DA_ERR_LOCAL,
                                  "snapshot %s grew beyond the 1 GiB limit for snapshots while "
                                  "it was read; " ADVICE_INVALID,
                                  path);
            goto out;
        }
        if (length == capacity - 1) {
            size_t larger =
                capacity > SNAPSHOT_FILE_MAX / 2 + 1 ? SNAPSHOT_FILE_MAX + 2 : capacity * 2;
            char *grown = realloc(buffer, larger);

            if (grown == NULL) {
                status = da_error_set(err, DA_ERR_LOCAL, "out of memory reading snapshot %s", path);
                goto out;
            }
            buffer = grown;
            capacity = larger;
        }

        got = read(fd, buffer + length, capacity - 1 - length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            status = da_error_set(err, DA_ERR_LOCAL, "cannot read snapshot %s: %s", path,
                                  strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        length += (size_t)got;
    }
    buffer[length] = '\0';

    *out = buffer;
    *out_length = length;
    buffer = NULL;

out:
    free(buffer);
    if (fd >= 0)
        close(fd);
    return status;
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t line_of_offset(const char *text, size_t offset)
{
    size_t line = 1;

    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n')
            line++;
    }
    return line;
}

/* Rejects content that cJSON would read without complaint but into a
 * different string: a NUL byte, or a \u0000 escape, ends a C string early. */
static int check_no_nul(const char *path, const char *text, size_t length, struct da_error *err)
{
    const char *nul = memchr(text, '\0', length);

    if (nul != NULL)
        return da_error_set(err, DA_ERR_LOCAL,
                            "snapshot %s is corrupt: it contains a NUL byte at line %zu, byte "
                            "offset %zu; " ADVICE_INVALID,
                            path, line_of_offset(text, (size_t)(nul - text)), (size_t)(nul - text));

    /* A backslash is valid JSON only inside a string, where it starts an
     * escape, so skipping each escape as a pair finds every \u0000. */
    for (size_t i = 0; i + 1 < length; i++) {
        if (text[i] != '\\')
            continue;
        if (text[i + 1] == 'u' && i + 6 <= length && memcmp(text + i + 2, "0000", 4) == 0)
            return da_error_set(
                err, DA_ERR_LOCAL,
                "snapshot %s is corrupt: a string contains the escape \\u0000 at "
                "line %zu, byte offset %zu, which delegaudit cannot hold; " ADVICE_INVALID,
                path, line_of_offset(text, i), i);
        i++;
    }
    return 0;
}

/* Tells a cut-short file from a damaged one after cJSON rejected it: true
 * when the text ends inside a string or with an object or array still
 * open. cJSON's error offset cannot tell, because for an unterminated
 * string or object it points at where that value starts. */
static bool ends_inside_document(const char *text, size_t length)
{
    size_t depth = 0;
    bool in_string = false;

    for (size_t i = 0; i < length; i++) {
        char c = text[i];

        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return in_string || depth > 0;
}

/* Parses text as one JSON document with nothing but whitespace after it. */
static int parse_json_text(const char *path, const char *text, size_t length, cJSON **out,
                           struct da_error *err)
{
    const char *end = NULL;
    cJSON *json = NULL;
    size_t offset;
    size_t rest;

    if (length == 0)
        return da_error_set(err, DA_ERR_LOCAL,
                            "snapshot %s is empty, so a write was cut short or the file is not "
                            "a snapshot; " ADVICE_INVALID,
                            path);

    /* require_null_terminated is false on purpose, because with a length
     * given cJSON 1.7.15 then fails every document. The check below finds
     * trailing data instead and reports its offset. */
    json = cJSON_ParseWithLengthOpts(text, length, &end, false);
    offset = end != NULL && end >= text && end <= text + length ? (size_t)(end - text) : 0;

    if (json == NULL) {
        if (ends_inside_document(text, length))
            return da_error_set(err, DA_ERR_LOCAL,
                                "snapshot %s is truncated: the file ends at line %zu, byte "
                                "offset %zu, before the JSON document is complete; " ADVICE_INVALID,
                                path, line_of_offset(text, length), length);
        return da_error_set(
            err, DA_ERR_LOCAL,
            "snapshot %s is corrupt: invalid JSON at line %zu, byte offset %zu; " ADVICE_INVALID,
            path, line_of_offset(text, offset), offset);
    }

    rest = offset;
    while (rest < length && is_json_space(text[rest]))
        rest++;
    if (rest != length) {
        cJSON_Delete(json);
        return da_error_set(err, DA_ERR_LOCAL,
                            "snapshot %s is corrupt: unexpected data after the JSON document at "
                            "line %zu, byte offset %zu; " ADVICE_INVALID,
                            path, line_of_offset(text, rest), rest);
    }

    *out = json;
    return 0;
}

/* Appends text to the message in err, cutting it when the buffer is full. */
static void append_to_message(struct da_error *err, const char *text)
{
    size_t used;

    if (err == NULL)
        return;
    used = strlen(err->message);
    snprintf(err->message + used, sizeof(err->message) - used, "%s", text);
}

int da_snapshot_read_file(const char *path, struct da_snapshot **out, struct da_error *err)
{
    char *text = NULL;
    size_t length = 0;
    cJSON *json = NULL;
    struct da_snapshot *snapshot = NULL;
    bool newer = false;
    int status;

    status = read_whole_file(path, &text, &length, err);
    if (status != 0)
        goto out;
    status = check_no_nul(path, text, length, err);
    if (status != 0)
        goto out;
    status = parse_json_text(path, text, length, &json, err);
    if (status != 0)
        goto out;

    status = snapshot_from_json(json, &snapshot, &newer, err);
    if (status != 0) {
        if (newer) {
            da_error_prefix(err, "cannot read snapshot %s", path);
        } else {
            da_error_prefix(err, "snapshot %s is invalid", path);
            append_to_message(err, "; " ADVICE_INVALID);
        }
        goto out;
    }

    *out = snapshot;
    snapshot = NULL;

out:
    da_snapshot_free(snapshot);
    cJSON_Delete(json);
    free(text);
    return status;
}

/* ---- Atomic files ---------------------------------------------------------------------- */

static int write_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, data, length);

        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return -1;
        if (written == 0) {
            /* write() returns 0 for a non-empty buffer only on odd devices;
             * treat it as an I/O error rather than loop for ever. */
            errno = EIO;
            return -1;
        }
        data += written;
        length -= (size_t)written;
    }
    return 0;
}

static int fsync_retrying(int fd)
{
    int result;

    do {
        result = fsync(fd);
    } while (result != 0 && errno == EINTR);
    return result;
}

int da_file_write_atomic(const char *path, const char *data, size_t length, struct da_error *err)
{
    const char *slash = NULL;
    const char *base = NULL;
    char *directory = NULL;
    char *temporary = NULL;
    size_t directory_length;
    int fd = -1;
    int directory_fd = -1;
    bool temporary_exists = false;
    int status = 0;

    slash = strrchr(path, '/');
    base = slash != NULL ? slash + 1 : path;
    if (base[0] == '\0') {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "cannot write %s: the path names a directory, not a file", path);
        goto out;
    }

    /* The directory part keeps its slash, so "/x" gives "/" and "x" gives "". */
    directory_length = (size_t)(base - path);
    directory = malloc(directory_length + 2);
    temporary = malloc(directory_length + 1 + strlen(base) + sizeof(".tmp-XXXXXX"));
    if (directory == NULL || temporary == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory writing %s", path);
        goto out;
    }
    if (directory_length == 0) {
        strcpy(directory, ".");
    } else {
        memcpy(directory, path, directory_length);
        directory[directory_length] = '\0';
    }
    /* The temporary name starts with a dot so that a listing of
     * snapshot-*.json files never includes it. */
    sprintf(temporary, "%.*s.%s.tmp-XXXXXX", (int)directory_length, path, base);

    fd = mkstemp(temporary);
    if (fd < 0) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "cannot write %s: creating a temporary file in %s failed: %s; "
                              "check that the directory exists and is writable",
                              path, directory, strerror(errno));
        goto out;
    }
    temporary_exists = true;
    /* mkstemp already uses 0600 on glibc; fchmod states it for every libc,
     * and FD_CLOEXEC keeps the descriptor out of child processes. */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot write %s: setting up %s failed: %s", path,
                              temporary, strerror(errno));
        goto out;
    }

    if (write_all(fd, data, length) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot write %s: writing %s failed: %s", path,
                              temporary, strerror(errno));
        goto out;
    }
    if (fsync_retrying(fd) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot write %s: syncing %s failed: %s", path,
                              temporary, strerror(errno));
        goto out;
    }
    /* close() can report a delayed write error, for example on NFS. */
    if (close(fd) != 0) {
        fd = -1;
        status = da_error_set(err, DA_ERR_LOCAL, "cannot write %s: closing %s failed: %s", path,
                              temporary, strerror(errno));
        goto out;
    }
    fd = -1;

    if (rename(temporary, path) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot replace %s: %s", path, strerror(errno));
        goto out;
    }
    temporary_exists = false;

    /* The rename is durable only once the directory itself is synced. */
    directory_fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0 || (fsync_retrying(directory_fd) != 0 && errno != EINVAL)) {
        /* EINVAL means the file system cannot sync a directory at all. */
        status = da_error_set(err, DA_ERR_LOCAL,
                              "%s was replaced, but syncing its directory %s failed: %s; the new "
                              "content may not survive a crash",
                              path, directory, strerror(errno));
        goto out;
    }

out:
    if (directory_fd >= 0)
        close(directory_fd);
    if (fd >= 0)
        close(fd);
    if (temporary_exists)
        unlink(temporary);
    free(temporary);
    free(directory);
    return status;
}

int da_snapshot_write_file(const char *path, const struct da_snapshot *snapshot,
                           struct da_error *err)
{
    cJSON *json = NULL;
    cJSON *parsed = NULL;
    struct da_snapshot *check = NULL;
    char *printed = NULL;
    char *text = NULL;
    size_t length;
    bool newer = false;
    int status;

    json = da_snapshot_to_json(snapshot);
    if (json != NULL)
        printed = cJSON_Print(json);
    if (printed == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory writing snapshot %s", path);
        goto out;
    }
    length = strlen(printed);

    /* Reading the text back before it replaces anything guarantees that the
     * next poll can read what this one saves. A model value that the format
     * cannot hold, such as a USN above 2^53 - 1 or a missing or repeated
     * GUID, is reported now instead of breaking the next poll. */
    parsed = cJSON_ParseWithLengthOpts(printed, length, NULL, false);
    if (parsed == NULL) {
        /* cJSON parses what it printed, so only a failed allocation is left. */
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory writing snapshot %s", path);
        goto out;
    }
    status = snapshot_from_json(parsed, &check, &newer, err);
    if (status != 0) {
        da_error_prefix(err, "snapshot not written to %s because it would not read back", path);
        goto out;
    }

    /* A final newline makes the file a proper text file for jq and diff. */
    text = malloc(length + 2);
    if (text == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory writing snapshot %s", path);
        goto out;
    }
    memcpy(text, printed, length);
    text[length] = '\n';
    text[length + 1] = '\0';

    status = da_file_write_atomic(path, text, length + 1, err);

out:
    free(text);
    da_snapshot_free(check);
    cJSON_Delete(parsed);
    cJSON_free(printed);
    cJSON_Delete(json);
    return status;
}
