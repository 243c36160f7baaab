/* Findings: delegation settings that give an account a path to a TGT for
 * any user. */
#ifndef DELEGAUDIT_FINDINGS_H
#define DELEGAUDIT_FINDINGS_H

#include "auditor/model.h"

enum da_severity {
    DA_SEVERITY_HIGH,
    DA_SEVERITY_CRITICAL,
};

/* Stable rule ids, part of the JSON output. */
/* msDS-AllowedToDelegateTo lists a krbtgt target and protocol transition
 * (TRUSTED_TO_AUTH_FOR_DELEGATION) is on: S4U2self plus S4U2proxy yield a
 * TGT for any user without that user's involvement. */
#define DA_RULE_KRBTGT_PROTOCOL_TRANSITION "krbtgt-delegation-protocol-transition"
/* msDS-AllowedToDelegateTo lists a krbtgt target, protocol transition off:
 * any forwardable service ticket a user presents becomes that user's TGT. */
#define DA_RULE_KRBTGT_CONSTRAINED "krbtgt-delegation"
/* msDS-AllowedToActOnBehalfOfOtherIdentity is set on a krbtgt account: the
 * listed principals can delegate to the krbtgt service. */
#define DA_RULE_KRBTGT_RESOURCE_BASED "krbtgt-resource-based-delegation"

/* Stable lower-case names: "high", "critical". */
const char *da_severity_name(enum da_severity severity);

struct da_finding {
    const char *rule_id;               /* one of DA_RULE_* */
    enum da_severity severity;
    const struct da_account *account;  /* borrowed from the snapshot */
    struct da_strv values;             /* the offending values, owned */
};

struct da_findings {
    struct da_finding *items;
    size_t count;
};

/* Evaluates every rule on every account of the snapshot, in the snapshot's
 * account order. The findings borrow accounts from the snapshot, which must
 * outlive them. Returns -1 when memory runs out. */
int da_findings_compute(const struct da_snapshot *snapshot, struct da_findings *out);

void da_findings_clear(struct da_findings *findings);

#endif
