/* Searches that stream their entries to a callback, with paging and
 * ranged retrieval. */
#ifndef DELEGAUDIT_LDAP_SEARCH_H
#define DELEGAUDIT_LDAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "auditor/error.h"
#include "auditor/model.h"
#include "ldap/connection.h"

enum da_scope {
    DA_SCOPE_BASE,
    DA_SCOPE_SUBTREE,
};

/* One entry of a search result, valid during the callback only. */
struct da_entry;

struct da_search_stats {
    unsigned long entries;
    unsigned long pages;
    unsigned long references; /* continuation references, not followed */
};

/* Called for each entry as it arrives. A non-zero return stops the search
 * (the operation is abandoned) and is returned by da_search_run. */
typedef int (*da_entry_fn)(struct da_entry *entry, void *context, struct da_error *err);

/* Called after each page. */
typedef void (*da_page_fn)(const struct da_search_stats *stats, void *context);

struct da_search {
    const char *base;
    enum da_scope scope;
    const char *filter;
    const char *const *attributes; /* NULL-terminated */
    int page_size;                 /* 0: no paging control */
    /* With a non-zero value, multi-valued string attributes read through
     * da_entry_strings are requested in ranges of this many values, as AD
     * serves them by itself. A Samba DC then exercises the range loop. */
    unsigned long range_size;
    da_entry_fn on_entry;
    da_page_fn on_page; /* optional */
    void *context;
};

/* Consecutive pages without entries after which a paged search is taken
 * to be stuck. An estimate: AD and Samba fill every page but the last. */
#define DA_SEARCH_EMPTY_PAGES_MAX 1000

/* Runs the search to the end. Every failure (lost connection, timeout,
 * size or time limit, a missing paged-results response control, a
 * non-success result) is an error: the caller must treat what it has seen
 * so far as incomplete. stats may be NULL. */
int da_search_run(struct da_conn *conn, const struct da_search *search,
                  struct da_search_stats *stats, struct da_error *err);

/* True when err is a directory error with result noSuchObject (32). */
bool da_error_is_no_such_object(const struct da_error *err);

/* Returns the DN of the entry as a heap string, or NULL when memory runs
 * out. */
char *da_entry_dn(struct da_entry *entry);

/* Appends every value of attr as a string, following ranged retrieval
 * (attr;range=...) with base searches on the entry. An absent attribute
 * appends nothing. A value containing a NUL byte is DA_ERR_DIRECTORY, except
 * the one that ends each msDS-ReplAttributeMetaData value, which is dropped. */
int da_entry_strings(struct da_entry *entry, const char *attr, struct da_strv *values,
                     struct da_error *err);

/* Copies the first value of attr into *data (heap) and *length. Returns 0
 * with *data NULL when the attribute is absent. */
int da_entry_binary(struct da_entry *entry, const char *attr, unsigned char **data,
                    size_t *length, struct da_error *err);

/* Requests attr as "attr;range=0-N" when the search has a range size, so
 * callers put the result of this function in the attribute list. Returns
 * a heap string. */
char *da_search_attribute_request(const char *attr, unsigned long range_size);

/* Escapes a value for use in a search filter (RFC 4515). Heap string. */
char *da_filter_escape(const char *value, size_t length);

#endif
