/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_REFCLOCK_H
#define DPN_REFCLOCK_H

/**
 * @file
 * References the management lcore disciplines the server clock to.
 *
 * `refclock system`: the host's CLOCK_REALTIME, for hosts where chronyd,
 * ntpd or phc2sys already discipline it. The server's own clock (a TSC
 * model) tracks it within a few microseconds; the host clock is only
 * ever read. It is also the seed of the server clock. (system.c, DPDK)
 *
 * The drivers of chrony's refclocks, DPDK-free and without any notion of
 * the server clock (library dpn_refdrv): each turns what its device or
 * peer delivers into readings, pairs of the reference's time and the
 * host's CLOCK_REALTIME at the same instant. lib/sync maps the host time
 * onto the server clock and filters the readings of a poll interval.
 *
 *   shm.c    `refclock shm N`: the NTP shared-memory segment (gpsd, ntpd
 *            type 28 drivers), modes 0 and 1, count/valid protocol.
 *   sock.c   `refclock sock PATH`: chrony's SOCK datagrams (gpsd).
 *   pps.c    `refclock pps /dev/ppsN`: RFC 2783 edges (timepps.h).
 *   phc.c    `refclock phc /dev/ptpN`: a PTP hardware clock read with the
 *            PTP_SYS_OFFSET ioctls.
 *   filter.c the readings of one poll interval -> one sample (chrony's
 *            median filter).
 *
 * PPS and PHC reach their device through a small table of operations
 * (struct dpn_refclock_pps_ops, dpn_refclock_phc_ops), so unit tests
 * replay recorded edges and offset triplets; the real operations call
 * the kernel.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpn_conf.h"

/*
 * `refclock system`.
 */

/** Sample the reference this often (management loop). */
#define DPN_REFCLOCK_SYSTEM_INTERVAL_NS 100000000LL

struct dpn_refclock_system {
	struct dpn_conf_refclock_system conf;
	int precision;			/**< log2 s, measured or configured */
	int64_t next_poll_ns;		/**< CLOCK_MONOTONIC deadline */
	uint64_t samples;
	int64_t last_read_ns;		/**< how long the best read took */
	uint64_t seed_tsc;		/**< the reading taken at init */
	int64_t seed_ns;
};

/**
 * Prepare from the `refclock system` line: read the host clock once (the
 * seed of the server clock, also without the directive) and measure the
 * precision of reading the server clock.
 */
void dpn_refclock_system_init(struct dpn_refclock_system *rs,
			      const struct dpn_conf_refclock_system *conf);

/** How long dpn_refclock_system_calibrate() measures. */
#define DPN_REFCLOCK_CALIBRATE_US 200000

/**
 * The TSC's rate measured against the host's CLOCK_MONOTONIC, in ns per
 * tick. DPDK's own figure (rte_get_tsc_hz()) is a quick estimate that
 * in a VM has been seen 1500 ppm off: 1.5 ms a second, which a server
 * synchronized only by NTP polls cannot afford before its first update.
 * Sleeps DPN_REFCLOCK_CALIBRATE_US.
 */
double dpn_refclock_system_calibrate(void);

/**
 * When a sample is due (and the directive is there), read the TSC and
 * CLOCK_REALTIME at the same instant into @p tsc and @p real_ns.
 * @return 1 when it took a sample, 0 when none was due.
 */
int dpn_refclock_system_sample(struct dpn_refclock_system *rs,
			       uint64_t *tsc, int64_t *real_ns);

/**
 * Read the TSC and CLOCK_REALTIME at the same instant (the tightest of
 * a few tries). @return the read's width in TSC ticks.
 */
uint64_t dpn_refclock_system_pair(uint64_t *tsc, int64_t *real_ns);

/*
 * Drivers (library dpn_refdrv, DPDK-free).
 */

/** What a driver read: the reference's time at a host instant. */
struct dpn_refclock_reading {
	/** The reference's time, Unix ns (UTC). For a pulse, the edge is
	 * on a whole second of the reference but which one is not known:
	 * ref_ns is sys_ns rounded to the nearest second. */
	int64_t ref_ns;
	/** The host's CLOCK_REALTIME at the same instant, Unix ns. */
	int64_t sys_ns;
	/** The reference's leap indicator (0 none, 1 insert, 2 delete),
	 * where the protocol carries one. */
	int leap;
	/** A PPS edge: only the phase of sys_ns within the second counts. */
	bool pulse;
};

/*
 * SHM.
 */

/** The NTP SHM segment's key for unit @p n ("NTP0" + n). */
#define DPN_REFCLOCK_SHM_KEY(n) (0x4e545030 + (n))

/* Why a segment's sample was not taken. */
#define DPN_REFCLOCK_SHM_REJECTS(X) \
	X(NOT_VALID, "valid flag clear (nothing new)") \
	X(TORN, "count changed during the read (torn write)") \
	X(BAD_MODE, "mode other than 0 or 1") \
	X(BAD_TIME, "times out of range (nanoseconds >= 1e9)")

enum dpn_refclock_shm_reject {
#define DPN_REFCLOCK_SHM_REJECT_ENUM(n, d) DPN_REFCLOCK_SHM_R_##n,
	DPN_REFCLOCK_SHM_REJECTS(DPN_REFCLOCK_SHM_REJECT_ENUM)
#undef DPN_REFCLOCK_SHM_REJECT_ENUM
	DPN_REFCLOCK_SHM_R_MAX
};

struct dpn_refclock_shm {
	unsigned int unit;
	int shmid;		/**< -1 closed */
	volatile void *seg;	/**< the attached struct shmTime */
	uint64_t samples;	/**< readings taken */
	uint64_t rejects[DPN_REFCLOCK_SHM_R_MAX];
};

/**
 * Attach (creating it when it does not exist, with permissions @p perm,
 * chrony's `perm`, default 0600) segment DPN_REFCLOCK_SHM_KEY(@p unit).
 * @return 0, or a negative errno with a message in @p err.
 */
int dpn_refclock_shm_open(struct dpn_refclock_shm *s, unsigned int unit,
			  unsigned int perm, char *err, size_t errlen);

/**
 * Take the segment's sample if there is a new one, following the
 * count/valid protocol: mode 0 reads the fields once, mode 1 reads
 * count before and after and refuses a sample whose count changed.
 * `valid` is cleared after a read (taken or torn), as ntpd does.
 * @return 1 with @p out filled, 0 when there is nothing new (valid
 * clear: counted in rejects[NOT_VALID], so a silent writer shows), or
 * -(1 + reject reason) for the others (counted in s->rejects).
 */
int dpn_refclock_shm_read(struct dpn_refclock_shm *s,
			  struct dpn_refclock_reading *out);

/** Detach (the segment stays for its writer). */
void dpn_refclock_shm_close(struct dpn_refclock_shm *s);

/*
 * SOCK.
 */

/** chrony's SOCK magic ("SOCK"). */
#define DPN_REFCLOCK_SOCK_MAGIC 0x534f434b

struct dpn_refclock_sock {
	int fd;			/**< -1 closed */
	char path[108];		/**< sun_path */
	uint64_t samples;
	uint64_t bad;		/**< wrong size or magic */
};

/**
 * Bind a non-blocking Unix datagram socket at @p path (an old socket
 * file there is removed first).
 * @return 0, or a negative errno with a message in @p err.
 */
int dpn_refclock_sock_open(struct dpn_refclock_sock *s, const char *path,
			   char *err, size_t errlen);

/**
 * Take one datagram: a struct sock_sample (time of the measurement,
 * offset of the true time, pulse, leap, magic). ref_ns = tv + offset.
 * @return 1 with @p out filled, 0 when none is waiting, -EINVAL for a
 * datagram of the wrong size or magic (counted in s->bad).
 */
int dpn_refclock_sock_read(struct dpn_refclock_sock *s,
			   struct dpn_refclock_reading *out);

/** Close and remove the socket file. */
void dpn_refclock_sock_close(struct dpn_refclock_sock *s);

/*
 * PPS.
 */

/** One capture of the device: its sequence number and the edge's
 * host CLOCK_REALTIME. */
struct dpn_refclock_pps_edge {
	uint64_t seq;
	int64_t sys_ns;
};

/** How the PPS driver reaches its device; tests put fakes here. */
struct dpn_refclock_pps_ops {
	/** Open @p path for the assert (or, with @p clear, clear) edge.
	 * @return a handle >= 0 or a negative errno. */
	int (*open)(void *arg, const char *path, bool clear);
	/** The latest capture of the chosen edge, without waiting.
	 * @return 0 or a negative errno. */
	int (*fetch)(void *arg, int handle, struct dpn_refclock_pps_edge *e);
	void (*close)(void *arg, int handle);
	void *arg;
};

/** time_pps_create/setparams/fetch on the real device. */
extern const struct dpn_refclock_pps_ops dpn_refclock_pps_kernel_ops;

struct dpn_refclock_pps {
	struct dpn_refclock_pps_ops ops;
	int handle;		/**< -1 closed */
	bool clear;
	uint64_t last_seq;	/**< sequence of the last edge taken */
	int64_t last_sys_ns;
	bool have_last;
	uint64_t samples;
	uint64_t bad;		/**< edges refused (see read) */
};

/**
 * Open @p path through @p ops (NULL: the kernel's).
 * @return 0, or a negative errno with a message in @p err.
 */
int dpn_refclock_pps_open(struct dpn_refclock_pps *p, const char *path,
			  bool clear, const struct dpn_refclock_pps_ops *ops,
			  char *err, size_t errlen);

/**
 * Take a new edge: 1 with @p out filled (pulse, ref_ns = sys_ns rounded
 * to a second), 0 when the sequence did not move, -EINVAL for an edge
 * that cannot be a pulse per second (under 0.5 s or a sequence gap that
 * disagrees with the time gap by more than 0.2 s; counted in p->bad),
 * or the device's negative errno.
 */
int dpn_refclock_pps_read(struct dpn_refclock_pps *p,
			  struct dpn_refclock_reading *out);

void dpn_refclock_pps_close(struct dpn_refclock_pps *p);

/*
 * PHC.
 */

/** Ways to read a PHC against the host clock, best first. */
enum dpn_refclock_phc_method {
	DPN_REFCLOCK_PHC_PRECISE,	/**< PTP_SYS_OFFSET_PRECISE */
	DPN_REFCLOCK_PHC_EXTENDED,	/**< PTP_SYS_OFFSET_EXTENDED */
	DPN_REFCLOCK_PHC_BASIC,		/**< PTP_SYS_OFFSET */
	DPN_REFCLOCK_PHC_NONE,
};

/** Most (before, phc, after) triplets one read returns. */
#define DPN_REFCLOCK_PHC_SAMPLES 10

/** One read: @p n triplets of host time before, PHC, host time after
 * (for PRECISE one triplet with before == after: the device's own
 * cross-timestamp). All in ns; host times CLOCK_REALTIME. */
struct dpn_refclock_phc_read {
	unsigned int n;
	int64_t before[DPN_REFCLOCK_PHC_SAMPLES];
	int64_t phc[DPN_REFCLOCK_PHC_SAMPLES];
	int64_t after[DPN_REFCLOCK_PHC_SAMPLES];
};

struct dpn_refclock_phc_ops {
	/** @return a handle >= 0 or a negative errno. */
	int (*open)(void *arg, const char *path);
	/** Read with @p method. @return 0, -EOPNOTSUPP when the device
	 * does not have that method, or another negative errno. */
	int (*read)(void *arg, int handle, enum dpn_refclock_phc_method method,
		    unsigned int nb_samples, struct dpn_refclock_phc_read *out);
	void (*close)(void *arg, int handle);
	void *arg;
};

/** The kernel's ioctls on /dev/ptpN. */
extern const struct dpn_refclock_phc_ops dpn_refclock_phc_kernel_ops;

struct dpn_refclock_phc {
	struct dpn_refclock_phc_ops ops;
	int handle;
	enum dpn_refclock_phc_method method;	/**< the first that works */
	int64_t last_width_ns;	/**< read window of the last reading */
	uint64_t samples;
	uint64_t errors;
};

/**
 * Open @p path through @p ops (NULL: the kernel's) and find the best
 * method the device answers (PRECISE, then EXTENDED, then BASIC).
 * @return 0, or a negative errno with a message in @p err.
 */
int dpn_refclock_phc_open(struct dpn_refclock_phc *p, const char *path,
			  const struct dpn_refclock_phc_ops *ops, char *err,
			  size_t errlen);

/**
 * One reading: the triplet with the narrowest window, the host time at
 * its middle, the PHC time as it is (a PHC that runs on TAI needs the
 * refclock's `offset`). @return 1 with @p out filled, or a negative
 * errno (a method that stops working falls back to the next one).
 */
int dpn_refclock_phc_sample(struct dpn_refclock_phc *p,
			    struct dpn_refclock_reading *out);

void dpn_refclock_phc_close(struct dpn_refclock_phc *p);

/*
 * The filter of a poll interval (chrony's refclock median filter).
 */

/** Most readings a poll interval keeps (the newest win). */
#define DPN_REFCLOCK_FILTER_MAX 64

struct dpn_refclock_filter {
	unsigned int n;
	int64_t offset_ns[DPN_REFCLOCK_FILTER_MAX];
	int64_t at_ns[DPN_REFCLOCK_FILTER_MAX];
	unsigned int next;	/**< where the next one goes once full */
};

void dpn_refclock_filter_reset(struct dpn_refclock_filter *f);

/** Add the offset (reference minus server clock) @p offset_ns measured
 * at server time @p at_ns. */
void dpn_refclock_filter_add(struct dpn_refclock_filter *f,
			     int64_t offset_ns, int64_t at_ns);

/**
 * The poll interval's sample: sort by offset, drop the outer 20 % on
 * each side (keep at least one), and give the mean offset, the mean
 * time and the dispersion (the kept offsets' standard deviation, or
 * half their spread when there are two or fewer). Empties the filter.
 * @return the number of readings it kept, 0 when it was empty.
 */
unsigned int dpn_refclock_filter_take(struct dpn_refclock_filter *f,
				      int64_t *offset_ns, int64_t *at_ns,
				      int64_t *disp_ns);

#endif /* DPN_REFCLOCK_H */
