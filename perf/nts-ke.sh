#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NTS-KE sessions per second on dpntpd's NTS-KE thread (lib/ntske): a
# full TLS 1.3 handshake (P-256 certificate, no session resumption),
# the request, 8 cookies, the close, per session. dpntpd runs in a
# namespace with NTS-KE on a kernel veth; dpntp-kebench connects from
# the other end. The same for chronyd 4.3 as an NTS server, for
# comparison, on the same veth and certificate.
#
#   perf/nts-ke.sh [--seconds N] [--threads N]
#
# On a 2-vCPU machine the client, dpntpd's worker (busy polling) and the
# server thread share the CPUs: the figure is a floor, not the server's
# capacity. Run as root after scripts/build.sh.
set -u
seconds=10 threads=2
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift ;;
	--threads) threads=$2; shift ;;
	-h|--help) sed -n '3,15p' "$0"; exit 0 ;;
	*) echo "nts-ke.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
DPN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$DPN_ROOT/tests/integration/lib.sh"
DPN_TEST=nts-ke
KEBENCH=$DPN_BUILD/perf/dpntp-kebench
KE4=198.18.1.1 CS4=198.18.1.3

dpn_nts_cert $KE4 $CS4 || exit 1
dpn_setup || exit 1
dpn_ke_veth $KE4 $CS4 || exit 1

cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock system stratum 1 refid GPS
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
ntsntpserver $SRV4
ntsbind $KE4
CONF
dpn_start || exit 1
dpn_wait_log "NTS-KE on" 5 || exit 1
echo "dpntpd NTS-KE ($threads client threads, $seconds s):"
dpn_cli "$KEBENCH" $KE4 4460 "$DPN_TMP/cert.pem" "$seconds" "$threads"
kill -TERM "$DPN_PID"
wait "$DPN_PID" 2>/dev/null
DPN_PID=

cat >"$DPN_TMP/chrony.conf" <<CONF
local stratum 1
allow
bindaddress $CS4
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
pidfile $DPN_TMP/chronyd.pid
cmdport 0
CONF
ip netns exec "$NS_SRV" chronyd -u root -4 -d -x -f "$DPN_TMP/chrony.conf" \
	>"$DPN_TMP/chronyd.log" 2>&1 &
DPN_PEER_PIDS+=($!)
sleep 1
echo "chronyd 4.3 NTS-KE, default ntsprocesses ($threads client threads, $seconds s):"
dpn_cli "$KEBENCH" $CS4 4460 "$DPN_TMP/cert.pem" "$seconds" "$threads" || cat "$DPN_TMP/chronyd.log"
