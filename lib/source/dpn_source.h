/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_SOURCE_H
#define DPN_SOURCE_H

/**
 * @file
 * Upstream time sources and the client side of RFC 5905: checking a
 * server's reply, the offset/delay of a sample, the clock filter, the
 * reach register and poll interval, and the selection of a system peer
 * (intersection, clustering, combining). Also the `ntpq -p` lines.
 *
 * DPDK-free and without I/O: the caller sends requests, receives replies
 * and passes the times in, so everything is tested with fake times.
 *
 * Times: "now" and every local instant is int64 nanoseconds of the
 * server clock (Unix epoch, UTC); timestamps on the wire are host-order
 * 64-bit NTP timestamps (dpn_ntp.h converts). Offsets, delays,
 * dispersions and jitters are int64 nanoseconds.
 *
 * Life of a source, as the caller drives it:
 *
 *   dpn_source_conf_init(&c); ...fill c...; dpn_source_init(&s, &c, now);
 *   loop:
 *     if (now >= dpn_source_next_poll(&s)) {
 *             dpn_source_request(&s, pkt, t1); send pkt;
 *             dpn_source_poll_sent(&s, t1, now);
 *     }
 *     on a reply: dpn_source_receive(&s, pkt, len, rx_ns);
 *     from time to time: dpn_source_select(all sources, ...) and
 *     discipline the clock with the result.
 *
 * A reference clock (`refclock system`) is a source of type
 * DPN_SOURCE_TYPE_REFCLOCK fed with dpn_source_refclock_sample().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpn_ntp.h"

/** Poll exponent limits (log2 seconds), as ntpd's `minpoll`/`maxpoll`. */
#define DPN_SOURCE_POLL_LIMIT_MIN 3
#define DPN_SOURCE_POLL_LIMIT_MAX 17
#define DPN_SOURCE_MINPOLL_DEFAULT 6
#define DPN_SOURCE_MAXPOLL_DEFAULT 10
/** A reference clock's poll (minpoll == maxpoll) may be this short. */
#define DPN_SOURCE_REFCLOCK_POLL_MIN -6

/** Clock filter stages (RFC 5905 NSTAGE). */
#define DPN_SOURCE_FILTER_LEN 8
/** Packets in a burst (iburst, burst) and their spacing. */
#define DPN_SOURCE_BURST_LEN 8
#define DPN_SOURCE_BURST_SPACING_NS 2000000000LL

/** Frequency tolerance: dispersion grows 15 ppm of elapsed time. */
#define DPN_SOURCE_PHI_PPM 15
/** Dispersion of a missing sample, and the most a reply may claim. */
#define DPN_SOURCE_MAXDISP_NS 16000000000LL
/** Largest root distance a source may have to be selected. */
#define DPN_SOURCE_MAXDIST_NS 1500000000LL
/** Root distance floor for the delay term (ntpd `tos mindist`). */
#define DPN_SOURCE_MINDIST_NS 1000000LL

#define DPN_SOURCE_NAME_MAX 64
/** Most sources dpn_source_select() takes at once. */
#define DPN_SOURCE_SELECT_MAX 64

enum dpn_source_type {
	DPN_SOURCE_TYPE_UNICAST,	/**< `server`: shown as 'u' */
	DPN_SOURCE_TYPE_POOL,		/**< found by `pool`: 'p' */
	DPN_SOURCE_TYPE_REFCLOCK,	/**< `refclock`: 'l' */
};

/** Configuration flags (ntpd's `server` options). */
#define DPN_SOURCE_F_PREFER	(1u << 0) /**< chosen when it survives */
#define DPN_SOURCE_F_NOSELECT	(1u << 1) /**< watched, never selected */
#define DPN_SOURCE_F_TRUE	(1u << 2) /**< never a falseticker */
#define DPN_SOURCE_F_IBURST	(1u << 3) /**< quick polls when unreached */
#define DPN_SOURCE_F_BURST	(1u << 4) /**< 8 packets per poll */

/** What `ntpq -p` shows in the first column, by selection outcome. */
enum dpn_source_state {
	DPN_SOURCE_ST_REJECT = ' ',	/**< not a candidate (see reason) */
	DPN_SOURCE_ST_FALSETICKER = 'x', /**< outside the intersection */
	DPN_SOURCE_ST_EXCESS = '.',	/**< beyond maxclock candidates */
	DPN_SOURCE_ST_OUTLIER = '-',	/**< discarded by clustering */
	DPN_SOURCE_ST_CANDIDATE = '+',	/**< survivor, combined */
	DPN_SOURCE_ST_BACKUP = '#',	/**< survivor beyond combine limit */
	DPN_SOURCE_ST_SYSPEER = '*',	/**< the system peer */
	DPN_SOURCE_ST_PPS = 'o',	/**< PPS peer (not used yet) */
};

/** Why selection rejected a source (state ' '); for `show sources`. */
enum dpn_source_reject {
	DPN_SOURCE_REJ_NONE = 0,
	DPN_SOURCE_REJ_DEMOBILIZED,	/**< kissed DENY/RSTR */
	DPN_SOURCE_REJ_NOSELECT,
	DPN_SOURCE_REJ_UNREACH,		/**< reach register is 0 */
	DPN_SOURCE_REJ_NODATA,		/**< no filter output yet */
	DPN_SOURCE_REJ_UNSYNC,		/**< leap 3 or stratum >= 16 */
	DPN_SOURCE_REJ_DIST,		/**< root distance >= maxdist */
	DPN_SOURCE_REJ_LOOP,		/**< its refid is one of ours */
};

/** Configuration of one source, filled by the config parser. */
struct dpn_source_conf {
	char name[DPN_SOURCE_NAME_MAX];	/**< as configured, for ntpq */
	enum dpn_source_type type;
	int family;		/**< AF_INET, AF_INET6; 0 for a refclock */
	uint8_t addr[16];	/**< network order; IPv4 in the first 4 */
	unsigned int flags;	/**< DPN_SOURCE_F_* */
	int minpoll;		/**< log2 s, 3..17 */
	int maxpoll;		/**< log2 s, minpoll..17 */
	unsigned int version;	/**< NTP version sent, 1..4 */
	int local_precision;	/**< log2 s of our clock, for dispersion */
	/* Reference clocks only. */
	char refid[5];		/**< "GPS", "LOCL", ...; shown as .GPS. */
	int precision;		/**< log2 s of the reference */
	unsigned int stratum;	/**< 0: the system becomes stratum 1 */
};

/** One clock filter stage (RFC 5905 8): a sample and when it was taken. */
struct dpn_source_sample {
	int64_t offset_ns;
	int64_t delay_ns;
	int64_t disp_ns;	/**< at epoch; grows PHI per second since */
	int64_t epoch_ns;	/**< local time of the sample; 0 = empty */
};

/** A source: its configuration, what it said last, and our estimate. */
struct dpn_source {
	struct dpn_source_conf conf;

	/* The server's header fields from its last accepted reply. */
	unsigned int leap;		/**< enum dpn_ntp_leap */
	unsigned int stratum;		/**< 16 until heard */
	int precision;			/**< log2 s */
	int ppoll;			/**< the poll field it sent */
	uint32_t refid;			/**< host order; INIT until heard */
	uint64_t reftime;		/**< NTP timestamp, host order */
	int64_t root_delay_ns;
	int64_t root_disp_ns;

	/* Polling. */
	uint8_t reach;			/**< a bit per poll, newest bit 0 */
	int poll;			/**< current exponent, log2 s */
	int poll_floor;			/**< raised by KoD RATE */
	unsigned int unreach;		/**< polls since the last reply */
	unsigned int burst_left;	/**< packets left in this burst */
	int stable;			/**< poll adaptation score */
	int64_t next_poll_ns;
	uint64_t org;			/**< t1 of the request in flight */
	uint64_t accepted_org;		/**< t1 whose reply was taken */
	bool demobilized;		/**< kissed DENY/RSTR: never poll */
	uint32_t kiss;			/**< last kiss code, host order */

	/* Clock filter, newest stage at filter[next - 1]. */
	struct dpn_source_sample filter[DPN_SOURCE_FILTER_LEN];
	unsigned int filter_next;

	/* Filter output. */
	int64_t offset_ns;
	int64_t delay_ns;
	int64_t disp_ns;		/**< at update_ns */
	int64_t jitter_ns;
	int64_t update_ns;		/**< epoch of that sample; 0 none */
	int64_t last_rx_ns;		/**< last reply taken: "when" */

	/* Selection. */
	enum dpn_source_state state;
	enum dpn_source_reject reject;

	/* Counters. */
	uint64_t nb_sent;
	uint64_t nb_rx_ok;
	uint64_t nb_rx_bad;		/**< any verdict but OK */
	uint64_t nb_spikes;		/**< popcorn spikes suppressed */

	/**
	 * Randomization of the poll interval, so that sources configured
	 * together do not poll in step: returns nanoseconds to add, at
	 * most @p max_ns. NULL = none (deterministic, for tests). Set it
	 * after dpn_source_init(), which clears the structure.
	 */
	int64_t (*jitter_fn)(void *arg, int64_t max_ns);
	void *jitter_arg;
};

/** Defaults: unicast, minpoll 6, maxpoll 10, version 4, precision -20. */
void dpn_source_conf_init(struct dpn_source_conf *c);

/**
 * Check @p c and start a source from it at @p now_ns: unreached, poll at
 * minpoll, first poll due now. Returns 0, or -EINVAL (poll limits,
 * version, family) with @p s untouched.
 */
int dpn_source_init(struct dpn_source *s, const struct dpn_source_conf *c,
		    int64_t now_ns);

/*
 * Replies.
 */

#define DPN_SOURCE_VERDICTS(X) \
	X(OK, "accepted") \
	X(SHORT, "shorter than 48 bytes") \
	X(BAD_VERSION, "version 0 or above 4") \
	X(BAD_MODE, "not a server (mode 4) reply") \
	X(DUPLICATE, "reply to a request already answered") \
	X(BOGUS, "origin timestamp is not our request's") \
	X(KOD_DENY, "kiss-o'-death DENY: access denied") \
	X(KOD_RSTR, "kiss-o'-death RSTR: access restricted") \
	X(KOD_RATE, "kiss-o'-death RATE: polling too fast") \
	X(KOD_OTHER, "kiss-o'-death, other code") \
	X(UNSYNC, "server unsynchronized (leap 3 or stratum 16+)") \
	X(BAD_TIMES, "zero or inconsistent timestamps") \
	X(BAD_ROOT, "root delay/2 + root dispersion >= 16 s")

enum dpn_source_verdict {
#define DPN_SOURCE_VERDICT_ENUM(name, desc) DPN_SOURCE_R_##name,
	DPN_SOURCE_VERDICTS(DPN_SOURCE_VERDICT_ENUM)
#undef DPN_SOURCE_VERDICT_ENUM
	DPN_SOURCE_R_MAX
};

/** Short description of a verdict. */
const char *dpn_source_verdict_str(enum dpn_source_verdict v);

/**
 * Check a reply (RFC 5905 8 and A.5.1.1) of @p len bytes against the
 * request we sent with transmit timestamp @p expected_org, and the one
 * whose reply we already took, @p accepted_org (0 = none). Pure.
 * A kiss-o'-death is only believed when its origin matches, so that
 * nobody off-path can silence a source.
 */
enum dpn_source_verdict
dpn_source_validate(const struct dpn_ntp_hdr *pkt, unsigned int len,
		    uint64_t expected_org, uint64_t accepted_org);

/**
 * React to a kiss-o'-death the validation returned (other verdicts are
 * ignored): DENY and RSTR demobilize the source (RFC 5905 7.4: the
 * server asks us to stop; the source is never polled again and never
 * selected, until reconfigured); RATE doubles the poll interval, at
 * least to the server's poll field and at most maxpoll, and never goes
 * back below it. @p pkt gives the kiss code and poll.
 */
void dpn_source_kod(struct dpn_source *s, enum dpn_source_verdict v,
		    const struct dpn_ntp_hdr *pkt, int64_t now_ns);

/**
 * Offset and delay of one exchange (RFC 5905 8), all four timestamps
 * host-order NTP: @p t1 our transmit, @p t2 server receive, @p t3
 * server transmit, @p t4 our receive.
 * offset = ((t2 - t1) + (t3 - t4)) / 2, delay = (t4 - t1) - (t3 - t2).
 * The delay is not clamped here.
 */
void dpn_source_offset_delay(uint64_t t1, uint64_t t2, uint64_t t3,
			     uint64_t t4, int64_t *offset_ns,
			     int64_t *delay_ns);

/**
 * Take a sample into the source: sets the reach bit, clamps the delay to
 * at least our precision, computes its dispersion (both precisions plus
 * PHI times t4 - t1), runs the clock filter and adapts the poll.
 * Returns 1 when the filter produced a new estimate, 0 when it did not
 * (older sample, or a popcorn spike), -EINVAL when t4 is before t1.
 */
int dpn_source_sample(struct dpn_source *s, uint64_t t1, uint64_t t2,
		      uint64_t t3, uint64_t t4, int64_t now_ns);

/**
 * All of a reply: validate against the request in flight, take the
 * server's header fields, react to a kiss, take the sample. @p rx_ns is
 * our receive time (t4), also "now". Returns the verdict; counters are
 * updated.
 */
enum dpn_source_verdict
dpn_source_receive(struct dpn_source *s, const struct dpn_ntp_hdr *pkt,
		   unsigned int len, int64_t rx_ns);

/*
 * Polling.
 */

/**
 * Fill @p pkt (48 bytes) with a client request carrying @p xmt_ts
 * (host-order NTP, t1): mode 3, the configured version, our poll, the
 * transmit timestamp and nothing else, as the NTP data minimization
 * draft asks of clients. The reply must echo @p xmt_ts as its origin,
 * which makes it the request's nonce: the caller may put random bits
 * below the clock's precision in it.
 */
void dpn_source_request(const struct dpn_source *s, struct dpn_ntp_hdr *pkt,
			uint64_t xmt_ts);

/**
 * A request with transmit timestamp @p xmt_ts (host-order NTP, t1) was
 * sent at @p now_ns. At the start of a poll (not for the later packets
 * of a burst) the reach register shifts; a source whose last three polls
 * went unanswered gets a missing sample (MAXDISP) in its filter, one
 * with 8 unanswered polls is unreachable. Schedules the next poll.
 */
void dpn_source_poll_sent(struct dpn_source *s, uint64_t xmt_ts,
			  int64_t now_ns);

/** When the next request is due (INT64_MAX for a demobilized source). */
int64_t dpn_source_next_poll(const struct dpn_source *s);

/** Reachable: at least one of the last 8 polls was answered. */
static inline bool
dpn_source_reachable(const struct dpn_source *s)
{
	return s->reach != 0;
}

/*
 * Reference clocks.
 */

/**
 * A reading of a reference clock: the reference minus our clock is
 * @p offset_ns, with @p disp_ns of error (its precision is added), at
 * @p now_ns. Marks the source reached, delay 0.
 */
void dpn_source_refclock_sample(struct dpn_source *s, int64_t offset_ns,
				int64_t disp_ns, int64_t now_ns);

/** A poll interval of a reference clock passed without a reading: the
 * reach register shifts (unreachable after 8). */
void dpn_source_refclock_missed(struct dpn_source *s);

/*
 * Selection.
 */

struct dpn_select_params {
	unsigned int minclock;	/**< clustering keeps at least these */
	unsigned int minsane;	/**< survivors needed to synchronize */
	unsigned int maxclock;	/**< candidates beyond this are '.' */
	unsigned int combine_limit; /**< survivors beyond this are '#' */
	int64_t maxdist_ns;	/**< root distance limit */
	int64_t mindist_ns;	/**< floor of the delay term of distance */
	/** Our own refids (dpn_source_refid_of_addr()): loop detection. */
	const uint32_t *local_refids;
	unsigned int nb_local_refids;
};

/** minclock 3, minsane 1, maxclock 10, combine 6, maxdist 1.5 s,
 * mindist 1 ms, no local refids.
 */
void dpn_select_params_init(struct dpn_select_params *p);

struct dpn_select_result {
	int sys_peer;		/**< index into the array, -1 if none */
	unsigned int nb_candidates;	/**< passed the fitness checks */
	unsigned int nb_truechimers;	/**< inside the intersection */
	unsigned int nb_survivors;	/**< after clustering */
	int64_t offset_ns;	/**< combined offset of the survivors */
	int64_t jitter_ns;	/**< system jitter */
	/* What this server says once it follows the system peer. */
	unsigned int leap;	/**< enum dpn_ntp_leap */
	unsigned int stratum;	/**< peer's + 1; 16 with no peer */
	uint32_t refid;		/**< host order (dpn_ntp_sysinfo_set) */
	int64_t ref_ns;		/**< local time of the peer's update */
	int64_t root_delay_ns;
	int64_t root_disp_ns;
};

/**
 * Root distance of a source at @p now_ns (RFC 5905 11.2.1): half the
 * round trip to the primary, plus the dispersions aged to now and the
 * jitter. INT64_MAX when it has no estimate.
 */
int64_t dpn_source_root_distance(const struct dpn_source *s, int64_t now_ns,
				 int64_t mindist_ns);

/**
 * Choose the system peer among @p n sources (RFC 5905 11.2): reject the
 * unfit, find the falsetickers by intersection, cluster away outliers,
 * combine the survivors weighted by 1/root distance. Sets every
 * source's state and reject reason. Keeps the current system peer when
 * it survives with the best stratum; a surviving `prefer` source wins.
 * Returns 0 (@p out filled, sys_peer -1 when the system cannot
 * synchronize), or -EINVAL when @p n > DPN_SOURCE_SELECT_MAX.
 */
int dpn_source_select(struct dpn_source **srcs, unsigned int n,
		      int64_t now_ns, const struct dpn_select_params *p,
		      struct dpn_select_result *out);

/**
 * The refid that names a server: its IPv4 address, or for IPv6 the
 * first four bytes of the MD5 of the address (RFC 5905 7.3). Host order.
 */
uint32_t dpn_source_refid_of_addr(int family, const uint8_t *addr);

/*
 * ntpq -p.
 */

/** ntpq's two header lines (with newlines). Returns snprintf's count. */
int dpn_source_format_peers_header(char *buf, size_t len);

/**
 * One `ntpq -p` line for @p s at @p now_ns (with a newline): tally,
 * remote, refid, st, t, when, poll, reach, delay, offset, jitter.
 * Returns snprintf's count.
 */
int dpn_source_format_peer(const struct dpn_source *s, int64_t now_ns,
			   char *buf, size_t len);

/** The refid column of show peers (and ntpq -p): ".GPS.", an address. */
void dpn_source_format_refid(const struct dpn_source *s, char *buf,
			     size_t len);

/** A source's address as text ("192.0.2.1", "2001:db8::1"), or "". */
const char *dpn_source_addr_str(const struct dpn_source *s, char *buf,
				size_t len);

#endif /* DPN_SOURCE_H */
