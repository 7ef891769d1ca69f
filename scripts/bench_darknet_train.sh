#!/usr/bin/env bash
# The detector's training time per iteration, lenet against Darknet itself (Debian's darknet,
# pjreddie's of 2018-09-14), side by side in one run: the same float cfg, the same input size,
# generated digit scenes and batch, rounds alternating Darknet, lenet on -threads, lenet on 1.
#
# The cfg is cfg/yolo_digits.cfg with channels=3 (Darknet 2018's detection loader always loads
# colour: a channels=1 net would be handed 3-channel images), width/height = -size, batch = -batch,
# subdivisions=1, max_batches = -iters; random=0 and jitter=0 are already set. Darknet's CPU
# update is SGD with momentum whatever adam= says (its Adam is GPU-only); lenet runs the cfg's
# Adam: the update is a small part of a step.
#
# Threads: Debian's libdarknet is built without OpenMP (no libgomp, no omp_* symbols), so its
# forward and backward run on one core whatever OMP_NUM_THREADS says (set to -threads anyway);
# only its image loading runs on other threads, beside the step it times. Both lenet columns are
# printed: -threads (the comparison asked for) and 1 thread (per core).
#
# Per round each peer trains -iters iterations from a fresh random initialization. Darknet's time
# per iteration is the mean of the seconds its log prints per iteration (train_network alone, data
# loading excluded); lenet's is its epoch's training time (evaluation excluded) / updates. The
# figures are medians over rounds, with the range.
#
# usage: scripts/bench_darknet_train.sh [-size 320] [-batch 16] [-iters 8] [-rounds 3] [-threads 2]
#                                       [-work dir] [-mnist data/mnist]
# A quick smoke run: scripts/bench_darknet_train.sh -size 96 -batch 2 -iters 2 -rounds 1
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lenet=${LENET:-$root/build/lenet}
size=320
batch=16
iters=8
rounds=3
threads=2
work=""
mnist=$root/data/mnist
while (($#)); do
    case $1 in
        -size) size=$2; shift 2 ;;
        -batch) batch=$2; shift 2 ;;
        -iters) iters=$2; shift 2 ;;
        -rounds) rounds=$2; shift 2 ;;
        -threads) threads=$2; shift 2 ;;
        -work) work=$2; shift 2 ;;
        -mnist) mnist=$2; shift 2 ;;
        *) echo "usage: $0 [-size 320] [-batch 16] [-iters 8] [-rounds 3] [-threads 2] [-work dir] [-mnist dir]" >&2
           exit 2 ;;
    esac
done
[[ -x $lenet ]] || { echo "bench_darknet_train: $lenet not built" >&2; exit 1; }
[[ -x /usr/bin/darknet ]] || { echo "bench_darknet_train: Debian's darknet is not installed" >&2; exit 1; }
[[ -d $mnist ]] || { echo "bench_darknet_train: no MNIST at $mnist (scripts/get_mnist.sh)" >&2; exit 1; }
[[ -n $work ]] || work=$(mktemp -d /tmp/bench_darknet.XXXXXX)
mkdir -p "$work"
work=$(cd "$work" && pwd)
case $work in *images*|*JPEGImages*|*raw*|*labels*)  # Darknet's label-path rule rewrites these
    echo "bench_darknet_train: the work directory's path must not contain images, raw or labels: $work" >&2; exit 1 ;;
esac

images=$((batch * iters))
"$lenet" detector scenes "$mnist" "$work/scenes" -count "$images" -size "$size" >/dev/null
"$lenet" detector scenes "$mnist" "$work/scenes" -count 1 -size "$size" -split valid >/dev/null
cfg=$work/yolo_digits3.cfg
sed -e "s/^channels=.*/channels=3/" -e "s/^width=.*/width=$size/" -e "s/^height=.*/height=$size/" \
    -e "s/^batch=.*/batch=$batch/" -e "s/^subdivisions=.*/subdivisions=1/" -e "s/^max_batches=.*/max_batches=$iters/" \
    "$root/cfg/yolo_digits.cfg" >"$cfg"
grep -q "^random=0" "$cfg" || { echo "bench_darknet_train: expected random=0 in $cfg" >&2; exit 1; }

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "cfg/yolo_digits.cfg, 3 channels, ${size}x${size}, batch $batch, $iters iterations per round, $rounds rounds"
echo "$(nproc) cores ($cpu), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "work directory: $work"

# One round's seconds per iteration.
darknet_round() {  # $1: round
    local dir=$work/darknet_$1
    rm -rf "$dir" && mkdir -p "$dir/backup"
    printf 'classes=10\ntrain=%s\nvalid=%s\nnames=%s\nbackup=%s\n' "$work/scenes/train.txt" "$work/scenes/valid.txt" \
        "$work/scenes/digits.names" "$dir/backup" >"$dir/digits.data"
    (cd "$dir" && OMP_NUM_THREADS=$threads /usr/bin/darknet detector train "$dir/digits.data" "$cfg") >"$dir/train.log" 2>&1 ||
        { tail -20 "$dir/train.log" >&2; return 1; }
    # "<i>: <loss>, <avg> avg, <rate> rate, <seconds> seconds, <images> images"
    python3 - "$dir/train.log" "$iters" <<'EOF'
import re, sys
times = [float(m.group(1)) for m in re.finditer(r"^\s*\d+: [^,]+, [^,]+ avg, [^,]+ rate, ([0-9.]+) seconds", open(sys.argv[1]).read(), re.M)]
if len(times) != int(sys.argv[2]):
    sys.exit(f"darknet: expected {sys.argv[2]} iterations in {sys.argv[1]}, found {len(times)}")
print(f"{sum(times) / len(times):.6f}")
EOF
}

lenet_round() {  # $1: round, $2: threads
    local dir=$work/lenet_$1_t$2
    rm -rf "$dir" && mkdir -p "$dir"
    "$lenet" detector train "$work/scenes/digits.data" "$cfg" -epochs 1 -threads "$2" -train-limit "$images" \
        -valid-limit 1 -backup "$dir" -log "$dir/log.jsonl" >"$dir/train.log" 2>&1 ||
        { tail -20 "$dir/train.log" >&2; return 1; }
    python3 - "$dir/log.jsonl" "$iters" <<'EOF'
import json, sys
line = json.loads(open(sys.argv[1]).read().splitlines()[-1])
if line["updates"] != int(sys.argv[2]):
    sys.exit(f"lenet: expected {sys.argv[2]} updates, the log says {line['updates']}")
print(f"{line['epoch_seconds'] / line['updates']:.6f}")
EOF
}

dn=() ln=() l1=()
for ((r = 1; r <= rounds; ++r)); do
    d=$(darknet_round "$r")
    l=$(lenet_round "$r" "$threads")
    o=$(lenet_round "$r" 1)
    dn+=("$d") ln+=("$l") l1+=("$o")
    printf 'round %d: darknet %.3f s/iteration, lenet %.3f s (%d threads), %.3f s (1 thread)\n' "$r" "$d" "$l" "$threads" "$o"
done

python3 - "$threads" "${dn[*]}" "${ln[*]}" "${l1[*]}" <<'EOF'
import statistics, sys
threads = sys.argv[1]
dn, ln, l1 = ([float(v) for v in arg.split()] for arg in sys.argv[2:5])
def show(name, xs):
    return f"{name:<34} {statistics.median(xs):>9.3f} s/iteration  ({min(xs):.3f}-{max(xs):.3f})"
print()
print(show("darknet (1 core: no OpenMP)", dn))
print(show(f"lenet, {threads} threads", ln))
print(show("lenet, 1 thread", l1))
print(f"lenet ({threads} threads) is {statistics.median(dn) / statistics.median(ln):.1f}x faster than Darknet "
      f"(per round: {min(d / l for d, l in zip(dn, ln)):.1f}-{max(d / l for d, l in zip(dn, ln)):.1f}x); "
      f"on 1 thread {statistics.median(dn) / statistics.median(l1):.1f}x")
EOF
