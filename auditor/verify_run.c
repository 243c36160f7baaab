/* asprintf, which glibc declares only for GNU sources. */
#define _GNU_SOURCE

#include "auditor/verify_run.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auditor/log.h"
#include "auditor/match.h"
#include "ldap/ad.h"
#include "ldap/dc_read.h"
#include "ldap/topology.h"

/* GUIDs per search filter: keeps each filter far below the request size
 * limits of AD (MaxReceiveBuffer, 10 MB) and Samba. */
#define GUIDS_PER_FILTER 200

/* Page size of the searches that find the accounts by name or delegation
 * setting, which can match any number of them: AD's default MaxPageSize. */
#define RESOLVE_PAGE_SIZE 1000

/* An account in question, as selected before the first round. */
struct selected {
    char *guid;
    char *dn;
    char *sam_account_name;
    char *sid;
    bool protocol_transition_on; /* per the finding */
    char *finding_time;
};

/* The facts a run reads before its rounds: the domain, its DCs and the
 * accounts in question. Read-only while the DC jobs run. */
struct run {
    const struct da_verify_options *options;
    char *base;
    char *schema_nc;
    char *domain_sid;
    struct da_topology topology;
    struct da_topology_dc *dcs; /* the DCs read in each round */
    size_t dc_count;
    struct selected *selected; /* sorted by GUID */
    size_t selected_count;
    size_t selected_capacity;
    char **filters; /* GUID filters that cover the selected accounts */
    size_t filter_count;
    char *early_host; /* the DC read while the DCs are listed; NULL: none */
    /* The early job lists the DCs over its own connection and reports the
     * outcome here before it goes on with its reads. */
    pthread_mutex_t listing_lock;
    pthread_cond_t listing_done;
    bool listed;
    int listing_rc;
    struct da_error listing_err;
};

enum job_mode {
    JOB_RESOLVE, /* find the selected accounts */
    JOB_READ,    /* read the accounts, their metadata and the krbtgt */
};

/* The work on one DC in one phase. Each job owns its connection and its
 * results; the threads share only the run, which they do not change. */
struct dc_job {
    const struct run *run;
    enum job_mode mode;
    const char *host;               /* NULL: the DC has no dNSHostName */
    const char *name;               /* for messages */
    const char *const *filters; /* JOB_RESOLVE */
    size_t filter_count;
    size_t *filter_matches; /* JOB_RESOLVE: objects each filter returned */
    struct da_dc_object *objects;
    size_t object_count;
    size_t object_capacity;
    struct da_snapshot *krbtgts;
    struct da_dc_object krbtgt;
    bool krbtgt_read;
    /* JOB_READ: the domain as the DC itself reports it, so that a job
     * needs nothing from the listing of the DCs and can start before it. */
    char *base;
    char *schema_nc;
    char *domain_sid;
    char krbtgt_sid[160]; /* the domain's krbtgt account; "" until known */
    bool skip; /* run_jobs leaves it alone: its result comes from elsewhere */
    /* The early job: it lists the DCs into lister first, over uri. */
    struct run *lister;
    const char *uri;
    int rc;
    struct da_error err;
    double seconds;
};

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *utc_now(void)
{
    char buffer[32];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buffer);
}

int da_verify_parse_duration(const char *text, double *seconds)
{
    char *end = NULL;
    double value;
    double unit = 1;

    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    value = strtod(text, &end);
    if (errno != 0 || end == text)
        return -1;
    if (strcmp(end, "m") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (strcmp(end, "s") != 0 && *end != '\0')
        return -1;
    value *= unit;
    if (!isfinite(value) || value > 7 * 86400)
        return -1;
    *seconds = value;
    return 0;
}

static void selected_clear(struct selected *selected)
{
    free(selected->guid);
    free(selected->dn);
    free(selected->sam_account_name);
    free(selected->sid);
    free(selected->finding_time);
}

static void run_clear(struct run *run)
{
    free(run->base);
    free(run->schema_nc);
    free(run->domain_sid);
    for (size_t i = 0; i < run->dc_count; i++) {
        free(run->dcs[i].name);
        free(run->dcs[i].host);
        free(run->dcs[i].ntds_dn);
        free(run->dcs[i].invocation_id);
    }
    free(run->dcs);
    da_topology_clear(&run->topology);
    for (size_t i = 0; i < run->selected_count; i++)
        selected_clear(&run->selected[i]);
    free(run->selected);
    for (size_t i = 0; i < run->filter_count; i++)
        free(run->filters[i]);
    free(run->filters);
    free(run->early_host);
    pthread_mutex_destroy(&run->listing_lock);
    pthread_cond_destroy(&run->listing_done);
}

static void job_clear(struct dc_job *job)
{
    for (size_t i = 0; i < job->object_count; i++)
        da_dc_object_clear(&job->objects[i]);
    free(job->objects);
    da_snapshot_free(job->krbtgts);
    da_dc_object_clear(&job->krbtgt);
    free(job->base);
    free(job->schema_nc);
    free(job->domain_sid);
    job->base = job->schema_nc = job->domain_sid = NULL;
    job->objects = NULL;
    job->object_count = job->object_capacity = 0;
    job->krbtgts = NULL;
    job->krbtgt_read = false;
}

static char *dc_uri(const struct da_verify_options *options, const char *host)
{
    char *uri = NULL;

    if (asprintf(&uri, "%s://%s", options->ldaps ? "ldaps" : "ldap", host) < 0)
        return NULL;
    return uri;
}

static int open_connection(const struct da_verify_options *options, const char *uri,
                           struct da_conn **conn, struct da_error *err)
{
    struct da_conn_options connection = options->connection;

    connection.uri = uri;
    return da_conn_open(&connection, conn, err);
}

/* Keeps each object the DC returns, moved out of the reader. */
static int keep_object(struct da_dc_object *object, void *context, struct da_error *err)
{
    struct dc_job *job = context;

    /* The krbtgt account's password stamp; the object itself stays too,
     * because --all selects a krbtgt account with a delegation setting. */
    if (job->krbtgt_sid[0] != '\0' && object->sid != NULL &&
        strcasecmp(object->sid, job->krbtgt_sid) == 0) {
        job->krbtgt.pwd_last_set = object->pwd_last_set;
        job->krbtgt.password_known = object->password_known;
        job->krbtgt.password = object->password;
        job->krbtgt_read = true;
    }

    if (job->object_count == job->object_capacity) {
        size_t capacity = job->object_capacity > 0 ? job->object_capacity * 2 : 16;
        struct da_dc_object *grown = realloc(job->objects, capacity * sizeof(*grown));

        if (grown == NULL)
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
        job->objects = grown;
        job->object_capacity = capacity;
    }
    job->objects[job->object_count++] = *object;
    memset(object, 0, sizeof(*object));
    return 0;
}

static int compare_objects(const void *a, const void *b)
{
    const struct da_dc_object *left = a;
    const struct da_dc_object *right = b;

    return strcmp(left->guid, right->guid);
}

static int discover_on(struct run *run, struct da_conn *conn, const char *uri,
                       struct da_error *err);
static int share_domain(const struct run *run, struct dc_job *job);

/* Reports the outcome of the early job's listing to the main thread. */
static void publish_listing(struct run *run, int rc, const struct da_error *err)
{
    pthread_mutex_lock(&run->listing_lock);
    run->listed = true;
    run->listing_rc = rc;
    if (rc != 0)
        run->listing_err = *err;
    pthread_cond_signal(&run->listing_done);
    pthread_mutex_unlock(&run->listing_lock);
}

/* Waits for the early job's listing; returns its outcome. */
static int wait_for_listing(struct run *run, struct da_error *err)
{
    int rc;

    pthread_mutex_lock(&run->listing_lock);
    while (!run->listed)
        pthread_cond_wait(&run->listing_done, &run->listing_lock);
    rc = run->listing_rc;
    if (rc != 0)
        *err = run->listing_err;
    pthread_mutex_unlock(&run->listing_lock);
    return rc;
}

/* Reads the search base, the schema naming context and the domain SID from
 * the DC of the job. */
static int read_domain(struct dc_job *job, struct da_conn *conn, struct da_error *err)
{
    const struct da_verify_options *options = job->run->options;
    struct da_rootdse rootdse = {0};
    int rc = da_ad_read_rootdse(conn, &rootdse, err);

    if (rc == 0) {
        job->base = strdup(options->base != NULL ? options->base
                                                 : rootdse.default_naming_context);
        if (rootdse.schema_naming_context != NULL)
            job->schema_nc = strdup(rootdse.schema_naming_context);
        if (job->base == NULL ||
            (rootdse.schema_naming_context != NULL && job->schema_nc == NULL))
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    if (rc == 0)
        rc = da_ad_read_domain_sid(conn, rootdse.default_naming_context, &job->domain_sid, err);
    da_rootdse_clear(&rootdse);
    return rc;
}

static int job_read(struct dc_job *job)
{
    const struct run *run = job->run;
    const struct da_verify_options *options = run->options;
    struct da_dc_attids attids = {0};
    struct da_conn *conn = NULL;
    struct da_error *err = &job->err;
    char *uri = NULL;
    char *krbtgt_filter = NULL;
    int rc;

    if (job->host == NULL)
        return da_error_set(err, DA_ERR_DIRECTORY,
                            "the server object of %s has no dNSHostName, so it cannot be "
                            "reached; name it with --dc HOST", job->name);
    uri = job->uri != NULL ? strdup(job->uri) : dc_uri(options, job->host);
    if (uri == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    rc = open_connection(options, uri, &conn, err);
    if (rc != 0)
        goto out;

    if (job->lister != NULL) {
        rc = discover_on(job->lister, conn, uri, err);
        publish_listing(job->lister, rc, err);
        job->lister = NULL;
        if (rc != 0)
            goto out;
        if (share_domain(run, job) != 0) {
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
            goto out;
        }
    }

    if (job->mode == JOB_RESOLVE) {
        for (size_t i = 0; rc == 0 && i < job->filter_count; i++) {
            size_t before = job->object_count;

            rc = da_dc_read_objects(conn, run->base, job->filters[i], NULL, RESOLVE_PAGE_SIZE,
                                    options->range_size, keep_object, job, err);
            if (job->filter_matches != NULL)
                job->filter_matches[i] = job->object_count - before;
        }
        goto out;
    }

    /* Jobs started after the listing take the domain from it. */
    if (job->base == NULL) {
        rc = read_domain(job, conn, err);
        if (rc != 0)
            goto out;
    }
    rc = da_dc_read_attids(conn, job->schema_nc, &attids, err);
    if (rc == 0) {
        job->krbtgts = da_snapshot_new();
        if (job->krbtgts == NULL)
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    if (rc == 0)
        rc = da_ad_read_krbtgts(conn, job->base, job->domain_sid, job->krbtgts, err);
    /* The domain's krbtgt account comes with the first GUID search, one
     * request less per DC: "(|(objectSid=...-502)" and the rest of it. */
    if (rc == 0) {
        char *sid_term = NULL;

        snprintf(job->krbtgt_sid, sizeof(job->krbtgt_sid), "%s-502", job->domain_sid);
        sid_term = da_dc_account_filter(job->krbtgt_sid);
        if (sid_term == NULL || asprintf(&krbtgt_filter, "(|%s%s", sid_term,
                                         run->filters[0] + 2) < 0) {
            krbtgt_filter = NULL;
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        }
        free(sid_term);
    }
    for (size_t i = 0; rc == 0 && i < run->filter_count; i++)
        rc = da_dc_read_objects(conn, job->base, i == 0 ? krbtgt_filter : run->filters[i],
                                &attids, 0, options->range_size, keep_object, job, err);
    if (rc == 0 && job->object_count > 1)
        qsort(job->objects, job->object_count, sizeof(*job->objects), compare_objects);

out:
    da_conn_close(conn);
    free(krbtgt_filter);
    free(uri);
    return rc;
}

static void *job_thread(void *argument)
{
    struct dc_job *job = argument;
    double start = now_seconds();

    job->rc = job_read(job);
    /* A job that failed before it could list the DCs still reports. */
    if (job->lister != NULL) {
        publish_listing(job->lister, job->rc, &job->err);
        job->lister = NULL;
    }
    job->seconds = now_seconds() - start;
    return NULL;
}

/* Runs the jobs, one thread per DC, or one after the other when asked.
 * A thread that cannot be started runs its job in this one. */
static void run_jobs(struct dc_job *jobs, size_t count, bool sequential)
{
    pthread_t *threads = calloc(count > 0 ? count : 1, sizeof(*threads));
    bool *started = calloc(count > 0 ? count : 1, sizeof(*started));

    for (size_t i = 0; i < count; i++) {
        if (jobs[i].skip)
            continue;
        if (!sequential && threads != NULL && started != NULL &&
            pthread_create(&threads[i], NULL, job_thread, &jobs[i]) == 0)
            started[i] = true;
        else
            job_thread(&jobs[i]);
    }
    for (size_t i = 0; i < count; i++) {
        if (started != NULL && started[i])
            pthread_join(threads[i], NULL);
    }
    free(threads);
    free(started);
}

static int copy_dc(struct da_topology_dc *dest, const struct da_topology_dc *src)
{
    memset(dest, 0, sizeof(*dest));
    dest->read_only = src->read_only;
    dest->hosts_domain = src->hosts_domain;
    if ((src->name != NULL && (dest->name = strdup(src->name)) == NULL) ||
        (src->host != NULL && (dest->host = strdup(src->host)) == NULL) ||
        (src->invocation_id != NULL && (dest->invocation_id = strdup(src->invocation_id)) == NULL))
        return -1;
    return 0;
}

/* Lists the DCs to read: --dc hosts, named through the topology where it
 * lists them, or every DC that has a copy of the domain. */
static int choose_dcs(struct run *run, struct da_error *err)
{
    const struct da_verify_options *options = run->options;
    size_t count = options->dc_host_count > 0 ? options->dc_host_count : run->topology.count;

    run->dcs = calloc(count > 0 ? count : 1, sizeof(*run->dcs));
    if (run->dcs == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");

    if (options->dc_host_count > 0) {
        for (size_t i = 0; i < options->dc_host_count; i++) {
            const char *host = options->dc_hosts[i];
            const struct da_topology_dc *known = NULL;
            struct da_topology_dc *dc = &run->dcs[run->dc_count++];

            for (size_t j = 0; j < run->topology.count; j++) {
                if (run->topology.dcs[j].host != NULL &&
                    strcasecmp(run->topology.dcs[j].host, host) == 0)
                    known = &run->topology.dcs[j];
            }
            if (known != NULL) {
                if (copy_dc(dc, known) != 0)
                    return da_error_set(err, DA_ERR_LOCAL, "out of memory");
                free(dc->host);
                dc->host = NULL;
            }
            if ((dc->host = strdup(host)) == NULL ||
                (dc->name == NULL && (dc->name = strdup(host)) == NULL))
                return da_error_set(err, DA_ERR_LOCAL, "out of memory");
        }
        return 0;
    }

    for (size_t i = 0; i < run->topology.count; i++) {
        if (!run->topology.dcs[i].hosts_domain)
            continue;
        if (copy_dc(&run->dcs[run->dc_count++], &run->topology.dcs[i]) != 0)
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    if (run->dc_count == 0)
        return da_error_set(err, DA_ERR_DIRECTORY,
                            "no domain controller of the configuration partition holds %s; "
                            "name the DCs with --dc HOST", run->base);
    return 0;
}

/* Reads the search base, the domain SID and the DCs into run over an open
 * connection to uri. On failure run keeps none of them. */
static int discover_on(struct run *run, struct da_conn *conn, const char *uri,
                       struct da_error *err)
{
    const struct da_verify_options *options = run->options;
    struct da_rootdse rootdse = {0};
    int rc = da_ad_read_rootdse(conn, &rootdse, err);

    if (rc == 0) {
        run->base = strdup(options->base != NULL ? options->base
                                                 : rootdse.default_naming_context);
        if (rootdse.schema_naming_context != NULL)
            run->schema_nc = strdup(rootdse.schema_naming_context);
        if (run->base == NULL ||
            (rootdse.schema_naming_context != NULL && run->schema_nc == NULL))
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    if (rc == 0)
        rc = da_ad_read_domain_sid(conn, rootdse.default_naming_context, &run->domain_sid, err);
    if (rc == 0 && rootdse.configuration_naming_context == NULL)
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the RootDSE of %s names no configurationNamingContext, so the "
                          "domain controllers cannot be listed; name them with --dc HOST",
                          uri);
    if (rc == 0)
        rc = da_topology_read(conn, rootdse.configuration_naming_context,
                              rootdse.default_naming_context, &run->topology, err);
    /* With --dc the list is given: the topology only names the DCs. */
    if (rc != 0 && options->dc_host_count > 0 && run->base != NULL &&
        run->domain_sid != NULL && err->status == DA_ERR_DIRECTORY) {
        da_log_warning("%s; DCs are shown by host name", err->message);
        rc = 0;
    }
    da_rootdse_clear(&rootdse);
    if (rc != 0) {
        free(run->base);
        free(run->schema_nc);
        free(run->domain_sid);
        run->base = run->schema_nc = run->domain_sid = NULL;
    }
    return rc;
}

/* Reads the domain and its DCs from the first DC that can be read: the one
 * of -H, then each --dc in turn, from attempt first on (0 is -H). last is
 * the error of an earlier attempt, or NULL. */
static int discover(struct run *run, size_t first, const struct da_error *earlier,
                    struct da_error *err)
{
    const struct da_verify_options *options = run->options;
    struct da_error last = {0};
    int rc = DA_ERR_DIRECTORY;

    if (earlier != NULL)
        last = *earlier;
    for (size_t attempt = first; attempt <= options->dc_host_count; attempt++) {
        struct da_conn *conn = NULL;
        char *uri = NULL;

        if (attempt == 0 && options->connection.uri == NULL)
            continue;
        if (attempt == 0)
            uri = strdup(options->connection.uri);
        else
            uri = dc_uri(options, options->dc_hosts[attempt - 1]);
        if (uri == NULL)
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");

        da_error_clear(&last);
        rc = open_connection(options, uri, &conn, &last);
        if (rc == 0)
            rc = discover_on(run, conn, uri, &last);
        da_conn_close(conn);
        free(uri);
        if (rc == 0)
            return 0;
        if (options->dc_host_count > 0)
            da_log_warning("%s", last.message);
        if (last.status == DA_ERR_LOCAL || last.status == DA_ERR_USAGE)
            break;
    }
    *err = last;
    if (options->dc_host_count > 0 && err->status == DA_ERR_DIRECTORY)
        da_error_prefix(err, "no domain controller answered; the last one");
    return err->status != 0 ? (int)err->status : rc;
}

static int compare_selected(const void *a, const void *b)
{
    return strcmp(((const struct selected *)a)->guid, ((const struct selected *)b)->guid);
}

static const struct da_dc_object *find_object(const struct dc_job *job, const char *guid)
{
    struct da_dc_object key = {.guid = (char *)guid};

    if (job->object_count == 0)
        return NULL;
    return bsearch(&key, job->objects, job->object_count, sizeof(key), compare_objects);
}

static char *dup_or_null(const char *text)
{
    return text != NULL ? strdup(text) : NULL;
}

/* Adds an account unless its GUID is there already. */
/* Appends an account; sort_selected merges repeated GUIDs afterwards, so
 * that selecting n accounts costs n log n, not n squared. */
static int add_selected(struct run *run, const char *guid, const char *dn, const char *sam,
                        const char *sid, bool protocol_transition_on, const char *finding_time)
{
    struct selected *entry;

    if (run->selected_count == run->selected_capacity) {
        size_t capacity = run->selected_capacity > 0 ? run->selected_capacity * 2 : 16;
        struct selected *grown = realloc(run->selected, capacity * sizeof(*grown));

        if (grown == NULL)
            return -1;
        run->selected = grown;
        run->selected_capacity = capacity;
    }
    entry = &run->selected[run->selected_count++];
    memset(entry, 0, sizeof(*entry));
    entry->protocol_transition_on = protocol_transition_on;
    entry->guid = strdup(guid);
    entry->dn = dup_or_null(dn);
    entry->sam_account_name = dup_or_null(sam);
    entry->sid = dup_or_null(sid);
    entry->finding_time = dup_or_null(finding_time);
    if (entry->guid == NULL || (dn != NULL && entry->dn == NULL) ||
        (sam != NULL && entry->sam_account_name == NULL) || (sid != NULL && entry->sid == NULL) ||
        (finding_time != NULL && entry->finding_time == NULL))
        return -1;
    return 0;
}

/* Sorts the selected accounts by GUID and merges repeated ones: the first
 * keeps its names, and protocol transition counts when any had it on. */
static void sort_selected(struct run *run)
{
    size_t unique = 0;

    if (run->selected_count > 1)
        qsort(run->selected, run->selected_count, sizeof(*run->selected), compare_selected);
    for (size_t i = 0; i < run->selected_count; i++) {
        if (unique > 0 && strcmp(run->selected[unique - 1].guid, run->selected[i].guid) == 0) {
            run->selected[unique - 1].protocol_transition_on |=
                run->selected[i].protocol_transition_on;
            selected_clear(&run->selected[i]);
            continue;
        }
        run->selected[unique++] = run->selected[i];
    }
    run->selected_count = unique;
}

/* Converts an AD GeneralizedTime ("20261204195100.0Z") to ISO 8601. */
static char *generalized_to_iso(const char *text)
{
    char *iso = NULL;

    if (text == NULL || strlen(text) < 14)
        return dup_or_null(text);
    if (asprintf(&iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", text, text + 4, text + 6, text + 8,
                 text + 10, text + 12) < 0)
        return NULL;
    return iso;
}

static int add_findings(struct run *run, const struct da_findings *findings,
                        struct da_error *err)
{
    for (size_t i = 0; findings != NULL && i < findings->count; i++) {
        const struct da_finding *finding = &findings->items[i];
        const struct da_account *account = finding->account;
        char *time;
        int rc;

        /* Resource-based findings concern another attribute of a krbtgt
         * account; verify checks msDS-AllowedToDelegateTo. */
        if (strcmp(finding->rule_id, DA_RULE_KRBTGT_RESOURCE_BASED) == 0)
            continue;
        time = generalized_to_iso(account->when_changed);
        rc = add_selected(run, account->guid, account->dn, account->sam_account_name, account->sid,
                        da_account_protocol_transition(account), time);
        free(time);
        if (rc != 0)
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    return 0;
}

static int select_findings(struct run *run, struct da_error *err)
{
    int rc = add_findings(run, run->options->findings, err);

    if (rc == 0)
        rc = add_findings(run, run->options->earlier_findings, err);
    if (rc == 0 && run->selected_count == 0)
        rc = da_error_set(err, DA_ERR_USAGE,
                          "neither the latest snapshot in --state nor the one before has a "
                          "krbtgt delegation finding to verify; name accounts with --account "
                          "NAME, or check every account with --all");
    return rc;
}

/* Finds the accounts named by --account, or every account with a
 * delegation setting, on every DC: an account whose delegation is gone on
 * one DC still counts when another lists it. */
static int select_from_directory(struct run *run, struct da_error *err)
{
    const struct da_verify_options *options = run->options;
    char **filters = NULL;
    size_t filter_count = 0;
    struct dc_job *jobs = calloc(run->dc_count, sizeof(*jobs));
    size_t answered = 0;
    int rc = 0;

    if (jobs == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");

    if (options->selection == DA_SELECT_ALL) {
        filters = calloc(1, sizeof(*filters));
        if (filters != NULL && (filters[0] = strdup(da_ad_delegation_filter)) != NULL)
            filter_count = 1;
    } else {
        filters = calloc(options->account_name_count, sizeof(*filters));
        for (size_t i = 0; filters != NULL && i < options->account_name_count; i++) {
            filters[i] = da_dc_account_filter(options->account_names[i]);
            if (filters[i] == NULL) {
                if (strncasecmp(options->account_names[i], "S-1-", 4) == 0)
                    rc = da_error_set(err, DA_ERR_USAGE,
                                      "--account \"%s\" is no valid SID; give a sAMAccountName, "
                                      "a DN or a SID such as S-1-5-21-1-2-3-1105",
                                      options->account_names[i]);
                else
                    rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
                goto out;
            }
            filter_count++;
        }
    }
    if (filter_count == 0) {
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }

    for (size_t i = 0; i < run->dc_count; i++)
        jobs[i] = (struct dc_job){.run = run, .mode = JOB_RESOLVE, .host = run->dcs[i].host,
                                  .name = run->dcs[i].name,
                                  .filter_matches = calloc(filter_count, sizeof(size_t)),
                                  .filters = (const char *const *)filters,
                                  .filter_count = filter_count};
    run_jobs(jobs, run->dc_count, options->sequential);

    for (size_t i = 0; i < run->dc_count; i++) {
        if (jobs[i].rc != 0)
            continue;
        answered++;
        for (size_t j = 0; j < jobs[i].object_count; j++) {
            const struct da_dc_object *object = &jobs[i].objects[j];

            if (add_selected(run, object->guid, object->dn, object->sam_account_name, object->sid,
                           false, NULL) != 0) {
                rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
                goto out;
            }
        }
    }
    if (answered == 0) {
        *err = jobs[0].err;
        rc = err->status != 0 ? err->status : DA_ERR_DIRECTORY;
        da_error_prefix(err, "no domain controller answered; the first one");
        goto out;
    }
    if (run->selected_count == 0 && options->selection == DA_SELECT_ALL)
        rc = da_error_set(err, DA_ERR_USAGE,
                          "no account of %s has a delegation setting on the DCs that answered; "
                          "nothing to verify", run->base);
    /* Each name must match an account on some DC: a mistyped one would
     * otherwise drop out of the result unseen. */
    for (size_t i = 0; rc == 0 && options->selection == DA_SELECT_ACCOUNTS &&
                       i < options->account_name_count; i++) {
        bool matched = false;

        for (size_t j = 0; j < run->dc_count && !matched; j++)
            matched = jobs[j].rc == 0 && jobs[j].filter_matches != NULL &&
                      jobs[j].filter_matches[i] > 0;
        if (!matched)
            rc = da_error_set(err, DA_ERR_USAGE,
                              "--account \"%s\" matches no account of %s on the DCs that "
                              "answered; check the spelling (sAMAccountName, DN or SID)",
                              options->account_names[i], run->base);
    }

out:
    for (size_t i = 0; i < run->dc_count; i++) {
        free(jobs[i].filter_matches);
        job_clear(&jobs[i]);
    }
    free(jobs);
    for (size_t i = 0; i < filter_count; i++)
        free(filters[i]);
    free(filters);
    return rc;
}

static int build_filters(struct run *run, struct da_error *err)
{
    size_t count = (run->selected_count + GUIDS_PER_FILTER - 1) / GUIDS_PER_FILTER;
    const char **guids = calloc(run->selected_count, sizeof(*guids));

    run->filters = calloc(count > 0 ? count : 1, sizeof(*run->filters));
    if (guids == NULL || run->filters == NULL) {
        free(guids);
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    for (size_t i = 0; i < run->selected_count; i++)
        guids[i] = run->selected[i].guid;
    for (size_t i = 0; i < count; i++) {
        size_t first = i * GUIDS_PER_FILTER;
        size_t n = run->selected_count - first < GUIDS_PER_FILTER ? run->selected_count - first
                                                                  : GUIDS_PER_FILTER;

        run->filters[i] = da_dc_guid_filter(guids + first, n);
        if (run->filters[i] == NULL) {
            da_error_set(err, DA_ERR_LOCAL,
                         "cannot build a search filter for the GUIDs from %s on: a GUID is "
                         "invalid or memory ran out", guids[first]);
            free(guids);
            return err->status;
        }
        run->filter_count++;
    }
    free(guids);
    return 0;
}

static int fill_stamp(struct da_verify_stamp *stamp, bool known,
                      const struct da_attribute_metadata *metadata,
                      const struct da_topology *topology)
{
    const struct da_topology_dc *origin;

    memset(stamp, 0, sizeof(*stamp));
    if (!known)
        return 0;
    stamp->known = true;
    stamp->version = metadata->version;
    stamp->originating_usn = metadata->originating_usn;
    stamp->local_usn = metadata->local_usn;
    stamp->originating_time = strdup(metadata->originating_time);
    stamp->originating_invocation_id = strdup(metadata->originating_invocation_id);
    origin = da_topology_find_invocation(topology, metadata->originating_invocation_id);
    if (origin != NULL && origin->name != NULL)
        stamp->originating_dc = strdup(origin->name);
    if (stamp->originating_time == NULL || stamp->originating_invocation_id == NULL ||
        (origin != NULL && origin->name != NULL && stamp->originating_dc == NULL))
        return -1;
    return 0;
}

static int fill_cell(struct da_verify_cell *cell, const struct dc_job *job,
                     const struct da_dc_object *object, const struct da_topology *topology)
{
    cell->read = job->rc == 0;
    if (!cell->read || object == NULL)
        return 0;
    cell->found = true;
    cell->user_account_control = object->user_account_control;
    if (da_strv_copy(&cell->allowed_to_delegate_to, &object->allowed_to_delegate_to) != 0)
        return -1;
    for (size_t i = 0; i < object->allowed_to_delegate_to.count; i++) {
        const char *value = object->allowed_to_delegate_to.items[i];

        if (da_target_is_krbtgt(value, job->krbtgts->krbtgts, job->krbtgts->krbtgt_count) &&
            da_strv_append(&cell->krbtgt_targets, value) != 0)
            return -1;
    }
    if (fill_stamp(&cell->delegation, object->delegation_known, &object->delegation, topology) !=
            0 ||
        fill_stamp(&cell->uac, object->uac_known, &object->uac, topology) != 0)
        return -1;
    return 0;
}

static char *filetime_to_iso(uint64_t filetime)
{
    char buffer[32];

    if (filetime == 0 || filetime == INT64_MAX ||
        !da_repl_format_seconds_since_1601(filetime / 10000000u, buffer, sizeof(buffer)))
        return NULL;
    return strdup(buffer);
}

static int fill_dc(struct da_verify_dc *dc, const struct dc_job *job,
                   const struct da_topology_dc *known, const struct da_topology *topology)
{
    dc->name = strdup(known->name);
    dc->host = dup_or_null(known->host);
    dc->invocation_id = dup_or_null(known->invocation_id);
    dc->read_only = known->read_only;
    dc->reachable = job->rc == 0;
    dc->seconds = job->seconds;
    if (!dc->reachable)
        dc->problem = strdup(job->err.message[0] != '\0' ? job->err.message : "no result");
    if (dc->name == NULL || (!dc->reachable && dc->problem == NULL))
        return -1;
    if (dc->reachable && job->krbtgt_read) {
        dc->krbtgt.read = true;
        dc->krbtgt.password_last_set = filetime_to_iso(job->krbtgt.pwd_last_set);
        if (fill_stamp(&dc->krbtgt.password, job->krbtgt.password_known, &job->krbtgt.password,
                       topology) != 0)
            return -1;
    }
    return 0;
}

static int fill_result(const struct run *run, const struct dc_job *jobs,
                       struct da_verify_result *result, struct da_error *err)
{
    if (da_verify_result_init(result, run->dc_count, run->selected_count) != 0)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    result->time = utc_now();
    result->base_dn = strdup(run->base);
    if (result->time == NULL || result->base_dn == NULL)
        goto oom;

    for (size_t j = 0; j < run->dc_count; j++) {
        if (fill_dc(&result->dcs[j], &jobs[j], &run->dcs[j], &run->topology) != 0)
            goto oom;
    }
    for (size_t i = 0; i < run->selected_count; i++) {
        const struct selected *selected = &run->selected[i];
        struct da_verify_account *account = &result->accounts[i];
        const struct da_dc_object *named = NULL;

        for (size_t j = 0; j < run->dc_count; j++) {
            const struct da_dc_object *object =
                jobs[j].rc == 0 ? find_object(&jobs[j], selected->guid) : NULL;

            if (fill_cell(&account->cells[j], &jobs[j], object, &run->topology) != 0)
                goto oom;
            if (named == NULL && object != NULL)
                named = object;
        }
        account->guid = strdup(selected->guid);
        account->dn = dup_or_null(named != NULL ? named->dn : selected->dn);
        account->sam_account_name =
            dup_or_null(named != NULL && named->sam_account_name != NULL ? named->sam_account_name
                                                                          : selected->sam_account_name);
        account->sid = dup_or_null(named != NULL && named->sid != NULL ? named->sid : selected->sid);
        account->finding_time = dup_or_null(selected->finding_time);
        account->remediation_turns_off_protocol_transition = selected->protocol_transition_on;
        if (account->guid == NULL)
            goto oom;
    }
    da_verify_evaluate(result);
    da_verify_sort_accounts(result);
    return 0;

oom:
    da_verify_result_clear(result);
    return da_error_set(err, DA_ERR_LOCAL, "out of memory");
}

/* Describes in words what was verified, for the reader of the result. */
static int describe_selection(const struct da_verify_options *options, char **text,
                              struct da_error *err)
{
    int written;

    if (options->selection == DA_SELECT_ALL)
        written = asprintf(text, "every account with a delegation setting");
    else if (options->selection == DA_SELECT_ACCOUNTS)
        written = asprintf(text, "the accounts named with --account");
    else if (options->snapshot_path != NULL)
        written = asprintf(text, "the krbtgt delegation findings of snapshot %s%s",
                           options->snapshot_path,
                           options->earlier_findings != NULL ? " and of the one before" : "");
    else
        written = asprintf(text, "the krbtgt delegation findings given");
    if (written < 0) {
        *text = NULL;
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    return 0;
}

/* One line for a progress display between rounds. */
static void show_round(const struct da_verify_result *result, unsigned round, double elapsed,
                       double left)
{
    char behind[512] = "";
    size_t used = 0;

    for (size_t j = 0; j < result->dc_count; j++) {
        bool lagging = !result->dcs[j].reachable;

        for (size_t i = 0; !lagging && i < result->account_count; i++)
            lagging = result->accounts[i].cells[j].state != DA_VERIFY_CLEAN;
        if (lagging && used < sizeof(behind)) {
            int written = snprintf(behind + used, sizeof(behind) - used, "%s%s",
                                   used > 0 ? ", " : "", result->dcs[j].name);
            if (written > 0)
                used += (size_t)written;
        }
    }
    da_log("verify: round %u after %.0f s: %s%s%s; reading again, %.0f s left", round, elapsed,
           da_verify_verdict_name(result->verdict), used > 0 ? " on " : "", behind, left);
}

/* The host of the DC that lists the others: the one of -H, else the first
 * --dc. NULL when the URI has no host part, or a port or path. Heap
 * string. */
static char *listing_host(const struct da_verify_options *options)
{
    const char *uri = options->connection.uri;
    const char *host;
    size_t length;

    if (uri == NULL)
        return options->dc_host_count > 0 ? strdup(options->dc_hosts[0]) : NULL;
    host = strstr(uri, "://");
    if (host == NULL)
        return NULL;
    host += 3;
    length = strcspn(host, ":/?");
    /* With a port, such as the Global Catalog's 3268, or a search base in
     * the URI, -H reads something else than the DC's own port: its reads
     * would not be those of the DC, so it only lists. */
    if (length == 0 || (host[length] != '\0' && strcmp(host + length, "/") != 0))
        return NULL;
    return strndup(host, length);
}

/* Jobs started before the DCs are listed: for every --dc host, or for the
 * host of -H. Only the findings are known before the listing, so only they
 * can be read this early. The job on the listing host lists the DCs over
 * its own connection first and hands the list to the main thread. */
struct early_jobs {
    struct dc_job *jobs;
    pthread_t *threads;
    bool *started;
    size_t count;
    long lister; /* index of the job that lists the DCs, or -1 */
    bool joined;
    bool threads_unused; /* the jobs ran in this thread */
};

static void start_early_jobs(struct run *run, struct early_jobs *early)
{
    const struct da_verify_options *options = run->options;
    const char *const *hosts = options->dc_host_count > 0
                                   ? options->dc_hosts
                                   : (const char *const *)&run->early_host;
    size_t count = options->dc_host_count > 0 ? options->dc_host_count : 1;

    memset(early, 0, sizeof(*early));
    early->lister = -1;
    if (options->selection != DA_SELECT_FINDINGS || run->early_host == NULL)
        return;
    early->jobs = calloc(count, sizeof(*early->jobs));
    early->threads = calloc(count, sizeof(*early->threads));
    early->started = calloc(count, sizeof(*early->started));
    if (early->jobs == NULL || early->threads == NULL || early->started == NULL)
        return;
    early->count = count;

    for (size_t i = 0; i < count; i++) {
        struct dc_job *job = &early->jobs[i];
        bool lists = early->lister < 0 && strcasecmp(hosts[i], run->early_host) == 0;

        *job = (struct dc_job){.run = run, .mode = JOB_READ, .host = hosts[i], .name = hosts[i]};
        if (lists) {
            job->lister = run;
            job->uri = options->connection.uri;
        }
        if (options->sequential) {
            /* The same work in turn, for the benchmark: the listing job
             * runs when its turn comes, in this thread. */
            job_thread(job);
            early->started[i] = true;
            early->threads_unused = true;
        } else {
            early->started[i] = pthread_create(&early->threads[i], NULL, job_thread, job) == 0;
        }
        if (early->started[i] && lists)
            early->lister = (long)i;
        if (!early->started[i])
            job->lister = NULL;
    }
}

static void join_early_jobs(struct early_jobs *early)
{
    if (early->joined || early->threads_unused)
        return;
    for (size_t i = 0; i < early->count; i++) {
        if (early->started[i])
            pthread_join(early->threads[i], NULL);
    }
    early->joined = true;
}

static void clear_early_jobs(struct early_jobs *early)
{
    join_early_jobs(early);
    for (size_t i = 0; i < early->count; i++)
        job_clear(&early->jobs[i]);
    free(early->jobs);
    free(early->threads);
    free(early->started);
    memset(early, 0, sizeof(*early));
}

/* The early job that read the DC of index j, or NULL. */
static struct dc_job *early_job_for(const struct run *run, struct early_jobs *early, size_t j)
{
    if (run->options->dc_host_count > 0)
        return j < early->count && early->started[j] ? &early->jobs[j] : NULL;
    if (early->count == 1 && early->started[0] && run->dcs[j].host != NULL &&
        strcasecmp(run->dcs[j].host, run->early_host) == 0)
        return &early->jobs[0];
    return NULL;
}

/* Gives a job the domain facts of the listing, so that it does not read
 * them again. */
static int share_domain(const struct run *run, struct dc_job *job)
{
    job->base = strdup(run->base);
    job->schema_nc = dup_or_null(run->schema_nc);
    job->domain_sid = strdup(run->domain_sid);
    if (job->base == NULL || job->domain_sid == NULL ||
        (run->schema_nc != NULL && job->schema_nc == NULL))
        return -1;
    return 0;
}

int da_verify_run(const struct da_verify_options *options, struct da_verify_result *result,
                  struct da_error *err)
{
    struct run run = {.options = options,
                      .listing_lock = PTHREAD_MUTEX_INITIALIZER,
                      .listing_done = PTHREAD_COND_INITIALIZER};
    struct dc_job *jobs = NULL;
    struct early_jobs early = {.lister = -1};
    bool *from_early = NULL;
    double start;
    unsigned round = 0;
    int rc;

    memset(result, 0, sizeof(*result));
    da_conn_global_init(options->connection.bind_method == DA_BIND_SASL_GSSAPI);

    if (options->selection == DA_SELECT_FINDINGS) {
        rc = select_findings(&run, err);
        if (rc == 0) {
            sort_selected(&run);
            rc = build_filters(&run, err);
        }
        if (rc != 0)
            goto out;
        run.early_host = listing_host(options);
        start_early_jobs(&run, &early);
    }

    if (early.lister >= 0) {
        struct da_error listing = {0};

        rc = wait_for_listing(&run, &listing);
        /* The DC of -H failed: list the DCs through the --dc hosts. */
        if (rc != 0)
            rc = discover(&run, options->connection.uri != NULL ? 1 : 2, &listing, err);
    } else {
        rc = discover(&run, 0, NULL, err);
    }
    if (rc == 0)
        rc = choose_dcs(&run, err);
    if (rc == 0 && options->selection != DA_SELECT_FINDINGS) {
        rc = select_from_directory(&run, err);
        if (rc == 0) {
            sort_selected(&run);
            rc = build_filters(&run, err);
        }
    }
    if (rc != 0)
        goto out;

    jobs = calloc(run.dc_count, sizeof(*jobs));
    from_early = calloc(run.dc_count, sizeof(*from_early));
    if (jobs == NULL || from_early == NULL) {
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < run.dc_count; j++) {
        struct dc_job *done = early_job_for(&run, &early, j);

        /* Two listed DCs can share a host name, as a forced demotion
         * without metadata clean-up leaves them: the first one takes it. */
        for (size_t k = 0; done != NULL && k < j; k++) {
            if (from_early[k] && early_job_for(&run, &early, k) == done)
                done = NULL;
        }
        from_early[j] = done != NULL;
    }

    start = now_seconds();
    for (;;) {
        double elapsed;

        round++;
        for (size_t j = 0; j < run.dc_count; j++) {
            job_clear(&jobs[j]);
            jobs[j] = (struct dc_job){.run = &run, .mode = JOB_READ, .host = run.dcs[j].host,
                                      .name = run.dcs[j].name,
                                      .skip = round == 1 && from_early[j]};
            if (share_domain(&run, &jobs[j]) != 0) {
                rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
                goto out;
            }
        }
        run_jobs(jobs, run.dc_count, options->sequential);
        if (round == 1 && early.count > 0) {
            join_early_jobs(&early);
            /* The threads are done with the structs: move the results in. */
            for (size_t j = 0; j < run.dc_count; j++) {
                struct dc_job *done = from_early[j] ? early_job_for(&run, &early, j) : NULL;

                if (done == NULL)
                    continue;
                job_clear(&jobs[j]);
                jobs[j] = *done;
                jobs[j].host = run.dcs[j].host;
                jobs[j].name = run.dcs[j].name;
                memset(done, 0, sizeof(*done));
            }
            clear_early_jobs(&early);
        }

        da_verify_result_clear(result);
        rc = fill_result(&run, jobs, result, err);
        if (rc != 0)
            goto out;
        elapsed = now_seconds() - start;
        result->rounds = round;
        result->waited_seconds = elapsed;
        rc = describe_selection(options, &result->selection, err);
        if (rc != 0)
            goto out;

        if (result->verdict == DA_VERDICT_CONVERGED || elapsed >= options->wait_seconds)
            break;

        double pause = options->interval_seconds;
        double left = options->wait_seconds - elapsed;
        if (pause > left)
            pause = left;
        if (options->progress)
            show_round(result, round, elapsed, left);
        struct timespec delay = {.tv_sec = (time_t)pause,
                                 .tv_nsec = (long)((pause - floor(pause)) * 1e9)};
        while (nanosleep(&delay, &delay) != 0 && errno == EINTR)
            ;
    }

out:
    clear_early_jobs(&early);
    free(from_early);
    for (size_t j = 0; jobs != NULL && j < run.dc_count; j++)
        job_clear(&jobs[j]);
    free(jobs);
    run_clear(&run);
    return rc;
}
