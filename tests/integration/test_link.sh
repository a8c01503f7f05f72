#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Link loss (issue 15's fault suite): the port's link goes down and
# comes back up. dpntpd keeps running, counts and logs both events,
# forgets its neighbours when the link goes down, answers nothing while
# it is down and answers again once it is up; the client's MAC, changed
# while the link was down, is learnt anew.
#
# The port is a TAP (net_tap), bridged in the server namespace to the
# veth that leads to the client (the TAP's kernel side with a MAC of its
# own, or the bridge would keep the frames to the port's): net_af_packet and net_pcap report their
# link up whatever the interface does (their link_update does nothing in
# DPDK 22.11), net_tap reads the TAP's flags, as a NIC's PMD reads its
# PHY.
. "$(dirname "$0")/lib.sh"

NEW_MAC=02:00:00:00:15:01
TAP=dpk$DPN_TAG
DPN_VDEV="net_tap0,iface=$TAP"

dpn_setup || exit 1
dpn_start || exit 1
dpn_tap_bridge 02:00:00:00:15:fe || exit 1

neigh_mac() {
	dpnc show neighbors | awk -v a="$1" '$2 == a { print $4 }'
}
counter_is() { test "$(dpn_counter "$1")" = "$2"; }
# Wait up to 5 s for counter NAME to read VALUE (links are polled every
# 100 ms).
wait_counter() {
	local _
	for _ in $(seq 50); do
		counter_is "$1" "$2" && return 0
		sleep 0.1
	done
	echo "  $1 = $(dpn_counter "$1"), want $2"
	return 1
}
no_answer() { ! dpn_cli timeout 5 ntpdig -t 1 $SRV4 >/dev/null 2>&1; }
resolves_to() {
	dpnc neigh resolve "$1" >/dev/null 2>&1
	echo "  $1 is at $(neigh_mac "$1"), want $2"
	test "$(neigh_mac "$1")" = "$2"
}

old_mac=$(dpn_cli cat "/sys/class/net/$VETH_CLI/address")
dpn_check "ntpdig gets the time" dpn_best_of3 dpn_ntpdig_s1 $SRV4
dpn_check "the client is a neighbour at $old_mac" resolves_to $CLI4 "$old_mac"
dpn_check "no link event yet" counter_is link_down 0

ip -n "$NS_SRV" link set "$TAP" down
dpn_check "link down counted" wait_counter link_down 1
dpn_check "link down logged" dpn_wait_log "port 0 (net_tap0): link down" 5
dpn_check "its neighbours forgotten" test -z "$(neigh_mac $CLI4)"
dpn_check "no answer while the link is down" no_answer
dpn_check "dpntpd still running with the link down" dpn_alive

# What is behind the link changes meanwhile.
ip -n "$NS_CLI" link set "$VETH_CLI" address $NEW_MAC
ip -n "$NS_SRV" link set "$TAP" up
dpn_check "link up counted" wait_counter link_up 1
dpn_check "link up logged" dpn_wait_log "port 0 (net_tap0): link up" 5
dpn_check "ntpdig gets the time again" dpn_best_of3 dpn_ntpdig_s1 $SRV4
dpn_check "the client learnt anew at $NEW_MAC" resolves_to $CLI4 $NEW_MAC
dpn_check "ping answered" dpn_cli ping -c 1 -W 2 $SRV4
dpn_check "dpntpd still running" dpn_alive
dpn_pass
