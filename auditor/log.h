/* Messages on standard error. Every line passes through da_escape_text,
 * because messages carry DNs, URIs, filters and server text that may
 * contain control characters or terminal escapes. */
#ifndef DELEGAUDIT_LOG_H
#define DELEGAUDIT_LOG_H

/* Writes "delegaudit: MESSAGE" and a newline to stderr. */
void da_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes "delegaudit: warning: MESSAGE" and a newline to stderr. */
void da_log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
