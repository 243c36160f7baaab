/* memmem, which glibc declares only for GNU sources. */
#define _GNU_SOURCE

#include "auditor/cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auditor/config.h"
#include "auditor/diff.h"
#include "auditor/error.h"
#include "auditor/events/reader.h"
#include "auditor/evidence.h"
#include "auditor/findings.h"
#include "auditor/log.h"
#include "auditor/password.h"
#include "auditor/poll.h"
#include "auditor/snapshot.h"
#include "auditor/state.h"
#include "auditor/verify.h"
#include "auditor/verify_load.h"
#include "auditor/verify_run.h"
#include "reports/evidence_report.h"
#include "reports/report.h"
#include "reports/verify_report.h"

static const char usage_text[] =
    "Usage: delegaudit COMMAND [OPTIONS]\n"
    "\n"
    "Audits Kerberos delegation settings in Active Directory and flags accounts that\n"
    "can delegate to the krbtgt service.\n"
    "\n"
    "Commands:\n"
    "  poll            read every account with a delegation setting from one domain\n"
    "                  controller, compare with the last snapshot, report findings\n"
    "  diff OLD NEW    compare two snapshot files\n"
    "  report          join the findings of the latest snapshot in --state with\n"
    "                  4738/4742/5136 evidence from exported Security logs\n"
    "  audit           poll, then report, in one run\n"
    "  verify          read the accounts in question from every domain controller\n"
    "                  and tell whether all of them hold the clean, newest value\n"
    "  help            show this help\n"
    "  version         show the version\n"
    "\n"
    "Connection (poll, audit, verify):\n"
    "  -H URI                 domain controller, ldaps://HOST or ldap://HOST\n"
    "  -b BASE                search base (default: the defaultNamingContext)\n"
    "  -Y GSSAPI              SASL GSSAPI bind with the Kerberos credential cache in\n"
    "                         KRB5CCNAME (the default)\n"
    "  -x                     simple bind; only over ldaps:// or with -Z\n"
    "  -D BINDDN              bind DN or user principal name for -x\n"
    "  -y FILE                read the bind password from FILE (one trailing newline\n"
    "                         is ignored)\n"
    "  -W                     prompt for the bind password\n"
    "                         (or set DELEGAUDIT_PASSWORD in the environment)\n"
    "  -Z                     StartTLS on ldap:// before binding; failure is an error\n"
    "  --ca-file FILE         trust the CA certificates in this PEM file\n"
    "  --connect-timeout SEC  maximum seconds for connecting (default 10)\n"
    "  --timeout SEC          maximum seconds to wait for each response (default 120)\n"
    "  --page-size N          entries per paged-results page (default 1000)\n"
    "  --range-size N         request multi-valued attributes N values at a time\n"
    "                         (default 0: as many as the server returns)\n"
    "\n"
    "Snapshots and output:\n"
    "  --state DIR            keep snapshots in DIR and compare with the latest;\n"
    "                         without it nothing is saved\n"
    "  --keep N               snapshots kept in DIR (default 30, 0 keeps all)\n"
    "  --json                 write one JSON document instead of text\n"
    "  --no-progress          no progress line on a terminal\n"
    "  --config FILE          read settings from FILE (\"name = value\" lines, names as\n"
    "                         the long options: uri, base, binddn, password-file,\n"
    "                         simple-bind, starttls, ca-file, state, keep, ...);\n"
    "                         command-line options take precedence\n"
    "  -v, --verbose          log connections and searches to stderr; twice: each page\n"
    "\n"
    "Reports (report, audit):\n"
    "  --events PATH          an exported Security log (XML, JSON, NDJSON or .evtx),\n"
    "                         or a directory of them; repeatable\n"
    "  --format FORMAT        text (default), json, markdown or html\n"
    "  -o, --output FILE      write the report to FILE instead of standard output\n"
    "  --history N            older snapshots in --state used to match events to\n"
    "                         renamed accounts (default 30)\n"
    "  --verify FILE          add the results of delegaudit verify --json (report)\n"
    "\n"
    "Verify (after a remediation):\n"
    "  --state DIR            verify the krbtgt findings of the latest snapshot in DIR\n"
    "  --account NAME         verify this account: sAMAccountName, DN or SID; repeatable\n"
    "  --all                  verify every account with a delegation setting\n"
    "  --dc HOST              read this domain controller; repeatable (default: every\n"
    "                         DC listed in the configuration partition)\n"
    "  --wait DURATION        read again every 5 s until the DCs converge, for at\n"
    "                         most DURATION (90, 30s, 10m, 1h)\n"
    "  --json, -o FILE        as for reports\n"
    "\n"
    "Exit status: 0 clean, 1 findings or changes, 2 usage error,\n"
    "3 directory error (nothing saved), 4 local file or state error (nothing saved).\n"
    "verify: 0 converged and clean, 1 still backdoored or not converged,\n"
    "5 clean where read but some DC unverified, 2-4 errors as above.\n";

enum long_only_option {
    OPTION_CA_FILE = 256,
    OPTION_CONNECT_TIMEOUT,
    OPTION_TIMEOUT,
    OPTION_PAGE_SIZE,
    OPTION_RANGE_SIZE,
    OPTION_STATE,
    OPTION_KEEP,
    OPTION_JSON,
    OPTION_NO_PROGRESS,
    OPTION_CONFIG,
    OPTION_EVENTS,
    OPTION_FORMAT,
    OPTION_HISTORY,
    OPTION_VERIFY,
    OPTION_DC,
    OPTION_ACCOUNT,
    OPTION_ALL,
    OPTION_WAIT,
};

/* The leading colon makes getopt return a missing value as ':'. */
static const char short_options[] = ":H:b:D:y:Y:xWZw:vho:";

static const struct option long_options[] = {
    {"uri", required_argument, NULL, 'H'},
    {"base", required_argument, NULL, 'b'},
    {"binddn", required_argument, NULL, 'D'},
    {"password-file", required_argument, NULL, 'y'},
    {"mech", required_argument, NULL, 'Y'},
    {"simple-bind", no_argument, NULL, 'x'},
    {"prompt-password", no_argument, NULL, 'W'},
    {"starttls", no_argument, NULL, 'Z'},
    {"ca-file", required_argument, NULL, OPTION_CA_FILE},
    {"connect-timeout", required_argument, NULL, OPTION_CONNECT_TIMEOUT},
    {"timeout", required_argument, NULL, OPTION_TIMEOUT},
    {"page-size", required_argument, NULL, OPTION_PAGE_SIZE},
    {"range-size", required_argument, NULL, OPTION_RANGE_SIZE},
    {"state", required_argument, NULL, OPTION_STATE},
    {"keep", required_argument, NULL, OPTION_KEEP},
    {"json", no_argument, NULL, OPTION_JSON},
    {"no-progress", no_argument, NULL, OPTION_NO_PROGRESS},
    {"config", required_argument, NULL, OPTION_CONFIG},
    {"events", required_argument, NULL, OPTION_EVENTS},
    {"format", required_argument, NULL, OPTION_FORMAT},
    {"output", required_argument, NULL, 'o'},
    {"history", required_argument, NULL, OPTION_HISTORY},
    {"verify", required_argument, NULL, OPTION_VERIFY},
    {"dc", required_argument, NULL, OPTION_DC},
    {"account", required_argument, NULL, OPTION_ACCOUNT},
    {"all", no_argument, NULL, OPTION_ALL},
    {"wait", required_argument, NULL, OPTION_WAIT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Maps an option to its setting name, shared with the configuration file. */
static const char *setting_name(int option)
{
    switch (option) {
    case 'H': return "uri";
    case 'b': return "base";
    case 'D': return "binddn";
    case 'y': return "password-file";
    case 'Y': return "mech";
    case OPTION_CA_FILE: return "ca-file";
    case OPTION_CONNECT_TIMEOUT: return "connect-timeout";
    case OPTION_TIMEOUT: return "timeout";
    case OPTION_PAGE_SIZE: return "page-size";
    case OPTION_RANGE_SIZE: return "range-size";
    case OPTION_STATE: return "state";
    case OPTION_KEEP: return "keep";
    case OPTION_EVENTS: return "events";
    case OPTION_FORMAT: return "format";
    case OPTION_HISTORY: return "history";
    case OPTION_VERIFY: return "verify";
    case OPTION_DC: return "dc";
    case OPTION_ACCOUNT: return "account";
    case OPTION_WAIT: return "wait";
    case 'o': return "output";
    default: return NULL;
    }
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    char message[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    da_log("%s", message);
    fputs("Run \"delegaudit help\" for the options.\n", stderr);
    return DA_ERR_USAGE;
}

/* Rejects long options that are not spelled out. getopt_long accepts any
 * unambiguous prefix, so "--password=SECRET" would be taken as
 * --password-file and put a password in the process list. */
static int check_long_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        size_t length;
        bool known = false;

        if (strcmp(argument, "--") == 0)
            break;
        if (strncmp(argument, "--", 2) != 0)
            continue;
        argument += 2;
        length = strcspn(argument, "=");
        for (const struct option *option = long_options; option->name != NULL; option++) {
            if (strlen(option->name) == length && strncmp(option->name, argument, length) == 0)
                known = true;
        }
        if (known)
            continue;
        if (strncmp(argument, "pass", 4) == 0)
            return usage_error("unknown option \"--%.*s\": a password on the command line is "
                               "visible to every user in the process list; use -y FILE, -W or "
                               "the DELEGAUDIT_PASSWORD environment variable", (int)length,
                               argument);
        return usage_error("unknown option \"--%.*s\" (long options cannot be abbreviated)",
                           (int)length, argument);
    }
    return 0;
}

/* Parses the options of a command into settings: the configuration file
 * first, then the other options over it. *first_operand receives the
 * index of the first non-option argument. */
static int parse_options(int argc, char **argv, struct da_settings *settings, int *first_operand)
{
    struct da_error err = {0};
    char origin[64];
    bool simple_requested = false;
    bool sasl_requested = false;
    int option;

    if (check_long_options(argc, argv) != 0)
        return DA_ERR_USAGE;

    /* Pass one: only --config, so that options given later override it. */
    opterr = 0;
    optind = 0;
    while ((option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        if (option == OPTION_CONFIG && da_settings_load_file(settings, optarg, &err) != 0) {
            da_log("%s", err.message);
            return err.status;
        }
    }

    optind = 0;
    while ((option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        const char *name = setting_name(option);

        if (option == 'Y')
            sasl_requested = true;
        if (name != NULL) {
            if (option < 256)
                snprintf(origin, sizeof(origin), "option -%c", (char)option);
            else
                snprintf(origin, sizeof(origin), "option --%s", name);
            if (da_settings_set(settings, name, optarg, origin, &err) != 0) {
                da_log("%s", err.message);
                return err.status;
            }
            continue;
        }

        switch (option) {
        case 'x':
            settings->simple_bind = true;
            simple_requested = true;
            break;
        case 'W':
            settings->prompt_password = true;
            break;
        case 'Z':
            settings->starttls = true;
            break;
        case OPTION_JSON:
            settings->json = true;
            break;
        case OPTION_NO_PROGRESS:
            settings->no_progress = true;
            break;
        case OPTION_ALL:
            settings->all_accounts = true;
            break;
        case OPTION_CONFIG:
            break;
        case 'v':
            settings->verbose++;
            break;
        case 'w':
            return usage_error("-w is not supported, because a password on the command line "
                               "is visible to every user in the process list: use -y FILE, "
                               "-W or the DELEGAUDIT_PASSWORD environment variable");
        case 'h':
            fputs(usage_text, stdout);
            exit(DA_OK);
        case ':':
            return usage_error("option \"%s\" needs a value", argv[optind - 1]);
        default:
            if (optopt != 0)
                return usage_error("unknown option \"-%c\"", optopt);
            return usage_error("unknown option \"%s\"", argv[optind - 1]);
        }
    }

    if (simple_requested && sasl_requested)
        return usage_error("-x (simple bind) and -Y (SASL) exclude each other: give one");
    if (settings->password_file != NULL && settings->prompt_password)
        return usage_error("-y and -W both give the bind password: give one");

    *first_operand = optind;
    return 0;
}

/* Obtains the simple-bind password: -y FILE, then DELEGAUDIT_PASSWORD,
 * then a prompt (with -W, or when standard input is a terminal). */
static int obtain_password(const struct da_settings *settings, char **password)
{
    struct da_error err = {0};
    const char *environment = getenv(DA_PASSWORD_ENVIRONMENT);
    int rc = 0;

    if (settings->password_file != NULL)
        rc = da_password_read_file(settings->password_file, password, &err);
    else if (environment != NULL && environment[0] != '\0' && !settings->prompt_password)
        *password = strdup(environment);
    else if (settings->prompt_password || isatty(STDIN_FILENO))
        rc = da_password_prompt(settings->bind_dn, password, &err);
    else
        rc = da_error_set(&err, DA_ERR_USAGE,
                          "no password for the simple bind as %s: give it with -y FILE, the "
                          "%s environment variable, or -W on a terminal",
                          settings->bind_dn, DA_PASSWORD_ENVIRONMENT);

    if (rc == 0 && *password == NULL)
        rc = da_error_set(&err, DA_ERR_LOCAL, "out of memory");
    if (rc != 0)
        da_log("%s", err.message);
    return rc;
}

static bool verify_only_options(const struct da_settings *settings)
{
    return settings->dc_hosts.count > 0 || settings->accounts.count > 0 ||
           settings->all_accounts || settings->wait_seconds > 0;
}

/* Checks that -D, -y and -W come with -x, and -x with -D. */
static int check_bind_settings(const struct da_settings *settings)
{
    if (!settings->simple_bind && (settings->bind_dn != NULL || settings->password_file != NULL ||
                                   settings->prompt_password))
        return usage_error("-D, -y and -W apply to a simple bind: add -x to bind as %s over "
                           "TLS, or drop them to bind with SASL GSSAPI and the Kerberos ticket "
                           "in KRB5CCNAME",
                           settings->bind_dn != NULL ? settings->bind_dn : "that DN");
    if (settings->simple_bind && settings->bind_dn == NULL)
        return usage_error("-x needs a bind DN: pass -D \"CN=...\" or -D user@example.com");
    return 0;
}

static struct da_conn_options connection_options(const struct da_settings *settings,
                                                 const char *password)
{
    return (struct da_conn_options){
        .uri = settings->uri,
        .ca_file = settings->ca_file,
        .starttls = settings->starttls,
        .connect_timeout = settings->connect_timeout,
        .operation_timeout = settings->operation_timeout,
        .bind_method = settings->simple_bind ? DA_BIND_SIMPLE : DA_BIND_SASL_GSSAPI,
        .bind_dn = settings->bind_dn,
        .password = password,
        .verbose = settings->verbose,
    };
}

static int render(const struct da_settings *settings, const struct da_report *report)
{
    int rc = settings->json ? da_report_write_json(stdout, report)
                            : da_report_write_text(stdout, report);

    if (rc != 0 || fflush(stdout) != 0) {
        da_log("writing the report to standard output failed");
        return DA_ERR_LOCAL;
    }
    return 0;
}

/* Describes in buffer why two snapshots must not be compared: a different
 * search base or domain would make every account outside the overlap look
 * gained or lost. Returns NULL when they are comparable. */
static const char *comparison_obstacle(const struct da_snapshot *previous,
                                       const struct da_snapshot *current, char *buffer,
                                       size_t size)
{
    const struct da_poll_info *old = &previous->poll;
    const struct da_poll_info *new = &current->poll;

    if (old->domain_sid != NULL && new->domain_sid != NULL &&
        strcasecmp(old->domain_sid, new->domain_sid) != 0) {
        snprintf(buffer, size,
                 "it is of another domain (SID %s, now %s), so this poll starts a new baseline",
                 old->domain_sid, new->domain_sid);
        return buffer;
    }
    if (old->base_dn != NULL && new->base_dn != NULL &&
        strcasecmp(old->base_dn, new->base_dn) != 0) {
        snprintf(buffer, size,
                 "it was read under base %s, this poll under %s, so this poll starts a new "
                 "baseline; keep one state directory per base",
                 old->base_dn, new->base_dn);
        return buffer;
    }
    return NULL;
}

static int outcome(const struct da_findings *findings, const struct da_diff *diff)
{
    if (findings->count > 0 || (diff != NULL && diff->count > 0))
        return DA_FINDINGS;
    return DA_OK;
}

static int produce_evidence_report(const struct da_settings *settings,
                                   const struct da_snapshot *current, const char *current_path,
                                   struct da_snapshot *const *history, size_t history_count,
                                   const struct da_findings *findings, size_t *entries_out);
/* Orders report entries for the reader: critical findings, high ones, then
 * removed backdoors; the join's order (snapshot order) within each. */
static int entry_rank(const struct da_account_evidence *entry)
{
    if (entry->finding == NULL)
        return 2;
    return entry->finding->severity == DA_SEVERITY_CRITICAL ? 0 : 1;
}

static void sort_entries(struct da_account_evidence *entries, size_t count)
{
    /* Insertion sort keeps equal ranks in order; reports hold few entries. */
    for (size_t i = 1; i < count; i++) {
        struct da_account_evidence moving = entries[i];
        size_t j = i;

        while (j > 0 && entry_rank(&entries[j - 1]) > entry_rank(&moving)) {
            entries[j] = entries[j - 1];
            j--;
        }
        entries[j] = moving;
    }
}

static void free_history(struct da_snapshot **history, size_t count);
static const char *base_name(const char *path);

/* Polls; `poll` then writes the poll report, `audit` the remediation report
 * of the evidence given with --events. */
static int run_poll(int argc, char **argv, bool audit)
{
    struct da_settings settings;
    struct da_poll_options options = {0};
    struct da_poll_stats stats = {0};
    struct da_findings findings = {0};
    struct da_diff diff = {0};
    struct da_error err = {0};
    struct da_state *state = NULL;
    struct da_snapshot *previous = NULL;
    struct da_snapshot *current = NULL;
    struct da_conn *conn = NULL;
    char *previous_path = NULL;
    char *current_path = NULL;
    char *password = NULL;
    bool have_diff = false;
    size_t entry_count = 0;
    const char *comparison_skipped = NULL;
    char obstacle[1024];
    int first_operand = 0;
    int rc;

    da_settings_init(&settings);
    rc = parse_options(argc, argv, &settings, &first_operand);
    if (rc != 0)
        goto out;
    if (first_operand < argc) {
        rc = usage_error("%s takes no operands, but \"%s\" was given", audit ? "audit" : "poll",
                         argv[first_operand]);
        goto out;
    }
    if (!audit && (settings.event_paths.count > 0 || settings.format != NULL ||
                   settings.output != NULL || settings.verify_path != NULL)) {
        rc = usage_error("--events, --format, --verify and -o apply to report and audit, not to "
                         "poll");
        goto out;
    }
    if (audit && settings.event_paths.count == 0) {
        rc = usage_error("audit needs at least one --events PATH; without evidence, run poll");
        goto out;
    }
    if (verify_only_options(&settings)) {
        rc = usage_error("--dc, --account, --all and --wait apply to verify, not to %s",
                         audit ? "audit" : "poll");
        goto out;
    }
    if (settings.uri == NULL) {
        rc = usage_error("no domain controller given: pass -H ldaps://DC-HOST-NAME or set "
                         "uri in the configuration file");
        goto out;
    }
    rc = check_bind_settings(&settings);
    if (rc != 0)
        goto out;

    /* Lock and read the baseline before touching the network, so that a
     * corrupt state directory fails fast and nothing is overwritten. */
    if (settings.state_dir != NULL) {
        rc = da_state_open(settings.state_dir, &state, &err);
        if (rc == 0)
            rc = da_state_load_latest(state, &previous, &previous_path, &err);
        if (rc != 0) {
            da_log("%s", err.message);
            goto out;
        }
    }

    if (settings.simple_bind) {
        rc = obtain_password(&settings, &password);
        if (rc != 0)
            goto out;
    }

    options.connection = connection_options(&settings, password);
    options.base = settings.base;
    options.page_size = settings.page_size;
    options.range_size = settings.range_size;
    options.progress = !settings.no_progress && !settings.verbose && isatty(STDERR_FILENO);

    rc = da_poll_run(&options, &conn, &current, &stats, &err);
    da_password_free(password);
    password = NULL;
    if (rc != 0) {
        da_log("%s", err.message);
        if (state != NULL)
            da_log("no snapshot was saved; the previous one is unchanged");
        goto out;
    }

    if (da_findings_compute(current, &findings) != 0) {
        rc = da_error_set(&err, DA_ERR_LOCAL, "out of memory computing the findings");
        da_log("%s", err.message);
        goto out;
    }
    if (previous != NULL)
        comparison_skipped = comparison_obstacle(previous, current, obstacle, sizeof(obstacle));
    if (previous != NULL && comparison_skipped == NULL) {
        if (da_diff_compute(previous, current, &diff) != 0) {
            rc = DA_ERR_LOCAL;
            da_log("out of memory computing the differences");
            goto out;
        }
        have_diff = true;
        da_poll_resolve_presence(conn, &diff);
    }
    da_conn_close(conn);
    conn = NULL;

    /* The snapshot becomes the baseline only after the report is out:
     * otherwise a report lost to a full disk or a closed pipe would hide
     * its changes from every later poll. */
    if (state != NULL) {
        rc = da_state_write(state, current, &current_path, &err);
        if (rc != 0) {
            da_log("%s", err.message);
            goto out;
        }
    }

    if (audit) {
        struct da_snapshot **history = NULL;
        size_t history_count = 0;

        /* The baseline and older snapshots match events to renamed accounts. */
        if (state != NULL &&
            da_state_load_history(state, base_name(current_path), settings.history, &history,
                                  &history_count) != 0) {
            rc = DA_ERR_LOCAL;
            da_log("out of memory loading the snapshots");
        } else {
            rc = produce_evidence_report(&settings, current, current_path, history, history_count,
                                         &findings, &entry_count);
        }
        free_history(history, history_count);
        goto delivered;
    }

    struct da_report report = {
        .command = "poll",
        .current = current,
        .previous = previous,
        .current_path = current_path,
        .previous_path = previous_path,
        .findings = &findings,
        .diff = have_diff ? &diff : NULL,
        .stats = &stats,
        .comparison_skipped = comparison_skipped,
    };
    rc = render(&settings, &report);

delivered:
    if (rc != 0) {
        if (state != NULL) {
            da_state_discard(state);
            da_log("the new snapshot was not saved; the previous one "
                    "stays the baseline");
        }
        goto out;
    }
    if (state != NULL) {
        rc = da_state_commit(state, settings.keep, &err);
        if (rc != 0) {
            da_log("%s", err.message);
            goto out;
        }
    }
    rc = outcome(&findings, have_diff ? &diff : NULL);
    if (entry_count > 0)
        rc = DA_FINDINGS;

out:
    da_password_free(password);
    da_conn_close(conn);
    da_findings_clear(&findings);
    da_diff_clear(&diff);
    da_snapshot_free(current);
    da_snapshot_free(previous);
    free(current_path);
    free(previous_path);
    da_state_close(state);
    da_settings_clear(&settings);
    return rc;
}

/* Evidence reports. */

/* Problems reported per file before the rest are only counted. */
#define PROBLEMS_SHOWN_PER_FILE 20

struct event_pass {
    struct da_evidence *evidence;
    bool sessions;              /* pass two */
    unsigned long problems_shown;
    const uint64_t *logon_ids;  /* pass two: the wanted logon ids, sorted */
    size_t logon_id_count;
};

static int compare_u64(const void *a, const void *b)
{
    uint64_t left = *(const uint64_t *)a;
    uint64_t right = *(const uint64_t *)b;

    return (left > right) - (left < right);
}

/* True when a value that follows "LogonId" in the record (TargetLogonId,
 * SubjectLogonId, in XML, JSON or evtx_dump form) is a wanted one. One
 * scan per record, whatever the number of wanted sessions. */
static bool names_wanted_logon_id(const char *text, size_t length, const struct event_pass *pass)
{
    static const char key[] = "LogonId";
    const char *end = text + length;
    const char *cursor = text;

    while (cursor < end) {
        const char *hit = memmem(cursor, (size_t)(end - cursor), key, sizeof(key) - 1);
        char token[24];
        size_t used = 0;
        uint64_t value;

        if (hit == NULL)
            return false;
        cursor = hit + sizeof(key) - 1;
        /* Skip the quoting between name and value: "':> \t=. */
        while (cursor < end && strchr("\"':> \t=", *cursor) != NULL && *cursor != '\0')
            cursor++;
        while (cursor < end && used < sizeof(token) - 1 &&
               (isxdigit((unsigned char)*cursor) || *cursor == 'x' || *cursor == 'X'))
            token[used++] = *cursor++;
        token[used] = '\0';
        if (used > 0 && da_event_parse_logon_id(token, &value) &&
            bsearch(&value, pass->logon_ids, pass->logon_id_count, sizeof(value),
                    compare_u64) != NULL)
            return true;
    }
    return false;
}

static bool contains(const char *text, size_t length, const char *needle)
{
    return memmem(text, length, needle, strlen(needle)) != NULL;
}

/* Pass one wants the changes of accounts: every 4738 and 4742 carries an
 * AllowedToDelegateTo field (a "-" when unchanged) and every 5136 an
 * AttributeLDAPDisplayName, whatever the export format. Pass two wants the
 * records that name a wanted logon id (4624, 4648, and a few others that
 * the parse then drops). A long field name is found at memory speed, where
 * event id digits would match in times and record numbers too. */
static bool wants_text(const char *text, size_t length, void *context)
{
    const struct event_pass *pass = context;

    if (!pass->sessions)
        return contains(text, length, "AllowedToDelegateTo") ||
               contains(text, length, "AttributeLDAPDisplayName");
    return names_wanted_logon_id(text, length, pass);
}

/* Pass two of an .evtx file: a substitution string that is a wanted
 * logon id ("0x..." as Windows writes it). */
static bool wants_string(const char *value, void *context)
{
    const struct event_pass *pass = context;
    uint64_t logon_id;

    if (value[0] != '0' || (value[1] != 'x' && value[1] != 'X'))
        return false;
    return da_event_parse_logon_id(value, &logon_id) &&
           bsearch(&logon_id, pass->logon_ids, pass->logon_id_count, sizeof(logon_id),
                   compare_u64) != NULL;
}

static bool wants_event_id(unsigned long event_id, void *context)
{
    const struct event_pass *pass = context;

    if (!pass->sessions)
        return event_id == DA_EVENT_USER_CHANGED || event_id == DA_EVENT_COMPUTER_CHANGED ||
               event_id == DA_EVENT_OBJECT_MODIFIED;
    return event_id == DA_EVENT_LOGON || event_id == DA_EVENT_EXPLICIT_CREDENTIALS;
}

static int keep_event(const struct da_event *event, void *context, struct da_error *err)
{
    struct event_pass *pass = context;
    int rc = pass->sessions ? da_evidence_add_session(pass->evidence, event)
                            : da_evidence_add_change(pass->evidence, event);

    if (rc != 0)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory keeping the events");
    return 0;
}

static void report_problem(const char *file, const char *position_kind, unsigned long position,
                           const char *message, void *context)
{
    struct event_pass *pass = context;

    if (pass->problems_shown++ < PROBLEMS_SHOWN_PER_FILE)
        da_log_warning("%s: %s %lu: %s; skipped", file, position_kind, position, message);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands --events: a file stands for itself, a directory for the regular
 * files in it (not its subdirectories), in name order. */
static int expand_event_paths(const struct da_strv *paths, struct da_strv *files,
                              struct da_error *err)
{
    for (size_t i = 0; i < paths->count; i++) {
        const char *path = paths->items[i];
        struct stat info;
        DIR *directory;
        struct dirent *entry;
        size_t first = files->count;

        if (stat(path, &info) != 0)
            return da_error_set(err, DA_ERR_USAGE, "cannot read the event export \"%s\": %s",
                                path, strerror(errno));
        if (!S_ISDIR(info.st_mode)) {
            if (da_strv_append(files, path) != 0)
                return da_error_set(err, DA_ERR_LOCAL, "out of memory");
            continue;
        }

        directory = opendir(path);
        if (directory == NULL)
            return da_error_set(err, DA_ERR_USAGE, "cannot list the directory \"%s\": %s", path,
                                strerror(errno));
        while ((entry = readdir(directory)) != NULL) {
            size_t size = strlen(path) + strlen(entry->d_name) + 2;
            char *file;

            if (entry->d_name[0] == '.')
                continue;
            file = malloc(size);
            if (file != NULL)
                snprintf(file, size, "%s/%s", path, entry->d_name);
            if (file == NULL) {
                closedir(directory);
                return da_error_set(err, DA_ERR_LOCAL, "out of memory");
            }
            if (stat(file, &info) != 0 || !S_ISREG(info.st_mode)) {
                free(file);
                continue;
            }
            if (da_strv_append_owned(files, file) != 0) {
                free(file);
                closedir(directory);
                return da_error_set(err, DA_ERR_LOCAL, "out of memory");
            }
        }
        closedir(directory);
        qsort(files->items + first, files->count - first, sizeof(*files->items), compare_names);
    }
    return 0;
}

/* Reads every file twice: changes first, then the sessions they were made
 * from, so that only those logons are kept in memory. */
static int read_event_files(const struct da_strv *files, struct da_evidence *evidence,
                            struct da_event_totals *totals, struct da_error *err)
{
    uint64_t *logon_ids = NULL;
    size_t logon_id_count = 0;
    int rc = 0;

    for (int pass_number = 1; pass_number <= 2 && rc == 0; pass_number++) {
        if (pass_number == 2) {
            if (da_evidence_logon_ids(evidence, &logon_ids, &logon_id_count) != 0) {
                rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
                break;
            }
            /* No change came from a known session: nothing to look for. */
            if (logon_id_count == 0)
                break;
            qsort(logon_ids, logon_id_count, sizeof(*logon_ids), compare_u64);
        }
        for (size_t i = 0; i < files->count && rc == 0; i++) {
            struct event_pass pass = {evidence, pass_number == 2, 0, logon_ids, logon_id_count};
            struct da_event_reader reader = {
                .on_event = keep_event,
                .on_problem = pass_number == 1 ? report_problem : NULL,
                .context = &pass,
                .wants_text = wants_text,
                .wants_event_id = wants_event_id,
                .wants_string = pass_number == 2 ? wants_string : NULL,
            };
            struct da_event_read_stats stats = {0};

            rc = da_events_read_file(files->items[i], &reader, &stats, err);
            if (rc != 0)
                break;
            if (pass_number == 1) {
                totals->files++;
                totals->records += stats.records;
                totals->malformed += stats.malformed;
                if (pass.problems_shown > PROBLEMS_SHOWN_PER_FILE)
                    da_log_warning("%s: %lu more malformed records skipped", files->items[i],
                                   pass.problems_shown - PROBLEMS_SHOWN_PER_FILE);
            }
        }
    }
    free(logon_ids);
    da_evidence_kept_counts(evidence, &totals->kept);
    return rc;
}

/* Writes a rendered document to -o FILE atomically, or to standard output.
 * what names it in the error message. */
static int deliver(const struct da_settings *settings, const char *buffer, size_t length,
                   const char *what)
{
    struct da_error err = {0};
    int rc = 0;

    if (settings->output != NULL) {
        rc = da_file_write_atomic(settings->output, buffer, length, &err);
        if (rc != 0)
            da_log("%s", err.message);
    } else if (fwrite(buffer, 1, length, stdout) != length || fflush(stdout) != 0) {
        da_log("writing %s to standard output failed", what);
        rc = DA_ERR_LOCAL;
    }
    return rc;
}

/* Renders a document into memory with write, then hands it to deliver:
 * a failed rendering writes nothing. what names it in error messages. */
static int emit(const struct da_settings *settings, int (*write)(FILE *, const void *),
                const void *context, const char *what)
{
    char *buffer = NULL;
    size_t length = 0;
    FILE *memory = open_memstream(&buffer, &length);
    int rc;

    if (memory == NULL || write(memory, context) != 0) {
        if (memory != NULL)
            fclose(memory);
        free(buffer);
        da_log("rendering %s failed", what);
        return DA_ERR_LOCAL;
    }
    fclose(memory);
    rc = deliver(settings, buffer, length, what);
    free(buffer);
    return rc;
}

struct evidence_output {
    enum da_report_format format;
    const struct da_evidence_report *report;
};

static int write_evidence_report(FILE *out, const void *context)
{
    const struct evidence_output *output = context;

    return da_evidence_report_write(out, output->format, output->report);
}

/* Writes the report to -o FILE atomically, or to standard output. */
static int emit_report(const struct da_settings *settings, enum da_report_format format,
                       const struct da_evidence_report *report)
{
    struct evidence_output output = {format, report};

    return emit(settings, write_evidence_report, &output, "the report");
}

/* Joins the findings of current with the evidence of the exports and
 * writes the report. history contains older snapshots for matching renamed
 * accounts. Sets *entries_out to the number of report entries. */
static int produce_evidence_report(const struct da_settings *settings,
                                   const struct da_snapshot *current, const char *current_path,
                                   struct da_snapshot *const *history, size_t history_count,
                                   const struct da_findings *findings, size_t *entries_out)
{
    struct da_error err = {0};
    struct da_strv files = {0};
    const struct da_snapshot **snapshots = NULL;
    struct da_evidence *evidence = NULL;
    struct da_account_evidence *entries = NULL;
    size_t entry_count = 0;
    struct da_event_totals totals = {0};
    struct da_verify_result verification = {0};
    bool have_verification = false;
    enum da_report_format format = DA_REPORT_TEXT;
    char verify[512];
    int rc;

    if (settings->format != NULL)
        da_report_format_parse(settings->format, &format);

    /* A bad verify file fails before the exports are read. */
    if (settings->verify_path != NULL) {
        rc = da_verify_load_file(settings->verify_path, &verification, &err);
        if (rc != 0)
            goto out;
        have_verification = true;
        /* Both times are UTC in the same ISO 8601 form, so they order as
         * text. */
        if (verification.time != NULL && current->poll.time != NULL &&
            strcmp(verification.time, current->poll.time) < 0)
            da_log_warning("%s was written at %s, before the snapshot of %s: the states it "
                           "shows may be out of date; run delegaudit verify again",
                           settings->verify_path, verification.time, current->poll.time);
    }

    rc = expand_event_paths(&settings->event_paths, &files, &err);
    if (rc != 0)
        goto out;

    snapshots = calloc(history_count + 1, sizeof(*snapshots));
    if (snapshots == NULL) {
        rc = da_error_set(&err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }
    snapshots[0] = current;
    for (size_t i = 0; i < history_count; i++)
        snapshots[i + 1] = history[i];
    evidence = da_evidence_new(snapshots, history_count + 1);
    if (evidence == NULL) {
        rc = da_error_set(&err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }

    rc = read_event_files(&files, evidence, &totals, &err);
    if (rc != 0)
        goto out;
    if (da_evidence_join(evidence, findings, &entries, &entry_count) != 0) {
        rc = da_error_set(&err, DA_ERR_LOCAL, "out of memory joining the evidence");
        goto out;
    }

    sort_entries(entries, entry_count);
    snprintf(verify, sizeof(verify), "delegaudit poll -H %s%s%s",
             current->poll.uri != NULL ? current->poll.uri : "ldaps://DC",
             settings->state_dir != NULL ? " --state " : "",
             settings->state_dir != NULL ? settings->state_dir : "");
    struct da_evidence_report report = {
        .snapshot = current,
        .snapshot_path = current_path,
        .findings = findings,
        .entries = entries,
        .entry_count = entry_count,
        .event_paths = (const char *const *)settings->event_paths.items,
        .event_path_count = settings->event_paths.count,
        .totals = totals,
        .verify_command = verify,
        .verify = have_verification ? &verification : NULL,
        .verify_path = settings->verify_path,
    };
    rc = emit_report(settings, format, &report);
    *entries_out = entry_count;

out:
    if (rc != 0 && err.message[0] != '\0')
        da_log("%s", err.message);
    da_verify_result_clear(&verification);
    da_account_evidence_free(entries, entry_count);
    da_evidence_free(evidence);
    free(snapshots);
    da_strv_clear(&files);
    return rc;
}

static void free_history(struct da_snapshot **history, size_t count)
{
    for (size_t i = 0; i < count; i++)
        da_snapshot_free(history[i]);
    free(history);
}

static const char *base_name(const char *path)
{
    const char *slash = path != NULL ? strrchr(path, '/') : NULL;

    return slash != NULL ? slash + 1 : path;
}

static int command_report(int argc, char **argv)
{
    struct da_settings settings;
    struct da_findings findings = {0};
    struct da_error err = {0};
    struct da_state *state = NULL;
    struct da_snapshot *latest = NULL;
    struct da_snapshot **history = NULL;
    size_t history_count = 0;
    size_t entries = 0;
    char *latest_path = NULL;
    int first_operand = 0;
    int rc;

    da_settings_init(&settings);
    rc = parse_options(argc, argv, &settings, &first_operand);
    if (rc != 0)
        goto out;
    if (first_operand < argc) {
        rc = usage_error("report takes no operands, but \"%s\" was given", argv[first_operand]);
        goto out;
    }
    if (verify_only_options(&settings)) {
        rc = usage_error("--dc, --account, --all and --wait apply to verify, not to report");
        goto out;
    }
    if (settings.state_dir == NULL || settings.event_paths.count == 0) {
        rc = usage_error("report needs --state DIR (the snapshots of delegaudit poll) and at "
                         "least one --events PATH");
        goto out;
    }

    rc = da_state_open(settings.state_dir, &state, &err);
    if (rc == 0)
        rc = da_state_load_latest(state, &latest, &latest_path, &err);
    if (rc != 0) {
        da_log("%s", err.message);
        goto out;
    }
    if (latest == NULL) {
        rc = da_error_set(&err, DA_ERR_USAGE,
                          "%s holds no snapshot yet: run delegaudit poll --state %s first",
                          settings.state_dir, settings.state_dir);
        da_log("%s", err.message);
        goto out;
    }
    if (da_state_load_history(state, base_name(latest_path), settings.history, &history,
                              &history_count) != 0 ||
        da_findings_compute(latest, &findings) != 0) {
        rc = DA_ERR_LOCAL;
        da_log("out of memory loading the snapshots");
        goto out;
    }

    rc = produce_evidence_report(&settings, latest, latest_path, history, history_count,
                                 &findings, &entries);
    if (rc == 0)
        rc = entries > 0 ? DA_FINDINGS : DA_OK;

out:
    da_findings_clear(&findings);
    free_history(history, history_count);
    da_snapshot_free(latest);
    free(latest_path);
    da_state_close(state);
    da_settings_clear(&settings);
    return rc;
}

static int command_poll(int argc, char **argv)
{
    return run_poll(argc, argv, false);
}

static int command_audit(int argc, char **argv)
{
    return run_poll(argc, argv, true);
}

static int command_diff(int argc, char **argv)
{
    struct da_settings settings;
    struct da_findings findings = {0};
    struct da_diff diff = {0};
    struct da_error err = {0};
    struct da_snapshot *before = NULL;
    struct da_snapshot *after = NULL;
    int first_operand = 0;
    int rc;

    da_settings_init(&settings);
    rc = parse_options(argc, argv, &settings, &first_operand);
    if (rc != 0)
        goto out;
    if (argc - first_operand != 2) {
        rc = usage_error("diff takes two snapshot files: delegaudit diff OLD.json NEW.json");
        goto out;
    }

    for (int i = first_operand; i < argc; i++) {
        const char *slash = strrchr(argv[i], '/');

        if (strcmp(slash != NULL ? slash + 1 : argv[i], "latest") == 0) {
            rc = usage_error("%s is the pointer to the newest snapshot, not a snapshot: pass "
                             "the snapshot file it names (cat %s)", argv[i], argv[i]);
            goto out;
        }
    }

    rc = da_snapshot_read_file(argv[first_operand], &before, &err);
    if (rc == 0)
        rc = da_snapshot_read_file(argv[first_operand + 1], &after, &err);
    if (rc != 0) {
        da_log("%s", err.message);
        goto out;
    }

    if (da_findings_compute(after, &findings) != 0 || da_diff_compute(before, after, &diff) != 0) {
        rc = DA_ERR_LOCAL;
        da_log("out of memory comparing the snapshots");
        goto out;
    }

    struct da_report report = {
        .command = "diff",
        .current = after,
        .previous = before,
        .current_path = argv[first_operand + 1],
        .previous_path = argv[first_operand],
        .findings = &findings,
        .diff = &diff,
        .stats = NULL,
    };
    rc = render(&settings, &report);
    if (rc == 0)
        rc = outcome(&findings, &diff);

out:
    da_findings_clear(&findings);
    da_diff_clear(&diff);
    da_snapshot_free(before);
    da_snapshot_free(after);
    da_settings_clear(&settings);
    return rc;
}

static int write_verify_json(FILE *out, const void *result)
{
    return da_verify_write_json(out, result);
}

static int write_verify_text(FILE *out, const void *result)
{
    return da_verify_write_text(out, result);
}

/* Writes the verify result, text or JSON, to -o FILE atomically or to
 * standard output. */
static int emit_verify(const struct da_settings *settings, const struct da_verify_result *result)
{
    return emit(settings, settings->json ? write_verify_json : write_verify_text, result,
                "the verify results");
}

static int command_verify(int argc, char **argv)
{
    struct da_settings settings;
    struct da_verify_options options = {0};
    struct da_verify_result result = {0};
    struct da_findings findings = {0};
    struct da_findings earlier_findings = {0};
    struct da_error err = {0};
    struct da_state *state = NULL;
    struct da_snapshot *latest = NULL;
    struct da_snapshot **history = NULL;
    size_t history_count = 0;
    struct da_strv dc_hosts = {0};
    char *latest_path = NULL;
    char *password = NULL;
    int first_operand = 0;
    int selections;
    int rc;

    da_settings_init(&settings);
    rc = parse_options(argc, argv, &settings, &first_operand);
    if (rc != 0)
        goto out;
    if (first_operand < argc) {
        rc = usage_error("verify takes no operands, but \"%s\" was given; name accounts with "
                         "--account NAME", argv[first_operand]);
        goto out;
    }
    if (settings.event_paths.count > 0 || settings.format != NULL ||
        settings.verify_path != NULL) {
        rc = usage_error("--events, --format and --verify apply to report and audit, not to "
                         "verify; write verify results with --json -o FILE and pass them to "
                         "report --verify FILE");
        goto out;
    }
    selections = (settings.state_dir != NULL && settings.accounts.count == 0 &&
                  !settings.all_accounts) +
                 (settings.accounts.count > 0) + settings.all_accounts;
    if (settings.accounts.count > 0 && settings.all_accounts) {
        rc = usage_error("--account and --all exclude each other: give one");
        goto out;
    }
    if (selections == 0) {
        rc = usage_error("verify needs the accounts in question: --state DIR (the krbtgt "
                         "findings of the latest poll), --account NAME, or --all");
        goto out;
    }
    if (settings.uri == NULL && settings.dc_hosts.count == 0) {
        rc = usage_error("no domain controller given: pass -H ldaps://DC-HOST-NAME to list "
                         "the domain's DCs from it, or name each DC with --dc HOST");
        goto out;
    }
    for (size_t i = 0; i < settings.dc_hosts.count; i++) {
        if (strstr(settings.dc_hosts.items[i], "://") != NULL) {
            rc = usage_error("--dc takes a host name, not a URI: \"%s\"; the scheme comes "
                             "from -H (default ldaps)", settings.dc_hosts.items[i]);
            goto out;
        }
    }
    rc = check_bind_settings(&settings);
    if (rc != 0)
        goto out;

    if (settings.accounts.count == 0 && !settings.all_accounts) {
        rc = da_state_open(settings.state_dir, &state, &err);
        if (rc == 0)
            rc = da_state_load_latest(state, &latest, &latest_path, &err);
        if (rc != 0) {
            da_log("%s", err.message);
            goto out;
        }
        if (latest == NULL) {
            rc = usage_error("%s holds no snapshot yet: run delegaudit poll --state %s first, "
                             "or name accounts with --account NAME", settings.state_dir,
                             settings.state_dir);
            goto out;
        }
        /* A poll after the remediation no longer shows the finding, so the
         * previous snapshot's findings count too: those are the accounts
         * whose remediation must reach every DC. */
        if (da_findings_compute(latest, &findings) != 0 ||
            da_state_load_history(state, base_name(latest_path), 1, &history,
                                  &history_count) != 0 ||
            (history_count > 0 && da_findings_compute(history[0], &earlier_findings) != 0)) {
            rc = DA_ERR_LOCAL;
            da_log("out of memory computing the findings");
            goto out;
        }
        /* The snapshot is only read: release the lock for the next poll. */
        da_state_close(state);
        state = NULL;
    }

    if (settings.simple_bind) {
        rc = obtain_password(&settings, &password);
        if (rc != 0)
            goto out;
    }

    options.connection = connection_options(&settings, password);
    options.ldaps = settings.uri == NULL || strncasecmp(settings.uri, "ldaps://", 8) == 0;
    /* Host names compare without regard to case: one DC is read once. */
    for (size_t i = 0; i < settings.dc_hosts.count; i++) {
        bool repeated = false;

        for (size_t j = 0; j < dc_hosts.count && !repeated; j++)
            repeated = strcasecmp(dc_hosts.items[j], settings.dc_hosts.items[i]) == 0;
        if (!repeated && da_strv_append(&dc_hosts, settings.dc_hosts.items[i]) != 0) {
            rc = DA_ERR_LOCAL;
            da_log("out of memory");
            goto out;
        }
    }
    options.dc_hosts = (const char *const *)dc_hosts.items;
    options.dc_host_count = dc_hosts.count;
    options.base = settings.base;
    options.selection = settings.all_accounts         ? DA_SELECT_ALL
                        : settings.accounts.count > 0 ? DA_SELECT_ACCOUNTS
                                                      : DA_SELECT_FINDINGS;
    options.findings = &findings;
    options.earlier_findings = history_count > 0 ? &earlier_findings : NULL;
    options.snapshot_path = latest_path;
    options.account_names = (const char *const *)settings.accounts.items;
    options.account_name_count = settings.accounts.count;
    options.range_size = settings.range_size;
    options.wait_seconds = settings.wait_seconds;
    options.interval_seconds = 5;
    options.progress = !settings.no_progress && isatty(STDERR_FILENO);
    options.sequential = getenv("DELEGAUDIT_VERIFY_SEQUENTIAL") != NULL;

    rc = da_verify_run(&options, &result, &err);
    da_password_free(password);
    password = NULL;
    if (rc != 0) {
        da_log("%s", err.message);
        goto out;
    }
    rc = emit_verify(&settings, &result);
    if (rc == 0)
        rc = da_verify_exit_status(&result);

out:
    da_password_free(password);
    da_verify_result_clear(&result);
    da_findings_clear(&findings);
    da_findings_clear(&earlier_findings);
    free_history(history, history_count);
    da_strv_clear(&dc_hosts);
    da_snapshot_free(latest);
    free(latest_path);
    da_state_close(state);
    da_settings_clear(&settings);
    return rc;
}

static int command_help(int argc, char **argv)
{
    fputs(usage_text, stdout);
    return DA_OK;
}

static int command_version(int argc, char **argv)
{
    printf("delegaudit %s\n", DELEGAUDIT_VERSION);
    return DA_OK;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"poll", command_poll},
    {"diff", command_diff},
    {"report", command_report},
    {"audit", command_audit},
    {"verify", command_verify},
    {"help", command_help},
    {"--help", command_help},
    {"-h", command_help},
    {"version", command_version},
    {"--version", command_version},
};

int da_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return DA_ERR_USAGE;
    }

    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }

    return usage_error("unknown command \"%s\"", argv[1]);
}
