/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /metrics and GET /health over HTTP, served by libmicrohttpd. MHD runs without a
 * thread of its own, driven by one DPDK control thread (so on the EAL's
 * control CPUs, never a worker lcore) that waits in MHD_run_wait() and
 * checks for a stop every quarter second. MHD parses the requests: a
 * malformed one gets its 400 or a closed connection from MHD, and the
 * limits below keep a slow or hostile client from holding resources.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <rte_lcore.h>
#include <rte_log.h>

#include "dpn_conf.h"
#include "metrics_private.h"

#define HTTP_WAIT_MS 250
#define HTTP_MAX_CONNECTIONS 32
#define HTTP_MAX_PER_IP 8
#define HTTP_TIMEOUT_S 10

static struct MHD_Daemon *http_daemon;
static pthread_t http_thread;
static volatile bool http_stop;
static int http_fd = -1;

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_metrics(struct MHD_Connection *c)
{
	struct dpn_metrics_snapshot s;
	enum dpn_metrics_format fmt;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	fmt = dpn_metrics_negotiate(MHD_lookup_connection_value(c,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
	if (dpn_metrics_collect(&s) != 0)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	f = open_memstream(&buf, &len);
	if (f == NULL) {
		dpn_metrics_snapshot_free(&s);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	}
	rc = dpn_metrics_write(f, &s, fmt);
	rc |= fclose(f);
	dpn_metrics_snapshot_free(&s);
	if (rc != 0) {
		free(buf);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	}
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				dpn_metrics_content_type(fmt));
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* GET /health: 200 while healthy, 503 with the reasons when not, so
 * that a load balancer or a BGP health check needs only the status. */
static enum MHD_Result
reply_health(struct MHD_Connection *c)
{
	struct dpn_health_verdict v;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char body[2048];
	int n;

	dpn_runtime_health_read(&v);
	n = dpn_health_json(&v, body, sizeof(body) - 1);
	if (n < 0 || (size_t)n >= sizeof(body) - 1)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "health: verdict too long\n");
	body[n++] = '\n';
	r = MHD_create_response_from_buffer((size_t)n, body,
					    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, dpn_health_ok(&v) ? MHD_HTTP_OK :
				 MHD_HTTP_SERVICE_UNAVAILABLE, r);
	MHD_destroy_response(r);
	return ret;
}

/* MHD's access handler: one call per request (GET and HEAD carry no
 * body to wait for; other methods are refused before theirs). */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **req_cls)
{
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "method not allowed: use GET\n");
	if (strcmp(url, "/health") == 0)
		return reply_health(c);
	if (strcmp(url, "/metrics") != 0)
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "not found: dpntpd serves /metrics and /health\n");
	return reply_metrics(c);
}

/* MHD's messages (mostly about bad requests) are for debugging only. */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	rte_vlog(RTE_LOG_DEBUG, dpn_metrics_logtype, fmt, ap);
}

static void *
http_main(void *arg)
{
	RTE_SET_USED(arg);
	while (!http_stop)
		MHD_run_wait(http_daemon, HTTP_WAIT_MS);
	return NULL;
}

/* Bind and listen ourselves: errors then say exactly what failed. */
static int
http_listen(const struct dpn_conf_metrics *m, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (m->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = m->addr.v6;
		s6->sin6_port = htons(m->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr = m->addr.v4;
		s4->sin_port = htons(m->port);
		sl = sizeof(*s4);
	}
	fd = socket(m->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "metrics: socket: %s", strerror(errno));
		return -errno;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, 16) != 0) {
		int e = errno;
		char text[INET6_ADDRSTRLEN];

		inet_ntop(m->family, &m->addr, text, sizeof(text));
		snprintf(err, errlen, m->family == AF_INET6 ?
			 "metrics: cannot listen on [%s]:%u: %s" :
			 "metrics: cannot listen on %s:%u: %s",
			 text, m->port, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int
dpn_metrics_http_start(const struct dpn_conf_metrics *m, char *err,
		       size_t errlen)
{
	unsigned int flags = MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
	int ret;

	if (!m->enabled)
		return 0;
	http_fd = http_listen(m, err, errlen);
	if (http_fd < 0)
		return http_fd;
	if (m->family == AF_INET6)
		flags |= MHD_USE_IPv6;
	http_daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)http_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)HTTP_MAX_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_END);
	if (http_daemon == NULL) {
		snprintf(err, errlen, "metrics: libmicrohttpd did not start");
		close(http_fd);
		http_fd = -1;
		return -EINVAL;
	}
	http_stop = false;
	ret = rte_ctrl_thread_create(&http_thread, "dpntp-metrics", NULL,
				     http_main, NULL);
	if (ret != 0) {
		snprintf(err, errlen, "metrics: cannot create thread: %s",
			 strerror(-ret));
		MHD_stop_daemon(http_daemon);	/* closes http_fd */
		http_daemon = NULL;
		http_fd = -1;
		return ret;
	}
	return 0;
}

void
dpn_metrics_http_stop(void)
{
	if (http_daemon == NULL)
		return;
	http_stop = true;
	pthread_join(http_thread, NULL);
	/* This closes the listening socket too, though MHD did not open
	 * it. */
	MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
	http_fd = -1;
}
