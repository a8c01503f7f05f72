/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The readings of one poll interval -> one sample, the way chrony's
 * refclock median filter does it: a reference read many times a poll
 * (a PPS every second, gpsd every fix) has a few readings delayed by the
 * host (a late interrupt, a descheduled writer). Sorting by offset and
 * dropping the outer fifth on each side removes those before averaging
 * the rest, so one late reading cannot move the poll's sample.
 */

#include <math.h>
#include <stdlib.h>

#include "dpn_refclock.h"

/* Dropped from each side: floor(n * 0.2) (integer, so 5 -> 1, 4 -> 0). */
#define FILTER_DROP(n) ((n) / 5)

struct filter_pair {
	int64_t offset_ns;
	int64_t at_ns;
};

void
dpn_refclock_filter_reset(struct dpn_refclock_filter *f)
{
	f->n = 0;
	f->next = 0;
}

void
dpn_refclock_filter_add(struct dpn_refclock_filter *f, int64_t offset_ns,
			int64_t at_ns)
{
	unsigned int i;

	if (f->n < DPN_REFCLOCK_FILTER_MAX) {
		i = f->n++;
	} else {
		/* Full: the oldest goes, the interval's end matters most. */
		i = f->next;
		f->next = (f->next + 1) % DPN_REFCLOCK_FILTER_MAX;
	}
	f->offset_ns[i] = offset_ns;
	f->at_ns[i] = at_ns;
}

static int
filter_cmp(const void *a, const void *b)
{
	const struct filter_pair *x = a, *y = b;

	if (x->offset_ns != y->offset_ns)
		return x->offset_ns < y->offset_ns ? -1 : 1;
	/* Ties in time order, so the result does not depend on qsort. */
	return (x->at_ns > y->at_ns) - (x->at_ns < y->at_ns);
}

/* @p sum / @p k rounded to the nearest, halves up (towards +inf), so
 * a mean does not depend on which reading is the base. */
static int64_t
filter_div(int64_t sum, int64_t k)
{
	int64_t n = sum + k / 2;

	return n >= 0 ? n / k : -((-n + k - 1) / k);
}

unsigned int
dpn_refclock_filter_take(struct dpn_refclock_filter *f, int64_t *offset_ns,
			 int64_t *at_ns, int64_t *disp_ns)
{
	struct filter_pair p[DPN_REFCLOCK_FILTER_MAX];
	int64_t off_sum = 0, at_sum = 0, off_base, at_base, mean;
	unsigned int i, n = f->n, lo, k;
	double var = 0.0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		p[i].offset_ns = f->offset_ns[i];
		p[i].at_ns = f->at_ns[i];
	}
	dpn_refclock_filter_reset(f);
	qsort(p, n, sizeof(p[0]), filter_cmp);

	lo = FILTER_DROP(n);
	k = n - 2 * lo;		/* >= 3n/5, so never 0 */

	/* Sum differences from the first kept one: absolute server times
	 * (~1.8e18 ns) would overflow an int64 sum after five. */
	off_base = p[lo].offset_ns;
	at_base = p[lo].at_ns;
	for (i = lo; i < lo + k; i++) {
		off_sum += p[i].offset_ns - off_base;
		at_sum += p[i].at_ns - at_base;
	}
	mean = off_base + filter_div(off_sum, k);
	*offset_ns = mean;
	*at_ns = at_base + filter_div(at_sum, k);

	if (k <= 2) {
		/* Too few for a deviation: half the spread (0 for one). */
		*disp_ns = (p[lo + k - 1].offset_ns - p[lo].offset_ns + 1) / 2;
		return k;
	}
	/* The sample standard deviation (n - 1): the kept readings are
	 * a sample of the reference's noise, not all of it. */
	for (i = lo; i < lo + k; i++) {
		double d = (double)(p[i].offset_ns - off_base) -
			   (double)off_sum / k;

		var += d * d;
	}
	*disp_ns = llround(sqrt(var / (k - 1)));
	return k;
}
