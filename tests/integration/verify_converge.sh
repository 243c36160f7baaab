#!/usr/bin/env bash
# verify on two lab DCs: discovery finds both without --dc, a backdoor
# planted on DC1 shows on both, the remediation applied on DC1 reaches DC2
# and `verify --wait` reports convergence; `report --verify` adds the
# results. Also verify's answers to bad options and files.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dc2.sh"

make_test_ou delegaudit-test-verify
ou=$TEST_OU
add_user "$ou" svc-vc "msDS-AllowedToDelegateTo: cifs/fs7.contoso.test" \
    "msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST"
ldap_modify <<LDIF
dn: CN=svc-vc,$ou
changetype: modify
replace: userAccountControl
userAccountControl: $((0x1000200))
LDIF
replicate_to_dc2

state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state"
check_equal 1 "$STATUS" "poll with the planted backdoor (stderr: $ERR)"

# Discovery: no --dc, both DCs from the configuration partition.
run verify "${VERIFY_BIND[@]}" --state "$state" --json
check_equal 1 "$STATUS" "verify before the remediation (stderr: $ERR)"
check_equal "DC1 DC2" "$(jq -r '[.domain_controllers[].name] | join(" ")' <<<"$OUT")" "DCs found"
check_equal "dc1.contoso.test $DC2_HOST" "$(jq -r '[.domain_controllers[].host] | join(" ")' <<<"$OUT")" "DC hosts"
check_equal "false false" "$(jq -r '[.domain_controllers[].read_only] | join(" ")' <<<"$OUT")" "no RODC"
check_equal backdoored "$(jq -r .verdict <<<"$OUT")" "verdict before the remediation"
account=$(jq -c '.accounts[] | select(.sam_account_name == "svc-vc")' <<<"$OUT")
check_equal "krbtgt-target krbtgt-target" "$(jq -r '[.domain_controllers[].state] | join(" ")' <<<"$account")" "states before"
check_equal "krbtgt/CONTOSO.TEST" "$(jq -r '.domain_controllers[1].krbtgt_targets | join(" ")' <<<"$account")" "krbtgt target on DC2"
check_equal true "$(jq -r .remediation_turns_off_protocol_transition <<<"$account")" "protocol transition was on"
check_equal 1 "$(jq -r '.accounts | length' <<<"$OUT")" "only the finding's account"
check_equal DC1 "$(jq -r '.domain_controllers[1].delegation_metadata.originating_dc' <<<"$account")" "originating DC of the write"
before_version=$(jq -r '.domain_controllers[0].delegation_metadata.version' <<<"$account")

# The remediation on DC1, as the report's LDIF does it. DC2 takes no
# replication until verify --wait has read once, so the wait is shown to
# end on replication, not before it; Samba's change notification would
# otherwise deliver it within seconds, or never after a DC2 re-join.
set_dc2_inbound +
at_exit "set_dc2_inbound -"
ldap_modify <<LDIF
dn: CN=svc-vc,$ou
changetype: modify
delete: msDS-AllowedToDelegateTo
msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST
-
replace: userAccountControl
userAccountControl: $((0x200))
LDIF

set +e
"$DELEGAUDIT" verify "${VERIFY_BIND[@]}" --state "$state" --wait 120s --json -o "$TEST_TMP/verify.json" \
    2>"$TEST_TMP/verify.err" &
verify_pid=$!
set -e
sleep 2
set_dc2_inbound -
replicate_to_dc2
set +e
wait "$verify_pid"
STATUS=$?
set -e
check_equal 0 "$STATUS" "verify --wait after the remediation (stderr: $(cat "$TEST_TMP/verify.err"))"
result=$(cat "$TEST_TMP/verify.json")
check_equal converged "$(jq -r .verdict <<<"$result")" "verdict after the remediation"
account=$(jq -c '.accounts[0]' <<<"$result")
check_equal "clean clean" "$(jq -r '[.domain_controllers[].state] | join(" ")' <<<"$account")" "states after"
check_equal "cifs/fs7.contoso.test" "$(jq -r '.domain_controllers[1].allowed_to_delegate_to | join(" ")' <<<"$account")" "value left on DC2"
v1=$(jq -r '.domain_controllers[0].delegation_metadata.version' <<<"$account")
v2=$(jq -r '.domain_controllers[1].delegation_metadata.version' <<<"$account")
check_equal "$v1" "$v2" "same version on both DCs"
((v1 > before_version)) || fail "version $v1 after the remediation is not above $before_version"
check_equal "false false" "$(jq -r '[.domain_controllers[].protocol_transition] | join(" ")' <<<"$account")" "protocol transition off on both"
check_equal true "$(jq -r .krbtgt_converged <<<"$result")" "krbtgt password the same on both"
[[ $(jq -r '.domain_controllers[0].krbtgt.password.version' <<<"$result") -ge 1 ]] ||
    fail "no krbtgt password version for DC1"
(($(jq -r .rounds <<<"$result") >= 2)) || fail "verify --wait converged in its first round, before replication"
log "converged after $(jq -r .rounds <<<"$result") rounds, $(jq -r .waited_seconds <<<"$result") s"

# The same account named by DN and by SID.
sid=$(jq -r .sid <<<"$account")
run verify "${VERIFY_BIND[@]}" --account "CN=svc-vc,$ou" --json
check_equal "svc-vc" "$(jq -r '.accounts[0].sam_account_name' <<<"$OUT")" "account named by DN"
run verify "${VERIFY_BIND[@]}" --account "$sid" --json
check_equal "CN=svc-vc,$ou" "$(jq -r '.accounts[0].dn' <<<"$OUT")" "account named by SID"

# GSSAPI with the administrator's ticket of lab.env, sealed on ldap://, on
# both DCs.
run verify -H "$LAB_URI_LDAP" --no-progress --account svc-vc --json
check_equal 0 "$STATUS" "verify with GSSAPI on ldap:// (stderr: $ERR)"
check_equal "true true" "$(jq -r '[.domain_controllers[].reachable] | join(" ")' <<<"$OUT")" "both DCs bound with GSSAPI"

# The text form names the verdict first.
run verify "${VERIFY_BIND[@]}" --state "$state"
check_equal 0 "$STATUS" "verify in text (stderr: $ERR)"
check_contains "$(head -n 1 <<<"$OUT")" "converged" "first line of the text"

# report --verify adds the results to the remediation report.
export_file=$TEST_REPO_DIR/tests/data/events/detect-two-lines.ndjson
run report --state "$state" --events "$export_file" --verify "$TEST_TMP/verify.json" --format markdown
check_equal 1 "$STATUS" "report with verify results (stderr: $ERR)"
check_contains "$OUT" "Verification across domain controllers" "report section"
check_contains "$OUT" "converged" "verdict in the report"
printf '{"format":"delegaudit-verify","format_version":1,' > "$TEST_TMP/broken.json"
run report --state "$state" --events "$export_file" --verify "$TEST_TMP/broken.json"
check_equal 2 "$STATUS" "report with a truncated verify file"
check_contains "$ERR" "broken.json" "the error names the file"

# A poll after the remediation no longer lists the finding; verify still
# checks the account, from the snapshot before. Times have one-second
# resolution: the pause makes the poll later than verify.json.
sleep 1.1
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state"
check_equal 1 "$STATUS" "poll after the remediation (a change: stderr: $ERR)"
run verify "${VERIFY_BIND[@]}" --state "$state" --json
check_equal 0 "$STATUS" "verify after the second poll (stderr: $ERR)"
check_equal svc-vc "$(jq -r '[.accounts[].sam_account_name] | join(" ")' <<<"$OUT")" "account of the earlier finding"

# The verify results predate the new snapshot: report warns.
run report --state "$state" --events "$export_file" --verify "$TEST_TMP/verify.json"
check_contains "$ERR" "before the snapshot" "warning about verify results older than the snapshot"

# A name that matches nothing is an error, also beside one that matches.
run verify "${VERIFY_BIND[@]}" --account svc-vc --account svc-vc-typo
check_equal 2 "$STATUS" "--account with a misspelled second name"
check_contains "$ERR" '"svc-vc-typo"' "the error names the misspelled account"

# One DC named twice, in two letter cases, is read once.
run verify "${VERIFY_BIND[@]}" --account svc-vc --dc "${LAB_DC_HOST^^}" --dc "$LAB_DC_HOST" --dc "$DC2_HOST" --json
check_equal 2 "$(jq -r '.domain_controllers | length' <<<"$OUT")" "DCs read with a repeated --dc"

# Bad options.
run verify "${VERIFY_BIND[@]}" --state "$state" --wait 5d
check_equal 2 "$STATUS" "--wait 5d"
check_contains "$ERR" '"5d"' "the error names the duration"
run verify "${VERIFY_BIND[@]}" --state "$state" --dc "ldaps://$DC2_HOST"
check_equal 2 "$STATUS" "--dc with a URI"
run verify "${VERIFY_BIND[@]}" --account no-such-account-here
check_equal 2 "$STATUS" "--account that matches nothing"
check_contains "$ERR" "--account" "the error says what matched nothing"
run verify "${VERIFY_BIND[@]}"
check_equal 2 "$STATUS" "verify without accounts in question"
run verify "${VERIFY_BIND[@]}" --all --account svc-vc
check_equal 2 "$STATUS" "--all with --account"

finish
