#!/usr/bin/env bash
# Checks lenet against Darknet itself: Debian's libdarknet (pjreddie's Darknet of 2018-09-14,
# package darknet), through a small harness of ours (tools/darknet_harness.c), since Darknet's CLI
# rounds what it prints. Two cases, on images already at the network's size (so neither side
# resizes anything; both read the same PNG bytes, and the input floats are compared too):
#
#  1. yolov3-tiny.cfg (Debian's, unchanged), 416x416, Darknet's random initialization (fixed
#     srand seed; batch norm statistics set by the harness, see there), saved with save_weights:
#     every raw output of each [yolo] layer must agree within 1e-4, and the boxes after NMS.
#  2. A detector Darknet trained a few iterations (`darknet detector train`, from the harness's
#     random initialization): cfg/yolo_digits.cfg with channels=3 (Darknet 2018's detection loader
#     always loads colour), a small input size, on generated digit scenes (`lenet detector
#     scenes`): the boxes after NMS must agree (same (candidate, class) pairs; score within 1e-4;
#     centre within 1e-3 px; size within 1e-3 px or 1e-4 relative), at least 20 of them; the raw
#     [yolo] outputs are compared too (within 1e-4, relative where above 1).
#  3. As 1 for cfg/bench/yolov3-tiny_xnor.cfg (xnor=1, xnor_scale=none: Darknet's XNOR arithmetic;
#     lenet runs it on its bit-packed kernels).
#
# usage: scripts/check_darknet.sh [-work dir] [-size 160] [-iters 10] [-batch 8] [-images 6]
#                                 [-thresh 0.01] [-mnist data/mnist]
# Needs: the darknet package (/usr/lib/darknet/libdarknet.so, /usr/bin/darknet), gcc, python3,
# build/lenet (LENET=... to use another), MNIST for the scenes. Exit 0 when every case passes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lenet=${LENET:-$root/build/lenet}
work=""
size=160
iters=10
batch=8
images=6
thresh=0.01
mnist=$root/data/mnist
while (($#)); do
    case $1 in
        -work) work=$2; shift 2 ;;
        -size) size=$2; shift 2 ;;
        -iters) iters=$2; shift 2 ;;
        -batch) batch=$2; shift 2 ;;
        -images) images=$2; shift 2 ;;
        -thresh) thresh=$2; shift 2 ;;
        -mnist) mnist=$2; shift 2 ;;
        *) echo "usage: $0 [-work dir] [-size 160] [-iters 10] [-batch 8] [-images 6] [-thresh 0.01] [-mnist dir]" >&2
           exit 2 ;;
    esac
done
[[ -x $lenet ]] || { echo "check_darknet: $lenet not built (cmake --build build)" >&2; exit 1; }
[[ -f /usr/lib/darknet/libdarknet.so && -x /usr/bin/darknet ]] ||
    { echo "check_darknet: Debian's darknet is not installed (apt-get install darknet)" >&2; exit 1; }
[[ -d $mnist ]] || { echo "check_darknet: no MNIST at $mnist (scripts/get_mnist.sh)" >&2; exit 1; }
[[ -n $work ]] || work=$(mktemp -d /tmp/check_darknet.XXXXXX)
mkdir -p "$work"
work=$(cd "$work" && pwd)
# Darknet finds a label file by replacing "images", "JPEGImages" and "raw" anywhere in the path.
case $work in *images*|*JPEGImages*|*raw*|*labels*)
    echo "check_darknet: the work directory's path must not contain images, raw or labels: $work" >&2; exit 1 ;;
esac
echo "work directory: $work"

harness=$work/darknet_harness
gcc -O2 -Wall -o "$harness" "$root/tools/darknet_harness.c" -I/usr/lib/darknet/include -L/usr/lib/darknet \
    -ldarknet -Wl,-rpath,/usr/lib/darknet -lm
status=0

# Darknet's random initialization of a cfg, saved for lenet; both run the three 416x416 images.
random_case() {  # $1: folder, $2: cfg
    local dir=$1 cfg=$2
    rm -rf "$dir" && mkdir -p "$dir/darknet" "$dir/lenet"
    local weights=$dir/random.weights
    "$harness" run "$cfg" random "$dir/darknet" -seed 7 -save "$weights" -thresh 0.5 "${imgs[@]}" >"$dir/darknet.log" 2>&1 ||
        { cat "$dir/darknet.log"; return 1; }
    grep "^darknet_harness" "$dir/darknet.log"
    "$lenet" detector test "$images416/coco.data" "$cfg" "$weights" "${imgs[@]}" -thresh 0.5 -dump "$dir/lenet" \
        >"$dir/lenet.log" 2>&1 || { cat "$dir/lenet.log"; return 1; }
    python3 "$root/scripts/compare_dumps.py" "$dir/darknet" "$dir/lenet" --size 416 416 --min-boxes 20
}

images416=$work/images416
rm -rf "$images416" && mkdir -p "$images416"
"$harness" crop /usr/share/darknet/data/dog.jpg 100 80 416 416 "$images416/dog.png"
"$harness" crop /usr/share/darknet/data/horses.jpg 150 0 416 416 "$images416/horses.png"
"$lenet" detector scenes "$mnist" "$images416/scenes" -count 1 -size 416 -format png -split valid -seed 3 >/dev/null
cp "$images416/scenes/images/valid/000000.png" "$images416/digits.png"
printf 'classes=80\nnames=/usr/share/darknet/data/coco.names\n' >"$images416/coco.data"
imgs=("$images416/dog.png" "$images416/horses.png" "$images416/digits.png")

echo
echo "== 1. yolov3-tiny.cfg (Debian's), 416x416, Darknet's random initialization =="
random_case "$work/random" /usr/share/darknet/cfg/yolov3-tiny.cfg || status=1

echo
echo "== 2. cfg/yolo_digits.cfg at ${size}x${size}, 3 channels, trained by Darknet for $iters iterations of batch $batch =="
case2=$work/trained
rm -rf "$case2" && mkdir -p "$case2/darknet" "$case2/lenet" "$case2/backup"
"$lenet" detector scenes "$mnist" "$case2/scenes" -count $((batch * 4)) -size "$size" -format png >/dev/null
"$lenet" detector scenes "$mnist" "$case2/scenes" -count "$images" -size "$size" -format png -split valid >/dev/null
sed -e "s/^channels=.*/channels=3/" -e "s/^width=.*/width=$size/" -e "s/^height=.*/height=$size/" \
    -e "s/^batch=.*/batch=$batch/" -e "s/^subdivisions=.*/subdivisions=1/" -e "s/^max_batches=.*/max_batches=$iters/" \
    -e "s/^learning_rate=.*/learning_rate=0.0001/" "$root/cfg/yolo_digits.cfg" >"$case2/yolo_digits3.cfg"
# learning_rate 0.0001: at the cfg's 0.001 (SGD on Darknet's CPU) ten iterations push every
# objectness near 0, leaving no boxes to compare at any useful threshold.
cat >"$case2/digits.data" <<EOF
classes=10
train=$case2/scenes/train.txt
valid=$case2/scenes/valid.txt
names=$case2/scenes/digits.names
backup=$case2/backup
EOF
# From Darknet's random initialization (as in case 1): from its own start, batch norm's rolling
# variance 0 would take hundreds of iterations to reach the activations' scale (momentum 0.99).
mkdir -p "$case2/init"
first=$(head -1 "$case2/scenes/train.txt")
"$harness" run "$case2/yolo_digits3.cfg" random "$case2/init" -seed 11 -save "$case2/init.weights" "$first" \
    >"$case2/init.log" 2>&1 || { cat "$case2/init.log"; exit 1; }
(cd "$case2" && /usr/bin/darknet detector train "$case2/digits.data" "$case2/yolo_digits3.cfg" "$case2/init.weights") \
    >"$case2/train.log" 2>&1 || { tail -20 "$case2/train.log"; exit 1; }
grep -E "^ *[0-9]+: " "$case2/train.log" | tail -3
weights=$case2/backup/yolo_digits3_final.weights
[[ -f $weights ]] || { echo "check_darknet: Darknet wrote no $weights" >&2; tail -20 "$case2/train.log"; exit 1; }
mapfile -t valid < "$case2/scenes/valid.txt"
"$harness" run "$case2/yolo_digits3.cfg" "$weights" "$case2/darknet" -thresh "$thresh" "${valid[@]}" \
    >"$case2/darknet.log" 2>&1 || { cat "$case2/darknet.log"; exit 1; }
grep "^darknet_harness" "$case2/darknet.log"
"$lenet" detector test "$case2/digits.data" "$case2/yolo_digits3.cfg" "$weights" "${valid[@]}" -thresh "$thresh" \
    -dump "$case2/lenet" >"$case2/lenet.log" 2>&1 || { cat "$case2/lenet.log"; exit 1; }
# Raw outputs here reach tens (tw, th): held to 1e-4 relative above 1 (float sums in another order).
python3 "$root/scripts/compare_dumps.py" "$case2/darknet" "$case2/lenet" --size "$size" "$size" --min-boxes 20 \
    --raw-relative || status=1

echo
echo "== 3. cfg/bench/yolov3-tiny_xnor.cfg (xnor=1 inner convolutions, Darknet's arithmetic), random initialization =="
random_case "$work/random_xnor" "$root/cfg/bench/yolov3-tiny_xnor.cfg" || status=1

echo
if ((status == 0)); then echo "check_darknet: PASS (all cases)"; else echo "check_darknet: FAIL"; fi
exit $status
