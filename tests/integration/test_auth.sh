#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Symmetric keys on the server side, with real clients: ntpdig (-a/-k)
# with MD5, SHA1 and AES128CMAC, chronyd -Q with `key N`, and NTPsec's
# ntpd as a client; wrong and untrusted keys are rejected by the
# clients (dpntpd's crypto-NAK); restrict notrust serves only
# authenticated requests; authfail drop; keys changed by a reload; bad
# key lines refused by file and line, the running keys kept on reload.
. "$(dirname "$0")/lib.sh"

# The server's keys: 1-3 trusted, 4 in the file but not trusted.
cat >"$DPN_TMP/server.keys" <<'KEYS'
# ntpd keys file
1 MD5 md5key0123456789
2 SHA1 0123456789abcdef0123456789abcdef01234567
3 AES128CMAC 000102030405060708090a0b0c0d0e0f
4 MD5 nottrusted
KEYS
chmod 600 "$DPN_TMP/server.keys"
# ntpdig's (NTPsec's format, as ntpd's): the same keys, key 5 an ID the
# server has never heard of, key 6 key 1's ID with another secret is in
# wrong.keys.
cat >"$DPN_TMP/client.keys" <<'KEYS'
1 MD5 md5key0123456789
2 SHA1 0123456789abcdef0123456789abcdef01234567
3 AES128CMAC 000102030405060708090a0b0c0d0e0f
4 MD5 nottrusted
5 MD5 unknownkey
KEYS
printf '1 MD5 wrongsecret\n' >"$DPN_TMP/wrong.keys"
# chronyd's format.
cat >"$DPN_TMP/chrony.keys" <<'KEYS'
1 MD5 ASCII:md5key0123456789
2 SHA1 HEX:0123456789abcdef0123456789abcdef01234567
3 AES128 HEX:000102030405060708090a0b0c0d0e0f
9 MD5 ASCII:wrongsecret
KEYS

write_conf() {
	{
		echo "listen port 0 address $SRV4/24"
		echo "listen port 0 address $SRV6/64"
		echo "refclock system stratum 1 refid GPS"
		echo "keys $DPN_TMP/server.keys"
		echo "trustedkey 1 2 3"
		echo "metrics 127.0.0.1:9123"
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
}

# Start-up refusals name the file and line (before dpntpd runs: they
# share its EAL file prefix).
dpn_check "trustedkey of a key not in the file refused" \
	dpn_refused_with "keys $DPN_TMP/server.keys\ntrustedkey 1 9\n" \
	"bad.conf:2: trustedkey: key 9 is not in $DPN_TMP/server.keys"
dpn_check "trustedkey before keys refused" \
	dpn_refused_with "trustedkey 1\nkeys $DPN_TMP/server.keys\n" \
	"bad.conf:1: trustedkey: no 'keys' line before this one"
printf '1 AES128CMAC 00112233445566778899aabb\n' >"$DPN_TMP/short.keys"
dpn_check "a 12-byte AES128CMAC key refused by file and line" \
	dpn_refused_with "keys $DPN_TMP/short.keys\n" \
	"short.keys:1: an AES128CMAC key is 16 bytes (32 hex digits), not 12"
dpn_check "authfail with another word refused" \
	dpn_refused_with "authfail sometimes\n" \
	"bad.conf:1: authfail: expected 'nak' or 'drop'"

dpn_setup || exit 1
write_conf
dpn_start || exit 1

# ntpdig_auth ADDR KEYFILE KEYID: time from a reply whose MAC ntpdig
# checked: stratum 1, and the host's time within ntpdig's error bound
# plus 1 ms. (ntpdig, in Python, signs its request after reading T1:
# its MAC time shows as delay, a few ms on a busy 2-core machine.)
ntpdig_auth() {
	local out off err
	out=$(dpn_cli timeout 10 ntpdig -t 2 -k "$2" -a "$3" "$1" 2>&1)
	echo "  $out"
	# DATE TIME (+0000) OFFSET +/- ERROR HOST sN LEAP
	off=$(echo "$out" | awk '$5 == "+/-" { print $4; exit }')
	err=$(echo "$out" | awk '$5 == "+/-" { print $6; exit }')
	echo "$out" | grep -q " s1 " && [ -n "$off" ] &&
		dpn_abs_lt "$off" "$(awk -v e="$err" 'BEGIN { print e + 0.001 }')"
}
# ntpdig_refused ADDR KEYFILE KEYID: ntpdig gets no time it trusts.
ntpdig_refused() {
	local out
	out=$(dpn_cli timeout 10 ntpdig -t 2 -k "$2" -a "$3" "$1" 2>&1)
	echo "  $(echo "$out" | tail -1)"
	! echo "$out" | grep -q " s1 "
}

n_signed=$(dpn_counter ntp_auth_signed)
dpn_check "ntpdig -a 1 (MD5) over IPv4" \
	dpn_best_of3 ntpdig_auth $SRV4 "$DPN_TMP/client.keys" 1
dpn_check "ntpdig -a 2 (SHA1) over IPv6" \
	dpn_best_of3 ntpdig_auth $SRV6 "$DPN_TMP/client.keys" 2
dpn_check "ntpdig -a 3 (AES128CMAC) over IPv4" \
	dpn_best_of3 ntpdig_auth $SRV4 "$DPN_TMP/client.keys" 3
dpn_check "replies signed counted (ntp_auth_signed +3 or more)" \
	test "$(dpn_counter ntp_auth_signed)" -ge $((n_signed + 3))
dpn_check "no request with a MAC given a plain reply (ntp_truncated 0)" \
	test "$(dpn_counter ntp_truncated)" -eq 0

n_bad=$(dpn_counter ntp_auth_bad_mac)
n_unknown=$(dpn_counter ntp_auth_unknown_key)
n_nak=$(dpn_counter ntp_auth_nak)
dpn_check "ntpdig with a wrong secret for key 1 rejects the reply" \
	ntpdig_refused $SRV4 "$DPN_TMP/wrong.keys" 1
dpn_check "ntpdig with untrusted key 4 rejects the reply" \
	ntpdig_refused $SRV4 "$DPN_TMP/client.keys" 4
dpn_check "ntpdig with unknown key 5 rejects the reply" \
	ntpdig_refused $SRV6 "$DPN_TMP/client.keys" 5
dpn_check "bad MAC counted" test "$(dpn_counter ntp_auth_bad_mac)" -gt "$n_bad"
dpn_check "unknown keys counted (4 and 5)" \
	test "$(dpn_counter ntp_auth_unknown_key)" -ge $((n_unknown + 2))
dpn_check "crypto-NAKs sent for each (authfail nak by default)" \
	test "$(dpn_counter ntp_auth_nak)" -ge $((n_nak + 3))

# What an operator sees: show auth, its JSON, and /metrics.
auth_json() { dpnc --json show auth; }
# auth_key ID FIELD: one key's counter from dpntpc --json show auth.
auth_key() {
	auth_json | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
print(next(k[sys.argv[2]] for k in d["keys"] if k["key"] == int(sys.argv[1])))' "$1" "$2"
}
show_auth_ok() {
	local out
	out=$(dpnc show auth)
	echo "$out" | sed 's/^/  /'
	echo "$out" | head -1 | grep -q "^3 trusted keys; authfail nak: crypto-NAK" &&
	echo "$out" | awk '$1 == 1 && $2 == "MD5" && $4 >= 1 && $5 >= 1 { a = 1 }
		$1 == 2 && $2 == "SHA1" && $4 >= 1 { b = 1 }
		$1 == 3 && $2 == "AES128CMAC" && $4 >= 1 { c = 1 }
		END { exit !(a && b && c) }' &&
	! echo "$out" | grep -q "md5key0123456789\|0123456789abcdef"
}
dpn_check "show auth: 3 keys, good MACs on each, key 1's bad one, no secrets" \
	show_auth_ok
dpn_check "dpntpc --json show auth: key 1 good = replies, NAKs counted" \
	test "$(auth_key 1 good)" -eq "$(auth_key 1 replies)" -a \
	"$(auth_json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["naks_sent"])')" -ge 3
metric() {
	ip netns exec "$NS_SRV" curl -sS --max-time 10 http://127.0.0.1:9123/metrics |
		awk -v n="$1" 'index($0, n " ") == 1 { print $NF }'
}
dpn_check "/metrics: dpntp_auth_trusted_keys 3" \
	test "$(metric dpntp_auth_trusted_keys)" = 3
dpn_check "/metrics: key 3's good MACs as show auth counts them" \
	test "$(metric 'dpntp_auth_key_good_total{key="3",type="AES128CMAC"}')" = \
	"$(auth_key 3 good)"

# chronyd_key ADDR ID: chronyd -Q with `key ID` sets from the replies.
chronyd_key() {
	local out off
	out=$(dpn_cli timeout 20 chronyd -x -Q -t 15 \
		"server $1 iburst key $2" "keyfile $DPN_TMP/chrony.keys" 2>&1)
	echo "$out" | sed 's/^/  /'
	off=$(echo "$out" | sed -n 's/.*System clock wrong by \([-+0-9.]*\) seconds.*/\1/p')
	[ -n "$off" ] && dpn_abs_lt "$off" 0.001
}
chronyd_no_time() {
	local out
	out=$(dpn_cli timeout 15 chronyd -x -Q -t 8 \
		"server $1 iburst key $2" "keyfile $DPN_TMP/chrony.keys" 2>&1)
	echo "$out" | tail -1 | sed 's/^/  /'
	! echo "$out" | grep -q "System clock wrong by"
}
dpn_check "chronyd -Q key 1 (MD5) accepts the replies" \
	dpn_best_of3 chronyd_key $SRV4 1
dpn_check "chronyd -Q key 2 (SHA1) over IPv6" \
	dpn_best_of3 chronyd_key $SRV6 2
dpn_check "chronyd -Q key 3 (AES128 CMAC) accepts the replies" \
	dpn_best_of3 chronyd_key $SRV4 3
dpn_check "chronyd -Q with a key dpntpd does not trust gets no time" \
	chronyd_no_time $SRV4 9

# NTPsec's ntpd as a client with key 1: the association authenticates.
NS_NTPD=$NS_CLI
if dpn_fetch_ntpsec; then
	cat >"$DPN_TMP/ntp.conf" <<CONF
server $SRV4 iburst minpoll 4 key 1
keys $DPN_TMP/client.keys
trustedkey 1
disable kernel
driftfile $DPN_TMP/ntpd.drift
# 1.2.2's built-in default is noquery: let ntpq ask from here.
unrestrict default noquery limited
CONF
	ip netns exec "$NS_NTPD" setpriv --bounding-set=-sys_time "$NTPSEC_NTPD" -n \
		-c "$DPN_TMP/ntp.conf" -p "$DPN_TMP/ntpd.pid" \
		-l "$DPN_TMP/ntpd.log" >"$DPN_TMP/ntpd.out" 2>&1 &
	DPN_PEER_PIDS+=($!)
	NTPQ=$(dirname "$NTPSEC_NTPD")/../bin/ntpq
	ntpd_assoc_ok() {
		local _ out
		for _ in $(seq 20); do
			# ind assid status conf reach auth condition last_event cnt
			out=$(dpn_cli timeout 5 "$NTPQ" -n -c associations \
				127.0.0.1 2>&1 | awk 'NR > 2')
			if echo "$out" | awk '$6 == "ok" && $5 == "yes" { f = 1 } END { exit !f }'; then
				echo "  $out"
				return 0
			fi
			sleep 1
		done
		echo "  $out"
		tail -5 "$DPN_TMP/ntpd.log" 2>/dev/null
		return 1
	}
	dpn_check "NTPsec ntpd with key 1: association reachable, auth ok" \
		ntpd_assoc_ok
	dpn_stop_peers
else
	dpn_log "cannot fetch ntpsec (apt-get download ntpsec)"
	dpn_check "NTPsec's ntpd fetched (apt-get download ntpsec)" false
fi

# restrict notrust: only authenticated requests are served.
write_conf "restrict default notrust"
dpn_check "reload with restrict default notrust" dpnc reload
n_notrust=$(dpn_counter acl_notrust)
plain_refused() {
	local out
	out=$(dpn_cli timeout 10 ntpdig -t 1 $SRV4 2>&1)
	echo "  $(echo "$out" | tail -1)"
	! echo "$out" | grep -q " s1 "
}
dpn_check "notrust: a plain ntpdig gets nothing" plain_refused
dpn_check "notrust: counted (acl_notrust)" \
	test "$(dpn_counter acl_notrust)" -gt "$n_notrust"
dpn_check "notrust: ntpdig -a 2 (SHA1) still served" \
	dpn_best_of3 ntpdig_auth $SRV4 "$DPN_TMP/client.keys" 2

# authfail drop: a wrong key gets nothing at all.
write_conf "authfail drop"
dpn_check "reload with authfail drop" dpnc reload
n_nak=$(dpn_counter ntp_auth_nak)
n_drop=$(dpn_counter ntp_auth_dropped)
dpn_check "authfail drop: ntpdig with a wrong secret gets no time" \
	ntpdig_refused $SRV4 "$DPN_TMP/wrong.keys" 1
dpn_check "authfail drop: dropped, counted, no crypto-NAK" \
	test "$(dpn_counter ntp_auth_dropped)" -gt "$n_drop" -a \
	"$(dpn_counter ntp_auth_nak)" -eq "$n_nak"
dpn_check "authfail drop: the right key is still served" \
	dpn_best_of3 ntpdig_auth $SRV4 "$DPN_TMP/client.keys" 1

# A new secret for key 1 by reload: the old one is refused at once.
n_req1=$(auth_key 1 requests)
sed -i 's/^1 MD5 md5key0123456789$/1 MD5 newmd5key0123456/' "$DPN_TMP/server.keys"
write_conf
dpn_check "reload with key 1 changed" dpnc reload
dpn_check "key 1's counts carried over the reload" \
	test "$(auth_key 1 requests)" -ge "$n_req1"
dpn_check "key 1's old secret refused after the reload" \
	ntpdig_refused $SRV4 "$DPN_TMP/client.keys" 1
printf '1 MD5 newmd5key0123456\n' >"$DPN_TMP/new.keys"
dpn_check "key 1's new secret served" \
	dpn_best_of3 ntpdig_auth $SRV4 "$DPN_TMP/new.keys" 1

# A bad keys file on reload: refused by file and line, keys kept.
cp "$DPN_TMP/server.keys" "$DPN_TMP/server.keys.good"
printf '7 SHA256 abc\n' >>"$DPN_TMP/server.keys"
reload_refused() {
	local out rc
	out=$(dpnc reload 2>&1)
	rc=$?
	echo "  $out"
	[ "$rc" -ne 0 ] &&
		echo "$out" | grep -qF "server.keys:6: key type 'SHA256' is not supported"
}
dpn_check "reload with a bad keys line refused with file:line" reload_refused
dpn_check "the running keys kept (key 1's new secret served)" \
	dpn_best_of3 ntpdig_auth $SRV4 "$DPN_TMP/new.keys" 1
cp "$DPN_TMP/server.keys.good" "$DPN_TMP/server.keys"

dpn_check "dpntpd still running" dpn_alive
dpn_pass
