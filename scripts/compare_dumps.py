#!/usr/bin/env python3
"""Compares the files `lenet detector test -dump` and tools/darknet_harness.c write (see
scripts/check_darknet.sh): the input floats, each [yolo] layer's raw output, and the boxes after
NMS. Prints a table; exits 1 when a tolerance is exceeded or too few boxes were compared.

    compare_dumps.py <darknet dir> <lenet dir> --size W H [--raw-tol 1e-4] [--score-tol 1e-4]
                     [--coord-tol-px 1e-3] [--size-rel-tol 1e-4] [--min-boxes 20] [--raw-relative]
                     [--skip-raw]
Standard library only (no numpy on the target machines)."""
import argparse
import glob
import os
import sys
from array import array


def floats(path):
    a = array("f")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    if sys.byteorder != "little":
        a.byteswap()
    return a


def boxes(path):
    """{(candidate index, class): (score, x, y, w, h)} from a .boxes.txt file."""
    out = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if fields:
                out[(int(fields[0]), int(fields[1]))] = tuple(float(v) for v in fields[2:])
    return out


def max_diff(a, b, relative=False):
    """The largest |a - b|, or with relative, of |a - b| / max(1, |a|)."""
    worst, at = 0.0, -1
    for i, (x, y) in enumerate(zip(a, b)):
        d = abs(x - y)
        if d != d:  # NaN on either side
            return float("inf"), i
        if relative:
            d /= max(1.0, abs(x))
        if d > worst:
            worst, at = d, i
    return worst, at


def main():
    p = argparse.ArgumentParser()
    p.add_argument("darknet")
    p.add_argument("lenet")
    p.add_argument("--raw-tol", type=float, default=1e-4)
    p.add_argument("--score-tol", type=float, default=1e-4)
    p.add_argument("--coord-tol-px", type=float, default=1e-3)
    p.add_argument("--size-rel-tol", type=float, default=1e-4)
    p.add_argument("--size", type=int, nargs=2, required=True, metavar=("W", "H"), help="the network input, pixels")
    p.add_argument("--min-boxes", type=int, default=0)
    p.add_argument("--raw-relative", action="store_true",
                   help="raw outputs: |lenet - darknet| / max(1, |darknet|) against --raw-tol")
    p.add_argument("--skip-raw", action="store_true")
    a = p.parse_args()

    ok = True
    stems = sorted(os.path.basename(f)[: -len(".input.f32")] for f in glob.glob(os.path.join(a.darknet, "*.input.f32")))
    if not stems:
        print(f"no dumps in {a.darknet}")
        return 1
    diff = "max |l - d| / max(1, |d|)" if a.raw_relative else "max |lenet - darknet|"
    print(f"{'image':<14} {'array':<10} {'floats':>8} {diff:>25} {'max |darknet|':>14}  result")
    for stem in stems:
        names = ["input"] + sorted(
            os.path.basename(f)[len(stem) + 1 : -len(".f32")] for f in glob.glob(os.path.join(a.darknet, stem + ".layer*.f32"))
        )
        for name in names:
            if a.skip_raw and name != "input":
                continue
            dn_path, ln_path = (os.path.join(d, f"{stem}.{name}.f32") for d in (a.darknet, a.lenet))
            if not os.path.exists(ln_path):
                print(f"{stem:<14} {name:<10} lenet wrote no {ln_path}  FAIL")
                ok = False
                continue
            dn, ln = floats(dn_path), floats(ln_path)
            if len(dn) != len(ln):
                print(f"{stem:<14} {name:<10} sizes differ: darknet {len(dn)}, lenet {len(ln)}  FAIL")
                ok = False
                continue
            worst, _ = max_diff(dn, ln, a.raw_relative and name != "input")
            tol = 0.0 if name == "input" else a.raw_tol
            passed = worst <= tol
            ok &= passed
            biggest = max((abs(x) for x in dn), default=0.0)
            print(f"{stem:<14} {name:<10} {len(dn):>8} {worst:>25.3g} {biggest:>14.4g}  {'PASS' if passed else 'FAIL'}"
                  f" (tolerance {tol:g})")

    # Boxes are paired by (candidate index, class): both sides number candidates in
    # get_network_boxes' order, and NMS keeps or drops (candidate, class) pairs.
    totals = {"pairs": 0, "missing": 0, "extra": 0}
    worst = {"score": 0.0, "centre": 0.0, "size": 0.0, "size_rel": 0.0}
    print(f"\n{'image':<14} {'darknet':>8} {'lenet':>6} {'matched':>8} {'max score diff':>15} {'centre diff px':>15}"
          f" {'size diff px':>13} {'size diff rel':>14}")
    for stem in stems:
        dn = boxes(os.path.join(a.darknet, stem + ".boxes.txt"))
        ln_path = os.path.join(a.lenet, stem + ".boxes.txt")
        ln = boxes(ln_path) if os.path.exists(ln_path) else {}
        w, h = a.size
        keys = sorted(set(dn) & set(ln))
        here = {"score": 0.0, "centre": 0.0, "size": 0.0, "size_rel": 0.0}
        for k in keys:
            d, l = dn[k], ln[k]
            here["score"] = max(here["score"], abs(d[0] - l[0]))
            here["centre"] = max(here["centre"], abs(d[1] - l[1]) * w, abs(d[2] - l[2]) * h)
            for i, scale in ((3, w), (4, h)):
                here["size"] = max(here["size"], abs(d[i] - l[i]) * scale)
                here["size_rel"] = max(here["size_rel"], abs(d[i] - l[i]) / max(abs(d[i]), 1e-30))
        print(f"{stem:<14} {len(dn):>8} {len(ln):>6} {len(keys):>8} {here['score']:>15.3g} {here['centre']:>15.3g}"
              f" {here['size']:>13.3g} {here['size_rel']:>14.3g}")
        for k in sorted(set(dn) - set(ln))[:3]:
            print(f"    only darknet: candidate {k[0]} class {k[1]} score {dn[k][0]:.6f} box {dn[k][1:]}")
        for k in sorted(set(ln) - set(dn))[:3]:
            print(f"    only lenet:   candidate {k[0]} class {k[1]} score {ln[k][0]:.6f} box {ln[k][1:]}")
        totals["pairs"] += len(keys)
        totals["missing"] += len(set(dn) - set(ln))
        totals["extra"] += len(set(ln) - set(dn))
        for key in worst:
            worst[key] = max(worst[key], here[key])
    # A size is right when within the pixel tolerance or, for boxes far larger than the image
    # (random weights), within a relative one: exp(tw) magnifies tw's rounding.
    size_ok = worst["size"] <= a.coord_tol_px or worst["size_rel"] <= a.size_rel_tol
    boxes_ok = (totals["missing"] == 0 and totals["extra"] == 0 and worst["score"] <= a.score_tol
                and worst["centre"] <= a.coord_tol_px and size_ok and totals["pairs"] >= a.min_boxes)
    print(f"boxes: {totals['pairs']} matched, {totals['missing']} only in Darknet, {totals['extra']} only in lenet; "
          f"max score diff {worst['score']:.3g} (tolerance {a.score_tol:g}), centre {worst['centre']:.3g} px "
          f"(tolerance {a.coord_tol_px:g}), size {worst['size']:.3g} px or {worst['size_rel']:.3g} relative "
          f"(tolerance {a.coord_tol_px:g} px or {a.size_rel_tol:g}); at least {a.min_boxes} needed: "
          f"{'PASS' if boxes_ok else 'FAIL'}")
    ok &= boxes_ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
