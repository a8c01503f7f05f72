/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clock model math, the seqlock writer and the tracker that disciplines
 * the model to a directly readable reference.
 */

#include <math.h>
#include <string.h>

#include "dpn_clock.h"

void
dpn_clock_model_set(struct dpn_clock_model *m, uint64_t cnt, int64_t ns,
		    double ns_per_tick)
{
	m->cnt_base = cnt;
	m->ns_base = ns;
	m->mult = (uint64_t)llround(ns_per_tick * 4294967296.0);
}

double
dpn_clock_model_rate(const struct dpn_clock_model *m)
{
	return (double)m->mult / 4294967296.0;
}

void
dpn_clock_init(struct dpn_clock *c)
{
	memset(c, 0, sizeof(*c));
	dpn_ntp_sysinfo_set(&c->snap.sysinfo, false, 0, 0, -20, 0, 0, 0, 0);
}

void
dpn_clock_publish(struct dpn_clock *c, const struct dpn_clock_snapshot *s)
{
	uint32_t seq = c->seq;
	uint64_t gen = c->snap.generation;

	__atomic_store_n(&c->seq, seq + 1, __ATOMIC_RELAXED);
	/* Readers must see the odd sequence before any new data. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&c->snap, s, sizeof(*s));
	c->snap.generation = gen + 1;
	__atomic_store_n(&c->seq, seq + 2, __ATOMIC_RELEASE);
}

void
dpn_clock_tracker_init(struct dpn_clock_tracker *t, uint64_t counter_hz)
{
	memset(t, 0, sizeof(*t));
	t->nominal_ns_per_tick = 1e9 / (double)counter_hz;
	t->ns_per_tick = t->nominal_ns_per_tick;
	t->slew_time_s = DPN_CLOCK_SLEW_TIME;
	t->jump_ns = DPN_CLOCK_JUMP_NS;
	t->step_ns = DPN_CLOCK_STEP_NS;
}

void
dpn_clock_tracker_step(struct dpn_clock_tracker *t, uint64_t cnt,
		       int64_t ref_ns)
{
	dpn_clock_model_set(&t->model, cnt, ref_ns, t->ns_per_tick);
	t->nb_samples = 0;
	t->steps++;
	t->hist_cnt[t->head] = cnt;
	t->hist_ns[t->head] = ref_ns;
	t->head = (t->head + 1) % DPN_CLOCK_FREQ_WINDOW;
	t->nb_samples++;
	t->last_offset_ns = 0;
	t->last_sample_ns = ref_ns;
	t->last_cnt = cnt;
}

int
dpn_clock_tracker_set_rate(struct dpn_clock_tracker *t, double ns_per_tick)
{
	if (!(fabs(ns_per_tick / t->nominal_ns_per_tick - 1.0) <=
	      DPN_CLOCK_MAX_FREQ_ERROR))
		return -1;
	t->ns_per_tick = ns_per_tick;
	if (t->model.mult != 0)
		dpn_clock_model_set(&t->model, t->model.cnt_base,
				    t->model.ns_base, ns_per_tick);
	return 0;
}

/* Frequency over the window of samples since the last step. */
static void
tracker_update_freq(struct dpn_clock_tracker *t)
{
	unsigned int n = t->nb_samples < DPN_CLOCK_FREQ_WINDOW ?
		t->nb_samples : DPN_CLOCK_FREQ_WINDOW;
	unsigned int newest = (t->head + DPN_CLOCK_FREQ_WINDOW - 1) %
		DPN_CLOCK_FREQ_WINDOW;
	unsigned int oldest = (t->head + DPN_CLOCK_FREQ_WINDOW - n) %
		DPN_CLOCK_FREQ_WINDOW;
	uint64_t dc;
	double f;

	if (n < 2)
		return;
	dc = t->hist_cnt[newest] - t->hist_cnt[oldest];
	if (dc == 0)
		return;
	if (t->hist_ns[newest] - t->hist_ns[oldest] < t->freq_min_span_ns)
		return;
	f = (double)(t->hist_ns[newest] - t->hist_ns[oldest]) / (double)dc;
	/* A reference that runs wild is not followed. */
	if (fabs(f / t->nominal_ns_per_tick - 1.0) > DPN_CLOCK_MAX_FREQ_ERROR)
		return;
	t->ns_per_tick = f;
}

int64_t
dpn_clock_tracker_sample(struct dpn_clock_tracker *t, uint64_t cnt,
			 int64_t ref_ns)
{
	int64_t model_ns, offset;
	double slew;

	if (t->model.mult == 0) {
		dpn_clock_model_set(&t->model, cnt, ref_ns, t->ns_per_tick);
		t->nb_samples = 0;
		offset = 0;
		goto record;
	}

	/*
	 * Did the reference jump? Compare it with its own extrapolation, not
	 * with the model: the model is being slewed and the two differ.
	 */
	if (t->nb_samples >= DPN_CLOCK_JUMP_MIN_SAMPLES) {
		int64_t innov = ref_ns - t->last_sample_ns -
			(int64_t)((double)(int64_t)(cnt - t->last_cnt) *
				  t->ns_per_tick);

		if (innov > t->jump_ns || innov < -t->jump_ns) {
			t->nb_samples = 0;
			t->jumps++;
		}
	}

	model_ns = dpn_clock_model_ns(&t->model, cnt);
	offset = ref_ns - model_ns;
	if (offset > t->step_ns || offset < -t->step_ns) {
		/* Too far to slew in reasonable time: step, restart freq. */
		dpn_clock_model_set(&t->model, cnt, ref_ns, t->ns_per_tick);
		t->nb_samples = 0;
		t->steps++;
		goto record;
	}

	/*
	 * Keep the model continuous at this instant and run it a little
	 * fast or slow so that the offset is gone after DPN_CLOCK_SLEW_TIME.
	 */
	slew = (double)offset / (t->slew_time_s * 1e9);
	if (slew > DPN_CLOCK_MAX_SLEW)
		slew = DPN_CLOCK_MAX_SLEW;
	else if (slew < -DPN_CLOCK_MAX_SLEW)
		slew = -DPN_CLOCK_MAX_SLEW;
	dpn_clock_model_set(&t->model, cnt, model_ns,
			    t->ns_per_tick * (1.0 + slew));
	t->jitter_ns = sqrt(0.9 * t->jitter_ns * t->jitter_ns +
			    0.1 * (double)offset * (double)offset);

record:
	t->hist_cnt[t->head] = cnt;
	t->hist_ns[t->head] = ref_ns;
	t->head = (t->head + 1) % DPN_CLOCK_FREQ_WINDOW;
	t->nb_samples++;
	tracker_update_freq(t);
	t->last_offset_ns = offset;
	t->last_sample_ns = ref_ns;
	t->last_cnt = cnt;
	return offset;
}

int
dpn_clock_precision_log2(double ns)
{
	int p = -30;

	while (p < 0 && ldexp(1.0, p) * 1e9 < ns)
		p++;
	return p;
}
