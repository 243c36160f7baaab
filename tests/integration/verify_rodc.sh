#!/usr/bin/env bash
# A read-only DC: joined for this test and removed again at its end, so
# that the other tests see two DCs. verify lists it as read-only and reads
# it with GSSAPI (an RODC caches no administrator password, so a simple
# bind fails there), and a poll finds its krbtgt_N account through the
# RODC's computer account.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dc2.sh"

rodc_dir=$TEST_REPO_DIR/tests/lab/run/rodc1
if [[ -f $rodc_dir/run/samba.pid ]] && kill -0 "$(cat "$rodc_dir/run/samba.pid")" 2>/dev/null; then
    bash "$TEST_REPO_DIR/tests/lab/stop.sh" "$rodc_dir" >/dev/null
fi
at_exit "samba_admin domain demote --remove-other-dead-server=RODC1 -H 'ldap://$LAB_DC_HOST' >/dev/null"
at_exit "bash '$TEST_REPO_DIR/tests/lab/stop.sh' --purge '$rodc_dir' >/dev/null"
bash "$TEST_REPO_DIR/tests/lab/join-dc2.sh" --rodc "$LAB_DIR" "$rodc_dir" >/dev/null ||
    { fail "joining the read-only DC failed"; finish; }
# A new TGT drops tickets for an earlier RODC1, which had other keys.
bash "$TEST_REPO_DIR/tests/lab/kinit.sh" "$LAB_DIR" >/dev/null
rodc_ca=$rodc_dir/private/tls/ca.pem
cat "$LAB_CA_FILE" "$DC2_DIR/private/tls/ca.pem" "$rodc_ca" > "$TEST_TMP/ca-all.pem"

make_test_ou delegaudit-test-verify-rodc
ou=$TEST_OU
add_user "$ou" svc-vr "msDS-AllowedToDelegateTo: cifs/fs6.contoso.test"
output=$(samba_admin drs replicate rodc1.contoso.test "$LAB_DC_HOST" "$LAB_BASE_DN") ||
    fail "replicating to the RODC failed: $output"

# GSSAPI with the administrator's ticket of lab.env, on every DC.
run verify -H "$LAB_URI_LDAP" --no-progress --account svc-vr --dc "$LAB_DC_HOST" \
    --dc rodc1.contoso.test --json
check_equal 0 "$STATUS" "verify with the RODC (stderr: $ERR; verdict: $(jq -r .verdict <<<"$OUT"))"
check_equal "DC1 RODC1" "$(jq -r '[.domain_controllers[].name] | join(" ")' <<<"$OUT")" "DC names"
check_equal "false true" "$(jq -r '[.domain_controllers[].read_only] | join(" ")' <<<"$OUT")" "read-only marks"
check_equal "clean clean" "$(jq -r '[.accounts[0].domain_controllers[].state] | join(" ")' <<<"$OUT")" "states"

# Listed without --dc: three DCs, the RODC among them.
run verify -H "$LAB_URI_LDAPS" --ca-file "$TEST_TMP/ca-all.pem" --no-progress --account svc-vr --json \
    -Y GSSAPI
check_equal "DC1 DC2 RODC1" "$(jq -r '[.domain_controllers[].name] | join(" ")' <<<"$OUT")" "DCs listed"
check_equal true "$(jq -r '.domain_controllers[] | select(.name == "RODC1") | .read_only' <<<"$OUT")" "RODC1 listed as read-only"
check_equal "true true true" "$(jq -r '[.domain_controllers[].reachable] | join(" ")' <<<"$OUT")" "all three read with GSSAPI"

# A simple bind as the administrator fails on the RODC: unverified, exit 5.
run verify "${VERIFY_BIND[@]}" --ca-file "$TEST_TMP/ca-all.pem" --account svc-vr --dc "$LAB_DC_HOST" \
    --dc rodc1.contoso.test --json
check_equal 5 "$STATUS" "simple bind on the RODC (stderr: $ERR)"
check_equal "true false" "$(jq -r '[.domain_controllers[].reachable] | join(" ")' <<<"$OUT")" "RODC unverified"

# The poll's krbtgt accounts include the RODC's krbtgt_N.
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$TEST_TMP/state"
snapshot=$TEST_TMP/state/$(cat "$TEST_TMP/state/latest")
rodc_krbtgt=$(jq -r '.krbtgt_accounts[] | select(.read_only_dc) | .sam_account_name' "$snapshot")
[[ $rodc_krbtgt == krbtgt_[0-9]* ]] || fail "the RODC's krbtgt_N account was not found: '$rodc_krbtgt'"

finish
