#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install, from Debian 12's packages, whatever dpntp needs to build, run
# and test that is not installed yet. Needs root when something is missing.
set -euo pipefail

PKGS="gcc meson ninja-build pkg-config libdpdk-dev dpdk libnuma-dev
libhwloc-dev libcmocka-dev libssl-dev nettle-dev iproute2 ethtool iputils-ping procps
chrony ntpsec-ntpdig ntpsec-ntpdate python3-scapy tcpdump
libmicrohttpd-dev curl prometheus python3-prometheus-client dpdk-dev
pps-tools linuxptp gpsd gpsd-tools clang-14 libclang-rt-14-dev
bird2 exabgp"

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
# Packages such as chrony start their daemon on install; a daemon that
# disciplines this host's clock must not start here, nor a routing
# daemon (bird2, exabgp) that would speak BGP from the host: deny
# service starts while apt runs (policy-rc.d, see invoke-rc.d(8)).
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	own_policy=1
fi
trap '[ -n "$own_policy" ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The routing daemons are for the tests, which run their own in
# namespaces: they must not come up with the host at the next boot.
case " $missing " in
*" bird2 "* | *" exabgp "*)
	systemctl disable bird.service exabgp.service >/dev/null 2>&1 || true ;;
esac
