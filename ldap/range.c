#include "ldap/range.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char range_option[] = ";range=";

/* Parses an unsigned decimal number; *end points past it. */
static bool parse_number(const char *text, unsigned long *value, const char **end)
{
    char *stop = NULL;

    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    *value = strtoul(text, &stop, 10);
    if (errno == ERANGE)
        return false;
    *end = stop;
    return true;
}

int da_range_parse(const char *desc, const char *attr, struct da_range *range)
{
    size_t attr_length = strlen(attr);
    const char *cursor;
    struct da_range parsed = {0};

    if (strncasecmp(desc, attr, attr_length) != 0)
        return -1;
    cursor = desc + attr_length;
    if (*cursor == '\0')
        return 0;
    if (strncasecmp(cursor, range_option, sizeof(range_option) - 1) != 0)
        return -1;
    cursor += sizeof(range_option) - 1;

    if (!parse_number(cursor, &parsed.low, &cursor) || *cursor != '-')
        return -2;
    cursor++;
    if (*cursor == '*') {
        parsed.last = true;
        cursor++;
    } else if (!parse_number(cursor, &parsed.high, &cursor) || parsed.high < parsed.low) {
        return -2;
    }
    if (*cursor != '\0')
        return -2;

    *range = parsed;
    return 1;
}

int da_range_collect(const char *attr, const char *first_desc, struct da_strv *values,
                     da_range_fetch_fn fetch, void *context, struct da_error *err)
{
    struct da_range range;
    char *desc = NULL;
    int kind = da_range_parse(first_desc, attr, &range);
    int rc = 0;

    if (kind == 0)
        return 0;
    if (kind != 1)
        return da_error_set(err, DA_ERR_DIRECTORY,
                            "the server returned the attribute description \"%s\" for %s, "
                            "which is not a valid range", first_desc, attr);
    if (range.low != 0)
        return da_error_set(err, DA_ERR_DIRECTORY,
                            "the first range of %s starts at %lu instead of 0 (\"%s\")", attr,
                            range.low, first_desc);

    while (!range.last) {
        unsigned long next = range.high + 1;
        size_t before = values->count;
        struct da_range returned;

        if (next == 0 || values->count > DA_RANGE_MAX_VALUES) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "%s has more than %lu values in ranged retrieval; stopping", attr,
                              DA_RANGE_MAX_VALUES);
            goto out;
        }

        rc = fetch(context, attr, next, &desc, values, err);
        if (rc != 0)
            goto out;

        if (desc == NULL) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the server returned no values for %s;range=%lu-* although the "
                              "previous range ended at %lu", attr, next, range.high);
            goto out;
        }
        kind = da_range_parse(desc, attr, &returned);
        if (kind != 1) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the server answered %s;range=%lu-* with \"%s\", which is not a "
                              "range of that attribute", attr, next, desc);
            goto out;
        }
        if (returned.low != next) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the server answered %s;range=%lu-* with \"%s\", which does not "
                              "start at %lu; stopping instead of reading values twice",
                              attr, next, desc, next);
            goto out;
        }
        if (!returned.last && values->count == before) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the server answered %s;range=%lu-* with \"%s\" and no values, so "
                              "the ranged retrieval makes no progress; stopping", attr, next,
                              desc);
            goto out;
        }

        free(desc);
        desc = NULL;
        range = returned;
    }

out:
    free(desc);
    return rc;
}
