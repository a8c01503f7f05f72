#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Crafted NTP requests against dpntpd, sent from the client namespace.

Every request a real client may send must get a correct 48-byte reply;
every malformed or unserved packet must get no reply and bump exactly
its own drop counter by exactly the number of packets sent.

Prints one line per check:  RESULT ok|FAIL <what>[ -- why]
and exits 0 once every case has run (failures are in the RESULT lines).
Run inside the client network namespace with Debian's python3-scapy.
"""

import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

import dpnctl

from scapy.all import (ARP, AsyncSniffer, Dot1Q, Ether, IP, IPv6,
                       IPv6ExtHdrFragment, Raw, UDP, conf, get_if_hwaddr,
                       sendp)

conf.verb = 0

NTP_UNIX_OFFSET = 2208988800
WAIT = 2.0          # per case: how long to wait for a reply / counters
QUIET = 0.3         # after a drop is counted: how long to watch for a reply

ap = argparse.ArgumentParser()
ap.add_argument("--iface", required=True)
ap.add_argument("--srv-mac", required=True)
ap.add_argument("--srv4", required=True)
ap.add_argument("--cli4", required=True)
ap.add_argument("--srv6", required=True)
ap.add_argument("--cli6", required=True)
ap.add_argument("--dpntpc", required=True)
ap.add_argument("--sock", required=True)
# A second port on net_pcap, for IPv4 fragments (see frag4_cases).
ap.add_argument("--frag-iface")
ap.add_argument("--frag-mac")
ap.add_argument("--frag-srv4")
ap.add_argument("--frag-cli4")
# VLAN mode: only the cases of test_vlan.sh, for an address on this VLAN.
ap.add_argument("--vlan", type=int)
ap.add_argument("--vlan-srv4")
ap.add_argument("--vlan-cli4")
args = ap.parse_args()

IFACE = args.iface
SRV_MAC = args.srv_mac.lower()
CLI_MAC = get_if_hwaddr(IFACE).lower()
IFACES = [IFACE]
SRV_MACS = {SRV_MAC}
CLI_MACS = {CLI_MAC}
if args.frag_iface:
    IFACES.append(args.frag_iface)
    SRV_MACS.add(args.frag_mac.lower())
    CLI_MACS.add(get_if_hwaddr(args.frag_iface).lower())

n_fail = 0


def result(ok, what, why=""):
    global n_fail
    if not ok:
        n_fail += 1
    line = "RESULT %s %s" % ("ok" if ok else "FAIL", what)
    if why:
        line += " -- " + why
    print(line, flush=True)


# --- counters --------------------------------------------------------------

def counters():
    return dpnctl.counters(args.dpntpc, args.sock)


# Counters a crafted packet may move; each case names the ones it expects.
WATCHED = [
    "ntp_server_replies", "ntp_symmetric_replies", "ntp_truncated",
    "ntp_auth_nak",
    "drop_ntp_short", "drop_ntp_version",
    "drop_ntp_mode0", "drop_ntp_mode2", "drop_ntp_mode4", "drop_ntp_mode5",
    "drop_ntp_mode6", "drop_ntp_mode7", "drop_ntp_zero_xmt",
    "ntp_ctl_answers", "ntp_ctl_refused", "ntp_ctl_malformed",
    "drop_ip_fragment", "drop_ipv4_checksum", "drop_ip_header",
    "drop_udp_length", "drop_udp_checksum", "drop_udp_port",
    "drop_not_local", "drop_proto", "drop_l2", "drop_bad_source",
]


def deltas(before, after):
    return {k: after.get(k, 0) - before.get(k, 0) for k in WATCHED}


def wait_counter(name, target, deadline):
    while True:
        c = counters()
        if c.get(name, 0) >= target or time.monotonic() >= deadline:
            return c
        time.sleep(0.02)


# --- capture ---------------------------------------------------------------

captured = []           # (time, raw bytes) of every frame on the interface
cap_lock = threading.Lock()


def on_frame(p):
    with cap_lock:
        captured.append((time.time(), bytes(p)))


def cap_mark():
    with cap_lock:
        return len(captured)


def cap_since(mark):
    with cap_lock:
        return list(captured[mark:])


def frames_from(mark, macs):
    """Frames since mark whose source MAC is one of macs, parsed."""
    out = []
    for t, raw in cap_since(mark):
        e = Ether(raw)
        if e.src.lower() in macs:
            out.append((t, e, raw))
    return out


# --- checksums -------------------------------------------------------------

def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def ip_of(e):
    return e[IP] if IP in e else e[IPv6]


def udp_cksum_ok(ip, udp_raw):
    """UDP checksum over pseudo-header + datagram sums to 0xffff."""
    if isinstance(ip, IP):
        ph = (bytes(map(int, ip.src.split("."))) +
              bytes(map(int, ip.dst.split("."))) +
              struct.pack("!BBH", 0, 17, len(udp_raw)))
    else:
        ph = (socket.inet_pton(socket.AF_INET6, ip.src) +
              socket.inet_pton(socket.AF_INET6, ip.dst) +
              struct.pack("!IxxxB", len(udp_raw), 17))
    return ones_sum(ph + udp_raw) == 0xffff


# --- NTP packets -----------------------------------------------------------

def ntp_now():
    t = time.time()
    return int(t) + NTP_UNIX_OFFSET, int((t % 1) * 2**32)


def ntp_to_unix(ts):
    return (ts >> 32) - NTP_UNIX_OFFSET + (ts & 0xffffffff) / 2**32


def ntp_req(vn=4, mode=3, li=0, poll=6, xmt=None, extra=b""):
    """A 48-byte NTP header (plus extra bytes); returns (payload, xmt8)."""
    if xmt is None:
        sec, _ = ntp_now()
        # Random fraction, so the echo can only match byte for byte.
        xmt = struct.pack("!II", sec, random.getrandbits(32))
    hdr = struct.pack("!BBbbIII8s8s8s8s",
                      (li << 6) | (vn << 3) | mode, 0, poll, -20,
                      0, 0, 0, b"\0" * 8, b"\0" * 8, b"\0" * 8, xmt)
    return hdr + extra, xmt


def sport():
    return random.randint(20000, 60000)


def l2():
    return Ether(src=CLI_MAC, dst=SRV_MAC)


def frame4(payload, sp, dst=None, **ipkw):
    return (l2() / IP(src=args.cli4, dst=dst or args.srv4, **ipkw) /
            UDP(sport=sp, dport=123) / Raw(payload))


def frame6(payload, sp, dst=None):
    return (l2() / IPv6(src=args.cli6, dst=dst or args.srv6) /
            UDP(sport=sp, dport=123) / Raw(payload))


def send_frames(frames, iface=IFACE):
    sendp(frames, iface=iface)


# --- cases that must be answered ------------------------------------------

def check_reply(what, frame, xmt, vn, mode_out, poll,
                counter, truncated, nak=False):
    """The reply to frame: 48 bytes, or a crypto-NAK (52: key ID 0)."""
    n = 52 if nak else 48
    sp = frame[UDP].sport
    v6 = IPv6 in frame
    vlan = frame[Dot1Q].vlan if Dot1Q in frame else None
    src_ip, dst_ip = frame[IPv6 if v6 else IP].dst, frame[IPv6 if v6 else IP].src
    before = counters()
    mark = cap_mark()
    t1 = time.time()
    send_frames(frame)
    deadline = time.monotonic() + WAIT
    reply = None
    while time.monotonic() < deadline and reply is None:
        for t, e, raw in frames_from(mark, SRV_MACS):
            if UDP in e and e[UDP].dport == sp:
                reply = (t, e, raw)
                break
        else:
            time.sleep(0.01)
    if reply is None:
        result(False, what, "no reply within %.0f s" % WAIT)
        return
    t4, e, raw = reply
    ip = ip_of(e)
    udp = e[UDP]
    ip_raw = bytes(ip)
    why = []

    def need(cond, msg):
        if not cond:
            why.append(msg)

    need(e.src.lower() == SRV_MAC and e.dst.lower() == CLI_MAC,
         "Ethernet %s -> %s" % (e.src, e.dst))
    if v6:
        need(ip.src == src_ip and ip.dst == dst_ip,
             "addresses %s -> %s" % (ip.src, ip.dst))
        need(ip.plen == 8 + n, "IPv6 payload length %d" % ip.plen)
        need(ip.nh == 17, "next header %d" % ip.nh)
        udp_raw = ip_raw[40:40 + 8 + n]
    else:
        need(ip.src == src_ip and ip.dst == dst_ip,
             "addresses %s -> %s" % (ip.src, ip.dst))
        need(ip.ihl == 5 and ip.len == 28 + n, "IPv4 length %d" % ip.len)
        need(ones_sum(ip_raw[:20]) == 0xffff, "bad IPv4 header checksum")
        need(ip.frag == 0 and not (ip.flags & 1), "reply is a fragment")
        need(ip.ttl > 1, "TTL %d" % ip.ttl)
        udp_raw = ip_raw[20:20 + 8 + n]
    need(udp.sport == 123 and udp.dport == sp,
         "ports %d -> %d" % (udp.sport, udp.dport))
    need(udp.len == 8 + n, "UDP length %d (reply must be %d bytes)" %
         (udp.len, n))
    need(len(raw) == 14 + (4 if vlan else 0) + (40 if v6 else 20) + 8 + n,
         "frame length %d" % len(raw))
    rvlan = e[Dot1Q].vlan if Dot1Q in e else None
    need(rvlan == vlan, "reply VLAN %s, request VLAN %s" % (rvlan, vlan))
    need(udp.chksum != 0, "UDP checksum absent")
    need(udp_cksum_ok(ip, udp_raw), "UDP checksum invalid")
    ntp = udp_raw[8:]
    if nak:
        need(ntp[48:] == b"\0\0\0\0", "crypto-NAK key ID %s" % ntp[48:].hex())
        ntp = ntp[:48]
    if len(ntp) != 48:
        why.append("NTP payload %d bytes" % len(ntp))
    else:
        (lvm, stratum, rpoll, prec, rdelay, rdisp, refid, ref, org, rec,
         xmt_r) = struct.unpack("!BBbbII4sQ8sQQ", ntp)
        need(lvm >> 6 == 0, "leap %d" % (lvm >> 6))
        need((lvm >> 3) & 7 == vn, "version %d, sent %d" % ((lvm >> 3) & 7, vn))
        need(lvm & 7 == mode_out, "mode %d, want %d" % (lvm & 7, mode_out))
        need(stratum == 1, "stratum %d" % stratum)
        need(rpoll == poll, "poll %d, sent %d" % (rpoll, poll))
        need(refid == b"GPS\0", "refid %r" % refid)
        need(org == xmt, "origin %s != our transmit %s" %
             (org.hex(), xmt.hex()))
        rec_u, xmt_u = ntp_to_unix(rec), ntp_to_unix(xmt_r)
        need(t1 - 1 <= rec_u <= t4 + 1,
             "receive %.6f not within 1 s of [%.6f, %.6f]" % (rec_u, t1, t4))
        need(t1 - 1 <= xmt_u <= t4 + 1,
             "transmit %.6f not within 1 s of [%.6f, %.6f]" % (xmt_u, t1, t4))
        need(xmt_r >= rec, "transmit %x < receive %x" % (xmt_r, rec))
        need(ref != 0 and ntp_to_unix(ref) <= xmt_u + 1,
             "reference timestamp %x" % ref)
        # ntpd and chrony drop servers with a root distance over 1.5 s.
        need(rdelay / 2**16 / 2 + rdisp / 2**16 < 1.5,
             "root distance too large (delay %x disp %x)" % (rdelay, rdisp))
    # Counters: the one reply counter, ntp_truncated iff the request was long.
    after = wait_counter(counter, before.get(counter, 0) + 1,
                         time.monotonic() + WAIT)
    d = deltas(before, after)
    need(d[counter] == 1, "%s moved by %d" % (counter, d[counter]))
    need(d["ntp_truncated"] == (1 if truncated else 0),
         "ntp_truncated moved by %d" % d["ntp_truncated"])
    if nak:
        need(d["ntp_server_replies"] == 0,
             "a crypto-NAK counted as a server reply")
    extra = [n for n in WATCHED if n.startswith("drop_ntp") or
             n.startswith("drop_udp") or n.startswith("drop_ip")
             if d[n] != 0]
    need(not extra, "drop counters moved: %s" %
         ", ".join("%s+%d" % (n, d[n]) for n in extra))
    dup = [1 for f in frames_from(mark, SRV_MACS)
           if UDP in f[1] and f[1][UDP].dport == sp]
    need(len(dup) == 1, "%d replies to one request" % len(dup))
    result(not why, what, "; ".join(why))


def check_burst(n):
    """n requests back to back: each gets exactly one reply, its own."""
    reqs = {}
    frames = []
    for i in range(n):
        payload, xmt = ntp_req()
        sp = 30000 + i
        reqs[sp] = xmt
        frames.append(frame4(payload, sp) if i % 2 else frame6(payload, sp))
    before = counters()
    mark = cap_mark()
    send_frames(frames)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        got = [e for t, e, raw in frames_from(mark, SRV_MACS)
               if UDP in e and e[UDP].dport in reqs]
        if len(got) >= n:
            break
        time.sleep(0.05)
    time.sleep(QUIET)
    got = [e for t, e, raw in frames_from(mark, SRV_MACS)
           if UDP in e and e[UDP].dport in reqs]
    seen = {}
    bad = 0
    for e in got:
        sp = e[UDP].dport
        seen[sp] = seen.get(sp, 0) + 1
        if bytes(e[UDP].payload)[24:32] != reqs[sp]:
            bad += 1
    d = deltas(before, counters())
    why = []
    if len(seen) != n or any(c != 1 for c in seen.values()):
        why.append("%d requests answered, %d replies" % (len(seen), len(got)))
    if bad:
        why.append("%d replies with another request's origin" % bad)
    if d["ntp_server_replies"] != n:
        why.append("ntp_server_replies +%d" % d["ntp_server_replies"])
    result(not why, "%d requests back to back (IPv4 and IPv6): one correct "
           "reply each" % n, "; ".join(why))


def reply_cases():
    for vn in (1, 2, 3, 4):
        poll = 3 + vn
        payload, xmt = ntp_req(vn=vn, mode=3, poll=poll)
        check_reply("NTPv%d client request over IPv4 gets a correct "
                    "server reply" % vn, frame4(payload, sport()), xmt,
                    vn, 4, poll, "ntp_server_replies", False)
    payload, xmt = ntp_req(vn=4, mode=3, poll=10)
    check_reply("NTPv4 client request over IPv6 gets a correct server reply",
                frame6(payload, sport()), xmt, 4, 4, 10,
                "ntp_server_replies", False)
    payload, xmt = ntp_req(vn=3, mode=3, poll=6)
    check_reply("NTPv3 client request over IPv6 gets a correct server reply",
                frame6(payload, sport()), xmt, 3, 4, 6,
                "ntp_server_replies", False)
    # chrony puts random bytes in the transmit timestamp: echoed as is.
    xmt = os.urandom(8)
    payload, xmt = ntp_req(vn=4, mode=3, poll=7, xmt=xmt)
    check_reply("random transmit timestamp (chrony style) echoed byte-exact",
                frame4(payload, sport()), xmt, 4, 4, 7,
                "ntp_server_replies", False)
    # sntp and ntpdate send LI=3 (unsynchronised) in requests: 0xe3.
    payload, xmt = ntp_req(li=3, vn=4, mode=3, poll=6)
    check_reply("request with LI=3 (0xe3, as sntp sends) gets leap 0",
                frame4(payload, sport()), xmt, 4, 4, 6,
                "ntp_server_replies", False)
    # UDP checksum 0 means "none" over IPv4.
    payload, xmt = ntp_req(vn=4, mode=3, poll=6)
    f = frame4(payload, sport())
    f[UDP].chksum = 0
    check_reply("IPv4 request without UDP checksum (0) is answered, "
                "with one", f, xmt, 4, 4, 6,
                "ntp_server_replies", False)
    # A NIC hands over Ethernet padding after the IP packet.
    payload, xmt = ntp_req(vn=4, mode=3, poll=6)
    f = Ether(bytes(frame4(payload, sport())) + b"\0" * 12)
    check_reply("request followed by 12 bytes of Ethernet padding gets a "
                "plain reply", f, xmt, 4, 4, 6,
                "ntp_server_replies", False)
    # Windows w32time: NTPv3 symmetric active from port 123.
    payload, xmt = ntp_req(vn=3, mode=1, poll=10)
    f = frame4(payload, 123)
    check_reply("NTPv3 symmetric active (w32time) gets symmetric passive "
                "(mode 2)", f, xmt, 3, 2, 10,
                "ntp_symmetric_replies", False)
    payload, xmt = ntp_req(vn=4, mode=1, poll=6)
    check_reply("NTPv4 symmetric active over IPv6 gets symmetric passive",
                frame6(payload, sport()), xmt, 4, 2, 6,
                "ntp_symmetric_replies", False)
    # RFC 5905 MAC: 4-byte key id + 16-byte MD5 digest, 68 bytes in all,
    # under a key dpntpd does not have (no keys here): a crypto-NAK.
    mac = struct.pack("!I", 1) + os.urandom(16)
    payload, xmt = ntp_req(vn=4, mode=3, poll=6, extra=mac)
    check_reply("request with a MAC of an unknown key (68 bytes) gets a "
                "crypto-NAK (52 bytes, key ID 0)", frame4(payload, sport()),
                xmt, 4, 4, 6, "ntp_auth_nak", False, nak=True)
    # RFC 7822 extension field: type, length 28, 24 bytes of value.
    ef = struct.pack("!HH", 0x0104, 28) + os.urandom(24)
    payload, xmt = ntp_req(vn=4, mode=3, poll=6, extra=ef)
    check_reply("request with a 28-byte extension field gets a plain 48-byte "
                "reply", frame4(payload, sport()), xmt, 4, 4, 6,
                "ntp_server_replies", True)
    payload, xmt = ntp_req(vn=4, mode=3, poll=6, extra=ef + mac)
    check_reply("extension field + MAC over IPv6 gets a plain 48-byte reply",
                frame6(payload, sport()), xmt, 4, 4, 6,
                "ntp_server_replies", True)
    check_burst(32)


# --- cases that must not be answered --------------------------------------

def check_drop(what, frames, counter, iface=IFACE):
    """Send frames; no reply, counter += len(frames), nothing else moves.

    The client kernel may send a frame of its own meanwhile (NDP, MLD);
    if one is seen and the counters disagree, the case is run again.
    """
    n = len(frames)
    for attempt in range(3):
        sent = set(bytes(f) for f in frames)
        before = counters()
        mark = cap_mark()
        send_frames(frames, iface)
        after = wait_counter(counter, before.get(counter, 0) + n,
                             time.monotonic() + WAIT)
        time.sleep(QUIET)
        after = counters()
        d = deltas(before, after)
        why = []
        if d[counter] != n:
            why.append("%s moved by %d, sent %d" % (counter, d[counter], n))
        moved = [k for k in WATCHED if k != counter and d[k] != 0]
        if moved:
            why.append("other counters moved: " +
                       ", ".join("%s+%d" % (k, d[k]) for k in moved))
        replies = [e for t, e, raw in frames_from(mark, SRV_MACS)
                   if UDP in e or (IP in e and e[IP].proto == 1)]
        if replies:
            why.append("%d replies: %s" % (len(replies), replies[0].summary()))
        foreign = [e for t, e, raw in frames_from(mark, CLI_MACS)
                   if raw not in sent]
        if why and foreign and attempt < 2:
            print("  (retrying %s: the client also sent %s)" %
                  (what, foreign[0].summary()), flush=True)
            continue
        break
    result(not why, "%s: no reply, %s +%d" % (what, counter, n),
           "; ".join(why))


def frags4(good, cli4, srv4, cli_mac, srv_mac):
    """IPv4 fragments: first (MF set), middle (offset 8), last (offset 800)."""
    e = Ether(src=cli_mac, dst=srv_mac)
    return [
        e / IP(src=cli4, dst=srv4, flags="MF", id=0x4242) /
        UDP(sport=sport(), dport=123) / Raw(good),
        e / IP(src=cli4, dst=srv4, proto=17, flags="MF", frag=1,
               id=0x4243) / Raw(good),
        e / IP(src=cli4, dst=srv4, proto=17, frag=100, id=0x4244) /
        Raw(good[:40]),
    ]


def frag4_cases(good):
    """IPv4 fragments.

    net_af_packet (port 0) joins its sockets to a PACKET_FANOUT group with
    PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles IPv4 fragments
    before dpntpd sees them: incomplete ones never reach it. There only
    "no reply" can be checked; the drop counter is checked through the
    net_pcap port, which hands fragments over as they are, as a NIC does.
    """
    mark = cap_mark()
    send_frames(frags4(good, args.cli4, args.srv4, CLI_MAC, SRV_MAC))
    time.sleep(QUIET)
    replies = [e for t, e, raw in frames_from(mark, SRV_MACS) if UDP in e]
    result(not replies, "IPv4 fragments on the af_packet port: no reply",
           "%d replies" % len(replies) if replies else "")
    if not args.frag_iface:
        return
    fi = args.frag_iface
    check_drop("IPv4 fragments (MF set; offset 8; offset 800) on the "
               "net_pcap port",
               frags4(good, args.frag_cli4, args.frag_srv4,
                      get_if_hwaddr(fi).lower(), args.frag_mac.lower()),
               "drop_ip_fragment", iface=fi)


def fix_cksums(f):
    """Materialise a frame with correct checksums, so one can be broken."""
    return Ether(bytes(f))


def bad_udp_cksum(f):
    f = fix_cksums(f)
    f[UDP].chksum = (f[UDP].chksum ^ 0x0101) or 0x0101
    return Ether(bytes(f))


def drop_cases():
    good, _ = ntp_req()

    check_drop("UDP payloads of 0, 1, 20 and 47 bytes",
               [frame4(ntp_req()[0][:k], sport()) for k in (0, 1, 20, 47)],
               "drop_ntp_short")
    check_drop("47-byte payload over IPv6",
               [frame6(ntp_req()[0][:47], sport())], "drop_ntp_short")
    check_drop("NTP versions 0, 5, 6 and 7",
               [frame4(ntp_req(vn=v)[0], sport()) for v in (0, 5, 6, 7)],
               "drop_ntp_version")
    for mode in (0, 2, 4, 5, 7):
        check_drop("NTPv4 mode %d" % mode,
                   [frame4(ntp_req(mode=mode)[0], sport()) for _ in range(2)]
                   + [frame6(ntp_req(mode=mode)[0], sport())],
                   "drop_ntp_mode%d" % mode)
    # Mode 6 is answered (test_ntpq.sh); with the response bit set it is
    # an answer reflected at us: never answered, counted malformed.
    ctl = [ntp_req(mode=6)[0] for _ in range(3)]
    ctl = [p[:1] + b"\x82" + p[2:] for p in ctl]
    check_drop("NTPv4 mode 6 with the response bit (12 and 48 bytes)",
               [frame4(ctl[0], sport()), frame4(ctl[1][:12], sport()),
                frame6(ctl[2], sport())], "ntp_ctl_malformed")
    check_drop("zero transmit timestamp (v4 client, v3 symmetric, IPv6)",
               [frame4(ntp_req(xmt=b"\0" * 8)[0], sport()),
                frame4(ntp_req(vn=3, mode=1, xmt=b"\0" * 8)[0], 123),
                frame6(ntp_req(xmt=b"\0" * 8)[0], sport())],
               "drop_ntp_zero_xmt")

    frag4_cases(good)
    frag6 = (l2() / IPv6(src=args.cli6, dst=args.srv6) /
             IPv6ExtHdrFragment(id=0x4245, m=0, offset=0) /
             UDP(sport=sport(), dport=123) / Raw(good))
    frag6m = (l2() / IPv6(src=args.cli6, dst=args.srv6) /
              IPv6ExtHdrFragment(id=0x4246, m=1, offset=0) /
              UDP(sport=sport(), dport=123) / Raw(good))
    check_drop("IPv6 with a fragment header (atomic and first fragment)",
               [frag6, frag6m], "drop_ip_fragment")

    bad = []
    for _ in range(2):
        f = fix_cksums(frame4(ntp_req()[0], sport()))
        f[IP].chksum ^= 0x5a5a
        bad.append(Ether(bytes(f)))
    check_drop("bad IPv4 header checksum", bad, "drop_ipv4_checksum")

    long_ = frame4(good, sport())
    long_[UDP].len = 8 + 48 + 8
    short = frame4(good, sport())
    short[UDP].len = 8 + 40
    tiny = frame4(good, sport())
    tiny[UDP].len = 4
    long6 = frame6(good, sport())
    long6[UDP].len = 8 + 48 + 2
    check_drop("UDP length above, below and under the header vs IP length",
               [long_, short, tiny, long6], "drop_udp_length")

    bad = [bad_udp_cksum(mk(ntp_req()[0], sport()))
           for mk in (frame4, frame4, frame6)]
    z6 = fix_cksums(frame6(ntp_req()[0], sport()))
    z6[UDP].chksum = 0
    bad.append(Ether(bytes(z6)))
    check_drop("bad UDP checksum (IPv4, IPv6, and zero over IPv6)", bad,
               "drop_udp_checksum")

    p124 = []
    for mk in (frame4, frame4, frame6):
        f = mk(ntp_req()[0], sport())
        f[UDP].dport = 124
        p124.append(f)
    check_drop("UDP to port 124", p124, "drop_udp_port")

    opts = [frame4(ntp_req()[0], sport(), options=b"\x01\x01\x01\x00")
            for _ in range(2)]
    trunc = fix_cksums(frame4(ntp_req()[0], sport()))
    trunc[IP].len += 8
    trunc[IP].chksum = None
    trunc6 = fix_cksums(frame6(ntp_req()[0], sport()))
    trunc6[IPv6].plen += 8
    # UDP behind a hop-by-hop header (PadN): NTP clients send none.
    hbh = (l2() / IPv6(src=args.cli6, dst=args.srv6, nh=0) /
           Raw(bytes([17, 0, 1, 4, 0, 0, 0, 0]) +
               bytes(UDP(sport=sport(), dport=123, chksum=0) /
                     Raw(ntp_req()[0]))))
    check_drop("IPv4 with options, IPv4/IPv6 longer than the frame, "
               "IPv6 hop-by-hop header",
               opts + [Ether(bytes(trunc)), Ether(bytes(trunc6)), hbh],
               "drop_ip_header")

    tcp = Ether(bytes(l2() / IP(src=args.cli4, dst=args.srv4, proto=6) /
                      Raw(b"\0" * 40)))
    tcp6 = Ether(bytes(l2() / IPv6(src=args.cli6, dst=args.srv6, nh=6) /
                       Raw(b"\0" * 40)))
    check_drop("TCP over IPv4 and IPv6", [tcp, tcp6], "drop_proto")

    check_drop("an ethertype that is not IP or ARP",
               [Ether(src=CLI_MAC, dst=SRV_MAC, type=0x88b5) /
                Raw(ntp_req()[0])], "drop_l2")

    bc = (Ether(src=CLI_MAC, dst="ff:ff:ff:ff:ff:ff") /
          IP(src=args.cli4, dst="198.18.0.255") /
          UDP(sport=sport(), dport=123) / Raw(ntp_req()[0]))
    bc2 = (Ether(src=CLI_MAC, dst="ff:ff:ff:ff:ff:ff") /
           IP(src=args.cli4, dst="255.255.255.255") /
           UDP(sport=sport(), dport=123) / Raw(ntp_req()[0]))
    mc6 = (Ether(src=CLI_MAC, dst="33:33:00:00:01:01") /
           IPv6(src=args.cli6, dst="ff02::101") /
           UDP(sport=sport(), dport=123) / Raw(ntp_req()[0]))
    check_drop("to 198.18.0.99 / 2001:db8::99 via the server's MAC, "
               "subnet and all-ones broadcast, ff02::101",
               [frame4(ntp_req()[0], sport(), dst="198.18.0.99"),
                frame6(ntp_req()[0], sport(), dst="2001:db8::99"),
                bc, bc2, mc6],
               "drop_not_local")

    other_mac = (Ether(src=CLI_MAC, dst="02:00:00:00:00:99") /
                 IP(src=args.cli4, dst=args.srv4) /
                 UDP(sport=sport(), dport=123) / Raw(ntp_req()[0]))
    check_drop("a frame for another host's MAC (seen by af_packet)",
               [other_mac], "drop_not_local")

    # Replies to these would go to a whole subnet, to a group, or to us.
    bad4 = ["198.18.0.255", "224.0.0.1", "127.0.0.1", "0.0.0.0",
            "255.255.255.255", args.srv4]
    bad_src = [Ether(bytes(l2() / IP(src=a, dst=args.srv4) /
                           UDP(sport=sport(), dport=123) /
                           Raw(ntp_req()[0]))) for a in bad4]
    bad_src += [Ether(bytes(l2() / IPv6(src=a, dst=args.srv6) /
                            UDP(sport=sport(), dport=123) /
                            Raw(ntp_req()[0])))
                for a in ["ff02::1", "::1", "::", args.srv6]]
    bad_src.append(frame4(ntp_req()[0], 0))
    bad_src.append(Ether(src="01:00:5e:00:00:01", dst=SRV_MAC) /
                   IP(src=args.cli4, dst=args.srv4) /
                   UDP(sport=sport(), dport=123) / Raw(ntp_req()[0]))
    check_drop("from broadcast, multicast, loopback, unspecified and our "
               "own addresses, UDP port 0, a group MAC",
               bad_src, "drop_bad_source")


def vlan_cases():
    """An address served on one VLAN only (test_vlan.sh)."""
    v, srv, cli = args.vlan, args.vlan_srv4, args.vlan_cli4
    mark = cap_mark()
    send_frames(Ether(src=CLI_MAC, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=v) /
                ARP(hwsrc=CLI_MAC, psrc=cli, pdst=srv))
    deadline = time.monotonic() + WAIT
    arp = []
    while not arp and time.monotonic() < deadline:
        time.sleep(0.02)
        arp = [e for t, e, raw in frames_from(mark, SRV_MACS)
               if ARP in e and e[ARP].op == 2 and e[ARP].psrc == srv]
    ok = (len(arp) == 1 and Dot1Q in arp[0] and arp[0][Dot1Q].vlan == v and
          arp[0][ARP].hwsrc.lower() == SRV_MAC and arp[0][ARP].pdst == cli)
    result(ok, "ARP for %s on VLAN %d answered on VLAN %d with the port's "
           "MAC" % (srv, v, v), "" if ok else
           "; ".join(e.summary() for e in arp) or "no ARP reply")

    def tagged(payload, dst=srv, vid=v):
        return (l2() / Dot1Q(vlan=vid) / IP(src=cli, dst=dst) /
                UDP(sport=sport(), dport=123) / Raw(payload))

    payload, xmt = ntp_req(vn=4, mode=3, poll=6)
    check_reply("NTPv4 request on VLAN %d gets a correct reply on VLAN %d"
                % (v, v), tagged(payload), xmt, 4, 4, 6,
                "ntp_server_replies", False)
    payload, xmt = ntp_req(vn=3, mode=1, poll=10)
    check_reply("NTPv3 symmetric active on VLAN %d gets mode 2 on VLAN %d"
                % (v, v), tagged(payload), xmt, 3, 2, 10,
                "ntp_symmetric_replies", False)
    payload, xmt = ntp_req(vn=4, mode=3, poll=6)
    check_reply("untagged NTPv4 request to %s still answered untagged"
                % args.srv4, frame4(payload, sport()), xmt, 4, 4, 6,
                "ntp_server_replies", False)
    check_drop("%s untagged" % srv,
               [l2() / IP(src=cli, dst=srv) / UDP(sport=sport(), dport=123) /
                Raw(ntp_req()[0]) for _ in range(2)], "drop_not_local")
    check_drop("%s on VLAN %d" % (srv, v + 1),
               [tagged(ntp_req()[0], vid=v + 1) for _ in range(2)],
               "drop_not_local")
    check_drop("%s (untagged address) on VLAN %d" % (args.srv4, v),
               [tagged(ntp_req()[0], dst=args.srv4) for _ in range(2)],
               "drop_not_local")
    check_drop("bad UDP checksum on VLAN %d" % v,
               [bad_udp_cksum(tagged(ntp_req()[0])) for _ in range(2)],
               "drop_udp_checksum")


def main():
    t0 = time.monotonic()
    sniffer = AsyncSniffer(iface=IFACES, prn=on_frame, store=False)
    sniffer.start()
    # Wait until the capture sees traffic: our own probe frame.
    probe = l2() / IP(src=args.cli4, dst=args.srv4) / UDP(sport=9, dport=9)
    for _ in range(50):
        time.sleep(0.05)
        mark = cap_mark()
        sendp(probe, iface=IFACE)
        time.sleep(0.05)
        if cap_since(mark):
            break
    # Let the probes' drop_udp_port counts settle before the cases.
    time.sleep(0.2)
    try:
        if args.vlan:
            vlan_cases()
        else:
            reply_cases()
            drop_cases()
    finally:
        sniffer.stop()
    print("crafted.py: %d failures, %.1f s" % (n_fail, time.monotonic() - t0),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
