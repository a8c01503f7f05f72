#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Bind a NIC to a DPDK driver (vfio-pci by default) with dpdk-devbind.py,
# refusing to take away the interface this host is reached by: one that
# carries a default route, IPv4 or IPv6, or the local end of an
# established SSH session. --force binds anyway.
set -euo pipefail

driver=vfio-pci
force=
devbind=${DPDK_DEVBIND:-dpdk-devbind.py}

usage() {
	cat <<USAGE
Usage: bind-nic.sh [--driver DRIVER] [--force] INTERFACE|PCI_ADDRESS
       bind-nic.sh --status
Unbind a NIC from its kernel driver and bind it to DRIVER (default
$driver) for dpntpd. Refuses an interface that carries a default route
or an established SSH session (this host would be cut off) unless
--force is given. Needs root and dpdk-devbind.py (Debian package dpdk).
  -d, --driver DRIVER  vfio-pci, uio_pci_generic or igb_uio
  -f, --force          bind even the interface that reaches this host
  -s, --status         dpdk-devbind.py --status
  -h, --help           this text
Mellanox/NVIDIA (mlx4, mlx5) NICs stay on their kernel driver: DPDK's
PMD works beside it, there is nothing to bind.
USAGE
}

die() { echo "bind-nic: $*" >&2; exit 1; }
bad() { echo "bind-nic: $*" >&2; usage >&2; exit 2; }

target=
while [ $# -gt 0 ]; do
	case $1 in
	-d|--driver)
		[ $# -ge 2 ] || bad "$1 needs a driver name"
		driver=$2
		shift 2 ;;
	-f|--force) force=1; shift ;;
	-s|--status) exec "$devbind" --status ;;
	-h|--help) usage; exit 0 ;;
	-*) bad "unknown option '$1'" ;;
	*)
		[ -z "$target" ] || bad "one interface at a time ('$target', '$1')"
		target=$1
		shift ;;
	esac
done
[ -n "$target" ] || bad "which interface or PCI address?"
case $driver in
vfio-pci|uio_pci_generic|igb_uio) ;;
*) bad "unknown driver '$driver' (vfio-pci, uio_pci_generic, igb_uio)" ;;
esac

# The kernel interfaces of the device, and its PCI address.
ifaces=
pci=
if [ -e "/sys/class/net/$target" ] && [ "${target#*/}" = "$target" ]; then
	ifaces=$target
	if [ -e "/sys/class/net/$target/device" ]; then
		pci=$(basename "$(readlink -f "/sys/class/net/$target/device")")
	fi
elif [ -e "/sys/bus/pci/devices/$target" ] ||
	[ -e "/sys/bus/pci/devices/0000:$target" ]; then
	pci=$target
	[ -e "/sys/bus/pci/devices/$pci" ] || pci=0000:$target
	if [ -d "/sys/bus/pci/devices/$pci/net" ]; then
		ifaces=$(ls "/sys/bus/pci/devices/$pci/net")
	fi
else
	die "no network interface or PCI device '$target' (see 'ip link' or 'bind-nic.sh --status')"
fi

# Interfaces that carry a default route (also as a multipath next hop).
route_devs() {
	{ ip route show default; ip -6 route show default; } 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }'
}

# Local addresses of established SSH sessions (port 22), without port,
# brackets, zone or the IPv4-mapped prefix.
ssh_addrs() {
	ss -tnH state established '( sport = :22 )' 2>/dev/null |
		awk '{ print $3 }' | sed -e 's/:[0-9]*$//' -e 's/^\[//' \
			-e 's/\]$//' -e 's/%.*//' -e 's/^::ffff://'
}

if_addrs() {
	ip -o addr show dev "$1" 2>/dev/null |
		awk '{ sub("/.*", "", $4); print $4 }'
}

for ifc in $ifaces; do
	if route_devs | grep -qxF "$ifc"; then
		if [ -z "$force" ]; then
			die "$ifc carries a default route ('ip route show default'): binding it would cut this host off; use another NIC, or --force"
		fi
		echo "bind-nic: warning: $ifc carries a default route (--force)" >&2
	fi
	for a in $(if_addrs "$ifc"); do
		if ssh_addrs | grep -qxF "$a"; then
			if [ -z "$force" ]; then
				die "$ifc carries an SSH session to $a: binding it would cut it off; use another NIC, or --force"
			fi
			echo "bind-nic: warning: $ifc carries an SSH session (--force)" >&2
		fi
	done
done

[ -n "$pci" ] || die "$target is not a PCI device (a virtual interface?): nothing to bind; use --vdev net_af_packet0,iface=$target or net_af_xdp instead"
[ "$(id -u)" -eq 0 ] || die "run as root"
command -v "$devbind" >/dev/null ||
	die "$devbind not found (Debian: apt-get install dpdk)"
if [ "$driver" = vfio-pci ] || [ "$driver" = uio_pci_generic ]; then
	modprobe "$driver" || die "cannot load the $driver module"
fi
for ifc in $ifaces; do
	ip link set dev "$ifc" down 2>/dev/null || true
done
"$devbind" --bind="$driver" "$pci" || die "$devbind could not bind $pci to $driver"
echo "bind-nic: $pci${ifaces:+ ($ifaces)} is now on $driver"
"$devbind" --status-dev net | grep -F "$pci" || true
