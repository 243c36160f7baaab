/* asprintf, which glibc declares only for GNU sources. */
#define _GNU_SOURCE

#include "ldap/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditor/log.h"
#include "ldap/ad.h"
#include "ldap/search.h"

struct server {
    char *dn;
    char *name;
    char *host;
};

struct discovery {
    struct server *servers;
    size_t server_count;
    struct da_topology_dc *dsas;
    char **dsa_parents;
    size_t dsa_count;
    const char *domain_nc;
};

static const char *const topology_attributes[] = {
    "objectClass", "cn", "dNSHostName", "invocationId", "objectCategory", "msDS-isRODC",
    "msDS-hasMasterNCs", "hasMasterNCs", "msDS-hasFullReplicaNCs", NULL,
};

/* The DN without its first RDN; a comma escaped with a backslash belongs to
 * the RDN. Returns a pointer into dn, or NULL for a single RDN. */
static const char *parent_dn(const char *dn)
{
    for (const char *p = dn; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0')
            p++;
        else if (*p == ',')
            return p + 1;
    }
    return NULL;
}

static int first_value(struct da_entry *entry, const char *attr, char **value,
                       struct da_error *err)
{
    struct da_strv values = {0};
    int rc = da_entry_strings(entry, attr, &values, err);

    *value = NULL;
    if (rc == 0 && values.count > 0) {
        *value = values.items[0];
        values.items[0] = NULL;
    }
    da_strv_clear(&values);
    return rc;
}

static bool lists_domain(struct da_entry *entry, const char *domain_nc, struct da_error *err,
                         int *rc)
{
    static const char *const attributes[] = {"msDS-hasMasterNCs", "hasMasterNCs",
                                             "msDS-hasFullReplicaNCs"};
    bool found = false;

    for (size_t i = 0; i < sizeof(attributes) / sizeof(attributes[0]) && !found; i++) {
        struct da_strv values = {0};

        *rc = da_entry_strings(entry, attributes[i], &values, err);
        for (size_t j = 0; *rc == 0 && j < values.count; j++)
            found |= strcasecmp(values.items[j], domain_nc) == 0;
        da_strv_clear(&values);
        if (*rc != 0)
            return false;
    }
    return found;
}

static int read_topology_entry(struct da_entry *entry, void *context, struct da_error *err)
{
    struct discovery *discovery = context;
    struct da_strv classes = {0};
    char *dn = da_entry_dn(entry);
    bool is_server = false;
    bool is_dsa = false;
    int rc;

    if (dn == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    rc = da_entry_strings(entry, "objectClass", &classes, err);
    for (size_t i = 0; rc == 0 && i < classes.count; i++) {
        is_server |= strcasecmp(classes.items[i], "server") == 0;
        is_dsa |= strcasecmp(classes.items[i], "nTDSDSA") == 0;
    }
    da_strv_clear(&classes);
    if (rc != 0)
        goto out;

    if (is_server) {
        struct server *grown = realloc(discovery->servers,
                                       (discovery->server_count + 1) * sizeof(*grown));
        if (grown == NULL) {
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
            goto out;
        }
        discovery->servers = grown;
        struct server *server = &grown[discovery->server_count++];
        memset(server, 0, sizeof(*server));
        server->dn = dn;
        dn = NULL;
        rc = first_value(entry, "cn", &server->name, err);
        if (rc == 0)
            rc = first_value(entry, "dNSHostName", &server->host, err);
    } else if (is_dsa) {
        const char *parent = parent_dn(dn);
        struct da_topology_dc dc = {0};
        char *category = NULL;
        char *rodc = NULL;
        unsigned char *guid = NULL;
        size_t guid_length = 0;

        if (parent == NULL)
            goto out;
        rc = da_entry_binary(entry, "invocationId", &guid, &guid_length, err);
        if (rc == 0 && guid != NULL)
            dc.invocation_id = da_ad_guid_to_string(guid, guid_length);
        free(guid);
        if (rc == 0)
            rc = first_value(entry, "objectCategory", &category, err);
        if (rc == 0)
            rc = first_value(entry, "msDS-isRODC", &rodc, err);
        if (rc == 0) {
            dc.read_only = da_topology_read_only(rodc, category);
            dc.hosts_domain = lists_domain(entry, discovery->domain_nc, err, &rc);
        }
        free(category);
        free(rodc);
        if (rc != 0) {
            free(dc.invocation_id);
            goto out;
        }

        struct da_topology_dc *grown = realloc(discovery->dsas,
                                               (discovery->dsa_count + 1) * sizeof(*grown));
        char **parents = grown != NULL ? realloc(discovery->dsa_parents,
                                                 (discovery->dsa_count + 1) * sizeof(*parents))
                                       : NULL;
        if (grown != NULL)
            discovery->dsas = grown;
        if (parents == NULL) {
            free(dc.invocation_id);
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
            goto out;
        }
        discovery->dsa_parents = parents;
        parents[discovery->dsa_count] = strdup(parent);
        dc.ntds_dn = dn;
        dn = NULL;
        grown[discovery->dsa_count++] = dc;
        if (parents[discovery->dsa_count - 1] == NULL)
            rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }

out:
    free(dn);
    return rc;
}

bool da_topology_read_only(const char *is_rodc, const char *object_category)
{
    if (is_rodc != NULL && strcasecmp(is_rodc, "TRUE") == 0)
        return true;
    return object_category != NULL && strncasecmp(object_category, "CN=NTDS-DSA-RO,", 15) == 0;
}

static int compare_dcs(const void *a, const void *b)
{
    const struct da_topology_dc *left = a;
    const struct da_topology_dc *right = b;

    return strcasecmp(left->name, right->name);
}

static void discovery_clear(struct discovery *discovery)
{
    for (size_t i = 0; i < discovery->server_count; i++) {
        free(discovery->servers[i].dn);
        free(discovery->servers[i].name);
        free(discovery->servers[i].host);
    }
    for (size_t i = 0; i < discovery->dsa_count; i++) {
        free(discovery->dsas[i].name);
        free(discovery->dsas[i].host);
        free(discovery->dsas[i].ntds_dn);
        free(discovery->dsas[i].invocation_id);
        free(discovery->dsa_parents[i]);
    }
    free(discovery->servers);
    free(discovery->dsas);
    free(discovery->dsa_parents);
}

int da_topology_read(struct da_conn *conn, const char *configuration_nc, const char *domain_nc,
                     struct da_topology *topology, struct da_error *err)
{
    struct discovery discovery = {.domain_nc = domain_nc};
    char *base = NULL;
    int rc;

    memset(topology, 0, sizeof(*topology));
    if (asprintf(&base, "CN=Sites,%s", configuration_nc) < 0)
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");

    struct da_search search = {
        .base = base,
        .scope = DA_SCOPE_SUBTREE,
        .filter = "(|(objectClass=server)(objectClass=nTDSDSA))",
        .attributes = topology_attributes,
        .page_size = 1000,
        .on_entry = read_topology_entry,
        .context = &discovery,
    };
    rc = da_search_run(conn, &search, NULL, err);
    if (rc != 0) {
        da_error_prefix(err, "finding the domain controllers under %s", base);
        goto out;
    }

    /* Each DC is an nTDSDSA whose parent server names the host. */
    for (size_t i = 0; i < discovery.dsa_count; i++) {
        struct da_topology_dc *dc = &discovery.dsas[i];

        for (size_t j = 0; j < discovery.server_count; j++) {
            struct server *server = &discovery.servers[j];

            if (strcasecmp(server->dn, discovery.dsa_parents[i]) != 0)
                continue;
            dc->name = server->name;
            dc->host = server->host;
            server->name = NULL;
            server->host = NULL;
            break;
        }
        if (dc->name == NULL) {
            dc->name = strdup(discovery.dsa_parents[i]);
            if (dc->name == NULL) {
                rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
                goto out;
            }
        }
    }
    if (discovery.dsa_count == 0) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "no NTDS Settings object under %s: the bind account may not read the "
                          "configuration partition; name the DCs with --dc HOST", base);
        goto out;
    }

    qsort(discovery.dsas, discovery.dsa_count, sizeof(*discovery.dsas), compare_dcs);
    topology->dcs = discovery.dsas;
    topology->count = discovery.dsa_count;
    discovery.dsas = NULL;
    for (size_t i = 0; i < discovery.dsa_count; i++)
        free(discovery.dsa_parents[i]);
    discovery.dsa_count = 0;

out:
    discovery_clear(&discovery);
    free(base);
    return rc;
}

void da_topology_clear(struct da_topology *topology)
{
    for (size_t i = 0; i < topology->count; i++) {
        free(topology->dcs[i].name);
        free(topology->dcs[i].host);
        free(topology->dcs[i].ntds_dn);
        free(topology->dcs[i].invocation_id);
    }
    free(topology->dcs);
    memset(topology, 0, sizeof(*topology));
}

const struct da_topology_dc *da_topology_find_invocation(const struct da_topology *topology,
                                                         const char *id)
{
    for (size_t i = 0; id != NULL && i < topology->count; i++) {
        if (topology->dcs[i].invocation_id != NULL &&
            strcasecmp(topology->dcs[i].invocation_id, id) == 0)
            return &topology->dcs[i];
    }
    return NULL;
}
