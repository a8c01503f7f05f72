#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Host clock steps (issue 15's fault suite): under `refclock system` the
# host clock jumps +100 s and then back (-100 s), as seen by dpntpd only:
# an LD_PRELOAD shim (tests/tools/fakeclock.c) adds an offset that the
# test rewrites to every clock_gettime(CLOCK_REALTIME) of dpntpd, so the
# machine's clock is never touched (a time namespace cannot shift
# CLOCK_REALTIME). Served time follows each jump at once, with a log
# line. An upstream server polled across the jumps (brokenntp.py on the
# real clock, `noselect` so that the host clock stays the reference) is
# seen 100 s behind right after the first jump and level again right
# after the second: its samples from before a step are moved onto the
# new scale, never mixed with the ones after (as chrony corrects its
# samples on a step).
. "$(dirname "$0")/lib.sh"

UP=198.18.0.13
FAKE=$DPN_TMP/fakeclock
REAL_DPNTPD=$DPNTPD
DPNTPD=$DPN_TMP/dpntpd-fakeclock

dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$UP/24" dev "$VETH_CLI"
ip netns exec "$NS_CLI" timeout 310 "$PY" \
	"$DPN_ROOT/tests/integration/brokenntp.py" --bind "$UP" \
	--drop-every 0 --offset 0 --seconds 300 &
DPN_PEER_PIDS+=($!)

# The fake clock's offset, in ns (a native int64 the shim maps).
set_offset() { "$PY" -c 'import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.write(struct.pack("=q", int(float(sys.argv[2]) * 1e9)))' "$FAKE" "$1"; }
: >"$FAKE"
truncate -s 8 "$FAKE"
set_offset 0
cat >"$DPNTPD" <<SH
#!/bin/sh
LD_PRELOAD=$DPN_BUILD/tests/dpn-fakeclock.so DPN_FAKECLOCK=$FAKE exec $REAL_DPNTPD "\$@"
SH
chmod +x "$DPNTPD"

dpn_default_conf
echo "server $UP iburst minpoll 4 maxpoll 4 noselect" >>"$CONF"
dpn_start || exit 1

# ntpdig's offset (served time minus the real clock), in s.
served_offset() {
	dpn_cli timeout 10 ntpdig -t 2 "$SRV4" 2>/dev/null | awk '{ print $4; exit }'
}
near() { awk -v x="$1" -v w="$2" -v t="$3" 'BEGIN { d = x - w; if (d < 0) d = -d; exit !(x != "" && d < t) }'; }
serves_near() {
	local o
	o=$(served_offset)
	echo "  served - real: ${o:-none} s, want $1"
	near "${o:-x}" "$1" 0.05
}
# The upstream's offset in show peers (ms), and waiting for its reach.
up_offset_ms() { dpnc show peers | awk -v a="$UP" 'index($1, a) { print $9 }'; }
up_reached() {
	local _
	for _ in $(seq 60); do
		[ "$(dpnc show peers | awk -v a="$UP" 'index($1, a) { print $7 }')" != 0 ] &&
			[ -n "$(up_offset_ms)" ] && return 0
		sleep 1
	done
	return 1
}
up_near() {
	local o
	o=$(up_offset_ms)
	echo "  $UP offset ${o:-none} ms, want $1 ms"
	near "${o:-x}" "$1" 50
}
steps_logged() { grep -c "clock stepped by $1" "$LOG"; }

dpn_check "served time is the real time before" dpn_best_of3 serves_near 0
dpn_check "the upstream server is polled" up_reached
dpn_check "the upstream server is level" up_near 0

set_offset 100
dpn_check "the +100 s jump is logged" dpn_wait_log "clock stepped by +100" 10
dpn_check "served time follows at once (+100 s)" dpn_best_of3 serves_near 100
dpn_check "the upstream server is 100 s behind at once" up_near -100000

set_offset 0
dpn_check "the -100 s jump is logged" dpn_wait_log "clock stepped by -100" 10
dpn_check "served time follows back (0 s)" dpn_best_of3 serves_near 0
dpn_check "the upstream server is level again at once" up_near 0
dpn_check "one step each way, no more" \
	test "$(steps_logged "+100")" = 1 -a "$(steps_logged "-100")" = 1
dpn_check "dpntpd still running" dpn_alive
dpn_pass
