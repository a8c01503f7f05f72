#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Running as a service, checked without changing the host: the systemd
# unit verifies and grants the capabilities DPDK needs but not
# CAP_SYS_TIME; bind-nic.sh refuses the interface this host is reached
# by (default route, SSH session) and names bad input, and never gets
# as far as binding here; setup-hugepages.sh explains itself and
# refuses bad arguments without reserving anything.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DPNTPD=${DPN_BUILD:-$ROOT/build}/app/dpntpd/dpntpd
UNIT=$ROOT/config/dpntpd.service
BIND=$ROOT/scripts/bind-nic.sh
HUGE=$ROOT/scripts/setup-hugepages.sh
TAG=$$
NS=dpnt-b-$TAG
TMP=$(mktemp -d /tmp/dpnt.XXXXXX)
PY=/usr/bin/python3
SSHD_PID=
fails=0
checks=0

cleanup() {
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS-c" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[test_service.sh] $*"; }
check() {
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then log "ok: $what"; else log "FAIL: $what"; fails=$((fails + 1)); fi
}
# expect RC PATTERN command...: exit status RC and PATTERN in
# the output.
expect() {
	local rc=$1 pat=$2 out got
	shift 2
	out=$("$@" 2>&1)
	got=$?
	echo "$out" | head -3 | sed 's/^/  /'
	[ "$got" -eq "$rc" ] && echo "$out" | grep -qE -- "$pat"
}

# The unit.
if command -v systemd-analyze >/dev/null; then
	# Installed paths point at the build and the repository here.
	sed -e "s#/usr/local/bin/dpntpd#$DPNTPD#" \
		-e "s#/usr/local/lib/dpntp/setup-hugepages.sh#$HUGE#" \
		-e "s#/etc/default/dpntpd#$ROOT/config/dpntpd.default#" \
		"$UNIT" > "$TMP/dpntpd.service"
	check "systemd-analyze verify dpntpd.service" \
		systemd-analyze verify --man=no "$TMP/dpntpd.service"
else
	log "skip: systemd-analyze not installed, unit not verified"
fi
caps() {
	local line c
	line=$(grep '^CapabilityBoundingSet=' "$UNIT") || return 1
	for c in CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_SYS_RAWIO CAP_SYS_ADMIN; do
		echo "$line" | grep -qw "$c" || { echo "  missing $c"; return 1; }
	done
	! grep -v '^#' "$UNIT" | grep -q 'CAP_SYS_TIME'
}
check "unit: DPDK's capabilities, never CAP_SYS_TIME" caps
check "unit: restarts on failure, waits for hugepages, installed paths" sh -c "
	grep -qx 'Restart=on-failure' '$UNIT' &&
	grep -qx 'Requires=dev-hugepages.mount' '$UNIT' &&
	grep -q '^ExecStart=/usr/local/bin/dpntpd \$DPNTPD_EAL_ARGS -- --config /etc/dpntpd/dpntpd.conf' '$UNIT' &&
	grep -qx 'EnvironmentFile=/etc/default/dpntpd' '$UNIT'"
# The example environment file gives what ExecStart uses.
check "dpntpd.default sets the variables the unit uses" bash -c "
	set -u; . '$ROOT/config/dpntpd.default';
	[ -n \"\$DPNTPD_EAL_ARGS\" ] && [ \"\$DPNTPD_HUGEPAGES\" -gt 0 ] && : \"\$DPNTPD_OPTS\""

# bind-nic.sh
check "bind-nic.sh --help" expect 0 "^Usage: bind-nic.sh" "$BIND" --help
check "bind-nic.sh: no such interface" expect 1 "no network interface or PCI device 'nosuch$TAG'" "$BIND" "nosuch$TAG"
check "bind-nic.sh: unknown option" expect 2 "unknown option '--frobnicate'" "$BIND" --frobnicate eth0
check "bind-nic.sh: unknown driver" expect 2 "unknown driver 'e1000'" "$BIND" --driver e1000 eth0
defdev=$(ip route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
if [ -n "$defdev" ]; then
	check "bind-nic.sh refuses $defdev (this host's default route)" \
		expect 1 "$defdev carries a default route" "$BIND" "$defdev"
else
	log "skip: this host has no IPv4 default route"
fi
# In a namespace of our own: a default route over a veth, then an SSH
# session (a listener on port 22) over another.
ip netns add "$NS" && ip netns add "$NS-c" || exit 1
ip -n "$NS" link add dpr$TAG type veth peer name dpq$TAG
ip -n "$NS" link set dpr$TAG up
ip -n "$NS" link set dpq$TAG up
ip -n "$NS" addr add 198.18.2.1/24 dev dpr$TAG
ip -n "$NS" -6 addr add 2001:db8:2::1/64 dev dpq$TAG nodad
ip -n "$NS" -6 route replace default via 2001:db8:2::fe dev dpq$TAG onlink
check "bind-nic.sh refuses an IPv6 default route's interface" \
	expect 1 "dpq$TAG carries a default route" ip netns exec "$NS" "$BIND" dpq$TAG
ip -n "$NS" link add dps$TAG type veth peer name dpc$TAG netns "$NS-c"
ip -n "$NS" link set dps$TAG up
ip -n "$NS-c" link set dpc$TAG up
ip -n "$NS" addr add 198.18.3.1/24 dev dps$TAG
ip -n "$NS-c" addr add 198.18.3.2/24 dev dpc$TAG
ip netns exec "$NS" timeout 60 $PY -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.3.1", 22)); s.listen(1)
c, _ = s.accept(); time.sleep(30)' &
SSHD_PID=$!
ssh_session() {
	ip netns exec "$NS-c" timeout 20 $PY -c '
import socket, sys, time
for i in range(50):
    try:
        s = socket.create_connection(("198.18.3.1", 22), 1); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(1)
time.sleep(15)' &
	local cli=$!
	for _ in $(seq 50); do
		ip netns exec "$NS" ss -tnH state established '( sport = :22 )' | grep -q 198.18.3.1 && break
		sleep 0.1
	done
	expect 1 "dps$TAG carries an SSH session to 198.18.3.1" ip netns exec "$NS" "$BIND" dps$TAG
	local rc=$?
	kill "$cli" 2>/dev/null
	wait "$cli" 2>/dev/null
	return $rc
}
check "bind-nic.sh refuses the interface of an SSH session" ssh_session
check "bind-nic.sh --force passes the checks (stops: not a PCI device)" \
	expect 1 "dps$TAG is not a PCI device" ip netns exec "$NS" "$BIND" --force dps$TAG

# setup-hugepages.sh, without reserving or mounting anything.
before=$(cat /proc/sys/vm/nr_hugepages)
check "setup-hugepages.sh --help" expect 0 "^Usage: setup-hugepages.sh" "$HUGE" --help
check "setup-hugepages.sh: PAGES must be a number" expect 2 "PAGES must be a whole number, not 'lots'" "$HUGE" -n lots
check "setup-hugepages.sh: unknown argument" expect 2 "unknown argument '--frobnicate'" "$HUGE" --frobnicate
check "setup-hugepages.sh: relative mount point refused" expect 2 "DIR must be an absolute path" "$HUGE" -m hugepages
check "setup-hugepages.sh: what is there is enough, nothing to do" \
	expect 0 "nothing to do" "$HUGE" -n 0 --no-mount
check "hugepages left as they were" test "$(cat /proc/sys/vm/nr_hugepages)" = "$before"

if [ "$fails" -ne 0 ]; then
	log "$fails of $checks checks failed"
	exit 1
fi
log "all $checks checks passed"
