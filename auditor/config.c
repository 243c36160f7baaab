#include "auditor/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditor/verify_run.h"

void da_settings_init(struct da_settings *settings)
{
    memset(settings, 0, sizeof(*settings));
    settings->connect_timeout = DA_DEFAULT_CONNECT_TIMEOUT;
    settings->operation_timeout = DA_DEFAULT_OPERATION_TIMEOUT;
    settings->page_size = DA_DEFAULT_PAGE_SIZE;
    settings->keep = DA_DEFAULT_KEEP;
    settings->history = DA_DEFAULT_HISTORY;
}

void da_settings_clear(struct da_settings *settings)
{
    free(settings->uri);
    free(settings->base);
    free(settings->bind_dn);
    free(settings->password_file);
    free(settings->ca_file);
    free(settings->state_dir);
    free(settings->format);
    free(settings->output);
    free(settings->verify_path);
    da_strv_clear(&settings->event_paths);
    da_strv_clear(&settings->dc_hosts);
    da_strv_clear(&settings->accounts);
    memset(settings, 0, sizeof(*settings));
}

static int set_string(char **field, const char *value, const char *origin, struct da_error *err)
{
    char *copy;

    if (value[0] == '\0')
        return da_error_set(err, DA_ERR_USAGE, "%s: the value is empty", origin);
    copy = strdup(value);
    if (copy == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    free(*field);
    *field = copy;
    return 0;
}

static int set_number(long *number, const char *value, long minimum, long maximum,
                      const char *unit, const char *origin, struct da_error *err)
{
    char *end = NULL;
    long parsed;

    errno = 0;
    parsed = strtol(value, &end, 10);
    if (value[0] == '\0' || *end != '\0' || errno != 0 || parsed < minimum || parsed > maximum)
        return da_error_set(err, DA_ERR_USAGE,
                            "%s: invalid value \"%s\": expected a whole number of %s from %ld to "
                            "%ld", origin, value, unit, minimum, maximum);
    *number = parsed;
    return 0;
}

static int set_boolean(bool *field, const char *value, const char *origin, struct da_error *err)
{
    static const char *const true_words[] = {"yes", "true", "on", "1"};
    static const char *const false_words[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, true_words[i]) == 0) {
            *field = true;
            return 0;
        }
        if (strcasecmp(value, false_words[i]) == 0) {
            *field = false;
            return 0;
        }
    }
    return da_error_set(err, DA_ERR_USAGE, "%s: invalid value \"%s\": expected yes or no", origin,
                        value);
}

int da_settings_set(struct da_settings *settings, const char *name, const char *value,
                    const char *origin, struct da_error *err)
{
    long number = 0;
    int rc;

    if (strcmp(name, "uri") == 0)
        return set_string(&settings->uri, value, origin, err);
    if (strcmp(name, "base") == 0)
        return set_string(&settings->base, value, origin, err);
    if (strcmp(name, "binddn") == 0)
        return set_string(&settings->bind_dn, value, origin, err);
    if (strcmp(name, "password-file") == 0)
        return set_string(&settings->password_file, value, origin, err);
    if (strcmp(name, "ca-file") == 0)
        return set_string(&settings->ca_file, value, origin, err);
    if (strcmp(name, "state") == 0)
        return set_string(&settings->state_dir, value, origin, err);
    if (strcmp(name, "output") == 0)
        return set_string(&settings->output, value, origin, err);
    if (strcmp(name, "events") == 0) {
        if (value[0] == '\0')
            return da_error_set(err, DA_ERR_USAGE, "%s: the value is empty", origin);
        if (da_strv_append(&settings->event_paths, value) != 0)
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
        return 0;
    }
    if (strcmp(name, "dc") == 0 || strcmp(name, "account") == 0) {
        struct da_strv *list = name[0] == 'd' ? &settings->dc_hosts : &settings->accounts;

        if (value[0] == '\0')
            return da_error_set(err, DA_ERR_USAGE, "%s: the value is empty", origin);
        if (da_strv_append(list, value) != 0)
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
        return 0;
    }
    if (strcmp(name, "verify") == 0)
        return set_string(&settings->verify_path, value, origin, err);
    if (strcmp(name, "all") == 0)
        return set_boolean(&settings->all_accounts, value, origin, err);
    if (strcmp(name, "wait") == 0) {
        if (da_verify_parse_duration(value, &settings->wait_seconds) != 0)
            return da_error_set(err, DA_ERR_USAGE,
                                "%s: invalid duration \"%s\": give seconds or a number with s, "
                                "m or h, such as 90, 30s, 10m or 1h (at most a week)",
                                origin, value);
        return 0;
    }
    if (strcmp(name, "format") == 0) {
        if (strcmp(value, "text") != 0 && strcmp(value, "json") != 0 &&
            strcmp(value, "markdown") != 0 && strcmp(value, "html") != 0)
            return da_error_set(err, DA_ERR_USAGE,
                                "%s: invalid format \"%s\": use text, json, markdown or html",
                                origin, value);
        return set_string(&settings->format, value, origin, err);
    }
    if (strcmp(name, "simple-bind") == 0)
        return set_boolean(&settings->simple_bind, value, origin, err);
    if (strcmp(name, "starttls") == 0)
        return set_boolean(&settings->starttls, value, origin, err);
    if (strcmp(name, "json") == 0)
        return set_boolean(&settings->json, value, origin, err);
    if (strcmp(name, "no-progress") == 0)
        return set_boolean(&settings->no_progress, value, origin, err);

    if (strcmp(name, "mech") == 0) {
        if (strcasecmp(value, "GSSAPI") != 0)
            return da_error_set(err, DA_ERR_USAGE,
                                "%s: unsupported SASL mechanism \"%s\": use GSSAPI, or -x for a "
                                "simple bind over TLS", origin, value);
        settings->simple_bind = false;
        return 0;
    }

    if (strcmp(name, "connect-timeout") == 0) {
        rc = set_number(&number, value, 1, 3600, "seconds", origin, err);
        if (rc == 0)
            settings->connect_timeout = (int)number;
        return rc;
    }
    if (strcmp(name, "timeout") == 0) {
        rc = set_number(&number, value, 1, 86400, "seconds", origin, err);
        if (rc == 0)
            settings->operation_timeout = (int)number;
        return rc;
    }
    if (strcmp(name, "page-size") == 0) {
        rc = set_number(&number, value, 1, 100000, "entries", origin, err);
        if (rc == 0)
            settings->page_size = (int)number;
        return rc;
    }
    if (strcmp(name, "keep") == 0) {
        rc = set_number(&number, value, 0, 100000, "snapshots", origin, err);
        if (rc == 0)
            settings->keep = (unsigned)number;
        return rc;
    }
    if (strcmp(name, "history") == 0) {
        rc = set_number(&number, value, 0, 100000, "snapshots", origin, err);
        if (rc == 0)
            settings->history = (unsigned)number;
        return rc;
    }
    if (strcmp(name, "range-size") == 0) {
        rc = set_number(&number, value, 0, 1000000, "values", origin, err);
        if (rc == 0)
            settings->range_size = (unsigned long)number;
        return rc;
    }

    return da_error_set(err, DA_ERR_USAGE, "%s: unknown setting \"%s\"", origin, name);
}

static char *trim(char *text)
{
    char *end;

    while (isspace((unsigned char)*text))
        text++;
    end = text + strlen(text);
    while (end > text && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return text;
}

/* Extracts the value of a "name = value" line in place: a value in double
 * quotes is taken as written, '#' included, and otherwise a '#' at the
 * start of the value or after white space starts a comment. Returns NULL when a quoted value is not closed or
 * is followed by anything but a comment. */
static char *extract_value(char *text)
{
    char *end;

    text = trim(text);
    if (text[0] == '"') {
        end = strchr(text + 1, '"');
        if (end == NULL)
            return NULL;
        *end = '\0';
        char *rest = trim(end + 1);
        if (rest[0] != '\0' && rest[0] != '#')
            return NULL;
        return text + 1;
    }

    for (end = text; *end != '\0'; end++) {
        if (*end == '#' && (end == text || isspace((unsigned char)end[-1]))) {
            *end = '\0';
            break;
        }
    }
    return trim(text);
}

int da_settings_load_file(struct da_settings *settings, const char *path, struct da_error *err)
{
    FILE *file = fopen(path, "r");
    char line[4096];
    char origin[PATH_MAX + 32];
    unsigned line_number = 0;
    int rc = 0;

    if (file == NULL)
        return da_error_set(err, DA_ERR_USAGE, "cannot open the configuration file \"%s\": %s",
                            path, strerror(errno));

    while (fgets(line, sizeof(line), file) != NULL) {
        char *text;
        char *equals;

        line_number++;
        snprintf(origin, sizeof(origin), "%s:%u", path, line_number);
        if (strchr(line, '\n') == NULL && !feof(file)) {
            rc = da_error_set(err, DA_ERR_USAGE, "%s: the line is longer than %zu bytes", origin,
                              sizeof(line) - 2);
            goto out;
        }
        text = trim(line);
        if (text[0] == '\0' || text[0] == '#')
            continue;

        equals = strchr(text, '=');
        if (equals == NULL) {
            rc = da_error_set(err, DA_ERR_USAGE,
                              "%s: expected \"name = value\", as in \"uri = ldaps://dc1.example.com\"",
                              origin);
            goto out;
        }
        *equals = '\0';
        if (strcmp(trim(text), "password") == 0) {
            rc = da_error_set(err, DA_ERR_USAGE,
                              "%s: passwords are not read from the configuration file; put the "
                              "password in a file readable only by this user and name it with "
                              "password-file", origin);
            goto out;
        }
        char *value = extract_value(equals + 1);
        if (value == NULL) {
            rc = da_error_set(err, DA_ERR_USAGE,
                              "%s: invalid quoted value: close the double quote, and put nothing "
                              "but a # comment after it", origin);
            goto out;
        }
        rc = da_settings_set(settings, trim(text), value, origin, err);
        if (rc != 0)
            goto out;
    }
    if (ferror(file))
        rc = da_error_set(err, DA_ERR_USAGE, "reading the configuration file \"%s\" failed: %s",
                          path, strerror(errno));

out:
    fclose(file);
    return rc;
}
