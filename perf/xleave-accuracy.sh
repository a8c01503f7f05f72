#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# How accurate are dpntpd's interleaved replies? Four chronyd clients in
# one namespace poll every second over the same minutes: dpntpd with and
# without `xleave`, and a chronyd server (in a namespace of its own, also
# behind a veth) with and without `xleave`. Both servers serve this host's
# clock (dpntpd through `refclock system`, chronyd with `local stratum 1`,
# neither changing it), and the clients read the same clock, so each
# measured offset is the server's error as that client sees it. Prints,
# per client, the samples, the share answered interleaved (chrony's 4I)
# and the offset's mean, standard deviation and RMS, from each client's
# measurements.log. Not a test: figures for doc/guides/performance.rst.
#
#   perf/xleave-accuracy.sh [--seconds S] [--settle S] [--vdev af_packet|pcap]
#                           [--json FILE]
#
# --vdev pcap runs dpntpd on net_pcap, so its receive times are the
# kernel's stamps (fitted) instead of the TSC at rx_burst.
# Run as root from the source tree after a build (scripts/build.sh).
set -u
seconds=600 settle=30 vdev=af_packet json=
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift ;;
	--settle) settle=$2; shift ;;
	--vdev) vdev=$2; shift ;;
	--json) json=$2; shift ;;
	-h|--help) sed -n '3,19p' "$0"; exit 0 ;;
	*) echo "xleave-accuracy.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for v in "$seconds" "$settle"; do
	case $v in ''|*[!0-9]*) echo "xleave-accuracy.sh: '$v' is not a whole number" >&2; exit 2 ;; esac
done

DPN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$DPN_ROOT/tests/integration/lib.sh"
DPN_TEST=xleave-accuracy
CHR=198.18.0.11
NS_CHR=dpnt-uc-$DPN_TAG
VCHR=du$DPN_TAG
trap 'dpn_stop_peers; ip netns del "$NS_CHR" 2>/dev/null; dpn_cleanup' EXIT

dpn_setup || exit 1
# The client namespace is a switch: dpntpd's veth and chronyd's on a bridge.
ip -n "$NS_CLI" link add br0 type bridge
ip -n "$NS_CLI" link set "$VETH_CLI" master br0
ip -n "$NS_CLI" addr flush dev "$VETH_CLI"
ip -n "$NS_CLI" link set br0 up
ip -n "$NS_CLI" addr add "$CLI4/24" dev br0
ip netns add "$NS_CHR" || exit 1
ip link add "$VCHR" type veth peer name "${VCHR}b" || exit 1
ip link set "$VCHR" netns "$NS_CHR"
ip link set "${VCHR}b" netns "$NS_CLI"
ip -n "$NS_CLI" link set "${VCHR}b" master br0 up
ip -n "$NS_CHR" link set lo up
ip -n "$NS_CHR" addr add "$CHR/24" dev "$VCHR"
ip -n "$NS_CHR" link set "$VCHR" up

dpn_chronyd_server "$NS_CHR" $CHR server

cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock system stratum 1 refid GPS
CONF
case $vdev in
af_packet) dpn_start || exit 1 ;;
pcap) DPN_VDEV="net_pcap0,rx_iface_in=$VETH_SRV,tx_iface=$VETH_SRV"
	dpn_start || exit 1 ;;
*) echo "xleave-accuracy.sh: --vdev is af_packet or pcap" >&2; exit 2 ;;
esac

# client NAME SERVER [xleave]: a chronyd client polling every second.
client() {
	mkdir -p "$DPN_TMP/$1"
	cat >"$DPN_TMP/$1/chrony.conf" <<CONF
server $2 minpoll 0 maxpoll 0 iburst $3
pidfile $DPN_TMP/$1/chronyd.pid
cmdport 0
driftfile $DPN_TMP/$1/drift
logdir $DPN_TMP/$1
log measurements
CONF
	ip netns exec "$NS_CLI" chronyd -4 -d -x -u root -f "$DPN_TMP/$1/chrony.conf" \
		>"$DPN_TMP/$1/out.log" 2>&1 &
	DPN_PEER_PIDS+=($!)
}
client dpntpd-xleave "$SRV4" xleave
client dpntpd-basic "$SRV4" ""
client chronyd-xleave "$CHR" xleave
client chronyd-basic "$CHR" ""

dpn_log "settling $settle s, then measuring $seconds s (dpntpd on $vdev)"
sleep "$settle"
start=$(date -u +%s)
sleep "$seconds"
end=$(date -u +%s)
dpnc show port info | grep rx_ | sed 's/^/  /'
dpnc show stats | grep -E "interleaved|rx_stamp|server_replies" | sed 's/^/  /'

# measurements.log: date time ip L st tests(3) LP RP score offset delay
# disp rootdelay rootdisp refid mode(4B/4I) txsrc rxsrc
summary=$DPN_TMP/summary
: >"$summary"
for c in dpntpd-xleave dpntpd-basic chronyd-xleave chronyd-basic; do
	awk -v s="$start" -v e="$end" -v name="$c" '
	/^[0-9]/ {
		cmd = "date -u -d \"" $1 " " $2 "\" +%s"; cmd | getline t; close(cmd)
		if (t < s || t > e) next
		n++; x = $12 * 1e6; sum += x; sq += x * x
		if ($18 == "4I") il++
	}
	END {
		if (n == 0) { printf "%s 0 0 nan nan nan\n", name; exit }
		m = sum / n; v = sq / n - m * m; if (v < 0) v = 0
		printf "%s %d %.3f %.2f %.2f %.2f\n", name, n, il / n, m, sqrt(v), sqrt(sq / n)
	}' "$DPN_TMP/$c/measurements.log" >>"$summary"
done
printf '%-16s %8s %12s %10s %10s %10s\n' client samples interleaved \
	"mean_us" "sd_us" "rms_us"
awk '{ printf "%-16s %8d %12.3f %10s %10s %10s\n", $1, $2, $3, $4, $5, $6 }' \
	"$summary"
if [ -n "$json" ]; then
	awk -v start="$start" -v end="$end" -v vdev="$vdev" 'BEGIN {
		printf "{\"start\": %s, \"end\": %s, \"vdev\": \"%s\", \"clients\": [", start, end, vdev }
	{ printf "%s{\"client\": \"%s\", \"samples\": %d, \"interleaved\": %s, \"mean_us\": %s, \"sd_us\": %s, \"rms_us\": %s}",
		(NR > 1 ? ", " : ""), $1, $2, $3, $4, $5, $6 }
	END { print "]}" }' "$summary" >"$json"
fi
