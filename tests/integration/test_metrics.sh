#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The Prometheus endpoint: `metrics 127.0.0.1:9123` serves /metrics in
# the server namespace. promtool accepts the text, OpenMetrics parses and
# ends in "# EOF", counters move with the traffic and agree with `dpntpc
# show stats`, other paths and methods are refused, and garbage on the
# HTTP port harms neither the endpoint nor NTP service.
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"

MPORT=9123
MURL=http://127.0.0.1:$MPORT
RULE="restrict 198.18.0.0 mask 255.255.255.0"

dpn_check "metrics without a port refused with file:line" dpn_refused_with \
	'listen port 0 address 198.18.0.1/24\nmetrics 127.0.0.1\n' \
	"$DPN_TMP/bad.conf:2: metrics: '127.0.0.1' has no port"
dpn_check "metrics with an IPv6 address out of brackets refused" \
	dpn_refused_with 'metrics ::1:9123\n' \
	"$DPN_TMP/bad.conf:1: metrics: write an IPv6 address in brackets"
rm -f "$DPN_TMP/bad.conf"

dpn_setup || exit 1
dpn_default_conf
cat >> "$CONF" <<CONF
restrict default nopeer
$RULE
metrics 127.0.0.1:$MPORT
CONF
dpn_start || exit 1

# curl in the server namespace (where the endpoint listens); output to
# stdout, headers to $DPN_TMP/headers.
srv_curl() {
	ip netns exec "$NS_SRV" curl -sS --max-time 10 -D "$DPN_TMP/headers" \
		"$@"
}
scrape() { srv_curl "$MURL/metrics" "$@"; }
status_of() { awk 'NR == 1 { print $2 }' "$DPN_TMP/headers"; }
header_has() { grep -qiF "$1" "$DPN_TMP/headers"; }

# Value of the sample whose name and labels are exactly $1, in file $2.
sample() {
	awk -v n="$1" 'index($0, n " ") == 1 { print $NF; found = 1 }
		END { if (!found) print "missing" }' "$2"
}

scrape >"$DPN_TMP/m0.txt"
dpn_check "GET /metrics: 200" test "$(status_of)" = 200
dpn_check "Content-Type is Prometheus text 0.0.4" \
	header_has "Content-Type: text/plain; version=0.0.4; charset=utf-8"
promtool_ok() {
	local out
	out=$(promtool check metrics <"$DPN_TMP/m0.txt" 2>&1)
	local rc=$?
	[ -n "$out" ] && echo "$out" | head -20 | sed 's/^/  /'
	[ "$rc" -eq 0 ] && [ -z "$out" ]
}
dpn_check "promtool check metrics: valid, no lint complaint" promtool_ok
dpn_check "dpntp_build_info carries the version" \
	grep -q '^dpntp_build_info{version="[0-9][^"]*"} 1$' "$DPN_TMP/m0.txt"
dpn_check "clock: synchronized, stratum 1, refid GPS" sh -c "
	grep -qx 'dpntp_clock_synchronized 1' '$DPN_TMP/m0.txt' &&
	grep -qx 'dpntp_clock_stratum 1' '$DPN_TMP/m0.txt' &&
	grep -qx 'dpntp_clock_leap 0' '$DPN_TMP/m0.txt' &&
	grep -q '^dpntp_clock_reference_info{reference=\"SYSTEM(0)\",refid=\"GPS\"} 1$' '$DPN_TMP/m0.txt' &&
	grep -qx 'dpntp_source_selected{source=\"SYSTEM(0)\"} 1' '$DPN_TMP/m0.txt'"
all_reasons() {
	local n=0 name
	for name in $(dpnc show stats | awk '/^(drop|acl)_/ { print $1 }'); do
		grep -q "^dpntp_drops_total{reason=\"${name#drop_}\"} " \
			"$DPN_TMP/m0.txt" || { echo "  no reason ${name#drop_}"; return 1; }
		n=$((n + 1))
	done
	echo "  $n reasons"
	[ "$n" -gt 20 ]
}
dpn_check "every drop_ and acl_ counter of show stats is a reason label" \
	all_reasons

before=$(sample 'dpntp_replies_total{mode="server"}' "$DPN_TMP/m0.txt")
rx_before=$(sample 'dpntp_port_queue_rx_packets_total{port="0",queue="0"}' \
	"$DPN_TMP/m0.txt")
hits_before=$(sample "dpntp_restrict_hits_total{rule=\"$RULE\"}" \
	"$DPN_TMP/m0.txt")
dpn_log "before: server replies $before, queue 0 rx $rx_before, rule hits $hits_before"
dpn_check "ntpdig over IPv4 answered" dpn_ntpdig_s1 "$SRV4"
dpn_check "ntpdig over IPv6 answered" dpn_ntpdig_s1 "$SRV6"
dpn_check "ntpdig over IPv4 answered again" dpn_ntpdig_s1 "$SRV4"
scrape >"$DPN_TMP/m1.txt"
after=$(sample 'dpntp_replies_total{mode="server"}' "$DPN_TMP/m1.txt")
rx_after=$(sample 'dpntp_port_queue_rx_packets_total{port="0",queue="0"}' \
	"$DPN_TMP/m1.txt")
hits_after=$(sample "dpntp_restrict_hits_total{rule=\"$RULE\"}" \
	"$DPN_TMP/m1.txt")
dpn_log "after: server replies $after, queue 0 rx $rx_after, rule hits $hits_after"
dpn_check "dpntp_replies_total{mode=server} rose by at least 3" \
	test "$after" -ge $((before + 3))
dpn_check "... and equals ntp_server_replies of dpntpc show stats" \
	test "$after" = "$(dpn_counter ntp_server_replies)"
dpn_check "per-queue rx packets rose" test "$rx_after" -gt "$rx_before"
dpn_check "client requests of version 4 counted (ntpdig sends v4)" \
	test "$(sample 'dpntp_requests_total{mode="client",version="4"}' \
		"$DPN_TMP/m1.txt")" -ge "$after"
dpn_check "restrict hits counted under the rule as written" \
	test "$hits_after" -ge $((hits_before + 2))
dpn_check "the rule label is the line of dpntpc show restrict" \
	sh -c "'$DPNTPC' -s '$SOCK' show restrict | grep -qF '$RULE'"
dpn_check "ethdev xstats exported (rx_good_packets)" \
	test "$(sample 'dpntp_port_xstat{port="0",name="rx_good_packets"}' \
		"$DPN_TMP/m1.txt")" -gt 0
dpn_check "worker busy ratio of lcore 1 between 0 and 1" \
	awk -v v="$(sample 'dpntp_worker_busy_ratio{lcore="1"}' \
		"$DPN_TMP/m1.txt")" 'BEGIN { exit !(v >= 0 && v <= 1) }'

scrape -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
	>"$DPN_TMP/om.txt"
dpn_check "OpenMetrics asked for: its Content-Type" header_has \
	"Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"
dpn_check "OpenMetrics text ends in # EOF" \
	test "$(tail -n 1 "$DPN_TMP/om.txt")" = "# EOF"
om_parses() {
	$PY - "$DPN_TMP/om.txt" <<'PY'
import sys
from prometheus_client.openmetrics.parser import \
    text_string_to_metric_families as parse
fams = {f.name: f for f in parse(open(sys.argv[1]).read())}
assert fams["dpntp_replies"].type == "counter", fams["dpntp_replies"]
assert fams["dpntp_build"].type == "info"
s = [x for x in fams["dpntp_replies"].samples if x.labels["mode"] == "server"]
assert s and s[0].value >= 3, s
print("  %d families parsed" % len(fams))
PY
}
dpn_check "OpenMetrics text parses (prometheus_client, strict)" om_parses

srv_curl "$MURL/" >/dev/null
dpn_check "GET / is 404" test "$(status_of)" = 404
srv_curl "$MURL/metrics/x" >/dev/null
dpn_check "GET /metrics/x is 404" test "$(status_of)" = 404
srv_curl -X POST -d x=1 "$MURL/metrics" >/dev/null
dpn_check "POST /metrics is 405 with Allow: GET, HEAD" sh -c "
	test \"\$(awk 'NR == 1 { print \$2 }' '$DPN_TMP/headers')\" = 405 &&
	grep -qiF 'Allow: GET, HEAD' '$DPN_TMP/headers'"
# Raw bytes on the port from bash's /dev/tcp: everything that comes
# back before the server closes (at most 5 s), and only its first line.
# shellcheck disable=SC2016 # $1 expands in the inner shell
raw_all() {
	ip netns exec "$NS_SRV" timeout 10 bash -c '
		exec 3<>/dev/tcp/127.0.0.1/'"$MPORT"' || exit 1
		printf "%b" "$1" >&3
		timeout 5 cat <&3' raw "$1" 2>/dev/null | tr -d '\r'
}
raw() { raw_all "$1" | head -1; }

head_no_body() {
	local reply
	reply=$(raw_all 'HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
	echo "  $(echo "$reply" | head -1)"
	echo "$reply" | head -1 | grep -q '^HTTP/1.1 200' &&
		! echo "$reply" | grep -q '^dpntp_'
}
dpn_check "HEAD /metrics is 200 without a body" head_no_body

garbage() {
	local reply i bad=0
	reply=$(raw '\x00\xff\x16\x03\x01 garbage\r\n\r\n')
	echo "  binary garbage: '${reply:-connection closed}'"
	case $reply in "" | "HTTP/1.1 400"*) ;; *) bad=1 ;; esac
	reply=$(raw 'GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n')
	echo "  HTTP/9.9: '${reply:-connection closed}'"
	case $reply in "" | "HTTP/1.1 4"* | "HTTP/1.1 505"*) ;; *) bad=1 ;; esac
	reply=$(raw "GET /$(head -c 100000 /dev/zero | tr '\0' a) HTTP/1.1\r\nHost: x\r\n\r\n")
	echo "  100 kB URL: '${reply:-connection closed}'"
	case $reply in "" | "HTTP/1.1 4"*) ;; *) bad=1 ;; esac
	reply=$(raw 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n')
	echo "  negative Content-Length: '${reply:-connection closed}'"
	case $reply in "" | "HTTP/1.1 4"*) ;; *) bad=1 ;; esac
	# Random bytes, bounded in count and time.
	# shellcheck disable=SC2016 # $1 expands in the inner shell
	for i in $(seq 30); do
		head -c $((1 + i * 97 % 3000)) /dev/urandom >"$DPN_TMP/rnd"
		ip netns exec "$NS_SRV" timeout 5 bash -c '
			exec 3<>/dev/tcp/127.0.0.1/'"$MPORT"' || exit 0
			cat "$1" >&3; timeout 2 cat <&3 >/dev/null' raw \
			"$DPN_TMP/rnd" 2>/dev/null
	done
	rm -f "$DPN_TMP/rnd"
	[ "$bad" -eq 0 ]
}
dpn_check "malformed requests get a 4xx or a closed connection" garbage
silent() {
	# A client that connects and sends nothing does not block scrapes.
	ip netns exec "$NS_SRV" timeout 8 bash -c \
		'exec 3<>/dev/tcp/127.0.0.1/'"$MPORT"'; sleep 6' &
	local p=$!
	sleep 0.5
	scrape >/dev/null
	local st
	st=$(status_of)
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	test "$st" = 200
}
dpn_check "a silent connection does not block /metrics" silent
dpn_check "daemon alive after the garbage" dpn_alive
dpn_check "NTP still answered after the garbage" dpn_ntpdig_s1 "$SRV4"
scrape >"$DPN_TMP/m2.txt"
dpn_check "/metrics still 200 and counting after the garbage" sh -c "
	test \"\$(awk 'NR == 1 { print \$2 }' '$DPN_TMP/headers')\" = 200 &&
	test \"\$(awk -v n='dpntp_replies_total{mode=\"server\"}' \
		'index(\$0, n \" \") == 1 { print \$NF }' '$DPN_TMP/m2.txt')\" -gt $after"

busy_port() {
	# A second dpntpd whose metrics address is taken refuses to start
	# and says why.
	local out rc
	out=$(ip netns exec "$NS_SRV" timeout 60 "$DPNTPD" --no-huge -m 512 \
		--file-prefix "dpnt${DPN_TAG}b" -l 0,1 --no-pci \
		--vdev net_null0 --log-level=error -- --config "$CONF" \
		--control-socket none 2>&1)
	rc=$?
	rm -rf "/var/run/dpdk/dpnt${DPN_TAG}b"
	echo "  $(echo "$out" | tail -1)"
	[ "$rc" -ne 0 ] && echo "$out" | grep -qF \
		"metrics: cannot listen on 127.0.0.1:$MPORT: Address already in use"
}
dpn_check "metrics address in use: start refused with the reason" busy_port

sigterm() {
	kill -TERM "$DPN_PID"
	# However slow the machine: a clean exit is the point, not its speed.
	for _ in $(seq 300); do
		kill -0 "$DPN_PID" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$DPN_PID" 2>/dev/null && wait "$DPN_PID" &&
		! ip netns exec "$NS_SRV" curl -s --max-time 2 "$MURL/metrics" \
			>/dev/null
}
dpn_check "SIGTERM: clean exit 0 and the port is closed" sigterm
dpn_pass
