/* Readers of exported Security logs. Each file is recognised by its
 * content and streamed: memory stays flat whatever its size. */
#ifndef DELEGAUDIT_EVENTS_READER_H
#define DELEGAUDIT_EVENTS_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "auditor/error.h"
#include "auditor/events/event.h"

enum da_event_format {
    DA_EVENT_FORMAT_UNKNOWN,
    DA_EVENT_FORMAT_XML,        /* wevtutil, Event Viewer, Get-WinEvent ToXml */
    DA_EVENT_FORMAT_JSON_LINES, /* NDJSON: Winlogbeat, NXLog, evtx_dump lines */
    DA_EVENT_FORMAT_JSON,       /* one document: an Elasticsearch _search
                                   response, or a JSON array of events */
    DA_EVENT_FORMAT_EVTX,       /* a raw .evtx file */
};

/* Stable lower-case names: "xml", "json-lines", "json", "evtx". */
const char *da_event_format_name(enum da_event_format format);

/* Called for every kept event. The event is valid during the call only.
 * A non-zero return stops the reading and is returned by the reader. */
typedef int (*da_event_fn)(const struct da_event *event, void *context, struct da_error *err);

/* Called for every malformed record: position_kind is "line" for the text
 * formats (XML, JSON lines and JSON documents), with the line where the
 * record starts, and "record" for .evtx, with the 1-based record number.
 * The reading goes on after the call. */
typedef void (*da_event_problem_fn)(const char *file, const char *position_kind,
                                    unsigned long position, const char *message,
                                    void *context);

struct da_event_reader {
    da_event_fn on_event;
    da_event_problem_fn on_problem; /* optional */
    void *context;
    /* Optional filters that let a reader skip a record without parsing it,
     * so that the bulk of a Security log (logons, process creations) costs
     * a substring search instead of a parse. A skipped record counts in
     * records only, and is not checked for being malformed.
     * wants_text receives the raw text of a record (an NDJSON line, a JSON
     * document element, an <Event> element, an .evtx record's XML).
     * wants_event_id receives an .evtx record's event identifier before its
     * XML is rendered, when libevtx can read it from the record's substitution
     * values; otherwise the record goes on to wants_text. */
    bool (*wants_text)(const char *text, size_t length, void *context);
    bool (*wants_event_id)(unsigned long event_id, void *context);
    /* Optional, .evtx only: called for each substitution string of a
     * record that wants_event_id accepted, before its XML is rendered.
     * When it returns false for every string, the record is skipped. Pass
     * two of a report uses it to find the records that carry a wanted
     * logon id without rendering every logon. */
    bool (*wants_string)(const char *value, void *context);
};

struct da_event_read_stats {
    unsigned long records;   /* every record read, of any event id */
    unsigned long kept;      /* handed to on_event */
    unsigned long malformed; /* handed to on_problem */
};

/* Recognises the format from the first bytes of the file (a UTF-8 or
 * UTF-16LE byte order mark is allowed before text formats). A file that is
 * no event export at all is DA_ERR_USAGE naming the file and what was
 * found there. */
int da_events_detect(const char *path, enum da_event_format *format, struct da_error *err);

/* Detects the format and reads the file with the matching reader. stats
 * may be NULL. An unreadable file or one that is no export is an error;
 * malformed records are not. */
int da_events_read_file(const char *path, const struct da_event_reader *reader,
                        struct da_event_read_stats *stats, struct da_error *err);

/* The readers behind da_events_read_file, one per family of formats. */
int da_events_read_xml(const char *path, const struct da_event_reader *reader,
                       struct da_event_read_stats *stats, struct da_error *err);
int da_events_read_json(const char *path, enum da_event_format format,
                        const struct da_event_reader *reader, struct da_event_read_stats *stats,
                        struct da_error *err);
int da_events_read_evtx(const char *path, const struct da_event_reader *reader,
                        struct da_event_read_stats *stats, struct da_error *err);

/* Chunks (64 KiB each) that the .evtx reader hands to libevtx at a time,
 * because libevtx indexes every record of what it opens. 16 chunks (1 MiB)
 * keep that index small whatever the file size; on a 256 MiB export they
 * also read faster than 64 or 256 (libevtx 20181227, tests/bench). */
#define DA_EVTX_CHUNKS_PER_SLICE 16

/* da_events_read_evtx with another slice size; 0 reads the file whole. */
int da_events_read_evtx_in_slices(const char *path, unsigned chunks_per_slice,
                                  const struct da_event_reader *reader,
                                  struct da_event_read_stats *stats, struct da_error *err);

#endif
