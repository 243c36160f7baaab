#include "ldap/connection.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <netdb.h>
#include <poll.h>
#include <sasl/sasl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "auditor/log.h"

struct da_conn {
    LDAP *ld;
    char *uri;
    int connect_timeout;
    int operation_timeout;
    int verbose;
    bool tls;
};

/* SSF of DES-era ciphers: the least that counts as confidentiality for
 * Cyrus SASL. GSSAPI with sealing reports 256 on Samba 4.17 and Windows. */
#define DA_SASL_CONFIDENTIALITY_SSF 56

static const char *hint_for(int rc, const char *diagnostic)
{
    switch (rc) {
    case LDAP_SERVER_DOWN:
        return "check the host name and port in the URI and that the domain controller is running";
    case LDAP_CONNECT_ERROR:
        if (diagnostic != NULL && strstr(diagnostic, "TLS") != NULL)
            return "the TLS handshake or certificate check failed: pass the issuing CA with "
                   "--ca-file, and use the host name the certificate was issued for in the URI";
        return "check the URI, the network path and --connect-timeout";
    case LDAP_TIMEOUT:
        return "the domain controller did not answer in time: check that it is healthy or "
               "raise --timeout";
    case LDAP_INVALID_CREDENTIALS:
        return "check the bind DN and the password; the account may also be locked or expired";
    case LDAP_STRONG_AUTH_REQUIRED:
        return "the server requires signing or encryption: use ldaps://, -Z, or SASL GSSAPI";
    case LDAP_INAPPROPRIATE_AUTH:
        return "this account cannot use this bind method";
    case LDAP_INSUFFICIENT_ACCESS:
        return "the bind account lacks read access: use an account that can read the "
               "delegation attributes of every account";
    case LDAP_NO_SUCH_OBJECT:
        return "check the search base (-b)";
    case LDAP_SIZELIMIT_EXCEEDED:
        return "the server's size limit was reached: check that paging is enabled and "
               "lower --page-size";
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_ADMINLIMIT_EXCEEDED:
        return "the server stopped the search at one of its limits (MaxQueryDuration, "
               "MaxPageSize): lower --page-size";
    case LDAP_LOCAL_ERROR:
    case LDAP_AUTH_UNKNOWN:
        if (diagnostic != NULL && (strstr(diagnostic, "GSSAPI") != NULL ||
                                   strstr(diagnostic, "Kerberos") != NULL ||
                                   strstr(diagnostic, "credentials") != NULL))
            return "run kinit (or set KRB5CCNAME to a valid credential cache), and use the "
                   "domain controller's host name in the URI so that the service principal "
                   "ldap/HOST exists";
        return NULL;
    case LDAP_UNAVAILABLE:
    case LDAP_BUSY:
        return "the domain controller is not serving requests: try again or poll another DC";
    default:
        return NULL;
    }
}

/* Returns true when a TCP connection to the URI's host and port succeeds
 * within timeout seconds. */
static bool port_accepts_connections(const char *uri, int timeout)
{
    LDAPURLDesc *url = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *addresses = NULL;
    char port[16];
    bool reachable = false;

    if (ldap_url_parse(uri, &url) != LDAP_URL_SUCCESS)
        return false;
    snprintf(port, sizeof(port), "%d",
             url->lud_port != 0 ? url->lud_port
                                : (strcasecmp(url->lud_scheme, "ldaps") == 0 ? 636 : 389));
    if (getaddrinfo(url->lud_host, port, &hints, &addresses) != 0)
        goto out;

    for (struct addrinfo *address = addresses; address != NULL && !reachable;
         address = address->ai_next) {
        int fd = socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        address->ai_protocol);
        struct pollfd waiting = {.fd = fd, .events = POLLOUT};
        int error = 0;
        socklen_t length = sizeof(error);

        if (fd < 0)
            continue;
        if (connect(fd, address->ai_addr, address->ai_addrlen) == 0)
            reachable = true;
        else if (poll(&waiting, 1, timeout * 1000) == 1 &&
                 getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0)
            reachable = true;
        close(fd);
    }

out:
    if (addresses != NULL)
        freeaddrinfo(addresses);
    ldap_free_urldesc(url);
    return reachable;
}

int da_conn_report(struct da_conn *conn, int rc, struct da_error *err, const char *fmt, ...)
{
    char operation[512];
    char *diagnostic = NULL;
    char *matched = NULL;
    const char *hint = NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(operation, sizeof(operation), fmt, ap);
    va_end(ap);

    if (conn != NULL && conn->ld != NULL) {
        ldap_get_option(conn->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic);
        ldap_get_option(conn->ld, LDAP_OPT_MATCHED_DN, &matched);
    }
    /* libldap's placeholder for "no detail" only adds noise, and a final
     * period would double the one before "Next step". */
    if (diagnostic != NULL) {
        size_t length = strlen(diagnostic);

        while (length > 0 && (diagnostic[length - 1] == '.' || diagnostic[length - 1] == '\n'))
            diagnostic[--length] = '\0';
    }
    if (diagnostic != NULL &&
        (diagnostic[0] == '\0' || strcmp(diagnostic, "(unknown error code)") == 0)) {
        ldap_memfree(diagnostic);
        diagnostic = NULL;
    }
    if (matched != NULL && matched[0] == '\0') {
        ldap_memfree(matched);
        matched = NULL;
    }
    hint = hint_for(rc, diagnostic);

    /* libldap reports a failed TLS handshake or certificate check as
     * LDAP_SERVER_DOWN without detail, so a probe of the TCP port
     * distinguishes it from a DC that is down. */
    if (conn != NULL && conn->tls && conn->uri != NULL &&
        (rc == LDAP_CONNECT_ERROR ||
         (rc == LDAP_SERVER_DOWN && port_accepts_connections(conn->uri, conn->connect_timeout))))
        hint = "the port accepts connections, so the TLS handshake or the certificate check "
               "failed: pass the CA that issued the DC's certificate with --ca-file, and use "
               "the host name the certificate names (not an IP address) in the URI";

    da_error_set(err, DA_ERR_DIRECTORY, "%s on %s failed: %s (%d)%s%s%s%s%s%s%s", operation,
                 conn != NULL && conn->uri != NULL ? conn->uri : "(no URI)",
                 ldap_err2string(rc), rc,
                 /* Negative codes are libldap's own: their text comes from
                  * this side, often the TLS library, not from the server. */
                 diagnostic == NULL ? "" : rc < 0 ? "; detail: " : "; server message: ",
                 diagnostic != NULL ? diagnostic : "",
                 matched != NULL ? "; matched DN: " : "", matched != NULL ? matched : "",
                 hint != NULL ? ". Next step: " : "", hint != NULL ? hint : "",
                 hint != NULL ? "." : "");

    if (err != NULL)
        err->code = rc;
    ldap_memfree(diagnostic);
    ldap_memfree(matched);
    return DA_ERR_DIRECTORY;
}

/* True for a DNS host name or an IPv4 or IPv6 literal: letters, digits,
 * '-', '_', '.', and ':' inside an IPv6 literal. Anything else is rejected before
 * a resolver is asked about it. */
static bool valid_host(const char *host)
{
    bool ipv6 = strchr(host, ':') != NULL;

    if (host[0] == '\0' || strlen(host) > 253)
        return false;
    for (const char *cursor = host; *cursor != '\0'; cursor++) {
        unsigned char c = (unsigned char)*cursor;

        if (!(isalnum(c) || c == '-' || c == '_' || c == '.' || (ipv6 && (c == ':' || c == '%'))))
            return false;
    }
    return true;
}

/* Accepts exactly one ldap:// or ldaps:// URL with a host. */
static int check_uri(const char *uri, bool *is_ldaps, struct da_error *err)
{
    LDAPURLDesc *url = NULL;
    int rc;

    if (uri == NULL || uri[0] == '\0')
        return da_error_set(err, DA_ERR_USAGE,
                            "no LDAP URI given: pass -H ldaps://DC-HOST-NAME or set uri in the "
                            "configuration file");

    rc = ldap_url_parse(uri, &url);
    if (rc != LDAP_URL_SUCCESS)
        return da_error_set(err, DA_ERR_USAGE,
                            "invalid LDAP URI \"%s\": expected ldaps://HOST[:PORT] or "
                            "ldap://HOST[:PORT]", uri);

    if ((url->lud_dn != NULL && url->lud_dn[0] != '\0') || url->lud_attrs != NULL ||
        url->lud_filter != NULL || url->lud_exts != NULL) {
        ldap_free_urldesc(url);
        return da_error_set(err, DA_ERR_USAGE,
                            "LDAP URI \"%s\" contains a DN, attributes or a filter: give only "
                            "the scheme, host and port, and the search base with -b", uri);
    }
    if (url->lud_next != NULL || strpbrk(uri, " ,") != NULL) {
        ldap_free_urldesc(url);
        return da_error_set(err, DA_ERR_USAGE,
                            "LDAP URI \"%s\" names more than one server: a poll reads one "
                            "domain controller, so give exactly one", uri);
    }
    if (strcasecmp(url->lud_scheme, "ldap") != 0 && strcasecmp(url->lud_scheme, "ldaps") != 0) {
        ldap_free_urldesc(url);
        return da_error_set(err, DA_ERR_USAGE,
                            "unsupported URI scheme in \"%s\": use ldaps:// or ldap://", uri);
    }
    if (url->lud_host == NULL || url->lud_host[0] == '\0') {
        ldap_free_urldesc(url);
        return da_error_set(err, DA_ERR_USAGE,
                            "LDAP URI \"%s\" has no host: name the domain controller, as in "
                            "ldaps://dc1.example.com", uri);
    }

    if (!valid_host(url->lud_host)) {
        ldap_free_urldesc(url);
        return da_error_set(err, DA_ERR_USAGE,
                            "invalid host name in the LDAP URI \"%s\": use the domain "
                            "controller's DNS name, as in ldaps://dc1.example.com", uri);
    }

    *is_ldaps = strcasecmp(url->lud_scheme, "ldaps") == 0;
    ldap_free_urldesc(url);
    return 0;
}

/* Checks that path is a readable file with at least one PEM certificate,
 * because libldap reports a bad CA file only as a failed connection. */
static int check_ca_file(const char *path, struct da_error *err)
{
    char line[256];
    bool found = false;
    FILE *file = fopen(path, "r");

    if (file == NULL)
        return da_error_set(err, DA_ERR_USAGE, "cannot read the CA file \"%s\" (--ca-file): %s",
                            path, strerror(errno));
    while (!found && fgets(line, sizeof(line), file) != NULL)
        found = strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
    if (ferror(file)) {
        int saved = errno;

        fclose(file);
        return da_error_set(err, DA_ERR_USAGE, "cannot read the CA file \"%s\" (--ca-file): %s",
                            path, strerror(saved));
    }
    fclose(file);
    if (!found)
        return da_error_set(err, DA_ERR_USAGE,
                            "the CA file \"%s\" (--ca-file) contains no PEM certificate (no "
                            "\"-----BEGIN CERTIFICATE-----\" line): give the CA certificate in "
                            "PEM form", path);
    return 0;
}

static int set_option(struct da_conn *conn, int option, const void *value, const char *name,
                      struct da_error *err)
{
    int rc = ldap_set_option(conn->ld, option, value);

    if (rc != LDAP_OPT_SUCCESS)
        return da_conn_report(conn, rc, err, "setting the LDAP option %s", name);
    return 0;
}

/* Copies the CA settings of the OpenLDAP client configuration (TLS_CACERT
 * and TLS_CACERTDIR in ldap.conf, or LDAPTLS_CACERT in the environment) to
 * the handle. libldap 2.5 leaves them out of the handle's own TLS context,
 * which would then trust no CA at all. */
static int inherit_default_ca(struct da_conn *conn, struct da_error *err)
{
    static const struct {
        int option;
        const char *name;
    } settings[] = {
        {LDAP_OPT_X_TLS_CACERTFILE, "X_TLS_CACERTFILE"},
        {LDAP_OPT_X_TLS_CACERTDIR, "X_TLS_CACERTDIR"},
    };
    int rc = 0;

    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]) && rc == 0; i++) {
        char *value = NULL;

        if (ldap_get_option(NULL, settings[i].option, &value) == LDAP_OPT_SUCCESS &&
            value != NULL) {
            if (conn->verbose)
                da_log("trusting the CA certificates of %s (from the OpenLDAP client "
                       "configuration)", value);
            rc = set_option(conn, settings[i].option, value, settings[i].name, err);
        }
        ldap_memfree(value);
    }
    return rc;
}

static int set_options(struct da_conn *conn, const struct da_conn_options *options,
                       bool tls, struct da_error *err)
{
    int version = LDAP_VERSION3;
    int require_cert = LDAP_OPT_X_TLS_DEMAND;
    int new_context = 0;
    int ssf_max = 0;
    int ssf_min = DA_SASL_CONFIDENTIALITY_SSF;
    struct timeval connect_timeout = {.tv_sec = options->connect_timeout};
    struct timeval operation_timeout = {.tv_sec = options->operation_timeout};
    int rc;

    /* libldap defaults to LDAPv2. */
    rc = set_option(conn, LDAP_OPT_PROTOCOL_VERSION, &version, "PROTOCOL_VERSION", err);
    if (rc != 0)
        return rc;

    /* libldap would chase referrals with an anonymous bind; we report them. */
    rc = set_option(conn, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "REFERRALS", err);
    if (rc != 0)
        return rc;

    /* Bounds connect() only; each response is bounded by LDAP_OPT_TIMEOUT. */
    rc = set_option(conn, LDAP_OPT_NETWORK_TIMEOUT, &connect_timeout, "NETWORK_TIMEOUT", err);
    if (rc != 0)
        return rc;
    rc = set_option(conn, LDAP_OPT_TIMEOUT, &operation_timeout, "TIMEOUT", err);
    if (rc != 0)
        return rc;

    /* libldap 2.5 bounds the TLS handshake of ldaps:// by NETWORK_TIMEOUT
     * only with asynchronous connects; otherwise it spins on the
     * non-blocking socket forever when a server accepts and stays silent. */
    rc = set_option(conn, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON, "CONNECT_ASYNC", err);
    if (rc != 0)
        return rc;

    /* The service principal must come from the URI host, not reverse DNS. */
    rc = set_option(conn, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON, "X_SASL_NOCANON", err);
    if (rc != 0)
        return rc;

    /* Verify the certificate even when ldap.conf sets TLS_REQCERT never. */
    rc = set_option(conn, LDAP_OPT_X_TLS_REQUIRE_CERT, &require_cert, "X_TLS_REQUIRE_CERT", err);
    if (rc != 0)
        return rc;
    if (options->ca_file == NULL) {
        rc = inherit_default_ca(conn, err);
        if (rc != 0)
            return rc;
    } else {
        rc = check_ca_file(options->ca_file, err);
        if (rc != 0)
            return rc;
        rc = set_option(conn, LDAP_OPT_X_TLS_CACERTFILE, options->ca_file, "X_TLS_CACERTFILE",
                        err);
        if (rc != 0)
            return rc;
    }
    /* Per-handle TLS settings take effect only in a new TLS context. */
    rc = set_option(conn, LDAP_OPT_X_TLS_NEWCTX, &new_context, "X_TLS_NEWCTX", err);
    if (rc != 0) {
        if (options->ca_file != NULL)
            da_error_prefix(err, "loading the CA file \"%s\" (a PEM certificate bundle)",
                            options->ca_file);
        return rc;
    }

    if (options->bind_method == DA_BIND_SASL_GSSAPI) {
        if (tls) {
            /* AD and Samba reject SASL sign or seal inside TLS (result 53). */
            rc = set_option(conn, LDAP_OPT_X_SASL_SSF_MAX, &ssf_max, "X_SASL_SSF_MAX", err);
        } else {
            /* On ldap:// insist on GSSAPI integrity and confidentiality. */
            rc = set_option(conn, LDAP_OPT_X_SASL_SSF_MIN, &ssf_min, "X_SASL_SSF_MIN", err);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* GSSAPI needs no interaction: the identity comes from the credential
 * cache, and an empty authorization id means "as myself". */
static int sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *interactions)
{
    sasl_interact_t *interaction = interactions;

    for (; interaction->id != SASL_CB_LIST_END; interaction++) {
        interaction->result = "";
        interaction->len = 0;
    }
    return LDAP_SUCCESS;
}

static int bind_simple(struct da_conn *conn, const struct da_conn_options *options,
                       struct da_error *err)
{
    struct berval credentials;
    int rc;

    if (options->bind_dn == NULL || options->bind_dn[0] == '\0')
        return da_error_set(err, DA_ERR_USAGE,
                            "simple bind needs a bind DN: pass -D \"CN=...,DC=...\" or the "
                            "user principal name (user@example.com)");
    /* An empty password makes an unauthenticated bind that AD accepts as
     * anonymous, so the poll would read nothing and look clean. */
    if (options->password == NULL || options->password[0] == '\0')
        return da_error_set(err, DA_ERR_USAGE,
                            "the password for %s is empty: an empty password would make an "
                            "anonymous bind; give the password with -y FILE, "
                            "DELEGAUDIT_PASSWORD or -W", options->bind_dn);

    credentials.bv_val = (char *)options->password;
    credentials.bv_len = strlen(options->password);
    rc = ldap_sasl_bind_s(conn->ld, options->bind_dn, LDAP_SASL_SIMPLE, &credentials, NULL, NULL,
                          NULL);
    if (rc != LDAP_SUCCESS)
        return da_conn_report(conn, rc, err, "simple bind as \"%s\"", options->bind_dn);
    return 0;
}

static int bind_gssapi(struct da_conn *conn, struct da_error *err)
{
    int rc = ldap_sasl_interactive_bind_s(conn->ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
                                          sasl_interact, NULL);

    if (rc != LDAP_SUCCESS)
        return da_conn_report(conn, rc, err, "SASL GSSAPI bind");
    return 0;
}

int da_conn_open(const struct da_conn_options *options, struct da_conn **out,
                 struct da_error *err)
{
    struct da_conn *conn = NULL;
    struct timespec connect_start;
    struct timespec connect_end;
    bool is_ldaps = false;
    bool tls;
    int rc;

    rc = check_uri(options->uri, &is_ldaps, err);
    if (rc != 0)
        goto out;

    if (is_ldaps && options->starttls) {
        rc = da_error_set(err, DA_ERR_USAGE,
                          "-Z (StartTLS) applies to ldap:// URIs; %s already uses TLS",
                          options->uri);
        goto out;
    }
    tls = is_ldaps || options->starttls;

    if (options->bind_method == DA_BIND_SIMPLE && !tls) {
        rc = da_error_set(err, DA_ERR_USAGE,
                          "simple bind over %s would send the password in cleartext, so it "
                          "was not attempted: use an ldaps:// URI, add -Z for StartTLS, or "
                          "bind with -Y GSSAPI after kinit", options->uri);
        goto out;
    }

    conn = calloc(1, sizeof(*conn));
    if (conn == NULL || (conn->uri = strdup(options->uri)) == NULL) {
        rc = da_error_set(err, DA_ERR_LOCAL, "out of memory");
        goto out;
    }
    conn->connect_timeout = options->connect_timeout;
    conn->operation_timeout = options->operation_timeout;
    conn->verbose = options->verbose;
    conn->tls = tls;

    rc = ldap_initialize(&conn->ld, options->uri);
    if (rc != LDAP_SUCCESS) {
        rc = da_conn_report(conn, rc, err, "initializing the LDAP handle");
        goto out;
    }

    rc = set_options(conn, options, tls, err);
    if (rc != 0)
        goto out;

    if (conn->verbose)
        da_log("connecting to %s", conn->uri);

    clock_gettime(CLOCK_MONOTONIC, &connect_start);
    rc = ldap_connect(conn->ld);
    if (rc != LDAP_SUCCESS) {
        clock_gettime(CLOCK_MONOTONIC, &connect_end);
        if (connect_end.tv_sec - connect_start.tv_sec >= options->connect_timeout)
            rc = da_error_set(err, DA_ERR_DIRECTORY,
                              "connecting to %s timed out after %d seconds: the server did not "
                              "complete the TCP connection%s in time. Next step: check that the "
                              "domain controller is healthy and reachable, or raise "
                              "--connect-timeout", conn->uri, options->connect_timeout,
                              is_ldaps ? " and the TLS handshake" : "");
        else
            rc = da_conn_report(conn, rc, err, "connecting");
        goto out;
    }

    if (options->starttls) {
        rc = ldap_start_tls_s(conn->ld, NULL, NULL);
        if (rc != LDAP_SUCCESS) {
            rc = da_conn_report(conn, rc, err, "StartTLS");
            goto out;
        }
    }

    if (options->bind_method == DA_BIND_SIMPLE)
        rc = bind_simple(conn, options, err);
    else
        rc = bind_gssapi(conn, err);
    if (rc != 0)
        goto out;

    if (conn->verbose)
        da_log("bound to %s with %s", conn->uri,
                options->bind_method == DA_BIND_SIMPLE ? "simple bind" : "SASL GSSAPI");

    *out = conn;
    conn = NULL;
    rc = 0;

out:
    da_conn_close(conn);
    return rc;
}

void da_conn_global_init(bool sasl)
{
    char **mechanisms = NULL;
    int version = 0;

    /* Reading a global option makes libldap initialise its options; asking
     * for the SASL mechanisms initialises Cyrus SASL too, which loads its
     * plugins. Both may happen without a lock on first use. */
    if (sasl)
        ldap_get_option(NULL, LDAP_OPT_X_SASL_MECHLIST, &mechanisms);
    else
        ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);
}

void da_conn_close(struct da_conn *conn)
{
    if (conn == NULL)
        return;
    if (conn->ld != NULL)
        ldap_unbind_ext_s(conn->ld, NULL, NULL);
    free(conn->uri);
    free(conn);
}

void *da_conn_ldap(struct da_conn *conn)
{
    return conn->ld;
}

const char *da_conn_uri(const struct da_conn *conn)
{
    return conn->uri;
}

int da_conn_operation_timeout(const struct da_conn *conn)
{
    return conn->operation_timeout;
}

int da_conn_verbose(const struct da_conn *conn)
{
    return conn->verbose;
}
