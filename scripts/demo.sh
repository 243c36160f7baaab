#!/usr/bin/env bash
# Demonstrates delegaudit against a throwaway lab domain: builds it,
# provisions a Samba AD DC on 127.0.0.11 with planted krbtgt backdoors,
# writes a Security log export of the change that planted one of them, runs
# `delegaudit audit` (poll plus remediation report), applies the LDIF the
# report gives, polls again, and stops the DC (unless it was already
# running). Needs root and scripts/install-deps.sh --lab.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
lab_dir=${LAB_DIR:-$repo/tests/lab/run/demo}
build_dir=$repo/build
work=$(mktemp -d /tmp/delegaudit-demo.XXXXXX)
state=$work/state

step() {
    printf '\n==> %s\n' "$*"
}

step "Building delegaudit in $build_dir"
cmake -S "$repo" -B "$build_dir" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" >/dev/null
delegaudit=$build_dir/delegaudit

started_lab=no
cleanup() {
    rm -rf "$work"
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
export LDAPTLS_CACERT=$LAB_CA_FILE

connection=(-H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE")
backdoor_dn="CN=svc-backdoor,OU=delegaudit-lab,$LAB_BASE_DN"

# The SID of an entry, from its binary objectSid.
sid_of() {
    ldapsearch -LLL -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" -b "$1" \
        -s base objectSid | sed -n 's/^objectSid:: //p' | /usr/bin/python3 -c '
import base64, struct, sys
raw = base64.b64decode(sys.stdin.read())
subs = struct.unpack("<" + "I" * raw[1], raw[8:8 + 4 * raw[1]])
print("S-1-%d-%s" % (int.from_bytes(raw[2:8], "big"), "-".join(map(str, subs))))'
}

step "Writing a Security log export (wevtutil XML) of the change that planted svc-backdoor's backdoor"
target_sid=$(sid_of "$backdoor_dn")
admin_sid=$(sid_of "$LAB_ADMIN_DN")
cat > "$work/dc1-security.xml" <<XML
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4624</EventID><TimeCreated SystemTime='2026-12-04T02:58:11.5000000Z'/><EventRecordID>90211</EventRecordID><Computer>DC1.contoso.test</Computer></System><EventData><Data Name='TargetUserSid'>$admin_sid</Data><Data Name='TargetUserName'>Administrator</Data><Data Name='TargetDomainName'>CONTOSO</Data><Data Name='TargetLogonId'>0x8D1F2</Data><Data Name='LogonType'>10</Data><Data Name='IpAddress'>192.0.2.77</Data><Data Name='IpPort'>50122</Data><Data Name='WorkstationName'>UNKNOWN-PC</Data><Data Name='AuthenticationPackageName'>Negotiate</Data><Data Name='LogonProcessName'>User32</Data></EventData></Event>
<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>4738</EventID><TimeCreated SystemTime='2026-12-04T03:02:40.1000000Z'/><EventRecordID>90245</EventRecordID><Computer>DC1.contoso.test</Computer></System><EventData><Data Name='TargetSid'>$target_sid</Data><Data Name='TargetUserName'>svc-backdoor</Data><Data Name='TargetDomainName'>CONTOSO</Data><Data Name='SubjectUserSid'>$admin_sid</Data><Data Name='SubjectUserName'>Administrator</Data><Data Name='SubjectDomainName'>CONTOSO</Data><Data Name='SubjectLogonId'>0x8d1f2</Data><Data Name='AllowedToDelegateTo'>krbtgt/CONTOSO.TEST</Data><Data Name='OldUacValue'>0x210</Data><Data Name='NewUacValue'>0x1000210</Data></EventData></Event>
XML

step "delegaudit audit ${connection[*]} --state $state --events $work/dc1-security.xml"
status=0
"$delegaudit" audit "${connection[@]}" --state "$state" --events "$work/dc1-security.xml" \
    --format json -o "$work/report.json" || status=$?
"$delegaudit" report --state "$state" --events "$work/dc1-security.xml" || true
echo "(exit status of audit: $status; 1 means findings or changes)"

step "Applying the remediation LDIF that the report gives for svc-backdoor"
jq -r '.entries[] | select(.account.sam_account_name == "svc-backdoor") | .remediation.ldif' \
    "$work/report.json" | tee "$work/remediation.ldif"
ldapmodify -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" \
    -f "$work/remediation.ldif" >/dev/null

step "delegaudit poll again: svc-backdoor's finding is gone, and the change is reported"
status=0
"$delegaudit" poll "${connection[@]}" --state "$state" || status=$?
echo "(exit status $status)"
