/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEST_RIG_H
#define TEST_RIG_H

/*
 * What tests/dpdk/test_worker.c and the fuzz targets in tests/fuzz share:
 * an EAL without huge pages, devices, shared config or telemetry, and a
 * port and worker put together by hand in memory (as perf/bench.c does),
 * so that dpn_worker_handle_burst() runs on crafted mbufs without a NIC.
 */

#include <stdint.h>

#include "dpn_dataplane.h"

/**
 * rte_eal_init() for @p prog: --no-huge -m @p mem_mb --no-pci -l 0, its
 * own file prefix (prog and pid), errors only. Each IPv4 restrict table
 * takes 64 MiB (its rte_lpm tbl24).
 * @return 0, or -1 with a message on stderr.
 */
int dpn_rig_eal_init(const char *prog, unsigned int mem_mb);

/** rte_eal_cleanup(), and the runtime directory removed (it is empty
 * with --no-shconf and --no-telemetry). */
void dpn_rig_eal_fini(void);

/**
 * The worker of port @p port (its port_id, mac and addresses filled by
 * the caller): one receive queue with its rings to and from the
 * management lcore, a pool of @p pool_size mbufs in @p port->pool, the
 * rx_tsc and NIC timestamp dynamic fields (@p ts_off, @p ts_flag for the
 * latter, which the worker is not yet told about), the clock @p clock,
 * and a rate-limit table for @p rl_slots clients. Interleaved mode off.
 * Names of the DPDK objects start with @p name.
 * @return the worker (rte_zmalloc'ed), or NULL with a message on stderr.
 */
struct dpn_worker *dpn_rig_worker(struct dpn_port *port,
				  struct dpn_clock *clock, const char *name,
				  unsigned int pool_size,
				  unsigned int rl_slots, int *ts_off,
				  uint64_t *ts_flag);

#endif /* TEST_RIG_H */
