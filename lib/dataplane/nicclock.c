/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NIC clocks: where a port stamps received packets, the stamps are in the
 * NIC's own clock. The management lcore reads that clock beside the TSC,
 * converts the TSC reading to UTC with the server clock's model, and
 * tracks NIC ticks -> UTC with the same tracker the references use. The
 * result goes into the snapshot (nic[port]) the workers read, so T2 is
 * the hardware arrival time.
 */

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dpn_dataplane.h"
#include "dp_log.h"

/* Read the NIC clock between two TSC reads; false if it cannot. */
static bool
nic_sample(uint16_t port_id, uint64_t *nic, uint64_t *tsc)
{
	uint64_t t0, t1;

	t0 = rte_rdtsc_precise();
	if (rte_eth_read_clock(port_id, nic) != 0)
		return false;
	t1 = rte_rdtsc_precise();
	*tsc = t0 + (t1 - t0) / 2;
	return true;
}

int
dpn_nic_clock_update(struct dpn_nic_clock *nc, uint16_t port_id,
		     const struct dpn_clock_model *tsc_model,
		     struct dpn_clock_model *out)
{
	uint64_t nic, tsc;
	int64_t utc;

	if (!nic_sample(port_id, &nic, &tsc))
		return -1;
	utc = dpn_clock_model_ns(tsc_model, tsc);
	if (nc->nb_samples++ == 0) {
		nc->first_nic = nic;
		nc->first_utc = utc;
		return 0;
	}
	if (nc->nb_samples == 2) {
		/* The NIC clock's rate, from two readings a poll apart. */
		double hz = (double)(nic - nc->first_nic) * 1e9 /
			(double)(utc - nc->first_utc);

		if (utc <= nc->first_utc || hz < 1e3) {
			nc->nb_samples = 0;
			return 0;
		}
		dpn_clock_tracker_init(&nc->tracker, (uint64_t)hz);
		dpn_clock_tracker_sample(&nc->tracker, nc->first_nic,
					 nc->first_utc);
		DP_LOG(INFO, "port %u: NIC clock runs at %.0f Hz", port_id, hz);
	}
	dpn_clock_tracker_sample(&nc->tracker, nic, utc);
	*out = nc->tracker.model;
	return 0;
}

static void
nic_clock_poll_port(struct dpn_port *p, const struct dpn_clock_snapshot *s,
		    struct dpn_clock_model *out)
{
	if (dpn_nic_clock_update(&p->nic_clock, p->port_id, &s->tsc,
				 out) != 0) {
		DP_LOG(WARNING, "port %u (%s): cannot read the NIC clock; receive times come from the TSC",
		       p->port_id, p->name);
		p->rx_timestamp = false;
		out->mult = 0;
	}
}

unsigned int
dpn_nic_clock_poll(struct dpn_dataplane *dp)
{
	struct dpn_clock_snapshot s;
	unsigned int i, n = 0;

	for (i = 0; i < dp->nb_ports; i++)
		n += dp->ports[i].rx_timestamp;
	if (n == 0)
		return 0;
	dpn_clock_read(dp->clock, &s);
	for (i = 0; i < dp->nb_ports; i++)
		if (dp->ports[i].rx_timestamp)
			nic_clock_poll_port(&dp->ports[i], &s, &s.nic[i]);
	dpn_clock_publish(dp->clock, &s);
	return n;
}
