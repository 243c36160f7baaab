/* The JSON reader: NDJSON lines and single documents (a JSON array of
 * events, or an Elasticsearch _search response), with records in the
 * shapes of Winlogbeat (6 and later, nested or with dotted keys), NXLog
 * and evtx_dump.
 *
 * The file is streamed. NDJSON is read line by line. A single document is
 * never parsed whole. Instead, a byte scanner that tracks strings, escapes
 * and bracket depth finds the array of events and hands the text of each
 * element to cJSON on its own. Memory is therefore bounded by the largest
 * record, which is at most RECORD_MAX bytes. */
#include "auditor/events/reader.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The maximum length of one NDJSON line or one document element. A
 * Winlogbeat document with the full message text is typically a few KiB,
 * so a record this long is damage or no event at all. */
#define RECORD_MAX ((size_t)16 << 20)
#define RECORD_MAX_TEXT "16 MiB"

#define READ_CHUNK ((size_t)64 << 10)

/* Room for a problem message, and for file content quoted in one. */
#define PROBLEM_MAX 512
#define QUOTE_MAX 48

/* 2^53: from here on, a double cannot represent every integer. cJSON reads
 * every number into a double, so a larger one may already be rounded. */
#define EXACT_INTEGER_LIMIT 9007199254740992.0

/* Bracket depths whose role the document scanner records. The deepest
 * container of interest is the hits.hits array of a _search response, at
 * depth 3. */
#define TRACKED_DEPTH 4

/* Members that NXLog's im_msvistalog fills from the System part of the
 * event or adds itself. Every other top-level member is passed on as an
 * EventData field, so a key missing here only becomes a field that
 * da_event_build ignores. */
static const char *const nxlog_system_keys[] = {
    "EventTime",
    "EventReceivedTime",
    "Hostname",
    "RecordNumber",
    "EventID",
    "EventType",
    "SeverityValue",
    "Severity",
    "SourceName",
    "ProviderGuid",
    "Version",
    "Task",
    "OpcodeValue",
    "Opcode",
    "Keywords",
    "ActivityID",
    "ProcessID",
    "ThreadID",
    "Channel",
    "Category",
    "Message",
    "Level",
    "SourceModuleName",
    "SourceModuleType",
    "ExecutionProcessID",
    "ExecutionThreadID",
};

/* ---- Reading context and problem reports ---------------------------------------------- */

struct json_source {
    const char *path;
    const struct da_event_reader *reader;
    struct da_event_read_stats *stats;
    struct da_error *err;
};

/* Counts a malformed record and hands it to the reader's on_problem. */
static void report_problem(struct json_source *source, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report_problem(struct json_source *source, unsigned long line, const char *fmt, ...)
{
    char message[PROBLEM_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);

    source->stats->malformed++;
    if (source->reader->on_problem != NULL)
        source->reader->on_problem(source->path, "line", line, message, source->reader->context);
}

/* ---- Encoding checks ------------------------------------------------------------------- */

/* Returns the length of the UTF-8 sequence at text[0..length), or 0 when
 * it is invalid: overlong, a surrogate, above U+10FFFF or cut short. */
static size_t utf8_sequence_length(const unsigned char *text, size_t length)
{
    unsigned char first = text[0];
    size_t count = 0;
    unsigned long code = 0;
    unsigned long minimum = 0;

    if (first < 0x80)
        return 1;
    if (first >= 0xC2 && first <= 0xDF) {
        count = 2, code = first & 0x1F, minimum = 0x80;
    } else if (first >= 0xE0 && first <= 0xEF) {
        count = 3, code = first & 0x0F, minimum = 0x800;
    } else if (first >= 0xF0 && first <= 0xF4) {
        count = 4, code = first & 0x07, minimum = 0x10000;
    } else {
        return 0;
    }
    if (count > length)
        return 0;
    for (size_t i = 1; i < count; i++) {
        if ((text[i] & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (text[i] & 0x3F);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return count;
}

/* Checks that a record is valid UTF-8 and that no string in it contains
 * the escape \u0000, which cJSON would decode into a NUL that silently
 * cuts the value short. On failure, writes the reason into problem. */
static bool check_encoding(const char *text, size_t length, char *problem, size_t size)
{
    const unsigned char *bytes = (const unsigned char *)text;
    bool in_string = false;
    bool escape = false;
    size_t i = 0;

    while (i < length) {
        size_t step = utf8_sequence_length(bytes + i, length - i);

        if (step == 0) {
            snprintf(problem, size, "bad encoding: invalid UTF-8 at byte %zu of the record", i + 1);
            return false;
        }
        if (in_string && escape) {
            escape = false;
            if (bytes[i] == 'u' && length - i > 4 && memcmp(text + i + 1, "0000", 4) == 0) {
                snprintf(problem, size,
                         "bad encoding: a string contains \\u0000 at byte %zu of the record", i);
                return false;
            }
        } else if (in_string && bytes[i] == '\\') {
            escape = true;
        } else if (bytes[i] == '"') {
            in_string = !in_string;
        }
        i += step;
    }
    return true;
}

/* ---- Raw event assembly ---------------------------------------------------------------- */

/* The parts of one record being collected into a struct da_raw_event. The
 * strings point into the cJSON tree or into texts, which owns the decimal
 * forms of numbers and the joined forms of arrays. */
struct raw_builder {
    struct da_raw_event raw;
    struct da_event_field *fields;
    size_t capacity;
    struct da_strv texts;
    char problem[PROBLEM_MAX];
    bool out_of_memory;
};

static void raw_builder_clear(struct raw_builder *builder)
{
    free(builder->fields);
    da_strv_clear(&builder->texts);
    memset(builder, 0, sizeof(*builder));
}

/* Keeps a copy of text in the builder and returns it, or NULL when out of
 * memory. */
static const char *keep_text(struct raw_builder *builder, const char *text)
{
    if (da_strv_append(&builder->texts, text) != 0) {
        builder->out_of_memory = true;
        return NULL;
    }
    return builder->texts.items[builder->texts.count - 1];
}

enum scalar_result {
    SCALAR_OK,
    SCALAR_ABSENT,  /* null, or a value with no text form */
    SCALAR_INVALID, /* the reason is in builder->problem */
};

/* Writes the decimal text of a number. Integers are exact only below
 * 2^53, because cJSON keeps numbers as doubles. */
static enum scalar_result number_text(struct raw_builder *builder, const cJSON *item,
                                      const char *name, char *buffer, size_t size)
{
    double value = item->valuedouble;

    if (value == floor(value) && fabs(value) < EXACT_INTEGER_LIMIT) {
        snprintf(buffer, size, "%.0f", value);
        return SCALAR_OK;
    }
    if (value == floor(value)) {
        snprintf(builder->problem, sizeof(builder->problem),
                 "%s: the number is too large to be read exactly; export it as a string", name);
        return SCALAR_INVALID;
    }
    snprintf(buffer, size, "%.17g", value);
    return SCALAR_OK;
}

static enum scalar_result scalar_text(struct raw_builder *builder, const cJSON *item,
                                      const char *name, const char **text);

/* Joins the scalars of an array with line feeds. da_event_build splits a
 * multi-valued field such as AllowedToDelegateTo on them, as on the
 * "\r\n\t\t" that Windows writes between values. */
static enum scalar_result array_text(struct raw_builder *builder, const cJSON *array,
                                     const char *name, const char **text)
{
    size_t length = 0;
    char *joined = NULL;
    const cJSON *element = NULL;

    cJSON_ArrayForEach(element, array)
    {
        const char *part = NULL;
        enum scalar_result result = scalar_text(builder, element, name, &part);

        if (result == SCALAR_INVALID)
            goto fail;
        if (result == SCALAR_ABSENT || cJSON_IsArray(element))
            continue;

        size_t part_length = strlen(part);
        char *grown = realloc(joined, length + part_length + 2);

        if (grown == NULL) {
            builder->out_of_memory = true;
            goto fail;
        }
        joined = grown;
        if (length > 0)
            joined[length++] = '\n';
        memcpy(joined + length, part, part_length + 1);
        length += part_length;
    }
    if (joined == NULL)
        return SCALAR_ABSENT;
    if (da_strv_append_owned(&builder->texts, joined) != 0) {
        builder->out_of_memory = true;
        free(joined);
        return SCALAR_INVALID;
    }
    *text = joined;
    return SCALAR_OK;

fail:
    free(joined);
    return SCALAR_INVALID;
}

/* Finds the text of a JSON value: a string as is, a number in decimal, a
 * boolean as "true" or "false", evtx_dump's {"#text": value} as its text,
 * an array of scalars joined by line feeds. null, and an object without
 * "#text", are absent. */
static enum scalar_result scalar_text(struct raw_builder *builder, const cJSON *item,
                                      const char *name, const char **text)
{
    char number[64];

    if (cJSON_IsString(item)) {
        *text = item->valuestring;
        return SCALAR_OK;
    }
    if (cJSON_IsBool(item)) {
        *text = cJSON_IsTrue(item) ? "true" : "false";
        return SCALAR_OK;
    }
    if (cJSON_IsNumber(item)) {
        enum scalar_result result = number_text(builder, item, name, number, sizeof(number));

        if (result != SCALAR_OK)
            return result;
        *text = keep_text(builder, number);
        return *text != NULL ? SCALAR_OK : SCALAR_INVALID;
    }
    if (cJSON_IsObject(item)) {
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive(item, "#text");

        if (inner == NULL || cJSON_IsObject(inner))
            return SCALAR_ABSENT;
        return scalar_text(builder, inner, name, text);
    }
    if (cJSON_IsArray(item))
        return array_text(builder, item, name, text);
    return SCALAR_ABSENT;
}

static int add_field(struct raw_builder *builder, const char *name, const cJSON *item)
{
    const char *value = NULL;
    enum scalar_result result = scalar_text(builder, item, name, &value);

    if (result == SCALAR_INVALID)
        return -1;
    if (result == SCALAR_ABSENT)
        return 0;

    if (builder->raw.field_count == builder->capacity) {
        size_t capacity = builder->capacity == 0 ? 32 : builder->capacity * 2;
        struct da_event_field *grown = realloc(builder->fields, capacity * sizeof(*grown));

        if (grown == NULL) {
            builder->out_of_memory = true;
            return -1;
        }
        builder->fields = grown;
        builder->capacity = capacity;
    }
    builder->fields[builder->raw.field_count].name = name;
    builder->fields[builder->raw.field_count].value = value;
    builder->raw.field_count++;
    builder->raw.fields = builder->fields;
    return 0;
}

/* Finds the member at a dotted path such as "winlog.event_data", whether
 * the document nests it ({"winlog":{"event_data":...}}), flattens it
 * ({"winlog.event_data":...}) or mixes both. */
static const cJSON *lookup_path(const cJSON *object, const char *path)
{
    size_t path_length = strlen(path);
    const cJSON *child = NULL;

    if (!cJSON_IsObject(object))
        return NULL;
    cJSON_ArrayForEach(child, object)
    {
        size_t key_length = strlen(child->string);

        if (key_length == path_length && memcmp(child->string, path, key_length) == 0)
            return child;
        if (key_length < path_length && path[key_length] == '.' &&
            memcmp(child->string, path, key_length) == 0) {
            const cJSON *found = lookup_path(child, path + key_length + 1);

            if (found != NULL)
                return found;
        }
    }
    return NULL;
}

/* Adds the EventData fields found under a dotted path: the members of the
 * object at that path, and the members whose keys continue the path
 * ("winlog.event_data.TargetSid"), nested or flattened in any mix. */
static int collect_fields(struct raw_builder *builder, const cJSON *object, const char *path)
{
    size_t path_length = strlen(path);
    const cJSON *child = NULL;

    cJSON_ArrayForEach(child, object)
    {
        const char *key = child->string;
        size_t key_length = strlen(key);
        int rc = 0;

        if (key_length == path_length && memcmp(key, path, key_length) == 0) {
            const cJSON *field = NULL;

            if (!cJSON_IsObject(child))
                continue;
            cJSON_ArrayForEach(field, child)
            {
                if (add_field(builder, field->string, field) != 0)
                    return -1;
            }
        } else if (key_length < path_length && path[key_length] == '.' &&
                   memcmp(key, path, key_length) == 0 && cJSON_IsObject(child)) {
            rc = collect_fields(builder, child, path + key_length + 1);
        } else if (key_length > path_length + 1 && key[path_length] == '.' &&
                   memcmp(key, path, path_length) == 0) {
            rc = add_field(builder, key + path_length + 1, child);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Reads an event id from a number or a string of decimal digits. */
static bool parse_event_id(const cJSON *item, unsigned long *event_id)
{
    if (cJSON_IsObject(item))
        item = cJSON_GetObjectItemCaseSensitive(item, "#text");
    if (cJSON_IsNumber(item)) {
        double value = item->valuedouble;

        if (value != floor(value) || value < 0 || value > 0xFFFFFFFF)
            return false;
        *event_id = (unsigned long)value;
        return true;
    }
    if (cJSON_IsString(item)) {
        const char *text = item->valuestring;
        char *end = NULL;
        unsigned long value = 0;

        if (text[0] < '0' || text[0] > '9')
            return false;
        errno = 0;
        value = strtoul(text, &end, 10);
        if (errno != 0 || *end != '\0' || value > 0xFFFFFFFFUL)
            return false;
        *event_id = value;
        return true;
    }
    return false;
}

/* Sets one System part (time, computer or record id) from the first of
 * the paths that is present. Returns -1 when that value is invalid. */
static int set_system_text(struct raw_builder *builder, const cJSON *root, const char *const *paths,
                           const char **target)
{
    for (size_t i = 0; paths[i] != NULL; i++) {
        const cJSON *item = lookup_path(root, paths[i]);
        enum scalar_result result = SCALAR_ABSENT;

        if (item == NULL)
            continue;
        result = scalar_text(builder, item, paths[i], target);
        if (result == SCALAR_INVALID)
            return -1;
        if (result == SCALAR_OK)
            return 0;
    }
    return 0;
}

/* evtx_dump: {"Event":{"System":{...},"EventData":{...}}}. */
static int build_from_evtx_dump(struct raw_builder *builder, const cJSON *event)
{
    static const char *const time_paths[] = {"System.TimeCreated.#attributes.SystemTime", NULL};
    static const char *const computer_paths[] = {"System.Computer", NULL};
    static const char *const record_paths[] = {"System.EventRecordID", NULL};
    const cJSON *event_data = cJSON_GetObjectItemCaseSensitive(event, "EventData");
    const cJSON *fields = cJSON_IsObject(event_data) ? event_data : NULL;
    const cJSON *id = lookup_path(event, "System.EventID");
    const cJSON *field = NULL;

    if (id == NULL) {
        snprintf(builder->problem, sizeof(builder->problem), "missing Event.System.EventID");
        return -1;
    }
    if (!parse_event_id(id, &builder->raw.event_id)) {
        snprintf(builder->problem, sizeof(builder->problem), "invalid Event.System.EventID");
        return -1;
    }
    if (set_system_text(builder, event, time_paths, &builder->raw.time_created) != 0 ||
        set_system_text(builder, event, computer_paths, &builder->raw.computer) != 0 ||
        set_system_text(builder, event, record_paths, &builder->raw.record_id) != 0)
        return -1;

    /* Attribute members such as "#attributes" are no EventData fields. */
    cJSON_ArrayForEach(field, fields)
    {
        if (field->string[0] == '#')
            continue;
        if (add_field(builder, field->string, field) != 0)
            return -1;
    }
    return 0;
}

/* Rewrites NXLog's "YYYY-MM-DD HH:MM:SS[.fff]" as ISO 8601. NXLog writes
 * EventTime in the collector's local time without a zone. The record does
 * not contain the offset to UTC, so a time without a zone is taken as UTC.
 * NOTE: on a collector outside UTC such times are off by its offset.
 * A time that carries "Z" or an offset keeps it, and other text is passed
 * on unchanged for da_event_build to judge. */
static const char *nxlog_time(struct raw_builder *builder, const char *text)
{
    char iso[64];
    size_t length = strlen(text);
    size_t end = 19;

    if (length < 19 || length >= sizeof(iso) - 1 || (text[10] != ' ' && text[10] != 'T'))
        return text;
    memcpy(iso, text, length + 1);
    iso[10] = 'T';
    if (iso[end] == '.') {
        end++;
        while (iso[end] >= '0' && iso[end] <= '9')
            end++;
    }
    if (iso[end] == '\0') {
        iso[end] = 'Z';
        iso[end + 1] = '\0';
    }
    return keep_text(builder, iso);
}

static bool is_nxlog_system_key(const char *key)
{
    for (size_t i = 0; i < sizeof(nxlog_system_keys) / sizeof(nxlog_system_keys[0]); i++) {
        if (strcmp(key, nxlog_system_keys[i]) == 0)
            return true;
    }
    return false;
}

/* NXLog: a flat object with EventID and the EventData fields at the top. */
static int build_from_nxlog(struct raw_builder *builder, const cJSON *root)
{
    static const char *const time_paths[] = {"EventTime", "EventReceivedTime", NULL};
    static const char *const computer_paths[] = {"Hostname", NULL};
    static const char *const record_paths[] = {"RecordNumber", NULL};
    const cJSON *field = NULL;

    if (!parse_event_id(cJSON_GetObjectItemCaseSensitive(root, "EventID"),
                        &builder->raw.event_id)) {
        snprintf(builder->problem, sizeof(builder->problem), "invalid EventID");
        return -1;
    }
    if (set_system_text(builder, root, time_paths, &builder->raw.time_created) != 0 ||
        set_system_text(builder, root, computer_paths, &builder->raw.computer) != 0 ||
        set_system_text(builder, root, record_paths, &builder->raw.record_id) != 0)
        return -1;
    if (builder->raw.time_created != NULL) {
        builder->raw.time_created = nxlog_time(builder, builder->raw.time_created);
        if (builder->raw.time_created == NULL)
            return -1;
    }

    cJSON_ArrayForEach(field, root)
    {
        if (is_nxlog_system_key(field->string))
            continue;
        if (add_field(builder, field->string, field) != 0)
            return -1;
    }
    return 0;
}

/* Winlogbeat 7 and later put the record under "winlog". Winlogbeat 6
 * writes event_id, computer_name, record_id and event_data at the top. */
static int build_from_beats(struct raw_builder *builder, const cJSON *root)
{
    static const char *const id_paths[] = {"winlog.event_id", "event.code", "event_id", NULL};
    static const char *const time_paths[] = {"winlog.time_created", "@timestamp", NULL};
    static const char *const computer_paths[] = {"winlog.computer_name", "host.name",
                                                 "computer_name", NULL};
    static const char *const record_paths[] = {"winlog.record_id", "record_id", NULL};
    const cJSON *id = NULL;
    const char *id_path = NULL;

    for (size_t i = 0; id_paths[i] != NULL && id == NULL; i++) {
        id = lookup_path(root, id_paths[i]);
        id_path = id_paths[i];
    }
    if (id == NULL) {
        snprintf(builder->problem, sizeof(builder->problem),
                 "missing event id: no winlog.event_id, event.code, event_id, EventID or "
                 "Event.System.EventID");
        return -1;
    }
    if (!parse_event_id(id, &builder->raw.event_id)) {
        snprintf(builder->problem, sizeof(builder->problem), "invalid %s", id_path);
        return -1;
    }
    if (set_system_text(builder, root, time_paths, &builder->raw.time_created) != 0 ||
        set_system_text(builder, root, computer_paths, &builder->raw.computer) != 0 ||
        set_system_text(builder, root, record_paths, &builder->raw.record_id) != 0)
        return -1;

    if (collect_fields(builder, root, "winlog.event_data") != 0)
        return -1;
    return collect_fields(builder, root, "event_data");
}

/* Fills builder->raw from a parsed record in any of the accepted shapes. */
static int build_raw_event(struct raw_builder *builder, const cJSON *root)
{
    const cJSON *source = cJSON_GetObjectItemCaseSensitive(root, "_source");
    const cJSON *event = NULL;

    /* A hit of an Elasticsearch _search response wraps the document. */
    if (cJSON_IsObject(source))
        root = source;

    event = cJSON_GetObjectItemCaseSensitive(root, "Event");
    if (cJSON_IsObject(event) && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(event, "System")))
        return build_from_evtx_dump(builder, event);
    if (cJSON_GetObjectItemCaseSensitive(root, "EventID") != NULL)
        return build_from_nxlog(builder, root);
    return build_from_beats(builder, root);
}

/* ---- One record ------------------------------------------------------------------------ */

/* Parses the text of one record (an NDJSON line or a document element),
 * builds its event and hands it on. A malformed record is reported and
 * counted. Returns non-zero only when on_event or memory fails. */
static int read_record(struct json_source *source, const char *text, size_t length,
                       unsigned long line)
{
    struct raw_builder builder = {0};
    struct da_event event = {0};
    char problem[PROBLEM_MAX];
    const char *parse_end = NULL;
    cJSON *root = NULL;
    int rc = 0;

    source->stats->records++;
    if (source->reader->wants_text != NULL &&
        !source->reader->wants_text(text, length, source->reader->context))
        goto out;

    if (!check_encoding(text, length, problem, sizeof(problem))) {
        report_problem(source, line, "%s", problem);
        goto out;
    }

    root = cJSON_ParseWithLengthOpts(text, length, &parse_end, false);
    if (root == NULL) {
        size_t offset = parse_end != NULL && parse_end >= text ? (size_t)(parse_end - text) : 0;

        report_problem(source, line, "invalid JSON near byte %zu of the record", offset + 1);
        goto out;
    }
    for (const char *rest = parse_end; rest < text + length; rest++) {
        if (*rest != ' ' && *rest != '\t' && *rest != '\r' && *rest != '\n') {
            report_problem(source, line, "invalid JSON: text after the value at byte %zu",
                           (size_t)(rest - text) + 1);
            goto out;
        }
    }
    if (!cJSON_IsObject(root)) {
        report_problem(source, line, "not a JSON object");
        goto out;
    }

    if (build_raw_event(&builder, root) != 0) {
        if (builder.out_of_memory) {
            rc = da_error_set(source->err, DA_ERR_LOCAL, "reading %s: out of memory", source->path);
            goto out;
        }
        report_problem(source, line, "%s", builder.problem);
        goto out;
    }

    switch (da_event_build(&builder.raw, source->path, line, &event, problem, sizeof(problem))) {
    case DA_EVENT_KEPT:
        source->stats->kept++;
        rc = source->reader->on_event(&event, source->reader->context, source->err);
        break;
    case DA_EVENT_SKIPPED:
        break;
    case DA_EVENT_MALFORMED:
        report_problem(source, line, "%s", problem);
        break;
    }

out:
    da_event_clear(&event);
    raw_builder_clear(&builder);
    cJSON_Delete(root);
    return rc;
}

/* ---- Record buffer --------------------------------------------------------------------- */

/* The text of the record being read, at most RECORD_MAX bytes. Bytes past
 * the limit are dropped and overflow is set. */
struct record_buffer {
    char *text;
    size_t length;
    size_t capacity;
    bool overflow;
    bool out_of_memory;
};

static void record_append(struct record_buffer *record, const char *bytes, size_t count)
{
    if (record->overflow || record->out_of_memory)
        return;
    if (count > RECORD_MAX - record->length) {
        record->overflow = true;
        return;
    }
    if (record->length + count > record->capacity) {
        size_t capacity = record->capacity == 0 ? 4096 : record->capacity;
        char *grown = NULL;

        while (capacity < record->length + count)
            capacity *= 2;
        if (capacity > RECORD_MAX)
            capacity = RECORD_MAX;
        grown = realloc(record->text, capacity);
        if (grown == NULL) {
            record->out_of_memory = true;
            return;
        }
        record->text = grown;
        record->capacity = capacity;
    }
    memcpy(record->text + record->length, bytes, count);
    record->length += count;
}

static void record_reset(struct record_buffer *record)
{
    record->length = 0;
    record->overflow = false;
}

/* Reads a finished record from the buffer, or reports why it cannot. */
static int finish_record(struct json_source *source, struct record_buffer *record,
                         unsigned long line)
{
    int rc = 0;

    if (record->out_of_memory)
        return da_error_set(source->err, DA_ERR_LOCAL, "reading %s: out of memory", source->path);
    if (record->overflow) {
        source->stats->records++;
        report_problem(source, line, "the record is longer than " RECORD_MAX_TEXT "; skipped");
    } else {
        rc = read_record(source, record->text, record->length, line);
    }
    record_reset(record);
    return rc;
}

/* ---- NDJSON ---------------------------------------------------------------------------- */

static bool is_blank(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
            return false;
    }
    return true;
}

static int finish_line(struct json_source *source, struct record_buffer *line_text,
                       unsigned long line)
{
    if (!line_text->overflow && !line_text->out_of_memory &&
        is_blank(line_text->text, line_text->length)) {
        record_reset(line_text);
        return 0;
    }
    return finish_record(source, line_text, line);
}

static int read_json_lines(struct json_source *source, FILE *file, char *chunk)
{
    struct record_buffer line_text = {0};
    unsigned long line = 1;
    bool first_chunk = true;
    size_t count = 0;
    int rc = 0;

    while ((count = fread(chunk, 1, READ_CHUNK, file)) > 0) {
        const char *start = chunk;
        const char *end = chunk + count;

        if (first_chunk && count >= 3 && memcmp(chunk, "\xEF\xBB\xBF", 3) == 0)
            start += 3;
        first_chunk = false;

        while (start < end) {
            const char *newline = memchr(start, '\n', (size_t)(end - start));

            if (newline == NULL) {
                record_append(&line_text, start, (size_t)(end - start));
                break;
            }
            record_append(&line_text, start, (size_t)(newline - start));
            rc = finish_line(source, &line_text, line);
            if (rc != 0)
                goto out;
            line++;
            start = newline + 1;
        }
    }
    if (ferror(file)) {
        rc = da_error_set(source->err, DA_ERR_LOCAL, "reading %s: %s", source->path,
                          strerror(errno));
        goto out;
    }
    rc = finish_line(source, &line_text, line);

out:
    free(line_text.text);
    return rc;
}

/* ---- Single documents ------------------------------------------------------------------ */

/* The role of a container in the document, as far as the scanner needs it. */
enum container_role {
    ROLE_OTHER,
    ROLE_TOP_OBJECT,  /* an object at the top: a _search response or one event */
    ROLE_HITS_OBJECT, /* "hits" of a _search response */
    ROLE_EVENT_ARRAY, /* a top-level array, or hits.hits: each element is a record */
};

enum capture_mode {
    CAPTURE_NONE,
    CAPTURE_ELEMENT,      /* an element of the event array */
    CAPTURE_TOP_DOCUMENT, /* a top-level object that may be one event */
};

/* Text at the top level outside any JSON value, such as the "Record 12"
 * lines between the documents of evtx_dump's default output. */
struct stray_text {
    bool active;
    unsigned long line;
    char text[QUOTE_MAX];
    size_t length;
};

struct document_scanner {
    struct json_source *source;
    unsigned long line;
    size_t depth;
    enum container_role role[TRACKED_DEPTH + 1]; /* by depth, 1-based */
    bool in_object[TRACKED_DEPTH + 1];
    bool expect_key[TRACKED_DEPTH + 1];  /* the next string in that object is a key */
    bool key_is_hits[TRACKED_DEPTH + 1]; /* the key of the current member is "hits" */
    bool in_string;
    bool escape;
    bool reading_key;
    char key[8];
    size_t key_length;

    enum capture_mode capture;
    size_t element_depth; /* the depth of the event array holding the element */
    unsigned long record_line;
    struct record_buffer record;
    struct stray_text stray;
};

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decides what a container opening at the new depth is. */
static enum container_role container_role(struct document_scanner *scanner, char bracket)
{
    size_t depth = scanner->depth;
    size_t parent = depth - 1;

    if (depth == 1)
        return bracket == '[' ? ROLE_EVENT_ARRAY : ROLE_TOP_OBJECT;
    if (depth > TRACKED_DEPTH || !scanner->in_object[parent] || !scanner->key_is_hits[parent])
        return ROLE_OTHER;
    if (scanner->role[parent] == ROLE_TOP_OBJECT && bracket == '{')
        return ROLE_HITS_OBJECT;
    if (scanner->role[parent] == ROLE_HITS_OBJECT && bracket == '[')
        return ROLE_EVENT_ARRAY;
    return ROLE_OTHER;
}

static void open_container(struct document_scanner *scanner, char bracket)
{
    scanner->depth++;
    if (scanner->depth > TRACKED_DEPTH)
        return;

    scanner->in_object[scanner->depth] = bracket == '{';
    scanner->expect_key[scanner->depth] = bracket == '{';
    scanner->key_is_hits[scanner->depth] = false;
    scanner->role[scanner->depth] = container_role(scanner, bracket);

    /* The top-level object is a _search response after all: its hits are
     * the records, not the object itself. */
    if (scanner->role[scanner->depth] == ROLE_EVENT_ARRAY &&
        scanner->capture == CAPTURE_TOP_DOCUMENT) {
        scanner->capture = CAPTURE_NONE;
        record_reset(&scanner->record);
    }
}

static void finish_key(struct document_scanner *scanner)
{
    scanner->reading_key = false;
    if (scanner->depth <= TRACKED_DEPTH)
        scanner->key_is_hits[scanner->depth] =
            scanner->key_length == 4 && memcmp(scanner->key, "hits", 4) == 0;
}

/* Handles a byte inside a string. */
static void scan_string_byte(struct document_scanner *scanner, char c)
{
    if (scanner->escape) {
        scanner->escape = false;
    } else if (c == '\\') {
        scanner->escape = true;
    } else if (c == '"') {
        scanner->in_string = false;
        if (scanner->reading_key)
            finish_key(scanner);
        return;
    }
    if (scanner->reading_key) {
        if (scanner->key_length < sizeof(scanner->key))
            scanner->key[scanner->key_length] = c;
        scanner->key_length++;
    }
}

/* Tracks strings, keys and brackets for a byte outside strings. */
static void scan_structure_byte(struct document_scanner *scanner, char c)
{
    size_t depth = scanner->depth;
    bool tracked = depth >= 1 && depth <= TRACKED_DEPTH;

    switch (c) {
    case '"':
        scanner->in_string = true;
        if (tracked && scanner->in_object[depth] && scanner->expect_key[depth]) {
            scanner->expect_key[depth] = false;
            scanner->reading_key = true;
            scanner->key_length = 0;
        }
        break;
    case ',':
        if (tracked && scanner->in_object[depth])
            scanner->expect_key[depth] = true;
        break;
    case '{':
    case '[':
        open_container(scanner, c);
        break;
    case '}':
    case ']':
        if (scanner->depth > 0)
            scanner->depth--;
        break;
    default:
        break;
    }
}

/* Reports stray top-level text, unless it is an evtx_dump "Record N" line. */
static void finish_stray_text(struct document_scanner *scanner)
{
    struct stray_text *stray = &scanner->stray;
    char quoted[QUOTE_MAX * 4 + 8];
    size_t i = 7;

    stray->active = false;
    if (stray->length > 7 && memcmp(stray->text, "Record ", 7) == 0) {
        while (i < stray->length && stray->text[i] >= '0' && stray->text[i] <= '9')
            i++;
        while (i < stray->length && is_json_space(stray->text[i]))
            i++;
        if (i == stray->length && stray->length < sizeof(stray->text))
            return;
    }
    da_error_quote(stray->text, stray->length, quoted, sizeof(quoted));
    report_problem(scanner->source, stray->line, "not JSON: \"%s\"; skipped to the next line",
                   quoted);
}

/* Handles a byte at the top level, outside any value. Returns true when
 * the byte was consumed here. */
static bool scan_top_level_byte(struct document_scanner *scanner, char c)
{
    struct stray_text *stray = &scanner->stray;

    if (stray->active) {
        if (c == '\n')
            finish_stray_text(scanner);
        else if (stray->length < sizeof(stray->text))
            stray->text[stray->length++] = c;
        return true;
    }
    if (is_json_space(c))
        return true;
    if (c == '{') {
        scanner->capture = CAPTURE_TOP_DOCUMENT;
        scanner->record_line = scanner->line;
        return false;
    }
    if (c == '[')
        return false;

    stray->active = true;
    stray->line = scanner->line;
    stray->text[0] = c;
    stray->length = 1;
    return true;
}

/* Feeds one byte of the document to the scanner. */
static int scan_byte(struct document_scanner *scanner, char c)
{
    int rc = 0;

    if (scanner->in_string) {
        if (scanner->capture != CAPTURE_NONE)
            record_append(&scanner->record, &c, 1);
        scan_string_byte(scanner, c);
        return 0;
    }

    if (scanner->depth == 0 && scan_top_level_byte(scanner, c))
        return 0;

    if (scanner->capture == CAPTURE_ELEMENT && scanner->depth == scanner->element_depth &&
        (c == ',' || c == ']')) {
        scanner->capture = CAPTURE_NONE;
        rc = finish_record(scanner->source, &scanner->record, scanner->record_line);
        if (rc != 0)
            return rc;
    } else if (scanner->capture == CAPTURE_NONE && scanner->depth >= 1 &&
               scanner->depth <= TRACKED_DEPTH &&
               scanner->role[scanner->depth] == ROLE_EVENT_ARRAY && !is_json_space(c) && c != ',' &&
               c != ']') {
        scanner->capture = CAPTURE_ELEMENT;
        scanner->element_depth = scanner->depth;
        scanner->record_line = scanner->line;
    }

    if (scanner->capture != CAPTURE_NONE)
        record_append(&scanner->record, &c, 1);
    scan_structure_byte(scanner, c);

    if (scanner->capture == CAPTURE_TOP_DOCUMENT && scanner->depth == 0) {
        scanner->capture = CAPTURE_NONE;
        rc = finish_record(scanner->source, &scanner->record, scanner->record_line);
    }
    return rc;
}

/* Reports what the end of the file leaves unfinished. */
static void finish_document(struct document_scanner *scanner)
{
    struct json_source *source = scanner->source;

    if (scanner->stray.active)
        finish_stray_text(scanner);
    if (scanner->capture != CAPTURE_NONE) {
        source->stats->records++;
        report_problem(source, scanner->record_line,
                       "the file ends inside this record: the document is truncated");
    } else if (scanner->depth > 0) {
        report_problem(source, scanner->line,
                       "the file ends before the document is closed: it is truncated");
    }
}

static int read_json_document(struct json_source *source, FILE *file, char *chunk)
{
    struct document_scanner scanner = {.source = source, .line = 1};
    bool first_chunk = true;
    size_t count = 0;
    int rc = 0;

    while ((count = fread(chunk, 1, READ_CHUNK, file)) > 0) {
        size_t start = 0;

        if (first_chunk && count >= 3 && memcmp(chunk, "\xEF\xBB\xBF", 3) == 0)
            start = 3;
        first_chunk = false;

        for (size_t i = start; i < count; i++) {
            rc = scan_byte(&scanner, chunk[i]);
            if (rc != 0)
                goto out;
            if (chunk[i] == '\n')
                scanner.line++;
        }
    }
    if (ferror(file)) {
        rc = da_error_set(source->err, DA_ERR_LOCAL, "reading %s: %s", source->path,
                          strerror(errno));
        goto out;
    }
    if (scanner.record.out_of_memory) {
        rc = da_error_set(source->err, DA_ERR_LOCAL, "reading %s: out of memory", source->path);
        goto out;
    }
    finish_document(&scanner);

out:
    free(scanner.record.text);
    return rc;
}

/* ---- Entry point ----------------------------------------------------------------------- */

/* Rejects a UTF-16 file, such as Windows PowerShell 5.1 writes with
 * Out-File by default, because this reader takes UTF-8 only. */
static int check_not_utf16(struct json_source *source, FILE *file)
{
    unsigned char head[2];
    size_t count = fread(head, 1, sizeof(head), file);

    rewind(file);
    if (count == 2 &&
        ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF)))
        return da_error_set(source->err, DA_ERR_USAGE,
                            "%s is UTF-16 text; convert it to UTF-8 first, for example with "
                            "iconv -f UTF-16 -t UTF-8",
                            source->path);
    return 0;
}

int da_events_read_json(const char *path, enum da_event_format format,
                        const struct da_event_reader *reader, struct da_event_read_stats *stats,
                        struct da_error *err)
{
    struct da_event_read_stats own_stats = {0};
    struct json_source source = {
        .path = path, .reader = reader, .stats = stats != NULL ? stats : &own_stats, .err = err};
    FILE *file = NULL;
    char *chunk = NULL;
    int rc = 0;

    if (format != DA_EVENT_FORMAT_JSON_LINES && format != DA_EVENT_FORMAT_JSON)
        return da_error_set(err, DA_ERR_USAGE, "reading %s: the JSON reader cannot read format %s",
                            path, da_event_format_name(format));

    file = fopen(path, "rb");
    if (file == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "cannot open %s: %s", path, strerror(errno));
    chunk = malloc(READ_CHUNK);
    if (chunk == NULL) {
        rc = da_error_set(err, DA_ERR_LOCAL, "reading %s: out of memory", path);
        goto out;
    }
    rc = check_not_utf16(&source, file);
    if (rc != 0)
        goto out;

    if (format == DA_EVENT_FORMAT_JSON_LINES)
        rc = read_json_lines(&source, file, chunk);
    else
        rc = read_json_document(&source, file, chunk);

out:
    free(chunk);
    fclose(file);
    return rc;
}
