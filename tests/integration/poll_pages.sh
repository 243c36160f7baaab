#!/usr/bin/env bash
# Every page is read: more delegating accounts than three pages of 1000 hold,
# counted against ldapsearch with the same filter; and ranged retrieval,
# requested in small ranges, returns every value of a 1,600-value attribute.
source "$(dirname "$0")/lib.sh"

filter='(|(msDS-AllowedToDelegateTo=*)(userAccountControl:1.2.840.113556.1.4.803:=524288)(userAccountControl:1.2.840.113556.1.4.803:=16777216)(msDS-AllowedToActOnBehalfOfOtherIdentity=*))'
reference=$(ldap_admin ldapsearch -LLL -E pr=1000/noprompt -b "$LAB_BASE_DN" "$filter" 1.1 | grep -c '^dn:')
log "ldapsearch counts $reference accounts with delegation settings"
((reference >= 2500)) || fail "the lab has only $reference delegating accounts; setup.sh should seed 2,500 or more"

run poll "${SIMPLE_BIND[@]}" --page-size 1000 --json --state "$TEST_TMP/state"
[[ $STATUS == 0 || $STATUS == 1 ]] || fail "poll exit status $STATUS (stderr: $ERR)"
check_equal "$reference" "$(jq .statistics.entries <<<"$OUT")" "accounts read by delegaudit"
pages=$(jq .statistics.pages <<<"$OUT")
((pages == (reference + 999) / 1000)) || fail "pages: expected $(((reference + 999) / 1000)), got $pages"
snapshot=$TEST_TMP/state/$(cat "$TEST_TMP/state/latest")
check_equal "$reference" "$(jq '.accounts | length' "$snapshot")" "accounts in the snapshot"

# A page size of 7 gives hundreds of pages and the same accounts.
run poll "${SIMPLE_BIND[@]}" --page-size 7 --json
check_equal "$reference" "$(jq .statistics.entries <<<"$OUT")" "accounts read with page size 7"

# 1,600 values of msDS-AllowedToDelegateTo, read 1,000 and then 600 at a
# time, and one value at a time for the seeded two-value account.
make_test_ou delegaudit-test-ranges
ou=$TEST_OU
add_user "$ou" svc-many-targets
{
    printf 'dn: CN=svc-many-targets,%s\nchangetype: modify\nadd: msDS-AllowedToDelegateTo\n' "$ou"
    for i in $(seq 1 1600); do printf 'msDS-AllowedToDelegateTo: cifs/fs%04d.contoso.test\n' "$i"; done
    printf '\n'
} | ldap_modify

run poll "${SIMPLE_BIND[@]}" -b "$ou" --range-size 1000 --json -vv
check_equal 0 "$STATUS" "poll of the ranges OU (stderr: $ERR)"
values=$(jq '[.findings[]] | length' <<<"$OUT")
check_equal 0 "$values" "findings in the ranges OU"
check_contains "$ERR" "range=1000-1999" "verbose log of the ranged retrieval"

run poll "${SIMPLE_BIND[@]}" -b "$ou" --range-size 1000 --state "$TEST_TMP/ranges" --json
snapshot=$TEST_TMP/ranges/$(cat "$TEST_TMP/ranges/latest")
check_equal 1600 "$(jq '[.accounts[].allowed_to_delegate_to[]] | length' "$snapshot")" "values read in ranges of 1000"
check_equal 1600 "$(jq '[.accounts[].allowed_to_delegate_to[]] | unique | length' "$snapshot")" "distinct values read in ranges of 1000"

run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --range-size 1 --state "$TEST_TMP/one" --json
snapshot=$TEST_TMP/one/$(cat "$TEST_TMP/one/latest")
targets=$(jq -r --arg dn "$LAB_SEED_SVC_WEB_DN" '.accounts[] | select(.dn == $dn) | .allowed_to_delegate_to | sort | join(" ")' "$snapshot")
check_equal "$(tr ' ' '\n' <<<"$LAB_SEED_SVC_WEB_TARGETS" | sort | tr '\n' ' ' | sed 's/ $//')" "$targets" "svc-web targets read one value at a time"

finish
