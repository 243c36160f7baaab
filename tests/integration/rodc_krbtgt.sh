#!/usr/bin/env bash
# A read-only DC's krbtgt_N account, found through the msDS-KrbTgtLink of
# the RODC's computer account (primary group 521, Read-only Domain
# Controllers), counts as a krbtgt account: a delegation target naming it
# is a finding.
source "$(dirname "$0")/lib.sh"

make_test_ou delegaudit-test-rodc
ou=$TEST_OU
add_user "$ou" krbtgt_4242 "userAccountControl: 514"
ldap_modify <<LDIF
dn: CN=RODC1,$ou
changetype: add
objectClass: computer
sAMAccountName: RODC1\$
msDS-KrbTgtLink: CN=krbtgt_4242,$ou

dn: CN=Read-only Domain Controllers,CN=Users,$LAB_BASE_DN
changetype: modify
add: member
member: CN=RODC1,$ou

dn: CN=RODC1,$ou
changetype: modify
replace: primaryGroupID
primaryGroupID: 521
LDIF
add_user "$ou" svc-rodc-target "msDS-AllowedToDelegateTo: krbtgt_4242"
add_user "$ou" svc-rodc-realm "msDS-AllowedToDelegateTo: KRBTGT_4242@CONTOSO.TEST"
add_user "$ou" svc-rodc-other "msDS-AllowedToDelegateTo: cifs/krbtgt_4242.contoso.test"

state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state" --json
check_equal 1 "$STATUS" "exit status (stderr: $ERR)"
snapshot=$state/$(cat "$state/latest")

rodc=$(jq -c '.krbtgt_accounts[] | select(.sam_account_name == "krbtgt_4242") | .read_only_dc' "$snapshot")
check_equal true "$rodc" "krbtgt_4242 found as a read-only DC's krbtgt account"
domain=$(jq -c '.krbtgt_accounts[] | select(.sid | endswith("-502")) | .read_only_dc' "$snapshot")
check_equal false "$domain" "the domain krbtgt account"

findings=$(jq -r '.findings[] | "\(.account.sam_account_name) \(.rule_id) \(.values | join(" "))"' <<<"$OUT" | sort)
check_equal "svc-rodc-realm krbtgt-delegation KRBTGT_4242@CONTOSO.TEST
svc-rodc-target krbtgt-delegation krbtgt_4242" "$findings" "findings for targets naming krbtgt_4242"

finish
