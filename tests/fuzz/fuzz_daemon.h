/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_FUZZ_DAEMON_H
#define DPN_FUZZ_DAEMON_H

/*
 * The daemon state the control commands and the metrics read, for
 * fuzz_ctl and fuzz_http, without ports or lcores of its own: an EAL
 * without huge pages or devices (tests/common/test_rig.h; 512 MiB, as
 * two restrict tables of 64 MiB and more live while one replaces the
 * other, and not always next to each other), one port
 * entry (port 0, no such ethdev: its counters read as errors), one
 * worker with a few counters, the restrict rules, trusted keys and NTS
 * keys of a configuration file, a clock, and the management lcore's
 * view with two servers and a refclock line. Nothing runs behind it: no
 * management lcore (so `neigh resolve` finds no neighbour table) and no
 * NTS-KE server.
 */

#include "dpn_runtime.h"

/** Set up once; abort()s on failure. @return the context. */
struct dpn_runtime *fuzz_daemon_init(const char *prog);

/**
 * Put the restrict rules, discard line and keys back as the
 * configuration file has them, after a command changed them (restrict
 * add|del, reload), so that each input starts from the same state.
 */
void fuzz_daemon_reset(void);

/** Log levels back to errors only, and none for the missing ethdev
 * (a command may have changed them: set log level). */
void fuzz_daemon_quiet(void);

#endif /* DPN_FUZZ_DAEMON_H */
