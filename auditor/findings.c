#include "auditor/findings.h"

#include <stdlib.h>
#include <string.h>

#include "auditor/match.h"

/* The only value of a resource-based finding whose security descriptor
 * could not be parsed into trustee SIDs. */
#define UNPARSED_DESCRIPTOR_VALUE "(unparsed security descriptor)"

const char *da_severity_name(enum da_severity severity)
{
    switch (severity) {
    case DA_SEVERITY_HIGH:
        return "high";
    case DA_SEVERITY_CRITICAL:
        return "critical";
    }
    return "invalid";
}

/* A growable list of findings under construction. */
struct finding_list {
    struct da_finding *items;
    size_t count;
    size_t capacity;
};

static void finding_list_clear(struct finding_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        da_strv_clear(&list->items[i].values);
    free(list->items);
    memset(list, 0, sizeof(*list));
}

/* Moves *values into a new finding and zeroes *values. On failure *values
 * stays with the caller. */
static int finding_list_add(struct finding_list *list, const char *rule_id,
                            enum da_severity severity, const struct da_account *account,
                            struct da_strv *values)
{
    struct da_finding *finding = NULL;

    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        struct da_finding *items = realloc(list->items, capacity * sizeof(*items));

        if (items == NULL)
            return -1;
        list->items = items;
        list->capacity = capacity;
    }

    finding = &list->items[list->count++];
    finding->rule_id = rule_id;
    finding->severity = severity;
    finding->account = account;
    finding->values = *values;
    memset(values, 0, sizeof(*values));
    return 0;
}

/* Adds one finding when msDS-AllowedToDelegateTo names a krbtgt service.
 * The values keep the spelling and order of the attribute. */
static int check_krbtgt_targets(const struct da_snapshot *snapshot,
                                const struct da_account *account, struct finding_list *list)
{
    const struct da_strv *targets = &account->allowed_to_delegate_to;
    struct da_strv matches = {0};
    int ret = -1;

    for (size_t i = 0; i < targets->count; i++) {
        if (!da_target_is_krbtgt(targets->items[i], snapshot->krbtgts, snapshot->krbtgt_count))
            continue;
        if (da_strv_append(&matches, targets->items[i]) != 0)
            goto out;
    }

    if (matches.count == 0) {
        ret = 0;
        goto out;
    }

    if (da_account_protocol_transition(account))
        ret = finding_list_add(list, DA_RULE_KRBTGT_PROTOCOL_TRANSITION, DA_SEVERITY_CRITICAL,
                               account, &matches);
    else
        ret =
            finding_list_add(list, DA_RULE_KRBTGT_CONSTRAINED, DA_SEVERITY_HIGH, account, &matches);

out:
    da_strv_clear(&matches);
    return ret;
}

/* Compares ASCII letters without case and nothing else, whatever the
 * locale. */
static bool equal_ignoring_case(const char *left, const char *right)
{
    for (;; left++, right++) {
        char a = *left;
        char b = *right;

        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
        if (a == '\0')
            return true;
    }
}

static bool is_krbtgt_account(const struct da_snapshot *snapshot, const struct da_account *account)
{
    for (size_t i = 0; i < snapshot->krbtgt_count; i++) {
        const struct da_krbtgt *krbtgt = &snapshot->krbtgts[i];

        /* The SID decides when both sides have one. The DN is the fallback,
         * compared without case because AD matches DNs that way. */
        if (account->sid != NULL && krbtgt->sid != NULL) {
            if (equal_ignoring_case(account->sid, krbtgt->sid))
                return true;
            continue;
        }
        if (account->dn != NULL && krbtgt->dn != NULL &&
            equal_ignoring_case(account->dn, krbtgt->dn))
            return true;
    }
    return false;
}

/* Adds one finding when a krbtgt account carries
 * msDS-AllowedToActOnBehalfOfOtherIdentity. */
static int check_krbtgt_resource_based(const struct da_snapshot *snapshot,
                                       const struct da_account *account, struct finding_list *list)
{
    struct da_strv trustees = {0};
    int ret = -1;

    if (!account->has_allowed_to_act || !is_krbtgt_account(snapshot, account))
        return 0;

    if (account->allowed_to_act.count > 0) {
        if (da_strv_copy(&trustees, &account->allowed_to_act) != 0)
            goto out;
    } else {
        if (da_strv_append(&trustees, UNPARSED_DESCRIPTOR_VALUE) != 0)
            goto out;
    }

    ret = finding_list_add(list, DA_RULE_KRBTGT_RESOURCE_BASED, DA_SEVERITY_CRITICAL, account,
                           &trustees);

out:
    da_strv_clear(&trustees);
    return ret;
}

int da_findings_compute(const struct da_snapshot *snapshot, struct da_findings *out)
{
    struct finding_list list = {0};
    int ret = -1;

    for (size_t i = 0; i < snapshot->account_count; i++) {
        const struct da_account *account = &snapshot->accounts[i];

        if (check_krbtgt_targets(snapshot, account, &list) != 0)
            goto out;
        if (check_krbtgt_resource_based(snapshot, account, &list) != 0)
            goto out;
    }

    out->items = list.items;
    out->count = list.count;
    memset(&list, 0, sizeof(list));
    ret = 0;

out:
    finding_list_clear(&list);
    return ret;
}

void da_findings_clear(struct da_findings *findings)
{
    for (size_t i = 0; i < findings->count; i++)
        da_strv_clear(&findings->items[i].values);
    free(findings->items);
    memset(findings, 0, sizeof(*findings));
}
