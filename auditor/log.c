#include "auditor/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "auditor/escape.h"

static void write_line(const char *prefix, const char *fmt, va_list ap)
{
    char message[4096];
    char *escaped;

    vsnprintf(message, sizeof(message), fmt, ap);
    escaped = da_escape_text(message);
    fprintf(stderr, "delegaudit: %s%s\n", prefix, escaped != NULL ? escaped : message);
    free(escaped);
}

void da_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    write_line("", fmt, ap);
    va_end(ap);
}

void da_log_warning(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    write_line("warning: ", fmt, ap);
    va_end(ap);
}
