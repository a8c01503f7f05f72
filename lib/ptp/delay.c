/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delay request-response mechanism (11.3): when to send Delay_Req,
 * matching its Delay_Resp, the mean path delay and its median filter.
 */

#include <string.h>

#include "ptp_private.h"

/* Forget the path: a new master is a new path. The sequenceId goes on,
 * so that a late answer to an old request cannot match a new one. */
void
ptp_delay_reset(struct dpn_ptp_slave *s)
{
	uint16_t next_seq = s->req.next_seq;

	memset(&s->req, 0, sizeof(s->req));
	s->req.next_seq = next_seq;
	memset(&s->filter, 0, sizeof(s->filter));
	s->delay_valid = false;
	s->delay_ns = 0;
}

/*
 * 9.5.11.2: uniformly in [0, 2^(logMinDelayReqInterval+1)) s, so that
 * slaves started together do not stay in step; exactly the mean
 * without random numbers.
 */
static int64_t
req_interval(const struct dpn_ptp_slave *s)
{
	int64_t mean = ptp_interval_ns(s->req.log_interval);

	if (s->params.rand_fn == NULL)
		return mean;
	return (int64_t)(s->params.rand_fn(s->params.rand_arg) %
			 (uint64_t)(2 * mean));
}

size_t
ptp_delay_req_poll(struct dpn_ptp_slave *s, int64_t now_ns, void *buf,
		   size_t len, uint16_t *seq)
{
	int64_t longest = 2 * ptp_interval_ns(s->req.log_interval);

	/* Only with a master that is sending: its Sync gives the t1/t2
	 * the delay is computed with. */
	if (s->selected < 0 || !s->sync.seen)
		return 0;
	/* The first request goes at once; one due further off than any
	 * interval means our clock went back: send now, not in years. */
	if (!s->req.armed || s->req.next_ns > ptp_sat_add(now_ns, longest)) {
		s->req.armed = true;
		s->req.next_ns = now_ns;
	}
	if (now_ns < s->req.next_ns || buf == NULL ||
	    len < DPN_PTP_DELAY_REQ_LEN)
		return 0;
	if (s->req.outstanding)
		s->cnt.delay_resp_missing++;
	ptp_build_delay_req(buf, s, s->req.next_seq);
	s->req.outstanding = true;
	s->req.stamped = false;
	s->req.have_xchg = false;
	s->req.seq = s->req.next_seq++;
	if (seq != NULL)
		*seq = s->req.seq;
	/* From now, not from the due time: after a long pause (a slow
	 * caller) one request, not a burst of catch-up ones. */
	s->req.next_ns = ptp_sat_add(now_ns, req_interval(s));
	s->cnt.tx_delay_req++;
	return DPN_PTP_DELAY_REQ_LEN;
}

void
dpn_ptp_slave_tx_stamp(struct dpn_ptp_slave *s, uint16_t seq, int64_t tx_ns)
{
	if (!s->req.outstanding || s->req.stamped || seq != s->req.seq)
		return;
	s->req.stamped = true;
	s->req.t3 = tx_ns;
	/* The latest complete Sync exchange before t3 is the one the
	 * delay pairs with: its t2 is nearest in time to t3. */
	s->req.have_xchg = s->xchg_valid;
	s->req.t1 = s->t1;
	s->req.t2 = s->t2;
}

static int64_t
median(const struct dpn_ptp_slave *s)
{
	int64_t v[DPN_PTP_MAX_DELAY_FILTER], x;
	unsigned int n = s->filter.count, i, j;

	memcpy(v, s->filter.ring, n * sizeof(v[0]));
	/* At most 32 values, nearly sorted from the last call. */
	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Is @delay far above the filtered delay? Only with a full window,
 * whose median a few early outliers cannot have made. */
static bool
too_long(const struct dpn_ptp_slave *s, int64_t delay)
{
	unsigned int len = s->params.delay_filter_len;

	return len > 1 && s->filter.count == len &&
	       delay > DPN_PTP_OUTLIER_FACTOR * s->delay_ns +
		       DPN_PTP_OUTLIER_SLACK_NS;
}

static void
filter_add(struct dpn_ptp_slave *s, int64_t delay)
{
	unsigned int len = s->params.delay_filter_len;

	if (delay < 0 || delay > DPN_PTP_MAX_DELAY_NS) {
		s->cnt.delay_outliers++;
		return;
	}
	if (too_long(s, delay)) {
		if (s->filter.refused < DPN_PTP_OUTLIER_RESET) {
			s->filter.refused++;
			s->cnt.delay_outliers++;
			return;
		}
		/* The path itself changed: measure it afresh. */
		s->filter.count = 0;
		s->filter.head = 0;
	}
	s->filter.refused = 0;
	s->filter.ring[s->filter.head] = delay;
	s->filter.head = (s->filter.head + 1) % len;
	if (s->filter.count < len)
		s->filter.count++;
	s->delay_ns = median(s);
	s->delay_valid = true;
}

/* ((t2 - t1) + (t4 - t3)) / 2, false where int64 cannot hold it. */
static bool
path_delay(int64_t t1, int64_t t2, int64_t t3, int64_t t4, int64_t *delay)
{
	int64_t ms, sm, sum;

	if (__builtin_sub_overflow(t2, t1, &ms) ||
	    __builtin_sub_overflow(t4, t3, &sm) ||
	    __builtin_add_overflow(ms, sm, &sum))
		return false;
	*delay = sum / 2;
	return true;
}

enum dpn_ptp_rx_result
ptp_delay_resp(struct dpn_ptp_slave *s, const struct ptp_hdr *h,
	       const uint8_t *p)
{
	struct dpn_ptp_port_identity req;
	int64_t rts, t1, t2, t4, delay;

	if (ptp_get_ts(p + PTP_BODY_TS, &rts) < 0) {
		s->cnt.rx_bad++;
		return DPN_PTP_RX_BAD;
	}
	s->cnt.rx_delay_resp++;
	if (s->selected < 0 ||
	    !ptp_port_id_eq(&s->foreign[s->selected].port, &h->src)) {
		s->cnt.rx_not_master++;
		return DPN_PTP_RX_IGNORED;
	}
	/* Delay_Resp goes to every slave on multicast: most are not
	 * ours, and a late one for an earlier request is not either. */
	ptp_get_port_id(p + PTP_RESP_REQ_PORT, &req);
	if (!ptp_port_id_eq(&req, &s->self) || !s->req.outstanding ||
	    !s->req.stamped || h->seq != s->req.seq) {
		s->cnt.rx_unmatched++;
		return DPN_PTP_RX_IGNORED;
	}
	s->req.outstanding = false;
	s->req.log_interval = ptp_clamp_log(h->log_interval);
	if (s->req.have_xchg) {
		t1 = s->req.t1;
		t2 = s->req.t2;
	} else if (s->xchg_valid) {
		/* The first Follow_Up came after t3: pair with it. */
		t1 = s->t1;
		t2 = s->t2;
	} else {
		return DPN_PTP_RX_OK;
	}
	/* t4 as 11.3.2 has it: the correction holds the residence time
	 * of transparent clocks on the way to the master. */
	if (__builtin_sub_overflow(rts, h->corr_ns, &t4) ||
	    !path_delay(t1, t2, s->req.t3, t4, &delay)) {
		s->cnt.delay_outliers++;
		return DPN_PTP_RX_OK;
	}
	filter_add(s, delay);
	return DPN_PTP_RX_OK;
}
