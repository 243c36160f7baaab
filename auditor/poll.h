/* One poll of a domain controller: RootDSE, krbtgt accounts and every
 * account with a delegation setting, read into a snapshot. */
#ifndef DELEGAUDIT_POLL_H
#define DELEGAUDIT_POLL_H

#include <stdbool.h>

#include "auditor/diff.h"
#include "auditor/error.h"
#include "auditor/model.h"
#include "ldap/connection.h"

struct da_poll_options {
    struct da_conn_options connection;
    const char *base;          /* NULL: the defaultNamingContext */
    int page_size;             /* paged-results page size, 1 .. 100000 */
    unsigned long range_size;  /* 0: let the server choose value ranges */
    bool progress;             /* progress line on stderr */
};

/* Connects, binds and reads everything into a new snapshot. On success
 * *conn stays open for follow-up look-ups and the caller closes it. On
 * failure nothing is returned: a poll that did not read every page yields
 * no snapshot at all. */
int da_poll_run(const struct da_poll_options *options, struct da_conn **conn,
                struct da_snapshot **snapshot, struct da_poll_stats *stats,
                struct da_error *err);

/* Looks up each account that lost all delegation by its objectGUID and
 * records whether it still exists. A failed look-up leaves the presence
 * unknown and prints a warning; it never fails the poll. */
void da_poll_resolve_presence(struct da_conn *conn, struct da_diff *diff);

#endif
