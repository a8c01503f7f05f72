/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Foreign masters and the best master clock algorithm of a slave-only
 * ordinary clock: records kept from Announces (9.5.3), the dataset
 * comparison (9.3.4) and the announce receipt timeout (9.2.6.11).
 * A slave-only port never becomes master, so the state decision of
 * 9.3.3 reduces to "follow the best qualified master, if any".
 */

#include <string.h>

#include "ptp_private.h"

/* Longest announceReceiptTimeout taken (a UInteger8 in the portDS). */
#define PTP_MAX_ANNOUNCE_TIMEOUT 255u

static int
cmp_uint(unsigned int a, unsigned int b)
{
	return (a > b) - (a < b);
}

static int
cmp_port(const struct dpn_ptp_port_identity *a,
	 const struct dpn_ptp_port_identity *b)
{
	int d = memcmp(a->clock_id, b->clock_id, sizeof(a->clock_id));

	if (d != 0)
		return d < 0 ? -1 : 1;
	return cmp_uint(a->port_number, b->port_number);
}

int
dpn_ptp_master_cmp(const struct dpn_ptp_master *a,
		   const struct dpn_ptp_master *b)
{
	int d = memcmp(a->gm_id, b->gm_id, sizeof(a->gm_id));

	/* Figure 27: different grandmasters, their qualities in order,
	 * lower wins each, the identity last. */
	if (d != 0) {
		if ((d = cmp_uint(a->priority1, b->priority1)) != 0 ||
		    (d = cmp_uint(a->clock_class, b->clock_class)) != 0 ||
		    (d = cmp_uint(a->clock_accuracy, b->clock_accuracy)) != 0 ||
		    (d = cmp_uint(a->variance, b->variance)) != 0 ||
		    (d = cmp_uint(a->priority2, b->priority2)) != 0)
			return d;
		return memcmp(a->gm_id, b->gm_id, sizeof(a->gm_id)) < 0 ?
		       -1 : 1;
	}
	/*
	 * Figure 28: the same grandmaster through two ports. More than
	 * one step apart the nearer is "better"; within one step it is
	 * "better by topology", which only matters to a port that could
	 * become master. Either way the nearer one is followed. Equal
	 * steps fall to the sender identities; the receiver's port
	 * number, the last tie-break, is ours for both.
	 */
	if (a->steps_removed != b->steps_removed)
		return cmp_uint(a->steps_removed, b->steps_removed);
	return cmp_port(&a->port, &b->port);
}

static int
find_record(const struct dpn_ptp_slave *s,
	    const struct dpn_ptp_port_identity *id)
{
	int i;

	for (i = 0; i < DPN_PTP_MAX_FOREIGN; i++)
		if (s->foreign[i].in_use &&
		    ptp_port_id_eq(&s->foreign[i].port, id))
			return i;
	return -1;
}

/*
 * A record for a new master: a free one, else the longest silent
 * unqualified one, else the longest silent qualified one. Never the
 * selected master's, so a burst of strangers cannot take it away, and
 * qualified backups go last.
 */
static int
new_record(const struct dpn_ptp_slave *s)
{
	const struct dpn_ptp_master *f = s->foreign;
	int i, victim = -1;

	for (i = 0; i < DPN_PTP_MAX_FOREIGN; i++) {
		if (!f[i].in_use)
			return i;
		if (i == s->selected)
			continue;
		if (victim < 0 ||
		    (f[victim].qualified && !f[i].qualified) ||
		    (f[victim].qualified == f[i].qualified &&
		     f[i].last_announce_ns < f[victim].last_announce_ns))
			victim = i;
	}
	return victim;
}

/* Follow the best qualified master; tell ptp.c when that changes. */
static void
select_master(struct dpn_ptp_slave *s)
{
	int i, best = -1;

	for (i = 0; i < DPN_PTP_MAX_FOREIGN; i++) {
		if (!s->foreign[i].in_use || !s->foreign[i].qualified)
			continue;
		if (best < 0 ||
		    dpn_ptp_master_cmp(&s->foreign[i], &s->foreign[best]) < 0)
			best = i;
	}
	if (best != s->selected)
		ptp_master_selected(s, best);
}

/* The Announce body (13.5) into the record's dataset. */
static void
read_dataset(struct dpn_ptp_master *m, const struct ptp_hdr *h,
	     const uint8_t *p)
{
	m->utc_offset = (int16_t)ptp_get16(p + PTP_ANN_UTC_OFFSET);
	m->priority1 = p[PTP_ANN_PRIORITY1];
	m->clock_class = p[PTP_ANN_CLOCK_CLASS];
	m->clock_accuracy = p[PTP_ANN_CLOCK_ACCURACY];
	m->variance = ptp_get16(p + PTP_ANN_VARIANCE);
	m->priority2 = p[PTP_ANN_PRIORITY2];
	memcpy(m->gm_id, p + PTP_ANN_GM_ID, sizeof(m->gm_id));
	m->steps_removed = ptp_get16(p + PTP_ANN_STEPS);
	m->time_source = p[PTP_ANN_TIME_SOURCE];
	m->leap61 = h->flags7 & PTP_FLAG7_LEAP61;
	m->leap59 = h->flags7 & PTP_FLAG7_LEAP59;
	m->utc_offset_valid = h->flags7 & PTP_FLAG7_UTC_VALID;
	m->ptp_timescale = h->flags7 & PTP_FLAG7_PTP_TIMESCALE;
	m->time_traceable = h->flags7 & PTP_FLAG7_TIME_TRACEABLE;
	m->freq_traceable = h->flags7 & PTP_FLAG7_FREQ_TRACEABLE;
	m->log_announce_interval = h->log_interval;
}

/*
 * Qualification (9.5.3): a second Announce, not a repeat of the last
 * one, within FOREIGN_MASTER_TIME_WINDOW announce intervals of it.
 * Once qualified a record stays so until its announce receipt timeout
 * (ptp_bmc_expire), so that a timeout longer than the window does not
 * drop a master early.
 */
static void
qualify(struct dpn_ptp_master *m, const struct ptp_hdr *h, int64_t rx_ns)
{
	int64_t window = DPN_PTP_FOREIGN_WINDOW *
			 ptp_interval_ns(h->log_interval);

	if (m->qualified || h->seq == m->last_announce_seq)
		return;
	if (rx_ns <= ptp_sat_add(m->last_announce_ns, window))
		m->qualified = true;
}

enum dpn_ptp_rx_result
ptp_bmc_announce(struct dpn_ptp_slave *s, const struct ptp_hdr *h,
		 const uint8_t *p, int64_t rx_ns)
{
	struct dpn_ptp_master *m;
	int i;

	s->cnt.rx_announce++;
	/* 9.3.2.5 d): too many hops to be qualified. */
	if (ptp_get16(p + PTP_ANN_STEPS) >= PTP_MAX_STEPS_REMOVED)
		return DPN_PTP_RX_IGNORED;
	i = find_record(s, &h->src);
	if (i < 0) {
		i = new_record(s);
		m = &s->foreign[i];
		memset(m, 0, sizeof(*m));
		m->in_use = true;
		m->port = h->src;
	} else {
		m = &s->foreign[i];
		qualify(m, h, rx_ns);
	}
	read_dataset(m, h, p);
	m->last_announce_seq = h->seq;
	m->last_announce_ns = rx_ns;
	select_master(s);
	return DPN_PTP_RX_OK;
}

/* How long a record lives without an Announce. */
static int64_t
record_lifetime(const struct dpn_ptp_slave *s, const struct dpn_ptp_master *m)
{
	unsigned int n = s->params.announce_timeout;

	if (n > PTP_MAX_ANNOUNCE_TIMEOUT)
		n = PTP_MAX_ANNOUNCE_TIMEOUT;
	/* An unqualified record waits out the qualification window,
	 * whatever the timeout: its second Announce may still come. */
	if (!m->qualified && n < DPN_PTP_FOREIGN_WINDOW)
		n = DPN_PTP_FOREIGN_WINDOW;
	return (int64_t)n * ptp_interval_ns(m->log_announce_interval);
}

void
ptp_bmc_expire(struct dpn_ptp_slave *s, int64_t now_ns)
{
	struct dpn_ptp_master *m;
	bool changed = false;
	int i;

	for (i = 0; i < DPN_PTP_MAX_FOREIGN; i++) {
		m = &s->foreign[i];
		if (!m->in_use || now_ns < ptp_sat_add(m->last_announce_ns,
						       record_lifetime(s, m)))
			continue;
		if (i == s->selected)
			s->cnt.announce_timeouts++;
		m->in_use = false;
		changed = true;
	}
	if (changed)
		select_master(s);
}
