/* Safe printing of directory values on a terminal or in a log. */
#ifndef DELEGAUDIT_ESCAPE_H
#define DELEGAUDIT_ESCAPE_H

#include <stdio.h>

/* Returns a newly allocated copy of value in which C0 and C1 control
 * characters, DEL and bytes that are not valid UTF-8 are written as \xNN
 * (a C1 character as \u0080 .. \u009f), and a backslash as "\\". Valid
 * printable UTF-8, non-ASCII letters included, is kept. Returns NULL when
 * memory runs out. NULL value gives "-". */
char *da_escape_text(const char *value);

/* Writes da_escape_text(value) to out. Returns -1 on failure. */
int da_escape_fputs(const char *value, FILE *out);

#endif
