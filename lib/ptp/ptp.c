/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slave port: message dispatch, Sync and Follow_Up (11.3, one-step
 * and two-step), offset samples and the port state. Announces go to
 * bmc.c, Delay_Req and Delay_Resp to delay.c.
 */

#include <string.h>

#include "ptp_private.h"

void
dpn_ptp_params_init(struct dpn_ptp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->port_number = 1;
	p->announce_timeout = 3;
	/* linuxptp's delay_filter_length */
	p->delay_filter_len = 10;
}

void
dpn_ptp_slave_init(struct dpn_ptp_slave *s, const struct dpn_ptp_params *p,
		   int64_t now_ns)
{
	memset(s, 0, sizeof(*s));
	s->params = *p;
	if (s->params.announce_timeout == 0)
		s->params.announce_timeout = 1;
	if (s->params.delay_filter_len == 0)
		s->params.delay_filter_len = 1;
	if (s->params.delay_filter_len > DPN_PTP_MAX_DELAY_FILTER)
		s->params.delay_filter_len = DPN_PTP_MAX_DELAY_FILTER;
	memcpy(s->self.clock_id, p->clock_id, sizeof(s->self.clock_id));
	s->self.port_number = p->port_number;
	s->selected = -1;
	s->state = DPN_PTP_ST_LISTENING;
}

/*
 * A new master (or none): whatever was measured against the old one
 * says nothing of the new one, so the measurement starts again.
 */
void
ptp_master_selected(struct dpn_ptp_slave *s, int idx)
{
	s->selected = idx;
	memset(&s->sync, 0, sizeof(s->sync));
	s->xchg_valid = false;
	ptp_delay_reset(s);
	s->samples = 0;
	s->sample_ready = false;
	if (idx < 0) {
		s->state = DPN_PTP_ST_LISTENING;
		return;
	}
	s->cnt.master_changes++;
	s->state = DPN_PTP_ST_UNCALIBRATED;
}

static struct dpn_ptp_master *
from_master(struct dpn_ptp_slave *s, const struct ptp_hdr *h)
{
	struct dpn_ptp_master *m;

	if (s->selected < 0) {
		s->cnt.rx_not_master++;
		return NULL;
	}
	m = &s->foreign[s->selected];
	if (!ptp_port_id_eq(&m->port, &h->src)) {
		s->cnt.rx_not_master++;
		return NULL;
	}
	return m;
}

static enum dpn_ptp_rx_result
bad(struct dpn_ptp_slave *s)
{
	s->cnt.rx_bad++;
	return DPN_PTP_RX_BAD;
}

/* offset = (t1 + delay) - t2, with t1 moved to UTC when the master
 * runs the PTP timescale (TAI); false where int64 cannot hold it. */
static bool
offset_of(const struct dpn_ptp_slave *s, const struct dpn_ptp_master *m,
	  int64_t *offset)
{
	int64_t utc = m->ptp_timescale ?
		      (int64_t)m->utc_offset * PTP_NS_PER_SEC : 0;
	int64_t t;

	return !__builtin_sub_overflow(s->t1, utc, &t) &&
	       !__builtin_add_overflow(t, s->delay_ns, &t) &&
	       !__builtin_sub_overflow(t, s->t2, offset);
}

/* A complete Sync exchange: an offset once the path delay is known. */
static enum dpn_ptp_rx_result
exchange_done(struct dpn_ptp_slave *s, int64_t t1, int64_t t2)
{
	const struct dpn_ptp_master *m = &s->foreign[s->selected];
	int64_t offset;

	s->xchg_valid = true;
	s->t1 = t1;
	s->t2 = t2;
	if (!s->delay_valid || !offset_of(s, m, &offset))
		return DPN_PTP_RX_OK;
	s->offset_ns = offset;
	if (s->samples < DPN_PTP_CALIBRATE_SAMPLES)
		s->samples++;
	if (s->samples >= DPN_PTP_CALIBRATE_SAMPLES)
		s->state = DPN_PTP_ST_SLAVE;
	s->sample.offset_ns = offset;
	s->sample.delay_ns = s->delay_ns;
	s->sample.local_ns = t2;
	s->sample.leap = m->leap61 ? 1 : m->leap59 ? 2 : 0;
	s->sample_ready = true;
	return DPN_PTP_RX_SAMPLE;
}

static enum dpn_ptp_rx_result
rx_sync(struct dpn_ptp_slave *s, const struct ptp_hdr *h, const uint8_t *p,
	int64_t rx_ns)
{
	bool two_step = h->flags6 & PTP_FLAG6_TWO_STEP;
	struct dpn_ptp_master *m;
	int64_t origin, t1 = 0;

	/* A two-step Sync's originTimestamp is only an estimate: unused,
	 * so not judged. */
	if (!two_step && (ptp_get_ts(p + PTP_BODY_TS, &origin) < 0 ||
			  __builtin_add_overflow(origin, h->corr_ns, &t1)))
		return bad(s);
	s->cnt.rx_sync++;
	m = from_master(s, h);
	if (m == NULL)
		return DPN_PTP_RX_IGNORED;
	m->log_sync_interval = h->log_interval;
	/* The newest Sync replaces any whose Follow_Up never came. */
	s->sync.seen = true;
	s->sync.wait_follow_up = two_step;
	s->sync.seq = h->seq;
	s->sync.t2 = rx_ns;
	s->sync.corr_ns = h->corr_ns;
	if (two_step)
		return DPN_PTP_RX_OK;
	return exchange_done(s, t1, rx_ns);
}

static enum dpn_ptp_rx_result
rx_follow_up(struct dpn_ptp_slave *s, const struct ptp_hdr *h,
	     const uint8_t *p)
{
	int64_t origin, t1;

	if (ptp_get_ts(p + PTP_BODY_TS, &origin) < 0)
		return bad(s);
	s->cnt.rx_follow_up++;
	if (from_master(s, h) == NULL)
		return DPN_PTP_RX_IGNORED;
	/* Only for the latest Sync; one that came first, or for an
	 * older Sync, has nothing to complete. */
	if (!s->sync.wait_follow_up || h->seq != s->sync.seq) {
		s->cnt.rx_unmatched++;
		return DPN_PTP_RX_IGNORED;
	}
	/* 11.3.2: both corrections, the Sync's residence times and any
	 * the master or transparent clocks put in the Follow_Up. */
	if (__builtin_add_overflow(origin, s->sync.corr_ns, &t1) ||
	    __builtin_add_overflow(t1, h->corr_ns, &t1))
		return bad(s);
	s->sync.wait_follow_up = false;
	return exchange_done(s, t1, s->sync.t2);
}

enum dpn_ptp_rx_result
dpn_ptp_slave_rx(struct dpn_ptp_slave *s, const void *msg, size_t len,
		 int64_t rx_ns)
{
	const uint8_t *p = msg;
	struct ptp_hdr h;

	if (ptp_parse_hdr(p, len, &h) < 0)
		return bad(s);
	if (h.domain != s->params.domain) {
		s->cnt.rx_other_domain++;
		return DPN_PTP_RX_IGNORED;
	}
	/* Our own Delay_Req looped back by a switch or the stack. */
	if (memcmp(h.src.clock_id, s->self.clock_id,
		   sizeof(h.src.clock_id)) == 0)
		return DPN_PTP_RX_IGNORED;
	switch (h.type) {
	case DPN_PTP_SYNC:
		return rx_sync(s, &h, p, rx_ns);
	case DPN_PTP_FOLLOW_UP:
		return rx_follow_up(s, &h, p);
	case DPN_PTP_DELAY_RESP:
		return ptp_delay_resp(s, &h, p);
	case DPN_PTP_ANNOUNCE:
		return ptp_bmc_announce(s, &h, p, rx_ns);
	default:
		/* Other slaves' Delay_Req, peer delay, signalling and
		 * management: nothing a slave-only E2E port answers. */
		return DPN_PTP_RX_IGNORED;
	}
}

size_t
dpn_ptp_slave_poll(struct dpn_ptp_slave *s, int64_t now_ns, void *buf,
		   size_t len, uint16_t *seq)
{
	ptp_bmc_expire(s, now_ns);
	return ptp_delay_req_poll(s, now_ns, buf, len, seq);
}

void
dpn_ptp_slave_clock_step(struct dpn_ptp_slave *s, int64_t delta_ns)
{
	int i;

	for (i = 0; i < DPN_PTP_MAX_FOREIGN; i++)
		s->foreign[i].last_announce_ns =
			ptp_sat_add(s->foreign[i].last_announce_ns, delta_ns);
	s->sync.t2 = ptp_sat_add(s->sync.t2, delta_ns);
	s->t2 = ptp_sat_add(s->t2, delta_ns);
	s->req.next_ns = ptp_sat_add(s->req.next_ns, delta_ns);
	s->req.t3 = ptp_sat_add(s->req.t3, delta_ns);
	s->req.t2 = ptp_sat_add(s->req.t2, delta_ns);
}

int
dpn_ptp_slave_sample(struct dpn_ptp_slave *s, struct dpn_ptp_sample *out)
{
	if (!s->sample_ready)
		return 0;
	*out = s->sample;
	s->sample_ready = false;
	return 1;
}

enum dpn_ptp_state
dpn_ptp_slave_state(const struct dpn_ptp_slave *s)
{
	return s->state;
}

const struct dpn_ptp_master *
dpn_ptp_slave_master(const struct dpn_ptp_slave *s)
{
	if (s->selected < 0)
		return NULL;
	return &s->foreign[s->selected];
}
