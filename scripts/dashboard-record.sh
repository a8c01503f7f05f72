#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Records a run for the dashboard picture (scripts/dashboard-plot.py):
# the soak (scripts/soak.sh: dpntpd on af_packet in network namespaces,
# addresses in 198.18.0.0/15, a chronyd -x upstream restarted every 30 s,
# an allowed client at 20 requests/s, a rate-limited client, malformed
# packets, a reload every 10 s), 24 clients whose bursts get KoDs (one a
# second), dpntp-gen at GEN_RATE
# requests/s (default 1000), /metrics scraped every SCRAPE s (default 1)
# and, with a dpntpd that has the health verdict, the drain file present
# from 45 % to 65 % of the run.
#
# Run as root: scripts/dashboard-record.sh [MINUTES [OUT]]
#   MINUTES  default 3, at most 10
#   OUT      default doc/guides/perf/dashboard-run.json.gz; the machine
#            description goes next to it (dashboard-machine.txt)
# Exit status: the soak's (0 when all its checks passed); the series is
# written either way once the run got to its end.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${1:-3}
OUT=${2:-$ROOT/doc/guides/perf/dashboard-run.json.gz}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
awk -v m="$MINUTES" 'BEGIN { exit !(m > 0 && m <= 10) }' ||
	{ echo "dashboard-record: MINUTES must be more than 0 and at most 10" >&2; exit 2; }
GEN_RATE=${GEN_RATE:-1000}
SCRAPE=${SCRAPE:-1}
MACHINE=$(dirname "$OUT")/dashboard-machine.txt
LOGF=$(mktemp /tmp/dashboard-record.XXXXXX)
# The tree as the run starts (the run itself rewrites OUT, making it dirty).
REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null)
SOAK_PID=
# The soak removes what it created (namespaces, processes by PID) when it
# exits: on an interrupt it gets SIGTERM (a background job ignores
# SIGINT) and is waited for.
stop_soak() {
	[ -n "$SOAK_PID" ] && kill -TERM "$SOAK_PID" 2>/dev/null && wait "$SOAK_PID"
	cat "$LOGF"
	echo "dashboard-record: interrupted; nothing written"
	exit 130
}
trap stop_soak INT TERM
trap 'rm -f "$LOGF"' EXIT

echo "dashboard-record: $MINUTES min, dpntp-gen $GEN_RATE requests/s, a scrape every $SCRAPE s -> $OUT"
# soak.sh bounds itself (its load runs under timeout, every wait is bounded).
RECORD=$OUT GEN_RATE=$GEN_RATE SCRAPE=$SCRAPE \
	nice -n 19 "$ROOT/scripts/soak.sh" "$MINUTES" >"$LOGF" 2>&1 &
SOAK_PID=$!
wait "$SOAK_PID"
rc=$?
SOAK_PID=
cat "$LOGF"
[ -s "$OUT" ] || { echo "dashboard-record: nothing recorded" >&2; exit 1; }
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "command: scripts/dashboard-record.sh $MINUTES (GEN_RATE=$GEN_RATE SCRAPE=$SCRAPE)"
	echo "cpu: $(lscpu | awk -F: '/^Model name/ { sub(/^ +/, "", $2); print $2; exit }')"
	virt=$(lscpu | awk -F: '/^Hypervisor vendor/ { sub(/^ +/, "", $2); print $2; exit }')
	[ -z "$virt" ] && grep -qw hypervisor /proc/cpuinfo && virt="a hypervisor's"
	echo "cpus: $(nproc) (${virt:-unknown} guest)"
	echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel: $(uname -r)"
	# shellcheck disable=SC1091
	echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "dpdk: $(pkg-config --modversion libdpdk 2>/dev/null)"
	echo "dpntp: $REV"
	echo "chronyd: $(chronyd --version 2>/dev/null | awk '{ print $1, $2, $3, $4; exit }')"
	echo "port: net_af_packet on a veth between network namespaces"
	echo "dpntpd lcores: -l 0,1 (one worker); dpntp-gen: -l 0; all under nice -n 19"
	echo "load: dpntp-gen $GEN_RATE requests/s from 198.19.16.0/24; a client at 20/s (1 in 4 NTPv3);"
	echo "  a rate-limited client, 5 requests every second; 24 clients taking turns at bursts"
	echo "  of 3 (one a second: a KoD each); malformed packets every second; a reload every 10 s;"
	echo "  the upstream chronyd -x restarted every 30 s"
	echo "soak: $(tail -n 1 "$LOGF")"
} >"$MACHINE"
echo "dashboard-record: wrote $OUT and $MACHINE (soak exit $rc)"
exit "$rc"
