/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_CLOCK_H
#define DPN_CLOCK_H

/**
 * @file
 * The server clock: a linear model from a counter (the TSC, or a NIC's
 * clock) to UTC, published by the management lcore and read lock-free by
 * the workers through a seqlock.
 *
 * DPDK-free: counters are passed in, so the math is unit tested with a
 * fake clock. The server never touches the host's clock; it keeps its own.
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpn_ntp.h"

#define DPN_CLOCK_MAX_PORTS 8

/**
 * UTC(counter) = ns_base + (counter - cnt_base) * mult / 2^32.
 * mult is nanoseconds per counter tick in 32.32 fixed point.
 */
struct dpn_clock_model {
	uint64_t cnt_base;
	int64_t ns_base;	/**< Unix ns at cnt_base */
	uint64_t mult;		/**< 0 = model not valid */
};

/** Evaluate a model; counters before the base give earlier times. */
static inline int64_t
dpn_clock_model_ns(const struct dpn_clock_model *m, uint64_t cnt)
{
	__int128 d = (__int128)(int64_t)(cnt - m->cnt_base) *
		(__int128)m->mult;

	return m->ns_base + (int64_t)(d >> 32);
}

/** Make a model through (cnt, ns) with @p ns_per_tick. */
void dpn_clock_model_set(struct dpn_clock_model *m, uint64_t cnt, int64_t ns,
			 double ns_per_tick);

/** The model's rate, nanoseconds per tick. */
double dpn_clock_model_rate(const struct dpn_clock_model *m);

/** Everything a worker needs to stamp and answer: one consistent copy. */
struct dpn_clock_snapshot {
	struct dpn_clock_model tsc;			/**< TSC -> UTC */
	struct dpn_clock_model nic[DPN_CLOCK_MAX_PORTS]; /**< NIC -> UTC */
	struct dpn_ntp_sysinfo sysinfo;	/**< wire-ready server fields */
	bool synced;
	uint64_t generation;		/**< bumped on every publish */
};

/** The published clock: a seqlock around one snapshot. */
struct dpn_clock {
	uint32_t seq;		/**< odd while the writer is updating */
	struct dpn_clock_snapshot snap;
} __attribute__((aligned(64)));

/** Zero the clock: unsynchronized, no model. */
void dpn_clock_init(struct dpn_clock *c);

/** Publish a new snapshot (one writer only: the management lcore). */
void dpn_clock_publish(struct dpn_clock *c,
		       const struct dpn_clock_snapshot *s);

/** Read a consistent copy of the snapshot. Lock-free, wait-free for the
 * writer; a reader retries only while a publish is in progress.
 */
static inline void
dpn_clock_read(const struct dpn_clock *c, struct dpn_clock_snapshot *out)
{
	uint32_t s1, s2;

	do {
		s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		while (s1 & 1) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
			s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		}
		memcpy(out, &c->snap, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
	} while (s1 != s2);
}

/*
 * Tracking a reference that can be read directly (the host's
 * CLOCK_REALTIME for `refclock system`, later a PHC): feed it pairs of
 * (counter, reference ns) and it keeps the model continuous, slewing out
 * offsets (at most DPN_CLOCK_MAX_SLEW) and stepping only past
 * DPN_CLOCK_STEP_NS.
 */
#define DPN_CLOCK_STEP_NS 128000000LL	/* ntpd's 0.128 s step threshold */
#define DPN_CLOCK_MAX_SLEW 500e-6	/* 500 ppm, as ntpd */
#define DPN_CLOCK_SLEW_TIME 0.5		/* seconds to slew an offset out */
#define DPN_CLOCK_FREQ_WINDOW 64	/* samples used for the frequency */
/*
 * How far the measured counter rate may be from its nominal rate. The
 * nominal TSC rate is itself an estimate (DPDK calibrates it at start,
 * in a VM often to within 0.1 %), so this only rejects nonsense.
 */
#define DPN_CLOCK_MAX_FREQ_ERROR 0.01
/*
 * A reference reading this far from where the frequency estimate says it
 * should be is a jump of the reference (its own step or slew), not a
 * frequency: the frequency window restarts after it, and the offset is
 * slewed out as any other.
 */
#define DPN_CLOCK_JUMP_NS 50000LL
#define DPN_CLOCK_JUMP_MIN_SAMPLES 4

struct dpn_clock_tracker {
	double nominal_ns_per_tick;	/**< from the counter's nominal rate */
	double ns_per_tick;		/**< current frequency estimate */
	struct dpn_clock_model model;	/**< the model being disciplined */
	unsigned int nb_samples;
	unsigned int head;
	uint64_t hist_cnt[DPN_CLOCK_FREQ_WINDOW];
	int64_t hist_ns[DPN_CLOCK_FREQ_WINDOW];
	int64_t last_offset_ns;		/**< reference - model at last sample */
	int64_t last_sample_ns;		/**< reference time of last sample */
	uint64_t last_cnt;		/**< counter at the last sample */
	uint64_t jumps;			/**< reference jumps seen */
	double jitter_ns;		/**< RMS of recent offsets */
	uint64_t steps;			/**< how many times it stepped */
	/* Tuning, set by dpn_clock_tracker_init() to the DPN_CLOCK_*
	 * defaults above (a directly read reference); the upstream
	 * discipline loosens them for noisier network measurements. */
	double slew_time_s;		/**< seconds to slew an offset out */
	int64_t jump_ns;		/**< innovation that restarts the window */
	int64_t step_ns;		/**< step above this offset */
	/** A window shorter than this leaves the frequency alone: noisy
	 * network samples a few seconds apart say nothing about it. */
	int64_t freq_min_span_ns;
};

/** Start a tracker for a counter running at @p counter_hz. */
void dpn_clock_tracker_init(struct dpn_clock_tracker *t, uint64_t counter_hz);

/**
 * Feed one sample: the counter read at the same instant as the reference
 * said @p ref_ns. Updates t->model. Returns the offset (reference minus
 * model before the update) in ns.
 */
int64_t dpn_clock_tracker_sample(struct dpn_clock_tracker *t, uint64_t cnt,
				 int64_t ref_ns);

/**
 * Set the model through (@p cnt, @p ref_ns) at once and restart the
 * frequency window, keeping the frequency estimate (a step).
 */
void dpn_clock_tracker_step(struct dpn_clock_tracker *t, uint64_t cnt,
			    int64_t ref_ns);

/** Replace the frequency estimate (from a drift file or a measurement),
 * ns per tick. @return 0, or -1 (ignored) when it is further than
 * DPN_CLOCK_MAX_FREQ_ERROR from the nominal rate. */
int dpn_clock_tracker_set_rate(struct dpn_clock_tracker *t,
			       double ns_per_tick);

/** log2 of @p ns expressed in seconds, rounded up (NTP precision). */
int dpn_clock_precision_log2(double ns);

#endif /* DPN_CLOCK_H */
