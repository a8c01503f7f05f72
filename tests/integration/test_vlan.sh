#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# An address served on 802.1Q VLAN 5 only (listen ... vlan 5): ARP and
# NTP requests tagged 5 are answered tagged 5 (crafted.py --vlan); the
# address untagged or on VLAN 6, and the untagged address on VLAN 5, get
# no reply (drop_not_local). Where the kernel can make a VLAN interface,
# ntpdig through it gets the time too.
. "$(dirname "$0")/lib.sh"

SRV5=198.18.5.1
CLI5=198.18.5.2
VLAN_CLI=v5$DPN_TAG

dpn_setup || exit 1
dpn_default_conf
echo "listen port 0 address $SRV5/24 vlan 5" >>"$CONF"
dpn_start || exit 1

dpn_check "ping answered" dpn_cli ping -c 1 -W 2 $SRV4
mac=$(dpn_neigh_mac $SRV4 "$VETH_CLI")
dpn_check "server MAC resolved ($mac)" test -n "$mac"

dpn_crafted 8 --iface "$VETH_CLI" \
	--srv-mac "${mac:-00:00:00:00:00:00}" --srv4 $SRV4 --cli4 $CLI4 \
	--srv6 $SRV6 --cli6 $CLI6 \
	--vlan 5 --vlan-srv4 $SRV5 --vlan-cli4 $CLI5

# A real client on a VLAN interface, where the kernel has 802.1Q.
if dpn_cli ip link add link "$VETH_CLI" name "$VLAN_CLI" type vlan id 5 \
	2>/dev/null; then
	# No IPv6 there: its MLD reports would only add noise.
	dpn_cli sysctl -qw "net.ipv6.conf.$VLAN_CLI.disable_ipv6=1"
	dpn_cli ip addr add "$CLI5/24" dev "$VLAN_CLI"
	dpn_cli ip link set "$VLAN_CLI" up
	dpn_check "ntpdig over a VLAN 5 interface gets the time" \
		dpn_ntpdig_s1 $SRV5
else
	dpn_log "no 802.1Q in this kernel: ntpdig over a VLAN interface skipped"
fi
dpn_check "ntpdig untagged still gets the time" dpn_ntpdig_s1 $SRV4
dpn_check "dpntpd still running" dpn_alive
dpn_pass
