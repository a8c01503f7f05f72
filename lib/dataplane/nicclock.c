/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NIC clocks: where a port stamps received packets, the stamps are in the
 * NIC's own clock. Where the PMD can read that clock (rte_eth_read_clock:
 * mlx5, cnxk in DPDK 22.11), the management lcore reads it beside the
 * TSC, converts the TSC reading to UTC with the server clock's model,
 * and tracks NIC ticks -> UTC with the same tracker the references use.
 * Where it cannot (ice, iavf, net_pcap), the workers leave, per burst,
 * the latest stamp and the TSC at rx_burst, and lib/nicfit fits the
 * stamps' lower envelope against the TSC. Either way the result goes
 * into the snapshot (nic[port]) the workers read, so T2 is the arrival
 * time the port saw.
 */

#include <inttypes.h>
#include <string.h>

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

const char *
dpn_rx_stamp_source_name(enum dpn_rx_stamp_source s)
{
	switch (s) {
	case DPN_RX_STAMP_NIC_READ:
		return "nic-clock";
	case DPN_RX_STAMP_NIC_FIT:
		return "nic-fit";
	default:
		return "tsc";
	}
}

void
dpn_rx_stamp_info_get(const struct dpn_dataplane *dp, unsigned int pi,
		      struct dpn_rx_stamp_info *out)
{
	const struct dpn_port *p = &dp->ports[pi];
	struct dpn_nicfit_info fi;
	unsigned int wi;

	memset(out, 0, sizeof(*out));
	out->source = p->rx_stamp_source;
	for (wi = 0; wi < dp->nb_workers; wi++) {
		out->nb_nic += dp->workers[wi]->rxq[pi].rx_stamp_nic;
		out->nb_tsc += dp->workers[wi]->rxq[pi].rx_stamp_tsc;
	}
	if (p->rx_stamp_source == DPN_RX_STAMP_NIC_READ) {
		out->hz = 1e9 / p->nic_clock.tracker.ns_per_tick;
		out->residual_ns = p->nic_clock.tracker.jitter_ns;
	} else if (p->fit.pairs != 0) {
		dpn_nicfit_info(&p->fit, &fi);
		out->hz = fi.hz;
		out->residual_ns = fi.residual_ns;
		out->delay_ns = fi.delay_ns;
		out->restarts = fi.restarts;
	}
}

/* Take what the workers' stamp logs of port @p pi hold that is new. */
static unsigned int
stamps_drain(struct dpn_dataplane *dp, unsigned int pi,
	     const struct dpn_clock_model *tsc_model, struct dpn_nicfit *fit)
{
	unsigned int wi, n = 0;

	for (wi = 0; wi < dp->nb_workers; wi++) {
		struct dpn_stamp_log *log = &dp->workers[wi]->rxq[pi].stamps;
		uint64_t head = __atomic_load_n(&log->head, __ATOMIC_ACQUIRE);
		uint64_t i, from = log->read;

		/* Only what the worker cannot have overwritten yet. */
		if (head - from > DPN_STAMP_LOG_SIZE / 2)
			from = head - DPN_STAMP_LOG_SIZE / 2;
		for (i = from; i < head; i++) {
			uint64_t stamp = log->pair[i % DPN_STAMP_LOG_SIZE].stamp;
			uint64_t tsc = log->pair[i % DPN_STAMP_LOG_SIZE].tsc;

			/* Overwritten while copied: skip it. */
			if (__atomic_load_n(&log->head, __ATOMIC_ACQUIRE) - i >=
			    DPN_STAMP_LOG_SIZE)
				continue;
			if (fit != NULL)
				dpn_nicfit_add(fit, stamp,
					       dpn_clock_model_ns(tsc_model,
								  tsc));
			n++;
		}
		log->read = head;
	}
	return n;
}

/*
 * One port: the NIC clock read beside the TSC where it can be, else the
 * stamps fitted. Writes the port's model into @p out when it changed.
 */
static void
nic_clock_poll_port(struct dpn_dataplane *dp, unsigned int pi,
		    const struct dpn_clock_snapshot *s,
		    struct dpn_clock_model *out)
{
	struct dpn_port *p = &dp->ports[pi];
	enum dpn_rx_stamp_source was = p->rx_stamp_source;
	unsigned int n;

	if (p->nic_readable) {
		stamps_drain(dp, pi, &s->tsc, NULL);
		if (dpn_nic_clock_update(&p->nic_clock, p->port_id, &s->tsc,
					 out) == 0) {
			if (out->mult != 0)
				p->rx_stamp_source = DPN_RX_STAMP_NIC_READ;
			return;
		}
		DP_LOG(WARNING, "port %u (%s): cannot read the NIC clock; its stamps will be fitted to the TSC",
		       p->port_id, p->name);
		p->nic_readable = false;
		out->mult = 0;
		dpn_nicfit_init(&p->fit, NULL, p->stamp_hz);
	}
	n = stamps_drain(dp, pi, &s->tsc, &p->fit);
	if (n != 0 && p->fit.pairs == n)
		DP_LOG(INFO, "port %u (%s): the PMD stamps received packets; fitting its clock to the TSC",
		       p->port_id, p->name);
	if (!dpn_nicfit_update(&p->fit, out))
		return;
	p->rx_stamp_source = out->mult != 0 ? DPN_RX_STAMP_NIC_FIT :
		DPN_RX_STAMP_TSC;
	if (p->rx_stamp_source != was) {
		struct dpn_nicfit_info fi;

		dpn_nicfit_info(&p->fit, &fi);
		if (out->mult != 0)
			DP_LOG(INFO, "port %u (%s): receive times from the NIC's stamps (%.0f Hz, fitted: residual %.0f ns)",
			       p->port_id, p->name, fi.hz, fi.residual_ns);
		else
			DP_LOG(WARNING, "port %u (%s): NIC stamp fit lost (restarts %" PRIu64 "); receive times from the TSC meanwhile",
			       p->port_id, p->name, fi.restarts);
	}
}

unsigned int
dpn_nic_clock_poll(struct dpn_dataplane *dp)
{
	struct dpn_clock_snapshot s;
	struct dpn_clock_model m[DPN_MAX_PORTS];
	unsigned int i, n = 0;
	bool changed = false;

	dpn_clock_read(dp->clock, &s);
	for (i = 0; i < dp->nb_ports; i++) {
		m[i] = s.nic[i];
		nic_clock_poll_port(dp, i, &s, &m[i]);
		n += dp->ports[i].rx_stamp_source != DPN_RX_STAMP_TSC;
		changed |= memcmp(&m[i], &s.nic[i], sizeof(m[i])) != 0;
	}
	if (!changed)
		return n;
	/* Read again: nothing else publishes on this lcore, but keep the
	 * other fields exactly as they are now. */
	dpn_clock_read(dp->clock, &s);
	for (i = 0; i < dp->nb_ports; i++)
		s.nic[i] = m[i];
	dpn_clock_publish(dp->clock, &s);
	return n;
}
