/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_METRICS_H
#define DPN_METRICS_H

/**
 * @file
 * Metrics for monitoring systems: a Prometheus endpoint (`metrics
 * ADDRESS:PORT`, served by libmicrohttpd in a control thread) and DPDK
 * telemetry commands under /dpntp/ (dpdk-telemetry.py).
 *
 * A scrape copies what it exposes into a struct dpn_metrics_snapshot
 * (dpn_metrics_collect: per-lcore counters summed, ethdev stats read, the
 * clock snapshot read), then writes the text from that copy
 * (dpn_metrics_write). Workers are never stopped or signalled; they only
 * keep writing their own counters. The writer is DPDK-free so that its
 * output is unit tested; this header includes no DPDK header.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dpn_health.h"
#include "dpn_stats.h"

/** Queues with per-queue counters (RTE_ETHDEV_QUEUE_STAT_CNTRS). */
#define DPN_METRICS_MAX_QUEUES 16
/** Restrict rules exposed one by one; more would swamp Prometheus. */
#define DPN_METRICS_MAX_RULES 1000
/** Trusted keys exposed one by one (DPN_NTPAUTH_MAX_KEYS). */
#define DPN_METRICS_MAX_AUTH_KEYS 64
#define DPN_METRICS_NAME_LEN 64
#define DPN_METRICS_RULE_LEN 256

struct dpn_runtime;
struct dpn_conf_metrics;

/** One ethdev extended statistic. */
struct dpn_metrics_xstat {
	char name[DPN_METRICS_NAME_LEN];
	uint64_t value;
};

/** One DPDK port: rte_eth_stats, xstats and its NIC clock fit. */
struct dpn_metrics_port {
	uint16_t port_id;
	char name[DPN_METRICS_NAME_LEN];
	char driver[DPN_METRICS_NAME_LEN];
	bool link_up;
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_missed, rx_errors, tx_errors, rx_nombuf;
	unsigned int nb_queues;		/**< with per-queue counters */
	uint64_t q_rx_packets[DPN_METRICS_MAX_QUEUES];
	uint64_t q_tx_packets[DPN_METRICS_MAX_QUEUES];
	uint64_t q_rx_bytes[DPN_METRICS_MAX_QUEUES];
	uint64_t q_tx_bytes[DPN_METRICS_MAX_QUEUES];
	bool nic_clock;			/**< stamps packets, fit running */
	double nic_clock_offset_s;	/**< last residual of the fit */
	double nic_clock_jitter_s;
	const char *rx_stamp_source;	/**< dpn_rx_stamp_source_name() */
	uint64_t rx_stamped_nic, rx_stamped_tsc;
	double rx_stamp_residual_s;	/**< the stamps' map: RMS */
	unsigned int nb_xstats;
	struct dpn_metrics_xstat *xstats;
};

/** One worker lcore's poll loop. */
struct dpn_metrics_worker {
	unsigned int lcore_id;
	uint64_t busy_cycles;		/**< cycles on polls that found work */
	uint64_t total_cycles;
};

/** One restrict rule as written, with its counters. */
struct dpn_metrics_rule {
	char text[DPN_METRICS_RULE_LEN];
	uint64_t hits, drops, kods;
};

/** One key the server trusts, with its counters (never its material). */
struct dpn_metrics_auth_key {
	uint32_t id;
	char type[16];			/**< "MD5", "SHA1", "AES128CMAC" */
	uint64_t requests;		/**< requests with a MAC under its ID */
	uint64_t good;			/**< ... whose MAC verified */
	uint64_t bad;			/**< ... whose MAC did not */
	uint64_t replies;		/**< replies signed with it */
};

/** The NTS server (what `show nts` prints; all 0 while NTS is off). */
struct dpn_metrics_nts {
	bool enabled;			/**< ntsservercert configured */
	double key_age_s;		/**< of the key sealing new cookies */
	uint64_t rotations;		/**< key rotations since start */
	unsigned int ke_sessions;	/**< NTS-KE connections open */
	uint64_t ke_handshakes;		/**< TLS 1.3 + ntske/1 established */
	uint64_t ke_handshake_failures;
	uint64_t ke_served;		/**< responses without an Error */
	uint64_t ke_bad_requests;	/**< responses with Error 0 or 1 */
	uint64_t ke_internal_errors;	/**< responses with Error 2 */
	uint64_t ke_timeouts;		/**< closed before the response */
	uint64_t ke_aborted;		/**< client gone or TLS error */
	uint64_t ke_cookies;		/**< New Cookie records sent */
};

/** The served clock (what `show sysinfo` prints). */
struct dpn_metrics_clock {
	bool synced;
	char reference[64];		/**< the system peer, or "none" */
	char refid[16];			/**< ".GPS." text or dotted IPv4 */
	unsigned int stratum;
	unsigned int leap;
	int precision;			/**< log2 seconds */
	double root_delay_s;
	double root_dispersion_s;
	double offset_s;		/**< reference - served, last sample */
	double jitter_s;
	double frequency_ppm;
	uint64_t samples;
	uint64_t steps;
};

/** One upstream source (server, pool member, refclock). */
struct dpn_metrics_source {
	char name[64];			/**< as `show peers` names it */
	char tally[2];			/**< ntpq's tally code */
	unsigned int stratum;
	unsigned int reach;		/**< the 8-bit register */
	double poll_s;
	double offset_s;
	double delay_s;
	double jitter_s;
	bool selected;			/**< the system peer */
	uint64_t requests;
	uint64_t replies;
	uint64_t refused;
};

/** Room for a PTP port identity ("001122.fffe.334455-65535"). */
#define DPN_METRICS_PTP_ID_LEN 32

/** The built-in PTP slave of a `refclock ptp` line (`show ptp`). */
struct dpn_metrics_ptp {
	unsigned int port;		/**< DPDK port index */
	unsigned int domain;
	char transport[8];		/**< "udp4" or "l2" */
	char state[16];			/**< "listening", "uncalibrated",
					  * "slave" */
	bool have_master;
	char master[DPN_METRICS_PTP_ID_LEN];	/**< its port identity */
	char grandmaster[DPN_METRICS_PTP_ID_LEN];	/**< clock identity */
	unsigned int priority1, priority2, clock_class, clock_accuracy;
	unsigned int variance, steps_removed;
	bool ptp_timescale;		/**< else ARB */
	int utc_offset;			/**< currentUtcOffset, s */
	bool utc_offset_valid;
	double offset_s;		/**< master minus us, last sample */
	double mean_path_delay_s;
	const char *rx_stamps;		/**< "nic" or "tsc" */
	const char *tx_stamps;		/**< "tsc" */
	uint64_t rx_announce, rx_sync, rx_follow_up, rx_delay_resp;
	uint64_t tx_delay_req;
	uint64_t rx_bad, rx_other_domain, rx_not_master, rx_unmatched;
	uint64_t delay_outliers, master_changes, announce_timeouts;
	uint64_t delay_resp_missing;
	uint64_t rx_stamp_nic, rx_stamp_tsc;
	uint64_t tx_stamps_seen, tx_unstamped, tx_failed;
	uint64_t igmp_reports;
};

/** One `refclock shm|sock|pps|phc|ptp` line (`show refclocks`). */
struct dpn_metrics_refclock {
	unsigned int index;		/**< among the refclock lines */
	char name[64];			/**< its source name, "PPS(pps0)" */
	char type[8];			/**< "shm", "sock", "pps", "phc", "ptp" */
	char refid[8];			/**< up to 4 characters */
	char target[256];		/**< segment, path or PTP port */
	unsigned int line;		/**< in the configuration */
	bool open;			/**< its driver works */
	bool up;			/**< delivering (last 8 polls) */
	bool selected;			/**< the system peer */
	char tally[2];			/**< ntpq's tally code */
	unsigned int reach;
	int poll;			/**< log2 s of a filtered sample */
	uint64_t readings;		/**< taken into its filter */
	uint64_t rejected;		/**< refused (driver, too old) */
	uint64_t unnumbered;		/**< pulses with no second */
	uint64_t samples;		/**< filtered, to selection */
	uint64_t losses;		/**< times it stopped delivering */
	double offset_s;		/**< last filtered sample */
	double dispersion_s;		/**< its spread */
	double jitter_s;		/**< the source's clock filter */
	bool has_reading;		/**< one taken since start */
	double last_reading_age_s;	/**< time since the last one */
	char error[160];		/**< why not open, or last error */
	bool is_ptp;			/**< type ptp: @c ptp is filled */
	struct dpn_metrics_ptp ptp;
};

/** Everything one scrape exposes: a plain copy. */
struct dpn_metrics_snapshot {
	const char *version;
	double tsc_hz;
	struct dpn_stats stats;		/**< workers and management summed */
	unsigned int nb_workers;
	struct dpn_metrics_worker *workers;
	unsigned int nb_ports;
	struct dpn_metrics_port *ports;
	unsigned int nb_rules_total;	/**< may exceed nb_rules */
	unsigned int nb_rules;
	struct dpn_metrics_rule *rules;
	unsigned int nb_auth_keys_total;	/**< trusted keys */
	unsigned int nb_auth_keys;
	struct dpn_metrics_auth_key *auth_keys;
	struct dpn_metrics_nts nts;
	struct dpn_metrics_clock clock;
	unsigned int nb_sources;
	struct dpn_metrics_source *sources;
	unsigned int nb_refclocks;
	struct dpn_metrics_refclock *refclocks;
	struct dpn_health_verdict health;	/**< not valid: unhealthy */
};

/** The two text formats a scraper can ask for. */
enum dpn_metrics_format {
	DPN_METRICS_PROMETHEUS,		/**< text/plain; version=0.0.4 */
	DPN_METRICS_OPENMETRICS,	/**< application/openmetrics-text */
};

/** Content-Type of @p fmt. */
const char *dpn_metrics_content_type(enum dpn_metrics_format fmt);

/**
 * Choose the format from an HTTP Accept header (NULL: none):
 * OpenMetrics when it names application/openmetrics-text.
 */
enum dpn_metrics_format dpn_metrics_negotiate(const char *accept);

/**
 * Write @p s to @p f in @p fmt (DPDK-free).
 * @return 0, or -1 if a write to @p f failed.
 */
int dpn_metrics_write(FILE *f, const struct dpn_metrics_snapshot *s,
		      enum dpn_metrics_format fmt);

/** Free the arrays of a snapshot (the struct itself is the caller's). */
void dpn_metrics_snapshot_free(struct dpn_metrics_snapshot *s);

/*
 * Collection, HTTP and telemetry (need DPDK and the running daemon).
 */

/**
 * Bind to the daemon's state and register the /dpntp/ telemetry
 * commands. Call once, after dpn_runtime_init(), before the workers start.
 * @return 0 or a negative errno.
 */
int dpn_metrics_init(struct dpn_runtime *ctx);

/**
 * Fill @p s from the running daemon; free it with
 * dpn_metrics_snapshot_free(). Any thread but a worker lcore.
 * @return 0 or -ENOMEM.
 */
int dpn_metrics_collect(struct dpn_metrics_snapshot *s);

/**
 * Serve GET /metrics on @p where from the control thread
 * "dpntp-metrics".
 * @return 0, or a negative errno with a message in @p err.
 */
int dpn_metrics_http_start(const struct dpn_conf_metrics *where, char *err,
			   size_t errlen);

/** Stop the HTTP thread and close its socket (no-op if not started). */
void dpn_metrics_http_stop(void);

/**
 * Stop HTTP and detach from the daemon's state: scrapes and telemetry
 * commands that come later (DPDK's telemetry thread outlives the data
 * plane) fail instead of reading freed memory. Before
 * dpn_dataplane_fini().
 */
void dpn_metrics_fini(void);

#endif /* DPN_METRICS_H */
