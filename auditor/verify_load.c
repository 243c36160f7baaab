#include "auditor/verify_load.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auditor/json_member.h"


/* The maximum USN read, 2^53 - 1: cJSON reads numbers into a double, which
 * cannot represent every integer from 2^53 on. */
#define MAX_EXACT_INTEGER 9007199254740991.0
#define MAX_EXACT_INTEGER_TEXT "9007199254740991"
#define MAX_UINT32_TEXT "4294967295"

/* The maximum file size: a sanity limit far above any verify document,
 * which lists a few accounts on each domain controller. */
#define VERIFY_FILE_MAX ((size_t)256 << 20)

/* Room for a member path such as
 * accounts[12].domain_controllers[3].delegation_metadata.originating_usn. */
#define MEMBER_PATH_MAX 160

/* Maximum length of file content quoted in a message. */
#define QUOTE_MAX 64

#define ADVICE_INVALID "write the file with delegaudit verify --json"

static int out_of_memory(struct da_error *err)
{
    return da_error_set(err, DA_ERR_LOCAL, "out of memory while reading verify results");
}

/* ---- Members --------------------------------------------------------------------------- */

/* Finds the member called name; *item is NULL when it is missing. A
 * repeated member is an error. */
static int find_member(const cJSON *object, const char *prefix, const char *name,
                       const cJSON **item, struct da_error *err)
{
    if (da_json_member(object, name, item) != 0)
        return da_error_set(err, DA_ERR_USAGE, "%s%s appears more than once", prefix, name);
    return 0;
}

/* Finds a member that must be present. */
static int require_member(const cJSON *object, const char *prefix, const char *name,
                          const cJSON **item, struct da_error *err)
{
    int status = find_member(object, prefix, name, item, err);

    if (status != 0)
        return status;
    if (*item == NULL)
        return da_error_set(err, DA_ERR_USAGE, "%s%s is missing", prefix, name);
    return 0;
}

/* Reads a string member. A nullable member may be null or missing, and
 * both read as NULL. */
static int read_string(const cJSON *object, const char *prefix, const char *name, bool nullable,
                       char **out, struct da_error *err)
{
    const cJSON *item = NULL;
    char *copy;
    int status = find_member(object, prefix, name, &item, err);

    if (status != 0)
        return status;
    if (nullable && (item == NULL || cJSON_IsNull(item))) {
        *out = NULL;
        return 0;
    }
    if (item == NULL)
        return da_error_set(err, DA_ERR_USAGE, "%s%s is missing", prefix, name);
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return da_error_set(err, DA_ERR_USAGE, "%s%s is not a string%s", prefix, name,
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
    int status = require_member(object, prefix, name, &item, err);

    if (status != 0)
        return status;
    if (!cJSON_IsBool(item))
        return da_error_set(err, DA_ERR_USAGE, "%s%s is not true or false", prefix, name);
    *out = cJSON_IsTrue(item);
    return 0;
}

/* Reads a whole number in 0 .. max, where max is at most
 * MAX_EXACT_INTEGER, so that every accepted double is the integer the file
 * wrote. */
static int read_whole_number(const cJSON *object, const char *prefix, const char *name, double max,
                             const char *max_text, uint64_t *out, struct da_error *err)
{
    const cJSON *item = NULL;
    double value;
    int status = require_member(object, prefix, name, &item, err);

    if (status != 0)
        return status;
    if (!cJSON_IsNumber(item))
        goto invalid;
    value = item->valuedouble;
    /* The range check comes first: converting an out-of-range double to an
     * integer is undefined behaviour. */
    if (!(value >= 0.0 && value <= max) || (double)(uint64_t)value != value)
        goto invalid;
    *out = (uint64_t)value;
    return 0;

invalid:
    return da_error_set(err, DA_ERR_USAGE, "%s%s is not a whole number 0..%s", prefix, name,
                        max_text);
}

static int read_uint32(const cJSON *object, const char *prefix, const char *name, uint32_t *out,
                       struct da_error *err)
{
    uint64_t value = 0;
    int status =
        read_whole_number(object, prefix, name, (double)UINT32_MAX, MAX_UINT32_TEXT, &value, err);

    if (status == 0)
        *out = (uint32_t)value;
    return status;
}

/* Reads a duration in seconds: a finite number, not negative. */
static int read_seconds(const cJSON *object, const char *prefix, const char *name, double *out,
                        struct da_error *err)
{
    const cJSON *item = NULL;
    int status = require_member(object, prefix, name, &item, err);

    if (status != 0)
        return status;
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0.0)
        return da_error_set(err, DA_ERR_USAGE, "%s%s is not a number of seconds >= 0", prefix,
                            name);
    *out = item->valuedouble;
    return 0;
}

static int read_string_array(const cJSON *object, const char *prefix, const char *name,
                             struct da_strv *out, struct da_error *err)
{
    const cJSON *array = NULL;
    const cJSON *element = NULL;
    size_t index = 0;
    int status = require_member(object, prefix, name, &array, err);

    if (status != 0)
        return status;
    if (!cJSON_IsArray(array))
        return da_error_set(err, DA_ERR_USAGE, "%s%s is not an array of strings", prefix, name);

    cJSON_ArrayForEach(element, array)
    {
        if (!cJSON_IsString(element) || element->valuestring == NULL)
            return da_error_set(err, DA_ERR_USAGE, "%s%s[%zu] is not a string", prefix, name,
                                index);
        if (da_strv_append(out, element->valuestring) != 0)
            return out_of_memory(err);
        index++;
    }
    return 0;
}

/* Finds a member that must be an array, and counts its elements. */
static int read_array(const cJSON *object, const char *prefix, const char *name,
                      const cJSON **array, size_t *count, struct da_error *err)
{
    int status = require_member(object, prefix, name, array, err);

    if (status != 0)
        return status;
    if (!cJSON_IsArray(*array))
        return da_error_set(err, DA_ERR_USAGE, "%s%s is not an array", prefix, name);
    *count = (size_t)cJSON_GetArraySize(*array);
    return 0;
}

/* ---- Parts of the document ------------------------------------------------------------- */

/* Reads replication metadata: null for none, else an object. */
static int read_stamp(const cJSON *object, const char *prefix, const char *name,
                      struct da_verify_stamp *out, struct da_error *err)
{
    char path[MEMBER_PATH_MAX];
    const cJSON *item = NULL;
    int status = require_member(object, prefix, name, &item, err);

    if (status != 0)
        return status;
    if (cJSON_IsNull(item)) {
        out->known = false;
        return 0;
    }
    if (!cJSON_IsObject(item))
        return da_error_set(err, DA_ERR_USAGE, "%s%s is not an object or null", prefix, name);

    snprintf(path, sizeof(path), "%s%s.", prefix, name);
    out->known = true;
    status = read_uint32(item, path, "version", &out->version, err);
    if (status == 0)
        status = read_string(item, path, "originating_time", false, &out->originating_time, err);
    if (status == 0)
        status = read_string(item, path, "originating_invocation_id", false,
                             &out->originating_invocation_id, err);
    if (status == 0)
        status = read_string(item, path, "originating_dc", true, &out->originating_dc, err);
    if (status == 0)
        status = read_whole_number(item, path, "originating_usn", MAX_EXACT_INTEGER,
                                   MAX_EXACT_INTEGER_TEXT, &out->originating_usn, err);
    if (status == 0)
        status = read_whole_number(item, path, "local_usn", MAX_EXACT_INTEGER,
                                   MAX_EXACT_INTEGER_TEXT, &out->local_usn, err);
    return status;
}

static int read_dc(const cJSON *item, size_t index, struct da_verify_dc *dc, struct da_error *err)
{
    char prefix[MEMBER_PATH_MAX];
    char krbtgt_prefix[MEMBER_PATH_MAX];
    const cJSON *krbtgt = NULL;
    int status;

    snprintf(prefix, sizeof(prefix), "domain_controllers[%zu].", index);
    snprintf(krbtgt_prefix, sizeof(krbtgt_prefix), "domain_controllers[%zu].krbtgt.", index);
    if (!cJSON_IsObject(item))
        return da_error_set(err, DA_ERR_USAGE, "domain_controllers[%zu] is not an object", index);

    status = read_string(item, prefix, "name", false, &dc->name, err);
    if (status == 0)
        status = read_string(item, prefix, "host", true, &dc->host, err);
    if (status == 0)
        status = read_string(item, prefix, "invocation_id", true, &dc->invocation_id, err);
    if (status == 0)
        status = read_bool(item, prefix, "read_only", &dc->read_only, err);
    if (status == 0)
        status = read_bool(item, prefix, "reachable", &dc->reachable, err);
    if (status == 0)
        status = read_string(item, prefix, "problem", true, &dc->problem, err);
    if (status == 0)
        status = read_seconds(item, prefix, "seconds", &dc->seconds, err);
    if (status == 0)
        status = require_member(item, prefix, "krbtgt", &krbtgt, err);
    if (status != 0)
        return status;

    if (!cJSON_IsObject(krbtgt))
        return da_error_set(err, DA_ERR_USAGE, "%skrbtgt is not an object", prefix);
    status = read_bool(krbtgt, krbtgt_prefix, "read", &dc->krbtgt.read, err);
    if (status == 0)
        status = read_string(krbtgt, krbtgt_prefix, "password_last_set", true,
                             &dc->krbtgt.password_last_set, err);
    if (status == 0)
        status = read_stamp(krbtgt, krbtgt_prefix, "password", &dc->krbtgt.password, err);
    return status;
}

/* Checks that a stored name is one of the known states or verdicts. The
 * value itself is not kept: da_verify_evaluate derives it again. */
static int check_name(const cJSON *object, const char *prefix, const char *name, bool is_state,
                      struct da_error *err)
{
    const cJSON *item = NULL;
    enum da_verify_state state;
    enum da_verify_verdict verdict;
    char quoted[QUOTE_MAX * 4 + 4];
    const char *names = is_state ? "clean, krbtgt-target, behind, absent, unverified"
                                 : "converged, backdoored, incomplete, not-converged, unverified";
    int status = require_member(object, prefix, name, &item, err);

    if (status != 0)
        return status;
    if (!cJSON_IsString(item) || item->valuestring == NULL)
        return da_error_set(err, DA_ERR_USAGE, "%s%s is not a string: expected one of %s", prefix,
                            name, names);
    if (is_state ? da_verify_state_parse(item->valuestring, &state)
                 : da_verify_verdict_parse(item->valuestring, &verdict))
        return 0;
    da_error_quote(item->valuestring, strnlen(item->valuestring, QUOTE_MAX + 1), quoted,
                   sizeof(quoted));
    return da_error_set(err, DA_ERR_USAGE, "%s%s is \"%s\", not one of %s", prefix, name, quoted,
                        names);
}

static int read_cell(const cJSON *item, const char *prefix, const struct da_verify_dc *dc,
                     struct da_verify_cell *cell, struct da_error *err)
{
    char *name = NULL;
    bool protocol_transition = false;
    int status;

    status = read_string(item, prefix, "dc", false, &name, err);
    if (status == 0 && strcmp(name, dc->name) != 0) {
        char quoted[QUOTE_MAX * 4 + 4];
        char expected[QUOTE_MAX * 4 + 4];

        da_error_quote(name, strnlen(name, QUOTE_MAX + 1), quoted, sizeof(quoted));
        da_error_quote(dc->name, strnlen(dc->name, QUOTE_MAX + 1), expected, sizeof(expected));
        status = da_error_set(err, DA_ERR_USAGE,
                              "%sdc is \"%s\", but that place in domain_controllers holds "
                              "\"%s\": the entries must follow the order of domain_controllers",
                              prefix, quoted, expected);
    }
    free(name);
    if (status == 0)
        status = check_name(item, prefix, "state", true, err);
    if (status == 0)
        status = read_bool(item, prefix, "read", &cell->read, err);
    if (status == 0)
        status = read_bool(item, prefix, "found", &cell->found, err);
    if (status == 0)
        status =
            read_uint32(item, prefix, "user_account_control", &cell->user_account_control, err);
    /* protocol_transition, protocol_transition_left_on and behind follow
     * from the rest, so only their types are checked here.
     * da_verify_evaluate derives their values again. */
    if (status == 0)
        status = read_bool(item, prefix, "protocol_transition", &protocol_transition, err);
    if (status == 0)
        status = read_bool(item, prefix, "protocol_transition_left_on",
                           &cell->protocol_transition_left_on, err);
    if (status == 0)
        status = read_bool(item, prefix, "behind", &cell->behind, err);
    if (status == 0)
        status = read_string_array(item, prefix, "allowed_to_delegate_to",
                                   &cell->allowed_to_delegate_to, err);
    if (status == 0)
        status = read_string_array(item, prefix, "krbtgt_targets", &cell->krbtgt_targets, err);
    if (status == 0)
        status = read_stamp(item, prefix, "delegation_metadata", &cell->delegation, err);
    if (status == 0)
        status = read_stamp(item, prefix, "uac_metadata", &cell->uac, err);
    return status;
}

static int read_account(const cJSON *item, size_t index, const struct da_verify_result *result,
                        struct da_verify_account *account, struct da_error *err)
{
    char prefix[MEMBER_PATH_MAX];
    const cJSON *cells = NULL;
    const cJSON *cell = NULL;
    size_t cell_count = 0;
    size_t j = 0;
    int status;

    snprintf(prefix, sizeof(prefix), "accounts[%zu].", index);
    status = read_string(item, prefix, "guid", false, &account->guid, err);
    if (status == 0)
        status = read_string(item, prefix, "dn", false, &account->dn, err);
    if (status == 0)
        status =
            read_string(item, prefix, "sam_account_name", true, &account->sam_account_name, err);
    if (status == 0)
        status = read_string(item, prefix, "sid", true, &account->sid, err);
    if (status == 0)
        status = read_string(item, prefix, "finding_time", true, &account->finding_time, err);
    if (status == 0)
        status = read_bool(item, prefix, "remediation_turns_off_protocol_transition",
                           &account->remediation_turns_off_protocol_transition, err);
    /* check_cell_counts has checked the array and its length. */
    if (status == 0)
        status = read_array(item, prefix, "domain_controllers", &cells, &cell_count, err);
    if (status != 0)
        return status;

    cJSON_ArrayForEach(cell, cells)
    {
        char cell_prefix[MEMBER_PATH_MAX];

        snprintf(cell_prefix, sizeof(cell_prefix), "accounts[%zu].domain_controllers[%zu].", index,
                 j);
        if (j >= result->dc_count)
            break;
        if (!cJSON_IsObject(cell))
            return da_error_set(err, DA_ERR_USAGE,
                                "accounts[%zu].domain_controllers[%zu] is not "
                                "an object",
                                index, j);
        status = read_cell(cell, cell_prefix, &result->dcs[j], &account->cells[j], err);
        if (status != 0)
            return status;
        j++;
    }
    return 0;
}

/* Checks that every account is an object with one cell per DC, before any
 * memory is sized from the counts: a file cannot make the reader allocate
 * cells that it does not contain. */
static int check_cell_counts(const cJSON *accounts, size_t dc_count, struct da_error *err)
{
    const cJSON *account = NULL;
    size_t index = 0;

    cJSON_ArrayForEach(account, accounts)
    {
        char prefix[MEMBER_PATH_MAX];
        const cJSON *cells = NULL;
        size_t cell_count = 0;
        int status;

        snprintf(prefix, sizeof(prefix), "accounts[%zu].", index);
        if (!cJSON_IsObject(account))
            return da_error_set(err, DA_ERR_USAGE, "accounts[%zu] is not an object", index);
        status = read_array(account, prefix, "domain_controllers", &cells, &cell_count, err);
        if (status != 0)
            return status;
        if (cell_count != dc_count)
            return da_error_set(err, DA_ERR_USAGE,
                                "%sdomain_controllers has %zu entr%s, but the document lists "
                                "%zu domain controller%s: each account needs one entry per "
                                "domain controller, in the same order",
                                prefix, cell_count, cell_count == 1 ? "y" : "ies", dc_count,
                                dc_count == 1 ? "" : "s");
        index++;
    }
    return 0;
}

/* Checks format and format_version. *newer is set when a later delegaudit
 * wrote the file. */
static int check_format(const cJSON *json, bool *newer, struct da_error *err)
{
    const cJSON *format = NULL;
    const cJSON *version = NULL;
    double value;
    int status = find_member(json, "", "format", &format, err);

    if (status != 0)
        return status;
    if (format == NULL)
        return da_error_set(err, DA_ERR_USAGE,
                            "format is missing, so this is not a delegaudit "
                            "verify document");
    if (!cJSON_IsString(format) || format->valuestring == NULL)
        return da_error_set(err, DA_ERR_USAGE,
                            "format is not the string \"%s\", so this is not "
                            "a delegaudit verify document",
                            DA_VERIFY_FORMAT);
    if (strcmp(format->valuestring, DA_VERIFY_FORMAT) != 0) {
        char quoted[QUOTE_MAX * 4 + 4];

        da_error_quote(format->valuestring, strnlen(format->valuestring, QUOTE_MAX + 1), quoted,
                       sizeof(quoted));
        return da_error_set(err, DA_ERR_USAGE,
                            "format is \"%s\", not \"%s\", so this is not a "
                            "delegaudit verify document",
                            quoted, DA_VERIFY_FORMAT);
    }

    status = require_member(json, "", "format_version", &version, err);
    if (status != 0)
        return status;
    value = cJSON_IsNumber(version) ? version->valuedouble : 0.0;
    if (!(value >= 1.0 && value <= MAX_EXACT_INTEGER) || (double)(uint64_t)value != value)
        return da_error_set(err, DA_ERR_USAGE, "format_version is not a whole number >= 1");
    if (value > DA_VERIFY_FORMAT_VERSION) {
        *newer = true;
        return da_error_set(err, DA_ERR_USAGE,
                            "format_version %llu is newer than version %d, "
                            "the newest this delegaudit reads; upgrade delegaudit to read it",
                            (unsigned long long)value, DA_VERIFY_FORMAT_VERSION);
    }
    return 0;
}

/* Reads the members of the top level that are not arrays. */
static int read_summary(const cJSON *json, struct da_verify_result *result, struct da_error *err)
{
    char *summary = NULL;
    uint64_t number = 0;
    int status;

    status = read_string(json, "", "time", false, &result->time, err);
    if (status == 0)
        status = read_string(json, "", "base_dn", false, &result->base_dn, err);
    if (status == 0)
        status = read_string(json, "", "selection", true, &result->selection, err);
    if (status == 0)
        status = check_name(json, "", "verdict", false, err);
    /* The summary sentence is for people, so it is checked and dropped. */
    if (status == 0)
        status = read_string(json, "", "summary", true, &summary, err);
    free(summary);
    if (status == 0)
        status = read_whole_number(json, "", "exit_status", 255.0, "255", &number, err);
    if (status == 0)
        status = read_whole_number(json, "", "rounds", (double)UINT32_MAX, MAX_UINT32_TEXT, &number,
                                   err);
    if (status == 0)
        result->rounds = (unsigned)number;
    if (status == 0)
        status = read_seconds(json, "", "waited_seconds", &result->waited_seconds, err);
    if (status == 0)
        status = read_bool(json, "", "krbtgt_converged", &result->krbtgt_converged, err);
    return status;
}

static int result_from_json(const cJSON *json, struct da_verify_result *out, bool *newer,
                            struct da_error *err)
{
    struct da_verify_result result = {0};
    const cJSON *dcs = NULL;
    const cJSON *accounts = NULL;
    const cJSON *item = NULL;
    size_t dc_count = 0;
    size_t account_count = 0;
    size_t index;
    int status;

    if (!cJSON_IsObject(json))
        return da_error_set(err, DA_ERR_USAGE,
                            "the document is not a JSON object, so it is not "
                            "a delegaudit verify document");
    status = check_format(json, newer, err);
    if (status == 0)
        status = read_array(json, "", "domain_controllers", &dcs, &dc_count, err);
    if (status == 0)
        status = read_array(json, "", "accounts", &accounts, &account_count, err);
    if (status == 0)
        status = check_cell_counts(accounts, dc_count, err);
    if (status != 0)
        return status;

    if (da_verify_result_init(&result, dc_count, account_count) != 0)
        return out_of_memory(err);
    status = read_summary(json, &result, err);
    if (status != 0)
        goto done;

    index = 0;
    cJSON_ArrayForEach(item, dcs)
    {
        status = read_dc(item, index, &result.dcs[index], err);
        if (status != 0)
            goto done;
        index++;
    }
    index = 0;
    cJSON_ArrayForEach(item, accounts)
    {
        status = read_account(item, index, &result, &result.accounts[index], err);
        if (status != 0)
            goto done;
        index++;
    }

    da_verify_evaluate(&result);
    *out = result;
    memset(&result, 0, sizeof(result));

done:
    da_verify_result_clear(&result);
    return status;
}

/* ---- The file -------------------------------------------------------------------------- */

/* Reads the whole regular file at path into a NUL-terminated buffer. */
static int read_whole_file(const char *path, char **out, size_t *out_length, struct da_error *err)
{
    struct stat info;
    char *buffer = NULL;
    size_t capacity;
    size_t length = 0;
    int status = 0;
    /* O_NONBLOCK keeps open() from waiting on a FIFO. Regular files ignore it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0)
        return da_error_set(err, DA_ERR_LOCAL, "cannot open verify results %s: %s; check the path",
                            path, strerror(errno));
    if (fstat(fd, &info) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot read verify results %s: %s", path,
                              strerror(errno));
        goto out;
    }
    if (!S_ISREG(info.st_mode)) {
        status = da_error_set(err, DA_ERR_LOCAL,
                              "verify results %s are not a regular file; check the path", path);
        goto out;
    }
    if ((uintmax_t)info.st_size > VERIFY_FILE_MAX) {
        status = da_error_set(err, DA_ERR_USAGE,
                              "%s is %jd bytes, larger than the 256 MiB limit for verify "
                              "results, so it is not a verify document; " ADVICE_INVALID,
                              path, (intmax_t)info.st_size);
        goto out;
    }

    capacity = (size_t)info.st_size + 2;
    buffer = malloc(capacity);
    if (buffer == NULL) {
        status = out_of_memory(err);
        goto out;
    }
    /* Reads to end of file, so a file that grows after fstat is caught by
     * the limit too. */
    for (;;) {
        ssize_t got;

        if (length == capacity - 1) {
            char *grown;

            if (capacity > VERIFY_FILE_MAX) {
                status = da_error_set(err, DA_ERR_USAGE,
                                      "%s grew beyond the 256 MiB limit for verify results while "
                                      "it was read; " ADVICE_INVALID,
                                      path);
                goto out;
            }
            grown = realloc(buffer, capacity * 2);
            if (grown == NULL) {
                status = out_of_memory(err);
                goto out;
            }
            buffer = grown;
            capacity *= 2;
        }
        got = read(fd, buffer + length, capacity - 1 - length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            status = da_error_set(err, DA_ERR_LOCAL, "cannot read verify results %s: %s", path,
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
    close(fd);
    return status;
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

/* Rejects content that cJSON would read into a different string: a NUL
 * byte or a \u0000 escape ends a C string early. */
static int check_no_nul(const char *path, const char *text, size_t length, struct da_error *err)
{
    const char *nul = memchr(text, '\0', length);

    if (nul != NULL)
        return da_error_set(err, DA_ERR_USAGE,
                            "%s contains a NUL byte at line %zu, so it is not a verify "
                            "document; " ADVICE_INVALID,
                            path, line_of_offset(text, (size_t)(nul - text)));
    /* A backslash is valid JSON only inside a string, where it starts an
     * escape, so skipping each escape as a pair finds every \u0000. */
    for (size_t i = 0; i + 1 < length; i++) {
        if (text[i] != '\\')
            continue;
        if (text[i + 1] == 'u' && i + 6 <= length && memcmp(text + i + 2, "0000", 4) == 0)
            return da_error_set(err, DA_ERR_USAGE,
                                "%s: a string contains the escape \\u0000 at line %zu, which "
                                "delegaudit cannot hold; " ADVICE_INVALID,
                                path, line_of_offset(text, i));
        i++;
    }
    return 0;
}

/* Parses text as one JSON document with nothing but whitespace after it. */
static int parse_json_text(const char *path, const char *text, size_t length, cJSON **out,
                           struct da_error *err)
{
    const char *end = NULL;
    size_t offset;
    cJSON *json;

    if (length == 0)
        return da_error_set(err, DA_ERR_USAGE,
                            "%s is empty, so it is not a verify document; " ADVICE_INVALID, path);

    /* require_null_terminated is false because with a length given cJSON
     * 1.7.15 then fails every document. The loop below finds trailing data. */
    json = cJSON_ParseWithLengthOpts(text, length, &end, false);
    offset = end != NULL && end >= text && end <= text + length ? (size_t)(end - text) : 0;
    if (json == NULL)
        return da_error_set(err, DA_ERR_USAGE,
                            "%s is not JSON: invalid at line %zu, byte offset %zu, so it is not "
                            "a verify document; " ADVICE_INVALID,
                            path, line_of_offset(text, offset), offset);

    while (offset < length && strchr(" \t\r\n", text[offset]) != NULL)
        offset++;
    if (offset != length) {
        cJSON_Delete(json);
        return da_error_set(err, DA_ERR_USAGE,
                            "%s has data after the JSON document at line %zu, byte offset "
                            "%zu; " ADVICE_INVALID,
                            path, line_of_offset(text, offset), offset);
    }
    *out = json;
    return 0;
}

int da_verify_load_file(const char *path, struct da_verify_result *result, struct da_error *err)
{
    char *text = NULL;
    size_t length = 0;
    cJSON *json = NULL;
    bool newer = false;
    int status;

    memset(result, 0, sizeof(*result));
    status = read_whole_file(path, &text, &length, err);
    if (status == 0)
        status = check_no_nul(path, text, length, err);
    if (status == 0)
        status = parse_json_text(path, text, length, &json, err);
    if (status != 0)
        goto out;

    status = result_from_json(json, result, &newer, err);
    if (status != 0) {
        da_error_prefix(err, "%s", path);
        if (!newer && status == DA_ERR_USAGE && err != NULL) {
            size_t used = strlen(err->message);

            snprintf(err->message + used, sizeof(err->message) - used, "; " ADVICE_INVALID);
        }
    }

out:
    cJSON_Delete(json);
    free(text);
    return status;
}
