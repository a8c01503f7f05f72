/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CTL_PRIVATE_H
#define CTL_PRIVATE_H

/*
 * Internal to lib/ctl: the daemon state the commands work on, and what
 * the command now running was asked for (each control thread runs one
 * command at a time, so this is per thread).
 */

#include <stdbool.h>
#include <stdio.h>

#include "dpn_ctl.h"

/* A port's rte_eth_stats (ipackets, ibytes, imissed, ierrors, rx_nombuf,
 * opackets, obytes, oerrors) since the last `clear port stats`. */
#define CTL_PORT_STATS 8
void ctl_port_stats(const struct dpn_port *p, uint64_t v[CTL_PORT_STATS]);

/** True for a port in use, else the command fails with "no port N". */
bool ctl_port_valid(int port);

/** Share of a worker's polling time spent on polls that found work. */
double ctl_busy_percent(const struct dpn_worker *w);

/** Fail the running command with @p msg (status line or prompt). */
void ctl_fail(const char *msg);

/**
 * A command that changes the daemon's state calls this first: true when
 * the caller may (the prompt, a --cmdline-file, a root peer on the
 * socket), else the command fails with "@p what requires root".
 */
bool ctl_admin_ok(const char *what);

/**
 * JSON output: a command that can print JSON checks ctl_json() and then
 * prints one JSON object; output of the others is wrapped as
 * {"output": "..."}.
 */
bool ctl_json(void);

/** @p s as a JSON string, quotes included. */
void ctl_json_str(FILE *f, const char *s);

#endif /* CTL_PRIVATE_H */
