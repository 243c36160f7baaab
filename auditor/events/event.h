/* Windows Security events that bear on delegation, read from exported logs.
 *
 * Every reader (XML, JSON shapes, .evtx) extracts the same raw parts of a
 * record: the event id, the System fields and the EventData name/value
 * pairs. It hands them to da_event_build, which keeps the events of
 * interest and normalizes their fields, so that parsing by field name
 * happens in one place and never depends on the localized message text. */
#ifndef DELEGAUDIT_EVENTS_EVENT_H
#define DELEGAUDIT_EVENTS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditor/error.h"
#include "auditor/model.h"

#define DA_EVENT_USER_CHANGED 4738       /* a user account was changed */
#define DA_EVENT_COMPUTER_CHANGED 4742   /* a computer account was changed */
#define DA_EVENT_OBJECT_MODIFIED 5136    /* a directory service object was modified */
#define DA_EVENT_LOGON 4624              /* an account was successfully logged on */
#define DA_EVENT_EXPLICIT_CREDENTIALS 4648 /* a logon was attempted with explicit credentials */

/* The state of AllowedToDelegateTo in a 4738 or 4742 event, which carries
 * the complete new list whenever it changed. */
enum da_delegate_list_state {
    DA_DELEGATE_LIST_ABSENT,    /* no AllowedToDelegateTo field */
    DA_DELEGATE_LIST_UNCHANGED, /* "-" */
    DA_DELEGATE_LIST_CLEARED,   /* "%%1793" or "<value not set>" */
    DA_DELEGATE_LIST_SET,       /* the new list is in allowed_to_delegate_to */
};

/* OperationType of a 5136 event. */
enum da_directory_operation {
    DA_OPERATION_NONE,
    DA_OPERATION_VALUE_ADDED,   /* %%14674 */
    DA_OPERATION_VALUE_DELETED, /* %%14675 */
    DA_OPERATION_OTHER,
};

/* A raw EventData pair, as a reader found it. Borrowed strings. */
struct da_event_field {
    const char *name;
    const char *value;
};

/* The parts of one record as a reader extracted them, before normalization. All
 * strings are borrowed from the reader and valid during the call only.
 * A missing part is NULL (or 0 for the numbers). */
struct da_raw_event {
    unsigned long event_id;
    const char *time_created;  /* SystemTime as written: ISO 8601, any offset */
    const char *computer;
    const char *record_id;     /* EventRecordID as text, or NULL */
    const struct da_event_field *fields;
    size_t field_count;
};

/* One normalized event. Strings are owned. SIDs are upper-case "S-1-...",
 * GUIDs lower-case without braces, times UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z",
 * logon ids 64-bit numbers. */
struct da_event {
    unsigned long event_id;
    char *time;       /* UTC */
    char *computer;   /* the DC that logged it */
    uint64_t record_id;
    bool has_record_id;

    /* Origin of the event, for the report and for error messages. */
    char *source_file;
    unsigned long source_position; /* line (text formats) or record number */

    /* The actor: Subject* fields of 4738, 4742, 5136 and 4648, and the
     * Target* fields of 4624 (the account that logged on). */
    char *subject_sid;
    char *subject_user_name;
    char *subject_domain_name;
    uint64_t subject_logon_id;
    bool has_subject_logon_id;

    /* 4738 and 4742: the account that was changed. */
    char *target_sid;
    char *target_user_name;
    char *target_domain_name;
    enum da_delegate_list_state delegate_list_state;
    struct da_strv allowed_to_delegate_to; /* split on CR, LF, tab, space */
    uint32_t old_uac;
    uint32_t new_uac;
    bool has_uac_change;                   /* OldUacValue and NewUacValue read */

    /* 5136. */
    char *object_dn;
    char *object_guid;
    char *object_class;
    char *attribute_name;  /* AttributeLDAPDisplayName */
    char *attribute_value;
    enum da_directory_operation operation;
    char *correlation_id;  /* OpCorrelationID, a GUID */

    /* 4624 and 4648. */
    uint64_t target_logon_id;   /* 4624 TargetLogonId */
    bool has_target_logon_id;
    unsigned long logon_type;   /* 4624 */
    char *ip_address;
    char *ip_port;
    char *workstation_name;
    char *authentication_package;
    char *logon_process;
    char *target_server_name;   /* 4648 */
    char *target_info;          /* 4648 */
    char *explicit_user_name;   /* 4648 TargetUserName */
    char *explicit_domain_name; /* 4648 TargetDomainName */
};

void da_event_clear(struct da_event *event);

/* Result of da_event_build. */
enum da_event_build_result {
    DA_EVENT_KEPT,      /* *event was filled */
    DA_EVENT_SKIPPED,   /* an event id or attribute of no interest */
    DA_EVENT_MALFORMED, /* a required field is missing or invalid */
};

/* Normalizes a raw event into *event. A 5136 is kept only for
 * msDS-AllowedToDelegateTo, userAccountControl, servicePrincipalName and
 * msDS-AllowedToActOnBehalfOfOtherIdentity. For DA_EVENT_MALFORMED,
 * problem (of problem_size bytes) receives the reason, naming the field. */
enum da_event_build_result da_event_build(const struct da_raw_event *raw, const char *source_file,
                                          unsigned long source_position, struct da_event *event,
                                          char *problem, size_t problem_size);

/* Parses a logon id as Windows writes it, "0x3E7" or decimal "999", into a
 * number, so that "0x3e7" and "0x3E7" compare equal. Returns false when the
 * text is no such number. */
bool da_event_parse_logon_id(const char *text, uint64_t *value);

/* Converts an ISO 8601 time with a "Z" or "+HH:MM" offset and up to 9
 * fraction digits into UTC "YYYY-MM-DDTHH:MM:SS[.fffffff]Z". Returns a heap
 * string, or NULL when the text is no such time. */
char *da_event_normalize_time(const char *text);

/* Normalizes a SID ("s-1-5-21-...") to upper-case "S-" form, and a GUID
 * ("{AABB...}" in any case) to lower-case 8-4-4-4-12 without braces.
 * Return heap strings, or NULL when the text is not one. */
char *da_event_normalize_sid(const char *text);
char *da_event_normalize_guid(const char *text);

#endif
