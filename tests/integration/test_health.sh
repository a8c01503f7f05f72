#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The health verdict (issue 16): dpntpd, synchronized to a real upstream
# (chronyd -x in the client namespace), is healthy; GET /health answers
# 200, `dpntpc health` exits 0 and dpntp_healthy is 1 with every check
# exported. Each cause then makes it unhealthy (503, exit 1, the check's
# gauge 1, the reason named) and it recovers once the cause is gone:
# the drain file (also one a reload names), the offset threshold (set
# by a reload), the port's link (net_tap, bridged as in test_link.sh),
# and the upstream cut (unsynchronized and reference lost after the
# short holdover). A worker stall cannot be caused from outside without
# stopping the whole process: the unit test covers it on a fake clock.
. "$(dirname "$0")/lib.sh"

UP=198.18.0.11
MPORT=9124
MURL=http://127.0.0.1:$MPORT
TAP=dpk$DPN_TAG
BR=dpb$DPN_TAG
DRAIN=$DPN_TMP/drain
DPN_VDEV="net_tap0,iface=$TAP"

dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$UP/24" dev "$VETH_CLI"
cat >"$DPN_TMP/chrony.conf" <<CONF
local stratum 1
allow
bindaddress $UP
pidfile $DPN_TMP/chronyd.pid
cmdport 0
CONF
start_chronyd() {
	ip netns exec "$NS_CLI" chronyd -4 -d -x -f "$DPN_TMP/chrony.conf" \
		>>"$DPN_TMP/chronyd.log" 2>&1 &
	CHRONYD_PID=$!
	DPN_PEER_PIDS+=($CHRONYD_PID)
}
start_chronyd

# write_conf MAXOFFSET DRAINFILE
write_conf() {
	cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
server $UP iburst minpoll 3 maxpoll 3
holdover 3
metrics 127.0.0.1:$MPORT
health maxoffset $1 maxdistance 1 stall 1000 drainfile $2
CONF
}
write_conf 0.05 "$DRAIN"
dpn_start || exit 1
# The port's kernel side bridged to the veth (see test_link.sh).
ip -n "$NS_SRV" link set "$TAP" address 02:00:00:00:16:fe || exit 1
ip -n "$NS_SRV" link add "$BR" type bridge || exit 1
ip -n "$NS_SRV" link set "$TAP" master "$BR" || exit 1
ip -n "$NS_SRV" link set "$VETH_SRV" master "$BR" || exit 1
ip -n "$NS_SRV" link set "$TAP" up
ip -n "$NS_SRV" link set "$BR" up

srv_curl() {
	ip netns exec "$NS_SRV" curl -sS --max-time 20 "$@"
}
# GET /health: its status code; the body in $DPN_TMP/health.json.
health_status() {
	srv_curl -o "$DPN_TMP/health.json" -w '%{http_code}' "$MURL/health"
}
health_exit() {
	"$DPNTPC" -s "$SOCK" health >"$DPN_TMP/health.txt" 2>&1
	echo $?
}
gauge() {
	srv_curl "$MURL/metrics" | awk -v n="$1" 'index($0, n " ") == 1 {
		print $NF; f = 1 } END { if (!f) print "missing" }'
}

# The verdict as the three interfaces give it, "HTTP EXIT HEALTHY", is
# $1 within $2 s (evaluated every 100 ms; the drain file looked at once
# a second).
verdict() { echo "$(health_status) $(health_exit) $(gauge dpntp_healthy)"; }
wait_verdict() {
	local _ v
	for _ in $(seq $(($2 * 2))); do
		v=$(verdict)
		[ "$v" = "$1" ] && { echo "  $v"; return 0; }
		sleep 0.5
	done
	echo "  verdict '$v', want '$1'"
	sed 's/^/  /' "$DPN_TMP/health.txt"
	return 1
}
HEALTHY="200 0 1"
UNHEALTHY="503 1 0"

# Exactly check $1 fails (its gauge 1, the others 0), /health names it
# with the reason $2, and dpntpc health's first line gives that reason.
only_failing() {
	local m c want ok=0
	m=$(srv_curl "$MURL/metrics")
	for c in unsynchronized offset root_distance reference_lost \
		 worker_stalled link_down drain; do
		want=0
		case " $1 " in *" $c "*) want=1 ;; esac
		echo "$m" | grep -qx "dpntp_health_failing{check=\"$c\"} $want" ||
			{ echo "  $c: want $want"; ok=1; }
	done
	health_status >/dev/null
	grep -q "\"reasons\":\[[^]]*$2" "$DPN_TMP/health.json" ||
		{ sed 's/^/  /' "$DPN_TMP/health.json"; ok=1; }
	health_exit >/dev/null
	head -1 "$DPN_TMP/health.txt" | grep -q "^unhealthy: .*$2" ||
		{ head -1 "$DPN_TMP/health.txt"; ok=1; }
	return $ok
}

dpn_check "synchronized to chronyd: healthy (200, exit 0, dpntp_healthy 1) within 60 s" \
	wait_verdict "$HEALTHY" 60
all_ok() {
	local n
	n=$(srv_curl "$MURL/metrics" | grep -c '^dpntp_health_failing{check="[a-z_]*"} 0$')
	echo "  $n checks at 0"
	[ "$n" -eq 7 ]
}
dpn_check "all seven dpntp_health_failing gauges at 0" all_ok
dpn_check "/health is JSON saying healthy" \
	grep -q '^{"healthy":true,"failing":\[\],' "$DPN_TMP/health.json"
dpn_check "dpntpc --json health: exit 0, healthy" sh -c \
	"'$DPNTPC' -s '$SOCK' --json health | grep -q '^{\"healthy\":true,'"
dpn_check "dpntpc health without a daemon: exit 2" \
	test "$("$DPNTPC" -s "$DPN_TMP/none.sock" health >/dev/null 2>&1; echo $?)" = 2

# --- the drain file -------------------------------------------------------
touch "$DRAIN"
dpn_check "drain file: unhealthy within 5 s" wait_verdict "$UNHEALTHY" 5
dpn_check "... only drain fails, the reason named" only_failing drain \
	"drain file present"
dpn_check "dpntpc --json health: exit 1 with the reason" sh -c \
	"'$DPNTPC' -s '$SOCK' --json health | grep -q '\"failing\":\[\"drain\"\]'; test \$? = 0 && ! '$DPNTPC' -s '$SOCK' --json health >/dev/null"
rm -f "$DRAIN"
dpn_check "drain file gone: healthy within 5 s" wait_verdict "$HEALTHY" 5

# --- a reload applies the health line --------------------------------------
write_conf 0.05 "$DPN_TMP/drain2"
dpn_check "reload" dpnc reload
dpn_check "show config prints the new health line" sh -c \
	"'$DPNTPC' -s '$SOCK' show config | grep -qx 'health maxoffset 0.05 maxdistance 1 stall 1000 drainfile $DPN_TMP/drain2'"
touch "$DRAIN"
sleep 2
dpn_check "the old drain file no longer counts" test "$(verdict)" = "$HEALTHY"
touch "$DPN_TMP/drain2"
dpn_check "the drain file the reload named: unhealthy" \
	wait_verdict "$UNHEALTHY" 5
rm -f "$DRAIN" "$DPN_TMP/drain2"
dpn_check "healthy again" wait_verdict "$HEALTHY" 5

# --- offset threshold (1 ns: no real offset is below it) -------------------
write_conf 0.000000001 "$DRAIN"
dpnc reload >/dev/null
dpn_check "maxoffset 1 ns: unhealthy" wait_verdict "$UNHEALTHY" 5
dpn_check "... only offset fails, with the offset and the threshold" \
	only_failing offset "offset [-0-9.]* s over 0.000000 s"
write_conf 0.05 "$DRAIN"
dpnc reload >/dev/null
dpn_check "maxoffset 50 ms again: healthy" wait_verdict "$HEALTHY" 5

# --- the port's link -------------------------------------------------------
ip -n "$NS_SRV" link set "$TAP" down
dpn_check "link down: unhealthy within 5 s" wait_verdict "$UNHEALTHY" 5
dpn_check "... link_down fails, port 0 named" only_failing link_down \
	"port(s) with the link down: port 0"
ip -n "$NS_SRV" link set "$TAP" up
dpn_check "link up: healthy within 5 s" wait_verdict "$HEALTHY" 5

# --- the upstream cut ------------------------------------------------------
# 8 unanswered polls of 8 s make chronyd unreachable; 3 s of holdover.
kill "$CHRONYD_PID"
wait "$CHRONYD_PID" 2>/dev/null
dpn_check "upstream cut: unhealthy within 120 s" wait_verdict "$UNHEALTHY" 120
dpn_check "... unsynchronized and reference lost" only_failing \
	"unsynchronized reference_lost" "no reference for [0-9]* s (holdover 3 s)"
dpn_check "... and served so (stratum 16)" \
	test "$(dpn_sysvar sync) $(dpn_sysvar stratum)" = "no 16"
start_chronyd
dpn_check "upstream back: healthy within 120 s" wait_verdict "$HEALTHY" 120
dpn_check "dpntpd still running" dpn_alive
dpn_pass
