/* Safe printing of directory values on a terminal or in a log. */
#ifndef DELEGAUDIT_ESCAPE_H
#define DELEGAUDIT_ESCAPE_H

#include <stdio.h>

/* Returns a newly allocated copy of value in which C0 and C1 control
 * characters, DEL and bytes that are not valid UTF-8 are written as \xNN
 * (a C1 character as \u0080 .. \u009f), and a backslash followed by 'x' or
 * 'u' as "\\", so that such text cannot pass for an escape. Valid
 * printable UTF-8, non-ASCII letters included, is kept. Returns NULL when
 * memory runs out. NULL value gives "-".
 *
 * UTF-8 is decoded strictly: overlong forms, surrogates (U+D800..U+DFFF)
 * and values above U+10FFFF are invalid, and each byte of an invalid
 * sequence becomes its own \xNN. Invisible characters can make text on a
 * terminal read differently from what it contains, so these are written
 * as \uXXXX too:
 *  - U+2028 and U+2029, the line and paragraph separators;
 *  - the bidirectional marks, embeddings, overrides and isolates: U+061C,
 *    U+200E, U+200F, U+202A..U+202E and U+2066..U+2069;
 *  - the zero-width characters U+200B..U+200D and U+FEFF;
 *  - the word joiner and invisible operators U+2060..U+2064, and the
 *    unassigned U+2065 between them and the isolates;
 *  - the deprecated format characters U+206A..U+206F. */
char *da_escape_text(const char *value);

/* Writes da_escape_text(value) to out. Returns -1 on failure. */
int da_escape_fputs(const char *value, FILE *out);

/* Returns a newly allocated copy of json, a printed JSON document. Each
 * byte that is not part of valid UTF-8 becomes \ufffd (U+FFFD). Each
 * character above U+007F that da_escape_text writes as \uXXXX becomes the
 * same JSON escape. Outside its strings a JSON document is ASCII, so only
 * the content of strings changes, and a valid string still decodes to the
 * same characters. Returns NULL when json is NULL or memory runs out. */
char *da_escape_json_document(const char *json);

#endif
