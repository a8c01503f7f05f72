/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where workers run: on cores of the port's NUMA node, found with hwloc,
 * so that descriptors, mbufs and the worker share one memory controller.
 */

#include <hwloc.h>
#include <sched.h>

#include <rte_lcore.h>

#include "dpn_dataplane.h"
#include "dp_log.h"

static hwloc_topology_t topo;
static bool topo_ok;

static void
topo_load(void)
{
	if (topo_ok)
		return;
	if (hwloc_topology_init(&topo) != 0)
		return;
	if (hwloc_topology_load(topo) != 0) {
		hwloc_topology_destroy(topo);
		return;
	}
	topo_ok = true;
}

int
dpn_lcore_cpu(unsigned int lcore)
{
	rte_cpuset_t set = rte_lcore_cpuset(lcore);
	int cpu;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -1;
}

void
dpn_lcore_cpus_format(unsigned int lcore, char *buf, size_t len)
{
	rte_cpuset_t set = rte_lcore_cpuset(lcore);
	size_t off = 0;
	int cpu = 0, last;

	if (len == 0)
		return;
	buf[0] = '\0';
	while (cpu < CPU_SETSIZE) {
		if (!CPU_ISSET(cpu, &set)) {
			cpu++;
			continue;
		}
		for (last = cpu; last + 1 < CPU_SETSIZE &&
		     CPU_ISSET(last + 1, &set); last++)
			;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off,
				last == cpu ? "%s%d" : "%s%d-%d",
				off != 0 ? "," : "", cpu, last);
		cpu = last + 1;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
}

/*
 * 1 if @p cpu is on NUMA node @p node, 0 if not, -1 if hwloc does not
 * know the node (a machine without NUMA: every core is local).
 */
static int
cpu_on_node(int cpu, int node)
{
	hwloc_obj_t obj = NULL;

	topo_load();
	if (!topo_ok || cpu < 0 || node < 0)
		return -1;
	while ((obj = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE,
						 obj)) != NULL)
		if ((int)obj->os_index == node)
			return hwloc_bitmap_isset(obj->cpuset, cpu) ? 1 : 0;
	return -1;
}

unsigned int
dpn_placement_pick(int socket_id, unsigned int nb, unsigned int *lcores)
{
	unsigned int lcore, n = 0;
	int pass;

	/* Pass 0 takes cores on the port's node, pass 1 the others. */
	for (pass = 0; pass < 2 && n < nb; pass++) {
		RTE_LCORE_FOREACH_WORKER(lcore) {
			int local = cpu_on_node(dpn_lcore_cpu(lcore), socket_id);

			if (n == nb)
				break;
			if ((pass == 0) != (local != 0))
				continue;
			lcores[n++] = lcore;
		}
	}
	return n;
}

void
dpn_placement_check(unsigned int lcore, int port_socket,
		    const char *port_name)
{
	int cpu = dpn_lcore_cpu(lcore);
	int local = cpu_on_node(cpu, port_socket);

	if (local == 0)
		DP_LOG(WARNING,
		       "worker lcore %u (cpu %d) is not on NUMA node %d of port %s: every packet crosses the interconnect",
		       lcore, cpu, port_socket, port_name);
	else
		DP_LOG(INFO, "worker lcore %u on cpu %d serves %s (NUMA node %d%s)",
		       lcore, cpu, port_name, port_socket,
		       local < 0 ? ", single node" : "");
}
