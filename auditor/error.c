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

void da_error_quote(const char *text, size_t length, char *buffer, size_t size)
{
    size_t used = 0;

    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)text[i];
        char piece[5];
        size_t piece_length;

        if (byte >= 0x20 && byte < 0x7f && byte != '\\' && byte != '"') {
            piece[0] = (char)byte;
            piece[1] = '\0';
        } else {
            snprintf(piece, sizeof(piece), "\\x%02x", byte);
        }
        piece_length = strlen(piece);
        if (used + piece_length + 4 > size) {
            memcpy(buffer + used, "...", 3);
            used += 3;
            break;
        }
        memcpy(buffer + used, piece, piece_length);
        used += piece_length;
    }
    buffer[used] = '\0';
}
