#!/usr/bin/python3
"""One benchmark suite per lenet backend on this machine, with its peers in the same run; and the
merge of every machine's results into one table and plots. scripts/bench_devices.sh runs both.

    /usr/bin/python3 scripts/bench_devices.py run [--quick] [--rounds N] [--threads N] [--out results]
                                                  [--backends a,b] [--no-peers | --peers a,b]
    /usr/bin/python3 scripts/bench_devices.py merge RESULTS.json... [--out results] [--readme README.md]
                                                    [--readme-plot docs/bench_devices.png]

run: the backends come from `lenet bench -backends -json` (those this machine runs). Each round
runs every work on every backend and, next to it, its peer (PyTorch CPU for LeNet, OpenCV DNN for
yolov3-tiny; whichever is installed), the order reversed on odd rounds; a figure is the median over
rounds of each round's own median, with the spread (min-max over rounds). A lenet binary for another
architecture (run under qemu) is "emulated, no timing": each work runs once, for correctness.
Writes OUT/<host>-<backend>.json per backend (schema: scripts/bench_devices.md), the training logs
(OUT/<host>-<backend>-train.jsonl, OUT/<host>-pytorch-train.jsonl) and their curves
(OUT/<host>-curves.png, `lenet plot`).

merge: checks each file against the schema (a missing field or a wrong unit is an error naming the
file and the field), writes OUT/bench_devices.md (rows: work; columns: each host/backend, its ratio
to the peer, the peers), OUT/bench_devices.png (ratios) and OUT/bench_devices_figures.png (every
figure with its spread); with --readme, replaces the text between the README's bench_devices
markers with the table and a link to --readme-plot, which it writes too.
LENET=path overrides the binary (default build/lenet).
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = "lenet-bench-devices/1"
# Units and which way is better; a figure's ratio to its peer is always "how many times better".
UNITS = {"s": "lower", "ms": "lower", "images/s": "higher", "fraction": "higher"}
EMULATED = "emulated, no timing"


class Work:
    def __init__(self, key, label, unit, peer=None, peer_work=None, baseline=None):
        self.key, self.label, self.unit = key, label, unit
        self.peer = peer                   # a peer's name: its figure for peer_work (default: key)
        self.peer_work = peer_work or key
        self.baseline = baseline           # else: the ratio to another work of the same column


def suite(epochs):
    return [
        Work("lenet_train", f"seed LeNet, {epochs} epoch{'s' if epochs > 1 else ''} of MNIST: training time", "s",
             "pytorch"),
        Work("lenet_train_accuracy", "seed LeNet after that: test accuracy", "fraction", "pytorch"),
        Work("lenet_infer_b1", "LeNet inference, batch 1", "images/s", "pytorch"),
        Work("lenet_infer_b1000", "LeNet inference, batch 1000", "images/s", "pytorch"),
        Work("lenet_step", "LeNet training step, batch 128", "images/s"),
        Work("lenet_bwn_step", "BWN LeNet training step, batch 128", "images/s", baseline="lenet_step"),
        Work("lenet_xnor_step", "XNOR LeNet training step, batch 128", "images/s", baseline="lenet_step"),
        Work("lenet_bwn_infer_b1000", "BWN LeNet inference, batch 1000", "images/s", baseline="lenet_infer_b1000"),
        Work("lenet_xnor_infer_b1000", "XNOR LeNet inference, batch 1000 (bit-packed)", "images/s",
             baseline="lenet_infer_b1000"),
        Work("conv_128x56_float", "3x3 conv 128->128 at 56x56, float im2col+SGEMM", "ms"),
        Work("conv_128x56_xnor", "3x3 conv 128->128 at 56x56, XNOR (packing included)", "ms",
             baseline="conv_128x56_float"),
        Work("conv_256x28_float", "3x3 conv 256->256 at 28x28, float im2col+SGEMM", "ms"),
        Work("conv_256x28_xnor", "3x3 conv 256->256 at 28x28, XNOR (packing included)", "ms",
             baseline="conv_256x28_float"),
        Work("yolo_digits_320", "digit detector (float), 320x320, batch 1", "ms"),
        Work("yolo_digits_xnor_320", "digit detector XNOR, 320x320, batch 1", "ms", baseline="yolo_digits_320"),
        Work("yolov3_tiny_416", "yolov3-tiny (float), 416x416, batch 1", "ms", "opencv_dnn"),
        Work("yolov3_tiny_xnor_416", "yolov3-tiny_xnor, 416x416, batch 1 (vs float peer)", "ms", "opencv_dnn",
             peer_work="yolov3_tiny_416"),
    ]


WORKS_BY_KEY = {w.key: w for w in suite(10)}
PEER_NAMES = {"pytorch": "PyTorch (CPU)", "opencv_dnn": "OpenCV DNN"}


def log(message):
    print("bench_devices: " + message, file=sys.stderr, flush=True)


def die(message):
    log("error: " + message)
    sys.exit(1)


# ------------------------------------------------------------------ the machine

def read(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def elf_machine(path):
    """The architecture a binary is built for (ELF e_machine), to tell emulated runs apart."""
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return None
    code = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return {62: "x86_64", 183: "aarch64", 40: "arm", 243: "riscv64"}.get(code, f"elf-{code}")


def machine_info(lenet):
    cpuinfo = read("/proc/cpuinfo")
    model = re.search(r"^(model name|Hardware|Model)\s*:\s*(.+)$", cpuinfo, re.M)
    flags = re.search(r"^(flags|Features)\s*:\s*(.+)$", cpuinfo, re.M)
    wanted = {"sse4_2", "avx", "avx2", "fma", "f16c", "popcnt", "bmi2", "avx512f", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_vpopcntdq", "asimd", "asimddp", "sve", "sve2", "fphp", "asimdhp"}
    isa = sorted(set(flags.group(2).split()) & wanted) if flags else []
    memory = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo"), re.M)
    gpu = None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            gpu = "; ".join(line.strip() for line in out.stdout.strip().splitlines())
    except (OSError, subprocess.TimeoutExpired):
        pass
    host_arch = platform.machine()
    binary_arch = elf_machine(lenet) or host_arch
    return {
        "cpu": model.group(2).strip() if model else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "isa": isa,
        "memory_gib": round(int(memory.group(1)) / 1048576, 1) if memory else None,
        "gpu": gpu,
        "arch": binary_arch,
        "host_arch": host_arch,
        "emulated": binary_arch != host_arch,
        "kernel": platform.release(),
    }


def compiler_info(lenet):
    cache = read(os.path.join(os.path.dirname(lenet), "CMakeCache.txt"))
    cxx = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.+)$", cache, re.M)
    build_type = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache, re.M)
    name = cxx.group(1).strip() if cxx else "c++"
    try:
        version = subprocess.run([name, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        version = name
    return f"{version}, {build_type.group(1) if build_type and build_type.group(1) else 'unknown'} build"


def lenet_commit():
    def git(*args):
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit, "dirty": dirty}


def load_average():
    return [float(v) for v in read("/proc/loadavg", "0 0 0").split()[:3]]


# ------------------------------------------------------------------ running

class Runner:
    def __init__(self, args, lenet, tmp, emulated):
        self.args, self.lenet, self.tmp, self.emulated = args, lenet, tmp, emulated
        self.threads = str(args.threads)
        self.prefix = os.environ.get("LENET_RUNNER", "").split()  # e.g. qemu-aarch64 -L /usr/aarch64-linux-gnu

    def lenet_run(self, arguments, backend):
        command = self.prefix + [self.lenet, *arguments, "-threads", self.threads, "-backend", backend]
        out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            die(f"{' '.join(command)} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
        return out.stdout

    def bench(self, arguments, backend, iters):
        text = self.lenet_run(["bench", *arguments, "-json", "-iters", str(1 if self.emulated else iters)], backend)
        lines = [line for line in text.splitlines() if line.startswith("{")]
        if not lines:
            die(f"lenet bench {' '.join(arguments)} printed no JSON")
        return json.loads(lines[-1])

    def train(self, backend, epochs, log_path):
        if os.path.exists(log_path):
            os.remove(log_path)
        limit = ["-train-limit", "256", "-test-limit", "256"] if self.emulated else []
        self.lenet_run(["train", "cfg/lenet.cfg", self.args.data, "-epochs", str(epochs), "-seed", "1",
                        "-backup", os.path.join(self.tmp, f"backup_{backend}"), "-log", log_path, *limit], backend)
        lines = [json.loads(line) for line in open(log_path) if line.strip()]
        return lines[-1]["elapsed_seconds"], lines[-1]["test_accuracy"]


def per_backend_cases(runner, backend, cfgs, epochs, quick):
    """(work key, function returning {work key: value}) for one backend, in suite order."""
    it = 5 if quick else 20

    def train():
        seconds, accuracy = runner.train(backend, epochs, os.path.join(runner.tmp, f"train_{backend}.jsonl"))
        return {"lenet_train": seconds, "lenet_train_accuracy": accuracy}

    def infer(cfg, key, batch, iters):
        def run():
            d = runner.bench([cfg, "-infer", "-packed-only", "-batch", str(batch)], backend, iters)
            return {key: d["images_per_second"]["median"]}
        return run

    def step(cfg, key):
        def run():
            return {key: runner.bench([cfg, "-batch", "128"], backend, max(3, it // 2))["train_rate"]["median"]}
        return run

    def conv(shape, name):
        def run():
            row = runner.bench(["-xnor", shape], backend, it)["runs"][-1]  # the -threads row
            return {f"conv_{name}_float": row["float"]["median"], f"conv_{name}_xnor": row["xnor"]["median"]}
        return run

    def detect(cfg, key):
        def run():
            return {key: runner.bench([cfg, "-infer", "-packed-only", "-batch", "1"], backend, it)["pass_ms"]["median"]}
        return run

    return [
        ("lenet_train", train),
        ("lenet_infer_b1", infer("cfg/lenet.cfg", "lenet_infer_b1", 1, 200 if quick else 1000)),
        ("lenet_infer_b1000", infer("cfg/lenet.cfg", "lenet_infer_b1000", 1000, it)),
        ("lenet_step", step("cfg/lenet.cfg", "lenet_step")),
        ("lenet_bwn_step", step("cfg/lenet_bwn.cfg", "lenet_bwn_step")),
        ("lenet_xnor_step", step("cfg/lenet_xnor.cfg", "lenet_xnor_step")),
        ("lenet_bwn_infer_b1000", infer("cfg/lenet_bwn.cfg", "lenet_bwn_infer_b1000", 1000, it)),
        ("lenet_xnor_infer_b1000", infer("cfg/lenet_xnor.cfg", "lenet_xnor_infer_b1000", 1000, it)),
        ("conv_128x56", conv("128,56,56,128,3,1,1", "128x56")),
        ("conv_256x28", conv("256,28,28,256,3,1,1", "256x28")),
        ("yolo_digits_320", detect(cfgs["yolo_digits"], "yolo_digits_320")),
        ("yolo_digits_xnor_320", detect(cfgs["yolo_digits_xnor"], "yolo_digits_xnor_320")),
        ("yolov3_tiny_416", detect(cfgs["yolov3_tiny"], "yolov3_tiny_416")),
        ("yolov3_tiny_xnor_416", detect(cfgs["yolov3_tiny_xnor"], "yolov3_tiny_xnor_416")),
    ]


def load_bench_detect():
    """scripts/bench_detect.py: its sized cfgs, random Darknet weights and OpenCV DNN case."""
    spec = importlib.util.spec_from_file_location("bench_detect", os.path.join(ROOT, "scripts", "bench_detect.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peer_cases(args, tmp, cfgs, weights, epochs, quick, detect_module, peers):
    """{case key (as in per_backend_cases): [(peer, function returning {work key: value})]}."""
    cases = {}
    torch_script = os.path.join(ROOT, "scripts", "bench_torch.py")
    if "pytorch" in peers:
        def torch_run(*extra):
            out = subprocess.run([sys.executable, torch_script, "--data", args.data, "--threads", str(args.threads),
                                  "--cfg", os.path.join(ROOT, "cfg", "lenet.cfg"), *extra],
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode != 0:
                die(f"bench_torch.py {' '.join(extra)} failed:\n{out.stderr[-2000:]}")
            return out.stdout

        def torch_train():
            text = torch_run("--mode", "train", "--epochs", str(epochs))
            with open(os.path.join(tmp, "train_pytorch.jsonl"), "w") as f:
                f.write(text)
            summary = json.loads(text.strip().splitlines()[-1])
            return {"lenet_train": summary["total_seconds"], "lenet_train_accuracy": summary["test_accuracy"]}

        def torch_infer(batch, key):
            def run():
                # Batch 1 over the whole test set takes long on a busy machine: 2,000 images (quick: 1,000).
                images = ["--images", "1000" if quick else "2000"] if batch == 1 else []
                repeats = "3" if batch == 1 else "5" if quick else "10"
                d = json.loads(torch_run("--mode", "infer", "--batch", str(batch), "--repeats", repeats, *images)
                               .strip().splitlines()[-1])
                return {key: d["images_per_second"]}
            return run
        cases["lenet_train"] = [("pytorch", torch_train)]
        cases["lenet_infer_b1"] = [("pytorch", torch_infer(1, "lenet_infer_b1"))]
        cases["lenet_infer_b1000"] = [("pytorch", torch_infer(1000, "lenet_infer_b1000"))]
    if "opencv_dnn" in peers:
        opencv = detect_module.OpenCvCase(cfgs["yolov3_tiny"], weights, 416, args.threads)
        frames = 5 if quick else 20
        cases["yolov3_tiny_416"] = [("opencv_dnn", lambda: {"yolov3_tiny_416": opencv.ms(frames)})]
    return cases


def installed_peers(no_peers):
    if no_peers:
        return {}
    found = {}
    probe = subprocess.run([sys.executable, "-c", "import torch, numpy; print(torch.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode == 0:
        found["pytorch"] = f"PyTorch {probe.stdout.strip()} (CPU)"
    else:
        log("PyTorch peer skipped: python3-torch is not installed (scripts/install_deps.sh --bench)")
    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401
        found["opencv_dnn"] = f"OpenCV DNN {cv2.__version__} (CPU backend)"
    except ImportError:
        log("OpenCV DNN peer skipped: python3-opencv is not installed")
    return found


def figure(unit, values, status="measured"):
    if status != "measured" or not values:
        return {"unit": unit, "status": status, "runs": [], "median": None, "min": None, "max": None}
    return {"unit": unit, "status": status, "runs": [round(v, 6) for v in values],
            "median": round(statistics.median(values), 6), "min": round(min(values), 6), "max": round(max(values), 6)}


def host_name():
    return re.sub(r"[^A-Za-z0-9_.-]", "_", os.environ.get("BENCH_HOST") or socket.gethostname().split(".")[0])


def run_suite(args):
    lenet = os.path.abspath(os.environ.get("LENET", os.path.join(ROOT, "build", "lenet")))
    if not os.access(lenet, os.X_OK):
        die(f"{lenet} not found: build first (cmake -S . -B build && cmake --build build -j2)")
    if not os.path.isdir(args.data):
        die(f"no MNIST at {args.data} (scripts/get_mnist.sh)")
    machine = machine_info(lenet)
    emulated = machine["emulated"]
    epochs = 1 if args.quick else args.epochs
    rounds = 1 if emulated else args.rounds or (2 if args.quick else 3)
    listing = json.loads(subprocess.run(os.environ.get("LENET_RUNNER", "").split() + [lenet, "bench", "-backends",
                                                                                       "-json"],
                                        capture_output=True, text=True, check=True).stdout)
    backends = [row["name"] for row in listing["backends"] if row["available"]]
    if args.backends:
        wanted = args.backends.split(",")
        missing = [b for b in wanted if b not in backends]
        if missing:
            die(f"backend {', '.join(missing)} not available here (available: {', '.join(backends)})")
        backends = wanted
    peers = {} if emulated else installed_peers(args.no_peers)
    if args.peers:
        unknown = [p for p in args.peers.split(",") if p not in PEER_NAMES]
        if unknown:
            die(f"unknown peer {', '.join(unknown)} (expected {', '.join(PEER_NAMES)})")
        peers = {p: name for p, name in peers.items() if p in args.peers.split(",")}
    log(f"backends {', '.join(backends)}; peers {', '.join(peers) or 'none'}; {rounds} round(s), "
        f"{epochs} epoch(s), {args.threads} threads{'; EMULATED: correctness only' if emulated else ''}")
    os.makedirs(args.out, exist_ok=True)
    host = host_name()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = load_average()
    commit = lenet_commit()  # before the run: the sources as measured
    detect_module = load_bench_detect()
    values = {b: {} for b in backends}
    peer_values = {p: {} for p in peers}
    with tempfile.TemporaryDirectory(prefix="bench_devices_") as tmp:
        cfgs = {}
        for name, path in (("yolo_digits", "cfg/yolo_digits.cfg"), ("yolo_digits_xnor", "cfg/yolo_digits_xnor.cfg")):
            cfgs[name] = detect_module.sized_cfg(os.path.join(ROOT, path), 320, tmp)
        float_tiny = "/usr/share/darknet/cfg/yolov3-tiny.cfg"
        if not os.path.exists(float_tiny):
            float_tiny = os.path.join(ROOT, "cfg", "bench", "yolov3-tiny.cfg")
        cfgs["yolov3_tiny"] = detect_module.sized_cfg(float_tiny, 416, tmp)
        cfgs["yolov3_tiny_xnor"] = detect_module.sized_cfg(os.path.join(ROOT, "cfg", "bench", "yolov3-tiny_xnor.cfg"),
                                                          416, tmp)
        weights = os.path.join(tmp, "yolov3-tiny_random.weights")
        if "opencv_dnn" in peers:
            detect_module.write_random_darknet_weights(cfgs["yolov3_tiny"], weights)
        runner = Runner(args, lenet, tmp, emulated)
        lenet_cases = {b: per_backend_cases(runner, b, cfgs, epochs, args.quick) for b in backends}
        peer_runs = peer_cases(args, tmp, cfgs, weights, epochs, args.quick, detect_module, peers)
        order = [key for key, _ in lenet_cases[backends[0]]]
        for r in range(rounds):
            keys = order if r % 2 == 0 else list(reversed(order))
            for key in keys:
                # This work on every backend, then its peer (reversed on odd rounds): each sees the same
                # minute of a busy machine.
                runs = [(b, dict(lenet_cases[b])[key]) for b in backends] + peer_runs.get(key, [])
                for who, function in (runs if r % 2 == 0 else list(reversed(runs))):
                    start = time.perf_counter()
                    result = function()
                    target = values[who] if who in values else peer_values[who]
                    for work, value in result.items():
                        target.setdefault(work, []).append(value)
                    log(f"round {r + 1}/{rounds} {key} {who}: " +
                        ", ".join(f"{w} {v:.4g}" for w, v in result.items()) +
                        f" ({time.perf_counter() - start:.1f} s)")
        for b in backends:
            log_copy = os.path.join(args.out, f"{host}-{b}-train.jsonl")
            os.replace(os.path.join(tmp, f"train_{b}.jsonl"), log_copy)
        if os.path.exists(os.path.join(tmp, "train_pytorch.jsonl")):
            os.replace(os.path.join(tmp, "train_pytorch.jsonl"), os.path.join(args.out, f"{host}-pytorch-train.jsonl"))
    load_after = load_average()
    works = suite(epochs)
    common = {
        "schema": SCHEMA,
        "host": host,
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": "quick" if args.quick else "full",
        "epochs": epochs,
        "rounds": rounds,
        "threads": args.threads,
        "machine": machine,
        "compiler": compiler_info(lenet),
        "lenet": commit,
        "load_average": {"before": load_before, "after": load_after},
    }
    status = EMULATED if emulated else "measured"
    written = []
    for b in backends:
        doc = dict(common, backend=b)
        doc["figures"] = {w.key: dict(figure(w.unit, values[b].get(w.key, []), status), work=w.label,
                                      **({"peer": w.peer, "peer_work": w.peer_work} if w.peer else {}),
                                      **({"baseline": w.baseline} if w.baseline else {}))
                          for w in works}
        doc["peers"] = {p: {"name": peers[p],
                            "figures": {k: figure(WORKS_BY_KEY[k].unit, v) for k, v in peer_values[p].items()}}
                        for p in peers}
        path = os.path.join(args.out, f"{host}-{b}.json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        written.append(path)
        log(f"wrote {path}")
    if emulated:
        # A 256-image run under emulation is no training curve (and a cross build may lack the PNG writer).
        log("training curves: not drawn for an emulated run")
        return written
    logs = [os.path.join(args.out, f"{host}-{b}-train.jsonl") for b in backends]
    if "pytorch" in peers:
        logs.append(os.path.join(args.out, f"{host}-pytorch-train.jsonl"))
    curves = os.path.join(args.out, f"{host}-curves.png")
    subprocess.run([lenet, "plot", *logs, "-o", curves, "-title", f"seed LeNet on {host}: lenet backends and peer"],
                   check=True, stdout=subprocess.DEVNULL)
    log(f"wrote {curves}")
    return written


# ------------------------------------------------------------------ merging

class SchemaError(Exception):
    pass


def require(doc, path, kind, source):
    """doc's value at the dotted path, which must be of `kind` (a type or tuple of types)."""
    value = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise SchemaError(f"{source}: missing field '{path}'")
        value = value[part]
    if kind is not None and not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
        raise SchemaError(f"{source}: field '{path}' is {json.dumps(value)}: expected {kind_name(kind)}")
    return value


def kind_name(kind):
    names = {str: "a string", int: "an integer", list: "a list", dict: "an object", bool: "true or false",
             (int, float): "a number"}
    return names.get(kind, str(kind))


def check_figure(fig, where, source, expected_unit):
    if not isinstance(fig, dict):
        raise SchemaError(f"{source}: field '{where}' is not an object")
    unit = require(fig, "unit", str, f"{source}: {where}")
    if unit not in UNITS:
        raise SchemaError(f"{source}: {where}: unit '{unit}' is not one of {', '.join(UNITS)}")
    if expected_unit and unit != expected_unit:
        raise SchemaError(f"{source}: {where}: unit '{unit}', expected '{expected_unit}'")
    status = require(fig, "status", str, f"{source}: {where}")
    runs = require(fig, "runs", list, f"{source}: {where}")
    if status == "measured":
        for key in ("median", "min", "max"):
            require(fig, key, (int, float), f"{source}: {where}")
        if not runs or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in runs):
            raise SchemaError(f"{source}: {where}: 'runs' must be a non-empty list of numbers")
        if not fig["min"] <= fig["median"] <= fig["max"]:
            raise SchemaError(f"{source}: {where}: expected min <= median <= max")
    elif status != EMULATED:
        raise SchemaError(f"{source}: {where}: status '{status}', expected 'measured' or '{EMULATED}'")


def load_results(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise SchemaError(f"{path}: cannot read ({e.strerror})")
    except json.JSONDecodeError as e:
        raise SchemaError(f"{path}:{e.lineno}: not JSON ({e.msg})")
    if not isinstance(doc, dict):
        raise SchemaError(f"{path}: expected a JSON object")
    schema = require(doc, "schema", str, path)
    if schema != SCHEMA:
        raise SchemaError(f"{path}: schema '{schema}', expected '{SCHEMA}'")
    for field, kind in (("host", str), ("backend", str), ("date", str), ("compiler", str), ("lenet.commit", str),
                        ("machine.cpu", str), ("machine.cores", int), ("machine.isa", list),
                        ("machine.memory_gib", (int, float)), ("machine.emulated", bool), ("threads", int),
                        ("figures", dict), ("peers", dict)):
        require(doc, field, kind, path)
    require(doc, "machine.gpu", None, path)  # a string, or null without a GPU
    for key, fig in doc["figures"].items():
        work = WORKS_BY_KEY.get(key)
        check_figure(fig, f"figures.{key}", path, work.unit if work else None)
    for peer, entry in doc["peers"].items():
        require(entry, "name", str, f"{path}: peers.{peer}")
        for key, fig in require(entry, "figures", dict, f"{path}: peers.{peer}").items():
            work = WORKS_BY_KEY.get(key)
            check_figure(fig, f"peers.{peer}.figures.{key}", path, work.unit if work else None)
    return doc


def ratio(value, other, unit):
    """How many times better `value` is than `other` (time: other / value; rates: value / other)."""
    if value is None or other is None or value <= 0 or other <= 0:
        return None
    return other / value if UNITS[unit] == "lower" else value / other


def format_value(v, unit):
    """Three significant digits (thousands with separators); accuracies as percentages."""
    if v is None:
        return "-"
    if unit == "fraction":
        return f"{100 * v:.2f}%"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:#.3g}".rstrip(".")


def format_figure(fig):
    if fig is None:
        return ""
    if fig["status"] != "measured":
        return fig["status"]
    text = format_value(fig["median"], fig["unit"])
    if fig["unit"] != "fraction" and len(fig["runs"]) > 1:
        text += f" ({format_value(fig['min'], fig['unit'])}-{format_value(fig['max'], fig['unit'])})"
    return text


def merge_table(docs):
    """The columns and rows of the merged table: [(work, unit, [cell, ...])], with the header."""
    docs = sorted(docs, key=lambda d: (d["host"], d["backend"]))
    peer_columns = []  # (host, peer, name)
    for d in docs:
        for p, entry in sorted(d["peers"].items()):
            if (d["host"], p) not in [(h, q) for h, q, _ in peer_columns]:
                peer_columns.append((d["host"], p, entry["name"]))
    header = ["work", "unit"]
    for d in docs:
        header += [f"{d['host']} {d['backend']}", "ratio"]
    header += [f"{h} {name}" for h, _, name in peer_columns]
    keys = [w.key for w in suite(1)]
    for d in docs:
        keys += [k for k in d["figures"] if k not in keys]
    rows = []
    for key in keys:
        figs = [d["figures"].get(key) for d in docs]
        present = [f for f in figs if f]
        if not present:
            continue
        label = next(f.get("work") for f in present) or key
        unit = present[0]["unit"]
        compared = next((PEER_NAMES.get(f["peer"], f["peer"]) for f in present if f.get("peer")), None) or next(
            (f["baseline"] for f in present if f.get("baseline")), None)
        cells = []
        for d, fig in zip(docs, figs):
            cells.append(format_figure(fig))
            r, against = None, ""
            if fig and fig["status"] == "measured":
                if fig.get("peer"):
                    peer_fig = d["peers"].get(fig["peer"], {}).get("figures", {}).get(fig.get("peer_work", key))
                    if peer_fig and peer_fig["status"] == "measured":
                        r = ratio(fig["median"], peer_fig["median"], unit)
                        against = ""
                elif fig.get("baseline"):
                    base = d["figures"].get(fig["baseline"])
                    if base and base["status"] == "measured":
                        r = ratio(fig["median"], base["median"], unit)
                        against = " vs " + fig["baseline"]
            cells.append("" if r is None else ("=" if unit == "fraction" and abs(r - 1) < 0.0005 else f"{r:.2f}x")
                         + against)
        for host, peer, _ in peer_columns:
            fig = None
            for d in docs:
                if d["host"] == host and key in d["figures"]:
                    fig = d["peers"].get(peer, {}).get("figures", {}).get(key)
                    break
            cells.append(format_figure(fig))
        rows.append((label, unit, cells, compared))
    return header, rows, docs


def markdown(header, rows, docs):
    lines = []
    hosts = {}
    for d in docs:
        hosts.setdefault(d["host"], d)
    for host, d in hosts.items():
        m = d["machine"]
        load = d.get("load_average", {})
        lines.append(f"- **{host}**: {m['cpu']}, {m['cores']} cores, {', '.join(m['isa']) or 'no ISA flags listed'}, "
                     f"{m['memory_gib']} GiB" + (f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU") +
                     ("; **emulated** (" + m.get("arch", "?") + " on " + m.get("host_arch", "?") + ")" if m["emulated"]
                      else "") +
                     f"; {d['compiler']}; lenet {d['lenet']['commit'][:10]}{' (modified)' if d['lenet'].get('dirty') else ''}"
                     f"; {d['date']}, {d.get('mode', '?')} mode, {d['threads']} threads, {d.get('rounds', '?')} rounds" +
                     (f"; load average {load['before'][0]:.1f} before, {load['after'][0]:.1f} after"
                      if load.get("before") and load.get("after") else ""))
    lines.append("")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---", "---"] + ["---:"] * (len(header) - 2)) + "|")
    for label, unit, cells, _ in rows:
        lines.append("| " + " | ".join([label, unit] + cells) + " |")
    lines.append("")
    lines.append("Each figure: the median over rounds of each round's median, (min-max over rounds). ratio: how many "
                 "times better than the row's peer on the same host (time: peer / lenet; rates: lenet / peer), "
                 "or than the work named after \"vs\" in the same column.")
    return "\n".join(lines) + "\n"


def plot_ratios(header, rows, docs, path):
    """Horizontal bars from 1 (even): right, lenet is that many times better than the row's peer
    (or baseline); left, worse. One bar per host/backend that has ratios."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    entries = []  # (label, [ratio per column])
    for label, unit, cells, compared in rows:
        ratios = []
        for i in range(len(docs)):
            m = re.match(r"([0-9.]+)x", cells[2 * i + 1])
            ratios.append(float(m.group(1)) if m else None)
        if any(r is not None for r in ratios) and unit != "fraction":
            entries.append((f"{label}\n[vs {compared}]", ratios))
    used = [c for c in range(len(docs)) if any(e[1][c] is not None for e in entries)]
    fig, ax = plt.subplots(figsize=(10, 0.42 * max(len(entries), 3) + 1.6), dpi=100)
    height = 0.8 / max(len(used), 1)
    for n, c in enumerate(used):
        ys = [i + (n - (len(used) - 1) / 2) * height for i in range(len(entries))]
        values = [e[1][c] for e in entries]
        widths = [(v - 1) if v is not None else 0 for v in values]
        ax.barh(ys, widths, left=1, height=height * 0.95, label=f"{docs[c]['host']} {docs[c]['backend']}",
                color=f"C{n}")
        for y, v in zip(ys, values):
            if v is not None:
                ax.text(v * (1.04 if v >= 1 else 0.96), y, (f"{v:.0f}" if v >= 100 else f"{v:#.2g}".rstrip(".")) + "x", va="center",
                        ha="left" if v >= 1 else "right", fontsize=7)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(range(len(entries)))
    ax.set_yticklabels([e[0] for e in entries], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    known = [v for e in entries for v in e[1] if v]
    if known:
        ax.set_xlim(min(min(known), 1) / 2.5, max(max(known), 1) * 2.5)
    ax.set_xlabel("times better than the peer or baseline in [ ] (log scale; 1 = even, left = slower)")
    ax.set_title("lenet by device and backend, against its peers")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def plot_figures(docs, path):
    """One small bar chart per work: every host/backend and peer, medians with min-max bars; each
    column keeps its colour across the charts."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = [w.key for w in suite(1) if any(w.key in d["figures"] for d in docs)]
    sources = []  # (column name, figure getter)
    for d in docs:
        sources.append((f"{d['host']}\n{d['backend']}", lambda key, d=d: d["figures"].get(key)))
    for d in docs:
        for p, entry in sorted(d["peers"].items()):
            name = f"{d['host']}\n{p}"
            if name not in [n for n, _ in sources]:
                sources.append((name, lambda key, entry=entry: entry["figures"].get(key)))
    columns = max(1, min(4, len(keys)))
    lines = (len(keys) + columns - 1) // columns
    fig, axes = plt.subplots(lines, columns, figsize=(4 * columns, 2.8 * lines), dpi=100, squeeze=False)
    for i, key in enumerate(keys):
        ax = axes[i // columns][i % columns]
        names, medians, lows, highs, colours = [], [], [], [], []
        for n, (name, get) in enumerate(sources):
            f = get(key)
            if f and f["status"] == "measured":
                names.append(name)
                medians.append(f["median"])
                lows.append(f["median"] - f["min"])
                highs.append(f["max"] - f["median"])
                colours.append(f"C{n % 10}")
        ax.bar(range(len(names)), medians, yerr=[lows, highs], capsize=3, color=colours)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize=6)
        label = next((d["figures"][key].get("work") for d in docs if key in d["figures"]), None)
        ax.set_title(label or WORKS_BY_KEY[key].label, fontsize=7)
        ax.set_ylabel(WORKS_BY_KEY[key].unit, fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for j in range(len(keys), lines * columns):
        axes[j // columns][j % columns].axis("off")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


README_BEGIN = "<!-- bench_devices:begin (scripts/bench_devices.sh writes this part; do not edit) -->"
README_END = "<!-- bench_devices:end -->"


def update_readme(readme, table, plot_link):
    text = open(readme).read()
    if README_BEGIN not in text or README_END not in text:
        raise SchemaError(f"{readme}: no bench_devices markers ({README_BEGIN} ... {README_END})")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    body = f"{README_BEGIN}\n{table}\n![lenet against its peers, by device and backend]({plot_link})\n{README_END}"
    with open(readme, "w") as f:
        f.write(head + body + tail)


def merge(args):
    try:
        docs = [load_results(p) for p in args.results]
    except SchemaError as e:
        die(str(e))
    seen = {}
    for path, d in zip(args.results, docs):
        if (d["host"], d["backend"]) in seen:
            die(f"{path}: host {d['host']} backend {d['backend']} again (also in {seen[(d['host'], d['backend'])]})")
        seen[(d["host"], d["backend"])] = path
    header, rows, docs = merge_table(docs)
    table = markdown(header, rows, docs)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bench_devices.md"), "w") as f:
        f.write(table)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        die("python3-matplotlib is missing (scripts/install_deps.sh --bench): the table is in "
            + os.path.join(args.out, "bench_devices.md"))
    plot_ratios(header, rows, docs, os.path.join(args.out, "bench_devices.png"))
    plot_figures(docs, os.path.join(args.out, "bench_devices_figures.png"))
    log(f"wrote {args.out}/bench_devices.md, bench_devices.png, bench_devices_figures.png")
    if args.readme:
        plot_path = args.readme_plot
        plot_ratios(header, rows, docs, plot_path)
        link = os.path.relpath(plot_path, os.path.dirname(os.path.abspath(args.readme)))
        try:
            update_readme(args.readme, table, link)
        except SchemaError as e:
            die(str(e))
        log(f"updated {args.readme} and {plot_path}")
    sys.stdout.write(table)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the suite on this machine")
    run.add_argument("--quick", action="store_true", help="1 training epoch, 2 rounds, fewer iterations")
    run.add_argument("--epochs", type=int, default=10)
    run.add_argument("--rounds", type=int, default=0, help="default 3 (quick: 2)")
    run.add_argument("--threads", type=int, default=2)
    run.add_argument("--backends", default="", help="comma-separated; default: every backend this machine runs")
    run.add_argument("--no-peers", action="store_true")
    run.add_argument("--peers", default="", help="comma-separated subset of pytorch,opencv_dnn (default: all installed)")
    run.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    run.add_argument("--out", default=os.path.join(ROOT, "results"))
    m = sub.add_parser("merge", help="merge results files into one table and plots")
    m.add_argument("results", nargs="+")
    m.add_argument("--out", default=os.path.join(ROOT, "results"))
    m.add_argument("--readme", default=None)
    m.add_argument("--readme-plot", default=os.path.join(ROOT, "docs", "bench_devices.png"))
    args = parser.parse_args()
    if args.command == "run":
        for path in run_suite(args):
            print(path)
    else:
        merge(args)


if __name__ == "__main__":
    main()
