/* The audit model: accounts with delegation settings, the krbtgt accounts
 * of the domain, and the metadata of the poll that read them.
 *
 * The model is plain data. Every string is owned by the struct that
 * contains it and is freed by the matching *_clear or *_free function. */
#ifndef DELEGAUDIT_MODEL_H
#define DELEGAUDIT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* userAccountControl bits that concern delegation ([MS-ADTS] 2.2.16). */
#define DA_UAC_ACCOUNTDISABLE 0x00000002u
#define DA_UAC_SERVER_TRUST_ACCOUNT 0x00002000u /* a domain controller */
#define DA_UAC_TRUSTED_FOR_DELEGATION 0x00080000u /* unconstrained */
#define DA_UAC_NOT_DELEGATED 0x00100000u
#define DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION 0x01000000u /* protocol transition */
#define DA_UAC_PARTIAL_SECRETS_ACCOUNT 0x04000000u /* a read-only DC */

/* A growable array of owned strings. */
struct da_strv {
    char **items;
    size_t count;
    size_t capacity;
};

int da_strv_append(struct da_strv *strv, const char *value);
int da_strv_append_owned(struct da_strv *strv, char *value);
int da_strv_copy(struct da_strv *dest, const struct da_strv *src);
bool da_strv_contains(const struct da_strv *strv, const char *value);
void da_strv_clear(struct da_strv *strv);

enum da_account_kind {
    DA_KIND_USER,
    DA_KIND_COMPUTER,
    DA_KIND_GMSA,           /* msDS-GroupManagedServiceAccount */
    DA_KIND_MSA,            /* msDS-ManagedServiceAccount (standalone) */
    DA_KIND_INETORGPERSON,
    DA_KIND_OTHER,
};

/* Stable lower-case names used in snapshots and JSON output. */
const char *da_account_kind_name(enum da_account_kind kind);
/* Returns false when name is not one of the names above. */
bool da_account_kind_parse(const char *name, enum da_account_kind *kind);

/* One account with at least one delegation setting. */
struct da_account {
    char *guid;             /* objectGUID, lower-case 8-4-4-4-12 form: the key */
    char *dn;
    char *sid;              /* objectSid, S-1-5-... form; NULL when absent */
    char *sam_account_name; /* NULL when absent */
    enum da_account_kind kind;
    uint32_t user_account_control;
    struct da_strv allowed_to_delegate_to;  /* msDS-AllowedToDelegateTo */
    struct da_strv service_principal_names; /* servicePrincipalName */
    /* Trustee SIDs of the allow entries in
     * msDS-AllowedToActOnBehalfOfOtherIdentity (resource-based delegation). */
    struct da_strv allowed_to_act;
    bool has_allowed_to_act; /* the attribute is present, even if unparsed */
    char *when_changed;      /* GeneralizedTime as the DC returned it */
    uint64_t usn_changed;
};

void da_account_clear(struct da_account *account);
int da_account_copy(struct da_account *dest, const struct da_account *src);

bool da_account_protocol_transition(const struct da_account *account);
bool da_account_unconstrained(const struct da_account *account);
/* True when any delegation setting is present. */
bool da_account_has_delegation(const struct da_account *account);

/* The domain's krbtgt account (RID 502) or an RODC's krbtgt_N account. */
struct da_krbtgt {
    char *dn;
    char *sid;
    char *sam_account_name;
    bool read_only_dc; /* linked from an RODC by msDS-KrbTgtLink */
    struct da_strv service_principal_names;
};

void da_krbtgt_clear(struct da_krbtgt *krbtgt);

/* Metadata of the poll that produced a snapshot. */
struct da_poll_info {
    char *time;          /* UTC, ISO 8601 "2026-12-04T19:51:00Z" */
    char *dc_host;       /* dnsHostName from the RootDSE */
    char *uri;           /* the LDAP URI the poll connected to */
    char *invocation_id; /* the DC's invocationId, GUID string */
    uint64_t highest_committed_usn;
    char *base_dn;
    char *domain_sid;    /* objectSid of the naming context; NULL if unread */
    bool complete;       /* every page was read */
};

void da_poll_info_clear(struct da_poll_info *info);

/* Counters of one poll, for the summary; not stored in snapshots. */
struct da_poll_stats {
    unsigned long entries;            /* accounts read */
    unsigned long pages;              /* paged-results responses */
    unsigned long references_skipped; /* continuation references not followed */
    double seconds;                   /* wall time of the whole poll */
};

/* The state of the directory as one poll read it. Accounts are kept sorted
 * by GUID once da_snapshot_sort has run; lookups need that order. */
struct da_snapshot {
    struct da_poll_info poll;
    struct da_account *accounts;
    size_t account_count;
    size_t account_capacity;
    struct da_krbtgt *krbtgts;
    size_t krbtgt_count;
    size_t krbtgt_capacity;
};

struct da_snapshot *da_snapshot_new(void);
void da_snapshot_free(struct da_snapshot *snapshot);
/* Moves *account into the snapshot and zeroes *account. */
int da_snapshot_add_account(struct da_snapshot *snapshot, struct da_account *account);
/* Moves *krbtgt into the snapshot and zeroes *krbtgt. */
int da_snapshot_add_krbtgt(struct da_snapshot *snapshot, struct da_krbtgt *krbtgt);
/* Sorts accounts by GUID. Returns -1 when two accounts share a GUID. */
int da_snapshot_sort(struct da_snapshot *snapshot);
/* Binary search by GUID; the snapshot must be sorted. */
const struct da_account *da_snapshot_find(const struct da_snapshot *snapshot,
                                          const char *guid);

#endif
