#!/usr/bin/env bash
# Side-by-side training benchmark: lenet vs PyTorch (CPU, OpenBLAS) on the seed LeNet / MNIST.
#   scripts/bench_train.sh [--threads N] [--epochs E] [--data DIR] [--out DIR]
#                          [--cfg FILE] [--skip-lenet] [--skip-torch] [--report-only]
# Defaults: --threads 2 --epochs 10 --data data/mnist --out results --cfg cfg/lenet.cfg
# Runs lenet, then the torch script, back to back, each under /usr/bin/time -v, and writes
# OUT/bench_train.md (the table) next to the raw logs. --report-only re-tabulates the logs
# already in OUT without running anything. Run from anywhere; paths are relative to the repo root.
# LENET=path overrides the binary (default build/lenet), e.g. to test this script with a stand-in.
set -euo pipefail

cd "$(dirname "$0")/.."  # repo root, so build/, cfg/ and data/ resolve

threads=2 epochs=10 data=data/mnist out=results
run_lenet=1 run_torch=1 report_only=0
cfg=cfg/lenet.cfg
lenet=${LENET:-build/lenet}
PY=/usr/bin/python3  # Debian's interpreter: the one with python3-torch (not pyenv's python3)

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0"; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case $1 in
        --threads) threads=${2:?}; shift 2 ;;
        --epochs) epochs=${2:?}; shift 2 ;;
        --data) data=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --cfg) cfg=${2:?}; shift 2 ;;
        --skip-lenet) run_lenet=0; shift ;;
        --skip-torch) run_torch=0; shift ;;
        --report-only) report_only=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "bench_train: unknown option $1" >&2; usage 2 ;;
    esac
done
log() { echo "bench_train: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Installs python3-torch, OpenBLAS and GNU time if missing (sudo only when not root).
ensure_deps() {
    local need=()
    [ -x /usr/bin/time ] || need+=(time)
    if [ $run_torch = 1 ]; then
        "$PY" -c 'import torch, numpy' 2>/dev/null || need+=(python3-torch python3-numpy)
        dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
    fi
    [ ${#need[@]} -eq 0 ] && return 0
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    log "installing ${need[*]}"
    $sudo apt-get install -y -q "${need[@]}" >&2 || die "could not install ${need[*]}"
}

# Runs "$@" under /usr/bin/time -v; stdout -> $1.out (also shown), stderr -> $1.err, time -> $1.time
timed() {
    local base=$1; shift
    rm -f "$base.out" "$base.err" "$base.time"
    local rc=0
    /usr/bin/time -v -o "$base.time" "$@" 2> "$base.err" | tee "$base.out" || rc=$?
    [ $rc = 0 ] || { tail -20 "$base.err" >&2; die "'$*' failed (exit $rc); logs in $base.err"; }
}

if [ $report_only = 0 ]; then
    mkdir -p "$out"
    ensure_deps
    if [ $run_lenet = 1 ]; then
        [ -x "$lenet" ] || die "$lenet not found: run make first (cmake -B build && cmake --build build -j2)"
        [ -f "$cfg" ] || die "$cfg not found"
    fi
    [ -d "$data" ] || die "$data not found: run scripts/get_mnist.sh $data"
    nproc_now=$(nproc); load=$(cut -d' ' -f1 /proc/loadavg)
    log "threads=$threads epochs=$epochs data=$data out=$out (nproc $nproc_now, load average $load)"
    # Record the machine so the table can be judged later.
    { echo "date: $(date -Is)"; echo "host: $(uname -srm)"
      echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
      echo "nproc: $nproc_now"; echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
      echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet 2>/dev/null || echo ' (dirty tree)')"
    } > "$out/bench_machine.txt"

    if [ $run_lenet = 1 ]; then
        log "(a) lenet: $lenet train $cfg $data -threads $threads -epochs $epochs"
        rm -f "$out/lenet_train.jsonl"  # a stale log would be read as this run's result
        timed "$out/lenet_train" "$lenet" train "$cfg" "$data" -threads "$threads" -epochs "$epochs" \
            -log "$out/lenet_train.jsonl"
        [ -s "$out/lenet_train.jsonl" ] || die "lenet wrote no $out/lenet_train.jsonl"
    fi
    if [ $run_torch = 1 ]; then
        torch_cfg=(); [ -f "$cfg" ] && torch_cfg=(--cfg "$cfg")  # same lr/betas/eps/batch as lenet
        log "(b) pytorch: $PY scripts/bench_torch.py --data $data --threads $threads --epochs $epochs ${torch_cfg[*]}"
        timed "$out/torch_train" "$PY" scripts/bench_torch.py --data "$data" --threads "$threads" \
            --epochs "$epochs" --mode train "${torch_cfg[@]}"
        grep -E 'BLAS (libraries|in use)|alternative|torch [0-9]|hyper' "$out/torch_train.err" >&2 || true
    fi
fi

# Tabulate. Training seconds come from the logs (training loop only, evaluation excluded);
# peak RSS and whole-process wall time from /usr/bin/time -v. Skipped peers are left out of
# the table (their old logs stay in OUT); --report-only shows whatever logs OUT holds.
peers=(); [ $run_lenet = 1 ] && peers+=(lenet); [ $run_torch = 1 ] && peers+=(pytorch)
"$PY" - "$out" "$report_only" "${peers[@]}" <<'EOF'
import json, os, sys
out, report_only, wanted = sys.argv[1], sys.argv[2] == "1", set(sys.argv[3:])

def jsonl(path):
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"bench_train: {path}:{n}: not JSON ({e}): {line[:80]}")
    return rows

def gnu_time(path):
    res = {"rss_mib": None, "wall_s": None}
    if not os.path.exists(path):
        return res
    for line in open(path):
        if "Maximum resident set size" in line:
            res["rss_mib"] = int(line.rsplit(":", 1)[1]) / 1024
        elif "Elapsed (wall clock)" in line:
            parts = [float(p) for p in line.rsplit(" ", 1)[1].split(":")]
            res["wall_s"] = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return res

def summarise(peer, path, time_path):
    epochs = [r for r in jsonl(path) if "epoch" in r and r.get("mode") != "train"]
    if not epochs:
        sys.exit(f"bench_train: {path}: no epoch lines")
    for k in ("epoch", "test_accuracy", "epoch_seconds", "elapsed_seconds", "images_per_second"):
        if k not in epochs[-1]:
            sys.exit(f"bench_train: {path}: last line lacks \"{k}\"")
    last = epochs[-1]
    train_s = float(last["elapsed_seconds"])
    # images = sum of per-epoch throughput x time, so no training-set size is assumed
    images = sum(float(r["images_per_second"]) * float(r["epoch_seconds"]) for r in epochs)
    return dict(peer=peer, epochs=int(last["epoch"]), n_lines=len(epochs), train_s=train_s,
                ips=images / train_s if train_s > 0 else float("nan"),
                acc=float(last["test_accuracy"]), loss=last.get("train_loss"), **gnu_time(time_path))

rows = []
for peer, log, tm in (("lenet", "lenet_train.jsonl", "lenet_train.time"),
                      ("pytorch", "torch_train.out", "torch_train.time")):
    p = os.path.join(out, log)
    if peer in wanted and (os.path.exists(p) or not report_only):
        rows.append(summarise(peer, p, os.path.join(out, tm)))
if not rows:
    sys.exit(f"bench_train: nothing to report in {out}")

fmt = lambda v, f: "n/a" if v is None else format(v, f)
lines = ["| peer | epochs | train wall s | images/s | final test acc | final train loss | peak RSS MiB | process wall s |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    acc = r["acc"] * 100 if r["acc"] <= 1 else r["acc"]  # accept a fraction or a percentage
    lines.append(f"| {r['peer']} | {r['epochs']} | {r['train_s']:.2f} | {r['ips']:.0f} | {acc:.2f}% | "
                 f"{fmt(r['loss'], '.4f')} | {fmt(r['rss_mib'], '.1f')} | {fmt(r['wall_s'], '.2f')} |")
by = {r["peer"]: r for r in rows}
if "lenet" in by and "pytorch" in by:
    ratio = by["pytorch"]["train_s"] / by["lenet"]["train_s"]
    lines += ["", f"torch_time / lenet_time (training only) = {ratio:.3f} "
                  f"({'lenet faster' if ratio > 1 else 'pytorch faster' if ratio < 1 else 'equal'})"]
    if by["pytorch"]["epochs"] != by["lenet"]["epochs"]:
        lines.append(f"WARNING: epoch counts differ ({by['lenet']['epochs']} vs {by['pytorch']['epochs']})")
lines += ["", "train wall s: training loop only, evaluation excluded (from the peers' logs); "
              "process wall s and peak RSS: /usr/bin/time -v of the whole process."]
mach = os.path.join(out, "bench_machine.txt")
if os.path.exists(mach):
    lines += ["", "```", open(mach).read().rstrip(), "```"]
table = "\n".join(lines) + "\n"
with open(os.path.join(out, "bench_train.md"), "w") as f:
    f.write(table)
print(table, end="")
EOF
log "table and raw logs in $out/ (bench_train.md, *_train.{out,err,time}, lenet_train.jsonl)"
