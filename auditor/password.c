#include "auditor/password.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_MAX 1024

static void strip_line_end(char *text, size_t *length)
{
    if (*length > 0 && text[*length - 1] == '\n')
        text[--*length] = '\0';
    if (*length > 0 && text[*length - 1] == '\r')
        text[--*length] = '\0';
}

int da_password_read_file(const char *path, char **password, struct da_error *err)
{
    char buffer[PASSWORD_MAX + 2];
    size_t length = 0;
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return da_error_set(err, DA_ERR_USAGE,
                            "cannot open the password file \"%s\": %s; check the path given "
                            "with -y, and that this user can read the file",
                            path, strerror(errno));

    while (length < sizeof(buffer) - 1) {
        got = read(fd, buffer + length, sizeof(buffer) - 1 - length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = da_error_set(err, DA_ERR_USAGE, "reading the password file \"%s\" failed: %s",
                              path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        length += (size_t)got;
    }
    buffer[length] = '\0';

    if (length > PASSWORD_MAX) {
        rc = da_error_set(err, DA_ERR_USAGE,
                          "the password file \"%s\" is longer than %d bytes: is it the right "
                          "file?", path, PASSWORD_MAX);
        goto out;
    }
    if (memchr(buffer, '\0', length) != NULL) {
        rc = da_error_set(err, DA_ERR_USAGE, "the password file \"%s\" contains a NUL byte", path);
        goto out;
    }
    strip_line_end(buffer, &length);
    if (length == 0) {
        rc = da_error_set(err, DA_ERR_USAGE, "the password file \"%s\" is empty", path);
        goto out;
    }

    *password = strdup(buffer);
    if (*password == NULL)
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");

out:
    explicit_bzero(buffer, sizeof(buffer));
    close(fd);
    return rc;
}

int da_password_prompt(const char *bind_dn, char **password, struct da_error *err)
{
    char buffer[PASSWORD_MAX + 2];
    struct termios saved;
    struct termios silent;
    size_t length;
    FILE *tty = fopen("/dev/tty", "r+");
    bool echo_off = false;
    int rc = 0;

    if (tty == NULL)
        return da_error_set(err, DA_ERR_USAGE,
                            "no terminal to prompt for the password of %s: give it with -y FILE "
                            "or the %s environment variable", bind_dn, DA_PASSWORD_ENVIRONMENT);

    fprintf(tty, "Password for %s: ", bind_dn);
    fflush(tty);
    if (tcgetattr(fileno(tty), &saved) == 0) {
        silent = saved;
        silent.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(fileno(tty), TCSAFLUSH, &silent) == 0;
    }

    if (fgets(buffer, sizeof(buffer), tty) == NULL) {
        rc = da_error_set(err, DA_ERR_USAGE, "no password was entered for %s", bind_dn);
        goto out;
    }
    length = strlen(buffer);
    strip_line_end(buffer, &length);
    if (length == 0) {
        rc = da_error_set(err, DA_ERR_USAGE, "the password entered for %s is empty", bind_dn);
        goto out;
    }
    *password = strdup(buffer);
    if (*password == NULL)
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");

out:
    if (echo_off)
        tcsetattr(fileno(tty), TCSAFLUSH, &saved);
    fputc('\n', tty);
    fclose(tty);
    explicit_bzero(buffer, sizeof(buffer));
    return rc;
}

void da_password_free(char *password)
{
    if (password == NULL)
        return;
    explicit_bzero(password, strlen(password));
    free(password);
}
