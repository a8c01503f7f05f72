/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NICFIT_H
#define DPN_NICFIT_H

/**
 * @file
 * NIC receive stamps mapped onto the server clock for the PMDs that stamp
 * packets but cannot read their clock (ice, iavf, and net_pcap, whose
 * stamps are the kernel's receive time in microseconds): the mapping is
 * learned from the stamps themselves.
 *
 * The input is pairs (stamp of the latest-stamped packet of a burst, UTC
 * of the rx_burst that returned it, from the server's clock model). A
 * stamp always precedes its rx_burst, so UTC minus the stamp's true time
 * is a delay >= 0 with a small minimum and a long tail (scheduling,
 * batching). Each window of UTC time contributes the pair of least delay
 * under the current estimate, its lower envelope point, and a least
 * squares line through the last DPN_NICFIT_POINTS of those is the map.
 * The map therefore includes the minimum delay (it cannot be told from
 * an offset): mapped stamps sit that much, a few microseconds, late.
 *
 * DPDK-free, no allocation, no logging: one per port, driven by the
 * management lcore, which reads its state through dpn_nicfit_info().
 */

#include <stdbool.h>
#include <stdint.h>

#include "dpn_clock.h"

/** Envelope points in the fit: 32 s with the default window. */
#define DPN_NICFIT_POINTS 32

/*
 * Stamp rates that cannot be a clock: the fit never becomes valid
 * outside them (a PMD that fills the field with something else).
 */
#define DPN_NICFIT_MIN_HZ 1e3
#define DPN_NICFIT_MAX_HZ 10e9
/*
 * How far a fitted rate may be from a given nominal one: oscillators are
 * within 100 ppm and the kernel clock behind pcap stamps slews at most
 * 500 ppm; a line further off comes from too few or too noisy points.
 */
#define DPN_NICFIT_MAX_FREQ_ERROR 0.001
/** Late envelope points in a row that restart the fit (see jump_ns). */
#define DPN_NICFIT_LATE_RUN 8

struct dpn_nicfit_params {
	int64_t window_ns;	/**< UTC span of a window (1 s) */
	/** Envelope points before the map is valid (3; at least 2). */
	unsigned int min_points;
	/**
	 * An envelope point this far off a fit of at least min_points
	 * points is dropped. Two early in a row, two late by the same
	 * amount, or DPN_NICFIT_LATE_RUN late in a row restart the fit:
	 * the NIC clock was stepped, or the line's rate was wrong (sparse
	 * early windows) and its error has grown this large.
	 * Default 200 us: far above
	 * the envelope's scatter (below a microsecond to a few tens),
	 * well below the millisecond steps a PHC or the kernel clock takes.
	 */
	int64_t jump_ns;
};

/** One envelope point: a stamp and the UTC of its rx_burst. */
struct dpn_nicfit_point {
	uint64_t stamp;
	int64_t utc_ns;
};

/** Fitter state: fixed size, no pointers; start it with dpn_nicfit_init(). */
struct dpn_nicfit {
	struct dpn_nicfit_params p;
	double nominal_hz;		/**< 0: unknown */
	double rate;			/**< ns per tick used to pick points */
	bool learning;			/**< no usable rate yet */

	/* The open window, and the line its delays are measured from. */
	bool win_open;
	int64_t win_start_ns;
	struct dpn_nicfit_point ref;	/**< delay = utc - ref - rate * dx */
	double ref_off_ns;		/**< line's offset at ref */
	double ref_rate;		/**< line's ns per tick */
	struct dpn_nicfit_point best;	/**< least delay so far */
	double best_delay;
	double sum_delay;		/**< for the mean delay */
	uint64_t win_pairs;
	double learn_rate;		/**< learning: least ns per tick seen */

	/* The fit: a ring of envelope points, oldest at head. */
	struct dpn_nicfit_point pts[DPN_NICFIT_POINTS];
	unsigned int head;
	unsigned int nb_pts;
	bool fit_ok;			/**< line below is usable */
	struct dpn_nicfit_point base;	/**< the line's origin point */
	double fit_off_ns;		/**< line's offset at base */
	double fit_rate;		/**< line's ns per tick */
	double residual_ns;
	double delay_ns;
	struct dpn_clock_model model;	/**< mult 0: not valid */
	uint64_t generation;		/**< bumped on every refit */
	uint64_t published;		/**< generation update() last gave */

	/* A point off the fit, held to see whether the next one agrees. */
	bool pending;
	unsigned int late_run;		/**< late points in a row */
	struct dpn_nicfit_point pend;
	double pend_off_ns;

	uint64_t pairs;
	uint64_t points;
	uint64_t restarts;
	uint64_t outliers;
};

/** What show and metrics report. */
struct dpn_nicfit_info {
	bool valid;		/**< the model maps stamps to UTC */
	double hz;		/**< fitted stamp rate; 0 before a fit */
	double residual_ns;	/**< RMS of envelope points about the fit */
	/**
	 * Mean delay of the last window's pairs over the fit: how much
	 * later rx_burst runs than the mapped stamp, i.e. what using the
	 * stamps gains over the TSC read at rx_burst.
	 */
	double delay_ns;
	uint64_t pairs;		/**< pairs given to dpn_nicfit_add() */
	uint64_t points;	/**< envelope points (closed windows) */
	uint64_t restarts;	/**< fits restarted by a NIC clock step */
	uint64_t outliers;	/**< envelope points dropped, no restart */
};

/** Fill @p p with the defaults: 1 s windows, 3 points, 200 us jumps. */
void dpn_nicfit_params_default(struct dpn_nicfit_params *p);

/**
 * Start a fitter, with parameters @p p (NULL: the defaults).
 *
 * @param nominal_hz
 *   The stamp unit when the PMD says (1e6 for net_pcap microseconds, 1e9
 *   for nanoseconds), or 0 to learn it: the first window then only
 *   measures a rough rate, and rates outside DPN_NICFIT_MIN_HZ ..
 *   DPN_NICFIT_MAX_HZ are refused.
 */
void dpn_nicfit_init(struct dpn_nicfit *f, const struct dpn_nicfit_params *p,
		     double nominal_hz);

/**
 * Feed one pair: @p stamp of the latest-stamped packet of a burst and
 * @p utc_ns of the rx_burst that returned it. A pair later than the
 * open window's span closes that window: its envelope point is taken
 * and the line refitted (a few hundred flops, once a window); otherwise
 * it costs a few flops and no allocation.
 */
void dpn_nicfit_add(struct dpn_nicfit *f, uint64_t stamp, int64_t utc_ns);

/**
 * Collect the result of the windows closed since the last call.
 *
 * @return true when @p out was rewritten: with the fitted model, or with
 *   mult 0 when there is no valid one (too few points, a refused rate,
 *   or a restart after a step, when the old map is off by the step and
 *   must stop being used). false: nothing new, @p out untouched.
 */
bool dpn_nicfit_update(struct dpn_nicfit *f, struct dpn_clock_model *out);

/** Fill @p out with the fitter's state. */
void dpn_nicfit_info(const struct dpn_nicfit *f, struct dpn_nicfit_info *out);

#endif /* DPN_NICFIT_H */
