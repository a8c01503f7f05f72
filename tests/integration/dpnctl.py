# SPDX-License-Identifier: BSD-3-Clause
"""What the Python test helpers read from a running dpntpd."""

import subprocess


def counters(dpntpc, sock):
    """Every counter of `show stats`, summed over the lcores."""
    out = subprocess.run([dpntpc, "-s", sock, "show", "stats"],
                         capture_output=True, text=True, timeout=10,
                         check=True).stdout
    c = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            c[f[0]] = int(f[1])
    return c
