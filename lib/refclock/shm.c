/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `refclock shm N`: the NTP shared-memory segment that gpsd (and many
 * small GPS tools) write for ntpd's type 28 driver and chrony's SHM.
 *
 * The writer owns the protocol: in mode 1 (gpsd) it bumps `count` before
 * and after writing the times, so a reader that sees the same count on
 * both sides of its copy knows the copy is whole; in mode 0 it only
 * sets `valid` after the times. Either way the reader clears `valid` to
 * say "taken", so one sample is used once however often we poll.
 */

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

#include "dpn_refclock.h"

/*
 * The segment as ntpd's driver28 documentation defines it, which is the
 * layout of the C struct on the writer's ABI. Only 64-bit Linux is
 * supported: time_t is 8 bytes, so clockTimeStampSec sits at offset 8,
 * four bytes of padding follow clockTimeStampUSec, and the whole is 96
 * bytes. The asserts below pin that, since a writer built elsewhere
 * cannot tell us its idea of the layout.
 */
struct shm_time {
	int mode;			/* 0 or 1, see the file comment */
	volatile int count;		/* bumped by a mode 1 writer */
	time_t clock_sec;		/* the reference's time */
	int clock_usec;
	time_t receive_sec;		/* the host's CLOCK_REALTIME */
	int receive_usec;
	int leap;			/* 0 none, 1 insert, 2 delete */
	int precision;			/* log2 s; unused */
	int nsamples;			/* unused */
	volatile int valid;		/* set by the writer, cleared by us */
	unsigned int clock_nsec;	/* newer writers: ns of clock_sec */
	unsigned int receive_nsec;
	int dummy[8];
};

_Static_assert(sizeof(time_t) != 8 ||
	       (offsetof(struct shm_time, clock_sec) == 8 &&
		offsetof(struct shm_time, receive_sec) == 24 &&
		offsetof(struct shm_time, valid) == 48 &&
		offsetof(struct shm_time, clock_nsec) == 52 &&
		sizeof(struct shm_time) == 96),
	       "struct shm_time must match the 64-bit Linux shmTime");

/* The fields a read uses, copied out of the segment. */
struct shm_copy {
	int mode;
	int valid;
	time_t clock_sec, receive_sec;
	int clock_usec, receive_usec;
	unsigned int clock_nsec, receive_nsec;
	int leap;
};

/*
 * Unit tests define this to write into the segment between the two
 * reads of `count`, which makes a torn mode 1 read happen on demand.
 * In the daemon nothing defines it and the weak reference is NULL.
 */
extern void dpn_refclock_shm_test_midread(volatile void *seg)
	__attribute__((weak));

int
dpn_refclock_shm_open(struct dpn_refclock_shm *s, unsigned int unit,
		      unsigned int perm, char *err, size_t errlen)
{
	key_t key = DPN_REFCLOCK_SHM_KEY(unit);
	void *seg;
	int id, ret;

	memset(s, 0, sizeof(*s));
	s->unit = unit;
	s->shmid = -1;

	/* Whoever starts first creates it: gpsd attaches to ours too. */
	id = shmget(key, sizeof(struct shm_time), IPC_CREAT | (perm & 0777));
	if (id < 0) {
		ret = -errno;
		snprintf(err, errlen, "refclock shm %u: shmget(0x%08x): %s%s",
			 unit, (unsigned int)key, strerror(errno),
			 errno == EINVAL ?
			 " (an existing segment is smaller than an NTP SHM)" :
			 "");
		return ret;
	}
	seg = shmat(id, NULL, 0);
	if (seg == (void *)-1) {
		ret = -errno;
		snprintf(err, errlen, "refclock shm %u: shmat: %s", unit,
			 strerror(errno));
		return ret;
	}
	s->shmid = id;
	s->seg = seg;
	return 0;
}

/*
 * Copy the fields, `valid` first: a mode 0 writer sets it after the
 * times, so the times read after it are at least as new.
 */
static void
shm_copy(volatile struct shm_time *t, struct shm_copy *c)
{
	c->mode = t->mode;
	c->valid = t->valid;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	c->clock_sec = t->clock_sec;
	c->clock_usec = t->clock_usec;
	c->clock_nsec = t->clock_nsec;
	c->receive_sec = t->receive_sec;
	c->receive_usec = t->receive_usec;
	c->receive_nsec = t->receive_nsec;
	c->leap = t->leap;
}

/* Seconds that keep sec * 1e9 + ns inside an int64_t. */
#define SHM_MAX_SEC 9000000000LL

/*
 * One time of the segment in Unix ns. The ns field is newer than the
 * protocol: a writer that does not know it leaves zero (or garbage)
 * there, so it counts only where it agrees with the us field.
 * @return 0, or -1 when out of range.
 */
static int
shm_time_ns(time_t sec, int usec, unsigned int nsec, int64_t *ns)
{
	int64_t frac;

	if (usec >= 0 && nsec / 1000 == (unsigned int)usec)
		frac = nsec;
	else
		frac = (int64_t)usec * 1000;
	if (frac < 0 || frac >= 1000000000 || sec < 0 ||
	    (int64_t)sec >= SHM_MAX_SEC)
		return -1;
	*ns = (int64_t)sec * 1000000000 + frac;
	return 0;
}

static int
shm_reject(struct dpn_refclock_shm *s, enum dpn_refclock_shm_reject r)
{
	s->rejects[r]++;
	return -(1 + (int)r);
}

int
dpn_refclock_shm_read(struct dpn_refclock_shm *s,
		      struct dpn_refclock_reading *out)
{
	volatile struct shm_time *t = s->seg;
	struct shm_copy c;
	int count_before, count_after;

	if (t == NULL)
		return 0;
	count_before = t->count;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	shm_copy(t, &c);
	if (dpn_refclock_shm_test_midread != NULL)
		dpn_refclock_shm_test_midread(t);
	/* The copy's loads must be done before count is read again. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	count_after = t->count;

	if (!c.valid) {
		/* Not an error: the writer has nothing new since our last
		 * read. Counted so a silent writer shows. */
		s->rejects[DPN_REFCLOCK_SHM_R_NOT_VALID]++;
		return 0;
	}
	/* Taken or refused, this sample is done with: clear `valid` so a
	 * bad one is not counted again at every poll. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->valid = 0;

	if (c.mode != 0 && c.mode != 1)
		return shm_reject(s, DPN_REFCLOCK_SHM_R_BAD_MODE);
	if (c.mode == 1 && count_before != count_after)
		return shm_reject(s, DPN_REFCLOCK_SHM_R_TORN);
	if (shm_time_ns(c.clock_sec, c.clock_usec, c.clock_nsec,
			&out->ref_ns) < 0 ||
	    shm_time_ns(c.receive_sec, c.receive_usec, c.receive_nsec,
			&out->sys_ns) < 0)
		return shm_reject(s, DPN_REFCLOCK_SHM_R_BAD_TIME);
	out->leap = c.leap;
	out->pulse = false;
	s->samples++;
	return 1;
}

void
dpn_refclock_shm_close(struct dpn_refclock_shm *s)
{
	if (s->seg != NULL)
		shmdt((const void *)s->seg);
	s->seg = NULL;
	s->shmid = -1;
}
