/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `refclock pps /dev/ppsN [clear]`: the edges of a pulse per second,
 * read through the RFC 2783 API (Linux's, from pps-tools' timepps.h).
 *
 * An edge only says where a second begins on the host's clock; which
 * second it is comes from rounding (ref_ns) and, in lib/sync, from
 * another source. So an edge that cannot be a second's start (a glitch
 * on the line, a lost count) is refused here rather than filtered later.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/timepps.h>

#include "dpn_refclock.h"

#define NS_PER_S 1000000000LL

/* The shortest gap between two edges, and how far the gap may differ
 * from the sequence gap's whole seconds: a PPS from a GNSS receiver is
 * within a microsecond; these catch a bouncing line or a count that
 * moved without a pulse. */
#define PPS_MIN_GAP_NS (NS_PER_S / 2)
#define PPS_MAX_SKEW_NS (NS_PER_S / 5)

/*
 * Errnos the kernel operations give beyond those of open(2), so that
 * dpn_refclock_pps_open() can say what went wrong.
 */
#define PPS_E_NOT_PPS ENOTTY		/* time_pps_create() refused it */
#define PPS_E_NO_EDGE EOPNOTSUPP	/* the edge is not in the caps */

/*
 * The kernel operations.
 *
 * The ops hand out small ints; the table maps them to the file and the
 * RFC 2783 handle (the same number on Linux, not by the standard).
 * Devices are opened and read by the management lcore only.
 */

#define PPS_MAX_DEVICES 8

static struct pps_device {
	bool used;
	bool clear;
	int fd;
	pps_handle_t handle;
} pps_devices[PPS_MAX_DEVICES];

static int64_t
timespec_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NS_PER_S + ts->tv_nsec;
}

/*
 * Capture @p want on the device, or keep its current mode when that
 * captures it already: changing the mode needs CAP_SYS_TIME, reading
 * the device does not.
 */
static int
pps_kernel_mode(pps_handle_t h, int want)
{
	pps_params_t params;
	int caps;

	if (time_pps_getcap(h, &caps) < 0)
		return -errno;
	if ((caps & want) == 0)
		return -PPS_E_NO_EDGE;
	if (time_pps_getparams(h, &params) < 0)
		return -errno;
	if ((params.mode & want) != 0)
		return 0;
	params.mode |= want | PPS_TSFMT_TSPEC;
	if (time_pps_setparams(h, &params) < 0)
		return -errno;
	return 0;
}

static int
pps_kernel_open(void *arg, const char *path, bool clear)
{
	struct pps_device *d = NULL;
	pps_handle_t h;
	unsigned int i;
	int fd, ret;

	for (i = 0; i < PPS_MAX_DEVICES && d == NULL; i++)
		if (!pps_devices[i].used)
			d = &pps_devices[i];
	if (d == NULL)
		return -EMFILE;

	/* Read-write for setparams; a read-only node still gives edges. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (time_pps_create(fd, &h) < 0) {
		close(fd);
		return -PPS_E_NOT_PPS;
	}
	ret = pps_kernel_mode(h, clear ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT);
	if (ret < 0) {
		time_pps_destroy(h);	/* LinuxPPS: closes fd */
		return ret;
	}
	d->used = true;
	d->clear = clear;
	d->fd = fd;
	d->handle = h;
	return (int)(d - pps_devices);
}

static struct pps_device *
pps_kernel_device(int handle)
{
	if (handle < 0 || handle >= PPS_MAX_DEVICES ||
	    !pps_devices[handle].used)
		return NULL;
	return &pps_devices[handle];
}

static int
pps_kernel_fetch(void *arg, int handle, struct dpn_refclock_pps_edge *e)
{
	/* A zero timeout: the latest capture, without waiting for one. */
	static const struct timespec now = { 0, 0 };
	struct pps_device *d = pps_kernel_device(handle);
	pps_info_t info;

	if (d == NULL)
		return -EBADF;
	if (time_pps_fetch(d->handle, PPS_TSFMT_TSPEC, &info, &now) < 0)
		return -errno;
	if (d->clear) {
		e->seq = info.clear_sequence;
		e->sys_ns = timespec_ns(&info.clear_timestamp);
	} else {
		e->seq = info.assert_sequence;
		e->sys_ns = timespec_ns(&info.assert_timestamp);
	}
	return 0;
}

static void
pps_kernel_close(void *arg, int handle)
{
	struct pps_device *d = pps_kernel_device(handle);

	if (d == NULL)
		return;
	/* On Linux the handle is the fd: destroy closes it. */
	time_pps_destroy(d->handle);
	d->used = false;
}

const struct dpn_refclock_pps_ops dpn_refclock_pps_kernel_ops = {
	.open = pps_kernel_open,
	.fetch = pps_kernel_fetch,
	.close = pps_kernel_close,
	.arg = NULL,
};

/*
 * The driver.
 */

int
dpn_refclock_pps_open(struct dpn_refclock_pps *p, const char *path,
		      bool clear, const struct dpn_refclock_pps_ops *ops,
		      char *err, size_t errlen)
{
	const char *edge = clear ? "clear" : "assert";
	int h;

	memset(p, 0, sizeof(*p));
	p->ops = ops != NULL ? *ops : dpn_refclock_pps_kernel_ops;
	p->clear = clear;
	p->handle = -1;

	h = p->ops.open(p->ops.arg, path, clear);
	if (h >= 0) {
		p->handle = h;
		return 0;
	}
	if (h == -PPS_E_NOT_PPS)
		snprintf(err, errlen, "pps %s: not a PPS device", path);
	else if (h == -PPS_E_NO_EDGE)
		snprintf(err, errlen, "pps %s: the device cannot capture the "
			 "%s edge", path, edge);
	else if (h == -EPERM)
		snprintf(err, errlen, "pps %s: cannot switch the device to the "
			 "%s edge (needs CAP_SYS_TIME)", path, edge);
	else if (h == -EMFILE)
		snprintf(err, errlen, "pps %s: too many PPS devices open",
			 path);
	else
		snprintf(err, errlen, "pps %s: %s", path, strerror(-h));
	return h;
}

/* Unix ns to the nearest whole second (halves up). */
static int64_t
round_to_second(int64_t ns)
{
	int64_t s = ns / NS_PER_S, rem = ns % NS_PER_S;

	if (rem < 0) {
		rem += NS_PER_S;
		s--;
	}
	if (rem >= NS_PER_S / 2)
		s++;
	return s * NS_PER_S;
}

/* Whether edge @p e can follow the last one a whole number of
 * pulses later. */
static bool
pps_plausible(const struct dpn_refclock_pps *p,
	      const struct dpn_refclock_pps_edge *e)
{
	uint64_t dseq = e->seq - p->last_seq;
	int64_t gap = e->sys_ns - p->last_sys_ns, skew;

	if (gap < PPS_MIN_GAP_NS)
		return false;
	/* A sequence that ran far (or went back: a reset device) cannot
	 * agree with any time gap worth trusting. */
	if (dseq > (uint64_t)(INT64_MAX / NS_PER_S))
		return false;
	skew = gap - (int64_t)dseq * NS_PER_S;
	return skew >= -PPS_MAX_SKEW_NS && skew <= PPS_MAX_SKEW_NS;
}

int
dpn_refclock_pps_read(struct dpn_refclock_pps *p,
		      struct dpn_refclock_reading *out)
{
	struct dpn_refclock_pps_edge e;
	bool ok;
	int ret;

	if (p->handle < 0)
		return -EBADF;
	ret = p->ops.fetch(p->ops.arg, p->handle, &e);
	if (ret < 0)
		return ret;
	/* last_seq starts at 0, which is also Linux's count before the
	 * first edge: nothing captured yet. */
	if (e.seq == p->last_seq)
		return 0;

	ok = !p->have_last || pps_plausible(p, &e);
	/* Judge the next edge against this one even when it is refused:
	 * a glitch then costs the pulse after it too, but a device whose
	 * count or time jumped (a reset, a long outage) is followed again
	 * from its next pulse instead of being refused for ever. */
	p->last_seq = e.seq;
	p->last_sys_ns = e.sys_ns;
	p->have_last = true;
	if (!ok) {
		p->bad++;
		return -EINVAL;
	}

	out->sys_ns = e.sys_ns;
	out->ref_ns = round_to_second(e.sys_ns);
	out->leap = 0;
	out->pulse = true;
	p->samples++;
	return 1;
}

void
dpn_refclock_pps_close(struct dpn_refclock_pps *p)
{
	if (p->handle < 0)
		return;
	p->ops.close(p->ops.arg, p->handle);
	p->handle = -1;
}
