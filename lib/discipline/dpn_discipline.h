/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_DISCIPLINE_H
#define DPN_DISCIPLINE_H

/**
 * @file
 * The server clock's discipline against upstream NTP sources: turns the
 * combined offset of the selected sources into corrections of the TSC
 * model, with ntpd's rules for stepping (step threshold, panic threshold,
 * -g, stepout), and keeps the frequency in a drift file.
 *
 * The frequency comes from the clock tracker of lib/clock (the span of a
 * window of time estimates, model(cnt) + offset); each offset is slewed
 * out at a bounded rate over a set time and the slew then ends, so an
 * update some polls later finds the model running at the estimated
 * frequency rather than still slewing.
 * DPDK-free; counters and times are passed in, so it is unit tested
 * with a fake clock.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dpn_clock.h"

/*
 * Network samples move the frequency only once their window spans this
 * long: with 100 us of noise that is an error of about 2 ppm, shrinking
 * as the window grows. Until then the frequency is the start value
 * (drift file, or the TSC measured against the host clock).
 */
#define DPN_DISCIPLINE_FREQ_MIN_SPAN_NS (64LL * 1000000000LL)

struct dpn_discipline_params {
	int64_t step_ns;	/**< slew below, step above; 0 = never step */
	int64_t panic_ns;	/**< refuse above; 0 = no limit */
	int64_t stepout_ns;	/**< a spike must last this long to step */
	bool allow_big_step;	/**< -g: the first offset may exceed panic */
};

enum dpn_discipline_state {
	DPN_DISC_UNSET,		/**< no update yet: the first may step */
	DPN_DISC_SYNC,		/**< following the sources */
	DPN_DISC_SPIKE,		/**< an offset above step, waiting stepout */
	DPN_DISC_PANIC,		/**< refused an offset above panic */
};

/** What an update did. */
enum dpn_discipline_action {
	DPN_DISC_SLEWED,
	DPN_DISC_STEPPED,
	DPN_DISC_SPIKE_IGNORED,	/**< above step, not yet for stepout */
	DPN_DISC_PANIC_REFUSED,	/**< above panic: not applied */
};

struct dpn_discipline {
	struct dpn_discipline_params p;
	struct dpn_clock_tracker tracker;	/**< tracker.model: the clock */
	enum dpn_discipline_state state;
	int64_t spike_since_ns;		/**< model time the spike began */
	int64_t last_offset_ns;		/**< last offset given to update */
	uint64_t updates;
	uint64_t steps;
	uint64_t counter_hz;
	bool slewing;			/**< an offset is being slewed out */
	uint64_t slew_end_cnt;		/**< counter at which it is gone */
};

/**
 * Start from a model through (@p cnt, @p ns) (the host clock read once
 * at start) with the counter's nominal rate.
 */
void dpn_discipline_init(struct dpn_discipline *d,
			 const struct dpn_discipline_params *p,
			 uint64_t counter_hz, uint64_t cnt, int64_t ns);

/**
 * Apply @p offset_ns (true time minus the model, measured at counter
 * @p cnt). @p slew_time_s: how long to take to slew it out (about half
 * the system peer's poll interval); @p jump_ns: a change of the time
 * estimate beyond what the frequency predicts that restarts the
 * frequency window (a few times the sources' jitter).
 */
enum dpn_discipline_action
dpn_discipline_update(struct dpn_discipline *d, uint64_t cnt,
		      int64_t offset_ns, double slew_time_s, int64_t jump_ns);

/**
 * End a slew that is done: from then on the model runs at the frequency
 * estimate. Call often (the management loop); @return true when the
 * model changed and should be published.
 */
bool dpn_discipline_tick(struct dpn_discipline *d, uint64_t cnt);

/**
 * Follow a directly read reference (`refclock system`): the tracker's own
 * tight settings, no stepout (the host clock is trusted).
 */
void dpn_discipline_follow(struct dpn_discipline *d, uint64_t cnt,
			   int64_t ref_ns);

/** The counter's frequency error against its nominal rate, in ppm
 * (positive: the counter runs fast, so the model's ns per tick shrink). */
double dpn_discipline_freq_ppm(const struct dpn_discipline *d);

/** Start from a frequency (drift file); refused beyond the tracker's
 * sanity limit. @return 0 or -1. */
int dpn_discipline_set_freq_ppm(struct dpn_discipline *d, double ppm);

/*
 * The drift file: one line, "PPM NOMINAL_HZ", the frequency error in ppm
 * (ntpd's number) and the counter rate it is relative to. DPDK measures
 * the TSC's nominal rate at every start; keeping it lets a reading be
 * carried to a slightly different nominal rate.
 */

/** Read @p path. @return 0, -ENOENT when it does not exist, or another
 * negative errno / -EINVAL with a message in @p err. */
int dpn_driftfile_read(const char *path, double *ppm, uint64_t *nominal_hz,
		       char *err, size_t errlen);

/** Write @p path atomically (temporary file, fsync, rename).
 * @return 0 or a negative errno with a message in @p err. */
int dpn_driftfile_write(const char *path, double ppm, uint64_t nominal_hz,
			char *err, size_t errlen);

/** @p ppm relative to @p from_hz, expressed relative to @p to_hz. */
double dpn_driftfile_convert(double ppm, uint64_t from_hz, uint64_t to_hz);

#endif /* DPN_DISCIPLINE_H */
