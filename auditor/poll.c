#include "auditor/poll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditor/log.h"
#include "ldap/ad.h"
#include "ldap/search.h"

/* The objectGUIDs seen so far in one search, borrowed from the accounts
 * of the snapshot (their strings do not move when the array grows). */
struct guid_set {
    const char **slots; /* open addressing, NULL when empty */
    size_t slot_count;  /* a power of two, at least twice count */
    size_t count;
};

struct poll_context {
    struct da_snapshot *snapshot;
    struct guid_set seen;
    bool progress;
    unsigned long entries_at_last_progress;
};

static size_t hash_guid(const char *guid)
{
    size_t hash = 5381;

    for (const char *cursor = guid; *cursor != '\0'; cursor++)
        hash = hash * 33 + (unsigned char)*cursor;
    return hash;
}

/* Adds guid. Returns 1 when it was there already, 0 when added, -1 when
 * memory runs out. */
static int guid_set_add(struct guid_set *set, const char *guid)
{
    size_t slot;

    if (set->slot_count < 2 * (set->count + 1)) {
        size_t slot_count = set->slot_count ? set->slot_count * 2 : 1024;
        const char **slots = calloc(slot_count, sizeof(*slots));

        if (slots == NULL)
            return -1;
        for (size_t i = 0; i < set->slot_count; i++) {
            if (set->slots[i] == NULL)
                continue;
            slot = hash_guid(set->slots[i]) & (slot_count - 1);
            while (slots[slot] != NULL)
                slot = (slot + 1) & (slot_count - 1);
            slots[slot] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->slot_count = slot_count;
    }

    slot = hash_guid(guid) & (set->slot_count - 1);
    while (set->slots[slot] != NULL) {
        if (strcmp(set->slots[slot], guid) == 0)
            return 1;
        slot = (slot + 1) & (set->slot_count - 1);
    }
    set->slots[slot] = guid;
    set->count++;
    return 0;
}

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
    const char *guid;
    int rc = da_ad_entry_to_account(entry, &account, err);

    if (rc != 0)
        return rc;

    /* A server that serves a page twice, for example by cycling through
     * cookies, would otherwise keep the poll going forever. */
    guid = account.guid;
    rc = guid_set_add(&poll->seen, guid);
    if (rc != 0) {
        if (rc > 0)
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the search returned the account %s (%s) twice, so the server "
                              "is repeating pages; stopping. Next step: poll again, or poll "
                              "another domain controller", account.dn, guid);
        else
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        da_account_clear(&account);
        return rc;
    }
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
        da_error_prefix(err, "poll incomplete after reading %lu account%s in %lu complete page%s",
                        search_stats.entries, search_stats.entries == 1 ? "" : "s",
                        search_stats.pages, search_stats.pages == 1 ? "" : "s");
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
    free(context.seen.slots);
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
            da_log_warning("could not check whether %s still exists: %s",
                    change->before->guid, err.message);
    }
}
