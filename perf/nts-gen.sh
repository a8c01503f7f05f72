#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NTS requests per second without loss: dpntp-gen (--nts) offers rising
# rates of NTS requests (RFC 8915: a cookie, a unique identifier, an
# authenticator) to dpntpd, then to chronyd 4.3 as an NTS server, on the
# same veth, certificate and CPUs. Each server's NTS-KE gives the
# generator its keys and cookies first (dpntp-kebench --dump).
#
#   perf/nts-gen.sh [--rates R1,R2,...] [--duration S]
#
# dpntpd: NTP on its DPDK port (af_packet), NTS-KE on a kernel veth.
# chronyd: the kernel on the same veth end once dpntpd has left it.
# On a 2-vCPU machine the generator (busy polling, CPU 0) and the server
# share the CPUs. Run as root after scripts/build.sh.
set -u
rates=10000,20000,50000,100000,200000,400000 duration=2
while [ $# -gt 0 ]; do
	case $1 in
	--rates) rates=$2; shift ;;
	--duration) duration=$2; shift ;;
	-h|--help) sed -n '3,15p' "$0"; exit 0 ;;
	*) echo "nts-gen.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
DPN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$DPN_ROOT/tests/integration/lib.sh"
DPN_TEST=nts-gen
GEN=$DPN_BUILD/perf/dpntp-gen
KEBENCH=$DPN_BUILD/perf/dpntp-kebench
KE4=198.18.1.1 GEN4=198.18.0.3

dpn_nts_cert $KE4 $SRV4 || exit 1
dpn_setup || exit 1
dpn_ke_veth $KE4 || exit 1

# gen SERVER_NAME KEYS_FILE: the generator on the client's veth end.
gen() {
	echo "$1, NTS, rates $rates, $duration s each:"
	ip netns exec "$NS_CLI" "$GEN" --no-huge -m 512 --no-pci \
		--file-prefix "dpng$DPN_TAG" -l 0 \
		--vdev "net_af_packet1,iface=$VETH_CLI" -- --server $SRV4 \
		--local $GEN4 --rates "$rates" --duration "$duration" --nts "$2"
	rm -rf "/var/run/dpdk/dpng$DPN_TAG"
}

cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock system stratum 1 refid GPS
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
ntsbind $KE4
CONF
dpn_start || exit 1
dpn_wait_log "NTS-KE on" 5 || exit 1
dpn_cli "$KEBENCH" --dump "$DPN_TMP/dpntpd.nts" $KE4 4460 "$DPN_TMP/cert.pem" || exit 1
gen dpntpd "$DPN_TMP/dpntpd.nts"
echo "dpntpd: $(dpnc show stats | awk '$1 ~ /^ntp_nts_(replies|nak|malformed)$/ { printf "%s %s ", $1, $2 }')"
kill -TERM "$DPN_PID"
wait "$DPN_PID" 2>/dev/null
DPN_PID=

# chronyd on the same veth end, through the kernel.
ip -n "$NS_SRV" addr add "$SRV4/24" dev "$VETH_SRV"
ip -n "$NS_SRV" route add 198.19.0.0/16 via $GEN4
cat >"$DPN_TMP/chrony.conf" <<CONF
local stratum 1
allow
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
pidfile $DPN_TMP/chronyd.pid
cmdport 0
CONF
ip netns exec "$NS_SRV" chronyd -u root -4 -d -x -f "$DPN_TMP/chrony.conf" \
	>"$DPN_TMP/chronyd.log" 2>&1 &
DPN_PEER_PIDS+=($!)
sleep 1
dpn_cli "$KEBENCH" --dump "$DPN_TMP/chronyd.nts" $SRV4 4460 "$DPN_TMP/cert.pem" ||
	{ cat "$DPN_TMP/chronyd.log"; exit 1; }
gen "chronyd $(chronyd --version | awk '{ print $4; exit }')" "$DPN_TMP/chronyd.nts"
