#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's first command: scripts/quickstart.sh serves time on a TAP
# device (dpntp0) to this host's own clients, answers dpntpc on the
# default socket, and removes everything on SIGTERM.
. "$(dirname "$0")/lib.sh"

if ip link show dpntp0 >/dev/null 2>&1; then
	dpn_log "dpntp0 exists already (a quickstart is running): skipped"
	exit 1
fi
setsid "$DPN_ROOT/scripts/quickstart.sh" >"$LOG" 2>&1 &
QS_PID=$!
stop_qs() {
	kill -TERM "$QS_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$QS_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$QS_PID" 2>/dev/null
	return 1
}
trap 'stop_qs; dpn_cleanup' EXIT

up=
for _ in $(seq 300); do
	if "$DPNTPC" show sysinfo >/dev/null 2>&1 && ip link show dpntp0 2>/dev/null | grep -q UP; then
		up=1
		break
	fi
	kill -0 "$QS_PID" 2>/dev/null || break
	sleep 0.1
done
dpn_check "quickstart came up with dpntp0 and the default control socket" test -n "$up"
sleep 1

host_ntpdig() {
	local out off
	out=$(timeout 10 ntpdig -t 2 "$1" 2>&1) || { echo "$out"; return 1; }
	echo "  $out"
	off=$(echo "$out" | awk '{ print $4 }')
	dpn_abs_lt "$off" 0.001
}
dpn_check "ntpdig 198.18.0.1 from the host, offset < 1 ms" \
	dpn_best_of3 host_ntpdig 198.18.0.1
dpn_check "ntpdig 2001:db8::1 from the host, offset < 1 ms" \
	dpn_best_of3 host_ntpdig 2001:db8::1
chrony_host() {
	local out
	out=$(timeout 20 chronyd -x -Q -t 15 'server 198.18.0.1 iburst' 2>&1)
	echo "$out" | sed 's/^/  /'
	echo "$out" | grep -q "System clock wrong by"
}
dpn_check "chronyd -x -Q 'server 198.18.0.1 iburst' from the host" chrony_host
dpn_check "dpntpc with no -s reaches the daemon" sh -c "'$DPNTPC' show stats | grep -q ntp_server_replies"
dpn_check "curl http://127.0.0.1:9123/metrics counts the replies" sh -c \
	"curl -sS --max-time 10 http://127.0.0.1:9123/metrics |
	 grep -q '^dpntp_replies_total{mode=\"server\"} [1-9]'"

dpn_check "SIGTERM stops quickstart" stop_qs
dpn_check "dpntp0 removed" sh -c '! ip link show dpntp0 2>/dev/null'
dpn_check "control socket removed" test ! -e /run/dpntpd.sock
dpn_check "DPDK runtime files removed" test ! -e /var/run/dpdk/dpntpd-quickstart
dpn_pass
