#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A deliberately broken NTP server. For the load generator's tests it
answers client requests correctly but drops every tenth one, so a
generator must report 10 % loss; for the upstream tests it serves a
time off by --offset seconds (a falseticker), or a correct one with
--drop-every 0. Runs until killed or --seconds pass.

  brokenntp.py --bind 198.18.0.1 [--drop-every 10] [--offset 0.0]
               [--seconds 60]
"""
import argparse
import socket
import struct
import time

NTP_UNIX = 2208988800


def ntp_ts(t):
    sec = int(t)
    return ((sec + NTP_UNIX) << 32) | int((t - sec) * (1 << 32))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True)
    ap.add_argument("--drop-every", type=int, default=10)
    ap.add_argument("--offset", type=float, default=0.0)
    ap.add_argument("--seconds", type=float, default=60)
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((a.bind, 123))
    s.settimeout(0.5)
    end = time.monotonic() + a.seconds
    n = 0
    while time.monotonic() < end:
        try:
            data, peer = s.recvfrom(512)
        except socket.timeout:
            continue
        t2 = time.time() + a.offset
        if len(data) < 48 or data[0] & 7 != 3:
            continue
        n += 1
        if a.drop_every > 0 and n % a.drop_every == 0:
            continue
        hdr = struct.pack("!BBbbIII", (4 << 3) | 4, 1, data[2], -20, 0, 0,
                          struct.unpack("!I", b"TEST")[0])
        reply = hdr + struct.pack("!QQQQ", ntp_ts(t2 - 16), struct.unpack(
            "!Q", data[40:48])[0], ntp_ts(t2), ntp_ts(time.time() + a.offset))
        s.sendto(reply, peer)


if __name__ == "__main__":
    main()
