#!/usr/bin/env bash
# Does `lenet detect` hold its memory on a long stream? Serves a synthetic MJPEG stream
# (scripts/serve_mjpeg.py), runs lenet detect on it headless for --minutes (default 30), samples
# lenet's resident set (VmRSS) at minute 2 and at the end, and passes when the end is within 5% of
# minute 2. A shorter run samples at a third of it instead of minute 2.
#   scripts/detect_memory.sh [--minutes 30] [--cfg cfg/yolo_digits_xnor.cfg] [--weights none] [--fps 30]
#   scripts/detect_memory.sh --minutes 1      # smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=30 cfg=cfg/yolo_digits_xnor.cfg weights=none fps=30 lenet=build/lenet
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift 2 ;;
        --cfg) cfg=$2; shift 2 ;;
        --weights) weights=$2; shift 2 ;;
        --fps) fps=$2; shift 2 ;;
        --lenet) lenet=$2; shift 2 ;;
        *) echo "detect_memory.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
python=python3
python3 -c "import cv2" 2>/dev/null || python=/usr/bin/python3
total=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
first=$(( total >= 360 ? 120 : total / 3 ))

tmp=$(mktemp -d)
server_pid="" lenet_pid=""
cleanup() {
    [ -n "$lenet_pid" ] && kill "$lenet_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

"$python" scripts/serve_mjpeg.py --port 0 --fps "$fps" >"$tmp/server.txt" &
server_pid=$!
for _ in $(seq 100); do grep -q serving "$tmp/server.txt" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$tmp/server.txt") || { echo "detect_memory.sh: the server did not start" >&2; exit 1; }

"$lenet" detect "$cfg" "$weights" "$url" -json -nodisplay >/dev/null 2>"$tmp/lenet.err" &
lenet_pid=$!
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$lenet_pid/status"; }

sleep "$first"
kill -0 "$lenet_pid" 2>/dev/null || { echo "detect_memory.sh: lenet exited early:" >&2; cat "$tmp/lenet.err" >&2; exit 1; }
rss_first=$(rss)
sleep $(( total - first ))
kill -0 "$lenet_pid" 2>/dev/null || { echo "detect_memory.sh: lenet exited early:" >&2; cat "$tmp/lenet.err" >&2; exit 1; }
rss_end=$(rss)
kill -TERM "$lenet_pid"
wait "$lenet_pid" || { echo "detect_memory.sh: lenet did not exit cleanly on SIGTERM" >&2; exit 1; }
lenet_pid=""
tail -n 1 "$tmp/lenet.err"

awk -v a="$rss_first" -v b="$rss_end" -v t1="$first" -v t2="$total" 'BEGIN {
    change = (b - a) / a * 100
    printf "RSS %d KiB at %d s, %d KiB at %d s: %+.2f%%\n", a, t1, b, t2, change
    if (change > 5 || change < -5) { print "FAIL: more than 5% apart"; exit 1 }
    print "PASS: within 5%"
}'
