/* Error categories shared by every layer, and the exit status of each.
 *
 * A function that can fail returns 0 on success or one of the DA_ERR_*
 * categories, and fills a struct da_error with one message for the user.
 * The message names the failing value and the next step; it never contains
 * a password. */
#ifndef DELEGAUDIT_ERROR_H
#define DELEGAUDIT_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Exit statuses of the delegaudit command. Documented in README.md. */
enum da_status {
    DA_OK = 0,            /* clean: no findings and no changes */
    DA_FINDINGS = 1,      /* findings or changes present */
    DA_ERR_USAGE = 2,     /* invalid option, configuration or argument */
    DA_ERR_DIRECTORY = 3, /* connect, TLS, bind or search failed; nothing saved */
    DA_ERR_LOCAL = 4,     /* local file, snapshot or state directory error;
                             nothing saved */
    DA_UNVERIFIED = 5,    /* verify: clean where read, but some DC did not
                             answer */
};

#define DA_ERROR_MESSAGE_MAX 2048

struct da_error {
    enum da_status status;
    int code; /* the LDAP result code of a directory error, else 0 */
    char message[DA_ERROR_MESSAGE_MAX];
};

/* Sets err (when not NULL) and returns status, so that callers can write
 * `return da_error_set(err, DA_ERR_LOCAL, "...")`. */
int da_error_set(struct da_error *err, enum da_status status, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the current message with context, as in "reading FILE: <old>". */
void da_error_prefix(struct da_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void da_error_clear(struct da_error *err);

/* Copies text (length bytes) into buffer for use in a message. Bytes
 * outside printable ASCII, the backslash and the double quote become \xNN,
 * and text that does not fit is cut with "...", so a damaged file can
 * neither garble the terminal nor flood the message. */
void da_error_quote(const char *text, size_t length, char *buffer, size_t size);

#endif
