/* Passwords for simple binds: from a file, the environment or a prompt,
 * never from the command line. */
#ifndef DELEGAUDIT_PASSWORD_H
#define DELEGAUDIT_PASSWORD_H

#include "auditor/error.h"

/* Name of the environment variable that may contain the password. */
#define DA_PASSWORD_ENVIRONMENT "DELEGAUDIT_PASSWORD"

/* Reads the password from path. Unlike ldapsearch -y, one trailing "\n" or
 * "\r\n" is removed, because editors add it. An empty file, a NUL byte, or
 * a file over 1024 bytes is DA_ERR_USAGE. */
int da_password_read_file(const char *path, char **password, struct da_error *err);

/* Prompts on /dev/tty with echo off. */
int da_password_prompt(const char *bind_dn, char **password, struct da_error *err);

/* Overwrites and frees a password. NULL is allowed. */
void da_password_free(char *password);

#endif
