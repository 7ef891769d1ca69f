#!/usr/bin/env python3
"""How fast `lenet detect` keeps up with a live MJPEG stream.

  scripts/bench_detect_stream.py [--cfg cfg/yolo_digits_xnor.cfg] [--weights none] [--fps 90]
                                 [--frames 600] [--runs 3] [--threads 2] [--thresh t] [--video clip.avi]

Starts scripts/serve_mjpeg.py (640x480 moving digits at --fps on loopback), then runs
`lenet detect <cfg> <weights> http://127.0.0.1:PORT/stream.mjpg -json -nodisplay -frames N` --runs
times and reports, per run and as medians over runs: distinct frames processed per second (frames
processed over the time from the first to the last frame's boxes), frames dropped (the summary's
count: frames that arrived while the detector was busy), and the median read-to-boxes latency
(latency_ms of the JSON lines). A detector faster than the stream shows the stream's fps and no
drops; a slower one shows its own rate, and the stream's surplus as drops.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_with_cv2():
    for python in (sys.executable, "/usr/bin/python3"):
        if python and subprocess.run([python, "-c", "import cv2"], capture_output=True).returncode == 0:
            return python
    sys.exit("bench_detect_stream.py: no python3 with OpenCV (install python3-opencv)")


def start_server(args):
    command = [python_with_cv2(), os.path.join(ROOT, "scripts", "serve_mjpeg.py"), "--port", "0", "--fps", str(args.fps),
               "--size", args.size]
    if args.video:
        command += ["--video", args.video]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    match = re.search(r"(http://\S+)", line)
    if not match:
        server.kill()
        sys.exit(f"bench_detect_stream.py: the server did not start: {line!r}")
    return server, match.group(1)


def one_run(args, url):
    command = [args.lenet, "detect", args.cfg, args.weights, url, "-json", "-nodisplay", "-frames", str(args.frames)]
    if args.threads:
        command += ["-threads", str(args.threads)]
    if args.thresh is not None:
        command += ["-thresh", str(args.thresh)]
    started = time.time()
    run = subprocess.run(command, capture_output=True, text=True, timeout=args.frames * 5 + 120)
    if run.returncode != 0:
        sys.exit(f"bench_detect_stream.py: lenet detect failed ({run.returncode}):\n{run.stderr}")
    lines = [json.loads(l) for l in run.stdout.splitlines() if l.startswith("{")]
    summary = re.search(r"(\d+) frames read, (\d+) processed, (\d+) dropped", run.stderr)
    done = [l["timestamp"] + l["latency_ms"] / 1000 for l in lines]
    distinct = len({l["frame"] for l in lines})
    span = max(done) - min(done) if len(done) > 1 else 0
    return {
        "fps": (distinct - 1) / span if span > 0 else 0.0,
        "read": int(summary.group(1)), "processed": int(summary.group(2)), "dropped": int(summary.group(3)),
        "latency_ms": statistics.median(l["latency_ms"] for l in lines),
        "wall_s": time.time() - started,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cfg", default=os.path.join(ROOT, "cfg", "yolo_digits_xnor.cfg"))
    parser.add_argument("--weights", default="none")
    parser.add_argument("--lenet", default=os.path.join(ROOT, "build", "lenet"))
    parser.add_argument("--fps", type=float, default=90)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--thresh", type=float, help="lenet detect -thresh (random weights pass thousands of boxes at 0.25)")
    parser.add_argument("--video")
    args = parser.parse_args()
    server, url = start_server(args)
    try:
        results = []
        for i in range(args.runs):
            r = one_run(args, url)
            results.append(r)
            print(f"run {i + 1}: {r['fps']:.1f} frames/s processed, {r['processed']} processed, {r['dropped']} dropped "
                  f"of {r['read']} read, median latency {r['latency_ms']:.1f} ms ({r['wall_s']:.1f} s)", flush=True)
        med = {k: statistics.median(r[k] for r in results) for k in ("fps", "dropped", "latency_ms")}
        print(f"median of {args.runs} runs: {med['fps']:.1f} distinct frames/s processed, {med['dropped']:g} dropped per "
              f"{args.frames} processed, median read-to-boxes latency {med['latency_ms']:.1f} ms "
              f"(stream {args.fps:g} fps {args.size}, {os.path.basename(args.cfg)}, weights {args.weights}"
              f"{', -thresh %g' % args.thresh if args.thresh is not None else ''})")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
