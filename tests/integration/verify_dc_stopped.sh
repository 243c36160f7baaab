#!/usr/bin/env bash
# verify with DC2 stopped: DC2 is unverified, never clean, and the exit
# status shows it; with DC1, the DC that lists the others, stopped instead,
# verify cannot list the DCs and fails.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dc2.sh"

make_test_ou delegaudit-test-verify-stopped
ou=$TEST_OU
add_user "$ou" svc-vs "msDS-AllowedToDelegateTo: cifs/fs8.contoso.test"
replicate_to_dc2

run verify "${VERIFY_BIND[@]}" --account svc-vs
check_equal 0 "$STATUS" "verify with both DCs up (stderr: $ERR)"

# A snapshot whose finding is verified: the DCs are then read while they
# are listed.
add_user "$ou" svc-vs-flag "msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST"
replicate_to_dc2
state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state"
check_equal 1 "$STATUS" "poll with the finding (stderr: $ERR)"

bash "$TEST_REPO_DIR/tests/lab/stop.sh" "$DC2_DIR" >/dev/null
at_exit "bash '$TEST_REPO_DIR/tests/lab/start.sh' '$DC2_DIR' >/dev/null && wait_for_dc2"

run verify "${VERIFY_BIND[@]}" --account svc-vs --connect-timeout 3 --json
check_equal 5 "$STATUS" "verify with DC2 stopped (stderr: $ERR)"
check_equal unverified "$(jq -r .verdict <<<"$OUT")" "verdict"
dc2=$(jq -c '.domain_controllers[] | select(.name == "DC2")' <<<"$OUT")
check_equal false "$(jq -r .reachable <<<"$dc2")" "DC2 reachable"
check_contains "$(jq -r .problem <<<"$dc2")" "$DC2_HOST" "the problem names DC2's host"
check_equal "clean unverified" "$(jq -r '[.accounts[0].domain_controllers[].state] | join(" ")' <<<"$OUT")" "states"

# Named with --dc, the same.
run verify "${VERIFY_BIND[@]}" --account svc-vs --dc "$LAB_DC_HOST" --dc "$DC2_HOST" --connect-timeout 3
check_equal 5 "$STATUS" "verify --dc with DC2 stopped (stderr: $ERR)"
check_contains "$OUT" "unverified" "text names the state"

# The findings of the snapshot, the DCs named: DC1 backdoored, DC2 unverified.
run verify "${VERIFY_BIND[@]}" --state "$state" --dc "$LAB_DC_HOST" --dc "$DC2_HOST" --connect-timeout 3 --json
check_equal 1 "$STATUS" "verify --state --dc with DC2 stopped (stderr: $ERR)"
check_equal "krbtgt-target unverified" "$(jq -r '[.accounts[0].domain_controllers[].state] | join(" ")' <<<"$OUT")" "states of the finding"

# Listed through the stopped DC2 first, then through DC1.
run verify -H "ldaps://$DC2_HOST" --ca-file "$CA_BUNDLE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" \
    --no-progress --state "$state" --dc "$DC2_HOST" --dc "$LAB_DC_HOST" --connect-timeout 3 --json
check_equal 1 "$STATUS" "verify listed through DC1 after DC2 failed (stderr: $ERR)"
check_equal "DC2 DC1" "$(jq -r '[.domain_controllers[].name] | join(" ")' <<<"$OUT")" "DCs named through DC1's listing"
check_contains "$ERR" "$DC2_HOST" "a warning names the DC that could not list"

# Asked to list the DCs through the stopped one: an error, not a verdict.
run verify -H "ldaps://$DC2_HOST" --ca-file "$CA_BUNDLE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" \
    --no-progress --account svc-vs --connect-timeout 3
check_equal 3 "$STATUS" "verify through the stopped DC"
check_contains "$ERR" "$DC2_HOST" "the error names the DC"

finish
