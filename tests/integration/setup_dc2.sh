#!/usr/bin/env bash
# Makes sure the second lab DC runs, joined to the domain of the running
# lab DC1: reuses DC2 when it was joined to that domain, starts it when it
# is stopped, or joins a new one.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
dc1_dir=${LAB_DIR:-$repo/tests/lab/run/dc1}
dc2_dir=${DC2_DIR:-$repo/tests/lab/run/dc2}
marker=$dc2_dir/integration-domain

source "$dc1_dir/lab.env"
# The domain SID shows whether DC2 belongs to this provision of DC1.
domain_id=$(LDAPTLS_CACERT=$LAB_CA_FILE ldapsearch -LLL -o ldif-wrap=no -H "$LAB_URI_LDAPS" -x -D "$LAB_ADMIN_DN" \
    -y "$LAB_PASSWORD_FILE" -b "$LAB_BASE_DN" -s base objectSid | sed -n 's/^objectSid:: //p')
[[ -n $domain_id ]] || { echo "setup_dc2.sh: cannot read the domain SID from DC1" >&2; exit 1; }

running() {
    [[ -f $dc2_dir/run/samba.pid ]] && kill -0 "$(cat "$dc2_dir/run/samba.pid")" 2>/dev/null
}

if [[ -f $marker && $(cat "$marker") == "$domain_id" && -f $dc2_dir/ca-bundle.pem ]]; then
    if running; then
        echo "setup_dc2.sh: reusing DC2 in $dc2_dir"
    else
        bash "$repo/tests/lab/start.sh" "$dc2_dir"
    fi
    exit 0
fi

if running; then
    bash "$repo/tests/lab/stop.sh" "$dc2_dir"
fi
bash "$repo/tests/lab/join-dc2.sh" "$dc1_dir" "$dc2_dir"
# A new TGT drops service tickets for an earlier DC2 with other keys, which
# samba-tool would present and DC2 reject.
bash "$repo/tests/lab/kinit.sh" "$dc1_dir"
printf '%s\n' "$domain_id" > "$marker"
echo "setup_dc2.sh: DC2 ready in $dc2_dir"
