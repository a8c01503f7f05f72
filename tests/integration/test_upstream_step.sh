#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# One upstream server (issue 5): 0.5 s off is stepped at start (as
# ntpdate -u then ntpd), 2000 s is refused above the panic threshold and
# accepted once with -g (ntpd's meaning); gone for longer than the
# holdover, the server says unsynchronized and recovers when it returns;
# corrupted and expired leap files are reported, and so is a server
# without a route. The server is
# brokenntp.py serving the host clock plus an offset; the host clock is
# never touched.
. "$(dirname "$0")/lib.sh"

UP_A=198.18.0.13

dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$UP_A/24" dev "$VETH_CLI"

# --- a server far off: stepped at start, refused above panic unless -g ----
serve_offset() {
	dpn_stop_peers
	# As long as the test may run (300 s): the next call or the
	# test's end stops it, not a clock.
	ip netns exec "$NS_CLI" timeout 310 "$PY" \
		"$DPN_ROOT/tests/integration/brokenntp.py" --bind "$UP_A" \
		--drop-every 0 --offset "$1" --seconds 300 &
	DPN_PEER_PIDS+=($!)
}
far_server() {
	serve_offset "$1"
	cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
server $UP_A iburst minpoll 3 maxpoll 3
${2:-}
CONF
}
restart() {
	kill -TERM "$DPN_PID"; wait "$DPN_PID" 2>/dev/null; DPN_PID=
	rm -rf "/var/run/dpdk/dpnt$DPN_TAG"
	dpn_start
}
far_server 0.5
dpn_start || exit 1
dpn_check "0.5 s off at start: stepped once, served 0.5 s ahead" \
	dpn_wait_served 40 '$1 > 0.49 && $1 < 0.51 && $2 == "s2"'
dpn_check "the step is logged" grep -q "clock stepped by +0.5" "$LOG"
far_server 2000
restart || exit 1
dpn_check "2000 s off: refused above the panic threshold, with a log line" \
	dpn_wait_log "above the panic threshold" 40
dpn_check "and the server stays unsynchronized" \
	test "$(dpn_sysvar sync) $(dpn_sysvar stratum)" = "no 16"
# shellcheck disable=SC2034 # read by dpn_start (lib.sh)
DPN_APP_ARGS=(-g)
restart || exit 1
dpn_check "with -g: stepped to it, served 2000 s ahead" \
	dpn_wait_served 40 '$1 > 1999.9 && $1 < 2000.1 && $2 == "s2"'
# shellcheck disable=SC2034 # read by dpn_start (lib.sh)
DPN_APP_ARGS=()

# --- the server goes away and comes back ----------------------------------
far_server 0 "holdover 5"
restart || exit 1
dpn_check "synchronized to it" dpn_wait_served 40 '$2 == "s2"'
dpn_stop_peers
# Three unanswered polls of 8 s put it past maxdist; then 5 s of holdover.
dpn_check "server gone, after the holdover: unsynchronized (LI 3, stratum 16)" \
	dpn_wait_served 90 '$0 ~ /stratum too high|no-sync|s16/'
dpn_check "show sysinfo agrees: sync=no" test "$(dpn_sysvar sync)" = no
serve_offset 0
dpn_check "server back: synchronized again, stratum 2, |offset| < 1 ms" \
	dpn_wait_served 90 '$2 == "s2" && $1 < 0.001 && $1 > -0.001'

# --- leap files that must not be believed ---------------------------------
/usr/bin/python3 "$DPN_ROOT/tests/integration/mkleap.py" "$DPN_TMP/leap" \
	--in 86400 --corrupt
far_server 0 "leapfile $DPN_TMP/leap
server 198.19.5.5"
restart || exit 1
dpn_check "a corrupted leap file is reported and not used" \
	grep -q "leapfile: $DPN_TMP/leap: the SHA-1 in '#h' does not match" "$LOG"
dpn_check "show sysinfo: leapmode none" test "$(dpn_sysvar leapmode)" = none
dpn_check "a server no listen line reaches is logged as unroutable" \
	dpn_wait_log "cannot poll 198.19.5.5: no route" 10
/usr/bin/python3 "$DPN_ROOT/tests/integration/mkleap.py" "$DPN_TMP/leap" \
	--in 86400 --expired
restart || exit 1
dpn_check "an expired leap file is reported" \
	dpn_wait_log "leap second file $DPN_TMP/leap expired" 10
dpn_check "dpntpd still running" dpn_alive
dpn_pass
