#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A stand-in for gpsd on chrony's SOCK protocol, for the integration
tests of `refclock sock PATH`.

    sockwriter.py PATH --offset SECONDS [--interval S] [--count K]
                  [--pulse] [--leap 0|1|2]

Every interval (default 1 s), up to count datagrams (default 600), it
sends a struct sock_sample to the Unix datagram socket PATH: tv = the
host's CLOCK_REALTIME now, offset = SECONDS (the reference is that far
ahead of the host), the pulse and leap flags, magic "SOCK". Sends that
fail because the daemon is not (yet) bound are skipped, as gpsd does.
Prints nothing but errors; exits 0 at the end or at SIGTERM/SIGINT.
"""

import argparse
import signal
import socket
import struct
import sys
import time

MAGIC = 0x534f434b
# struct timeval (two longs), double offset, int pulse, leap, _pad, magic:
# native layout, 40 bytes on 64-bit Linux.
SAMPLE = struct.Struct("@qqdiiii")


def sample(offset, pulse, leap):
    now = time.clock_gettime_ns(time.CLOCK_REALTIME)
    return SAMPLE.pack(now // 1000000000, now % 1000000000 // 1000, offset,
                       1 if pulse else 0, leap, 0, MAGIC)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--offset", type=float, required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--pulse", action="store_true")
    ap.add_argument("--leap", type=int, choices=(0, 1, 2), default=0)
    a = ap.parse_args()
    if a.interval <= 0 or a.count < 1:
        ap.error("--interval and --count must be positive")

    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    deadline = time.monotonic()
    for i in range(a.count):
        try:
            s.sendto(sample(a.offset, a.pulse, a.leap), a.path)
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        except OSError as e:
            print(f"sockwriter: {a.path}: {e}", file=sys.stderr)
            return 1
        if i + 1 == a.count:
            break
        deadline += a.interval
        time.sleep(max(0.0, deadline - time.monotonic()))
    return 0


def on_signal(*_):
    # Python resumes an interrupted sleep; leave it at once instead.
    raise SystemExit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.exit(main())
