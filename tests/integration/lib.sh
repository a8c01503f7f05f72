# SPDX-License-Identifier: BSD-3-Clause
# Shared harness for the integration tests: network namespaces joined by
# a veth pair, dpntpd on the server end through net_af_packet, real
# clients in the client namespace. Addresses come from 198.18.0.0/15 and
# 2001:db8::/32 only. Everything a test creates is removed on exit, also
# on failure; every wait is bounded.
#
# Use:  . "$(dirname "$0")/lib.sh"; dpn_setup; dpn_start; ...; dpn_pass

set -u

DPN_ROOT=${DPN_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DPN_BUILD=${DPN_BUILD:-$DPN_ROOT/build}
DPNTPD=$DPN_BUILD/app/dpntpd/dpntpd
DPNTPC=$DPN_BUILD/app/dpntpc/dpntpc
PY=/usr/bin/python3

DPN_TAG=${DPN_TAG:-$$}
NS_SRV=dpnt-s-$DPN_TAG
NS_CLI=dpnt-c-$DPN_TAG
VETH_SRV=dps$DPN_TAG
VETH_CLI=dpc$DPN_TAG
SRV4=198.18.0.1
CLI4=198.18.0.2
SRV6=2001:db8::1
CLI6=2001:db8::2
DPN_TMP=$(mktemp -d /tmp/dpnt.XXXXXX)
SOCK=$DPN_TMP/dpntpd.sock
CONF=$DPN_TMP/dpntpd.conf
LOG=$DPN_TMP/dpntpd.log
DPN_PID=
DPN_TEST=$(basename "$0")
DPN_FAILS=0
DPN_CHECKS=0

dpn_log() { echo "[$DPN_TEST] $*"; }

# Peers a test starts (chronyd, ntpd, test servers) are stopped at exit.
# Start them with ip netns exec (which execs them) so that $! is theirs:
# a backgrounded shell function would leave them running.
DPN_PEER_PIDS=()
dpn_stop_peers() {
	local p
	for p in "${DPN_PEER_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${DPN_PEER_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	DPN_PEER_PIDS=()
}

dpn_cleanup() {
	local i
	dpn_stop_peers
	if [ -n "$DPN_PID" ] && kill -0 "$DPN_PID" 2>/dev/null; then
		kill -TERM "$DPN_PID" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$DPN_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DPN_PID" 2>/dev/null
	fi
	ip netns del "$NS_SRV" 2>/dev/null
	ip netns del "$NS_CLI" 2>/dev/null
	rm -rf "$DPN_TMP" "/var/run/dpdk/dpnt$DPN_TAG"
}
trap dpn_cleanup EXIT
trap 'exit 130' INT TERM

# Two namespaces and a veth between them; the client end is addressed,
# the server end is not (dpntpd owns it). Real checksums from the client.
dpn_setup() {
	ip netns add "$NS_SRV" && ip netns add "$NS_CLI" || return 1
	ip link add "$VETH_SRV" type veth peer name "$VETH_CLI" || return 1
	ip link set "$VETH_SRV" netns "$NS_SRV"
	ip link set "$VETH_CLI" netns "$NS_CLI"
	ip -n "$NS_SRV" link set lo up
	ip -n "$NS_CLI" link set lo up
	ip -n "$NS_SRV" link set "$VETH_SRV" up
	ip -n "$NS_CLI" link set "$VETH_CLI" up
	ip netns exec "$NS_SRV" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$NS_CLI" addr add "$CLI4/24" dev "$VETH_CLI"
	ip -n "$NS_CLI" addr add "$CLI6/64" dev "$VETH_CLI" nodad
	ip netns exec "$NS_CLI" ethtool -K "$VETH_CLI" tx off >/dev/null
	ip netns exec "$NS_SRV" ethtool -K "$VETH_SRV" tx off >/dev/null
}

# The client namespace becomes a switch: a bridge br0 holding the veth
# to dpntpd, with the client's address; more veths may join it.
dpn_cli_bridge() {
	ip -n "$NS_CLI" link add br0 type bridge || return 1
	ip -n "$NS_CLI" link set "$VETH_CLI" master br0
	ip -n "$NS_CLI" addr flush dev "$VETH_CLI"
	ip -n "$NS_CLI" link set br0 up
	ip -n "$NS_CLI" addr add "$CLI4/24" dev br0
}

# chronyd -x as an upstream server (stratum 1 from the untouched host
# clock) on ADDR, which must be an address of the client namespace; its
# PID in DPN_CHRONYD_PID (stopped at exit). Call again to restart it.
dpn_chronyd_upstream() { dpn_chronyd_server "$NS_CLI" "$1" chronyd; }

# With DPN_VDEV="net_tap0,iface=dpk$DPN_TAG", after dpn_start: bridge the
# TAP's kernel side to the server veth in the server namespace, so that
# the port reaches the client, and the TAP's link is the port's (net_tap
# reads its flags, as a NIC's PMD reads its PHY; af_packet and pcap
# always say up). The kernel side gets MAC $1: with the port's own, the
# bridge would keep the frames to the port for itself.
dpn_tap_bridge() {
	local tap=dpk$DPN_TAG br=dpb$DPN_TAG
	ip -n "$NS_SRV" link set "$tap" address "$1" || return 1
	ip -n "$NS_SRV" link add "$br" type bridge || return 1
	ip -n "$NS_SRV" link set "$tap" master "$br" || return 1
	ip -n "$NS_SRV" link set "$VETH_SRV" master "$br" || return 1
	ip -n "$NS_SRV" link set "$tap" up
	ip -n "$NS_SRV" link set "$br" up
}

# Write the default test configuration (tests may write their own).
dpn_default_conf() {
	cat > "$CONF" <<CONF
# integration test configuration
listen port 0 address $SRV4/24
listen port 0 address $SRV6/64
refclock system stratum 1 refid GPS
CONF
}

# Start dpntpd in the server namespace and wait until it answers on its
# control socket (at most 30 s). Arguments are EAL options; dpntpd's own
# extra options go in the array DPN_APP_ARGS.
DPN_APP_ARGS=()
# The EAL's lcores (a test may map them to CPUs: DPN_LCORES=(--lcores ...)).
DPN_LCORES=(-l 0,1)
# The port dpntpd owns: a DPDK vdev string, af_packet on the server veth
# unless a test sets DPN_VDEV after sourcing lib.sh (e.g. net_pcap,
# whose frames carry the kernel's receive stamps).
DPN_VDEV=
dpn_vdev() { echo "${DPN_VDEV:-net_af_packet0,iface=$VETH_SRV}"; }
dpn_start() {
	local i
	[ -f "$CONF" ] || dpn_default_conf
	ip netns exec "$NS_SRV" "$DPNTPD" --no-huge -m 512 \
		--file-prefix "dpnt$DPN_TAG" "${DPN_LCORES[@]}" --no-pci \
		--vdev "$(dpn_vdev)" "$@" -- \
		--config "$CONF" --control-socket "$SOCK" \
		"${DPN_APP_ARGS[@]}" >"$LOG" 2>&1 &
	DPN_PID=$!
	for i in $(seq 300); do
		if "$DPNTPC" -s "$SOCK" show sysinfo >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$DPN_PID" 2>/dev/null || break
		sleep 0.1
	done
	dpn_log "dpntpd did not come up; its log:"
	cat "$LOG"
	return 1
}

dpn_cli() { ip netns exec "$NS_CLI" "$@"; }

dpnc() { "$DPNTPC" -s "$SOCK" "$@"; }

# Total of one counter from `show stats`.
dpn_counter() {
	dpnc show stats | awk -v n="$1" '$1 == n { print $2; found=1 }
		END { if (!found) print "missing" }'
}

dpn_check() {
	# dpn_check "what" command...: the command must succeed.
	local what=$1
	shift
	DPN_CHECKS=$((DPN_CHECKS + 1))
	if "$@"; then
		dpn_log "ok: $what"
	else
		dpn_log "FAIL: $what"
		DPN_FAILS=$((DPN_FAILS + 1))
	fi
}

dpn_alive() { kill -0 "$DPN_PID" 2>/dev/null; }

# ntpdig from the client namespace gets stratum 1 time from ADDR.
dpn_ntpdig_s1() {
	local out
	out=$(dpn_cli timeout 10 ntpdig -t 2 "$1" 2>&1) || { echo "$out"; return 1; }
	echo "  $out"
	echo "$out" | grep -q " s1 "
}

# The MAC the client namespace resolved for ADDR on DEV.
dpn_neigh_mac() {
	dpn_cli ip neigh show "$1" dev "$2" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}

# Each "RESULT ok|FAIL what" line of a script's output FILE becomes a
# check; then the script (named WHO) must have exited 0 (RC) and, if N
# is given, reported exactly N results.
dpn_results() {
	local out=$1 who=$2 rc=$3 n=${4:-} tag st what
	while read -r tag st what; do
		[ "$tag" = RESULT ] || continue
		dpn_check "$what" test "$st" = ok
	done <"$out"
	dpn_check "$who ran every case (exit $rc)" test "$rc" -eq 0
	[ -z "$n" ] || dpn_check "$who reported all $n cases" \
		test "$(grep -c '^RESULT ' "$out")" -eq "$n"
}

# Run crafted.py in the client namespace with ARGS; each of its RESULT
# lines becomes a check, and it must report exactly N of them.
dpn_crafted() {
	local n=$1 out=$DPN_TMP/crafted.out rc
	shift
	dpn_cli timeout 60 $PY "$DPN_ROOT/tests/integration/crafted.py" \
		--dpntpc "$DPNTPC" --sock "$SOCK" "$@" >"$out" 2>&1
	rc=$?
	sed 's/^/  /' "$out"
	dpn_results "$out" crafted.py "$rc" "$n"
}

# Run the load generator (perf/gen.c) in the client namespace on its
# (unaddressed) veth, against SRV4, with ARGS; its JSON in $DPN_TMP/gen.json.
dpn_gen() {
	local out=$DPN_TMP/gen.json rc
	dpn_cli timeout 60 "$DPN_BUILD/perf/dpntp-gen" --no-huge -m 256 \
		--no-pci -l 0 --file-prefix "dpng$DPN_TAG" \
		--vdev "net_af_packet1,iface=$VETH_CLI" -- \
		--server "$SRV4" --local "$CLI4" --json "$@" >"$out" 2>"$out.err"
	rc=$?
	rm -rf "/var/run/dpdk/dpng$DPN_TAG"
	echo "  $(head -c 400 "$out")"
	[ $rc -eq 0 ] || sed 's/^/  /' "$out.err"
	return $rc
}

# A field of dpn_gen's first step: dpn_gen_field lost_pct, offset_ns.mean
dpn_gen_field() {
	$PY -c 'import json, sys
d = json.load(open(sys.argv[1]))["steps"][0]
for k in sys.argv[2].split("."):
    d = d[k]
print(d)' "$DPN_TMP/gen.json" "$1"
}

# Up to three tries of a time measurement: on two busy vCPUs one exchange
# can be delayed by milliseconds (ntpdig then reports a large error
# bound); a server with a wrong clock fails all three.
dpn_best_of3() {
	"$@" || "$@" || "$@"
}

# |x| < limit, for offsets printed by clients (seconds).
dpn_abs_lt() { awk -v x="$1" -v l="$2" 'BEGIN { if (x < 0) x = -x; exit !(x < l) }'; }

# ntpsec's ntpd conflicts with chrony, so it is unpacked, not installed:
# apt-get download into the build directory, once. Sets NTPSEC_NTPD.
NTPSEC_NTPD=
NTPSEC_NTPQ=
dpn_fetch_ntpsec() {
	local cache=$DPN_BUILD/bench-cache/ntpsec
	NTPSEC_NTPD=$cache/root/usr/sbin/ntpd
	# A Python script: Debian's python3-ntp is its library.
	NTPSEC_NTPQ=$cache/root/usr/bin/ntpq
	[ -x "$NTPSEC_NTPD" ] && return 0
	mkdir -p "$cache" || return 1
	(cd "$cache" && rm -f ntpsec_*.deb &&
		timeout 300 apt-get download ntpsec) >"$DPN_TMP/apt-ntpsec.log" 2>&1 ||
		{ tail -n 5 "$DPN_TMP/apt-ntpsec.log"; return 1; }
	rm -rf "$cache/root"
	dpkg-deb -x "$cache"/ntpsec_*.deb "$cache/root" && [ -x "$NTPSEC_NTPD" ]
}

# dpn_wait_until N DELAY CMD...: run CMD until it succeeds, at most N
# times DELAY seconds apart.
dpn_wait_until() {
	local n=$1 d=$2 _
	shift 2
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep "$d"
	done
	return 1
}

# dpn_chronyd_server NS ADDR NAME: chronyd as a stratum 1 server from
# the (untouched: -x) host clock, bound to ADDR in namespace NS, its
# files $DPN_TMP/NAME.{conf,pid,log} (the log kept across restarts),
# its PID in DPN_CHRONYD_PID; stopped with the other peers.
dpn_chronyd_server() {
	cat >"$DPN_TMP/$3.conf" <<CONF
local stratum 1
allow
bindaddress $2
pidfile $DPN_TMP/$3.pid
cmdport 0
CONF
	ip netns exec "$1" chronyd -4 -d -x -f "$DPN_TMP/$3.conf" \
		>>"$DPN_TMP/$3.log" 2>&1 &
	DPN_CHRONYD_PID=$!
	DPN_PEER_PIDS+=($DPN_CHRONYD_PID)
}

# NTS tests. A self-signed P-256 certificate ($DPN_TMP/cert.pem, key in
# key.pem) with the IP SANs given as arguments.
dpn_nts_cert() {
	local san=IP:$1 a
	shift
	for a; do san="$san,IP:$a"; done
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$DPN_TMP/key.pem" -out "$DPN_TMP/cert.pem" -days 2 \
		-subj /CN=dpntp-test -addext "subjectAltName=$san" >/dev/null 2>&1
}

# A second veth for the kernel's traffic (NTS-KE on a kernel address):
# the server end, dpk$DPN_TAG, in the server namespace with the /24
# addresses given; the client end with $KECLI4.
KECLI4=198.18.1.2
dpn_ke_veth() {
	local a
	ip link add "dpk$DPN_TAG" type veth peer name "dpkc$DPN_TAG" || return 1
	ip link set "dpk$DPN_TAG" netns "$NS_SRV"
	ip link set "dpkc$DPN_TAG" netns "$NS_CLI"
	for a; do ip -n "$NS_SRV" addr add "$a/24" dev "dpk$DPN_TAG"; done
	ip -n "$NS_CLI" addr add "$KECLI4/24" dev "dpkc$DPN_TAG"
	ip -n "$NS_SRV" link set "dpk$DPN_TAG" up
	ip -n "$NS_CLI" link set "dpkc$DPN_TAG" up
}

# chronyd -Q over NTS with NTS-KE at $1, trusting the test's certificate
# (as root: it reads $DPN_TMP); prints its output.
dpn_chronyd_nts() {
	dpn_cli timeout 30 chronyd -u root -x -Q -t 25 "server $1 nts iburst" \
		"ntstrustedcerts $DPN_TMP/cert.pem" 2>&1
}

# The offset chronyd -Q printed (its output on stdin), or nothing.
dpn_chronyd_offset() {
	sed -n 's/.*System clock wrong by \([-+0-9.]*\) seconds.*/\1/p'
}

# One variable of `show sysinfo` (name=value lines).
# What `show clients` says: the state (ok, limited, ...) of client $1,
# and how many clients the rate limiter tracks.
dpn_client_state() {
	dpnc show clients 1000 | awk -v a="$1" '$1 == a { print $NF }'
}
dpn_clients_tracked() {
	dpnc show clients 1 | awk '/clients tracked/ { print $2 }'
}
dpn_sysvar() { dpnc show sysinfo | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# ntpdig's view of dpntpd at $SRV4: "OFFSET STRATUM LEAP", e.g.
# "-0.000012 s2 no-leap", or ntpdig's message when it got no time.
dpn_served() {
	dpn_cli timeout 10 ntpdig -t 2 "$SRV4" 2>&1 | awk '
		{ off = ""
		  for (i = 1; i < NF; i++) if ($i ~ /^[+-][0-9.]+$/) off = $i
		  if (off == "") print; else print off, $(NF - 1), $NF; exit }'
}

# Wait (at most $1 s) until dpn_served's output matches the awk test $2
# (given in single quotes: awk expands it, not the shell).
dpn_wait_served() {
	local _ out
	for _ in $(seq "$1"); do
		out=$(dpn_served)
		if echo "$out" | awk "{ exit !($2) }"; then
			echo "  $out"
			return 0
		fi
		sleep 1
	done
	echo "  last: $out"
	return 1
}

# dpntpd started on the configuration $1 (printf %b escapes), which it
# must refuse: prints its output, returns its exit status.
dpn_bad_start() {
	printf '%b' "$1" >"$DPN_TMP/bad.conf"
	timeout 30 "$DPNTPD" --no-huge -m 64 --no-pci -l 0,1 \
		--file-prefix "dpnt$DPN_TAG" --log-level=error -- \
		--config "$DPN_TMP/bad.conf" --control-socket none 2>&1
}

# The configuration $1 is refused (non-zero exit) with message $2.
dpn_refused_with() {
	local out rc
	out=$(dpn_bad_start "$1")
	rc=$?
	echo "  $(echo "$out" | tail -1)"
	[ "$rc" -ne 0 ] && echo "$out" | grep -qF "$2"
}

# Wait (at most $2 s) until dpntpd's log has a line matching $1.
dpn_wait_log() {
	local _
	for _ in $(seq "$2"); do
		grep -q "$1" "$LOG" && return 0
		sleep 1
	done
	return 1
}

# dpntpd's resident memory in kB outside DPDK's own (the --no-huge
# memfd, hugepages): what libc and the rest hold. DPDK's heap reuses its
# memory in other places after frees, so RSS there climbs towards -m
# without a leak; its use is telemetry's /eal/heap_info.
dpn_rss_kb() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { dpdk = ($6 ~ /memfd:nohuge|hugepages|rtemap_/) }
		/^Rss:/ && !dpdk { kb += $2 }
		END { print kb + 0 }' "/proc/$DPN_PID/smaps"
}

# Every packet a worker received is accounted for exactly once: answered
# (replies, NAKs), limited, dropped for a reason, or handed to the slow
# path. Prints the sums (and the counters if they differ); fails if they
# differ.
dpn_accounting() {
	dpnc show stats | awk '
		$2 ~ /^[0-9]+$/ && $2 != 0 { nz = nz " " $1 "=" $2 }
		$2 !~ /^[0-9]+$/ { next }
		$1 == "rx_packets" { rx = $2; seen = 1; next }
		# Mode 4 goes to the slow path (slow_queued) and is counted
		# again there if it answers none of our requests.
		$1 == "drop_ntp_mode4" { next }
		$1 ~ /^(ntp_server_replies|ntp_symmetric_replies|ntp_auth_nak|ntp_auth_dropped|ntp_nts_nak|ntp_nts_malformed|ntp_nts_off|ntp_nts_no_room|rate_limited|slow_queued|slow_ring_full)$/ ||
		$1 ~ /^(drop|acl)_/ { out += $2 }
		END {
			printf "  rx_packets %d, accounted for %d\n", rx, out
			if (rx != out)
				print "  counters:" nz
			exit !(seen && rx == out)
		}'
}

dpn_pass() {
	# After every test: nothing received went unaccounted for.
	if dpn_alive; then
		dpn_check "every packet received accounted for once" \
			dpn_accounting
	fi
	if [ "$DPN_FAILS" -ne 0 ]; then
		dpn_log "$DPN_FAILS of $DPN_CHECKS checks failed; dpntpd log:"
		cat "$LOG"
		exit 1
	fi
	dpn_log "all $DPN_CHECKS checks passed"
	exit 0
}
