/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a unix stream socket served by one control thread
 * (never a worker lcore). One command per connection, see dpn_ctl.h.
 * Each connection has a receive timeout so a stuck client cannot hold
 * the thread, and lines over the limit get an error, not a truncation.
 *
 * The file is root's, of a chosen group, mode 0660: the group may read
 * (show ...), and the kernel's SO_PEERCRED says whether the peer is root
 * and so may change things (restrict, reload, clear, set).
 */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "dpn_ctl.h"

#define RECV_TIMEOUT_S 5
/* Refusals are logged (someone in the group tried to change things),
 * at most one line per interval, so the group cannot flood the log. */
#define REFUSAL_LOG_INTERVAL_S 10

RTE_LOG_REGISTER(dpn_ctl_logtype, dpntp.ctl, INFO);
#define CTL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpn_ctl_logtype, "dpntp-ctl: " fmt "\n", \
		##__VA_ARGS__)

static int listen_fd = -1;
static pthread_t sock_thread;
static volatile bool sock_stop;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void
write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

/*
 * Read one command line. -1 with a message on timeout, hang-up before
 * anything arrived, a line over the limit, or bytes that are not text.
 */
static int
read_line(int fd, char *buf, size_t size, char *err, size_t errlen)
{
	size_t len = 0;
	char *nl = NULL;

	while (len < size - 1 && nl == NULL) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (nl != NULL)
		len = (size_t)(nl - buf);
	else if (len >= size - 1) {
		snprintf(err, errlen, "command longer than %d bytes",
			 DPN_CTL_MAX_LINE);
		return -1;
	} else if (len == 0) {
		snprintf(err, errlen, "no command received");
		return -1;
	}
	buf[len] = '\0';	/* a last line may come without '\n' */
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "command contains a NUL byte");
		return -1;
	}
	return 0;
}

static void
log_refusal(const struct ucred *cr, const char *line)
{
	static uint64_t next_tsc;
	static unsigned int suppressed;
	uint64_t now = rte_get_tsc_cycles();
	size_t plen = strlen(DPN_CTL_JSON_PREFIX);
	char shown[81];
	unsigned int i;

	if (now < next_tsc) {
		suppressed++;
		return;
	}
	if (strncmp(line, DPN_CTL_JSON_PREFIX, plen) == 0)
		line += plen;
	/* The line is the peer's: no control characters into the log. */
	for (i = 0; i < sizeof(shown) - 1 && line[i] != '\0'; i++)
		shown[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	shown[i] = '\0';
	CTL_LOG(NOTICE, "refused '%s' from uid %u pid %d (needs root); "
		"%u refusal(s) before not logged", shown, cr->uid, cr->pid,
		suppressed);
	suppressed = 0;
	next_tsc = now + REFUSAL_LOG_INTERVAL_S * rte_get_tsc_hz();
}

static void
serve_one(int fd)
{
	char line[DPN_CTL_MAX_LINE + 2];
	char err[256];
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	struct ucred cr = { .uid = (uid_t)-1 };
	socklen_t crlen = sizeof(cr);
	unsigned int flags = 0;
	int ret;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Without credentials the peer is nobody: read-only. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0 &&
	    cr.uid == 0)
		flags |= DPN_CTL_ADMIN;
	ret = read_line(fd, line, sizeof(line), err, sizeof(err));
	if (ret == 0) {
		ret = dpn_ctl_run_line(line, fd, flags, err, sizeof(err));
		if (ret == -EACCES)
			log_refusal(&cr, line);
	}
	if (ret == 0) {
		write_all(fd, DPN_CTL_STATUS_OK "\n",
			  strlen(DPN_CTL_STATUS_OK) + 1);
	} else {
		write_all(fd, DPN_CTL_STATUS_ERR, strlen(DPN_CTL_STATUS_ERR));
		write_all(fd, err, strlen(err));
		write_all(fd, "\n", 1);
	}
}

static void *
sock_main(void *arg)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };

	RTE_SET_USED(arg);
	while (!sock_stop) {
		int fd;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(fd);
		close(fd);
	}
	return NULL;
}

int
dpn_ctl_sock_start(const char *path, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		goto fail;
	/* A stale socket from a crashed run would block the bind. */
	unlink(path);
	/* Born 0660: never a moment when others could connect. */
	old_mask = umask(0117);
	ret = bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret != 0 || chown(path, (uid_t)-1, gid) != 0 || chmod(path, 0660) != 0 ||
	    listen(listen_fd, 16) != 0)
		goto fail;
	strcpy(sock_path, path);
	sock_stop = false;
	ret = rte_ctrl_thread_create(&sock_thread, "dpntp-ctl", NULL,
				     sock_main, NULL);
	if (ret != 0) {
		errno = ret;
		goto fail;
	}
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	return ret;
}

void
dpn_ctl_sock_stop(void)
{
	if (listen_fd < 0)
		return;
	sock_stop = true;
	pthread_join(sock_thread, NULL);
	close(listen_fd);
	listen_fd = -1;
	unlink(sock_path);
}
