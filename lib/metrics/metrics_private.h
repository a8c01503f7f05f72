/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef METRICS_PRIVATE_H
#define METRICS_PRIVATE_H

/* Internal to lib/metrics: shared by collection, HTTP and telemetry. */

#include <rte_log.h>

#include "dpn_runtime.h"
#include "dpn_metrics.h"

#define METRICS_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_metrics_logtype, "metrics: " fmt "\n", \
		##__VA_ARGS__)

extern int dpn_metrics_logtype;

/**
 * The daemon state given to dpn_metrics_init(), held until
 * dpn_metrics_release(); NULL (and nothing held) once dpn_metrics_fini()
 * ran.
 */
struct dpn_runtime *dpn_metrics_hold(void);
void dpn_metrics_release(void);

/** Every worker's counters and the management lcore's, summed. */
void dpn_metrics_sum_stats(const struct dpn_dataplane *dp,
			   struct dpn_stats *out);

/** The served clock as `show sysinfo` shows it. */
void dpn_metrics_read_clock(const struct dpn_runtime *ctx,
			    struct dpn_metrics_clock *mc);

/** The NTS server as `show nts` shows it (all 0 while NTS is off). */
void dpn_metrics_read_nts(struct dpn_metrics_nts *n);

/**
 * The refclock lines as `show refclocks` and `show ptp` show them: a
 * calloc'ed array in @p *out (NULL and 0 without any, or without the
 * sync state). @return 0 or -ENOMEM.
 */
int dpn_metrics_read_refclocks(const struct dpn_runtime *ctx,
			       struct dpn_metrics_refclock **out,
			       unsigned int *nb);

/** Register the /dpntp/ telemetry commands (telemetry.c). */
int dpn_metrics_telemetry_register(void);

#endif /* METRICS_PRIVATE_H */
