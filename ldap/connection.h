/* An LDAP connection to one domain controller: TLS, binds and timeouts.
 * libldap return codes are translated to da_error categories here and in
 * the other ldap/ files, never above this layer. */
#ifndef DELEGAUDIT_LDAP_CONNECTION_H
#define DELEGAUDIT_LDAP_CONNECTION_H

#include <stdbool.h>

#include "auditor/error.h"

enum da_bind_method {
    DA_BIND_SASL_GSSAPI, /* Kerberos credential cache from KRB5CCNAME */
    DA_BIND_SIMPLE,      /* DN and password; only over TLS */
};

struct da_conn_options {
    const char *uri;           /* ldap://host or ldaps://host, one host */
    const char *ca_file;       /* PEM bundle to trust; NULL: the system's */
    bool starttls;             /* StartTLS on ldap:// before binding */
    int connect_timeout;       /* seconds, for connect() and the TLS handshake */
    int operation_timeout;     /* seconds, for each LDAP response */
    enum da_bind_method bind_method;
    const char *bind_dn;       /* simple bind only */
    const char *password;      /* simple bind only; never logged */
    int verbose;               /* 0 quiet, 1 log operations to stderr */
};

struct da_conn;

/* Creates the handle, sets the options, connects and (with starttls)
 * upgrades the connection, then binds. On failure nothing is left open and
 * err names the URI and the cause. A simple bind on a connection without
 * TLS is rejected before anything is sent. */
int da_conn_open(const struct da_conn_options *options, struct da_conn **out,
                 struct da_error *err);

/* Initialises libldap, and Cyrus SASL when sasl is true. Call it once
 * before connections are opened from several threads. */
void da_conn_global_init(bool sasl);

/* Unbinds, closes the socket and frees the handle. NULL is allowed. */
void da_conn_close(struct da_conn *conn);

/* The libldap handle, for the other ldap/ files. Borrowed. */
void *da_conn_ldap(struct da_conn *conn);
const char *da_conn_uri(const struct da_conn *conn);
int da_conn_operation_timeout(const struct da_conn *conn);
int da_conn_verbose(const struct da_conn *conn);

/* Fills err with what failed: the operation, the URI, ldap_err2string(rc),
 * the server's diagnostic message and the matched DN when there are any.
 * The category is DA_ERR_DIRECTORY. Returns that category. */
int da_conn_report(struct da_conn *conn, int rc, struct da_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
