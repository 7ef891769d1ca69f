#!/usr/bin/env bash
# Bit-packed XNOR against lenet's own float kernels, same machine, same run:
#   1. one 3x3 convolution, 128->128 at 56x56 and 256->256 at 28x28, batch 1 (`lenet bench -xnor`:
#      float im2col + SGEMM vs XNOR with input packing, alternating runs, medians), 1 and N threads;
#   2. four such convolutions as a network (cfg/bench/conv4_*_{float,xnor}.cfg, `lenet bench
#      -batch 1`): whole-network inference, K and output transforms included;
#   3. LeNet over the MNIST test set at batch 1000: cfg/lenet.cfg vs cfg/lenet_xnor.cfg (`lenet test`
#      with trained weights when given or found in backup/, else `lenet bench` on random inputs).
#   scripts/bench_xnor.sh [--threads N] [--iters N] [--weights F] [--xnor-weights F] [--data DIR] [--out DIR]
# Defaults: --threads 2 --iters 30 --weights backup/lenet_final.weights
#           --xnor-weights backup/lenet_xnor_final.weights --data data/mnist --out results.
# LENET=path overrides the binary (default build/lenet). Writes OUT/bench_xnor.md and raw JSON.
set -euo pipefail

cd "$(dirname "$0")/.."

threads=2 iters=30 weights=backup/lenet_final.weights xnor_weights=backup/lenet_xnor_final.weights
data=data/mnist out=results
lenet=${LENET:-build/lenet}
while [ $# -gt 0 ]; do
    case $1 in
        --threads) threads=${2:?}; shift 2 ;;
        --iters) iters=${2:?}; shift 2 ;;
        --weights) weights=${2:?}; shift 2 ;;
        --xnor-weights) xnor_weights=${2:?}; shift 2 ;;
        --data) data=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "bench_xnor: unknown option $1" >&2; exit 2 ;;
    esac
done
log() { echo "bench_xnor: $*" >&2; }
[ -x "$lenet" ] || { log "error: $lenet not found: run make first"; exit 1; }
mkdir -p "$out"
report="$out/bench_xnor.md"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

{
    echo "# XNOR vs float, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo
    echo "## One convolution, batch 1 (lenet bench -xnor, median of $iters)"
    echo
    echo "| shape | threads | float im2col+SGEMM ms | XNOR ms (incl. packing) | speedup |"
    echo "|---|---:|---:|---:|---:|"
} > "$report"
for shape in 128,56,56,128,3,1,1 256,28,28,256,3,1,1; do
    log "conv $shape"
    "$lenet" bench -xnor "$shape" -threads "$threads" -iters "$iters" -json > "$out/bench_xnor_conv_${shape//,/_}.json"
    json "'\n'.join('| $shape | %d | %.3f | %.3f | %.2fx |' % (r['threads'], r['float_ms'], r['xnor_ms'], r['speedup']) for r in d['runs'])" \
        < "$out/bench_xnor_conv_${shape//,/_}.json" >> "$report"
done

{
    echo
    echo "## Four convolutions as a network, batch 1 (lenet bench -batch 1, inference median of $iters)"
    echo
    echo "| network | threads | float ms | XNOR ms | speedup |"
    echo "|---|---:|---:|---:|---:|"
} >> "$report"
for net in 128x56 256x28; do
    for t in 1 "$threads"; do
        log "network conv4_$net, $t thread(s)"
        for kind in float xnor; do
            "$lenet" bench "cfg/bench/conv4_${net}_$kind.cfg" -batch 1 -threads "$t" -iters "$iters" -json \
                > "$out/bench_xnor_net_${net}_${kind}_$t.json"
        done
        f=$(json "1e3 / d['inference_images_per_second']" < "$out/bench_xnor_net_${net}_float_$t.json")
        x=$(json "1e3 / d['inference_images_per_second']" < "$out/bench_xnor_net_${net}_xnor_$t.json")
        python3 -c "print('| conv4_$net | $t | %.3f | %.3f | %.2fx |' % ($f, $x, $f / $x))" >> "$report"
        [ "$t" = "$threads" ] && break
    done
done

{
    echo
    echo "## LeNet over the MNIST test set, batch 1000, $threads threads"
    echo
    echo "| network | images/s | accuracy |"
    echo "|---|---:|---:|"
} >> "$report"
rate_of() {  # cfg weights label
    if [ -f "$2" ] && [ -d "$data" ]; then
        "$lenet" test "$1" "$2" "$data" -batch 1000 -threads "$threads" > "$out/bench_xnor_test_$3.txt"
        local rate acc
        rate=$(sed -n 's/^images\/s: \([0-9.]*\).*/\1/p' "$out/bench_xnor_test_$3.txt")
        acc=$(sed -n 's/^accuracy: \([0-9.]*\).*/\1/p' "$out/bench_xnor_test_$3.txt")
        echo "| $1 ($2) | $rate | $acc |" >> "$report"
    else
        log "$2 not found: timing $1 with lenet bench on random inputs"
        rate=$("$lenet" bench "$1" -batch 1000 -threads "$threads" -iters 10 -json | json "'%.0f' % d['inference_images_per_second']")
        echo "| $1 (lenet bench, random inputs) | $rate | |" >> "$report"
    fi
    echo "$rate"
}
float_rate=$(rate_of cfg/lenet.cfg "$weights" float)
xnor_rate=$(rate_of cfg/lenet_xnor.cfg "$xnor_weights" xnor)
python3 -c "print('\nLeNet-XNOR / LeNet images/s: %.2fx' % ($xnor_rate / $float_rate))" >> "$report"
cat "$report"
