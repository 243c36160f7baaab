#include "auditor/diff.h"

#include <stdlib.h>
#include <string.h>

/* Value lists up to this length are compared pair by pair. Longer ones are
 * sorted first, so that an account with thousands of values stays
 * O(n log n). */
#define PAIRWISE_MAX 8

const char *da_change_type_name(enum da_change_type type)
{
    switch (type) {
    case DA_CHANGE_GAINED:
        return "gained";
    case DA_CHANGE_LOST:
        return "lost";
    case DA_CHANGE_MODIFIED:
        return "modified";
    }
    return "invalid";
}

const char *da_presence_name(enum da_presence presence)
{
    switch (presence) {
    case DA_PRESENCE_UNKNOWN:
        return "unknown";
    case DA_PRESENCE_EXISTS:
        return "exists";
    case DA_PRESENCE_NOT_FOUND:
        return "not-found";
    }
    return "invalid";
}

/* Compares byte for byte. Two absent values are equal. */
static bool optional_strings_equal(const char *left, const char *right)
{
    if (left == NULL || right == NULL)
        return left == right;
    return strcmp(left, right) == 0;
}

/* A value with its position in the list it came from. */
struct indexed_value {
    const char *value;
    size_t index;
};

static int compare_indexed_values(const void *left, const void *right)
{
    const struct indexed_value *a = left;
    const struct indexed_value *b = right;
    int order = strcmp(a->value, b->value);

    if (order != 0)
        return order;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    return 0;
}

/* Stores in *out the values of list sorted by value, then by position, so
 * that the first occurrence of each value heads its run. */
static int sort_values(const struct da_strv *list, struct indexed_value **out)
{
    struct indexed_value *sorted = NULL;

    *out = NULL;
    if (list->count == 0)
        return 0;

    sorted = malloc(list->count * sizeof(*sorted));
    if (sorted == NULL)
        return -1;
    for (size_t i = 0; i < list->count; i++) {
        sorted[i].value = list->items[i];
        sorted[i].index = i;
    }
    qsort(sorted, list->count, sizeof(*sorted), compare_indexed_values);

    *out = sorted;
    return 0;
}

/* Returns the position just past the run of values equal to sorted[start]. */
static size_t skip_run(const struct indexed_value *sorted, size_t count, size_t start)
{
    size_t end = start + 1;

    while (end < count && strcmp(sorted[end].value, sorted[start].value) == 0)
        end++;
    return end;
}

/* Appends the values of list whose flag is set, in the order of list. */
static int append_flagged(struct da_strv *out, const struct da_strv *list, const bool *flags)
{
    for (size_t i = 0; i < list->count; i++) {
        if (flags[i] && da_strv_append(out, list->items[i]) != 0)
            return -1;
    }
    return 0;
}

static int diff_values_sorted(const struct da_strv *before, const struct da_strv *after,
                              struct da_strv *added, struct da_strv *removed)
{
    struct indexed_value *before_sorted = NULL;
    struct indexed_value *after_sorted = NULL;
    bool *before_only = NULL;
    bool *after_only = NULL;
    size_t i = 0;
    size_t j = 0;
    int ret = -1;

    /* One extra element keeps calloc from being asked for zero bytes. */
    before_only = calloc(before->count + 1, sizeof(*before_only));
    after_only = calloc(after->count + 1, sizeof(*after_only));
    if (before_only == NULL || after_only == NULL)
        goto out;
    if (sort_values(before, &before_sorted) != 0 || sort_values(after, &after_sorted) != 0)
        goto out;

    /* One merge walk over both sorted lists flags the first occurrence of
     * every value that the other side lacks. */
    while (i < before->count || j < after->count) {
        int order;

        if (i == before->count)
            order = 1;
        else if (j == after->count)
            order = -1;
        else
            order = strcmp(before_sorted[i].value, after_sorted[j].value);

        if (order < 0) {
            before_only[before_sorted[i].index] = true;
            i = skip_run(before_sorted, before->count, i);
        } else if (order > 0) {
            after_only[after_sorted[j].index] = true;
            j = skip_run(after_sorted, after->count, j);
        } else {
            i = skip_run(before_sorted, before->count, i);
            j = skip_run(after_sorted, after->count, j);
        }
    }

    if (append_flagged(added, after, after_only) != 0 ||
        append_flagged(removed, before, before_only) != 0)
        goto out;
    ret = 0;

out:
    free(after_sorted);
    free(before_sorted);
    free(after_only);
    free(before_only);
    return ret;
}

/* Appends each distinct value of from that other lacks, in the order of
 * from. Quadratic, so only for short lists. */
static int append_missing_pairwise(struct da_strv *out, const struct da_strv *from,
                                   const struct da_strv *other)
{
    for (size_t i = 0; i < from->count; i++) {
        bool repeated = false;

        if (da_strv_contains(other, from->items[i]))
            continue;
        /* A repeated value was already appended at its first position. */
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = strcmp(from->items[j], from->items[i]) == 0;
        if (repeated)
            continue;
        if (da_strv_append(out, from->items[i]) != 0)
            return -1;
    }
    return 0;
}

static bool same_sequence(const struct da_strv *left, const struct da_strv *right)
{
    if (left->count != right->count)
        return false;
    for (size_t i = 0; i < left->count; i++) {
        if (strcmp(left->items[i], right->items[i]) != 0)
            return false;
    }
    return true;
}

/* Appends to added the values of after that before lacks, and to removed
 * the values of before that after lacks. Values are compared byte for byte
 * and treated as sets, as LDAP treats attribute values: order and repeats
 * are no change. Each value is reported once, in the order of its list. */
static int diff_values(const struct da_strv *before, const struct da_strv *after,
                       struct da_strv *added, struct da_strv *removed)
{
    /* An unchanged attribute read back in the same order costs one pass. */
    if (same_sequence(before, after))
        return 0;

    if (before->count <= PAIRWISE_MAX && after->count <= PAIRWISE_MAX) {
        if (append_missing_pairwise(added, after, before) != 0 ||
            append_missing_pairwise(removed, before, after) != 0)
            return -1;
        return 0;
    }
    return diff_values_sorted(before, after, added, removed);
}

static const struct da_strv no_values;

static void change_clear(struct da_account_change *change)
{
    da_strv_clear(&change->targets_added);
    da_strv_clear(&change->targets_removed);
    da_strv_clear(&change->allowed_to_act_added);
    da_strv_clear(&change->allowed_to_act_removed);
}

static int describe_gained(const struct da_account *after, struct da_account_change *change)
{
    memset(change, 0, sizeof(*change));
    change->type = DA_CHANGE_GAINED;
    change->after = after;
    change->presence = DA_PRESENCE_UNKNOWN;

    if (diff_values(&no_values, &after->allowed_to_delegate_to, &change->targets_added,
                    &change->targets_removed) != 0 ||
        diff_values(&no_values, &after->allowed_to_act, &change->allowed_to_act_added,
                    &change->allowed_to_act_removed) != 0) {
        change_clear(change);
        return -1;
    }
    return 0;
}

static int describe_lost(const struct da_account *before, struct da_account_change *change)
{
    memset(change, 0, sizeof(*change));
    change->type = DA_CHANGE_LOST;
    change->before = before;
    change->presence = DA_PRESENCE_UNKNOWN;

    if (diff_values(&before->allowed_to_delegate_to, &no_values, &change->targets_added,
                    &change->targets_removed) != 0 ||
        diff_values(&before->allowed_to_act, &no_values, &change->allowed_to_act_added,
                    &change->allowed_to_act_removed) != 0) {
        change_clear(change);
        return -1;
    }
    return 0;
}

/* Fills change with every difference between two versions of one account.
 * whenChanged, uSNChanged and servicePrincipalName are not compared. */
static int describe_modified(const struct da_account *before, const struct da_account *after,
                             struct da_account_change *change)
{
    uint32_t flipped = before->user_account_control ^ after->user_account_control;

    memset(change, 0, sizeof(*change));
    change->type = DA_CHANGE_MODIFIED;
    change->before = before;
    change->after = after;
    change->presence = DA_PRESENCE_UNKNOWN;

    /* Exact, although AD matches DNs without case: a rename that changes
     * only letter case is still a modifyDN operation on the DC, and reporting
     * it costs one line. */
    change->moved = !optional_strings_equal(before->dn, after->dn);
    change->sam_account_name_changed =
        !optional_strings_equal(before->sam_account_name, after->sam_account_name);
    change->sid_changed = !optional_strings_equal(before->sid, after->sid);
    change->kind_changed = before->kind != after->kind;
    change->user_account_control_changed = flipped != 0;
    change->protocol_transition_changed = (flipped & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) != 0;
    change->unconstrained_changed = (flipped & DA_UAC_TRUSTED_FOR_DELEGATION) != 0;

    if (diff_values(&before->allowed_to_delegate_to, &after->allowed_to_delegate_to,
                    &change->targets_added, &change->targets_removed) != 0 ||
        diff_values(&before->allowed_to_act, &after->allowed_to_act, &change->allowed_to_act_added,
                    &change->allowed_to_act_removed) != 0) {
        change_clear(change);
        return -1;
    }

    change->allowed_to_act_changed = before->has_allowed_to_act != after->has_allowed_to_act ||
                                     change->allowed_to_act_added.count > 0 ||
                                     change->allowed_to_act_removed.count > 0;
    return 0;
}

static bool change_is_empty(const struct da_account_change *change)
{
    return !change->moved && !change->sam_account_name_changed && !change->sid_changed &&
           !change->kind_changed && !change->user_account_control_changed &&
           !change->allowed_to_act_changed && change->targets_added.count == 0 &&
           change->targets_removed.count == 0;
}

/* A growable list of changes under construction. */
struct change_list {
    struct da_account_change *items;
    size_t count;
    size_t capacity;
};

static void change_list_clear(struct change_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        change_clear(&list->items[i]);
    free(list->items);
    memset(list, 0, sizeof(*list));
}

/* Moves *change into the list. On failure *change stays with the caller. */
static int change_list_add(struct change_list *list, const struct da_account_change *change)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        struct da_account_change *items = realloc(list->items, capacity * sizeof(*items));

        if (items == NULL)
            return -1;
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = *change;
    return 0;
}

/* Treats a missing GUID as the empty string, so that malformed input sorts
 * first instead of crashing the comparison. */
static const char *guid_of(const struct da_account *account)
{
    return account->guid != NULL ? account->guid : "";
}

static int compare_account_pointers(const void *left, const void *right)
{
    const struct da_account *const *a = left;
    const struct da_account *const *b = right;

    return strcmp(guid_of(*a), guid_of(*b));
}

/* Stores in *out the snapshot's accounts in GUID order, as an array of
 * pointers that the caller frees. A snapshot that skipped da_snapshot_sort is sorted
 * here instead of being misread as gains and losses. */
static int order_accounts(const struct da_snapshot *snapshot, const struct da_account ***out)
{
    const struct da_account **ordered = NULL;
    bool sorted = true;

    *out = NULL;
    if (snapshot->account_count == 0)
        return 0;

    ordered = malloc(snapshot->account_count * sizeof(*ordered));
    if (ordered == NULL)
        return -1;
    for (size_t i = 0; i < snapshot->account_count; i++) {
        ordered[i] = &snapshot->accounts[i];
        if (i > 0 && compare_account_pointers(&ordered[i - 1], &ordered[i]) > 0)
            sorted = false;
    }
    if (!sorted)
        qsort(ordered, snapshot->account_count, sizeof(*ordered), compare_account_pointers);

    *out = ordered;
    return 0;
}

/* Walks both GUID-ordered lists once and appends each difference. */
static int merge_accounts(const struct da_account **before, size_t before_count,
                          const struct da_account **after, size_t after_count,
                          struct change_list *list)
{
    size_t i = 0;
    size_t j = 0;

    while (i < before_count || j < after_count) {
        struct da_account_change change;
        int order;
        int ret;

        if (i == before_count)
            order = 1;
        else if (j == after_count)
            order = -1;
        else
            order = strcmp(guid_of(before[i]), guid_of(after[j]));

        if (order < 0)
            ret = describe_lost(before[i++], &change);
        else if (order > 0)
            ret = describe_gained(after[j++], &change);
        else
            ret = describe_modified(before[i++], after[j++], &change);
        if (ret != 0)
            return -1;

        if (change.type == DA_CHANGE_MODIFIED && change_is_empty(&change)) {
            change_clear(&change);
            continue;
        }
        if (change_list_add(list, &change) != 0) {
            change_clear(&change);
            return -1;
        }
    }
    return 0;
}

int da_diff_compute(const struct da_snapshot *before, const struct da_snapshot *after,
                    struct da_diff *out)
{
    const struct da_account **before_ordered = NULL;
    const struct da_account **after_ordered = NULL;
    struct change_list list = {0};
    int ret = -1;

    if (order_accounts(before, &before_ordered) != 0 || order_accounts(after, &after_ordered) != 0)
        goto out;

    if (merge_accounts(before_ordered, before->account_count, after_ordered, after->account_count,
                       &list) != 0)
        goto out;

    out->changes = list.items;
    out->count = list.count;
    memset(&list, 0, sizeof(list));
    ret = 0;

out:
    change_list_clear(&list);
    free(after_ordered);
    free(before_ordered);
    return ret;
}

void da_diff_clear(struct da_diff *diff)
{
    for (size_t i = 0; i < diff->count; i++)
        change_clear(&diff->changes[i]);
    free(diff->changes);
    memset(diff, 0, sizeof(*diff));
}
