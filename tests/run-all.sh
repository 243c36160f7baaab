#!/usr/bin/env bash
# Runs the whole test suite: the unit tests and the integration tests
# against a lab Samba AD DC, first in a normal build, then in an
# AddressSanitizer and UndefinedBehaviorSanitizer build. Needs root (the lab
# DC) and the packages of scripts/install-deps.sh --lab.
#
# The lab DC is provisioned on 127.0.0.11 unless a seeded one already runs,
# and the second DC joined on 127.0.0.12 unless it runs; a DC that this
# script started is stopped at the end.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
lab_dir=${LAB_DIR:-$repo/tests/lab/run/dc1}
dc2_dir=${DC2_DIR:-$repo/tests/lab/run/dc2}
jobs=$(nproc)

dc_running() {
    [[ -f $1/run/samba.pid ]] && kill -0 "$(cat "$1/run/samba.pid")" 2>/dev/null
}
lab_was_running=no
dc_running "$lab_dir" && lab_was_running=yes
dc2_was_running=no
dc_running "$dc2_dir" && dc2_was_running=yes
# DC2 first: it replicates from DC1.
stop_lab() {
    if [[ $dc2_was_running == no && -f $dc2_dir/run/samba.pid ]]; then
        bash "$repo/tests/lab/stop.sh" "$dc2_dir" || true
    fi
    if [[ $lab_was_running == no && -f $lab_dir/run/samba.pid ]]; then
        bash "$repo/tests/lab/stop.sh" "$lab_dir" || true
    fi
}
trap stop_lab EXIT

build() {
    local dir=$1
    shift
    cmake -S "$repo" -B "$dir" -DDELEGAUDIT_LAB_TESTS=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs" >/dev/null
}

echo "run-all.sh: building $repo/build-test and $repo/build-asan"
build "$repo/build-test"
build "$repo/build-asan" -DDELEGAUDIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

echo "run-all.sh: unit and integration tests"
ctest --test-dir "$repo/build-test" --output-on-failure

echo "run-all.sh: the same tests under AddressSanitizer and UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$repo/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$repo/build-asan" --output-on-failure
