#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# What happens to dpntpd's upstream side over time (issue 5): a pool name
# resolved to several addresses (IPv4 and IPv6, from the namespace's
# /etc/hosts), a leap second from the leap file announced and inserted
# by the clock model, holdover and then "unsynchronized" once the
# sources go away, a drift file that cannot be written, and a smeared
# leap second. The upstreams are brokenntp.py servers serving the host
# clock, which is never touched.
. "$(dirname "$0")/lib.sh"

UP_A=198.18.0.13
UP_B=198.18.0.15
UP_6=2001:db8::13
HOSTS_DIR=/etc/netns/$NS_SRV
trap 'rm -rf "$HOSTS_DIR"; dpn_cleanup' EXIT

dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$UP_A/24" dev "$VETH_CLI"
ip -n "$NS_CLI" addr add "$UP_B/24" dev "$VETH_CLI"
ip -n "$NS_CLI" addr add "$UP_6/64" dev "$VETH_CLI" nodad
for a in $UP_A $UP_B $UP_6; do
	# As long as the test may run (300 s): dpn_stop_peers stops them.
	ip netns exec "$NS_CLI" timeout 310 "$PY" "$DPN_ROOT/tests/integration/brokenntp.py" \
		--bind "$a" --drop-every 0 --seconds 300 &
	DPN_PEER_PIDS+=($!)
done
# ip netns exec mounts /etc/netns/NS/hosts over /etc/hosts for dpntpd.
mkdir -p "$HOSTS_DIR"
printf '%s pool.test\n' $UP_A $UP_B $UP_6 >"$HOSTS_DIR/hosts"

# --- pool, leap second inserted, holdover, unsynchronized -----------------
/usr/bin/python3 "$DPN_ROOT/tests/integration/mkleap.py" "$DPN_TMP/leap" --in 35
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
listen port 0 address $SRV6/64
pool pool.test iburst minpoll 3 maxpoll 3
leapfile $DPN_TMP/leap
holdover 5
tinker stepout 600
driftfile $DPN_TMP/no-such-dir/drift
CONF
dpn_start --log-level=dpntp.sync:debug || exit 1
wait_members() {
	local _
	for _ in $(seq 30); do
		[ "$(dpnc show peers | grep -c " p ")" -ge 3 ] && return 0
		sleep 0.5
	done
	dpnc show peers
	return 1
}
dpn_check "the pool name gave three associations (IPv4 and IPv6)" wait_members
dpnc show peers | sed 's/^/  /'
dpn_check "an IPv6 pool member is polled" sh -c "'$DPNTPC' -s '$SOCK' show peers | grep -q '2001:db8::13'"
dpn_check "leap second announced: LI 1 (add-leap), stratum 2" \
	dpn_wait_served 40 '$2 == "s2" && $3 == "add-leap"'
dpn_check "show sysinfo: leapmode step, an insertion pending" \
	test "$(dpn_sysvar leapmode) $(dpn_sysvar leapsec | cut -d' ' -f1)" = "step insert"
dpn_check "the clock model inserted the second" dpn_wait_log "leap second inserted" 40
# The upstreams do not leap (they serve the host clock): dpntpd is now a
# second behind them and, with stepout 600 s, stays there. The +1 s
# samples reach the discipline only once the clock filter prefers them
# to the older ones (up to 8 polls).
dpn_check "served time is one second behind the host after it, no-leap" \
	dpn_wait_served 5 '$1 < -0.99 && $1 > -1.01 && $3 == "no-leap"'
dpn_check "the offset to the upstreams is held as a spike, not stepped" \
	dpn_wait_log "above the step threshold: ignored" 90
dpn_stop_peers
# 8 unanswered polls of 8 s make the sources unreachable; 5 s of holdover.
dpn_check "without sources, after the holdover: unsynchronized (LI 3)" \
	dpn_wait_served 100 '$0 ~ /stratum too high|no-sync|s16/'
dpn_check "holdover end logged" grep -q "serving unsynchronized" "$LOG"
# A pool's server unreachable for 8 polls makes room for another address.
dpn_check "the pool drops a server that stopped answering and looks again" \
	dpn_wait_log "pool pool.test: dropping .* (unreachable), looking for another" 70
dpn_check "show sysinfo: sync=no, stratum 16" \
	test "$(dpn_sysvar sync) $(dpn_sysvar stratum)" = "no 16"
kill -TERM "$DPN_PID"; wait "$DPN_PID" 2>/dev/null; DPN_PID=
dpn_check "an unwritable drift file is named in one clear message" \
	grep -q "cannot write the drift file: $DPN_TMP/no-such-dir/drift.tmp: No such file or directory; its directory must be writable" "$LOG"
rm -rf "/var/run/dpdk/dpnt$DPN_TAG"

# --- a smeared leap second ------------------------------------------------
# An hour before the leap, 11 of the 24 smear hours have gone by: the
# served clock is 11/24 s behind the host clock it follows.
/usr/bin/python3 "$DPN_ROOT/tests/integration/mkleap.py" "$DPN_TMP/leap" --in 3600
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
refclock system stratum 1 refid GPS
leapfile $DPN_TMP/leap
leapsmear 86400
CONF
dpn_start || exit 1
dpn_check "smear: served time 11/24 s behind, stratum 1, not announced" \
	dpn_wait_served 10 '$1 < -0.453 && $1 > -0.464 && $2 == "s1" && $3 == "no-leap"'
dpn_check "show sysinfo: leapmode smear, smear -458 ms" \
	sh -c "'$DPNTPC' -s '$SOCK' show sysinfo | grep -Eq '^smear=-45[78]\\.'"
dpn_check "dpntpd still running" dpn_alive
dpn_pass
