#include "auditor/poll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldap/ad.h"
#include "ldap/search.h"

struct poll_context {
    struct da_snapshot *snapshot;
    bool progress;
    unsigned long entries_at_last_progress;
};

static double seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static char *utc_now(void)
{
    char text[32];
    time_t now = time(NULL);
    struct tm utc;

    if (gmtime_r(&now, &utc) == NULL)
        return NULL;
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return strdup(text);
}

static int store_account(struct da_entry *entry, void *context, struct da_error *err)
{
    struct poll_context *poll = context;
    struct da_account account = {0};
    int rc = da_ad_entry_to_account(entry, &account, err);

    if (rc != 0)
        return rc;
    if (da_snapshot_add_account(poll->snapshot, &account) != 0) {
        da_account_clear(&account);
        return da_error_set(err, DA_ERR_LOCAL, "out of memory after %zu accounts",
                            poll->snapshot->account_count);
    }
    return 0;
}

static void show_progress(const struct da_search_stats *stats, void *context)
{
    struct poll_context *poll = context;

    if (!poll->progress)
        return;
    fprintf(stderr, "\rdelegaudit: read %lu accounts with delegation settings in %lu page%s",
            stats->entries, stats->pages, stats->pages == 1 ? "" : "s");
    fflush(stderr);
    poll->entries_at_last_progress = stats->entries;
}

static void end_progress(const struct poll_context *poll)
{
    if (poll->progress && poll->entries_at_last_progress > 0)
        fputs("\r\033[K", stderr);
}

/* Builds the attribute list, asking for value ranges when configured. */
static char **delegation_attributes(unsigned long range_size)
{
    size_t count = 0;
    char **attributes;

    while (da_ad_delegation_attributes[count] != NULL)
        count++;
    attributes = calloc(count + 1, sizeof(*attributes));
    if (attributes == NULL)
        return NULL;

    for (size_t i = 0; i < count; i++) {
        const char *name = da_ad_delegation_attributes[i];
        bool multi_valued = strcmp(name, "msDS-AllowedToDelegateTo") == 0 ||
                            strcmp(name, "servicePrincipalName") == 0;

        attributes[i] = da_search_attribute_request(name, multi_valued ? range_size : 0);
        if (attributes[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                free(attributes[j]);
            free(attributes);
            return NULL;
        }
    }
    return attributes;
}

static void free_attributes(char **attributes)
{
    for (size_t i = 0; attributes != NULL && attributes[i] != NULL; i++)
        free(attributes[i]);
    free(attributes);
}

/* Fills the poll metadata from the RootDSE and the options. */
static int fill_poll_info(struct da_snapshot *snapshot, const struct da_rootdse *rootdse,
                          const struct da_poll_options *options, const char *base,
                          struct da_error *err)
{
    struct da_poll_info *info = &snapshot->poll;

    info->time = utc_now();
    info->uri = strdup(options->connection.uri);
    info->base_dn = strdup(base);
    info->dc_host = rootdse->dns_host_name != NULL ? strdup(rootdse->dns_host_name) : NULL;
    info->invocation_id = rootdse->invocation_id != NULL ? strdup(rootdse->invocation_id) : NULL;
    info->highest_committed_usn = rootdse->highest_committed_usn;
    if (info->time == NULL || info->uri == NULL || info->base_dn == NULL ||
        (rootdse->dns_host_name != NULL && info->dc_host == NULL) ||
        (rootdse->invocation_id != NULL && info->invocation_id == NULL))
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    return 0;
}

int da_poll_run(const struct da_poll_options *options, struct da_conn **conn_out,
                struct da_snapshot **snapshot_out, struct da_poll_stats *stats,
                struct da_error *err)
{
    struct da_conn *conn = NULL;
    struct da_snapshot *snapshot = NULL;
    struct da_rootdse rootdse = {0};
    struct da_search_stats search_stats = {0};
    struct poll_context context = {0};
    struct timespec start;
    char **attributes = NULL;
    const char *base;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &start);

    snapshot = da_snapshot_new();
    attributes = delegation_attributes(options->range_size);
    if (snapshot == NULL || attributes == NULL) {
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }

    rc = da_conn_open(&options->connection, &conn, err);
    if (rc != 0)
        goto out;

    rc = da_ad_read_rootdse(conn, &rootdse, err);
    if (rc != 0)
        goto out;
    if (!rootdse.paged_results) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "%s does not list the paged-results control (%s) in supportedControl, "
                          "so a poll could stop at the server's size limit: poll an Active "
                          "Directory domain controller", options->connection.uri,
                          DA_OID_PAGED_RESULTS);
        goto out;
    }
    base = options->base != NULL ? options->base : rootdse.default_naming_context;

    rc = fill_poll_info(snapshot, &rootdse, options, base, err);
    if (rc != 0)
        goto out;

    rc = da_ad_read_domain_sid(conn, rootdse.default_naming_context, &snapshot->poll.domain_sid,
                               err);
    if (rc != 0)
        goto out;

    /* krbtgt accounts live in the domain partition whatever the base is. */
    rc = da_ad_read_krbtgts(conn, rootdse.default_naming_context, snapshot->poll.domain_sid,
                            snapshot, err);
    if (rc != 0)
        goto out;

    context.snapshot = snapshot;
    context.progress = options->progress;
    struct da_search search = {
        .base = base,
        .scope = DA_SCOPE_SUBTREE,
        .filter = da_ad_delegation_filter,
        .attributes = (const char *const *)attributes,
        .page_size = options->page_size,
        .range_size = options->range_size,
        .on_entry = store_account,
        .on_page = show_progress,
        .context = &context,
    };
    rc = da_search_run(conn, &search, &search_stats, err);
    end_progress(&context);
    if (rc != 0) {
        da_error_prefix(err, "poll incomplete after %lu accounts and %lu pages",
                        search_stats.entries, search_stats.pages);
        goto out;
    }

    if (da_snapshot_sort(snapshot) != 0) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the search under \"%s\" returned the same objectGUID twice; the "
                          "result is inconsistent: poll again", base);
        goto out;
    }
    snapshot->poll.complete = true;

    if (stats != NULL) {
        stats->entries = search_stats.entries;
        stats->pages = search_stats.pages;
        stats->references_skipped = search_stats.references;
        stats->seconds = seconds_since(&start);
    }
    *conn_out = conn;
    *snapshot_out = snapshot;
    conn = NULL;
    snapshot = NULL;
    rc = 0;

out:
    free_attributes(attributes);
    da_rootdse_clear(&rootdse);
    da_snapshot_free(snapshot);
    da_conn_close(conn);
    return rc;
}

static int note_found(struct da_entry *entry, void *context, struct da_error *err)
{
    *(bool *)context = true;
    return 0;
}

void da_poll_resolve_presence(struct da_conn *conn, struct da_diff *diff)
{
    static const char *const attributes[] = {"1.1", NULL};

    for (size_t i = 0; i < diff->count; i++) {
        struct da_account_change *change = &diff->changes[i];
        struct da_error err = {0};
        char base[64];
        bool found = false;

        if (change->type != DA_CHANGE_LOST)
            continue;

        /* AD and Samba accept "<GUID=...>" as a base DN. */
        snprintf(base, sizeof(base), "<GUID=%s>", change->before->guid);
        struct da_search search = {
            .base = base,
            .scope = DA_SCOPE_BASE,
            .filter = "(objectClass=*)",
            .attributes = attributes,
            .on_entry = note_found,
            .context = &found,
        };
        int rc = da_search_run(conn, &search, NULL, &err);

        if (rc == 0)
            change->presence = found ? DA_PRESENCE_EXISTS : DA_PRESENCE_NOT_FOUND;
        else if (da_error_is_no_such_object(&err))
            change->presence = DA_PRESENCE_NOT_FOUND;
        else
            fprintf(stderr, "delegaudit: warning: could not check whether %s still exists: %s\n",
                    change->before->guid, err.message);
    }
}
