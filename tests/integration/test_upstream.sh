#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# dpntpd as a client of real upstream servers (issue 5): chronyd and
# ntpsec's ntpd, each in a namespace of its own bridged to the client
# namespace, plus two small test servers (brokenntp.py) in the client
# namespace, one right and one 100 ms off. dpntpd must select the
# good ones, serve stratum 2 with its system peer's address as refid and
# an offset under 1 ms to ntpdig, and mark the wrong one 'x' without the
# served time moving. chronyd is polled with a symmetric key (SHA1); with
# a key it does not share, nothing it sends is accepted. The host clock
# is never touched (chronyd -x, ntpd
# without CAP_SYS_TIME, the test servers only read it).
. "$(dirname "$0")/lib.sh"

UP_CHRONY=198.18.0.11
UP_NTPD=198.18.0.12
UP_GOOD=198.18.0.13
UP_WRONG=198.18.0.14
UP_NS=()
del_up_ns() {
	local n
	for n in "${UP_NS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
}
trap 'dpn_stop_peers; del_up_ns; dpn_cleanup' EXIT

dpn_setup || exit 1
# The client namespace becomes a switch: a bridge holding the veth to
# dpntpd and one veth per upstream namespace.
dpn_cli_bridge || exit 1
for a in $UP_GOOD $UP_WRONG; do
	ip -n "$NS_CLI" addr add "$a/24" dev br0
done

# up_ns NAME ADDR: a namespace for one upstream server, on the bridge.
up_ns() {
	local ns=dpnt-u$1-$DPN_TAG v=du$1$DPN_TAG
	ip netns add "$ns" || return 1
	UP_NS+=("$ns")
	ip link add "$v" type veth peer name "${v}b" || return 1
	ip link set "$v" netns "$ns"
	ip link set "${v}b" netns "$NS_CLI"
	ip -n "$NS_CLI" link set "${v}b" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$2/24" dev "$v"
	ip -n "$ns" link set "$v" up
	ip netns exec "$ns" ethtool -K "$v" tx off >/dev/null
}
up_ns c "$UP_CHRONY" || exit 1
up_ns n "$UP_NTPD" || exit 1
NS_CHRONY=dpnt-uc-$DPN_TAG
NS_NTPD=dpnt-un-$DPN_TAG

# ntpsec's ntpd in orphan mode (it has no reference).
if dpn_fetch_ntpsec; then
	cat >"$DPN_TMP/ntp.conf" <<CONF
tos orphan 5 orphanwait 1
disable ntp
disable kernel
unrestrict default noquery limited
CONF
	ip netns exec "$NS_NTPD" setpriv --bounding-set=-sys_time "$NTPSEC_NTPD" -n \
		-c "$DPN_TMP/ntp.conf" -p "$DPN_TMP/ntpd.pid" \
		-l "$DPN_TMP/ntpd.log" >"$DPN_TMP/ntpd.out" 2>&1 &
	DPN_PEER_PIDS+=($!)
else
	dpn_log "cannot fetch ntpsec (apt-get download ntpsec)"
fi
# chronyd: a stratum 1 server from the (untouched) host clock, with the
# symmetric keys dpntpd uses for it (key 2 differs on the two sides).
printf '1 SHA1 HEX:00112233445566778899aabbccddeeff01234567\n2 MD5 rightsecret\n' \
	>"$DPN_TMP/chrony.keys"
printf '1 SHA1 00112233445566778899aabbccddeeff01234567\n2 MD5 wrongsecret\n' \
	>"$DPN_TMP/ntp.keys"
cat >"$DPN_TMP/chrony.conf" <<CONF
local stratum 1
allow
bindaddress $UP_CHRONY
pidfile $DPN_TMP/chronyd.pid
cmdport 0
keyfile $DPN_TMP/chrony.keys
CONF
ip netns exec "$NS_CHRONY" chronyd -4 -d -x -f "$DPN_TMP/chrony.conf" >"$DPN_TMP/chronyd.log" 2>&1 &
DPN_PEER_PIDS+=($!)

for spec in "$UP_GOOD:0" "$UP_WRONG:0.1"; do
	# As long as the test may run (300 s): its end stops them.
	ip netns exec "$NS_CLI" timeout 310 "$PY" "$DPN_ROOT/tests/integration/brokenntp.py" \
		--bind "${spec%%:*}" --drop-every 0 --offset "${spec#*:}" \
		--seconds 300 &
	DPN_PEER_PIDS+=($!)
done
# ntpd answers "unsynchronized" (leap 3) for its first seconds.
sleep 5

# write_conf ADDR...: chronyd's address is polled with key 1 (SHA1).
write_conf() {
	{
		echo "listen port 0 address $SRV4/24"
		echo "driftfile $DPN_TMP/drift"
		echo "keys $DPN_TMP/ntp.keys"
		echo "trustedkey 1 2"
		for s in "$@"; do
			echo "server $s iburst minpoll 3 maxpoll 4$(
				[ "$s" = $UP_CHRONY ] && echo " key 1")"
		done
		# A name that cannot resolve: dpntpd must start and serve anyway.
		echo "server ntp.invalid iburst"
	} >"$CONF"
}

# The '*' line of show peers, waiting for it (at most $1 s).
wait_peer() {
	local _
	for _ in $(seq $(($1 * 2))); do
		if dpnc show peers | grep -q '^\*'; then
			return 0
		fi
		sleep 0.5
	done
	dpnc show peers
	return 1
}

# ntpdig against dpntpd: stratum 2 and |offset| < 1 ms.
ntpdig_s2() {
	local out off
	out=$(dpn_cli timeout 10 ntpdig -t 2 "$SRV4" 2>&1) || { echo "  $out"; return 1; }
	echo "  $out"
	off=$(echo "$out" | awk '{ for (i = 1; i < NF; i++) if ($i ~ /^[+-][0-9.]+$/) { print $i; exit } }')
	echo "$out" | grep -q " s2 " && [ -n "$off" ] && dpn_abs_lt "$off" 0.001
}

# The first update comes with the fourth sample; a few more polls bring
# the served time within 1 ms. Ask every 2 s for at most 40 s.
ntpdig_s2_within_40s() {
	local _
	for _ in $(seq 20); do
		ntpdig_s2 && return 0
		sleep 2
	done
	return 1
}

# --- chronyd and ntpd -----------------------------------------------------
write_conf $UP_CHRONY $UP_NTPD
dpn_start --log-level=dpntp.sync:debug || exit 1
dpn_check "a system peer is selected within 60 s" wait_peer 60
dpnc show peers | sed 's/^/  /'
peer=$(dpnc show peers | awk '/^\*/ { print substr($1, 2) }')
dpn_check "the system peer is chronyd or ntpd ($peer)" \
	test "$peer" = $UP_CHRONY -o "$peer" = $UP_NTPD
dpn_check "ntpdig sees stratum 2 and |offset| < 1 ms" ntpdig_s2_within_40s
dpn_check "both upstreams reached (reach not 0)" \
	test "$(dpnc show peers | awk '$1 ~ /198\.18\.0\.1[12]$/ && $7 != "0"' | wc -l)" -eq 2
dpnc show sysinfo | sed 's/^/  /'
dpn_check "stratum is the peer's + 1" test "$(dpn_sysvar stratum)" = \
	"$(( $(dpnc show peers | awk '/^\*/ { print $3 }') + 1 ))"
refid_is_peer() {
	dpnc show sysinfo | awk -F= '$1 == "refid" { r = $2 } $1 == "peer" { p = $2 }
		END { exit !(r != "" && r == p) }'
}
dpn_check "refid is the system peer's address" refid_is_peer
dpn_check "sync=yes" test "$(dpn_sysvar sync)" = yes
dpn_check "upstream replies counted" \
	test "$(dpn_counter ntp_upstream_replies)" -ge 4
dpn_check "the unresolvable name is logged and retried" \
	grep -q "ntp.invalid (line .*): cannot resolve" "$LOG"
kill -TERM "$DPN_PID"; wait "$DPN_PID" 2>/dev/null; DPN_PID=
dpn_check "the drift file was written at exit" \
	grep -Eq '^-?[0-9]+\.[0-9]{3} [0-9]+$' "$DPN_TMP/drift"
rm -rf "/var/run/dpdk/dpnt$DPN_TAG"

# --- three good upstreams and a falseticker -------------------------------
write_conf $UP_CHRONY $UP_NTPD $UP_GOOD $UP_WRONG
dpn_start || exit 1
dpn_check "the drift file is read back at start" \
	grep -q "frequency [-+][0-9.]* ppm from $DPN_TMP/drift" "$LOG"
dpn_check "a system peer is selected within 60 s" wait_peer 60
falseticker() {
	local _
	for _ in $(seq 120); do
		dpnc show peers | grep -q "^x$UP_WRONG" && return 0
		sleep 0.5
	done
	dpnc show peers
	return 1
}
dpn_check "the server 100 ms off is marked x within 60 s" falseticker
dpnc show peers | sed 's/^/  /'
dpn_check "it is not the system peer" \
	test "$(dpnc show peers | awk '/^\*/ { print substr($1, 2) }')" != $UP_WRONG
dpn_check "ntpdig still sees stratum 2 and |offset| < 1 ms" ntpdig_s2_within_40s
# With a key, only replies whose MAC checks are counted as received.
signed_accepted() {
	dpnc --json show peers | "$PY" -c '
import json, sys
p = [s for s in json.load(sys.stdin)["peers"] if s["address"] == sys.argv[1]]
assert p and p[0]["received"] > 0 and p[0]["refused"] == 0, p' "$UP_CHRONY"
}
dpn_check "chronyd's signed replies were accepted, none refused (key 1, SHA1)" \
	signed_accepted
kill -TERM "$DPN_PID"; wait "$DPN_PID" 2>/dev/null; DPN_PID=
rm -rf "/var/run/dpdk/dpnt$DPN_TAG"

# --- a key the server does not share -------------------------------------
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
keys $DPN_TMP/ntp.keys
trustedkey 1 2
server $UP_CHRONY iburst minpoll 3 maxpoll 3 key 2
CONF
dpn_start || exit 1
sleep 20
dpnc show peers | sed 's/^/  /'
dpn_check "with the wrong key: no reply accepted, the server stays unreachable" \
	test "$(dpn_counter ntp_upstream_replies)" = 0
dpn_check "... and dpntpd serves unsynchronized" \
	test "$(dpn_sysvar sync) $(dpn_sysvar stratum)" = "no 16"
dpn_check "dpntpd still running" dpn_alive
dpn_pass
