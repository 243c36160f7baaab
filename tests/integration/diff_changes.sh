#!/usr/bin/env bash
# Two polls around real changes: a removal, a rename, a move, an added
# target with protocol transition turned on, and a deletion, each reported
# as such; then the same through `delegaudit diff OLD NEW`.
source "$(dirname "$0")/lib.sh"

make_test_ou delegaudit-test-diff
ou=$TEST_OU
printf 'dn: OU=moved,%s\nchangetype: add\nobjectClass: organizationalUnit\n\n' "$ou" | ldap_modify
add_user "$ou" diff-loses "msDS-AllowedToDelegateTo: cifs/a.contoso.test"
add_user "$ou" diff-renamed "msDS-AllowedToDelegateTo: cifs/b.contoso.test"
add_user "$ou" diff-moved "msDS-AllowedToDelegateTo: cifs/c.contoso.test"
add_user "$ou" diff-changes "msDS-AllowedToDelegateTo: cifs/d.contoso.test"
add_user "$ou" diff-deleted "msDS-AllowedToDelegateTo: cifs/e.contoso.test"
add_user "$ou" diff-steady "msDS-AllowedToDelegateTo: cifs/f.contoso.test"

state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state" --json
check_equal 0 "$STATUS" "first poll (stderr: $ERR)"
check_equal null "$(jq .changes <<<"$OUT")" "changes of the first poll"
first=$state/$(cat "$state/latest")

# Make every kind of change.
ldap_modify <<LDIF
dn: CN=diff-loses,$ou
changetype: modify
delete: msDS-AllowedToDelegateTo

dn: CN=diff-renamed,$ou
changetype: modrdn
newrdn: CN=diff-renamed-now
deleteoldrdn: 1

dn: CN=diff-moved,$ou
changetype: modrdn
newrdn: CN=diff-moved
deleteoldrdn: 1
newsuperior: OU=moved,$ou

dn: CN=diff-changes,$ou
changetype: modify
add: msDS-AllowedToDelegateTo
msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST
-
replace: userAccountControl
userAccountControl: $((0x1000000 | 0x200))

dn: CN=diff-deleted,$ou
changetype: delete
LDIF

run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state" --json
check_equal 1 "$STATUS" "second poll (stderr: $ERR)"
echo "$OUT" > "$TEST_TMP/second.json"
second=$state/$(cat "$state/latest")
[[ $first != "$second" ]] || fail "the second poll did not write a new snapshot"
[[ -f $first ]] || fail "the first snapshot was removed"

change() {
    jq -c --arg sam "$1" '.changes[] | select(.sam_account_name == $sam)' "$2"
}

check_changes() {
    local report=$1 label=$2 entry
    check_equal 5 "$(jq '.changes | length' "$report")" "$label: number of changes"

    entry=$(change diff-loses "$report")
    check_equal lost "$(jq -r .type <<<"$entry")" "$label: diff-loses type"
    check_equal cifs/a.contoso.test "$(jq -r '.targets_removed | join(" ")' <<<"$entry")" "$label: diff-loses targets removed"

    entry=$(change diff-renamed "$report")
    check_equal modified "$(jq -r .type <<<"$entry")" "$label: diff-renamed type"
    check_equal true "$(jq -r .moved <<<"$entry")" "$label: diff-renamed moved"
    check_equal "CN=diff-renamed,$ou" "$(jq -r .previous_dn <<<"$entry")" "$label: diff-renamed previous DN"
    check_equal "CN=diff-renamed-now,$ou" "$(jq -r .dn <<<"$entry")" "$label: diff-renamed DN"
    check_equal 0 "$(jq '.targets_added + .targets_removed | length' <<<"$entry")" "$label: diff-renamed targets"

    entry=$(change diff-moved "$report")
    check_equal true "$(jq -r .moved <<<"$entry")" "$label: diff-moved moved"
    check_equal "CN=diff-moved,OU=moved,$ou" "$(jq -r .dn <<<"$entry")" "$label: diff-moved DN"

    entry=$(change diff-changes "$report")
    check_equal modified "$(jq -r .type <<<"$entry")" "$label: diff-changes type"
    check_equal krbtgt/CONTOSO.TEST "$(jq -r '.targets_added | join(" ")' <<<"$entry")" "$label: diff-changes targets added"
    check_equal true "$(jq -r .protocol_transition_changed <<<"$entry")" "$label: diff-changes protocol transition changed"
    check_equal true "$(jq -r .protocol_transition <<<"$entry")" "$label: diff-changes protocol transition"

    entry=$(change diff-deleted "$report")
    check_equal lost "$(jq -r .type <<<"$entry")" "$label: diff-deleted type"

    check_equal "" "$(change diff-steady "$report")" "$label: diff-steady"
}
check_changes "$TEST_TMP/second.json" poll
check_equal exists "$(change diff-loses "$TEST_TMP/second.json" | jq -r .presence)" "presence of diff-loses"
check_equal not-found "$(change diff-deleted "$TEST_TMP/second.json" | jq -r .presence)" "presence of diff-deleted"
check_equal krbtgt-delegation-protocol-transition "$(jq -r '.findings[0].rule_id' "$TEST_TMP/second.json")" "finding after the change"

# The same comparison from the files, and in text.
run diff --json "$first" "$second"
check_equal 1 "$STATUS" "diff exit status (stderr: $ERR)"
echo "$OUT" > "$TEST_TMP/diff.json"
check_changes "$TEST_TMP/diff.json" diff
run diff "$first" "$second"
check_contains "$OUT" "CN=diff-renamed-now,$ou" "text diff"

# A third poll with nothing changed reports no changes.
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state" --json
check_equal 0 "$(jq '.changes | length' <<<"$OUT")" "changes of an unchanged directory"
check_equal 1 "$STATUS" "third poll still has the finding"

# Retention: --keep 2 leaves the two newest snapshots.
run poll "${SIMPLE_BIND[@]}" -b "$ou" --state "$state" --keep 2
check_equal 2 "$(find "$state" -name 'snapshot-*.json' | wc -l)" "snapshots kept with --keep 2"
[[ -f $state/$(cat "$state/latest") ]] || fail "the latest snapshot was pruned"

finish
