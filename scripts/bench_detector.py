#!/usr/bin/env python3
"""The digit detectors' benchmark: validation mAP against training time, and time per iteration.

    scripts/bench_detector.py [--minutes 60] [--threads 2] [--concurrent]
                              [--train-count 6000] [--valid-count 500] [--out results/bench_detector]
                              [--cfg cfg/yolo_digits.cfg --cfg cfg/yolo_digits_xnor.cfg]
                              [--iter-pairs 5] [--skip-train] [--skip-iter] [--report-only]

1. Generates digit scenes once (`lenet detector scenes`, seed 1 for train, 2 for valid) in OUT/data.
2. Trains each cfg from scratch (`lenet detector train ... -log OUT/<cfg>/train.jsonl`), one after
   the other with --threads each, or all at once with --concurrent (then split the cores yourself,
   e.g. --threads 1 on two cores). A run is stopped once its training time (evaluation excluded,
   the log's elapsed_seconds) passes --minutes; the checkpoints stay in OUT/<cfg>/.
3. Time per iteration: --iter-pairs alternating pairs of one short epoch (128 images) per cfg,
   median seconds per update and the ratio to the first cfg.
4. Writes OUT/report.md (curves, the first time each detector reached its target, the iteration
   table) and OUT/map_vs_time.svg. --report-only rebuilds both from the logs already in OUT.
Targets (issue 12): float mAP@0.5 >= 0.95; XNOR >= 0.90 and >= 95% of float; within 60 minutes.
LENET=path overrides the binary (default build/lenet).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LENET = os.environ.get("LENET", os.path.join(ROOT, "build", "lenet"))
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def log(message):
    print("bench_detector: " + message, file=sys.stderr, flush=True)


def name_of(cfg):
    return os.path.splitext(os.path.basename(cfg))[0]


def generate_scenes(out, train_count, valid_count):
    data = os.path.join(out, "data")
    if os.path.exists(os.path.join(data, "digits.data")):
        return data
    mnist = os.path.join(ROOT, "data", "mnist")
    for split, count, seed in (("train", train_count, 1), ("valid", valid_count, 2)):
        log(f"generating {count} {split} scenes in {data}")
        subprocess.run([LENET, "detector", "scenes", mnist, data, "-split", split, "-count", str(count),
                        "-seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    # The .data file names its lists relative to the working directory: make them absolute.
    path = os.path.join(data, "digits.data")
    lines = []
    for line in open(path):
        key, _, value = line.strip().partition("=")
        if key in ("train", "valid", "names"):
            value = os.path.join(os.path.abspath(data), os.path.basename(value))
        lines.append(f"{key}={value}")
    open(path, "w").write("\n".join(lines) + "\n")
    return data


def read_log(path):
    if not os.path.exists(path):
        return []
    rows = []
    for line in open(path):
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


def train(cfgs, data, out, minutes, threads, concurrent, train_count):
    procs = {}

    def start(cfg):
        run = os.path.join(out, name_of(cfg))
        os.makedirs(run, exist_ok=True)
        logfile = os.path.join(run, "train.jsonl")
        if os.path.exists(logfile):
            os.remove(logfile)
        cmd = [LENET, "detector", "train", os.path.join(data, "digits.data"), os.path.abspath(cfg), "-threads",
               str(threads), "-train-limit", str(train_count), "-backup", run, "-log", logfile, "-clear"]
        log("running " + " ".join(cmd))
        procs[cfg] = (subprocess.Popen(cmd, stdout=open(os.path.join(run, "train.log"), "w"),
                                       stderr=subprocess.STDOUT), logfile, time.time())

    def finished(cfg):
        proc, logfile, _ = procs[cfg]
        if proc.poll() is not None:
            return True
        rows = read_log(logfile)
        if rows and rows[-1]["elapsed_seconds"] >= minutes * 60:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return True
        return False

    queue = list(cfgs)
    while queue or procs:
        while queue and (concurrent or not procs):
            start(queue.pop(0))
        for cfg in list(procs):
            if finished(cfg):
                log(f"{name_of(cfg)}: done after {time.time() - procs[cfg][2]:.0f} s wall")
                del procs[cfg]
        time.sleep(5)


def iteration_times(cfgs, data, out, threads, pairs):
    times = {cfg: [] for cfg in cfgs}
    for pair in range(pairs):
        order = cfgs if pair % 2 == 0 else list(reversed(cfgs))
        for cfg in order:
            run = os.path.join(out, "iter", name_of(cfg))
            os.makedirs(run, exist_ok=True)
            logfile = os.path.join(run, "iter.jsonl")
            if os.path.exists(logfile):
                os.remove(logfile)
            subprocess.run([LENET, "detector", "train", os.path.join(data, "digits.data"), os.path.abspath(cfg),
                            "-threads", str(threads), "-epochs", "1", "-train-limit", "128", "-valid-limit", "1",
                            "-backup", run, "-log", logfile, "-clear"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            row = read_log(logfile)[-1]
            times[cfg].append(row["epoch_seconds"] / max(1, row["updates"]))
    return times


def svg_plot(series, target_lines, path, minutes):
    width, height, left, bottom, top, right = 720, 440, 60, 50, 20, 180
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max([minutes] + [r["elapsed_seconds"] / 60 for rows in series.values() for r in rows])

    def x(v):
        return left + plot_w * v / x_max

    def y(v):
        return top + plot_h * (1 - v)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for i in range(11):
        v = i / 10
        parts.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + plot_w}" y2="{y(v):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>')
    step = 10 if x_max > 30 else 5
    for m in range(0, int(x_max) + 1, step):
        parts.append(f'<text x="{x(m):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{m}</text>')
    parts.append(f'<line x1="{x(minutes):.1f}" y1="{top}" x2="{x(minutes):.1f}" y2="{top + plot_h}" '
                 'stroke="#999" stroke-dasharray="4,3"/>')
    for value, label in target_lines:
        parts.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" '
                     'stroke="#999" stroke-dasharray="2,3"/>')
        parts.append(f'<text x="{left + plot_w + 4}" y="{y(value) + 4:.1f}" fill="#666">{label}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="black"/>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">'
                 'training time (minutes, evaluation excluded)</text>')
    parts.append(f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {top + plot_h / 2})">validation mAP@0.5</text>')
    for i, (name, rows) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = [(0.0, 0.0)] + [(r["elapsed_seconds"] / 60, r["valid_map50"]) for r in rows]
        path_d = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in points)
        parts.append(f'<polyline points="{path_d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for a, b in points[1:]:
            parts.append(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 4}" y="{top + 40 + 18 * i}" fill="{colour}">{name}</text>')
    parts.append("</svg>")
    open(path, "w").write("\n".join(parts) + "\n")


def report(cfgs, out, minutes, iter_times):
    series = {name_of(c): read_log(os.path.join(out, name_of(c), "train.jsonl")) for c in cfgs}
    lines = ["# Digit detectors: validation mAP@0.5 against training time", ""]
    best = {}
    for name, rows in series.items():
        lines += [f"## {name}", "", "| epoch | updates | training min | mAP@0.5 | mAP@0.5:0.95 | learning rate |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['epoch']} | {r['updates']} | {r['elapsed_seconds'] / 60:.1f} | "
                         f"{r['valid_map50']:.4f} | {r['valid_map50_95']:.4f} | {r['learning_rate']:g} |")
        within = [r for r in rows if r["elapsed_seconds"] <= minutes * 60]
        best[name] = max([r["valid_map50"] for r in within], default=float("nan"))
        lines += ["", f"best mAP@0.5 within {minutes} min: {best[name]:.4f}", ""]
    names = list(series)
    targets = [(0.95, "float target 0.95"), (0.90, "XNOR target 0.90")]
    if len(names) >= 2:
        ratio = best[names[1]] / best[names[0]] if best[names[0]] else float("nan")
        lines += [f"{names[1]} / {names[0]} (best within {minutes} min): {ratio:.3f} (target >= 0.95)", ""]
    for name, target in zip(names, (0.95, 0.90)):
        hit = [r for r in series[name] if r["valid_map50"] >= target]
        when = f"{hit[0]['elapsed_seconds'] / 60:.1f} min (epoch {hit[0]['epoch']})" if hit else "not reached"
        lines.append(f"- {name}: mAP@0.5 >= {target}: {when}")
    if iter_times:
        first = statistics.median(iter_times[cfgs[0]])
        lines += ["", "## Time per update (one 128-image epoch, alternating)", "",
                  "| cfg | median s/update | runs | ratio to first |", "|---|---:|---:|---:|"]
        for cfg in cfgs:
            med = statistics.median(iter_times[cfg])
            lines.append(f"| {name_of(cfg)} | {med:.3f} | {len(iter_times[cfg])} | {med / first:.2f} |")
        json.dump({name_of(c): t for c, t in iter_times.items()}, open(os.path.join(out, "iter.json"), "w"))
    open(os.path.join(out, "report.md"), "w").write("\n".join(lines) + "\n")
    svg_plot(series, targets, os.path.join(out, "map_vs_time.svg"), minutes)
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--concurrent", action="store_true")
    parser.add_argument("--train-count", type=int, default=6000)
    parser.add_argument("--valid-count", type=int, default=500)
    parser.add_argument("--out", default=os.path.join(ROOT, "results", "bench_detector"))
    parser.add_argument("--cfg", action="append")
    parser.add_argument("--iter-pairs", type=int, default=5)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--skip-iter", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    cfgs = args.cfg or [os.path.join(ROOT, "cfg", "yolo_digits.cfg"), os.path.join(ROOT, "cfg", "yolo_digits_xnor.cfg")]
    os.makedirs(args.out, exist_ok=True)
    iter_file = os.path.join(args.out, "iter.json")
    iter_times = None
    if not args.report_only:
        if not os.path.exists(LENET):
            sys.exit(f"bench_detector: {LENET} not found: build first (./make.sh)")
        data = generate_scenes(args.out, args.train_count, args.valid_count)
        if not args.skip_train:
            train(cfgs, data, args.out, args.minutes, args.threads, args.concurrent, args.train_count)
        if not args.skip_iter:
            iter_times = iteration_times(cfgs, data, args.out, args.threads, args.iter_pairs)
    if iter_times is None and os.path.exists(iter_file):
        saved = json.load(open(iter_file))
        if all(name_of(c) in saved for c in cfgs):
            iter_times = {c: saved[name_of(c)] for c in cfgs}
    report(cfgs, args.out, args.minutes, iter_times)


if __name__ == "__main__":
    main()
