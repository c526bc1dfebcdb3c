#!/bin/bash
# Install the Debian packages VELOCITY-OS needs, but only those that are missing, so a
# machine that has them all pays a few milliseconds.  Needs root (as the README says).
set -e
pkgs=(make gcc binutils clang lld clang-19 lld-19 llvm-19 libclang-rt-14-dev gnu-efi
      qemu-system-x86 ovmf mtools dosfstools fdisk gdisk pci.ids pciutils python3 gdb coreutils)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages and not root; run as root or install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
