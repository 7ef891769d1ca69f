#!/usr/bin/env bash
# Side-by-side inference benchmark over MNIST's 10k test images: lenet vs PyTorch (CPU).
#   scripts/bench_infer.sh [--threads N] [--weights FILE] [--data DIR] [--out DIR] [--cfg FILE]
#                          [--skip-lenet] [--skip-torch]
# Defaults: --threads 2 --weights backup/lenet_final.weights --data data/mnist --out results
#           --cfg cfg/lenet.cfg. LENET=path overrides the binary (default build/lenet).
# lenet: "lenet test CFG WEIGHTS DATA -batch 1000 -threads N", its "images/s:" line grepped.
# pytorch: scripts/bench_torch.py --mode infer at batch 1000 and batch 1 (untrained weights:
# speed does not depend on them). Writes OUT/bench_infer.md and the raw logs.
set -euo pipefail

cd "$(dirname "$0")/.."  # repo root, so build/, cfg/ and data/ resolve

threads=2 weights=backup/lenet_final.weights data=data/mnist out=results cfg=cfg/lenet.cfg
run_lenet=1 run_torch=1
lenet=${LENET:-build/lenet}
PY=/usr/bin/python3  # Debian's interpreter, the one with python3-torch

while [ $# -gt 0 ]; do
    case $1 in
        --threads) threads=${2:?}; shift 2 ;;
        --weights) weights=${2:?}; shift 2 ;;
        --data) data=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --cfg) cfg=${2:?}; shift 2 ;;
        --skip-lenet) run_lenet=0; shift ;;
        --skip-torch) run_torch=0; shift ;;
        -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "bench_infer: unknown option $1" >&2; exit 2 ;;
    esac
done
log() { echo "bench_infer: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x /usr/bin/time ] || die "/usr/bin/time missing: apt-get install time"
if [ $run_torch = 1 ] && ! "$PY" -c 'import torch' 2>/dev/null; then
    log "installing python3-torch libopenblas0-pthread"
    $([ "$(id -u)" = 0 ] || echo sudo) apt-get install -y -q python3-torch libopenblas0-pthread >&2
fi
[ $run_lenet = 0 ] || [ -x "$lenet" ] || die "$lenet not found: run make first (cmake -B build && cmake --build build -j2)"
[ $run_lenet = 0 ] || [ -f "$weights" ] || die "$weights not found: train first or pass --weights FILE"
mkdir -p "$out"

rss() { awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }
rows=("| peer | batch | images/s | median latency ms | peak RSS MiB |" "|---|---:|---:|---:|---:|")

if [ $run_lenet = 1 ]; then
    log "lenet: $lenet test $cfg $weights $data -batch 1000 -threads $threads"
    /usr/bin/time -v -o "$out/lenet_infer.time" "$lenet" test "$cfg" "$weights" "$data" \
        -batch 1000 -threads "$threads" > "$out/lenet_infer.out" 2> "$out/lenet_infer.err" \
        || die "lenet test failed; see $out/lenet_infer.err"
    # Take the number after the last "images/s:" in either stream.
    ips=$(cat "$out/lenet_infer.out" "$out/lenet_infer.err" | grep -oE 'images/s:[[:space:]]*[0-9.eE+]+' \
          | tail -1 | grep -oE '[0-9.eE+]+$' || true)
    if [ -z "$ips" ]; then
        log "lenet printed no 'images/s:' line (see $out/lenet_infer.out); its throughput is n/a"
        ips=n/a
    fi
    rows+=("| lenet | 1000 | $ips | | $(rss "$out/lenet_infer.time") |")
fi

if [ $run_torch = 1 ]; then
    for b in 1000 1; do
        log "pytorch: $PY scripts/bench_torch.py --mode infer --batch $b --threads $threads"
        /usr/bin/time -v -o "$out/torch_infer_b$b.time" "$PY" scripts/bench_torch.py --data "$data" \
            --threads "$threads" --mode infer --batch "$b" > "$out/torch_infer_b$b.out" \
            2> "$out/torch_infer_b$b.err" || die "torch infer failed; see $out/torch_infer_b$b.err"
        fields=$("$PY" -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]);
print(r["images_per_second"], r.get("latency_ms_median", ""))' "$out/torch_infer_b$b.out")
        read -r ips lat <<< "$fields"
        rows+=("| pytorch | $b | $ips | ${lat:-} | $(rss "$out/torch_infer_b$b.time") |")
    done
    grep -E 'BLAS in use' "$out/torch_infer_b1000.err" >&2 || true
fi

printf '%s\n' "${rows[@]}" | tee "$out/bench_infer.md"
log "table and raw logs in $out/ (bench_infer.md, *_infer*.{out,err,time})"
