#include "reports/writer.h"

#include <stdarg.h>
#include <stdlib.h>

#include "auditor/escape.h"

void da_put(struct da_writer *writer, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vfprintf(writer->out, fmt, ap) < 0)
        writer->failed = true;
    va_end(ap);
}

void da_put_text(struct da_writer *writer, const char *value)
{
    char *escaped = da_escape_text(value);

    if (escaped == NULL) {
        writer->failed = true;
        return;
    }
    da_put(writer, "%s", escaped);
    free(escaped);
}
