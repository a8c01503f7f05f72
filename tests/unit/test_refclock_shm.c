/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for `refclock shm` (lib/refclock/shm.c) on a real System V
 * segment, written the way gpsd writes it: mode 0 and mode 1 samples
 * read exactly, the ns fields used only when they agree with the us
 * fields, `valid` cleared by each read, a torn mode 1 write refused
 * (made on demand through the driver's test hook), a bad mode and bad
 * times refused and counted, the leap indicator passed through, and a
 * writer thread racing the reader without a mixed sample getting out.
 *
 * The key is fixed by the unit number, so the tests first move into an
 * IPC namespace of their own (root); without one they use a unit no
 * writer uses (200 + pid % 50) and remove the segment afterwards.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "dpn_refclock.h"

/* The segment as ntpd's driver28 page documents it (64-bit Linux),
 * written out here independently of shm.c's copy. */
struct seg {
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

_Static_assert(sizeof(struct seg) == 96, "64-bit Linux shmTime");

#define NS 1000000000LL
#define REJ(r) (-(1 + DPN_REFCLOCK_SHM_R_##r))

static unsigned int unit;
static volatile struct seg *w;	/* the writer's own attachment */
static volatile int midread_bumps;

/* The driver calls this between its two reads of count (see shm.c). */
void dpn_refclock_shm_test_midread(volatile void *seg);

void
dpn_refclock_shm_test_midread(volatile void *seg)
{
	volatile struct seg *t = seg;

	/* A writer that starts its next write while we copy. */
	if (midread_bumps > 0) {
		midread_bumps--;
		t->count++;
	}
}

static void
remove_segment(void)
{
	int id = shmget(DPN_REFCLOCK_SHM_KEY(unit), 0, 0);

	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
}

static int
setup(void **state)
{
	remove_segment();
	midread_bumps = 0;
	return 0;
}

static int
teardown(void **state)
{
	if (w != NULL)
		shmdt((const void *)w);
	w = NULL;
	remove_segment();
	return 0;
}

static void
open_ok(struct dpn_refclock_shm *s)
{
	char err[256] = "";
	int id;

	assert_int_equal(dpn_refclock_shm_open(s, unit, 0600, err,
					       sizeof(err)), 0);
	assert_true(s->shmid >= 0);
	id = shmget(DPN_REFCLOCK_SHM_KEY(unit), 0, 0);
	assert_int_equal(id, s->shmid);
	w = shmat(id, NULL, 0);
	assert_true(w != (void *)-1);
}

/* One sample in gpsd's order: announce (valid 0, count odd), times,
 * done (count even, valid 1). The fences keep the stores in order. */
static void
write_sample(int mode, int64_t clock_ns, int64_t recv_ns, int leap)
{
	w->valid = 0;
	w->count++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	w->mode = mode;
	w->clock_sec = clock_ns / NS;
	w->clock_nsec = clock_ns % NS;
	w->clock_usec = (int)(clock_ns % NS / 1000);
	w->receive_sec = recv_ns / NS;
	w->receive_nsec = recv_ns % NS;
	w->receive_usec = (int)(recv_ns % NS / 1000);
	w->leap = leap;
	w->precision = -20;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	w->count++;
	w->valid = 1;
}

static void
test_open(void **state)
{
	struct dpn_refclock_shm s;
	struct shmid_ds ds;
	char err[256] = "";
	int id;

	/* We create it, with the configured permissions. */
	assert_int_equal(dpn_refclock_shm_open(&s, unit, 0640, err,
					       sizeof(err)), 0);
	assert_int_equal(shmctl(s.shmid, IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_perm.mode & 0777, 0640);
	assert_int_equal(ds.shm_segsz, sizeof(struct seg));
	assert_int_equal(ds.shm_nattch, 1);

	/* Close detaches and leaves the segment to its writer. */
	dpn_refclock_shm_close(&s);
	assert_int_equal(s.shmid, -1);
	assert_null(s.seg);
	id = shmget(DPN_REFCLOCK_SHM_KEY(unit), 0, 0);
	assert_true(id >= 0);
	assert_int_equal(shmctl(id, IPC_STAT, &ds), 0);
	assert_int_equal(ds.shm_nattch, 0);
	dpn_refclock_shm_close(&s);	/* twice is harmless */

	/* A segment under the key that is too small to be an NTP SHM. */
	shmctl(id, IPC_RMID, NULL);
	id = shmget(DPN_REFCLOCK_SHM_KEY(unit), 16, IPC_CREAT | 0600);
	assert_true(id >= 0);
	assert_int_equal(dpn_refclock_shm_open(&s, unit, 0600, err,
					       sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "smaller"));
	assert_null(s.seg);
}

static void
test_writer_first(void **state)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;
	char err[256] = "";
	int id;

	/* gpsd started before us and left a sample: we read it. */
	id = shmget(DPN_REFCLOCK_SHM_KEY(unit), sizeof(struct seg),
		    IPC_CREAT | 0600);
	assert_true(id >= 0);
	w = shmat(id, NULL, 0);
	assert_true(w != (void *)-1);
	write_sample(1, 1800000000 * NS + 7, 1800000000 * NS + 3, 0);

	assert_int_equal(dpn_refclock_shm_open(&s, unit, 0600, err,
					       sizeof(err)), 0);
	assert_int_equal(s.shmid, id);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, 1800000000 * NS + 7);
	assert_int_equal(r.sys_ns, 1800000000 * NS + 3);
	dpn_refclock_shm_close(&s);
}

static void
check_mode(int mode)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;
	const int64_t sys = 1800000000 * NS + 123456789;
	const int64_t ref = sys + 1500;

	open_ok(&s);
	/* A fresh segment has nothing: 0, not an error. */
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 0);

	write_sample(mode, ref, sys, 0);
	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, ref);
	assert_int_equal(r.sys_ns, sys);
	assert_int_equal(r.leap, 0);
	assert_false(r.pulse);
	/* Taken: `valid` cleared for the writer, and not read twice. */
	assert_int_equal(w->valid, 0);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 0);

	write_sample(mode, ref + NS, sys + NS, 0);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, ref + NS);
	assert_int_equal(s.samples, 2);
	assert_int_equal(s.rejects[DPN_REFCLOCK_SHM_R_NOT_VALID], 2);
	assert_int_equal(s.rejects[DPN_REFCLOCK_SHM_R_TORN], 0);
	dpn_refclock_shm_close(&s);
}

static void
test_mode0(void **state)
{
	check_mode(0);
}

static void
test_mode1(void **state)
{
	check_mode(1);
}

static void
test_ns_needs_us(void **state)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;

	open_ok(&s);
	/* ns agrees with us: the ns are used. */
	write_sample(1, 1800000000 * NS + 123456789, 1800000000 * NS + 999, 0);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, 1800000000 * NS + 123456789);
	assert_int_equal(r.sys_ns, 1800000000 * NS + 999);

	/* An old writer that never heard of the ns fields leaves what
	 * was there: the us are used. */
	write_sample(1, 1800000000 * NS, 1800000000 * NS, 0);
	w->clock_usec = 250000;
	w->clock_nsec = 999999999;
	w->receive_usec = 250001;
	w->receive_nsec = 0;
	w->valid = 1;
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, 1800000000 * NS + 250000000);
	assert_int_equal(r.sys_ns, 1800000000 * NS + 250001000);
	dpn_refclock_shm_close(&s);
}

static void
test_torn(void **state)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;

	open_ok(&s);
	write_sample(1, 1800000000 * NS, 1800000000 * NS, 0);
	midread_bumps = 1;
	assert_int_equal(dpn_refclock_shm_read(&s, &r), REJ(TORN));
	assert_int_equal(midread_bumps, 0);
	assert_int_equal(s.rejects[DPN_REFCLOCK_SHM_R_TORN], 1);
	assert_int_equal(s.samples, 0);
	/* Refused and cleared: the next read waits for a new sample. */
	assert_int_equal(w->valid, 0);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 0);

	/* The writer's next sample is whole and is taken. */
	write_sample(1, 1800000001 * NS, 1800000001 * NS, 0);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, 1800000001 * NS);

	/* Mode 0 has no count protocol: a bump does not refuse it. */
	write_sample(0, 1800000002 * NS, 1800000002 * NS, 0);
	midread_bumps = 1;
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, 1800000002 * NS);
	assert_int_equal(s.rejects[DPN_REFCLOCK_SHM_R_TORN], 1);
	dpn_refclock_shm_close(&s);
}

static void
test_bad_mode(void **state)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;

	open_ok(&s);
	write_sample(2, 1800000000 * NS, 1800000000 * NS, 0);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), REJ(BAD_MODE));
	assert_int_equal(w->valid, 0);
	/* Counted once, not at every poll until the writer fixes it. */
	assert_int_equal(dpn_refclock_shm_read(&s, &r), 0);
	assert_int_equal(s.rejects[DPN_REFCLOCK_SHM_R_BAD_MODE], 1);
	write_sample(-1, 1800000000 * NS, 1800000000 * NS, 0);
	assert_int_equal(dpn_refclock_shm_read(&s, &r), REJ(BAD_MODE));
	assert_int_equal(s.rejects[DPN_REFCLOCK_SHM_R_BAD_MODE], 2);
	assert_int_equal(s.samples, 0);
	dpn_refclock_shm_close(&s);
}

/* Write a good sample, then spoil one field. */
static int
read_spoiled(struct dpn_refclock_shm *s, int field, int usec,
	     unsigned int nsec)
{
	struct dpn_refclock_reading r;

	write_sample(1, 1800000000 * NS, 1800000000 * NS, 0);
	if (field == 0) {
		w->clock_usec = usec;
		w->clock_nsec = nsec;
	} else {
		w->receive_usec = usec;
		w->receive_nsec = nsec;
	}
	return dpn_refclock_shm_read(s, &r);
}

static void
test_bad_time(void **state)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;
	int field;

	open_ok(&s);
	for (field = 0; field < 2; field++) {
		/* ns >= 1e9 whether it came from ns or us. */
		assert_int_equal(read_spoiled(&s, field, 1000000, 1000000000u),
				 REJ(BAD_TIME));
		assert_int_equal(read_spoiled(&s, field, 1000000, 0),
				 REJ(BAD_TIME));
		assert_int_equal(read_spoiled(&s, field, -1, 5),
				 REJ(BAD_TIME));
		assert_int_equal(w->valid, 0);
	}
	/* A time before 1970 is no reference's. */
	write_sample(1, 1800000000 * NS, 1800000000 * NS, 0);
	w->clock_sec = -1;
	assert_int_equal(dpn_refclock_shm_read(&s, &r), REJ(BAD_TIME));
	/* Seconds whose ns would overflow an int64. */
	write_sample(1, 1800000000 * NS, 1800000000 * NS, 0);
	w->receive_sec = (time_t)1 << 40;
	assert_int_equal(dpn_refclock_shm_read(&s, &r), REJ(BAD_TIME));
	assert_int_equal(s.rejects[DPN_REFCLOCK_SHM_R_BAD_TIME], 8);
	assert_int_equal(s.samples, 0);

	/* 999999 us with its ns is the last good one. */
	assert_int_equal(read_spoiled(&s, 0, 999999, 999999999u), 1);
	dpn_refclock_shm_close(&s);
}

static void
test_leap(void **state)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;
	int leap;

	open_ok(&s);
	for (leap = 0; leap <= 2; leap++) {
		write_sample(1, 1800000000 * NS, 1800000000 * NS, leap);
		assert_int_equal(dpn_refclock_shm_read(&s, &r), 1);
		assert_int_equal(r.leap, leap);
	}
	dpn_refclock_shm_close(&s);
}

#define RACE_OFFSET 1234567
static volatile int race_stop;

/* Samples far faster than gpsd writes them; each one's clock and
 * receive times differ by RACE_OFFSET, so a copy that mixes two
 * samples shows as a different offset. Between samples the writer
 * waits a varying few hundred loop turns: written back to back, with
 * a CPU of its own, `valid` is set for only nanoseconds at a time and
 * a reader on the other CPU may go 300 ms without one whole sample. */
static void *
race_writer(void *arg)
{
	int64_t i;
	volatile unsigned int spin;

	for (i = 0; !race_stop; i++) {
		int64_t sys = 1800000000 * NS + i * 1000003;

		write_sample(1, sys + RACE_OFFSET, sys, 0);
		for (spin = 0; spin < (unsigned int)(i % 8) * 100; spin++)
			;
	}
	return NULL;
}

static void
test_race(void **state)
{
	struct dpn_refclock_shm s;
	struct dpn_refclock_reading r;
	struct timespec start, now;
	pthread_t t;
	uint64_t polls = 0;

	open_ok(&s);
	race_stop = 0;
	assert_int_equal(pthread_create(&t, NULL, race_writer, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		int ret = dpn_refclock_shm_read(&s, &r);

		assert_true(ret == 1 || ret == 0 || ret == REJ(TORN));
		if (ret == 1)
			assert_int_equal(r.ref_ns - r.sys_ns, RACE_OFFSET);
		if (++polls % 64 == 0)
			sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * NS +
		 (now.tv_nsec - start.tv_nsec) < 300000000);
	race_stop = 1;
	pthread_join(t, NULL);
	assert_true(s.samples > 0);
	dpn_refclock_shm_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mode0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ns_needs_us, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race, setup, teardown),
	};

	/* Our own IPC namespace: unit 0 there is nobody else's. */
	if (unshare(CLONE_NEWIPC) == 0)
		unit = 0;
	else
		unit = 200 + (unsigned int)getpid() % 50;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
