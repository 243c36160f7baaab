#include "auditor/error.h"

#include <stdio.h>
#include <string.h>

int da_error_set(struct da_error *err, enum da_status status, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return status;

    err->status = status;
    err->code = 0;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}

void da_error_prefix(struct da_error *err, const char *fmt, ...)
{
    char prefix[DA_ERROR_MESSAGE_MAX];
    char old[DA_ERROR_MESSAGE_MAX];
    va_list ap;

    if (err == NULL)
        return;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof(old));

    /* Keep as much of both parts as fits; truncation is acceptable here. */
    size_t used = strlen(prefix);
    if (used > sizeof(err->message) - 3)
        used = sizeof(err->message) - 3;
    memcpy(err->message, prefix, used);
    memcpy(err->message + used, ": ", 2);
    used += 2;
    size_t rest = strlen(old);
    if (rest > sizeof(err->message) - 1 - used)
        rest = sizeof(err->message) - 1 - used;
    memcpy(err->message + used, old, rest);
    err->message[used + rest] = '\0';
}

void da_error_clear(struct da_error *err)
{
    if (err == NULL)
        return;
    err->status = DA_OK;
    err->code = 0;
    err->message[0] = '\0';
}
