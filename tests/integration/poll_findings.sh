#!/usr/bin/env bash
# A simple bind over LDAPS finds exactly the seeded krbtgt backdoors, each
# with the right rule and severity, and saves a snapshot.
source "$(dirname "$0")/lib.sh"

state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" --state "$state" --json
check_equal 1 "$STATUS" "exit status with findings (stderr: $ERR)"
echo "$OUT" > "$TEST_TMP/report.json"
jq -e . "$TEST_TMP/report.json" >/dev/null || fail "the report is not valid JSON"

# Expected findings from seeded.env: "sAMAccountName rule severity targets".
expected=()
for key in $LAB_SEED_KEYS; do
    sam_var=LAB_SEED_${key}_SAM rule_var=LAB_SEED_${key}_EXPECTED targets_var=LAB_SEED_${key}_TARGETS
    rule=${!rule_var}
    [[ $rule == none ]] && continue
    severity=high
    [[ $rule == krbtgt-delegation-protocol-transition ]] && severity=critical
    expected+=("${!sam_var} $rule $severity ${!targets_var}")
done
# Findings of the seeded accounts only: integration tests of later features
# may add backdoors in OUs of their own while this test runs alone.
actual=$(jq -r --arg ou "$LAB_SEED_OU_DN" '.findings[]
    | "\(.account.sam_account_name) \(.rule_id) \(.severity) \(.values | join(" "))"' \
    "$TEST_TMP/report.json" | sort)
check_equal "$(printf '%s\n' "${expected[@]}" | sort)" "$actual" "findings"

# No finding outside the seeded OU: the domain has no other backdoor.
outside=$(jq -r --arg ou ",$LAB_SEED_OU_DN" '[.findings[] | select(.account.dn | endswith($ou) | not)] | length' "$TEST_TMP/report.json")
check_equal 0 "$outside" "findings outside $LAB_SEED_OU_DN"

# Protocol transition is reported with each finding.
pt=$(jq -r '.findings[] | select(.account.sam_account_name == "svc-backdoor") | .protocol_transition' "$TEST_TMP/report.json")
check_equal true "$pt" "protocol transition of svc-backdoor"

# Ordinary, unconstrained and resource-based delegation are read, not flagged.
for sam in "$LAB_SEED_SVC_WEB_SAM" "$LAB_SEED_SVC_UNCONSTRAINED_SAM" "$LAB_SEED_APP_RBCD_SAM"; do
    found=$(jq -r --arg sam "$sam" '[.findings[] | select(.account.sam_account_name == $sam)] | length' "$TEST_TMP/report.json")
    check_equal 0 "$found" "findings for $sam"
done

# The snapshot: one file, the latest pointer, the seeded accounts in it.
snapshot=$state/$(cat "$state/latest")
[[ -f $snapshot ]] || fail "latest names $(cat "$state/latest"), which does not exist"
check_equal "$snapshot" "$(jq -r .snapshot_file "$TEST_TMP/report.json")" "snapshot_file in the report"
check_equal delegaudit-snapshot "$(jq -r .format "$snapshot")" "snapshot format"
check_equal true "$(jq -r .poll.complete "$snapshot")" "poll.complete"
check_equal "$LAB_DC_HOST" "$(jq -r .poll.dc_host "$snapshot" | tr 'A-Z' 'a-z')" "poll.dc_host"
[[ $(jq -r .poll.invocation_id "$snapshot") =~ ^[0-9a-f-]{36}$ ]] || fail "poll.invocation_id is not a GUID"
[[ $(jq -r .poll.highest_committed_usn "$snapshot") -gt 0 ]] || fail "poll.highest_committed_usn is not positive"
for key in $LAB_SEED_KEYS; do
    dn_var=LAB_SEED_${key}_DN expected_var=LAB_SEED_${key}_EXPECTED uac_var=LAB_SEED_${key}_UAC
    [[ $key == PLAIN_USER ]] && continue
    count=$(jq --arg dn "${!dn_var}" '[.accounts[] | select(.dn == $dn)] | length' "$snapshot")
    check_equal 1 "$count" "snapshot entries for ${!dn_var}"
done
plain=$(jq --arg dn "$LAB_SEED_PLAIN_USER_DN" '[.accounts[] | select(.dn == $dn)] | length' "$snapshot")
check_equal 0 "$plain" "snapshot entries for the account without delegation"

# Resource-based delegation: the trustee SID of svc-web is decoded.
rbcd=$(jq -r --arg dn "$LAB_SEED_APP_RBCD_DN" '.accounts[] | select(.dn == $dn) | .allowed_to_act | length' "$snapshot")
check_equal 1 "$rbcd" "trustees in msDS-AllowedToActOnBehalfOfOtherIdentity of APP-RBCD"

# The domain krbtgt account with its kadmin/changepw SPN.
krbtgt=$(jq -r '.krbtgt_accounts[] | select(.sid | endswith("-502")) | .service_principal_names | join(" ")' "$snapshot")
check_equal kadmin/changepw "$krbtgt" "SPNs of the domain krbtgt account"

# The text report prints the DN with the comma and non-ASCII letters.
run poll "${SIMPLE_BIND[@]}"
check_equal 1 "$STATUS" "exit status of the text report"
check_contains "$OUT" "$LAB_SEED_JMUELLER_DN" "text report"
check_contains "$OUT" "CRITICAL" "text report"

# An OU without backdoors is clean: exit 0.
run poll "${SIMPLE_BIND[@]}" -b "CN=Users,$LAB_BASE_DN"
check_equal 0 "$STATUS" "exit status of a clean base (stderr: $ERR)"

finish
