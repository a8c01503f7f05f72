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
mac=$(dpn_cli ip neigh show $SRV4 dev "$VETH_CLI" |
	awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
dpn_check "server MAC resolved ($mac)" test -n "$mac"

out=$DPN_TMP/crafted.out
dpn_cli timeout 60 $PY "$(dirname "$0")/crafted.py" --iface "$VETH_CLI" \
	--srv-mac "${mac:-00:00:00:00:00:00}" --srv4 $SRV4 --cli4 $CLI4 \
	--srv6 $SRV6 --cli6 $CLI6 --dpntpc "$DPNTPC" --sock "$SOCK" \
	--vlan 5 --vlan-srv4 $SRV5 --vlan-cli4 $CLI5 >"$out" 2>&1
rc=$?
sed 's/^/  /' "$out"
while read -r tag st what; do
	[ "$tag" = RESULT ] || continue
	dpn_check "$what" test "$st" = ok
done <"$out"
dpn_check "crafted.py --vlan ran every case (exit $rc)" test $rc -eq 0
dpn_check "crafted.py --vlan reported all its cases" \
	test "$(grep -c '^RESULT ' "$out")" -eq 8

ntpdig_ok() {
	local out
	out=$(dpn_cli timeout 10 ntpdig -t 2 "$1" 2>&1) || { echo "$out"; return 1; }
	echo "  $out"
	echo "$out" | grep -q " s1 "
}

# A real client on a VLAN interface, where the kernel has 802.1Q.
if dpn_cli ip link add link "$VETH_CLI" name "$VLAN_CLI" type vlan id 5 \
	2>/dev/null; then
	# No IPv6 there: its MLD reports would only add noise.
	dpn_cli sysctl -qw "net.ipv6.conf.$VLAN_CLI.disable_ipv6=1"
	dpn_cli ip addr add "$CLI5/24" dev "$VLAN_CLI"
	dpn_cli ip link set "$VLAN_CLI" up
	dpn_check "ntpdig over a VLAN 5 interface gets the time" \
		ntpdig_ok $SRV5
else
	dpn_log "no 802.1Q in this kernel: ntpdig over a VLAN interface skipped"
fi
dpn_check "ntpdig untagged still gets the time" ntpdig_ok $SRV4
dpn_check "dpntpd still running" dpn_alive
dpn_pass
