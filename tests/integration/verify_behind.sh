#!/usr/bin/env bash
# verify with inbound replication to DC2 disabled: the remediation made on
# DC1 cannot reach DC2, so verify reports DC2 still backdoored and behind
# DC1's version, and --wait does not hide it; a krbtgt password reset on
# DC1 shows as a newer password version there. Re-enabled, DC2 catches up.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dc2.sh"

make_test_ou delegaudit-test-verify-behind
ou=$TEST_OU
add_user "$ou" svc-vb "msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST"
replicate_to_dc2

set_dc2_inbound +
at_exit "set_dc2_inbound - && replicate_to_dc2"

ldap_modify <<LDIF
dn: CN=svc-vb,$ou
changetype: modify
delete: msDS-AllowedToDelegateTo
msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST
LDIF

run verify "${VERIFY_BIND[@]}" --account svc-vb --json
check_equal 1 "$STATUS" "verify with DC2 held back (stderr: $ERR)"
check_equal backdoored "$(jq -r .verdict <<<"$OUT")" "verdict"
account=$(jq -c '.accounts[0]' <<<"$OUT")
dc1=$(jq -c '.domain_controllers[] | select(.dc == "DC1")' <<<"$account")
dc2=$(jq -c '.domain_controllers[] | select(.dc == "DC2")' <<<"$account")
check_equal clean "$(jq -r .state <<<"$dc1")" "DC1 state"
check_equal krbtgt-target "$(jq -r .state <<<"$dc2")" "DC2 state"
check_equal true "$(jq -r .behind <<<"$dc2")" "DC2 behind"
check_equal false "$(jq -r .behind <<<"$dc1")" "DC1 not behind"
v1=$(jq -r .delegation_metadata.version <<<"$dc1")
v2=$(jq -r .delegation_metadata.version <<<"$dc2")
((v2 < v1)) || fail "DC2's version $v2 is not below DC1's $v1"
check_equal "krbtgt/CONTOSO.TEST" "$(jq -r '.krbtgt_targets | join(" ")' <<<"$dc2")" "value still on DC2"

# Waiting does not change it while DC2 takes no replication.
run verify "${VERIFY_BIND[@]}" --account svc-vb --wait 7s --json
check_equal 1 "$STATUS" "verify --wait 7s with DC2 held back (stderr: $ERR)"
check_equal backdoored "$(jq -r .verdict <<<"$OUT")" "verdict after waiting"
(($(jq -r .rounds <<<"$OUT") >= 2)) || fail "verify --wait 7s read only once"
run verify "${VERIFY_BIND[@]}" --account svc-vb
check_contains "$(head -n 1 <<<"$OUT")" "DC2" "the first line names DC2"

# On a terminal, --wait shows each round on stderr; script(1) provides one.
command=$(printf '%q ' "$DELEGAUDIT" verify -H "$LAB_URI_LDAPS" --ca-file "$CA_BUNDLE" -x \
    -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --account svc-vb --wait 6s)
terminal=$(script -qec "$command" /dev/null) || true
check_contains "$terminal" "verify: round 1 after" "progress line on a terminal"
check_contains "$terminal" "s left" "time left in the progress line"

# A krbtgt password reset on DC1, as the remediation advises. The TGT in
# KRB5CCNAME stays valid (the DC keeps the previous key) but is renewed at
# the end, so that repeated runs never leave it two resets behind.
at_exit "bash '$TEST_REPO_DIR/tests/lab/kinit.sh' '$LAB_DIR' >/dev/null"
output=$(samba_admin user setpassword krbtgt --random-password -H "ldap://$LAB_DC_HOST") ||
    fail "resetting the krbtgt password failed: $output"
run verify "${VERIFY_BIND[@]}" --account svc-vb --json
check_equal false "$(jq -r .krbtgt_converged <<<"$OUT")" "krbtgt password the same on both DCs"
k1=$(jq -r '.domain_controllers[] | select(.name == "DC1") | .krbtgt.password.version' <<<"$OUT")
k2=$(jq -r '.domain_controllers[] | select(.name == "DC2") | .krbtgt.password.version' <<<"$OUT")
((k1 > k2)) || fail "DC1's krbtgt password version $k1 is not above DC2's $k2"

# Released, DC2 converges, the krbtgt password too.
set_dc2_inbound -
replicate_to_dc2
run verify "${VERIFY_BIND[@]}" --account svc-vb --wait 60s --json
check_equal 0 "$STATUS" "verify after DC2 caught up (stderr: $ERR)"
check_equal converged "$(jq -r .verdict <<<"$OUT")" "verdict after catching up"
check_equal true "$(jq -r .krbtgt_converged <<<"$OUT")" "krbtgt password replicated"
check_equal "$k1 $k1" "$(jq -r '[.domain_controllers[].krbtgt.password.version] | join(" ")' <<<"$OUT")" "krbtgt password versions"

finish
