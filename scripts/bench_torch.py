#!/usr/bin/python3
"""PyTorch peer for the lenet side-by-side benchmark ("seed LeNet" on MNIST).

Run with Debian's interpreter (it has python3-torch), not a pyenv python3:
  /usr/bin/python3 scripts/bench_torch.py --data data/mnist --threads 2 --epochs 10 --mode train
  /usr/bin/python3 scripts/bench_torch.py --data data/mnist --threads 2 --mode infer --batch 1000
  /usr/bin/python3 scripts/bench_torch.py --data data/mnist --threads 2 --mode infer --batch 1
  python3 scripts/bench_torch.py --data data/mnist --device cuda --epochs 10 --mode train   (a GPU peer:
      the data on the device before timing, each epoch timed to a torch.cuda.synchronize())

stdout: JSON lines only (one per epoch plus a summary for train, one line for infer).
stderr: human-readable notes (torch version, BLAS in use, hyper-parameters).
Standard library + numpy + torch only.
"""
import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import time
import zlib

PEER = "pytorch"

# MNIST's four files; each may also be present as NAME.gz.
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX3_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX1_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension


def note(msg):
    print(f"bench_torch: {msg}", file=sys.stderr, flush=True)


def die(msg):
    note(f"error: {msg}")
    sys.exit(1)


def parse_args():
    p = argparse.ArgumentParser(description="PyTorch peer of the lenet MNIST benchmark")
    p.add_argument("--data", default="data/mnist", help="directory with the four MNIST IDX files (raw or .gz)")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads (torch, OpenMP and OpenBLAS)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=None, help="train: 128 (or the cfg's batch); infer: 1000")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mode", choices=["train", "infer"], default="train")
    p.add_argument("--cfg", default=None,
                   help="lenet cfg file; if given, Adam's learning_rate/B1/B2/eps and batch are read from its [net] section")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.001, overrides --cfg)")
    p.add_argument("--beta1", type=float, default=None, help="default 0.9")
    p.add_argument("--beta2", type=float, default=None, help="default 0.999")
    p.add_argument("--eps", type=float, default=None, help="default 1e-8")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]: where the model and the data live")
    p.add_argument("--repeats", type=int, default=10, help="infer: timed passes over the test set (median reported)")
    p.add_argument("--images", type=int, default=0, help="infer: the first N test images only (default: all)")
    a = p.parse_args()
    if a.threads < 1 or a.epochs < 1 or (a.batch is not None and a.batch < 1) or a.repeats < 1:
        p.error("--threads, --epochs, --batch and --repeats must be >= 1")
    return a


args = parse_args()

# OpenBLAS and OpenMP size their thread pools when libtorch (and the libblas.so.3 it links) is
# loaded, so the environment must be set before "import torch"; torch.set_num_threads() alone
# does not reach a BLAS that torch only knows as "generic".
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402

try:
    import torch  # noqa: E402
    import torch.nn as nn  # noqa: E402
    import torch.nn.functional as F  # noqa: E402
except ImportError as e:
    die(f"cannot import torch ({e}) with {sys.executable}: run with /usr/bin/python3 "
        "after 'apt-get install python3-torch libopenblas0-pthread'")


# ---------------------------------------------------------------- IDX loading

def find_file(directory, name):
    for cand in (os.path.join(directory, name), os.path.join(directory, name + ".gz")):
        if os.path.isfile(cand):
            return cand
    die(f"{os.path.join(directory, name)}: not found (nor {name}.gz); run scripts/get_mnist.sh {directory}")


def read_idx(path, magic, item_shape):
    """Returns a uint8 array of shape (count, *item_shape) from an IDX file, raw or gzip."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open  # sniff, don't trust the name
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:
        die(f"{path}: cannot read ({e})")
    hdr_len = 4 + 4 * (1 + len(item_shape))
    if len(data) < hdr_len:
        die(f"{path}: too short for an IDX header ({len(data)} bytes)")
    got_magic = int.from_bytes(data[0:4], "big")
    if got_magic != magic:
        die(f"{path}: bad IDX magic number {got_magic:#010x}, expected {magic:#010x}")
    count = int.from_bytes(data[4:8], "big")
    dims = [int.from_bytes(data[8 + 4 * i:12 + 4 * i], "big") for i in range(len(item_shape))]
    if tuple(dims) != tuple(item_shape):
        die(f"{path}: item shape {tuple(dims)}, expected {tuple(item_shape)}")
    want = hdr_len + count * int(np.prod(item_shape, dtype=np.int64))
    if len(data) != want:
        die(f"{path}: {len(data)} bytes, expected {want} for {count} items")
    return np.frombuffer(data, dtype=np.uint8, offset=hdr_len).reshape((count, *item_shape))


def load_split(directory, which):
    imgs_path = find_file(directory, FILES[which + "_images"])
    lbls_path = find_file(directory, FILES[which + "_labels"])
    imgs = read_idx(imgs_path, IDX3_MAGIC, (28, 28))
    lbls = read_idx(lbls_path, IDX1_MAGIC, ())
    if len(imgs) != len(lbls):
        die(f"{imgs_path} has {len(imgs)} images but {lbls_path} has {len(lbls)} labels")
    if lbls.max(initial=0) > 9:
        die(f"{lbls_path}: label {int(lbls.max())} out of range 0..9")
    # Pixels scaled to [0,1], no normalisation; NCHW float32, fully in memory before timing.
    x = torch.from_numpy(imgs.astype(np.float32) / 255.0).unsqueeze(1).contiguous()
    y = torch.from_numpy(lbls.astype(np.int64))
    return x, y


# ---------------------------------------------------------------- cfg (optional)

def read_cfg_net(path):
    """Key/value pairs of the [net] (or [network]) section of a Darknet-style cfg, lower-cased keys."""
    section, out = None, {}
    try:
        with open(path) as f:
            for raw in f:
                line = raw.split("#", 1)[0].split(";", 1)[0].strip()
                if not line:
                    continue
                m = re.fullmatch(r"\[(.+)\]", line)
                if m:
                    if section in ("net", "network"):
                        break  # only the first section matters
                    section = m.group(1).strip().lower()
                    continue
                if section in ("net", "network") and "=" in line:
                    k, v = line.split("=", 1)
                    out[k.strip().lower()] = v.strip()
    except OSError as e:
        die(f"{path}: cannot read cfg ({e})")
    return out


def hyper_params(a):
    hp = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "batch": 128 if a.mode == "train" else 1000}
    src = {k: "default" for k in hp}
    if a.cfg:
        net = read_cfg_net(a.cfg)
        aliases = {"lr": ("learning_rate", "lr"), "beta1": ("b1", "beta1", "adam_beta1"),
                   "beta2": ("b2", "beta2", "adam_beta2"), "eps": ("eps", "epsilon", "adam_eps")}
        if a.mode == "train":
            aliases["batch"] = ("batch",)
        for k, names in aliases.items():
            for n in names:
                if n in net:
                    try:
                        hp[k] = int(net[n]) if k == "batch" else float(net[n])
                    except ValueError:
                        die(f"{a.cfg}: [net] {n}={net[n]} is not a number")
                    src[k] = f"{a.cfg}:{n}"
                    break
        for n in ("decay", "weight_decay"):
            if n in net and float(net[n]) != 0.0:
                note(f"warning: {a.cfg} sets {n}={net[n]}; this peer trains with no weight decay")
        policy = net.get("policy", "constant").lower()
        if policy == "steps":
            try:
                hp["steps"] = [int(float(x)) for x in net.get("steps", "").split(",") if x.strip()]
                hp["scales"] = [float(x) for x in net.get("scales", "").split(",") if x.strip()]
            except ValueError:
                die(f"{a.cfg}: [net] steps/scales are not numbers")
            src["steps"] = src["scales"] = f"{a.cfg}:policy=steps"
        elif policy != "constant":
            note(f"warning: {a.cfg} sets policy={policy}; this peer keeps the rate constant")
        opt = net.get("optimizer", net.get("adam"))
        if opt is not None and opt.lower() not in ("adam", "1"):
            note(f"warning: {a.cfg} optimizer setting is '{opt}'; this peer always uses Adam")
    for k, v in (("lr", a.lr), ("beta1", a.beta1), ("beta2", a.beta2), ("eps", a.eps), ("batch", a.batch)):
        if v is not None:
            hp[k], src[k] = v, "command line"
    note("hyper-parameters: " + ", ".join(f"{k}={hp[k]} ({src[k]})" for k in hp))
    return hp


def rate_at(hp, updates):
    """Darknet's steps policy: the rate is multiplied by scales[i] once `updates` reaches steps[i]."""
    rate = hp["lr"]
    for step, scale in zip(hp.get("steps", []), hp.get("scales", [])):
        if updates < step:
            break
        rate *= scale
    return rate


# ---------------------------------------------------------------- environment report

def report_environment(threads):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    note(f"python {sys.version.split()[0]} ({sys.executable}), torch {torch.__version__}, numpy {np.__version__}")
    note(f"torch threads: intra-op {torch.get_num_threads()}, inter-op {torch.get_num_interop_threads()}, "
         f"mkldnn enabled: {torch.backends.mkldnn.is_available()}")
    for line in torch.__config__.show().splitlines():
        if line.strip():
            note("config: " + line.strip()[:300])
    # Debian's torch is built with BLAS_INFO=generic and links libblas.so.3; which library that is
    # depends on the alternatives system, so report both the alternative and what is really mapped.
    try:
        q = subprocess.run(["update-alternatives", "--query", "libblas.so.3-x86_64-linux-gnu"],
                           capture_output=True, text=True, timeout=10)
        val = [ln.split(":", 1)[1].strip() for ln in q.stdout.splitlines() if ln.startswith("Value:")]
        note(f"libblas.so.3 alternative: {val[0] if val else 'unknown (' + q.stderr.strip() + ')'}")
    except (OSError, subprocess.SubprocessError) as e:
        note(f"libblas.so.3 alternative: unknown ({e})")
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded and used once
    mapped = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                if re.search(r"lib(open)?blas|libmkl|libblis|libatlas", path):
                    mapped.add(os.path.realpath(path))
    except OSError:
        pass
    note("BLAS libraries mapped: " + (", ".join(sorted(mapped)) or "none found"))
    note("BLAS in use: " + ("OpenBLAS" if any("openblas" in m for m in mapped) else "NOT OpenBLAS (see above)"))


# ---------------------------------------------------------------- the network

class SeedLeNet(nn.Module):
    """conv3x3x32+ReLU, maxpool2, conv2x2x32+ReLU, maxpool2, fc500+ReLU, fc10 (logits)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=0)   # 28 -> 26
        self.conv2 = nn.Conv2d(32, 32, kernel_size=2, stride=1, padding=0)  # 13 -> 12
        self.fc1 = nn.Linear(32 * 6 * 6, 500)
        self.fc2 = nn.Linear(500, 10)
        # torch's default init is Kaiming-uniform (a=sqrt(5)) for weights, uniform for biases.

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)  # 26 -> 13
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)  # 12 -> 6
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    model.train()
    return correct / len(x)


def emit(obj):
    print(json.dumps(obj), flush=True)


# ---------------------------------------------------------------- modes

def device_of(a):
    device = torch.device(a.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            die(f"--device {a.device}: torch sees no CUDA device")
        note(f"device: {torch.cuda.get_device_name(device)} (torch CUDA {torch.version.cuda})")
    return device


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(a, hp):
    device = device_of(a)
    train_x, train_y = (t.to(device) for t in load_split(a.data, "train"))
    test_x, test_y = (t.to(device) for t in load_split(a.data, "test"))
    note(f"loaded {len(train_x)} train / {len(test_x)} test images from {a.data}")
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)  # shuffling stream, separate from init
    model = SeedLeNet().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]),
                           eps=hp["eps"], weight_decay=0.0)
    n, bs = len(train_x), hp["batch"]
    train_total = eval_total = 0.0
    acc = 0.0
    updates = 0
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen).to(device)  # reshuffled every epoch
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        for i in range(0, n, bs):  # the last partial batch is kept
            idx = perm[i:i + bs]
            xb, yb = train_x[idx], train_y[idx]
            loss = F.cross_entropy(model(xb), yb)  # softmax + cross-entropy, mean over the batch
            opt.zero_grad(set_to_none=True)
            loss.backward()
            for group in opt.param_groups:
                group["lr"] = rate_at(hp, updates)
            opt.step()
            updates += 1
            loss_sum += loss.detach().double() * len(idx)
        synchronize(device)
        epoch_s = time.perf_counter() - t0
        train_total += epoch_s
        t1 = time.perf_counter()
        acc = evaluate(model, test_x, test_y)  # not counted as training time
        eval_s = time.perf_counter() - t1
        eval_total += eval_s
        emit({"peer": PEER, "epoch": epoch, "train_loss": round(float(loss_sum) / n, 6),
              "test_accuracy": round(acc, 6), "epoch_seconds": round(epoch_s, 4),
              "elapsed_seconds": round(train_total, 4), "images_per_second": round(n / epoch_s, 1),
              "eval_seconds": round(eval_s, 4)})
    emit({"peer": PEER, "mode": "train", "device": a.device, "epochs": a.epochs, "batch": bs, "threads": a.threads,
          "total_seconds": round(train_total, 4), "images_per_second": round(n * a.epochs / train_total, 1),
          "test_accuracy": round(acc, 6), "eval_seconds": round(eval_total, 4),
          "torch_version": torch.__version__})


def infer(a, hp):
    device = device_of(a)
    test_x, test_y = load_split(a.data, "test")
    if a.images > 0:
        test_x, test_y = test_x[:a.images], test_y[:a.images]
    test_x, test_y = test_x.to(device), test_y.to(device)
    note(f"using {len(test_x)} test images from {a.data}")
    torch.manual_seed(a.seed)
    model = SeedLeNet().to(device).eval()  # untrained weights: the speed does not depend on them
    n, bs = len(test_x), hp["batch"]
    batches = [test_x[i:i + bs] for i in range(0, n, bs)]  # contiguous views, built before timing
    pass_seconds, latencies_ms = [], []
    with torch.inference_mode():
        warm = batches if bs >= 100 else batches[:max(1, 1000 // bs)]  # warm-up: a pass or 1000 images
        for b in warm:
            model(b)
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            for b in batches:
                if bs == 1:
                    s = time.perf_counter()
                    model(b)
                    latencies_ms.append((time.perf_counter() - s) * 1e3)
                else:
                    model(b)
            synchronize(device)
            pass_seconds.append(time.perf_counter() - t0)
    ips = [n / s for s in pass_seconds]
    out = {"peer": PEER, "mode": "infer", "device": a.device, "batch": bs, "threads": a.threads, "images": n,
           "repeats": a.repeats, "images_per_second": round(statistics.median(ips), 1),
           "images_per_second_all": [round(v, 1) for v in ips],
           "median_pass_seconds": round(statistics.median(pass_seconds), 4),
           "torch_version": torch.__version__}
    if bs == 1:
        out["latency_ms_median"] = round(statistics.median(latencies_ms), 4)
        out["latency_ms_p90"] = round(sorted(latencies_ms)[int(0.9 * (len(latencies_ms) - 1))], 4)
    emit(out)


def main():
    hp = hyper_params(args)
    report_environment(args.threads)
    if args.mode == "train":
        train(args, hp)
    else:
        infer(args, hp)


if __name__ == "__main__":
    main()
