/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL and the in-memory port and worker that the worker's tests and
 * fuzz targets drive (test_rig.h).
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "test_rig.h"

#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define RIG_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RIG_LSAN)
#define RIG_LSAN 1
#endif

#ifdef RIG_LSAN
#include <sanitizer/lsan_interface.h>

/*
 * LeakSanitizer does not look into the EAL's memory, so malloc'ed
 * objects that only DPDK memory points to (the rule sets inside restrict
 * tables, the key tables) would read as leaks: have it scan that memory.
 */
static int
lsan_root(const struct rte_memseg_list *msl, void *arg)
{
	(void)arg;
	if (msl->base_va != NULL && msl->len != 0)
		__lsan_register_root_region(msl->base_va, msl->len);
	return 0;
}
#endif

static char runtime_dir[PATH_MAX];

/* A program that never calls dpn_rig_eal_fini() (a fuzz target) leaves
 * no runtime directory behind either: it is empty with --no-shconf and
 * --no-telemetry. */
static void
rig_rmdir(void)
{
	if (runtime_dir[0] != '\0')
		rmdir(runtime_dir);
}

int
dpn_rig_eal_init(const char *prog, unsigned int mem_mb)
{
	static char prefix[64], mem[16];
	char *argv[] = {
		(char *)prog, "--no-huge", "-m", mem, "--no-pci", "-l", "0",
		"--no-shconf", "--no-telemetry", "--file-prefix", prefix,
		"--log-level=error",
		NULL,
	};

	/* Runs of the same program side by side must not share files. */
	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(prefix, sizeof(prefix), "dpn%s_%d", prog, (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
#ifdef RIG_LSAN
	rte_memseg_list_walk(lsan_root, NULL);
#endif
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		 rte_eal_get_runtime_dir());
	atexit(rig_rmdir);
	return 0;
}

void
dpn_rig_eal_fini(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}

struct dpn_worker *
dpn_rig_worker(struct dpn_port *port, struct dpn_clock *clock,
	       const char *name, unsigned int pool_size,
	       unsigned int rl_slots, int *ts_off, uint64_t *ts_flag)
{
	struct dpn_worker *w;
	struct dpn_rl_params p;
	char n[RTE_MEMZONE_NAMESIZE];
	void *mem;

	snprintf(n, sizeof(n), "%s_pool", name);
	port->pool = rte_pktmbuf_pool_create(n, pool_size, 0, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	w = rte_zmalloc(name, sizeof(*w), RTE_CACHE_LINE_SIZE);
	mem = rte_zmalloc(name, dpn_rl_memsize(rl_slots),
			  sizeof(struct dpn_rl_bucket));
	if (port->pool == NULL || w == NULL || mem == NULL)
		goto fail;
	w->nb_rxq = 1;
	w->rxq[0].port = port;
	w->rxq[0].port_id = port->port_id;
	snprintf(n, sizeof(n), "%s_up", name);
	w->rxq[0].to_mgmt = rte_ring_create(n, DPN_RING_SIZE, SOCKET_ID_ANY,
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(n, sizeof(n), "%s_down", name);
	w->rxq[0].from_mgmt = rte_ring_create(n, DPN_RING_SIZE,
					      SOCKET_ID_ANY,
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->rxq[0].to_mgmt == NULL || w->rxq[0].from_mgmt == NULL)
		goto fail;
	if (rte_mbuf_dyn_rx_timestamp_register(ts_off, ts_flag) != 0)
		goto fail;
	w->ts_dynfield_offset = -1;
	w->rx_tsc_dynfield_offset = dpn_rx_tsc_dynfield_register();
	if (w->rx_tsc_dynfield_offset < 0)
		goto fail;
	dpn_clock_init(clock);
	w->clock = clock;
	dpn_rl_params_default(&p);
	if (dpn_rl_init(&w->rl, mem, rl_slots, &p) != 0)
		goto fail;
	return w;
fail:
	fprintf(stderr, "%s: worker setup: %s\n", name,
		rte_strerror(rte_errno));
	return NULL;
}
