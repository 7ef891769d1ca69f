#!/usr/bin/env bash
# ctest `install_example`: installs the build tree to a fresh prefix, builds examples/detect_image
# against it with find_package(lenet) as an application would, and checks that its boxes for a
# generated image equal what the installed `lenet detector test` prints for the same image.
#   install_example.sh <build dir> <source dir> <work dir> <c++ compiler> <build type> [launcher]
set -euo pipefail
build=$1 src=$2 work=$3 cxx=$4 type=$5 launcher=${6:-}
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/lenet/lenet.h bin/lenet; do
    [[ -e $prefix/$f ]] || { echo "install: $f missing" >&2; exit 1; }
done
ls "$prefix"/lib*/cmake/lenet/lenetConfig.cmake "$prefix"/lib*/cmake/lenet/lenetConfigVersion.cmake >/dev/null

# The header stands alone: no OpenCV (nor anything else) on the include path.
printf '#include <lenet/lenet.h>\nint main() { return lenet::version()[0] == 0; }\n' |
    "$cxx" -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" -x c++ -

# A fresh configure that sees the package only through CMAKE_PREFIX_PATH.
cmake -S "$src/examples/detect_image" -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE="$type" -DCMAKE_CXX_COMPILER="$cxx" ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} \
      >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/example" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
if grep -q "warning:" "$work/build.log"; then cat "$work/build.log"; exit 1; fi

# A 160x120 grey image (ASCII PGM: no tools needed): a gradient with two bright squares, wider
# than the 96x96 input so the letterbox pads.
W=160 H=120
awk -v w=$W -v h=$H 'BEGIN {
    print "P2"; print w, h; print 255
    for (y = 0; y < h; y++) {
        line = ""
        for (x = 0; x < w; x++) {
            v = int((x + y) / 2) % 64
            if ((x >= 20 && x < 60 && y >= 30 && y < 70) || (x >= 100 && x < 130 && y >= 50 && y < 100)) v = 230
            line = line (x ? " " : "") v
        }
        print line
    }
}' >"$work/scene.pgm"
names="zero one two three four five six seven eight nine"
printf '%s\n' $names >"$work/digits.names"
printf 'classes=10\nnames=%s\n' "$work/digits.names" >"$work/digits.data"

cfg=$src/tests/cfg/test_yolo_tiny.cfg
"$work/example/detect_image" "$cfg" none "$work/scene.pgm" -thresh 0.26 -names "$work/digits.names" -threads 1 \
    >"$work/example.txt"
"$prefix/bin/lenet" detector test "$work/digits.data" "$cfg" none "$work/scene.pgm" -thresh 0.26 -threads 1 \
    >"$work/cli.txt"
# The version the library reports is the package's.
version=$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")$/\1/p' "$prefix"/lib*/cmake/lenet/lenetConfigVersion.cmake)
grep -q "^lenet $version, input 96x96x1, 10 classes$" "$work/example.txt" || { echo "version $version"; cat "$work/example.txt"; exit 1; }

# Same boxes, in the same order: class names, scores (the CLI prints whole percents) and corners
# (the CLI prints them rounded and unclipped; the API clips them to the image).
awk -v w=$W -v h=$H '
    function clip(v, hi) { return v < 0 ? 0 : (v > hi ? hi : v) }
    function abs(v) { return v < 0 ? -v : v }
    FNR == NR { if ($0 ~ / left .* bottom /) { n++; name[n] = $1; pct[n] = $2 + 0; l[n] = $4; t[n] = $6; r[n] = $8; b[n] = $10 }; next }
    NF == 6 && $1 !~ /^lenet$/ {
        m++
        if ($3 < 0 || $3 > $5 || $5 > w || $4 < 0 || $4 > $6 || $6 > h) { print "box outside the image: " $0; bad = 1 }
        if (name[m] != $1 ":") { print "box " m ": class " $1 ", CLI " name[m]; bad = 1 }
        if (abs(100 * $2 - pct[m]) > 0.51) { print "box " m ": score " $2 ", CLI " pct[m] "%"; bad = 1 }
        if (abs($3 - clip(l[m], w)) > 1 || abs($4 - clip(t[m], h)) > 1 || abs($5 - clip(r[m], w)) > 1 || abs($6 - clip(b[m], h)) > 1) {
            print "box " m ": " $3 " " $4 " " $5 " " $6 ", CLI " l[m] " " t[m] " " r[m] " " b[m]; bad = 1
        }
    }
    END {
        if (m != n) { print m " boxes, CLI " n; bad = 1 }
        if (n == 0) { print "no boxes to compare"; bad = 1 }
        if (bad) exit 1
        print n " boxes agree"
    }' "$work/cli.txt" "$work/example.txt" || { cat "$work/cli.txt" "$work/example.txt"; exit 1; }
grep -q "^$(grep -c ' left ' "$work/cli.txt") boxes$" "$work/example.txt"

# An application sees lenet's errors as exceptions naming the file.
if "$work/example/detect_image" "$work/missing.cfg" none "$work/scene.pgm" 2>"$work/error.txt"; then
    echo "a missing cfg did not fail" >&2; exit 1
fi
grep -q "missing.cfg: cannot open" "$work/error.txt" || { cat "$work/error.txt"; exit 1; }

# The classifier handle too: ten scores that sum to 1.
"$work/example/detect_image" -classify "$src/cfg/lenet.cfg" none "$work/scene.pgm" >"$work/classify.txt"
awk '/^class [0-9]+: / { n++; s += $3 } END { if (n != 10 || s < 0.999 || s > 1.001) { print n " scores, sum " s; exit 1 } }' \
    "$work/classify.txt" || { cat "$work/classify.txt"; exit 1; }
rm -rf "$work"
echo "install_example: ok"
