#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Changing the restrict rules under load loses nothing: clients send a
# steady 50 requests/s each (ntpflood.py steady) while the rules change
# by SIGHUP, by `dpntpc reload`, by `restrict add|del`, and a reload of a
# broken file is refused. The two clients whose rules never change get
# every request answered (matched by origin timestamp); the third,
# 198.18.0.30, is answered exactly while its rule allows it.
. "$(dirname "$0")/lib.sh"

FLOOD=$DPN_ROOT/tests/integration/ntpflood.py
CHG=198.18.0.30
RATE=50
# The flood runs until the changes are done (a stop file), however long
# they take on a slow machine: this only bounds it.
MAX_DURATION=120
STOP=$DPN_TMP/flood.stop

dpn_setup || exit 1
ip -n "$NS_CLI" addr add $CHG/24 dev "$VETH_CLI"

base_conf() {
	cat <<CONF
listen port 0 address $SRV4/24
listen port 0 address $SRV6/64
refclock system stratum 1 refid GPS
restrict default kod limited nomodify notrap nopeer noquery
restrict -6 default kod limited nomodify notrap nopeer noquery
restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap
restrict 2001:db8::/64 nomodify notrap
restrict 198.18.0.50 ignore
discard average 3 minimum 2
CONF
}
base_conf >"$CONF"
dpn_start || exit 1
# Neighbours resolved before the flood (not needed for correctness:
# the kernel queues while it resolves; it keeps the timing clean).
dpn_cli ping -c 1 -W 2 $SRV4 >/dev/null
dpn_cli ping -6 -c 1 -W 2 $SRV6 >/dev/null

rules() { dpnc show restrict | sed -n 's/^ *[0-9]* *[0-9]* *[0-9]*  restrict/restrict/p'; }
has_rule() { rules | grep -qx "$1"; }
no_rule_for() { ! rules | grep -qF " $1 "; }
now() { date +%s.%N; }
EVENTS=$DPN_TMP/events
: >"$EVENTS"
ign0=$(dpn_counter acl_ignore)
rules_before=$(rules)

OUT=$DPN_TMP/flood.out
rep0=$(dpn_counter ntp_server_replies)
dpn_cli timeout $((MAX_DURATION + 30)) $PY "$FLOOD" steady $SRV4 $SRV6 \
	--src $CLI4 --src $CLI6 --src $CHG --rate $RATE \
	--duration $MAX_DURATION --stop-file "$STOP" --events "$EVENTS" \
	--changing $CHG >"$OUT" 2>&1 &
FLOOD_PID=$!
# The first change only once the flood runs (Python may take a while to
# start): half a second of its replies, then a second more.
flood_runs() {
	local _
	for _ in $(seq 300); do
		[ "$(dpn_counter ntp_server_replies)" -ge $((rep0 + 3 * RATE / 2)) ] &&
			return 0
		sleep 0.1
	done
	return 1
}
dpn_check "the flood is answered" flood_runs
sleep 1

# (a) SIGHUP with a file that ignores $CHG: applied asynchronously, so
# the change counts from when show restrict lists the new rule.
{ base_conf; echo "restrict $CHG ignore"; } >"$CONF"
t0=$(now)
kill -HUP "$DPN_PID"
for i in $(seq 100); do
	has_rule "restrict $CHG ignore" && break
	sleep 0.02
done
t1=$(now)
echo "$t0 $t1 refused" >>"$EVENTS"
dpn_check "SIGHUP: new rule 'restrict $CHG ignore' in use" \
	has_rule "restrict $CHG ignore"
sleep 1

# (b) dpntpc reload with the rule gone again.
base_conf >"$CONF"
t0=$(now)
out=$(dpnc reload 2>&1)
rc=$?
t1=$(now)
echo "$t0 $t1 answered" >>"$EVENTS"
echo "  $out"
dpn_check "dpntpc reload succeeds" test $rc -eq 0
dpn_check "reload: 'restrict $CHG ignore' gone" \
	no_rule_for $CHG
sleep 1

# (c) restrict add / del from the control socket.
t0=$(now)
out=$(dpnc restrict add $CHG ignore 2>&1)
rc=$?
t1=$(now)
echo "$t0 $t1 refused" >>"$EVENTS"
echo "  $out"
dpn_check "restrict add $CHG ignore succeeds" test $rc -eq 0
dpn_check "restrict add: rule listed" has_rule "restrict $CHG ignore"
sleep 1
t0=$(now)
out=$(dpnc restrict del $CHG 2>&1)
rc=$?
t1=$(now)
echo "$t0 $t1 answered" >>"$EVENTS"
echo "  $out"
dpn_check "restrict del $CHG succeeds" test $rc -eq 0
dpn_check "restrict del: rule gone" no_rule_for $CHG
sleep 0.7

# (d) a broken file: refused with file:line, old rules kept. The good
# lines before the error must not be applied either.
rules_good=$(rules)
{ base_conf; echo "restrict $CHG ignore"; echo "restrict 198.18.0.0 mask"; } >"$CONF"
bad_line=$(wc -l <"$CONF")
out=$(dpnc reload 2>&1)
rc=$?
echo "  $out"
dpn_check "reload of a broken file fails" test $rc -ne 0
dpn_check "... with $CONF:$bad_line: restrict: 'mask' needs a value" \
	grep -qF "$CONF:$bad_line: restrict: 'mask' needs a value" <<<"$out"
dpn_check "... and the running rules are unchanged" \
	test "$(rules)" = "$rules_good"
kill -HUP "$DPN_PID"
dpn_check "SIGHUP with the broken file: refused, logged with file:line" \
	dpn_wait_log "SIGHUP: reload failed, running configuration kept: $CONF:$bad_line: restrict: 'mask' needs a value" 30
dpn_check "... and the running rules are unchanged" \
	test "$(rules)" = "$rules_good"

# A last second of the final phase, then the flood stops.
sleep 1
touch "$STOP"
wait $FLOOD_PID
rc=$?
sed 's/^/  /' "$OUT"
dpn_check "flood ran to the end" test $rc -eq 0

# The flood ran at least 5.7 s (the sleeps above).
min=$((RATE * 5))
src_ok() {	# every request from $1 answered once, correctly
	awk -v s="$1" -v min=$min '$1 == "SRC" && $2 == s {
		split($3, a, "="); split($4, b, "="); split($5, c, "=")
		split($6, d, "=")
		found = 1; ok = (a[2] >= min && a[2] == b[2] && c[2] == 0 &&
				 d[2] == 0) }
		END { exit !(found && ok) }' "$OUT"
}
dpn_check "$CLI4 (rule never changed): every request answered" src_ok $CLI4
dpn_check "$CLI6 (rule never changed): every request answered" src_ok $CLI6
phase_ok() {	# phase $1 of $CHG: state $2, at least 20 requests, all as expected
	awk -v p="$1" -v st="$2" '$1 == "PHASE" && $2 == p {
		split($4, a, "="); split($5, b, "=")
		found = 1; ok = ($3 == st && a[2] >= 20 && a[2] == b[2]) }
		END { exit !(found && ok) }' "$OUT"
}
dpn_check "$CHG answered before any change" phase_ok 0 answered
dpn_check "$CHG refused after SIGHUP (ignore)" phase_ok 1 refused
dpn_check "$CHG answered after dpntpc reload" phase_ok 2 answered
dpn_check "$CHG refused after restrict add" phase_ok 3 refused
dpn_check "$CHG answered after restrict del, and through the failed reloads" \
	phase_ok 4 answered
# Every request of $CHG left unanswered was dropped by `ignore`, no other.
unanswered=$(awk -v s=$CHG '$1 == "SRC" && $2 == s {
	split($3, a, "="); split($4, b, "="); print a[2] - b[2] }' "$OUT")
dpn_check "acl_ignore moved by $CHG's unanswered requests ($unanswered)" \
	test "$(($(dpn_counter acl_ignore) - ign0))" -eq "${unanswered:--1}"
dpn_check "no request rate limited" test "$(dpn_counter rate_limited)" -eq 0
dpn_check "rules at the end are the rules at the start" \
	test "$(rules)" = "$rules_before"
dpn_check "dpntpd still running" dpn_alive
dpn_pass
