#!/usr/bin/env bash
# Installs, when missing, the Debian packages of the ARM cross builds (not needed for the native
# build: scripts/install_deps.sh): the cross compilers, qemu-user to run what they build, and the
# target's zlib through Debian multiarch (dpkg --add-architecture). Catch2 is header only, shared
# with the native build.
#   scripts/install_cross_deps.sh            aarch64 (arm64)
#   scripts/install_cross_deps.sh --armhf    also 32-bit ARM (armhf)
set -euo pipefail

arches=(arm64)
packages=(g++-aarch64-linux-gnu qemu-user catch2 cmake make zlib1g-dev:arm64)
if [ "${1:-}" = "--armhf" ]; then
    arches+=(armhf)
    packages+=(g++-arm-linux-gnueabihf zlib1g-dev:armhf)
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "install_cross_deps: need root or sudo" >&2; exit 1; }
    sudo=sudo
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

added=0
for arch in "${arches[@]}"; do
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        $sudo dpkg --add-architecture "$arch"
        added=1
    fi
done
echo "install_cross_deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
[ $added = 0 ] || echo "install_cross_deps: added dpkg architecture(s) ${arches[*]}" >&2
