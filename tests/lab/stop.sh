#!/usr/bin/env bash
# Stops the lab DC of LAB_DIR by the pid in its pid file and, with --purge,
# deletes LAB_DIR. The address on lo and the /etc/hosts line that
# provision.sh added stay, because the next lab reuses them. Both point only
# at loopback.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"

# Seconds to wait for the samba processes to exit after SIGTERM, then after
# SIGKILL. A stop on a two-core VM took about 2 s.
TERM_TIMEOUT_SECONDS=30
KILL_TIMEOUT_SECONDS=5

usage() {
    cat <<EOF
usage: $LAB_PROGRAM [--purge] [LAB_DIR]

Stops the lab DC running from LAB_DIR (default \$LAB_DIR, else
$LAB_DEFAULT_DIR) and waits for it to exit. Keeps the data unless --purge
is given, which then deletes LAB_DIR. Nothing outside LAB_DIR is removed.
EOF
}

parse_args() {
    PURGE=false
    local dir_argument=""
    while (($# > 0)); do
        case $1 in
            -h | --help)
                usage
                exit 0
                ;;
            --purge) PURGE=true ;;
            -*) lab_die "unknown option '$1'; run $LAB_PROGRAM --help" ;;
            *)
                [[ -z $dir_argument ]] || lab_die "expected at most one LAB_DIR, got '$dir_argument' and '$1'"
                dir_argument=$1
                ;;
        esac
        shift
    done
    lab_resolve_dir "$dir_argument"
    lab_set_paths
}

# Prints the pids of the processes in the DC's session. The samba master
# starts a new session at daemonizing, so its pid is the session id, and
# every worker it forks (ldap, kdc, smbd, winbindd and more) stays in it.
session_pids() {
    local session_id=$1
    ps -eo pid=,sid= | awk -v sid="$session_id" '$2 == sid { print $1 }'
}

# Waits until no process of the session is left, for at most TIMEOUT seconds.
wait_for_session_exit() {
    local session_id=$1 timeout=$2
    local deadline=$((SECONDS + timeout))
    while [[ -n $(session_pids "$session_id") ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

stop_dc() {
    local pid=$1 remaining
    lab_log "stopping the DC (pid $pid)"
    kill -TERM "$pid"
    if wait_for_session_exit "$pid" "$TERM_TIMEOUT_SECONDS"; then
        return 0
    fi

    remaining=$(session_pids "$pid" | tr '\n' ' ')
    lab_log "the DC did not exit within ${TERM_TIMEOUT_SECONDS}s of SIGTERM; sending SIGKILL to pids $remaining"
    # shellcheck disable=SC2086 # one argument per pid
    kill -KILL $remaining 2>/dev/null || true
    wait_for_session_exit "$pid" "$KILL_TIMEOUT_SECONDS" ||
        lab_die "pids $(session_pids "$pid" | tr '\n' ' ')of the DC are still alive after SIGKILL; read $LAB_SAMBA_LOG"
}

purge_dir() {
    [[ -d $LAB_DIR ]] || return 0
    [[ -e $LAB_DIR/$LAB_MARKER_NAME ]] ||
        lab_die "not purging $LAB_DIR: it has no $LAB_MARKER_NAME file, so it may not be a lab directory"
    rm -rf -- "$LAB_DIR"
    lab_log "deleted $LAB_DIR"
}

main() {
    local pid
    parse_args "$@"
    lab_require_root

    if pid=$(lab_running_pid); then
        stop_dc "$pid"
        lab_log "stopped the DC of $LAB_DIR"
    else
        lab_log "no DC is running from $LAB_DIR; nothing to stop"
    fi

    if [[ $PURGE == true ]]; then
        purge_dir
    fi
}

main "$@"
