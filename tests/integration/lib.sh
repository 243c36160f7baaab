# shellcheck shell=bash
# Helpers for the integration tests. Source it from a test script.
#
# Each test runs delegaudit ($DELEGAUDIT, set by ctest) against the lab DC,
# reads lab.env and seeded.env from the lab directory, and works in a
# temporary directory that is removed when it exits. Accounts a test changes
# live in an OU of its own, deleted at exit, so tests do not disturb each
# other or the seeded accounts.
set -euo pipefail

TEST_NAME=$(basename "$0" .sh)
TEST_REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$TEST_REPO_DIR/tests/lab/run/dc1}
DELEGAUDIT=${DELEGAUDIT:-$TEST_REPO_DIR/build/delegaudit}
TEST_FAILURES=0
TEST_CLEANUPS=()

[[ -x $DELEGAUDIT ]] || { echo "$TEST_NAME: delegaudit binary $DELEGAUDIT not found; build first" >&2; exit 1; }
[[ -f $LAB_DIR/lab.env && -f $LAB_DIR/seeded.env ]] ||
    { echo "$TEST_NAME: no seeded lab in $LAB_DIR; run tests/integration/setup.sh" >&2; exit 1; }
# shellcheck disable=SC1091
source "$LAB_DIR/lab.env"
# shellcheck disable=SC1091
source "$LAB_DIR/seeded.env"
export LDAPTLS_CACERT=$LAB_CA_FILE

TEST_TMP=$(mktemp -d "/tmp/delegaudit-$TEST_NAME.XXXXXX")

run_cleanups() {
    local index
    for ((index = ${#TEST_CLEANUPS[@]} - 1; index >= 0; index--)); do
        eval "${TEST_CLEANUPS[index]}" || true
    done
    rm -rf "$TEST_TMP"
}
trap run_cleanups EXIT

# Registers a shell command to run at exit, last registered first.
at_exit() {
    TEST_CLEANUPS+=("$1")
}

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

# Ends the test with ctest's verdict.
finish() {
    if ((TEST_FAILURES > 0)); then
        log "$TEST_FAILURES check(s) failed"
        exit 1
    fi
    log "all checks passed"
    exit 0
}

# Runs delegaudit and stores its exit status in STATUS, stdout in OUT and
# stderr in ERR, without stopping the test on a non-zero status.
run() {
    set +e
    "$DELEGAUDIT" "$@" >"$TEST_TMP/stdout" 2>"$TEST_TMP/stderr"
    STATUS=$?
    set -e
    OUT=$(cat "$TEST_TMP/stdout")
    ERR=$(cat "$TEST_TMP/stderr")
}

# The connection options of a simple bind over LDAPS as Administrator.
SIMPLE_BIND=(-H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --no-progress)

ldap_admin() {
    local tool=$1
    shift
    "$tool" -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" "$@"
}

# Applies LDIF from stdin as Administrator over LDAPS.
ldap_modify() {
    ldap_admin ldapmodify >/dev/null
}

# Creates OU=NAME under the domain, sets TEST_OU to its DN, and deletes its
# subtree at exit. Call it directly, not in $(...), or the cleanup is lost
# with the subshell.
make_test_ou() {
    local name=$1
    TEST_OU="OU=$name,$LAB_BASE_DN"
    ldap_admin ldapdelete -r "$TEST_OU" >/dev/null 2>&1 || true
    printf 'dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n' "$TEST_OU" | ldap_modify
    at_exit "ldap_admin ldapdelete -r '$TEST_OU' >/dev/null 2>&1"
}

# Adds a user with the given sAMAccountName under OU; extra LDIF lines
# (attribute: value) may follow as arguments.
add_user() {
    local ou=$1 name=$2
    shift 2
    {
        printf 'dn: CN=%s,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: %s\n' "$name" "$ou" "$name"
        if (($# > 0)); then
            printf '%s\n' "$@"
        fi
        printf '\n'
    } | ldap_modify
}

# Prints the SHA-256 of every file in a directory, one per line, sorted.
tree_digest() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# Waits up to 60 seconds until the DC accepts connections on port 636 again.
wait_for_dc() {
    local deadline=$((SECONDS + 60))
    until (exec 3<>"/dev/tcp/$LAB_DC_IP/636") 2>/dev/null; do
        ((SECONDS < deadline)) || { fail "the lab DC did not come back on port 636"; return 1; }
        sleep 0.5
    done
}
