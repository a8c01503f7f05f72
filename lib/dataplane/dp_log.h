/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DP_LOG_H
#define DP_LOG_H

/* Internal: the data plane's DPDK log type. Never used per packet. */

#include <rte_log.h>

extern int dpn_dp_logtype;

#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_dp_logtype, "dpntp: " fmt "\n", \
		##__VA_ARGS__)

#endif /* DP_LOG_H */
