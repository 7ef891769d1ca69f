#!/usr/bin/python3
"""scripts/bench_devices.py merge on the recorded results in tests/data/bench/: table rows and ratios,
the plots decodable as PNG of the expected size, and clear errors for a missing field or a wrong
unit. Exits 77 (ctest: skipped) without python3-matplotlib."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "bench_devices.py")
DATA = os.path.join(ROOT, "tests", "data", "bench")
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAILED: " + what, file=sys.stderr)


def png_size(path):
    """Width and height of a PNG, after decoding every pixel row (a truncated or corrupt file fails)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0]:
            raise AssertionError(f"{path}: bad CRC in {kind}")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, colour = header[:4]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    rows = zlib.decompress(idat)
    assert len(rows) == height * (1 + (width * channels * depth + 7) // 8), f"{path}: pixel data of the wrong size"
    return width, height


def merge(files, out, *extra):
    return subprocess.run([sys.executable, SCRIPT, "merge", *files, "--out", out, *extra], capture_output=True, text=True)


def main():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skipped: python3-matplotlib is not installed (scripts/install_deps.sh --bench)")
        return 77
    files = sorted(os.path.join(DATA, name) for name in os.listdir(DATA) if name.endswith(".json"))
    with tempfile.TemporaryDirectory() as tmp:
        run = merge(files, tmp)
        check(run.returncode == 0, f"merge exits 0 (got {run.returncode}: {run.stderr})")
        table = open(os.path.join(tmp, "bench_devices.md")).read()
        rows = {line.split(" | ")[0].lstrip("| "): [c.strip() for c in line.strip().strip("|").split("|")]
                for line in table.splitlines() if line.startswith("| ") and not line.startswith("| work")}
        header = [line for line in table.splitlines() if line.startswith("| work")][0]
        check(header == "| work | unit | boardB neon | ratio | hostA avx2 | ratio | hostA reference | ratio | "
                        "hostA OpenCV DNN 4.6.0 (CPU backend) | hostA PyTorch 1.13.0a0 (CPU) |", f"header: {header}")
        # Columns: work, unit, boardB neon, ratio, hostA avx2, ratio, hostA reference, ratio, OpenCV, PyTorch.
        train = rows["seed LeNet, 1 epoch of MNIST: training time"]
        check(train[1:] == ["s", "emulated, no timing", "", "30.0 (28.0-35.0)", "6.00x", "300 (290-320)",
                            "0.60x", "", "180 (170-200)"], f"training row: {train}")
        infer = rows["LeNet inference, batch 1000"]
        check(infer[4:8] == ["40,000 (39,000-42,000)", "8.00x", "2,000 (1,900-2,100)", "0.40x"], f"inference row: {infer}")
        check(infer[9] == "5,000 (4,800-5,100)", f"inference peer: {infer}")
        accuracy = rows["seed LeNet after that: test accuracy"]
        check(accuracy[4:6] == ["98.10%", "="], f"accuracy row: {accuracy}")
        xnor = rows["3x3 conv 128->128 at 56x56, XNOR (packing included)"]
        check(xnor[5] == "10.00x vs conv_128x56_float" and xnor[7] == "10.00x vs conv_128x56_float", f"xnor row: {xnor}")
        tiny = rows["yolov3-tiny (float), 416x416, batch 1"]
        check(tiny[5] == "1.25x" and tiny[7] == "0.10x" and tiny[8] == "100 (95.0-110)", f"yolov3-tiny row: {tiny}")
        check(len(rows) == 6, f"6 works (got {len(rows)}: {list(rows)})")
        check("load average 1.5 before, 1.8 after" in table, "the load is in the table's notes")
        # The ratios plot: 10 x (0.42 per work with a ratio, 4 here, + 1.6) inches at 100 dpi.
        for name, size in (("bench_devices.png", (1000, 100 * (0.42 * 4 + 1.6))),
                           ("bench_devices_figures.png", (1600, 560))):
            width, height = png_size(os.path.join(tmp, name))
            check((width, height) == (size[0], round(size[1])), f"{name}: {width}x{height}, expected {size}")

        # README between the markers, twice (the second run replaces the first).
        readme = os.path.join(tmp, "README.md")
        with open(readme, "w") as f:
            f.write("# x\n\nbefore\n<!-- bench_devices:begin (scripts/bench_devices.sh writes this part; do not edit) -->\n"
                    "old\n<!-- bench_devices:end -->\nafter\n")
        for _ in range(2):
            run = merge(files, tmp, "--readme", readme, "--readme-plot", os.path.join(tmp, "docs", "plot.png"))
            check(run.returncode == 0, f"merge --readme exits 0: {run.stderr}")
        text = open(readme).read()
        check(text.count("| work | unit |") == 1 and "old" not in text and text.endswith("after\n")
              and "before\n" in text and "](docs/plot.png)" in text, f"README rewritten between markers:\n{text}")
        check(png_size(os.path.join(tmp, "docs", "plot.png"))[0] == 1000, "the README's plot")

        # Errors: a missing field, a wrong unit, name the file and the field.
        def broken(change, name):
            doc = json.load(open(os.path.join(DATA, "hostA-avx2.json")))
            change(doc)
            path = os.path.join(tmp, name)
            json.dump(doc, open(path, "w"))
            return path, merge([path], tmp)
        path, run = broken(lambda d: d["machine"].pop("cpu"), "no-cpu.json")
        check(run.returncode != 0 and f"{path}: missing field 'machine.cpu'" in run.stderr, f"missing field: {run.stderr}")
        path, run = broken(lambda d: d["figures"]["lenet_infer_b1000"].update(unit="ms"), "wrong-unit.json")
        check(run.returncode != 0 and f"{path}: figures.lenet_infer_b1000: unit 'ms', expected 'images/s'" in run.stderr,
              f"wrong unit: {run.stderr}")
        path, run = broken(lambda d: d["peers"]["pytorch"]["figures"]["lenet_train"].pop("median"), "no-median.json")
        check(run.returncode != 0 and "peers.pytorch.figures.lenet_train: missing field 'median'" in run.stderr,
              f"peer's missing median: {run.stderr}")
        path, run = broken(lambda d: d["figures"]["lenet_train"].update(unit="hours"), "bad-unit.json")
        check(run.returncode != 0 and "unit 'hours' is not one of" in run.stderr, f"unknown unit: {run.stderr}")
        run = merge([files[0], files[0]], tmp)
        check(run.returncode != 0 and "again" in run.stderr, f"a file twice: {run.stderr}")
    print(f"bench merge: {'FAILED ' + str(len(failures)) if failures else 'all checks passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
