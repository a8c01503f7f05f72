#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The reference clocks other than PTP, each the only time source of
# dpntpd, as ntpdig in the client namespace sees them:
#
# - `refclock shm N` fed by dpn-shmwriter 0.2 s ahead of the host clock:
#   dpntpd serves stratum 1, +0.200 s within 1 ms, refid as configured;
#   show refclocks (text and JSON), /metrics and telemetry show it
#   selected and delivering. A writer that keeps bumping `count` (torn
#   writes) does not move the served time; samples with a bad mode or a
#   stale receive time are refused and counted. When the writer stops,
#   the refclock is lost after 8 polls (logged, counted), dpntpd holds
#   over and then serves unsynchronized (stratum 16, LI 3).
# - `refclock pps /dev/pps9`, `refclock phc /dev/ptp9` (no such devices)
#   and the same on /dev/null (a device that is neither): dpntpd starts
#   and serves from the SHM refclock, and says for each, in its log (with
#   the config line), show refclocks, /metrics and telemetry, what is
#   wrong with it. Nothing depends on the host having PPS or PTP devices.
# - `refclock sock PATH` fed by sockwriter.py (chrony's SOCK protocol),
#   0.2 s behind the host, with the line's `offset 0.05`: served -0.150 s
#   within 1 ms; a datagram that is not a SOCK sample is counted.
# - gpsd (the real one) reading NMEA sentences from a TCP feed and
#   writing SHM segment 0, as it does for ntpd and chrony: dpntpd takes
#   its time.
# - Bad refclock lines refused at start with FILE:LINE and the reason.
#
# SysV shared memory is not per network namespace: the test runs in an
# IPC namespace of its own (unshare --ipc), so its SHM segments, gpsd's
# included, are nobody else's and go away with it. The host clock is
# only ever read.
# shellcheck disable=SC1091,SC2016 # awk tests in single quotes
if [ -z "${DPN_IPC_NS:-}" ]; then
	if ! unshare --ipc true; then
		echo "[$(basename "$0")] FAIL: cannot enter an IPC namespace (unshare --ipc)"
		exit 1
	fi
	DPN_IPC_NS=1 exec unshare --ipc -- /bin/bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

SHMWRITER=$DPN_BUILD/tests/dpn-shmwriter
SOCKWRITER=$DPN_ROOT/tests/tools/sockwriter.py
TELEMETRY=/usr/bin/dpdk-telemetry.py
MPORT=9125
SHM_UNIT=2

# Belt and braces: the segments would go with the IPC namespace anyway.
rm_segments() {
	local u
	for u in 0 1 $SHM_UNIT; do
		ipcrm -M $((0x4e545030 + u)) 2>/dev/null
	done
}
trap 'dpn_stop_peers; dpn_cleanup; rm_segments' EXIT

# Stop one peer started earlier (its PID) and forget it.
stop_peer() {
	local p keep=()
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in "${DPN_PEER_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	DPN_PEER_PIDS=("${keep[@]}")
}

# Stop dpntpd (SIGTERM, bounded) before the next configuration; fails
# unless it exits by itself with status 0 (its log then goes to stdout).
stop_dpntpd() {
	local _ rc
	kill -TERM "$DPN_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$DPN_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DPN_PID" 2>/dev/null
	wait "$DPN_PID" 2>/dev/null
	rc=$?
	DPN_PID=
	rm -rf "/var/run/dpdk/dpnt$DPN_TAG"
	[ "$rc" -eq 0 ] && return 0
	echo "  exit status $rc; its log:"
	sed 's/^/  /' "$LOG"
	return 1
}

# Check `dpntpc --json show refclocks` with a Python expression on `rc`,
# the refclocks by name (SHM(2), PPS(pps9), ...); prints them if not.
rc_json() {
	dpnc --json show refclocks | "$PY" -c '
import json, sys
rc = {r["name"]: r for r in json.load(sys.stdin)["refclocks"]}
ok = eval("(" + sys.argv[1] + ")")
if not ok:
    for r in rc.values():
        print("  ", json.dumps(r))
sys.exit(0 if ok else 1)' "$1"
}

# rc_json, waiting (at most $1 s) until the expression $2 holds.
wait_rc() {
	local _
	for _ in $(seq $(($1 * 2))); do
		rc_json "$2" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	rc_json "$2"
}

# The values of `show sysinfo` variables, on one line.
sysvars() {
	local k out=
	for k; do
		out="$out $(dpn_sysvar "$k")"
	done
	echo "${out# }"
}
# $1 is $2, or say what it is.
is() { [ "$1" = "$2" ] || { echo "  got '$1', want '$2'"; return 1; }; }

# Wait (at most $3 s) until `show sysinfo` has $1=$2.
wait_sysvar() {
	local _ v
	for _ in $(seq $(($3 * 5))); do
		v=$(dpn_sysvar "$1")
		[ "$v" = "$2" ] && return 0
		sleep 0.2
	done
	echo "  $1=$v"
	return 1
}

# One field of one refclock of `dpntpc --json show refclocks`.
rc_field() {
	dpnc --json show refclocks | "$PY" -c '
import json, sys
print(next(r for r in json.load(sys.stdin)["refclocks"]
           if r["name"] == sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# Scrape /metrics in the server namespace into $1.
scrape() {
	ip netns exec "$NS_SRV" curl -sS --max-time 10 \
		"http://127.0.0.1:$MPORT/metrics" >"$1"
}
# Value of the sample whose name and labels are exactly $1, in file $2.
sample() {
	awk -v n="$1" 'index($0, n " ") == 1 { print $NF; found = 1 }
		END { if (!found) print "missing" }' "$2"
}
# sample $1 of file $2 compared with awk's $3, e.g. '> 0'.
sample_is() {
	local v
	v=$(sample "$1" "$2")
	echo "  $1 $v"
	awk -v v="$v" "BEGIN { exit !(v != \"missing\" && v $3) }"
}

# Telemetry command $1 checked with a Python expression on `r` (its
# one value).
tel_json() {
	local out
	out=$(printf '%s\n' "$1" |
		timeout 20 "$PY" "$TELEMETRY" -f "dpnt$DPN_TAG") || return 1
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[2])
r = next(iter(d.values()))
ok = eval("(" + sys.argv[1] + ")")
if not ok:
    print("  ", sys.argv[2][:800])
sys.exit(0 if ok else 1)' "$2" "$out"
}

# --- bad refclock lines ------------------------------------------------
L0='listen port 0 address 198.18.0.1/24\n'
dpn_check "shm segment 256 refused with file:line" dpn_refused_with \
	"${L0}refclock shm 256 poll 0\n" \
	"$DPN_TMP/bad.conf:2: refclock shm: segment must be 0..255, got '256'"
dpn_check "an unknown option refused with file:line" dpn_refused_with \
	"${L0}\nrefclock sock /run/x.sock poll 0 frobnicate 1\n" \
	"$DPN_TMP/bad.conf:3: refclock sock: unexpected word 'frobnicate'"
dpn_check "a relative device path refused" dpn_refused_with \
	"${L0}refclock pps dev/pps0\n" \
	"$DPN_TMP/bad.conf:2: refclock pps: 'dev/pps0' is not a device path (/dev/...)"
dpn_check "a second line on the same segment refused" dpn_refused_with \
	"${L0}refclock shm 3\nrefclock shm 3 refid GPS\n" \
	"$DPN_TMP/bad.conf:3: refclock shm: the same source as line 2"
dpn_check "lock naming no refclock refused" dpn_refused_with \
	"${L0}refclock shm 1 refid NMEA\nrefclock pps /dev/pps0 lock GPS\n" \
	"$DPN_TMP/bad.conf:3: refclock pps: lock GPS names no other refclock's refid"
rm -f "$DPN_TMP/bad.conf"
rm -rf "/var/run/dpdk/dpnt$DPN_TAG"

[ -x "$SHMWRITER" ] || { dpn_log "FAIL: $SHMWRITER not built"; exit 1; }
dpn_setup || exit 1

# --- SHM, and PPS/PHC lines whose devices do not work -----------------
# A mode 1 writer (gpsd's protocol) 0.2 s ahead: the first update steps
# the served clock (0.2 s is above the 0.128 s step threshold).
dpn_log "SHM, PPS, PHC (at ${SECONDS} s)"
"$SHMWRITER" --unit $SHM_UNIT --offset 0.2 --interval 500 &
writer=$!
DPN_PEER_PIDS+=("$writer")
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock shm $SHM_UNIT poll 0 refid GPS precision 1e-6 prefer
refclock pps /dev/pps9
refclock phc /dev/ptp9 poll 2
refclock pps /dev/null
refclock phc /dev/null
holdover 20
metrics 127.0.0.1:$MPORT
CONF
SHM=SHM\($SHM_UNIT\)
dpn_start || exit 1
dpn_check "served +0.200 s (within 1 ms of the writer's offset), stratum 1, within 40 s" \
	dpn_wait_served 40 '$1 > 0.199 && $1 < 0.201 && $2 == "s1" && $3 == "no-leap"'
dpn_check "show sysinfo: synchronized to $SHM, refid GPS, stratum 1" \
	is "$(sysvars sync peer refid stratum)" "yes $SHM .GPS. 1"
dpn_check "the step to the reference is logged" \
	grep -q "clock stepped by +0.2000.. s (source $SHM)" "$LOG"
dpnc show refclocks | sed 's/^/  /'
dpn_check "show refclocks: $SHM selected, open and delivering" \
	sh -c "'$DPNTPC' -s '$SOCK' show refclocks | grep -A1 '^\*$SHM ' |
		grep -q 'open, delivering'"
# The sample that stepped the clock was +0.2 s; the next ones are ~0.
dpn_check "show refclocks --json: samples, none rejected, offset < 1 ms (within 10 s)" \
	wait_rc 10 'rc["'"$SHM"'"]["readings"] > 0 and rc["'"$SHM"'"]["samples"] > 0
		and rc["'"$SHM"'"]["rejected"] == 0 and rc["'"$SHM"'"]["selected"]
		and rc["'"$SHM"'"]["refid"] == "GPS"
		and abs(rc["'"$SHM"'"]["offset_ns"]) < 1000000'
for spec in 'PPS(pps9)|pps /dev/pps9: No such file or directory|3' \
	'PHC(ptp9)|phc /dev/ptp9: No such file or directory|4' \
	'PPS(null)|pps /dev/null: not a PPS device|5' \
	'PHC(null)|phc /dev/null: cannot read it against the host clock (all three PTP_SYS_OFFSET ioctls: |6'; do
	IFS='|' read -r name err line <<<"$spec"
	dpn_check "$name: its error in show refclocks" \
		sh -c "'$DPNTPC' -s '$SOCK' show refclocks | grep -qF 'error: $err'"
	dpn_check "$name: not open, no readings (JSON), the same error" rc_json \
		"not rc['$name']['open'] and rc['$name']['readings'] == 0 and
		 rc['$name']['error'].startswith('$err')"
	dpn_check "$name: logged at start with its line ($line)" \
		grep -qF "refclock: $name (line $line): $err" "$LOG"
done
scrape "$DPN_TMP/m1.txt"
L='index="0",refid="GPS",type="shm"'
dpn_check "/metrics: dpntp_refclock_up 1 for $SHM" \
	sample_is "dpntp_refclock_up{$L}" "$DPN_TMP/m1.txt" '== 1'
dpn_check "/metrics: dpntp_refclock_selected 1" \
	sample_is "dpntp_refclock_selected{$L}" "$DPN_TMP/m1.txt" '== 1'
dpn_check "/metrics: dpntp_refclock_samples_total > 0" \
	sample_is "dpntp_refclock_samples_total{$L}" "$DPN_TMP/m1.txt" '> 0'
dpn_check "/metrics: |dpntp_refclock_offset_seconds| < 1 ms" \
	sample_is "dpntp_refclock_offset_seconds{$L}" "$DPN_TMP/m1.txt" \
	'< 0.001 && v > -0.001'
dpn_check "/metrics: info names $SHM and its segment" grep -qF \
	"dpntp_refclock_info{$L,source=\"$SHM\",target=\"segment $SHM_UNIT (key 0x4e54503$SHM_UNIT)\"} 1" \
	"$DPN_TMP/m1.txt"
dpn_check "/metrics: the missing PPS and PHC devices are not open" sh -c "
	grep -qx 'dpntp_refclock_open{index=\"1\",refid=\"PPS\",type=\"pps\"} 0' '$DPN_TMP/m1.txt' &&
	grep -qx 'dpntp_refclock_open{index=\"2\",refid=\"PHC9\",type=\"phc\"} 0' '$DPN_TMP/m1.txt'"
dpn_check "telemetry /dpntp/refclocks: $SHM selected, the PPS error" \
	tel_json /dpntp/refclocks 'r["0"]["name"] == "'"$SHM"'" and
	 r["0"]["selected"] == 1 and r["0"]["samples"] > 0 and
	 r["1"]["error"] == "pps /dev/pps9: No such file or directory"'

# Torn writes: the writer bumps `count` in a tight loop for 200 ms after
# each sample (offering a whole sample whenever the last was taken), as
# a writer caught mid-write would. dpntpd's copy of the segment takes
# nanoseconds (one cache line), so it rarely straddles a bump: how many
# it refused is shown, not required; what must hold is that whole
# samples keep coming and the served time does not move.
stop_peer "$writer"
samples0=$(rc_field "$SHM" samples)
rejected0=$(rc_field "$SHM" rejected)
"$SHMWRITER" --unit $SHM_UNIT --offset 0.2 --interval 500 --torn &
writer=$!
DPN_PEER_PIDS+=("$writer")
dpn_check "torn writes: samples keep coming (5 more within 30 s)" \
	wait_rc 30 "rc['$SHM']['samples'] >= $samples0 + 5 and rc['$SHM']['up']"
dpn_log "torn reads refused meanwhile: $(($(rc_field "$SHM" rejected) - rejected0))"
dpn_check "... the refclock still selected, its offset under 1 ms" \
	rc_json "rc['$SHM']['selected'] and abs(rc['$SHM']['offset_ns']) < 1000000"
dpn_check "... and the served time still +0.200 s within 1 ms" \
	dpn_wait_served 20 '$1 > 0.199 && $1 < 0.201 && $2 == "s1"'
stop_peer "$writer"

# Samples the driver must refuse, written one at a time: a mode other
# than 0 and 1, and one whose receive time is 10 s old (a writer that
# hung with `valid` set). Each is counted, none is used: both say the
# reference is 5.2 s ahead, which a sample taken from them would show.
shm_put() {
	"$PY" - "$SHM_UNIT" "$@" <<'PY'
import ctypes, sys, time
unit, mode, age = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
class ShmTime(ctypes.Structure):      # ntpd's struct shmTime, 64-bit
    _fields_ = [("mode", ctypes.c_int), ("count", ctypes.c_int),
                ("clock_sec", ctypes.c_int64), ("clock_usec", ctypes.c_int),
                ("receive_sec", ctypes.c_int64), ("receive_usec", ctypes.c_int),
                ("leap", ctypes.c_int), ("precision", ctypes.c_int),
                ("nsamples", ctypes.c_int), ("valid", ctypes.c_int),
                ("clock_nsec", ctypes.c_uint), ("receive_nsec", ctypes.c_uint),
                ("dummy", ctypes.c_int * 8)]
assert ctypes.sizeof(ShmTime) == 96
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget(0x4e545030 + unit, 96, 0)
assert shmid >= 0, "no segment"
t = ShmTime.from_address(libc.shmat(shmid, None, 0))
ns = time.clock_gettime_ns(time.CLOCK_REALTIME) - int(age * 1e9)
t.valid = 0
t.count += 1
t.mode = mode
t.clock_sec, t.clock_nsec = divmod(ns + 5200000000, 1000000000)
t.clock_usec = t.clock_nsec // 1000
t.receive_sec, t.receive_nsec = divmod(ns, 1000000000)
t.receive_usec = t.receive_nsec // 1000
t.count += 1
t.valid = 1
PY
}
rejected0=$(rc_field "$SHM" rejected)
shm_put 7 0
dpn_check "a sample in mode 7: rejected (within 5 s)" \
	wait_rc 5 "rc['$SHM']['rejected'] >= $rejected0 + 1"
shm_put 1 10
dpn_check "a sample taken 10 s ago: rejected (within 5 s)" \
	wait_rc 5 "rc['$SHM']['rejected'] >= $rejected0 + 2"
scrape "$DPN_TMP/m2.txt"
dpn_check "/metrics: rejected_total{reason=refused} counts them" \
	sample_is "dpntp_refclock_rejected_total{$L,reason=\"refused\"}" \
	"$DPN_TMP/m2.txt" ">= $rejected0 + 2"

# The writer has stopped: after 8 polls (8 s) without a reading the
# refclock is lost; holdover (20 s from the last update), then
# unsynchronized.
dpn_check "writer stopped: the loss is logged within 30 s" \
	dpn_wait_log "refclock: $SHM: no readings for 8 polls (8 s): deselected" 30
dpn_check "show refclocks --json: not up, not selected, losses 1" \
	wait_rc 5 "not rc['$SHM']['up'] and not rc['$SHM']['selected'] and
		 rc['$SHM']['losses'] == 1 and rc['$SHM']['open']"
dpn_check "show sysinfo: holdover" wait_sysvar sync holdover 5
dpn_check "the refused samples were not used: the last sample's offset is under 1 ms" \
	rc_json "abs(rc['$SHM']['offset_ns']) < 1000000"
dpnc show refclocks | sed -n 1,4p | sed 's/^/  /'
dpn_check "show refclocks: open, not delivering, lost 1 times" \
	sh -c "'$DPNTPC' -s '$SOCK' show refclocks | grep -A2 '^.$SHM ' |
		tr '\n' ' ' | grep 'open, not delivering' | grep -q 'lost 1 times'"
scrape "$DPN_TMP/m3.txt"
dpn_check "/metrics: up 0 and losses_total 1" sh -c "
	grep -qx 'dpntp_refclock_up{$L} 0' '$DPN_TMP/m3.txt' &&
	grep -qx 'dpntp_refclock_losses_total{$L} 1' '$DPN_TMP/m3.txt'"
dpn_check "after the holdover: unsynchronized (LI 3, stratum 16) within 30 s" \
	dpn_wait_served 30 '$0 ~ /stratum too high|no-sync|s16/'
dpn_check "holdover end logged" grep -q "serving unsynchronized" "$LOG"
dpn_check "show sysinfo: sync=no, stratum 16" \
	is "$(sysvars sync stratum)" "no 16"
dpn_check "dpntpd still running" dpn_alive
dpn_check "SIGTERM: clean exit 0" stop_dpntpd

# --- SOCK --------------------------------------------------------------
dpn_log "SOCK (at ${SECONDS} s)"
SOCKPATH=$DPN_TMP/refclock.sock
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock sock $SOCKPATH poll 0 offset 0.05 refid SOCK
CONF
dpn_start || exit 1
"$PY" "$SOCKWRITER" "$SOCKPATH" --offset -0.2 --interval 0.25 --count 800 &
DPN_PEER_PIDS+=($!)
dpn_check "SOCK: served -0.150 s (the datagrams' -0.2 plus the line's offset 0.05), within 40 s" \
	dpn_wait_served 40 '$1 > -0.151 && $1 < -0.149 && $2 == "s1"'
dpnc show refclocks | sed 's/^/  /'
dpn_check "SOCK: selected, several readings per sample (4 a second, poll 0)" \
	rc_json "rc['SOCK(refclock.sock)']['selected'] and
		 rc['SOCK(refclock.sock)']['readings'] > rc['SOCK(refclock.sock)']['samples']"
# A datagram that is not a SOCK sample.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"not a sample", sys.argv[1])' "$SOCKPATH"
dpn_check "a datagram that is not a SOCK sample: rejected 1 (within 5 s)" \
	wait_rc 5 "rc['SOCK(refclock.sock)']['rejected'] == 1"
dpn_check "... and the served time is still -0.150 s within 1 ms" \
	dpn_wait_served 20 '$1 > -0.151 && $1 < -0.149 && $2 == "s1"'
dpn_check "SIGTERM: clean exit 0" stop_dpntpd
dpn_check "the socket file is removed at exit" test ! -e "$SOCKPATH"
dpn_stop_peers

# --- gpsd --------------------------------------------------------------
# gpsd reads NMEA from a TCP feed (it ships no time from a pty, which it
# takes for its test harness, and refuses a FIFO someone else has open)
# and, run as root, writes its first device's time to SHM segment 0.
# The sentences go out 20 ms after the second they name, so here the
# reference is about 20 ms behind the host; from a real receiver over a
# serial line NMEA time has tens to hundreds of milliseconds of delay
# and jitter, so only the arrival of samples and an offset within 0.5 s
# are checked.
dpn_log "gpsd (at ${SECONDS} s)"
if [ -x /usr/sbin/gpsd ]; then
	NMEA_PORT=10110
	cat >"$DPN_TMP/nmea.py" <<'PY'
import socket, sys, time
def sentence(body):
    c = 0
    for ch in body.encode():
        c ^= ch
    return "$%s*%02X\r\n" % (body, c)
port, ready, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(1)
open(ready, "w").close()
ls.settimeout(60)
conn, _ = ls.accept()
for _ in range(count):
    now = time.time()
    sec = int(now) + 1
    time.sleep(sec - now + 0.02)
    t = time.gmtime(sec)
    hms = time.strftime("%H%M%S.00", t)
    out = sentence("GPRMC,%s,A,4807.038,N,01131.000,E,000.0,000.0,%s,,,A"
                   % (hms, time.strftime("%d%m%y", t)))
    out += sentence("GPGGA,%s,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"
                    % hms)
    out += sentence("GPZDA,%s,%s,00,00" % (hms, time.strftime("%d,%m,%Y", t)))
    try:
        conn.sendall(out.encode())
    except OSError:
        break
PY
	cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock shm 0 poll 0 refid NMEA
CONF
	dpn_start || exit 1
	# The feed and gpsd in the server namespace: port 2947 is ours there.
	ip netns exec "$NS_SRV" "$PY" "$DPN_TMP/nmea.py" $NMEA_PORT \
		"$DPN_TMP/nmea.ready" 120 &
	DPN_PEER_PIDS+=($!)
	for _ in $(seq 100); do
		[ -e "$DPN_TMP/nmea.ready" ] && break
		sleep 0.1
	done
	ip netns exec "$NS_SRV" /usr/sbin/gpsd -N -n -b -F "$DPN_TMP/gpsd.sock" \
		"tcp://127.0.0.1:$NMEA_PORT" >"$DPN_TMP/gpsd.log" 2>&1 &
	DPN_PEER_PIDS+=($!)
	dpn_check "gpsd: SHM(0) delivering and selected within 40 s" \
		wait_rc 40 "rc['SHM(0)']['samples'] >= 3 and rc['SHM(0)']['up']
			and rc['SHM(0)']['selected']"
	dpnc show refclocks | sed 's/^/  /'
	dpn_check "gpsd: its offset within 0.5 s" \
		rc_json "abs(rc['SHM(0)']['offset_ns']) < 500000000"
	dpn_check "gpsd: served stratum 1 within 0.5 s of the host" \
		dpn_wait_served 20 '$1 > -0.5 && $1 < 0.5 && $2 == "s1"'
	dpn_check "gpsd: show sysinfo: refid NMEA, peer SHM(0)" \
		is "$(sysvars refid peer)" ".NMEA. SHM(0)"
	dpn_check "dpntpd still running" dpn_alive
	dpn_check "SIGTERM: clean exit 0" stop_dpntpd
	if [ "$DPN_FAILS" -ne 0 ]; then
		dpn_log "gpsd's log:"
		grep -v DBUS "$DPN_TMP/gpsd.log" | tail -20
	fi
else
	dpn_log "no /usr/sbin/gpsd (package gpsd): gpsd part left out"
fi
dpn_pass
