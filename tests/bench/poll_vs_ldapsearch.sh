#!/usr/bin/env bash
# Times a full `delegaudit poll` beside `ldapsearch` with the same filter,
# attributes and page size against the same lab DC, and prints both side by
# side with peak RSS. The lab DC gets 10,000 bulk accounts (300 of them with
# constrained delegation) on top of the seeded ones.
#
# Usage: tests/bench/poll_vs_ldapsearch.sh [RUNS]   (default 7 runs each)
# Needs root and scripts/install-deps.sh --lab. It provisions its own lab DC
# in tests/lab/run/bench and stops it at the end; it refuses to run while
# another lab DC is up, because all labs share 127.0.0.11.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-7}
lab_dir=$repo/tests/lab/run/bench
build_dir=$repo/build-bench
accounts=10000
delegating=300
page_size=1000

[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
if (exec 3<>/dev/tcp/127.0.0.11/636) 2>/dev/null; then
    echo "poll_vs_ldapsearch.sh: a lab DC already listens on 127.0.0.11:636; stop it with tests/lab/stop.sh first" >&2
    exit 1
fi

cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" >/dev/null
delegaudit=$build_dir/delegaudit

bash "$repo/tests/lab/provision.sh" "$lab_dir" >/dev/null
trap 'bash "$repo/tests/lab/stop.sh" "$lab_dir" >/dev/null || true' EXIT
bash "$repo/tests/lab/seed.sh" "$lab_dir" >/dev/null
bash "$repo/tests/lab/seed-bulk.sh" "$lab_dir" "$accounts" "$delegating"
# shellcheck disable=SC1091
source "$lab_dir/lab.env"
export LDAPTLS_CACERT=$LAB_CA_FILE

filter='(|(msDS-AllowedToDelegateTo=*)(userAccountControl:1.2.840.113556.1.4.803:=524288)(userAccountControl:1.2.840.113556.1.4.803:=16777216)(msDS-AllowedToActOnBehalfOfOtherIdentity=*))'
attributes=(objectGUID objectSid sAMAccountName objectClass userAccountControl
    msDS-AllowedToDelegateTo servicePrincipalName msDS-AllowedToActOnBehalfOfOtherIdentity
    whenChanged uSNChanged)
total=$(ldapsearch -LLL -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" \
    -E pr=$page_size/noprompt -b "$LAB_BASE_DN" '(objectClass=user)' 1.1 | grep -c '^dn:')
matching=$(ldapsearch -LLL -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" \
    -E pr=$page_size/noprompt -b "$LAB_BASE_DN" "$filter" 1.1 | grep -c '^dn:')

state=$(mktemp -d /tmp/delegaudit-bench.XXXXXX)
trap 'rm -rf "$state"; bash "$repo/tests/lab/stop.sh" "$lab_dir" >/dev/null || true' EXIT

# Runs a command under GNU time; prints "seconds kilobytes".
measure() {
    /usr/bin/time -f '%e %M' -o "$state/time" "$@" >/dev/null 2>"$state/stderr" || {
        local status=$?
        # delegaudit exits 1 when it has findings: a successful poll.
        [[ $1 == "$delegaudit" && $status == 1 ]] || { cat "$state/stderr" >&2; exit 1; }
    }
    # After a non-zero exit GNU time writes "Command exited with non-zero
    # status 1" on a line before the figures.
    tail -n 1 "$state/time"
}

median() {
    sort -n | awk '{ value[NR] = $1 } END { print (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2 }'
}

: > "$state/ldapsearch"
: > "$state/delegaudit"
for run in $(seq "$runs"); do
    measure ldapsearch -LLL -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" \
        -E pr=$page_size/noprompt -b "$LAB_BASE_DN" "$filter" "${attributes[@]}" >> "$state/ldapsearch"
    measure "$delegaudit" poll -H "$LAB_URI_LDAPS" --ca-file "$LAB_CA_FILE" -x -D "$LAB_ADMIN_DN" \
        -y "$LAB_PASSWORD_FILE" --page-size $page_size --state "$state/snapshots" --json --no-progress \
        >> "$state/delegaudit"
done

ldap_time=$(cut -d' ' -f1 "$state/ldapsearch" | median)
ldap_rss=$(cut -d' ' -f2 "$state/ldapsearch" | sort -n | tail -1)
audit_time=$(cut -d' ' -f1 "$state/delegaudit" | median)
audit_rss=$(cut -d' ' -f2 "$state/delegaudit" | sort -n | tail -1)

echo
echo "Poll of $LAB_DC_HOST (Samba $(samba --version | cut -d' ' -f2)): $total user objects, $matching with delegation settings, page size $page_size, $runs runs each"
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-34s %14s %14s\n' "" "median wall s" "max RSS MiB"
printf '%-34s %14.3f %14.1f\n' "ldapsearch (same filter, LDIF)" "$ldap_time" "$(awk -v k="$ldap_rss" 'BEGIN { print k / 1024 }')"
printf '%-34s %14.3f %14.1f\n' "delegaudit poll (snapshot, diff)" "$audit_time" "$(awk -v k="$audit_rss" 'BEGIN { print k / 1024 }')"
ratio=$(awk -v a="$audit_time" -v b="$ldap_time" 'BEGIN { printf "%.2f", a / b }')
echo "Wall time ratio delegaudit/ldapsearch: $ratio (target at most 1.30)"
echo "delegaudit peak RSS: $(awk -v k="$audit_rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB (target under 32 MiB)"
