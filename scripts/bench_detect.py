#!/usr/bin/env python3
"""Detector inference speed, side by side in one run: lenet against OpenCV DNN (batch 1).

    /usr/bin/python3 scripts/bench_detect.py [--lenet build/lenet] [--threads 2] [--frames 20]
                                             [--rounds 5] [--size 416] [--digits-size 320] [--no-digits]
                                             [--baseline other/lenet] [--k-layers]

Per round, alternating, each case times --frames forward passes after a warm-up (medians):
  - lenet float yolov3-tiny (/usr/share/darknet/cfg/yolov3-tiny.cfg, else cfg/bench/yolov3-tiny.cfg),
  - lenet yolov3-tiny_xnor (cfg/bench/yolov3-tiny_xnor.cfg: xnor layers bit-packed),
  - OpenCV DNN float yolov3-tiny (cv2.dnn.readNetFromDarknet, cv2.setNumThreads(threads), its CPU
    backend), on random weights written here in Darknet's .weights layout (speed does not depend on
    the values; batch-norm variances are kept positive),
  - lenet cfg/yolo_digits.cfg and cfg/yolo_digits_xnor.cfg at --digits-size (unless --no-digits),
  - with --baseline, the XNOR cases again with another lenet binary (an A/B in the same run),
  - with --k-layers, yolov3-tiny_xnor with xnor_scale=k on every XNOR layer (XNOR-Net's K needs
    the real-valued inputs: no layer stays bit-packed between binary layers).
lenet runs `lenet bench <cfg> -infer -packed-only -json` (random weights, the cfg's init) at the
same input size (a copy of the cfg with width/height replaced). Prints the medians over rounds of
the per-round medians, the spread, and ratios against OpenCV. Timings on a shared VM move with its
neighbours: only figures from one run compare. Needs python3-opencv and python3-numpy (Debian's:
run it with /usr/bin/python3).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sized_cfg(path, size, tmp):
    """A copy of the cfg with width and height set to size (the [net] section's only)."""
    text = open(path).read()
    text = re.sub(r"(?m)^\s*width\s*=.*$", f"width={size}", text, count=1)
    text = re.sub(r"(?m)^\s*height\s*=.*$", f"height={size}", text, count=1)
    out = os.path.join(tmp, f"{os.path.splitext(os.path.basename(path))[0]}_{size}.cfg")
    with open(out, "w") as f:
        f.write(text)
    return out


def k_cfg(path, tmp):
    """A copy of the cfg with xnor_scale=k on every xnor=1 layer."""
    text = re.sub(r"(?m)^(\s*xnor\s*=\s*1\s*)$", r"\1\nxnor_scale=k", open(path).read())
    out = os.path.join(tmp, f"{os.path.splitext(os.path.basename(path))[0]}_k.cfg")
    with open(out, "w") as f:
        f.write(text)
    return out


def parse_sections(path):
    sections = []
    for line in open(path):
        line = line.split("#")[0].split(";")[0].strip()
        if not line:
            continue
        if line.startswith("["):
            sections.append((line.strip("[]").strip(), {}))
        elif "=" in line and sections:
            key, value = line.split("=", 1)
            sections[-1][1][key.strip()] = value.strip()
    return sections


def write_random_darknet_weights(cfg, path, seed=1):
    """Random weights for a float Darknet cfg with convolutional, maxpool, route, upsample, yolo."""
    import numpy as np
    rng = np.random.default_rng(seed)
    sections = parse_sections(cfg)
    channels = int(sections[0][1].get("channels", 3))
    outs = []  # output channels per layer
    with open(path, "wb") as f:
        np.array([0, 2, 0], dtype=np.int32).tofile(f)
        np.array([0], dtype=np.uint64).tofile(f)
        for name, keys in sections[1:]:
            if name in ("convolutional", "conv"):
                n, k = int(keys["filters"]), int(keys.get("size", 1))
                np.zeros(n, np.float32).tofile(f)  # biases
                if int(keys.get("batch_normalize", 0)):
                    rng.uniform(0.5, 1.5, n).astype(np.float32).tofile(f)  # scales
                    rng.uniform(-0.1, 0.1, n).astype(np.float32).tofile(f)  # rolling mean
                    rng.uniform(0.5, 1.5, n).astype(np.float32).tofile(f)  # rolling variance
                fan_in = channels * k * k
                (rng.standard_normal(n * fan_in) * np.sqrt(2.0 / fan_in)).astype(np.float32).tofile(f)
                channels = n
            elif name == "route":
                index = len(outs)
                channels = sum(outs[int(v) + index if int(v) < 0 else int(v)] for v in keys["layers"].split(","))
            elif name not in ("maxpool", "upsample", "yolo"):
                raise SystemExit(f"{cfg}: [{name}] is not handled by this weights writer")
            outs.append(channels)


def lenet_ms(lenet, cfg, threads, frames):
    out = subprocess.run([lenet, "bench", cfg, "-infer", "-packed-only", "-json", "-iters", str(frames),
                          "-threads", str(threads), "-batch", "1"], capture_output=True, text=True, check=True)
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)["ms_per_batch"]


class OpenCvCase:
    def __init__(self, cfg, weights, size, threads):
        import cv2
        import numpy as np
        cv2.setNumThreads(threads)
        self.cv2 = cv2
        self.net = cv2.dnn.readNetFromDarknet(cfg, weights)
        self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self.names = self.net.getUnconnectedOutLayersNames()
        image = np.random.default_rng(7).integers(0, 256, (size, size, 3), dtype=np.uint8)
        self.blob = cv2.dnn.blobFromImage(image, 1 / 255.0, (size, size), swapRB=True, crop=False)
        self.frame()  # warm-up: allocation, weight layout

    def frame(self):
        self.net.setInput(self.blob)
        return self.net.forward(self.names)

    def ms(self, frames):
        self.frame()
        times = []
        for _ in range(frames):
            start = time.perf_counter()
            self.frame()
            times.append(1e3 * (time.perf_counter() - start))
        return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lenet", default=os.path.join(ROOT, "build", "lenet"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=416)
    parser.add_argument("--digits-size", type=int, default=320)
    parser.add_argument("--no-digits", action="store_true")
    parser.add_argument("--baseline", help="another lenet binary: its XNOR cases run beside this one's")
    parser.add_argument("--k-layers", action="store_true", help="also yolov3-tiny_xnor with xnor_scale=k")
    args = parser.parse_args()

    float_cfg = "/usr/share/darknet/cfg/yolov3-tiny.cfg"
    if not os.path.exists(float_cfg):
        float_cfg = os.path.join(ROOT, "cfg", "bench", "yolov3-tiny.cfg")
    xnor_cfg = os.path.join(ROOT, "cfg", "bench", "yolov3-tiny_xnor.cfg")
    with tempfile.TemporaryDirectory() as tmp:
        cfgs = {"float": sized_cfg(float_cfg, args.size, tmp), "xnor": sized_cfg(xnor_cfg, args.size, tmp)}
        weights = os.path.join(tmp, "yolov3-tiny_random.weights")
        write_random_darknet_weights(cfgs["float"], weights)
        cases = [(f"lenet yolov3-tiny float {args.size}", lambda: lenet_ms(args.lenet, cfgs["float"], args.threads, args.frames)),
                 (f"lenet yolov3-tiny_xnor (packed) {args.size}",
                  lambda: lenet_ms(args.lenet, cfgs["xnor"], args.threads, args.frames))]
        if args.baseline:
            cases.append((f"baseline yolov3-tiny_xnor (packed) {args.size}",
                          lambda: lenet_ms(args.baseline, cfgs["xnor"], args.threads, args.frames)))
        if args.k_layers:
            k_xnor = k_cfg(cfgs["xnor"], tmp)
            cases.append((f"lenet yolov3-tiny_xnor xnor_scale=k {args.size}",
                          lambda: lenet_ms(args.lenet, k_xnor, args.threads, args.frames)))
        opencv = None
        try:
            opencv = OpenCvCase(cfgs["float"], weights, args.size, args.threads)
            cases.append((f"OpenCV DNN yolov3-tiny float {args.size}", lambda: opencv.ms(args.frames)))
        except ImportError as e:
            print(f"OpenCV DNN skipped ({e}): install python3-opencv, run with /usr/bin/python3", file=sys.stderr)
        if not args.no_digits:
            for name in ("yolo_digits", "yolo_digits_xnor"):
                cfg = sized_cfg(os.path.join(ROOT, "cfg", f"{name}.cfg"), args.digits_size, tmp)
                cases.append((f"lenet {name} {args.digits_size}",
                              lambda cfg=cfg: lenet_ms(args.lenet, cfg, args.threads, args.frames)))
                if args.baseline and name.endswith("xnor"):
                    cases.append((f"baseline {name} {args.digits_size}",
                                  lambda cfg=cfg: lenet_ms(args.baseline, cfg, args.threads, args.frames)))
        results = {name: [] for name, _ in cases}
        for r in range(args.rounds):
            order = cases if r % 2 == 0 else list(reversed(cases))
            for name, run in order:
                results[name].append(run())
            print(f"round {r + 1}/{args.rounds}: " +
                  ", ".join(f"{' '.join(name.split(' ')[:2])} {results[name][-1]:.2f}" for name, _ in cases), file=sys.stderr)

    medians = {name: statistics.median(v) for name, v in results.items()}
    reference = medians.get(f"OpenCV DNN yolov3-tiny float {args.size}")
    print(f"batch 1, {args.threads} threads, median over {args.rounds} rounds of each round's median of "
          f"{args.frames} frames (ms per frame)")
    print(f"| case | ms per frame | range over rounds | OpenCV float / this |")
    print(f"|---|---:|---:|---:|")
    for name, _ in cases:
        v = results[name]
        ratio = f"{reference / medians[name]:.2f}x" if reference else "-"
        print(f"| {name} | {medians[name]:.2f} | {min(v):.2f}-{max(v):.2f} | {ratio} |")


if __name__ == "__main__":
    main()
