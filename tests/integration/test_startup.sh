#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Starting up. A failure once the upstream client runs (its resolver
# thread started by a `server` line): a control socket that cannot be
# created, a metrics port another process holds. dpntpd must say why
# and exit with status 1 (not die of a signal), leaving no process of
# its own in the server namespace. Then the start log and `show lcores`
# with lcores mapped to other CPUs (--lcores 0@1,1@0): each lcore's CPU
# is the one it is pinned to, not its lcore id.
. "$(dirname "$0")/lib.sh"

METRICS_PORT=9123

dpn_setup || exit 1
dpn_default_conf
# Polled through the data plane; it need not answer.
echo "server 198.18.0.9 iburst" >>"$CONF"

# dpntpd in the server namespace with the application options given;
# its output in $DPN_TMP/fail.out, its exit status returned.
start_fail() {
	ip netns exec "$NS_SRV" timeout 60 "$DPNTPD" --no-huge -m 512 \
		--file-prefix "dpnt$DPN_TAG" -l 0,1 --no-pci \
		--vdev "$(dpn_vdev)" --log-level=error -- \
		--config "$CONF" "$@" >"$DPN_TMP/fail.out" 2>&1
}

# Processes in the server namespace other than the pids given.
ns_others() {
	local p q keep
	for p in $(ip netns pids "$NS_SRV"); do
		keep=1
		for q; do [ "$p" = "$q" ] && keep=0; done
		[ "$keep" = 1 ] && echo "$p $(cat /proc/$p/comm 2>/dev/null)"
	done
}

# $1: exit status; $2: message dpntpd must print; $3...: pids allowed
# in the namespace.
failed_cleanly() {
	local rc=$1 msg=$2 others
	shift 2
	sed 's/^/  /' "$DPN_TMP/fail.out" | tail -3
	others=$(ns_others "$@")
	[ -z "$others" ] || echo "  left in the namespace: $others"
	[ "$rc" -eq 1 ] && grep -qF "$msg" "$DPN_TMP/fail.out" &&
		[ -z "$others" ]
}

start_fail --control-socket "$DPN_TMP/no-such-dir/dpntpd.sock"
rc=$?
dpn_check "control socket in a missing directory: exit 1 (got $rc), said why, nothing left" \
	failed_cleanly "$rc" \
	"control socket $DPN_TMP/no-such-dir/dpntpd.sock: No such file or directory"

# The metrics port held by another listener in the namespace.
ip netns exec "$NS_SRV" $PY -c "
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', $METRICS_PORT))
s.listen(1)
open(sys.argv[1], 'w').close()
time.sleep(120)" "$DPN_TMP/held" &
HOLDER=$!
DPN_PEER_PIDS+=("$HOLDER")
for _ in $(seq 50); do [ -e "$DPN_TMP/held" ] && break; sleep 0.1; done
cp "$CONF" "$DPN_TMP/metrics.conf"
echo "metrics 127.0.0.1:$METRICS_PORT" >>"$DPN_TMP/metrics.conf"
CONF_SAVED=$CONF
CONF=$DPN_TMP/metrics.conf
start_fail --control-socket "$SOCK"
rc=$?
CONF=$CONF_SAVED
dpn_check "metrics port taken: exit 1 (got $rc), said why, nothing left" \
	failed_cleanly "$rc" \
	"metrics: cannot listen on 127.0.0.1:$METRICS_PORT: Address already in use" \
	"$HOLDER"
dpn_check "the socket path of the failed start is gone" test ! -e "$SOCK"
dpn_stop_peers

# Lcore 0 (main) on CPU 1, lcore 1 (worker) on CPU 0.
if [ "$(nproc)" -ge 2 ]; then
	DPN_LCORES=(--lcores 0@1,1@0)
	dpn_start || exit 1
	dpn_check "start log: main lcore 0 on cpu 1" \
		grep -q "lcore 0: main (clock, slow path), socket [0-9]*, cpu 1\$" "$LOG"
	dpn_check "start log: worker lcore 1 on cpu 0" \
		grep -q "lcore 1: worker, socket [0-9]*, cpu 0, polls" "$LOG"
	grep "lcore [01]:" "$LOG" | sed 's/^/  /'
	show_lcores() {
		local out
		out=$(dpnc show lcores) || return 1
		echo "$out" | sed 's/^/  /'
		echo "$out" | awk '$1 == 0 && $2 == "main" && $4 == "1" { m = 1 }
			$1 == 1 && $2 == "worker" && $4 == "0" { w = 1 }
			END { exit !(m && w) }'
	}
	dpn_check "show lcores: cpu 1 for lcore 0, cpu 0 for lcore 1" show_lcores
	dpn_check "show lcores --json: cpu 0 for lcore 1" sh -c \
		"'$DPNTPC' -s '$SOCK' --json show lcores | $PY -c '
import json, sys
d = json.load(sys.stdin)
assert [l[\"cpu\"] for l in d[\"lcores\"] if l[\"lcore\"] == 1] == [0], d'"
	dpn_check "dpntpd still running" dpn_alive
else
	dpn_log "one CPU: lcore to CPU mapping not checked"
fi
dpn_pass
