/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port counters beyond rte_eth_stats: the driver's extended statistics
 * (xstats) and clearing both. Read from a control thread while the
 * workers run; the drivers allow that for stats (as testpmd does).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_ethdev.h>

#include "dpn_ctl.h"
#include "ctl_private.h"

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
	struct dpn_dataplane *dp = dpn_ctl_ctx_get()->dp;
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

int
dpn_ctl_clear_port_stats(FILE *f, int port)
{
	struct dpn_dataplane *dp = dpn_ctl_ctx_get()->dp;
	unsigned int i;

	if (port >= 0 && !ctl_port_valid(port))
		return -EINVAL;
	for (i = 0; i < dp->nb_ports; i++) {
		const struct dpn_port *p = &dp->ports[i];
		int ret;

		if (port >= 0 && (unsigned int)port != i)
			continue;
		ret = rte_eth_stats_reset(p->port_id);
		/* Not every driver has xstats to reset. */
		rte_eth_xstats_reset(p->port_id);
		if (ret != 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "port %u (%s): cannot clear "
				 "its counters: %s", p->port_id, p->name,
				 rte_strerror(-ret));
			ctl_fail(msg);
			return ret;
		}
		fprintf(f, "port %u (%s): counters cleared\n", p->port_id,
			p->name);
	}
	return 0;
}
