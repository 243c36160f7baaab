# Helpers for the tests that need the second lab DC (setup_dc2.sh). Source
# after lib.sh.

DC2_DIR=${DC2_DIR:-$TEST_REPO_DIR/tests/lab/run/dc2}
[[ -f $DC2_DIR/lab.env && -f $DC2_DIR/ca-bundle.pem ]] ||
    { echo "$TEST_NAME: no second lab DC in $DC2_DIR; run tests/integration/setup_dc2.sh" >&2; exit 1; }
DC2_HOST=$(sed -n "s/^export LAB_DC_HOST='\(.*\)'$/\1/p" "$DC2_DIR/lab.env")
DC2_IP=$(sed -n "s/^export LAB_DC_IP='\(.*\)'$/\1/p" "$DC2_DIR/lab.env")
CA_BUNDLE=$DC2_DIR/ca-bundle.pem
export LDAPTLS_CACERT=$CA_BUNDLE

# Simple bind as the administrator over LDAPS; the DCs come from DC1.
VERIFY_BIND=(-H "$LAB_URI_LDAPS" --ca-file "$CA_BUNDLE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --no-progress)

# samba-tool as the administrator; Samba's credential code reads the
# password from the file that PASSWD_FILE names. It runs confined like the
# lab's Samba (lab_run_confined), so that its own DNS look-ups go to the
# lab DNS and never leave the machine.
samba_admin() {
    (
        dc1_dir=$LAB_DIR
        source "$TEST_REPO_DIR/tests/lab/lab-common.sh"
        LAB_DIR=$dc1_dir
        lab_set_paths
        PASSWD_FILE=$LAB_PASSWORD_FILE lab_run_confined samba-tool "$@" -U Administrator
    ) 2>&1
}

# Pulls the domain partition from DC1 to DC2 now, instead of waiting for
# Samba's notification.
# Right after DC2 restarts, a pull has failed once with WERR_NETNAME_DELETED,
# so it is tried up to five times.
replicate_to_dc2() {
    local output attempt
    for attempt in 1 2 3 4 5; do
        output=$(samba_admin drs replicate "$DC2_HOST" "$LAB_DC_HOST" "$LAB_BASE_DN") && return 0
        log "samba-tool drs replicate to DC2, attempt $attempt: ${output##*$'\n'}"
        sleep 2
    done
    fail "samba-tool drs replicate to DC2 failed: $output"
    return 1
}

set_dc2_inbound() {
    local sign=$1 output
    output=$(samba_admin drs options "$DC2_HOST" "--dsa-option=${sign}DISABLE_INBOUND_REPL") ||
        { fail "samba-tool drs options on DC2 failed: $output"; return 1; }
}

# Reads one attribute of DN from DC2 over LDAPS.
ldap_dc2() {
    ldapsearch -LLL -o ldif-wrap=no -H "ldaps://$DC2_HOST" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" "$@"
}

wait_for_dc2() {
    local deadline=$((SECONDS + 60))
    until (exec 3<>"/dev/tcp/$DC2_IP/636") 2>/dev/null; do
        ((SECONDS < deadline)) || { fail "DC2 did not come back on port 636"; return 1; }
        sleep 0.5
    done
}
