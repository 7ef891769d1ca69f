#!/usr/bin/env bash
# The README's entry point: `./make.sh train`, `./make.sh test`, `./make.sh` (build only).
# Runs `make` with the given targets, after installing what a bare Debian lacks (make itself among
# it: minimal images, containers and fresh cloud machines often have no build tools at all).
# Needs only bash, and root or sudo for apt-get.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install_deps.sh
exec make "$@"
