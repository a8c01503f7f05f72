#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# `refclock phc` and `refclock pps` on the host's real devices, where it
# has them: a PHC (/dev/ptpN) is read against the host clock and
# delivers readings; a PPS device (/dev/ppsN) opens and is set to
# capture (its pulses need a signal, so only that it opened is checked).
# Both lines are `noselect`: the served time stays the host's
# (`refclock system`), whatever the devices' clocks say. The project's
# test machines have neither device: there the test says so and passes,
# and what it would check is covered by the unit tests (test_refclock_phc,
# test_refclock_pps, through a simulated device) and test_refclocks.sh
# (missing devices).
. "$(dirname "$0")/lib.sh"

phc= pps=
for d in /dev/ptp[0-9]*; do [ -c "$d" ] && { phc=$d; break; }; done
for d in /dev/pps[0-9]*; do [ -c "$d" ] && { pps=$d; break; }; done
if [ -z "$phc$pps" ]; then
	dpn_log "SKIPPED: no /dev/ptp* or /dev/pps* on this machine (nothing run)"
	exit 0
fi

dpn_setup || exit 1
dpn_default_conf
[ -n "$phc" ] && echo "refclock phc $phc poll 0 noselect" >>"$CONF"
[ -n "$pps" ] && echo "refclock pps $pps poll 0 noselect" >>"$CONF"
dpn_start || exit 1

# Wait (at most $1 s) for the JSON refclock named $2 to satisfy $3 (a
# Python expression on r).
wait_rc() {
	local _
	for _ in $(seq "$1"); do
		dpnc --json show refclocks | "$PY" -c '
import json, sys
rc = {r["name"]: r for r in json.load(sys.stdin)["refclocks"]}
r = [v for k, v in rc.items() if k.startswith(sys.argv[1])]
sys.exit(0 if r and eval(sys.argv[2], {"r": r[0]}) else 1)' "$2" "$3" && return 0
		sleep 1
	done
	dpnc show refclocks | sed 's/^/  /'
	return 1
}

if [ -n "$phc" ]; then
	dpn_check "phc $phc: open, readings against the host clock" \
		wait_rc 20 "PHC" 'r["open"] and r["readings"] > 0'
else
	dpn_log "no /dev/ptp* here: PHC not checked"
fi
if [ -n "$pps" ]; then
	dpn_check "pps $pps: open and capturing" wait_rc 20 "PPS" 'r["open"]'
else
	dpn_log "no /dev/pps* here: PPS not checked"
fi
dpn_check "still served from refclock system (the devices noselect)" \
	dpn_best_of3 dpn_ntpdig_s1 "$SRV4"
dpn_check "dpntpd still running" dpn_alive
dpn_pass
