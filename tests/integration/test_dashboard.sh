#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The Grafana dashboard (config/grafana/dpntp.json) against what dpntpd
# exports: dpntpd with a reference, an upstream server, a restrict rule
# and the metrics listener serves some traffic; promtool accepts the
# scrape; every query of the dashboard names metrics that are in it, and
# groups or labels its series by labels they have (dashboard.py).
. "$(dirname "$0")/lib.sh"

MPORT=9124
UP=198.18.0.13

dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$UP/24" dev "$VETH_CLI"
ip netns exec "$NS_CLI" timeout 200 "$PY" \
	"$DPN_ROOT/tests/integration/brokenntp.py" --bind "$UP" \
	--drop-every 0 --offset 0 --seconds 190 &
DPN_PEER_PIDS+=($!)
dpn_default_conf
cat >>"$CONF" <<CONF
server $UP iburst minpoll 4 maxpoll 4
restrict default kod limited
metrics 127.0.0.1:$MPORT
CONF
dpn_start || exit 1

polled() {
	local _
	for _ in $(seq 60); do
		[ "$(dpnc show peers | awk -v a="$UP" 'index($1, a) { print $7 }')" != 0 ] &&
			return 0
		sleep 1
	done
	return 1
}
dpn_check "the upstream server answered" polled
dpn_check "ntpdig gets the time" dpn_best_of3 dpn_ntpdig_s1 $SRV4
SCRAPE=$DPN_TMP/metrics.txt
ip netns exec "$NS_SRV" curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" \
	>"$SCRAPE"
dpn_check "scraped /metrics" test -s "$SCRAPE"
promtool_ok() { promtool check metrics <"$SCRAPE"; }
dpn_check "promtool check metrics accepts it" promtool_ok
out=$DPN_TMP/dashboard.out
"$PY" "$DPN_ROOT/tests/integration/dashboard.py" \
	"$DPN_ROOT/config/grafana/dpntp.json" "$SCRAPE" >"$out" 2>&1
dpn_results "$out" dashboard.py $?
dpn_pass
