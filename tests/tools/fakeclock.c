/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A test-only host clock for `refclock system` (LD_PRELOAD): every
 * clock_gettime(CLOCK_REALTIME) of the process reads the real clock plus
 * an offset in nanoseconds, a native int64 at the start of the file
 * named by DPN_FAKECLOCK, mapped shared so that the test steps it by
 * rewriting the file while the process runs. The machine's clock is
 * never touched: a time namespace cannot shift CLOCK_REALTIME.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static const volatile int64_t *offset_ns;

/* Also called by clock_gettime() itself: other libraries' constructors
 * may read the clock before ours runs. */
__attribute__((constructor))
static void
fakeclock_init(void)
{
	const char *path = getenv("DPN_FAKECLOCK");
	void *p;
	int fd;

	if (real_clock_gettime != NULL)
		return;
	real_clock_gettime = (int (*)(clockid_t, struct timespec *))
		dlsym(RTLD_NEXT, "clock_gettime");
	if (path == NULL || (fd = open(path, O_RDONLY)) < 0)
		return;
	p = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED)
		offset_ns = p;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int64_t ns;
	int ret;

	if (real_clock_gettime == NULL)
		fakeclock_init();
	ret = real_clock_gettime(id, ts);
	if (ret != 0 || id != CLOCK_REALTIME || offset_ns == NULL)
		return ret;
	ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + *offset_ns;
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return ret;
}
