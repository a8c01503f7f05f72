#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The load generator (perf/gen.c) against real servers in namespaces:
# dpntpd on net_af_packet answers every request (0 % loss, sane offsets),
# dpntpd with `restrict ... limited kod` is reported as KoD, a server that
# drops every tenth request is reported as 10 % loss, and bad arguments
# are refused with a clear message.
. "$(dirname "$0")/lib.sh"

GEN=$DPN_BUILD/perf/dpntp-gen
BROKEN_PID=

# A number (not "None": a figure the generator could not measure) in [lo, hi].
in_range() {
	[[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || { echo "  not a number: '$1'"; return 1; }
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }'
}

stop_broken() {
	[ -n "$BROKEN_PID" ] && kill "$BROKEN_PID" 2>/dev/null
	wait "$BROKEN_PID" 2>/dev/null
	BROKEN_PID=
}
trap 'stop_broken; dpn_cleanup' EXIT

dpn_setup || exit 1
# DPDK owns the client end now; the kernel must not answer there.
ip -n "$NS_CLI" addr flush dev "$VETH_CLI"

# Bad arguments: a clear message and exit status 2, before DPDK starts.
bad() {
	local out rc
	out=$("$GEN" -- "$@" 2>&1)
	rc=$?
	echo "  dpntp-gen $*: $out"
	[ $rc -eq 2 ] && echo "$out" | grep -qF -- "$EXPECT"
}
EXPECT="--server and --local are required"
dpn_check "missing --server is refused" bad --local 198.18.0.2 --rate 10
EXPECT="--rate must be 1 to 100000000"
dpn_check "a zero rate is refused" bad --server 1.2.3.4 --local 1.2.3.5 --rate 0
EXPECT="not an IPv4 address: 'nowhere'"
dpn_check "a bad address is named" bad --server nowhere --local 1.2.3.5 --rate 1
EXPECT="--clients needs an IPv4 prefix"
dpn_check "a bad client prefix is refused" \
	bad --server 1.2.3.4 --local 1.2.3.5 --rate 1 --clients 198.19.0.0/33
EXPECT="unknown or incomplete option '--bogus'"
dpn_check "an unknown option is named" bad --bogus

# dpntpd answers everything at a low rate.
dpn_start || exit 1
dpn_check "generator ran against dpntpd" dpn_gen --rate 1000 --duration 2
dpn_check "2000 requests sent" in_range "$(dpn_gen_field sent)" 1990 2010
dpn_check "0 % loss" in_range "$(dpn_gen_field lost_pct)" 0 0
dpn_check "no invalid replies" in_range "$(dpn_gen_field invalid_pct)" 0 0
dpn_check "no KoD" in_range "$(dpn_gen_field kod_pct)" 0 0
# Both clocks follow this host's: the offset is the one-way delay, well
# under 10 ms even with the two pollers sharing two cores.
dpn_check "offsets are sane (|mean| < 10 ms)" \
	in_range "$(dpn_gen_field offset_ns.mean)" -10000000 10000000
dpn_check "response times were measured" \
	in_range "$(dpn_gen_field response_ns.p50)" 0 10000000
sent=$(dpn_gen_field sent)
dpn_check "dpntpd answered as many as were sent" \
	in_range "$(dpn_counter ntp_server_replies)" "$sent" "$sent"

# Rate-limited clients get KoD RATE, and the generator says so.
dpnc restrict add default kod limited >/dev/null
dpn_check "generator ran against a limiting dpntpd" \
	dpn_gen --rate 400 --duration 1 --clients 198.19.7.0/30
dpn_check "KoDs are reported" in_range "$(dpn_gen_field kod_pct)" 0.01 100
dpn_check "limited requests are reported lost" \
	in_range "$(dpn_gen_field lost_pct)" 50 100
kill -TERM "$DPN_PID"; wait "$DPN_PID" 2>/dev/null; DPN_PID=

# A server that drops every tenth request: 10 % loss.
ip -n "$NS_SRV" addr add "$SRV4/24" dev "$VETH_SRV"
ip -n "$NS_SRV" route add 198.19.0.0/16 via "$CLI4"
ip netns exec "$NS_SRV" timeout 60 $PY "$DPN_ROOT/tests/integration/brokenntp.py" \
	--bind "$SRV4" --drop-every 10 --seconds 50 &
BROKEN_PID=$!
# Its first requests must find it listening, or they count as loss.
bound() {
	local _
	for _ in $(seq 100); do
		ip netns exec "$NS_SRV" ss -Hnul "sport = :123" | grep -q "$SRV4:123" &&
			return 0
		sleep 0.1
	done
	return 1
}
dpn_check "the broken server listens" bound
dpn_check "generator ran against the broken server" dpn_gen --rate 500 --duration 2
dpn_check "10 % loss reported" in_range "$(dpn_gen_field lost_pct)" 9 11
dpn_check "its replies are valid" in_range "$(dpn_gen_field invalid_pct)" 0 0
stop_broken

dpn_pass
