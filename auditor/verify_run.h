/* delegaudit verify: reads the accounts in question from every domain
 * controller at once and fills a struct da_verify_result, round after
 * round until the DCs converge or the wait is over. */
#ifndef DELEGAUDIT_VERIFY_RUN_H
#define DELEGAUDIT_VERIFY_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "auditor/error.h"
#include "auditor/findings.h"
#include "auditor/model.h"
#include "auditor/verify.h"
#include "ldap/connection.h"

enum da_verify_selection {
    DA_SELECT_FINDINGS, /* the accounts of the findings given */
    DA_SELECT_ACCOUNTS, /* accounts named by sAMAccountName, DN or SID */
    DA_SELECT_ALL,      /* every account with a delegation setting */
};

struct da_verify_options {
    /* Authentication, TLS and timeouts for every DC. uri names the DC that
     * lists the others; NULL: the first of dc_hosts. */
    struct da_conn_options connection;
    bool ldaps;                    /* scheme for the DCs: ldaps://, else ldap:// */
    const char *const *dc_hosts;   /* --dc; none: every DC of the domain */
    size_t dc_host_count;
    const char *base;              /* NULL: the defaultNamingContext */
    enum da_verify_selection selection;
    const struct da_findings *findings;     /* DA_SELECT_FINDINGS */
    /* The previous snapshot's findings, also verified: a poll after the
     * remediation no longer lists them. NULL: none. */
    const struct da_findings *earlier_findings;
    const char *snapshot_path;              /* named in the selection text */
    const char *const *account_names;       /* DA_SELECT_ACCOUNTS */
    size_t account_name_count;
    unsigned long range_size;
    double wait_seconds;     /* 0: one round */
    double interval_seconds; /* between rounds */
    bool progress;           /* a progress line on stderr between rounds */
    /* The reads of each round one DC after the other, for the benchmark. */
    bool sequential;
};

/* Finds the DCs, then reads every DC concurrently, each connection with
 * its own timeouts, until the verdict is "converged" or wait_seconds have
 * passed. A DC that fails is unverified in the result, not an error. An
 * error is returned only when the DCs cannot be listed or no account
 * matches the selection. */
int da_verify_run(const struct da_verify_options *options, struct da_verify_result *result,
                  struct da_error *err);

/* Parses a duration: seconds, or a number with s, m or h ("90", "30s",
 * "10m", "1h"). Returns -1 when text is invalid or over a week. */
int da_verify_parse_duration(const char *text, double *seconds);

#endif
