/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NTS-KE server against a real OpenSSL TLS 1.3 client on loopback:
 * a self-signed certificate (EC P-256, SAN IP:127.0.0.1 and IP:::1) is
 * made at start-up in /tmp, the server runs its poll loop in a second
 * thread, and the client in the test thread verifies the certificate,
 * sends RFC 8915 records and parses the response. The cookie callback
 * writes the keys it was given into the cookie, so the test can compare
 * them with the keys the client exports itself. Every socket wait is
 * bounded (SO_RCVTIMEO/SO_SNDTIMEO), and so is every wait for a counter.
 */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dpn_ntske.h"

#define C DPN_NTSKE_CRITICAL
#define COOKIE_LEN (1 + 2 * DPN_NTSKE_KEY_LEN)
#define IO_TIMEOUT_S 3
#define WAIT_MS 3000

static char cert_path[64], key_path[64];
static char other_cert_path[64], other_key_path[64];
static char junk_path[64];
static SSL_CTX *client_ctx;

/*
 * The cookie callback: counter byte, C2S, S2C.
 */

static pthread_mutex_t cb_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int cb_calls;
static bool cb_fail;

static int
make_cookie(void *arg, const uint8_t c2s[DPN_NTSKE_KEY_LEN],
	    const uint8_t s2c[DPN_NTSKE_KEY_LEN], uint8_t *out,
	    size_t out_size)
{
	unsigned int n;
	bool refuse;

	pthread_mutex_lock(&cb_lock);
	n = cb_calls++;
	refuse = cb_fail;
	pthread_mutex_unlock(&cb_lock);
	/* No cmocka assertion here: this is the server's thread. */
	if (refuse || arg != (void *)&cb_calls || out_size < COOKIE_LEN)
		return -1;
	out[0] = (uint8_t)n;
	memcpy(out + 1, c2s, DPN_NTSKE_KEY_LEN);
	memcpy(out + 1 + DPN_NTSKE_KEY_LEN, s2c, DPN_NTSKE_KEY_LEN);
	return COOKIE_LEN;
}

static unsigned int
calls(void)
{
	unsigned int n;

	pthread_mutex_lock(&cb_lock);
	n = cb_calls;
	pthread_mutex_unlock(&cb_lock);
	return n;
}

static void
set_fail(bool f)
{
	pthread_mutex_lock(&cb_lock);
	cb_fail = f;
	pthread_mutex_unlock(&cb_lock);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Certificate and keys.
 */

static void
write_pem(char *path, const char *tmpl, EVP_PKEY *key, X509 *x)
{
	FILE *f;
	int fd;

	strcpy(path, tmpl);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	if (x != NULL)
		assert_int_equal(PEM_write_X509(f, x), 1);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0,
						      NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
}

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A self-signed certificate of @p key for 127.0.0.1 and ::1. */
static X509 *
make_cert(EVP_PKEY *key, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"dpntp test", -1, -1,
				   0);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,IP:::1");
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static int
group_setup(void **state)
{
	EVP_PKEY *key = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	X509 *x, *x2;
	FILE *f;
	int fd;

	assert_non_null(key);
	assert_non_null(other);
	x = make_cert(key, 1);
	x2 = make_cert(other, 2);
	write_pem(cert_path, "/tmp/test_ntske.crt.XXXXXX", NULL, x);
	write_pem(key_path, "/tmp/test_ntske.key.XXXXXX", key, NULL);
	write_pem(other_cert_path, "/tmp/test_ntske.oc.XXXXXX", NULL, x2);
	write_pem(other_key_path, "/tmp/test_ntske.ok.XXXXXX", other, NULL);
	strcpy(junk_path, "/tmp/test_ntske.jnk.XXXXXX");
	fd = mkstemp(junk_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("not a certificate\n", f);
	fclose(f);
	X509_free(x);
	X509_free(x2);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);

	client_ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(client_ctx);
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(SSL_CTX_load_verify_locations(client_ctx, cert_path,
						       NULL), 1);
	return 0;
}

static int
group_teardown(void **state)
{
	SSL_CTX_free(client_ctx);
	unlink(cert_path);
	unlink(key_path);
	unlink(other_cert_path);
	unlink(other_key_path);
	unlink(junk_path);
	return 0;
}

/*
 * The server in its own thread.
 */

struct srv {
	struct dpn_ntske_server *s;
	pthread_t th;
	int stop;
	uint16_t port;
};

static void *
srv_loop(void *arg)
{
	struct srv *sv = arg;

	while (!__atomic_load_n(&sv->stop, __ATOMIC_ACQUIRE))
		if (dpn_ntske_server_poll(sv->s, 10) < 0)
			break;
	return NULL;
}

static void
default_params(struct dpn_ntske_params *p)
{
	memset(p, 0, sizeof(*p));
	p->make_cookie = make_cookie;
	p->arg = &cb_calls;
}

static void
srv_start_at(struct srv *sv, const struct dpn_ntske_params *p,
	     const char *addr)
{
	char err[256] = "";
	int port;

	memset(sv, 0, sizeof(*sv));
	sv->s = dpn_ntske_server_create(cert_path, key_path, p, err,
					sizeof(err));
	if (sv->s == NULL)
		fail_msg("create: %s", err);
	port = dpn_ntske_server_listen(sv->s, addr, 0, err, sizeof(err));
	if (port <= 0)
		fail_msg("listen: %s", err);
	sv->port = (uint16_t)port;
	assert_int_equal(pthread_create(&sv->th, NULL, srv_loop, sv), 0);
}

static void
srv_start(struct srv *sv, const struct dpn_ntske_params *p)
{
	srv_start_at(sv, p, "127.0.0.1");
}

/* Stop the loop, so the test thread may use the server. */
static void
srv_pause(struct srv *sv)
{
	__atomic_store_n(&sv->stop, 1, __ATOMIC_RELEASE);
	pthread_join(sv->th, NULL);
}

static void
srv_resume(struct srv *sv)
{
	__atomic_store_n(&sv->stop, 0, __ATOMIC_RELEASE);
	assert_int_equal(pthread_create(&sv->th, NULL, srv_loop, sv), 0);
}

static void
srv_stop(struct srv *sv)
{
	srv_pause(sv);
	dpn_ntske_server_free(sv->s);
}

/* The counters once field @p off reaches @p want (bounded wait). */
static struct dpn_ntske_stats
stats_when(struct srv *sv, size_t off, uint64_t want)
{
	struct dpn_ntske_stats st;
	uint64_t end = now_ms() + WAIT_MS;

	for (;;) {
		dpn_ntske_server_stats(sv->s, &st);
		if (*(uint64_t *)((char *)&st + off) == want ||
		    now_ms() > end)
			return st;
		usleep(1000);
	}
}

#define STATS_WHEN(sv, field, want) \
	stats_when(sv, offsetof(struct dpn_ntske_stats, field), want)

static void
sessions_when(struct srv *sv, unsigned int want)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (dpn_ntske_server_sessions(sv->s) != want && now_ms() < end)
		usleep(1000);
	assert_int_equal(dpn_ntske_server_sessions(sv->s), want);
}

/*
 * The client.
 */

static int
tcp_connect(const char *addr, uint16_t port)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
				 1);
		sl = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
		sl = sizeof(*sin);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				    sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				    sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
	return fd;
}

/* Wait (bounded) for the server to close; true if it did. */
static bool
closed_by_server(int fd)
{
	char buf[256];
	ssize_t n;

	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n > 0);
	return n == 0 || errno == ECONNRESET;
}

struct client_opts {
	const char *addr;	/* default 127.0.0.1 */
	const char *alpn;	/* wire format; default ntske/1 */
	bool no_alpn;
	int max_version;	/* 0: any */
	size_t split;		/* write the request in two parts */
};

struct exchange {
	bool handshake;
	unsigned long ssl_err;	/* first error of a failed handshake */
	bool close_notify;	/* the server's, after the response */
	size_t len;
	uint8_t resp[8192];
	uint8_t c2s[DPN_NTSKE_KEY_LEN], s2c[DPN_NTSKE_KEY_LEN];
};

static void
client_export(SSL *ssl, uint8_t dir, uint8_t *key)
{
	/* RFC 8915 5.1, written independently of the server. */
	const uint8_t ctx[5] = { 0x00, 0x00, 0x00, 0x0f, dir };
	static const char label[] = "EXPORTER-network-time-security";

	assert_int_equal(SSL_export_keying_material(ssl, key,
			DPN_NTSKE_KEY_LEN, label, strlen(label), ctx,
			sizeof(ctx), 1), 1);
}

static void
exchange(uint16_t port, const struct client_opts *o, const void *req,
	 size_t len, struct exchange *ex)
{
	const char *addr = o && o->addr ? o->addr : "127.0.0.1";
	const char *alpn = o && o->alpn ? o->alpn : "\x07ntske/1";
	const unsigned char *sel;
	unsigned int sel_len;
	size_t split = o ? o->split : 0;
	SSL *ssl;
	int fd, r;

	memset(ex, 0, sizeof(*ex));
	fd = tcp_connect(addr, port);
	ssl = SSL_new(client_ctx);
	assert_non_null(ssl);
	if (!(o && o->no_alpn))
		assert_int_equal(SSL_set_alpn_protos(ssl,
			(const unsigned char *)alpn, strlen(alpn)), 0);
	if (o && o->max_version)
		assert_int_equal(SSL_set_max_proto_version(ssl,
							   o->max_version), 1);
	assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
						       addr), 1);
	assert_int_equal(SSL_set_fd(ssl, fd), 1);
	ERR_clear_error();
	if (SSL_connect(ssl) != 1) {
		ex->ssl_err = ERR_peek_error();
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
		return;
	}
	ex->handshake = true;
	assert_int_equal(SSL_get_verify_result(ssl), X509_V_OK);
	assert_int_equal(SSL_version(ssl), TLS1_3_VERSION);
	SSL_get0_alpn_selected(ssl, &sel, &sel_len);
	assert_int_equal(sel_len, 7);
	assert_memory_equal(sel, "ntske/1", 7);
	client_export(ssl, 0, ex->c2s);
	client_export(ssl, 1, ex->s2c);

	if (split != 0 && split < len) {
		assert_int_equal(SSL_write(ssl, req, (int)split), (int)split);
		usleep(2000);	/* likely two reads on the server */
		assert_int_equal(SSL_write(ssl, (const uint8_t *)req + split,
					   (int)(len - split)),
				 (int)(len - split));
	} else {
		assert_int_equal(SSL_write(ssl, req, (int)len), (int)len);
	}
	for (;;) {
		assert_true(ex->len < sizeof(ex->resp));
		r = SSL_read(ssl, ex->resp + ex->len,
			     (int)(sizeof(ex->resp) - ex->len));
		if (r <= 0)
			break;
		ex->len += (size_t)r;
	}
	ex->close_notify = SSL_get_error(ssl, r) == SSL_ERROR_ZERO_RETURN;
	ERR_clear_error();
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

/*
 * Records.
 */

struct msg {
	size_t len;
	uint8_t b[2048];
};

static void
add(struct msg *m, uint16_t type, const void *body, size_t len)
{
	assert_true(m->len + 4 + len <= sizeof(m->b));
	m->b[m->len] = (uint8_t)(type >> 8);
	m->b[m->len + 1] = (uint8_t)type;
	m->b[m->len + 2] = (uint8_t)(len >> 8);
	m->b[m->len + 3] = (uint8_t)len;
	if (len != 0)
		memcpy(m->b + m->len + 4, body, len);
	m->len += 4 + len;
}

/* A record of @p n 16-bit IDs. */
static void
add_ids(struct msg *m, uint16_t type, unsigned int n, ...)
{
	uint8_t body[32];
	unsigned int i;
	va_list ap;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		unsigned int id = va_arg(ap, unsigned int);

		body[2 * i] = (uint8_t)(id >> 8);
		body[2 * i + 1] = (uint8_t)id;
	}
	va_end(ap);
	add(m, type, body, 2 * n);
}

static void
add_end(struct msg *m)
{
	add(m, C | DPN_NTSKE_REC_END, NULL, 0);
}

/* The usual request: NTPv4, AEAD_AES_SIV_CMAC_256. */
static void
good_request(struct msg *m)
{
	memset(m, 0, sizeof(*m));
	add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
	add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
	add_end(m);
}

struct rec {
	uint16_t type;
	bool critical;
	uint16_t len;
	const uint8_t *body;
};

/* Split a response into its records; they must fill it exactly. */
static unsigned int
records(const struct exchange *ex, struct rec *r, unsigned int max)
{
	unsigned int n = 0;
	size_t off = 0;

	while (off < ex->len) {
		uint16_t t;

		assert_true(off + 4 <= ex->len);
		assert_true(n < max);
		t = (uint16_t)(ex->resp[off] << 8 | ex->resp[off + 1]);
		r[n].type = t & 0x7fff;
		r[n].critical = (t & 0x8000) != 0;
		r[n].len = (uint16_t)(ex->resp[off + 2] << 8 |
				      ex->resp[off + 3]);
		r[n].body = ex->resp + off + 4;
		off += 4 + r[n].len;
		assert_true(off <= ex->len);
		n++;
	}
	return n;
}

static uint16_t
body16(const struct rec *r)
{
	assert_int_equal(r->len, 2);
	return (uint16_t)(r->body[0] << 8 | r->body[1]);
}

static unsigned int
nb_of(const struct rec *r, unsigned int n, uint16_t type)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		k += r[i].type == type;
	return k;
}

static const struct rec *
find(const struct rec *r, unsigned int n, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (r[i].type == type)
			return &r[i];
	return NULL;
}

/* The response must be exactly Error(code), End of Message. */
static void
assert_error(const struct exchange *ex, uint16_t code)
{
	struct rec r[8];
	unsigned int n;

	assert_true(ex->handshake);
	n = records(ex, r, 8);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].type, DPN_NTSKE_REC_ERROR);
	assert_true(r[0].critical);
	assert_int_equal(body16(&r[0]), code);
	assert_int_equal(r[1].type, DPN_NTSKE_REC_END);
	assert_true(r[1].critical);
	assert_int_equal(r[1].len, 0);
	assert_true(ex->close_notify);
}

/* A full answer with @p nb cookies made from the client's own keys. */
static void
assert_cookies(const struct exchange *ex, unsigned int nb)
{
	struct rec r[32];
	unsigned int n, i, k = 0;
	const struct rec *np, *aead;

	assert_true(ex->handshake);
	assert_true(ex->close_notify);
	n = records(ex, r, 32);
	np = find(r, n, DPN_NTSKE_REC_NEXT_PROTO);
	aead = find(r, n, DPN_NTSKE_REC_AEAD);
	assert_non_null(np);
	assert_non_null(aead);
	assert_int_equal(nb_of(r, n, DPN_NTSKE_REC_NEXT_PROTO), 1);
	assert_int_equal(nb_of(r, n, DPN_NTSKE_REC_AEAD), 1);
	assert_int_equal(nb_of(r, n, DPN_NTSKE_REC_ERROR), 0);
	assert_int_equal(nb_of(r, n, DPN_NTSKE_REC_WARNING), 0);
	assert_true(np->critical);
	assert_int_equal(body16(np), DPN_NTSKE_PROTO_NTPV4);
	assert_true(aead->critical);
	assert_int_equal(body16(aead), DPN_NTSKE_AEAD_AES_SIV_CMAC_256);
	/* C2S and S2C differ: the direction byte of the context counts. */
	assert_memory_not_equal(ex->c2s, ex->s2c, DPN_NTSKE_KEY_LEN);
	for (i = 0; i < n; i++) {
		if (r[i].type != DPN_NTSKE_REC_COOKIE)
			continue;
		assert_false(r[i].critical);
		assert_int_equal(r[i].len, COOKIE_LEN);
		assert_memory_equal(r[i].body + 1, ex->c2s,
				    DPN_NTSKE_KEY_LEN);
		assert_memory_equal(r[i].body + 1 + DPN_NTSKE_KEY_LEN,
				    ex->s2c, DPN_NTSKE_KEY_LEN);
		/* Each one a separate call. */
		if (k > 0)
			assert_int_not_equal(r[i].body[0], r[i - 1].body[0]);
		k++;
	}
	assert_int_equal(k, nb);
	assert_int_equal(r[n - 1].type, DPN_NTSKE_REC_END);
	assert_true(r[n - 1].critical);
	assert_int_equal(r[n - 1].len, 0);
}

/*
 * Tests.
 */

static void
test_valid_request(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct client_opts o = { .split = 8 };
	struct exchange ex, ex2;
	struct rec r[32];
	struct msg m = { 0 };
	unsigned int before = calls(), n;
	struct srv sv;

	default_params(&p);
	srv_start(&sv, &p);
	/* AES-128-GCM-SIV first: the server picks 15 from the list. */
	add_ids(&m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
	add_ids(&m, DPN_NTSKE_REC_AEAD, 2, 30, 15);
	add_end(&m);
	exchange(sv.port, &o, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	assert_int_equal(calls() - before, 8);
	/* Next Protocol, AEAD, 8 cookies, End: nothing else. */
	n = records(&ex, r, 32);
	assert_int_equal(n, 11);
	assert_int_equal(r[0].type, DPN_NTSKE_REC_NEXT_PROTO);
	assert_null(find(r, n, DPN_NTSKE_REC_SERVER));
	assert_null(find(r, n, DPN_NTSKE_REC_PORT));

	/* Another session, other keys. */
	exchange(sv.port, NULL, m.b, m.len, &ex2);
	assert_cookies(&ex2, 8);
	assert_memory_not_equal(ex.c2s, ex2.c2s, DPN_NTSKE_KEY_LEN);

	st = STATS_WHEN(&sv, served, 2);
	assert_int_equal(st.handshakes, 2);
	assert_int_equal(st.served, 2);
	assert_int_equal(st.cookies, 16);
	assert_int_equal(st.handshake_failures, 0);
	assert_int_equal(st.bad_requests, 0);
	assert_int_equal(st.timeouts, 0);
	sessions_when(&sv, 0);
	srv_stop(&sv);
}

static void
test_server_and_port(void **state)
{
	struct dpn_ntske_params p;
	struct exchange ex;
	const struct rec *srec, *prec;
	struct rec r[32];
	struct msg m;
	unsigned int n;
	struct srv sv;

	good_request(&m);
	default_params(&p);
	p.ntp_server = "ntp1.example.net";
	p.ntp_port = 1123;
	p.nb_cookies = 3;
	srv_start(&sv, &p);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 3);
	n = records(&ex, r, 32);
	assert_int_equal(nb_of(r, n, DPN_NTSKE_REC_SERVER), 1);
	srec = find(r, n, DPN_NTSKE_REC_SERVER);
	assert_int_equal(srec->len, strlen("ntp1.example.net"));
	assert_memory_equal(srec->body, "ntp1.example.net", srec->len);
	prec = find(r, n, DPN_NTSKE_REC_PORT);
	assert_non_null(prec);
	assert_int_equal(body16(prec), 1123);
	srv_stop(&sv);

	/* Port 123 is the default: no Port Negotiation record. */
	p.ntp_server = "2001:db8::123";
	p.ntp_port = 123;
	p.nb_cookies = 0;
	srv_start(&sv, &p);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	n = records(&ex, r, 32);
	srec = find(r, n, DPN_NTSKE_REC_SERVER);
	assert_non_null(srec);
	assert_memory_equal(srec->body, "2001:db8::123", srec->len);
	assert_null(find(r, n, DPN_NTSKE_REC_PORT));
	srv_stop(&sv);
}

static void
test_alpn_required(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct client_opts none = { .no_alpn = true };
	struct client_opts http = { .alpn = "\x08http/1.1" };
	struct client_opts both = { .alpn = "\x08http/1.1\x07ntske/1" };
	struct exchange ex;
	struct msg m;
	struct srv sv;

	good_request(&m);
	default_params(&p);
	srv_start(&sv, &p);
	exchange(sv.port, &none, m.b, m.len, &ex);
	assert_false(ex.handshake);
	assert_int_equal(ERR_GET_REASON(ex.ssl_err),
			 SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
	exchange(sv.port, &http, m.b, m.len, &ex);
	assert_false(ex.handshake);
	assert_int_equal(ERR_GET_REASON(ex.ssl_err),
			 SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL);
	/* ntske/1 need not come first. */
	exchange(sv.port, &both, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	st = STATS_WHEN(&sv, handshake_failures, 2);
	assert_int_equal(st.handshake_failures, 2);
	assert_int_equal(st.handshakes, 1);
	srv_stop(&sv);
}

static void
test_tls12_refused(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct client_opts o = { .max_version = TLS1_2_VERSION };
	struct exchange ex;
	struct msg m;
	struct srv sv;

	good_request(&m);
	default_params(&p);
	srv_start(&sv, &p);
	exchange(sv.port, &o, m.b, m.len, &ex);
	assert_false(ex.handshake);
	assert_int_equal(ERR_GET_REASON(ex.ssl_err),
			 SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	st = STATS_WHEN(&sv, handshake_failures, 1);
	assert_int_equal(st.handshake_failures, 1);
	assert_int_equal(st.handshakes, 0);
	srv_stop(&sv);
}

enum {
	NO_NEXT_PROTO,
	NEXT_PROTO_NOT_CRITICAL,
	TWO_NEXT_PROTO,
	EMPTY_NEXT_PROTO,
	ODD_NEXT_PROTO,
	NO_AEAD,
	EMPTY_AEAD,
	TWO_AEAD,
	CLIENT_ERROR,
	CLIENT_WARNING,
	CLIENT_COOKIE,
	END_NOT_CRITICAL,
	END_WITH_BODY,
	AFTER_END,
	TWO_PORTS,
	SHORT_PORT,
	TOO_MANY_RECORDS,
	TOO_LONG,
	UNKNOWN_CRITICAL,
	UNKNOWN_CRITICAL_FIRST,
	BAD_BEFORE_UNKNOWN,
	NB_CASES
};

/* Request of case @p c; returns the error code it must get. */
static uint16_t
bad_request(struct msg *m, int c)
{
	static const uint8_t big[1100];
	unsigned int i;

	memset(m, 0, sizeof(*m));
	switch (c) {
	case NO_NEXT_PROTO:
		add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
		break;
	case NEXT_PROTO_NOT_CRITICAL:
		add_ids(m, DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
		break;
	case TWO_NEXT_PROTO:
		add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
		break;
	case EMPTY_NEXT_PROTO:
		add(m, C | DPN_NTSKE_REC_NEXT_PROTO, NULL, 0);
		add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
		break;
	case ODD_NEXT_PROTO:
		add(m, C | DPN_NTSKE_REC_NEXT_PROTO, "\0\0\0", 3);
		add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
		break;
	case NO_AEAD:
		add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		break;
	case EMPTY_AEAD:
		add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		add(m, DPN_NTSKE_REC_AEAD, NULL, 0);
		break;
	case TWO_AEAD:
		add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
		add_ids(m, DPN_NTSKE_REC_AEAD, 1, 15);
		break;
	case CLIENT_ERROR:
		good_request(m);
		m->len -= 4;
		add_ids(m, C | DPN_NTSKE_REC_ERROR, 1, 1);
		break;
	case CLIENT_WARNING:
		good_request(m);
		m->len -= 4;
		add_ids(m, C | DPN_NTSKE_REC_WARNING, 1, 1);
		break;
	case CLIENT_COOKIE:
		good_request(m);
		m->len -= 4;
		add(m, DPN_NTSKE_REC_COOKIE, "cookie", 6);
		break;
	case END_NOT_CRITICAL:
		good_request(m);
		m->len -= 4;
		add(m, DPN_NTSKE_REC_END, NULL, 0);
		return DPN_NTSKE_ERR_BAD_REQUEST;
	case END_WITH_BODY:
		good_request(m);
		m->len -= 4;
		add(m, C | DPN_NTSKE_REC_END, "x", 1);
		return DPN_NTSKE_ERR_BAD_REQUEST;
	case AFTER_END:
		good_request(m);
		add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		return DPN_NTSKE_ERR_BAD_REQUEST;
	case TWO_PORTS:
		good_request(m);
		m->len -= 4;
		add_ids(m, DPN_NTSKE_REC_PORT, 1, 123);
		add_ids(m, DPN_NTSKE_REC_PORT, 1, 123);
		break;
	case SHORT_PORT:
		good_request(m);
		m->len -= 4;
		add(m, DPN_NTSKE_REC_PORT, "\x7b", 1);
		break;
	case TOO_MANY_RECORDS:
		good_request(m);
		m->len -= 4;
		for (i = 0; i < DPN_NTSKE_MAX_RECORDS; i++)
			add(m, 0x4321, NULL, 0);
		break;
	case TOO_LONG:
		/* Larger than DPN_NTSKE_REQUEST_MAX, and no End. */
		add_ids(m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
		add(m, 0x4321, big, sizeof(big));
		return DPN_NTSKE_ERR_BAD_REQUEST;
	case UNKNOWN_CRITICAL:
		good_request(m);
		m->len -= 4;
		add(m, C | 0x1234, "abcd", 4);
		add_end(m);
		return DPN_NTSKE_ERR_UNRECOGNIZED_CRITICAL;
	case UNKNOWN_CRITICAL_FIRST:
		add(m, C | 0x1234, NULL, 0);
		add_end(m);
		return DPN_NTSKE_ERR_UNRECOGNIZED_CRITICAL;
	case BAD_BEFORE_UNKNOWN:
		add_ids(m, C | DPN_NTSKE_REC_ERROR, 1, 0);
		add(m, C | 0x1234, NULL, 0);
		break;
	}
	add_end(m);
	return DPN_NTSKE_ERR_BAD_REQUEST;
}

static void
test_bad_requests(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct exchange ex;
	unsigned int before = calls();
	struct msg m;
	struct srv sv;
	int c;

	default_params(&p);
	srv_start(&sv, &p);
	for (c = 0; c < NB_CASES; c++) {
		uint16_t code = bad_request(&m, c);

		exchange(sv.port, NULL, m.b, m.len, &ex);
		if (!ex.handshake || ex.len != 10)
			print_error("case %d: %zu bytes\n", c, ex.len);
		assert_error(&ex, code);
	}
	/* The server still serves. */
	good_request(&m);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	st = STATS_WHEN(&sv, served, 1);
	assert_int_equal(st.bad_requests, NB_CASES);
	assert_int_equal(st.served, 1);
	assert_int_equal(st.cookies, 8);
	assert_int_equal(calls() - before, 8);
	srv_stop(&sv);
}

/* What the server tolerates: unknown non-critical records, the client's
 * own server and port preferences, protocols and algorithms it does not
 * know besides the ones it does. */
static void
test_tolerated(void **state)
{
	struct dpn_ntske_params p;
	struct exchange ex;
	struct msg m = { 0 };
	struct srv sv;

	default_params(&p);
	srv_start(&sv, &p);
	add(&m, 0x4321, "ignored", 7);
	add_ids(&m, C | DPN_NTSKE_REC_NEXT_PROTO, 2, 0x8001, 0);
	add_ids(&m, DPN_NTSKE_REC_AEAD, 3, 30, 15, 17);
	add(&m, DPN_NTSKE_REC_SERVER, "192.0.2.7", 9);
	add_ids(&m, DPN_NTSKE_REC_PORT, 1, 123);
	add_end(&m);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	srv_stop(&sv);
}

/* RFC 8915 4.1.2 and 4.1.5: what the server cannot agree to is left out
 * of its answer (empty records), which is not an error. */
static void
test_no_agreement(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct exchange ex;
	struct rec r[8];
	struct msg m = { 0 };
	unsigned int n, before = calls();
	struct srv sv;

	default_params(&p);
	srv_start(&sv, &p);

	/* Only AES-128-GCM-SIV: NTPv4 yes, AEAD record empty, no
	 * cookies. */
	add_ids(&m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
	add_ids(&m, DPN_NTSKE_REC_AEAD, 1, 30);
	add_end(&m);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_true(ex.close_notify);
	n = records(&ex, r, 8);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].type, DPN_NTSKE_REC_NEXT_PROTO);
	assert_true(r[0].critical);
	assert_int_equal(body16(&r[0]), 0);
	assert_int_equal(r[1].type, DPN_NTSKE_REC_AEAD);
	assert_int_equal(r[1].len, 0);
	assert_int_equal(r[2].type, DPN_NTSKE_REC_END);

	/* Only a protocol it does not speak: an empty Next Protocol
	 * record, no AEAD (it belongs to NTPv4), no cookies. */
	memset(&m, 0, sizeof(m));
	add_ids(&m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0x8001);
	add_ids(&m, DPN_NTSKE_REC_AEAD, 1, 15);
	add_end(&m);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_true(ex.close_notify);
	n = records(&ex, r, 8);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].type, DPN_NTSKE_REC_NEXT_PROTO);
	assert_true(r[0].critical);
	assert_int_equal(r[0].len, 0);
	assert_int_equal(r[1].type, DPN_NTSKE_REC_END);

	st = STATS_WHEN(&sv, served, 2);
	assert_int_equal(st.served, 2);
	assert_int_equal(st.bad_requests, 0);
	assert_int_equal(st.cookies, 0);
	assert_int_equal(calls(), before);
	srv_stop(&sv);
}

static void
test_internal_error(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct exchange ex;
	struct msg m;
	struct srv sv;

	good_request(&m);
	default_params(&p);
	srv_start(&sv, &p);
	set_fail(true);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	set_fail(false);
	assert_error(&ex, DPN_NTSKE_ERR_INTERNAL);
	st = STATS_WHEN(&sv, internal_errors, 1);
	assert_int_equal(st.internal_errors, 1);
	assert_int_equal(st.cookies, 0);
	assert_int_equal(st.served, 0);
	srv_stop(&sv);
}

static void
test_slowloris(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct exchange ex;
	struct msg m = { 0 };
	uint64_t t0, dt;
	SSL *ssl;
	int fd;
	struct srv sv;

	default_params(&p);
	p.timeout_ms = 300;
	srv_start(&sv, &p);

	/* Connects and sends nothing. */
	t0 = now_ms();
	fd = tcp_connect("127.0.0.1", sv.port);
	assert_true(closed_by_server(fd));
	dt = now_ms() - t0;
	close(fd);
	assert_true(dt >= 250);
	assert_true(dt < 2000);
	st = STATS_WHEN(&sv, timeouts, 1);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.handshake_failures, 0);

	/* Shakes hands, then sends half a request and waits. */
	t0 = now_ms();
	fd = tcp_connect("127.0.0.1", sv.port);
	ssl = SSL_new(client_ctx);
	SSL_set_alpn_protos(ssl, (const unsigned char *)"\x07ntske/1", 8);
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
	SSL_set_fd(ssl, fd);
	assert_int_equal(SSL_connect(ssl), 1);
	add_ids(&m, C | DPN_NTSKE_REC_NEXT_PROTO, 1, 0);
	assert_int_equal(SSL_write(ssl, m.b, (int)m.len), (int)m.len);
	assert_true(SSL_read(ssl, m.b, sizeof(m.b)) <= 0);
	dt = now_ms() - t0;
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	assert_true(dt >= 250);
	assert_true(dt < 2000);
	st = STATS_WHEN(&sv, timeouts, 2);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.handshakes, 1);
	sessions_when(&sv, 0);

	/* Served as usual afterwards. */
	good_request(&m);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	srv_stop(&sv);
}

static void
test_garbage(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t zeros[64];
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct exchange ex;
	struct msg m;
	int fd;
	struct srv sv;

	default_params(&p);
	srv_start(&sv, &p);

	fd = tcp_connect("127.0.0.1", sv.port);
	assert_int_equal(send(fd, http, strlen(http), MSG_NOSIGNAL),
			 (ssize_t)strlen(http));
	assert_true(closed_by_server(fd));
	close(fd);
	fd = tcp_connect("127.0.0.1", sv.port);
	assert_int_equal(send(fd, zeros, sizeof(zeros), MSG_NOSIGNAL),
			 (ssize_t)sizeof(zeros));
	assert_true(closed_by_server(fd));
	close(fd);
	/* A port scanner: connect and close. */
	fd = tcp_connect("127.0.0.1", sv.port);
	close(fd);

	st = STATS_WHEN(&sv, handshake_failures, 3);
	assert_int_equal(st.handshake_failures, 3);
	assert_int_equal(st.timeouts, 0);
	good_request(&m);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	st = STATS_WHEN(&sv, served, 1);
	assert_int_equal(st.handshakes, 1);
	srv_stop(&sv);
}

/* With every slot taken, a new client waits in the backlog until one
 * frees up: here the idle connection's timeout. */
static void
test_max_sessions(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct exchange ex;
	struct msg m;
	uint64_t t0, dt;
	int idle;
	struct srv sv;

	default_params(&p);
	p.max_sessions = 1;
	p.timeout_ms = 300;
	srv_start(&sv, &p);
	idle = tcp_connect("127.0.0.1", sv.port);
	sessions_when(&sv, 1);
	t0 = now_ms();
	good_request(&m);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	dt = now_ms() - t0;
	assert_cookies(&ex, 8);
	assert_true(dt >= 200);
	assert_true(closed_by_server(idle));
	close(idle);
	st = STATS_WHEN(&sv, served, 1);
	assert_int_equal(st.timeouts, 1);
	srv_stop(&sv);
}

static void
test_ipv6(void **state)
{
	struct dpn_ntske_params p;
	struct client_opts o = { .addr = "::1" };
	struct exchange ex;
	struct msg m;
	struct srv sv;
	char err[256];
	int fd;

	/* Not every build host has IPv6 loopback. */
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd >= 0) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		skip();
	close(fd);
	default_params(&p);
	srv_start_at(&sv, &p, "::1");
	/* Same port on IPv4 too: the IPv6 socket is IPv6-only. */
	srv_pause(&sv);
	assert_int_equal(dpn_ntske_server_listen(sv.s, "127.0.0.1", sv.port,
						 err, sizeof(err)), sv.port);
	srv_resume(&sv);
	good_request(&m);
	exchange(sv.port, &o, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	srv_stop(&sv);
}

static void
create_fails(const char *cert, const char *key,
	     const struct dpn_ntske_params *p, const char *phrase)
{
	char err[512] = "";

	assert_null(dpn_ntske_server_create(cert, key, p, err, sizeof(err)));
	if (strstr(err, phrase) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, phrase);
}

static void
test_create_errors(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_server *s;
	char err[512] = "";
	int port;

	default_params(&p);
	create_fails("/nonexistent/cert.pem", key_path, &p,
		     "/nonexistent/cert.pem: cannot read certificate: No such");
	create_fails(cert_path, "/nonexistent/key.pem", &p,
		     "/nonexistent/key.pem: cannot read private key");
	create_fails(junk_path, key_path, &p, junk_path);
	create_fails(cert_path, junk_path, &p, junk_path);
	create_fails(cert_path, other_key_path, &p, "does not match");
	p.nb_cookies = DPN_NTSKE_MAX_COOKIES + 1;
	create_fails(cert_path, key_path, &p, "cookies");
	p.nb_cookies = 0;
	p.ntp_server = "";
	create_fails(cert_path, key_path, &p, "ntsntpserver");
	p.ntp_server = "ntp example";
	create_fails(cert_path, key_path, &p, "ntsntpserver");
	p.ntp_server = NULL;
	p.make_cookie = NULL;
	create_fails(cert_path, key_path, &p, "callback");

	default_params(&p);
	s = dpn_ntske_server_create(cert_path, key_path, &p, err,
				    sizeof(err));
	assert_non_null(s);
	assert_int_equal(dpn_ntske_server_listen(s, "localhost", 0, err,
						 sizeof(err)), -1);
	assert_non_null(strstr(err, "localhost: not an IPv4 or IPv6"));
	port = dpn_ntske_server_listen(s, "127.0.0.1", 0, err, sizeof(err));
	assert_true(port > 0);
	/* The same port twice. */
	assert_int_equal(dpn_ntske_server_listen(s, "127.0.0.1",
						 (uint16_t)port, err,
						 sizeof(err)), -1);
	assert_non_null(strstr(err, "bind"));
	/* A step with nothing to do returns at once. */
	assert_int_equal(dpn_ntske_server_poll(s, 0), 0);
	dpn_ntske_server_free(s);
	dpn_ntske_server_free(NULL);
}

/* A renewed certificate: new connections get it, a bad pair is refused
 * and the old one kept. */
static void
test_reload(void **state)
{
	struct dpn_ntske_params p;
	struct dpn_ntske_stats st;
	struct exchange ex;
	struct msg m;
	char err[512] = "";
	struct srv sv;

	good_request(&m);
	default_params(&p);
	srv_start(&sv, &p);
	srv_pause(&sv);
	assert_int_equal(dpn_ntske_server_reload(sv.s, cert_path,
						 other_key_path, err,
						 sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match"));
	srv_resume(&sv);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);

	/* The client trusts only the first certificate. */
	srv_pause(&sv);
	assert_int_equal(dpn_ntske_server_reload(sv.s, other_cert_path,
						 other_key_path, err,
						 sizeof(err)), 0);
	srv_resume(&sv);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_false(ex.handshake);
	assert_int_equal(ERR_GET_REASON(ex.ssl_err),
			 SSL_R_CERTIFICATE_VERIFY_FAILED);
	st = STATS_WHEN(&sv, handshake_failures, 1);
	assert_int_equal(st.handshake_failures, 1);

	srv_pause(&sv);
	assert_int_equal(dpn_ntske_server_reload(sv.s, cert_path, key_path,
						 err, sizeof(err)), 0);
	srv_resume(&sv);
	exchange(sv.port, NULL, m.b, m.len, &ex);
	assert_cookies(&ex, 8);
	srv_stop(&sv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_valid_request),
		cmocka_unit_test(test_server_and_port),
		cmocka_unit_test(test_alpn_required),
		cmocka_unit_test(test_tls12_refused),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_tolerated),
		cmocka_unit_test(test_no_agreement),
		cmocka_unit_test(test_internal_error),
		cmocka_unit_test(test_slowloris),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_max_sessions),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_reload),
	};

	/* A client writing to a connection the server reset. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
