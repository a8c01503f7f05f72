#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send the CVE regression corpus (tests/cve/*.hex) to a running dpntpd.

With --flood N, instead: N client requests from N distinct spoofed
sources (chrony's CVE-2010-0293, a client log that grew without bound),
sent as frames on --iface to --srv-mac; prints "FLOOD sent=N".

Run inside the client network namespace. Each file is a UDP payload for
port 123 with '#' comment lines, among them
  # expect: noreply|reply
  # counters: NAME [NAME ...]
("reply": answered unless --noquery says restrict refuses queries.)
For each file, COUNT copies are sent from one UDP socket; the case passes
if no reply came back within the wait, the named counters (summed) moved
by exactly COUNT, and the requests received moved by COUNT. Prints one
line per case
  RESULT ok|FAIL <file>: <what> [-- why]
and exits 1 if any case failed.
"""

import argparse
import glob
import os
import socket
import sys
import time

import dpnctl

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--srv", required=True)
ap.add_argument("--dpntpc", required=True)
ap.add_argument("--sock", required=True)
ap.add_argument("--count", type=int, default=1)
ap.add_argument("--wait", type=float, default=0.5)
ap.add_argument("--tag", default="")
ap.add_argument("--noquery", action="store_true",
                help="restrict refuses this client's queries (mode 6)")
ap.add_argument("--flood", type=int, default=0)
ap.add_argument("--iface")
ap.add_argument("--srv-mac")
ap.add_argument("--net", default="198.18.64.0")
args = ap.parse_args()


def flood():
    from scapy.all import Ether, IP, UDP, Raw, sendp
    import ipaddress
    import struct
    base = int(ipaddress.IPv4Address(args.net))
    frames = []
    for i in range(args.flood):
        src = str(ipaddress.IPv4Address(base + 1 + i))
        ntp = bytes([0x23, 0, 6, 0xec]) + bytes(36) + \
            struct.pack(">Q", 0xe7a1b2c300000000 | i)
        frames.append(Ether(dst=args.srv_mac) /
                      IP(src=src, dst=args.srv) /
                      UDP(sport=40000 + i % 20000, dport=123) / Raw(ntp))
    sendp(frames, iface=args.iface, verbose=False)
    print("FLOOD sent=%d" % len(frames), flush=True)


if args.flood:
    flood()
    sys.exit(0)


def counters():
    return dpnctl.counters(args.dpntpc, args.sock)


def load(path):
    meta, data = {}, bytearray()
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                k, _, v = line[1:].strip().partition(":")
                if k in ("expect", "counters"):
                    meta[k] = v.split()
                continue
            data += bytes(int(x, 16) for x in line.split())
    return meta, bytes(data)


def sum_of(c, names):
    return sum(c.get(n, 0) for n in names)


fails = 0
files = sorted(glob.glob(os.path.join(args.dir, "*.hex")))
if not files:
    print("RESULT FAIL no corpus in %s" % args.dir)
    sys.exit(1)
for path in files:
    name = os.path.basename(path)
    meta, data = load(path)
    names = meta.get("counters", [])
    fam = socket.AF_INET6 if ":" in args.srv else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(0.05)
    before = counters()
    for _ in range(args.count):
        s.sendto(data, (args.srv, 123))
    replies = 0
    deadline = time.monotonic() + args.wait
    after = before
    while time.monotonic() < deadline:
        try:
            s.recvfrom(2048)
            replies += 1
        except socket.timeout:
            pass
    # The drops are counted by the worker at once; allow a moment more.
    for _ in range(50):
        after = counters()
        if sum_of(after, names) - sum_of(before, names) >= args.count:
            break
        time.sleep(0.02)
    s.close()
    moved = sum_of(after, names) - sum_of(before, names)
    rx = after.get("rx_packets", 0) - before.get("rx_packets", 0)
    why = []
    expect = meta.get("expect", [])
    want_reply = "reply" in expect and not args.noquery
    if ("noreply" in expect or "reply" in expect) and replies and \
            not want_reply:
        why.append("%d replies" % replies)
    if want_reply and not replies:
        why.append("no reply")
    if rx < args.count:
        why.append("rx_packets moved by %d" % rx)
    if moved != args.count:
        why.append("%s moved by %d, want %d" % ("+".join(names), moved,
                                               args.count))
    what = "%s%s: %d sent, %s, %s counted" % (
        args.tag, name, args.count,
        "answered" if want_reply else "no reply", "/".join(names))
    ok = not why
    fails += not ok
    print("RESULT %s %s%s" % ("ok" if ok else "FAIL", what,
                              " -- " + ", ".join(why) if why else ""),
          flush=True)
sys.exit(1 if fails else 0)
