#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The CVE regression corpus (tests/cve/*.hex: one file per input, its
# CVE and what the server must do in its comments) against a running
# dpntpd: mode 7 monlist and error ping-pong (CVE-2013-5211,
# CVE-2009-3563), an authenticated mode 7 packet (CVE-2019-8936), mode 6
# overruns and mrulist (CVE-2016-2519, CVE-2016-7434, NTPsec
# CVE-2019-6443/6444/6445), NTS fields to a server without NTS (NTPsec
# CVE-2023-4012). Each input, over IPv4 and IPv6, with and without
# `restrict ... noquery`: no reply (but for the well-formed mode 6
# READVAR, answered where queries are allowed), its own counter moves by
# exactly one, dpntpd keeps serving. Then 200 copies of each: the log does not
# grow (nothing is logged per packet; CVE-2010-0294 was a log flood).
# Then 2 x 4000 requests from spoofed sources under `restrict limited`
# (CVE-2010-0293, an unbounded client log): the clients tracked stay
# within the table, the second flood adds no memory, and a real client
# limited before the floods is still limited after them.
. "$(dirname "$0")/lib.sh"

CORPUS=$DPN_ROOT/tests/cve

# The test's configuration plus the restrict lines in "$@".
conf() {
	dpn_default_conf
	echo "clientlimit 256" >>"$CONF"
	printf '%s\n' "$@" >>"$CONF"
}

dpn_setup || exit 1
conf
dpn_start || exit 1
dpn_check "ping answered" dpn_cli ping -c 1 -W 2 $SRV4
dpn_check "ping6 answered" dpn_cli ping -6 -c 1 -W 2 $SRV6
mac=$(dpn_neigh_mac $SRV4 "$VETH_CLI")

# Each RESULT line of cve.py becomes a check; N cases expected.
cve_run() {
	local n=$1 out=$DPN_TMP/cve.out rc
	shift
	dpn_cli timeout 120 $PY "$DPN_ROOT/tests/integration/cve.py" \
		--dir "$CORPUS" --dpntpc "$DPNTPC" --sock "$SOCK" "$@" \
		>"$out" 2>&1
	rc=$?
	dpn_results "$out" cve.py "$rc" "$n"
}

ncases=$(ls "$CORPUS"/*.hex | wc -l)
dpn_check "the corpus has its $ncases inputs" test "$ncases" -ge 11
cve_run "$ncases" --srv $SRV4 --tag "IPv4 "
cve_run "$ncases" --srv $SRV6 --tag "IPv6 "

# Log flood: 200 of each; nothing may be logged per packet.
lines=$(wc -l <"$LOG")
cve_run "$ncases" --srv $SRV4 --count 200 --tag "x200 "
dpn_check "no log line per packet ($(($(wc -l <"$LOG") - lines)) new)" \
	test "$(($(wc -l <"$LOG") - lines))" -le 2
dpn_check "ntpdig still gets the time (IPv4)" dpn_ntpdig_s1 $SRV4
dpn_check "ntpdig still gets the time (IPv6)" dpn_ntpdig_s1 $SRV6

# The seed's restrict lines but for the rate limit (which would count
# the NTP inputs as limited): mode 6 and 7 refused by noquery now.
conf "restrict default nomodify notrap nopeer noquery" \
	"restrict -6 default nomodify notrap nopeer noquery" \
	"restrict 127.0.0.1"
reload_ok() { dpnc reload | grep -q "^reloaded"; }
dpn_check "reload with noquery" reload_ok
cve_run "$ncases" --srv $SRV4 --noquery --tag "noquery IPv4 "
cve_run "$ncases" --srv $SRV6 --noquery --tag "noquery IPv6 "

# Spoofed sources: the client table is fixed (256 clients: 512 slots),
# and a real client limited before keeps its record through them (a
# penalty of 2 x 2^7 s, so that it cannot end during the floods however
# slowly they go).
conf "restrict default limited" "restrict -6 default limited" \
	"discard average 7 minimum 2"
dpn_check "reload with limited" reload_ok
probe() {
	dpn_cli timeout 20 $PY "$DPN_ROOT/tests/integration/ntpflood.py" \
		probe "$CLI4" "$SRV4" 3 0.2 | awk '/^PATTERN/ { print $2 }'
}
dpn_check "$CLI4: answered once, then limited ($(probe))" \
	test "$(dpn_client_state $CLI4)" = limited
flood() {
	dpn_cli timeout 120 $PY "$DPN_ROOT/tests/integration/cve.py" \
		--dir "$CORPUS" --dpntpc "$DPNTPC" --sock "$SOCK" --srv $SRV4 \
		--iface "$VETH_CLI" --srv-mac "${mac:-00:00:00:00:00:00}" \
		--flood 4000 --net "$1" | grep -q "^FLOOD sent=4000"
}
dpn_check "4000 spoofed sources sent" flood 198.18.64.0
sleep 1
rss1=$(dpn_rss_kb)
t1=$(dpn_clients_tracked)
dpn_check "clients tracked after the flood: $t1, at most 512" \
	test "${t1:-0}" -gt 100 -a "${t1:-999}" -le 512
dpn_check "4000 more spoofed sources sent" flood 198.18.96.0
sleep 1
rss2=$(dpn_rss_kb)
t2=$(dpn_clients_tracked)
dpn_check "clients tracked after the second flood: $t2, at most 512" \
	test "${t2:-999}" -le 512
dpn_check "the second flood added no memory (RSS outside DPDK $rss1 -> $rss2 kB)" \
	test "$((rss2 - rss1))" -lt 1024
dpn_check "$CLI4 still limited after 8000 spoofed sources ($(dpn_client_state $CLI4))" \
	test "$(dpn_client_state $CLI4)" = limited
dpn_check "a client not limited (IPv6) gets the time after the floods" dpn_ntpdig_s1 $SRV6
dpn_check "dpntpd still running" dpn_alive
dpn_pass
