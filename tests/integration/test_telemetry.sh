#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# DPDK telemetry: DPDK's own dpdk-telemetry.py, pointed at dpntpd's file
# prefix, gets the /dpntp/ commands with counters that follow the
# traffic; an unknown command gets null and the daemon keeps serving.
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"

TELEMETRY=/usr/bin/dpdk-telemetry.py
RULE="restrict 198.18.0.0 mask 255.255.255.0"

dpn_setup || exit 1
dpn_default_conf
echo "$RULE" >> "$CONF"
dpn_start || exit 1

# Run telemetry commands (one per argument); one JSON line each.
tel() {
	printf '%s\n' "$@" | timeout 20 "$PY" "$TELEMETRY" -f "dpnt$DPN_TAG"
}

# Check the JSON reply of one command with a Python expression on `r`
# (the reply's one value); prints the reply.
tel_json() {
	local out
	out=$(tel "$1") || return 1
	echo "  $(echo "$out" | head -c 400)"
	"$PY" -c '
import json, sys
expr, text = sys.argv[1:3]
d = json.loads(text)
assert len(d) == 1, d
r = next(iter(d.values()))
sys.exit(0 if eval("(" + expr + ")") else 1)' "$2" "$out"
}

dpn_check "socket under /var/run/dpdk/<prefix>" \
	test -S "/var/run/dpdk/dpnt$DPN_TAG/dpdk_telemetry.v2"
dpn_check "/ lists the five /dpntp/ commands" tel_json / \
	'all(c in r for c in ["/dpntp/stats", "/dpntp/ports",
	 "/dpntp/restrict", "/dpntp/clock", "/dpntp/peers"])'
dpn_check "/help,/dpntp/stats says what it is" tel_json /help,/dpntp/stats \
	'"counters" in r["/dpntp/stats"]'

dpn_check "ntpdig over IPv4 answered" dpn_ntpdig_s1 "$SRV4"
dpn_check "ntpdig over IPv6 answered" dpn_ntpdig_s1 "$SRV6"
served=$(dpn_counter ntp_server_replies)
names=$(dpnc show stats | awk 'NR > 1 && $1 != "busy_percent" { print $1 }' |
	tr '\n' ' ')
dpn_check "/dpntp/stats: every counter of show stats, replies as there" \
	tel_json /dpntp/stats "sorted(r) == sorted('$names'.split()) and
	 r['ntp_server_replies'] == $served and $served >= 2"
dpn_check "/dpntp/ports: port 0 is the af_packet vdev, packets counted" \
	tel_json /dpntp/ports 'r["0"]["name"] == "net_af_packet0" and
	 r["0"]["rx_packets"] >= 2 and r["0"]["tx_packets"] >= 2'
dpn_check "/dpntp/restrict: the rule as written, with its hits" \
	tel_json /dpntp/restrict "any(v['rule'] == '$RULE' and v['hits'] >= 1
	 for v in r.values())"
dpn_check "/dpntp/clock: synchronized, stratum 1, refid GPS, leap 0" \
	tel_json /dpntp/clock 'r["synchronized"] == 1 and r["stratum"] == 1
	 and r["refid"] == "GPS" and r["leap"] == 0 and
	 r["reference"] == "SYSTEM(0)" and abs(r["offset_ns"]) < 100000000'
dpn_check "/dpntp/peers: the refclock, reached, as the system peer" \
	tel_json /dpntp/peers 'list(r) == ["0"] and r["0"]["remote"] == "SYSTEM(0)"
	 and r["0"]["tally"] == "*" and r["0"]["reach"] > 0 and r["0"]["selected"] == 1'
dpn_check "/dpntp/mempools: the port's pool, its mbufs in use or free" \
	tel_json /dpntp/mempools '"dpn_pool_0" in r and all(v["size"] > 0 and
	 0 <= v["in_use"] < v["size"] and v["in_use"] + v["available"] == v["size"]
	 for v in r.values())'
dpn_check "unknown command: null reply" tel_json /dpntp/nonsense 'r is None'
dpn_check "parameters to a command without any are ignored" \
	tel_json /dpntp/clock,junk 'r["stratum"] == 1'
garbage() {
	# Raw bytes on the telemetry socket (DPDK's parser, our callbacks
	# behind it): each gets a reply or a close, the thread lives on.
	timeout 60 "$PY" - "/var/run/dpdk/dpnt$DPN_TAG/dpdk_telemetry.v2" <<'PY'
import os, socket, sys
cases = [b"/dpntp/stats," + b"x" * 3000, b"/dpntp/\xff\xfe", b"/" * 200,
         b"dpntp/stats", b"/dpntp/stats\0/dpntp/clock"]
cases += [os.urandom(1 + i * 37 % 1000) for i in range(40)]
for data in cases:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.recv(16384)                  # the greeting
    s.send(data)
    try:
        s.recv(16384)
    except socket.timeout:
        sys.exit("no reply to %r" % data[:40])
    s.close()
print("  %d odd commands answered" % len(cases))
PY
}
dpn_check "odd bytes on the telemetry socket answered" garbage
dpn_check "daemon alive" dpn_alive
dpn_check "NTP still answered" dpn_ntpdig_s1 "$SRV4"
dpn_check "/dpntp/stats still answers and counts" tel_json /dpntp/stats \
	"r['ntp_server_replies'] > $served"
sigterm() {
	# Telemetry stays registered until the EAL goes: the exit path must
	# not leave it reading freed state (a sanitizer build checks that).
	kill -TERM "$DPN_PID"
	# However slow the machine: a clean exit is the point, not its speed.
	for _ in $(seq 300); do
		kill -0 "$DPN_PID" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$DPN_PID" 2>/dev/null && wait "$DPN_PID"
}
dpn_check "SIGTERM: clean exit 0" sigterm
dpn_pass
