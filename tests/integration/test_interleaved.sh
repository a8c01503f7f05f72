#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Interleaved mode (RFC 9769, chrony's xleave) on the server side.
# - chronyd 4.3 with `xleave` (-x: the host clock is never touched) gets
#   interleaved replies: 4I lines in its measurements.log, chronyc
#   ntpdata says Interleaved Yes, dpntpd's ntp_interleaved_replies grows
#   and chronyd's offsets stay under 1 ms.
# - ntpdig at the same time gets correct basic replies; with chronyd
#   stopped, ntpdig alone does not move ntp_interleaved_replies.
# - Crafted requests (python3, plain UDP from the client namespace): an
#   interleaved-looking request naming nothing gets a basic reply and
#   counts a miss; a saved transmit time is sent once only; with
#   `xleavelimit 256` it survives 100 other replies and is gone after
#   300 (basic reply, a miss). Receive timestamps have the low bit set,
#   transmit timestamps the low bit clear.
# - `xleavelimit 0`: chronyd sees no 4I, the counters stay 0.
# shellcheck disable=SC1091,SC2153
. "$(dirname "$0")/lib.sh"

CLI4B=198.18.0.3	# the "other clients" of the eviction case

dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$CLI4B/24" dev "$VETH_CLI"

restart_with() {
	# restart_with LINE...: dpntpd again, the default config plus LINEs.
	if [ -n "$DPN_PID" ]; then
		kill -TERM "$DPN_PID"
		wait "$DPN_PID" 2>/dev/null
		DPN_PID=
		rm -rf "/var/run/dpdk/dpnt$DPN_TAG"
	fi
	dpn_default_conf
	printf '%s\n' "$@" >>"$CONF"
	dpn_start
}

# --- chronyd as an interleaved client ---------------------------------------
CHRONY_PID=
# start_chronyd DIR: chronyd -x in the client namespace, logging into DIR,
# its command socket DIR/cmd.sock (for chronyc -h).
start_chronyd() {
	# chronyd opens its command socket only in a folder no one else can use.
	mkdir -m 0700 "$1" || return 1
	cat >"$1/chrony.conf" <<CONF
server $SRV4 xleave minpoll 0 maxpoll 0 iburst
pidfile $1/chronyd.pid
bindcmdaddress $1/cmd.sock
cmdport 0
logdir $1
log measurements
CONF
	# -u root: the logs and socket are in the test's (root-only) folder.
	ip netns exec "$NS_CLI" chronyd -d -x -u root -f "$1/chrony.conf" \
		>"$1/chronyd.out" 2>&1 &
	CHRONY_PID=$!
	DPN_PEER_PIDS+=("$CHRONY_PID")
}
stop_chronyd() {
	local p keep=()
	kill -CONT "$CHRONY_PID" 2>/dev/null
	kill -TERM "$CHRONY_PID" 2>/dev/null
	wait "$CHRONY_PID" 2>/dev/null
	for p in "${DPN_PEER_PIDS[@]}"; do
		[ "$p" = "$CHRONY_PID" ] || keep+=("$p")
	done
	DPN_PEER_PIDS=("${keep[@]}")
	CHRONY_PID=
}
# A chronyd stopped (SIGSTOP) for a count must get SIGCONT before the
# cleanup's SIGTERM, or waiting for it would hang.
trap '[ -n "$CHRONY_PID" ] && kill -CONT "$CHRONY_PID" 2>/dev/null; dpn_cleanup' EXIT
# Measurement lines of mode $2 (4I, 4B) in DIR $1's measurements.log.
meas() {
	awk -v m="$2" '$3 ~ /^[0-9]/ && $(NF - 2) == m' "$1/measurements.log" \
		2>/dev/null
}
# Wait (at most $3 s) until DIR $1 has at least $2 measurements, any mode.
wait_meas() {
	local _
	for _ in $(seq $(($3 * 4))); do
		[ "$( (meas "$1" 4I; meas "$1" 4B) | wc -l)" -ge "$2" ] && return 0
		sleep 0.25
	done
	return 1
}
# The median |offset| of DIR $1's mode $2 measurements is under 1 ms
# (field 12 is the offset in seconds). The median, not each one: on two
# busy vCPUs a single exchange can be late by milliseconds.
median_lt1ms() {
	meas "$1" "$2" | awk '{ o = $12; print (o < 0 ? -o : o) }' | sort -g |
		awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]
			printf "  %d offsets, median |offset| %s s\n", NR, m
			exit !(NR >= 3 && m < 0.001) }'
}
ntpdata() { dpn_cli chronyc -h "$1/cmd.sock" ntpdata "$SRV4"; }

ntpdig_ok() {
	local out off
	out=$(dpn_cli timeout 10 ntpdig -t 2 "$SRV4" 2>&1) || { echo "  $out"; return 1; }
	echo "  $out"
	off=$(echo "$out" | awk '{ for (i = 1; i < NF; i++)
		if ($i ~ /^[+-][0-9.]+$/) { print $i; exit } }')
	echo "$out" | grep -q " s1 " && [ -n "$off" ] && dpn_abs_lt "$off" 0.001
}

dpn_start || exit 1
dpn_check "default: interleaved mode on, 65536 transmit times per worker" \
	grep -q "xleavelimit 65536: 65536 transmit times" "$LOG"
CH1=$DPN_TMP/chrony1
start_chronyd "$CH1"
dpn_check "chronyd made 6 measurements within 20 s" wait_meas "$CH1" 6 20
# ntpdig while chronyd polls every second.
for i in 1 2 3; do
	dpn_check "ntpdig beside chronyd ($i): stratum 1, |offset| < 1 ms" \
		dpn_best_of3 ntpdig_ok
done
dpn_check "chronyd made 8 measurements within 10 s more" wait_meas "$CH1" 8 10
ntpdata "$CH1" >"$DPN_TMP/ntpdata1" 2>&1
kill -STOP "$CHRONY_PID"
sleep 0.5
sed 's/^/  /' "$CH1/measurements.log"
n4i=$(meas "$CH1" 4I | wc -l)
xl=$(dpn_counter ntp_interleaved_replies)
dpn_log "4I lines: $n4i, ntp_interleaved_replies: $xl"
dpn_check "measurements.log has 4I lines after the first exchange ($n4i)" \
	test "$n4i" -ge 5
dpn_check "ntp_interleaved_replies counts at least every 4I line ($xl)" \
	test "$xl" -ge "$n4i"
dpn_check "chronyd's interleaved offsets: median under 1 ms" \
	median_lt1ms "$CH1" 4I
sed 's/^/  /' "$DPN_TMP/ntpdata1" | grep -E "Interleaved|Offset|Total"
dpn_check "chronyc ntpdata: Interleaved : Yes" \
	grep -Eq '^Interleaved +: Yes' "$DPN_TMP/ntpdata1"
rep0=$(dpn_counter ntp_server_replies)
for i in 1 2 3 4 5; do
	dpn_cli timeout 10 ntpdig -t 2 "$SRV4" >/dev/null 2>&1
done
dpn_check "chronyd stopped: 5 ntpdig replies, all basic" test \
	"$(dpn_counter ntp_server_replies) $(dpn_counter ntp_interleaved_replies)" = \
	"$((rep0 + 5)) $xl"
dpn_check "no interleaved miss for chronyd" \
	test "$(dpn_counter ntp_interleaved_misses)" = 0
stop_chronyd

# --- crafted requests -------------------------------------------------------
cat >"$DPN_TMP/xl.py" <<'PY'
"""Interleaved-mode cases against dpntpd; prints RESULT ok|FAIL lines."""
import argparse, random, socket, struct, subprocess, time

EPOCH = 2208988800
ap = argparse.ArgumentParser()
ap.add_argument("--srv", required=True)
ap.add_argument("--cli", required=True)
ap.add_argument("--other", required=True)
ap.add_argument("--dpntpc", required=True)
ap.add_argument("--sock", required=True)
ap.add_argument("case", choices=["miss", "evict", "off"])
a = ap.parse_args()


def result(ok, what, why=""):
    print("RESULT %s %s%s" % ("ok" if ok else "FAIL", what,
                               " -- " + why if why and not ok else ""),
          flush=True)


def counters():
    out = subprocess.run([a.dpntpc, "-s", a.sock, "show", "stats"],
                         capture_output=True, text=True, timeout=5,
                         check=True).stdout
    return {f[0]: int(f[1]) for f in map(str.split, out.splitlines())
            if len(f) >= 2 and f[1].isdigit()}


NAMES = ["ntp_server_replies", "ntp_interleaved_replies",
         "ntp_interleaved_misses"]


def delta(before):
    after = counters()
    return tuple(after[n] - before[n] for n in NAMES)


def now64():
    t = time.time()
    return ((int(t) + EPOCH) << 32) | int((t % 1) * 2**32)


def sock(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.connect((a.srv, 123))
    s.settimeout(1.0)
    return s


def exchange(s, org=0, rec=0):
    """One request: (our transmit, reply fields as ints, arrival) or None."""
    # Random low bits: our transmit timestamp is unique.
    xmt = (now64() & ~0xffff) | random.getrandbits(16)
    s.send(struct.pack("!BBbbIIIQQQQ", 0x23, 0, 0, -20, 0, 0, 0,
                       0, org, rec, xmt))
    try:
        while True:
            d = s.recv(512)
            arrival = now64()
            if len(d) >= 48:
                f = struct.unpack("!BBbbII4sQQQQ", d[:48])
                # A basic reply echoes xmt, an interleaved one rec.
                if f[8] in (xmt, rec):
                    return xmt, f, arrival
    except socket.timeout:
        return None


def is_basic(r, what):
    """Reply r (from exchange) is a good basic reply of stratum 1."""
    if r is None:
        result(False, what, "no reply")
        return False
    xmt, f, arrival = r
    ok = (f[0] & 0x3f == 0x24 and f[1] == 1 and f[8] == xmt and
          f[9] & 1 == 1 and f[10] & 1 == 0 and f[9] <= f[10])
    result(ok, what, "lvm=%#x stratum=%d org=%x (xmt %x) rec=%x tx=%x" %
           (f[0], f[1], f[8], xmt, f[9], f[10]))
    return ok


def is_interleaved(r, prev, rec, what):
    """Reply r to a request naming reply prev, sent with receive field
    rec: origin = rec, receive = a new (later) T2, transmit = the true
    transmit time of prev, at or just after prev's basic T3."""
    if r is None:
        result(False, what, "no reply")
        return False
    xmt, f, arrival = r
    p = prev[1]
    # prev left between its basic T3 and its arrival here (the same
    # host clock on both sides; 1 ms for the served clock's error).
    ok = (f[0] & 0x3f == 0x24 and f[1] == 1 and f[8] == rec and
          f[9] & 1 == 1 and f[10] & 1 == 0 and f[9] > p[9] and
          p[10] <= f[10] < prev[2] + (2**32 // 1000) and f[10] < f[9])
    result(ok, what, "org=%x (rec %x) rec=%x (prev %x) tx=%x (prev tx %x, "
           "arrived %x)" % (f[8], rec, f[9], p[9], f[10], p[10], prev[2]))
    return ok


def others(n):
    """n requests from another address, one after the other."""
    s = sock(a.other)
    got = sum(exchange(s) is not None for _ in range(n))
    s.close()
    return got


def check_delta(before, want, what):
    d = delta(before)
    result(d == want, what + " (replies, interleaved, misses +%d +%d +%d)" % d,
           "want +%d +%d +%d" % want)


s = sock(a.cli)
if a.case == "miss":
    # Origin with the low bit set that this server never sent.
    c = counters()
    rec = now64() | 1
    org = (now64() - (5 << 32)) | 1
    is_basic(exchange(s, org=org, rec=rec),
             "origin naming no reply: a basic reply (origin = our transmit)")
    check_delta(c, (1, 0, 1), "... counted as a miss, not interleaved")
    # Origin with the low bit clear (a basic client echoing a transmit
    # timestamp) is never taken as interleaved.
    c = counters()
    is_basic(exchange(s, org=now64() & ~1, rec=now64() | 1),
             "origin with the low bit clear: a basic reply")
    check_delta(c, (1, 0, 0), "... no miss counted")
elif a.case in ("evict", "off"):
    c = counters()
    ra = exchange(s)
    is_basic(ra, "A: a basic request gets a basic reply RA")
    if ra is None:
        raise SystemExit(1)
    rec_a = ra[2]       # B's receive field: when RA arrived
    rb = exchange(s, org=ra[1][9], rec=rec_a)
    if a.case == "off":
        is_basic(rb, "B naming RA, xleavelimit 0: a basic reply")
        check_delta(c, (2, 0, 0), "A and B: basic, no miss counted")
        raise SystemExit(0)
    is_interleaved(rb, ra, rec_a,
                   "B naming RA: interleaved reply (origin = B's receive "
                   "field, transmit = RA's true transmit time)")
    check_delta(c, (2, 1, 0), "A basic, B interleaved")
    c = counters()
    is_basic(exchange(s, org=ra[1][9], rec=now64() | 1),
             "B again naming RA (transmit time already sent): basic")
    check_delta(c, (1, 0, 1), "... a miss")
    # RB's transmit time survives 100 other replies ...
    n = others(100)
    result(n == 100, "100 other requests answered (%d)" % n)
    c = counters()
    rec_b = rb[2]
    rc = exchange(s, org=rb[1][9], rec=rec_b)
    is_interleaved(rc, rb, rec_b, "C naming RB after 100 others: interleaved")
    check_delta(c, (1, 1, 0), "C interleaved")
    # ... and RC's does not survive 300 (xleavelimit 256).
    n = others(300)
    result(n == 300, "300 other requests answered (%d)" % n)
    c = counters()
    is_basic(exchange(s, org=rc[1][9], rec=rc[2]),
             "D naming RC after 300 others: basic reply (evicted)")
    check_delta(c, (1, 0, 1), "D counted as a miss")
PY

xl_case() {
	# xl_case N CASE: run xl.py CASE; each RESULT line is a check, and
	# there must be N of them.
	local n=$1 out=$DPN_TMP/xl.$2.out rc
	dpn_cli timeout 60 "$PY" "$DPN_TMP/xl.py" --srv "$SRV4" --cli "$CLI4" \
		--other "$CLI4B" --dpntpc "$DPNTPC" --sock "$SOCK" "$2" \
		>"$out" 2>&1
	rc=$?
	while read -r tag st what; do
		[ "$tag" = RESULT ] || { echo "  $tag $st $what"; continue; }
		dpn_check "$2: $what" test "$st" = ok
	done <"$out"
	dpn_check "$2: xl.py ran to the end (exit $rc), $n results" \
		test "$rc" -eq 0 -a "$(grep -c '^RESULT ' "$out")" -eq "$n"
}
xl_case 4 miss

restart_with "xleavelimit 256" || exit 1
dpn_check "xleavelimit 256: 256 transmit times per worker" \
	grep -q "xleavelimit 256: 256 transmit times" "$LOG"
xl_case 11 evict

# --- xleavelimit 0 ----------------------------------------------------------
restart_with "xleavelimit 0" || exit 1
dpn_check "xleavelimit 0: the log says interleaved mode is off" \
	grep -q "interleaved mode off" "$LOG"
xl_case 3 off
CH2=$DPN_TMP/chrony2
start_chronyd "$CH2"
dpn_check "chronyd made 6 measurements within 20 s" wait_meas "$CH2" 6 20
ntpdata "$CH2" >"$DPN_TMP/ntpdata2" 2>&1
kill -STOP "$CHRONY_PID"
sleep 0.5
dpn_check "xleavelimit 0: no 4I line, only 4B ($(meas "$CH2" 4B | wc -l))" \
	test "$(meas "$CH2" 4I | wc -l) $(meas "$CH2" 4B | wc -l)" = \
	"0 $( (meas "$CH2" 4I; meas "$CH2" 4B) | wc -l)"
dpn_check "xleavelimit 0: chronyc ntpdata says Interleaved : No" \
	grep -Eq '^Interleaved +: No' "$DPN_TMP/ntpdata2"
dpn_check "xleavelimit 0: interleaved replies and misses stay 0" test \
	"$(dpn_counter ntp_interleaved_replies) $(dpn_counter ntp_interleaved_misses)" = "0 0"
dpn_check "xleavelimit 0: chronyd's offsets: median under 1 ms" \
	median_lt1ms "$CH2" 4B
stop_chronyd
dpn_check "dpntpd still running" dpn_alive
dpn_pass
