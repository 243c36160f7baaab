#!/usr/bin/env bash
# The DC stops in the middle of a poll: the poll fails with the directory
# error status and the previous snapshot stays byte for byte as it was.
# The DC is started again at the end.
source "$(dirname "$0")/lib.sh"

state=$TEST_TMP/state
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_equal 1 "$STATUS" "baseline poll (stderr: $ERR)"
baseline=$(tree_digest "$state")

restart_dc() {
    if ! (exec 3<>"/dev/tcp/$LAB_DC_IP/636") 2>/dev/null; then
        bash "$TEST_REPO_DIR/tests/lab/start.sh" "$LAB_DIR" >/dev/null
        wait_for_dc
    fi
    # The port may accept connections before TLS and the directory are
    # ready: wait until an LDAPS read of the RootDSE succeeds, up to 30 s.
    for _ in $(seq 60); do
        ldap_admin ldapsearch -LLL -b "" -s base 1.1 >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    fail "the restarted DC does not answer LDAPS searches"
}
at_exit restart_dc

# Small pages make a poll of the whole domain take hundreds of requests;
# -vv logs each page, and the DC is stopped once five pages are in.
"$DELEGAUDIT" poll "${SIMPLE_BIND[@]}" --page-size 5 --state "$state" -vv \
    >"$TEST_TMP/poll.out" 2>"$TEST_TMP/poll.err" &
poll_pid=$!
for _ in $(seq 600); do
    grep -q "page 5 read" "$TEST_TMP/poll.err" 2>/dev/null && break
    kill -0 "$poll_pid" 2>/dev/null || break
    sleep 0.05
done
grep -q "page 5 read" "$TEST_TMP/poll.err" || fail "the poll never reached page 5: $(cat "$TEST_TMP/poll.err")"
dc_pid=$(cat "$LAB_PID_FILE")
kill -TERM "$dc_pid"
set +e
wait "$poll_pid"
status=$?
set -e

# Samba's workers share the master's session and may hold port 636 for a
# moment after it exits: wait until the whole session is gone, so that the
# restart below neither skips nor collides with them.
session_alive() {
    local sessions
    sessions=$(ps -eo sid=)
    grep -qw "$dc_pid" <<<"$sessions"
}
for _ in $(seq 300); do
    session_alive || break
    sleep 0.1
done
session_alive && fail "the stopped DC's processes did not exit within 30 s"

check_equal 3 "$status" "exit status when the DC stops mid-poll"
errors=$(cat "$TEST_TMP/poll.err")
check_contains "$errors" "poll incomplete" "message when the DC stops"
check_contains "$errors" "no snapshot was saved" "message when the DC stops"
check_equal "$baseline" "$(tree_digest "$state")" "state directory after the DC stopped"
[[ ! -s $TEST_TMP/poll.out ]] || fail "a report was printed for an incomplete poll: $(head -5 "$TEST_TMP/poll.out")"

# While the DC is down: unreachable, same guarantees.
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state"
check_equal 3 "$STATUS" "exit status while the DC is down"
check_equal "$baseline" "$(tree_digest "$state")" "state directory while the DC is down"

# Back up: the next poll compares with the intact baseline and reports no
# change, so nothing was lost.
restart_dc
run poll "${SIMPLE_BIND[@]}" -b "$LAB_SEED_OU_DN" --state "$state" --json
check_equal 1 "$STATUS" "poll after the restart (stderr: $ERR)"
check_equal 0 "$(jq '.changes | length' <<<"$OUT")" "changes after the restart"

finish
