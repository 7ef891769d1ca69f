#!/usr/bin/env bash
# Static throughput of the NEON kernels' inner loops on a Cortex-A72 (Raspberry Pi 4), from LLVM's
# scheduling model (llvm-mca, Debian's llvm): no ARM machine needed, and no timing from emulation.
#   - SGEMM: the 8x12 micro-kernel's k loop (src/kernels/neon/gemm_8x12_neon.cpp): FMAs per cycle
#     against the model's own peak, measured here on independent q-register FMAs (LLVM models the
#     A72 with the A57's units: a 128-bit FMLA holds one of the two FP pipes for 2 cycles, so the
#     peak is 1 q-register FMA, 8 FLOP, per cycle; 64-bit FMLAs issue 2 per cycle, the same FLOPs).
#   - XNOR: the 4-filter counting loop (src/kernels/neon/xnor_neon.cpp): 128 binary multiply-adds
#     (bit products) per vcnt of 16 bytes.
# Each kernel file is compiled with clang for aarch64 at -O3 -mcpu=cortex-a72; the loop is the
# innermost one (a block that branches back to its own label) with the most of the instruction
# that counts (fmla, cnt).
#   scripts/mca_neon.sh [-v]   (-v: llvm-mca's whole report)
set -euo pipefail
cd "$(dirname "$0")/.."
verbose=${1:-}
cpu=cortex-a72
for tool in clang++ llvm-mca; do
    command -v $tool >/dev/null || { echo "mca_neon: $tool missing: apt-get install clang llvm" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The innermost self-looping block of $1's assembly with the most $2 instructions, on stdout.
extract_loop() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
mnemonic = sys.argv[2]
best, label, body = None, None, []
for line in lines + ['.Lend:']:
    m = re.match(r'^(\.?L[\w$.]+):', line)
    if m:
        label, body = m.group(1), []
        continue
    text = line.split('//')[0].strip()
    if not text or text.startswith('.'):
        continue
    body.append(text)
    branch = re.match(r'^(b\.\w+|b|cbnz|cbz|tbnz|tbz)\s+.*?([.\w$]+)$', text)
    if branch and label and branch.group(2) == label:
        count = sum(1 for t in body if t.split()[0] == mnemonic)
        if count and (best is None or count > best[0]):
            best = (count, list(body))
if best is None:
    sys.exit('no loop with ' + mnemonic)
print('\n'.join(best[1]))
PY
}

report() {  # name, source, mnemonic
    local name=$1 source=$2 mnemonic=$3
    clang++ --target=aarch64-linux-gnu -mcpu=$cpu -O3 -std=c++20 -Isrc -Iinclude -DLENET_NO_OPENCV \
            -ffp-contract=off -S -o "$work/$name.s" "$source"
    extract_loop "$work/$name.s" "$mnemonic" >"$work/$name.loop.s"
    llvm-mca -mtriple=aarch64-linux-gnu -mcpu=$cpu -iterations=1000 "$work/$name.loop.s" >"$work/$name.mca"
    [ "$verbose" = -v ] && { cat "$work/$name.loop.s"; cat "$work/$name.mca"; }
    local count cycles instructions
    count=$(grep -c "^$mnemonic\b" "$work/$name.loop.s")
    instructions=$(wc -l <"$work/$name.loop.s")
    cycles=$(awk '/^Block RThroughput:/ {print $3}' "$work/$name.mca")
    local total_cycles iterations
    total_cycles=$(awk '/^Total Cycles:/ {print $3}' "$work/$name.mca")
    iterations=$(awk '/^Iterations:/ {print $2}' "$work/$name.mca")
    echo "$name: $instructions instructions, $count $mnemonic per iteration;" \
         "block reciprocal throughput $cycles cycles, simulated $(echo "scale=2; $total_cycles / $iterations" | bc) cycles/iteration"
    echo "$count $cycles $total_cycles $iterations"
}

command -v bc >/dev/null || { echo "mca_neon: bc missing: apt-get install bc" >&2; exit 1; }
read -r fmas _ gemm_total gemm_iters < <(report sgemm_8x12 src/kernels/neon/gemm_8x12_neon.cpp fmla | tee /dev/stderr | tail -1)
read -r cnts _ xnor_total xnor_iters < <(report xnor_4_filters src/kernels/neon/xnor_neon.cpp cnt | tee /dev/stderr | tail -1)
# The model's peak: 12 independent q-register FMAs.
for i in $(seq 0 11); do echo "fmla v$i.4s, v20.4s, v21.s[$((i % 4))]"; done >"$work/peak.s"
peak_total=$(llvm-mca -mtriple=aarch64-linux-gnu -mcpu=$cpu -iterations=1000 "$work/peak.s" | awk '/^Total Cycles:/ {print $3}')
peak=$(echo "scale=3; 12000 / $peak_total" | bc)
gemm_cycles=$(echo "scale=4; $gemm_total / $gemm_iters" | bc)
xnor_cycles=$(echo "scale=4; $xnor_total / $xnor_iters" | bc)
fma_per_cycle=$(echo "scale=3; $fmas / $gemm_cycles" | bc)
peak_pct=$(echo "scale=1; 100 * $fma_per_cycle / $peak" | bc)
flops=$(echo "scale=2; $fma_per_cycle * 8" | bc)
macs=$(echo "scale=1; $cnts * 128 / $xnor_cycles" | bc)
float_macs=$(echo "scale=2; $fma_per_cycle * 4" | bc)
echo
echo "Cortex-A72 (llvm-mca $(llvm-mca --version | awk '/LLVM version/ {print $NF}'), -mcpu=$cpu):"
echo "  SGEMM 8x12 loop: $fma_per_cycle q-register FMAs/cycle = $peak_pct% of the model's peak of" \
     "$peak/cycle ($flops FLOP/cycle)"
echo "  XNOR loop: $macs binary MACs/cycle ($cnts x 128 bit products in $xnor_cycles cycles)"
echo "  XNOR / float: $(echo "scale=1; $macs / $float_macs" | bc)x more multiply-adds per cycle" \
     "(float: $float_macs MACs/cycle)"
