#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Soak: dpntpd under mixed load for MINUTES (default 60) in network
# namespaces (addresses in 198.18.0.0/15), sampled every SAMPLE seconds
# (default 60; 20 for runs of 5 minutes or less): RSS, the DPDK heap and
# mempools through telemetry, and every counter. Fails if memory grows,
# mbufs leak, a counter goes backwards, an allowed client misses a reply
# or a packet goes unaccounted for. scripts/soak.py has the load.
# Run as root: scripts/soak.sh [MINUTES]. The last line is "soak: ok" or
# "soak: FAILED".
#
# For scripts/dashboard-record.sh (environment):
#   RECORD=FILE   scrape /metrics (on a management veth, 198.18.1.1) every
#                 SCRAPE s (default 1) into FILE (JSON, .gz: gzipped); with a
#                 dpntpd that has the health verdict, the drain file exists
#                 from 45 % to 65 % of the run; 24 clients
#                 (198.18.0.100-123) take turns sending bursts that get KoDs;
#   GEN_RATE=N    dpntp-gen adds N requests/s from 198.19.16.0/24 through
#                 198.18.0.6 for the whole run (af_packet on the client veth).
set -u
MINUTES=${1:-60}
. "$(dirname "$0")/../tests/integration/lib.sh"
DPN_TEST=soak
SAMPLE=${SAMPLE:-$(awk -v m="$MINUTES" 'BEGIN { print (m <= 5) ? 20 : 60 }')}
UPSTREAM=198.18.0.3
LIMITED=198.18.0.4
JUNK=198.18.0.5
GENLOCAL=198.18.0.6
MGMT=198.18.1.1
MPORT=9125
RECORD=${RECORD:-}
SCRAPE=${SCRAPE:-1}
GEN_RATE=${GEN_RATE:-0}
# soak.py runs in the background so that a signal is handled at once; it
# stops its own chronyd on SIGTERM.
SOAKPY_PID=
stop_soakpy() {
	[ -n "$SOAKPY_PID" ] || return 0
	kill "$SOAKPY_PID" 2>/dev/null
	wait "$SOAKPY_PID" 2>/dev/null
	SOAKPY_PID=
}
trap 'stop_soakpy; dpn_cleanup; rm -rf "/var/run/dpdk/dpng$DPN_TAG"' EXIT

dpn_setup || exit 1
for a in $UPSTREAM $LIMITED $JUNK; do
	ip -n "$NS_CLI" addr add "$a/24" dev "$VETH_CLI"
done
dpn_default_conf
cat >>"$CONF" <<CONF
server $UPSTREAM iburst minpoll 4 maxpoll 4
restrict default kod limited nomodify notrap nopeer noquery
restrict $CLI4 nomodify notrap nopeer noquery
restrict $UPSTREAM
CONF
rec_args=()
if [ -n "$RECORD" ]; then
	dpn_ke_veth "$MGMT" || exit 1
	echo "metrics $MGMT:$MPORT" >>"$CONF"
	rec_args=(--record "$RECORD" --metrics "http://$MGMT:$MPORT/metrics"
		--scrape "$SCRAPE")
	bursty=
	for i in $(seq 100 123); do
		ip -n "$NS_CLI" addr add "198.18.0.$i/24" dev "$VETH_CLI"
		bursty=$bursty${bursty:+,}198.18.0.$i
	done
	rec_args+=(--bursty "$bursty")
	# The health verdict (issue 16) and its drain file, if this build has it.
	if grep -aq drainfile "$DPNTPD"; then
		echo "health drainfile $DPN_TMP/drain" >>"$CONF"
		rec_args+=(--drain "$DPN_TMP/drain" --drain-at "$(awk -v m="$MINUTES" \
			'BEGIN { printf "%.0f:%.0f", m * 27, m * 39 }')")
	else
		dpn_log "this dpntpd has no health drain file: recording without"
	fi
fi
# The generator's clients are not rate-limited: they are the steady load.
[ "$GEN_RATE" -gt 0 ] &&
	echo "restrict 198.19.16.0 mask 255.255.255.0 nomodify notrap nopeer noquery" >>"$CONF"
dpn_start || exit 1

if [ "$GEN_RATE" -gt 0 ]; then
	# ip netns exec, not dpn_cli: a backgrounded function is a subshell,
	# and $! must be the generator's timeout, which passes signals on.
	ip netns exec "$NS_CLI" nice -n 19 timeout "$(awk -v m="$MINUTES" 'BEGIN { print int(m * 60 + 60) }')" \
		"$DPN_BUILD/perf/dpntp-gen" --no-huge -m 256 --no-pci -l 0 \
		--file-prefix "dpng$DPN_TAG" --vdev "net_af_packet1,iface=$VETH_CLI" -- \
		--server "$SRV4" --local "$GENLOCAL" --clients 198.19.16.0/24 \
		--rate "$GEN_RATE" --duration "$(awk -v m="$MINUTES" 'BEGIN { print int(m * 60) }')" \
		--json >"$DPN_TMP/gen.json" 2>"$DPN_TMP/gen.err" &
	DPN_PEER_PIDS+=($!)
	dpn_log "dpntp-gen: $GEN_RATE requests/s"
fi

out=$DPN_TMP/soak.out
dpn_log "soak: $MINUTES min, a sample every $SAMPLE s"
ip netns exec "$NS_CLI" timeout "$(awk -v m="$MINUTES" 'BEGIN { print int(m * 60 + 180) }')" \
	"$PY" "$DPN_ROOT/scripts/soak.py" --minutes "$MINUTES" \
	--sample "$SAMPLE" --pid "$DPN_PID" --dpntpc "$DPNTPC" --sock "$SOCK" \
	--telemetry "/var/run/dpdk/dpnt$DPN_TAG/dpdk_telemetry.v2" \
	--conf "$CONF" --srv "$SRV4" --allowed "$CLI4" --limited "$LIMITED" \
	--junk "$JUNK" --upstream "$UPSTREAM" --corpus "$DPN_ROOT/tests/cve" \
	--tmp "$DPN_TMP" "${rec_args[@]}" \
	--describe "{\"gen_rate\": $GEN_RATE, \"allowed_rate\": 20, \"minutes\": $MINUTES}" \
	>"$out" 2>&1 &
SOAKPY_PID=$!
wait "$SOAKPY_PID"
rc=$?
SOAKPY_PID=
sed 's/^/  /' "$out"
dpn_results "$out" soak.py "$rc"
dpn_check "dpntpd still running" dpn_alive
if [ "$DPN_FAILS" -eq 0 ]; then
	( dpn_pass ) && { echo "soak: ok"; exit 0; }
fi
( dpn_pass )
echo "soak: FAILED"
exit 1
