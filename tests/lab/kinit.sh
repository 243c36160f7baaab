#!/usr/bin/env bash
# Gets a fresh Kerberos TGT for the lab's Administrator into the lab's own
# credential cache (KRB5CCNAME of lab.env), for example after it expired.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"

usage() {
    cat <<USAGE
usage: $LAB_PROGRAM [LAB_DIR]

Runs kinit for the Administrator of the lab DC running from LAB_DIR (default
\$LAB_DIR, else $LAB_DEFAULT_DIR) with the password in LAB_DIR/admin-password.
Afterwards 'source LAB_DIR/lab.env' sets KRB5_CONFIG and KRB5CCNAME for GSSAPI.
USAGE
}

main() {
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
    lab_load_env
    lab_require_running
    lab_require_commands kinit klist

    lab_kinit
    lab_log "got a TGT for $LAB_ADMIN_PRINCIPAL in $KRB5CCNAME, valid until $(klist | awk '/krbtgt\// { print $3, $4; exit }')"
}

main "$@"
