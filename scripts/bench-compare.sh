#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# How many NTP requests per second do dpntpd, chronyd and ntpsec's ntpd
# answer on this machine? Each server gets a fresh pair of network
# namespaces joined by one veth pair (addresses from 198.18.0.0/15 only);
# the project's DPDK load generator (build/perf/dpntp-gen) offers a rising
# sequence of request rates from the other end and reports loss and
# timing. dpntpd owns its veth end through net_af_xdp (net_af_packet if
# af_xdp does not work); chronyd and ntpd are served by the kernel. A
# fourth run ("memif") joins dpntpd and the generator by net_memif, with
# no kernel in the way. The host clock is never touched (chronyd -x, ntpd
# without CAP_SYS_TIME).
#
# Writes into doc/guides/perf/ (or --out DIR): results.json (every run,
# every step as the generator gave it), results.rst (tables), machine.txt
# and the plots of scripts/bench-plot.py.
#
#   scripts/bench-compare.sh [options]        (as root, after
#                                              meson setup build && ninja -C build)
#     --quick          three short steps, one pass: a smoke run (< 2 min)
#     --only LIST      dpntpd, chronyd, ntpd, memif (repeatable, or a
#                      comma list); default all four
#     --out DIR        where the results go (default doc/guides/perf)
#     --duration S     seconds per rate step (default 3, quick 1)
#     --rates LIST     request rates per second, e.g. 10000,100000
#                      (default 10k to 1M in 11 steps, memif on to 5M)
#     --repeat N       passes over all servers, interleaved; the tables
#                      give the median of the passes (default 3, quick 1)
#     --gen-port KIND  af_xdp or af_packet for the generator's veth end
#                      (default af_xdp, af_packet if af_xdp fails)
#     --dpntpd-lcores MAP  dpntpd's EAL --lcores (default 0@S,1@S, S the
#                      server CPU: dpntpd gets one CPU, as chronyd and ntpd)
#     --check          only start each server and check that it answers
#                      ntpdig from the generator's namespace (no load)
#
# DPNTP_BENCH_KEEP=1 keeps the temporary folder (logs, configurations,
# the generator's output) for a look afterwards; DPNTP_BUILD names
# another build folder.
#
# CPU: on a 2-vCPU machine the generator busy-polls on the last CPU; the
# server runs on CPU 0 (dpntpd: its worker and its main lcore, which
# mostly sleeps; chronyd and ntpd through taskset). The two busy-polling
# processes (the generator, dpntpd) run at nice 19: the kernel's share of
# the path (veth, XDP, the sockets) runs in softirq context, and once it
# is heavy, in ksoftirqd, an ordinary thread that a busy poller at nice 0
# leaves waiting for milliseconds while the veth's 256-packet ring
# overflows. Measured 2026-11-27: at nice 0 the generator could not send
# more than about 480,000 requests/s and lost chronyd's replies from
# 60,000/s; at nice 19 it sends 670,000/s.
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${DPNTP_BUILD:-$ROOT/build}
DPNTPD=$BUILD/app/dpntpd/dpntpd
DPNTPC=$BUILD/app/dpntpc/dpntpc
GEN=$BUILD/perf/dpntp-gen
PLOT=$ROOT/scripts/bench-plot.py
PY=/usr/bin/python3
NTPSEC_CACHE=$BUILD/bench-cache/ntpsec

SRV4=198.18.0.1
GEN4=198.18.0.2
CLIENTS=198.19.0.0/16
BUSY_NICE=19	# the busy pollers yield to the kernel's network work (above)

FULL_RATES=10000,20000,50000,100000,150000,200000,300000,400000,500000,700000,1000000
MEMIF_EXTRA=1500000,2000000,3000000,5000000
QUICK_RATES=10000,50000,200000

log() { echo "[bench-compare] $*" >&2; }
die() { echo "bench-compare: $*" >&2; exit 1; }
usage() { sed -n '3,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; }

# ---------------------------------------------------------------- options
quick=
only=
out=
duration=
rates=
repeat=
gen_port=
check_only=
dpntpd_lcores=
cmdline="scripts/bench-compare.sh $*"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--only) [ $# -ge 2 ] || die "--only needs a list"; only="$only,$2"; shift ;;
	--only=*) only="$only,${1#*=}" ;;
	--out) [ $# -ge 2 ] || die "--out needs a folder"; out=$2; shift ;;
	--out=*) out=${1#*=} ;;
	--duration) [ $# -ge 2 ] || die "--duration needs seconds"; duration=$2; shift ;;
	--duration=*) duration=${1#*=} ;;
	--rates) [ $# -ge 2 ] || die "--rates needs a list"; rates=$2; shift ;;
	--rates=*) rates=${1#*=} ;;
	--repeat) [ $# -ge 2 ] || die "--repeat needs a count"; repeat=$2; shift ;;
	--repeat=*) repeat=${1#*=} ;;
	--gen-port) [ $# -ge 2 ] || die "--gen-port needs af_xdp or af_packet"; gen_port=$2; shift ;;
	--gen-port=*) gen_port=${1#*=} ;;
	--dpntpd-lcores) [ $# -ge 2 ] || die "--dpntpd-lcores needs an EAL lcore map"; dpntpd_lcores=$2; shift ;;
	--dpntpd-lcores=*) dpntpd_lcores=${1#*=} ;;
	--check) check_only=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option: $1" ;;
	esac
	shift
done

for s in $(echo "${only#,}" | tr ',' ' '); do
	case $s in
	dpntpd | chronyd | ntpd | memif) ;;
	*) die "--only: unknown server '$s' (dpntpd, chronyd, ntpd, memif)" ;;
	esac
done
servers=
for s in dpntpd chronyd ntpd memif; do
	if [ -z "$only" ] || echo ",$only," | grep -q ",$s,"; then
		servers="$servers $s"
	fi
done
servers=${servers# }

if [ -n "$quick" ]; then
	: "${duration:=1}" "${repeat:=1}"
	[ -n "$rates" ] || rates=$QUICK_RATES
else
	: "${duration:=3}" "${repeat:=3}"
fi
memif_rates=$rates
if [ -z "$rates" ]; then
	rates=$FULL_RATES
	memif_rates=$FULL_RATES,$MEMIF_EXTRA
fi
echo "$rates" | grep -Eq '^[1-9][0-9]*(,[1-9][0-9]*)*$' ||
	die "--rates: give requests per second as R1,R2,... (positive integers)"
if ! echo "$duration" | grep -Eq '^([0-9]+(\.[0-9]*)?|\.[0-9]+)$' ||
	! awk -v d="$duration" 'BEGIN { exit !(d > 0 && d <= 60) }'; then
	die "--duration: seconds per step, more than 0 and at most 60"
fi
echo "$repeat" | grep -Eq '^[1-9][0-9]?$' || die "--repeat: a count from 1 to 99"
case ${gen_port:-auto} in auto | af_xdp | af_packet) ;; *) die "--gen-port: af_xdp or af_packet" ;; esac
[ -n "$check_only" ] && repeat=1
out=${out:-$ROOT/doc/guides/perf}
if [ -z "$check_only" ]; then
	mkdir -p "$out" || die "cannot create $out"
	out=$(cd "$out" && pwd)
fi

# ---------------------------------------------------------- prerequisites
[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, veths and DPDK need it)"
if [ ! -x "$DPNTPD" ] || [ ! -x "$DPNTPC" ]; then
	die "$DPNTPD or $DPNTPC missing: build first: meson setup build && ninja -C build"
fi
if [ -z "$check_only" ] && [ ! -x "$GEN" ]; then
	die "$GEN missing: build first: meson setup build && ninja -C build"
fi
for tool in ip ethtool taskset setpriv ntpdig; do
	command -v "$tool" >/dev/null || die "'$tool' not found (scripts/deps.sh installs it)"
done
case " $servers " in *" chronyd "*)
	command -v chronyd >/dev/null || die "chronyd not found (apt-get install chrony)" ;;
esac
[ -x "$PY" ] || die "$PY not found"

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ]; then
	cpu_srv=0
	cpu_gen=$((ncpu - 1))
else
	cpu_srv=0
	cpu_gen=0
	log "warning: one CPU only; generator and server share it, figures mean little"
fi
# dpntpd: both lcores on the server's CPU, like chronyd and ntpd: its main
# lcore wakes every 100 us, and on the generator's CPU those wakeups cost
# the generator milliseconds of RTT p99. The generator polls on its main
# lcore only.
: "${dpntpd_lcores:=0@$cpu_srv,1@$cpu_srv}"
echo "$dpntpd_lcores" | grep -Eq '^[0-9@,()-]+$' || die "--dpntpd-lcores: an EAL --lcores map, e.g. 0@0,1@0"
gen_lcores="0@$cpu_gen"

# ------------------------------------------------- what we started, undone
TAG=$$
TMP=$(mktemp -d /tmp/dpnb.XXXXXX) || die "mktemp failed"
PIDS=()
NSS=()
LINKS=()
PREFIXES=()

# alive PID: running and not a zombie (no fork: the CPUs are busy).
alive() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	line=${line##*) }
	case ${line%% *} in Z | X | x | "") return 1 ;; esac
	return 0
}
untrack_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
# stop_pid PID: TERM, up to 10 s, then KILL; reaps it and forgets it.
stop_pid() {
	local pid=$1 i end=$((SECONDS + 11))
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 100); do
			alive "$pid" || break
			[ "$SECONDS" -lt "$end" ] || break
			sleep 0.1
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	untrack_pid "$pid"
}
# shellcheck disable=SC2317  # called from the trap
cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	for p in "${NSS[@]}"; do ip netns del "$p" 2>/dev/null; done
	for p in "${LINKS[@]}"; do ip link del "$p" 2>/dev/null; done
	for p in "${PREFIXES[@]}"; do rm -rf "/var/run/dpdk/$p"; done
	if [ -n "${DPNTP_BENCH_KEEP:-}" ]; then
		log "logs and configurations kept in $TMP (DPNTP_BENCH_KEEP)"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# run_bounded LIMIT_S OUT ERR CMD...: run CMD with stdout to OUT and
# stderr to ERR, stop it after LIMIT_S seconds; returns its exit status
# (124 when stopped).
run_bounded() {
	local limit=$1 o=$2 e=$3 pid rc end=$((SECONDS + $1))
	shift 3
	"$@" >"$o" 2>"$e" &
	pid=$!
	PIDS+=("$pid")
	while [ "$SECONDS" -lt "$end" ]; do
		alive "$pid" || break
		sleep 0.2
	done
	if alive "$pid"; then
		log "$1 still running after ${limit}s: stopped"
		stop_pid "$pid"
		return 124
	fi
	wait "$pid"
	rc=$?
	untrack_pid "$pid"
	return $rc
}

# ------------------------------------------------------------ the network
NS_GEN=
NS_SRV=
VETH_GEN=
VETH_SRV=
run_no=0

# net_up: fresh namespaces NS_GEN and NS_SRV joined by VETH_GEN-VETH_SRV;
# no addresses yet, IPv6 off, software checksums on both ends.
net_up() {
	NS_GEN=dpnb-g-$TAG-$run_no
	NS_SRV=dpnb-s-$TAG-$run_no
	VETH_GEN=bg${TAG}r$run_no
	VETH_SRV=bs${TAG}r$run_no
	ip netns add "$NS_GEN" || return 1
	NSS+=("$NS_GEN")
	ip netns add "$NS_SRV" || return 1
	NSS+=("$NS_SRV")
	ip link add "$VETH_GEN" type veth peer name "$VETH_SRV" || return 1
	LINKS+=("$VETH_GEN")
	ip link set "$VETH_GEN" netns "$NS_GEN" || return 1
	ip link set "$VETH_SRV" netns "$NS_SRV" || return 1
	local ns dev
	for ns in "$NS_GEN" "$NS_SRV"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
	for dev in "$NS_GEN:$VETH_GEN" "$NS_SRV:$VETH_SRV"; do
		ip -n "${dev%%:*}" link set "${dev#*:}" up || return 1
		ip netns exec "${dev%%:*}" ethtool -K "${dev#*:}" tx off >/dev/null 2>&1
	done
	return 0
}

# ns_only: one fresh namespace NS_SRV (memif needs no link).
ns_only() {
	NS_SRV=dpnb-s-$TAG-$run_no
	NS_GEN=$NS_SRV
	VETH_GEN=
	VETH_SRV=
	ip netns add "$NS_SRV" || return 1
	NSS+=("$NS_SRV")
	ip -n "$NS_SRV" link set lo up
}

net_down() {
	local keep=() n
	for n in "${NSS[@]}"; do
		if [ "$n" = "$NS_GEN" ] || [ "$n" = "$NS_SRV" ]; then
			ip netns del "$n" 2>/dev/null
		else
			keep+=("$n")
		fi
	done
	NSS=("${keep[@]}")
	# the veth went with its namespaces
	[ -n "$VETH_GEN" ] && ip link del "$VETH_GEN" 2>/dev/null
	LINKS=()
}

# kernel_server_addr: the kernel in NS_SRV serves SRV4; replies to the
# simulated clients go back through the generator.
kernel_server_addr() {
	ip -n "$NS_SRV" addr add "$SRV4/24" dev "$VETH_SRV" &&
		ip -n "$NS_SRV" route add "$CLIENTS" via "$GEN4"
}

# probe_ntp: give the generator's veth end an address for a moment and
# ask the server with ntpdig until it answers with a stratum from 1 to 15
# (at most about 40 s); the address is removed again.
probe_ntp() {
	local i outp ok=1
	ip -n "$NS_GEN" addr add "$GEN4/24" dev "$VETH_GEN" || return 1
	for i in $(seq 30); do
		outp=$(ip netns exec "$NS_GEN" timeout 5 ntpdig -t 1 "$SRV4" 2>&1)
		if echo "$outp" | grep -Eq " s([1-9]|1[0-5]) "; then
			log "  ntpdig from the generator's namespace: $outp"
			ok=0
			break
		fi
		sleep 0.5
	done
	[ $ok -eq 0 ] || log "  no usable answer from $SRV4; last ntpdig: $outp"
	ip -n "$NS_GEN" addr flush dev "$VETH_GEN"
	ip -n "$NS_GEN" neigh flush dev "$VETH_GEN" 2>/dev/null
	return $ok
}

# ------------------------------------------------------------- the servers
SRV_PID=
SRV_LOG=
SRV_PREFIX=
SRV_SOCK=

# start_dpntpd VDEV: dpntpd in NS_SRV on that port; waits (at most 30 s)
# until it answers on its control socket.
start_dpntpd() {
	local vdev=$1 conf=$TMP/dpntpd-$run_no.conf i
	SRV_PREFIX=dpnb$TAG-s$run_no
	SRV_SOCK=$TMP/dpntpd-$run_no.sock
	SRV_LOG=$TMP/dpntpd-$run_no.log
	cat >"$conf" <<CONF
# bench-compare.sh: serve $SRV4 from this host's clock
listen port 0 address $SRV4/24
refclock system stratum 1 refid LOCL
CONF
	PREFIXES+=("$SRV_PREFIX")
	rm -f "$SRV_SOCK"
	ip netns exec "$NS_SRV" nice -n $BUSY_NICE "$DPNTPD" --no-huge -m 512 --no-pci \
		--file-prefix "$SRV_PREFIX" --lcores "$dpntpd_lcores" \
		--vdev "$vdev" -- --config "$conf" --control-socket "$SRV_SOCK" \
		>"$SRV_LOG" 2>&1 &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	for i in $(seq 300); do
		if "$DPNTPC" -s "$SRV_SOCK" show sysinfo >/dev/null 2>&1; then
			return 0
		fi
		alive "$SRV_PID" || break
		sleep 0.1
	done
	log "  dpntpd did not come up on $vdev; the end of its log:"
	tail -n 15 "$SRV_LOG" | sed 's/^/    /' >&2
	return 1
}

stop_server() {
	[ -n "$SRV_PID" ] && stop_pid "$SRV_PID"
	SRV_PID=
	if [ -n "$SRV_PREFIX" ]; then
		rm -rf "/var/run/dpdk/$SRV_PREFIX"
	fi
	SRV_PREFIX=
}

# start_chronyd: chronyd -x in NS_SRV on the server's CPU, no rate limit.
start_chronyd() {
	local conf=$TMP/chronyd-$run_no.conf
	SRV_LOG=$TMP/chronyd-$run_no.log
	cat >"$conf" <<CONF
# bench-compare.sh: a stratum 1 server from the local clock, no ratelimit
local stratum 1
allow
bindaddress $SRV4
pidfile $TMP/chronyd-$run_no.pid
cmdport 0
CONF
	ip netns exec "$NS_SRV" taskset -c "$cpu_srv" chronyd -d -x -f "$conf" \
		>"$SRV_LOG" 2>&1 &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	sleep 0.5
	alive "$SRV_PID" || { log "  chronyd exited:"; sed 's/^/    /' "$SRV_LOG" >&2; return 1; }
}

NTPD=
# fetch_ntpsec: ntpsec conflicts with chrony, so it is unpacked, not
# installed: apt-get download into build/bench-cache/ntpsec.
fetch_ntpsec() {
	NTPD=$NTPSEC_CACHE/root/usr/sbin/ntpd
	[ -x "$NTPD" ] && return 0
	mkdir -p "$NTPSEC_CACHE" || return 1
	log "fetching ntpsec into $NTPSEC_CACHE (apt-get download, not installed)"
	(cd "$NTPSEC_CACHE" && rm -f ntpsec_*.deb &&
		timeout 300 apt-get download ntpsec) >"$TMP/apt-ntpsec.log" 2>&1 ||
		{ log "apt-get download ntpsec failed:"; tail -n 5 "$TMP/apt-ntpsec.log" >&2; return 1; }
	rm -rf "$NTPSEC_CACHE/root"
	dpkg-deb -x "$NTPSEC_CACHE"/ntpsec_*.deb "$NTPSEC_CACHE/root" || return 1
	[ -x "$NTPD" ]
}

# start_ntpd: ntpsec's ntpd in NS_SRV on the server's CPU, without
# CAP_SYS_TIME, in orphan mode (stratum 5 from the local clock), every
# request answered (no "limited").
start_ntpd() {
	local conf=$TMP/ntpd-$run_no.conf
	SRV_LOG=$TMP/ntpd-$run_no.log
	# 1.2.2's built-in default is "noquery limited" and "restrict
	# default" only adds flags: unrestrict takes them away.
	cat >"$conf" <<CONF
# bench-compare.sh: orphan-mode server, never limited
tos orphan 5 orphanwait 1
disable ntp
disable kernel
unrestrict default noquery limited
CONF
	ip netns exec "$NS_SRV" setpriv --bounding-set=-sys_time \
		taskset -c "$cpu_srv" "$NTPD" -n -c "$conf" \
		-p "$TMP/ntpd-$run_no.pid" -l "$SRV_LOG" \
		>"$TMP/ntpd-$run_no.out" 2>&1 &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	sleep 0.5
	alive "$SRV_PID" || { log "  ntpd exited:"; cat "$TMP/ntpd-$run_no.out" "$SRV_LOG" | sed 's/^/    /' >&2; return 1; }
}

# ------------------------------------------------------------- one run
RUNS_DIR=$TMP/runs
mkdir -p "$RUNS_DIR"

# cpu_busy: percent of all CPUs busy over the next second (this script
# runs nothing then, so it is other people's load).
cpu_busy() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
	echo "$a $b" | awk '{ d = ($3 + $4) - ($1 + $2); print (d > 0 ? int(100 * ($3 - $1) / d + 0.5) : 0) }'
}

# wait_idle: wait (at most about 60 s) until other processes use less than
# BUSY_MAX % of the CPUs; sets BUSY_BEFORE.
BUSY_MAX=10
BUSY_BEFORE=0
BUSY_AFTER=0
wait_idle() {
	local i
	for i in $(seq 30); do
		BUSY_BEFORE=$(cpu_busy)
		[ "$BUSY_BEFORE" -lt "$BUSY_MAX" ] && return 0
		[ "$i" -eq 1 ] && log "  the machine is busy ($BUSY_BEFORE % CPU used by others); waiting up to 60 s"
		sleep 1
	done
	log "  warning: still $BUSY_BEFORE % busy; measuring anyway (marked in results.json)"
}

# the kernel's UDP counters in NS_SRV (receive buffer drops explain loss)
udp_counters() {
	ip netns exec "$NS_SRV" cat /proc/net/snmp 2>/dev/null | grep '^Udp:'
}

# gen_run NS VDEV RATES OUT ERR: the generator, bounded in time.
gen_run() {
	local ns=$1 vdev=$2 rl=$3 o=$4 e=$5 steps limit prefix=dpnb$TAG-g$run_no
	steps=$(echo "$rl" | tr ',' '\n' | wc -l)
	limit=$(awk -v n="$steps" -v d="$duration" 'BEGIN { printf "%d", n * (d + 0.2) + 60 }')
	PREFIXES+=("$prefix")
	GEN_CMD="$GEN --no-huge -m 512 --no-pci --file-prefix $prefix --lcores $gen_lcores --vdev $vdev -- --server $SRV4 --local $GEN4 --clients $CLIENTS --rates $rl --duration $duration --json"
	local t0=$SECONDS
	# shellcheck disable=SC2086
	run_bounded "$limit" "$o" "$e" ip netns exec "$ns" nice -n $BUSY_NICE $GEN_CMD
	local rc=$?
	log "  generator exit $rc after $((SECONDS - t0)) s"
	rm -rf "/var/run/dpdk/$prefix"
	return $rc
}

# record NAME SERVER LINK SERVER_PORT GEN_PORT PASS RC GEN_JSON GEN_ERR
#        SERVER_VERSION EXTRA_FILE: one run into $RUNS_DIR.
record() {
	"$PY" - "$@" "$RUNS_DIR/$(printf %03d "$run_no").json" "$GEN_CMD" \
		"$cpu_srv" "$cpu_gen" "$BUSY_BEFORE" "$BUSY_AFTER" "$BUSY_MAX" <<'PY'
import json, sys
(name, server, link, sport, gport, npass, rc, genjson, generr, version,
 extra, dest, cmd, cpu_srv, cpu_gen, busy0, busy1, busy_max) = sys.argv[1:]
run = {"name": name, "server": server, "server_version": version,
       "link": link, "server_port": sport, "gen_port": gport,
       "pass": int(npass), "server_cpu": int(cpu_srv),
       "gen_cpu": int(cpu_gen), "gen_command": cmd, "gen_exit": int(rc),
       "others_cpu_pct_before": int(busy0), "others_cpu_pct_after": int(busy1),
       "disturbed": int(busy0) >= int(busy_max) or int(busy1) >= int(busy_max)}
try:
    with open(genjson) as f:
        g = json.load(f)
    run["hw_timestamps"] = g.get("hw_timestamps")
    run["steps"] = g.get("steps", [])
except (OSError, ValueError) as e:
    run["steps"] = []
    try:
        with open(generr, errors="replace") as f:
            tail = f.read().splitlines()[-20:]
    except OSError:
        tail = []
    run["error"] = "no JSON from the generator (%s)" % e
    run["gen_stderr_tail"] = tail
try:
    with open(extra, errors="replace") as f:
        text = f.read()
except OSError:
    text = ""
if text.startswith("Udp:"):
    before, after = {}, {}
    lines = [l.split() for l in text.splitlines() if l.startswith("Udp:")]
    # two snapshots of the header line and the value line
    if len(lines) == 4:
        hdr = lines[0][1:]
        a = dict(zip(hdr, map(int, lines[1][1:])))
        b = dict(zip(hdr, map(int, lines[3][1:])))
        run["server_udp"] = {k: b[k] - a[k] for k in hdr}
elif text:
    run["server_stats"] = text.splitlines()
with open(dest, "w") as f:
    json.dump(run, f, indent=1)
n = len(run["steps"])
print("  %d steps recorded%s" % (n, "; " + run["error"] if "error" in run else ""),
      file=sys.stderr)
PY
}

# one_run NAME PASS
one_run() {
	local name=$1 npass=$2 sport='' gport='' link=veth version='' rl=$rates
	local gj gerr extra rc kind
	run_no=$((run_no + 1))
	gj=$TMP/gen-$run_no.json
	gerr=$TMP/gen-$run_no.err
	extra=$TMP/extra-$run_no.txt
	: >"$extra"
	GEN_CMD=
	SRV_SOCK=
	log "run $run_no: $name (pass $npass of $repeat)"
	[ -n "$check_only" ] || wait_idle
	case $name in
	memif)
		link=memif
		ns_only || { log "  namespace setup failed"; net_down; return 1; }
		sport=memif
		gport=memif
		start_dpntpd "net_memif0,role=server,id=0,socket=$TMP/memif-$run_no.sock,socket-abstract=no" ||
			{ stop_server; net_down; return 1; }
		version=$(git -C "$ROOT" describe --always --dirty 2>/dev/null)
		;;
	dpntpd)
		net_up || { log "  namespace setup failed"; net_down; return 1; }
		for kind in af_xdp af_packet; do
			if start_dpntpd "net_${kind}0,iface=$VETH_SRV" && probe_ntp; then
				sport=$kind
				break
			fi
			log "  dpntpd on net_$kind did not serve; next try"
			stop_server
		done
		[ -n "$sport" ] || { net_down; return 1; }
		version=$(git -C "$ROOT" describe --always --dirty 2>/dev/null)
		;;
	chronyd)
		if ! net_up || ! kernel_server_addr; then
			log "  namespace setup failed"
			net_down
			return 1
		fi
		sport=kernel
		if ! start_chronyd || ! probe_ntp; then
			stop_server
			net_down
			return 1
		fi
		version=$(chronyd --version 2>/dev/null | awk '{ print $4; exit }')
		;;
	ntpd)
		if ! net_up || ! kernel_server_addr; then
			log "  namespace setup failed"
			net_down
			return 1
		fi
		sport=kernel
		if ! start_ntpd || ! probe_ntp; then
			stop_server
			net_down
			return 1
		fi
		version=$("$NTPD" --version 2>/dev/null | awk '{ print $2; exit }')
		;;
	esac
	log "  $name serving ($sport) on CPU $cpu_srv"

	if [ -n "$check_only" ]; then
		stop_server
		net_down
		return 0
	fi

	[ "$sport" = kernel ] && udp_counters >>"$extra"
	if [ "$name" = memif ]; then
		rl=$memif_rates
		gen_run "$NS_SRV" "net_memif0,role=client,id=0,socket=$TMP/memif-$run_no.sock,socket-abstract=no" \
			"$rl" "$gj" "$gerr"
		rc=$?
	else
		rc=1
		for kind in ${gen_port:-af_xdp af_packet}; do
			log "  generator on net_$kind, rates $rl, ${duration}s each"
			gen_run "$NS_GEN" "net_${kind}0,iface=$VETH_GEN" "$rl" "$gj" "$gerr"
			rc=$?
			gport=$kind
			[ $rc -eq 0 ] && break
			[ $rc -eq 2 ] && break
			log "  generator on net_$kind failed (exit $rc):"
			tail -n 5 "$gerr" | sed 's/^/    /' >&2
		done
	fi
	[ -z "$gport" ] && gport=memif
	if [ $rc -eq 2 ]; then
		log "the generator refused its arguments:"
		sed 's/^/    /' "$gerr" >&2
		stop_server
		net_down
		die "dpntp-gen exit 2 (bad arguments): does it match the interface this script expects?"
	fi
	[ $rc -eq 0 ] || { log "  generator failed (exit $rc); its stderr:"; tail -n 10 "$gerr" | sed 's/^/    /' >&2; }
	if [ "$sport" = kernel ]; then
		udp_counters >>"$extra"
	elif [ -n "$SRV_SOCK" ] && alive "$SRV_PID"; then
		# Its counters and the port's: requests lost before dpntpd saw
		# them (the kernel's XDP path, the socket's rings) show in the
		# port's missed counters, not in dpntpd's.
		{ "$DPNTPC" -s "$SRV_SOCK" show stats
		  "$DPNTPC" -s "$SRV_SOCK" show port stats
		  "$DPNTPC" -s "$SRV_SOCK" show port xstats; } >"$extra" 2>&1
	fi
	alive "$SRV_PID" || log "  warning: $name exited during the run"
	stop_server
	net_down
	BUSY_AFTER=$(cpu_busy)
	if [ "$BUSY_BEFORE" -ge "$BUSY_MAX" ] || [ "$BUSY_AFTER" -ge "$BUSY_MAX" ]; then
		log "  warning: other processes used the CPUs around this run" \
			"($BUSY_BEFORE % before, $BUSY_AFTER % after): its figures may be low"
	fi
	record "$name" "${name/memif/dpntpd}" "$link" "$sport" "$gport" "$npass" \
		"$rc" "$gj" "$gerr" "$version" "$extra"
}

# --------------------------------------------------------------- main
case " $servers " in *" ntpd "*)
	if ! fetch_ntpsec; then
		[ "$servers" = ntpd ] && die "cannot get ntpsec's ntpd (apt-get download ntpsec)"
		log "warning: cannot get ntpsec's ntpd (apt-get download ntpsec): no ntpd runs"
		servers=$(echo " $servers " | sed 's/ ntpd / /; s/^ //; s/ $//')
	fi ;;
esac

log "servers: $servers; rates: $rates${memif_rates:+ (memif: $memif_rates)};" \
	"${duration}s per step; $repeat pass(es); server CPU $cpu_srv, generator CPU $cpu_gen"
failed=
for ((p = 1; p <= repeat; p++)); do
	for s in $servers; do
		one_run "$s" "$p" || { failed="$failed $s"; log "run $run_no ($s) failed"; }
	done
done

if [ -n "$check_only" ]; then
	[ -z "$failed" ] && { log "every server answered"; exit 0; }
	die "did not answer:$failed"
fi

# --------------------------------------------------------------- results
log "writing $out"
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "command: $cmdline"
	echo "cpu: $(lscpu | awk -F: '/^Model name/ { sub(/^ +/, "", $2); print $2; exit }')"
	echo "cpus: $ncpu ($(lscpu | awk -F: '/^Hypervisor vendor/ { sub(/^ +/, "", $2); print $2 " guest"; exit }'))"
	echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel: $(uname -r)"
	# shellcheck disable=SC1091
	echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "dpdk: $(pkg-config --modversion libdpdk 2>/dev/null)"
	echo "dpntp: $(git -C "$ROOT" describe --always --dirty 2>/dev/null)"
	echo "chronyd: $(chronyd --version 2>/dev/null | awk '{ print $1, $2, $3, $4; exit }')"
	[ -n "$NTPD" ] && [ -x "$NTPD" ] && echo "ntpd: $("$NTPD" --version 2>/dev/null | head -n 1)"
	echo "server cpu: $cpu_srv (dpntpd, chronyd, ntpd)"
	echo "generator cpu: $cpu_gen"
	echo "dpntpd lcores: $dpntpd_lcores"
	echo "generator lcores: $gen_lcores"
	echo "busy pollers nice: $BUSY_NICE (dpntp-gen, dpntpd)"
} >"$out/machine.txt"

"$PY" - "$RUNS_DIR" "$out/results.json" "$out/machine.txt" "$duration" "$repeat" \
	"$rates" "$memif_rates" <<'PY'
import glob, json, os, sys
runs_dir, dest, machine, duration, repeat, rates, memif_rates = sys.argv[1:]
info = {}
with open(machine) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition(": ")
        info[k] = v
runs = []
for p in sorted(glob.glob(os.path.join(runs_dir, "*.json"))):
    with open(p) as f:
        runs.append(json.load(f))
doc = {"tool": "scripts/bench-compare.sh", "machine": info,
       "settings": {"duration_s": float(duration), "repeat": int(repeat),
                    "rates": [int(r) for r in rates.split(",")],
                    "memif_rates": [int(r) for r in memif_rates.split(",")],
                    "server": "198.18.0.1", "clients": "198.19.0.0/16"},
       "runs": runs}
with open(dest, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
PY
[ -s "$out/results.json" ] || die "could not write $out/results.json"

if ! "$PY" -c 'import matplotlib' 2>/dev/null; then
	log "installing python3-matplotlib for the plots"
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
		--no-install-recommends python3-matplotlib >"$TMP/apt-mpl.log" 2>&1 ||
		log "apt-get install python3-matplotlib failed; no plots (see the tables)"
fi
"$PY" "$PLOT" --rst "$out/results.rst" "$out/results.json" "$out" ||
	log "bench-plot.py failed"
log "done: $out/results.rst"
[ -z "$failed" ] || { log "runs that failed:$failed"; exit 1; }
exit 0
