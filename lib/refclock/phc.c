/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `refclock phc /dev/ptpN`: a PTP hardware clock (a NIC's, or the
 * hypervisor's ptp_kvm) read against the host's CLOCK_REALTIME.
 *
 * The kernel offers three ioctls, best first: PTP_SYS_OFFSET_PRECISE, a
 * cross-timestamp the hardware takes at one instant (no window at
 * all); PTP_SYS_OFFSET_EXTENDED, host reads taken by the driver just
 * around the device read; PTP_SYS_OFFSET, host reads taken around the
 * whole driver call, so its windows also hold the driver's locking. A
 * driver has the first two only if it implements them.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/ptp_clock.h>

#include "dpn_refclock.h"

static const char *const phc_method_names[] = {
	[DPN_REFCLOCK_PHC_PRECISE] = "PTP_SYS_OFFSET_PRECISE",
	[DPN_REFCLOCK_PHC_EXTENDED] = "PTP_SYS_OFFSET_EXTENDED",
	[DPN_REFCLOCK_PHC_BASIC] = "PTP_SYS_OFFSET",
};

/* How many triplets to ask @p m for: a cross-timestamp is one. */
static unsigned int
phc_nb_samples(enum dpn_refclock_phc_method m)
{
	return m == DPN_REFCLOCK_PHC_PRECISE ? 1 : DPN_REFCLOCK_PHC_SAMPLES;
}

/*
 * The kernel operations. The handle is the file descriptor.
 */

static int64_t
ptp_ns(const struct ptp_clock_time *t)
{
	return t->sec * 1000000000LL + t->nsec;
}

static int
phc_kernel_open(void *arg, const char *path)
{
	/* The PTP_SYS_OFFSET ioctls only read: no write access needed. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * An ioctl the device does not have. ptp_ioctl() answers EOPNOTSUPP
 * for a method the driver lacks and ENOTTY for a request number its
 * kernel predates; EINVAL is what other character devices (and old
 * drivers) give an unknown request, and our own arguments are always
 * valid (n_samples within PTP_MAX_SAMPLES, reserved fields zero).
 */
static int
phc_ioctl_error(int e)
{
	if (e == EOPNOTSUPP || e == ENOTTY || e == EINVAL)
		return -EOPNOTSUPP;
	return -e;
}

static int
phc_read_precise(int fd, struct dpn_refclock_phc_read *out)
{
	struct ptp_sys_offset_precise req;

	memset(&req, 0, sizeof(req));
	if (ioctl(fd, PTP_SYS_OFFSET_PRECISE, &req) < 0)
		return phc_ioctl_error(errno);
	out->n = 1;
	out->before[0] = ptp_ns(&req.sys_realtime);
	out->after[0] = out->before[0];
	out->phc[0] = ptp_ns(&req.device);
	return 0;
}

static int
phc_read_extended(int fd, unsigned int n, struct dpn_refclock_phc_read *out)
{
	struct ptp_sys_offset_extended req;
	unsigned int i;

	memset(&req, 0, sizeof(req));
	req.n_samples = n;
	if (ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &req) < 0)
		return phc_ioctl_error(errno);
	for (i = 0; i < n; i++) {
		out->before[i] = ptp_ns(&req.ts[i][0]);
		out->phc[i] = ptp_ns(&req.ts[i][1]);
		out->after[i] = ptp_ns(&req.ts[i][2]);
	}
	out->n = n;
	return 0;
}

static int
phc_read_basic(int fd, unsigned int n, struct dpn_refclock_phc_read *out)
{
	struct ptp_sys_offset req;
	unsigned int i;

	memset(&req, 0, sizeof(req));
	req.n_samples = n;
	if (ioctl(fd, PTP_SYS_OFFSET, &req) < 0)
		return phc_ioctl_error(errno);
	/* sys, phc, sys, phc, ..., sys: each PHC read between two host
	 * reads, which it shares with its neighbours. */
	for (i = 0; i < n; i++) {
		out->before[i] = ptp_ns(&req.ts[2 * i]);
		out->phc[i] = ptp_ns(&req.ts[2 * i + 1]);
		out->after[i] = ptp_ns(&req.ts[2 * i + 2]);
	}
	out->n = n;
	return 0;
}

static int
phc_kernel_read(void *arg, int handle, enum dpn_refclock_phc_method method,
		unsigned int nb_samples, struct dpn_refclock_phc_read *out)
{
	unsigned int n = nb_samples;

	if (n == 0)
		return -EINVAL;
	if (n > DPN_REFCLOCK_PHC_SAMPLES)
		n = DPN_REFCLOCK_PHC_SAMPLES;
	if (n > PTP_MAX_SAMPLES)
		n = PTP_MAX_SAMPLES;
	switch (method) {
	case DPN_REFCLOCK_PHC_PRECISE:
		return phc_read_precise(handle, out);
	case DPN_REFCLOCK_PHC_EXTENDED:
		return phc_read_extended(handle, n, out);
	case DPN_REFCLOCK_PHC_BASIC:
		return phc_read_basic(handle, n, out);
	default:
		return -EOPNOTSUPP;
	}
}

static void
phc_kernel_close(void *arg, int handle)
{
	if (handle >= 0)
		close(handle);
}

const struct dpn_refclock_phc_ops dpn_refclock_phc_kernel_ops = {
	.open = phc_kernel_open,
	.read = phc_kernel_read,
	.close = phc_kernel_close,
	.arg = NULL,
};

/*
 * The driver.
 */

static int
phc_read(struct dpn_refclock_phc *p, enum dpn_refclock_phc_method m,
	 struct dpn_refclock_phc_read *rd)
{
	memset(rd, 0, sizeof(*rd));
	return p->ops.read(p->ops.arg, p->handle, m, phc_nb_samples(m), rd);
}

int
dpn_refclock_phc_open(struct dpn_refclock_phc *p, const char *path,
		      const struct dpn_refclock_phc_ops *ops, char *err,
		      size_t errlen)
{
	struct dpn_refclock_phc_read rd;
	int ret[DPN_REFCLOCK_PHC_NONE];
	enum dpn_refclock_phc_method m;
	int h;

	memset(p, 0, sizeof(*p));
	p->ops = ops != NULL ? *ops : dpn_refclock_phc_kernel_ops;
	p->handle = -1;
	p->method = DPN_REFCLOCK_PHC_NONE;
	h = p->ops.open(p->ops.arg, path);
	if (h < 0) {
		snprintf(err, errlen, "phc %s: %s", path, strerror(-h));
		return h;
	}
	p->handle = h;

	/* Any failure moves on: a driver may have a method and still
	 * fail it (a cross-timestamp the hardware cannot take now). */
	for (m = DPN_REFCLOCK_PHC_PRECISE; m < DPN_REFCLOCK_PHC_NONE; m++) {
		ret[m] = phc_read(p, m, &rd);
		if (ret[m] == 0) {
			p->method = m;
			return 0;
		}
	}
	/* One reason for all three when they agree (a device that is not
	 * a PHC: the usual case): the long form does not fit the 160
	 * bytes `show refclocks` and the metrics keep of an error, nor
	 * telemetry's 128. */
	if (ret[0] == ret[1] && ret[1] == ret[2])
		snprintf(err, errlen, "phc %s: cannot read it against the "
			 "host clock (all three PTP_SYS_OFFSET ioctls: %s)",
			 path, strerror(-ret[0]));
	else
		snprintf(err, errlen, "phc %s: cannot read it against the "
			 "host clock (%s: %s; %s: %s; %s: %s)", path,
			 phc_method_names[0], strerror(-ret[0]),
			 phc_method_names[1], strerror(-ret[1]),
			 phc_method_names[2], strerror(-ret[2]));
	p->ops.close(p->ops.arg, p->handle);
	p->handle = -1;
	return ret[DPN_REFCLOCK_PHC_BASIC];
}

/*
 * The triplet with the narrowest window: the one the fewest delays
 * (interrupts, bus contention) fell into. A window where the host
 * clock went back (a step during the read) says nothing.
 * @return its index, or -1 when there is none.
 */
static int
phc_narrowest(const struct dpn_refclock_phc_read *rd)
{
	int64_t width, best_width = INT64_MAX;
	int best = -1;
	unsigned int i;

	for (i = 0; i < rd->n; i++) {
		width = rd->after[i] - rd->before[i];
		if (width >= 0 && width < best_width) {
			best_width = width;
			best = (int)i;
		}
	}
	return best;
}

/* Read with the current method; on -EOPNOTSUPP (a method can go away,
 * a driver reloaded without cross-timestamps) step down once. */
static int
phc_read_fallback(struct dpn_refclock_phc *p, struct dpn_refclock_phc_read *rd)
{
	int ret = phc_read(p, p->method, rd);

	if (ret != -EOPNOTSUPP || p->method == DPN_REFCLOCK_PHC_BASIC)
		return ret;
	p->method++;
	return phc_read(p, p->method, rd);
}

int
dpn_refclock_phc_sample(struct dpn_refclock_phc *p,
			struct dpn_refclock_reading *out)
{
	struct dpn_refclock_phc_read rd;
	int64_t width;
	int ret, i;

	if (p->handle < 0 || p->method >= DPN_REFCLOCK_PHC_NONE)
		return -EBADF;
	ret = phc_read_fallback(p, &rd);
	if (ret == 0 && (rd.n == 0 || rd.n > DPN_REFCLOCK_PHC_SAMPLES))
		ret = -EIO;
	i = ret == 0 ? phc_narrowest(&rd) : -1;
	if (ret == 0 && i < 0)
		ret = -EAGAIN;
	if (ret < 0) {
		p->errors++;
		return ret;
	}

	width = rd.after[i] - rd.before[i];
	out->sys_ns = rd.before[i] + width / 2;
	out->ref_ns = rd.phc[i];
	out->leap = 0;
	out->pulse = false;
	p->last_width_ns = width;
	p->samples++;
	return 1;
}

void
dpn_refclock_phc_close(struct dpn_refclock_phc *p)
{
	if (p->handle < 0)
		return;
	p->ops.close(p->ops.arg, p->handle);
	p->handle = -1;
	p->method = DPN_REFCLOCK_PHC_NONE;
}
