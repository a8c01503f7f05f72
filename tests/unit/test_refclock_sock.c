/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for `refclock sock` (lib/refclock/sock.c) over a real Unix
 * datagram socket in a temporary directory: samples as gpsd sends them,
 * a pulse, a leap, datagrams of the wrong magic or size refused and
 * counted, nothing waiting, and the socket file's life (a stale one is
 * replaced, close removes it, a file that is not a socket is left).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "dpn_refclock.h"

/* What gpsd sends, written out here rather than shared with sock.c so
 * the test pins the wire layout. */
struct sample {
	struct timeval tv;
	double offset;
	int pulse;
	int leap;
	int _pad;
	int magic;
};

_Static_assert(sizeof(struct sample) == 40, "chrony's 64-bit layout");

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/dpn-sock-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/refclock.sock", dir);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
send_raw(const void *buf, size_t len)
{
	struct sockaddr_un sa;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&sa,
				sizeof(sa)), (ssize_t)len);
	close(fd);
}

static void
send_sample(long sec, long usec, double offset, int pulse, int leap,
	    int magic)
{
	struct sample m;

	memset(&m, 0, sizeof(m));
	m.tv.tv_sec = sec;
	m.tv.tv_usec = usec;
	m.offset = offset;
	m.pulse = pulse;
	m.leap = leap;
	m.magic = magic;
	send_raw(&m, sizeof(m));
}

static void
open_ok(struct dpn_refclock_sock *s)
{
	char err[256] = "";

	assert_int_equal(dpn_refclock_sock_open(s, path, err, sizeof(err)), 0);
	assert_true(s->fd >= 0);
}

static void
test_samples(void **state)
{
	struct dpn_refclock_sock s;
	struct dpn_refclock_reading r;

	open_ok(&s);
	/* Nothing sent yet: 0 at once, not a wait. */
	assert_int_equal(dpn_refclock_sock_read(&s, &r), 0);

	/* 1.5 ms late host, rounded to the ns. */
	send_sample(1800000000, 250000, 0.0015000004, 0, 0,
		    DPN_REFCLOCK_SOCK_MAGIC);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), 1);
	assert_int_equal(r.sys_ns, 1800000000250000000LL);
	assert_int_equal(r.ref_ns, 1800000000251500000LL);
	assert_false(r.pulse);
	assert_int_equal(r.leap, 0);

	/* A negative offset, a pulse and an announced insertion. */
	send_sample(1800000001, 999999, -0.000002, 1, 1,
		    DPN_REFCLOCK_SOCK_MAGIC);
	send_sample(1800000002, 0, 0.0, 0, 2, DPN_REFCLOCK_SOCK_MAGIC);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), 1);
	assert_int_equal(r.sys_ns, 1800000001999999000LL);
	assert_int_equal(r.ref_ns, 1800000001999997000LL);
	assert_true(r.pulse);
	assert_int_equal(r.leap, 1);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), 1);
	assert_int_equal(r.ref_ns, r.sys_ns);
	assert_int_equal(r.leap, 2);

	assert_int_equal(dpn_refclock_sock_read(&s, &r), 0);
	assert_int_equal(s.samples, 3);
	assert_int_equal(s.bad, 0);
	dpn_refclock_sock_close(&s);
}

static void
test_bad_datagrams(void **state)
{
	struct dpn_refclock_sock s;
	struct dpn_refclock_reading r;
	char big[64];

	open_ok(&s);
	send_sample(1800000000, 0, 0.001, 0, 0, 0x4b434f53); /* byte-swapped */
	assert_int_equal(dpn_refclock_sock_read(&s, &r), -EINVAL);

	/* A 32-bit sender's 32-byte struct, and one longer than ours whose
	 * first 40 bytes would pass. */
	memset(big, 0, sizeof(big));
	send_raw(big, 32);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), -EINVAL);
	{
		struct sample m = { .tv = { 1800000000, 0 },
				    .magic = DPN_REFCLOCK_SOCK_MAGIC };

		memcpy(big, &m, sizeof(m));
		send_raw(big, sizeof(big));
	}
	assert_int_equal(dpn_refclock_sock_read(&s, &r), -EINVAL);

	/* Garbage that has the magic: usec out of range, NaN offset. */
	send_sample(1800000000, 1000000, 0.0, 0, 0, DPN_REFCLOCK_SOCK_MAGIC);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), -EINVAL);
	send_sample(1800000000, 0, NAN, 0, 0, DPN_REFCLOCK_SOCK_MAGIC);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), -EINVAL);

	/* A good one after the bad ones still comes through. */
	send_sample(1800000000, 5, 0.0, 0, 0, DPN_REFCLOCK_SOCK_MAGIC);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), 1);
	assert_int_equal(r.sys_ns, 1800000000000005000LL);
	assert_int_equal(s.bad, 5);
	assert_int_equal(s.samples, 1);
	dpn_refclock_sock_close(&s);
}

static void
test_socket_file(void **state)
{
	struct dpn_refclock_sock s;
	struct dpn_refclock_reading r;
	struct sockaddr_un sa;
	struct stat st;
	char err[256] = "";
	int fd;

	/* A stale socket from a daemon that died: bound, never closed. */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);

	open_ok(&s);
	send_sample(1800000000, 0, 0.0, 0, 0, DPN_REFCLOCK_SOCK_MAGIC);
	assert_int_equal(dpn_refclock_sock_read(&s, &r), 1);

	dpn_refclock_sock_close(&s);
	assert_int_equal(s.fd, -1);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	dpn_refclock_sock_close(&s);	/* twice is harmless */

	/* A regular file there is a configuration mistake, not ours. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(dpn_refclock_sock_open(&s, path, err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);
}

static void
test_path_too_long(void **state)
{
	struct dpn_refclock_sock s;
	char err[256] = "", longpath[200];

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(dpn_refclock_sock_open(&s, longpath, err, sizeof(err)),
			 -ENAMETOOLONG);
	assert_int_equal(s.fd, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_datagrams, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup,
						teardown),
		cmocka_unit_test(test_path_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
