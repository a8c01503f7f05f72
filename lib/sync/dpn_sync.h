/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_SYNC_H
#define DPN_SYNC_H

/**
 * @file
 * The server clock's synchronization, run by the management lcore: the
 * upstream NTP associations (server, pool) and the `refclock system`
 * reference as sources, their polling through the data plane, source
 * selection, the discipline of the TSC model, leap seconds (leap file,
 * insertion/deletion or smear), holdover, and publishing the clock and
 * the served header fields to the workers.
 *
 * Everything but the dpn_sync_view_*() readers runs on the management
 * lcore only. Control threads read a copy (struct dpn_sync_view) that
 * the management lcore refreshes ten times a second.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_spinlock.h>

#include "dpn_conf.h"
#include "dpn_dataplane.h"
#include "dpn_discipline.h"
#include "dpn_leap.h"
#include "dpn_ntpauth.h"
#include "dpn_ptp.h"
#include "dpn_refclock.h"
#include "dpn_source.h"

/** Associations at once (a pool line brings up to DPN_SYNC_POOL_SIZE). */
#define DPN_SYNC_MAX_ASSOC 64
#define DPN_SYNC_POOL_SIZE 4
/** Index of `refclock system` in the view's sources (when enabled). */
#define DPN_SYNC_REFCLOCK_INDEX 0
/** Polls without a reading before a refclock counts as lost. */
#define DPN_SYNC_REFCLOCK_LOST_POLLS 8

struct dpn_sync_resolver;

/** One upstream association. */
struct dpn_sync_assoc {
	struct dpn_source src;
	unsigned int conf_index;	/**< its server/pool line */
	bool in_use;
	int64_t tx_wait_until_ns;	/**< waiting for the neighbour */
	bool auth;			/**< `key K`: requests signed, */
	struct dpn_ntpauth_key key;	/**< replies must be too */
};

/** The built-in PTP slave of a `refclock ptp` line, for show ptp. */
struct dpn_sync_ptp_info {
	enum dpn_ptp_state state;
	bool have_master;
	struct dpn_ptp_master master;	/**< the one followed */
	struct dpn_ptp_counters counters;
	int64_t offset_ns;		/**< last sample: master minus us */
	int64_t delay_ns;		/**< its mean path delay */
	bool rx_nic;			/**< receive stamps from the NIC */
	uint64_t rx_stamp_nic;		/**< event messages stamped by it */
	uint64_t rx_stamp_tsc;		/**< by the TSC at rx_burst */
	bool ieee1588;			/**< NIC registers (rte_eth_timesync) */
	uint64_t tx_stamps;		/**< Delay_Req transmit times seen */
	uint64_t tx_stamp_nic;		/**< ... of them from the NIC */
	uint64_t hw_mismatch;		/**< register stamps not the frame's */
	uint64_t tx_unstamped;		/**< Delay_Req that got none */
	uint64_t tx_failed;		/**< could not be sent */
	uint64_t igmp_reports;		/**< IGMPv2 joins sent (udp4) */
};

/**
 * What a refclock line reads (its segment, socket, device or port), as
 * `show refclocks` and the metrics' target label name it.
 */
void dpn_sync_refclock_target(const struct dpn_conf_refclock *c, char *buf,
			      size_t len);

/** A `refclock shm|sock|pps|phc|ptp` line at work, for show refclocks. */
struct dpn_sync_refclock_info {
	struct dpn_conf_refclock conf;
	unsigned int source_index;	/**< in the view's sources */
	bool open;			/**< its driver works */
	char error[160];		/**< why not, or its last error */
	uint64_t readings;		/**< readings the driver gave */
	uint64_t rejected;		/**< refused by the driver */
	uint64_t unnumbered;		/**< pulses with no second to go on */
	uint64_t samples;		/**< filtered samples to selection */
	uint64_t losses;		/**< times it stopped delivering */
	int64_t offset_ns;		/**< of the last filtered sample */
	int64_t disp_ns;		/**< its spread */
	int64_t last_reading_ns;	/**< server time of the last one */
	bool up;			/**< read in the last 8 polls */
	struct dpn_sync_ptp_info ptp;	/**< type ptp only */
};

/** Leap second state, as `show sysinfo` prints it. */
enum dpn_sync_leap_mode {
	DPN_SYNC_LEAP_NONE,		/**< no leap file */
	DPN_SYNC_LEAP_STEP,		/**< inserted/deleted at 23:59:60 */
	DPN_SYNC_LEAP_SMEAR,		/**< smeared over leapsmear seconds */
};

/** A consistent copy of the state, for control threads. */
struct dpn_sync_view {
	/** `refclock system` first, then the other refclocks, then the
	 * upstream associations. */
	unsigned int nb_sources;
	struct dpn_source sources[DPN_SYNC_MAX_ASSOC + 1 +
				  DPN_CONF_MAX_REFCLOCKS];
	struct dpn_select_result sel;
	bool synced;
	bool holdover;			/**< synced without a system peer */
	unsigned int leap;		/**< LI served */
	unsigned int stratum;
	uint32_t refid;			/**< host order */
	int64_t ref_ns;
	int64_t root_delay_ns;
	int64_t root_disp_ns;
	int precision;
	int64_t now_ns;			/**< server clock at the copy */
	int64_t offset_ns;		/**< last offset applied */
	double freq_ppm;
	int64_t sys_jitter_ns;
	double clk_wander_ppm;
	enum dpn_discipline_state disc_state;
	uint64_t steps;
	enum dpn_sync_leap_mode leap_mode;
	int leap_next;			/**< +1, -1, 0 */
	int64_t leap_when_s;		/**< Unix s of the next leap */
	int64_t leap_expires_s;		/**< 0 without a leap file */
	int64_t smear_ns;		/**< served minus true time now */
	int tai_offset;
	unsigned int nb_refclocks;
	struct dpn_sync_refclock_info refclocks[DPN_CONF_MAX_REFCLOCKS];
};

struct sync_refclock;

struct dpn_sync {
	struct dpn_dataplane *dp;
	struct dpn_refclock_system *rs;
	struct dpn_conf_discipline dconf;
	unsigned int nb_servers;
	struct dpn_conf_server servers[DPN_CONF_MAX_SERVERS];
	struct dpn_ntpauth_keys keys;

	struct dpn_discipline disc;
	struct dpn_source ref;		/**< `refclock system`, when enabled */
	unsigned int nb_refclocks;	/**< the other refclock lines */
	struct sync_refclock *refclocks;	/**< (refclocks.c) */
	unsigned int nb_assoc;
	struct dpn_sync_assoc assoc[DPN_SYNC_MAX_ASSOC];
	struct dpn_select_params selp;
	struct dpn_select_result sel;
	int64_t peer_update_ns;		/**< system peer sample applied */
	double last_freq_ppm;		/**< for the wander estimate */
	double wander_ppm;

	/* What is served. */
	bool synced;
	int64_t last_sync_ns;		/**< last update from a system peer */
	struct dpn_select_result served;	/**< sel at that update */
	int64_t root_disp_ns;		/**< as last published */
	int precision;

	/* Leap seconds. */
	struct dpn_leap_table leap;
	bool leap_loaded;
	int64_t leap_check_ns;		/**< next expiry warning check */
	int leap_dir;			/**< pending leap: +1, -1, 0 */
	int64_t leap_when_ns;		/**< its instant, Unix ns */
	bool leap_done;			/**< the model went through it */

	/* Drift file. */
	int64_t drift_write_ns;
	bool drift_warned;

	/* Names. */
	struct dpn_sync_resolver *resolver;
	int64_t resolve_due_ns[DPN_CONF_MAX_SERVERS];
	unsigned int resolve_fails[DPN_CONF_MAX_SERVERS];
	bool resolving[DPN_CONF_MAX_SERVERS];

	int64_t next_publish_ns;
	int64_t log_next_ns;		/**< rate limit for remote-caused logs */
	int rx_tsc_off;
	int ts_off;			/**< NIC RX stamp field, -1 none */
	uint64_t ts_flag;

	rte_spinlock_t view_lock;
	struct dpn_sync_view view;
};

/**
 * Start: seed the clock from @p rs's first reading, read the drift and
 * leap files, create the associations (names are resolved in a control
 * thread, retried until they resolve), hook the slow path's server
 * replies. @p allow_big_step is -g.
 * @return 0, or -1 with a message in @p err (then nothing is left
 * running: no dpn_sync_fini()).
 */
int dpn_sync_init(struct dpn_sync *sy, struct dpn_dataplane *dp,
		  const struct dpn_conf *conf, struct dpn_refclock_system *rs,
		  bool allow_big_step, char *err, size_t errlen);

/**
 * One turn of the management loop: reference samples, polls due,
 * selection, discipline, leap, publish. @return work done (0 = idle).
 */
unsigned int dpn_sync_poll(struct dpn_sync *sy);

/** What the health verdict looks at (management lcore only). */
struct dpn_sync_health {
	bool synced;			/**< served synchronized */
	bool has_reference;		/**< a system peer is selected */
	int64_t reference_age_ns;	/**< since its last update, -1 never */
	int64_t offset_ns;		/**< last offset applied */
	int64_t root_distance_ns;	/**< root delay / 2 + dispersion */
};
void dpn_sync_health_read(const struct dpn_sync *sy,
			  struct dpn_sync_health *out);

/** Save the drift file and stop the resolver. */
void dpn_sync_fini(struct dpn_sync *sy);

/** Copy the view (any thread). */
void dpn_sync_view_read(struct dpn_sync *sy, struct dpn_sync_view *out);

/** `show peers`: ntpq -p's table. */
void dpn_sync_show_peers(struct dpn_sync *sy, FILE *f);

/** `show sysinfo`: ntpq -c rv's variables, one per line. */
void dpn_sync_show_sysinfo(struct dpn_sync *sy, FILE *f);

/** The same two as JSON objects (dpntpc --json). */
void dpn_sync_show_peers_json(struct dpn_sync *sy, FILE *f);
void dpn_sync_show_sysinfo_json(struct dpn_sync *sy, FILE *f);

/** `show refclocks`: every refclock line, its driver and its samples. */
void dpn_sync_show_refclocks(struct dpn_sync *sy, FILE *f, bool json);

/** `show ptp`: the PTP slaves' state, master and counters. */
void dpn_sync_show_ptp(struct dpn_sync *sy, FILE *f, bool json);

#endif /* DPN_SYNC_H */
