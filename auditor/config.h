/* Settings of the poll and diff commands, from the command line and from
 * a configuration file that takes the same names as the long options. */
#ifndef DELEGAUDIT_CONFIG_H
#define DELEGAUDIT_CONFIG_H

#include <stdbool.h>

#include "auditor/error.h"
#include "auditor/model.h"

#define DA_DEFAULT_PAGE_SIZE 1000 /* AD's default MaxPageSize */
#define DA_DEFAULT_CONNECT_TIMEOUT 10
#define DA_DEFAULT_OPERATION_TIMEOUT 120
#define DA_DEFAULT_KEEP 30
#define DA_DEFAULT_HISTORY 30

struct da_settings {
    char *uri;
    char *base;
    char *bind_dn;
    char *password_file;
    char *ca_file;
    char *state_dir;
    bool simple_bind;     /* -x */
    bool starttls;        /* -Z */
    bool prompt_password; /* -W */
    bool json;
    bool no_progress;
    int connect_timeout;   /* seconds */
    int operation_timeout; /* seconds */
    int page_size;
    unsigned keep;             /* snapshots kept in the state directory; 0: all */
    unsigned long range_size;  /* 0: server's choice */
    int verbose;
    /* report and audit */
    struct da_strv event_paths; /* --events, repeatable: files or directories */
    char *format;               /* --format: text, json, markdown or html */
    char *output;               /* -o FILE; NULL: standard output */
    unsigned history;           /* older snapshots used to match events */
    char *verify_path;          /* report: --verify FILE from verify --json */
    /* verify */
    struct da_strv dc_hosts;    /* --dc, repeatable; none: every DC */
    struct da_strv accounts;    /* --account, repeatable */
    bool all_accounts;          /* --all */
    double wait_seconds;        /* --wait; 0: one round */
};

void da_settings_init(struct da_settings *settings);
void da_settings_clear(struct da_settings *settings);

/* Applies one setting by its long option name ("uri", "page-size", ...).
 * origin names where the value came from, for the error message, such as
 * "--page-size" or "/etc/delegaudit.conf:3". */
int da_settings_set(struct da_settings *settings, const char *name, const char *value,
                    const char *origin, struct da_error *err);

/* Reads "name = value" lines. A line starting with '#' is a comment, and so
 * is the rest of a line from a '#' that follows white space. A value in
 * double quotes is taken as written, '#' included. Unknown names and
 * invalid values are DA_ERR_USAGE with the file and line. */
int da_settings_load_file(struct da_settings *settings, const char *path, struct da_error *err);

#endif
