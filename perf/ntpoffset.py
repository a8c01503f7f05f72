#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Measure an NTP server's time against this host's clock: send client
requests at a steady rate, stamp T1 with CLOCK_REALTIME just before the
send and T4 with the kernel's receive timestamp (SO_TIMESTAMPNS), and
compute RFC 5905's offset ((T2 - T1) + (T3 - T4)) / 2 and delay.

  ntpoffset.py ADDR [--rate N] [--seconds S] [--json FILE]

Prints count, mean, RMS, standard deviation, median and 95th percentile
of the offset, for all samples and for those whose delay is within 1.5
times the 10th percentile of the delays (the ones a clock filter would
keep; the percentile rather than the minimum, which one odd sample can
set).
"""
import argparse
import json
import math
import socket
import struct
import time

NTP_UNIX = 2208988800
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def ntp_to_ns(ts):
    return ((ts >> 32) - NTP_UNIX) * 1000000000 + \
        ((ts & 0xffffffff) * 1000000000 >> 32)


def ns_to_ntp(ns):
    sec, frac = divmod(ns, 1000000000)
    return ((sec + NTP_UNIX) << 32) | ((frac << 32) // 1000000000)


def stats(xs):
    if not xs:
        return {"count": 0}
    xs = sorted(xs)
    n = len(xs)
    mean = sum(xs) / n
    rms = math.sqrt(sum(x * x for x in xs) / n)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / n)
    absx = sorted(abs(x) for x in xs)
    return {"count": n, "mean_us": mean / 1e3, "rms_us": rms / 1e3,
            "stddev_us": sd / 1e3, "median_us": xs[n // 2] / 1e3,
            "p95_abs_us": absx[min(n - 1, int(n * 0.95))] / 1e3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--rate", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--json")
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.settimeout(1.0)
    samples = []
    end = time.monotonic() + a.seconds
    nxt = time.monotonic()
    while time.monotonic() < end:
        nxt += 1.0 / a.rate
        t1 = time.clock_gettime_ns(time.CLOCK_REALTIME)
        req = bytes([0x23]) + bytes(39) + struct.pack("!Q", ns_to_ntp(t1))
        s.sendto(req, (a.addr, 123))
        try:
            data, anc, _, _ = s.recvmsg(512, 64)
        except socket.timeout:
            continue
        t4 = None
        for level, typ, val in anc:
            if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", val[:16])
                t4 = sec * 1000000000 + nsec
        if t4 is None or len(data) < 48:
            continue
        org, t2, t3 = struct.unpack("!QQQ", data[24:48])
        if org != ns_to_ntp(t1) or (data[0] & 0xc0) == 0xc0:
            continue
        t2, t3 = ntp_to_ns(t2), ntp_to_ns(t3)
        samples.append((((t2 - t1) + (t3 - t4)) / 2, (t4 - t1) - (t3 - t2)))
        time.sleep(max(0.0, nxt - time.monotonic()))
    if not samples:
        print("no replies")
        return 1
    delays = sorted(d for _, d in samples)
    dmin = delays[len(delays) // 10]
    kept = [o for o, d in samples if d <= 1.5 * dmin]
    out = {"all": stats([o for o, _ in samples]), "filtered": stats(kept),
           "delay_p10_us": dmin / 1e3}
    for k in ("all", "filtered"):
        st = out[k]
        if st["count"] == 0:
            print("%-8s n=0" % k)
            continue
        print("%-8s n=%d mean %+.1f us, RMS %.1f us, sd %.1f us, "
              "median %+.1f us, p95 |offset| %.1f us"
              % (k, st["count"], st["mean_us"], st["rms_us"],
                 st["stddev_us"], st["median_us"], st["p95_abs_us"]))
    print("delay p10 %.1f us (filtered: delay <= 1.5 x that)" % (dmin / 1e3))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
