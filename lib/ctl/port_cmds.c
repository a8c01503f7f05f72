/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port counters beyond rte_eth_stats: the driver's extended statistics
 * (xstats) and clearing both. Read from a control thread while the
 * workers run; the drivers allow that for stats (as testpmd does).
 *
 * Clearing does not call rte_eth_stats_reset(): drivers such as
 * af_packet keep their counters per queue and add to them in every
 * rx/tx burst of the worker that owns the queue, so a reset from this
 * thread races with that read-modify-write and is lost (seen here:
 * "8 before, 8 after"). Instead the values at the clear are kept and
 * subtracted from what is shown. /metrics shows the raw counters, which
 * Prometheus wants monotonic anyway.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dpn_ctl.h"
#include "ctl_private.h"

/* Counter values at the last clear, per port (index in dp->ports). */
static struct {
	uint64_t stats[CTL_PORT_STATS];
	unsigned int nb_xstats;
	uint64_t *xstats;		/* by xstat id */
} cleared[DPN_MAX_PORTS];
static pthread_mutex_t cleared_lock = PTHREAD_MUTEX_INITIALIZER;

static void
raw_stats(const struct dpn_port *p, uint64_t v[CTL_PORT_STATS])
{
	struct rte_eth_stats st;

	if (rte_eth_stats_get(p->port_id, &st) != 0)
		memset(&st, 0, sizeof(st));
	v[0] = st.ipackets;
	v[1] = st.ibytes;
	v[2] = st.imissed;
	v[3] = st.ierrors;
	v[4] = st.rx_nombuf;
	v[5] = st.opackets;
	v[6] = st.obytes;
	v[7] = st.oerrors;
}

static unsigned int
port_index(const struct dpn_port *p)
{
	return (unsigned int)(p - dpn_runtime_get()->dp->ports);
}

void
ctl_port_stats(const struct dpn_port *p, uint64_t v[CTL_PORT_STATS])
{
	unsigned int i, pi = port_index(p);

	raw_stats(p, v);
	pthread_mutex_lock(&cleared_lock);
	for (i = 0; i < CTL_PORT_STATS; i++)
		v[i] = v[i] >= cleared[pi].stats[i] ?
			v[i] - cleared[pi].stats[i] : v[i];
	pthread_mutex_unlock(&cleared_lock);
}

/* @p v (by id) less what it was at the last clear. */
static void
xstats_since_clear(unsigned int pi, struct rte_eth_xstat *v, int n)
{
	int i;

	pthread_mutex_lock(&cleared_lock);
	for (i = 0; i < n; i++) {
		uint64_t id = v[i].id;

		if (id < cleared[pi].nb_xstats &&
		    v[i].value >= cleared[pi].xstats[id])
			v[i].value -= cleared[pi].xstats[id];
	}
	pthread_mutex_unlock(&cleared_lock);
}

static void
xstats_print(FILE *f, const struct dpn_port *p, bool json)
{
	struct rte_eth_xstat_name *names = NULL;
	struct rte_eth_xstat *vals = NULL;
	int n, i;

	n = rte_eth_xstats_get_names(p->port_id, NULL, 0);
	if (n > 0) {
		names = calloc((size_t)n, sizeof(*names));
		vals = calloc((size_t)n, sizeof(*vals));
	}
	if (names == NULL || vals == NULL ||
	    rte_eth_xstats_get_names(p->port_id, names, (unsigned int)n) != n ||
	    rte_eth_xstats_get(p->port_id, vals, (unsigned int)n) != n)
		n = 0;	/* a port without xstats lists none */
	xstats_since_clear(port_index(p), vals, n);

	if (json) {
		fprintf(f, "{\"port\": %u, \"name\": ", p->port_id);
		ctl_json_str(f, p->name);
		fputs(", \"xstats\": {", f);
	} else {
		fprintf(f, "port %u (%s)\n", p->port_id, p->name);
	}
	for (i = 0; i < n; i++) {
		const char *name = vals[i].id < (uint64_t)n ?
			names[vals[i].id].name : "?";

		if (json) {
			fputs(i ? ", " : "", f);
			ctl_json_str(f, name);
			fprintf(f, ": %" PRIu64, vals[i].value);
		} else {
			fprintf(f, "  %-36s %" PRIu64 "\n", name,
				vals[i].value);
		}
	}
	if (json)
		fputs("}}", f);
	free(names);
	free(vals);
}

int
dpn_ctl_show_port_xstats(FILE *f, int port)
{
	struct dpn_dataplane *dp = dpn_runtime_get()->dp;
	bool json = ctl_json();
	unsigned int i, n = 0;

	if (port >= 0 && !ctl_port_valid(port))
		return -EINVAL;
	if (json)
		fputs("{\"ports\": [", f);
	for (i = 0; i < dp->nb_ports; i++) {
		if (port >= 0 && (unsigned int)port != i)
			continue;
		if (json && n++ > 0)
			fputs(", ", f);
		xstats_print(f, &dp->ports[i], json);
	}
	if (json)
		fputs("]}\n", f);
	return 0;
}

/* Remember the port's counters as they are now. */
static int
clear_one(const struct dpn_port *p)
{
	unsigned int pi = port_index(p);
	struct rte_eth_xstat *vals = NULL;
	uint64_t v[CTL_PORT_STATS], *x = NULL;
	int n, i;

	raw_stats(p, v);
	n = rte_eth_xstats_get(p->port_id, NULL, 0);
	if (n > 0) {
		vals = calloc((size_t)n, sizeof(*vals));
		x = calloc((size_t)n, sizeof(*x));
		if (vals == NULL || x == NULL) {
			free(vals);
			free(x);
			return -ENOMEM;
		}
		n = rte_eth_xstats_get(p->port_id, vals, (unsigned int)n);
		for (i = 0; i < n; i++)
			if (vals[i].id < (uint64_t)n)
				x[vals[i].id] = vals[i].value;
	}
	pthread_mutex_lock(&cleared_lock);
	memcpy(cleared[pi].stats, v, sizeof(v));
	free(cleared[pi].xstats);
	cleared[pi].xstats = x;
	cleared[pi].nb_xstats = n > 0 ? (unsigned int)n : 0;
	pthread_mutex_unlock(&cleared_lock);
	free(vals);
	return 0;
}

int
dpn_ctl_clear_port_stats(FILE *f, int port)
{
	struct dpn_dataplane *dp = dpn_runtime_get()->dp;
	unsigned int i;

	if (port >= 0 && !ctl_port_valid(port))
		return -EINVAL;
	for (i = 0; i < dp->nb_ports; i++) {
		const struct dpn_port *p = &dp->ports[i];

		if (port >= 0 && (unsigned int)port != i)
			continue;
		if (clear_one(p) != 0) {
			ctl_fail("out of memory");
			return -ENOMEM;
		}
		fprintf(f, "port %u (%s): counters cleared\n", p->port_id,
			p->name);
	}
	return 0;
}
