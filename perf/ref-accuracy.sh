#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# How well does dpntpd serve the time of a reference clock? The reference
# serves this host's clock and dpntpd serves what it learns from it, so
# the served time's error is its offset from the host clock as clients
# in the client namespace (same host clock) measure it:
#
#   --ref ptp | ptp-l2   linuxptp's ptp4l -S (free_running) as master on
#                        the client veth, UDP/IPv4 or Layer 2; dpntpd has
#                        `refclock ptp port 0 poll 0`. In the same run a
#                        ptp4l slave (-s -S, free_running) on the server
#                        veth (the kernel still sees it beside dpntpd's
#                        af_packet socket) measures the same master: its
#                        "master offset" is its own error, since both ends
#                        keep the same clock.
#   --ref shm            dpn-shmwriter writes the host clock to SHM unit
#                        7 every 250 ms (gpsd's order); dpntpd has
#                        `refclock shm 7 poll 2` (4 readings a poll).
#
# Two chronyd clients (-x, never setting a clock) poll dpntpd every
# second, one interleaved, one basic; the figures are the mean,
# standard deviation and RMS of their measured offsets (chrony's
# measurements.log) over --seconds after --settle, and for ptp the same
# of ptp4l's offsets. The clients' own noise is in their figures
# (perf/xleave-accuracy.sh measures it with `refclock system`). Not a
# test: figures for doc/guides/performance.rst.
#
#   perf/ref-accuracy.sh --ref ptp|ptp-l2|shm [--seconds S] [--settle S]
#                        [--poll P] [--log-sync L] [--vdev af_packet|pcap]
#                        [--json FILE]
#
# --poll is the refclock's poll (default 0 for ptp, 2 for shm); for ptp,
# --log-sync is the master's logSyncInterval (default 0: one Sync a
# second; -2 gives four, so that a poll of 2 filters 16 readings).
#
# Run as root from the source tree after a build (scripts/build.sh).
set -u
ref= seconds=600 settle=60 vdev=af_packet json= poll= logsync=0
while [ $# -gt 0 ]; do
	case $1 in
	--ref) ref=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--settle) settle=$2; shift ;;
	--vdev) vdev=$2; shift ;;
	--poll) poll=$2; shift ;;
	--log-sync) logsync=$2; shift ;;
	--json) json=$2; shift ;;
	-h|--help) sed -n '3,37p' "$0"; exit 0 ;;
	*) echo "ref-accuracy.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $ref in
ptp|ptp-l2|shm) ;;
*) echo "ref-accuracy.sh: --ref is ptp, ptp-l2 or shm" >&2; exit 2 ;;
esac
[ -z "$poll" ] && { [ "$ref" = shm ] && poll=2 || poll=0; }
case $poll$logsync in *[!0-9-]*) echo "ref-accuracy.sh: --poll and --log-sync are integers" >&2; exit 2 ;; esac
for v in "$seconds" "$settle"; do
	case $v in ''|*[!0-9]*) echo "ref-accuracy.sh: '$v' is not a whole number" >&2; exit 2 ;; esac
done

DPN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$DPN_ROOT/tests/integration/lib.sh"
DPN_TEST=ref-accuracy
SHMWRITER=$DPN_BUILD/tests/dpn-shmwriter
SHM_UNIT=7
cleanup() {
	dpn_stop_peers
	[ "$ref" = shm ] && ipcrm -M $((0x4e545030 + SHM_UNIT)) 2>/dev/null
	dpn_cleanup
}
trap cleanup EXIT

dpn_setup || exit 1
case $vdev in
af_packet) ;;
pcap) DPN_VDEV="net_pcap0,rx_iface_in=$VETH_SRV,tx_iface=$VETH_SRV" ;;
*) echo "ref-accuracy.sh: --vdev is af_packet or pcap" >&2; exit 2 ;;
esac

tr=-4 transport=udp4
[ "$ref" = ptp-l2 ] && tr=-2 transport=l2
# ptp4l ROLE NS IFACE [-s]: master or slave, software stamps, free_running.
ptp4l_run() {
	cat >"$DPN_TMP/ptp4l-$1.cfg" <<CFG
[global]
free_running 1
logSyncInterval $logsync
uds_address $DPN_TMP/ptp4l-$1.uds
summary_interval $logsync
CFG
	ip netns exec "$2" ptp4l -S -m $tr -i "$3" ${4:-} \
		-f "$DPN_TMP/ptp4l-$1.cfg" >"$DPN_TMP/ptp4l-$1.log" 2>&1 &
	DPN_PEER_PIDS+=($!)
}

case $ref in
ptp*)
	cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock ptp port 0 transport $transport poll $poll
CONF
	;;
shm)
	ipcrm -M $((0x4e545030 + SHM_UNIT)) 2>/dev/null
	"$SHMWRITER" --unit $SHM_UNIT --offset 0 --interval 250 &
	DPN_PEER_PIDS+=($!)
	cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock shm $SHM_UNIT poll $poll refid GPS
CONF
	;;
esac
dpn_start || exit 1
case $ref in
ptp*)
	ptp4l_run master "$NS_CLI" "$VETH_CLI"
	# UDP needs an address on the slave's side; the kernel's, not dpntpd's.
	ip -n "$NS_SRV" addr add 198.18.0.3/24 dev "$VETH_SRV"
	ptp4l_run slave "$NS_SRV" "$VETH_SRV" -s
	;;
esac

# client NAME [xleave]: a chronyd client of dpntpd polling every second.
client() {
	mkdir -p "$DPN_TMP/$1"
	cat >"$DPN_TMP/$1/chrony.conf" <<CONF
server $SRV4 minpoll 0 maxpoll 0 iburst $2
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
client xleave xleave
client basic ""

dpn_log "reference $ref (poll $poll, logSyncInterval $logsync), dpntpd on $vdev: settling $settle s, then measuring $seconds s"
sleep "$settle"
start=$(date -u +%s)
sleep "$seconds"
end=$(date -u +%s)
dpnc show refclocks | sed 's/^/  /'
[ "$ref" != shm ] && dpnc show ptp | sed 's/^/  /'

# measurements.log: date time ip L st tests(3) LP RP score offset ...
summary=$DPN_TMP/summary
: >"$summary"
# Closes the caller's action: x is one offset in microseconds.
stats='n++; sum += x; sq += x * x }
	END {
		if (n == 0) { printf "%s 0 nan nan nan\n", name; exit }
		m = sum / n; v = sq / n - m * m; if (v < 0) v = 0
		printf "%s %d %.2f %.2f %.2f\n", name, n, m, sqrt(v), sqrt(sq / n)
	}'
for c in xleave basic; do
	awk -v s="$start" -v e="$end" -v name="chronyd-$c" '
	/^[0-9]/ {
		cmd = "date -u -d \"" $1 " " $2 "\" +%s"; cmd | getline t; close(cmd)
		if (t < s || t > e) next
		x = $12 * 1e6; '"$stats" "$DPN_TMP/$c/measurements.log" >>"$summary"
done
if [ "$ref" != shm ]; then
	# ptp4l's lines carry its uptime in brackets, not the date: take the
	# last $seconds s of them (one per Sync: summary_interval is the Sync
	# interval, else it prints only an RMS per summary interval).
	nsync=$(awk -v s="$seconds" -v l="$logsync" 'BEGIN { print int(s / 2 ^ l) }')
	grep "master offset" "$DPN_TMP/ptp4l-slave.log" | tail -n "$nsync" |
		awk -v name="ptp4l-slave" '{
			for (i = 1; i < NF; i++) if ($i == "offset") x = $(i + 1) / 1000
			'"$stats" >>"$summary"
fi
printf '%-16s %8s %10s %10s %10s\n' measured-by samples mean_us sd_us rms_us
awk '{ printf "%-16s %8d %10s %10s %10s\n", $1, $2, $3, $4, $5 }' "$summary"
if [ -n "$json" ]; then
	awk -v start="$start" -v end="$end" -v vdev="$vdev" -v ref="$ref" \
		-v poll="$poll" -v logsync="$logsync" 'BEGIN {
		printf "{\"ref\": \"%s\", \"poll\": %s, \"log_sync\": %s, \"start\": %s, \"end\": %s, \"vdev\": \"%s\", \"by\": [", ref, poll, logsync, start, end, vdev }
	{ printf "%s{\"name\": \"%s\", \"samples\": %d, \"mean_us\": %s, \"sd_us\": %s, \"rms_us\": %s}",
		(NR > 1 ? ", " : ""), $1, $2, $3, $4, $5 }
	END { print "]}" }' "$summary" >"$json"
fi
