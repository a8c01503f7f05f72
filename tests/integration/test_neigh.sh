#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The neighbour tables: dpntpd learns the client's MAC from its ARP
# requests and neighbour solicitations (show neighbors), and resolves
# next hops itself (neigh resolve): a known neighbour is reconfirmed
# with a unicast probe, an off-link address goes through the listen
# line's gateway (a second address of the client namespace, unknown to
# dpntpd until then: broadcast ARP, multicast solicitation), an address
# nobody has ends FAILED after 3 probes; a neighbour on a VLAN is
# resolved with tagged frames.
# shellcheck disable=SC2317  # the check functions run through dpn_check
. "$(dirname "$0")/lib.sh"

GW4=198.18.0.3
GW6=2001:db8::3
NOBODY4=198.18.0.77
NOBODY6=2001:db8::77
FAR4=198.18.99.5
FAR6=2001:db8:99::5
SRV7=198.18.7.1
CLI7=198.18.7.2

# Helpers started in the background go too, also on failure.
dump_pid=
resp_pid=
neigh_cleanup() {
	[ -n "$dump_pid" ] && kill "$dump_pid" 2>/dev/null
	[ -n "$resp_pid" ] && kill "$resp_pid" 2>/dev/null
	dpn_cleanup
}
trap neigh_cleanup EXIT

dpn_setup || exit 1
dpn_cli ip addr add "$GW4/24" dev "$VETH_CLI"
dpn_cli ip addr add "$GW6/64" dev "$VETH_CLI" nodad
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24 gateway $GW4
listen port 0 address $SRV6/64 gateway $GW6
listen port 0 address $SRV7/24 vlan 7
refclock system stratum 1 refid GPS
CONF
dpn_start || exit 1

cli_mac=$(dpn_cli cat "/sys/class/net/$VETH_CLI/address")
dpn_log "client MAC $cli_mac"

indent() { printf '%s\n' "$1" | sed 's/^/  /'; }

# The table's line for ADDR: port address vlan mac state age probes.
neigh_line() { dpnc show neighbors | awk -v a="$1" '$2 == a'; }
neigh_state() { neigh_line "$1" | awk '{ print $5 }'; }
neigh_mac() { neigh_line "$1" | awk '{ print $4 }'; }

# ADDR is in the table with the client's MAC (state as given, if any).
has_client_mac() {
	local line
	line=$(neigh_line "$1")
	echo "  ${line:-(no entry for $1)}"
	[ "$(neigh_mac "$1")" = "$cli_mac" ] &&
		{ [ -z "${2:-}" ] || [ "$(neigh_state "$1")" = "$2" ]; }
}

dpn_check "show config keeps the gateway" \
	sh -c "'$DPNTPC' -s '$SOCK' show config | grep -q 'address $SRV4/24 gateway $GW4'"
dpn_check "show port info shows prefix and gateway" \
	sh -c "'$DPNTPC' -s '$SOCK' show port info 0 | grep -q '$SRV6/64 gateway $GW6'"
dpn_check "show neighbors is empty before any traffic" \
	test "$(dpnc show neighbors | wc -l)" -eq 1

# Learning: the client's ARP request and neighbour solicitation.
dpn_check "ping answered" dpn_cli ping -I "$CLI4" -c 1 -W 2 "$SRV4"
dpn_check "ping -6 answered" dpn_cli ping -6 -I "$CLI6" -c 1 -W 2 "$SRV6"
# Best of three: just started, dpntpd may not be synchronized yet.
dpn_check "ntpdig gets the time" dpn_best_of3 dpn_ntpdig_s1 "$SRV4"
dpn_check "learnt $CLI4 from its ARP request" has_client_mac "$CLI4"
dpn_check "learnt $CLI6 from its solicitation" has_client_mac "$CLI6"
dpn_check "show neigh is an alias" \
	sh -c "'$DPNTPC' -s '$SOCK' show neigh | grep -q '$CLI4'"

# Resolving a known neighbour: reconfirmed, REACHABLE.
resolves_to_client() {
	local out rc
	out=$(dpnc neigh resolve "$1" 2>&1)
	rc=$?
	indent "$out"
	[ "$rc" -eq 0 ] && echo "$out" | grep -q "$2" &&
		has_client_mac "$3" REACHABLE
}
dpn_check "neigh resolve $CLI4: on link, REACHABLE" \
	resolves_to_client "$CLI4" "on link, next hop $CLI4" "$CLI4"
dpn_check "neigh resolve $CLI6: on link, REACHABLE" \
	resolves_to_client "$CLI6" "on link, next hop $CLI6" "$CLI6"

# Off link: through the gateway, which dpntpd has not heard of yet.
dpn_check "$GW4 unknown before" test -z "$(neigh_line "$GW4")"
dpn_check "neigh resolve $FAR4: via gateway $GW4, REACHABLE" \
	resolves_to_client "$FAR4" "via gateway $GW4" "$GW4"
dpn_check "neigh resolve $FAR6: via gateway $GW6, REACHABLE" \
	resolves_to_client "$FAR6" "via gateway $GW6" "$GW6"

# Nobody there: 3 probes, FAILED, and an error for the operator.
fails() {
	local out rc start=$SECONDS took
	out=$(dpnc neigh resolve "$1" 2>&1)
	rc=$?
	took=$((SECONDS - start))
	indent "$out"
	echo "  $(neigh_line "$1")"
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "FAILED" &&
		[ "$(neigh_state "$1")" = FAILED ] &&
		[ "$(neigh_line "$1" | awk '{ print $7 }')" = 3 ] &&
		[ "$took" -le 6 ]
}
# What went over the wire meanwhile, seen from the client namespace.
dpn_cli timeout 120 tcpdump -i "$VETH_CLI" -nn -e -l \
	"arp or (icmp6 and ip6[40] == 135)" >"$DPN_TMP/probes.txt" \
	2>"$DPN_TMP/tcpdump.err" &
dump_pid=$!
# It says so once it captures: no probe may go out before.
capturing() {
	local _
	for _ in $(seq 200); do
		grep -q "listening on" "$DPN_TMP/tcpdump.err" && return 0
		sleep 0.1
	done
	cat "$DPN_TMP/tcpdump.err"
	return 1
}
dpn_check "tcpdump captures on the client veth" capturing
dpn_check "neigh resolve $NOBODY4: FAILED after 3 probes" fails "$NOBODY4"
dpn_check "neigh resolve $NOBODY6: FAILED after 3 probes" fails "$NOBODY6"
failed_again() {
	local out start=$SECONDS
	out=$(dpnc neigh resolve "$NOBODY4" 2>&1) && return 1
	indent "$out"
	echo "$out" | grep -q FAILED && [ $((SECONDS - start)) -le 1 ]
}
dpn_check "resolving it again fails at once (no new probes, see below)" \
	failed_again
sleep 1
kill "$dump_pid" 2>/dev/null
wait "$dump_pid" 2>/dev/null
dump_pid=
sed 's/^/  /' "$DPN_TMP/probes.txt"
probes_seen() {
	# COUNT frames matching all of the patterns that follow.
	local want=$1 n
	shift
	n=$(cat "$DPN_TMP/probes.txt")
	for p in "$@"; do
		n=$(grep -F -- "$p" <<<"$n")
	done
	[ "$(grep -c . <<<"$n")" -eq "$want" ]
}
dpn_check "3 broadcast ARP requests for $NOBODY4, no more" \
	probes_seen 3 "ff:ff:ff:ff:ff:ff" "Request who-has $NOBODY4 tell $SRV4"
dpn_check "3 solicitations for $NOBODY6 to its solicited-node group" \
	probes_seen 3 "33:33:ff:00:00:77" "> ff02::1:ff00:77:" \
	"who has $NOBODY6"
refused() {
	local out
	out=$(dpnc neigh resolve "$1" 2>&1)
	echo "  $out"
	echo "$out" | grep -q "$2"
}
dpn_check "neigh resolve of our own address refused" \
	refused "$SRV4" "our own"
dpn_check "probes counted" test "$(dpn_counter neigh_probes)" -ge 10
dpn_check "no frame of the management lcore lost" \
	test "$(dpn_counter mgmt_tx_failed)" -eq 0

# An unsolicited advertisement with the override flag moves a known
# neighbour to a new MAC (failover), but not with a bad checksum.
NEW_MAC=02:00:00:00:06:02
send_na() {
	dpn_cli timeout 20 "$PY" -c '
import sys
from scapy.all import Ether, IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, sendp
iface, ip, mac, cksum = sys.argv[1:5]
na = ICMPv6ND_NA(tgt=ip, R=0, S=0, O=1)
if cksum != "good":
    na.cksum = 0x1234
sendp(Ether(src=mac, dst="33:33:00:00:00:01") /
      IPv6(src=ip, dst="ff02::1", hlim=255) / na /
      ICMPv6NDOptDstLLAddr(lladdr=mac), iface=iface, verbose=False)
' "$VETH_CLI" "$CLI6" "$NEW_MAC" "$1"
}
# A change is waited for (at most 10 s); no change is looked for 0.5 s
# after the advertisement.
na_moves() {
	local _
	send_na "$1" || return 1
	sleep 0.5
	if [ "$2" != "$cli_mac" ]; then
		for _ in $(seq 95); do
			[ "$(neigh_mac "$CLI6")" = "$2" ] && break
			sleep 0.1
		done
	fi
	indent "$(neigh_line "$CLI6")"
	[ "$(neigh_mac "$CLI6")" = "$2" ]
}
dpn_check "an advertisement with a bad checksum changes nothing" \
	na_moves bad "$cli_mac"
dpn_check "an override advertisement moves $CLI6 to $NEW_MAC" \
	na_moves good "$NEW_MAC"
dpn_check "... as STALE: not confirmed yet" \
	test "$(neigh_state "$CLI6")" = STALE

# A neighbour on VLAN 7: a scapy responder in the client namespace
# answers tagged ARP requests for CLI7 with MAC7 (the kernel here may
# have no 802.1Q).
MAC7=02:00:00:00:07:02
VLAN7_RESPONDER='
import sys
from scapy.all import ARP, Dot1Q, Ether, sendp, sniff
iface, ip, mac = sys.argv[1:4]
def answer(p):
    if p.haslayer(Dot1Q) and p[Dot1Q].vlan == 7 and p[ARP].op == 1 \
            and p[ARP].pdst == ip:
        sendp(Ether(src=mac, dst=p[Ether].src) / Dot1Q(vlan=7) /
              ARP(op=2, hwsrc=mac, psrc=ip, hwdst=p[ARP].hwsrc,
                  pdst=p[ARP].psrc), iface=iface, verbose=False)
        print("answered", p[ARP].psrc, flush=True)
        return True
    return False
sniff(iface=iface, lfilter=lambda p: p.haslayer(ARP), stop_filter=answer,
      timeout=30, store=False,
      started_callback=lambda: print("sniffing", flush=True))
'
on_vlan7() {
	local out rc
	dpn_cli timeout 60 "$PY" -c "$VLAN7_RESPONDER" "$VETH_CLI" "$CLI7" \
		"$MAC7" >"$DPN_TMP/resp.out" 2>&1 &
	resp_pid=$!
	# scapy takes a while to start sniffing: wait until it says so.
	for _ in $(seq 300); do
		grep -q "^sniffing" "$DPN_TMP/resp.out" && break
		sleep 0.1
	done
	out=$(dpnc neigh resolve "$CLI7" 2>&1)
	rc=$?
	wait "$resp_pid"
	resp_pid=
	sed 's/^/  /' "$DPN_TMP/resp.out"
	indent "$out"
	[ "$rc" -eq 0 ] && echo "$out" | grep -q "vlan 7" &&
		grep -q "answered $SRV7" "$DPN_TMP/resp.out" &&
		[ "$(neigh_line "$CLI7" | awk '{ print $3, $4, $5 }')" = \
			"7 $MAC7 REACHABLE" ]
}
dpn_check "neigh resolve $CLI7: ARP tagged 7 from $SRV7, REACHABLE" on_vlan7

dpn_check "ntpdig still gets the time" dpn_best_of3 dpn_ntpdig_s1 "$SRV4"
dpn_check "dpntpd still running" dpn_alive
dpn_pass
