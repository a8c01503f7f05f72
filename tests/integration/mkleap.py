#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a leap-seconds.list (IERS/NIST format, with its SHA-1 line) whose
last entry is a leap second at an arbitrary instant, for tests:

  mkleap.py OUT --in SECONDS [--delete] [--expired] [--corrupt]

The leap happens SECONDS from now (rounded to a whole second); the list
expires in a year, or expired yesterday with --expired. --corrupt writes
a hash that does not match.
"""
import argparse
import hashlib
import time

NTP_UNIX = 2208988800


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--in", dest="delta", type=int, required=True)
    ap.add_argument("--delete", action="store_true")
    ap.add_argument("--expired", action="store_true")
    ap.add_argument("--corrupt", action="store_true")
    a = ap.parse_args()
    now = int(time.time())
    updated = now - (2 if a.expired else 1) * 86400 + NTP_UNIX
    expires = now + (-86400 if a.expired else 365 * 86400) + NTP_UNIX
    leap = now + a.delta + NTP_UNIX
    entries = [(3644697600, 36), (3692217600, 37),
               (leap, 36 if a.delete else 38)]
    data = str(updated) + str(expires) + "".join(
        str(t) + str(o) for t, o in entries)
    h = hashlib.sha1(data.encode()).hexdigest()
    if a.corrupt:
        h = h[:-1] + ("0" if h[-1] != "0" else "1")
    words = " ".join(h[i:i + 8] for i in range(0, 40, 8))
    with open(a.out, "w") as f:
        f.write("# test leap second list (mkleap.py)\n")
        f.write("#$\t%d\n#@\t%d\n" % (updated, expires))
        for t, o in entries:
            f.write("%d\t%d\t# test\n" % (t, o))
        f.write("#h\t%s\n" % words)


if __name__ == "__main__":
    main()
