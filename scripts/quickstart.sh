#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run dpntpd with no DPDK NIC and no hugepages: a TAP device whose kernel
# side (dpntp0) gets 198.18.0.254/24 and 2001:db8::fe/64, dpntpd serving
# 198.18.0.1 and 2001:db8::1 from this host's clock. Runs in the
# foreground until Ctrl-C or SIGTERM, then removes what it set up.
#
#   scripts/quickstart.sh [CONFIG]      (as root; CONFIG defaults to
#                                        config/quickstart.conf)
set -euo pipefail
cd "$(dirname "$0")/.."

conf=$(realpath "${1:-config/quickstart.conf}")
tap=dpntp0
[ -r "$conf" ] || { echo "quickstart: cannot read $conf" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root" >&2; exit 1; }

scripts/deps.sh
scripts/build.sh >/dev/null

if ip link show "$tap" >/dev/null 2>&1; then
	echo "quickstart: $tap already exists (another dpntpd running?)" >&2
	exit 1
fi
# The main lcore manages, lcore 1 polls; share a core if there is one.
if [ "$(nproc)" -ge 2 ]; then lcores="0@0,1@1"; else lcores="0@0,1@0"; fi

build/app/dpntpd/dpntpd --no-huge -m 512 --no-pci --file-prefix dpntpd-quickstart \
	--lcores "$lcores" --vdev "net_tap0,iface=$tap" -- \
	--config "$conf" &
pid=$!
stop() {
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# DPDK leaves its runtime files behind (--no-huge keeps no pages).
	rm -rf /var/run/dpdk/dpntpd-quickstart
}
trap stop INT TERM EXIT

for _ in $(seq 100); do
	ip link show "$tap" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { echo "quickstart: dpntpd exited" >&2; exit 1; }
	sleep 0.1
done
ip link set "$tap" up
ip addr add 198.18.0.254/24 dev "$tap"
ip -6 addr add 2001:db8::fe/64 dev "$tap" nodad

cat <<MSG

dpntpd is serving 198.18.0.1 and 2001:db8::1 on $tap. Try:
  ntpdig 198.18.0.1
  ntpdig 2001:db8::1
  chronyd -x -Q 'server 198.18.0.1 iburst'
  build/app/dpntpc/dpntpc show stats        (or: dpntpc help)
  curl http://127.0.0.1:9123/metrics         (Prometheus metrics)
Ctrl-C stops it and removes $tap.

MSG
wait "$pid"
