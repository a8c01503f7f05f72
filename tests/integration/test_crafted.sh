#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Crafted packets (scapy, crafted.py) from the client namespace: NTP v1-v4
# client requests, symmetric active (w32time), requests with a MAC or an
# extension field get a correct 48-byte reply with every field a client
# relies on; short, bad-version, bad-mode, zero-transmit, fragmented,
# bad-checksum, bad-length, wrong-port and not-local packets get no reply
# and bump exactly their own drop counter. dpntpd keeps serving after it.
#
# IPv4 fragments never reach dpntpd through net_af_packet (its fanout
# group asks the kernel to reassemble them), so a second veth pair is
# served through net_pcap as port 1, where fragments arrive as they are.
. "$(dirname "$0")/lib.sh"

VETH_SRV2=${VETH_SRV}p
VETH_CLI2=${VETH_CLI}p
SRV4B=198.18.1.1
CLI4B=198.18.1.2

dpn_setup || exit 1
ip link add "$VETH_SRV2" netns "$NS_SRV" type veth \
	peer name "$VETH_CLI2" netns "$NS_CLI" || exit 1
# IPv4 only there: no MLD or router solicitations to count as drops.
ip netns exec "$NS_SRV" sysctl -qw "net.ipv6.conf.$VETH_SRV2.disable_ipv6=1"
ip netns exec "$NS_CLI" sysctl -qw "net.ipv6.conf.$VETH_CLI2.disable_ipv6=1"
ip -n "$NS_SRV" link set "$VETH_SRV2" up
ip -n "$NS_CLI" link set "$VETH_CLI2" up
ip -n "$NS_CLI" addr add "$CLI4B/24" dev "$VETH_CLI2"
ip netns exec "$NS_CLI" ethtool -K "$VETH_CLI2" tx off >/dev/null
ip netns exec "$NS_SRV" ethtool -K "$VETH_SRV2" tx off >/dev/null
dpn_default_conf
echo "listen port 1 address $SRV4B/24" >>"$CONF"
dpn_start --vdev "net_pcap0,iface=$VETH_SRV2" || exit 1

# Resolve the server's MACs the way a client does (ARP and NDP).
dpn_check "ping answered" dpn_cli ping -c 1 -W 2 $SRV4
dpn_check "ping6 answered" dpn_cli ping -6 -c 1 -W 2 $SRV6
dpn_check "ping answered on the net_pcap port" dpn_cli ping -c 1 -W 2 $SRV4B
mac=$(dpn_neigh_mac $SRV4 "$VETH_CLI")
mac2=$(dpn_neigh_mac $SRV4B "$VETH_CLI2")
dpn_check "server MACs resolved ($mac, $mac2)" test -n "$mac" -a -n "$mac2"

dpn_crafted 39 --iface "$VETH_CLI" \
	--srv-mac "${mac:-00:00:00:00:00:00}" --srv4 $SRV4 --cli4 $CLI4 \
	--srv6 $SRV6 --cli6 $CLI6 \
	--frag-iface "$VETH_CLI2" --frag-mac "${mac2:-00:00:00:00:00:00}" \
	--frag-srv4 $SRV4B --frag-cli4 $CLI4B

dpn_check "ntpdig still gets the time afterwards (IPv4)" dpn_ntpdig_s1 $SRV4
dpn_check "ntpdig still gets the time afterwards (IPv6)" dpn_ntpdig_s1 $SRV6
dpn_check "dpntpd still running" dpn_alive
dpn_pass
