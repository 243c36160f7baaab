#!/usr/bin/env bash
# Joins a second DC, dc2.contoso.test on 127.0.0.12, to the lab domain of
# the running DC that provision.sh started from LAB_DIR, starts it with its
# files in DC2_DIR, and writes DC2_DIR/lab.env. A change on DC1 then
# reaches DC2 within seconds. A change on DC2 reaches DC1 only after
# 'samba-tool drs replicate DC1 DC2 <partition>' or DC1's own periodic pull:
# DC2 has no repsTo entry for DC1, so it sends DC1 no change notification.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"

DC2_NAME=dc2
DC2_HOST=dc2.contoso.test
DC2_IP=127.0.0.12
DC2_ROLE=DC
DC2_DEFAULT_DIR=$LAB_REPO_DIR/tests/lab/run/dc2

usage() {
    cat <<EOF
usage: $LAB_PROGRAM [--rodc] [LAB_DIR [DC2_DIR]]

Joins a second DC ($DC2_HOST, address $DC2_IP) to the domain of the lab DC
running from LAB_DIR (default \$LAB_DIR, else $LAB_DEFAULT_DIR) and starts
it from DC2_DIR (default $DC2_DEFAULT_DIR), which it wipes first if it holds
a stopped lab. Writes DC2_DIR/lab.env. Restarts DC1 if it runs without
resolv_wrapper. Stop DC2 with tests/lab/stop.sh DC2_DIR.
Needs root: it adds $DC2_IP to lo and a line for $DC2_HOST to /etc/hosts.

--rodc joins a read-only DC instead: rodc1.contoso.test on 127.0.0.13, in
tests/lab/run/rodc1 by default. It does not cache the administrator's
password, so only GSSAPI binds work on it.
EOF
}

parse_args() {
    if [[ ${1:-} == --rodc ]]; then
        shift
        DC2_NAME=rodc1
        DC2_HOST=rodc1.contoso.test
        DC2_IP=127.0.0.13
        DC2_ROLE=RODC
        DC2_DEFAULT_DIR=$LAB_REPO_DIR/tests/lab/run/rodc1
    fi
    case ${1:-} in
        -h | --help)
            usage
            exit 0
            ;;
        -*) lab_die "unknown option '$1'; run $LAB_PROGRAM --help" ;;
    esac
    (($# <= 2)) || lab_die "expected at most two arguments, LAB_DIR and DC2_DIR, got $#; run $LAB_PROGRAM --help"
    DC1_DIR_ARGUMENT=${1:-}
    DC2_DIR=$(realpath -m -- "${2:-$DC2_DEFAULT_DIR}")
    [[ $DC2_DIR != / && $DC2_DIR != *[\'[:space:]]* ]] ||
        lab_die "DC2_DIR '$DC2_DIR' is / or contains a quote or white space; choose a plain path"
}

# Makes the lab-common.sh settings and paths describe DC1.
use_dc1() {
    lab_resolve_dir "$DC1_DIR_ARGUMENT"
    lab_set_paths
    lab_load_env
}

# Makes the lab-common.sh settings and paths describe DC2. The Kerberos
# variables point into DC2_DIR once lab_write_krb5_conf has written them.
use_dc2() {
    LAB_DIR=$DC2_DIR
    lab_set_paths
    LAB_DC_NAME=$DC2_NAME
    LAB_DC_HOST=$DC2_HOST
    LAB_DC_IP=$DC2_IP
    export KRB5_CONFIG=$LAB_DIR/krb5.conf KRB5CCNAME=FILE:$LAB_DIR/krb5cc
}

# Runs samba-tool confined to the current lab's DNS, as Administrator.
# NOTE: samba-tool reads the password only from its command line, so it
# shows in the process list while the command runs. The script never prints it.
samba_tool_as_admin() {
    lab_run_confined samba-tool "$@" -U Administrator \
        --password="$(cat "$DC1_PASSWORD_FILE")"
}

# DRS between the two DCs needs resolv_wrapper in both samba processes (see
# lab_run_confined). A DC1 started before lab-common.sh preloaded it is
# restarted.
ensure_dc1_wrapped() {
    local pid
    [[ -r $LAB_RESOLV_WRAPPER_LIB ]] ||
        lab_die "$LAB_RESOLV_WRAPPER_LIB not found; install the package libresolv-wrapper"
    pid=$(lab_running_pid) ||
        lab_die "no DC is running from $LAB_DIR; start one with tests/lab/provision.sh $LAB_DIR"
    # The library's mapping is checked, because the samba process does not
    # keep LD_PRELOAD in its environment.
    if grep -qF "$LAB_RESOLV_WRAPPER_LIB" "/proc/$pid/maps"; then
        return 0
    fi
    lab_log "DC1 (pid $pid) runs without resolv_wrapper; restarting it"
    "$LAB_SCRIPT_DIR/stop.sh" "$LAB_DIR"
    "$LAB_SCRIPT_DIR/start.sh" "$LAB_DIR"
}

check_dc2_free() {
    local pid port
    if pid=$(lab_running_pid); then
        lab_die "a DC is already running from $LAB_DIR (pid $pid); stop it first with tests/lab/stop.sh --purge $LAB_DIR"
    fi
    for port in 636 389 88; do
        if lab_port_listening "$port"; then
            lab_die "TCP port $port on $LAB_DC_IP is in use; if it is a lab DC from another directory, stop it with tests/lab/stop.sh THAT_DIR"
        fi
    done
}

# Appends "127.0.0.12 dc2.contoso.test dc2" unless both names are mapped
# already; never edits other lines.
ensure_hosts_entry() {
    local name mapped missing=()
    for name in "$LAB_DC_HOST" "$LAB_DC_NAME"; do
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
    mapped=$(getent hosts "$LAB_DC_IP" | awk 'NR == 1 { print $2 }')
    [[ ${mapped,,} == "$LAB_DC_HOST" ]] ||
        lab_die "$LAB_DC_IP resolves back to '${mapped:-nothing}', expected $LAB_DC_HOST; put a line '$LAB_DC_IP $LAB_DC_HOST' first in /etc/hosts"
}

# Adds a DNS record to the zone on DC1's DNS server. A record that exists,
# for example from an earlier join to the same DC1, is kept.
add_dns_record() {
    local zone=$1 name=$2 type=$3 data=$4 output
    if output=$(samba_tool_as_admin dns add "$DC1_IP" "$zone" "$name" "$type" "$data" 2>&1); then
        return 0
    fi
    if [[ $output == *"Record already exists"* ]]; then
        return 0
    fi
    printf '%s\n' "$output" >&2
    lab_die "samba-tool dns add $DC1_IP $zone $name $type $data failed"
}

# DC2's own resolv.conf names DC1, which runs the domain's only DNS server
# (DC2 joins with --dns-backend=NONE).
write_resolv_conf() {
    printf 'search %s\nnameserver %s\noptions timeout:1 attempts:1\n' \
        "$LAB_DNS_DOMAIN" "$DC1_IP" >"$LAB_RESOLV_CONF"
}

# The options match provision.sh's; see the comments there.
join_domain() {
    local log=$LAB_DIR/join.log
    if ! samba_tool_as_admin domain join "$LAB_DNS_DOMAIN" "$DC2_ROLE" \
        --configfile=/dev/null \
        --server="$DC1_HOST" \
        --dns-backend=NONE \
        --backend-store=mdb \
        --option="netbios name=${LAB_DC_NAME^^}" \
        --option="interfaces=$LAB_DC_IP" \
        --option="bind interfaces only=yes" \
        --option="pid directory=$LAB_DIR/run" \
        --option="log file=$LAB_SAMBA_LOG" \
        --option="dns forwarder=$DC1_IP" \
        --option="ldap server require strong auth=allow_sasl_over_tls" \
        --option="ncalrpc dir=$LAB_DIR/run/ncalrpc" \
        --option="winbindd socket directory=$LAB_DIR/run/winbindd" \
        --option="ntp signd socket directory=$LAB_DIR/run/ntp_signd" \
        --targetdir="$LAB_DIR" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        lab_die "samba-tool domain join failed; the full output is in $log. DC1 may now contain a partial DC2 account, which a later join replaces"
    fi
}

# Prints the objectGUID of DC2's NTDS Settings object, read from DC2's own
# database with Samba's Python bindings. DRS finds a DC by the name
# <that GUID>._msdcs.<DNS domain>.
ntds_settings_guid() {
    local guid samba_python
    # The interpreter of samba-tool has the samba module. A python3 earlier
    # in PATH, such as one of pyenv, may lack it.
    samba_python=$(sed -n '1s/^#! *//p' "$(command -v samba-tool)")
    guid=$("${samba_python:-/usr/bin/python3}" -c '
import sys
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
lp = LoadParm()
lp.load(sys.argv[1])
print(SamDB(url=sys.argv[2], session_info=system_session(), lp=lp).get_ntds_GUID())
' "$LAB_SMB_CONF" "$LAB_DIR/private/sam.ldb")
    [[ $guid =~ ^[0-9a-f-]{36}$ ]] ||
        lab_die "found no NTDS Settings objectGUID in $LAB_DIR/private/sam.ldb"
    printf '%s\n' "$guid"
}

# Same names as provision.sh's lab.env, with DC2's host, address, CA file
# and Kerberos files.
write_env() {
    {
        printf '# Lab DC2 settings written by tests/lab/join-dc2.sh. Source this file.\n'
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
        lab_write_env_line LAB_DC1_DIR "$DC1_DIR"
        lab_write_env_line LAB_CA_BUNDLE "$LAB_DIR/ca-bundle.pem"
    } >"$LAB_ENV_FILE"
}

# An earlier DC2, purged or re-joined, leaves its server and NTDS Settings
# objects in DC1's directory, and DC1 keeps sending change notifications
# to that DC's identity: the new DC2 then gets changes only from its own
# periodic pull, every 5 minutes. Removing the dead DC first, as an
# administrator would, keeps replication prompt. It runs before DC2's DNS
# records are added, because the removal deletes the dead DC's records.
remove_stale_dc2() {
    local found output pid_file=$DC2_DIR/run/samba.pid
    # A running DC2 is no dead one; check_dc2_free rejects it below.
    if [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        return 0
    fi
    found=$(LDAPTLS_CACERT=$DC1_DIR/private/tls/ca.pem ldapsearch -LLL -o ldif-wrap=no \
        -H "ldaps://$DC1_HOST" -x -D "$LAB_ADMIN_DN" -y "$DC1_PASSWORD_FILE" \
        -b "CN=Sites,CN=Configuration,$LAB_BASE_DN" "(&(objectClass=server)(cn=${DC2_NAME^^}))" dn) ||
        lab_die "cannot search DC1's configuration partition for an earlier ${DC2_NAME^^}"
    [[ -n $found ]] || return 0
    lab_log "removing the earlier ${DC2_NAME^^} from DC1's directory"
    if ! output=$(samba_tool_as_admin domain demote --remove-other-dead-server="${DC2_NAME^^}" \
        -H "ldap://$DC1_HOST" 2>&1); then
        printf '%s\n' "$output" >&2
        lab_die "samba-tool domain demote --remove-other-dead-server=${DC2_NAME^^} failed"
    fi
}

# Each Samba DC makes its own self-signed CA at first start: a client that
# reads both DCs, such as delegaudit verify, trusts this bundle of the two.
write_ca_bundle() {
    local dc1_ca=$DC1_DIR/private/tls/ca.pem
    [[ -s $dc1_ca && -s $LAB_CA_FILE ]] ||
        lab_die "missing CA certificate $dc1_ca or $LAB_CA_FILE; is Samba's TLS enabled?"
    cat -- "$dc1_ca" "$LAB_CA_FILE" >"$LAB_DIR/ca-bundle.pem"
}

# Pulls the domain partition from DC1 once, which checks the DRS path from
# DC2 to DC1 end to end.
# Right after a re-join, DC2 can return WERR_FILE_NOT_FOUND for some seconds,
# until it has set up its link to DC1, so the pull is tried for 30 s.
check_replication() {
    local output attempt
    for attempt in $(seq 15); do
        if output=$(samba_tool_as_admin drs replicate "${LAB_DC_NAME^^}" DC1 "$LAB_BASE_DN" 2>&1); then
            return 0
        fi
        [[ $output == *WERR_FILE_NOT_FOUND* ]] || break
        sleep 2
    done
    printf '%s\n' "$output" >&2
    lab_die "samba-tool drs replicate ${LAB_DC_NAME^^} DC1 $LAB_BASE_DN failed; read $LAB_SAMBA_LOG and $DC1_SAMBA_LOG"
}

# DC2 registers its service principal names (ldap/dc2.contoso.test,
# GC/dc2.contoso.test/contoso.test and the rest) on its own copy of its
# account after it starts. DC1's KDC issues tickets only for the names DC1
# holds, and DC1 pulls from DC2 only with such a ticket: without help a
# GSSAPI bind to DC2 fails with "Server not found in Kerberos database" and
# DC1 never pulls. Copies the names to DC1's copy of the account.
publish_dc2_spns() {
    local output attempt dn spn="ldap/$LAB_DC_HOST"
    for attempt in $(seq 60); do
        output=$(lab_ldap ldapsearch -LLL -o ldif-wrap=no -b "$LAB_BASE_DN" \
            "(&(objectClass=computer)(servicePrincipalName=$spn))" servicePrincipalName 2>&1) || true
        [[ $output == dn:* ]] && break
        sleep 0.5
    done
    [[ $output == dn:* ]] || lab_die "DC2 did not register $spn within 30 s; read $LAB_SAMBA_LOG"
    dn=$(sed -n 's/^dn: //p' <<<"$output")
    {
        printf 'dn: %s\nchangetype: modify\nreplace: servicePrincipalName\n' "$dn"
        grep '^servicePrincipalName: ' <<<"$output"
        printf -- '-\n'
    } | LDAPTLS_CACERT=$DC1_DIR/private/tls/ca.pem ldapmodify -H "ldaps://$DC1_HOST" -x \
        -D "$LAB_ADMIN_DN" -y "$DC1_PASSWORD_FILE" >/dev/null ||
        lab_die "copying DC2's service principal names to DC1 failed"
}

main() {
    local start=$EPOCHREALTIME guid
    parse_args "$@"
    lab_require_root
    lab_require_commands samba samba-tool ldapsearch kinit ip ss getent unshare mount

    use_dc1
    ensure_dc1_wrapped
    DC1_DIR=$LAB_DIR DC1_IP=$LAB_DC_IP DC1_HOST=$LAB_DC_HOST
    DC1_PASSWORD_FILE=$LAB_PASSWORD_FILE DC1_SAMBA_LOG=$LAB_SAMBA_LOG
    remove_stale_dc2
    add_dns_record "$LAB_DNS_DOMAIN" "$DC2_NAME" A "$DC2_IP"

    use_dc2
    check_dc2_free
    lab_prepare_dir DC2_DIR
    lab_ensure_loopback_address
    ensure_hosts_entry
    (
        umask 077
        cp -- "$DC1_PASSWORD_FILE" "$LAB_PASSWORD_FILE"
    )
    write_resolv_conf
    lab_log "joining $LAB_DC_HOST to $LAB_REALM through $DC1_HOST"
    join_domain
    guid=$(ntds_settings_guid)
    add_dns_record "_msdcs.$LAB_DNS_DOMAIN" "$guid" CNAME "$LAB_DC_HOST"
    lab_write_krb5_conf
    write_env
    lab_start_samba
    write_ca_bundle
    lab_load_env
    lab_kinit
    if [[ $DC2_ROLE == RODC ]]; then
        # The join wrote the RODC's SPNs on DC1, and no password is cached.
        ldapsearch -LLL -Q -Y GSSAPI -H "ldap://$LAB_DC_HOST" -b "$LAB_BASE_DN" -s base dn >/dev/null ||
            lab_die "GSSAPI bind on ldap://$LAB_DC_HOST failed; read $LAB_SAMBA_LOG"
        check_replication
    else
        lab_ldap ldapsearch -LLL -b "$LAB_BASE_DN" -s base dn >/dev/null ||
            lab_die "simple bind as $LAB_ADMIN_DN over $LAB_URI_LDAPS failed; read $LAB_SAMBA_LOG"
        check_replication
        publish_dc2_spns
    fi

    printf '%s: DC %s (%s) joined to %s, running with pid %s from %s, ready in %ss; source %s\n' \
        "$LAB_PROGRAM" "$LAB_DC_HOST" "$LAB_DC_IP" "$LAB_REALM" "$(lab_running_pid)" \
        "$LAB_DIR" "$(lab_elapsed "$start")" "$LAB_ENV_FILE"
}

main "$@"
