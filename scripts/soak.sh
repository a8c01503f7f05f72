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
set -u
MINUTES=${1:-60}
. "$(dirname "$0")/../tests/integration/lib.sh"
DPN_TEST=soak
SAMPLE=${SAMPLE:-$(awk -v m="$MINUTES" 'BEGIN { print (m <= 5) ? 20 : 60 }')}
UPSTREAM=198.18.0.3
LIMITED=198.18.0.4
JUNK=198.18.0.5

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
dpn_start || exit 1

out=$DPN_TMP/soak.out
dpn_log "soak: $MINUTES min, a sample every $SAMPLE s"
dpn_cli timeout $(awk -v m="$MINUTES" 'BEGIN { print int(m * 60 + 180) }') \
	"$PY" "$DPN_ROOT/scripts/soak.py" --minutes "$MINUTES" \
	--sample "$SAMPLE" --pid "$DPN_PID" --dpntpc "$DPNTPC" --sock "$SOCK" \
	--telemetry "/var/run/dpdk/dpnt$DPN_TAG/dpdk_telemetry.v2" \
	--conf "$CONF" --srv $SRV4 --allowed $CLI4 --limited $LIMITED \
	--junk $JUNK --upstream $UPSTREAM --corpus "$DPN_ROOT/tests/cve" \
	--tmp "$DPN_TMP" >"$out" 2>&1
rc=$?
sed 's/^/  /' "$out"
dpn_results "$out" soak.py "$rc"
dpn_check "dpntpd still running" dpn_alive
if [ "$DPN_FAILS" -eq 0 ]; then
	( dpn_pass ) && { echo "soak: ok"; exit 0; }
fi
( dpn_pass )
echo "soak: FAILED"
exit 1
