#!/usr/bin/env bash
# Times `delegaudit verify` of 100 flagged accounts on two lab DCs, read
# concurrently as verify does, beside the same reads done one DC after the
# other (DELEGAUDIT_VERIFY_SEQUENTIAL=1 makes the same process do the same
# work, connection for connection, one DC at a time), and prints both side
# by side with the ratio and peak RSS. Two cases: the DCs named with --dc,
# so that every DC is read from the start, and the DCs listed from the
# configuration partition, where the other DCs wait for the listing.
#
# Usage: tests/bench/verify_concurrent.sh [RUNS]   (default 15 runs each)
# Needs root and scripts/install-deps.sh --lab. It provisions its own DC1
# in tests/lab/run/bench and DC2 in tests/lab/run/bench-dc2 and stops both
# at the end; it refuses to run while another lab DC is up, because all
# labs share 127.0.0.11 and 127.0.0.12.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-15}
lab_dir=$repo/tests/lab/run/bench
dc2_dir=$repo/tests/lab/run/bench-dc2
build_dir=$repo/build-bench
flagged=100

[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }
for address in 127.0.0.11 127.0.0.12; do
    if (exec 3<>"/dev/tcp/$address/636") 2>/dev/null; then
        echo "verify_concurrent.sh: a lab DC already listens on $address:636; stop it with tests/lab/stop.sh first" >&2
        exit 1
    fi
done

cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" >/dev/null
delegaudit=$build_dir/delegaudit

state=$(mktemp -d /tmp/delegaudit-bench.XXXXXX)
cleanup() {
    rm -rf "$state"
    bash "$repo/tests/lab/stop.sh" "$dc2_dir" >/dev/null 2>&1 || true
    bash "$repo/tests/lab/stop.sh" "$lab_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bash "$repo/tests/lab/provision.sh" "$lab_dir" >/dev/null
# shellcheck disable=SC1091
source "$lab_dir/lab.env"
export LDAPTLS_CACERT=$LAB_CA_FILE

# 100 accounts with a krbtgt target, in one LDIF.
ou="OU=verify-bench,$LAB_BASE_DN"
{
    printf 'dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n' "$ou"
    for i in $(seq -w 1 "$flagged"); do
        printf 'dn: CN=svc-flag-%s,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: svc-flag-%s\n' \
            "$i" "$ou" "$i"
        printf 'msDS-AllowedToDelegateTo: krbtgt/CONTOSO.TEST\n\n'
    done
} | ldapmodify -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" >/dev/null

bash "$repo/tests/lab/join-dc2.sh" "$lab_dir" "$dc2_dir" >/dev/null
bundle=$dc2_dir/ca-bundle.pem
bind=(-H "$LAB_URI_LDAPS" --ca-file "$bundle" -x -D "$LAB_ADMIN_DN" -y "$LAB_PASSWORD_FILE" --no-progress)

# The findings to verify, from a poll of DC1.
set +e
"$delegaudit" poll "${bind[@]}" --state "$state/snapshots" >/dev/null 2>"$state/stderr"
status=$?
set -e
[[ $status == 1 ]] || { cat "$state/stderr" >&2; echo "verify_concurrent.sh: the poll found no backdoor" >&2; exit 1; }

# Both DCs must hold all 100 before timing starts; DC2 has them after the
# join's first pull.
"$delegaudit" verify "${bind[@]}" --state "$state/snapshots" --json >"$state/check.json" 2>"$state/stderr" || true
accounts=$(jq '.accounts | length' "$state/check.json")
dcs=$(jq '[.domain_controllers[] | select(.reachable)] | length' "$state/check.json")
found=$(jq '[.accounts[].domain_controllers[] | select(.found)] | length' "$state/check.json")
if [[ $dcs != 2 || $found != $((accounts * 2)) ]]; then
    cat "$state/stderr" >&2
    echo "verify_concurrent.sh: expected $accounts accounts on 2 DCs, found $found cells on $dcs DCs" >&2
    exit 1
fi

# Runs verify once; prints "seconds kilobytes": wall time from bash's
# microsecond clock (GNU time rounds to 10 ms, a fifth of a run), peak RSS
# from GNU time. Exit status 1 is the expected verdict (backdoored).
# measure [VAR=VALUE...] -- [VERIFY OPTIONS...]
measure() {
    local status=0 start end variables=()
    while [[ $1 != -- ]]; do variables+=("$1"); shift; done
    shift
    start=$EPOCHREALTIME
    env "${variables[@]}" /usr/bin/time -f '%M' -o "$state/time" "$delegaudit" verify "${bind[@]}" \
        --state "$state/snapshots" --json "$@" >/dev/null 2>"$state/stderr" || status=$?
    end=$EPOCHREALTIME
    [[ $status == 1 ]] || { cat "$state/stderr" >&2; exit 1; }
    # GNU time puts "Command exited with non-zero status 1" before the figures.
    printf '%s %s\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')" \
        "$(tail -n 1 "$state/time")"
}

median() {
    sort -n | awk '{ value[NR] = $1 } END { print (NR % 2) ? value[(NR + 1) / 2] : (value[NR / 2] + value[NR / 2 + 1]) / 2 }'
}

named=(--dc "$LAB_DC_HOST" --dc "$(sed -n "s/^export LAB_DC_HOST='\(.*\)'$/\1/p" "$dc2_dir/lab.env")")

# A DC2 that has just started updates its DNS records and SPNs and runs
# its first consistency checks for some seconds, which slows whichever run
# meets them. Let it settle, and warm both DCs' caches with three discarded
# runs of each kind.
sleep 20
for run in 1 2 3; do
    measure -- "${named[@]}" >/dev/null
    measure DELEGAUDIT_VERIFY_SEQUENTIAL=1 -- "${named[@]}" >/dev/null
    measure -- >/dev/null
    measure DELEGAUDIT_VERIFY_SEQUENTIAL=1 -- >/dev/null
done
for kind in named-concurrent named-sequential listed-concurrent listed-sequential; do
    : > "$state/$kind"
done
for run in $(seq "$runs"); do
    measure -- "${named[@]}" >> "$state/named-concurrent"
    measure DELEGAUDIT_VERIFY_SEQUENTIAL=1 -- "${named[@]}" >> "$state/named-sequential"
    measure -- >> "$state/listed-concurrent"
    measure DELEGAUDIT_VERIFY_SEQUENTIAL=1 -- >> "$state/listed-sequential"
done

row() {
    local label=$1 kind=$2
    printf '%-44s %10s %14.1f\n' "$label" "$(cut -d' ' -f1 "$state/$kind" | median)" \
        "$(cut -d' ' -f2 "$state/$kind" | sort -n | tail -1 | awk '{ print $1 / 1024 }')"
}
ratio() {
    awk -v c="$(cut -d' ' -f1 "$state/$1" | median)" -v s="$(cut -d' ' -f1 "$state/$2" | median)" \
        'BEGIN { printf "%.2f", c / s }'
}

echo
echo "verify of $accounts flagged accounts on 2 lab DCs, median of $runs runs each"
printf '%-44s %10s %14s\n' "" "seconds" "peak RSS MiB"
row "DCs named with --dc, read concurrently" named-concurrent
row "DCs named with --dc, one after the other" named-sequential
row "DCs listed, read concurrently" listed-concurrent
row "DCs listed, one after the other" listed-sequential
echo "ratio concurrent / sequential, DCs named: $(ratio named-concurrent named-sequential) (target: under 0.70)"
echo "ratio concurrent / sequential, DCs listed: $(ratio listed-concurrent listed-sequential)"
