/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_PTP_H
#define DPN_PTP_H

/**
 * @file
 * IEEE 1588-2008 (PTPv2) ordinary clock, slave only: the protocol
 * engine without I/O and without a clock of its own.
 *
 * The caller hands in every PTP message it receives with the time it
 * arrived, calls dpn_ptp_slave_poll() every few milliseconds (timers and
 * the Delay_Req schedule), sends the Delay_Req that poll writes and
 * reports when it left with dpn_ptp_slave_tx_stamp(). Offsets come out
 * as dpn_ptp_sample, master minus ours on the UTC scale. All times are
 * int64 nanoseconds of the caller's clock; the engine never reads one,
 * so the unit tests drive it with made-up times.
 *
 * What it does, by clause of the standard:
 * - 9.5.3: foreign masters qualify after FOREIGN_MASTER_THRESHOLD (2)
 *   Announces within FOREIGN_MASTER_TIME_WINDOW (4) announce intervals;
 * - 9.3.4: the best qualified master by the dataset comparison, re-run
 *   on every Announce and on every timeout;
 * - 9.2.6.11: a master is dropped after announceReceiptTimeout of its
 *   announce intervals without an Announce;
 * - 11.3: delay request-response, one-step and two-step Sync.
 *
 * No allocation, no logging; every failure is a counter.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DPN_PTP_EVENT_PORT 319
#define DPN_PTP_GENERAL_PORT 320
#define DPN_PTP_ETHERTYPE 0x88F7
#define DPN_PTP_MCAST_IPV4 0xe0000181u	/* 224.0.1.129, host order */
/** L2 group 01-1B-19-00-00-00 (all but peer delay messages). */
extern const uint8_t dpn_ptp_mcast_mac[6];

#define DPN_PTP_HDR_LEN 34
#define DPN_PTP_DELAY_REQ_LEN 44

/** Fewest bytes (messageLength) of each message this engine reads. */
#define DPN_PTP_SYNC_LEN 44
#define DPN_PTP_FOLLOW_UP_LEN 44
#define DPN_PTP_DELAY_RESP_LEN 54
#define DPN_PTP_ANNOUNCE_LEN 64

/** Foreign master records kept (9.5.3 leaves the size to us). */
#define DPN_PTP_MAX_FOREIGN 8
/** FOREIGN_MASTER_THRESHOLD: Announces that qualify a master ... */
#define DPN_PTP_FOREIGN_THRESHOLD 2
/** ... within FOREIGN_MASTER_TIME_WINDOW announce intervals. */
#define DPN_PTP_FOREIGN_WINDOW 4
/** Most path delays in the median filter. */
#define DPN_PTP_MAX_DELAY_FILTER 32
/** Offset samples after which UNCALIBRATED becomes SLAVE. */
#define DPN_PTP_CALIBRATE_SAMPLES 2
/**
 * A path delay is refused as an outlier when negative, above
 * DPN_PTP_MAX_DELAY_NS, or, once the filter window is full, above
 * DPN_PTP_OUTLIER_FACTOR times the median plus DPN_PTP_OUTLIER_SLACK_NS
 * (the slack keeps a median of a few ns from refusing ordinary jitter).
 * After DPN_PTP_OUTLIER_RESET refusals in a row the filter starts again
 * from the new value: the path itself has changed (a reroute), and
 * refusing it for ever would leave the offsets wrong.
 */
#define DPN_PTP_MAX_DELAY_NS 1000000000LL
#define DPN_PTP_OUTLIER_FACTOR 4
#define DPN_PTP_OUTLIER_SLACK_NS 100000LL
#define DPN_PTP_OUTLIER_RESET 8
/**
 * logMessageInterval values are taken within these bounds (1/128 s to
 * 256 s), so that a hostile 127 cannot push a timer past int64.
 */
#define DPN_PTP_LOG_INTERVAL_MIN (-7)
#define DPN_PTP_LOG_INTERVAL_MAX 8

enum dpn_ptp_msg_type {
	DPN_PTP_SYNC = 0x0,
	DPN_PTP_DELAY_REQ = 0x1,
	DPN_PTP_PDELAY_REQ = 0x2,
	DPN_PTP_PDELAY_RESP = 0x3,
	DPN_PTP_FOLLOW_UP = 0x8,
	DPN_PTP_DELAY_RESP = 0x9,
	DPN_PTP_PDELAY_RESP_FOLLOW_UP = 0xa,
	DPN_PTP_ANNOUNCE = 0xb,
	DPN_PTP_SIGNALING = 0xc,
	DPN_PTP_MANAGEMENT = 0xd,
};

/**
 * Is this message type an event message (goes to port 319, needs a
 * precise rx stamp)? Reads byte 0 only; false when @p len is 0.
 */
bool dpn_ptp_is_event(const void *msg, size_t len);

struct dpn_ptp_port_identity {
	uint8_t clock_id[8];
	uint16_t port_number;
};

/** EUI-64 clock identity from a MAC: mac[0..2] ff fe mac[3..5]. */
void dpn_ptp_clock_id_from_mac(uint8_t clock_id[8], const uint8_t mac[6]);

/** Room for dpn_ptp_port_identity_str() ("001122.fffe.334455-65535"). */
#define DPN_PTP_PORT_ID_STRLEN 25

/**
 * "001122.fffe.334455-1" style text as linuxptp prints it, in @p buf
 * (truncated to @p len). @return @p buf, or "" when @p len is 0.
 */
const char *dpn_ptp_port_identity_str(const struct dpn_ptp_port_identity *p,
				      char *buf, size_t len);

enum dpn_ptp_state {
	DPN_PTP_ST_LISTENING,	 /**< no qualified master */
	DPN_PTP_ST_UNCALIBRATED, /**< master chosen, measuring */
	DPN_PTP_ST_SLAVE,	 /**< offsets flowing */
};

/** "listening", "uncalibrated", "slave" ("?" for anything else). */
const char *dpn_ptp_state_str(enum dpn_ptp_state st);

struct dpn_ptp_params {
	uint8_t domain;			/**< domainNumber accepted and sent */
	uint8_t clock_id[8];		/**< ours */
	uint16_t port_number;		/**< 1 */
	/** announceReceiptTimeout, in announce intervals (3); 0 = 1 */
	unsigned int announce_timeout;
	/** moving median of path delays (10), 1 = none; at most
	 * DPN_PTP_MAX_DELAY_FILTER, 0 = 1 */
	unsigned int delay_filter_len;
	/** random numbers for the Delay_Req schedule; NULL =
	 * deterministic (tests) */
	uint64_t (*rand_fn)(void *arg);
	void *rand_arg;
};

/** The defaults above, domain 0, clock identity all zero. */
void dpn_ptp_params_init(struct dpn_ptp_params *p);

/**
 * What the slave knows of a master (a foreign master record) from its
 * Announce, for show ptp.
 */
struct dpn_ptp_master {
	struct dpn_ptp_port_identity port;	/**< sourcePortIdentity */
	uint8_t gm_id[8];
	uint8_t priority1, priority2, clock_class, clock_accuracy;
	uint16_t variance;			/**< offsetScaledLogVariance */
	uint16_t steps_removed;
	int16_t utc_offset;			/**< currentUtcOffset */
	bool ptp_timescale, utc_offset_valid, leap61, leap59;
	bool time_traceable, freq_traceable;
	uint8_t time_source;
	int8_t log_announce_interval;
	/** from the master's Sync; 0 until one is seen */
	int8_t log_sync_interval;
	int64_t last_announce_ns;		/**< our clock */
	/* Qualification (9.5.3). */
	bool in_use;		/**< the record holds a master */
	bool qualified;		/**< 2 Announces within the window */
	uint16_t last_announce_seq;
};

/** Every failure and event, by name. */
struct dpn_ptp_counters {
	uint64_t rx_announce, rx_sync, rx_follow_up, rx_delay_resp;
	uint64_t tx_delay_req;
	/** malformed: short, bad version, length, a timestamp out of
	 * range (ns >= 1e9, past 2262), a correctionField too big */
	uint64_t rx_bad;
	uint64_t rx_other_domain;
	/** Sync/Follow_Up/Delay_Resp from a port that is not the
	 * selected master */
	uint64_t rx_not_master;
	/** Follow_Up/Delay_Resp without its Sync/Delay_Req, Delay_Resp
	 * for another port */
	uint64_t rx_unmatched;
	/** path delays the filter refused */
	uint64_t delay_outliers;
	/** a (new) master selected, the first one included */
	uint64_t master_changes;
	/** the selected master's Announces stopped */
	uint64_t announce_timeouts;
	/** a Delay_Req replaced by the next one without its Delay_Resp */
	uint64_t delay_resp_missing;
};

struct dpn_ptp_sample {
	/** master's time minus ours (UTC: TAI-UTC already removed on the
	 * PTP timescale) at local_ns */
	int64_t offset_ns;
	int64_t delay_ns;	/**< mean path delay used (filtered) */
	int64_t local_ns;	/**< our time the Sync was received (t2) */
	int leap;		/**< 0, 1 (leap61), 2 (leap59) */
};

/**
 * One slave port. Public so the caller can allocate it (no allocation
 * here); fields are read-only for the caller.
 */
struct dpn_ptp_slave {
	struct dpn_ptp_params params;	/**< as given, limits applied */
	struct dpn_ptp_port_identity self;
	enum dpn_ptp_state state;

	/** Foreign master records; @c selected indexes the one in use
	 * (-1 = none). Records do not move while in use. */
	struct dpn_ptp_master foreign[DPN_PTP_MAX_FOREIGN];
	int selected;

	/** The latest Sync of the selected master. */
	struct {
		bool seen;		/**< one since the master was chosen */
		bool wait_follow_up;	/**< two-step, Follow_Up due */
		uint16_t seq;
		int64_t t2;		/**< our clock at its arrival */
		int64_t corr_ns;	/**< its correctionField */
	} sync;

	/** The latest complete Sync exchange: t1 (master's clock, with
	 * corrections) and t2 (ours). */
	bool xchg_valid;
	int64_t t1, t2;

	/** The Delay_Req schedule and the one in flight. */
	struct {
		bool armed;		/**< next_ns is valid */
		int64_t next_ns;	/**< when the next one is due */
		uint16_t next_seq;	/**< sequenceId of the next one */
		/** logMinDelayReqInterval from the last Delay_Resp */
		int8_t log_interval;
		bool outstanding;	/**< sent, Delay_Resp awaited */
		bool stamped;		/**< t3 known */
		uint16_t seq;
		int64_t t3;
		/** the exchange before t3 (xchg_valid at stamp time) */
		bool have_xchg;
		int64_t t1, t2;
	} req;

	/** Path delays accepted, a ring of params.delay_filter_len. */
	struct {
		int64_t ring[DPN_PTP_MAX_DELAY_FILTER];
		unsigned int count;	/**< values in the ring */
		unsigned int head;	/**< where the next one goes */
		unsigned int refused;	/**< outliers in a row */
	} filter;

	bool delay_valid;
	int64_t delay_ns;	/**< filtered mean path delay */
	int64_t offset_ns;	/**< last offset, valid once samples > 0 */
	/** offset samples since the master was chosen, counted up to
	 * DPN_PTP_CALIBRATE_SAMPLES */
	unsigned int samples;
	bool sample_ready;
	struct dpn_ptp_sample sample;

	struct dpn_ptp_counters cnt;
};

/** Start listening with @p p (copied). @p now_ns is not used yet:
 * every timer starts from a message. */
void dpn_ptp_slave_init(struct dpn_ptp_slave *s,
			const struct dpn_ptp_params *p, int64_t now_ns);

enum dpn_ptp_rx_result {
	DPN_PTP_RX_IGNORED,
	DPN_PTP_RX_BAD,
	DPN_PTP_RX_OK,
	DPN_PTP_RX_SAMPLE,
};

/**
 * A received message: @p msg points at the PTP header (after Ethernet
 * for L2, after UDP for UDP), @p len its length (padding after
 * messageLength is fine), @p rx_ns our clock when it arrived. That time
 * must be precise for event messages (it is t2); for general messages
 * a coarse reading of the same clock will do (it times Announce
 * receipt). @return DPN_PTP_RX_SAMPLE when a new offset sample is ready
 * (dpn_ptp_slave_sample).
 */
enum dpn_ptp_rx_result dpn_ptp_slave_rx(struct dpn_ptp_slave *s,
					const void *msg, size_t len,
					int64_t rx_ns);

/**
 * Timers (announce receipt timeout, foreign master window) and the
 * Delay_Req schedule. When a Delay_Req is due, writes it
 * (DPN_PTP_DELAY_REQ_LEN bytes) into @p buf, its sequenceId into
 * *@p seq, and returns its length; else 0 (also when @p len is too
 * small, the request staying due). Its originTimestamp is zero (allowed
 * by 11.3.2: the master does not use it, and our clock may not be on
 * the PTP timescale). The caller sends it and then reports when it
 * left with dpn_ptp_slave_tx_stamp(). Call often (every few ms).
 */
size_t dpn_ptp_slave_poll(struct dpn_ptp_slave *s, int64_t now_ns,
			  void *buf, size_t len, uint16_t *seq);

/** The Delay_Req @p seq left at @p tx_ns (t3); others are ignored. */
void dpn_ptp_slave_tx_stamp(struct dpn_ptp_slave *s, uint16_t seq,
			    int64_t tx_ns);

/**
 * Our clock was stepped by @p delta_ns: move every time kept from it,
 * so that timers and the exchanges in flight stay consistent.
 */
void dpn_ptp_slave_clock_step(struct dpn_ptp_slave *s, int64_t delta_ns);

/** 1 with the newest sample (once), 0 none. */
int dpn_ptp_slave_sample(struct dpn_ptp_slave *s, struct dpn_ptp_sample *out);

enum dpn_ptp_state dpn_ptp_slave_state(const struct dpn_ptp_slave *s);

/** The selected master, NULL when none. */
const struct dpn_ptp_master *
dpn_ptp_slave_master(const struct dpn_ptp_slave *s);

/**
 * The dataset comparison of 9.3.4 for two masters heard on our one
 * port: < 0 when @p a is better, > 0 when @p b is, 0 for the same port.
 */
int dpn_ptp_master_cmp(const struct dpn_ptp_master *a,
		       const struct dpn_ptp_master *b);

/*
 * IEEE 1588 stamps latched by NICs that stamp PTP event frames only
 * (rte_eth_timesync_*), mapped onto the served clock (hwts.c).
 */

/** The device side; rte_eth_timesync_* in dpntpd, fakes in tests. */
struct dpn_ptp_hwts_ops {
	int (*enable)(uint16_t port_id);
	int (*read_time)(uint16_t port_id, struct timespec *ts);
	/** @p flags: the mbuf's timesync field (the register index). */
	int (*read_rx)(uint16_t port_id, struct timespec *ts,
		       uint32_t flags);
	int (*read_tx)(uint16_t port_id, struct timespec *ts);
};

struct dpn_ptp_hwts {
	const struct dpn_ptp_hwts_ops *ops;
	uint16_t port_id;
	bool on;			/**< enabled and its clock readable */
	uint64_t nb_pairs;		/**< calibrations since the last restart */
	int64_t nic_ns, served_ns;	/**< the newest pair */
	int64_t window_ns;		/**< its served-clock read window */
	int64_t anchor_nic_ns, anchor_served_ns; /**< rate measured from */
	double rate;			/**< NIC ns per served ns */
	uint64_t restarts;		/**< model dropped: a clock jumped */
	uint64_t read_failures;		/**< calibrations with no reading */
	uint64_t mismatches;		/**< stamps not the frame's */
};

/** How far a frame's wire time may precede its software time... */
#define DPN_PTP_HWTS_BEFORE_NS INT64_C(5000000)
/** ... and follow it (the clocks' disagreement), for its stamp. */
#define DPN_PTP_HWTS_AFTER_NS INT64_C(100000)

/**
 * Enable the port's IEEE 1588 stamping and check its clock reads.
 * @return 0, or a negative errno (-ENOTSUP: the PMD has none).
 */
int dpn_ptp_hwts_open(struct dpn_ptp_hwts *h,
		      const struct dpn_ptp_hwts_ops *ops, uint16_t port_id);

/**
 * Read the NIC clock between two readings of the served clock
 * (@p now(@p arg)): one more pair for the model. Call about once a
 * second. @return 0, or a negative errno.
 */
int dpn_ptp_hwts_calibrate(struct dpn_ptp_hwts *h, int64_t (*now)(void *),
			   void *arg);

/**
 * The receive stamp the NIC latched, on the served clock, for the frame
 * received at @p sw by software (the TSC at rx_burst).
 * @return 0; -EAGAIN before the first calibration; -ERANGE when the
 * stamp cannot be that frame's (counted in mismatches); the device's
 * error (typically -EINVAL: nothing latched).
 */
int dpn_ptp_hwts_rx(struct dpn_ptp_hwts *h, uint32_t flags, int64_t sw,
		    int64_t *served);

/** The same for the transmit stamp of the frame sent at @p sw. */
int dpn_ptp_hwts_tx(struct dpn_ptp_hwts *h, int64_t sw, int64_t *served);

/** How long a Delay_Req's transmit register is waited for. */
#define DPN_PTP_HWTS_TX_WAIT_NS INT64_C(100000000)

enum dpn_ptp_hwts_tx_result {
	DPN_PTP_HWTS_TX_WAIT,	/**< not latched yet: ask again */
	DPN_PTP_HWTS_TX_NIC,	/**< *t3 is the NIC's stamp */
	DPN_PTP_HWTS_TX_SW,	/**< *t3 is the software time given */
};

/**
 * t3 of a Delay_Req that software saw leave at @p sw, @p waited_ns
 * after it was queued: the NIC's transmit stamp where the port has the
 * registers and it fits; WAIT while it may still come (up to
 * DPN_PTP_HWTS_TX_WAIT_NS); else @p sw.
 */
enum dpn_ptp_hwts_tx_result
dpn_ptp_hwts_tx_time(struct dpn_ptp_hwts *h, int64_t sw, int64_t waited_ns,
		     int64_t *t3);

#endif
