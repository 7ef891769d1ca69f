#!/usr/bin/env bash
# The benchmark suite on every lenet backend this machine runs, with the installed peers in the
# same run, then the merged table and plots of every results file in OUT:
#   scripts/bench_devices.sh [--quick] [--rounds N] [--threads N] [--backends a,b] [--no-peers | --peers a,b]
#                            [--out DIR] [--no-readme] [--merge-only]
# --quick: 1 training epoch (else 10), 2 rounds (else 3), fewer iterations per figure.
# Writes OUT/<host>-<backend>.json (schema: scripts/bench_devices.md), OUT/bench_devices.md and
# OUT/bench_devices{,_figures}.png, and (unless --no-readme) README.md's table between its
# bench_devices markers with docs/bench_devices.png. --merge-only skips the run: results files
# copied in from other machines (results/*.json) are merged as they are. Defaults: --threads 2
# --out results. LENET=path overrides the binary (default build/lenet); LENET_RUNNER="qemu-aarch64
# -L /usr/aarch64-linux-gnu" runs a foreign-architecture build (its figures: "emulated, no timing").
# Needs /usr/bin/python3 with python3-matplotlib; peers: python3-torch (PyTorch), python3-opencv
# (OpenCV DNN): scripts/install_deps.sh --bench installs them.
set -euo pipefail

cd "$(dirname "$0")/.."

out=results readme=1 merge_only=0
run_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --quick|--no-peers) run_args+=("$1"); shift ;;
        --rounds|--threads|--backends|--peers) run_args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --no-readme) readme=0; shift ;;
        --merge-only) merge_only=1; shift ;;
        -h|--help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "bench_devices: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
PY=/usr/bin/python3  # Debian's interpreter: the one with matplotlib, torch and cv2

if [ $merge_only = 0 ]; then
    "$PY" scripts/bench_devices.py run --out "$out" "${run_args[@]}" >/dev/null
fi
shopt -s nullglob
results=("$out"/*-*.json)
[ ${#results[@]} -gt 0 ] || { echo "bench_devices: no results files in $out" >&2; exit 1; }
merge_args=(--out "$out")
[ $readme = 0 ] || merge_args+=(--readme README.md --readme-plot docs/bench_devices.png)
"$PY" scripts/bench_devices.py merge "${results[@]}" "${merge_args[@]}"
