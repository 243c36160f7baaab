/* The domain controllers of a domain, from the configuration partition:
 * an nTDSDSA object ("NTDS Settings") under CN=Sites for each DC, whose
 * parent server object carries the DC's dNSHostName. */
#ifndef DELEGAUDIT_LDAP_TOPOLOGY_H
#define DELEGAUDIT_LDAP_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "auditor/error.h"
#include "ldap/connection.h"

struct da_topology_dc {
    char *name;          /* cn of the server object, such as "DC1" */
    char *host;          /* dNSHostName of the server; NULL when unset */
    char *ntds_dn;       /* DN of its NTDS Settings object */
    char *invocation_id; /* lower-case GUID; NULL when unreadable */
    bool read_only;      /* an RODC: msDS-isRODC, or objectCategory NTDS-DSA-RO */
    bool hosts_domain;   /* msDS-hasMasterNCs or hasMasterNCs lists the domain */
};

struct da_topology {
    struct da_topology_dc *dcs;
    size_t count;
};

/* Reads every nTDSDSA object under CN=Sites of configuration_nc with its
 * server. domain_nc selects which DCs hold the domain: an RODC lists it in
 * msDS-hasFullReplicaNCs instead, which counts too. DCs come back sorted
 * by name. */
int da_topology_read(struct da_conn *conn, const char *configuration_nc, const char *domain_nc,
                     struct da_topology *topology, struct da_error *err);

void da_topology_clear(struct da_topology *topology);

/* True when an nTDSDSA object describes a read-only DC: msDS-isRODC is
 * TRUE (Windows 2008 and later, Samba), or objectCategory is NTDS-DSA-RO
 * (where msDS-isRODC is not served). Either may be NULL. */
bool da_topology_read_only(const char *is_rodc, const char *object_category);

/* The DC whose invocationId is id (any letter case), or NULL. */
const struct da_topology_dc *da_topology_find_invocation(const struct da_topology *topology,
                                                         const char *id);

#endif
