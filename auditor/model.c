#include "auditor/model.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int da_strv_append_owned(struct da_strv *strv, char *value)
{
    if (value == NULL)
        return -1;

    if (strv->count == strv->capacity) {
        size_t capacity = strv->capacity ? strv->capacity * 2 : 4;
        char **items = realloc(strv->items, capacity * sizeof(*items));

        if (items == NULL)
            return -1;
        strv->items = items;
        strv->capacity = capacity;
    }

    strv->items[strv->count++] = value;
    return 0;
}

int da_strv_append(struct da_strv *strv, const char *value)
{
    char *copy = strdup(value);

    if (copy == NULL)
        return -1;
    if (da_strv_append_owned(strv, copy) != 0) {
        free(copy);
        return -1;
    }
    return 0;
}

int da_strv_copy(struct da_strv *dest, const struct da_strv *src)
{
    struct da_strv copy = {0};

    for (size_t i = 0; i < src->count; i++) {
        if (da_strv_append(&copy, src->items[i]) != 0) {
            da_strv_clear(&copy);
            return -1;
        }
    }

    *dest = copy;
    return 0;
}

bool da_strv_contains(const struct da_strv *strv, const char *value)
{
    for (size_t i = 0; i < strv->count; i++) {
        if (strcmp(strv->items[i], value) == 0)
            return true;
    }
    return false;
}

void da_strv_clear(struct da_strv *strv)
{
    for (size_t i = 0; i < strv->count; i++)
        free(strv->items[i]);
    free(strv->items);
    memset(strv, 0, sizeof(*strv));
}

static const char *const kind_names[] = {
    [DA_KIND_USER] = "user",
    [DA_KIND_COMPUTER] = "computer",
    [DA_KIND_GMSA] = "gmsa",
    [DA_KIND_MSA] = "msa",
    [DA_KIND_INETORGPERSON] = "inetorgperson",
    [DA_KIND_OTHER] = "other",
};

const char *da_account_kind_name(enum da_account_kind kind)
{
    if ((size_t)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return "other";
    return kind_names[kind];
}

bool da_account_kind_parse(const char *name, enum da_account_kind *kind)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(kind_names[i], name) == 0) {
            *kind = (enum da_account_kind)i;
            return true;
        }
    }
    return false;
}

void da_account_clear(struct da_account *account)
{
    free(account->guid);
    free(account->dn);
    free(account->sid);
    free(account->sam_account_name);
    free(account->when_changed);
    da_strv_clear(&account->allowed_to_delegate_to);
    da_strv_clear(&account->service_principal_names);
    da_strv_clear(&account->allowed_to_act);
    memset(account, 0, sizeof(*account));
}

static int copy_optional(char **dest, const char *src)
{
    *dest = NULL;
    if (src == NULL)
        return 0;
    *dest = strdup(src);
    return *dest == NULL ? -1 : 0;
}

int da_account_copy(struct da_account *dest, const struct da_account *src)
{
    struct da_account copy = {0};

    copy.kind = src->kind;
    copy.user_account_control = src->user_account_control;
    copy.has_allowed_to_act = src->has_allowed_to_act;
    copy.usn_changed = src->usn_changed;

    if (copy_optional(&copy.guid, src->guid) != 0 ||
        copy_optional(&copy.dn, src->dn) != 0 ||
        copy_optional(&copy.sid, src->sid) != 0 ||
        copy_optional(&copy.sam_account_name, src->sam_account_name) != 0 ||
        copy_optional(&copy.when_changed, src->when_changed) != 0 ||
        da_strv_copy(&copy.allowed_to_delegate_to, &src->allowed_to_delegate_to) != 0 ||
        da_strv_copy(&copy.service_principal_names, &src->service_principal_names) != 0 ||
        da_strv_copy(&copy.allowed_to_act, &src->allowed_to_act) != 0) {
        da_account_clear(&copy);
        return -1;
    }

    *dest = copy;
    return 0;
}

bool da_account_protocol_transition(const struct da_account *account)
{
    return (account->user_account_control & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) != 0;
}

bool da_account_unconstrained(const struct da_account *account)
{
    return (account->user_account_control & DA_UAC_TRUSTED_FOR_DELEGATION) != 0;
}

bool da_account_has_delegation(const struct da_account *account)
{
    return account->allowed_to_delegate_to.count > 0 || account->has_allowed_to_act ||
           da_account_protocol_transition(account) || da_account_unconstrained(account);
}

void da_krbtgt_clear(struct da_krbtgt *krbtgt)
{
    free(krbtgt->dn);
    free(krbtgt->sid);
    free(krbtgt->sam_account_name);
    da_strv_clear(&krbtgt->service_principal_names);
    memset(krbtgt, 0, sizeof(*krbtgt));
}

void da_poll_info_clear(struct da_poll_info *info)
{
    free(info->time);
    free(info->dc_host);
    free(info->uri);
    free(info->invocation_id);
    free(info->base_dn);
    free(info->domain_sid);
    memset(info, 0, sizeof(*info));
}

struct da_snapshot *da_snapshot_new(void)
{
    return calloc(1, sizeof(struct da_snapshot));
}

void da_snapshot_free(struct da_snapshot *snapshot)
{
    if (snapshot == NULL)
        return;

    for (size_t i = 0; i < snapshot->account_count; i++)
        da_account_clear(&snapshot->accounts[i]);
    free(snapshot->accounts);
    for (size_t i = 0; i < snapshot->krbtgt_count; i++)
        da_krbtgt_clear(&snapshot->krbtgts[i]);
    free(snapshot->krbtgts);
    da_poll_info_clear(&snapshot->poll);
    free(snapshot);
}

int da_snapshot_add_account(struct da_snapshot *snapshot, struct da_account *account)
{
    if (snapshot->account_count == snapshot->account_capacity) {
        size_t capacity = snapshot->account_capacity ? snapshot->account_capacity * 2 : 64;
        struct da_account *accounts =
            realloc(snapshot->accounts, capacity * sizeof(*accounts));

        if (accounts == NULL)
            return -1;
        snapshot->accounts = accounts;
        snapshot->account_capacity = capacity;
    }

    snapshot->accounts[snapshot->account_count++] = *account;
    memset(account, 0, sizeof(*account));
    return 0;
}

int da_snapshot_add_krbtgt(struct da_snapshot *snapshot, struct da_krbtgt *krbtgt)
{
    if (snapshot->krbtgt_count == snapshot->krbtgt_capacity) {
        size_t capacity = snapshot->krbtgt_capacity ? snapshot->krbtgt_capacity * 2 : 4;
        struct da_krbtgt *krbtgts = realloc(snapshot->krbtgts, capacity * sizeof(*krbtgts));

        if (krbtgts == NULL)
            return -1;
        snapshot->krbtgts = krbtgts;
        snapshot->krbtgt_capacity = capacity;
    }

    snapshot->krbtgts[snapshot->krbtgt_count++] = *krbtgt;
    memset(krbtgt, 0, sizeof(*krbtgt));
    return 0;
}

static int compare_accounts(const void *a, const void *b)
{
    const struct da_account *left = a;
    const struct da_account *right = b;

    return strcmp(left->guid, right->guid);
}

int da_snapshot_sort(struct da_snapshot *snapshot)
{
    if (snapshot->account_count < 2)
        return 0;

    qsort(snapshot->accounts, snapshot->account_count, sizeof(*snapshot->accounts),
          compare_accounts);
    for (size_t i = 1; i < snapshot->account_count; i++) {
        if (strcmp(snapshot->accounts[i - 1].guid, snapshot->accounts[i].guid) == 0)
            return -1;
    }
    return 0;
}

const struct da_account *da_snapshot_find(const struct da_snapshot *snapshot, const char *guid)
{
    size_t low = 0;
    size_t high = snapshot->account_count;

    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(snapshot->accounts[middle].guid, guid);

        if (order == 0)
            return &snapshot->accounts[middle];
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}
