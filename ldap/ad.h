/* Active Directory specifics: binary attribute formats, the RootDSE, the
 * krbtgt accounts, and the conversion of a search entry to an account. */
#ifndef DELEGAUDIT_LDAP_AD_H
#define DELEGAUDIT_LDAP_AD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditor/error.h"
#include "auditor/model.h"
#include "ldap/connection.h"
#include "ldap/search.h"

#define DA_OID_PAGED_RESULTS "1.2.840.113556.1.4.319"

/* Formats a 16-byte objectGUID as lower-case 8-4-4-4-12 text; the first
 * three groups are stored little-endian. Returns NULL on a wrong length. */
char *da_ad_guid_to_string(const unsigned char *bytes, size_t length);

/* Formats a binary SID as S-R-I-S... Checks the revision (1), the
 * sub-authority count (at most 15) and that length matches it exactly.
 * Returns NULL when the blob is invalid. */
char *da_ad_sid_to_string(const unsigned char *bytes, size_t length);

/* Encodes an S-1-... string as a binary SID. Returns 0, or -1 when the
 * text is not a valid SID. *length receives the size (8 + 4 * count). */
int da_ad_sid_from_string(const char *text, unsigned char bytes[68], size_t *length);

/* Appends the trustee SIDs of the access-allowed entries (ACE types 0x00
 * ACCESS_ALLOWED and 0x05 ACCESS_ALLOWED_OBJECT) of the DACL of a
 * self-relative security descriptor, as found in
 * msDS-AllowedToActOnBehalfOfOtherIdentity. Every offset and length is
 * checked; a malformed descriptor is -1 and *sids is unchanged. */
int da_ad_security_descriptor_trustees(const unsigned char *bytes, size_t length,
                                       struct da_strv *sids);

/* Picks the most specific kind from the values of objectClass. */
enum da_account_kind da_ad_account_kind(const struct da_strv *object_classes);

/* The RootDSE values of the DC that a poll uses. */
struct da_rootdse {
    char *default_naming_context;
    char *configuration_naming_context; /* NULL when the DC lists none */
    char *schema_naming_context;        /* NULL when the DC lists none */
    char *dns_host_name;
    char *ds_service_name; /* DN of the DC's NTDS Settings object */
    char *invocation_id;   /* of that object; NULL when unreadable */
    uint64_t highest_committed_usn;
    bool paged_results;    /* supportedControl lists 1.2.840.113556.1.4.319 */
};

void da_rootdse_clear(struct da_rootdse *rootdse);

/* Reads the RootDSE and the invocationId of the DC's NTDS Settings. */
int da_ad_read_rootdse(struct da_conn *conn, struct da_rootdse *rootdse, struct da_error *err);

/* Reads the objectSid of the naming context (the domain SID) into a heap
 * string. */
int da_ad_read_domain_sid(struct da_conn *conn, const char *naming_context, char **sid,
                          struct da_error *err);

/* Finds the domain's krbtgt account (RID 502) and every read-only DC's
 * krbtgt_N account under base, and adds them to the snapshot. The RODCs
 * are the computer accounts with primary group 521, and each names its
 * krbtgt_N account in msDS-KrbTgtLink. A missing domain krbtgt account is an error: the
 * bind account cannot see it, so the findings would be incomplete. */
int da_ad_read_krbtgts(struct da_conn *conn, const char *base, const char *domain_sid,
                       struct da_snapshot *snapshot, struct da_error *err);

/* Recognises the domain's krbtgt account (objectSid domain_krbtgt_sid) and
 * an RODC's krbtgt_N account (msDS-KrbTgtLinkBl present) and adds it to the
 * snapshot. Sets *is_krbtgt, and *domain_krbtgt when it is the domain's.
 * The entry needs objectSid, sAMAccountName, servicePrincipalName and
 * msDS-KrbTgtLinkBl. */
int da_ad_entry_add_krbtgt(struct da_entry *entry, const char *domain_krbtgt_sid,
                           struct da_snapshot *snapshot, bool *is_krbtgt, bool *domain_krbtgt,
                           struct da_error *err);

/* Sets err for a domain krbtgt account that a search did not return. */
int da_ad_missing_krbtgt(const char *krbtgt_sid, const char *base, struct da_error *err);

/* The search filter and attributes of the delegation poll. */
extern const char da_ad_delegation_filter[];
extern const char *const da_ad_delegation_attributes[];

/* Converts one entry of the delegation search to an account. An entry
 * without a valid objectGUID is DA_ERR_DIRECTORY naming its DN. */
int da_ad_entry_to_account(struct da_entry *entry, struct da_account *account,
                           struct da_error *err);

#endif
