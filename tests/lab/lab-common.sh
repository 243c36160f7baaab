# shellcheck shell=bash disable=SC2034
# Shared settings and helpers for the lab scripts. Source it, do not run it.
# SC2034 is off because the scripts that source this file use the settings.
#
# The lab is one throwaway Samba AD domain controller that listens only on a
# loopback address. Only LAB_DIR may be changed from the environment. The
# realm, host name and address are fixed, because /etc/hosts maps the DC's
# name to one address, so only one lab DC runs on a machine at a time.

LAB_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO_DIR=$(cd "$LAB_SCRIPT_DIR/../.." && pwd)

LAB_REALM=CONTOSO.TEST
LAB_DOMAIN=CONTOSO
LAB_DNS_DOMAIN=contoso.test
LAB_DC_NAME=dc1
LAB_DC_HOST=dc1.contoso.test
# Any 127.0.0.0/8 address other than 127.0.0.1 keeps the DC's ports (53, 88,
# 389, 636 and more) apart from services bound to 127.0.0.1.
LAB_DC_IP=127.0.0.11
LAB_BASE_DN=DC=contoso,DC=test
LAB_ADMIN_DN=CN=Administrator,CN=Users,DC=contoso,DC=test
LAB_ADMIN_PRINCIPAL=Administrator@CONTOSO.TEST
LAB_OU_DN=OU=delegaudit-lab,DC=contoso,DC=test
LAB_MARKER_NAME=.delegaudit-lab

LAB_DEFAULT_DIR=$LAB_REPO_DIR/tests/lab/run/dc1
LAB_PROGRAM=$(basename "$0")

lab_log() {
    printf '%s: %s\n' "$LAB_PROGRAM" "$*" >&2
}

lab_die() {
    printf '%s: error: %s\n' "$LAB_PROGRAM" "$*" >&2
    exit 1
}

# Sets LAB_DIR from the first argument, else from the environment, else the
# default, and makes it absolute.
lab_resolve_dir() {
    local requested=${1:-${LAB_DIR:-$LAB_DEFAULT_DIR}}
    [[ -n $requested ]] || lab_die "LAB_DIR is empty; pass a directory or leave LAB_DIR unset for $LAB_DEFAULT_DIR"
    LAB_DIR=$(realpath -m -- "$requested")
    [[ $LAB_DIR != / ]] || lab_die "LAB_DIR must not be /"
    # lab.env quotes its values with single quotes. White space is rejected
    # too, because no lab script was tried with it in Samba's path options.
    [[ $LAB_DIR != *[\'[:space:]]* ]] ||
        lab_die "LAB_DIR '$LAB_DIR' contains a quote or white space; choose a plain path"
}

# Sets the paths inside LAB_DIR. Call after lab_resolve_dir.
lab_set_paths() {
    LAB_PID_FILE=$LAB_DIR/run/samba.pid
    LAB_PASSWORD_FILE=$LAB_DIR/admin-password
    LAB_CA_FILE=$LAB_DIR/private/tls/ca.pem
    LAB_ENV_FILE=$LAB_DIR/lab.env
    LAB_SEEDED_FILE=$LAB_DIR/seeded.env
    LAB_SAMBA_LOG=$LAB_DIR/log.samba
    LAB_SMB_CONF=$LAB_DIR/etc/smb.conf
    LAB_RESOLV_CONF=$LAB_DIR/resolv.conf
}

lab_require_root() {
    [[ $EUID -eq 0 ]] || lab_die "must run as root (Samba AD, 'ip addr add' and /etc/hosts need it); run it with sudo"
}

lab_require_commands() {
    local command_name
    for command_name in "$@"; do
        command -v "$command_name" >/dev/null 2>&1 ||
            lab_die "command '$command_name' not found; install samba-ad-dc, samba, krb5-user and ldap-utils"
    done
}

# Prints the pid of the DC that LAB_DIR's pid file names, if that process is
# alive and is a samba binary. Returns 1 otherwise. The executable check keeps
# a reused pid from passing for the DC.
lab_running_pid() {
    local pid executable
    [[ -r $LAB_PID_FILE ]] || return 1
    pid=$(tr -dc '0-9' <"$LAB_PID_FILE")
    [[ -n $pid ]] || return 1
    executable=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [[ $(basename "$executable") == samba ]] || return 1
    printf '%s\n' "$pid"
}

# Returns 0 when some process listens on LAB_DC_IP (or on all addresses) at
# the TCP port given.
# The listing is read whole before matching: under pipefail, a grep -q that
# stops at the first match can kill the writer with SIGPIPE and turn a match
# into a failure.
lab_port_listening() {
    local port=$1 listening
    listening=$(ss -Hltn "sport = :$port" 2>/dev/null | awk '{ print $4 }') || return 1
    grep -Eq "^($LAB_DC_IP|0\.0\.0\.0|\*|\[::\]):$port\$" <<<"$listening"
}

# Wipes a stopped lab in LAB_DIR and marks the directory as a lab. Only a
# directory that carries the lab marker file, or an empty one, is reused,
# so a mistyped path is never wiped. label names the directory in errors,
# such as LAB_DIR or DC2_DIR.
lab_prepare_dir() {
    local label=$1
    if [[ -e $LAB_DIR ]]; then
        [[ -d $LAB_DIR ]] || lab_die "$label $LAB_DIR exists and is not a directory; choose another path"
        if [[ -e $LAB_DIR/$LAB_MARKER_NAME ]]; then
            lab_log "wiping the stopped lab in $LAB_DIR"
            rm -rf -- "$LAB_DIR"
        elif [[ -n $(ls -A -- "$LAB_DIR") ]]; then
            lab_die "$label $LAB_DIR is not empty and contains no lab (no $LAB_MARKER_NAME file); choose another path or empty it yourself"
        fi
    fi
    mkdir -p -- "$LAB_DIR/run"
    chmod 0700 "$LAB_DIR"
    printf 'This directory holds a delegaudit lab DC; %s may wipe it.\n' "$LAB_PROGRAM" \
        >"$LAB_DIR/$LAB_MARKER_NAME"
}

# Puts LAB_DC_IP on lo unless it is there. Samba binds only to addresses
# configured on an interface; without this it logs "no network interfaces
# found" and serves nothing.
lab_ensure_loopback_address() {
    local addresses
    addresses=$(ip -4 -o addr show dev lo) ||
        lab_die "'ip -4 addr show dev lo' failed; the lab needs iproute2 and the loopback interface"
    [[ $addresses == *" $LAB_DC_IP/"* ]] && return 0
    ip addr add "$LAB_DC_IP/32" dev lo ||
        lab_die "'ip addr add $LAB_DC_IP/32 dev lo' failed; the lab DC needs that address on lo"
}

# Waits until the DC listens on PORT, for at most TIMEOUT seconds. Fails early
# when the process PID exits. Names the Samba log on failure.
lab_wait_port() {
    local port=$1 timeout=$2 pid=$3
    local deadline=$((SECONDS + timeout))
    until lab_port_listening "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            lab_die "samba (pid $pid) exited before listening on $LAB_DC_IP:$port; read $LAB_SAMBA_LOG"
        fi
        if ((SECONDS >= deadline)); then
            lab_die "samba (pid $pid) did not listen on $LAB_DC_IP:$port within ${timeout}s; read $LAB_SAMBA_LOG, then stop it with tests/lab/stop.sh $LAB_DIR"
        fi
        sleep 0.2
    done
}

# Loads LAB_DIR/lab.env written by provision.sh, failing with a hint when the
# lab was never provisioned.
lab_load_env() {
    [[ -r $LAB_ENV_FILE ]] ||
        lab_die "$LAB_ENV_FILE not found; provision the lab first with tests/lab/provision.sh $LAB_DIR"
    # shellcheck source=/dev/null
    source "$LAB_ENV_FILE"
}

lab_require_running() {
    lab_running_pid >/dev/null ||
        lab_die "no DC is running from $LAB_DIR; start one with tests/lab/provision.sh $LAB_DIR"
}

# Prints a random password of 28 characters without a newline: 24 random
# letters and digits, then "-aZ9" so that it always meets the AD complexity
# rule (three of upper case, lower case, digit, symbol) whatever was drawn.
lab_random_password() {
    local random_text
    random_text=$(head -c 48 /dev/urandom | base64 -w 0)
    random_text=${random_text//[^A-Za-z0-9]/}
    ((${#random_text} >= 24)) || lab_die "too few random characters from /dev/urandom; run the script again"
    printf '%s' "${random_text:0:24}-aZ9"
}

# Prints the elapsed seconds since START, a value of EPOCHREALTIME.
lab_elapsed() {
    local start=$1
    awk -v start="$start" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'
}

# Runs an OpenLDAP client tool (ldapsearch, ldapadd, ldapmodify, ldapdelete)
# against the DC over LDAPS with a simple bind as Administrator. Needs lab.env.
lab_ldap() {
    local tool=$1
    shift
    LDAPTLS_CACERT=$LAB_CA_FILE "$tool" -H "$LAB_URI_LDAPS" -x \
        -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" "$@"
}

# Gets a Kerberos TGT for Administrator into KRB5CCNAME, reading the password
# from LAB_PASSWORD_FILE on standard input. Needs lab.env.
lab_kinit() {
    local output
    if ! output=$(kinit "$LAB_ADMIN_PRINCIPAL" <"$LAB_PASSWORD_FILE" 2>&1); then
        printf '%s\n' "$output" >&2
        lab_die "kinit $LAB_ADMIN_PRINCIPAL failed with KRB5_CONFIG=$KRB5_CONFIG; read $LAB_SAMBA_LOG for KDC errors"
    fi
}

# Seconds to wait for a started DC to listen on its LDAPS and Kerberos ports.
LAB_START_TIMEOUT_SECONDS=60

# resolv_wrapper (Debian package libresolv-wrapper) replaces the resolver
# functions of the process it is preloaded into and sends their queries to
# the name servers of RESOLV_WRAPPER_CONF.
LAB_RESOLV_WRAPPER_LIB=/usr/lib/x86_64-linux-gnu/libresolv_wrapper.so

# Writes LAB_DIR/resolv-wrapper.conf with the name servers of the lab's
# resolv.conf, and nothing else.
lab_write_resolv_wrapper_conf() {
    LAB_RESOLV_WRAPPER_CONF=$LAB_DIR/resolv-wrapper.conf
    awk '$1 == "nameserver" { print "nameserver", $2 }' "$LAB_RESOLV_CONF" \
        >"$LAB_RESOLV_WRAPPER_CONF"
    [[ -s $LAB_RESOLV_WRAPPER_CONF ]] ||
        lab_die "$LAB_RESOLV_CONF names no name server; provision the lab again"
}

# Runs a command in a private mount namespace in which the lab's resolv.conf
# replaces /etc/resolv.conf and, when resolv_wrapper is installed, with that
# library preloaded. Both send the command's name look-ups to the lab's DNS.
# The bind mount covers code that reads /etc/resolv.conf itself. The
# wrapper covers Samba's DRS client, which on a second DC failed with
# WERR_NO_LOGON_SERVERS without it.
lab_run_confined() {
    local preload=()
    lab_write_resolv_wrapper_conf
    if [[ -r $LAB_RESOLV_WRAPPER_LIB ]]; then
        preload=(env "LD_PRELOAD=$LAB_RESOLV_WRAPPER_LIB" "RESOLV_WRAPPER_CONF=$LAB_RESOLV_WRAPPER_CONF")
    fi
    # The inner script runs in the new namespace; its arguments follow the
    # script name "lab-confined".
    # shellcheck disable=SC2016
    unshare --mount --propagation private -- sh -c \
        'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
        lab-confined "$LAB_RESOLV_CONF" "${preload[@]}" "$@"
}

# Starts samba for LAB_DIR with lab_run_confined, so that Samba's own name
# look-ups stay on the machine. Waits for ports 636 and 88 on LAB_DC_IP.
lab_start_samba() {
    local pid deadline=$((SECONDS + 10))
    lab_run_confined samba -s "$LAB_SMB_CONF" -D ||
        lab_die "starting samba -s $LAB_SMB_CONF -D in a mount namespace with unshare failed; read $LAB_SAMBA_LOG"

    # The daemon writes its pid file shortly after the launcher returns.
    until pid=$(lab_running_pid); do
        ((SECONDS < deadline)) ||
            lab_die "samba wrote no pid file to $LAB_PID_FILE within 10s or exited; read $LAB_SAMBA_LOG"
        sleep 0.1
    done
    lab_wait_port 636 "$LAB_START_TIMEOUT_SECONDS" "$pid"
    lab_wait_port 88 "$LAB_START_TIMEOUT_SECONDS" "$pid"
}

# Writes a krb5.conf that sends every request for the realm to the lab DC,
# so no DNS lookup leaves the machine. rdns = false keeps the host name of
# the LDAP URI as the service name, as the TLS check does.
lab_write_krb5_conf() {
    cat >"$LAB_DIR/krb5.conf" <<EOF
[libdefaults]
    default_realm = $LAB_REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false

[realms]
    $LAB_REALM = {
        kdc = $LAB_DC_IP
        admin_server = $LAB_DC_IP
        kpasswd_server = $LAB_DC_IP
    }

[domain_realm]
    .$LAB_DNS_DOMAIN = $LAB_REALM
    $LAB_DNS_DOMAIN = $LAB_REALM
EOF
}

# Writes one line of a lab.env file: export NAME='VALUE'.
lab_write_env_line() {
    printf "export %s='%s'\n" "$1" "$2"
}
