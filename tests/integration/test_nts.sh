#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# NTS (RFC 8915) with real clients. NTS-KE runs on dpntpd's own thread
# through the kernel's TCP stack, here on a second veth (198.18.1.1, the
# `ntsbind` address), and sends clients to the DPDK port for NTP with
# an NTPv4 Server Negotiation record (`ntsntpserver 198.18.0.1`). The
# certificate is made by the test (IP SAN) and given to the clients as
# trusted. chronyd -Q syncs within 1 ms; a running chronyd shows NTS
# with cookies in `chronyc authdata`; every reply is as long as its
# request (captured on the client's veth); new server keys (a restart
# without the key file) make chronyd get NTSN and re-key; the key file
# is chrony's, mode 0600; bad NTS lines are refused by file and line.
. "$(dirname "$0")/lib.sh"

KE4=198.18.1.1

dpn_nts_cert $KE4 || { dpn_log "openssl could not make a certificate"; exit 1; }
mkdir -p "$DPN_TMP/nts"

dpn_check "ntsservercert without ntsserverkey refused" \
	dpn_refused_with "ntsservercert $DPN_TMP/cert.pem\n" \
	"bad.conf:1: ntsservercert without ntsserverkey"
dpn_check "ntsbind with a name refused" \
	dpn_refused_with "ntsbind ke.example.test\n" \
	"bad.conf:1: ntsbind: 'ke.example.test' is not an IPv4 or IPv6 address"

dpn_setup || exit 1

# A shared key file that does not read stops the start (new keys would
# have this server refuse the fleet's cookies), and is left as it was.
mkdir -p "$DPN_TMP/badkeys"
printf 'NKS0\n15 1.0\n0000000X 00\n' >"$DPN_TMP/badkeys/ntskeys"
bad_keys_refused() {
	local rc
	printf 'listen port 0 address %s/24\nntsservercert %s\nntsserverkey %s\nntsdumpdir %s\nntsbind 127.0.0.1\n' \
		"$SRV4" "$DPN_TMP/cert.pem" "$DPN_TMP/key.pem" \
		"$DPN_TMP/badkeys" >"$DPN_TMP/badkeys.conf"
	ip netns exec "$NS_SRV" timeout 60 "$DPNTPD" --no-huge -m 512 \
		--file-prefix "dpnt$DPN_TAG" -l 0,1 --no-pci --vdev "$(dpn_vdev)" \
		-- --config "$DPN_TMP/badkeys.conf" --control-socket none \
		>"$DPN_TMP/badkeys.log" 2>&1
	rc=$?
	echo "  $(tail -1 "$DPN_TMP/badkeys.log")"
	[ "$rc" -ne 0 ] && grep -q "badkeys/ntskeys:3:" "$DPN_TMP/badkeys.log"
}
dpn_check "a key file that does not read is refused, not overwritten" \
	bad_keys_refused
dpn_check "... and left as it was" \
	test "$(sed -n 3p "$DPN_TMP/badkeys/ntskeys")" = "0000000X 00"
# The kernel's path to NTS-KE: a second veth, addressed on both ends.
dpn_ke_veth $KE4 || exit 1

cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock system stratum 1 refid GPS
ntsservercert $DPN_TMP/cert.pem
ntsserverkey $DPN_TMP/key.pem
ntsdumpdir $DPN_TMP/nts
ntsntpserver $SRV4
ntsbind $KE4
metrics 127.0.0.1:9123
CONF
dpn_start || exit 1

dpn_check "NTS-KE listening (log)" dpn_wait_log "NTS-KE on $KE4 port 4460" 5
keys_ok() {
	local f=$DPN_TMP/nts/ntskeys
	ls -l "$f" | sed 's/^/  /'
	[ "$(stat -c %a "$f")" = 600 ] && [ "$(head -1 "$f")" = NKS0 ] &&
		[ "$(wc -l <"$f")" -eq 6 ]
}
dpn_check "server keys saved as chrony's ntskeys (NKS0, 0600)" keys_ok

# Capture the client's NTP on the DPDK veth: lengths compared at the end.
ip netns exec "$NS_CLI" timeout 120 tcpdump -i "$VETH_CLI" -n -U -w \
	"$DPN_TMP/ntp.pcap" udp port 123 >/dev/null 2>&1 &
DPN_PEER_PIDS+=($!)
sleep 1

chronyd_nts() {
	local out off
	out=$(dpn_chronyd_nts $KE4)
	echo "$out" | sed 's/^/  /'
	off=$(echo "$out" | dpn_chronyd_offset)
	[ -n "$off" ] && dpn_abs_lt "$off" 0.001
}
dpn_check "chronyd -Q with NTS syncs, offset < 1 ms" dpn_best_of3 chronyd_nts
nts_replies_ok() {
	local n
	n=$(dpn_counter ntp_nts_replies)
	echo "  ntp_nts_replies $n"
	[ "${n:-0}" -ge 1 ]
}
dpn_check "NTS replies counted" nts_replies_ok
dpn_check "no NTS NAK, nothing malformed" \
	test "$(dpn_counter ntp_nts_nak)" -eq 0 -a \
	"$(dpn_counter ntp_nts_malformed)" -eq 0

# A running chronyd: authdata shows NTS with cookies of 100 bytes.
cat >"$DPN_TMP/chrony.conf" <<CONF
server $KE4 nts iburst minpoll 0 maxpoll 0
ntstrustedcerts $DPN_TMP/cert.pem
pidfile $DPN_TMP/chronyd.pid
cmdport 0
bindcmdaddress $DPN_TMP/chronyd.sock
CONF
ip netns exec "$NS_CLI" chronyd -u root -4 -d -x -f "$DPN_TMP/chrony.conf" \
	>"$DPN_TMP/chronyd.log" 2>&1 &
CHRONYD_PID=$!
DPN_PEER_PIDS+=($CHRONYD_PID)
# Name/IP Mode KeyID Type KLen Last Atmp NAK Cook CLen
authdata() {
	dpn_cli chronyc -n -h "$DPN_TMP/chronyd.sock" authdata 2>&1 |
		awk -v a="$SRV4" -v b="$KE4" '$1 == a || $1 == b'
}
authdata_ok() {
	local _ out
	for _ in $(seq 30); do
		out=$(authdata)
		if echo "$out" | awk '$2 == "NTS" && $9 >= 1 && $10 == 100 { f = 1 } END { exit !f }'; then
			echo "  $out"
			return 0
		fi
		sleep 1
	done
	echo "  $out"
	tail -5 "$DPN_TMP/chronyd.log"
	return 1
}
dpn_check "chronyc authdata: NTS, cookies of 100 bytes" authdata_ok
reach_ok() {
	local _ out
	for _ in $(seq 20); do
		out=$(dpn_cli chronyc -n -h "$DPN_TMP/chronyd.sock" sources 2>&1 | grep "$SRV4")
		if echo "$out" | awk '$5 + 0 >= 3 { f = 1 } END { exit !f }'; then
			echo "  $out"
			return 0
		fi
		sleep 1
	done
	echo "  $out"
	return 1
}
dpn_check "chronyd polls the DPDK address the KE server named (reach)" reach_ok

# New keys: dpntpd restarted without its key file. chronyd's next
# request carries a cookie of the old keys: NTSN, then it re-keys.
n_ke=$(grep -c "NTS-KE on" "$LOG")
kill -TERM "$DPN_PID"
wait "$DPN_PID" 2>/dev/null
rm -f "$DPN_TMP/nts/ntskeys"
mv "$LOG" "$LOG.1"
dpn_start || exit 1
rekey_ok() {
	local _ out
	for _ in $(seq 40); do
		out=$(authdata)
		if [ "$(dpn_counter ntp_nts_nak)" -ge 1 ] &&
		   [ "$(dpn_counter ntp_nts_replies)" -ge 2 ]; then
			echo "  $out"
			echo "  ntp_nts_nak $(dpn_counter ntp_nts_nak), ntp_nts_replies $(dpn_counter ntp_nts_replies)"
			return 0
		fi
		sleep 1
	done
	echo "  $out"
	echo "  ntp_nts_nak $(dpn_counter ntp_nts_nak), ntp_nts_replies $(dpn_counter ntp_nts_replies)"
	return 1
}
dpn_check "new server keys: chronyd gets NTSN, re-keys, is answered again" \
	rekey_ok
kill "$CHRONYD_PID" 2>/dev/null

# A renewed certificate by reload: new NTS-KE sessions get it.
KEBENCH=$DPN_BUILD/perf/dpntp-kebench
cp "$DPN_TMP/cert.pem" "$DPN_TMP/old-cert.pem"
dpn_nts_cert $KE4 || exit 1
dpn_check "reload (certificate renewed)" dpnc reload
dpn_check "the NTS-KE thread read it again (log)" \
	dpn_wait_log "certificate $DPN_TMP/cert.pem read again" 5
dpn_check "new sessions carry the new certificate" \
	dpn_cli "$KEBENCH" $KE4 4460 "$DPN_TMP/cert.pem" 1 1
old_refused() { ! dpn_cli "$KEBENCH" $KE4 4460 "$DPN_TMP/old-cert.pem" 1 1; }
dpn_check "... not the old one (a client trusting only it fails)" old_refused

# Every reply as long as its request.
sleep 1
lengths_ok() {
	ip netns exec "$NS_CLI" "$PY" - "$DPN_TMP/ntp.pcap" "$SRV4" <<'PY'
import sys
from scapy.all import rdpcap, IP, UDP
q, r = [], []
for p in rdpcap(sys.argv[1]):
    if IP in p and UDP in p:
        (r if p[IP].src == sys.argv[2] else q).append(len(p[UDP].payload))
nts_q = sorted(x for x in q if x > 48)
nts_r = sorted(x for x in r if x > 48 + 4 + 32 + 4)
print("  %d NTS requests, %d NTS replies, lengths %s / %s"
      % (len(nts_q), len(nts_r), sorted(set(nts_q)), sorted(set(nts_r))))
sys.exit(0 if nts_r and set(nts_r) <= set(nts_q) else 1)
PY
}
dpn_check "every NTS reply as long as an NTS request (pcap)" lengths_ok

# A captured request of the current keys, sent again as it was and with
# one bit of its header changed. The server keeps no state (RFC 8915):
# the replay is answered for the same unique identifier, which the
# client that sent it no longer waits for; the altered one fails its
# authenticator and gets only an NTS NAK.
n_nak=$(dpn_counter ntp_nts_nak)
replay_tamper() {
	ip netns exec "$NS_CLI" "$PY" - "$DPN_TMP/ntp.pcap" "$SRV4" <<'PY'
import socket, sys
from scapy.all import rdpcap, IP, UDP
srv = sys.argv[2]
q = [p for p in rdpcap(sys.argv[1])
     if IP in p and UDP in p and p[IP].dst == srv and len(p[UDP].payload) > 48][-1]
req = bytes(q[UDP].payload)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.bind((q[IP].src, 0))
s.sendto(req, (srv, 123))
rep = s.recv(4096)
ok1 = len(rep) == len(req) and rep[48:84] == req[48:84] and rep[1] != 0
t = bytearray(req)
t[40] ^= 1
s.sendto(bytes(t), (srv, 123))
nak = s.recv(4096)
ok2 = len(nak) == 48 + 36 and nak[1] == 0 and nak[12:16] == b"NTSN" and nak[48:84] == req[48:84]
print("  replay: %d-byte reply, same UID: %s; altered: %d bytes, stratum %d, code %r"
      % (len(rep), ok1, len(nak), nak[1], nak[12:16]))
sys.exit(0 if ok1 and ok2 else 1)
PY
}
dpn_check "a replayed request answered for its old identifier; an altered one gets NTSN" \
	replay_tamper
dpn_check "... the altered one counted as a NAK" \
	test "$(dpn_counter ntp_nts_nak)" -eq $((n_nak + 1))

# What an operator sees: show nts, its JSON, and /metrics (since the
# restart: chronyd's re-key is a handshake with 8 cookies).
show_nts_ok() {
	local out hs ck
	out=$(dpnc show nts)
	echo "$out" | sed 's/^/  /'
	hs=$(echo "$out" | sed -n 's/^NTS-KE: .*, handshakes \([0-9]*\),.*/\1/p')
	ck=$(echo "$out" | sed -n 's/^NTS-KE: .*, cookies issued \([0-9]*\)$/\1/p')
	echo "$out" | head -1 | grep -q "^NTS on; current key [0-9A-F]\{8\} (age [0-9]* s, rotate " &&
	[ "${hs:-0}" -ge 1 ] && [ "${ck:-0}" -ge 8 ]
}
dpn_check "show nts: on, handshakes >= 1, cookies issued >= 8" show_nts_ok
nts_json_ok() {
	dpnc --json show nts | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print("  %s" % d)
sys.exit(0 if d["enabled"] is True and d["replies"] >= 1 and
	 d["ke"]["handshakes"] >= 1 and len(d["current_key"]) == 8 else 1)'
}
dpn_check "dpntpc --json show nts parses, replies >= 1" nts_json_ok
nts_metric() {
	ip netns exec "$NS_SRV" curl -sS --max-time 10 http://127.0.0.1:9123/metrics |
		awk -v n="$1" 'index($0, n " ") == 1 { print $NF }'
}
dpn_check "/metrics: dpntp_nts_enabled 1" test "$(nts_metric dpntp_nts_enabled)" = 1

dpn_check "dpntpd still running" dpn_alive
dpn_pass
