#!/usr/bin/env bash
# The aarch64 build, checked under emulation (what .ci/run runs through `make test`):
#   1. installs the cross packages when missing (scripts/install_cross_deps.sh),
#   2. cross-builds lenet without OpenCV (cmake/toolchains/aarch64-linux-gnu.cmake, -DLENET_OPENCV=OFF),
#   3. runs the test suite under qemu-aarch64 through ctest (the toolchain's emulator),
#   4. a CLI run under qemu: XNOR LeNet trained one epoch on 2,000 MNIST images, exported packed,
#      tested from the packed file and from the .weights,
#   5. with a native x86 lenet (X86_LENET, default build/lenet): files written on each side are
#      tested on the other, and the confusion matrices (the classes predicted) must be equal.
# Emulation gives no timing: nothing here measures speed.
#   scripts/test_aarch64.sh [build dir, default build-aarch64]
# Under emulation a training run is 20-50 times slower than natively, so by default the CLI tests
# that train (names "cli: train...", "cli: XNOR LeNet trains...", ...; they run natively in the
# x86 suite) are left out here: step 4 is their aarch64 counterpart. Everything else runs: every
# kernel-vs-reference sweep, the layer, graph, gradient and bit-exact XNOR tests, `cli: usage` and
# `cli: bad input`. LENET_AARCH64_TESTS=all runs the whole suite (about 30 min on 2 cores).
# Environment: JOBS (default nproc), LENET_AARCH64_TESTS (all, or a ctest -R regex), X86_LENET,
# MNIST (default data/mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-aarch64}
jobs=${JOBS:-$(nproc)}
mnist=${MNIST:-data/mnist}
x86_lenet=${X86_LENET:-build/lenet}
start=$(date +%s)

scripts/install_cross_deps.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DLENET_OPENCV=OFF \
      -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$jobs"
built=$(date +%s)
echo "test_aarch64: cross build $((built - start)) s"

emulate=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
lenet=("${emulate[@]}" "$build/lenet")

ctest_filter=(-E "^cli: (train|SIGINT|SIGKILL|a resumed|angle|Darknet|XNOR|summary)")
case "${LENET_AARCH64_TESTS:-}" in
    "") ;;
    all) ctest_filter=() ;;
    *) ctest_filter=(-R "$LENET_AARCH64_TESTS") ;;
esac
(cd "$build" && ctest --output-on-failure -j "$jobs" "${ctest_filter[@]}")
tested=$(date +%s)
selected=$(cd "$build" && ctest -N "${ctest_filter[@]}" | awk '/^Total Tests:/ {print $3}')
total=$(cd "$build" && ctest -N | awk '/^Total Tests:/ {print $3}')
echo "test_aarch64: $selected of the $total tests of this build under qemu in $((tested - built)) s" \
     "(left out: ${ctest_filter[*]:-none})"

# The CLI run; the files it writes, and the same from x86, tested on the other side.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cfg=cfg/lenet_xnor.cfg
train=(train "$cfg" "$mnist" -epochs 1 -train-limit 2000 -test-limit 500 -threads 2)
confusion() { sed -n '/confusion/,$p'; }

"${lenet[@]}" "${train[@]}" -backup "$work/arm" >"$work/arm_train.txt"
grep "test accuracy" "$work/arm_train.txt" | tail -1
"${lenet[@]}" export "$cfg" "$work/arm/lenet_xnor_final.weights" "$work/arm.packed" -binary
"${lenet[@]}" test "$cfg" "$work/arm.packed" "$mnist" -limit 1000 -threads 2 >"$work/arm_packed.txt"
"${lenet[@]}" test "$cfg" "$work/arm/lenet_xnor_final.weights" "$mnist" -limit 1000 -threads 2 >"$work/arm_weights.txt"
grep "accuracy:" "$work/arm_packed.txt" | head -1
cmp <(confusion <"$work/arm_packed.txt") <(confusion <"$work/arm_weights.txt") ||
    { echo "test_aarch64: the packed model and its .weights disagree under aarch64" >&2; exit 1; }
echo "test_aarch64: CLI run (train 1 epoch on 2,000 images, export packed, test) passed"

if [ -x "$x86_lenet" ] && "$x86_lenet" help >/dev/null 2>&1; then
    "$x86_lenet" "${train[@]}" -backup "$work/x86" >/dev/null
    "$x86_lenet" export "$cfg" "$work/x86/lenet_xnor_final.weights" "$work/x86.packed" -binary >/dev/null
    for file in "$work/x86.packed" "$work/x86/lenet_xnor_final.weights" "$work/arm.packed" \
                "$work/arm/lenet_xnor_final.weights"; do
        "$x86_lenet" test "$cfg" "$file" "$mnist" -limit 2000 -threads 2 | confusion >"$work/on_x86.txt"
        "${lenet[@]}" test "$cfg" "$file" "$mnist" -limit 2000 -threads 2 | confusion >"$work/on_arm.txt"
        if ! cmp -s "$work/on_x86.txt" "$work/on_arm.txt"; then
            echo "test_aarch64: $(basename "$file"): x86 and aarch64 predict different classes" >&2
            diff "$work/on_x86.txt" "$work/on_arm.txt" >&2 || true
            exit 1
        fi
    done
    echo "test_aarch64: packed and .weights files written on x86 and on aarch64 give the same confusion" \
         "matrix (2,000 test images) on both"
else
    echo "test_aarch64: SKIPPED the x86 <-> aarch64 file check: no native lenet at $x86_lenet"
fi
echo "test_aarch64: passed in $(($(date +%s) - start)) s (emulated: no timing)"
