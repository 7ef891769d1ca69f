#!/usr/bin/env bash
# The whole GPU check of the cuda backend, in one short run on a machine with an NVIDIA GPU.
#   scripts/gpu_check.sh --prepare        on this (CPU) machine, before: copies Catch2's single
#                                         header and CMake scripts into third_party/catch2/ (ignored
#                                         by git), for a GPU machine that has no catch2 package
#   scripts/gpu_check.sh [--out DIR] [--epochs N] [--train-timeout S] [--arch A]
#                                         on the GPU machine (nvcc, CMake, PyTorch; no OpenCV, no
#                                         Catch2, no network): builds build-gpu with -DLENET_CUDA=ON
#                                         -DLENET_OPENCV=OFF, runs the GPU tests and the cuda rows of
#                                         the default suite, then trains the seed LeNet with -gpu 0
#                                         and with PyTorch on the same GPU, and tabulates both.
# Defaults: --out $OUT if set, else results/gpu_check; --epochs 10; --train-timeout 180 (seconds for
# lenet's run: the backend still synchronises after every op); --arch 90-real (H100/H200).
# Whole run: about 2 min of build on 16 cores, seconds of tests, at most the train timeout, PyTorch's
# 10 epochs, and two short `lenet bench` runs (60 s cap each): under the 600 s of one device call.
# What travels to the GPU machine besides the tracked tree: third_party/catch2 and data/mnist.
# Exit status: non-zero when the build or a GPU test fails; the timings are reported, not judged.
set -uo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-results/gpu_check} epochs=10 train_timeout=180 arch=90-real
log() { echo "gpu_check: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "${1:-}" = "--prepare" ]; then
    dest=third_party/catch2
    mkdir -p "$dest/catch2"
    cp /usr/include/catch2/catch.hpp "$dest/catch2/" || die "no /usr/include/catch2/catch.hpp (apt-get install catch2)"
    cp /usr/lib/cmake/Catch2/Catch.cmake /usr/lib/cmake/Catch2/CatchAddTests.cmake "$dest/" ||
        die "no /usr/lib/cmake/Catch2 scripts (apt-get install catch2)"
    [ -f data/mnist/train-images-idx3-ubyte ] || [ -f data/mnist/train-images-idx3-ubyte.gz ] ||
        die "no data/mnist: run scripts/get_mnist.sh data/mnist"
    log "prepared $dest; carry third_party/catch2 and data/mnist to the GPU machine"
    exit 0
fi

while [ $# -gt 0 ]; do
    case $1 in
        --out) out=${2:?}; shift 2 ;;
        --epochs) epochs=${2:?}; shift 2 ;;
        --train-timeout) train_timeout=${2:?}; shift 2 ;;
        --arch) arch=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
mkdir -p "$out"
build=build-gpu
status=0

# Python with torch: Debian's first (the CPU machine's convention), else the one on PATH.
PY=""
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'import torch' 2>/dev/null; then PY=$candidate; break; fi
done

{
    echo "date: $(date -Is)"
    echo "host: $(uname -srm), nproc $(nproc)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
    echo "nvcc: $( (nvcc --version 2>/dev/null || /usr/local/cuda/bin/nvcc --version) | tail -1)"
    echo "cmake: $(cmake --version | head -1)"
    echo "python: ${PY:-none with torch} $([ -n "$PY" ] && "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)')"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none)"
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt" >&2

# 1. Build (Release; only the architecture asked for, to keep nvcc short). The GPU tests need only
# the core library; lenet and the host tests (the commands' library) are built after them, so a
# failure there still leaves the op checks.
log "configure + build $build"
start=$(date +%s)
if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DLENET_CUDA=ON -DLENET_OPENCV=OFF \
           -DCMAKE_CUDA_ARCHITECTURES="$arch" &&
       cmake --build "$build" -j "$(nproc)" --target lenet_cuda_tests; } > "$out/build.log" 2>&1; then
    tail -40 "$out/build.log" >&2
    die "the build failed (log: $out/build.log)"
fi
have_lenet=1
if ! cmake --build "$build" -j "$(nproc)" --target lenet lenet_cuda_host_tests >> "$out/build.log" 2>&1; then
    tail -20 "$out/build.log" >&2
    log "lenet / lenet_cuda_host_tests failed to build (log: $out/build.log): only the op checks run"
    have_lenet=0 status=1
fi
log "built in $(( $(date +%s) - start )) s"

# 2. Every cuda op against the reference (exit 77 would mean the device was not seen).
log "GPU tests: $build/lenet_cuda_tests"
"$build/lenet_cuda_tests" -r compact > "$out/cuda_tests.log" 2>&1
rc=$?
tail -5 "$out/cuda_tests.log" >&2
case $rc in
    0) log "GPU tests passed" ;;
    77) log "GPU tests SKIPPED: no device seen (see $out/cuda_tests.log)"; status=1 ;;
    *) log "GPU tests FAILED (rc $rc; $out/cuda_tests.log)"; status=1 ;;
esac
[ $have_lenet = 1 ] || { log "no lenet binary: stopping after the op checks"; exit 1; }
# The registry's cuda row with a device present (its no-device branch runs in CI).
"$build/lenet_cuda_host_tests" -r compact > "$out/backend_tests.log" 2>&1 ||
    { log "backend tests FAILED ($out/backend_tests.log)"; status=1; }

# 3. Training, lenet on the GPU then PyTorch on the same GPU, data on the device for both.
data=data/mnist
[ -d "$data" ] || die "no $data (carry data/mnist)"
log "lenet: train cfg/lenet.cfg -gpu 0 -epochs $epochs (timeout ${train_timeout}s)"
rm -f "$out/lenet_gpu.jsonl"
timeout "$train_timeout" "$build/lenet" train cfg/lenet.cfg "$data" -gpu 0 -epochs "$epochs" \
    -backup "$out/backup" -log "$out/lenet_gpu.jsonl" > "$out/lenet_gpu.out" 2> "$out/lenet_gpu.err"
rc=$?
[ $rc = 0 ] || log "lenet train ended with rc $rc (124: timed out); $out/lenet_gpu.err: $(tail -2 "$out/lenet_gpu.err")"
if [ -n "$PY" ]; then
    log "pytorch: scripts/bench_torch.py --device cuda --epochs $epochs"
    "$PY" scripts/bench_torch.py --data "$data" --device cuda --epochs "$epochs" --cfg cfg/lenet.cfg \
        --mode train > "$out/torch_gpu.jsonl" 2> "$out/torch_gpu.err" ||
        log "pytorch failed: $(tail -2 "$out/torch_gpu.err")"
else
    log "no python with torch: the PyTorch peer is skipped"
fi

# 4. Op-level figures on the GPU (per-layer forward/backward of the seed LeNet; the issue's XNOR
# shape, 128 -> 128 channels, 3x3 at 56x56, one image per call).
timeout 60 "$build/lenet" bench cfg/lenet.cfg -gpu 0 -batch 128 -iters 20 > "$out/bench_lenet_gpu.txt" 2>&1 ||
    log "lenet bench cfg/lenet.cfg -gpu 0 ended with rc $? ($out/bench_lenet_gpu.txt)"
timeout 60 "$build/lenet" bench -xnor 128,56,56,128,3,1,1 -gpu 0 -iters 20 > "$out/bench_xnor_gpu.txt" 2>&1 ||
    log "lenet bench -xnor -gpu 0 ended with rc $? ($out/bench_xnor_gpu.txt)"

# 5. The table: training seconds from each peer's own log (evaluation excluded).
"${PY:-python3}" - "$out" <<'PYEOF' | tee "$out/summary.md"
import json, os, sys
out = sys.argv[1]
def rows(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    result = []
    for line in open(path):
        try:
            result.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return [r for r in result if "epoch" in r and r.get("mode") != "train"]
print("| peer | epochs done | train s (first step to last) | s/epoch | final test acc |")
print("|---|---|---|---|---|")
found = {}
for peer, name in (("lenet -gpu 0", "lenet_gpu.jsonl"), ("pytorch cuda (eager)", "torch_gpu.jsonl")):
    r = rows(name)
    if not r:
        print(f"| {peer} | 0 | - | - | - |")
        continue
    last = r[-1]
    seconds = float(last["elapsed_seconds"])
    acc = float(last["test_accuracy"])
    acc = acc * 100 if acc <= 1 else acc
    found[peer] = seconds / len(r)
    print(f"| {peer} | {len(r)} | {seconds:.3f} | {seconds / len(r):.3f} | {acc:.2f}% |")
if len(found) == 2:
    a, b = found["pytorch cuda (eager)"], found["lenet -gpu 0"]
    print(f"\npytorch s/epoch / lenet s/epoch = {a / b:.3f}")
PYEOF
exit $status
