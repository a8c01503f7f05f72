#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Anycast with BIRD 2 (issue 16): a "router" namespace runs BIRD and
# peers over eBGP with the server's BIRD (config/bird/dpntp-anycast.conf
# as shipped). scripts/dpntp-bird-anycast runs scripts/dpntp-health-check
# (an NTP query to dpntpd's unicast address on its DPDK port, and
# `dpntpc health`) and enables or disables BIRD's static anycast route
# with rise 3 / fall 2 at 1 s intervals. dpntpd serves its unicast
# address and the anycast address 198.18.123.123 on its af_packet port
# and follows a real chronyd -x in the router namespace.
#
#   server ns: dpntpd (port: veth, no kernel address)  --+
#              kernel 198.18.0.3 (BGP, the check) -------+-- router ns: br0
#                                                             198.18.0.2, BIRD,
#                                                             chronyd 198.18.0.11,
#                                                             the anycast client
#
# The route appears (next hop dpntpd's 198.18.0.1) while dpntpd is
# healthy, and a client in the router namespace gets time from the
# anycast address; it is withdrawn within the fall time of the drain
# file, of the upstream cut (once dpntpd says unsynchronized) and of
# dpntpd's death, and comes back after rise once dpntpd is healthy.
. "$(dirname "$0")/lib.sh"

UP=198.18.0.11
KSRV4=198.18.0.3
ANY=198.18.123.123
RISE=3
FALL=2
INTERVAL=1
CHECK_TMO=1
# The fall time with each failing check at its timeout (ntpdig and
# dpntpc, each bounded), plus BGP and the router's kernel table. A busy
# machine adds to it: the margin is generous, the bound still checked.
FALL_BOUND=$((FALL * (INTERVAL + 2 * (CHECK_TMO + 1)) + 10))
RISE_BOUND=$((RISE * (INTERVAL + 2 * (CHECK_TMO + 1)) + 10))
KV=dpa$DPN_TAG
KVR=dpr$DPN_TAG
DRAIN=$DPN_TMP/drain
BIRD_SRV_SOCK=$DPN_TMP/bird-srv.ctl
BIRD_RTR_SOCK=$DPN_TMP/bird-rtr.ctl
DPN_LCORES=(-l 0,1)

command -v bird >/dev/null && command -v birdc >/dev/null ||
	{ dpn_log "bird2 is not installed (scripts/deps.sh)"; exit 1; }

dpn_setup || exit 1
# The router: a bridge over the link to dpntpd's port and the server's
# kernel interface.
ip -n "$NS_CLI" link add br0 type bridge
ip -n "$NS_CLI" link set "$VETH_CLI" master br0
ip -n "$NS_CLI" addr flush dev "$VETH_CLI"
ip -n "$NS_CLI" link set br0 up
ip -n "$NS_CLI" addr add "$CLI4/24" dev br0
ip -n "$NS_CLI" addr add "$UP/24" dev br0
ip link add "$KV" type veth peer name "$KVR" || exit 1
ip link set "$KV" netns "$NS_SRV"
ip link set "$KVR" netns "$NS_CLI"
ip -n "$NS_CLI" link set "$KVR" master br0 up
ip -n "$NS_SRV" addr add "$KSRV4/24" dev "$KV"
ip -n "$NS_SRV" link set "$KV" up
ip netns exec "$NS_SRV" ethtool -K "$KV" tx off >/dev/null
ip netns exec "$NS_CLI" ethtool -K "$KVR" tx off >/dev/null

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

cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
listen port 0 address $ANY/32
server $UP iburst minpoll 3 maxpoll 3
holdover 3
health drainfile $DRAIN
CONF
dpn_start || exit 1

# The server's BIRD: the shipped configuration, logging to the test.
sed "s|^log syslog all;|log \"$DPN_TMP/bird-srv.log\" all;|" \
	"$DPN_ROOT/config/bird/dpntp-anycast.conf" >"$DPN_TMP/bird-srv.conf"
cat >"$DPN_TMP/bird-rtr.conf" <<CONF
router id $CLI4;
log "$DPN_TMP/bird-rtr.log" all;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; }
protocol bgp server1 {
	local $CLI4 as 64500;
	neighbor $KSRV4 as 64512;
	hold time 9;
	keepalive time 3;
	ipv4 { import all; export none; };
}
CONF
for who in srv rtr; do
	ns=$NS_SRV
	[ $who = rtr ] && ns=$NS_CLI
	ip netns exec "$ns" bird -f -c "$DPN_TMP/bird-$who.conf" \
		-s "$DPN_TMP/bird-$who.ctl" -P "$DPN_TMP/bird-$who.pid" \
		>"$DPN_TMP/bird-$who.out" 2>&1 &
	DPN_PEER_PIDS+=($!)
done
ip netns exec "$NS_SRV" sh "$DPN_ROOT/scripts/dpntp-bird-anycast" \
	-s "$BIRD_SRV_SOCK" -r $RISE -f $FALL -i $INTERVAL -- \
	sh "$DPN_ROOT/scripts/dpntp-health-check" -s "$SOCK" -t $CHECK_TMO \
	-c "$DPNTPC" "$SRV4" 2>"$DPN_TMP/anycast.log" &
DPN_PEER_PIDS+=($!)

announced() {
	ip -n "$NS_CLI" route show "$ANY/32" | grep -q "via $SRV4 dev br0 proto bird"
}
withdrawn() { ! announced; }
# wait_for WHAT SECONDS: prints how long it took; fails after SECONDS.
wait_for() {
	local start=$SECONDS i
	for i in $(seq $(($2 * 2))); do
		if $1; then
			echo "  after $((SECONDS - start)) s"
			return 0
		fi
		sleep 0.5
	done
	echo "  not after $((SECONDS - start)) s"
	sed 's/^/  /' "$DPN_TMP/anycast.log" | tail -5
	return 1
}
bgp_established() {
	birdc -s "$BIRD_RTR_SOCK" show protocols server1 | grep -q Established
}
router_sees_nexthop() {
	birdc -s "$BIRD_RTR_SOCK" show route "$ANY/32" | sed 's/^/  /'
	birdc -s "$BIRD_RTR_SOCK" show route "$ANY/32" | grep -q "via $SRV4 on br0"
}
# The anycast client: ntpdig in the router namespace, stratum 2.
anycast_time() {
	local out
	out=$(dpn_cli timeout 10 ntpdig -t 2 "$ANY" 2>&1)
	echo "  $out"
	echo "$out" | grep -q " s2 "
}
healthy() { "$DPNTPC" -s "$SOCK" health >/dev/null 2>&1; }
unhealthy() { test "$("$DPNTPC" -s "$SOCK" health >/dev/null 2>&1; echo $?)" = 1; }

dpn_check "BGP session established within 30 s" wait_for bgp_established 30
dpn_check "not announced before dpntpd is healthy and rise has passed" \
	withdrawn
dpn_check "dpntpd healthy (synchronized to chronyd) within 60 s" \
	wait_for healthy 60
dpn_check "announced after rise ($RISE x ${INTERVAL} s), within $RISE_BOUND s" \
	wait_for announced $RISE_BOUND
dpn_check "birdc on the router: next hop dpntpd's data-plane address" \
	router_sees_nexthop
dpn_check "a client in the router namespace gets time from $ANY" \
	dpn_best_of3 anycast_time

# --- drain ----------------------------------------------------------------
touch "$DRAIN"
dpn_check "drain file: withdrawn within $FALL_BOUND s" \
	wait_for withdrawn $FALL_BOUND
dpn_check "... no time from $ANY while withdrawn" sh -c \
	"! ip netns exec '$NS_CLI' timeout 5 ntpdig -t 1 $ANY >/dev/null 2>&1"
rm -f "$DRAIN"
dpn_check "drain file gone: announced again within $RISE_BOUND s" \
	wait_for announced $RISE_BOUND

# --- upstream cut -----------------------------------------------------------
kill "$CHRONYD_PID"
wait "$CHRONYD_PID" 2>/dev/null
# chronyd is unreachable after 8 polls of 8 s, then 3 s of holdover.
dpn_check "upstream cut: dpntpd unhealthy within 120 s" wait_for unhealthy 120
dpn_check "... withdrawn within $FALL_BOUND s of that" \
	wait_for withdrawn $FALL_BOUND
start_chronyd
dpn_check "upstream back: healthy within 120 s" wait_for healthy 120
dpn_check "... announced again within $RISE_BOUND s" \
	wait_for announced $RISE_BOUND
dpn_check "a client gets time from $ANY again" dpn_best_of3 anycast_time
dpn_check "every packet received accounted for once" dpn_accounting

# --- dpntpd dies ------------------------------------------------------------
kill -KILL "$DPN_PID"
wait "$DPN_PID" 2>/dev/null
DPN_PID=
dpn_check "dpntpd killed: withdrawn within $FALL_BOUND s" \
	wait_for withdrawn $FALL_BOUND
dpn_check "the BGP session itself stays up (only the route went)" \
	bgp_established
dpn_pass
