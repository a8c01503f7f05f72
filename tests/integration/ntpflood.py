#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""NTP requests from chosen source addresses, for the restrict tests.

Run inside the client network namespace, where every source address is
configured on the interface: each source gets its own UDP socket bound
to it, so the source address is explicit and replies come back to that
socket. A reply is matched to its request by the origin timestamp,
which echoes our transmit timestamp (random low bits: no two requests
share one).

  probe SRC DST COUNT INTERVAL [--vn V] [--mode M] [--wait S]
      COUNT requests INTERVAL seconds apart; prints one line
        PATTERN <one letter per request, in order>
      R  a normal reply: stratum 1, leap 0, our origin, server mode
      K  a KoD RATE: leap 3, stratum 0, refid RATE, our origin
      X  anything else (wrong fields, or several replies)
      .  no reply
      followed by one DETAIL line per reply that is not R.

  steady DST [DST6] --src A [--src B ...] --rate R --duration D [--events F]
         [--changing C] [--stop-file S]
      R requests a second from each source for D seconds (or until the
      file S exists, D then being only a bound), then waits for late
      replies. Prints per source
        SRC <addr> sent=N replied=M bad=B dup=U
      With --events F (lines "T_START T_END STATE", STATE answered or
      refused: the changing source's state from T_END on, written by the
      caller while the flood runs) and --changing C, also for each phase
      of C (requests sent more than MARGIN away from any change):
        PHASE <i> <state> sent=N as_expected=M
"""

import argparse
import os
import random
import select
import socket
import struct
import sys
import time

NTP_UNIX_OFFSET = 2208988800
MARGIN = 0.05       # s around a change where either outcome is fine


def ntp_req(vn, mode):
    t = time.time()
    xmt = struct.pack("!II", int(t) + NTP_UNIX_OFFSET,
                      random.getrandbits(32))
    hdr = struct.pack("!BBbbIII8s8s8s8s", (vn << 3) | mode, 0, 6, -20,
                      0, 0, 0, b"\0" * 8, b"\0" * 8, b"\0" * 8, xmt)
    return hdr, xmt


def classify(data, xmt, vn, mode):
    """R, K or X for one reply to a request with transmit xmt."""
    if len(data) != 48:
        return "X", "length %d" % len(data)
    (lvm, stratum, poll, prec, rdelay, rdisp, refid, ref, org, rec,
     xmt_r) = struct.unpack("!BBbbII4s8s8s8s8s", data)
    li, rvn, rmode = lvm >> 6, (lvm >> 3) & 7, lvm & 7
    want_mode = 4 if mode == 3 else 2
    common = org == xmt and rvn == vn and rmode == want_mode
    what = ("li=%d vn=%d mode=%d stratum=%d poll=%d refid=%r origin_ok=%s"
            % (li, rvn, rmode, stratum, poll, refid, org == xmt))
    if common and li == 0 and stratum == 1 and refid == b"GPS\0":
        return "R", what
    if common and li == 3 and stratum == 0 and refid == b"RATE":
        return "K", what
    return "X", what


def sock_for(src, dst):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.connect((dst, 123))
    s.setblocking(False)
    return s


def drain(socks, handler, until):
    """Hand every datagram that arrives before time.monotonic() >= until
    to handler(sock, data)."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select(socks, [], [], left)
        for s in r:
            while True:
                try:
                    data = s.recv(2048)
                except BlockingIOError:
                    break
                handler(s, data)


def cmd_probe(a):
    s = sock_for(a.src, a.dst)
    sent = []          # xmt per request
    replies = {}       # index -> list of data
    index = {}

    def on_reply(_, data):
        org = data[24:32] if len(data) >= 32 else b""
        i = index.get(org)
        if i is None:
            print("DETAIL stray reply: %s" % data.hex())
            return
        replies.setdefault(i, []).append(data)

    t0 = time.monotonic()
    for i in range(a.count):
        payload, xmt = ntp_req(a.vn, a.mode)
        index[xmt] = i
        sent.append(xmt)
        s.send(payload)
        drain([s], on_reply, t0 + (i + 1) * a.interval)
    drain([s], on_reply, time.monotonic() + a.wait)
    pattern = ""
    for i, xmt in enumerate(sent):
        got = replies.get(i, [])
        if not got:
            pattern += "."
            continue
        c, what = classify(got[0], xmt, a.vn, a.mode)
        if len(got) > 1:
            c, what = "X", "%d replies; first: %s" % (len(got), what)
        pattern += c
        if c != "R":
            print("DETAIL request %d: %s %s" % (i, c, what))
    print("PATTERN %s" % pattern, flush=True)
    return 0


def cmd_steady(a):
    srcs = a.src
    dsts = {":" in d: d for d in a.dst}
    socks = [sock_for(x, dsts[":" in x]) for x in srcs]
    by_sock = {s: i for i, s in enumerate(socks)}
    pending = [dict() for _ in srcs]        # xmt -> request number
    reqs = [[] for _ in srcs]               # [send time, replies, bad]
    period = 1.0 / a.rate

    def on_reply(s, data):
        i = by_sock[s]
        org = data[24:32] if len(data) >= 32 else b""
        n = pending[i].get(org)
        if n is None:
            reqs[i].append([None, 1, 1])    # stray: counts as bad
            return
        r = reqs[i][n]
        r[1] += 1
        if classify(data, org, 4, 3)[0] != "R":
            r[2] += 1

    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < a.duration:
        if a.stop_file and os.path.exists(a.stop_file):
            break
        for i, s in enumerate(socks):
            payload, xmt = ntp_req(4, 3)
            pending[i][xmt] = len(reqs[i])
            reqs[i].append([time.time(), 0, 0])
            try:
                s.send(payload)
            except OSError as e:
                print("DETAIL send from %s failed: %s" % (srcs[i], e))
        n += 1
        drain(socks, on_reply, t0 + n * period)
    drain(socks, on_reply, time.monotonic() + a.wait)

    for i, x in enumerate(srcs):
        real = [r for r in reqs[i] if r[0] is not None]
        print("SRC %s sent=%d replied=%d bad=%d dup=%d" % (
            x, len(real), sum(1 for r in real if r[1] >= 1),
            sum(r[2] for r in reqs[i]),
            sum(1 for r in real if r[1] > 1)))

    if a.events and a.changing:
        # Phases: initial state "answered" up to the first change.
        events = []
        with open(a.events) as f:
            for line in f:
                w = line.split()
                if len(w) == 3:
                    events.append((float(w[0]), float(w[1]), w[2]))
        events.sort()
        bounds = [(float("-inf"), "answered")]
        bounds += [(e[1], e[2]) for e in events]
        i = srcs.index(a.changing)
        real = [r for r in reqs[i] if r[0] is not None]
        for p, (start, state) in enumerate(bounds):
            end = events[p][0] if p < len(events) else float("inf")
            inside = [r for r in real
                      if start + MARGIN <= r[0] <= end - MARGIN]
            want = 1 if state == "answered" else 0
            ok = sum(1 for r in inside if min(r[1], 1) == want and
                     r[2] == 0)
            print("PHASE %d %s sent=%d as_expected=%d" % (
                p, state, len(inside), ok))
    sys.stdout.flush()
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("count", type=int)
    p.add_argument("interval", type=float)
    p.add_argument("--vn", type=int, default=4)
    p.add_argument("--mode", type=int, default=3)
    p.add_argument("--wait", type=float, default=0.5)
    s = sub.add_parser("steady")
    s.add_argument("dst", nargs="+", help="one IPv4 and/or one IPv6")
    s.add_argument("--src", action="append", required=True)
    s.add_argument("--rate", type=float, default=50)
    s.add_argument("--duration", type=float, default=6)
    s.add_argument("--wait", type=float, default=1.0)
    s.add_argument("--events")
    s.add_argument("--changing")
    s.add_argument("--stop-file")
    a = ap.parse_args()
    return cmd_probe(a) if a.cmd == "probe" else cmd_steady(a)


if __name__ == "__main__":
    sys.exit(main())
