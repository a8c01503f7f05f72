#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Mode 6 requests ntpq does not send as they are, for test_ntpq.sh.

  write HOST           writevar and :config without a key, through
                       NTPsec's own client library (python3-ntp): prints
                       "ERROR <name>" for each server error, "ANSWER" for
                       an answer, "TIMEOUT" for none
  raw HOST HEX [BIND]  one UDP payload (hex) from BIND (any address if
                       not given): prints "REPLIES n BYTES m" after 1 s,
                       then " ERR e" if the first reply is an error
Run inside the client network namespace.
"""

import socket
import sys
import time

import ntp.control
import ntp.packet


def write(host):
    for (op, data) in ((ntp.control.CTL_OP_WRITEVAR, "leap=3"),
                       (ntp.control.CTL_OP_CONFIGURE,
                        "server 198.18.0.99")):
        s = ntp.packet.ControlSession()
        s.primary_timeout = s.secondary_timeout = 1000
        s.openhost(host)
        try:
            s.doquery(opcode=op, associd=0, qdata=data, auth=False)
            print("op %d ANSWER" % op)
        except ntp.packet.ControlException as e:
            if e.message in (ntp.packet.SERR_TIMEOUT,
                             ntp.packet.SERR_INCOMPLETE):
                print("op %d TIMEOUT" % op)
            else:
                print("op %d ERROR %s" % (
                    op, ntp.packet.ControlSession.server_errors.get(
                        e.errorcode, e.errorcode)))
        s.close()


def raw(host, payload, bind=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if bind:
        s.bind((bind, 0))
    s.settimeout(0.1)
    s.sendto(payload, (host, 123))
    n = size = 0
    err = ""
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        try:
            r = s.recv(4096)
        except socket.timeout:
            continue
        if n == 0 and len(r) >= 12 and r[1] & 0x40:
            err = " ERR %d" % r[4]
        size += len(r)
        n += 1
    print("REPLIES %d BYTES %d%s" % (n, size, err))


if sys.argv[1] == "write":
    write(sys.argv[2])
else:
    raw(sys.argv[2], bytes.fromhex(sys.argv[3]),
        sys.argv[4] if len(sys.argv) > 4 else None)
