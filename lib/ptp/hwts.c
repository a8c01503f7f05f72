/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IEEE 1588 stamps that a NIC latches in registers for PTP event frames
 * only (ixgbe, i40e, igb: rte_eth_timesync_*), on the served clock.
 *
 * Those NICs stamp no other frame, so the workers' fitted port clock
 * (lib/nicfit) never learns theirs. Instead the management lcore reads
 * the NIC's clock (read_time) about once a second between two readings
 * of the served clock, keeps the tightest of a few tries, and maps a
 * stamp through the newest such pair and the rate between the NIC clock
 * and the served clock measured over RATE_SPAN_NS. A stamp read for a
 * frame is checked against the software receive or transmit time of
 * the same frame by the caller: the registers hold one stamp each, and
 * a stamp latched for another event frame must not become ours.
 *
 * The device is reached only through struct dpn_ptp_hwts_ops, so that
 * unit tests can stand in for a NIC.
 */

#include <errno.h>
#include <string.h>

#include "dpn_ptp.h"

#define SEC_NS INT64_C(1000000000)
/* The rate is measured between pairs at least this far apart. */
#define RATE_SPAN_NS (16 * SEC_NS)
/* Reads of the NIC clock per calibration; the tightest is kept. */
#define CAL_TRIES 4
/* A pair this far from where the model put it: the NIC clock was set
 * (by someone else) or the served clock stepped; start over from it. */
#define CAL_JUMP_NS (SEC_NS / 1000)

static int64_t
ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * SEC_NS + ts->tv_nsec;
}

int
dpn_ptp_hwts_open(struct dpn_ptp_hwts *h, const struct dpn_ptp_hwts_ops *ops,
		  uint16_t port_id)
{
	struct timespec ts;
	int ret;

	memset(h, 0, sizeof(*h));
	h->ops = ops;
	h->port_id = port_id;
	ret = ops->enable(port_id);
	if (ret != 0)
		return ret < 0 ? ret : -EIO;
	/* Enabled but unreadable: no use (and a model we could not keep). */
	ret = ops->read_time(port_id, &ts);
	if (ret != 0)
		return ret < 0 ? ret : -EIO;
	h->on = true;
	h->rate = 1.0;
	return 0;
}

/* Where the model puts NIC time @p nic on the served clock. */
static int64_t
to_served(const struct dpn_ptp_hwts *h, int64_t nic)
{
	return h->served_ns + (int64_t)((double)(nic - h->nic_ns) / h->rate);
}

int
dpn_ptp_hwts_calibrate(struct dpn_ptp_hwts *h, int64_t (*now)(void *),
		       void *arg)
{
	int64_t best_win = INT64_MAX, best_nic = 0, best_served = 0;
	unsigned int i;

	if (!h->on)
		return -ENODEV;
	for (i = 0; i < CAL_TRIES; i++) {
		struct timespec ts;
		int64_t a, b;

		a = now(arg);
		if (h->ops->read_time(h->port_id, &ts) != 0)
			continue;
		b = now(arg);
		if (b - a < best_win) {
			best_win = b - a;
			best_nic = ts_ns(&ts);
			best_served = a + (b - a) / 2;
		}
	}
	if (best_win == INT64_MAX) {
		h->read_failures++;
		return -EIO;
	}
	if (h->nb_pairs > 0) {
		int64_t miss = to_served(h, best_nic) - best_served;

		/* A step does not change the rate: keep it. */
		if (miss > CAL_JUMP_NS || miss < -CAL_JUMP_NS) {
			h->restarts++;
			h->nb_pairs = 0;
		}
	}
	if (h->nb_pairs == 0) {
		h->anchor_nic_ns = best_nic;
		h->anchor_served_ns = best_served;
	} else if (best_served - h->anchor_served_ns >= RATE_SPAN_NS) {
		h->rate = (double)(best_nic - h->anchor_nic_ns) /
			  (double)(best_served - h->anchor_served_ns);
		h->anchor_nic_ns = best_nic;
		h->anchor_served_ns = best_served;
	}
	h->nic_ns = best_nic;
	h->served_ns = best_served;
	h->window_ns = best_win;
	h->nb_pairs++;
	return 0;
}

/*
 * A stamp the NIC latched (read with @p ret from the ops), mapped, if it
 * can be that of the frame whose software time is @p sw: the wire time
 * precedes the software one by less than DPN_PTP_HWTS_BEFORE_NS and
 * follows it by less than DPN_PTP_HWTS_AFTER_NS (what the two clocks
 * may disagree by). Else the register held another event frame's
 * stamp (it holds one, until read): -ERANGE, counted.
 */
static int
stamp_done(struct dpn_ptp_hwts *h, int ret, const struct timespec *ts,
	   int64_t sw, int64_t *served)
{
	int64_t t;

	if (ret != 0)
		return ret < 0 ? ret : -EIO;
	if (h->nb_pairs == 0)
		return -EAGAIN;
	t = to_served(h, ts_ns(ts));
	if (t > sw + DPN_PTP_HWTS_AFTER_NS || t < sw - DPN_PTP_HWTS_BEFORE_NS) {
		h->mismatches++;
		return -ERANGE;
	}
	*served = t;
	return 0;
}

int
dpn_ptp_hwts_rx(struct dpn_ptp_hwts *h, uint32_t flags, int64_t sw,
		int64_t *served)
{
	struct timespec ts;

	if (!h->on)
		return -ENODEV;
	return stamp_done(h, h->ops->read_rx(h->port_id, &ts, flags), &ts, sw,
			  served);
}

int
dpn_ptp_hwts_tx(struct dpn_ptp_hwts *h, int64_t sw, int64_t *served)
{
	struct timespec ts;

	if (!h->on)
		return -ENODEV;
	return stamp_done(h, h->ops->read_tx(h->port_id, &ts), &ts, sw,
			  served);
}

enum dpn_ptp_hwts_tx_result
dpn_ptp_hwts_tx_time(struct dpn_ptp_hwts *h, int64_t sw, int64_t waited_ns,
		     int64_t *t3)
{
	int ret;

	*t3 = sw;
	if (!h->on)
		return DPN_PTP_HWTS_TX_SW;
	ret = dpn_ptp_hwts_tx(h, sw, t3);
	if (ret == 0)
		return DPN_PTP_HWTS_TX_NIC;
	*t3 = sw;
	/* Another frame's stamp will not turn into ours by waiting. */
	if (ret != -ERANGE && waited_ns <= DPN_PTP_HWTS_TX_WAIT_NS)
		return DPN_PTP_HWTS_TX_WAIT;
	return DPN_PTP_HWTS_TX_SW;
}
