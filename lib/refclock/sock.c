/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `refclock sock PATH`: chrony's SOCK protocol, which gpsd speaks to
 * /run/chrony.<device>.sock. Each datagram is one measurement: the host
 * time it was taken at and how far the true time was from it. We bind,
 * the writer sends; a writer that starts first just fails its sends
 * until we are there, so there is no handshake.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "dpn_refclock.h"

/* The datagram, in the sender's native layout (gpsd and chrony share a
 * host): 40 bytes on 64-bit Linux. */
struct sock_sample {
	struct timeval tv;	/* host CLOCK_REALTIME of the measurement */
	double offset;		/* true time minus tv, seconds */
	int pulse;		/* only the phase within the second counts */
	int leap;		/* 0 none, 1 insert, 2 delete */
	int _pad;
	int magic;		/* DPN_REFCLOCK_SOCK_MAGIC */
};

/* Beyond these a datagram is garbage (and would overflow int64 ns). */
#define SOCK_MAX_SEC 8000000000LL
#define SOCK_MAX_OFFSET 1e9

int
dpn_refclock_sock_open(struct dpn_refclock_sock *s, const char *path,
		       char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (strlen(path) >= sizeof(s->path) ||
	    strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "refclock sock %s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* A socket left by a daemon that died blocks bind(); anything
	 * else at that path is not ours to remove. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "refclock sock %s: exists and is not a socket",
				 path);
			return -EEXIST;
		}
		unlink(path);
	}

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "refclock sock %s: socket: %s", path,
			 strerror(errno));
		return ret;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "refclock sock %s: bind: %s", path,
			 strerror(errno));
		close(fd);
		return ret;
	}
	s->fd = fd;
	strcpy(s->path, path);
	return 0;
}

static int
sock_bad(struct dpn_refclock_sock *s)
{
	s->bad++;
	return -EINVAL;
}

int
dpn_refclock_sock_read(struct dpn_refclock_sock *s,
		       struct dpn_refclock_reading *out)
{
	struct sock_sample m;
	ssize_t n;

	if (s->fd < 0)
		return 0;
	/* MSG_TRUNC: the datagram's real length, so a longer one is
	 * refused rather than read as its first 40 bytes. */
	n = recv(s->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		       errno == EINTR ? 0 : -errno;
	if ((size_t)n != sizeof(m) || m.magic != DPN_REFCLOCK_SOCK_MAGIC)
		return sock_bad(s);
	if (m.tv.tv_sec < 0 || m.tv.tv_usec < 0 || m.tv.tv_usec >= 1000000 ||
	    m.tv.tv_sec >= SOCK_MAX_SEC || !isfinite(m.offset) ||
	    fabs(m.offset) > SOCK_MAX_OFFSET)
		return sock_bad(s);

	out->sys_ns = (int64_t)m.tv.tv_sec * 1000000000 +
		      (int64_t)m.tv.tv_usec * 1000;
	out->ref_ns = out->sys_ns + llround(m.offset * 1e9);
	out->pulse = m.pulse != 0;
	out->leap = m.leap;
	s->samples++;
	return 1;
}

void
dpn_refclock_sock_close(struct dpn_refclock_sock *s)
{
	if (s->fd < 0)
		return;
	close(s->fd);
	unlink(s->path);
	s->fd = -1;
}
