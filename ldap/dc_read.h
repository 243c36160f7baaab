/* The reads of delegaudit verify on one domain controller: accounts with
 * their delegation values and the replication metadata of the attributes
 * that a remediation changes, and the krbtgt account's password stamp. */
#ifndef DELEGAUDIT_LDAP_DC_READ_H
#define DELEGAUDIT_LDAP_DC_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditor/error.h"
#include "auditor/model.h"
#include "ldap/connection.h"
#include "ldap/replication.h"

/* attids of the attributes whose metadata verify reads, through the DC's
 * prefix table. */
struct da_dc_attids {
    uint32_t allowed_to_delegate_to;
    uint32_t user_account_control;
    uint32_t unicode_pwd;
};

/* Reads prefixMap from the schema naming context and maps the three OIDs.
 * A missing or unparsable prefixMap falls back to the default table, with
 * a note at verbose level; only a failed search is an error. */
int da_dc_read_attids(struct da_conn *conn, const char *schema_nc, struct da_dc_attids *attids,
                      struct da_error *err);

/* One object as one DC stores it. */
struct da_dc_object {
    char *guid;
    char *dn;
    char *sid;
    char *sam_account_name;
    uint32_t user_account_control;
    struct da_strv allowed_to_delegate_to;
    uint64_t pwd_last_set; /* 100 ns intervals since 1601; 0: never set */
    bool delegation_known;
    bool uac_known;
    bool password_known;
    struct da_attribute_metadata delegation; /* msDS-AllowedToDelegateTo */
    struct da_attribute_metadata uac;        /* userAccountControl */
    struct da_attribute_metadata password;   /* unicodePwd */
};

void da_dc_object_clear(struct da_dc_object *object);

/* Called for each object; it may take the strings by setting them to NULL.
 * A non-zero return stops the read. */
typedef int (*da_dc_object_fn)(struct da_dc_object *object, void *context, struct da_error *err);

/* Runs a subtree search under base with filter and reads each entry into a
 * da_dc_object: the values and, for each attribute, the metadata from
 * msDS-ReplAttributeMetaData when the DC serves it (Windows), else from
 * replPropertyMetaData by attid (Samba); with attids NULL, no metadata is
 * requested. range_size as for da_search.
 * page_size 0 sends no paging control: for filters that match at most a
 * few hundred objects, well under AD's MaxPageSize of 1000, because a
 * paged search cost Samba 4.17 about 15 ms more for 105 objects. */
int da_dc_read_objects(struct da_conn *conn, const char *base, const char *filter,
                       const struct da_dc_attids *attids, int page_size,
                       unsigned long range_size, da_dc_object_fn on_object, void *context,
                       struct da_error *err);

/* Builds "(|(objectGUID=\xx...)...)" for count GUIDs in text form. Returns
 * a heap string, or NULL when a GUID is malformed or memory runs out. */
char *da_dc_guid_filter(const char *const *guids, size_t count);

/* Builds the filter that finds one account named by sAMAccountName, DN
 * (text with '=') or SID ("S-1-..."). Returns a heap string, or NULL when
 * memory runs out or a SID is malformed. */
char *da_dc_account_filter(const char *name);

#endif
