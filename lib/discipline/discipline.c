/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The upstream discipline: ntpd's step/slew/panic rules around the
 * clock tracker, and the drift file.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpn_discipline.h"

static int64_t
abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

void
dpn_discipline_init(struct dpn_discipline *d,
		    const struct dpn_discipline_params *p,
		    uint64_t counter_hz, uint64_t cnt, int64_t ns)
{
	memset(d, 0, sizeof(*d));
	d->p = *p;
	d->counter_hz = counter_hz;
	dpn_clock_tracker_init(&d->tracker, counter_hz);
	dpn_clock_tracker_sample(&d->tracker, cnt, ns);
	d->state = DPN_DISC_UNSET;
}

static void
step(struct dpn_discipline *d, uint64_t cnt, int64_t offset_ns)
{
	int64_t now = dpn_clock_model_ns(&d->tracker.model, cnt);

	dpn_clock_tracker_step(&d->tracker, cnt, now + offset_ns);
	d->slewing = false;
	d->steps++;
	d->state = DPN_DISC_SYNC;
}

enum dpn_discipline_action
dpn_discipline_update(struct dpn_discipline *d, uint64_t cnt,
		      int64_t offset_ns, double slew_time_s, int64_t jump_ns)
{
	struct dpn_clock_tracker *t = &d->tracker;
	int64_t now = dpn_clock_model_ns(&t->model, cnt);
	int64_t mag = abs64(offset_ns);
	double slew;
	bool big = d->p.step_ns != 0 && mag > d->p.step_ns;

	d->updates++;
	d->last_offset_ns = offset_ns;
	/*
	 * ntpd's panic rule: an offset this large means something is badly
	 * wrong (a broken upstream, a wrong date); only -g lets the very
	 * first update through, as ntpd -g does.
	 */
	if (d->p.panic_ns != 0 && mag > d->p.panic_ns &&
	    !(d->state == DPN_DISC_UNSET && d->p.allow_big_step)) {
		d->state = d->state == DPN_DISC_UNSET ? DPN_DISC_PANIC :
			d->state;
		return DPN_DISC_PANIC_REFUSED;
	}
	if (big) {
		/* At start a big offset is stepped at once (ntpdate -u, then
		 * ntpd); later only after it has lasted stepout. */
		if (d->state == DPN_DISC_UNSET || d->state == DPN_DISC_PANIC) {
			step(d, cnt, offset_ns);
			return DPN_DISC_STEPPED;
		}
		if (d->state != DPN_DISC_SPIKE) {
			d->state = DPN_DISC_SPIKE;
			d->spike_since_ns = now;
			return DPN_DISC_SPIKE_IGNORED;
		}
		if (now - d->spike_since_ns < d->p.stepout_ns)
			return DPN_DISC_SPIKE_IGNORED;
		step(d, cnt, offset_ns);
		return DPN_DISC_STEPPED;
	}
	if (slew_time_s < DPN_CLOCK_SLEW_TIME)
		slew_time_s = DPN_CLOCK_SLEW_TIME;
	t->slew_time_s = slew_time_s;
	t->jump_ns = jump_ns;
	t->freq_min_span_ns = DPN_DISCIPLINE_FREQ_MIN_SPAN_NS;
	/* Steps are decided above; the tracker must only slew. */
	t->step_ns = INT64_MAX;
	/* The tracker takes the time estimate into its frequency window. */
	dpn_clock_tracker_sample(t, cnt, now + offset_ns);
	/*
	 * Then the slew, from the new frequency: at offset / slew_time, at
	 * most DPN_CLOCK_MAX_SLEW, for as long as it takes to remove the
	 * offset; dpn_discipline_tick() ends it.
	 */
	slew = (double)offset_ns / (slew_time_s * 1e9);
	if (slew > DPN_CLOCK_MAX_SLEW)
		slew = DPN_CLOCK_MAX_SLEW;
	else if (slew < -DPN_CLOCK_MAX_SLEW)
		slew = -DPN_CLOCK_MAX_SLEW;
	d->slewing = offset_ns != 0;
	dpn_clock_model_set(&t->model, cnt, now,
			    t->ns_per_tick * (1.0 + (d->slewing ? slew : 0)));
	if (d->slewing)
		d->slew_end_cnt = cnt + (uint64_t)((double)offset_ns / slew /
						   t->ns_per_tick);
	d->state = DPN_DISC_SYNC;
	return DPN_DISC_SLEWED;
}

bool
dpn_discipline_tick(struct dpn_discipline *d, uint64_t cnt)
{
	struct dpn_clock_tracker *t = &d->tracker;

	if (!d->slewing || (int64_t)(cnt - d->slew_end_cnt) < 0)
		return false;
	dpn_clock_model_set(&t->model, d->slew_end_cnt,
			    dpn_clock_model_ns(&t->model, d->slew_end_cnt),
			    t->ns_per_tick);
	d->slewing = false;
	return true;
}

void
dpn_discipline_follow(struct dpn_discipline *d, uint64_t cnt, int64_t ref_ns)
{
	struct dpn_clock_tracker *t = &d->tracker;
	uint64_t steps = t->steps;

	d->slewing = false;
	t->freq_min_span_ns = 0;
	t->slew_time_s = DPN_CLOCK_SLEW_TIME;
	t->jump_ns = DPN_CLOCK_JUMP_NS;
	t->step_ns = DPN_CLOCK_STEP_NS;
	d->last_offset_ns = dpn_clock_tracker_sample(t, cnt, ref_ns);
	d->updates++;
	d->steps += t->steps - steps;
	d->state = DPN_DISC_SYNC;
}

double
dpn_discipline_freq_ppm(const struct dpn_discipline *d)
{
	return (d->tracker.nominal_ns_per_tick / d->tracker.ns_per_tick -
		1.0) * 1e6;
}

int
dpn_discipline_set_freq_ppm(struct dpn_discipline *d, double ppm)
{
	double rate = d->tracker.nominal_ns_per_tick / (1.0 + ppm * 1e-6);

	if (!isfinite(ppm))
		return -1;
	return dpn_clock_tracker_set_rate(&d->tracker, rate);
}

double
dpn_driftfile_convert(double ppm, uint64_t from_hz, uint64_t to_hz)
{
	/* True counter rate = from_hz * (1 + ppm), relative to to_hz. */
	if (from_hz == 0 || to_hz == 0)
		return ppm;
	return ((double)from_hz * (1.0 + ppm * 1e-6) / (double)to_hz - 1.0) *
		1e6;
}

int
dpn_driftfile_read(const char *path, double *ppm, uint64_t *nominal_hz,
		   char *err, size_t errlen)
{
	char line[128], *end;
	FILE *f = fopen(path, "r");
	int ret = 0;

	if (f == NULL) {
		ret = -errno;
		if (ret != -ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		snprintf(err, errlen, "%s: empty", path);
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	errno = 0;
	*ppm = strtod(line, &end);
	if (end == line || errno != 0 || !isfinite(*ppm) ||
	    fabs(*ppm) > 1e6 * DPN_CLOCK_MAX_FREQ_ERROR) {
		snprintf(err, errlen,
			 "%s: first word is not a frequency in ppm (within +-%g)",
			 path, 1e6 * DPN_CLOCK_MAX_FREQ_ERROR);
		return -EINVAL;
	}
	/* ntpd's files have only the ppm; ours also the nominal rate. */
	*nominal_hz = strtoull(end, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (*end != '\0') {
		snprintf(err, errlen, "%s: unexpected text after the frequency",
			 path);
		ret = -EINVAL;
	}
	return ret;
}

int
dpn_driftfile_write(const char *path, double ppm, uint64_t nominal_hz,
		    char *err, size_t errlen)
{
	char tmp[4200], text[96];
	int fd, n, e;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -ENAMETOOLONG;
	}
	n = snprintf(text, sizeof(text), "%.3f %" PRIu64 "\n", ppm,
		     nominal_hz);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		return -e;
	}
	if (write(fd, text, n) != n || fsync(fd) != 0) {
		e = errno != 0 ? errno : EIO;
		snprintf(err, errlen, "%s: %s", tmp, strerror(e));
		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		unlink(tmp);
		return -e;
	}
	return 0;
}
