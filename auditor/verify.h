/* The result of delegaudit verify: what every domain controller holds for
 * the accounts in question after a remediation, and whether the DCs
 * converged on it.
 *
 * Plain data, like the snapshot model. auditor/verify_run.c fills it from
 * the DCs, da_verify_evaluate() derives the states and the verdict, the
 * renderers in reports/ print it, and auditor/verify_load.c reads the JSON
 * form back for `delegaudit report --verify FILE`. Every string is owned by
 * the struct that contains it. */
#ifndef DELEGAUDIT_VERIFY_H
#define DELEGAUDIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditor/model.h"

/* "format" and version of the JSON document that `verify --json` writes. */
#define DA_VERIFY_FORMAT "delegaudit-verify"
#define DA_VERIFY_FORMAT_VERSION 1

/* Replication metadata of one attribute on one DC. */
struct da_verify_stamp {
    bool known;                      /* the DC returned metadata for it */
    uint32_t version;
    char *originating_time;          /* UTC, "2026-12-04T19:51:00Z" */
    char *originating_invocation_id; /* lower-case GUID */
    char *originating_dc;            /* DC name for that invocationId; NULL if unknown */
    uint64_t originating_usn;
    uint64_t local_usn;
};

void da_verify_stamp_clear(struct da_verify_stamp *stamp);

/* Orders two stamps as AD resolves a conflict: the higher version wins,
 * then the later originating time, then the greater originating
 * invocationId. A known stamp is newer than an unknown one. Returns <0, 0
 * or >0. Equal stamps (0) name the same originating write. */
int da_verify_stamp_compare(const struct da_verify_stamp *a, const struct da_verify_stamp *b);

/* True when both stamps are known and name the same originating write:
 * the same version, originating invocationId and originating USN. The
 * time is left out, because a read-only DC reports the time of a secret
 * attribute it does not hold, such as unicodePwd, as 1601-01-01. */
bool da_verify_stamp_same_write(const struct da_verify_stamp *a, const struct da_verify_stamp *b);

/* State of one account on one DC. */
enum da_verify_state {
    DA_VERIFY_CLEAN,      /* no krbtgt target, the newest metadata */
    DA_VERIFY_KRBTGT,     /* still lists a krbtgt target */
    DA_VERIFY_BEHIND,     /* older metadata than the newest seen on any DC */
    DA_VERIFY_ABSENT,     /* no such object on this DC, while others have it */
    DA_VERIFY_UNVERIFIED, /* the DC could not be read; never counts as clean */
};

/* Stable lower-case names used in the JSON: "clean", "krbtgt-target",
 * "behind", "absent", "unverified". */
const char *da_verify_state_name(enum da_verify_state state);
bool da_verify_state_parse(const char *name, enum da_verify_state *state);

/* One account as one DC stores it. */
struct da_verify_cell {
    enum da_verify_state state;       /* set by da_verify_evaluate */
    bool read;                        /* the DC was read; false: unverified */
    bool found;                       /* the object exists on the DC */
    uint32_t user_account_control;
    struct da_strv allowed_to_delegate_to;
    struct da_strv krbtgt_targets;    /* the values that are krbtgt targets */
    struct da_verify_stamp delegation; /* msDS-AllowedToDelegateTo */
    struct da_verify_stamp uac;        /* userAccountControl */
    /* Set by da_verify_evaluate. */
    bool behind;                      /* older delegation or UAC metadata */
    bool protocol_transition_left_on; /* on, where the remediation turns it off */
};

/* One account in question, with a cell per DC in the order of the DCs. */
struct da_verify_account {
    char *guid;
    char *dn;               /* as the DC with the newest write stores it, or as selected */
    char *sam_account_name; /* NULL when unknown */
    char *sid;              /* NULL when unknown */
    /* From the finding that put the account in question: protocol
     * transition was on, so the remediation turns it off. */
    bool remediation_turns_off_protocol_transition;
    char *finding_time;     /* whenChanged of the finding; NULL without one */
    struct da_verify_cell *cells;
};

/* The domain's krbtgt account as one DC stores it. */
struct da_verify_krbtgt {
    bool read;
    char *password_last_set;             /* pwdLastSet in UTC; NULL if never */
    struct da_verify_stamp password;     /* unicodePwd: version = password version */
};

struct da_verify_dc {
    char *name;          /* server name, such as "DC1"; the host when unknown */
    char *host;          /* dNSHostName */
    char *invocation_id; /* NULL when unknown */
    bool read_only;
    bool reachable;      /* connected, bound and read to the end */
    char *problem;       /* why it is unverified; NULL when reachable */
    double seconds;      /* time spent on this DC in the last round */
    struct da_verify_krbtgt krbtgt;
};

enum da_verify_verdict {
    DA_VERDICT_CONVERGED,     /* every DC was read, same newest metadata, clean */
    DA_VERDICT_BACKDOORED,    /* some DC still lists a krbtgt target */
    DA_VERDICT_INCOMPLETE,    /* no krbtgt target, but protocol transition is
                                 still on where the remediation turns it off */
    DA_VERDICT_NOT_CONVERGED, /* clean where read, but some DC is behind */
    DA_VERDICT_UNVERIFIED,    /* clean and converged where read, a DC unverified */
};

/* "converged", "backdoored", "incomplete", "not-converged", "unverified". */
const char *da_verify_verdict_name(enum da_verify_verdict verdict);
bool da_verify_verdict_parse(const char *name, enum da_verify_verdict *verdict);

struct da_verify_result {
    char *time;      /* UTC time the last round finished */
    char *base_dn;
    char *selection; /* what was verified, in words, for the reader */
    struct da_verify_dc *dcs;
    size_t dc_count;
    struct da_verify_account *accounts;
    size_t account_count;
    unsigned rounds;        /* rounds read; more than 1 with --wait */
    double waited_seconds;  /* from the first round to the verdict */
    /* Set by da_verify_evaluate. */
    enum da_verify_verdict verdict;
    /* Every reachable DC returned the krbtgt account with the same password
     * write. */
    bool krbtgt_converged;
};

/* Allocates the DC and account arrays and each account's cells. Returns -1
 * when memory runs out. */
int da_verify_result_init(struct da_verify_result *result, size_t dc_count,
                          size_t account_count);
void da_verify_result_clear(struct da_verify_result *result);

/* Derives every cell's state and the verdict from what was read: krbtgt
 * targets, the newest stamps across the DCs, absent objects, protocol
 * transition left on, unreachable DCs. Idempotent. */
void da_verify_evaluate(struct da_verify_result *result);

/* Orders the accounts worst first, after da_verify_evaluate. krbtgt
 * targets come first, those whose finding had protocol transition on
 * before the others. Then come protocol transition left on, behind or
 * absent, unverified, and clean, by sAMAccountName within each. */
void da_verify_sort_accounts(struct da_verify_result *result);

/* Exit status for a verdict: 0 converged, 1 backdoored, incomplete or not
 * converged, DA_UNVERIFIED when only unverified DCs stand in the way. */
int da_verify_exit_status(const struct da_verify_result *result);

#endif
