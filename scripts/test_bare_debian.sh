#!/usr/bin/env bash
# First contact on a bare Debian: builds a minimal bookworm root with debootstrap in a temporary
# folder (only bash, git, ca-certificates and sudo added), clones this repository into it and runs
# the README's two set-up commands there in a chroot, as a non-root user with sudo, the way a new
# user on a fresh machine would. Prints each step's time and exit code. Not part of the test suite:
# it downloads a few hundred Debian packages and takes 20-40 minutes.
#
#   sudo scripts/test_bare_debian.sh [--root-user] [--keep] [--suite bookworm] [--mirror URL]
#
#   --root-user  run the two commands as root instead of a sudo user
#   --keep       keep the root folder afterwards (its path is printed)
# Logs of every step go to results/bare-debian-<date>/.
set -uo pipefail

suite=bookworm
mirror=http://deb.debian.org/debian
as_root=0
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --root-user) as_root=1 ;;
        --keep) keep=1 ;;
        --suite) suite="$2"; shift ;;
        --mirror) mirror="$2"; shift ;;
        *) echo "usage: $0 [--root-user] [--keep] [--suite S] [--mirror URL]" >&2; exit 2 ;;
    esac
    shift
done

[ "$(id -u)" = 0 ] || { echo "test_bare_debian: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null

logs="$repo/results/bare-debian-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$logs"
root=$(mktemp -d /tmp/lenet-bare.XXXXXX)
chmod 755 "$root"  # it becomes /: every user must be able to enter it
mounted=()

cleanup() {
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null; done
    if [ "$keep" = 1 ]; then echo "root kept in $root"; else rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT

bind() {  # source target [ro]
    mkdir -p "$root$2"
    mount --bind "$1" "$root$2" && mounted+=("$root$2")
    [ "${3:-}" = ro ] && mount -o remount,bind,ro "$root$2"
    return 0
}

results=()
overall=0
# step name command...: runs the command, logs it, records time and exit code.
step() {
    local name=$1; shift
    local start end rc
    echo "== $name" >&2
    start=$(date +%s.%N)
    "$@" >"$logs/$name.log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    results+=("$(awk -v n="$name" -v s="$start" -v e="$end" -v r="$rc" 'BEGIN { printf "%-18s %8.1f s   exit %d", n, e - s, r }')")
    [ $rc -eq 0 ] || { overall=1; echo "   failed (exit $rc); last lines of $logs/$name.log:" >&2; tail -15 "$logs/$name.log" >&2; }
    return $rc
}

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# user_sh command: runs a shell command as the test's user, in its home folder.
if [ "$as_root" = 1 ]; then
    home=/root
    user_sh() { in_root bash -lc "cd $home && $1"; }
else
    home=/home/dev
    user_sh() { in_root su - dev -c "cd $home && $1"; }
fi

report() {
    echo
    echo "bare Debian $suite root ($(uname -m)), $(nproc) cores, user: $([ "$as_root" = 1 ] && echo root || echo 'dev (sudo)')"
    echo "repository: $repo at $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD || echo ' (with uncommitted changes: not cloned)')"
    printf '%s\n' "${results[@]}"
    echo "logs: $logs"
}

step debootstrap debootstrap --variant=minbase "$suite" "$root" "$mirror" || { report; exit 1; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
bind /proc /proc
bind /sys /sys
bind /dev /dev
bind /dev/pts /dev/pts
# The host's extra CA certificates (a proxy's, where there is one), so the registries answer in the
# root as on the host; installed as local certificates, they survive update-ca-certificates.
mkdir -p "$root/usr/local/share/ca-certificates"
awk '/BEGIN CERT/{n++} {print > sprintf("'"$root"'/usr/local/share/ca-certificates/host-%03d.crt", n)}' \
    /etc/ssl/certs/ca-certificates.crt

step install-git-sudo in_root bash -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends git ca-certificates sudo' || { report; exit 1; }
if [ "$as_root" = 0 ]; then
    in_root useradd -m -s /bin/bash dev
    echo 'dev ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/dev"
    chmod 440 "$root/etc/sudoers.d/dev"
fi
echo "before the README's commands the root has: $(in_root bash -c 'for t in make cmake g++ curl npm; do command -v $t >/dev/null && printf "%s " $t; done; echo') (of make cmake g++ curl npm)" \
    >"$logs/tools-before.txt"

bind "$repo" /mnt/lenet.git ro
# The mount is owned by the host's user: let the root's git read it.
in_root git config --system --add safe.directory '*'
step clone user_sh "git clone -q /mnt/lenet.git lenet" || { report; exit 1; }
# The README's two commands, verbatim (README.md "Set-up on a fresh Debian machine").
step readme-train user_sh "cd lenet && ./make.sh train"
step readme-test user_sh "cd lenet && ./make.sh test"
tail -3 "$logs/readme-train.log" >"$logs/train-tail.txt" 2>/dev/null
grep -E 'tests passed|tests failed' "$logs/readme-test.log" >"$logs/test-summary.txt" 2>/dev/null

report | tee "$logs/report.txt"
echo "train: $(grep -E '^done:' "$logs/readme-train.log" | tail -1)"
echo "test:  $(tr '\n' ';' <"$logs/test-summary.txt")"
exit $overall
