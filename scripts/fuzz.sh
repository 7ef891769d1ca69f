#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) into build-fuzz/ and runs each on
# a copy of its seed corpus (fuzz/corpus/<target>/ is never written to).
#   scripts/fuzz.sh [--runs N] [--target NAME] [--jobs J] [--regen-seeds]
# Exits non-zero if any target reports a crash, leak, timeout, OOM or sanitizer error; the
# reproducer is left in build-fuzz/artifacts/<target>/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build-fuzz"
RUNS=1000000
ONLY=""
JOBS=$(nproc 2>/dev/null || echo 2)
REGEN=0
TARGETS=(fuzz_cfg fuzz_idx fuzz_weights fuzz_state fuzz_image fuzz_data_list fuzz_yolo_labels fuzz_detection_list
         fuzz_training_log)

while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --target) ONLY="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        --regen-seeds) REGEN=1; shift ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "fuzz.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [[ -n "$ONLY" ]]; then
    [[ "$ONLY" == fuzz_* ]] || ONLY="fuzz_$ONLY"
    [[ -f "$ROOT/fuzz/$ONLY.cpp" ]] || { echo "fuzz.sh: no target $ONLY" >&2; exit 2; }
    TARGETS=("$ONLY")
fi

CXX=${CXX_FUZZ:-clang++}
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (apt-get install clang)" >&2; exit 2; }
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
CXXFLAGS="-std=c++20 -g -O1 -fno-omit-frame-pointer -I$ROOT/include -I$ROOT/src $(pkg-config --cflags opencv4)"
LIBS="-lz $(pkg-config --libs opencv4) -pthread"

# --- the library: lenet's sources minus main.cpp and the avx2 backend folder (its registry row
# in src/kernels/backends.cpp stays out, so only the reference table exists) ---
mkdir -p "$BUILD/obj"
mapfile -t SOURCES < <(cd "$ROOT" && find src -name '*.cpp' ! -name main.cpp ! -path '*avx2*' | sort)
compile() {  # src/a/b.cpp -> build-fuzz/obj/src_a_b.o, rebuilt when the source or any header is newer
    local src="$1" obj="$BUILD/obj/$(echo "$1" | tr '/' '_' | sed 's/\.cpp$/.o/')"
    if [[ ! -f "$obj" || "$ROOT/$src" -nt "$obj" || -n "$(find "$ROOT/src" -name '*.h' -newer "$obj" -print -quit)" ]]; then
        $CXX $CXXFLAGS $SAN -c "$ROOT/$src" -o "$obj"
    fi
}
export -f compile; export CXX CXXFLAGS SAN BUILD ROOT
echo "fuzz.sh: compiling ${#SOURCES[@]} lenet sources with $CXX ($JOBS jobs)"
printf '%s\n' "${SOURCES[@]}" | xargs -P "$JOBS" -I{} bash -c 'compile {}'
OBJS=()
for s in "${SOURCES[@]}"; do OBJS+=("$BUILD/obj/$(echo "$s" | tr '/' '_' | sed 's/\.cpp$/.o/')"); done
LIB="$BUILD/liblenet_fuzz.a"
if [[ ! -f "$LIB" || -n "$(find "${OBJS[@]}" -newer "$LIB" -print -quit)" ]]; then
    rm -f "$LIB.tmp" && ar rcs "$LIB.tmp" "${OBJS[@]}" && mv -f "$LIB.tmp" "$LIB"
fi

for t in "${TARGETS[@]}"; do
    if [[ -f "$BUILD/$t" && ! "$LIB" -nt "$BUILD/$t" && ! "$ROOT/fuzz/$t.cpp" -nt "$BUILD/$t" \
          && -z "$(find "$ROOT/fuzz" -name '*.h' -newer "$BUILD/$t" -print -quit)" ]]; then
        continue
    fi
    $CXX $CXXFLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        "$ROOT/fuzz/$t.cpp" "$LIB" $LIBS -o "$BUILD/$t.tmp" && mv -f "$BUILD/$t.tmp" "$BUILD/$t"
done

if [[ $REGEN == 1 ]]; then
    $CXX $CXXFLAGS -fsanitize=address,undefined "$ROOT/fuzz/gen_seeds.cpp" "$LIB" $LIBS \
        -o "$BUILD/gen_seeds"
    mkdir -p "$ROOT/fuzz/corpus/"{fuzz_weights,fuzz_state,fuzz_idx,fuzz_image}
    "$BUILD/gen_seeds" "$ROOT/fuzz/corpus"
    echo "fuzz.sh: seeds regenerated"
fi

# --- run ---
status=0
SUMMARY=()
for t in "${TARGETS[@]}"; do
    work="$BUILD/run/$t"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$BUILD/artifacts/$t"
    if [[ -d "$ROOT/fuzz/corpus/$t" ]]; then cp -r "$ROOT/fuzz/corpus/$t/." "$work/corpus/"; fi
    log="$BUILD/$t.log"
    echo "fuzz.sh: running $t (-runs=$RUNS), log $log"
    set +e
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
        "$BUILD/$t" -runs="$RUNS" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
        -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t/" "$work/corpus" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [[ $rc == 0 ]]; then
        SUMMARY+=("$t: clean, ${execs:-?} executions, ${rate:-?} exec/s")
    else
        status=1
        what=$(grep -m1 -E '^==[0-9]+==ERROR|runtime error|ALARM|out-of-memory|deadly signal|uncaught exception|terminate called' "$log" || true)
        SUMMARY+=("$t: FAILED (exit $rc) after ${execs:-?} executions: ${what:-see log}; artifacts in $BUILD/artifacts/$t/")
        tail -40 "$log" >&2
    fi
done
echo
echo "fuzz.sh summary:"
printf '  %s\n' "${SUMMARY[@]}"
exit $status
