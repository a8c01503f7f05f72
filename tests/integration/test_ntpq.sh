#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ntpq against dpntpd (issue 16, NTP mode 6): dpntpd in a namespace
# with chronyd (-x) as its upstream; NTPsec's ntpq (unpacked from the
# ntpsec package, python3-ntp as its library) from an address restrict
# lets query. `ntpq -p`, `-c peers`, `-c associations`, `-c rv`,
# `-c "rv ASSOC"` and `-c sysstats` must show what `dpntpc show peers`
# and `show sysinfo` show; writes (writevar, :config) are refused with a
# PERMISSION error and change nothing; mrulist gets nothing; an address
# under `noquery` gets no answer (acl_noquery moves); malformed control
# packets are counted and answered by nothing, and dpntpd keeps serving.
. "$(dirname "$0")/lib.sh"

UP=198.18.0.11		# chronyd, in the client namespace
NOQ4=198.18.0.12	# a client under `restrict default ... noquery`
CTL=$DPN_ROOT/tests/integration/ntpctl.py

dpn_setup || exit 1
ip -n "$NS_CLI" addr add $UP/24 dev "$VETH_CLI"
ip -n "$NS_CLI" addr add $NOQ4/24 dev "$VETH_CLI"
dpn_fetch_ntpsec || { dpn_log "cannot fetch ntpsec (apt-get download ntpsec)"; exit 1; }
# Not niced: dpntpd busy-polls both cores of these machines.
NTPQ=(timeout 30 $PY "$NTPSEC_NTPQ" -n)

dpn_chronyd_server "$NS_CLI" $UP chronyd

# The seed's restrict lines: queries only from the addresses named.
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
listen port 0 address $SRV6/64
server $UP iburst minpoll 3 maxpoll 4
restrict default kod limited nomodify notrap nopeer noquery
restrict -6 default kod limited nomodify notrap nopeer noquery
restrict $CLI4 nomodify notrap
restrict $CLI6 nomodify notrap
restrict 127.0.0.1
CONF
dpn_start || exit 1

sys_peer_is_up() { dpnc show peers | grep -q "^\*$UP "; }
dpn_check "chronyd becomes the system peer within 60 s" \
	dpn_wait_until 120 0.5 sys_peer_is_up
dpnc show peers | sed 's/^/  /'

# --- ntpq -p and -c peers: the lines of show peers ------------------------
# remote, refid, st, t, poll, reach equal; delay, offset and jitter
# within 0.5 ms (a new sample may land between the two reads). Retried:
# reach and the numbers move with every poll.
peers_match() {
	local cmd=$1 q p _
	for _ in $(seq 5); do
		q=$(dpn_cli "${NTPQ[@]}" -c "$cmd" $SRV4 2>&1 | grep "^[*+ x.#o-]$UP ")
		p=$(dpnc show peers | grep "^[*+ x.#o-]$UP ")
		echo "  ntpq:   $q"
		echo "  dpntpc: $p"
		awk -v q="$q" -v p="$p" 'function abs(x) { return x < 0 ? -x : x }
			BEGIN { nq = split(q, a, " +"); np = split(p, b, " +")
			if (nq != 10 || np != 10) exit 1
			for (i = 1; i <= 7; i++) if (i != 5 && a[i] != b[i]) exit 1
			for (i = 8; i <= 10; i++) if (abs(a[i] - b[i]) > 0.5) exit 1
			}' && return 0
		sleep 1
	done
	return 1
}
dpn_check "ntpq -p: chronyd's line is show peers' (tally, refid, st, poll, reach, numbers)" \
	peers_match peers
dpn_check "ntpq -c peers: the same" peers_match peers

# --- ntpq -c rv: the system variables of show sysinfo ---------------------
# key=value pairs of ntpq's rv output, one per line (one ntpq run: each
# takes a while on a busy machine; tried again if it gets nothing).
rv_pairs() {
	local out _
	for _ in 1 2 3; do
		out=$(dpn_cli "${NTPQ[@]}" -c "rv $1" "${2:-$SRV4}" 2>&1 |
			tr ',' '\n' | sed 's/^ *//' | grep '=')
		[ -n "$out" ] && break
	done
	echo "$out"
}
# rvvar NAME: from the pairs in $RV.
rvvar() { awk -F= -v k="$1" '$1 == k { print $2; exit }' <<<"$RV"; }
RV=$(rv_pairs 0)
echo "$RV" | tr '\n' ' ' | fold -w 100 | sed 's/^/  /'; echo
leap_bits=$(dpn_sysvar leap)
dpn_check "rv: leap is show sysinfo's ($leap_bits)" \
	test "$(rvvar leap)" = "$leap_bits"
dpn_check "rv: stratum 2, as show sysinfo" \
	test "$(rvvar stratum)" = 2 -a "$(dpn_sysvar stratum)" = 2
dpn_check "rv: refid is chronyd's address, as show sysinfo" \
	test "$(rvvar refid)" = $UP -a "$(dpn_sysvar refid)" = $UP
dpn_check "rv: precision is show sysinfo's" \
	test "$(rvvar precision)" = "$(dpn_sysvar precision)"
# The offset and frequency move with each sample: read both sides again
# if a sample landed between them.
numbers_close() {
	local _ rv
	for _ in 1 2 3; do
		rv=$(RV=$(rv_pairs 0); echo "$(rvvar offset) $(rvvar frequency)")
		echo "  rv offset, frequency: $rv; show sysinfo: $(dpn_sysvar offset) $(dpn_sysvar frequency)"
		awk -v r="$rv" -v o="$(dpn_sysvar offset)" -v f="$(dpn_sysvar frequency)" \
			'function abs(x) { return x < 0 ? -x : x }
			BEGIN { split(r, a, " "); exit !(a[1] != "" &&
				abs(a[1] - o) < 0.5 && abs(a[2] - f) < 0.1) }' && return 0
	done
	return 1
}
dpn_check "rv: offset within 0.5 ms and frequency within 0.1 ppm of show sysinfo's" \
	numbers_close
for v in version rootdelay rootdisp reftime clock peer tc sys_jitter clk_wander; do
	dpn_check "rv: $v is there" test -n "$(rvvar $v)"
done
dpn_check "rv over IPv6 from an allowed address: stratum 2" \
	test "$(RV=$(rv_pairs 0 $SRV6) rvvar stratum)" = 2
dpn_check "rv with names asks for those only" \
	test "$(rv_pairs "0 stratum,refid" | wc -l)" = 2

# --- associations and rv ASSOC ---------------------------------------------
assocs=$(dpn_cli "${NTPQ[@]}" -c associations $SRV4 2>&1)
echo "$assocs" | sed 's/^/  /'
assid=$(echo "$assocs" | awk '$1 ~ /^[0-9]+$/ && /sys.peer/ { print $2; exit }')
dpn_check "associations: one association, the system peer, reachable" \
	test -n "$assid" -a "$(echo "$assocs" | awk '$1 ~ /^[0-9]+$/' | wc -l)" = 1 \
	-a "$(echo "$assocs" | awk -v a="$assid" '$2 == a { print $5 }')" = yes
RV=$(rv_pairs "$assid")
dpn_check "rv $assid: srcadr is chronyd" test "$(rvvar srcadr)" = $UP
prefid=$(dpnc show peers | awk -v a="*$UP" '$1 == a { print $2 }')
dpn_check "rv $assid: stratum 1 and refid $prefid, as show peers" \
	test "$(rvvar stratum)" = 1 -a ".$(rvvar refid)." = "$prefid"
reach_same() {
	local q p
	q=$(rvvar reach)
	p=$(dpnc show peers | awk -v a="*$UP" '$1 == a { print $7 }')
	echo "  rv reach $q, show peers reach $p (octal)"
	[ -n "$q" ] && [ -n "$p" ] && [ $((q)) = $((8#$p)) ]
}
dpn_check "rv $assid: reach is show peers' reach" reach_same
dpn_check "rv $assid: hpoll and ppoll are there" \
	test -n "$(rvvar hpoll)" -a -n "$(rvvar ppoll)"
out=$(dpn_cli timeout 10 $PY "$CTL" raw $SRV4 160200010000099900000000 $CLI4)
dpn_check "readvar of an association that does not exist: a BADASSOC error ($out)" \
	test "$out" = "REPLIES 1 BYTES 12 ERR 4"

# --- sysstats ----------------------------------------------------------------
stats=$(dpn_cli "${NTPQ[@]}" -c sysstats $SRV4 2>&1)
echo "$stats" | sed 's/^/  /'
# The first number after the label (the second is since the reset).
ss() { echo "$stats" | awk -F: -v k="$1" '$1 == k { split($2, f, " "); print f[1] }'; }
dpn_check "sysstats: uptime, packets received and control requests" \
	test -n "$(ss uptime)" -a "$(ss "packets received")" -gt 0 \
	-a "$(ss "control requests")" -gt 0
dpn_check "sysstats: packets received no more than rx_packets now" \
	test "$(ss "packets received")" -le "$(dpn_counter rx_packets)"
dpn_check "sysstats: no 'Unknown variable' (every name served)" \
	bash -c "! grep -q 'Unknown variable' <<<'$stats'"

# --- writes and mrulist ------------------------------------------------------
before=$(dpn_counter ntp_ctl_refused)
out=$(dpn_cli timeout 30 $PY "$CTL" write $SRV4 2>&1)
echo "$out" | sed 's/^/  /'
dpn_check "writevar refused with PERMISSION" grep -q "^op 3 ERROR PERMISSION" <<<"$out"
dpn_check ":config refused with PERMISSION" grep -q "^op 8 ERROR PERMISSION" <<<"$out"
dpn_check "ntp_ctl_refused moved by 2" test "$(dpn_counter ntp_ctl_refused)" = $((before + 2))
dpn_check "leap unchanged by writevar leap=3" test "$(dpn_sysvar leap)" = "$leap_bits"
dpn_check "no new association from :config" \
	test "$(dpnc show peers | grep -c 198.18.0.99)" = 0
before=$(dpn_counter ntp_ctl_refused)
out=$(dpn_cli "${NTPQ[@]}" -c mrulist $SRV4 2>&1)
dpn_check "mrulist: no answer (ntpq times out)" grep -qi "timed out\|incomplete" <<<"$out"
dpn_check "mrulist: counted refused" test "$(dpn_counter ntp_ctl_refused)" -gt "$before"

# --- noquery, malformed ------------------------------------------------------
RV=160200010000000000000000	# readvar, sequence 1, no data
before=$(dpn_counter acl_noquery)
out=$(dpn_cli timeout 10 $PY "$CTL" raw $SRV4 $RV $NOQ4)
dpn_check "readvar from a noquery address: no answer ($out)" test "$out" = "REPLIES 0 BYTES 0"
dpn_check "acl_noquery moved by 1" test "$(dpn_counter acl_noquery)" = $((before + 1))
out=$(dpn_cli timeout 10 $PY "$CTL" raw $SRV4 $RV $CLI4)
dpn_check "the same readvar from the allowed address: answered ($out)" \
	awk -v o="$out" 'BEGIN { split(o, f, " "); exit !(f[2] >= 1 && f[4] > 200) }'
# One association's variables (its clock filter too) take two fragments.
out=$(dpn_cli timeout 10 $PY "$CTL" raw $SRV4 $(printf "160200010000%04x00000000" "$assid") $CLI4)
dpn_check "readvar of association $assid: 2 to 4 fragments, 480 bytes each at most ($out)" \
	awk -v o="$out" 'BEGIN { split(o, f, " "); exit !(f[2] >= 2 && f[2] <= 4 && f[4] <= f[2] * 480) }'
mal_short=$(dpn_counter drop_ntp_short)
mal=$(dpn_counter ntp_ctl_malformed)
for p in 1602000100000000000000 \
	160200010000000000000010 \
	968200010000000000000000 \
	160200010000000000040000 \
	16020001000000000000ffff61626364; do
	out=$(dpn_cli timeout 10 $PY "$CTL" raw $SRV4 $p $CLI4)
	dpn_check "malformed $p: no answer" test "$out" = "REPLIES 0 BYTES 0"
done
dpn_check "11 bytes counted short" test "$(dpn_counter drop_ntp_short)" = $((mal_short + 1))
dpn_check "count beyond the packet, a response, an offset: ntp_ctl_malformed +4" \
	test "$(dpn_counter ntp_ctl_malformed)" = $((mal + 4))
dpn_check "ntpq -p still works after them" peers_match peers
dpn_check "ntp_ctl_unsent stayed 0" test "$(dpn_counter ntp_ctl_unsent)" = 0
dpn_pass
