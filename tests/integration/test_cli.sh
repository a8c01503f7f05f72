#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The command set through dpntpc: show lcores, show port xstats, clear
# port stats, set log level, show ptp; JSON output; a --cmdline-file run
# at start; the control socket's group may read but only root may change
# things; startup errors for a bad --control-group.
. "$(dirname "$0")/lib.sh"

GROUP=nogroup		# the socket's group in this test
OTHER_GID=1		# a group that is not it (daemon)

dpn_check "bad --control-group: clear start error" sh -c "'$DPNTPD' --no-huge -m 64 --no-pci -l 0,1 --file-prefix dpnt$DPN_TAG --log-level=error -- --config /dev/null --control-socket none --control-group no-such-group-x 2>&1 | grep -q \"control-group: no group 'no-such-group-x'\""

dpn_setup || exit 1
cat > "$DPN_TMP/cmds" <<CMDS
# run by dpntpd at start
show ptp
frobnicate 3
restrict add 198.18.0.99 ignore
show lcores
CMDS
# The unprivileged user must reach the socket inside the test folder.
chmod 0711 "$DPN_TMP"
DPN_APP_ARGS=(--control-group "$GROUP" --cmdline-file "$DPN_TMP/cmds")
dpn_start || exit 1

# --cmdline-file: each line ran, the bad one is reported with file:line
# and the next ones still ran (the rule is in force).
dpn_check "--cmdline-file: output on stdout" grep -q "^no PTP reference configured" "$LOG"
dpn_check "--cmdline-file: a bad line names FILE:LINE" grep -qF "$DPN_TMP/cmds:3: error: unknown command" "$LOG"
dpn_check "--cmdline-file: lines after the bad one ran" sh -c "'$DPNTPC' -s '$SOCK' show restrict | grep -q 'restrict 198.18.0.99 ignore'"
dpn_check "startup log names each lcore's role and socket" grep -q "lcore 1: worker, socket [0-9]*, cpu [0-9]*, polls port 0 queue 0" "$LOG"

help_lists() {
	local out c
	out=$(dpnc help) || return 1
	for c in "show lcores" "show port stats|xstats|info" "clear port stats" \
		"set log level" "show ptp" "show restrict" "reload" "quit"; do
		echo "$out" | grep -qF "$c" || { echo "  missing: $c"; return 1; }
	done
}
dpn_check "help lists every command" help_lists

lcores() {
	local out
	out=$(dpnc show lcores) || return 1
	sed 's/^/  /' <<<"$out"
	echo "$out" | grep -Eq '^ +0 main ' &&
		echo "$out" | grep -Eq '^ +1 worker +[0-9]+ +[0-9]+ +[0-9.]+ +port 0 queue 0$'
}
dpn_check "show lcores: lcore 0 main, lcore 1 worker polling port 0 queue 0" lcores
dpn_check "show ptp: no PTP reference" sh -c "'$DPNTPC' -s '$SOCK' show ptp | grep -q '^no PTP reference configured'"
dpn_check "show port xstats: driver counters" sh -c "'$DPNTPC' -s '$SOCK' show port xstats 0 | grep -Eq '^  rx_good_packets +[0-9]+$'"
no_port() {
	local out rc
	out=$(dpnc show port xstats 7 2>&1)
	rc=$?
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "no port 7"
}
dpn_check "show port xstats 7: exit 1, no such port" no_port

port_rx() {
	dpnc show port stats 0 | awk '$1 == "rx_packets" { print $2 }'
}
clear_stats() {
	local before after
	for _ in 1 2 3 4 5; do
		dpn_cli timeout 5 ntpdig -t 1 "$SRV4" >/dev/null 2>&1
	done
	before=$(port_rx)
	dpnc clear port stats 0 || return 1
	after=$(port_rx)
	echo "  rx_packets $before before, $after after"
	[ "${before:-0}" -ge 5 ] && [ "${after:-99}" -lt "$before" ] &&
		[ "$after" -le 2 ]
}
dpn_check "clear port stats: rx_packets back to (about) 0" clear_stats

log_level() {
	local out
	out=$(dpnc set log level debug) || return 1
	echo "  $out"
	echo "$out" | grep -q "dpntp.dataplane" && echo "$out" | grep -q "dpntp.app" &&
		dpnc set log level info >/dev/null &&
		dpnc set log level 'pmd.net.af_packet' warning | grep -q "pmd.net.af_packet"
}
dpn_check "set log level: dpntp.* types and TYPE LEVEL accepted" log_level
bad_level() {
	local out rc
	out=$(dpnc set log level loud 2>&1)
	rc=$?
	echo "  $out"
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "unknown log level 'loud' (emerg"
}
dpn_check "set log level: a bad level is refused, naming the good ones" bad_level

# As nobody in the socket's group: reading works, changing is refused.
as_group() { setpriv --reuid=65534 --regid="$1" --clear-groups "${@:2}"; }
dpn_check "the socket belongs to the --control-group" test "$(stat -c '%G %a' "$SOCK")" = "$GROUP 660"
reader() { as_group 65534 "$DPNTPC" -s "$SOCK" show stats | grep -q '^rx_packets'; }
dpn_check "group member: show stats works" reader
refused() {
	local out rc
	out=$(as_group 65534 "$DPNTPC" -s "$SOCK" "$@" 2>&1)
	rc=$?
	echo "  $out"
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "requires root"
}
dpn_check "group member: restrict add refused (requires root)" refused restrict add 198.18.0.77 ignore
dpn_check "group member: reload refused" refused reload
dpn_check "group member: clear port stats refused" refused clear port stats
dpn_check "group member: set log level refused" refused set log level debug
dpn_check "the refused rule is not in force" sh -c "! '$DPNTPC' -s '$SOCK' show restrict | grep -q 198.18.0.77"
dpn_check "a refusal is logged with the uid" grep -q "refused 'restrict add 198.18.0.77 ignore' from uid 65534" "$LOG"
outsider() {
	local out rc
	out=$(as_group "$OTHER_GID" "$DPNTPC" -s "$SOCK" show stats 2>&1)
	rc=$?
	echo "  $out"
	[ "$rc" -eq 2 ] && echo "$out" | grep -q "Permission denied"
}
dpn_check "outside the group: cannot connect" outsider
dpn_check "root: restrict del works" dpnc restrict del 198.18.0.99

# --json: each command's output is one JSON object.
json_ok() {
	local out
	out=$(dpnc --json "$@") || return 1
	echo "$out" | $PY -m json.tool >/dev/null || { echo "  not JSON: $out"; return 1; }
}
for c in "show stats" "show port stats" "show port xstats 0" "show restrict" \
	"show clients" "show sysinfo" "show lcores" "show ptp" "show config" \
	"help"; do
	# shellcheck disable=SC2086
	dpn_check "--json $c parses" json_ok $c
done
json_values() {
	dpnc --json show stats | $PY -c '
import json, sys
d = json.load(sys.stdin)
assert d["total"]["rx_packets"] >= 5, d["total"]
assert d["lcores"][0]["lcore"] == 1
assert "busy_percent" in d["lcores"][0]' &&
	dpnc --json show lcores | $PY -c '
import json, sys
d = json.load(sys.stdin)
w = [l for l in d["lcores"] if l["role"] == "worker"]
assert w and w[0]["polls"] == [{"port": 0, "queue": 0}], d' &&
	dpnc --json show sysinfo | $PY -c '
import json, sys
d = json.load(sys.stdin)
assert d["stratum"] == 1 and d["refid"] == ".GPS." and d["sync"] == "yes", d' &&
	dpnc --json help | $PY -c '
import json, sys
assert "show lcores" in json.load(sys.stdin)["output"]'
}
dpn_check "--json: values scripts use (counters, lcores, stratum, wrapped text)" json_values
json_error() {
	local out rc
	out=$(dpnc --json frobnicate 2>/dev/null)
	rc=$?
	[ "$rc" -eq 1 ] && echo "$out" | $PY -c '
import json, sys
assert "unknown command" in json.load(sys.stdin)["error"]'
}
dpn_check "--json: an error is {\"error\": ...} and exit 1" json_error
dpn_check "text output unchanged by JSON mode" sh -c "'$DPNTPC' -s '$SOCK' show stats | head -1 | grep -q '^counter  *total'"
dpn_check "still serving" dpn_best_of3 dpn_ntpdig_s1 "$SRV4"

# Under systemd (stderr is the journal, JOURNAL_STREAM names it) the log
# goes to syslog only, not twice.
journal() {
	local out=$DPN_TMP/journal.log st
	: > "$out"
	st=$(stat -c '%d:%i' "$out")
	printf 'quit\n' | JOURNAL_STREAM=$st timeout 30 "$DPNTPD" --no-huge \
		-m 512 --no-pci -l 0,1 --file-prefix "dpnt${DPN_TAG}j" \
		--vdev net_null0 -- --config "$CONF" --control-socket none -i \
		2>>"$out" >/dev/null
	rm -rf "/var/run/dpdk/dpnt${DPN_TAG}j"
	! grep -q "serving with" "$out"
}
dpn_check "stderr is the journal: log lines not doubled there" journal
dpn_pass
