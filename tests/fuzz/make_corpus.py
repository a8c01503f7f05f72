#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of each fuzz target (tests/fuzz/corpus/<target>/).

The seeds are what the inputs normally look like, in each target's input
format (described at the top of its fuzz_<target>.c): valid requests of
each NTP version, symmetric mode, requests signed with a key, NTS
requests, whole frames, servers' replies, the sample configuration, a
keys file, the system's leap-seconds.list, NTS key files, control
commands and HTTP requests. Findings of fuzzing runs are kept beside
them under names starting with "finding-" (never rewritten here).

    python3 tests/fuzz/make_corpus.py [--leap /usr/share/zoneinfo/leap-seconds.list]
"""

import argparse
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
XMT = 0xEABC123456789ABC


def ntp(mode=3, version=4, li=0, xmt=XMT, org=0, rcv=0, poll=6,
        stratum=0, refid=0):
    return struct.pack("!BBbbIII4Q", (li << 6) | (version << 3) | mode,
                       stratum, poll, -20, 0, 0, refid, 0, org, rcv, xmt)


def ef(typ, body):
    """An RFC 7822 extension field, padded to 4 bytes, at least 16."""
    body = body + b"\0" * (-len(body) % 4)
    length = max(4 + len(body), 16)
    body = body + b"\0" * (length - 4 - len(body))
    return struct.pack("!HH", typ, length) + body


def nts_request(nb_ph=0, nonce_len=16, uid_len=32, cookie_len=100,
                extra=b"", inner=b""):
    """An NTS request laid out as RFC 8915 says (the authenticator's tag
    is not real: the fuzz targets make it good when asked)."""
    p = ntp()
    p += ef(0x0104, bytes(range(uid_len)))
    p += ef(0x0204, b"\x00\x00\x00\x07" + b"\xc0" * (cookie_len - 4))
    for _ in range(nb_ph):
        p += ef(0x0304, b"\0" * cookie_len)
    p += extra
    nonce = b"\x11" * nonce_len
    nonce += b"\0" * (-len(nonce) % 4)
    ct = b"\x22" * 16 + inner
    ct_pad = ct + b"\0" * (-len(ct) % 4)
    body = struct.pack("!HH", nonce_len, len(ct)) + nonce + ct_pad
    p += struct.pack("!HH", 0x0404, 4 + len(body)) + body
    return p


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# fuzz_ntp: [restrict flags, 2 bytes] [options] [T2 byte] payload
F = {n: 1 << i for i, n in enumerate(
    "ignore noserve noquery nomodify notrap nopeer notrust kod limited "
    "version ntpport lowpriotrap nomrulist".split())}


def ntp_seeds():
    def w(name, payload, flags=0, opt=1, t=0x40):
        write("ntp", name, struct.pack("!HBB", flags, opt, t) + payload)

    for v in range(1, 5):
        w("client-v%d" % v, ntp(version=v))
    w("symmetric-active", ntp(mode=1))
    for m in (0, 2, 4, 5, 6, 7):
        w("mode%d" % m, ntp(mode=m))
    w("version0", ntp(version=0))
    w("version5", ntp(version=5))
    w("short", ntp()[:47])
    # A control message needs only its 12-byte header; one of version 5
    # is dropped for its version, not as short (found by fuzz_ntp).
    w("ctl-short", ntp(mode=6)[:12])
    w("ctl-short-version5", ntp(mode=6, version=5)[:28])
    w("zero-xmt", ntp(xmt=0))
    w("unsynchronized", ntp(), opt=0)
    w("interleaved", ntp(org=0xEABC000000000001, rcv=0xEABC000100000000),
      opt=3)
    w("kod", ntp(poll=3), opt=0x45 | 0xC0)
    for i, k in enumerate((1, 7, 9, 12)):
        w("mac-key%d" % k, ntp(), opt=1 | 8 | (i << 4))
    w("mac-unknown-key", ntp() + struct.pack("!I", 99) + b"\x5a" * 16)
    w("mac-sha1-len", ntp() + struct.pack("!I", 7) + b"\x5a" * 20)
    w("nts", nts_request())
    w("unknown-ef", ntp() + ef(0x2005, b"\1" * 24))
    w("ignore", ntp(), flags=F["ignore"])
    w("noserve", ntp(), flags=F["noserve"])
    w("notrust", ntp(), flags=F["notrust"])
    w("notrust-mac", ntp(), flags=F["notrust"], opt=1 | 8)
    w("version-v3", ntp(version=3), flags=F["version"])
    w("nopeer", ntp(mode=1), flags=F["nopeer"])
    w("limited-kod", ntp(), flags=F["limited"] | F["kod"] | F["nomodify"])


# fuzz_nts: [options] payload
def nts_seeds():
    write("nts", "request", b"\x00" + nts_request())
    write("nts", "good", b"\x01" + nts_request())
    write("nts", "good-burst8", b"\x0f" + nts_request())
    for n in (1, 3, 7):
        write("nts", "good-placeholders%d" % n,
              b"\x01" + nts_request(nb_ph=n))
    write("nts", "good-short-nonce", b"\x01" +
          nts_request(nb_ph=1, nonce_len=4))
    write("nts", "good-long-uid", b"\x01" + nts_request(uid_len=256))
    write("nts", "good-inner", b"\x01" + nts_request(inner=b"\x33" * 32))
    write("nts", "good-unknown-ef", b"\x01" +
          nts_request(extra=ef(0x2005, b"\x44" * 12)))
    write("nts", "good-old-key", b"\x11" + nts_request())
    write("nts", "good-other-server", b"\x21" + nts_request())
    write("nts", "no-room", b"\x01" + ntp() + ef(0x0104, b"\1" * 32) +
          ef(0x0204, b"\0\0\0\7" + b"\xc0" * 96) +
          struct.pack("!HHHH", 0x0404, 28, 4, 16) + b"\x11" * 4 +
          b"\x22" * 16)
    write("nts", "two-cookies", b"\x01" + nts_request(
        extra=ef(0x0204, b"\0" * 100)))
    write("nts", "mac-after", b"\x00" + ntp() + ef(0x2005, b"\1" * 12) +
          struct.pack("!I", 1) + b"\x5a" * 16)

    def rec(typ, body=b"", crit=False):
        return struct.pack("!HH", typ | (0x8000 if crit else 0),
                           len(body)) + body

    end = rec(0, crit=True)
    ke = b"\x40"
    write("nts", "ke-request", ke + rec(1, b"\0\0", True) +
          rec(4, b"\0\x0f") + end)
    write("nts", "ke-request-server-port", ke + rec(1, b"\0\0", True) +
          rec(4, b"\0\x0f\0\x1e") + rec(6, b"ntp.example") +
          rec(7, b"\0\x7b") + end)
    write("nts", "ke-no-aead", ke + rec(1, b"\0\0", True) + end)
    write("nts", "ke-unknown-critical", ke + rec(1, b"\0\0", True) +
          rec(0x4321, b"x", True) + end)
    write("nts", "ke-cookie", ke + rec(1, b"\0\0", True) +
          rec(5, b"c" * 8) + end)
    write("nts", "ke-partial", ke + rec(1, b"\0\0", True))


# fuzz_reply: records [op] [source | wait] [length, 2 bytes] payload
def reply_seeds():
    def r(op, src, payload, wait=0):
        return struct.pack("!BBH", op, src | (wait << 2),
                           len(payload)) + payload

    good = ntp(mode=4, stratum=2, refid=0xC0000201, poll=6)
    write("reply", "good", r(1 | 2 | 4, 0, good))
    write("reply", "good-v6", r(1 | 2 | 4, 1, good))
    write("reply", "good-signed", r(1 | 2 | 4 | 8, 2, good))
    write("reply", "unsigned-to-keyed", r(1 | 2 | 4, 2, good))
    write("reply", "good-twice", r(1 | 2 | 4, 0, good) +
          r(2 | 4, 0, good))
    write("reply", "iburst", b"".join(r(1 | 2 | 4 | 0x10, 0, good, 1)
                                      for _ in range(8)))
    write("reply", "three-sources", b"".join(
        r(1 | 2 | 4 | (8 if s == 2 else 0) | 0x40, s, good, 3)
        for _ in range(4) for s in range(3)))
    for code in (b"RATE", b"DENY", b"RSTR", b"XXXX"):
        kod = ntp(mode=4, li=3, stratum=0,
                  refid=struct.unpack("!I", code)[0], poll=10)
        write("reply", "kod-" + code.decode().lower(),
              r(1 | 2, 0, kod))
        write("reply", "kod-off-path-" + code.decode().lower(),
              r(1, 0, kod))
    write("reply", "unsynchronized", r(1 | 2 | 4, 0,
                                       ntp(mode=4, li=3, stratum=16)))
    write("reply", "mode3", r(1 | 2 | 4, 0, ntp(mode=3, stratum=2)))
    write("reply", "short", r(1 | 2, 0, good[:40]))
    write("reply", "bogus-origin", r(1 | 4, 0, good))
    write("reply", "no-request", r(2 | 4, 0, good))


CTL = [
    "help", "show stats", "show config", "show sysinfo", "show peers",
    "show port stats", "show port xstats all", "show port info 0",
    "show port info 1", "show port stats 0", "clear port stats",
    "clear port stats 0", "show lcores", "show restrict", "show clients",
    "show clients 5", "show auth", "show nts", "show neighbors",
    "show neigh", "neigh resolve 198.18.0.9", "neigh resolve 2001:db8::9",
    "show ptp", "show refclocks", "restrict add 198.18.5.0/24 kod limited",
    "restrict add -6 default ignore", "restrict add ntp.example nopeer",
    "restrict del 198.18.0.66", "restrict del 203.0.113.1",
    "restrict add 198.18.0.0 mask 255.0.255.0", "reload",
    "set log level debug", "set log level dpntp.* info",
    "set log level warn", "quit", "", "# a comment", "show",
    "show port", "bogus",
]


def ctl_seeds():
    for i, c in enumerate(CTL):
        for opt, suffix in ((1, ""), (3, "-json"), (0, "-user")):
            write("ctl", "%02d%s" % (i, suffix),
                  bytes([opt]) + c.encode() + b"\n")


def http_seeds():
    reqs = {
        "get": b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "get-openmetrics": b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: "
        b"application/openmetrics-text;version=1.0.0,text/plain;"
        b"version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\n",
        "get-10": b"GET /metrics HTTP/1.0\r\n\r\n",
        "head": b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        "post": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3"
        b"\r\n\r\nabc",
        "not-found": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "query": b"GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "garbage": b"\x16\x03\x01\x00\x05hello",
        "partial": b"GET /metr",
    }
    for name, req in reqs.items():
        write("http", name, b"\x00" + req)
    nums = struct.pack("<8d", 2.5e9, 1e-6, -2e-7, 3e-9, 3600.0, -1.5e-5,
                       12.25, float("nan"))
    strs = [b"0.1.0", b"net_ixgbe0", b"net_ixgbe", b"rx_q0_packets",
            b"nic", b"restrict default kod limited", b"MD5", b"192.0.2.1",
            b"192.0.2.1", b"192.0.2.1", b"*", b"PPS(pps0)", b"pps",
            b"PPS", b"/dev/pps0", b"no pulse", b"udp4", b"slave",
            b"001122.fffe.334455-1", b"001122.fffe.334455"]
    write("http", "snapshot-prometheus", b"\x01" + nums + b"\0".join(strs))
    write("http", "snapshot-openmetrics", b"\x03" + nums +
          b"\0".join(strs))
    odd = list(strs)
    odd[5] = b'restrict "odd\\name"\nx'
    odd[14] = b"/run/chr\xc3\xb6ny.sock"
    write("http", "snapshot-escapes", b"\x03" + nums + b"\0".join(odd))


# fuzz_frame: [settings 2 bytes] then [flags] [length, 2 bytes] frame
PORT_MAC = bytes([2, 0, 0, 0, 0, 1])
CLIENT_MAC = bytes([2, 0, 0, 0, 0, 2])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(payload, v6=False, vlan=None, src="198.19.0.2", dst=None,
          sport=40000, dport=123, proto=17, dmac=PORT_MAC, smac=CLIENT_MAC):
    import ipaddress
    if dst is None:
        dst = "2001:db8::1" if v6 else "198.18.0.1"
    if v6 and src == "198.19.0.2":
        src = "2001:db8:1::2"
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if proto == 17:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        ph = s + d + (struct.pack("!IxxxB", len(l4), 17) if v6 else
                      struct.pack("!xBH", 17, len(l4)))
        c = csum(ph + l4) or 0xFFFF
        l4 = l4[:6] + struct.pack("!H", c) + l4[8:]
    else:
        l4 = payload
    if v6:
        l3 = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + s + d
        et = 0x86DD
    else:
        h = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(l4), 0x1234, 0, 64,
                        proto, 0) + s + d
        l3 = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        et = 0x0800
    l2 = dmac + smac
    if vlan is not None:
        l2 += struct.pack("!HH", 0x8100, 0x2000 | vlan)
    return l2 + struct.pack("!H", et) + l3 + l4


def frame_seeds():
    def rec(f, flags=0x80):
        return struct.pack("!BH", flags, len(f)) + f

    def w(name, recs, s0=0, s1=0):
        write("frame", name, bytes([s0, s1]) + b"".join(recs))

    w("ipv4", [rec(frame(ntp()))])
    w("ipv6", [rec(frame(ntp(), v6=True))])
    w("v1-v3-symmetric", [rec(frame(ntp(version=v)), 0) for v in (1, 2, 3)]
      + [rec(frame(ntp(mode=1)))])
    w("vlan-inband", [rec(frame(ntp(), vlan=100, dst="198.18.100.1"))])
    w("vlan-stripped", [rec(frame(ntp(), dst="198.18.100.1"), 0x90)])
    w("vlan-wrong", [rec(frame(ntp(), vlan=200))])
    w("nic-stamp", [rec(frame(ntp()), 0xa0)], s1=3)
    w("cksum-flags", [rec(frame(ntp()), f) for f in range(16)] +
      [rec(frame(ntp(), v6=True), 0x8a)])
    w("hw-cksum", [rec(frame(ntp()), 0), rec(frame(ntp(), v6=True))],
      s0=8)
    w("server-reply", [rec(frame(ntp(mode=4, stratum=2), sport=123))])
    # ntpq: 12-byte requests and a readvar with names, to the slow path.
    w("control", [rec(frame(ctlreq(2)), 0), rec(frame(ctlreq(1)), 0),
                  rec(frame(ctlreq(2, b"stratum,refid"), v6=True)),
                  rec(frame(ctlreq(2)[:11]), 0)])
    w("modes", [rec(frame(ntp(mode=m)), 0) for m in range(8)] +
      [rec(frame(ntp(version=0)))])
    w("bad-sources", [
        rec(frame(ntp(), src="198.18.0.255"), 0),
        rec(frame(ntp(), src="224.0.0.1"), 0),
        rec(frame(ntp(), src="127.0.0.1"), 0),
        rec(frame(ntp(), src="198.18.0.1"), 0),
        rec(frame(ntp(), sport=0), 0),
        rec(frame(ntp(), smac=b"\x01\0\x5e\0\0\1"), 0),
        rec(frame(ntp(), dmac=b"\x02\0\0\0\0\x09"), 0),
        rec(frame(ntp(), v6=True, src="ff02::1"), 0),
        rec(frame(ntp(), v6=True, src="::1"))])
    w("restrict", [rec(frame(ntp(), src="198.19.9.2"), 0),
                   rec(frame(ntp(), src="198.19.10.2"), 0),
                   rec(frame(ntp(), src="198.19.10.2"), 0),
                   rec(frame(ntp(), src="198.19.11.2"))], s0=3)
    mac = ntp() + struct.pack("!I", 1) + b"\0" * 16
    w("mac", [rec(frame(mac), 0x40),
              rec(frame(ntp() + struct.pack("!I", 7) + b"\0" * 20), 0x40),
              rec(frame(ntp() + struct.pack("!I", 9) + b"\0" * 16), 0x40),
              rec(frame(ntp() + struct.pack("!I", 12) + b"\0" * 16), 0x40),
              rec(frame(ntp() + struct.pack("!I", 5) + b"\0" * 16), 0xc0)])
    w("mac-notrust", [rec(frame(mac, src="198.19.11.2"), 0x40),
                      rec(frame(ntp(), src="198.19.11.2"), 0xc0)], s0=3)
    w("nts", [rec(frame(nts_request()), 0x40),
              rec(frame(nts_request(nb_ph=2), v6=True), 0x40),
              rec(frame(nts_request()), 0x80)])
    w("nts-symmetric", [rec(frame(ntp(mode=1) + nts_request()[48:]), 0xc0)])
    w("interleaved-on", [rec(frame(ntp())), rec(frame(ntp(
        org=0xEABC000000000001, rcv=0x1234)), 0xc0)], s0=4, s1=0x40)
    w("arp-icmp-tcp", [
        rec(b"\xff" * 6 + CLIENT_MAC + b"\x08\x06" + b"\0" * 28, 0),
        rec(frame(b"\x08\0\0\0\0\0\0\0", proto=1), 0),
        rec(frame(b"\x9c\x40\x11\x6c" + b"\0" * 16, proto=6), 0),
        rec(frame(b"\x9c\x40\x11\x6c" + b"\0" * 16, proto=6, v6=True), 0),
        rec(frame(b"\x87\0\0\0" + b"\0" * 20, proto=58, v6=True,
                  dst="ff02::1:ff00:1"))], s0=0x20)
    w("ptp", [rec(b"\x01\x1b\x19\0\0\0" + CLIENT_MAC + b"\x88\xf7" +
                  b"\0" * 44, 0),
              rec(frame(b"\0" * 44, dport=319, dst="224.0.1.129"), 0),
              rec(frame(b"\0" * 44, dport=320))], s0=0xc0)
    w("fragment-options", [
        rec(frame(ntp())[:20] + b"\x20\x00" + frame(ntp())[22:], 0),
        rec(frame(ntp())[:14] + b"\x46" + frame(ntp())[15:])])
    w("trailer", [rec(frame(ntp()) + b"\0" * 6)])
    w("big-burst", [rec(frame(ntp(), src="198.19.0.%d" % (i + 2)), 0)
                    for i in range(70)], s1=0x14)


def conf_seeds(leap):
    keys = (b"1 MD5 secret\n7 SHA1 00112233445566778899aabbccddeeff01234567"
            b"\n9 AES128CMAC 2b7e151628aed2a6abf7158809cf4f3c\n"
            b"10 M HEX:0011223344\n11 AES128 ASCII:0123456789abcdef\n")
    ntskeys = (b"NKS0\n15 12.5\n" + b"".join(
        b"%08X %s\n" % (0x1000 + i, (b"%02X" % i) * 32) for i in range(4)))
    ntskeys1 = (b"NKS1\n2.0\n" + b"".join(
        b"%08x %s 15\n" % (0x2002 + i, (b"%02x" % (i + 9)) * 32)
        for i in range(4)))
    with open(leap, "rb") as f:
        leapdata = f.read()
    for name in ("dpntpd.conf", "quickstart.conf"):
        with open(os.path.join(TOP, "config", name), "rb") as f:
            text = f.read()
        write("conf", name, text + b"\0" + keys + b"\0" + leapdata + b"\0" +
              ntskeys)
    full = b"""listen port 0 address 198.18.0.1/24 gateway 198.18.0.254
listen port 0 address 2001:db8::1/64 vlan 5
listen port 1 address 198.18.1.1/24 vlan 7
refclock system stratum 2 refid GPS precision -20
refclock shm 0 refid NMEA noselect
refclock pps /dev/pps0 lock NMEA refid PPS prefer
refclock sock /run/chrony.ttyS0.sock
refclock phc /dev/ptp0 offset -37 poll 3 delay 1e-6
refclock ptp port 0 domain 0 transport udp4
restrict default kod limited nomodify notrap nopeer noquery
restrict -6 default ignore
restrict 198.18.0.0 mask 255.255.255.0 nomodify notrap
restrict 2001:db8::/64 nomodify notrap version
restrict localhost
restrict ntp.example notrust ntpport
discard average 3 minimum 2 monitor 3000
clientlimit 100000
xleavelimit 4096
server 192.0.2.1 iburst minpoll 4 maxpoll 8
server 2001:db8::123 key 7 prefer
pool pool.example burst version 3
tinker panic 0 stepout 300
tos minsane 2 minclock 3 maxdist 1.5
driftfile /var/lib/dpntp/drift
leapfile /usr/share/zoneinfo/leap-seconds.list
leapsmear 86400
holdover 3600
keys @KEYS@
trustedkey 1 7 9
authfail drop
ntsservercert /etc/dpntp/cert.pem
ntsserverkey /etc/dpntp/key.pem
ntsport 4460
ntsdumpdir /var/lib/dpntp
ntsrotate 86400
ntsntpserver ntp.example
ntsbind 198.18.0.1
exceptionif dpntp0
metrics [::1]:9123
"""
    write("conf", "all-directives", full + b"\0" + keys + b"\0" + leapdata +
          b"\0" + ntskeys1)
    write("conf", "keys-only", b"keys @KEYS@\ntrustedkey 1\n\0" + keys)
    write("conf", "crlf", full.replace(b"\n", b"\r\n"))
    write("conf", "errors", b"listen port 0 address 198.18.0.1/33\n")
    write("conf", "bad-keys", b"\0" + b"1 MD5 secret extra\n2 SHA1 abc\n" +
          b"\0" + b"#$ 1\n#@ 2\n2272060800 10\n#h 0 0 0 0 0\n" + b"\0" +
          b"NKS0\n15 1.0\n00000004 00\n")
    # A leap list whose hash is right but whose entries are few.
    times = [b"3676924800", b"3881174400"]
    entries = [(b"2272060800", b"10"), (b"2287785600", b"11")]
    h = hashlib.sha1(b"".join(times) + b"".join(a + b for a, b in entries))
    words = b" ".join(b"%x" % int(h.hexdigest()[i:i + 8], 16)
                      for i in range(0, 40, 8))
    small = (b"#$ " + times[0] + b"\n#@ " + times[1] + b"\n" +
             b"".join(a + b"\t" + b + b"\n" for a, b in entries) +
             b"#h " + words + b"\n")
    write("conf", "small-leap", b"\0\0" + small)


# fuzz_ntpctl: [answer size, 2 bytes] mode 6 payload
def ctlreq(op, data=b"", seq=1, assoc=0, vn=2, offset=0, count=None,
           pad=True):
    p = struct.pack("!BBHHHHH", (vn << 3) | 6, op, seq, 0, assoc, offset,
                    len(data) if count is None else count) + data
    while pad and len(p) % 4:
        p += b"\0"
    return p


def ntpctl_seeds():
    def w(name, payload, size=700):
        write("ntpctl", name, struct.pack("!H", size) + payload)
    w("readvar", ctlreq(2))
    w("readvar-names", ctlreq(2, b"stratum, refid,offset=1,nosuch"))
    w("readvar-assoc", ctlreq(2, assoc=1), 520)
    w("readvar-big", ctlreq(2), 4000)
    w("readstat", ctlreq(1), 260)
    w("writevar", ctlreq(3, b"leap=3"))
    w("configure", ctlreq(8, b"server 198.18.0.99"))
    w("read-mru", ctlreq(10, b"nonce=0123456789abcdef, laddr=[]"))
    w("count-beyond", ctlreq(2, b"ab=c", count=468))
    w("offset", ctlreq(2, offset=0x1fc))
    w("response-bit", ctlreq(0x82))
    w("short", ctlreq(2)[:11])
    w("auth-empty", ctlreq(2) + struct.pack("!I", 1) + b"\x5a" * 16)
    w("many-names", ctlreq(2, b",".join([b"a"] * 40)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leap", default="/usr/share/zoneinfo/leap-seconds.list")
    a = ap.parse_args()
    ntp_seeds()
    nts_seeds()
    reply_seeds()
    ctl_seeds()
    ntpctl_seeds()
    http_seeds()
    frame_seeds()
    conf_seeds(a.leap)


if __name__ == "__main__":
    main()
