#!/usr/bin/env bash
# Starts the lab DC of an existing, stopped LAB_DIR again, the way
# provision.sh or join-dc2.sh started it, and renews the Administrator
# ticket.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"

case ${1:-} in
    -h | --help)
        echo "usage: $LAB_PROGRAM [LAB_DIR]"
        exit 0
        ;;
esac
(($# <= 1)) || lab_die "expected at most one LAB_DIR; run $LAB_PROGRAM --help"

lab_require_root
lab_resolve_dir "${1:-}"
lab_set_paths
[[ -f $LAB_SMB_CONF && -f $LAB_ENV_FILE ]] ||
    lab_die "$LAB_DIR holds no provisioned lab DC; run tests/lab/provision.sh $LAB_DIR"
if pid=$(lab_running_pid); then
    lab_log "the lab DC of $LAB_DIR already runs (pid $pid)"
    exit 0
fi

started=$SECONDS
# lab.env is loaded first because it sets LAB_DC_IP, on which lab_start_samba
# waits, and that address differs for the DC that join-dc2.sh added.
lab_load_env
lab_start_samba
lab_kinit
lab_log "started the lab DC of $LAB_DIR (pid $(lab_running_pid)) in $((SECONDS - started))s"
