#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NTS across a fleet and with NTPsec. dpntpd and chronyd 4.3 share one
# ntskeys file (chrony's format, in each one's ntsdumpdir), so each
# accepts the other's cookies: a client that got its cookies from
# chronyd's NTS-KE is served by dpntpd's data plane, and one that got
# them from dpntpd's NTS-KE is served by chronyd. NTPsec's ntpd as an
# NTS client authenticates against dpntpd.
. "$(dirname "$0")/lib.sh"

KE4=198.18.1.1		# dpntpd's NTS-KE (kernel, ntsbind)
CS4=198.18.1.3		# chronyd's NTS-KE and NTP (kernel)

dpn_nts_cert $KE4 $CS4 || { dpn_log "openssl could not make a certificate"; exit 1; }
mkdir -p "$DPN_TMP/dpntp" "$DPN_TMP/chrony"

dpn_setup || exit 1
dpn_ke_veth $KE4 $CS4 || exit 1

# chronyd: NTS server on $CS4, its NTP server there too; its NTS-KE
# sends clients to dpntpd's DPDK address. It writes its ntskeys.
cat >"$DPN_TMP/chrony-srv.conf" <<CONF
local stratum 1
allow
bindaddress $CS4
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
ntsdumpdir $DPN_TMP/chrony
ntsntpserver $SRV4
pidfile $DPN_TMP/chronyd-srv.pid
cmdport 0
CONF
ip netns exec "$NS_SRV" chronyd -u root -4 -d -x -f "$DPN_TMP/chrony-srv.conf" \
	>"$DPN_TMP/chronyd-srv.log" 2>&1 &
CHRONY_SRV=$!
DPN_PEER_PIDS+=($CHRONY_SRV)
chrony_keys() {
	local _
	for _ in $(seq 50); do
		[ -s "$DPN_TMP/chrony/ntskeys" ] && return 0
		sleep 0.1
	done
	cat "$DPN_TMP/chronyd-srv.log"
	return 1
}
dpn_check "chronyd wrote its ntskeys" chrony_keys
dpn_check "chronyd 4.3's ntskeys is NKS0 with 4 keys" \
	test "$(head -1 "$DPN_TMP/chrony/ntskeys")" = NKS0 -a \
	"$(wc -l <"$DPN_TMP/chrony/ntskeys")" -eq 6
cp "$DPN_TMP/chrony/ntskeys" "$DPN_TMP/dpntp/ntskeys"

write_conf() {
	cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock system stratum 1 refid GPS
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
ntsdumpdir $DPN_TMP/dpntp
ntsntpserver $1
ntsbind $KE4
CONF
}
write_conf $SRV4
dpn_start || exit 1
dpn_check "dpntpd read chrony's keys" \
	dpn_wait_log "server keys read from $DPN_TMP/dpntp/ntskeys" 5

# synced_via KE NTP: chronyd -Q, NTS-KE at KE, synced from NTP.
synced_via() {
	local out off
	out=$(dpn_chronyd_nts "$1")
	echo "$out" | sed 's/^/  /'
	off=$(echo "$out" | dpn_chronyd_offset)
	echo "$out" | grep -q "changed to $2" && [ -n "$off" ] &&
		dpn_abs_lt "$off" 0.001
}

n_rep=$(dpn_counter ntp_nts_replies)
dpn_check "cookies from chronyd's NTS-KE served by dpntpd (within 1 ms)" \
	dpn_best_of3 synced_via $CS4 $SRV4
dpn_check "... as NTS replies, with no NAK" \
	test "$(dpn_counter ntp_nts_replies)" -gt "$n_rep" -a \
	"$(dpn_counter ntp_nts_nak)" -eq 0

# dpntpd's NTS-KE now sends clients to chronyd's NTP server.
kill -TERM "$DPN_PID"
wait "$DPN_PID" 2>/dev/null
write_conf $CS4
mv "$LOG" "$LOG.1"
dpn_start || exit 1
dpn_check "cookies from dpntpd's NTS-KE served by chronyd (within 1 ms)" \
	dpn_best_of3 synced_via $KE4 $CS4
dpn_check "dpntpd kept the shared keys (its ntskeys still chrony's)" \
	cmp -s <(tail -4 "$DPN_TMP/chrony/ntskeys") <(tail -4 "$DPN_TMP/dpntp/ntskeys")
kill "$CHRONY_SRV" 2>/dev/null

# NTPsec's ntpd as an NTS client of dpntpd (NTP at its DPDK address).
kill -TERM "$DPN_PID"
wait "$DPN_PID" 2>/dev/null
write_conf $SRV4
mv "$LOG" "$LOG.2"
dpn_start || exit 1
if dpn_fetch_ntpsec; then
	cat >"$DPN_TMP/ntp.conf" <<CONF
server $KE4 nts ca $DPN_TMP/cert.pem iburst minpoll 4
disable kernel
driftfile $DPN_TMP/ntpd.drift
unrestrict default noquery limited
CONF
	n_rep=$(dpn_counter ntp_nts_replies)
	ip netns exec "$NS_CLI" setpriv --bounding-set=-sys_time "$NTPSEC_NTPD" -n \
		-c "$DPN_TMP/ntp.conf" -p "$DPN_TMP/ntpd.pid" \
		-l "$DPN_TMP/ntpd.log" >"$DPN_TMP/ntpd.out" 2>&1 &
	DPN_PEER_PIDS+=($!)
	NTPQ=$(dirname "$NTPSEC_NTPD")/../bin/ntpq
	ntpsec_ok() {
		local _ out
		for _ in $(seq 30); do
			out=$(dpn_cli timeout 5 "$NTPQ" -n -p 127.0.0.1 2>&1)
			if [ "$(dpn_counter ntp_nts_replies)" -ge $((n_rep + 2)) ] &&
			   echo "$out" | awk -v a="$SRV4" '$1 ~ a && $7 != 0 { f = 1 } END { exit !f }'; then
				echo "$out" | sed 's/^/  /'
				return 0
			fi
			sleep 1
		done
		echo "$out" | sed 's/^/  /'
		grep -i "nts" "$DPN_TMP/ntpd.log" | tail -5
		return 1
	}
	dpn_check "NTPsec ntpd: NTS-KE with dpntpd, NTS replies, peer reachable" \
		ntpsec_ok
	dpn_check "NTPsec ntpd: no NTS NAK" test "$(dpn_counter ntp_nts_nak)" -eq 0
else
	dpn_check "NTPsec's ntpd fetched (apt-get download ntpsec)" false
fi

dpn_check "dpntpd still running" dpn_alive
dpn_pass
