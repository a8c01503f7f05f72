#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The soak's load and its samples; run by scripts/soak.sh inside the
client network namespace (the control and telemetry sockets are files,
reachable from there).

Load, all bounded by --minutes:
  allowed  one request every 50 ms from --allowed, each waited for (1 s):
           every one must be answered; every fourth is NTPv3;
  limited  bursts of 5 from --limited every second (rate limit, KoDs);
  garbage  the CVE corpus (tests/cve/*.hex) and short junk from --junk,
           every second;
  reload   every 10 s the configuration changes (a restrict line for an
           address nobody uses comes and goes) and dpntpd reloads it;
  upstream chronyd on --upstream, the server dpntpd polls, stops and
           starts again every 30 s.
With --record FILE, also (for scripts/dashboard-record.sh):
  scrape   /metrics at --metrics URL every --scrape seconds, every series
           kept; FILE (JSON, gzip if it ends in .gz) gets them column by
           column with the times and the events below;
  bursty   with --bursty ADDR,..., each second one of them in turn sends
           3 requests at once: the first is answered, the second starts
           a penalty (a KoD), the third is dropped; each address comes
           back after long enough for its penalty to end (24 addresses:
           every 24 s), so KoDs keep coming, about one a second;
  drain    with --drain PATH, the health drain file is created at
           --drain-at ON:OFF (seconds from the start) and removed at OFF.
Samples every --sample seconds: dpntpd's RSS outside DPDK's memory, its
DPDK heap (telemetry
/eal/heap_info), each mempool's objects in use (size - common pool -
caches), and every counter of `show stats`. Prints one SAMPLE line each,
then RESULT lines:
  RESULT ok|FAIL <what> [-- why]
Checks: memory does not grow from the first sample 40 s in to the last
(RSS by 1 MiB at most, the heap by 1 MiB, mbufs in use by 64), no
counter goes backwards, no allowed request goes unanswered, reloads
succeed.
"""

import argparse
import atexit
import glob
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import dpnctl  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--minutes", type=float, required=True)
ap.add_argument("--sample", type=float, default=60)
ap.add_argument("--pid", type=int, required=True)
ap.add_argument("--dpntpc", required=True)
ap.add_argument("--sock", required=True)
ap.add_argument("--telemetry", required=True)
ap.add_argument("--conf", required=True)
ap.add_argument("--srv", required=True)
ap.add_argument("--allowed", required=True)
ap.add_argument("--limited", required=True)
ap.add_argument("--junk", required=True)
ap.add_argument("--upstream", required=True)
ap.add_argument("--corpus", required=True)
ap.add_argument("--tmp", required=True)
ap.add_argument("--record", help="write the scraped series here")
ap.add_argument("--metrics", help="the /metrics URL to scrape")
ap.add_argument("--scrape", type=float, default=1.0)
ap.add_argument("--drain", help="the health drain file")
ap.add_argument("--drain-at", default="", help="ON:OFF seconds from start")
ap.add_argument("--bursty", default="", help="addresses, comma-separated")
ap.add_argument("--describe", default="", help="what the run was (JSON)")
args = ap.parse_args()

END = time.monotonic() + args.minutes * 60
stop = threading.Event()
lock = threading.Lock()
T0 = time.monotonic()
events = []          # (seconds from start, what)
tally = {"allowed_sent": 0, "allowed_replied": 0, "allowed_missed": 0,
         "limited_sent": 0, "garbage_sent": 0, "reloads": 0,
         "reload_failed": 0, "upstream_restarts": 0,
         "bursty_sent": 0}


def bump(k, n=1):
    with lock:
        tally[k] += n


def event(what):
    with lock:
        events.append((round(time.monotonic() - T0, 2), what))


def ntp_request(tag, version=4):
    # A client request (mode 3) with a transmit time that tells our
    # requests apart.
    return bytes([version << 3 | 3, 0, 6, 0xec]) + bytes(36) + \
        (0xe7000000_00000000 | tag).to_bytes(8, "big")


def allowed():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.allowed, 0))
    s.settimeout(1.0)
    tag = 0
    while not stop.is_set():
        t0 = time.monotonic()
        tag += 1
        req = ntp_request(tag, 3 if tag % 4 == 0 else 4)
        s.sendto(req, (args.srv, 123))
        bump("allowed_sent")
        got = False
        while True:
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                break
            # Ours if it echoes our transmit time as its origin.
            if len(data) >= 48 and data[24:32] == req[40:48]:
                got = True
                break
        bump("allowed_replied" if got else "allowed_missed")
        time.sleep(max(0.0, 0.05 - (time.monotonic() - t0)))


def limited():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.limited, 0))
    s.setblocking(False)
    tag = 1 << 32
    while not stop.wait(1.0):
        for _ in range(5):
            tag += 1
            s.sendto(ntp_request(tag), (args.srv, 123))
        bump("limited_sent", 5)
        try:
            while True:
                s.recvfrom(2048)
        except BlockingIOError:
            pass


def bursty():
    socks = []
    for a in args.bursty.split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a, 0))
        s.setblocking(False)
        socks.append(s)
    tag = 2 << 32
    n = 0
    while not stop.wait(1.0):
        s = socks[n % len(socks)]
        n += 1
        for _ in range(3):
            tag += 1
            s.sendto(ntp_request(tag), (args.srv, 123))
        bump("bursty_sent", 3)
        for s in socks:
            try:
                while True:
                    s.recvfrom(2048)
            except BlockingIOError:
                pass


def garbage():
    payloads = []
    for path in sorted(glob.glob(os.path.join(args.corpus, "*.hex"))):
        data = bytearray()
        with open(path) as f:
            for line in f:
                if not line.startswith("#"):
                    data += bytes(int(x, 16) for x in line.split())
        payloads.append(bytes(data))
    payloads += [b"", b"\x23", bytes(47), b"\xff" * 300]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.junk, 0))
    s.setblocking(False)
    while not stop.wait(1.0):
        for p in payloads:
            s.sendto(p, (args.srv, 123))
        bump("garbage_sent", len(payloads))
        try:
            while True:
                s.recvfrom(2048)
        except BlockingIOError:
            pass


def reload():
    with open(args.conf) as f:
        base = f.read()
    n = 0
    while not stop.wait(10.0):
        n += 1
        extra = "restrict 198.18.0.99 ignore\n" if n % 2 else ""
        with open(args.conf, "w") as f:
            f.write(base + extra)
        out = subprocess.run([args.dpntpc, "-s", args.sock, "reload"],
                             capture_output=True, text=True, timeout=20)
        bump("reloads")
        if not out.stdout.startswith("reloaded"):
            bump("reload_failed")
            print("reload: %s %s" % (out.stdout.strip(), out.stderr.strip()),
                  flush=True)


children = [None]   # the running chronyd: stopped however we exit
child_lock = threading.Lock()


def terminate(p):
    """SIGTERM, then SIGKILL if it has not gone in 5 s."""
    p.terminate()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def stop_children():
    with child_lock:
        stop.set()
        p = children[0]
    if p is not None and p.poll() is None:
        terminate(p)


def on_term(signum, frame):
    sys.exit(128 + signum)      # atexit stops chronyd


atexit.register(stop_children)
signal.signal(signal.SIGTERM, on_term)


def upstream():
    conf = os.path.join(args.tmp, "soak-chrony.conf")
    with open(conf, "w") as f:
        f.write("local stratum 1\nallow\nbindaddress %s\ncmdport 0\n"
                "pidfile %s\n" % (args.upstream,
                                  os.path.join(args.tmp, "soak-chrony.pid")))
    while True:
        with child_lock:    # no chronyd started once stop_children ran
            if stop.is_set():
                break
            p = subprocess.Popen(["chronyd", "-4", "-d", "-x", "-f", conf],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            children[0] = p
        event("upstream chronyd started")
        stop.wait(30.0)
        terminate(p)
        bump("upstream_restarts")


# The scrape: every series of every scrape, by its name and labels as
# written ("name{label=\"value\",...}"); a series absent from a scrape
# is null there.
scrape_t = []
series = {}
scrape_errors = []
SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(\S+)(?:\s+-?\d+)?$")


def scraper():
    n = 0
    next_t = time.monotonic()
    while not stop.is_set() and n < 100000:
        n += 1
        t = time.monotonic() - T0
        try:
            with urllib.request.urlopen(args.metrics, timeout=2) as r:
                text = r.read().decode("utf-8", "replace")
        except Exception as e:  # noqa: BLE001 (a failed scrape is recorded)
            scrape_errors.append((round(t, 2), str(e)))
            text = None
        if text is not None:
            i = len(scrape_t)
            scrape_t.append(round(t, 3))
            for line in text.splitlines():
                if not line or line.startswith("#"):
                    continue
                m = SAMPLE_RE.match(line)
                if not m:
                    continue
                try:
                    v = float(m.group(2))
                except ValueError:
                    continue
                col = series.setdefault(m.group(1), [])
                col.extend([None] * (i - len(col)))
                col.append(v if v == v and abs(v) != float("inf") else None)
        next_t += args.scrape
        stop.wait(max(0.0, next_t - time.monotonic()))


def drainer():
    on, off = (float(x) for x in args.drain_at.split(":"))
    if stop.wait(max(0.0, T0 + on - time.monotonic())):
        return
    open(args.drain, "w").close()
    event("drain file created")
    stop.wait(max(0.0, T0 + off - time.monotonic()))
    try:
        os.unlink(args.drain)
        event("drain file removed")
    except FileNotFoundError:
        pass


def write_record():
    n = len(scrape_t)
    for col in series.values():
        col.extend([None] * (n - len(col)))
    doc = {"tool": "scripts/soak.py --record",
           "describe": json.loads(args.describe) if args.describe else {},
           "scrape_interval_s": args.scrape,
           "minutes": args.minutes,
           "start_utc": START_UTC,
           "events": events,
           "scrape_errors": scrape_errors[:50],
           "load": dict(tally),
           "t": scrape_t,
           "series": dict(sorted(series.items()))}
    text = json.dumps(doc, separators=(",", ":"))
    if args.record.endswith(".gz"):
        with gzip.open(args.record, "wt", compresslevel=9) as f:
            f.write(text)
    else:
        with open(args.record, "w") as f:
            f.write(text)
    print("recorded %d scrapes of %d series into %s" %
          (n, len(series), args.record), flush=True)


def counters():
    return dpnctl.counters(args.dpntpc, args.sock)


def telemetry(cmds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(args.telemetry)
    s.recv(16384)
    out = {}
    for c in cmds:
        s.send(c.encode())
        out[c] = json.loads(s.recv(1 << 20).decode())
    s.close()
    return out


def memory():
    # RSS outside DPDK's memory (the --no-huge memfd, hugepages): DPDK's
    # heap reuses freed memory elsewhere, so RSS there climbs towards -m
    # without a leak; its use is the heap's Alloc_size.
    rss, dpdk = 0, False
    with open("/proc/%d/smaps" % args.pid) as f:
        for line in f:
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                dpdk = re.search(r"memfd:nohuge|hugepages|rtemap_",
                                 line) is not None
            elif line.startswith("Rss:") and not dpdk:
                rss += int(line.split()[1])
    t = telemetry(["/eal/heap_info,0", "/dpntp/mempools"])
    heap = t["/eal/heap_info,0"]["/eal/heap_info"]
    pools = t["/dpntp/mempools"]["/dpntp/mempools"]
    in_use = {p: v["in_use"] for p, v in pools.items()}
    return rss, int(heap["Alloc_size"]), in_use


def result(ok, what, why=""):
    print("RESULT %s %s%s" % ("ok" if ok else "FAIL", what,
                              " -- " + why if why and not ok else ""),
          flush=True)
    return ok


START_UTC = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
jobs = [allowed, limited, garbage, reload, upstream]
if args.record:
    jobs.append(scraper)
if args.record and args.drain and args.drain_at:
    jobs.append(drainer)
if args.bursty:
    jobs.append(bursty)
threads = [threading.Thread(target=f, daemon=True) for f in jobs]
for t in threads:
    t.start()

samples = []
backwards = []
start = time.monotonic()
while True:
    now = time.monotonic()
    rss, heap, in_use = memory()
    c = counters()
    if samples:
        prev = samples[-1][4]
        for k, v in c.items():
            if v < prev.get(k, 0):
                backwards.append("%s %d -> %d" % (k, prev[k], v))
    samples.append((now - start, rss, heap, in_use, c))
    with lock:
        t = dict(tally)
    print("SAMPLE t=%.0fs rss_kb=%d heap_alloc=%d mbufs_in_use=%s "
          "rx=%d replies=%d kod=%d limited=%d allowed=%d/%d reloads=%d" % (
              now - start, rss, heap,
              ",".join("%s:%d" % kv for kv in in_use.items()),
              c.get("rx_packets", 0), c.get("ntp_server_replies", 0),
              c.get("kod_sent", 0), c.get("rate_limited", 0),
              t["allowed_replied"], t["allowed_sent"], t["reloads"]),
          flush=True)
    if now >= END:
        break
    time.sleep(max(0.0, min(args.sample, END - now)))

stop.set()
for t in threads:
    t.join(40)
time.sleep(1)

fails = 0
if args.record:
    write_record()
    fails += not result(len(scrape_t) >= args.minutes * 60 / args.scrape / 2,
                        "%d scrapes of /metrics recorded (%d failed)" %
                        (len(scrape_t), len(scrape_errors)), "too few")
# The baseline: the first sample WARMUP s in. By then reloads have
# touched the heap pages that later reloads reuse (the restrict tables
# are built anew each time: RSS rose by about 65 MiB over the first two
# reloads in a 2-minute run, and not after).
WARMUP = 40
first = next((s for s in samples if s[0] >= WARMUP), samples[0])
last = samples[-1]
fails += not result(len(samples) >= 3 and first is not last,
                    "%d samples taken, %d after the warm-up" %
                    (len(samples), sum(s[0] >= WARMUP for s in samples)))
fails += not result(last[1] - first[1] <= 1024,
                    "RSS %d -> %d kB (at most +1 MiB)" % (first[1], last[1]),
                    "grew")
fails += not result(last[2] - first[2] <= 1 << 20,
                    "DPDK heap in use %d -> %d bytes (at most +1 MiB)" %
                    (first[2], last[2]), "grew")
for p in last[3]:
    a, b = first[3].get(p, 0), last[3][p]
    fails += not result(b - a <= 64, "mempool %s in use %d -> %d (at most "
                        "+64)" % (p, a, b), "mbufs leak")
fails += not result(not backwards, "no counter went backwards",
                    "; ".join(backwards[:5]))
with lock:
    t = dict(tally)
fails += not result(t["allowed_missed"] == 0 and t["allowed_sent"] > 0,
                    "every allowed request answered (%d of %d)" %
                    (t["allowed_replied"], t["allowed_sent"]),
                    "%d missed" % t["allowed_missed"])
fails += not result(t["reloads"] > 0 and t["reload_failed"] == 0,
                    "%d reloads, all applied" % t["reloads"],
                    "%d failed" % t["reload_failed"])
fails += not result(t["upstream_restarts"] > 0 or args.minutes < 1,
                    "upstream restarted %d times" % t["upstream_restarts"])
fails += not result(t["limited_sent"] > 0 and t["garbage_sent"] > 0,
                    "limited (%d) and garbage (%d) sent" %
                    (t["limited_sent"], t["garbage_sent"]))
c = last[4]
fails += not result(c.get("kod_sent", 0) > 0,
                    "KoDs sent (%d)" % c.get("kod_sent", 0))
sys.exit(1 if fails else 0)
