/* Differences between two snapshots, keyed on objectGUID. */
#ifndef DELEGAUDIT_DIFF_H
#define DELEGAUDIT_DIFF_H

#include <stdbool.h>

#include "auditor/model.h"

enum da_change_type {
    DA_CHANGE_GAINED,   /* in the new snapshot only: gained delegation */
    DA_CHANGE_LOST,     /* in the old snapshot only: lost all delegation */
    DA_CHANGE_MODIFIED, /* in both, with a difference */
};

/* Result of a later look-up of an account of type DA_CHANGE_LOST. The
 * diff itself leaves DA_PRESENCE_UNKNOWN, and the poll fills it in. */
enum da_presence {
    DA_PRESENCE_UNKNOWN,
    DA_PRESENCE_EXISTS,    /* still in the directory, no delegation setting */
    DA_PRESENCE_NOT_FOUND, /* deleted, or moved out of the search base */
};

/* Stable lower-case names used in JSON output. */
const char *da_change_type_name(enum da_change_type type);
const char *da_presence_name(enum da_presence presence);

struct da_account_change {
    enum da_change_type type;
    const struct da_account *before; /* borrowed; NULL for DA_CHANGE_GAINED */
    const struct da_account *after;  /* borrowed; NULL for DA_CHANGE_LOST */
    bool moved;                      /* DN differs: renamed or moved */
    bool sam_account_name_changed;
    bool sid_changed;                /* objectSid differs: moved between domains */
    bool kind_changed;               /* the account kind (object class) differs */
    bool protocol_transition_changed;
    bool unconstrained_changed;
    bool user_account_control_changed;
    bool allowed_to_act_changed;     /* presence or trustee SIDs differ */
    /* Values of msDS-AllowedToDelegateTo, compared exactly. For GAINED all
     * values are added, for LOST all are removed. A value repeated in the
     * attribute is listed once. */
    struct da_strv targets_added;
    struct da_strv targets_removed;
    struct da_strv allowed_to_act_added;   /* trustee SIDs */
    struct da_strv allowed_to_act_removed;
    enum da_presence presence;
};

struct da_diff {
    struct da_account_change *changes; /* in GUID order */
    size_t count;
};

/* Compares two sorted snapshots. Accounts whose only difference is in
 * whenChanged, uSNChanged or servicePrincipalName yield no change. The
 * changes borrow accounts from both snapshots, which must outlive them.
 * Returns -1 when memory runs out. */
int da_diff_compute(const struct da_snapshot *before, const struct da_snapshot *after,
                    struct da_diff *out);

void da_diff_clear(struct da_diff *diff);

#endif
