#include "auditor/events/event.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Normalization of single values ----------------------------------------------------- */

static bool is_blank_char(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses "0x" followed by 1 to max_digits hex digits, the whole text. */
static bool parse_hex(const char *text, unsigned max_digits, uint64_t *value)
{
    uint64_t result = 0;
    size_t digits = 0;

    if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        return false;
    for (const char *p = text + 2; *p != '\0'; p++) {
        int digit = hex_digit_value(*p);

        if (digit < 0)
            return false;
        /* Leading zeros do not count towards the width. */
        if (result == 0 && digit == 0)
            continue;
        if (++digits > max_digits)
            return false;
        result = result * 16 + (uint64_t)digit;
    }
    if (text[2] == '\0')
        return false;
    *value = result;
    return true;
}

static bool parse_decimal(const char *text, uint64_t max, uint64_t *value)
{
    uint64_t result = 0;

    if (text[0] == '\0')
        return false;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        uint64_t digit = (uint64_t)(*p - '0');
        if (result > (max - digit) / 10)
            return false;
        result = result * 10 + digit;
    }
    *value = result;
    return true;
}

bool da_event_parse_logon_id(const char *text, uint64_t *value)
{
    if (text == NULL)
        return false;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        return parse_hex(text, 16, value);
    return parse_decimal(text, UINT64_MAX, value);
}

/* Reads exactly count decimal digits. */
static bool read_digits(const char **cursor, int count, int *value)
{
    int result = 0;

    for (int i = 0; i < count; i++) {
        char c = (*cursor)[i];

        if (c < '0' || c > '9')
            return false;
        result = result * 10 + (c - '0');
    }
    *cursor += count;
    *value = result;
    return true;
}

static bool is_leap_year(long year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(long year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month == 2 && is_leap_year(year))
        return 29;
    return days[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date, counted through
 * 400-year eras of 146097 days so that no time zone or libc is involved. */
static long days_from_civil(long year, int month, int day)
{
    year -= month <= 2;
    long era = (year >= 0 ? year : year - 399) / 400;
    long year_of_era = year - era * 400;
    long day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    long day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

    return era * 146097 + day_of_era - 719468;
}

static void civil_from_days(long days, long *year, int *month, int *day)
{
    days += 719468;
    long era = (days >= 0 ? days : days - 146096) / 146097;
    long day_of_era = days - era * 146097;
    long year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    long month_index = (5 * day_of_year + 2) / 153;

    *day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
    *month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

char *da_event_normalize_time(const char *text)
{
    const char *cursor = text;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    const char *fraction = NULL;
    size_t fraction_length = 0;
    int offset_minutes = 0;

    if (text == NULL)
        return NULL;

    if (!read_digits(&cursor, 4, &year) || *cursor++ != '-' || !read_digits(&cursor, 2, &month) ||
        *cursor++ != '-' || !read_digits(&cursor, 2, &day))
        return NULL;
    /* Some exporters write a space instead of the "T". */
    if (*cursor != 'T' && *cursor != 't' && *cursor != ' ')
        return NULL;
    cursor++;
    if (!read_digits(&cursor, 2, &hour) || *cursor++ != ':' || !read_digits(&cursor, 2, &minute) ||
        *cursor++ != ':' || !read_digits(&cursor, 2, &second))
        return NULL;

    if (*cursor == '.') {
        fraction = ++cursor;
        while (*cursor >= '0' && *cursor <= '9')
            cursor++;
        fraction_length = (size_t)(cursor - fraction);
        if (fraction_length == 0 || fraction_length > 9)
            return NULL;
    }

    if (*cursor == 'Z' || *cursor == 'z') {
        cursor++;
    } else if (*cursor == '+' || *cursor == '-') {
        int sign = *cursor++ == '-' ? -1 : 1;
        int offset_hours = 0, offset_rest = 0;

        if (!read_digits(&cursor, 2, &offset_hours))
            return NULL;
        if (*cursor == ':')
            cursor++;
        if (!read_digits(&cursor, 2, &offset_rest) || offset_hours > 23 || offset_rest > 59)
            return NULL;
        offset_minutes = sign * (offset_hours * 60 + offset_rest);
    } else {
        /* A time without an offset cannot be placed in UTC. */
        return NULL;
    }
    if (*cursor != '\0')
        return NULL;

    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 59)
        return NULL;

    /* Local time minus the offset is UTC. */
    long long seconds = (long long)days_from_civil(year, month, day) * 86400 + hour * 3600 +
                        minute * 60 + second - (long long)offset_minutes * 60;
    long long days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
    long long in_day = seconds - days * 86400;
    long utc_year = 0;
    int utc_month = 0, utc_day = 0;

    civil_from_days((long)days, &utc_year, &utc_month, &utc_day);
    if (utc_year < 0 || utc_year > 9999)
        return NULL;

    /* "YYYY-MM-DDTHH:MM:SS" + "." + 9 digits + "Z" + NUL */
    char buffer[32];
    int written = snprintf(buffer, sizeof(buffer), "%04ld-%02d-%02dT%02lld:%02lld:%02lld", utc_year,
                           utc_month, utc_day, in_day / 3600, in_day / 60 % 60, in_day % 60);
    if (written < 0 || (size_t)written + fraction_length + 3 > sizeof(buffer))
        return NULL;
    size_t used = (size_t)written;
    if (fraction != NULL) {
        buffer[used++] = '.';
        memcpy(buffer + used, fraction, fraction_length);
        used += fraction_length;
    }
    buffer[used++] = 'Z';
    buffer[used] = '\0';
    return strdup(buffer);
}

char *da_event_normalize_sid(const char *text)
{
    /* S-R-A followed by at most 15 sub-authorities (SID_MAX_SUB_AUTHORITIES). */
    const char *cursor = NULL;
    size_t parts = 0;
    char *result = NULL;

    if (text == NULL || (text[0] != 'S' && text[0] != 's') || text[1] != '-')
        return NULL;

    cursor = text + 2;
    while (*cursor != '\0') {
        const char *start = cursor;

        while (*cursor >= '0' && *cursor <= '9')
            cursor++;
        size_t digits = (size_t)(cursor - start);
        /* The revision and sub-authorities are 32-bit, the authority 48-bit:
         * 15 decimal digits hold either. */
        if (digits == 0 || digits > 15)
            return NULL;
        parts++;
        if (*cursor == '-')
            cursor++;
        else if (*cursor != '\0')
            return NULL;
        if (*cursor == '\0' && cursor[-1] == '-')
            return NULL;
    }
    if (parts < 2 || parts > 17)
        return NULL;

    result = strdup(text);
    if (result != NULL)
        result[0] = 'S';
    return result;
}

char *da_event_normalize_guid(const char *text)
{
    char buffer[37];
    size_t length = 0;

    if (text == NULL)
        return NULL;
    length = strlen(text);
    if (length == 38 && text[0] == '{' && text[37] == '}') {
        text++;
        length -= 2;
    }
    if (length != 36)
        return NULL;

    for (size_t i = 0; i < 36; i++) {
        char c = text[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return NULL;
            buffer[i] = c;
        } else {
            if (hex_digit_value(c) < 0)
                return NULL;
            buffer[i] = (char)tolower((unsigned char)c);
        }
    }
    buffer[36] = '\0';
    return strdup(buffer);
}

/* ---- Building an event from raw fields -------------------------------------------------- */

void da_event_clear(struct da_event *event)
{
    if (event == NULL)
        return;
    free(event->time);
    free(event->computer);
    free(event->source_file);
    free(event->subject_sid);
    free(event->subject_user_name);
    free(event->subject_domain_name);
    free(event->target_sid);
    free(event->target_user_name);
    free(event->target_domain_name);
    da_strv_clear(&event->allowed_to_delegate_to);
    free(event->object_dn);
    free(event->object_guid);
    free(event->object_class);
    free(event->attribute_name);
    free(event->attribute_value);
    free(event->correlation_id);
    free(event->ip_address);
    free(event->ip_port);
    free(event->workstation_name);
    free(event->authentication_package);
    free(event->logon_process);
    free(event->target_server_name);
    free(event->target_info);
    free(event->explicit_user_name);
    free(event->explicit_domain_name);
    memset(event, 0, sizeof(*event));
}

/* The state of one da_event_build call: the raw input, the event being
 * filled and where a problem is written. */
struct builder {
    const struct da_raw_event *raw;
    struct da_event *event;
    char *problem;
    size_t problem_size;
};

static const char *const kept_attributes[] = {
    "msDS-AllowedToDelegateTo",
    "userAccountControl",
    "servicePrincipalName",
    "msDS-AllowedToActOnBehalfOfOtherIdentity",
};

/* Returns the value of the named EventData field, or NULL. Windows writes
 * the names in a fixed case; JSON exporters sometimes change it. */
static const char *raw_field(const struct da_raw_event *raw, const char *name)
{
    for (size_t i = 0; i < raw->field_count; i++) {
        const struct da_event_field *field = &raw->fields[i];

        if (field->name != NULL && strcasecmp(field->name, name) == 0)
            return field->value != NULL ? field->value : "";
    }
    return NULL;
}

/* Windows writes "-" in a field that has no value for this event. */
static const char *present_field(const struct da_raw_event *raw, const char *name)
{
    const char *value = raw_field(raw, name);

    if (value == NULL || strcmp(value, "-") == 0)
        return NULL;
    return value;
}

static enum da_event_build_result missing(struct builder *builder, const char *name)
{
    if (builder->problem != NULL && builder->problem_size > 0)
        snprintf(builder->problem, builder->problem_size, "event %lu without %s",
                 builder->raw->event_id, name);
    return DA_EVENT_MALFORMED;
}

static enum da_event_build_result invalid(struct builder *builder, const char *name,
                                          const char *value)
{
    char quoted[160];

    da_error_quote(value, strlen(value), quoted, sizeof(quoted));
    if (builder->problem != NULL && builder->problem_size > 0)
        snprintf(builder->problem, builder->problem_size, "event %lu: invalid %s \"%s\"",
                 builder->raw->event_id, name, quoted);
    return DA_EVENT_MALFORMED;
}

static enum da_event_build_result no_memory(struct builder *builder)
{
    if (builder->problem != NULL && builder->problem_size > 0)
        snprintf(builder->problem, builder->problem_size, "event %lu: out of memory",
                 builder->raw->event_id);
    return DA_EVENT_MALFORMED;
}

/* Identifiers (SIDs, GUIDs, logon ids) carry nothing when empty. */
static const char *present_identifier(const struct da_raw_event *raw, const char *name)
{
    const char *value = present_field(raw, name);

    if (value == NULL || value[0] == '\0')
        return NULL;
    return value;
}

/* Copies an optional text field. */
static enum da_event_build_result copy_text(struct builder *builder, const char *name,
                                            char **destination)
{
    const char *value = present_field(builder->raw, name);

    if (value == NULL)
        return DA_EVENT_KEPT;
    *destination = strdup(value);
    if (*destination == NULL)
        return no_memory(builder);
    return DA_EVENT_KEPT;
}

static enum da_event_build_result copy_sid(struct builder *builder, const char *name,
                                           bool required, char **destination)
{
    const char *value = present_identifier(builder->raw, name);

    if (value == NULL)
        return required ? missing(builder, name) : DA_EVENT_KEPT;
    *destination = da_event_normalize_sid(value);
    if (*destination == NULL)
        return invalid(builder, name, value);
    return DA_EVENT_KEPT;
}

static enum da_event_build_result copy_guid(struct builder *builder, const char *name,
                                            char **destination)
{
    const char *value = present_identifier(builder->raw, name);

    if (value == NULL)
        return DA_EVENT_KEPT;
    *destination = da_event_normalize_guid(value);
    if (*destination == NULL)
        return invalid(builder, name, value);
    return DA_EVENT_KEPT;
}

static enum da_event_build_result copy_logon_id(struct builder *builder, const char *name,
                                                bool required, uint64_t *destination,
                                                bool *present)
{
    const char *value = present_identifier(builder->raw, name);

    if (value == NULL)
        return required ? missing(builder, name) : DA_EVENT_KEPT;
    if (!da_event_parse_logon_id(value, destination))
        return invalid(builder, name, value);
    *present = true;
    return DA_EVENT_KEPT;
}

/* SubjectUserSid, SubjectUserName, SubjectDomainName and SubjectLogonId. */
static enum da_event_build_result copy_subject(struct builder *builder, bool logon_id_required)
{
    struct da_event *event = builder->event;
    enum da_event_build_result result = DA_EVENT_KEPT;

    if ((result = copy_sid(builder, "SubjectUserSid", false, &event->subject_sid)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "SubjectUserName", &event->subject_user_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "SubjectDomainName", &event->subject_domain_name)) !=
        DA_EVENT_KEPT)
        return result;
    return copy_logon_id(builder, "SubjectLogonId", logon_id_required, &event->subject_logon_id,
                         &event->has_subject_logon_id);
}

/* AllowedToDelegateTo of 4738 and 4742: the complete new list, "-" when it
 * did not change, and %%1793 ("<value not set>") when it was cleared. */
static enum da_event_build_result read_delegate_list(struct builder *builder)
{
    struct da_event *event = builder->event;
    const char *value = raw_field(builder->raw, "AllowedToDelegateTo");
    const char *start = NULL;
    const char *end = NULL;

    if (value == NULL) {
        event->delegate_list_state = DA_DELEGATE_LIST_ABSENT;
        return DA_EVENT_KEPT;
    }

    start = value;
    while (is_blank_char(*start))
        start++;
    end = start + strlen(start);
    while (end > start && is_blank_char(end[-1]))
        end--;
    size_t length = (size_t)(end - start);

    if (length == 1 && start[0] == '-') {
        event->delegate_list_state = DA_DELEGATE_LIST_UNCHANGED;
        return DA_EVENT_KEPT;
    }
    /* An empty value is read like %%1793: the list was cleared. */
    if (length == 0 || (length == 6 && strncmp(start, "%%1793", 6) == 0) ||
        (length == 15 && strncasecmp(start, "<value not set>", 15) == 0)) {
        event->delegate_list_state = DA_DELEGATE_LIST_CLEARED;
        return DA_EVENT_KEPT;
    }

    /* Windows separates the SPNs with "\r\n\t\t"; any run of blanks will do. */
    const char *cursor = start;
    while (cursor < end) {
        const char *item = cursor;

        while (cursor < end && !is_blank_char(*cursor))
            cursor++;
        char *copy = strndup(item, (size_t)(cursor - item));
        if (copy == NULL || da_strv_append_owned(&event->allowed_to_delegate_to, copy) != 0) {
            free(copy);
            return no_memory(builder);
        }
        while (cursor < end && is_blank_char(*cursor))
            cursor++;
    }
    event->delegate_list_state = DA_DELEGATE_LIST_SET;
    return DA_EVENT_KEPT;
}

/* OldUacValue and NewUacValue, both hex such as "0x15"; has_uac_change is
 * set only when both are there. */
static enum da_event_build_result read_uac(struct builder *builder)
{
    struct da_event *event = builder->event;
    const char *old_text = present_field(builder->raw, "OldUacValue");
    const char *new_text = present_field(builder->raw, "NewUacValue");
    uint64_t old_value = 0;
    uint64_t new_value = 0;

    if (old_text != NULL && !parse_hex(old_text, 8, &old_value))
        return invalid(builder, "OldUacValue", old_text);
    if (new_text != NULL && !parse_hex(new_text, 8, &new_value))
        return invalid(builder, "NewUacValue", new_text);
    if (old_text == NULL || new_text == NULL)
        return DA_EVENT_KEPT;

    event->old_uac = (uint32_t)old_value;
    event->new_uac = (uint32_t)new_value;
    event->has_uac_change = true;
    return DA_EVENT_KEPT;
}

static enum da_event_build_result build_account_changed(struct builder *builder)
{
    struct da_event *event = builder->event;
    enum da_event_build_result result = DA_EVENT_KEPT;

    if ((result = copy_sid(builder, "TargetSid", true, &event->target_sid)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetUserName", &event->target_user_name)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetDomainName", &event->target_domain_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_subject(builder, false)) != DA_EVENT_KEPT)
        return result;
    if ((result = read_delegate_list(builder)) != DA_EVENT_KEPT)
        return result;
    return read_uac(builder);
}

static bool is_kept_attribute(const char *name)
{
    for (size_t i = 0; i < sizeof(kept_attributes) / sizeof(kept_attributes[0]); i++) {
        if (strcasecmp(name, kept_attributes[i]) == 0)
            return true;
    }
    return false;
}

static enum da_event_build_result build_object_modified(struct builder *builder)
{
    struct da_event *event = builder->event;
    enum da_event_build_result result = DA_EVENT_KEPT;
    const char *operation = present_field(builder->raw, "OperationType");

    if ((result = copy_text(builder, "AttributeLDAPDisplayName", &event->attribute_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "ObjectDN", &event->object_dn)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_guid(builder, "ObjectGUID", &event->object_guid)) != DA_EVENT_KEPT)
        return result;
    /* Either one identifies the object; the GUID survives renames. */
    if (event->object_dn == NULL && event->object_guid == NULL)
        return missing(builder, "ObjectGUID and ObjectDN");
    if ((result = copy_text(builder, "ObjectClass", &event->object_class)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "AttributeValue", &event->attribute_value)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_guid(builder, "OpCorrelationID", &event->correlation_id)) != DA_EVENT_KEPT)
        return result;

    if (operation == NULL)
        event->operation = DA_OPERATION_NONE;
    else if (strcmp(operation, "%%14674") == 0)
        event->operation = DA_OPERATION_VALUE_ADDED;
    else if (strcmp(operation, "%%14675") == 0)
        event->operation = DA_OPERATION_VALUE_DELETED;
    else
        event->operation = DA_OPERATION_OTHER;

    return copy_subject(builder, false);
}

static enum da_event_build_result build_logon(struct builder *builder)
{
    struct da_event *event = builder->event;
    enum da_event_build_result result = DA_EVENT_KEPT;
    const char *logon_type = present_field(builder->raw, "LogonType");

    /* The account that logged on is the actor of everything this logon
     * session does later, so it goes into the subject fields. */
    if ((result = copy_sid(builder, "TargetUserSid", false, &event->subject_sid)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetUserName", &event->subject_user_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetDomainName", &event->subject_domain_name)) !=
        DA_EVENT_KEPT)
        return result;
    /* Without its logon id a logon cannot be joined with anything. */
    if ((result = copy_logon_id(builder, "TargetLogonId", true, &event->target_logon_id,
                                &event->has_target_logon_id)) != DA_EVENT_KEPT)
        return result;

    if (logon_type != NULL) {
        uint64_t value = 0;

        if (!parse_decimal(logon_type, 0xffffffffu, &value))
            return invalid(builder, "LogonType", logon_type);
        event->logon_type = (unsigned long)value;
    }

    if ((result = copy_text(builder, "IpAddress", &event->ip_address)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "IpPort", &event->ip_port)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "WorkstationName", &event->workstation_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "AuthenticationPackageName",
                            &event->authentication_package)) != DA_EVENT_KEPT)
        return result;
    /* Windows pads LogonProcessName with trailing spaces ("Kerberos  "). */
    if ((result = copy_text(builder, "LogonProcessName", &event->logon_process)) != DA_EVENT_KEPT)
        return result;
    if (event->logon_process != NULL) {
        size_t length = strlen(event->logon_process);

        while (length > 0 && is_blank_char(event->logon_process[length - 1]))
            event->logon_process[--length] = '\0';
    }
    return DA_EVENT_KEPT;
}

static enum da_event_build_result build_explicit_credentials(struct builder *builder)
{
    struct da_event *event = builder->event;
    enum da_event_build_result result = DA_EVENT_KEPT;

    /* SubjectLogonId links the 4648 with the 4624 of the session that used
     * the explicit credentials. */
    if ((result = copy_subject(builder, true)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetUserName", &event->explicit_user_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetDomainName", &event->explicit_domain_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetServerName", &event->target_server_name)) !=
        DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "TargetInfo", &event->target_info)) != DA_EVENT_KEPT)
        return result;
    if ((result = copy_text(builder, "IpAddress", &event->ip_address)) != DA_EVENT_KEPT)
        return result;
    return copy_text(builder, "IpPort", &event->ip_port);
}

/* The System fields every kept event needs. */
static enum da_event_build_result build_system(struct builder *builder, const char *source_file,
                                               unsigned long source_position)
{
    const struct da_raw_event *raw = builder->raw;
    struct da_event *event = builder->event;

    event->event_id = raw->event_id;
    event->source_position = source_position;
    if (source_file != NULL && (event->source_file = strdup(source_file)) == NULL)
        return no_memory(builder);

    if (raw->time_created == NULL || raw->time_created[0] == '\0')
        return missing(builder, "TimeCreated SystemTime");
    event->time = da_event_normalize_time(raw->time_created);
    if (event->time == NULL)
        return invalid(builder, "TimeCreated SystemTime", raw->time_created);

    if (raw->computer != NULL && raw->computer[0] != '\0' &&
        (event->computer = strdup(raw->computer)) == NULL)
        return no_memory(builder);

    if (raw->record_id != NULL && raw->record_id[0] != '\0') {
        if (!parse_decimal(raw->record_id, UINT64_MAX, &event->record_id))
            return invalid(builder, "EventRecordID", raw->record_id);
        event->has_record_id = true;
    }
    return DA_EVENT_KEPT;
}

enum da_event_build_result da_event_build(const struct da_raw_event *raw, const char *source_file,
                                          unsigned long source_position, struct da_event *event,
                                          char *problem, size_t problem_size)
{
    struct da_event built = {0};
    struct builder builder = {
        .raw = raw,
        .event = &built,
        .problem = problem,
        .problem_size = problem_size,
    };
    enum da_event_build_result result = DA_EVENT_SKIPPED;

    memset(event, 0, sizeof(*event));
    if (problem != NULL && problem_size > 0)
        problem[0] = '\0';

    switch (raw->event_id) {
    case DA_EVENT_USER_CHANGED:
    case DA_EVENT_COMPUTER_CHANGED:
    case DA_EVENT_LOGON:
    case DA_EVENT_EXPLICIT_CREDENTIALS:
        break;
    case DA_EVENT_OBJECT_MODIFIED: {
        /* Most 5136 events touch other attributes: skip them before any
         * other check, so that their quirks are never reported. */
        const char *attribute = present_field(raw, "AttributeLDAPDisplayName");

        if (attribute == NULL) {
            result = missing(&builder, "AttributeLDAPDisplayName");
            goto out;
        }
        if (!is_kept_attribute(attribute))
            goto out;
        break;
    }
    default:
        goto out;
    }

    result = build_system(&builder, source_file, source_position);
    if (result != DA_EVENT_KEPT)
        goto out;

    switch (raw->event_id) {
    case DA_EVENT_USER_CHANGED:
    case DA_EVENT_COMPUTER_CHANGED:
        result = build_account_changed(&builder);
        break;
    case DA_EVENT_OBJECT_MODIFIED:
        result = build_object_modified(&builder);
        break;
    case DA_EVENT_LOGON:
        result = build_logon(&builder);
        break;
    default:
        result = build_explicit_credentials(&builder);
        break;
    }

out:
    if (result == DA_EVENT_KEPT)
        *event = built;
    else
        da_event_clear(&built);
    return result;
}
