#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# restrict rules and rate limiting with real packets: the client
# namespace holds one address per rule, each sends NTP requests from its
# own socket (ntpflood.py probe), and each address must get exactly the
# answers its rule allows: normal replies, nothing (with the right acl_*
# counter moved), or one KoD RATE per penalty for `kod limited`. Also
# ntpdig seeing the KoD, show restrict / show clients, a discard change
# by reload, and a config error refusing the start.
. "$(dirname "$0")/lib.sh"

FLOOD=$DPN_ROOT/tests/integration/ntpflood.py
SRV4B=198.18.1.1	# second subnet: under `restrict default` (IPv4)
CLI4B=198.18.1.2

dpn_setup || exit 1
for a in 10 11 12 13 14 17 18 19 20 21; do
	ip -n "$NS_CLI" addr add 198.18.0.$a/24 dev "$VETH_CLI"
done
ip -n "$NS_CLI" addr add $CLI4B/24 dev "$VETH_CLI"
# Deprecated (preferred_lft 0): never picked as a source by the kernel,
# so ntpdig below sends from $CLI6; a bound socket may still use them.
for a in 5 20 30; do
	ip -n "$NS_CLI" addr add 2001:db8::$a/64 dev "$VETH_CLI" nodad \
		preferred_lft 0
done

# --- a config error refuses the start, with file:line ----------------------
cat > "$CONF" <<CONF
listen port 0 address $SRV4/24
refclock system stratum 1 refid GPS
restrict default kod limited nomodify notrap nopeer noquery
restrict 198.18.0.0 mask
CONF
out=$(timeout 30 ip netns exec "$NS_SRV" "$DPNTPD" --no-huge -m 512 \
	--file-prefix "dpnt$DPN_TAG" -l 0,1 --no-pci \
	--vdev "net_af_packet0,iface=$VETH_SRV" -- \
	--config "$CONF" --control-socket "$SOCK" 2>&1)
rc=$?
echo "$out" | grep -i "restrict\|error" | sed 's/^/  /'
dpn_check "'restrict ADDR mask' without a value: dpntpd refuses to start" \
	test $rc -ne 0 -a $rc -ne 124
dpn_check "... saying $CONF:4: restrict: 'mask' needs a value" \
	grep -qF "$CONF:4: restrict: 'mask' needs a value" <<<"$out"

# --- the running configuration ---------------------------------------------
cat > "$CONF" <<CONF
listen port 0 address $SRV4/24
listen port 0 address $SRV4B/24
listen port 0 address $SRV6/64
refclock system stratum 1 refid GPS
restrict default kod limited nomodify notrap nopeer noquery
restrict -6 default kod limited nomodify notrap nopeer noquery
restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap
restrict 127.0.0.1
restrict ::1
restrict 198.18.0.10 ignore
restrict 198.18.0.11 noserve
restrict 198.18.0.12 version
restrict 198.18.0.13 notrust
restrict 198.18.0.14 nopeer
restrict 198.18.0.16/30 kod limited
restrict 198.18.0.21 limited
restrict 2001:db8::20/128 ignore
restrict 2001:db8::30/128 nomodify
discard average 7 minimum 8
CONF
dpn_start || exit 1

# probe SRC DST COUNT INTERVAL [options]: the reply pattern (see ntpflood.py)
PROBE_OUT=$DPN_TMP/probe.out
probe() {
	dpn_cli timeout 30 $PY "$FLOOD" probe "$@" >"$PROBE_OUT" 2>&1
	sed 's/^/  /' "$PROBE_OUT" >&2
	awk '$1 == "PATTERN" { print $2 }' "$PROBE_OUT"
}

COUNTERS="ntp_server_replies ntp_symmetric_replies acl_ignore acl_noserve
	acl_nopeer acl_notrust acl_version acl_noquery rate_limited kod_sent"
declare -A C0
snap() {
	local n
	for n in $COUNTERS; do C0[$n]=$(dpn_counter "$n"); done
}
# moved "a=1 b=2": exactly these counters moved by exactly these amounts,
# every other one of $COUNTERS stayed put (counters settle within 1 s).
moved() {
	local want=" $1 " n d i ok
	for i in $(seq 20); do
		ok=1
		for n in $COUNTERS; do
			d=$(($(dpn_counter "$n") - C0[$n]))
			if [[ "$want" == *" $n="* ]]; then
				[[ "$want" == *" $n=$d "* ]] || ok=0
			else
				[ "$d" -eq 0 ] || ok=0
			fi
		done
		[ $ok -eq 1 ] && return 0
		sleep 0.05
	done
	for n in $COUNTERS; do
		d=$(($(dpn_counter "$n") - C0[$n]))
		[ "$d" -ne 0 ] && echo "  moved: $n+$d"
	done
	return 1
}

# case NAME EXPECTED_PATTERN "COUNTER=N ..." probe-args...
case_() {
	local what=$1 want=$2 ctr=$3 got
	shift 3
	snap
	got=$(probe "$@")
	dpn_check "$what: pattern $want (got '$got')" test "$got" = "$want"
	dpn_check "$what: counters moved by exactly: $ctr" moved "$ctr"
}

case_ "198.18.0.2 (/24 nomodify notrap) answered at any rate" RRRR \
	"ntp_server_replies=4" $CLI4 $SRV4 4 0.1
case_ "198.18.0.10 ignore: no reply" .. \
	"acl_ignore=2" 198.18.0.10 $SRV4 2 0.1
case_ "198.18.0.10 ignore: symmetric active ignored too" .. \
	"acl_ignore=2" 198.18.0.10 $SRV4 2 0.1 --mode 1
case_ "198.18.0.11 noserve: no reply" .. \
	"acl_noserve=2" 198.18.0.11 $SRV4 2 0.1
case_ "198.18.0.12 version: NTPv3 dropped" .. \
	"acl_version=2" 198.18.0.12 $SRV4 2 0.1 --vn 3
case_ "198.18.0.12 version: NTPv4 answered" RR \
	"ntp_server_replies=2" 198.18.0.12 $SRV4 2 0.1
case_ "198.18.0.13 notrust: unauthenticated request dropped" .. \
	"acl_notrust=2" 198.18.0.13 $SRV4 2 0.1
case_ "198.18.0.14 nopeer: symmetric active (mode 1) dropped" .. \
	"acl_nopeer=2" 198.18.0.14 $SRV4 2 0.1 --mode 1
case_ "198.18.0.14 nopeer: client mode 3 answered" RR \
	"ntp_server_replies=2" 198.18.0.14 $SRV4 2 0.1
case_ "2001:db8::20/128 ignore: no reply over IPv6" .. \
	"acl_ignore=2" 2001:db8::20 $SRV6 2 0.1
case_ "2001:db8::30/128 nomodify: answered at any rate over IPv6" RRR \
	"ntp_server_replies=3" 2001:db8::30 $SRV6 3 0.1
case_ "198.18.0.20 (outside 198.18.0.16/30): not limited" RRRR \
	"ntp_server_replies=4" 198.18.0.20 $SRV4 4 0.1

# discard average 7 minimum 8: 0.2 s apart is under the minimum, so the
# 2nd request starts a penalty; its one KoD, then silence. (With
# average 7 the minimum alone makes the 2nd request limited: 8 s, not
# ntpd's 2, so that ntpdig started twice in a row below, 0.5 s apart
# here, is under it however slow the machine.) A penalty lasts
# two headways (2 x 2^7 s): the clients limited here must still read
# `limited` in `show clients` below however slowly this machine gets
# there (with ntpd's average 3 a penalty is over after 16 s, and a
# clean-clone run once took 17 s to reach that check).
case_ "198.18.0.17 (198.18.0.16/30 kod limited) 10 at 0.2 s: reply, one KoD, silence" \
	"RK........" "ntp_server_replies=1 rate_limited=9 kod_sent=1" \
	198.18.0.17 $SRV4 10 0.2
case_ "198.18.0.21 limited (no kod): reply, then silence, no KoD" \
	"R...." "ntp_server_replies=1 rate_limited=4" \
	198.18.0.21 $SRV4 5 0.2
case_ "$CLI4B under 'restrict default kod limited': reply, one KoD, silence" \
	"RK...." "ntp_server_replies=1 rate_limited=5 kod_sent=1" \
	$CLI4B $SRV4B 6 0.2
case_ "2001:db8::5 under 'restrict -6 default kod limited': reply, one KoD, silence" \
	"RK...." "ntp_server_replies=1 rate_limited=5 kod_sent=1" \
	2001:db8::5 $SRV6 6 0.2
case_ "198.18.0.17 still in its penalty: silence, no second KoD" \
	"..." "rate_limited=3" 198.18.0.17 $SRV4 3 0.2

# ntpdig (ntpsec) from 2001:db8::2, under the -6 default: back to back,
# it sees the KoD (ntpdig 1.2.2 says "probable KOD packet").
snap
dig_out=$DPN_TMP/ntpdig.out
: >"$dig_out"
for i in 1 2 3 4 5 6; do
	dpn_cli timeout 5 ntpdig -t 1 $SRV6 >>"$dig_out" 2>&1
done
sed 's/^/  /' "$dig_out"
dpn_check "ntpdig from $CLI6 answered the first time" \
	grep -q " $SRV6 s1 " "$dig_out"
dpn_check "ntpdig from $CLI6 then sees the KoD" \
	grep -q "stratum 0, probable KOD packet" "$dig_out"
dpn_check "ntpdig x6 back to back: 1 reply, 1 KoD, 5 limited" \
	moved "ntp_server_replies=1 rate_limited=5 kod_sent=1"

clients=$(dpnc show clients 20)
echo "$clients" | sed 's/^/  /'
client_is() {	# client_is ADDR REQUESTS LIMITED STATE
	awk -v a="$1" -v h="$2" -v l="$3" -v s="$4" '$1 == a {
		found = 1; ok = ($2 == h && $3 == l && $6 == s) }
		END { exit !(found && ok) }' <<<"$clients"
}
dpn_check "show clients: $CLI6 6 requests, 5 limited, state limited" \
	client_is $CLI6 6 5 limited
dpn_check "show clients: 198.18.0.17 13 requests, 12 limited, limited" \
	client_is 198.18.0.17 13 12 limited
dpn_check "show clients: 198.18.0.21 (limited, no kod) 5 requests, 4 limited, limited" \
	client_is 198.18.0.21 5 4 limited
not_tracked() { ! grep -q '^198\.18\.0\.2 \|^198\.18\.0\.12 \|^2001:db8::30 ' <<<"$clients"; }
dpn_check "show clients: clients of rules without limited are not tracked" \
	not_tracked
dpn_check "show clients: 5 clients tracked" \
	grep -q "^# 5 clients tracked" <<<"$clients"
top2() {	# show clients 2: two lines, the busiest (13 requests) first
	dpnc show clients 2 | awk '!/^#/ && $1 != "client" { print $1, $2 }' |
		paste -sd' ' | grep -Eqx "198\.18\.0\.17 13 [0-9a-f:.]+ 6"
}
dpn_check "show clients 2: the two busiest, 198.18.0.17 (13) first" top2

restr=$(dpnc show restrict)
echo "$restr" | sed 's/^/  /'
rule_is() {	# rule_is "RULE TEXT" HITS DROPS KODS
	awk -v r="$1" -v h="$2" -v d="$3" -v k="$4" '{
		t = $0; sub(/^ *[0-9]+ +[0-9]+ +[0-9]+  /, "", t)
		if (t == r) { found++; ok = ($1 == h && $2 == d && $3 == k) } }
		END { exit !(found == 1 && ok) }' <<<"$restr"
}
dpn_check "show restrict: 198.18.0.10 ignore: 4 hits, 4 drops, 0 kods" \
	rule_is "restrict 198.18.0.10 ignore" 4 4 0
dpn_check "show restrict: 198.18.0.12 version: 4 hits, 2 drops" \
	rule_is "restrict 198.18.0.12 version" 4 2 0
dpn_check "show restrict: 198.18.0.16/30 kod limited: 13 hits, 11 drops, 1 kod" \
	rule_is "restrict 198.18.0.16 mask 255.255.255.252 kod limited" 13 11 1
dpn_check "show restrict: 198.18.0.21 limited: 5 hits, 4 drops, 0 kods" \
	rule_is "restrict 198.18.0.21 limited" 5 4 0
dpn_check "show restrict: 198.18.0.0/24: 8 hits (.2 and .20), 0 drops" \
	rule_is "restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap" 8 0 0
dpn_check "show restrict: -6 default: 12 hits, 8 drops, 2 kods" \
	rule_is "restrict -6 default noquery nomodify notrap nopeer kod limited" 12 8 2
dpn_check "show restrict: discard average 7 minimum 8" \
	grep -q "^# 14 rules; discard average 7 minimum 8 " <<<"$restr"

# --- discard changed by reload: ntpd's averaging ---------------------------
# With minimum 0 only the average counts: each request adds 32 s to the
# client's score, which leaks 1 s a second, limit 256 s: at 0.2 s apart
# the first 8 are answered, the 9th is the KoD, then silence. The 9th
# would pass only 4 s after the 8th (with average 3, 8 s a request and
# a limit of 64 s, a 1 s stall of the sender was enough).
sed -i 's/^discard .*/discard average 5 minimum 0/' "$CONF"
dpn_check "reload with 'discard average 5 minimum 0'" dpnc reload
discard_is() { dpnc show restrict | grep -q "^# 14 rules; discard $1 "; }
dpn_check "show restrict: discard average 5 minimum 0" \
	discard_is "average 5 minimum 0"
case_ "198.18.0.18 (kod limited, average 5, minimum 0) 12 at 0.2 s: 8 replies, one KoD, silence" \
	"RRRRRRRRK..." "ntp_server_replies=8 rate_limited=4 kod_sent=1" \
	198.18.0.18 $SRV4 12 0.2

# --- a client's cached verdict does not outlive its rule -----------------
# A limited client's slot remembers its restrict entry, so that its next
# request skips the lookup; a rule added or removed for it must still
# apply from its very next request.
case_ "198.18.0.19 (kod limited): answered, its verdict now cached" RR \
	"ntp_server_replies=2" 198.18.0.19 $SRV4 2 0.2
dpn_check "restrict add 198.18.0.19 ignore" dpnc restrict add 198.18.0.19 ignore
case_ "198.18.0.19 after 'restrict add ... ignore': no reply" .. \
	"acl_ignore=2" 198.18.0.19 $SRV4 2 0.2
dpn_check "restrict del 198.18.0.19" dpnc restrict del 198.18.0.19
case_ "198.18.0.19 after 'restrict del': answered again" RR \
	"ntp_server_replies=2" 198.18.0.19 $SRV4 2 0.2

# --- clientlimit: the table is bounded; a limited client is kept before ---
# --- one-shot newcomers; an evicted client starts clean ---
# minimum 8: the second request of a client below, 0.2 s after its
# first, is under it even if the sender stalls; average 7: a penalty
# lasts 2 x 128 s, so the limited clients below stay limited however
# slowly the checks run.
sed -i 's/^discard .*/discard average 7 minimum 8/' "$CONF"
echo "clientlimit 1" >>"$CONF"
out=$(dpnc reload 2>&1)
echo "  $out"
dpn_check "reload with a clientlimit change: applied, says it needs a restart" \
	grep -q "clientlimit and xleavelimit changes need a restart" <<<"$out"
kill -TERM "$DPN_PID"
wait "$DPN_PID"
dpn_start || exit 1
# clientlimit 1: one bucket of two slots, so eviction is deterministic.
dpn_check "clientlimit 1: 2 client slots per worker" \
	grep -q "clientlimit 1: 2 client slots (64 bytes) per worker" "$LOG"
case_ "clientlimit 1: 198.18.0.17 reply, KoD" RK \
	"ntp_server_replies=1 rate_limited=1 kod_sent=1" 198.18.0.17 $SRV4 2 0.2
for a in "198.18.0.21 $SRV4" "$CLI4B $SRV4B" "2001:db8::5 $SRV6" \
	"198.18.0.18 $SRV4"; do
	case_ "clientlimit 1: new client ${a% *} answered" R \
		"ntp_server_replies=1" $a 1 0.1
done
# One-shot newcomers evict each other, not a client held back by the
# limit: 198.18.0.17 is still limited (one KoD per penalty: silence).
case_ "clientlimit 1: 198.18.0.17 still limited after four newcomers" . \
	"rate_limited=1" 198.18.0.17 $SRV4 1 0.1
tracked2() { dpnc show clients | grep -q "^# 2 clients tracked"; }
dpn_check "clientlimit 1: 2 clients tracked" tracked2
# With both slots held back, a newcomer takes the least recently seen
# (198.18.0.17, limited longer than 198.18.0.18), which starts clean.
case_ "clientlimit 1: 198.18.0.18 limited too" K. \
	"rate_limited=2 kod_sent=1" 198.18.0.18 $SRV4 2 0.1
case_ "clientlimit 1: new client 198.18.0.19 answered" R \
	"ntp_server_replies=1" 198.18.0.19 $SRV4 1 0.1
case_ "clientlimit 1: 198.18.0.17, evicted, starts clean" R \
	"ntp_server_replies=1" 198.18.0.17 $SRV4 1 0.1

dpn_check "dpntpd still running" dpn_alive
dpn_pass
