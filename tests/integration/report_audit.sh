#!/usr/bin/env bash
# End to end: a backdoor planted on the lab DC, an export of the events
# that planted it, `delegaudit audit` joining the two, the remediation LDIF
# applied to the DC, and a poll that no longer finds the backdoor. Also a
# name with <script> that the HTML report must render as text.
source "$(dirname "$0")/lib.sh"

make_test_ou delegaudit-test-audit
ou=$TEST_OU
add_user "$ou" svc-e2e "servicePrincipalName: http/svc-e2e.contoso.test" "msDS-AllowedToDelegateTo: cifs/fs9.contoso.test"
# RFC 4514 escapes <, > and " in a DN string.
html_ou='OU=\<script\>alert(1)\</script\> \"q'"'"'uote\",'"$ou"
printf 'dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n' "$html_ou" | ldap_modify
add_user "$html_ou" svc-html "msDS-AllowedToDelegateTo: krbtgt/CONTOSO"

state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state"
check_equal 1 "$STATUS" "baseline poll (stderr: $ERR)"

# The attack: krbtgt/CONTOSO.TEST with protocol transition on svc-e2e.
ldap_modify <<LDIF
dn: CN=svc-e2e,$ou
changetype: modify
add: msDS-AllowedToDelegateTo
msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST
-
replace: userAccountControl
userAccountControl: $((0x1000200))
LDIF

sid_of() {
    ldap_admin ldapsearch -LLL -b "$1" -s base objectSid | sed -n 's/^objectSid:: //p' |
        /usr/bin/python3 -c '
import base64, struct, sys
raw = base64.b64decode(sys.stdin.read())
count = raw[1]
authority = int.from_bytes(raw[2:8], "big")
subs = struct.unpack("<" + "I" * count, raw[8:8 + 4 * count])
print("S-1-%d-%s" % (authority, "-".join(str(s) for s in subs)))'
}
target_sid=$(sid_of "CN=svc-e2e,$ou")
admin_sid=$(sid_of "$LAB_ADMIN_DN")
[[ $target_sid == S-1-5-21-* ]] || fail "could not read the SID of svc-e2e: $target_sid"

# What the DC's Security log would hold, in wevtutil's form: the
# administrator's RDP logon, then the change made in that session.
export_file=$TEST_TMP/security.xml
cat > "$export_file" <<XML
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4624</EventID><TimeCreated SystemTime='2026-12-04T18:00:00.1000000Z'/><EventRecordID>7001</EventRecordID><Computer>DC1.contoso.test</Computer></System><EventData><Data Name='TargetUserSid'>$admin_sid</Data><Data Name='TargetUserName'>Administrator</Data><Data Name='TargetDomainName'>CONTOSO</Data><Data Name='TargetLogonId'>0x5A5A5</Data><Data Name='LogonType'>10</Data><Data Name='IpAddress'>192.0.2.50</Data><Data Name='IpPort'>51000</Data><Data Name='WorkstationName'>JUMPHOST</Data><Data Name='AuthenticationPackageName'>Negotiate</Data><Data Name='LogonProcessName'>User32</Data></EventData></Event>
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4738</EventID><TimeCreated SystemTime='2026-12-04T18:05:00.2000000Z'/><EventRecordID>7002</EventRecordID><Computer>DC1.contoso.test</Computer></System><EventData><Data Name='TargetSid'>$target_sid</Data><Data Name='TargetUserName'>svc-e2e</Data><Data Name='TargetDomainName'>CONTOSO</Data><Data Name='SubjectUserSid'>$admin_sid</Data><Data Name='SubjectUserName'>Administrator</Data><Data Name='SubjectDomainName'>CONTOSO</Data><Data Name='SubjectLogonId'>0x5a5a5</Data><Data Name='AllowedToDelegateTo'>cifs/fs9.contoso.test
		krbtgt/CONTOSO.TEST</Data><Data Name='OldUacValue'>0x210</Data><Data Name='NewUacValue'>0x1000210</Data></EventData></Event>
XML

run audit "${SIMPLE_BIND[@]}" -b "$ou" --state "$state" --events "$export_file" --format json -o "$TEST_TMP/report.json"
check_equal 1 "$STATUS" "audit exit status (stderr: $ERR)"
report=$TEST_TMP/report.json
jq -e . "$report" >/dev/null || fail "the report is not valid JSON"
entry=$(jq -c '.entries[] | select(.account.sam_account_name == "svc-e2e")' "$report")
check_equal found "$(jq -r .evidence_status <<<"$entry")" "evidence status"
check_equal critical "$(jq -r .severity <<<"$entry")" "severity"
check_equal krbtgt-added "$(jq -r '.timeline[0].step' <<<"$entry")" "first step"
check_equal krbtgt/CONTOSO.TEST "$(jq -r '.timeline[0].values | join(" ")' <<<"$entry")" "values added"
check_equal protocol-transition-on "$(jq -r '.timeline[1].step' <<<"$entry")" "second step"
check_equal Administrator "$(jq -r '.timeline[0].actor.name' <<<"$entry")" "actor"
check_equal 0x5a5a5 "$(jq -r '.timeline[0].actor.logon_id' <<<"$entry")" "logon id"
check_equal 192.0.2.50 "$(jq -r '.sessions[0].logon.ip_address' <<<"$entry")" "source address"
check_equal 10 "$(jq -r '.sessions[0].logon.logon_type' <<<"$entry")" "logon type"
check_equal true "$(jq -r '.remediation.turns_off_protocol_transition' <<<"$entry")" "protocol transition off"
check_equal true "$(jq -r '.remediation.reset_krbtgt_twice' <<<"$entry")" "krbtgt reset advice"
check_contains "$(jq -r '.kql_account' <<<"$entry")" "$target_sid" "KQL for the account"
missing=$(jq -r '.entries[] | select(.account.sam_account_name == "svc-html") | .evidence_status' "$report")
check_equal missing "$missing" "evidence status without events"

# Apply the remediation exactly as printed, then poll: the finding is gone
# and svc-e2e keeps its ordinary target.
jq -r '.remediation.ldif' <<<"$entry" > "$TEST_TMP/remediation.ldif"
ldap_admin ldapmodify -f "$TEST_TMP/remediation.ldif" >/dev/null || fail "ldapmodify rejected the remediation LDIF"
run poll "${SIMPLE_BIND[@]}" -b "$ou" --json
check_equal "" "$(jq -r '.findings[] | select(.account.sam_account_name == "svc-e2e") | .rule_id' <<<"$OUT")" "finding after remediation"
snapshot_targets=$(ldap_admin ldapsearch -LLL -b "CN=svc-e2e,$ou" -s base msDS-AllowedToDelegateTo userAccountControl)
check_contains "$snapshot_targets" "msDS-AllowedToDelegateTo: cifs/fs9.contoso.test" "remaining target"
check_contains "$snapshot_targets" "userAccountControl: 512" "protocol transition turned off"

# The HTML report renders the hostile DN as text.
run report --state "$state" --events "$export_file" --format html -o "$TEST_TMP/report.html"
check_equal 1 "$STATUS" "HTML report exit status (stderr: $ERR)"
html=$(cat "$TEST_TMP/report.html")
[[ ${html,,} != *"<script"* ]] || fail "the HTML report contains a raw <script"
check_contains "$html" "&lt;script" "escaped name in HTML"
check_contains "$html" "svc-html" "account in HTML"
run report --state "$state" --events "$export_file" --format markdown
check_equal 1 "$STATUS" "Markdown report exit status (stderr: $ERR)"
check_contains "$OUT" "svc-e2e" "Markdown report"

# A file that is no export is a clear error; a malformed record is not.
printf 'not,an,export\n' > "$TEST_TMP/not-an-export.csv"
run report --state "$state" --events "$TEST_TMP/not-an-export.csv"
check_equal 2 "$STATUS" "exit status for a file that is no export"
check_contains "$ERR" "not-an-export.csv" "message for a file that is no export"

finish
