#include "auditor/events/reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Detection looks at this many bytes at most, so that it stays cheap on a
 * multi-gigabyte file. */
#define DETECT_SAMPLE_SIZE (64 * 1024)

static const char evtx_magic[8] = {'E', 'l', 'f', 'F', 'i', 'l', 'e', '\0'};

const char *da_event_format_name(enum da_event_format format)
{
    switch (format) {
    case DA_EVENT_FORMAT_XML:
        return "xml";
    case DA_EVENT_FORMAT_JSON_LINES:
        return "json-lines";
    case DA_EVENT_FORMAT_JSON:
        return "json";
    case DA_EVENT_FORMAT_EVTX:
        return "evtx";
    case DA_EVENT_FORMAT_UNKNOWN:
        break;
    }
    return "unknown";
}

/* The sample as text: the UTF-8 after a byte order mark, or, for UTF-16LE,
 * the low byte of each code unit with everything above ASCII as '?', which
 * is all that detection needs. */
struct text_sample {
    char *text;
    size_t length;
};

static int decode_sample(const unsigned char *bytes, size_t length, struct text_sample *sample)
{
    if (length >= 2 && bytes[0] == 0xff && bytes[1] == 0xfe) {
        size_t units = (length - 2) / 2;

        sample->text = malloc(units + 1);
        if (sample->text == NULL)
            return -1;
        for (size_t i = 0; i < units; i++) {
            unsigned char low = bytes[2 + 2 * i];
            unsigned char high = bytes[3 + 2 * i];

            sample->text[i] = (high == 0 && low < 0x80) ? (char)low : '?';
        }
        sample->length = units;
        sample->text[units] = '\0';
        return 0;
    }

    size_t skip = (length >= 3 && bytes[0] == 0xef && bytes[1] == 0xbb && bytes[2] == 0xbf) ? 3 : 0;
    sample->text = malloc(length - skip + 1);
    if (sample->text == NULL)
        return -1;
    memcpy(sample->text, bytes + skip, length - skip);
    sample->length = length - skip;
    sample->text[sample->length] = '\0';
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_spaces(const char *text, size_t length, size_t at)
{
    while (at < length && is_space(text[at]))
        at++;
    return at;
}

static bool starts_with(const char *text, size_t length, size_t at, const char *prefix)
{
    size_t prefix_length = strlen(prefix);

    return length - at >= prefix_length && memcmp(text + at, prefix, prefix_length) == 0;
}

/* True when the first element after the prolog (declaration, comments,
 * processing instructions) is <Event> or <Events>. A DOCTYPE means some
 * other document: no Windows export has one. */
static bool looks_like_event_xml(const char *text, size_t length)
{
    size_t at = skip_spaces(text, length, 0);

    for (;;) {
        const char *end = NULL;

        if (starts_with(text, length, at, "<?")) {
            end = strstr(text + at, "?>");
            if (end == NULL)
                return false;
            at = skip_spaces(text, length, (size_t)(end - text) + 2);
        } else if (starts_with(text, length, at, "<!--")) {
            end = strstr(text + at, "-->");
            if (end == NULL)
                return false;
            at = skip_spaces(text, length, (size_t)(end - text) + 3);
        } else {
            break;
        }
    }

    size_t name_end = 0;
    if (starts_with(text, length, at, "<Events"))
        name_end = at + 7;
    else if (starts_with(text, length, at, "<Event"))
        name_end = at + 6;
    else
        return false;
    return name_end < length && (is_space(text[name_end]) || text[name_end] == '>');
}

/* Tells NDJSON from one JSON document by the first value of a text that
 * starts with '{': one line per value means lines, unless the object is an
 * Elasticsearch response (a top-level "hits" member). A value that spans
 * lines is a pretty-printed document. */
static enum da_event_format classify_json_object(const char *text, size_t length, size_t start)
{
    size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    bool expect_key = false;
    size_t key_start = 0;
    bool has_hits = false;
    size_t at = start;

    for (; at < length; at++) {
        char c = text[at];

        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
                if (expect_key && depth == 1 && at - key_start == 4 &&
                    memcmp(text + key_start, "hits", 4) == 0)
                    has_hits = true;
                expect_key = false;
            }
            continue;
        }
        if (c == '\n')
            return DA_EVENT_FORMAT_JSON;
        if (c == '"') {
            in_string = true;
            key_start = at + 1;
        } else if (c == '{' || c == '[') {
            depth++;
            expect_key = c == '{';
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                break;
            depth--;
            if (depth == 0) {
                at++;
                break;
            }
        } else if (c == ',') {
            /* A comma in a nested array sets this too, but only a key at
             * depth 1, where commas always separate members, is compared. */
            expect_key = true;
        }
    }

    if (has_hits)
        return DA_EVENT_FORMAT_JSON;
    if (depth > 0 || at >= length)
        /* The first value has no line break and does not end within the
         * sample: a record line longer than the sample. A file of one such
         * value yields the same record when it is read as lines. */
        return DA_EVENT_FORMAT_JSON_LINES;

    while (at < length && (text[at] == ' ' || text[at] == '\t' || text[at] == '\r'))
        at++;
    if (at >= length)
        return DA_EVENT_FORMAT_JSON_LINES;
    if (text[at] != '\n')
        return DA_EVENT_FORMAT_JSON;
    at = skip_spaces(text, length, at);
    if (at >= length || text[at] == '{')
        return DA_EVENT_FORMAT_JSON_LINES;
    return DA_EVENT_FORMAT_JSON;
}

int da_events_detect(const char *path, enum da_event_format *format, struct da_error *err)
{
    FILE *stream = NULL;
    unsigned char *bytes = NULL;
    struct text_sample sample = {0};
    size_t length = 0;
    int status = DA_OK;
    char quoted[200];

    *format = DA_EVENT_FORMAT_UNKNOWN;

    stream = fopen(path, "rb");
    if (stream == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot open event log %s: %s", path,
                              strerror(errno));
        goto out;
    }
    bytes = malloc(DETECT_SAMPLE_SIZE);
    if (bytes == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "reading %s: out of memory", path);
        goto out;
    }
    length = fread(bytes, 1, DETECT_SAMPLE_SIZE, stream);
    if (ferror(stream)) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot read event log %s: %s", path,
                              strerror(errno));
        goto out;
    }

    if (length == 0) {
        status = da_error_set(err, DA_ERR_USAGE,
                              "%s is no event log export: the file is empty", path);
        goto out;
    }
    if (length >= sizeof(evtx_magic) && memcmp(bytes, evtx_magic, sizeof(evtx_magic)) == 0) {
        *format = DA_EVENT_FORMAT_EVTX;
        goto out;
    }
    if (length >= 2 && bytes[0] == 0xfe && bytes[1] == 0xff) {
        status = da_error_set(err, DA_ERR_USAGE,
                              "%s starts with a UTF-16 big-endian byte order mark, which is not "
                              "supported: convert the file to UTF-8",
                              path);
        goto out;
    }

    if (decode_sample(bytes, length, &sample) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "reading %s: out of memory", path);
        goto out;
    }

    size_t first = skip_spaces(sample.text, sample.length, 0);
    if (first < sample.length && sample.text[first] == '<' &&
        looks_like_event_xml(sample.text, sample.length)) {
        *format = DA_EVENT_FORMAT_XML;
    } else if (first < sample.length && sample.text[first] == '[') {
        *format = DA_EVENT_FORMAT_JSON;
    } else if (first < sample.length && sample.text[first] == '{') {
        *format = classify_json_object(sample.text, sample.length, first);
    } else {
        size_t quoted_length = sample.length - first < 40 ? sample.length - first : 40;

        if (first == sample.length)
            status = da_error_set(err, DA_ERR_USAGE,
                                  "%s is no event log export: it contains only white space", path);
        else {
            da_error_quote(sample.text + first, quoted_length, quoted, sizeof(quoted));
            status = da_error_set(err, DA_ERR_USAGE,
                                  "%s is no event log export: it starts with \"%s\"; expected "
                                  "Windows event XML, JSON or an .evtx file",
                                  path, quoted);
        }
    }

out:
    free(sample.text);
    free(bytes);
    if (stream != NULL)
        fclose(stream);
    return status;
}

int da_events_read_file(const char *path, const struct da_event_reader *reader,
                        struct da_event_read_stats *stats, struct da_error *err)
{
    enum da_event_format format = DA_EVENT_FORMAT_UNKNOWN;
    struct da_event_read_stats ignored = {0};
    int status = da_events_detect(path, &format, err);

    if (status != DA_OK)
        return status;
    if (stats == NULL)
        stats = &ignored;

    switch (format) {
    case DA_EVENT_FORMAT_XML:
        return da_events_read_xml(path, reader, stats, err);
    case DA_EVENT_FORMAT_JSON_LINES:
    case DA_EVENT_FORMAT_JSON:
        return da_events_read_json(path, format, reader, stats, err);
    case DA_EVENT_FORMAT_EVTX:
        return da_events_read_evtx(path, reader, stats, err);
    case DA_EVENT_FORMAT_UNKNOWN:
        break;
    }
    return da_error_set(err, DA_ERR_USAGE, "%s: unknown event log format", path);
}
