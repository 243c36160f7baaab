/* Deciding whether a delegation target names a service whose tickets are
 * encrypted with a krbtgt key.
 *
 * Why these rules: in S4U2proxy the KDC checks the requested service name
 * against the requester's msDS-AllowedToDelegateTo and then issues a ticket
 * encrypted with the key of the account that owns that name. For
 * krbtgt/REALM that key is the krbtgt key, so the "service ticket" is a TGT
 * for the impersonated user. For krbtgt/OTHER.REALM it is the inter-realm
 * trust key, which the other realm accepts as a TGT; that is flagged too.
 *
 * Samba 4's KDC (samba_kdc_check_s4u2proxy in source4/kdc/db-glue.c)
 * unparses the requested principal without its realm and compares it with
 * each value: same length, ASCII letters compared without case. Nothing is
 * trimmed, so a value " krbtgt/x" allows only a principal whose first
 * component is " krbtgt", which is not the ticket-granting service. Values
 * with a leading space therefore do not match here.
 *
 * NOTE: Windows' comparison is not published, so this file errs wide:
 * a value with "@REALM" matches, although Samba compares names without
 * their realm and so never accepts one. Non-ASCII letters are not folded,
 * so a KDC that folds, for example, U+0131 to 'I' could accept a krbtgt SPN
 * spelling that this function misses. */
#include "auditor/match.h"

#include <string.h>

#define KRBTGT_SERVICE "krbtgt"

/* Lower-cases ASCII letters only, so that the result never depends on the
 * locale. */
static char fold_ascii(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c;
}

static bool equal_ignoring_case(const char *left, size_t left_length, const char *right,
                                size_t right_length)
{
    if (left_length != right_length)
        return false;
    for (size_t i = 0; i < left_length; i++) {
        if (fold_ascii(left[i]) != fold_ascii(right[i]))
            return false;
    }
    return true;
}

/* Returns the length of the principal name without its realm: everything
 * before the first '@' that a backslash does not escape, as krb5_parse_name
 * splits it. */
static size_t name_length(const char *text)
{
    size_t i = 0;

    while (text[i] != '\0' && text[i] != '@') {
        if (text[i] == '\\' && text[i + 1] != '\0')
            i++;
        i++;
    }
    return i;
}

static bool has_krbtgt_service_class(const char *target)
{
    size_t length = strcspn(target, "/@");

    return equal_ignoring_case(target, length, KRBTGT_SERVICE, strlen(KRBTGT_SERVICE));
}

/* A service principal name reduced for comparison: the realm is cut off and
 * one trailing dot of the host part is skipped. */
struct spn_view {
    const char *text;
    size_t length;  /* of the name without "@REALM" */
    size_t skipped; /* index of the dot to skip; equals length when none */
};

static struct spn_view spn_view_make(const char *text)
{
    struct spn_view view = {text, name_length(text), 0};
    const char *slash = memchr(text, '/', view.length);
    size_t host_start;
    size_t host_end;

    view.skipped = view.length;
    if (slash == NULL)
        return view;

    /* The host part runs from the first '/' to a ':' (port), a second '/'
     * (service name) or the end. A host of "." alone stays as it is. */
    host_start = (size_t)(slash - text) + 1;
    host_end = host_start;
    while (host_end < view.length && text[host_end] != ':' && text[host_end] != '/')
        host_end++;
    if (host_end - host_start >= 2 && text[host_end - 1] == '.')
        view.skipped = host_end - 1;
    return view;
}

static bool spn_views_equal(const struct spn_view *left, const struct spn_view *right)
{
    size_t i = 0;
    size_t j = 0;

    for (;;) {
        if (i == left->skipped)
            i++;
        if (j == right->skipped)
            j++;
        if (i >= left->length || j >= right->length)
            break;
        if (fold_ascii(left->text[i]) != fold_ascii(right->text[j]))
            return false;
        i++;
        j++;
    }
    return i >= left->length && j >= right->length;
}

static bool names_krbtgt_account(const struct spn_view *target, const struct da_krbtgt *krbtgt)
{
    const struct da_strv *spns = &krbtgt->service_principal_names;

    for (size_t i = 0; i < spns->count; i++) {
        struct spn_view spn;

        if (spns->items[i] == NULL)
            continue;
        spn = spn_view_make(spns->items[i]);
        if (spn.length > 0 && spn_views_equal(target, &spn))
            return true;
    }

    /* A one-component name such as "krbtgt_8245" resolves through
     * sAMAccountName, which reaches an RODC's krbtgt account. */
    if (krbtgt->sam_account_name != NULL &&
        equal_ignoring_case(target->text, target->length, krbtgt->sam_account_name,
                            strlen(krbtgt->sam_account_name)))
        return true;
    return false;
}

bool da_target_is_krbtgt(const char *target, const struct da_krbtgt *krbtgts, size_t count)
{
    struct spn_view view;

    if (target == NULL)
        return false;

    if (has_krbtgt_service_class(target))
        return true;

    view = spn_view_make(target);
    if (view.length == 0 || krbtgts == NULL)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (names_krbtgt_account(&view, &krbtgts[i]))
            return true;
    }
    return false;
}
