/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_CTL_H
#define DPN_CTL_H

/**
 * @file
 * Control: the testpmd-style command table (DPDK cmdline) shared by the
 * interactive prompt and the unix control socket that dpntpc talks to.
 * The socket's protocol is in dpn_ctl_proto.h.
 */

#include <stdio.h>
#include <sys/types.h>

#include "dpn_conf.h"
#include "dpn_ctl_proto.h"
#include "dpn_dataplane.h"
#include "dpn_refclock.h"
#include "dpn_runtime.h"
#include "dpn_sync.h"



/*
 * The work behind each command, printing to @p f. The cmdline callbacks
 * only dispatch to these.
 */
int dpn_ctl_show_port_stats(FILE *f, int port);	/* port < 0: all */
int dpn_ctl_show_port_info(FILE *f, int port);
void dpn_ctl_show_stats(FILE *f);
void dpn_ctl_show_config(FILE *f);
void dpn_ctl_show_sysinfo(FILE *f);
/** The health verdict (text, or JSON in JSON mode). */
void dpn_ctl_show_health(FILE *f);
void dpn_ctl_show_peers(FILE *f);
void dpn_ctl_help(FILE *f);
void dpn_ctl_show_restrict(FILE *f);
void dpn_ctl_show_auth(FILE *f);
void dpn_ctl_show_nts(FILE *f);
void dpn_ctl_show_clients(FILE *f, unsigned int n);
void dpn_ctl_show_neighbors(FILE *f);

/**
 * `neigh resolve ADDR`: have the management lcore route @p addr
 * (AF_INET or AF_INET6 by @p family) and resolve its next hop, wait
 * until the neighbour answers or fails (at most 4 s), print the route
 * and the entry. @return 0 when the next hop's MAC is known, else -1
 * with the reason in @p err.
 */
int dpn_ctl_neigh_resolve(FILE *f, int family, const void *addr, char *err,
			  size_t errlen);

int dpn_ctl_show_port_xstats(FILE *f, int port);	/* port < 0: all */
int dpn_ctl_clear_port_stats(FILE *f, int port);	/* port < 0: all */
void dpn_ctl_show_lcores(FILE *f);
void dpn_ctl_show_ptp(FILE *f);
void dpn_ctl_show_refclocks(FILE *f);

/**
 * Set the level of the log types matching @p pattern (a glob such as
 * "dpntp.*"; NULL means every dpntp.* type) to @p level, a syslog level
 * name from "emerg" to "debug".
 * @return 0, or -1 with a message in @p err (unknown level, no type
 * matches).
 */
int dpn_ctl_set_log_level(FILE *f, const char *pattern, const char *level,
			  char *err, size_t errlen);


/** dpn_ctl_run_line() flags. */
#define DPN_CTL_ADMIN	0x1	/**< may run commands that change state */
#define DPN_CTL_JSON	0x2	/**< print JSON (see dpn_ctl_proto.h) */

/**
 * Run one command line from the control socket or a --cmdline-file,
 * output to @p out_fd. There `quit` only ends the session; on the prompt
 * it stops dpntpd. Without DPN_CTL_ADMIN, commands that change state
 * fail with "... requires root".
 * @return 0, or -1 with a message in @p err (-EACCES when refused for
 * want of DPN_CTL_ADMIN).
 */
int dpn_ctl_run_line(const char *line, int out_fd, unsigned int flags,
		     char *err, size_t errlen);

/**
 * Run each line of @p path as a command (as testpmd's --cmdline-file),
 * output on standard output. Blank lines and lines starting with '#' are
 * skipped; a failing line is reported as "FILE:LINE: error: ..." on
 * standard error and the next line runs.
 * @return number of lines that failed, or -1 when @p path cannot be read.
 */
int dpn_ctl_run_file(const char *path);

/** The interactive prompt on stdin/stdout; returns on `quit` or EOF. */
void dpn_ctl_interact(void);

/**
 * Listen on @p path in a control thread: owner root, group @p gid, mode
 * 0660. Peers of uid 0 may run every command, others (the group) only
 * those that change nothing.
 */
int dpn_ctl_sock_start(const char *path, gid_t gid, char *err,
		       size_t errlen);

/** Stop the control thread and remove the socket file. */
void dpn_ctl_sock_stop(void);

#endif /* DPN_CTL_H */
