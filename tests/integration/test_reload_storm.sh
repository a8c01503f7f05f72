#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Reload storm (issue 15's fault suite): 1000 changes of the rules, by
# SIGHUP, `dpntpc reload` and `restrict add|del` in turn, while two
# clients (IPv4 and IPv6) send a steady 50 requests/s each under rules
# that never change for them (ntpflood.py steady, replies matched by
# origin). Every one of their requests is answered; afterwards the rules
# are the file's again, and neither memory (RSS outside DPDK's memory),
# the DPDK heap in use nor the mbufs in use have grown from the first 20
# changes to the end.
. "$(dirname "$0")/lib.sh"

FLOOD=$DPN_ROOT/tests/integration/ntpflood.py
STORM=1000
WARMUP=20

dpn_setup || exit 1

base_conf() {
	cat <<CONF
listen port 0 address $SRV4/24
listen port 0 address $SRV6/64
refclock system stratum 1 refid GPS
restrict default kod limited nomodify notrap nopeer noquery
restrict -6 default kod limited nomodify notrap nopeer noquery
restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap
restrict 2001:db8::/64 nomodify notrap
CONF
}
base_conf >"$CONF"
dpn_start || exit 1
dpn_cli ping -c 1 -W 2 $SRV4 >/dev/null
dpn_cli ping -6 -c 1 -W 2 $SRV6 >/dev/null

rules() { dpnc show restrict | sed -n 's/^ *[0-9]* *[0-9]* *[0-9]*  restrict/restrict/p'; }
tel() {
	printf '%s\n' "$1" |
		timeout 20 "$PY" /usr/bin/dpdk-telemetry.py -f "dpnt$DPN_TAG" |
		tail -1
}
heap() { tel /eal/heap_info,0 | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["/eal/heap_info"]["Alloc_size"])'; }
mbufs() { tel /dpntp/mempools | "$PY" -c 'import json, sys; print(sum(v["in_use"] for v in json.load(sys.stdin)["/dpntp/mempools"].values()))'; }
rules_before=$(rules)

# One change of the rules, the N-th: SIGHUP, reload, add, del in turn
# (the file swaps a rule for an address nobody uses; add and del a
# rule for another).
change() {
	case $(($1 % 4)) in
	0)	{ base_conf; [ $(($1 % 8)) -eq 0 ] &&
			echo "restrict 198.18.1.50 ignore"; } >"$CONF"
		kill -HUP "$DPN_PID" ;;
	1)	{ base_conf; [ $(($1 % 8)) -eq 1 ] &&
			echo "restrict 198.18.1.51 ignore"; } >"$CONF"
		dpnc reload >/dev/null ;;
	2)	dpnc restrict add 198.18.1.60 ignore >/dev/null ;;
	3)	dpnc restrict del 198.18.1.60 >/dev/null ;;
	esac
}

STOP=$DPN_TMP/storm.done
OUT=$DPN_TMP/flood.out
dpn_cli timeout 600 $PY "$FLOOD" steady $SRV4 $SRV6 --src $CLI4 --src $CLI6 \
	--rate 50 --duration 500 --stop-file "$STOP" >"$OUT" 2>&1 &
FLOOD_PID=$!
sleep 1

failed=0
for i in $(seq 0 $((STORM - 1))); do
	change "$i" || failed=$((failed + 1))
	if [ "$i" -eq $((WARMUP - 1)) ]; then
		sleep 0.5
		rss0=$(dpn_rss_kb) heap0=$(heap) mbufs0=$(mbufs)
	fi
done
# SIGHUP is applied by the management loop: let the last one land.
base_conf >"$CONF"
dpnc reload >/dev/null || failed=$((failed + 1))
sleep 1
touch "$STOP"
wait "$FLOOD_PID"
sed 's/^/  /' "$OUT"

dpn_check "$STORM changes, none refused" test "$failed" -eq 0
for src in $CLI4 $CLI6; do
	line=$(grep "^SRC $src " "$OUT")
	sent=$(echo "$line" | sed -n 's/.* sent=\([0-9]*\).*/\1/p')
	replied=$(echo "$line" | sed -n 's/.* replied=\([0-9]*\).*/\1/p')
	bad=$(echo "$line" | sed -n 's/.* bad=\([0-9]*\).*/\1/p')
	dpn_check "$src: every request answered through the storm ($replied of $sent)" \
		test -n "$sent" -a "${sent:-0}" -gt 100 -a "${replied:-0}" = "${sent:-x}" \
		-a "${bad:-1}" = 0
done
dpn_check "the rules are the file's again" test "$(rules)" = "$rules_before"
rss1=$(dpn_rss_kb) heap1=$(heap) mbufs1=$(mbufs)
dpn_check "RSS outside DPDK's memory $rss0 -> $rss1 kB (at most +1 MiB)" \
	test "$((rss1 - rss0))" -le 1024
dpn_check "DPDK heap in use $heap0 -> $heap1 bytes (at most +64 KiB)" \
	test "$((heap1 - heap0))" -le 65536
dpn_check "mbufs in use $mbufs0 -> $mbufs1 (at most +64)" \
	test "$((mbufs1 - mbufs0))" -le 64
dpn_check "dpntpd still running" dpn_alive
dpn_pass
