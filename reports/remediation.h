/* Remediation of a krbtgt delegation finding: an LDIF for ldapmodify and the
 * PowerShell commands that remove exactly the offending values, and KQL
 * queries (Elastic field names) for pivoting in a SIEM. */
#ifndef DELEGAUDIT_REMEDIATION_H
#define DELEGAUDIT_REMEDIATION_H

#include <stdbool.h>

#include "auditor/events/event.h"
#include "auditor/evidence.h"
#include "auditor/model.h"

/* Whether the remediation should also clear TRUSTED_TO_AUTH_FOR_DELEGATION:
 * when the evidence shows it was turned on, or when the account keeps no
 * other delegation target once the krbtgt values are gone. An account that
 * keeps other targets keeps protocol transition, and the report advises
 * reviewing it. */
bool da_remediation_turns_off_protocol_transition(const struct da_account *account,
                                                  const struct da_account_evidence *evidence);

/* Returns an LDIF change record (heap string) that deletes the given values
 * of msDS-AllowedToDelegateTo from the account and, with
 * turn_off_protocol_transition, replaces userAccountControl with its
 * current value minus 0x1000000. Values and the DN that are no LDIF
 * SAFE-STRING are base64-encoded (RFC 2849). NULL when memory runs out. */
char *da_remediation_ldif(const struct da_account *account, const struct da_strv *values,
                          bool turn_off_protocol_transition);

/* Returns the PowerShell commands (ActiveDirectory module) for the same
 * change, addressing the account by objectGUID so that no DN needs
 * escaping. */
char *da_remediation_powershell(const struct da_account *account, const struct da_strv *values,
                                bool turn_off_protocol_transition);

/* Returns a KQL query for every event of the actor session behind a change:
 * its SubjectLogonId or TargetLogonId on its DC. NULL without a logon id. */
char *da_remediation_kql_session(const struct da_event *change);

/* Returns a KQL query for the changes of an account (4738, 4742 by SID;
 * 5136 by objectGUID). sid or guid may be NULL, not both. */
char *da_remediation_kql_account(const char *sid, const char *guid);

#endif
