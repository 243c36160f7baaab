/* Parsing of one Windows event in its XML form, shared by the XML reader
 * and the .evtx reader (libevtx renders each record as such XML). */
#ifndef DELEGAUDIT_EVENTS_XML_H
#define DELEGAUDIT_EVENTS_XML_H

#include <stddef.h>

#include "auditor/error.h"
#include "auditor/events/reader.h"

/* Parses one <Event> element of UTF-8 text (the namespace of the Windows
 * event schema, or none) into a raw event, builds it with da_event_build
 * and hands a kept event to reader->on_event. A malformed element or event
 * is counted in stats and reported to reader->on_problem with source_file,
 * position_kind and position; it is not an error. Every call adds one to
 * stats->records (stats may be NULL), so callers do not count the record
 * again. Returns non-zero only when on_event does. */
int da_events_parse_event_xml(const char *xml, size_t length, const char *source_file,
                              const char *position_kind, unsigned long position,
                              const struct da_event_reader *reader,
                              struct da_event_read_stats *stats, struct da_error *err);

#endif
