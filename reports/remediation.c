#include "reports/remediation.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing heap string; on allocation failure it is freed and stays NULL. */
struct text {
    char *data;
    size_t length;
    bool failed;
};

static void append(struct text *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(struct text *text, const char *fmt, ...)
{
    va_list ap;
    int needed;
    char *grown;

    if (text->failed)
        return;
    va_start(ap, fmt);
    needed = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    grown = needed < 0 ? NULL : realloc(text->data, text->length + (size_t)needed + 1);
    if (grown == NULL) {
        free(text->data);
        text->data = NULL;
        text->failed = true;
        return;
    }
    text->data = grown;
    va_start(ap, fmt);
    vsnprintf(text->data + text->length, (size_t)needed + 1, fmt, ap);
    va_end(ap);
    text->length += (size_t)needed;
}

static char *finish(struct text *text)
{
    if (text->failed)
        return NULL;
    if (text->data == NULL)
        return strdup("");
    return text->data;
}

bool da_remediation_turns_off_protocol_transition(const struct da_account *account,
                                                  const struct da_account_evidence *evidence)
{
    if (!da_account_protocol_transition(account))
        return false;
    if (evidence != NULL && evidence->protocol_transition_turned_on)
        return true;

    /* Protocol transition serves no purpose without a target left. */
    for (size_t i = 0; i < account->allowed_to_delegate_to.count; i++) {
        bool offending = false;

        if (evidence != NULL && evidence->finding != NULL)
            offending = da_strv_contains(&evidence->finding->values,
                                         account->allowed_to_delegate_to.items[i]);
        if (!offending)
            return false;
    }
    return true;
}

/* RFC 2849: a SAFE-STRING has no NUL, CR, LF or byte above 127, and does
 * not start with a space, ':' or '<'. Other control bytes are base64 here
 * too: a report escapes them for display, and a command copied from the
 * display would name another value. A trailing space would not survive
 * editors. */
static bool ldif_safe(const char *value)
{
    size_t length = strlen(value);

    if (length == 0)
        return true;
    if (value[0] == ' ' || value[0] == ':' || value[0] == '<' || value[length - 1] == ' ')
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)value[i];

        if (byte < 0x20 || byte >= 0x7f)
            return false;
    }
    return true;
}

static void append_base64(struct text *text, const char *value)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *bytes = (const unsigned char *)value;
    size_t length = strlen(value);

    for (size_t i = 0; i < length; i += 3) {
        uint32_t group = (uint32_t)bytes[i] << 16;
        char out[5] = {0};

        if (i + 1 < length)
            group |= (uint32_t)bytes[i + 1] << 8;
        if (i + 2 < length)
            group |= bytes[i + 2];
        out[0] = alphabet[(group >> 18) & 63];
        out[1] = alphabet[(group >> 12) & 63];
        out[2] = i + 1 < length ? alphabet[(group >> 6) & 63] : '=';
        out[3] = i + 2 < length ? alphabet[group & 63] : '=';
        append(text, "%s", out);
    }
}

static void append_ldif_line(struct text *text, const char *attribute, const char *value)
{
    if (ldif_safe(value)) {
        append(text, "%s: %s\n", attribute, value);
        return;
    }
    append(text, "%s:: ", attribute);
    append_base64(text, value);
    append(text, "\n");
}

char *da_remediation_ldif(const struct da_account *account, const struct da_strv *values,
                          bool turn_off_protocol_transition)
{
    struct text text = {0};

    append(&text, "# Removes the krbtgt delegation targets of %s", account->guid);
    append(&text, turn_off_protocol_transition ? " and turns protocol transition off.\n" : ".\n");
    append_ldif_line(&text, "dn", account->dn);
    append(&text, "changetype: modify\n");
    append(&text, "delete: msDS-AllowedToDelegateTo\n");
    for (size_t i = 0; i < values->count; i++)
        append_ldif_line(&text, "msDS-AllowedToDelegateTo", values->items[i]);
    append(&text, "-\n");
    if (turn_off_protocol_transition) {
        append(&text, "replace: userAccountControl\n");
        append(&text, "userAccountControl: %" PRIu32 "\n",
               account->user_account_control & ~DA_UAC_TRUSTED_TO_AUTH_FOR_DELEGATION);
        append(&text, "-\n");
    }
    return finish(&text);
}

static bool has_control_bytes(const char *value)
{
    for (const char *cursor = value; *cursor != '\0'; cursor++) {
        if ((unsigned char)*cursor < 0x20 || (unsigned char)*cursor == 0x7f)
            return true;
    }
    return false;
}

/* Writes value as a single-quoted PowerShell string, or, when it contains
 * control bytes, as a concatenation with [char] for each of them, so that
 * the command is exact even where the report escapes control bytes. */
static void append_powershell_string(struct text *text, const char *value)
{
    if (has_control_bytes(value)) {
        const char *cursor = value;

        append(text, "(''");
        while (*cursor != '\0') {
            size_t run = 0;

            while (cursor[run] != '\0' && (unsigned char)cursor[run] >= 0x20 &&
                   (unsigned char)cursor[run] != 0x7f)
                run++;
            if (run > 0) {
                char *part = strndup(cursor, run);

                if (part == NULL) {
                    free(text->data);
                    text->data = NULL;
                    text->failed = true;
                    return;
                }
                append(text, " + ");
                append_powershell_string(text, part);
                free(part);
                cursor += run;
                continue;
            }
            append(text, " + [char]0x%02x", (unsigned char)*cursor);
            cursor++;
        }
        append(text, ")");
        return;
    }

    append(text, "'");
    for (const char *cursor = value; *cursor != '\0'; cursor++) {
        /* Inside single quotes only a quote needs doubling, but PowerShell
         * also takes U+2018..U+201B as single quotes: a directory value
         * holding one would otherwise end the string in a pasted command. */
        unsigned char byte = (unsigned char)*cursor;

        if (byte == '\'') {
            append(text, "''");
        } else if (byte == 0xe2 && (unsigned char)cursor[1] == 0x80 &&
                   (unsigned char)cursor[2] >= 0x98 && (unsigned char)cursor[2] <= 0x9b) {
            append(text, "%.3s%.3s", cursor, cursor);
            cursor += 2;
        } else {
            append(text, "%c", *cursor);
        }
    }
    append(text, "'");
}

char *da_remediation_powershell(const struct da_account *account, const struct da_strv *values,
                                bool turn_off_protocol_transition)
{
    struct text text = {0};

    append(&text, "Set-ADObject -Identity ");
    append_powershell_string(&text, account->guid);
    append(&text, " -Remove @{'msDS-AllowedToDelegateTo'=@(");
    for (size_t i = 0; i < values->count; i++) {
        if (i > 0)
            append(&text, ", ");
        append_powershell_string(&text, values->items[i]);
    }
    append(&text, ")}\n");
    if (turn_off_protocol_transition) {
        append(&text, "Set-ADAccountControl -Identity ");
        append_powershell_string(&text, account->guid);
        append(&text, " -TrustedToAuthForDelegation $false\n");
    }
    return finish(&text);
}

/* Writes value as a KQL quoted string. */
static void append_kql_string(struct text *text, const char *value)
{
    append(text, "\"");
    for (const char *cursor = value; *cursor != '\0'; cursor++) {
        if (*cursor == '"' || *cursor == '\\')
            append(text, "\\%c", *cursor);
        else
            append(text, "%c", *cursor);
    }
    append(text, "\"");
}

char *da_remediation_kql_session(const struct da_event *change)
{
    struct text text = {0};
    char lower[32];
    char upper[32];

    if (change == NULL || !change->has_subject_logon_id)
        return NULL;

    /* Windows writes logon ids in hex with either letter case, and KQL
     * compares keyword fields exactly. */
    snprintf(lower, sizeof(lower), "0x%" PRIx64, change->subject_logon_id);
    snprintf(upper, sizeof(upper), "0x%" PRIX64, change->subject_logon_id);
    if (change->computer != NULL) {
        append(&text, "winlog.computer_name:");
        append_kql_string(&text, change->computer);
        append(&text, " and ");
    }
    append(&text, "(winlog.event_data.SubjectLogonId:(\"%s\" or \"%s\") or "
                  "winlog.event_data.TargetLogonId:(\"%s\" or \"%s\"))",
           lower, upper, lower, upper);
    return finish(&text);
}

char *da_remediation_kql_account(const char *sid, const char *guid)
{
    struct text text = {0};

    if (sid == NULL && guid == NULL)
        return NULL;
    append(&text, "winlog.event_id:(4738 or 4742 or 5136) and (");
    if (sid != NULL) {
        append(&text, "winlog.event_data.TargetSid:");
        append_kql_string(&text, sid);
    }
    if (guid != NULL) {
        char braced[80];
        char upper[80];
        size_t i;

        /* 5136 writes the GUID in braces; exports differ in letter case. */
        snprintf(braced, sizeof(braced), "{%s}", guid);
        for (i = 0; braced[i] != '\0'; i++)
            upper[i] = (char)toupper((unsigned char)braced[i]);
        upper[i] = '\0';
        if (sid != NULL)
            append(&text, " or ");
        append(&text, "winlog.event_data.ObjectGUID:(");
        append_kql_string(&text, braced);
        append(&text, " or ");
        append_kql_string(&text, upper);
        append(&text, ")");
    }
    append(&text, ")");
    return finish(&text);
}
