#!/usr/bin/env bash
# Makes sure a seeded lab DC runs for the integration tests: reuses a
# running one that setup.sh seeded before, or provisions and seeds a new
# one (the seeded accounts plus 2,600 delegating bulk accounts, so a poll
# needs three pages of 1000).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
lab_dir=${LAB_DIR:-$repo/tests/lab/run/dc1}
bulk_count=2600
marker=$lab_dir/integration-ready

running() {
    [[ -f $lab_dir/lab.env && -f $lab_dir/run/samba.pid ]] &&
        kill -0 "$(cat "$lab_dir/run/samba.pid")" 2>/dev/null
}

if running && [[ -f $marker && $(cat "$marker") == "$bulk_count" ]]; then
    echo "setup.sh: reusing the seeded lab DC in $lab_dir"
    exit 0
fi

if running; then
    bash "$repo/tests/lab/stop.sh" "$lab_dir"
fi
bash "$repo/tests/lab/provision.sh" "$lab_dir"
bash "$repo/tests/lab/seed.sh" "$lab_dir"
bash "$repo/tests/lab/seed-bulk.sh" "$lab_dir" "$bulk_count" "$bulk_count"
echo "$bulk_count" > "$marker"
echo "setup.sh: lab DC ready in $lab_dir"
