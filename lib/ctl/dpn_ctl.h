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

#include "dpn_conf.h"
#include "dpn_ctl_proto.h"
#include "dpn_dataplane.h"
#include "dpn_refclock.h"


/** What the commands look at. Owned by the daemon. */
struct dpn_ctl_ctx {
	struct dpn_dataplane *dp;
	struct dpn_conf *conf;		/**< restrict/discard change on reload */
	const char *config_path;
	struct dpn_refclock_system *refclock;
};

/** Bind the command table to the daemon's state. */
void dpn_ctl_init(struct dpn_ctl_ctx *ctx);

/*
 * The work behind each command, printing to @p f. The cmdline callbacks
 * only dispatch to these.
 */
int dpn_ctl_show_port_stats(FILE *f, int port);	/* port < 0: all */
int dpn_ctl_show_port_info(FILE *f, int port);
void dpn_ctl_show_stats(FILE *f);
void dpn_ctl_show_config(FILE *f);
void dpn_ctl_show_sysinfo(FILE *f);
void dpn_ctl_help(FILE *f);
void dpn_ctl_show_restrict(FILE *f);
void dpn_ctl_show_clients(FILE *f, unsigned int n);

/**
 * Call @p fn for each restrict rule in match order, with the rule as
 * `show restrict` writes it and its counters summed over the workers,
 * holding the lock that reloads and `restrict add|del` take (so the
 * table cannot be freed meanwhile): @p fn must not block. At most @p max
 * calls. For metrics and telemetry, from any control thread.
 * @return the number of rules in use (may be more than @p max).
 */
unsigned int dpn_ctl_restrict_walk(void (*fn)(void *arg, const char *rule,
					      const struct dpn_acl_counters *c),
				   void *arg, unsigned int max);

/**
 * Re-read the configuration file and apply its restrict, discard lines
 * to the running workers (other directives need a restart and are only
 * compared). On any error the running rules stay and @p err says why.
 * Safe from any control thread or the management lcore.
 * @return 0 or -1.
 */
int dpn_ctl_reload(char *err, size_t errlen);

/** `restrict add WORDS` / `restrict del WORDS`, WORDS as in the file. */
int dpn_ctl_restrict_change(bool add, const char *words, char *err,
			    size_t errlen);

/**
 * Run one command line from the control socket, output to @p out_fd.
 * There `quit` only ends the session; on the prompt it stops dpntpd.
 * @return 0, or -1 with a message in @p err.
 */
int dpn_ctl_run_line(const char *line, int out_fd, char *err, size_t errlen);

/** The interactive prompt on stdin/stdout; returns on `quit` or EOF. */
void dpn_ctl_interact(void);

/** Listen on @p path (mode 0660) in a control thread. */
int dpn_ctl_sock_start(const char *path, char *err, size_t errlen);

/** Stop the control thread and remove the socket file. */
void dpn_ctl_sock_stop(void);

#endif /* DPN_CTL_H */
