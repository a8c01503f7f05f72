#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Startup errors name the file and line; the control socket and dpntpc
# give clear errors for bad commands and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"

dpn_check "unknown directive refused with file:line" dpn_refused_with \
	'listen port 0 address 198.18.0.1/24\n\nfrobnicate 3\n' \
	"$DPN_TMP/bad.conf:3: unknown directive 'frobnicate'"
dpn_check "bad prefix refused with file:line" dpn_refused_with \
	'# comment\nlisten port 0 address 198.18.0.1/33\n' \
	"$DPN_TMP/bad.conf:2:"
dpn_check "bad refclock option refused with file:line" dpn_refused_with \
	'refclock system stratum 16\n' "$DPN_TMP/bad.conf:1:"
rm -f "$DPN_TMP/bad.conf"
dpn_check "missing file: strerror" sh -c "'$DPNTPD' --no-huge -m 64 --no-pci -l 0,1 --file-prefix dpnt$DPN_TAG --log-level=error -- --config $DPN_TMP/nonexistent.conf 2>&1 | grep -q 'nonexistent.conf: No such file or directory'"
dpn_check "no listen line refused" dpn_refused_with '' "no 'listen' line"
dpn_check "bad --nb-workers refused" sh -c "'$DPNTPD' --no-huge -m 64 --no-pci -l 0,1 --file-prefix dpnt$DPN_TAG --log-level=error -- --config /dev/null --nb-workers x 2>&1 | grep -q 'nb-workers'"

dpn_setup || exit 1
dpn_start || exit 1

unknown_cmd() {
	local out rc
	out=$(dpnc frobnicate 2>&1)
	rc=$?
	echo "  $out"
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "unknown command"
}
dpn_check "unknown command: exit 1 and a clear error" unknown_cmd
bad_args() {
	local out rc
	out=$(dpnc show port stats 99 2>&1)
	rc=$?
	echo "  $out"
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "no port 99"
}
dpn_check "show port stats 99: exit 1, no such port" bad_args
oversize() {
	local out rc
	out=$(dpnc "show $(head -c 5000 /dev/zero | tr '\0' x)" 2>&1)
	rc=$?
	echo "  $out"
	[ "$rc" -ne 0 ] && echo "$out" | grep -q "longer than"
}
dpn_check "oversize command refused" oversize
garbage() {
	# Random bytes (NULs and newlines included) straight to the socket:
	# each gets a status line with a message; the daemon survives.
	timeout 60 $PY -c '
import os, socket, sys
cases = [b"show\0stats\n", b"\0\n", b"\n", b"\xff" * 100]
cases += [os.urandom(1 + i * 7 % 600) for i in range(100)]
for data in cases:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    last = reply.rstrip(b"\n").split(b"\n")[-1]
    if not (last == b"#ok" or (last.startswith(b"#error: ") and len(last) > 8)):
        sys.exit("bad reply %r to %r" % (last, data[:40]))
print("  %d garbage requests answered" % len(cases))' "$SOCK"
}
dpn_check "binary garbage on the socket: status line every time, daemon survives" garbage
silent() {
	# A client that connects and says nothing must not block others.
	$PY -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(8)' "$SOCK" &
	local p=$!
	sleep 0.5
	timeout 10 "$DPNTPC" -s "$SOCK" show sysinfo >/dev/null
	local rc=$?
	kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
	return $rc
}
dpn_check "a silent client does not lock out dpntpc" silent
dpn_check "help lists the commands" sh -c "'$DPNTPC' -s '$SOCK' help | grep -q 'show stats'"
dpn_check "show config prints the listen lines" sh -c "'$DPNTPC' -s '$SOCK' show config | grep -q 'listen port 0 address 198.18.0.1/24'"
dpn_check "show port info shows the driver" sh -c "'$DPNTPC' -s '$SOCK' show port info all | grep -q 'net_af_packet'"
dpn_check "socket mode is 0660" test "$(stat -c %a "$SOCK")" = 660
dpn_check "still serving after the bad requests" dpn_cli timeout 10 ntpdig -t 2 $SRV4
dpn_check "SIGHUP does not stop the daemon" sh -c "kill -HUP $DPN_PID; sleep 0.5; kill -0 $DPN_PID"
sigterm() {
	kill -TERM "$DPN_PID"
	# However slow the machine: a clean exit is the point, not its speed.
	for _ in $(seq 300); do
		kill -0 "$DPN_PID" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$DPN_PID" 2>/dev/null && wait "$DPN_PID" && [ ! -e "$SOCK" ]
}
dpn_check "SIGTERM: clean exit 0, socket removed" sigterm

interactive() {
	# The prompt reads commands from stdin; quit stops the daemon.
	local out
	out=$(printf 'show stats\nshow sysinfo\nquit\n' | timeout 30 \
		ip netns exec "$NS_SRV" "$DPNTPD" --no-huge -m 512 \
		--file-prefix "dpnt$DPN_TAG" -l 0,1 --no-pci \
		--vdev "net_af_packet0,iface=$VETH_SRV" -- \
		--config "$CONF" --control-socket none -i 2>&1)
	local rc=$?
	echo "$out" | grep -E '^(rx_packets|stratum)'
	[ "$rc" -eq 0 ] && echo "$out" | grep -q '^rx_packets' &&
		echo "$out" | grep -q '^stratum=1$'
}
dpn_check "-i: commands on stdin answered, quit stops dpntpd" interactive
dpn_pass
