/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NIC stamps onto UTC: a least squares line through the lower envelope
 * of (stamp, rx_burst UTC) pairs, one envelope point per window.
 */

#include <math.h>
#include <string.h>

#include "dpn_nicfit.h"

/*
 * An envelope point later than the first pass's line by this much and
 * by three times the RMS is left out of the second pass: its window's
 * least delay was long (little traffic, a stalled worker), and late is
 * the only way a point can be wrong when delays are never negative.
 * The floor keeps sub-microsecond scatter from being trimmed for nothing.
 */
#define LATE_MIN_NS 1000.0

void
dpn_nicfit_params_default(struct dpn_nicfit_params *p)
{
	p->window_ns = 1000000000LL;
	p->min_points = 3;
	p->jump_ns = 200000;
}

/* Differences in 64-bit unsigned arithmetic: stamps and times are far
 * from 0, their differences small, and nothing here may overflow. */
static double
dstamp(uint64_t a, uint64_t b)
{
	return (double)(int64_t)(a - b);
}

static double
dutc(int64_t a, int64_t b)
{
	return (double)(int64_t)((uint64_t)a - (uint64_t)b);
}

/* Whether @p ns_per_tick can be this stamp clock's rate. */
static bool
rate_ok(const struct dpn_nicfit *f, double ns_per_tick)
{
	double hz = 1e9 / ns_per_tick;

	if (!(hz >= DPN_NICFIT_MIN_HZ && hz <= DPN_NICFIT_MAX_HZ))
		return false;
	if (f->nominal_hz > 0 &&
	    !(fabs(hz / f->nominal_hz - 1.0) <= DPN_NICFIT_MAX_FREQ_ERROR))
		return false;
	return true;
}

void
dpn_nicfit_init(struct dpn_nicfit *f, const struct dpn_nicfit_params *p,
		double nominal_hz)
{
	memset(f, 0, sizeof(*f));
	if (p != NULL)
		f->p = *p;
	else
		dpn_nicfit_params_default(&f->p);
	if (f->p.min_points < 2)
		f->p.min_points = 2;
	if (f->p.min_points > DPN_NICFIT_POINTS)
		f->p.min_points = DPN_NICFIT_POINTS;
	if (nominal_hz > 0) {
		f->nominal_hz = nominal_hz;
		f->rate = 1e9 / nominal_hz;
	} else {
		f->learning = true;
	}
}

/*
 * Delays in a window are measured from the fit when there is one, else
 * from the window's first pair at the nominal or learned rate: choosing
 * the least delay only needs the rate good enough that its error over
 * one window stays near the delays' spread, and the fit then refines it.
 */
static void
open_window(struct dpn_nicfit *f, uint64_t stamp, int64_t utc_ns)
{
	f->win_open = true;
	f->win_start_ns = utc_ns;
	f->win_pairs = 0;
	f->sum_delay = 0;
	f->best_delay = INFINITY;
	f->learn_rate = INFINITY;
	if (f->fit_ok) {
		f->ref = f->base;
		f->ref_off_ns = f->fit_off_ns;
		f->ref_rate = f->fit_rate;
	} else {
		f->ref.stamp = stamp;
		f->ref.utc_ns = utc_ns;
		f->ref_off_ns = 0;
		f->ref_rate = f->rate;
	}
}

static void
push_point(struct dpn_nicfit *f, const struct dpn_nicfit_point *pt)
{
	if (f->nb_pts == DPN_NICFIT_POINTS) {
		f->pts[f->head] = *pt;
		f->head = (f->head + 1) % DPN_NICFIT_POINTS;
	} else {
		f->pts[(f->head + f->nb_pts) % DPN_NICFIT_POINTS] = *pt;
		f->nb_pts++;
	}
}

/* Least squares through the points marked in @p keep, centred first
 * (x reaches 1e10 ticks and more). @return false when degenerate. */
static bool
fit_line(const double *x, const double *y, const bool *keep, unsigned int n,
	 double *off, double *rate)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0;
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		mx += x[i];
		my += y[i];
		k++;
	}
	if (k < 2)
		return false;
	mx /= k;
	my /= k;
	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (!(sxx > 0))
		return false;
	*rate = sxy / sxx;
	*off = my - *rate * mx;
	return true;
}

/* RMS about the line of the kept points; marks late ones in @p late. */
static double
residuals(const double *x, const double *y, const bool *keep, unsigned int n,
	  double off, double rate, bool *late)
{
	double r, ss = 0, rms;
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		r = y[i] - off - rate * x[i];
		ss += r * r;
		k++;
	}
	rms = k > 0 ? sqrt(ss / k) : 0;
	for (i = 0; late != NULL && i < n; i++) {
		r = y[i] - off - rate * x[i];
		late[i] = r > 3 * rms && r > LATE_MIN_NS;
	}
	return rms;
}

/* Fit the ring, and make the model from it (mult 0 when not valid). */
static void
refit(struct dpn_nicfit *f)
{
	double x[DPN_NICFIT_POINTS], y[DPN_NICFIT_POINTS];
	bool keep[DPN_NICFIT_POINTS], late[DPN_NICFIT_POINTS];
	const struct dpn_nicfit_point *base = &f->pts[f->head], *pt;
	unsigned int i, n = f->nb_pts, dropped = 0;
	double off = 0, rate = 0;
	int64_t ns;

	f->generation++;
	memset(&f->model, 0, sizeof(f->model));
	f->fit_ok = false;
	f->residual_ns = 0;
	if (n < 2)
		return;
	for (i = 0; i < n; i++) {
		pt = &f->pts[(f->head + i) % DPN_NICFIT_POINTS];
		x[i] = dstamp(pt->stamp, base->stamp);
		y[i] = dutc(pt->utc_ns, base->utc_ns);
		keep[i] = true;
	}
	f->fit_ok = fit_line(x, y, keep, n, &off, &rate);
	if (f->fit_ok && n >= 4) {
		residuals(x, y, keep, n, off, rate, late);
		for (i = 0; i < n; i++)
			dropped += late[i];
		if (dropped > 0 && n - dropped >= 3) {
			for (i = 0; i < n; i++)
				keep[i] = !late[i];
			f->fit_ok = fit_line(x, y, keep, n, &off, &rate);
		}
	}
	f->fit_ok = f->fit_ok && rate_ok(f, rate);
	if (!f->fit_ok)
		return;
	f->residual_ns = residuals(x, y, keep, n, off, rate, NULL);
	f->base = *base;
	f->fit_off_ns = off;
	f->fit_rate = rate;
	f->rate = rate;
	if (n < f->p.min_points)
		return;
	/* Based at the newest point: workers evaluate near it, exactly. */
	pt = &f->pts[(f->head + n - 1) % DPN_NICFIT_POINTS];
	ns = base->utc_ns + llround(off + rate * x[n - 1]);
	dpn_clock_model_set(&f->model, pt->stamp, ns, rate);
}

/*
 * The NIC clock was stepped: the held point and this one agree with
 * each other and not with the fit. Start over from the two, keeping the
 * rate (a step does not change it) for choosing the next points.
 */
static void
restart(struct dpn_nicfit *f, const struct dpn_nicfit_point *pt)
{
	f->restarts++;
	f->pending = false;
	f->late_run = 0;
	f->head = 0;
	f->nb_pts = 0;
	push_point(f, &f->pend);
	push_point(f, pt);
	refit(f);
}

static void
take_point(struct dpn_nicfit *f, const struct dpn_nicfit_point *pt)
{
	double off;

	f->points++;
	/* Only a line through min_points points can call a point off: the
	 * first two may be off themselves (a sparse window's least delay). */
	if (f->fit_ok && f->nb_pts >= f->p.min_points) {
		off = dutc(pt->utc_ns, f->base.utc_ns) - f->fit_off_ns -
			f->fit_rate * dstamp(pt->stamp, f->base.stamp);
		if (fabs(off) > (double)f->p.jump_ns) {
			/*
			 * The line no longer holds when points come early
			 * (a delay cannot be negative) twice in a row, or
			 * late twice by the same amount (a step back), or
			 * late DPN_NICFIT_LATE_RUN times in a row (a rate
			 * that was wrong from the start). A window late by
			 * itself is only a window whose pairs all waited:
			 * sparse traffic through a busy host.
			 */
			f->late_run = off > 0 ? f->late_run + 1 : 0;
			if (f->pending &&
			    ((off < 0 && f->pend_off_ns < 0) ||
			     fabs(off - f->pend_off_ns) <= (double)f->p.jump_ns ||
			     f->late_run >= DPN_NICFIT_LATE_RUN)) {
				restart(f, pt);
				return;
			}
			if (f->pending)
				f->outliers++;
			f->pending = true;
			f->pend = *pt;
			f->pend_off_ns = off;
			return;
		}
	}
	if (f->pending) {
		f->pending = false;
		f->outliers++;
	}
	f->late_run = 0;
	push_point(f, pt);
	refit(f);
}

static void
close_window(struct dpn_nicfit *f)
{
	if (f->win_pairs == 0)
		return;
	if (f->learning) {
		/* The rough rate only picks the next windows' points. */
		if (rate_ok(f, f->learn_rate)) {
			f->rate = f->learn_rate;
			f->learning = false;
		}
		return;
	}
	f->delay_ns = f->sum_delay / f->win_pairs - f->best_delay;
	take_point(f, &f->best);
}

void
dpn_nicfit_add(struct dpn_nicfit *f, uint64_t stamp, int64_t utc_ns)
{
	double x, y, d;

	f->pairs++;
	if (!f->win_open) {
		open_window(f, stamp, utc_ns);
	} else if (utc_ns - f->win_start_ns >= f->p.window_ns) {
		close_window(f);
		open_window(f, stamp, utc_ns);
	}
	x = dstamp(stamp, f->ref.stamp);
	y = dutc(utc_ns, f->ref.utc_ns);
	d = y - f->ref_off_ns - f->ref_rate * x;
	f->win_pairs++;
	f->sum_delay += d;
	if (d < f->best_delay) {
		f->best_delay = d;
		f->best.stamp = stamp;
		f->best.utc_ns = utc_ns;
	}
	/*
	 * Learning: over the window's second half, the least UTC span per
	 * tick from the first pair is the rate, off by the first pair's
	 * delay over half a window (about 1e-4): enough to pick points.
	 */
	if (f->learning && y >= f->p.window_ns / 2 && x > 0 &&
	    y / x < f->learn_rate)
		f->learn_rate = y / x;
}

bool
dpn_nicfit_update(struct dpn_nicfit *f, struct dpn_clock_model *out)
{
	if (f->generation == f->published)
		return false;
	f->published = f->generation;
	*out = f->model;
	return true;
}

void
dpn_nicfit_info(const struct dpn_nicfit *f, struct dpn_nicfit_info *out)
{
	memset(out, 0, sizeof(*out));
	out->valid = f->model.mult != 0;
	out->hz = f->fit_ok ? 1e9 / f->fit_rate : 0;
	out->residual_ns = f->residual_ns;
	out->delay_ns = f->delay_ns;
	out->pairs = f->pairs;
	out->points = f->points;
	out->restarts = f->restarts;
	out->outliers = f->outliers;
}
