/* memmem, which glibc declares only for GNU sources. */
#define _GNU_SOURCE

/* The XML reader. An export is a run of <Event> elements, with or without
 * an <Events> root, so the file is never parsed as one document: a scanner
 * cuts the decoded byte stream into elements and libxml2 parses each one on
 * its own. A broken record then costs only itself, and memory stays bounded
 * by the largest element. */
#include "auditor/events/xml.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#define EVENT_NAMESPACE "http://schemas.microsoft.com/win/2004/08/events/event"

/* Bytes read from the file at a time. */
#define READ_BLOCK_SIZE (64 * 1024)

/* The largest <Event> element read. Security records are a few KiB (an
 * estimate), so a longer one is reported as malformed instead of growing
 * the buffer without end. */
#define MAX_ELEMENT_SIZE (16 * 1024 * 1024)

/* "</Event" or "<Event" plus the character after the name. */
#define TAG_LOOKAHEAD 8

/* ---- One element ------------------------------------------------------------------------ */

static bool has_name(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

static const xmlNode *find_child(const xmlNode *parent, const char *name)
{
    for (const xmlNode *child = parent->children; child != NULL; child = child->next) {
        if (has_name(child, name))
            return child;
    }
    return NULL;
}

/* The owned strings behind a da_raw_event, freed with xmlFree. */
struct raw_storage {
    xmlChar *event_id;
    xmlChar *time_created;
    xmlChar *computer;
    xmlChar *record_id;
    struct da_event_field *fields;
    xmlChar **names;
    xmlChar **values;
    size_t count;
};

static void raw_storage_clear(struct raw_storage *storage)
{
    for (size_t i = 0; i < storage->count; i++) {
        xmlFree(storage->names[i]);
        xmlFree(storage->values[i]);
    }
    free(storage->fields);
    free(storage->names);
    free(storage->values);
    xmlFree(storage->event_id);
    xmlFree(storage->time_created);
    xmlFree(storage->computer);
    xmlFree(storage->record_id);
    memset(storage, 0, sizeof(*storage));
}

/* Text of a child element with surrounding white space removed in place. */
static xmlChar *child_text(const xmlNode *parent, const char *name)
{
    const xmlNode *child = find_child(parent, name);
    xmlChar *text = NULL;

    if (child == NULL)
        return NULL;
    text = xmlNodeGetContent(child);
    if (text == NULL)
        return NULL;

    size_t start = 0;
    size_t length = strlen((const char *)text);
    while (start < length && strchr(" \t\r\n", text[start]) != NULL)
        start++;
    while (length > start && strchr(" \t\r\n", text[length - 1]) != NULL)
        length--;
    memmove(text, text + start, length - start);
    text[length - start] = '\0';
    return text;
}

/* Collects <EventData><Data Name="...">value</Data>. Data without a Name
 * (classic events with positional strings) carries nothing we read. */
static int collect_event_data(const xmlNode *event_data, struct raw_storage *storage)
{
    size_t capacity = 0;

    for (const xmlNode *child = event_data->children; child != NULL; child = child->next) {
        if (has_name(child, "Data"))
            capacity++;
    }
    if (capacity == 0)
        return 0;

    storage->fields = calloc(capacity, sizeof(*storage->fields));
    storage->names = calloc(capacity, sizeof(*storage->names));
    storage->values = calloc(capacity, sizeof(*storage->values));
    if (storage->fields == NULL || storage->names == NULL || storage->values == NULL)
        return -1;

    for (const xmlNode *child = event_data->children; child != NULL; child = child->next) {
        if (!has_name(child, "Data"))
            continue;
        xmlChar *name = xmlGetProp(child, (const xmlChar *)"Name");
        if (name == NULL)
            continue;
        /* An empty element is an empty value, not a missing one. */
        xmlChar *value = xmlNodeGetContent(child);
        if (value == NULL)
            value = xmlStrdup((const xmlChar *)"");
        if (value == NULL) {
            xmlFree(name);
            return -1;
        }
        storage->names[storage->count] = name;
        storage->values[storage->count] = value;
        storage->fields[storage->count].name = (const char *)name;
        storage->fields[storage->count].value = (const char *)value;
        storage->count++;
    }
    return 0;
}

static void report_problem(const char *source_file, const char *position_kind,
                           unsigned long position, const char *message,
                           const struct da_event_reader *reader, struct da_event_read_stats *stats)
{
    if (stats != NULL)
        stats->malformed++;
    if (reader->on_problem != NULL)
        reader->on_problem(source_file, position_kind, position, message, reader->context);
}

/* Describes libxml2's last error without its trailing newline. */
static void describe_xml_error(char *buffer, size_t size)
{
    const xmlError *error = xmlGetLastError();
    char quoted[400];

    if (error == NULL || error->message == NULL) {
        snprintf(buffer, size, "invalid XML in the <Event> element");
        return;
    }
    size_t length = strlen(error->message);
    while (length > 0 && (error->message[length - 1] == '\n' || error->message[length - 1] == ' '))
        length--;
    da_error_quote(error->message, length, quoted, sizeof(quoted));
    snprintf(buffer, size, "invalid XML in the <Event> element, at its line %d: %s", error->line,
             quoted);
}

int da_events_parse_event_xml(const char *xml, size_t length, const char *source_file,
                              const char *position_kind, unsigned long position,
                              const struct da_event_reader *reader,
                              struct da_event_read_stats *stats, struct da_error *err)
{
    xmlDoc *document = NULL;
    struct raw_storage storage = {0};
    struct da_raw_event raw = {0};
    struct da_event event = {0};
    char problem[512];
    int status = DA_OK;

    if (stats != NULL)
        stats->records++;
    if (reader->wants_text != NULL && !reader->wants_text(xml, length, reader->context))
        goto out;

    if (length > INT32_MAX) {
        report_problem(source_file, position_kind, position, "the <Event> element is too large",
                       reader, stats);
        goto out;
    }

    /* XML_PARSE_NONET and neither XML_PARSE_NOENT nor XML_PARSE_DTDLOAD: no
     * external entity or DTD is ever fetched. NOERROR/NOWARNING keep
     * libxml2 off stderr; the error is reported through on_problem. */
    xmlResetLastError();
    document = xmlReadMemory(xml, (int)length, NULL, "UTF-8",
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (document == NULL) {
        describe_xml_error(problem, sizeof(problem));
        report_problem(source_file, position_kind, position, problem, reader, stats);
        goto out;
    }

    const xmlNode *root = xmlDocGetRootElement(document);
    if (root == NULL || !has_name(root, "Event") ||
        (root->ns != NULL && strcmp((const char *)root->ns->href, EVENT_NAMESPACE) != 0)) {
        report_problem(source_file, position_kind, position,
                       "the element is no <Event> of the Windows event schema", reader, stats);
        goto out;
    }

    const xmlNode *system = find_child(root, "System");
    if (system == NULL) {
        report_problem(source_file, position_kind, position, "event without System", reader,
                       stats);
        goto out;
    }

    storage.event_id = child_text(system, "EventID");
    if (storage.event_id == NULL || storage.event_id[0] == '\0') {
        report_problem(source_file, position_kind, position, "event without System/EventID",
                       reader, stats);
        goto out;
    }
    char *end = NULL;
    errno = 0;
    unsigned long event_id = strtoul((const char *)storage.event_id, &end, 10);
    if (errno != 0 || *end != '\0' || event_id > 65535 || storage.event_id[0] == '-' ||
        storage.event_id[0] == '+') {
        char quoted[64];

        da_error_quote((const char *)storage.event_id, strlen((const char *)storage.event_id),
                       quoted, sizeof(quoted));
        snprintf(problem, sizeof(problem), "invalid System/EventID \"%s\"", quoted);
        report_problem(source_file, position_kind, position, problem, reader, stats);
        goto out;
    }

    const xmlNode *time_created = find_child(system, "TimeCreated");
    if (time_created != NULL)
        storage.time_created = xmlGetProp(time_created, (const xmlChar *)"SystemTime");
    storage.computer = child_text(system, "Computer");
    storage.record_id = child_text(system, "EventRecordID");

    const xmlNode *event_data = find_child(root, "EventData");
    if (event_data != NULL && collect_event_data(event_data, &storage) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "reading %s: out of memory", source_file);
        goto out;
    }

    raw.event_id = event_id;
    raw.time_created = (const char *)storage.time_created;
    raw.computer = (const char *)storage.computer;
    raw.record_id = (const char *)storage.record_id;
    raw.fields = storage.fields;
    raw.field_count = storage.count;

    switch (da_event_build(&raw, source_file, position, &event, problem, sizeof(problem))) {
    case DA_EVENT_KEPT:
        if (stats != NULL)
            stats->kept++;
        status = reader->on_event(&event, reader->context, err);
        break;
    case DA_EVENT_MALFORMED:
        report_problem(source_file, position_kind, position, problem, reader, stats);
        break;
    case DA_EVENT_SKIPPED:
        break;
    }

out:
    da_event_clear(&event);
    raw_storage_clear(&storage);
    if (document != NULL)
        xmlFreeDoc(document);
    return status;
}

/* ---- The byte stream -------------------------------------------------------------------- */

/* Cuts a stream of UTF-8 text into <Event> elements. data contains the
 * bytes not yet consumed: inside an element, the element from its '<'. */
struct scanner {
    const char *path;
    const struct da_event_reader *reader;
    struct da_event_read_stats *stats;
    struct da_error *err;

    char *data;
    size_t length;
    size_t capacity;
    size_t scanned;           /* bytes of data already examined */
    unsigned long line;       /* line number of data[scanned] */
    bool in_element;
    bool skipping;            /* inside an element too large to keep */
    size_t element_start;     /* offset of its '<' in data */
    unsigned long element_line;
};

static bool is_name_end(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/';
}

/* "<Event" as a whole name: not <Events>, <EventData>, <EventID>. */
static bool is_event_start(const char *text, size_t available)
{
    return available >= 7 && memcmp(text, "<Event", 6) == 0 && is_name_end(text[6]);
}

static bool is_event_end(const char *text, size_t available)
{
    return available >= 8 && memcmp(text, "</Event", 7) == 0 &&
           (text[7] == '>' || text[7] == ' ' || text[7] == '\t' || text[7] == '\r' ||
            text[7] == '\n');
}

static void report_at(struct scanner *scanner, unsigned long line, const char *message)
{
    if (scanner->stats != NULL)
        scanner->stats->records++;
    report_problem(scanner->path, "line", line, message, scanner->reader, scanner->stats);
}

static void start_element(struct scanner *scanner)
{
    scanner->in_element = true;
    scanner->skipping = false;
    scanner->element_start = scanner->scanned;
    scanner->element_line = scanner->line;
}

/* Examines the unscanned bytes and parses every complete element. At the
 * end of the file (at_end), a tag cut by the end is not waited for. */
/* Returns the first "<Event" or "</Event" followed by the end of the name
 * (white space, '>' or '/'), or NULL. "Event" also begins EventData,
 * EventID and EventRecordID, which the name check rules out. */
static const char *find_event_tag(const char *text, size_t length)
{
    const char *end = text + length;
    const char *cursor = text;

    while (cursor < end) {
        const char *hit = memmem(cursor, (size_t)(end - cursor), "Event", 5);

        if (hit == NULL || hit + 5 >= end)
            return NULL;
        if (is_name_end(hit[5])) {
            if (hit - text >= 1 && hit[-1] == '<')
                return hit - 1;
            if (hit - text >= 2 && hit[-2] == '<' && hit[-1] == '/')
                return hit - 2;
        }
        cursor = hit + 1;
    }
    return NULL;
}

static unsigned long count_newlines(const char *text, size_t length)
{
    unsigned long count = 0;
    const char *end = text + length;

    while (text < end && (text = memchr(text, '\n', (size_t)(end - text))) != NULL) {
        count++;
        text++;
    }
    return count;
}

static int scan(struct scanner *scanner, bool at_end)
{
    while (scanner->scanned < scanner->length) {
        const char *cursor = scanner->data + scanner->scanned;
        size_t available = scanner->length - scanner->scanned;
        /* Only "<Event" or "</Event" can start or end an element: jump to
         * the next one with memmem, counting the lines on the way. Near
         * the end of a block keep a lookahead, as a tag may straddle. */
        const char *tag = find_event_tag(cursor, available);
        size_t skipped;

        if (tag != NULL)
            skipped = (size_t)(tag - cursor);
        else if (at_end || available <= TAG_LOOKAHEAD)
            skipped = at_end ? available : 0;
        else
            skipped = available - TAG_LOOKAHEAD;

        scanner->line += count_newlines(cursor, skipped);
        scanner->scanned += skipped;
        if (tag == NULL)
            break;
        cursor = tag;
        available = scanner->length - scanner->scanned;

        {
            /* A tag may straddle two blocks: wait for enough bytes. */
            if (available < TAG_LOOKAHEAD + 1 && !at_end)
                break;

            if (is_event_start(cursor, available)) {
                if (scanner->in_element)
                    report_at(scanner, scanner->element_line,
                              "the <Event> element has no closing </Event> before the next one");
                start_element(scanner);
            } else if ((scanner->in_element || scanner->skipping) &&
                       is_event_end(cursor, available)) {
                const char *close = memchr(cursor, '>', available);

                if (close == NULL) {
                    if (!at_end)
                        break;
                    close = scanner->data + scanner->length - 1;
                }
                size_t end = (size_t)(close - scanner->data) + 1;
                for (size_t i = scanner->scanned; i < end; i++) {
                    if (scanner->data[i] == '\n')
                        scanner->line++;
                }
                if (scanner->in_element) {
                    int status = da_events_parse_event_xml(
                        scanner->data + scanner->element_start, end - scanner->element_start,
                        scanner->path, "line", scanner->element_line, scanner->reader,
                        scanner->stats, scanner->err);
                    if (status != DA_OK)
                        return status;
                }
                scanner->in_element = false;
                scanner->skipping = false;
                scanner->scanned = end;
                continue;
            }
        }
        scanner->scanned++;
    }

    if (scanner->in_element && scanner->length - scanner->element_start > MAX_ELEMENT_SIZE) {
        char message[128];

        snprintf(message, sizeof(message), "the <Event> element is longer than %d MiB",
                 MAX_ELEMENT_SIZE / (1024 * 1024));
        report_at(scanner, scanner->element_line, message);
        scanner->in_element = false;
        scanner->skipping = true;
    }
    return DA_OK;
}

/* Drops the bytes no longer needed, so that data contains at most one
 * element and the lookahead of a tag. */
static void compact(struct scanner *scanner)
{
    size_t keep_from = scanner->in_element ? scanner->element_start : scanner->scanned;

    if (keep_from == 0)
        return;
    memmove(scanner->data, scanner->data + keep_from, scanner->length - keep_from);
    scanner->length -= keep_from;
    scanner->scanned -= keep_from;
    if (scanner->in_element)
        scanner->element_start = 0;
}

static int append(struct scanner *scanner, const char *bytes, size_t count)
{
    if (count > SIZE_MAX - scanner->length)
        return -1;
    if (scanner->length + count > scanner->capacity) {
        size_t capacity = scanner->capacity ? scanner->capacity : READ_BLOCK_SIZE;
        char *grown = NULL;

        while (capacity < scanner->length + count)
            capacity *= 2;
        grown = realloc(scanner->data, capacity);
        if (grown == NULL)
            return -1;
        scanner->data = grown;
        scanner->capacity = capacity;
    }
    memcpy(scanner->data + scanner->length, bytes, count);
    scanner->length += count;
    return 0;
}

/* Feeds decoded text to the scanner and parses what is complete. */
static int feed(struct scanner *scanner, const char *text, size_t count)
{
    int status = DA_OK;

    if (append(scanner, text, count) != 0)
        return da_error_set(scanner->err, DA_ERR_LOCAL, "reading %s: out of memory",
                            scanner->path);
    status = scan(scanner, false);
    compact(scanner);
    return status;
}

/* ---- Decoding --------------------------------------------------------------------------- */

/* Converts UTF-16LE input to UTF-8 block by block. pending holds the bytes
 * of a character cut by the end of the previous block. */
struct utf16_decoder {
    iconv_t converter;
    char pending[4];
    size_t pending_length;
    char *input;  /* pending bytes and one block */
    char *output; /* each 2-byte code unit becomes at most 3 bytes of UTF-8 */
};

#define UTF16_INPUT_SIZE (READ_BLOCK_SIZE + 4)
#define UTF16_OUTPUT_SIZE (2 * UTF16_INPUT_SIZE)

static int feed_utf16(struct scanner *scanner, struct utf16_decoder *decoder, const char *bytes,
                      size_t count)
{
    char *input = decoder->input;
    char *output = decoder->output;
    size_t input_length = decoder->pending_length + count;
    char *in = input;
    int status = DA_OK;

    if (count > READ_BLOCK_SIZE)
        return da_error_set(scanner->err, DA_ERR_LOCAL, "reading %s: block too large",
                            scanner->path);
    memcpy(input, decoder->pending, decoder->pending_length);
    memcpy(input + decoder->pending_length, bytes, count);
    decoder->pending_length = 0;

    while (input_length > 0) {
        char *out = output;
        size_t out_left = UTF16_OUTPUT_SIZE;
        size_t result = iconv(decoder->converter, &in, &input_length, &out, &out_left);
        int saved_errno = errno;

        status = feed(scanner, output, UTF16_OUTPUT_SIZE - out_left);
        if (status != DA_OK)
            return status;
        if (result != (size_t)-1)
            break;

        if (saved_errno == EINVAL) {
            /* A character continues in the next block. */
            memcpy(decoder->pending, in, input_length);
            decoder->pending_length = input_length;
            break;
        }
        if (saved_errno == EILSEQ) {
            /* An unpaired surrogate: put U+FFFD in its place and go on, so
             * that one damaged character does not end the reading. */
            static const char replacement[] = "\xef\xbf\xbd";

            status = feed(scanner, replacement, 3);
            if (status != DA_OK)
                return status;
            in += input_length >= 2 ? 2 : input_length;
            input_length -= input_length >= 2 ? 2 : input_length;
        } else if (saved_errno != E2BIG) {
            return da_error_set(scanner->err, DA_ERR_LOCAL, "converting %s from UTF-16: %s",
                                scanner->path, strerror(saved_errno));
        }
    }
    return DA_OK;
}

int da_events_read_xml(const char *path, const struct da_event_reader *reader,
                       struct da_event_read_stats *stats, struct da_error *err)
{
    FILE *stream = NULL;
    char *block = NULL;
    struct scanner scanner = {
        .path = path,
        .reader = reader,
        .stats = stats,
        .err = err,
        .line = 1,
    };
    struct utf16_decoder decoder = {.converter = (iconv_t)-1};
    bool first_block = true;
    int status = DA_OK;

    if (stats != NULL)
        memset(stats, 0, sizeof(*stats));
    xmlInitParser();

    stream = fopen(path, "rb");
    if (stream == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot open event log %s: %s", path,
                              strerror(errno));
        goto out;
    }
    block = malloc(READ_BLOCK_SIZE);
    if (block == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "reading %s: out of memory", path);
        goto out;
    }

    for (;;) {
        size_t count = fread(block, 1, READ_BLOCK_SIZE, stream);
        const char *text = block;

        if (count == 0)
            break;

        if (first_block) {
            first_block = false;
            if (count >= 2 && (unsigned char)block[0] == 0xff && (unsigned char)block[1] == 0xfe) {
                decoder.converter = iconv_open("UTF-8", "UTF-16LE");
                if (decoder.converter == (iconv_t)-1) {
                    status = da_error_set(err, DA_ERR_LOCAL,
                                          "reading %s: no UTF-16LE converter: %s", path,
                                          strerror(errno));
                    goto out;
                }
                decoder.input = malloc(UTF16_INPUT_SIZE);
                decoder.output = malloc(UTF16_OUTPUT_SIZE);
                if (decoder.input == NULL || decoder.output == NULL) {
                    status = da_error_set(err, DA_ERR_LOCAL, "reading %s: out of memory", path);
                    goto out;
                }
                text += 2;
                count -= 2;
            } else if (count >= 3 && memcmp(block, "\xef\xbb\xbf", 3) == 0) {
                text += 3;
                count -= 3;
            }
        }

        if (decoder.converter != (iconv_t)-1)
            status = feed_utf16(&scanner, &decoder, text, count);
        else
            status = feed(&scanner, text, count);
        if (status != DA_OK)
            goto out;
    }
    if (ferror(stream)) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot read event log %s: %s", path,
                              strerror(errno));
        goto out;
    }

    status = scan(&scanner, true);
    if (status != DA_OK)
        goto out;
    if (scanner.in_element)
        report_at(&scanner, scanner.element_line,
                  "the file ends inside this <Event> element: it is truncated");

out:
    if (decoder.converter != (iconv_t)-1)
        iconv_close(decoder.converter);
    free(decoder.output);
    free(decoder.input);
    free(scanner.data);
    free(block);
    if (stream != NULL)
        fclose(stream);
    return status;
}
