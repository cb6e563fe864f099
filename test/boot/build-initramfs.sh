#!/bin/sh
# Builds an initramfs with the real mkinitramfs for a kernel that is only
# extracted (dpkg-deb -x), never installed: mkinitramfs insists on reading
# /lib/modules/KVER and /boot/config-KVER, so it runs in a private mount
# namespace where an overlay on /usr/lib and two bind mounts show it the
# extracted kernel. The host's /boot and /lib/modules are never written.
#
# usage: build-initramfs.sh KERNEL_DIR KVER CONFDIR OUT
#   KERNEL_DIR  the dpkg-deb -x tree (boot/, lib/modules/KVER with modules.dep)
#   CONFDIR     an initramfs-tools config dir (initramfs.conf, modules, hooks/, scripts/)
# Environment (SPROUT_ROOT, ...) goes through to the hooks.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 KERNEL_DIR KVER CONFDIR OUT" >&2; exit 2; }
kdir=$(realpath "$1")
kver=$2
confdir=$(realpath "$3")
out=$(realpath -m "$4")
[ -d "$kdir/lib/modules/$kver" ] || { echo "no $kdir/lib/modules/$kver" >&2; exit 1; }
[ -r "$kdir/boot/config-$kver" ] || { echo "no $kdir/boot/config-$kver" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rmdir "$scratch"' EXIT
# shellcheck disable=SC2016 # expanded by the inner shell
unshare -m --propagation private sh -eu -c '
	kdir=$1 kver=$2 confdir=$3 out=$4 scratch=$5
	# overlayfs wants its upper and work dirs on a local fs of their own.
	mount -t tmpfs sprout-build "$scratch"
	mkdir "$scratch/upper" "$scratch/work"
	mount -t overlay sprout-usr-lib -o "lowerdir=/usr/lib,upperdir=$scratch/upper,workdir=$scratch/work" /usr/lib
	mkdir -p "/usr/lib/modules/$kver"
	mount --bind "$kdir/lib/modules/$kver" "/usr/lib/modules/$kver"
	mount --bind "$kdir/boot" /boot
	mkinitramfs -d "$confdir" -o "$out" "$kver"
' build-initramfs "$kdir" "$kver" "$confdir" "$out" "$scratch"
