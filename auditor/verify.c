#include "auditor/verify.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditor/error.h"

void da_verify_stamp_clear(struct da_verify_stamp *stamp)
{
    free(stamp->originating_time);
    free(stamp->originating_invocation_id);
    free(stamp->originating_dc);
    memset(stamp, 0, sizeof(*stamp));
}

static int compare_text(const char *a, const char *b)
{
    int order = strcasecmp(a != NULL ? a : "", b != NULL ? b : "");

    return (order > 0) - (order < 0);
}

int da_verify_stamp_compare(const struct da_verify_stamp *a, const struct da_verify_stamp *b)
{
    int order;

    if (a->known != b->known)
        return a->known ? 1 : -1;
    if (!a->known)
        return 0;
    if (a->version != b->version)
        return a->version > b->version ? 1 : -1;
    /* ISO 8601 UTC times of equal form order as text. */
    order = compare_text(a->originating_time, b->originating_time);
    if (order != 0)
        return order;
    order = compare_text(a->originating_invocation_id, b->originating_invocation_id);
    if (order != 0)
        return order;
    /* Same version, time and originating DC: one write, unless the DC
     * reports different originating USNs, which only a restored DC does. */
    return (a->originating_usn > b->originating_usn) - (a->originating_usn < b->originating_usn);
}

bool da_verify_stamp_same_write(const struct da_verify_stamp *a, const struct da_verify_stamp *b)
{
    return a->known && b->known && a->version == b->version &&
           compare_text(a->originating_invocation_id, b->originating_invocation_id) == 0 &&
           a->originating_usn == b->originating_usn;
}

static const char *const state_names[] = {
    [DA_VERIFY_CLEAN] = "clean",
    [DA_VERIFY_KRBTGT] = "krbtgt-target",
    [DA_VERIFY_BEHIND] = "behind",
    [DA_VERIFY_ABSENT] = "absent",
    [DA_VERIFY_UNVERIFIED] = "unverified",
};

const char *da_verify_state_name(enum da_verify_state state)
{
    if ((size_t)state < sizeof(state_names) / sizeof(state_names[0]))
        return state_names[state];
    return "unverified";
}

bool da_verify_state_parse(const char *name, enum da_verify_state *state)
{
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *state = (enum da_verify_state)i;
            return true;
        }
    }
    return false;
}

static const char *const verdict_names[] = {
    [DA_VERDICT_CONVERGED] = "converged",
    [DA_VERDICT_BACKDOORED] = "backdoored",
    [DA_VERDICT_INCOMPLETE] = "incomplete",
    [DA_VERDICT_NOT_CONVERGED] = "not-converged",
    [DA_VERDICT_UNVERIFIED] = "unverified",
};

const char *da_verify_verdict_name(enum da_verify_verdict verdict)
{
    if ((size_t)verdict < sizeof(verdict_names) / sizeof(verdict_names[0]))
        return verdict_names[verdict];
    return "unverified";
}

bool da_verify_verdict_parse(const char *name, enum da_verify_verdict *verdict)
{
    for (size_t i = 0; i < sizeof(verdict_names) / sizeof(verdict_names[0]); i++) {
        if (strcmp(name, verdict_names[i]) == 0) {
            *verdict = (enum da_verify_verdict)i;
            return true;
        }
    }
    return false;
}

int da_verify_result_init(struct da_verify_result *result, size_t dc_count,
                          size_t account_count)
{
    memset(result, 0, sizeof(*result));
    result->dcs = calloc(dc_count > 0 ? dc_count : 1, sizeof(*result->dcs));
    result->accounts = calloc(account_count > 0 ? account_count : 1, sizeof(*result->accounts));
    if (result->dcs == NULL || result->accounts == NULL)
        goto fail;
    result->dc_count = dc_count;
    result->account_count = account_count;
    for (size_t i = 0; i < account_count; i++) {
        result->accounts[i].cells = calloc(dc_count > 0 ? dc_count : 1,
                                           sizeof(*result->accounts[i].cells));
        if (result->accounts[i].cells == NULL)
            goto fail;
    }
    return 0;

fail:
    da_verify_result_clear(result);
    return -1;
}

static void cell_clear(struct da_verify_cell *cell)
{
    da_strv_clear(&cell->allowed_to_delegate_to);
    da_strv_clear(&cell->krbtgt_targets);
    da_verify_stamp_clear(&cell->delegation);
    da_verify_stamp_clear(&cell->uac);
}

void da_verify_result_clear(struct da_verify_result *result)
{
    for (size_t i = 0; result->accounts != NULL && i < result->account_count; i++) {
        struct da_verify_account *account = &result->accounts[i];

        for (size_t j = 0; account->cells != NULL && j < result->dc_count; j++)
            cell_clear(&account->cells[j]);
        free(account->cells);
        free(account->guid);
        free(account->dn);
        free(account->sam_account_name);
        free(account->sid);
        free(account->finding_time);
    }
    for (size_t i = 0; result->dcs != NULL && i < result->dc_count; i++) {
        struct da_verify_dc *dc = &result->dcs[i];

        free(dc->name);
        free(dc->host);
        free(dc->invocation_id);
        free(dc->problem);
        free(dc->krbtgt.password_last_set);
        da_verify_stamp_clear(&dc->krbtgt.password);
    }
    free(result->dcs);
    free(result->accounts);
    free(result->time);
    free(result->base_dn);
    free(result->selection);
    memset(result, 0, sizeof(*result));
}

/* Index of the newest stamp among the read cells that found the object, or
 * -1 when there is none. */
static long newest_stamp(const struct da_verify_result *result,
                         const struct da_verify_account *account, bool uac)
{
    long newest = -1;

    for (size_t j = 0; j < result->dc_count; j++) {
        const struct da_verify_cell *cell = &account->cells[j];
        const struct da_verify_stamp *stamp = uac ? &cell->uac : &cell->delegation;

        if (!cell->read || !cell->found)
            continue;
        if (newest < 0) {
            newest = (long)j;
            continue;
        }
        const struct da_verify_cell *best = &account->cells[newest];
        if (da_verify_stamp_compare(stamp, uac ? &best->uac : &best->delegation) > 0)
            newest = (long)j;
    }
    return newest;
}

static void evaluate_account(const struct da_verify_result *result,
                             struct da_verify_account *account, bool *any_krbtgt,
                             bool *any_left_on, bool *any_behind, bool *any_unverified)
{
    long newest_delegation = newest_stamp(result, account, false);
    long newest_uac = newest_stamp(result, account, true);
    bool found_anywhere = newest_delegation >= 0;

    for (size_t j = 0; j < result->dc_count; j++) {
        struct da_verify_cell *cell = &account->cells[j];

        cell->behind = false;
        cell->protocol_transition_left_on = false;
        if (!cell->read || !result->dcs[j].reachable) {
            cell->state = DA_VERIFY_UNVERIFIED;
            *any_unverified = true;
            continue;
        }
        if (!cell->found) {
            cell->state = found_anywhere ? DA_VERIFY_ABSENT : DA_VERIFY_CLEAN;
            if (found_anywhere)
                *any_behind = true;
            continue;
        }

        if (da_verify_stamp_compare(&cell->delegation,
                                    &account->cells[newest_delegation].delegation) < 0 ||
            da_verify_stamp_compare(&cell->uac, &account->cells[newest_uac].uac) < 0)
            cell->behind = true;
        /* A DC without metadata for the attribute cannot prove that it has
         * the newest write, so it counts as behind a DC with metadata. */
        if (!cell->delegation.known &&
            account->cells[newest_delegation].delegation.known)
            cell->behind = true;
        cell->protocol_transition_left_on =
            account->remediation_turns_off_protocol_transition &&
            (cell->user_account_control & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) != 0;

        if (cell->krbtgt_targets.count > 0)
            cell->state = DA_VERIFY_KRBTGT;
        else if (cell->behind)
            cell->state = DA_VERIFY_BEHIND;
        else
            cell->state = DA_VERIFY_CLEAN;

        *any_krbtgt |= cell->krbtgt_targets.count > 0;
        *any_behind |= cell->behind;
        *any_left_on |= cell->protocol_transition_left_on;
    }
}

void da_verify_evaluate(struct da_verify_result *result)
{
    bool any_krbtgt = false;
    bool any_left_on = false;
    bool any_behind = false;
    bool any_unverified = false;
    bool krbtgt_differs = false;
    bool krbtgt_unread = false;
    long reference = -1;

    for (size_t j = 0; j < result->dc_count; j++) {
        if (!result->dcs[j].reachable)
            any_unverified = true;
    }
    for (size_t i = 0; i < result->account_count; i++)
        evaluate_account(result, &result->accounts[i], &any_krbtgt, &any_left_on, &any_behind,
                         &any_unverified);

    /* The krbtgt password must be the same write on every DC that was read;
     * otherwise a reset has not replicated everywhere yet. */
    for (size_t j = 0; j < result->dc_count; j++) {
        const struct da_verify_krbtgt *krbtgt = &result->dcs[j].krbtgt;

        if (!result->dcs[j].reachable)
            continue;
        /* A DC that was read without the krbtgt account leaves the
         * password unverified there. */
        if (!krbtgt->read) {
            krbtgt_unread = true;
            continue;
        }
        if (reference < 0)
            reference = (long)j;
        else if (!da_verify_stamp_same_write(&krbtgt->password,
                                             &result->dcs[reference].krbtgt.password))
            krbtgt_differs = true;
    }
    result->krbtgt_converged = !krbtgt_differs && !krbtgt_unread;
    any_unverified |= krbtgt_unread;

    if (any_krbtgt)
        result->verdict = DA_VERDICT_BACKDOORED;
    else if (any_left_on)
        result->verdict = DA_VERDICT_INCOMPLETE;
    else if (any_behind || krbtgt_differs)
        result->verdict = DA_VERDICT_NOT_CONVERGED;
    else if (any_unverified)
        result->verdict = DA_VERDICT_UNVERIFIED;
    else
        result->verdict = DA_VERDICT_CONVERGED;
}

/* The urgency rank of an account, 0 the most urgent: a krbtgt target
 * first, those whose finding had protocol transition on before the others. */
static int account_rank(const struct da_verify_account *account, size_t dc_count)
{
    int rank = 5;

    for (size_t j = 0; j < dc_count; j++) {
        const struct da_verify_cell *cell = &account->cells[j];
        int cell_rank = 5;

        if (cell->state == DA_VERIFY_KRBTGT)
            cell_rank = account->remediation_turns_off_protocol_transition ? 0 : 1;
        else if (cell->protocol_transition_left_on)
            cell_rank = 2;
        else if (cell->state == DA_VERIFY_BEHIND || cell->state == DA_VERIFY_ABSENT)
            cell_rank = 3;
        else if (cell->state == DA_VERIFY_UNVERIFIED)
            cell_rank = 4;
        if (cell_rank < rank)
            rank = cell_rank;
    }
    return rank;
}

static size_t sort_dc_count;

static int compare_accounts(const void *a, const void *b)
{
    const struct da_verify_account *left = a;
    const struct da_verify_account *right = b;
    int order = account_rank(left, sort_dc_count) - account_rank(right, sort_dc_count);

    if (order != 0)
        return order;
    order = compare_text(left->sam_account_name, right->sam_account_name);
    if (order != 0)
        return order;
    return compare_text(left->guid, right->guid);
}

void da_verify_sort_accounts(struct da_verify_result *result)
{
    /* qsort has no context argument in C11; a result is sorted by one
     * thread, the main one. */
    sort_dc_count = result->dc_count;
    if (result->account_count > 1)
        qsort(result->accounts, result->account_count, sizeof(*result->accounts),
              compare_accounts);
}

int da_verify_exit_status(const struct da_verify_result *result)
{
    switch (result->verdict) {
    case DA_VERDICT_CONVERGED:
        return DA_OK;
    case DA_VERDICT_UNVERIFIED:
        return DA_UNVERIFIED;
    default:
        return DA_FINDINGS;
    }
}
