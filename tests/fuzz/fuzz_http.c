/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_http: the metrics endpoint (lib/metrics). libmicrohttpd parses
 * the requests; the project's part is the routing and the handler
 * (http.c: on_request(), reply_metrics()), the format negotiation, the
 * collection from the daemon and the exposition writer (expo.c). Two
 * ways in, chosen by bit 0 of the first byte:
 *
 * 0: the rest of the input is sent as it is over TCP to a running
 *    instance (dpn_metrics_http_start() on 127.0.0.1, its own control
 *    thread, over the fake daemon of fuzz_daemon.h), the connection
 *    half-closed, and the response read. Its Accept header (if any,
 *    taken as MHD would: the first) goes through dpn_metrics_negotiate()
 *    too.
 * 1: a snapshot whose strings (rule texts, names, refids, paths, errors,
 *    the version) and numbers come from the input, NUL-separated after
 *    64 bytes of numbers, is written by dpn_metrics_write() in the
 *    format of bit 1: what a scrape of a daemon configured with those
 *    names would read.
 *
 * Invariants: every response is an HTTP/1.x status line and headers;
 * GET and HEAD of /metrics get 200, other paths 404, other methods 405;
 * a 200's body is a valid exposition, in the format the Accept header
 * asked for (Content-Type says which); an exposition is lines of HELP,
 * TYPE and samples with proper names, label values escaped, UTF-8, and
 * numbers Prometheus parses; OpenMetrics ends with # EOF.
 */

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dpn_conf.h"
#include "dpn_metrics.h"
#include "fuzz.h"
#include "fuzz_daemon.h"

#define NB_PARTS 20
#define RESP_MAX (4 * 1024 * 1024)
/* A scrape is answered in milliseconds; what is not answered by then
 * waits for libmicrohttpd's timeout (10 s), half-closed or not. */
#define WAIT_MS 250

static struct dpn_runtime *ctx;
static uint16_t http_port;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct dpn_conf_metrics m;
	char err[256];
	unsigned int i;

	(void)argc;
	(void)argv;
	ctx = fuzz_daemon_init("fuzz_http");
	if (dpn_metrics_init(ctx) != 0)
		abort();
	memset(&m, 0, sizeof(m));
	m.enabled = true;
	m.family = AF_INET;
	m.addr.v4.s_addr = htonl(INADDR_LOOPBACK);
	/* A free port: others may be fuzzing beside us. */
	for (i = 0; i < 200; i++) {
		m.port = (uint16_t)(20000 + (getpid() * 7 + i * 131) % 40000);
		if (dpn_metrics_http_start(&m, err, sizeof(err)) == 0)
			break;
	}
	if (i == 200) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	http_port = m.port;
	return 0;
}

/*
 * The exposition checker.
 */

#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* A metric or label name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static bool
name_ok(const char **p, const char *end)
{
	const char *s = *p;

	if (s >= end || strchr(ALPHA "_:", *s) == NULL || *s == '\0')
		return false;
	while (s < end && *s != '\0' &&
	       strchr(ALPHA "0123456789_:", *s) != NULL)
		s++;
	*p = s;
	return true;
}

/* Valid UTF-8 in [s, end): Prometheus refuses a scrape that is not. */
static bool
utf8_ok(const unsigned char *s, const unsigned char *end)
{
	while (s < end) {
		unsigned int n, c, i;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			n = 1;
			c = *s & 0x1f;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			c = *s & 0x0f;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			c = *s & 0x07;
		} else {
			return false;
		}
		if (end - s <= (ptrdiff_t)n)
			return false;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (s[i] & 0x3f);
		}
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) ||
		    (n == 3 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

/* A sample value as Prometheus and OpenMetrics read it. */
static bool
value_ok(const char *s, const char *end)
{
	size_t n = (size_t)(end - s);
	char buf[64], *e;

	if ((n == 3 && memcmp(s, "NaN", 3) == 0) ||
	    (n == 4 && (memcmp(s, "+Inf", 4) == 0 ||
			memcmp(s, "-Inf", 4) == 0)))
		return true;
	if (n == 0 || n >= sizeof(buf) || strspn(s, "0123456789+-.e") < n)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	(void)strtod(buf, &e);
	return *e == '\0';
}

/* Check one exposition; @return NULL or what is wrong. */
static const char *
exposition_bad(const char *text, size_t len, bool om, const char **where)
{
	const char *p = text, *end = text + len;

	if (!utf8_ok((const unsigned char *)text,
		     (const unsigned char *)end))
		return "not UTF-8";
	if (len == 0 || end[-1] != '\n')
		return "does not end in a newline";
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = p;

		*where = p;
		if (om && eol == end - 1 && eol - p == 5 &&
		    memcmp(p, "# EOF", 5) == 0)
			return NULL;
		if (eol - p > 7 && (memcmp(p, "# HELP ", 7) == 0 ||
				    memcmp(p, "# TYPE ", 7) == 0)) {
			q += 7;
			if (!name_ok(&q, eol) || q >= eol || *q != ' ')
				return "HELP or TYPE line";
			for (q++; q < eol; q++)
				if (*q == '\\' && (q + 1 >= eol ||
						   !strchr(om ? "\\n\"" : "\\n",
							   q[1])))
					return "HELP escape";
				else if (*q == '\\')
					q++;
			p = eol + 1;
			continue;
		}
		if (!name_ok(&q, eol))
			return "sample name";
		if (q < eol && *q == '{') {
			for (q++; ; ) {
				if (!name_ok(&q, eol) || q + 1 >= eol ||
				    q[0] != '=' || q[1] != '"')
					return "label";
				for (q += 2; q < eol && *q != '"'; q++)
					if (*q == '\\') {
						if (q + 1 >= eol ||
						    !strchr("\\n\"", q[1]))
							return "label escape";
						q++;
					}
				if (q >= eol)
					return "label value not closed";
				q++;
				if (q < eol && *q == ',') {
					q++;
					continue;
				}
				if (q < eol && *q == '}') {
					q++;
					break;
				}
				return "labels not closed";
			}
		}
		if (q >= eol || *q != ' ' || !value_ok(q + 1, eol))
			return "sample value";
		p = eol + 1;
	}
	*where = end;
	return om ? "no # EOF" : NULL;
}

static void
check_exposition(const char *text, size_t len, bool om)
{
	const char *where = text, *bad = exposition_bad(text, len, om, &where);

	FUZZ_CHECK(bad == NULL, "%s exposition: %s at byte %zu: %.120s",
		   om ? "OpenMetrics" : "Prometheus", bad,
		   (size_t)(where - text), where);
}

/*
 * Writing a snapshot from the input.
 */

static void
put(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void
write_snapshot(const uint8_t *data, size_t size, bool om)
{
	struct dpn_metrics_snapshot s;
	struct dpn_metrics_worker w = { 1, 25, 100 };
	struct dpn_metrics_port port;
	struct dpn_metrics_xstat x;
	struct dpn_metrics_rule rule;
	struct dpn_metrics_auth_key key;
	struct dpn_metrics_source src;
	struct dpn_metrics_refclock rc[2];
	double d[8];
	const char *part[NB_PARTS];
	char *text = NULL, *strs;
	size_t tlen = 0, i, np = 0, start = 0;
	FILE *f;

	memset(d, 0, sizeof(d));
	memcpy(d, data, size < sizeof(d) ? size : sizeof(d));
	data += size < sizeof(d) ? size : sizeof(d);
	size -= size < sizeof(d) ? size : sizeof(d);
	strs = malloc(size + 1);
	if (strs == NULL)
		abort();
	memcpy(strs, data, size);
	strs[size] = '\0';
	for (i = 0; i < NB_PARTS; i++)
		part[i] = "";
	for (i = 0; i <= size && np < NB_PARTS; i++)
		if (i == size || strs[i] == '\0') {
			part[np++] = strs + start;
			start = i + 1;
		}

	memset(&s, 0, sizeof(s));
	memset(&port, 0, sizeof(port));
	memset(&rule, 0, sizeof(rule));
	memset(&key, 0, sizeof(key));
	memset(&src, 0, sizeof(src));
	memset(rc, 0, sizeof(rc));
	s.version = part[0];
	s.tsc_hz = d[0];
	s.nb_workers = 1;
	s.workers = &w;
	put(port.name, sizeof(port.name), part[1]);
	put(port.driver, sizeof(port.driver), part[2]);
	put(x.name, sizeof(x.name), part[3]);
	x.value = 7;
	port.nb_xstats = 1;
	port.xstats = &x;
	port.nb_queues = 2;
	port.nic_clock = true;
	port.nic_clock_offset_s = d[1];
	port.nic_clock_jitter_s = d[2];
	port.rx_stamp_source = part[4];
	port.rx_stamp_residual_s = d[3];
	s.nb_ports = 1;
	s.ports = &port;
	put(rule.text, sizeof(rule.text), part[5]);
	s.nb_rules = s.nb_rules_total = 1;
	s.rules = &rule;
	key.id = 65535;
	put(key.type, sizeof(key.type), part[6]);
	s.nb_auth_keys = s.nb_auth_keys_total = 1;
	s.auth_keys = &key;
	s.nts.enabled = true;
	s.nts.key_age_s = d[4];
	s.clock.synced = true;
	put(s.clock.reference, sizeof(s.clock.reference), part[7]);
	put(s.clock.refid, sizeof(s.clock.refid), part[8]);
	s.clock.offset_s = d[5];
	s.clock.frequency_ppm = d[6];
	put(src.name, sizeof(src.name), part[9]);
	put(src.tally, sizeof(src.tally), part[10]);
	src.offset_s = d[7];
	s.nb_sources = 1;
	s.sources = &src;
	for (i = 0; i < 2; i++) {
		put(rc[i].name, sizeof(rc[i].name), part[11]);
		put(rc[i].type, sizeof(rc[i].type), part[12]);
		put(rc[i].refid, sizeof(rc[i].refid), part[13]);
		put(rc[i].target, sizeof(rc[i].target), part[14]);
		put(rc[i].error, sizeof(rc[i].error), part[15]);
		put(rc[i].tally, sizeof(rc[i].tally), part[10]);
		rc[i].offset_s = d[i];
		rc[i].has_reading = true;
	}
	rc[1].is_ptp = true;
	put(rc[1].ptp.transport, sizeof(rc[1].ptp.transport), part[16]);
	put(rc[1].ptp.state, sizeof(rc[1].ptp.state), part[17]);
	put(rc[1].ptp.master, sizeof(rc[1].ptp.master), part[18]);
	put(rc[1].ptp.grandmaster, sizeof(rc[1].ptp.grandmaster), part[19]);
	rc[1].ptp.have_master = true;
	rc[1].ptp.rx_stamps = "nic";
	rc[1].ptp.tx_stamps = "tsc";
	rc[1].ptp.offset_s = d[3];
	s.nb_refclocks = 2;
	s.refclocks = rc;

	f = open_memstream(&text, &tlen);
	if (f == NULL || dpn_metrics_write(f, &s, om ? DPN_METRICS_OPENMETRICS :
					   DPN_METRICS_PROMETHEUS) != 0 ||
	    fclose(f) != 0)
		abort();
	check_exposition(text, tlen, om);
	free(text);
	free(strs);
}

/*
 * Over HTTP.
 */

/*
 * The value of the first header @p name of request @p req (MHD keeps the
 * first) in @p out: 1, 0 if there is none, -1 if the headers are not
 * plain "Name: value" lines (MHD may read those otherwise than we would).
 */
static int
header(const char *req, size_t len, const char *name, char *out, size_t size)
{
	const char *end = req + len, *p = memchr(req, '\n', len);
	size_t n = strlen(name);
	int found = 0;

	if (p == NULL)
		return -1;
	for (p++; p < end; ) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *c;

		if (eol == NULL)
			return -1;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			return found;
		c = p + strspn(p, ALPHA "-");
		if (c == p || c + 1 >= eol || c[0] != ':' || c[1] != ' ' ||
		    eol[-1] != '\r')
			return -1;
		for (c += 2; c < eol - 1; c++)
			if (*c < 0x20 || *c > 0x7e)
				return -1;
		if (!found && (size_t)(strchr(p, ':') - p) == n &&
		    strncasecmp(p, name, n) == 0) {
			snprintf(out, size, "%.*s",
				 (int)(eol - 1 - (p + n + 2)), p + n + 2);
			found = 1;
		}
		p = eol + 1;
	}
	return -1;
}

/*
 * connect(), through signals: libFuzzer's timer (-timeout) interrupts
 * it, and the connection then completes on its own.
 */
static int
connect_retry(int fd, const struct sockaddr_in *sa)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	if (errno != EINTR && errno != EINPROGRESS)
		return -1;
	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return -1;
	errno = err;
	return err == 0 ? 0 : -1;
}

static void
over_http(const uint8_t *data, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct linger lg = { 1, 0 };
	struct pollfd pfd;
	char *resp, *body, accept[4096];
	size_t rlen = 0, off;
	int fd, code = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(http_port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect_retry(fd, &sa) != 0) {
		perror("fuzz_http: connect");
		abort();
	}
	/* No TIME_WAIT left behind for each of thousands of inputs. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	for (off = 0; off < size; ) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the server may close early on junk */
		off += (size_t)n;
	}
	/*
	 * MHD keeps a request whose headers never end until its timeout
	 * (10 s), half-closed or not: end them, so that each input is
	 * answered at once.
	 */
	if (memmem(data, size, "\r\n\r\n", 4) == NULL &&
	    memmem(data, size, "\n\n", 2) == NULL)
		send(fd, "\r\n\r\n", 4, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	resp = malloc(RESP_MAX + 1);
	if (resp == NULL)
		abort();
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		ssize_t n;

		/*
		 * MHD neither answers nor closes some requests until its
		 * timeout: a body announced and never sent, a request line
		 * that starts with a NUL, nothing but empty lines.
		 */
		n = poll(&pfd, 1, WAIT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1) {
			fprintf(stderr, "fuzz_http: no response in %d ms\n",
				WAIT_MS);
			break;
		}
		n = recv(fd, resp + rlen, RESP_MAX - rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rlen += (size_t)n;
		FUZZ_CHECK(rlen < RESP_MAX, "response of 4 MiB");
	}
	close(fd);
	resp[rlen] = '\0';
	if (rlen == 0) {
		/* MHD closes on what it cannot parse at all. */
		free(resp);
		return;
	}
	FUZZ_CHECK(rlen >= 12 && (memcmp(resp, "HTTP/1.1 ", 9) == 0 ||
				  memcmp(resp, "HTTP/1.0 ", 9) == 0) &&
		   sscanf(resp + 9, "%3d", &code) == 1,
		   "not an HTTP response: %.80s", resp);
	body = strstr(resp, "\r\n\r\n");
	FUZZ_CHECK(body != NULL, "response without the end of its headers");
	body += 4;
	/* The routing: only GET and HEAD get metrics. */
	{
		const char *req = (const char *)data;
		/* MHD takes the method up to a blank, or a NUL. */
		bool get = size > 3 && memcmp(req, "GET", 3) == 0;
		bool head = size > 4 && memcmp(req, "HEAD", 4) == 0;
		const char *ct = strstr(resp, "\r\nContent-Type: ");

		FUZZ_CHECK(code != 200 || get || head, "200 for '%.40s'", req);
		if (code == 200 && get) {
			bool om = ct != NULL && ct < body &&
				strncmp(ct + 16, "application/openmetrics-text",
					28) == 0;
			int has = header(req, size, "Accept", accept,
					 sizeof(accept));

			FUZZ_CHECK(has < 0 || om == (has == 1 &&
				   dpn_metrics_negotiate(accept) ==
				   DPN_METRICS_OPENMETRICS),
				   "Accept '%s' answered with %s",
				   has == 1 ? accept : "(none)",
				   om ? "OpenMetrics" : "Prometheus");
			check_exposition(body, rlen - (size_t)(body - resp),
					 om);
		}
	}
	free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t opt = fuzz_u8(&in);
	enum dpn_metrics_format fmt;
	char *s;

	if (in.n > 64 * 1024)
		return 0;
	/* The negotiation alone, on the input as a header value. */
	s = malloc(in.n + 1);
	if (s == NULL)
		abort();
	memcpy(s, in.p, in.n);
	s[in.n] = '\0';
	fmt = dpn_metrics_negotiate(s);
	FUZZ_CHECK(fmt == DPN_METRICS_PROMETHEUS ||
		   fmt == DPN_METRICS_OPENMETRICS, "format %d", fmt);
	FUZZ_CHECK(dpn_metrics_content_type(fmt) != NULL, "content type");
	free(s);

	if (opt & 1)
		write_snapshot(in.p, in.n, opt & 2);
	else
		over_http(in.p, in.n);
	return 0;
}
