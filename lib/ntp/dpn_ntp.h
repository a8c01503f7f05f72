/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NTP_H
#define DPN_NTP_H

/**
 * @file
 * NTP wire format (RFC 5905), timestamps with era handling, request
 * validation and the reply builder.
 *
 * DPDK-free: everything here is pure functions over bytes so that it can
 * be tested with golden vectors. The hot-path pieces are static inline.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define DPN_NTP_PORT 123
#define DPN_NTP_HDR_LEN 48
/** A control message (mode 6, RFC 9327) has a 12-byte header. */
#define DPN_NTP_CTL_HDR_LEN 12

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define DPN_NTP_UNIX_OFFSET 2208988800ULL
#define DPN_NSEC_PER_SEC 1000000000ULL

enum dpn_ntp_mode {
	DPN_NTP_MODE_RESERVED = 0,
	DPN_NTP_MODE_SYM_ACTIVE = 1,
	DPN_NTP_MODE_SYM_PASSIVE = 2,
	DPN_NTP_MODE_CLIENT = 3,
	DPN_NTP_MODE_SERVER = 4,
	DPN_NTP_MODE_BROADCAST = 5,
	DPN_NTP_MODE_CONTROL = 6,
	DPN_NTP_MODE_PRIVATE = 7,
};

enum dpn_ntp_leap {
	DPN_NTP_LEAP_NONE = 0,
	DPN_NTP_LEAP_INSERT = 1,
	DPN_NTP_LEAP_DELETE = 2,
	DPN_NTP_LEAP_ALARM = 3,	/**< clock unsynchronized */
};

#define DPN_NTP_STRATUM_UNSYNC 16
#define DPN_NTP_VERSION_MAX 4

/** The fixed 48-byte NTP header, all fields in network byte order. */
struct dpn_ntp_hdr {
	uint8_t li_vn_mode;
	uint8_t stratum;
	int8_t poll;
	int8_t precision;
	uint32_t root_delay;	/**< NTP short format, 16.16 seconds */
	uint32_t root_disp;	/**< NTP short format, 16.16 seconds */
	uint32_t refid;
	uint64_t ref_ts;
	uint64_t orig_ts;
	uint64_t recv_ts;
	uint64_t xmt_ts;
} __attribute__((packed));

_Static_assert(sizeof(struct dpn_ntp_hdr) == DPN_NTP_HDR_LEN,
	       "NTP header must be 48 bytes");

static inline unsigned int
dpn_ntp_leap_of(const struct dpn_ntp_hdr *h)
{
	return h->li_vn_mode >> 6;
}

static inline unsigned int
dpn_ntp_version_of(const struct dpn_ntp_hdr *h)
{
	return (h->li_vn_mode >> 3) & 0x7;
}

static inline unsigned int
dpn_ntp_mode_of(const struct dpn_ntp_hdr *h)
{
	return h->li_vn_mode & 0x7;
}

static inline uint8_t
dpn_ntp_li_vn_mode(unsigned int li, unsigned int vn, unsigned int mode)
{
	return (uint8_t)((li << 6) | ((vn & 7) << 3) | (mode & 7));
}

/*
 * Timestamps.
 *
 * Inside the server, time is int64 nanoseconds since the Unix epoch
 * (good until 2262). On the wire it is the 64-bit NTP format: 32 bits of
 * seconds since the start of the current NTP era and 32 bits of fraction.
 * Converting to the wire drops the era (seconds modulo 2^32); converting
 * back needs a pivot: the result is the instant closest to the pivot,
 * which is how RFC 5905 section 6 resolves the 2036 rollover.
 */

/** 2^64 / 1e9, rounded up: ns * this >> 32 gives a 32-bit NTP fraction. */
#define DPN_NTP_FRAC_PER_NS 18446744074ULL

/** Unix nanoseconds to host-order NTP 64-bit timestamp (era dropped). */
static inline uint64_t
dpn_ntp_ts_from_unix_ns(int64_t unix_ns)
{
	/* Floor division so that instants before 1970 stay exact. */
	int64_t sec = unix_ns / (int64_t)DPN_NSEC_PER_SEC;
	int64_t nsec = unix_ns % (int64_t)DPN_NSEC_PER_SEC;
	uint32_t frac;

	if (nsec < 0) {
		nsec += DPN_NSEC_PER_SEC;
		sec -= 1;
	}
	frac = (uint32_t)(((uint64_t)nsec * DPN_NTP_FRAC_PER_NS) >> 32);
	return ((uint64_t)(uint32_t)(sec + (int64_t)DPN_NTP_UNIX_OFFSET)
		<< 32) | frac;
}

/** Host-order NTP 64-bit timestamp to Unix ns, choosing the era nearest
 * to @p pivot_unix_ns.
 */
int64_t dpn_ntp_ts_to_unix_ns(uint64_t ntp_ts, int64_t pivot_unix_ns);

/** NTP short format (16.16 seconds) from nanoseconds, saturating. */
uint32_t dpn_ntp_short_from_ns(int64_t ns);

/** Nanoseconds from NTP short format. */
int64_t dpn_ntp_short_to_ns(uint32_t s);

/*
 * Request validation.
 */

/** Why a request is not answered. Each has its own counter. */
#define DPN_NTP_VERDICTS(X) \
	X(OK, "answered") \
	X(SHORT, "shorter than 48 bytes") \
	X(VERSION, "version 0 or above 4") \
	X(MODE0, "mode 0 (reserved)") \
	X(MODE2, "mode 2 (symmetric passive)") \
	X(MODE4, "mode 4 (server)") \
	X(MODE5, "mode 5 (broadcast)") \
	X(MODE6, "mode 6 (control): for the management lcore") \
	X(MODE7, "mode 7 (private)") \
	X(ZERO_XMT, "zero transmit timestamp")

enum dpn_ntp_verdict {
#define DPN_NTP_VERDICT_ENUM(name, desc) DPN_NTP_V_##name,
	DPN_NTP_VERDICTS(DPN_NTP_VERDICT_ENUM)
#undef DPN_NTP_VERDICT_ENUM
	DPN_NTP_V_MAX
};

/** Short description of a verdict, for messages and help texts. */
const char *dpn_ntp_verdict_str(enum dpn_ntp_verdict v);

/**
 * Decide whether a UDP payload of @p len bytes addressed to port 123 is
 * a request this server answers. Pure; inline because workers call it
 * for every packet. A control message (mode 6) is only checked for its
 * 12-byte header and version here: DPN_NTP_V_MODE6 says it is one (the
 * management lcore parses the rest); it is never SHORT for lacking the
 * 48 bytes of a time request.
 */
static inline enum dpn_ntp_verdict
dpn_ntp_classify(const void *payload, unsigned int len)
{
	static const uint8_t mode_verdict[8] = {
		DPN_NTP_V_MODE0, DPN_NTP_V_OK, DPN_NTP_V_MODE2,
		DPN_NTP_V_OK, DPN_NTP_V_MODE4, DPN_NTP_V_MODE5,
		DPN_NTP_V_MODE6, DPN_NTP_V_MODE7,
	};
	const struct dpn_ntp_hdr *h = payload;
	unsigned int vn;

	if (len < DPN_NTP_HDR_LEN &&
	    (len < DPN_NTP_CTL_HDR_LEN ||
	     dpn_ntp_mode_of(h) != DPN_NTP_MODE_CONTROL))
		return DPN_NTP_V_SHORT;
	vn = dpn_ntp_version_of(h);
	if (vn == 0 || vn > DPN_NTP_VERSION_MAX)
		return DPN_NTP_V_VERSION;
	if (mode_verdict[dpn_ntp_mode_of(h)] != DPN_NTP_V_OK)
		return (enum dpn_ntp_verdict)mode_verdict[dpn_ntp_mode_of(h)];
	if (h->xmt_ts == 0)
		return DPN_NTP_V_ZERO_XMT;
	return DPN_NTP_V_OK;
}

/*
 * The reply.
 */

/**
 * What the server says about its clock, prepared once per snapshot in
 * wire order so that building a reply is a handful of stores.
 */
struct dpn_ntp_sysinfo {
	uint8_t leap;		/**< enum dpn_ntp_leap; ALARM = unsynchronized */
	uint8_t stratum;	/**< 1..15, 16 when unsynchronized */
	int8_t precision;	/**< log2 seconds */
	uint32_t root_delay;	/**< network order, NTP short */
	uint32_t root_disp;	/**< network order, NTP short */
	uint32_t refid;		/**< network order */
	uint64_t ref_ts;	/**< network order */
};

/**
 * Build the reply to a request that dpn_ntp_classify() accepted, in
 * place (@p pkt holds the request and receives the reply, 48 bytes).
 * The transmit timestamp is left for dpn_ntp_stamp_xmt() so that it can
 * be taken as late as possible. @p rx_ts is T2 in host-order NTP format.
 *
 * Client (mode 3) gets server (mode 4); symmetric active (mode 1) gets a
 * stateless symmetric passive (mode 2). Version and poll are echoed. An
 * unsynchronized server says so with leap 3 and stratum 16.
 */
static inline void
dpn_ntp_build_reply(struct dpn_ntp_hdr *pkt,
		    const struct dpn_ntp_sysinfo *si, uint64_t rx_ts)
{
	unsigned int mode = dpn_ntp_mode_of(pkt) == DPN_NTP_MODE_CLIENT ?
		DPN_NTP_MODE_SERVER : DPN_NTP_MODE_SYM_PASSIVE;

	pkt->li_vn_mode = dpn_ntp_li_vn_mode(si->leap,
					     dpn_ntp_version_of(pkt), mode);
	pkt->stratum = si->stratum;
	/* poll is echoed as it is */
	pkt->precision = si->precision;
	pkt->root_delay = si->root_delay;
	pkt->root_disp = si->root_disp;
	pkt->refid = si->refid;
	pkt->ref_ts = si->ref_ts;
	pkt->orig_ts = pkt->xmt_ts;
	pkt->recv_ts = __builtin_bswap64(rx_ts);
	pkt->xmt_ts = 0;
}

/**
 * Build an interleaved reply (RFC 9769) in place: as
 * dpn_ntp_build_reply(), but the origin is the request's receive field
 * (the client's receive time of our previous reply) and the transmit
 * timestamp @p tx_ts is the true transmit time of that previous reply,
 * so the packet is complete. Both timestamps host-order NTP format.
 */
static inline void
dpn_ntp_build_reply_interleaved(struct dpn_ntp_hdr *pkt,
				const struct dpn_ntp_sysinfo *si,
				uint64_t rx_ts, uint64_t tx_ts)
{
	uint64_t org = pkt->recv_ts;

	dpn_ntp_build_reply(pkt, si, rx_ts);
	pkt->orig_ts = org;
	pkt->xmt_ts = __builtin_bswap64(tx_ts);
}

/**
 * Build a kiss-o'-death reply in place (RFC 5905 7.4): leap 3, stratum
 * 0, the kiss code in the refid, the mode a reply would have, poll at
 * least @p min_poll. Like ntpd, the three timestamps all carry the
 * client's transmit timestamp: the packet says nothing about our time.
 */
static inline void
dpn_ntp_build_kod(struct dpn_ntp_hdr *pkt, uint32_t code_host,
		  int8_t min_poll)
{
	unsigned int mode = dpn_ntp_mode_of(pkt) == DPN_NTP_MODE_CLIENT ?
		DPN_NTP_MODE_SERVER : DPN_NTP_MODE_SYM_PASSIVE;

	pkt->li_vn_mode = dpn_ntp_li_vn_mode(DPN_NTP_LEAP_ALARM,
					     dpn_ntp_version_of(pkt), mode);
	pkt->stratum = 0;
	if (pkt->poll < min_poll)
		pkt->poll = min_poll;
	pkt->precision = 0;
	pkt->root_delay = 0;
	pkt->root_disp = 0;
	pkt->refid = __builtin_bswap32(code_host);
	pkt->ref_ts = 0;
	pkt->orig_ts = pkt->xmt_ts;
	pkt->recv_ts = pkt->xmt_ts;
}

/** Set the transmit timestamp (T3, host-order NTP format). */
static inline void
dpn_ntp_stamp_xmt(struct dpn_ntp_hdr *pkt, uint64_t tx_ts)
{
	pkt->xmt_ts = __builtin_bswap64(tx_ts);
}

/**
 * Fill @p si from the clock's state. @p synced false forces leap 3 and
 * stratum 16 whatever the other arguments say.
 */
void dpn_ntp_sysinfo_set(struct dpn_ntp_sysinfo *si, bool synced,
			 unsigned int leap, unsigned int stratum,
			 int precision, int64_t root_delay_ns,
			 int64_t root_disp_ns, uint32_t refid_host,
			 int64_t ref_unix_ns);

/** A refid from up to four ASCII characters ("GPS", "LOCL"), host order. */
uint32_t dpn_ntp_refid_from_str(const char *s);

#endif /* DPN_NTP_H */
