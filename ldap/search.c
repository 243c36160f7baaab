#include "ldap/search.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "auditor/log.h"
#include "ldap/range.h"

struct da_entry {
    struct da_conn *conn;
    LDAP *ld;
    LDAPMessage *message;
    const struct da_search *search;
};

static int scope_to_ldap(enum da_scope scope)
{
    return scope == DA_SCOPE_BASE ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE;
}

char *da_search_attribute_request(const char *attr, unsigned long range_size)
{
    char *request = NULL;
    int length;

    if (range_size == 0)
        return strdup(attr);

    length = snprintf(NULL, 0, "%s;range=0-%lu", attr, range_size - 1);
    request = malloc((size_t)length + 1);
    if (request != NULL)
        snprintf(request, (size_t)length + 1, "%s;range=0-%lu", attr, range_size - 1);
    return request;
}

char *da_filter_escape(const char *value, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    char *escaped = malloc(length * 3 + 1);
    size_t used = 0;

    if (escaped == NULL)
        return NULL;

    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)value[i];

        /* RFC 4515 requires the first five; control bytes and non-ASCII
         * bytes are escaped too, so that logged filters stay printable. */
        if (byte == '*' || byte == '(' || byte == ')' || byte == '\\' || byte == '\0' ||
            byte < 0x20 || byte >= 0x7f) {
            escaped[used++] = '\\';
            escaped[used++] = hex[byte >> 4];
            escaped[used++] = hex[byte & 0x0f];
        } else {
            escaped[used++] = (char)byte;
        }
    }
    escaped[used] = '\0';
    return escaped;
}

/* True for the constructed attributes whose values are XML fragments that
 * Windows DCs end with a NUL byte. */
static bool ends_with_nul_by_design(const char *attr)
{
    return strcasecmp(attr, "msDS-ReplAttributeMetaData") == 0 ||
           strcasecmp(attr, "msDS-ReplValueMetaData") == 0;
}

/* Converts berval values to strings and appends them. */
static int append_string_values(struct berval **berval_values, const char *attr,
                                struct da_strv *values, struct da_error *err)
{
    for (size_t i = 0; berval_values != NULL && berval_values[i] != NULL; i++) {
        const struct berval *value = berval_values[i];
        size_t length = value->bv_len;
        char *copy;

        if (length > 0 && value->bv_val[length - 1] == '\0' && ends_with_nul_by_design(attr))
            length--;
        if (memchr(value->bv_val, '\0', length) != NULL)
            return da_error_set(err, DA_ERR_DIRECTORY,
                                "a value of %s contains a NUL byte, which no string attribute "
                                "may contain", attr);
        copy = malloc(length + 1);
        if (copy == NULL)
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
        memcpy(copy, value->bv_val, length);
        copy[length] = '\0';
        if (da_strv_append_owned(values, copy) != 0) {
            free(copy);
            return da_error_set(err, DA_ERR_LOCAL, "out of memory");
        }
    }
    return 0;
}

/* Reads the next range of attr from the entry with a base search. */
static int fetch_range(void *context, const char *attr, unsigned long low, char **returned_desc,
                       struct da_strv *values, struct da_error *err)
{
    struct da_entry *entry = context;
    char request[256];
    char *attributes[2] = {request, NULL};
    char *dn = NULL;
    LDAPMessage *result = NULL;
    LDAPMessage *message;
    BerElement *ber = NULL;
    char *desc = NULL;
    struct timeval timeout = {.tv_sec = da_conn_operation_timeout(entry->conn)};
    unsigned long size = entry->search->range_size;
    int rc;

    if (size > 0)
        snprintf(request, sizeof(request), "%s;range=%lu-%lu", attr, low, low + size - 1);
    else
        snprintf(request, sizeof(request), "%s;range=%lu-*", attr, low);
    *returned_desc = NULL;

    dn = ldap_get_dn(entry->ld, entry->message);
    if (dn == NULL) {
        rc = da_conn_report(entry->conn, LDAP_DECODING_ERROR, err, "reading the DN of an entry");
        goto out;
    }

    if (da_conn_verbose(entry->conn))
        da_log("ranged retrieval of %s on \"%s\"", request, dn);

    rc = ldap_search_ext_s(entry->ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attributes, 0, NULL,
                           NULL, &timeout, LDAP_NO_LIMIT, &result);
    if (rc != LDAP_SUCCESS) {
        rc = da_conn_report(entry->conn, rc, err, "ranged retrieval of %s on \"%s\"", request, dn);
        goto out;
    }

    message = ldap_first_entry(entry->ld, result);
    if (message == NULL) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "ranged retrieval of %s on \"%s\" returned no entry; the account may "
                          "have been deleted during the poll: poll again", request, dn);
        goto out;
    }

    for (desc = ldap_first_attribute(entry->ld, message, &ber); desc != NULL;
         desc = ldap_next_attribute(entry->ld, message, ber)) {
        struct da_range range;

        if (da_range_parse(desc, attr, &range) >= 0) {
            struct berval **berval_values = ldap_get_values_len(entry->ld, message, desc);

            rc = append_string_values(berval_values, attr, values, err);
            ldap_value_free_len(berval_values);
            if (rc != 0)
                goto out;
            *returned_desc = strdup(desc);
            if (*returned_desc == NULL) {
                rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
                goto out;
            }
            break;
        }
        ldap_memfree(desc);
    }
    rc = 0;

out:
    ldap_memfree(desc);
    ber_free(ber, 0);
    ldap_msgfree(result);
    ldap_memfree(dn);
    return rc;
}

int da_entry_strings(struct da_entry *entry, const char *attr, struct da_strv *values,
                     struct da_error *err)
{
    BerElement *ber = NULL;
    char *desc = NULL;
    int rc = 0;

    for (desc = ldap_first_attribute(entry->ld, entry->message, &ber); desc != NULL;
         desc = ldap_next_attribute(entry->ld, entry->message, ber)) {
        struct da_range range;
        int kind = da_range_parse(desc, attr, &range);

        if (kind == -1) {
            ldap_memfree(desc);
            continue;
        }

        struct berval **berval_values = ldap_get_values_len(entry->ld, entry->message, desc);
        rc = append_string_values(berval_values, attr, values, err);
        ldap_value_free_len(berval_values);
        if (rc == 0)
            rc = da_range_collect(attr, desc, values, fetch_range, entry, err);
        break;
    }

    ldap_memfree(desc);
    ber_free(ber, 0);
    return rc;
}

int da_entry_binary(struct da_entry *entry, const char *attr, unsigned char **data,
                    size_t *length, struct da_error *err)
{
    struct berval **values = ldap_get_values_len(entry->ld, entry->message, attr);

    *data = NULL;
    *length = 0;
    if (values == NULL || values[0] == NULL) {
        ldap_value_free_len(values);
        return 0;
    }

    /* One spare byte so that callers may treat short text as a string. */
    *data = malloc(values[0]->bv_len + 1);
    if (*data == NULL) {
        ldap_value_free_len(values);
        return da_error_set(err, DA_ERR_LOCAL, "out of memory");
    }
    memcpy(*data, values[0]->bv_val, values[0]->bv_len);
    (*data)[values[0]->bv_len] = '\0';
    *length = values[0]->bv_len;
    ldap_value_free_len(values);
    return 0;
}

bool da_error_is_no_such_object(const struct da_error *err)
{
    return err->status == DA_ERR_DIRECTORY && err->code == LDAP_NO_SUCH_OBJECT;
}

char *da_entry_dn(struct da_entry *entry)
{
    char *dn = ldap_get_dn(entry->ld, entry->message);
    char *copy;

    if (dn == NULL)
        return NULL;
    copy = strdup(dn);
    ldap_memfree(dn);
    return copy;
}

static void log_reference(struct da_conn *conn, LDAP *ld, LDAPMessage *message)
{
    char **referrals = NULL;

    if (!da_conn_verbose(conn))
        return;
    if (ldap_parse_reference(ld, message, &referrals, NULL, 0) != LDAP_SUCCESS)
        return;
    for (size_t i = 0; referrals != NULL && referrals[i] != NULL; i++)
        da_log("skipped continuation reference %s", referrals[i]);
    ldap_memvfree((void **)referrals);
}

/* Parses the final result of one page: the result code and, when paging,
 * the cookie of the next page (empty on the last page). */
static int parse_page_result(struct da_conn *conn, LDAP *ld, LDAPMessage *message,
                             const struct da_search *search, struct berval *cookie,
                             struct da_error *err)
{
    LDAPControl **controls = NULL;
    LDAPControl *page_control;
    int result_code = LDAP_SUCCESS;
    ber_int_t estimate = 0;
    int rc;

    rc = ldap_parse_result(ld, message, &result_code, NULL, NULL, NULL, &controls, 0);
    if (rc != LDAP_SUCCESS) {
        rc = da_conn_report(conn, rc, err, "reading the result of the search under \"%s\"",
                            search->base);
        goto out;
    }
    if (result_code != LDAP_SUCCESS) {
        rc = da_conn_report(conn, result_code, err, "search under \"%s\" with filter %s",
                            search->base, search->filter);
        goto out;
    }
    if (search->page_size == 0) {
        rc = 0;
        goto out;
    }

    page_control = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, NULL);
    if (page_control == NULL) {
        rc = da_error_set(err, DA_ERR_DIRECTORY,
                          "the search under \"%s\" on %s returned a page without the "
                          "paged-results response control, so the remaining pages cannot be "
                          "requested; the poll is incomplete: check the server and poll again",
                          search->base, da_conn_uri(conn));
        goto out;
    }
    rc = ldap_parse_pageresponse_control(ld, page_control, &estimate, cookie);
    if (rc != LDAP_SUCCESS) {
        rc = da_conn_report(conn, rc, err, "decoding the paged-results response control");
        goto out;
    }
    rc = 0;

out:
    ldap_controls_free(controls);
    return rc;
}

/* Requests one page and streams its entries to the callback. */
static int run_page(struct da_conn *conn, LDAP *ld, const struct da_search *search,
                    struct berval *cookie, struct da_search_stats *stats, struct da_error *err)
{
    LDAPControl *page_control = NULL;
    LDAPControl *controls[2] = {NULL, NULL};
    LDAPMessage *message = NULL;
    struct timeval timeout = {.tv_sec = da_conn_operation_timeout(conn)};
    struct berval next_cookie = {0, NULL};
    int message_id = -1;
    bool done = false;
    int rc;

    if (search->page_size > 0) {
        rc = ldap_create_page_control(ld, search->page_size, cookie, 1, &page_control);
        if (rc != LDAP_SUCCESS) {
            rc = da_conn_report(conn, rc, err, "creating the paged-results control");
            goto out;
        }
        controls[0] = page_control;
    }

    rc = ldap_search_ext(ld, search->base, scope_to_ldap(search->scope), search->filter,
                         (char **)search->attributes, 0, controls, NULL, NULL, LDAP_NO_LIMIT,
                         &message_id);
    if (rc != LDAP_SUCCESS) {
        rc = da_conn_report(conn, rc, err, "sending the search under \"%s\"", search->base);
        goto out;
    }

    while (!done) {
        rc = ldap_result(ld, message_id, LDAP_MSG_ONE, &timeout, &message);
        if (rc == 0) {
            rc = da_conn_report(conn, LDAP_TIMEOUT, err,
                                "waiting %d seconds for the search under \"%s\"",
                                (int)timeout.tv_sec, search->base);
            goto out;
        }
        if (rc < 0) {
            int code = LDAP_OTHER;

            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
            rc = da_conn_report(conn, code, err, "reading the results of the search under \"%s\"",
                                search->base);
            goto out;
        }

        switch (ldap_msgtype(message)) {
        case LDAP_RES_SEARCH_ENTRY: {
            struct da_entry entry = {conn, ld, message, search};

            stats->entries++;
            rc = search->on_entry(&entry, search->context, err);
            if (rc != 0)
                goto out;
            break;
        }
        case LDAP_RES_SEARCH_REFERENCE:
            stats->references++;
            log_reference(conn, ld, message);
            break;
        case LDAP_RES_SEARCH_RESULT:
            rc = parse_page_result(conn, ld, message, search, &next_cookie, err);
            if (rc != 0)
                goto out;
            stats->pages++;
            done = true;
            break;
        default:
            break;
        }
        ldap_msgfree(message);
        message = NULL;
    }

    /* Hand the next cookie to the caller; an empty one ends the search. */
    ber_memfree(cookie->bv_val);
    *cookie = next_cookie;
    next_cookie.bv_val = NULL;
    message_id = -1;
    rc = 0;

out:
    if (message_id >= 0 && !done)
        ldap_abandon_ext(ld, message_id, NULL, NULL);
    ldap_msgfree(message);
    ber_memfree(next_cookie.bv_val);
    if (page_control != NULL)
        ldap_control_free(page_control);
    return rc;
}

int da_search_run(struct da_conn *conn, const struct da_search *search,
                  struct da_search_stats *stats, struct da_error *err)
{
    LDAP *ld = da_conn_ldap(conn);
    struct da_search_stats local_stats = {0};
    unsigned long empty_pages = 0;
    struct berval cookie = {0, NULL};
    int rc;

    if (stats == NULL)
        stats = &local_stats;

    if (da_conn_verbose(conn))
        da_log("searching %s, base \"%s\", scope %s, filter %s, page size %d",
                da_conn_uri(conn), search->base, search->scope == DA_SCOPE_BASE ? "base" : "subtree",
                search->filter, search->page_size);

    do {
        unsigned long entries_before = stats->entries;

        rc = run_page(conn, ld, search, &cookie, stats, err);
        if (rc != 0)
            goto out;
        /* Samba reuses cookies across pages, so a server that repeats
         * itself is recognised by its entries (the caller's duplicate
         * check) or, for pages without entries, by this bound. */
        empty_pages = stats->entries == entries_before ? empty_pages + 1 : 0;
        if (empty_pages > DA_SEARCH_EMPTY_PAGES_MAX) {
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "the search under \"%s\" on %s returned %lu pages in a row "
                              "without entries, so paging makes no progress; stopping. Next "
                              "step: poll again, or poll another domain controller",
                              search->base, da_conn_uri(conn), empty_pages);
            goto out;
        }
        if (da_conn_verbose(conn) >= 2 && search->page_size > 0)
            da_log("page %lu read, %lu entries so far", stats->pages,
                    stats->entries);
        if (search->on_page != NULL)
            search->on_page(stats, search->context);
    } while (search->page_size > 0 && cookie.bv_val != NULL && cookie.bv_len > 0);

    if (da_conn_verbose(conn))
        da_log("search under \"%s\" returned %lu entries in %lu pages, "
                "%lu continuation references skipped",
                search->base, stats->entries, stats->pages, stats->references);
    rc = 0;

out:
    ber_memfree(cookie.bv_val);
    return rc;
}
