/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PTPv2 wire format (IEEE 1588-2008 clause 13): the common header,
 * timestamps and port identities read with bounds checked by the
 * caller's messageLength, and the one message a slave sends.
 */

#include <stdio.h>
#include <string.h>

#include "ptp_private.h"

const uint8_t dpn_ptp_mcast_mac[6] = { 0x01, 0x1b, 0x19, 0x00, 0x00, 0x00 };

/* A correctionField of all ones but the sign bit says "too big to
 * carry" (13.3.2.7): the residence time is unknown. */
#define PTP_CORR_TOO_BIG INT64_MAX

bool
dpn_ptp_is_event(const void *msg, size_t len)
{
	if (msg == NULL || len < 1)
		return false;
	/* Types 0-7 are the event messages (Table 19). */
	return (((const uint8_t *)msg)[0] & 0x0f) < 0x8;
}

void
dpn_ptp_clock_id_from_mac(uint8_t clock_id[8], const uint8_t mac[6])
{
	clock_id[0] = mac[0];
	clock_id[1] = mac[1];
	clock_id[2] = mac[2];
	clock_id[3] = 0xff;
	clock_id[4] = 0xfe;
	clock_id[5] = mac[3];
	clock_id[6] = mac[4];
	clock_id[7] = mac[5];
}

const char *
dpn_ptp_port_identity_str(const struct dpn_ptp_port_identity *p, char *buf,
			  size_t len)
{
	const uint8_t *c = p->clock_id;

	if (buf == NULL || len == 0)
		return "";
	snprintf(buf, len, "%02x%02x%02x.%02x%02x.%02x%02x%02x-%u",
		 c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
		 (unsigned int)p->port_number);
	return buf;
}

const char *
dpn_ptp_state_str(enum dpn_ptp_state st)
{
	switch (st) {
	case DPN_PTP_ST_LISTENING:
		return "listening";
	case DPN_PTP_ST_UNCALIBRATED:
		return "uncalibrated";
	case DPN_PTP_ST_SLAVE:
		return "slave";
	}
	return "?";
}

/* messageLength below which a message cannot hold its body. */
static unsigned int
min_length(uint8_t type)
{
	switch (type) {
	case DPN_PTP_SYNC:
		return DPN_PTP_SYNC_LEN;
	case DPN_PTP_DELAY_REQ:
		return DPN_PTP_DELAY_REQ_LEN;
	case DPN_PTP_FOLLOW_UP:
		return DPN_PTP_FOLLOW_UP_LEN;
	case DPN_PTP_DELAY_RESP:
		return DPN_PTP_DELAY_RESP_LEN;
	case DPN_PTP_ANNOUNCE:
		return DPN_PTP_ANNOUNCE_LEN;
	default:
		return DPN_PTP_HDR_LEN;
	}
}

/*
 * Read the common header of the @len bytes at @p. 0, or -1 when the
 * message is malformed: short, not version 2, a messageLength past the
 * buffer or too short for its type, a correctionField too big.
 * Everything after this reads only within h->length.
 */
int
ptp_parse_hdr(const uint8_t *p, size_t len, struct ptp_hdr *h)
{
	int64_t corr;

	if (p == NULL || len < DPN_PTP_HDR_LEN)
		return -1;
	/* The high nibbles are transportSpecific and, in 1588-2019,
	 * minorVersionPTP: neither changes the format. */
	if ((p[1] & 0x0f) != 2)
		return -1;
	h->type = p[0] & 0x0f;
	h->length = ptp_get16(p + 2);
	if (h->length > len || h->length < min_length(h->type))
		return -1;
	h->domain = p[4];
	h->flags6 = p[6];
	h->flags7 = p[7];
	corr = (int64_t)((uint64_t)ptp_get16(p + 8) << 48 |
			 (uint64_t)ptp_get16(p + 10) << 32 |
			 (uint64_t)ptp_get16(p + 12) << 16 |
			 (uint64_t)ptp_get16(p + 14));
	if (corr == PTP_CORR_TOO_BIG)
		return -1;
	/* Scaled ns (x 2^16); the sub-ns part is far below any stamp. */
	h->corr_ns = corr / 65536;
	ptp_get_port_id(p + 20, &h->src);
	h->seq = ptp_get16(p + 30);
	h->log_interval = (int8_t)p[33];
	return 0;
}

/*
 * A Timestamp (5.3.3): 48-bit seconds and 32-bit ns. -1 for ns past a
 * second or a time int64 ns cannot hold (after 2262).
 */
int
ptp_get_ts(const uint8_t *p, int64_t *ns)
{
	uint64_t sec = (uint64_t)ptp_get16(p) << 32 |
		       (uint64_t)ptp_get16(p + 2) << 16 | ptp_get16(p + 4);
	uint32_t frac = (uint32_t)ptp_get16(p + 6) << 16 | ptp_get16(p + 8);
	int64_t t;

	if (frac >= PTP_NS_PER_SEC)
		return -1;
	if (__builtin_mul_overflow((int64_t)sec, PTP_NS_PER_SEC, &t) ||
	    __builtin_add_overflow(t, (int64_t)frac, &t))
		return -1;
	*ns = t;
	return 0;
}

void
ptp_get_port_id(const uint8_t *p, struct dpn_ptp_port_identity *id)
{
	memcpy(id->clock_id, p, sizeof(id->clock_id));
	id->port_number = ptp_get16(p + 8);
}

bool
ptp_port_id_eq(const struct dpn_ptp_port_identity *a,
	       const struct dpn_ptp_port_identity *b)
{
	return a->port_number == b->port_number &&
	       memcmp(a->clock_id, b->clock_id, sizeof(a->clock_id)) == 0;
}

int8_t
ptp_clamp_log(int log_interval)
{
	if (log_interval < DPN_PTP_LOG_INTERVAL_MIN)
		return DPN_PTP_LOG_INTERVAL_MIN;
	if (log_interval > DPN_PTP_LOG_INTERVAL_MAX)
		return DPN_PTP_LOG_INTERVAL_MAX;
	return (int8_t)log_interval;
}

/* 2^log_interval seconds in ns, within the clamp. */
int64_t
ptp_interval_ns(int log_interval)
{
	int l = ptp_clamp_log(log_interval);

	if (l >= 0)
		return PTP_NS_PER_SEC << l;
	return PTP_NS_PER_SEC >> -l;
}

/* Deadlines near the ends of the caller's clock must not wrap. */
int64_t
ptp_sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A Delay_Req (13.6) of DPN_PTP_DELAY_REQ_LEN bytes at @p. */
void
ptp_build_delay_req(uint8_t *p, const struct dpn_ptp_slave *s, uint16_t seq)
{
	memset(p, 0, DPN_PTP_DELAY_REQ_LEN);
	p[0] = DPN_PTP_DELAY_REQ;
	p[1] = 2;
	put16(p + 2, DPN_PTP_DELAY_REQ_LEN);
	p[4] = s->params.domain;
	/* flagField and correctionField stay 0: we are not two-step and
	 * no residence time is ours to add. */
	memcpy(p + 20, s->self.clock_id, sizeof(s->self.clock_id));
	put16(p + 28, s->self.port_number);
	put16(p + 30, seq);
	p[32] = 1;	/* controlField: Delay_Req (Table 23) */
	p[33] = 0x7f;	/* logMessageInterval: 0x7F for Delay_Req */
	/* originTimestamp (bytes 34-43) stays zero, as 11.3.2 allows:
	 * our clock need not be on the master's timescale. */
}
