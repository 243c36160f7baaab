#!/usr/bin/env bash
# Server faults that a real AD DC can produce but the Samba lab DC cannot
# produce on demand, played by fake_ldap_server.py over LDAPS on 127.0.0.1.
# For each fault delegaudit must exit with status 3, name the fault, and leave
# a state directory that contains an earlier snapshot byte for byte unchanged.
#
# Needs no lab DC, only python3, openssl, jq and timeout. Unlike the lab tests
# it does not source lib.sh, because lib.sh requires a seeded lab.
#
# Usage: tests/integration/server_faults.sh  (DELEGAUDIT=path overrides the
# binary, default build/delegaudit of this repository)
set -euo pipefail

TEST_NAME=$(basename "$0" .sh)
TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DELEGAUDIT=${DELEGAUDIT:-$TEST_DIR/../../build/delegaudit}
FAKE_SERVER=$TEST_DIR/fake_ldap_server.py
# Maximum seconds for one poll. A poll still running after that is taken to
# be looping, because every other poll against the fake ends within about a
# second, and the silent-after-bind one after about its --timeout 2.
POLL_LIMIT=20
TEST_FAILURES=0
SERVER_PIDS=()

[[ -x $DELEGAUDIT ]] || { echo "$TEST_NAME: delegaudit binary $DELEGAUDIT not found; build first" >&2; exit 1; }

TEST_TMP=$(mktemp -d "/tmp/delegaudit-$TEST_NAME.XXXXXX")

cleanup() {
    local pid
    for pid in "${SERVER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TEST_TMP"
}
trap cleanup EXIT

log() {
    printf '%s: %s\n' "$TEST_NAME" "$*" >&2
}

# Records a failed check and goes on, so one run shows every failure.
fail() {
    printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
    TEST_FAILURES=$((TEST_FAILURES + 1))
}

check_equal() {
    local expected=$1 actual=$2 what=$3
    if [[ $expected != "$actual" ]]; then
        fail "$what: expected '$expected', got '$actual'"
    fi
}

check_contains() {
    local haystack=$1 needle=$2 what=$3
    if [[ $haystack != *"$needle"* ]]; then
        fail "$what: '$needle' not found in: $haystack"
    fi
}

finish() {
    if ((TEST_FAILURES > 0)); then
        log "$TEST_FAILURES check(s) failed"
        exit 1
    fi
    log "all checks passed"
    exit 0
}

# Prints the SHA-256 of every file in a directory, one per line, sorted.
tree_digest() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# A throwaway CA and a server certificate. libldap checks the certificate
# against the local host name instead of "localhost" when the URI host is
# "localhost" (ldap_int_hostname in its TLS code), so the certificate names
# both.
make_certificates() {
    local names fqdn
    names="DNS:localhost,DNS:$(hostname)"
    fqdn=$(hostname -f 2>/dev/null || true)
    [[ -z $fqdn ]] || names+=",DNS:$fqdn"

    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj /CN=delegaudit-fake-ca -days 1 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$TEST_TMP/ca.key" -out "$TEST_TMP/ca.pem" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj /CN=localhost -keyout "$TEST_TMP/server.key" -out "$TEST_TMP/server.csr" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
        "$names" > "$TEST_TMP/server.ext"
    openssl x509 -req -in "$TEST_TMP/server.csr" -CA "$TEST_TMP/ca.pem" -CAkey "$TEST_TMP/ca.key" \
        -CAcreateserial -days 1 -extfile "$TEST_TMP/server.ext" -out "$TEST_TMP/server.pem" 2>/dev/null
}

# Starts the fake server for a scenario, sets SERVER_PID, PORT and
# REQUEST_LOG (one line per request the server received).
start_server() {
    local scenario=$1
    local port_file=$TEST_TMP/$scenario.port
    REQUEST_LOG=$TEST_TMP/$scenario.requests
    python3 "$FAKE_SERVER" --scenario "$scenario" --port-file "$port_file" \
        --cert "$TEST_TMP/server.pem" --key "$TEST_TMP/server.key" --log "$REQUEST_LOG" \
        2>"$TEST_TMP/$scenario.server-stderr" &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    for _ in $(seq 100); do
        [[ -s $port_file ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ ! -s $port_file ]]; then
        log "the fake server for $scenario did not start: $(cat "$TEST_TMP/$scenario.server-stderr")"
        exit 1
    fi
    PORT=$(cat "$port_file")
    : >>"$REQUEST_LOG"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# Counts the lines of the request log that contain a string.
count_requests() {
    grep -c -F -- "$1" "$REQUEST_LOG" || true
}

# Polls the running fake server with the state directory $1 and further
# options. Sets STATUS, OUT (stdout, the JSON report), ERR (stderr) and
# ELAPSED (seconds). A poll still running after POLL_LIMIT seconds is
# killed and ends with status 124.
poll_fake() {
    local state=$1
    shift
    local start=$SECONDS
    set +e
    timeout --kill-after=5 "$POLL_LIMIT" "$DELEGAUDIT" poll -H "ldaps://localhost:$PORT" \
        --ca-file "$TEST_TMP/ca.pem" -x -D cn=test -y "$TEST_TMP/password" \
        --state "$state" --no-progress --json "$@" >"$TEST_TMP/stdout" 2>"$TEST_TMP/stderr"
    STATUS=$?
    set -e
    ELAPSED=$((SECONDS - start))
    OUT=$(cat "$TEST_TMP/stdout")
    ERR=$(cat "$TEST_TMP/stderr")
    KILLED=no
    if ((STATUS == 124 || STATUS == 137)); then
        KILLED=yes
        fail "delegaudit was still running after $POLL_LIMIT s and was killed (stderr: $ERR)"
    fi
}

# Polls a scenario that must fail: exit status 3, a message that contains
# $2, and the baseline state directory unchanged. Further arguments are
# passed to delegaudit.
check_poll_fails() {
    local scenario=$1 message=$2
    shift 2
    start_server "$scenario"
    poll_fake "$state" "$@"
    stop_server
    if [[ $KILLED == yes ]]; then
        # A killed poll leaves its pid in state/lock, which the next poll
        # overwrites, so the later checks compare with the state as it is now.
        fail "$scenario: the poll did not end by itself"
        baseline=$(tree_digest "$state")
        return
    fi
    check_equal 3 "$STATUS" "$scenario: exit status (stderr: $ERR)"
    check_contains "$ERR" "$message" "$scenario: message"
    check_contains "$ERR" "no snapshot was saved" "$scenario: message"
    check_equal "$baseline" "$(tree_digest "$state")" "$scenario: state directory"
}

make_certificates
printf 'secret\n' > "$TEST_TMP/password"
state=$TEST_TMP/state

# ok: proves that the fake is good enough for a whole poll, and saves the
# baseline snapshot that every failure below must leave alone.
start_server ok
poll_fake "$state"
stop_server
check_equal 1 "$STATUS" "ok: exit status (stderr: $ERR)"
check_equal "krbtgt-delegation-protocol-transition svc-backdoor krbtgt/FAKE.TEST" \
    "$(jq -r '.findings[] | [.rule_id, .account.sam_account_name, .values[]] | join(" ")' <<<"$OUT")" \
    "ok: findings"
check_equal "6 2" "$(jq -r '.statistics | "\(.entries) \(.pages)"' <<<"$OUT")" "ok: entries and pages"
check_equal "DC=fake,DC=test S-1-5-21-1-2-3" "$(jq -r '.poll | "\(.base_dn) \(.domain_sid)"' <<<"$OUT")" \
    "ok: base DN and domain SID"
[[ -f $state/latest ]] || fail "ok: no snapshot was saved"
baseline=$(tree_digest "$state")

# The first page ends without the paged-results response control, so the
# next page cannot be requested.
check_poll_fails missing-page-control "paged-results response control"

# The delegation search ends with sizeLimitExceeded (4) after 2 entries.
check_poll_fails size-limit "Size limit exceeded (4)"

# The delegation search ends with timeLimitExceeded (3) after 2 entries.
check_poll_fails time-limit "Time limit exceeded (3)"

# The follow-up range has no values: one follow-up request, then stop.
check_poll_fails ranges-no-progress "no progress"
check_equal 1 "$(count_requests ';range=')" "ranges-no-progress: follow-up range requests"

# The bind succeeds, then no search gets a response, so --timeout 2 ends the poll.
check_poll_fails silent-after-bind "Timed out" --timeout 2
((ELAPSED <= 10)) || fail "silent-after-bind: the poll took $ELAPSED s despite --timeout 2"

# Every page returns the same cookie and the same entries: stop at the
# second page instead of requesting it forever.
check_poll_fails cookie-loop "is repeating pages"
check_equal 2 "$(count_requests ' paged ')" "cookie-loop: pages requested"

# The pages alternate between two cookies, each with the same entries. The
# poll must end by itself at the first account served twice.
check_poll_fails cookie-cycle "is repeating pages"
pages=$(count_requests ' paged ')
((pages <= 10)) || fail "cookie-cycle: the server saw $pages page requests"

# ranges-windows: msDS-AllowedToDelegateTo comes back in ranges 0-2, 3-5 and
# 6-*. The poll runs on a copy of the baseline, so delegaudit looks up the six
# accounts that the fake no longer returns by <GUID=...>, and the fake
# responds with noSuchObject.
cp -a "$state" "$TEST_TMP/state-ranges"
start_server ranges-windows
poll_fake "$TEST_TMP/state-ranges"
stop_server
check_equal 1 "$STATUS" "ranges-windows: exit status (stderr: $ERR)"
check_equal 2 "$(count_requests ';range=')" "ranges-windows: follow-up range requests"
check_equal 1 "$(count_requests ';range=3-*')" "ranges-windows: requests for range 3-*"
check_equal 1 "$(count_requests ';range=6-*')" "ranges-windows: requests for range 6-*"
snapshot=$TEST_TMP/state-ranges/$(cat "$TEST_TMP/state-ranges/latest")
expected_targets=$(printf 'cifs/fs%d.fake.test\n' 1 2 3 4 5 6 7)
check_equal "$expected_targets" \
    "$(jq -r '.accounts[] | select(.sam_account_name == "svc-many") | .allowed_to_delegate_to[]' "$snapshot")" \
    "ranges-windows: targets in the snapshot"
check_equal "not-found not-found not-found not-found not-found not-found" \
    "$(jq -r '[.changes[] | select(.type == "lost") | .presence] | join(" ")' <<<"$OUT")" \
    "ranges-windows: presence of the accounts missing since the baseline"
check_equal "$baseline" "$(tree_digest "$state")" "state directory after ranges-windows"

finish
