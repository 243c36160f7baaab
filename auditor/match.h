/* Recognises delegation targets that name the krbtgt service. */
#ifndef DELEGAUDIT_MATCH_H
#define DELEGAUDIT_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "auditor/model.h"

/* Returns true when target, a value of msDS-AllowedToDelegateTo, makes the
 * KDC issue a ticket encrypted with a krbtgt key:
 *  - its service class (the text before the first '/', or the whole value
 *    when it has no '/') is "krbtgt" in any letter case, whatever follows
 *    (host, port, service name, "@REALM", a trailing dot); or
 *  - it equals, ignoring case, a servicePrincipalName registered on one of
 *    the krbtgt accounts (for example "kadmin/changepw"), also when either
 *    side carries an "@REALM" suffix or a trailing dot on the host; or
 *  - without its "@REALM", it equals the sAMAccountName of one of the
 *    krbtgt accounts, ignoring case (for example "krbtgt_8245"). */
bool da_target_is_krbtgt(const char *target, const struct da_krbtgt *krbtgts, size_t count);

#endif
