/* Ranged retrieval of multi-valued attributes.
 *
 * AD returns at most MaxValRange values of an attribute per read, an LDAP
 * policy of the DC. With a limit of 1500 the first piece comes back as
 * "attr;range=0-1499", and the client then requests "attr;range=1500-*"
 * and so on until a description ends in "-*". Samba 4.17 returns every
 * value at once but honours ranges that the client requests. This file
 * contains the parsing and the loop, with the fetch behind a callback so
 * that the AD behaviour can be tested on recorded data. */
#ifndef DELEGAUDIT_LDAP_RANGE_H
#define DELEGAUDIT_LDAP_RANGE_H

#include <stdbool.h>

#include "auditor/error.h"
#include "auditor/model.h"

struct da_range {
    unsigned long low;
    unsigned long high; /* meaningless when last */
    bool last;          /* the description ended in "-*" */
};

/* Classifies an attribute description returned by the server against the
 * attribute we asked for (names compare ignoring case):
 *   1  desc is "attr;range=LOW-HIGH" or "attr;range=LOW-*"; *range is set
 *   0  desc is "attr" without options
 *  -1  desc names another attribute
 *  -2  desc is attr with a malformed range option (HIGH below LOW, missing
 *      numbers, trailing text, overflow) */
int da_range_parse(const char *desc, const char *attr, struct da_range *range);

/* Requests "attr;range=LOW-*" of the same entry. Sets *returned_desc (heap,
 * freed by the caller) to the description the server used, or NULL when the
 * attribute is absent from the response, and appends the values to *values. */
typedef int (*da_range_fetch_fn)(void *context, const char *attr, unsigned long low,
                                 char **returned_desc, struct da_strv *values,
                                 struct da_error *err);

/* Maximum number of values accepted for one attribute, a guard against a
 * server that keeps returning ranges. It is an estimate, set far above what
 * msDS-AllowedToDelegateTo or servicePrincipalName hold on real accounts. */
#define DA_RANGE_MAX_VALUES 10000000ul

/* Completes *values, which contains the values returned under first_desc, by
 * fetching the following ranges until one ends in "-*". A range that does
 * not start where the previous one ended, a non-final range without
 * values, or a description that is no range of attr is DA_ERR_DIRECTORY:
 * the loop never repeats a request. */
int da_range_collect(const char *attr, const char *first_desc, struct da_strv *values,
                     da_range_fetch_fn fetch, void *context, struct da_error *err);

#endif
