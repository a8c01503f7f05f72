/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpntp-kebench: NTS-KE sessions per second against a server (dpntpd's
 * NTS-KE, chronyd's, any RFC 8915 server): each session is a TCP
 * connection, a TLS 1.3 handshake with ALPN ntske/1, one request for
 * NTPv4 and AEAD_AES_SIV_CMAC_256, and the response read to its end.
 * Only sessions whose response held at least one cookie count.
 *
 *   dpntp-kebench ADDRESS PORT CA_FILE [SECONDS [THREADS]]
 *   dpntp-kebench --dump FILE ADDRESS PORT CA_FILE
 *
 * Prints "sessions N failed N cookies N seconds S rate R/s". With
 * --dump, one session whose keys (exported as a client exports them,
 * RFC 8915 5.1) and cookies are written to FILE for dpntp-gen --nts:
 * "C2S_HEX S2C_HEX" then one cookie in hex per line.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static const char *addr;
static int port;
static SSL_CTX *ctx;
static double end_at;
static atomic_ulong ok, failed, cookies;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Next Protocol {0}, AEAD {15}, End of Message: all critical. */
static const unsigned char request[] = {
	0x80, 0x01, 0x00, 0x02, 0x00, 0x00,
	0x80, 0x04, 0x00, 0x02, 0x00, 0x0f,
	0x80, 0x00, 0x00, 0x00,
};

static int
connect_to(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr)) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
		len = sizeof(struct sockaddr_in6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static FILE *dump;	/* --dump: where the session's keys go */

static void
hex_line(FILE *f, const unsigned char *b, size_t n, const char *end)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
	fputs(end, f);
}

/* RFC 8915 5.1: C2S (last context byte 0) or S2C (1). */
static int
export_key(SSL *ssl, unsigned char *key, unsigned char dir)
{
	static const char label[] = "EXPORTER-network-time-security";
	unsigned char ctx5[5] = { 0, 0, 0, 0x0f, dir };

	return SSL_export_keying_material(ssl, key, 32, label,
					  sizeof(label) - 1, ctx5, 5, 1) == 1;
}

/* One session. @return the cookies received, or -1. */
static int
session(void)
{
	unsigned char buf[4096];
	int fd = connect_to(), n, got = 0, nb = 0, off;
	SSL *ssl;

	if (fd < 0)
		return -1;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), addr);
	if (SSL_connect(ssl) != 1 ||
	    SSL_write(ssl, request, sizeof(request)) != (int)sizeof(request))
		goto out;
	while (got < (int)sizeof(buf) &&
	       (n = SSL_read(ssl, buf + got, sizeof(buf) - got)) > 0)
		got += n;
	if (dump != NULL) {
		unsigned char c2s[32], s2c[32];

		if (!export_key(ssl, c2s, 0) || !export_key(ssl, s2c, 1))
			goto out;
		hex_line(dump, c2s, 32, " ");
		hex_line(dump, s2c, 32, "\n");
	}
	/* Count the New Cookie records (type 5). */
	for (off = 0; off + 4 <= got; off += 4 + (buf[off + 2] << 8 | buf[off + 3]))
		if (((buf[off] & 0x7f) << 8 | buf[off + 1]) == 5) {
			nb++;
			if (dump != NULL && off + 4 +
			    (buf[off + 2] << 8 | buf[off + 3]) <= got)
				hex_line(dump, buf + off + 4,
					 (size_t)(buf[off + 2] << 8 |
						  buf[off + 3]), "\n");
		}
out:
	SSL_free(ssl);
	close(fd);
	return nb > 0 ? nb : -1;
}

static void *
run(void *arg)
{
	(void)arg;
	while (now_s() < end_at) {
		int n = session();

		if (n > 0) {
			atomic_fetch_add(&ok, 1);
			atomic_fetch_add(&cookies, (unsigned long)n);
		} else {
			atomic_fetch_add(&failed, 1);
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const unsigned char alpn[] = "\x07ntske/1";
	double seconds = argc > 4 ? atof(argv[4]) : 10, start;
	int threads = argc > 5 ? atoi(argv[5]) : 1, i;
	pthread_t t[64];

	if (argc == 6 && strcmp(argv[1], "--dump") == 0) {
		dump = fopen(argv[2], "w");
		if (dump == NULL) {
			perror(argv[2]);
			return 1;
		}
		argv += 2;
		argc -= 2;
		seconds = 1;
		threads = 1;
	}
	if (argc < 4 || seconds <= 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: dpntp-kebench ADDRESS PORT CA_FILE [SECONDS [THREADS]]\n"
			"       dpntp-kebench --dump FILE ADDRESS PORT CA_FILE\n");
		return 1;
	}
	addr = argv[1];
	port = atoi(argv[2]);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* Full handshakes only, as a fleet of new clients makes. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1) {
		fprintf(stderr, "dpntp-kebench: cannot read %s\n", argv[3]);
		return 1;
	}
	if (dump != NULL) {
		int n = -1;

		n = session();
		fclose(dump);
		printf("%d cookies dumped\n", n > 0 ? n : 0);
		return n > 0 ? 0 : 1;
	}
	start = now_s();
	end_at = start + seconds;
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	seconds = now_s() - start;
	printf("sessions %lu failed %lu cookies %lu seconds %.1f rate %.0f/s\n",
	       (unsigned long)ok, (unsigned long)failed,
	       (unsigned long)cookies, seconds, (double)ok / seconds);
	SSL_CTX_free(ctx);
	return ok > 0 ? 0 : 1;
}
