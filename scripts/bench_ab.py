#!/usr/bin/env python3
"""A/B speed check of two lenet builds on this machine, in one run, in alternating pairs.

    scripts/bench_ab.py OLD_LENET NEW_LENET [--pairs 8] [--threads 2] [--epochs 10]
                        [--data data/mnist] [--out results/ab] [--skip-train] [--skip-infer]

Each build runs in its own source tree (BIN/.. when it holds cfg/, e.g. build/lenet of a worktree),
so each reads the cfgs of its own version. Timings on a shared VM move 20-35% from minute to minute, so only pairs run back to back count:
each pair runs both builds (the order alternates between pairs) and the figure is the median of
the per-pair ratios NEW/OLD (time: below 1 is faster; rates: above 1 is faster). Per pair:
  - training: `lenet train cfg/lenet.cfg DATA -epochs E` (the "done:" line's training seconds and
    final test accuracy);
  - inference: `lenet test cfg/lenet.cfg <that pair's weights> DATA -batch 1000` (images/s);
  - XNOR: `lenet bench -xnor 128,56,56,128,3,1,1 -iters 30` (XNOR ms, float ms) and
    `lenet bench cfg/lenet_xnor.cfg -batch 1000` (inference images/s).
First, both builds train one epoch of cfg/lenet.cfg on the same seed; their weights files are
compared byte for byte. Writes OUT/ab.md and the raw logs.
"""
import argparse
import filecmp
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tree_of(lenet):
    """The source tree a build belongs to (its cfgs may differ from this tree's), else this one."""
    tree = os.path.dirname(os.path.dirname(lenet))
    return tree if os.path.isdir(os.path.join(tree, "cfg")) else ROOT


def run(cmd, log):
    with open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=tree_of(cmd[0]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out.write(proc.stdout)
    if proc.returncode != 0:
        sys.exit(f"bench_ab: {' '.join(cmd)} failed (exit {proc.returncode}); see {log}")
    return proc.stdout


def train(lenet, tag, args, epochs, limit=None):
    backup = os.path.join(args.out, f"backup_{tag}")
    cmd = [lenet, "train", "cfg/lenet.cfg", args.data, "-epochs", str(epochs), "-threads", str(args.threads),
           "-backup", backup, "-seed", "1"]
    if limit:
        cmd += ["-train-limit", str(limit)]
    text = run(cmd, os.path.join(args.out, f"train_{tag}.log"))
    m = re.search(r"^done: .* in ([0-9.]+) s of training .* test accuracy ([0-9.]+)", text, re.M)
    if not m:
        sys.exit(f"bench_ab: no 'done:' line from {lenet} (see {args.out}/train_{tag}.log)")
    return float(m.group(1)), float(m.group(2)), os.path.join(backup, "lenet_final.weights")


def infer(lenet, tag, weights, args):
    text = run([lenet, "test", "cfg/lenet.cfg", weights, args.data, "-batch", "1000", "-threads", str(args.threads)],
               os.path.join(args.out, f"infer_{tag}.log"))
    return float(re.search(r"^images/s: ([0-9.]+)", text, re.M).group(1))


def xnor(lenet, tag, args):
    conv = json.loads(run([lenet, "bench", "-xnor", "128,56,56,128,3,1,1", "-iters", "30", "-threads",
                           str(args.threads), "-json"], os.path.join(args.out, f"xnor_conv_{tag}.json")))
    runs = conv["runs"]
    last = runs[-1]  # the run at the requested thread count
    net = json.loads(run([lenet, "bench", "cfg/lenet_xnor.cfg", "-batch", "1000", "-iters", "10", "-threads",
                          str(args.threads), "-json"], os.path.join(args.out, f"xnor_net_{tag}.json")))
    return last["xnor_ms"], last["float_ms"], net["inference_images_per_second"]


def summary(name, olds, news, unit, lower_is_better):
    ratios = [n / o for o, n in zip(olds, news)]
    med = statistics.median(ratios)
    verdict = "faster" if (med < 1) == lower_is_better else "slower"
    if abs(med - 1) < 1e-9:
        verdict = "same"
    return (f"| {name} | {statistics.median(olds):.4g} {unit} | {statistics.median(news):.4g} {unit} | "
            f"{med:.3f} ({min(ratios):.3f}-{max(ratios):.3f}) | {verdict} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--out", default="results/ab")
    p.add_argument("--skip-train", action="store_true")
    p.add_argument("--skip-infer", action="store_true")
    args = p.parse_args()
    builds = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new)}
    os.makedirs(os.path.join(ROOT, args.out), exist_ok=True)
    args.out = os.path.join(ROOT, args.out)
    args.data = os.path.abspath(args.data)

    # Same arithmetic: one epoch on the same seed must give the same weights bit for bit.
    files = {k: train(v, f"identity_{k}", args, 1)[2] for k, v in builds.items()}
    identical = filecmp.cmp(files["old"], files["new"], shallow=False)
    print(f"bench_ab: weights after 1 epoch bit-identical: {identical}", file=sys.stderr)

    rows = {k: [] for k in ("train_s", "accuracy", "infer", "xnor_ms", "xnor_float_ms", "xnor_net")}
    results = {"old": {k: [] for k in rows}, "new": {k: [] for k in rows}}
    for i in range(args.pairs):
        order = ["old", "new"] if i % 2 == 0 else ["new", "old"]
        for which in order:
            r = results[which]
            tag = f"{which}_{i}"
            weights = files[which]
            if not args.skip_train:
                seconds, acc, weights = train(builds[which], tag, args, args.epochs)
                r["train_s"].append(seconds)
                r["accuracy"].append(acc)
            if not args.skip_infer:
                r["infer"].append(infer(builds[which], tag, weights, args))
                xm, fm, net = xnor(builds[which], tag, args)
                r["xnor_ms"].append(xm)
                r["xnor_float_ms"].append(fm)
                r["xnor_net"].append(net)
            print(f"bench_ab: pair {i + 1}/{args.pairs} {which}: " +
                  ", ".join(f"{k} {v[-1]:.4g}" for k, v in r.items() if v), file=sys.stderr)

    o, n = results["old"], results["new"]
    lines = [f"# A/B: {args.old} (old) vs {args.new} (new), {args.pairs} alternating pairs, {args.threads} threads",
             "", f"weights after 1 epoch of cfg/lenet.cfg (seed 1) bit-identical: {'yes' if identical else 'NO'}", "",
             "| figure | old (median) | new (median) | new/old per pair: median (range) | |", "|---|---:|---:|---:|---|"]
    if o["train_s"]:
        lines.append(summary(f"training, {args.epochs} epochs", o["train_s"], n["train_s"], "s", True))
        lines.append(f"| final test accuracy | {statistics.median(o['accuracy']):.4f} | "
                     f"{statistics.median(n['accuracy']):.4f} | | |")
    if o["infer"]:
        lines.append(summary("LeNet inference, batch 1000", o["infer"], n["infer"], "img/s", False))
        lines.append(summary("XNOR conv 128x56x56 3x3, batch 1", o["xnor_ms"], n["xnor_ms"], "ms", True))
        lines.append(summary("float conv 128x56x56 3x3, batch 1", o["xnor_float_ms"], n["xnor_float_ms"], "ms", True))
        lines.append(summary("LeNet-XNOR inference, batch 1000", o["xnor_net"], n["xnor_net"], "img/s", False))
    report = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "ab.md"), "w") as f:
        f.write(report)
    with open(os.path.join(args.out, "ab.json"), "w") as f:
        json.dump({"identical_after_one_epoch": identical, "results": results}, f, indent=1)
    print(report)


if __name__ == "__main__":
    main()
