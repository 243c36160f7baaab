/* Output of the text, Markdown and HTML renderers: formatted writes to a
 * stream that remember a failure, so that a renderer checks once at the
 * end instead of after every line. */
#ifndef DELEGAUDIT_REPORTS_WRITER_H
#define DELEGAUDIT_REPORTS_WRITER_H

#include <stdbool.h>
#include <stdio.h>

struct da_writer {
    FILE *out;
    bool failed; /* a write failed or memory ran out */
};

/* Writes printf-style output; a failure sets writer->failed. */
void da_put(struct da_writer *writer, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes a directory or event value with control characters escaped by
 * da_escape_text, for a terminal or a plain-text file. */
void da_put_text(struct da_writer *writer, const char *value);

#endif
