/* The evidence join: ties krbtgt delegation findings to the 4738, 4742 and
 * 5136 events that made them, and to the logon sessions (4624, 4648) of
 * the actors.
 *
 * Events arrive in two passes over the exports, so that memory does not
 * grow with the size of the logs. The first pass keeps the changes of
 * delegation settings, a few per account. The second keeps only the logons
 * of the sessions those changes were made from. */
#ifndef DELEGAUDIT_EVIDENCE_H
#define DELEGAUDIT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "auditor/events/event.h"
#include "auditor/findings.h"
#include "auditor/model.h"

/* Effect of one change event on an account's delegation settings. */
enum da_step_kind {
    DA_STEP_KRBTGT_ADDED,      /* a krbtgt target appeared in msDS-AllowedToDelegateTo */
    DA_STEP_KRBTGT_REMOVED,    /* a krbtgt target disappeared */
    DA_STEP_PROTOCOL_TRANSITION_ON,
    DA_STEP_PROTOCOL_TRANSITION_OFF,
    DA_STEP_OTHER_DELEGATION_CHANGE, /* targets, SPNs or RBCD changed otherwise */
};

/* Stable lower-case names for JSON: "krbtgt-added", "krbtgt-removed",
 * "protocol-transition-on", "protocol-transition-off",
 * "other-delegation-change". */
const char *da_step_kind_name(enum da_step_kind kind);

struct da_evidence_step {
    enum da_step_kind kind;
    const struct da_event *event; /* borrowed from the evidence store */
    struct da_strv values;        /* the krbtgt or other values concerned */
};

/* The sessions an actor used: the logon (4624) whose TargetLogonId is the
 * change's SubjectLogonId on the same DC, and explicit-credential uses
 * (4648) from that session. */
struct da_session_evidence {
    const struct da_event *change; /* the change made in this session */
    const struct da_event *logon;  /* NULL when no 4624 matched */
    const struct da_event **explicit_credentials;
    size_t explicit_credential_count;
};

/* Whether the exports explain a finding. */
enum da_evidence_status {
    DA_EVIDENCE_FOUND,   /* the change that added the krbtgt value is known */
    DA_EVIDENCE_PARTIAL, /* events concern the account, but not the addition */
    DA_EVIDENCE_MISSING, /* no event concerns the account: the question is open */
};

const char *da_evidence_status_name(enum da_evidence_status status);

/* The evidence for one account: a current finding, or a krbtgt value the
 * events show added and later removed (a historical backdoor). */
struct da_account_evidence {
    const struct da_finding *finding; /* NULL for a historical backdoor */
    /* The account as known to the snapshots; for a historical backdoor
     * without a snapshot entry, only the fields the events give are set. */
    char *guid;
    char *sid;
    char *dn;
    char *sam_account_name;
    enum da_evidence_status status;
    struct da_evidence_step *steps; /* in time order */
    size_t step_count;
    struct da_session_evidence *sessions; /* one per distinct actor session */
    size_t session_count;
    /* Other delegation changes by the same actors, on other accounts. */
    const struct da_event **actor_scope;
    size_t actor_scope_count;
    bool removed_since;      /* historical: the krbtgt value is gone now */
    bool protocol_transition_turned_on; /* a step turned it on */
};

struct da_evidence;

/* Creates the store. The snapshots (newest first, the first one with the
 * findings) give the accounts that events are matched to: by objectSid for
 * 4738 and 4742, by objectGUID or DN for 5136, in any snapshot, so an
 * account renamed since still matches. They must outlive the store. */
struct da_evidence *da_evidence_new(const struct da_snapshot *const *snapshots,
                                    size_t snapshot_count);
void da_evidence_free(struct da_evidence *evidence);

/* Pass one: keeps a copy of a 4738, 4742 or 5136 event if it changes the
 * delegation settings of any account (matched or not). Other events are
 * ignored. Returns -1 when memory runs out. */
int da_evidence_add_change(struct da_evidence *evidence, const struct da_event *event);

/* True when a logon or explicit-credential event of pass two is worth
 * keeping: its logon id on its DC is a session of a kept change. */
bool da_evidence_wants_session(const struct da_evidence *evidence, const struct da_event *event);

/* Returns in *ids (heap, freed by the caller) the distinct logon ids of
 * the kept changes. A record of pass two that carries none of them cannot
 * be a wanted session. Returns -1 when memory runs out. */
int da_evidence_logon_ids(const struct da_evidence *evidence, uint64_t **ids, size_t *count);

/* Sets *kept to the number of events the store keeps, of both passes. */
void da_evidence_kept_counts(const struct da_evidence *evidence, unsigned long *kept);

/* Pass two: keeps a copy of a 4624 or 4648 event that da_evidence_wants_session
 * accepts. Returns -1 when memory runs out. */
int da_evidence_add_session(struct da_evidence *evidence, const struct da_event *event);

/* Joins what was kept with the findings of the newest snapshot. Each
 * finding gets one entry, in the order of findings; historical backdoors
 * follow. The result borrows from the store and the findings. */
int da_evidence_join(struct da_evidence *evidence, const struct da_findings *findings,
                     struct da_account_evidence **out, size_t *out_count);

void da_account_evidence_free(struct da_account_evidence *entries, size_t count);

#endif
