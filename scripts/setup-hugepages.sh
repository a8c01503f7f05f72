#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Reserve 2 MiB hugepages for DPDK and mount hugetlbfs if it is not
# mounted. Idempotent: asking again for what is there changes nothing,
# and a larger reservation already made (by sysctl or another DPDK
# application) is kept, never lowered. Run by dpntpd.service before
# dpntpd starts; also usable by hand.
set -euo pipefail

DEFAULT_PAGES=1024
DEFAULT_MOUNT=/dev/hugepages
pages=$DEFAULT_PAGES
mnt=$DEFAULT_MOUNT
do_mount=1
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

usage() {
	cat <<USAGE
Usage: setup-hugepages.sh [-n PAGES] [-m DIR] [--no-mount]
Reserve at least PAGES 2 MiB hugepages (default $DEFAULT_PAGES, i.e. 2 GiB)
and mount hugetlbfs (pagesize=2M) on DIR (default $DEFAULT_MOUNT) if nothing is
mounted there. A larger reservation is kept. Needs root.
  -n, --pages PAGES  2 MiB pages to have reserved (0 reserves nothing)
  -m, --mount DIR    where hugetlbfs must be mounted
      --no-mount     only reserve pages
  -h, --help         this text
To reserve at boot instead (less fragmentation), put
vm.nr_hugepages = PAGES in /etc/sysctl.d/.
USAGE
}

die() { echo "setup-hugepages: $*" >&2; exit 1; }
bad() { echo "setup-hugepages: $*" >&2; usage >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	-n|--pages)
		[ $# -ge 2 ] || bad "$1 needs a number"
		pages=$2
		shift 2 ;;
	-m|--mount)
		[ $# -ge 2 ] || bad "$1 needs a directory"
		mnt=$2
		shift 2 ;;
	--no-mount) do_mount=; shift ;;
	-h|--help) usage; exit 0 ;;
	*) bad "unknown argument '$1'" ;;
	esac
done
case $pages in
''|*[!0-9]*) bad "PAGES must be a whole number, not '$pages'" ;;
esac
[ "${#pages}" -le 7 ] || bad "PAGES $pages is more than any machine has"
case $mnt in
/*) ;;
*) bad "DIR must be an absolute path, not '$mnt'" ;;
esac

[ -e "$sysfs" ] || die "no 2 MiB hugepages in this kernel ($sysfs missing)"
have=$(cat "$sysfs")
if [ "$have" -ge "$pages" ]; then
	echo "setup-hugepages: $have 2 MiB pages reserved ($pages asked): nothing to do"
else
	[ "$(id -u)" -eq 0 ] || die "run as root to reserve hugepages"
	echo "$pages" > "$sysfs" || die "cannot write $sysfs"
	have=$(cat "$sysfs")
	if [ "$have" -lt "$pages" ]; then
		die "only $have of $pages 2 MiB pages could be reserved (memory too fragmented or too small; reserve them at boot with vm.nr_hugepages)"
	fi
	echo "setup-hugepages: $have 2 MiB pages reserved"
fi

[ -n "$do_mount" ] || exit 0
# Mounted already (by systemd's dev-hugepages.mount, or by us before)?
if awk -v d="$mnt" '$2 == d && $3 == "hugetlbfs" { f = 1 } END { exit !f }' \
	/proc/mounts; then
	echo "setup-hugepages: hugetlbfs already mounted on $mnt"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "run as root to mount hugetlbfs on $mnt"
mkdir -p "$mnt" || die "cannot create $mnt"
mount -t hugetlbfs -o pagesize=2M nodev "$mnt" ||
	die "cannot mount hugetlbfs on $mnt"
echo "setup-hugepages: hugetlbfs mounted on $mnt"
