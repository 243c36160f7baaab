#!/usr/bin/env bash
# SASL GSSAPI with the Kerberos credential cache, sealed on ldap:// and with
# SSF 0 inside TLS; StartTLS with a simple bind; a simple bind on cleartext
# is rejected before anything is sent.
source "$(dirname "$0")/lib.sh"

export KRB5CCNAME=FILE:$TEST_TMP/krb5cc
kinit "$LAB_ADMIN_PRINCIPAL" < "$LAB_PASSWORD_FILE" >/dev/null

findings() {
    jq -r '[.findings[].account.sam_account_name] | sort | join(" ")' <<<"$OUT"
}

run poll --json --no-progress -b "$LAB_SEED_OU_DN" -H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE"
check_equal 1 "$STATUS" "simple bind over LDAPS (stderr: $ERR)"
expected=$(findings)
[[ -n $expected ]] || fail "the simple bind found nothing to compare with"

run poll --json --no-progress -b "$LAB_SEED_OU_DN" -H "$LAB_URI_LDAP" -Y GSSAPI
check_equal 1 "$STATUS" "GSSAPI on ldap:// (stderr: $ERR)"
check_equal "$expected" "$(findings)" "findings with GSSAPI on ldap://"

run poll --json --no-progress -b "$LAB_SEED_OU_DN" -H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE"
check_equal 1 "$STATUS" "GSSAPI over LDAPS (stderr: $ERR)"
check_equal "$expected" "$(findings)" "findings with GSSAPI over LDAPS"

run poll --json --no-progress -b "$LAB_SEED_OU_DN" -H "$LAB_URI_LDAP" -Z --ca-file "$LAB_CA_FILE"
check_equal 1 "$STATUS" "GSSAPI after StartTLS (stderr: $ERR)"

run poll --json --no-progress -b "$LAB_SEED_OU_DN" -H "$LAB_URI_LDAP" -Z --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE"
check_equal 1 "$STATUS" "simple bind after StartTLS (stderr: $ERR)"
check_equal "$expected" "$(findings)" "findings with StartTLS"

# Cleartext simple bind: rejected locally with a usage error.
run poll --no-progress -H "$LAB_URI_LDAP" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE"
check_equal 2 "$STATUS" "simple bind on ldap:// without -Z"
check_contains "$ERR" "cleartext" "message for a cleartext simple bind"
check_contains "$ERR" "ldaps://" "message for a cleartext simple bind"

# No ticket: a directory error whose next step is kinit.
export KRB5CCNAME=FILE:$TEST_TMP/empty-cache
run poll --no-progress -H "$LAB_URI_LDAP"
check_equal 3 "$STATUS" "GSSAPI without a ticket"
check_contains "$ERR" "kinit" "message without a ticket"

# The password never appears in any output, even with -v.
password=$(cat "$LAB_PASSWORD_FILE")
run poll --no-progress -v -b "$LAB_SEED_OU_DN" -H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE"
[[ $OUT$ERR != *"$password"* ]] || fail "the password appears in the output of -v"
DELEGAUDIT_PASSWORD=wrong-$password run poll --no-progress -H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN"
check_equal 3 "$STATUS" "wrong password from DELEGAUDIT_PASSWORD"
[[ $OUT$ERR != *"wrong-$password"* ]] || fail "the password appears in an error message"

finish
