#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NTS at the served address itself: clients name 198.18.0.1 (or
# 2001:db8::1) for both
# NTS-KE and NTP. TCP to port 4460 of the DPDK port's address goes to the
# kernel through the exception path (`exceptionif`, a TUN interface
# dpntpd owns), NTS-KE answers from dpntpd's own thread, the kernel's
# packets leave by the DPDK port with dpntpd's neighbour table. chronyd
# 4.3 syncs over NTS within 1 ms; the exception path's counters move.
. "$(dirname "$0")/lib.sh"

TUN=dpx$DPN_TAG
dpn_nts_cert $SRV4 $SRV6 || { dpn_log "openssl could not make a certificate"; exit 1; }

dpn_check "exceptionif without ntsservercert refused" \
	dpn_refused_with "exceptionif dpx0\n" \
	"bad.conf:1: exceptionif without ntsservercert"

dpn_setup || exit 1
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
listen port 0 address $SRV6/64
refclock system stratum 1 refid GPS
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
exceptionif $TUN
CONF
dpn_start || exit 1
# The operator's part: the served address on the interface, and the
# answers to clients routed through it.
tun_up() {
	local _
	for _ in $(seq 50); do
		ip -n "$NS_SRV" link show "$TUN" 2>/dev/null | grep -q "UP" && break
		sleep 0.1
	done
	# IPv6 is off on the namespace's other interfaces, not on this one
	# (a new interface takes the default).
	ip netns exec "$NS_SRV" sysctl -qw "net.ipv6.conf.$TUN.disable_ipv6=0"
	ip -n "$NS_SRV" addr add "$SRV4/32" dev "$TUN" &&
		ip -n "$NS_SRV" addr add "$SRV6/128" dev "$TUN" nodad &&
		ip -n "$NS_SRV" route add 198.18.0.0/24 dev "$TUN" &&
		ip -n "$NS_SRV" -6 route add 2001:db8::/64 dev "$TUN" &&
		ip -n "$NS_SRV" link show "$TUN" | sed 's/^/  /'
}
dpn_check "exception interface up, addressed and routed" tun_up

chronyd_nts() {
	local out off
	out=$(dpn_chronyd_nts "$1")
	echo "$out" | sed 's/^/  /'
	off=$(echo "$out" | dpn_chronyd_offset)
	[ -n "$off" ] && dpn_abs_lt "$off" 0.001
}
dpn_check "chronyd -Q 'server $SRV4 nts': NTS-KE and NTP at one address, < 1 ms" \
	dpn_best_of3 chronyd_nts $SRV4
dpn_check "... and over IPv6, 'server $SRV6 nts'" \
	dpn_best_of3 chronyd_nts $SRV6
ke_ok() {
	local out
	out=$(dpnc show nts)
	echo "$out" | sed -n 2p | sed 's/^/  /'
	echo "$out" | grep -q "served [1-9]"
}
dpn_check "NTS-KE served a client (show nts)" ke_ok
dpn_check "TCP handed to the kernel and its answers sent (kernel_rx, kernel_tx)" \
	test "$(dpn_counter kernel_rx)" -ge 5 -a "$(dpn_counter kernel_tx)" -ge 5
dpn_check "NTS replies on the data plane" test "$(dpn_counter ntp_nts_replies)" -ge 1

# NTS-KE bound to the served address itself, which exists only once the
# operator has put it on the interface dpntpd makes at start.
kill -TERM "$DPN_PID"
wait "$DPN_PID" 2>/dev/null
echo "ntsbind $SRV4" >>"$CONF"
mv "$LOG" "$LOG.1"
dpn_check "ntsbind to the served address starts (before the address exists)" \
	dpn_start
dpn_check "... interface addressed and routed again" tun_up
dpn_check "... and serves NTS-KE there" dpn_best_of3 chronyd_nts $SRV4
dpn_check "dpntpd still running" dpn_alive
dpn_pass
