/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_SLOWPATH_PRIVATE_H
#define DPN_SLOWPATH_PRIVATE_H

/* What slowpath.c shares with ctlpath.c (the management lcore only). */

#include <rte_mbuf.h>

#include "dpn_dataplane.h"

/** Turn the frame around at layer 2 and leave only TX flags it needs. */
void dpn_slow_l2_reply(struct rte_mbuf *m, const struct dpn_port *port);

/**
 * Answer the control request (mode 6) @p m that restrict and the rate
 * limit let through: its fragments go to @p back, the ring to the
 * worker that received it. Consumes @p m.
 */
void dpn_ctlpath_answer(struct dpn_dataplane *dp, const struct dpn_port *port,
			struct rte_ring *back, struct rte_mbuf *m);

/** A control request: UDP to port 123 whose NTP mode is 6. */
bool dpn_ctlpath_is_ctl(const struct rte_mbuf *m);

#endif /* DPN_SLOWPATH_PRIVATE_H */
