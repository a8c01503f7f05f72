#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# How closely does dpntpd serve the time of a chronyd upstream? dpntpd in
# one namespace (af_packet on a veth, software timestamps) follows
# chronyd (local stratum 1, serving this host's clock, which it never
# changes) in the other; after settling, perf/ntpoffset.py measures the
# time dpntpd serves against the host clock, and the time chronyd serves
# the same way (the measurement's own floor). Not a test: figures for
# doc/guides/performance.rst.
#
#   perf/follow-chronyd.sh [--settle S] [--seconds S] [--rate N]
#                          [--minpoll N] [--maxpoll N] [--json FILE]
#
# Run as root from the source tree after a build (scripts/build.sh).
set -u
settle=120 seconds=300 rate=2 minpoll=4 maxpoll=6 json=
while [ $# -gt 0 ]; do
	case $1 in
	--settle) settle=$2; shift ;;
	--seconds) seconds=$2; shift ;;
	--rate) rate=$2; shift ;;
	--minpoll) minpoll=$2; shift ;;
	--maxpoll) maxpoll=$2; shift ;;
	--json) json=$2; shift ;;
	-h|--help) sed -n '3,14p' "$0"; exit 0 ;;
	*) echo "follow-chronyd.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for v in "$settle" "$seconds" "$minpoll" "$maxpoll"; do
	case $v in ''|*[!0-9]*) echo "follow-chronyd.sh: '$v' is not a whole number" >&2; exit 2 ;; esac
done

DPN_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$DPN_ROOT/tests/integration/lib.sh"
DPN_TEST=follow-chronyd
UP=198.18.0.11

dpn_setup || exit 1
ip -n "$NS_CLI" addr add "$UP/24" dev "$VETH_CLI"
dpn_chronyd_upstream $UP
cat >"$CONF" <<CONF
listen port 0 address $SRV4/24
server $UP iburst minpoll $minpoll maxpoll $maxpoll
CONF
# shellcheck disable=SC2119
dpn_start || exit 1
dpn_wait_served 60 '$2 == "s2"' || { dpn_log "dpntpd did not synchronize"; exit 1; }
dpn_log "synchronized; settling for $settle s (poll $minpoll..$maxpoll)"
sleep "$settle"
dpnc show peers
dpnc show sysinfo | grep -E '^(offset|frequency|sys_jitter|steps)='
dpn_log "measuring dpntpd ($SRV4) for $seconds s at $rate/s"
dpn_cli "$PY" "$DPN_ROOT/perf/ntpoffset.py" "$SRV4" --rate "$rate" \
	--seconds "$seconds" ${json:+--json "$json"}
dpn_log "measuring chronyd ($UP) the same way, for the floor (60 s)"
dpn_cli "$PY" "$DPN_ROOT/perf/ntpoffset.py" "$UP" --rate "$rate" --seconds 60
