#include "auditor/evidence.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditor/match.h"

#define DA_ATTRIBUTE_DELEGATE_TO "msDS-AllowedToDelegateTo"
#define DA_ATTRIBUTE_UAC "userAccountControl"

struct event_array {
    struct da_event *items;
    size_t count;
    size_t capacity;
};

struct da_evidence {
    const struct da_snapshot *const *snapshots;
    size_t snapshot_count;
    struct event_array changes;  /* 4738, 4742, 5136 */
    struct event_array sessions; /* 4624, 4648 */
};

static const char *const step_names[] = {
    [DA_STEP_KRBTGT_ADDED] = "krbtgt-added",
    [DA_STEP_KRBTGT_REMOVED] = "krbtgt-removed",
    [DA_STEP_PROTOCOL_TRANSITION_ON] = "protocol-transition-on",
    [DA_STEP_PROTOCOL_TRANSITION_OFF] = "protocol-transition-off",
    [DA_STEP_OTHER_DELEGATION_CHANGE] = "other-delegation-change",
};

const char *da_step_kind_name(enum da_step_kind kind)
{
    return (size_t)kind < sizeof(step_names) / sizeof(step_names[0]) ? step_names[kind] : "unknown";
}

const char *da_evidence_status_name(enum da_evidence_status status)
{
    switch (status) {
    case DA_EVIDENCE_FOUND:
        return "found";
    case DA_EVIDENCE_PARTIAL:
        return "partial";
    case DA_EVIDENCE_MISSING:
    default:
        return "missing";
    }
}

/* Copying events. */

static int copy_string(char **dest, const char *src)
{
    *dest = NULL;
    if (src == NULL)
        return 0;
    *dest = strdup(src);
    return *dest == NULL ? -1 : 0;
}

/* Deep-copies src into *dest; on failure *dest is cleared. */
static int copy_event(struct da_event *dest, const struct da_event *src)
{
    *dest = *src;
    memset(&dest->allowed_to_delegate_to, 0, sizeof(dest->allowed_to_delegate_to));

    char **const strings[] = {
        &dest->time, &dest->computer, &dest->source_file, &dest->subject_sid,
        &dest->subject_user_name, &dest->subject_domain_name, &dest->target_sid,
        &dest->target_user_name, &dest->target_domain_name, &dest->object_dn, &dest->object_guid,
        &dest->object_class, &dest->attribute_name, &dest->attribute_value, &dest->correlation_id,
        &dest->ip_address, &dest->ip_port, &dest->workstation_name,
        &dest->authentication_package, &dest->logon_process, &dest->target_server_name,
        &dest->target_info, &dest->explicit_user_name, &dest->explicit_domain_name,
    };
    const char *const sources[] = {
        src->time, src->computer, src->source_file, src->subject_sid, src->subject_user_name,
        src->subject_domain_name, src->target_sid, src->target_user_name,
        src->target_domain_name, src->object_dn, src->object_guid, src->object_class,
        src->attribute_name, src->attribute_value, src->correlation_id, src->ip_address,
        src->ip_port, src->workstation_name, src->authentication_package, src->logon_process,
        src->target_server_name, src->target_info, src->explicit_user_name,
        src->explicit_domain_name,
    };
    int rc = 0;

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        *strings[i] = NULL;
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]) && rc == 0; i++)
        rc = copy_string(strings[i], sources[i]);
    if (rc == 0)
        rc = da_strv_copy(&dest->allowed_to_delegate_to, &src->allowed_to_delegate_to);
    if (rc != 0)
        da_event_clear(dest);
    return rc;
}

static int append_event(struct event_array *array, const struct da_event *event)
{
    if (array->count == array->capacity) {
        size_t capacity = array->capacity ? array->capacity * 2 : 16;
        struct da_event *items = realloc(array->items, capacity * sizeof(*items));

        if (items == NULL)
            return -1;
        array->items = items;
        array->capacity = capacity;
    }
    if (copy_event(&array->items[array->count], event) != 0)
        return -1;
    array->count++;
    return 0;
}

static void clear_events(struct event_array *array)
{
    for (size_t i = 0; i < array->count; i++)
        da_event_clear(&array->items[i]);
    free(array->items);
    memset(array, 0, sizeof(*array));
}

/* The store. */

struct da_evidence *da_evidence_new(const struct da_snapshot *const *snapshots,
                                    size_t snapshot_count)
{
    struct da_evidence *evidence = calloc(1, sizeof(*evidence));

    if (evidence == NULL)
        return NULL;
    evidence->snapshots = snapshots;
    evidence->snapshot_count = snapshot_count;
    return evidence;
}

void da_evidence_free(struct da_evidence *evidence)
{
    if (evidence == NULL)
        return;
    clear_events(&evidence->changes);
    clear_events(&evidence->sessions);
    free(evidence);
}

static bool delegation_bits_changed(const struct da_event *event)
{
    const uint32_t bits = DA_UAC_TRUSTED_FOR_DELEGATION | DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION;

    return event->has_uac_change && ((event->old_uac ^ event->new_uac) & bits) != 0;
}

static bool is_delegation_change(const struct da_event *event)
{
    switch (event->event_id) {
    case DA_EVENT_USER_CHANGED:
    case DA_EVENT_COMPUTER_CHANGED:
        return event->delegate_list_state == DA_DELEGATE_LIST_SET ||
               event->delegate_list_state == DA_DELEGATE_LIST_CLEARED ||
               delegation_bits_changed(event);
    case DA_EVENT_OBJECT_MODIFIED:
        /* da_event_build keeps only the delegation attributes. */
        return event->attribute_name != NULL;
    default:
        return false;
    }
}

int da_evidence_add_change(struct da_evidence *evidence, const struct da_event *event)
{
    if (!is_delegation_change(event))
        return 0;
    return append_event(&evidence->changes, event);
}

/* Compares DC names ignoring case and any domain suffix, because one export
 * writes "DC1" where another writes "DC1.contoso.test". */
static bool same_computer(const char *left, const char *right)
{
    size_t left_length;
    size_t right_length;

    if (left == NULL || right == NULL)
        return false;
    left_length = strcspn(left, ".");
    right_length = strcspn(right, ".");
    return left_length == right_length && strncasecmp(left, right, left_length) == 0;
}

/* The logon id that ties a session event to a change: TargetLogonId of a
 * 4624, SubjectLogonId of a 4648. */
static bool session_logon_id(const struct da_event *event, uint64_t *logon_id)
{
    if (event->event_id == DA_EVENT_LOGON && event->has_target_logon_id) {
        *logon_id = event->target_logon_id;
        return true;
    }
    if (event->event_id == DA_EVENT_EXPLICIT_CREDENTIALS && event->has_subject_logon_id) {
        *logon_id = event->subject_logon_id;
        return true;
    }
    return false;
}

bool da_evidence_wants_session(const struct da_evidence *evidence, const struct da_event *event)
{
    uint64_t logon_id;

    if (!session_logon_id(event, &logon_id))
        return false;
    for (size_t i = 0; i < evidence->changes.count; i++) {
        const struct da_event *change = &evidence->changes.items[i];

        if (change->has_subject_logon_id && change->subject_logon_id == logon_id &&
            same_computer(change->computer, event->computer))
            return true;
    }
    return false;
}

int da_evidence_logon_ids(const struct da_evidence *evidence, uint64_t **ids, size_t *count)
{
    uint64_t *result = NULL;
    size_t used = 0;

    *ids = NULL;
    *count = 0;
    if (evidence->changes.count == 0)
        return 0;
    result = malloc(evidence->changes.count * sizeof(*result));
    if (result == NULL)
        return -1;
    for (size_t i = 0; i < evidence->changes.count; i++) {
        const struct da_event *change = &evidence->changes.items[i];
        bool seen = false;

        if (!change->has_subject_logon_id)
            continue;
        for (size_t j = 0; j < used && !seen; j++)
            seen = result[j] == change->subject_logon_id;
        if (!seen)
            result[used++] = change->subject_logon_id;
    }
    *ids = result;
    *count = used;
    return 0;
}

void da_evidence_kept_counts(const struct da_evidence *evidence, unsigned long *kept)
{
    *kept = (unsigned long)(evidence->changes.count + evidence->sessions.count);
}

int da_evidence_add_session(struct da_evidence *evidence, const struct da_event *event)
{
    if (!da_evidence_wants_session(evidence, event))
        return 0;
    return append_event(&evidence->sessions, event);
}

/* Matching events to accounts. */

/* Compares two normalized UTC times "YYYY-MM-DDTHH:MM:SS[.fff]Z" by value:
 * a plain string comparison would put ".123Z" before "Z". */
static int compare_times(const char *left, const char *right)
{
    int order;
    double left_fraction = 0;
    double right_fraction = 0;

    if (left == NULL && right == NULL)
        return 0;
    if (left == NULL)
        return -1;
    if (right == NULL)
        return 1;
    order = strncmp(left, right, 19);
    if (order != 0 || strlen(left) < 19 || strlen(right) < 19)
        return order;
    if (left[19] == '.')
        left_fraction = strtod(left + 19, NULL);
    if (right[19] == '.')
        right_fraction = strtod(right + 19, NULL);
    return (left_fraction > right_fraction) - (left_fraction < right_fraction);
}

static int compare_event_pointers(const void *a, const void *b)
{
    const struct da_event *left = *(const struct da_event *const *)a;
    const struct da_event *right = *(const struct da_event *const *)b;
    int order = compare_times(left->time, right->time);

    if (order != 0)
        return order;
    /* The same second: keep the order of the record ids on one DC. */
    if (left->has_record_id && right->has_record_id && left->record_id != right->record_id)
        return left->record_id < right->record_id ? -1 : 1;
    return 0;
}

/* The identity of an account across snapshots: every DN it had. */
struct account_identity {
    const char *guid;
    const char *sid;
    const char *dn;
};

static bool dn_of_guid_in_snapshots(const struct da_evidence *evidence, const char *guid,
                                    const char *dn)
{
    for (size_t i = 0; i < evidence->snapshot_count; i++) {
        const struct da_account *account = da_snapshot_find(evidence->snapshots[i], guid);

        if (account != NULL && account->dn != NULL && strcasecmp(account->dn, dn) == 0)
            return true;
    }
    return false;
}

static bool event_concerns(const struct da_evidence *evidence, const struct da_event *event,
                           const struct account_identity *identity)
{
    if (event->event_id == DA_EVENT_OBJECT_MODIFIED) {
        if (identity->guid != NULL && event->object_guid != NULL)
            return strcasecmp(identity->guid, event->object_guid) == 0;
        if (event->object_dn == NULL)
            return false;
        if (identity->dn != NULL && strcasecmp(identity->dn, event->object_dn) == 0)
            return true;
        return identity->guid != NULL &&
               dn_of_guid_in_snapshots(evidence, identity->guid, event->object_dn);
    }
    return identity->sid != NULL && event->target_sid != NULL &&
           strcasecmp(identity->sid, event->target_sid) == 0;
}

/* The krbtgt accounts of the newest snapshot decide what a krbtgt target is. */
static bool is_krbtgt_value(const struct da_evidence *evidence, const char *value)
{
    const struct da_snapshot *newest = evidence->snapshot_count > 0 ? evidence->snapshots[0] : NULL;

    if (newest == NULL)
        return da_target_is_krbtgt(value, NULL, 0);
    return da_target_is_krbtgt(value, newest->krbtgts, newest->krbtgt_count);
}

/* Building the steps of one account. */

struct step_list {
    struct da_evidence_step *items;
    size_t count;
    size_t capacity;
};

static struct da_evidence_step *add_step(struct step_list *steps, enum da_step_kind kind,
                                         const struct da_event *event)
{
    struct da_evidence_step *step;

    if (steps->count == steps->capacity) {
        size_t capacity = steps->capacity ? steps->capacity * 2 : 8;
        struct da_evidence_step *items = realloc(steps->items, capacity * sizeof(*items));

        if (items == NULL)
            return NULL;
        steps->items = items;
        steps->capacity = capacity;
    }
    step = &steps->items[steps->count++];
    memset(step, 0, sizeof(*step));
    step->kind = kind;
    step->event = event;
    return step;
}

static void clear_steps(struct da_evidence_step *steps, size_t count)
{
    for (size_t i = 0; i < count; i++)
        da_strv_clear(&steps[i].values);
    free(steps);
}

/* Adds a step with the values of list that are missing from other and are
 * krbtgt targets (with krbtgt) or are not (without). No step is added when
 * no value qualifies. */
static int add_difference_step(const struct da_evidence *evidence, struct step_list *steps,
                               enum da_step_kind kind, const struct da_event *event,
                               const struct da_strv *list, const struct da_strv *other,
                               bool krbtgt)
{
    struct da_strv values = {0};
    struct da_evidence_step *step;

    for (size_t i = 0; i < list->count; i++) {
        const char *value = list->items[i];

        if (is_krbtgt_value(evidence, value) != krbtgt)
            continue;
        if (other != NULL && da_strv_contains(other, value))
            continue;
        if (da_strv_append(&values, value) != 0) {
            da_strv_clear(&values);
            return -1;
        }
    }
    if (values.count == 0)
        return 0;
    step = add_step(steps, kind, event);
    if (step == NULL) {
        da_strv_clear(&values);
        return -1;
    }
    step->values = values;
    return 0;
}

/* A 4738 or 4742: the complete new list, compared with the last list seen
 * in an earlier event of the same account (unknown before the first). */
static int steps_of_account_change(const struct da_evidence *evidence, struct step_list *steps,
                                   const struct da_event *event, struct da_strv *known_list,
                                   bool *list_known)
{
    static const struct da_strv empty = {0};
    const struct da_strv *previous = *list_known ? known_list : NULL;
    int rc = 0;

    if (event->delegate_list_state == DA_DELEGATE_LIST_SET ||
        event->delegate_list_state == DA_DELEGATE_LIST_CLEARED) {
        const struct da_strv *list =
            event->delegate_list_state == DA_DELEGATE_LIST_SET ? &event->allowed_to_delegate_to
                                                               : &empty;

        rc = add_difference_step(evidence, steps, DA_STEP_KRBTGT_ADDED, event, list, previous,
                                 true);
        if (rc == 0 && previous != NULL)
            rc = add_difference_step(evidence, steps, DA_STEP_KRBTGT_REMOVED, event, previous,
                                     list, true);
        /* Without an earlier list, the other values may have been there
         * for years: only a known earlier list shows them changing. */
        if (rc == 0 && previous != NULL)
            rc = add_difference_step(evidence, steps, DA_STEP_OTHER_DELEGATION_CHANGE, event,
                                     list, previous, false);
        if (rc == 0) {
            struct da_strv copy = {0};

            rc = da_strv_copy(&copy, list);
            if (rc == 0) {
                da_strv_clear(known_list);
                *known_list = copy;
                *list_known = true;
            }
        }
    }

    if (rc == 0 && event->has_uac_change) {
        bool before = (event->old_uac & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) != 0;
        bool after = (event->new_uac & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) != 0;

        if (before != after &&
            add_step(steps, after ? DA_STEP_PROTOCOL_TRANSITION_ON : DA_STEP_PROTOCOL_TRANSITION_OFF,
                     event) == NULL)
            rc = -1;
        if (rc == 0 && ((event->old_uac ^ event->new_uac) & DA_UAC_TRUSTED_FOR_DELEGATION) &&
            add_step(steps, DA_STEP_OTHER_DELEGATION_CHANGE, event) == NULL)
            rc = -1;
    }
    return rc;
}

/* Finds the userAccountControl value that a 5136 deleted in the same
 * operation, so that an added value can be seen to turn protocol
 * transition on or off. */
static bool deleted_uac_of_operation(const struct da_evidence *evidence,
                                     const struct da_event *added, uint32_t *value)
{
    for (size_t i = 0; i < evidence->changes.count; i++) {
        const struct da_event *event = &evidence->changes.items[i];

        if (event->event_id == DA_EVENT_OBJECT_MODIFIED &&
            event->operation == DA_OPERATION_VALUE_DELETED && event->attribute_name != NULL &&
            strcasecmp(event->attribute_name, DA_ATTRIBUTE_UAC) == 0 &&
            event->correlation_id != NULL && added->correlation_id != NULL &&
            strcasecmp(event->correlation_id, added->correlation_id) == 0 &&
            event->attribute_value != NULL) {
            *value = (uint32_t)strtoul(event->attribute_value, NULL, 10);
            return true;
        }
    }
    return false;
}

static int steps_of_object_change(const struct da_evidence *evidence, struct step_list *steps,
                                  const struct da_event *event)
{
    struct da_strv value = {0};
    bool added = event->operation == DA_OPERATION_VALUE_ADDED;
    int rc = 0;

    if (event->attribute_name == NULL || event->attribute_value == NULL)
        return 0;

    if (strcasecmp(event->attribute_name, DA_ATTRIBUTE_DELEGATE_TO) == 0) {
        if (da_strv_append(&value, event->attribute_value) != 0)
            return -1;
        if (is_krbtgt_value(evidence, event->attribute_value))
            rc = add_difference_step(evidence, steps,
                                     added ? DA_STEP_KRBTGT_ADDED : DA_STEP_KRBTGT_REMOVED, event,
                                     &value, NULL, true);
        else
            rc = add_difference_step(evidence, steps, DA_STEP_OTHER_DELEGATION_CHANGE, event,
                                     &value, NULL, false);
        da_strv_clear(&value);
        return rc;
    }

    if (strcasecmp(event->attribute_name, DA_ATTRIBUTE_UAC) == 0) {
        uint32_t now = (uint32_t)strtoul(event->attribute_value, NULL, 10);
        uint32_t before = 0;
        bool known = deleted_uac_of_operation(evidence, event, &before);

        if (!added)
            return 0; /* the added value of the same operation decides */
        if ((now & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) &&
            (!known || !(before & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION)))
            return add_step(steps, DA_STEP_PROTOCOL_TRANSITION_ON, event) != NULL ? 0 : -1;
        if (!(now & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION) && known &&
            (before & DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION))
            return add_step(steps, DA_STEP_PROTOCOL_TRANSITION_OFF, event) != NULL ? 0 : -1;
        return 0;
    }

    /* servicePrincipalName and msDS-AllowedToActOnBehalfOfOtherIdentity. */
    return add_step(steps, DA_STEP_OTHER_DELEGATION_CHANGE, event) != NULL ? 0 : -1;
}

/* Collects the changes of one account in time order and turns them into
 * steps. */
static int build_steps(const struct da_evidence *evidence, const struct account_identity *identity,
                       struct step_list *steps)
{
    const struct da_event **events = NULL;
    size_t count = 0;
    struct da_strv known_list = {0};
    bool list_known = false;
    int rc = 0;

    if (evidence->changes.count > 0) {
        events = malloc(evidence->changes.count * sizeof(*events));
        if (events == NULL)
            return -1;
    }
    for (size_t i = 0; i < evidence->changes.count; i++) {
        if (event_concerns(evidence, &evidence->changes.items[i], identity))
            events[count++] = &evidence->changes.items[i];
    }
    if (count > 1)
        qsort(events, count, sizeof(*events), compare_event_pointers);

    for (size_t i = 0; i < count && rc == 0; i++) {
        if (events[i]->event_id == DA_EVENT_OBJECT_MODIFIED)
            rc = steps_of_object_change(evidence, steps, events[i]);
        else
            rc = steps_of_account_change(evidence, steps, events[i], &known_list, &list_known);
    }

    da_strv_clear(&known_list);
    free(events);
    return rc;
}

/* Sessions and scope. */

static const struct da_event *find_logon(const struct da_evidence *evidence,
                                         const struct da_event *change)
{
    for (size_t i = 0; i < evidence->sessions.count; i++) {
        const struct da_event *event = &evidence->sessions.items[i];

        if (event->event_id == DA_EVENT_LOGON && event->has_target_logon_id &&
            event->target_logon_id == change->subject_logon_id &&
            same_computer(event->computer, change->computer))
            return event;
    }
    return NULL;
}

static int build_sessions(const struct da_evidence *evidence, struct da_account_evidence *entry)
{
    for (size_t i = 0; i < entry->step_count; i++) {
        const struct da_event *change = entry->steps[i].event;
        struct da_session_evidence *session;
        bool known = false;

        if (!change->has_subject_logon_id)
            continue;
        for (size_t j = 0; j < entry->session_count && !known; j++) {
            const struct da_event *other = entry->sessions[j].change;

            known = other->subject_logon_id == change->subject_logon_id &&
                    same_computer(other->computer, change->computer);
        }
        if (known)
            continue;

        session = realloc(entry->sessions, (entry->session_count + 1) * sizeof(*session));
        if (session == NULL)
            return -1;
        entry->sessions = session;
        session = &entry->sessions[entry->session_count++];
        memset(session, 0, sizeof(*session));
        session->change = change;
        session->logon = find_logon(evidence, change);

        for (size_t j = 0; j < evidence->sessions.count; j++) {
            const struct da_event *event = &evidence->sessions.items[j];
            const struct da_event **uses;

            if (event->event_id != DA_EVENT_EXPLICIT_CREDENTIALS || !event->has_subject_logon_id ||
                event->subject_logon_id != change->subject_logon_id ||
                !same_computer(event->computer, change->computer))
                continue;
            uses = realloc(session->explicit_credentials,
                           (session->explicit_credential_count + 1) * sizeof(*uses));
            if (uses == NULL)
                return -1;
            session->explicit_credentials = uses;
            uses[session->explicit_credential_count++] = event;
        }
    }
    return 0;
}

static bool step_event_listed(const struct da_account_evidence *entry, const struct da_event *event)
{
    for (size_t i = 0; i < entry->step_count; i++) {
        if (entry->steps[i].event == event)
            return true;
    }
    return false;
}

/* Other delegation changes made by the actors of this account's steps. */
static int build_actor_scope(const struct da_evidence *evidence, struct da_account_evidence *entry)
{
    for (size_t i = 0; i < evidence->changes.count; i++) {
        const struct da_event *event = &evidence->changes.items[i];
        const struct da_event **scope;
        bool same_actor = false;

        if (event->subject_sid == NULL || step_event_listed(entry, event))
            continue;
        for (size_t j = 0; j < entry->step_count && !same_actor; j++) {
            const char *actor = entry->steps[j].event->subject_sid;

            same_actor = actor != NULL && strcasecmp(actor, event->subject_sid) == 0;
        }
        if (!same_actor)
            continue;

        scope = realloc(entry->actor_scope, (entry->actor_scope_count + 1) * sizeof(*scope));
        if (scope == NULL)
            return -1;
        entry->actor_scope = scope;
        scope[entry->actor_scope_count++] = event;
    }
    return 0;
}

/* Joining. */

static void clear_entry(struct da_account_evidence *entry)
{
    free(entry->guid);
    free(entry->sid);
    free(entry->dn);
    free(entry->sam_account_name);
    clear_steps(entry->steps, entry->step_count);
    for (size_t i = 0; i < entry->session_count; i++)
        free(entry->sessions[i].explicit_credentials);
    free(entry->sessions);
    free(entry->actor_scope);
    memset(entry, 0, sizeof(*entry));
}

void da_account_evidence_free(struct da_account_evidence *entries, size_t count)
{
    for (size_t i = 0; i < count; i++)
        clear_entry(&entries[i]);
    free(entries);
}

/* Fills steps, sessions, scope and status of an entry whose identity
 * fields are set. */
static int complete_entry(const struct da_evidence *evidence, struct da_account_evidence *entry,
                          const struct da_strv *finding_values)
{
    struct account_identity identity = {entry->guid, entry->sid, entry->dn};
    struct step_list steps = {0};
    bool addition_found = false;

    if (build_steps(evidence, &identity, &steps) != 0) {
        clear_steps(steps.items, steps.count);
        return -1;
    }
    entry->steps = steps.items;
    entry->step_count = steps.count;

    for (size_t i = 0; i < entry->step_count; i++) {
        const struct da_evidence_step *step = &entry->steps[i];

        if (step->kind == DA_STEP_PROTOCOL_TRANSITION_ON)
            entry->protocol_transition_turned_on = true;
        if (step->kind != DA_STEP_KRBTGT_ADDED)
            continue;
        if (finding_values == NULL)
            addition_found = true;
        for (size_t j = 0; j < step->values.count && !addition_found; j++) {
            for (size_t k = 0; k < finding_values->count && !addition_found; k++)
                addition_found = strcasecmp(step->values.items[j], finding_values->items[k]) == 0;
        }
    }
    entry->status = addition_found         ? DA_EVIDENCE_FOUND
                    : entry->step_count > 0 ? DA_EVIDENCE_PARTIAL
                                            : DA_EVIDENCE_MISSING;

    if (build_sessions(evidence, entry) != 0 || build_actor_scope(evidence, entry) != 0)
        return -1;
    return 0;
}

static int set_identity(struct da_account_evidence *entry, const char *guid, const char *sid,
                        const char *dn, const char *sam_account_name)
{
    if (copy_string(&entry->guid, guid) != 0 || copy_string(&entry->sid, sid) != 0 ||
        copy_string(&entry->dn, dn) != 0 ||
        copy_string(&entry->sam_account_name, sam_account_name) != 0)
        return -1;
    return 0;
}

/* The snapshot account an event concerns, searched newest first. */
static const struct da_account *account_of_event(const struct da_evidence *evidence,
                                                 const struct da_event *event)
{
    for (size_t i = 0; i < evidence->snapshot_count; i++) {
        const struct da_snapshot *snapshot = evidence->snapshots[i];

        for (size_t j = 0; j < snapshot->account_count; j++) {
            const struct da_account *account = &snapshot->accounts[j];
            struct account_identity identity = {account->guid, account->sid, account->dn};

            if (event_concerns(evidence, event, &identity))
                return account;
        }
    }
    return NULL;
}

static bool entry_covers_event(const struct da_evidence *evidence,
                               const struct da_account_evidence *entries, size_t count,
                               const struct da_event *event)
{
    for (size_t i = 0; i < count; i++) {
        struct account_identity identity = {entries[i].guid, entries[i].sid, entries[i].dn};

        if (event_concerns(evidence, event, &identity))
            return true;
    }
    return false;
}

/* Appends an entry for each account whose events show a krbtgt value added
 * although no current finding covers it: a backdoor that existed and was
 * removed, which may have been used meanwhile. */
static int add_historical(const struct da_evidence *evidence, struct da_account_evidence **entries,
                          size_t *count)
{
    for (size_t i = 0; i < evidence->changes.count; i++) {
        const struct da_event *event = &evidence->changes.items[i];
        const struct da_account *account;
        struct da_account_evidence entry = {0};
        struct da_account_evidence *grown;
        bool added = false;

        if (entry_covers_event(evidence, *entries, *count, event))
            continue;

        account = account_of_event(evidence, event);
        if (account != NULL) {
            if (set_identity(&entry, account->guid, account->sid, account->dn,
                             account->sam_account_name) != 0)
                goto fail;
        } else if (set_identity(&entry, event->object_guid, event->target_sid, event->object_dn,
                                event->target_user_name) != 0) {
            goto fail;
        }
        if (complete_entry(evidence, &entry, NULL) != 0)
            goto fail;

        for (size_t j = 0; j < entry.step_count; j++)
            added = added || entry.steps[j].kind == DA_STEP_KRBTGT_ADDED;
        if (!added) {
            /* Keep the identity so that later events of this account are
             * not examined again, but do not report it. */
            entry.status = DA_EVIDENCE_MISSING;
        }
        entry.removed_since = added;

        grown = realloc(*entries, (*count + 1) * sizeof(*grown));
        if (grown == NULL)
            goto fail;
        *entries = grown;
        (*entries)[(*count)++] = entry;
        continue;

    fail:
        clear_entry(&entry);
        return -1;
    }
    return 0;
}

int da_evidence_join(struct da_evidence *evidence, const struct da_findings *findings,
                     struct da_account_evidence **out, size_t *out_count)
{
    struct da_account_evidence *entries = NULL;
    size_t count = 0;
    size_t kept = 0;

    if (findings->count > 0) {
        entries = calloc(findings->count, sizeof(*entries));
        if (entries == NULL)
            return -1;
    }
    for (size_t i = 0; i < findings->count; i++) {
        const struct da_finding *finding = &findings->items[i];
        const struct da_account *account = finding->account;

        entries[i].finding = finding;
        count = i + 1;
        if (set_identity(&entries[i], account->guid, account->sid, account->dn,
                         account->sam_account_name) != 0 ||
            complete_entry(evidence, &entries[i], &finding->values) != 0)
            goto fail;
    }

    if (add_historical(evidence, &entries, &count) != 0)
        goto fail;

    /* Drop the placeholder entries of accounts without a removed backdoor. */
    for (size_t i = 0; i < count; i++) {
        if (entries[i].finding == NULL && !entries[i].removed_since) {
            clear_entry(&entries[i]);
            continue;
        }
        entries[kept++] = entries[i];
    }

    *out = entries;
    *out_count = kept;
    return 0;

fail:
    da_account_evidence_free(entries, count);
    return -1;
}
