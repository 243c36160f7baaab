#!/usr/bin/env bash
# Demonstrates delegaudit against a throwaway lab domain: builds it,
# provisions a Samba AD DC on 127.0.0.11 with planted krbtgt backdoors,
# polls it, removes one backdoor, polls again to show the change, and stops
# the DC (unless it was already running). Needs root and
# scripts/install-deps.sh --lab.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
lab_dir=${LAB_DIR:-$repo/tests/lab/run/demo}
build_dir=$repo/build
state=$(mktemp -d /tmp/delegaudit-demo.XXXXXX)

step() {
    printf '\n==> %s\n' "$*"
}

step "Building delegaudit in $build_dir"
cmake -S "$repo" -B "$build_dir" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" >/dev/null
delegaudit=$build_dir/delegaudit

started_lab=no
cleanup() {
    rm -rf "$state"
    if [[ $started_lab == yes ]]; then
        step "Stopping the lab DC"
        bash "$repo/tests/lab/stop.sh" "$lab_dir" --purge >/dev/null || true
    fi
}
trap cleanup EXIT

if (exec 3<>/dev/tcp/127.0.0.11/636) 2>/dev/null; then
    echo "demo.sh: a lab DC already listens on 127.0.0.11; stop it with tests/lab/stop.sh DIR" >&2
    exit 1
fi
step "Provisioning the lab domain CONTOSO.TEST on 127.0.0.11 and planting backdoors"
started_lab=yes
bash "$repo/tests/lab/provision.sh" "$lab_dir"
bash "$repo/tests/lab/seed.sh" "$lab_dir"
# shellcheck disable=SC1091
source "$lab_dir/lab.env"

connection=(-H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE")

step "delegaudit poll ${connection[*]} --state $state"
status=0
"$delegaudit" poll "${connection[@]}" --state "$state" || status=$?
echo "(exit status $status: 1 means findings or changes)"

step "Removing the backdoor of svc-backdoor and turning its protocol transition off"
LDAPTLS_CACERT=$LAB_CA_FILE ldapmodify -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" >/dev/null <<LDIF
dn: CN=svc-backdoor,OU=delegaudit-lab,$LAB_BASE_DN
changetype: modify
delete: msDS-AllowedToDelegateTo
msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST
-
replace: userAccountControl
userAccountControl: 512
LDIF

step "delegaudit poll again: the change since the first snapshot"
status=0
"$delegaudit" poll "${connection[@]}" --state "$state" || status=$?
echo "(exit status $status)"
