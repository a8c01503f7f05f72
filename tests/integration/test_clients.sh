#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Real clients get the time from dpntpd over the DPDK dataplane:
# ntpdig (ntpsec), ntpdate -q and chronyd -Q, over IPv4 and IPv6, with
# offsets from the host clock under 1 ms; ping and ARP/NDP work.
. "$(dirname "$0")/lib.sh"

dpn_setup || exit 1
dpn_start || exit 1

# ntpdig prints: DATE TIME (+0000) OFFSET +/- ERR HOST sN no-leap
ntpdig_ok() {
	local out off
	out=$(dpn_cli timeout 10 ntpdig -t 2 "$1" 2>&1) || { echo "$out"; return 1; }
	echo "  $out"
	off=$(echo "$out" | awk '{ print $4 }')
	echo "$out" | grep -q " s1 " || return 1
	dpn_abs_lt "$off" 0.001
}
dpn_check "ntpdig over IPv4, stratum 1, offset < 1 ms" \
	dpn_best_of3 ntpdig_ok $SRV4
dpn_check "ntpdig over IPv6, stratum 1, offset < 1 ms" \
	dpn_best_of3 ntpdig_ok $SRV6

ntpdate_ok() {
	local out off
	out=$(dpn_cli timeout 10 ntpdate -q "$1" 2>&1) || { echo "$out"; return 1; }
	echo "  $out"
	off=$(echo "$out" | awk '{ print $4 }')
	dpn_abs_lt "$off" 0.001
}
dpn_check "ntpdate -q over IPv4, offset < 1 ms" ntpdate_ok $SRV4

chrony_ok() {
	local out off
	# -x: never touch the host clock; -Q: query once and exit.
	out=$(dpn_cli timeout 20 chronyd -x -Q -t 15 "server $1 iburst" 2>&1)
	echo "$out" | sed 's/^/  /'
	off=$(echo "$out" | sed -n 's/.*System clock wrong by \([-+0-9.]*\) seconds.*/\1/p')
	[ -n "$off" ] && dpn_abs_lt "$off" 0.001
}
dpn_check "chronyd -Q over IPv4, offset < 1 ms" chrony_ok $SRV4
dpn_check "chronyd -Q over IPv6, offset < 1 ms" chrony_ok $SRV6

dpn_check "ping answered" dpn_cli ping -c 3 -i 0.2 -W 2 $SRV4
dpn_check "ping6 answered" dpn_cli ping -6 -c 3 -i 0.2 -W 2 $SRV6

mac=$(dpnc show port info 0 | awk '$1 == "mac" { print tolower($2) }')
neigh_ok() {
	local out
	out=$(dpn_cli ip neigh show "$1" dev "$VETH_CLI")
	echo "  $out"
	echo "$out" | grep -q "lladdr $mac"
}
dpn_check "ARP resolves $SRV4 to the port's MAC $mac" neigh_ok $SRV4
dpn_check "NDP resolves $SRV6 to the port's MAC $mac" neigh_ok $SRV6
dpn_check "arp_replies counted" test "$(dpn_counter arp_replies)" -ge 1
dpn_check "ndp_adverts counted" test "$(dpn_counter ndp_adverts)" -ge 1
dpn_check "server replies counted" test "$(dpn_counter ntp_server_replies)" -ge 5
dpn_check "dpntpd still running" dpn_alive
dpn_pass
