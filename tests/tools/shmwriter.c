/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpn-shmwriter: a stand-in for gpsd on an NTP SHM segment, for the
 * integration tests of `refclock shm N`.
 *
 *   dpn-shmwriter --unit N --offset SECONDS [--interval MS] [--count K]
 *                 [--mode 0|1] [--leap 0|1|2] [--torn]
 *
 * Every interval (default 1000 ms) it writes one sample: receive time =
 * the host's CLOCK_REALTIME now, clock time = now + offset, so a reader
 * should measure the reference @p offset seconds ahead of the host. It
 * stops after K samples (default and most: 100000) or at SIGTERM/SIGINT,
 * detaches, leaves the segment for its reader and exits 0. It prints
 * nothing but errors (exit 1 for those).
 *
 * Mode 1 follows gpsd's order: clear `valid` and bump `count` (odd: a
 * write in progress), fence, the times, fence, bump `count` again and
 * set `valid`. Mode 0 writes the times, fences and sets `valid`.
 *
 * --torn (mode 1 only) gives a reader the chance to meet torn writes
 * many times in each interval. It cannot make a read torn: a reader compares
 * `count` before and after copying the fields, all in one cache line,
 * within a few nanoseconds, and any instant of any writer's state read
 * whole is consistent. (A write that only sleeps half done is never
 * seen changing: both reads of count agree.) So for a window of TORN_MS
 * (200 ms, or 80 % of a shorter interval) after each sample is written,
 * the writer bumps `count` in a tight loop, and whenever the reader has
 * cleared `valid` it writes a fresh whole sample (gpsd's order) at once.
 * A reader polling every ~10 ms finds `valid` set at each of its ~20
 * polls in the window. Whether a read straddles a bump is luck: dpntpd
 * copies the fields in a few loads, and on the project's 2-vCPU guests
 * none of about 500 reads in test_refclocks.sh was torn, so that test
 * checks only that the served time stays right; tests/unit/
 * test_refclock_shm.c (test_race) races a writer thread against the
 * reader and checks the torn reads it does meet are refused. The reads
 * that get through take whole, correct samples (offset exactly
 * --offset).
 * At the end of the window `valid` is cleared until the next interval.
 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

#define NS 1000000000LL
#define MAX_SAMPLES 100000
#define TORN_MS 200

/* ntpd's driver28 struct shmTime, 64-bit Linux layout (96 bytes). */
struct shm_time {
	int mode;
	volatile int count;
	time_t clock_sec;
	int clock_usec;
	time_t receive_sec;
	int receive_usec;
	int leap;
	int precision;
	int nsamples;
	volatile int valid;
	unsigned int clock_nsec;
	unsigned int receive_nsec;
	int dummy[8];
};

struct opts {
	long unit;
	int64_t offset_ns;
	long interval_ms;
	long count;
	long mode;
	long leap;
	int torn;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = 1;
}

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void
fill_times(volatile struct shm_time *t, const struct opts *o)
{
	int64_t now = clock_ns(CLOCK_REALTIME);
	int64_t ref = now + o->offset_ns;

	t->mode = (int)o->mode;
	t->clock_sec = ref / NS;
	t->clock_nsec = (unsigned int)(ref % NS);
	t->clock_usec = (int)(ref % NS / 1000);
	t->receive_sec = now / NS;
	t->receive_nsec = (unsigned int)(now % NS);
	t->receive_usec = (int)(now % NS / 1000);
	t->leap = (int)o->leap;
	t->precision = -20;
	t->nsamples = 0;
}

static void
write_mode0(volatile struct shm_time *t, const struct opts *o)
{
	fill_times(t, o);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->valid = 1;
}

static void
write_mode1(volatile struct shm_time *t, const struct opts *o)
{
	t->valid = 0;
	t->count++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	fill_times(t, o);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->count++;
	t->valid = 1;
}

/*
 * See the file comment: for the window, a sample is always on offer
 * (a fresh whole one as soon as the reader has cleared `valid`) while
 * count never stands still.
 */
static void
write_torn(volatile struct shm_time *t, const struct opts *o)
{
	long ms = o->interval_ms * 8 / 10;
	int64_t end;

	if (ms > TORN_MS)
		ms = TORN_MS;
	end = clock_ns(CLOCK_MONOTONIC) + ms * 1000000;
	do {
		int i;

		if (t->valid == 0)
			write_mode1(t, o);
		/* A few microseconds of bumps between looks at the time. */
		for (i = 0; i < 1000; i++)
			t->count++;
	} while (clock_ns(CLOCK_MONOTONIC) < end && !stop);
	t->valid = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->count++;
}

static int
parse_long(const char *s, long lo, long hi, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return errno == 0 && end != s && *end == '\0' && *v >= lo && *v <= hi ?
	       0 : -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: dpn-shmwriter --unit N --offset SECONDS "
		"[--interval MS] [--count K] [--mode 0|1] [--leap 0|1|2] "
		"[--torn]\n");
	exit(1);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "unit", required_argument, NULL, 'u' },
		{ "offset", required_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "leap", required_argument, NULL, 'l' },
		{ "torn", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int have_unit = 0, have_offset = 0, c;
	double off;
	char *end;

	*o = (struct opts){ .interval_ms = 1000, .count = MAX_SAMPLES,
			    .mode = 1 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (parse_long(optarg, 0, 255, &o->unit) < 0)
				usage();
			have_unit = 1;
			break;
		case 'o':
			off = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !isfinite(off) ||
			    fabs(off) > 1e6)
				usage();
			o->offset_ns = llround(off * 1e9);
			have_offset = 1;
			break;
		case 'i':
			if (parse_long(optarg, 1, 3600000, &o->interval_ms) < 0)
				usage();
			break;
		case 'c':
			if (parse_long(optarg, 1, MAX_SAMPLES, &o->count) < 0)
				usage();
			break;
		case 'm':
			if (parse_long(optarg, 0, 1, &o->mode) < 0)
				usage();
			break;
		case 'l':
			if (parse_long(optarg, 0, 2, &o->leap) < 0)
				usage();
			break;
		case 't':
			o->torn = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !have_unit || !have_offset)
		usage();
	if (o->torn && o->mode != 1) {
		fprintf(stderr, "dpn-shmwriter: --torn needs mode 1 (mode 0 "
			"readers do not look at count)\n");
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	volatile struct shm_time *t;
	struct timespec next;
	struct opts o;
	long i;
	int id;

	parse_args(argc, argv, &o);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	id = shmget(0x4e545030 + (key_t)o.unit, sizeof(struct shm_time),
		    IPC_CREAT | 0600);
	if (id < 0) {
		fprintf(stderr, "dpn-shmwriter: shmget unit %ld: %s\n", o.unit,
			strerror(errno));
		return 1;
	}
	t = shmat(id, NULL, 0);
	if (t == (void *)-1) {
		fprintf(stderr, "dpn-shmwriter: shmat: %s\n", strerror(errno));
		return 1;
	}

	/* Absolute deadlines: the cadence does not drift by the torn
	 * window or the time a write takes. */
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < o.count && !stop; i++) {
		if (o.torn)
			write_torn(t, &o);
		else if (o.mode == 0)
			write_mode0(t, &o);
		else
			write_mode1(t, &o);
		if (i + 1 == o.count)
			break;
		next.tv_nsec += o.interval_ms % 1000 * 1000000;
		next.tv_sec += o.interval_ms / 1000 + next.tv_nsec / NS;
		next.tv_nsec %= NS;
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
						&next, NULL) == EINTR)
			;
	}
	shmdt((const void *)t);
	return 0;
}
