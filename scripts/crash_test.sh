#!/usr/bin/env bash
# Kills `lenet train` with SIGKILL N times at random moments (default 20) and checks that every
# checkpoint left on disk loads: the [crash] test case of the suite, with more rounds.
#   scripts/crash_test.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/lenet_tests ] || { echo "crash_test: build/lenet_tests not found: run make first" >&2; exit 1; }
LENET_SIGKILL_ROUNDS=${1:-20} build/lenet_tests "[crash]" --success 2>&1 | grep -E "SIGKILL rounds|passed|failed"
