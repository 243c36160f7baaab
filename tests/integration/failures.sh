#!/usr/bin/env bash
# Failures give the documented exit status, a message that names the value
# and the next step, and leave the state directory byte for byte unchanged.
source "$(dirname "$0")/lib.sh"

state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_equal 1 "$STATUS" "baseline poll (stderr: $ERR)"
baseline=$(tree_digest "$state")

# Checks that the state directory is exactly as the baseline left it.
check_state_unchanged() {
    check_equal "$baseline" "$(tree_digest "$state")" "state directory after $1"
}

# Wrong password.
printf 'not-the-password\n' > "$TEST_TMP/wrong-password"
run poll -H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$TEST_TMP/wrong-password" --state "$state" --no-progress
check_equal 3 "$STATUS" "exit status with a wrong password"
check_contains "$ERR" "Invalid credentials" "message for a wrong password"
check_contains "$ERR" "check the bind DN and the password" "next step for a wrong password"
check_contains "$ERR" "no snapshot was saved" "message for a wrong password"
[[ $ERR != *not-the-password* ]] || fail "the wrong password appears in the message"
check_state_unchanged "a wrong password"

# Nothing listens: connection refused.
run poll -H ldaps://127.0.0.1:1 --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --state "$state" --no-progress
check_equal 3 "$STATUS" "exit status with nothing listening"
check_contains "$ERR" "ldaps://127.0.0.1:1" "message with nothing listening"
check_contains "$ERR" "Can't contact LDAP server" "message with nothing listening"
check_state_unchanged "an unreachable DC"

# A server that accepts the connection and never responds: the timeouts
# bound the poll, so it does not hang.
python3 - "$TEST_TMP/silent.port" <<'PY' &
import socket, sys, time
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(4)
open(sys.argv[1], "w").write(str(server.getsockname()[1]))
server.settimeout(60)
connections = []
try:
    while True:
        connections.append(server.accept()[0])
except OSError:
    pass
PY
silent_pid=$!
at_exit "kill $silent_pid 2>/dev/null"
for _ in $(seq 50); do [[ -s $TEST_TMP/silent.port ]] && break; sleep 0.1; done
port=$(cat "$TEST_TMP/silent.port")
start=$SECONDS
run poll -H "ldap://127.0.0.1:$port" -Z --connect-timeout 2 --timeout 2 --state "$state" --no-progress
elapsed=$((SECONDS - start))
check_equal 3 "$STATUS" "exit status with a silent server (stderr: $ERR)"
((elapsed <= 15)) || fail "a silent server held the poll for $elapsed s despite --timeout 2"
check_state_unchanged "a silent server"
# The same on ldaps://, where the TLS handshake itself gets no response.
start=$SECONDS
run poll -H "ldaps://127.0.0.1:$port" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --connect-timeout 2 --timeout 2 --state "$state" --no-progress
elapsed=$((SECONDS - start))
check_equal 3 "$STATUS" "exit status with a silent TLS server"
check_contains "$ERR" "timed out after 2 seconds" "message for a silent TLS server"
((elapsed <= 6)) || fail "a silent TLS server held the poll for $elapsed s despite --connect-timeout 2"
check_state_unchanged "a silent TLS server"

# The certificate does not verify: the IP address is not in it, and another
# CA does not trust it. No fallback to an unverified connection.
run poll -H "ldaps://$LAB_DC_IP" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --no-progress
check_equal 3 "$STATUS" "exit status for a name mismatch"
check_contains "$ERR" "--ca-file" "next step for a name mismatch"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=other-ca -keyout "$TEST_TMP/other.key" -out "$TEST_TMP/other-ca.pem" -days 1 2>/dev/null
run poll -H "$LAB_URI_LDAPS" --ca-file "$TEST_TMP/other-ca.pem" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --no-progress
check_equal 3 "$STATUS" "exit status for an untrusted CA"
run poll -H "$LAB_URI_LDAPS" --ca-file "$TEST_TMP/missing.pem" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --no-progress
[[ $STATUS == 2 || $STATUS == 3 ]] || fail "exit status for a missing CA file: $STATUS"
check_contains "$ERR" "$TEST_TMP/missing.pem" "message for a missing CA file"

# Without --ca-file the OpenLDAP client configuration decides which CAs to
# trust (here LDAPTLS_CACERT), and LDAPTLS_REQCERT=never cannot switch the
# certificate check off.
LDAPTLS_CACERT=$LAB_CA_FILE run poll -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" -b "CN=Users,$LAB_BASE_DN" --no-progress
check_equal 0 "$STATUS" "CA from LDAPTLS_CACERT (stderr: $ERR)"
LDAPTLS_CACERT=$TEST_TMP/other-ca.pem LDAPTLS_REQCERT=never run poll -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" -b "CN=Users,$LAB_BASE_DN" --no-progress
check_equal 3 "$STATUS" "LDAPTLS_REQCERT=never with an untrusted certificate"

# A corrupt latest snapshot: an error naming it, and it stays as it is.
latest=$state/$(cat "$state/latest")
cp "$latest" "$TEST_TMP/latest.good"
head -c 100 "$TEST_TMP/latest.good" > "$latest"
baseline=$(tree_digest "$state")
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_equal 4 "$STATUS" "exit status with a truncated snapshot"
check_contains "$ERR" "$latest" "message for a truncated snapshot"
check_state_unchanged "a truncated snapshot"
# A newer format: the same, with advice to upgrade.
jq '.format_version = 99' "$TEST_TMP/latest.good" > "$latest"
baseline=$(tree_digest "$state")
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_equal 4 "$STATUS" "exit status with a newer-format snapshot"
check_contains "$ERR" "newer" "message for a newer-format snapshot"
check_state_unchanged "a newer-format snapshot"
cp "$TEST_TMP/latest.good" "$latest"
baseline=$(tree_digest "$state")

# Two polls on one state directory: the second stops at the lock.
exec 9>>"$state/lock"
flock -n 9 || fail "could not take the lock for the test"
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_equal 4 "$STATUS" "exit status while another poll holds the lock"
check_contains "$ERR" "lock" "message while the lock is held"
exec 9>&-
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_equal 1 "$STATUS" "poll after the lock was released (stderr: $ERR)"

# A report that cannot be written (a full disk) leaves the baseline as it
# was, so the next poll still reports the changes.
baseline=$(tree_digest "$state")
set +e
"$DELEGAUDIT" poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state" >/dev/full 2>"$TEST_TMP/stderr"
status=$?
set -e
check_equal 4 "$status" "exit status when the report cannot be written"
check_contains "$(cat "$TEST_TMP/stderr")" "not saved" "message when the report cannot be written"
check_state_unchanged "a report that could not be written"

# A previous snapshot of another base is not compared with.
run poll "${SIMPLE_BIND[@]}" -b "CN=Users,$LAB_BASE_DN" --state "$state" --json
check_equal 0 "$STATUS" "poll of another base (stderr: $ERR)"
check_equal null "$(jq .changes <<<"$OUT")" "changes against a snapshot of another base"
check_contains "$(jq -r .comparison_skipped <<<"$OUT")" "under base" "reason for skipping the comparison"

# Snapshots without a latest file: a warning that names the directory.
rm "$state/latest"
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_contains "$ERR" "no \`latest\` file" "warning without a latest file"
check_contains "$ERR" "$state" "warning without a latest file"
baseline=$(tree_digest "$state")

# Usage errors.
run poll -H "$LAB_URI_LDAPS" --password=Hunter2Secret
check_equal 2 "$STATUS" "--password on the command line"
[[ $ERR != *Hunter2Secret* ]] || fail "the --password value appears in the message"
run poll -H "$LAB_URI_LDAPS" --page=5
check_equal 2 "$STATUS" "abbreviated long option"
run poll -H "$LAB_URI_LDAPS" -w secret
check_equal 2 "$STATUS" "-w on the command line"
check_contains "$ERR" "process list" "message for -w"
run poll
check_equal 2 "$STATUS" "poll without -H"
check_contains "$ERR" "-H" "message without -H"
run poll --page-size 0 -H "$LAB_URI_LDAPS"
check_equal 2 "$STATUS" "page size 0"
run frobnicate
check_equal 2 "$STATUS" "unknown command"
run poll -H "ldaps://dc1.contoso.test ldaps://dc2.contoso.test"
check_equal 2 "$STATUS" "two servers in one URI"
run diff "$TEST_TMP/nonexistent.json" "$latest"
check_equal 4 "$STATUS" "diff of a missing file"
check_contains "$ERR" "$TEST_TMP/nonexistent.json" "message for a missing file"

# The configuration file gives the same settings; options override it.
cat > "$TEST_TMP/delegaudit.conf" <<CONF
# scheduled audit of the lab
uri = $LAB_URI_LDAPS
ca-file = $LAB_CA_FILE
simple-bind = yes
binddn = $LAB_ADMIN_DN
password-file = $LAB_PASSWORD_FILE
base = CN=Users,$LAB_BASE_DN
no-progress = yes
CONF
run poll --config "$TEST_TMP/delegaudit.conf"
check_equal 0 "$STATUS" "poll from the configuration file (stderr: $ERR)"
run poll --config "$TEST_TMP/delegaudit.conf" -b "$LAB_SEED_OU_DN"
check_equal 1 "$STATUS" "-b overriding the configuration file"

finish
