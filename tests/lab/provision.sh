#!/usr/bin/env bash
# Provisions and starts a fresh throwaway Samba AD DC for CONTOSO.TEST on
# 127.0.0.11, with all its files in LAB_DIR, then writes LAB_DIR/lab.env and
# gets a Kerberos TGT for Administrator.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"

# Seconds to wait for Samba to listen on LDAPS and Kerberos. A start on a
# two-core VM took about 2 s, most of it generating the TLS certificate.

usage() {
    cat <<EOF
usage: $LAB_PROGRAM [LAB_DIR]

Provisions a fresh Samba AD DC (realm $LAB_REALM, host $LAB_DC_HOST,
address $LAB_DC_IP) in LAB_DIR and starts it. LAB_DIR defaults to \$LAB_DIR,
else $LAB_DEFAULT_DIR.
Rejects a LAB_DIR whose DC is running; wipes a stopped lab in LAB_DIR first.
Needs root: it adds $LAB_DC_IP to lo and a line for $LAB_DC_HOST to /etc/hosts.
EOF
}

parse_args() {
    case ${1:-} in
        -h | --help)
            usage
            exit 0
            ;;
        -*) lab_die "unknown option '$1'; run $LAB_PROGRAM --help" ;;
    esac
    (($# <= 1)) || lab_die "expected at most one argument, LAB_DIR, got $#; run $LAB_PROGRAM --help"
    lab_resolve_dir "${1:-}"
    lab_set_paths
}

check_not_running() {
    local pid
    if pid=$(lab_running_pid); then
        lab_die "a DC is already running from $LAB_DIR (pid $pid); use it, or stop it first with tests/lab/stop.sh $LAB_DIR"
    fi
}

# Rejects the start when another process, such as a lab DC started from
# another LAB_DIR, listens on one of the DC's main ports on LAB_DC_IP.
check_ports_free() {
    local port owner
    for port in 636 389 88 53; do
        if lab_port_listening "$port"; then
            owner=$(ss -Hltnp "sport = :$port" | sed -n '1s/.*\(users:.*\)/\1/p')
            lab_die "TCP port $port on $LAB_DC_IP is in use (${owner:-owner unknown}); if it is a lab DC from another LAB_DIR, stop it with tests/lab/stop.sh THAT_LAB_DIR"
        fi
    done
}

# Maps the DC's names and the domain name to LAB_DC_IP in /etc/hosts. The
# DC's TLS certificate names the host, so a client connecting to the address
# fails verification. The domain name is there because the DC returns search
# references such as ldaps://contoso.test/CN=Configuration,..., and a client
# that follows one must not send a DNS query off the machine.
# Appends one line for the names that are missing and never edits others.
ensure_hosts_entry() {
    local name mapped missing=()

    for name in "$LAB_DC_HOST" "$LAB_DC_NAME" "$LAB_DNS_DOMAIN"; do
        mapped=$(awk -v name="$name" '$1 !~ /^#/ { for (i = 2; i <= NF; i++) if (tolower($i) == name) print $1 }' /etc/hosts)
        if [[ -z $mapped ]]; then
            missing+=("$name")
        elif [[ $mapped != "$LAB_DC_IP" ]]; then
            lab_die "/etc/hosts maps $name to '$(tr '\n' ' ' <<<"$mapped")', expected only $LAB_DC_IP; fix or remove those lines"
        fi
    done

    if ((${#missing[@]} > 0)); then
        if [[ -s /etc/hosts && $(tail -c 1 /etc/hosts) != "" ]]; then
            printf '\n' >>/etc/hosts
        fi
        printf '%s %s\n' "$LAB_DC_IP" "${missing[*]}" >>/etc/hosts
        lab_log "added '$LAB_DC_IP ${missing[*]}' to /etc/hosts"
    fi

    mapped=$(getent ahostsv4 "$LAB_DC_HOST" | awk 'NR == 1 { print $1 }')
    [[ $mapped == "$LAB_DC_IP" ]] ||
        lab_die "$LAB_DC_HOST resolves to '${mapped:-nothing}', expected $LAB_DC_IP; check that /etc/nsswitch.conf consults files for hosts"
    mapped=$(getent hosts "$LAB_DC_IP" | awk 'NR == 1 { print $2 }')
    [[ ${mapped,,} == "$LAB_DC_HOST" ]] ||
        lab_die "$LAB_DC_IP resolves back to '${mapped:-nothing}', expected $LAB_DC_HOST (GSSAPI clients use that name); put a line '$LAB_DC_IP $LAB_DC_HOST' first in /etc/hosts"
}

# Stores the Administrator password without a trailing newline, because
# 'ldapsearch -y FILE' sends the file's bytes as they are, a newline
# included. kinit reads the same file on standard input and needs no newline.
write_password() {
    (
        umask 077
        lab_random_password >"$LAB_PASSWORD_FILE"
    )
}

# The provision runs with an empty configuration (--configfile=/dev/null) so
# that nothing of /etc/samba/smb.conf leaks into the lab's smb.conf.
#
# "ldap server require strong auth = allow_sasl_over_tls" behaves like
# Windows: simple binds need TLS, and GSSAPI binds need either a SASL sign or
# seal layer on ldap:// or no layer on LDAPS. With Samba 4.17's default
# ("yes") GSSAPI over LDAPS fails both with and without a layer.
#
# "dns forwarder" names the DC itself, so that its DNS server never forwards
# a query off the machine. The other directories point into LAB_DIR so that
# the lab writes nothing under /run/samba or /var/lib/samba.
#
# --backend-store=mdb (LMDB) instead of the default tdb: seed-bulk.sh added
# 2,600 accounts at 219/s and grew them to 10,000 in 64 s in total, against
# 145/s and 94 s with tdb (Samba 4.17, two-core VM). Samba is CPU-bound in
# both cases; AD behaviour does not depend on the store.
#
# NOTE: --adminpass shows the password in the process list during the few
# seconds of the provision. samba-tool has no way to read it from a file.
provision_domain() {
    local log=$LAB_DIR/provision.log
    if ! samba-tool domain provision \
        --configfile=/dev/null \
        --realm="$LAB_REALM" \
        --domain="$LAB_DOMAIN" \
        --server-role=dc \
        --dns-backend=SAMBA_INTERNAL \
        --backend-store=mdb \
        --adminpass="$(cat "$LAB_PASSWORD_FILE")" \
        --host-name="$LAB_DC_NAME" \
        --host-ip="$LAB_DC_IP" \
        --option="netbios name=${LAB_DC_NAME^^}" \
        --option="interfaces=$LAB_DC_IP" \
        --option="bind interfaces only=yes" \
        --option="pid directory=$LAB_DIR/run" \
        --option="log file=$LAB_SAMBA_LOG" \
        --option="dns forwarder=$LAB_DC_IP" \
        --option="ldap server require strong auth=allow_sasl_over_tls" \
        --option="ncalrpc dir=$LAB_DIR/run/ncalrpc" \
        --option="winbindd socket directory=$LAB_DIR/run/winbindd" \
        --option="ntp signd socket directory=$LAB_DIR/run/ntp_signd" \
        --targetdir="$LAB_DIR" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        lab_die "samba-tool domain provision failed; the full output is in $log"
    fi
}

# Samba resolves names through the name servers of /etc/resolv.conf, which
# are usually off the machine. (samba_dnsupdate, which it runs at start and
# every 10 minutes, would query them too, but it skips a DC whose interfaces
# are all loopback addresses.) Samba therefore runs in its own mount
# namespace where LAB_DIR/resolv.conf, naming only the lab DC, is
# bind-mounted over /etc/resolv.conf. The namespace lives as long as the
# samba processes and changes nothing for the rest of the machine.
write_resolv_conf() {
    printf 'search %s\nnameserver %s\noptions timeout:1 attempts:1\n' \
        "$LAB_DNS_DOMAIN" "$LAB_DC_IP" >"$LAB_RESOLV_CONF"
}

# Writes lab.env. Every line is export NAME='VALUE', and no value contains a
# single quote, so a reader other than a shell may strip the quotes.
write_env() {
    {
        printf '# Lab DC settings written by tests/lab/provision.sh. Source this file.\n'
        lab_write_env_line LAB_DIR "$LAB_DIR"
        lab_write_env_line LAB_REALM "$LAB_REALM"
        lab_write_env_line LAB_DOMAIN "$LAB_DOMAIN"
        lab_write_env_line LAB_DC_HOST "$LAB_DC_HOST"
        lab_write_env_line LAB_DC_IP "$LAB_DC_IP"
        lab_write_env_line LAB_BASE_DN "$LAB_BASE_DN"
        lab_write_env_line LAB_URI_LDAPS "ldaps://$LAB_DC_HOST"
        lab_write_env_line LAB_URI_LDAP "ldap://$LAB_DC_HOST"
        lab_write_env_line LAB_CA_FILE "$LAB_CA_FILE"
        lab_write_env_line LAB_ADMIN_DN "$LAB_ADMIN_DN"
        lab_write_env_line LAB_ADMIN_PRINCIPAL "$LAB_ADMIN_PRINCIPAL"
        lab_write_env_line LAB_PASSWORD_FILE "$LAB_PASSWORD_FILE"
        lab_write_env_line LAB_PID_FILE "$LAB_PID_FILE"
        lab_write_env_line LAB_SAMBA_LOG "$LAB_SAMBA_LOG"
        lab_write_env_line KRB5_CONFIG "$LAB_DIR/krb5.conf"
        lab_write_env_line KRB5CCNAME "FILE:$LAB_DIR/krb5cc"
    } >"$LAB_ENV_FILE"
}

# Checks that a simple bind over LDAPS verifies the DC's certificate and the
# password, and that a GSSAPI bind on ldap:// works with the new TGT.
check_binds() {
    lab_ldap ldapsearch -LLL -b "$LAB_BASE_DN" -s base dn >/dev/null ||
        lab_die "simple bind as $LAB_ADMIN_DN over $LAB_URI_LDAPS failed; read $LAB_SAMBA_LOG"
    ldapsearch -H "$LAB_URI_LDAP" -Y GSSAPI -Q -LLL -b "$LAB_BASE_DN" -s base dn >/dev/null ||
        lab_die "GSSAPI bind over $LAB_URI_LDAP failed with KRB5CCNAME=$KRB5CCNAME; read $LAB_SAMBA_LOG"
}

main() {
    local start=$EPOCHREALTIME
    parse_args "$@"
    lab_require_root
    lab_require_commands samba samba-tool ldapsearch kinit ip ss getent unshare mount

    check_not_running
    check_ports_free
    lab_prepare_dir LAB_DIR
    lab_ensure_loopback_address
    ensure_hosts_entry
    write_password
    provision_domain
    write_resolv_conf
    lab_start_samba
    lab_write_krb5_conf
    write_env
    lab_load_env
    lab_kinit
    check_binds

    printf '%s: DC %s (%s, realm %s) running with pid %s from %s, ready in %ss; source %s\n' \
        "$LAB_PROGRAM" "$LAB_DC_HOST" "$LAB_DC_IP" "$LAB_REALM" "$(lab_running_pid)" \
        "$LAB_DIR" "$(lab_elapsed "$start")" "$LAB_ENV_FILE"
}

main "$@"
