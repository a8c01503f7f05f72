/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_PTP_PRIVATE_H
#define DPN_PTP_PRIVATE_H

/*
 * Inside lib/ptp: the parsed header, the wire helpers (msg.c), the
 * foreign master table (bmc.c) and the delay measurement (delay.c)
 * that ptp.c ties together.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpn_ptp.h"

#define PTP_NS_PER_SEC 1000000000LL

/* flagField, byte 6 and byte 7 (Table 20). */
#define PTP_FLAG6_TWO_STEP 0x02
#define PTP_FLAG7_LEAP61 0x01
#define PTP_FLAG7_LEAP59 0x02
#define PTP_FLAG7_UTC_VALID 0x04
#define PTP_FLAG7_PTP_TIMESCALE 0x08
#define PTP_FLAG7_TIME_TRACEABLE 0x10
#define PTP_FLAG7_FREQ_TRACEABLE 0x20

/* Where the body of each message starts and what is in it. */
#define PTP_BODY_TS 34		/* origin/receive timestamp, 10 bytes */
#define PTP_RESP_REQ_PORT 44	/* Delay_Resp requestingPortIdentity */
#define PTP_ANN_UTC_OFFSET 44
#define PTP_ANN_PRIORITY1 47
#define PTP_ANN_CLOCK_CLASS 48
#define PTP_ANN_CLOCK_ACCURACY 49
#define PTP_ANN_VARIANCE 50
#define PTP_ANN_PRIORITY2 52
#define PTP_ANN_GM_ID 53
#define PTP_ANN_STEPS 61
#define PTP_ANN_TIME_SOURCE 63
/* 9.5.2.2/9.3.2.5: Announces this far from the grandmaster are not
 * qualified. */
#define PTP_MAX_STEPS_REMOVED 255

/* The common header (13.3), host order. */
struct ptp_hdr {
	uint8_t type;		/* messageType */
	uint16_t length;	/* messageLength, within the buffer */
	uint8_t domain;
	uint8_t flags6, flags7;
	int64_t corr_ns;	/* correctionField, whole ns */
	struct dpn_ptp_port_identity src;
	uint16_t seq;
	int8_t log_interval;	/* logMessageInterval, as sent */
};

static inline uint16_t
ptp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* msg.c */
int ptp_parse_hdr(const uint8_t *p, size_t len, struct ptp_hdr *h);
int ptp_get_ts(const uint8_t *p, int64_t *ns);
void ptp_get_port_id(const uint8_t *p, struct dpn_ptp_port_identity *id);
bool ptp_port_id_eq(const struct dpn_ptp_port_identity *a,
		    const struct dpn_ptp_port_identity *b);
int64_t ptp_interval_ns(int log_interval);
int8_t ptp_clamp_log(int log_interval);
int64_t ptp_sat_add(int64_t a, int64_t b);
void ptp_build_delay_req(uint8_t *p, const struct dpn_ptp_slave *s,
			 uint16_t seq);

/* bmc.c */
enum dpn_ptp_rx_result ptp_bmc_announce(struct dpn_ptp_slave *s,
					const struct ptp_hdr *h,
					const uint8_t *p, int64_t rx_ns);
void ptp_bmc_expire(struct dpn_ptp_slave *s, int64_t now_ns);

/* delay.c */
void ptp_delay_reset(struct dpn_ptp_slave *s);
enum dpn_ptp_rx_result ptp_delay_resp(struct dpn_ptp_slave *s,
				      const struct ptp_hdr *h,
				      const uint8_t *p);
size_t ptp_delay_req_poll(struct dpn_ptp_slave *s, int64_t now_ns,
			  void *buf, size_t len, uint16_t *seq);

/* ptp.c: the selected master changed (-1 = lost). */
void ptp_master_selected(struct dpn_ptp_slave *s, int idx);

#endif
