#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A server far off (issue 5): 0.5 s is stepped at start (as ntpdate -u
# then ntpd), 2000 s is refused above the panic threshold, and accepted
# once with -g (ntpd's meaning). The server is brokenntp.py serving the
# host clock plus an offset; the host clock is never touched.
. "$(dirname "$0")/lib.sh"

UP_A=198.18.0.13


dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$UP_A/24" dev "$VETH_CLI"

# --- a server far off: stepped at start, refused above panic unless -g ----
far_server() {
	dpn_stop_peers
	ip netns exec "$NS_CLI" timeout 100 "$PY" \
		"$DPN_ROOT/tests/integration/brokenntp.py" --bind "$UP_A" \
		--drop-every 0 --offset "$1" --seconds 90 &
	DPN_PEER_PIDS+=($!)
	cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
server $UP_A iburst minpoll 3 maxpoll 3
CONF
}
far_server 0.5
dpn_start || exit 1
dpn_check "0.5 s off at start: stepped once, served 0.5 s ahead" \
	dpn_wait_served 40 '$1 > 0.49 && $1 < 0.51 && $2 == "s2"'
dpn_check "the step is logged" grep -q "clock stepped by +0.5" "$LOG"
kill -TERM "$DPN_PID"; wait "$DPN_PID" 2>/dev/null; DPN_PID=
rm -rf "/var/run/dpdk/dpnt$DPN_TAG"
far_server 2000
dpn_start || exit 1
dpn_check "2000 s off: refused above the panic threshold, with a log line" \
	dpn_wait_log "above the panic threshold" 40
dpn_check "and the server stays unsynchronized" \
	test "$(dpn_sysvar sync) $(dpn_sysvar stratum)" = "no 16"
kill -TERM "$DPN_PID"; wait "$DPN_PID" 2>/dev/null; DPN_PID=
rm -rf "/var/run/dpdk/dpnt$DPN_TAG"
# shellcheck disable=SC2034 # read by dpn_start (lib.sh)
DPN_APP_ARGS=(-g)
dpn_start || exit 1
dpn_check "with -g: stepped to it, served 2000 s ahead" \
	dpn_wait_served 40 '$1 > 1999.9 && $1 < 2000.1 && $2 == "s2"'
dpn_check "dpntpd still running" dpn_alive
dpn_pass
