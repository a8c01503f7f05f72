/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NTS-KE server (RFC 8915 section 4) on non-blocking kernel sockets.
 *
 * Each connection is a small state machine driven by what OpenSSL asks
 * for (SSL_ERROR_WANT_READ/WRITE): handshake, read the request up to its
 * End of Message, write the response, send close_notify and wait for the
 * client's. The whole connection has one deadline, so a client that
 * stalls anywhere (the slowloris case) costs a slot for timeout_ms and
 * no more, and the number of slots is fixed at creation.
 *
 * Sockets go through a small BIO of our own rather than BIO_s_socket():
 * OpenSSL's writes with write(2), and a client that resets the
 * connection would then raise SIGPIPE in the daemon; ours uses
 * send(MSG_NOSIGNAL) like the rest of dpntp.
 */

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dpn_err.h"
#include "dpn_ntske.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78	/* Linux 4.15 */
#endif

#define ALPN_ID "ntske/1"
#define ALPN_LEN 7
#define EXPORTER_LABEL "EXPORTER-network-time-security"
#define DEFAULT_COOKIES 8
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_SESSIONS 100
#define MAX_SESSIONS 10000
#define NTP_PORT 123
#define REC_HDR 4

enum state {
	ST_FREE,
	ST_HANDSHAKE,
	ST_READ,
	ST_WRITE,
	ST_SHUTDOWN,	/* response sent: our close_notify */
	ST_DRAIN,	/* waiting for the client's close_notify */
};

struct session {
	enum state state;
	int fd;
	short events;		/* what OpenSSL waits for */
	uint64_t deadline;	/* ms, CLOCK_MONOTONIC */
	SSL *ssl;
	size_t rlen;
	size_t wlen;
	uint8_t *wbuf;		/* s->wbuf_size bytes */
	uint8_t rbuf[DPN_NTSKE_REQUEST_MAX];
};

struct dpn_ntske_server {
	SSL_CTX *ctx;
	BIO_METHOD *bio_meth;
	dpn_ntske_cookie_fn make_cookie;
	void *arg;
	unsigned int nb_cookies;
	unsigned int timeout_ms;
	unsigned int max_sessions;
	uint16_t ntp_port;
	size_t server_len;		/* 0: no record 6 */
	char server[DPN_NTSKE_SERVER_NAME_MAX + 1];
	unsigned int nb_listen;
	int listen_fd[DPN_NTSKE_MAX_LISTEN];
	unsigned int nb_open;		/* written by the poll thread only */
	struct session *sess;		/* max_sessions */
	uint8_t *wbufs;
	size_t wbuf_size;
	/* Sessions first, listening sockets after them: slot i of a
	 * session is always pfd[i], so no map is needed. */
	struct pollfd *pfd;
	struct dpn_ntske_stats stats;
};

enum { REQ_MORE, REQ_DONE };

/* The last OpenSSL error as text, or "unknown error"; clears the queue
 * so that the next SSL call starts clean. */
static const char *
ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Counters are written by the poll thread only and read from any
 * (metrics, control socket): relaxed atomics keep each one whole. */
static void
count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The socket BIO.
 */

static int
bio_write(BIO *b, const char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static int
bio_read(BIO *b, char *buf, int len)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(fd, buf, (size_t)len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		BIO_set_retry_read(b);
	else if (n == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
	return (int)n;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;	/* nothing is buffered here */
	case BIO_CTRL_EOF:
		/* Lets OpenSSL tell an EOF without close_notify from an
		 * error. */
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *
bio_method(void)
{
	/* One type index for the process: OpenSSL has about a hundred,
	 * and a daemon may create servers again and again. */
	static int index;
	int idx = __atomic_load_n(&index, __ATOMIC_RELAXED);
	BIO_METHOD *m;

	if (idx == 0) {
		int fresh = BIO_get_new_index();

		if (fresh == -1)
			return NULL;
		/* If another thread got there first, idx becomes its. */
		if (__atomic_compare_exchange_n(&index, &idx, fresh, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			idx = fresh;
	}
	m = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
			 "dpn_ntske socket");
	if (m == NULL)
		return NULL;
	if (!BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) ||
	    !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

/*
 * ALPN. RFC 8915 4: NTS-KE is negotiated as ALPN protocol "ntske/1";
 * a client that does not offer it is not speaking NTS-KE and gets the
 * no_application_protocol alert (RFC 7301 3.2). OpenSSL calls the ALPN
 * selection callback only when the client sends the extension at all,
 * so a client without one is refused from the ClientHello callback.
 */

/* Does the ALPN protocol list (1-byte length, name; repeated) hold
 * ntske/1? Returns the name within @p list, or NULL. */
static const uint8_t *
alpn_find(const uint8_t *list, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t n = list[off];

		if (n == 0 || off + 1 + n > len)
			return NULL;	/* malformed: refuse */
		if (n == ALPN_LEN && memcmp(list + off + 1, ALPN_ID, n) == 0)
			return list + off;
		off += 1 + n;
	}
	return NULL;
}

static int
client_hello_cb(SSL *ssl, int *al, void *arg)
{
	const unsigned char *ext;
	size_t len;

	if (SSL_client_hello_get0_ext(ssl,
			TLSEXT_TYPE_application_layer_protocol_negotiation,
			&ext, &len) &&
	    len >= 2 && get16(ext) == len - 2 &&
	    alpn_find(ext + 2, len - 2) != NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	*al = SSL_AD_NO_APPLICATION_PROTOCOL;
	return SSL_CLIENT_HELLO_ERROR;
}

static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	       const unsigned char *in, unsigned int inlen, void *arg)
{
	const uint8_t *p = alpn_find(in, inlen);

	if (p == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = p + 1;
	*outlen = p[0];
	return SSL_TLSEXT_ERR_OK;
}

/* Refuses encrypted keys rather than letting OpenSSL prompt on the
 * daemon's terminal. */
static int
no_password_cb(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

static bool
valid_server_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > DPN_NTSKE_SERVER_NAME_MAX)
		return false;
	/* RFC 8915 4.1.7: an address or an ASCII (A-label) FQDN. */
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '[' ||
		    name[i] == ']')
			return false;
	return true;
}

static int
readable(const char *path, const char *what, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return dpn_err(err, errlen, "%s: cannot read %s: %s", path, what,
			    strerror(errno));
	fclose(f);
	return 0;
}

static SSL_CTX *
make_ctx(const char *cert_file, const char *key_file, char *err,
	 size_t errlen)
{
	char why[256];
	SSL_CTX *ctx;

	if (readable(cert_file, "certificate", err, errlen) < 0 ||
	    readable(key_file, "private key", err, errlen) < 0)
		return NULL;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		dpn_err(err, errlen, "SSL_CTX_new: %s",
		     ssl_reason(why, sizeof(why)));
		return NULL;
	}
	/* RFC 8915 4: TLS 1.3 or later only. */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
		dpn_err(err, errlen, "cannot require TLS 1.3: %s",
		     ssl_reason(why, sizeof(why)));
		goto err;
	}
	/* One request per connection, and clients come back only when
	 * their cookies run out: tickets and a session cache would cost
	 * every handshake for resumptions that hardly ever happen. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_default_passwd_cb(ctx, no_password_cb);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		dpn_err(err, errlen, "%s: cannot load certificate chain: %s",
		     cert_file, ssl_reason(why, sizeof(why)));
		goto err;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file,
					SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL compares the key with the certificate here
		 * already; say so in words. */
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH) {
			dpn_err(err, errlen, "%s: private key does not match "
			     "the certificate of %s", key_file, cert_file);
			ERR_clear_error();
		} else {
			dpn_err(err, errlen, "%s: cannot load private key: %s",
			     key_file, ssl_reason(why, sizeof(why)));
		}
		goto err;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		dpn_err(err, errlen, "%s: private key does not match the "
		     "certificate of %s", key_file, cert_file);
		ERR_clear_error();
		goto err;
	}
	SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}

struct dpn_ntske_server *
dpn_ntske_server_create(const char *cert_file, const char *key_file,
			const struct dpn_ntske_params *p, char *err,
			size_t errlen)
{
	struct dpn_ntske_server *s;
	unsigned int i;

	if (p == NULL || p->make_cookie == NULL) {
		dpn_err(err, errlen, "no cookie callback");
		return NULL;
	}
	if (p->nb_cookies > DPN_NTSKE_MAX_COOKIES) {
		dpn_err(err, errlen, "%u cookies per response: at most %u",
		     p->nb_cookies, DPN_NTSKE_MAX_COOKIES);
		return NULL;
	}
	if (p->max_sessions > MAX_SESSIONS) {
		dpn_err(err, errlen, "%u sessions: at most %u", p->max_sessions,
		     MAX_SESSIONS);
		return NULL;
	}
	if (p->ntp_server != NULL && !valid_server_name(p->ntp_server)) {
		dpn_err(err, errlen, "ntsntpserver \"%s\": not an address or a "
		     "host name of 1 to %u printable ASCII characters",
		     p->ntp_server, DPN_NTSKE_SERVER_NAME_MAX);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		dpn_err(err, errlen, "out of memory");
		return NULL;
	}
	s->make_cookie = p->make_cookie;
	s->arg = p->arg;
	s->nb_cookies = p->nb_cookies ? p->nb_cookies : DEFAULT_COOKIES;
	s->timeout_ms = p->timeout_ms ? p->timeout_ms : DEFAULT_TIMEOUT_MS;
	s->max_sessions = p->max_sessions ? p->max_sessions :
		DEFAULT_SESSIONS;
	s->ntp_port = p->ntp_port;
	if (p->ntp_server != NULL) {
		s->server_len = strlen(p->ntp_server);
		memcpy(s->server, p->ntp_server, s->server_len);
	}
	/* The largest response: next protocol, AEAD, server, port, the
	 * cookies and End of Message. An error response is smaller. */
	s->wbuf_size = REC_HDR + 2 + REC_HDR + 2 +
		REC_HDR + DPN_NTSKE_SERVER_NAME_MAX + REC_HDR + 2 +
		s->nb_cookies * (REC_HDR + DPN_NTSKE_COOKIE_MAX) + REC_HDR;
	s->sess = calloc(s->max_sessions, sizeof(*s->sess));
	s->wbufs = malloc(s->max_sessions * s->wbuf_size);
	s->pfd = calloc(s->max_sessions + DPN_NTSKE_MAX_LISTEN,
			sizeof(*s->pfd));
	if (s->sess == NULL || s->wbufs == NULL || s->pfd == NULL) {
		dpn_err(err, errlen, "out of memory");
		goto err;
	}
	for (i = 0; i < s->max_sessions; i++) {
		s->sess[i].fd = -1;
		s->sess[i].wbuf = s->wbufs + i * s->wbuf_size;
	}
	s->bio_meth = bio_method();
	if (s->bio_meth == NULL) {
		dpn_err(err, errlen, "cannot create the socket BIO");
		goto err;
	}
	s->ctx = make_ctx(cert_file, key_file, err, errlen);
	if (s->ctx == NULL)
		goto err;
	return s;
err:
	dpn_ntske_server_free(s);
	return NULL;
}

int
dpn_ntske_server_listen(struct dpn_ntske_server *s, const char *addr,
			uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	struct sockaddr_storage bound;
	socklen_t sl = sizeof(bound);
	struct addrinfo *ai;
	char pstr[8];
	int fd, r, one = 1;

	if (s->nb_listen == DPN_NTSKE_MAX_LISTEN)
		return dpn_err(err, errlen, "%s: more than %u NTS-KE addresses",
			    addr, DPN_NTSKE_MAX_LISTEN);
	snprintf(pstr, sizeof(pstr), "%u", port);
	r = getaddrinfo(addr, pstr, &hints, &ai);
	if (r != 0)
		return dpn_err(err, errlen, "%s: not an IPv4 or IPv6 address",
			    addr);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		dpn_err(err, errlen, "%s: socket: %s", addr, strerror(errno));
		goto err;
	}
	/* A restarted daemon rebinds while old connections linger in
	 * TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			sizeof(one)) < 0)) {
		dpn_err(err, errlen, "%s: setsockopt: %s", addr, strerror(errno));
		goto err;
	}
	/* The address may not exist yet: one the operator puts on the
	 * exception path's interface once dpntpd has made it. */
	if (ai->ai_family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
				 sizeof(one));
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one,
				 sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		dpn_err(err, errlen, "%s port %u: bind: %s", addr, port,
		     strerror(errno));
		goto err;
	}
	if (listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &sl) < 0) {
		dpn_err(err, errlen, "%s port %u: listen: %s", addr, port,
		     strerror(errno));
		goto err;
	}
	freeaddrinfo(ai);
	s->listen_fd[s->nb_listen++] = fd;
	if (bound.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	return ntohs(((struct sockaddr_in *)&bound)->sin_port);
err:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static void
session_close(struct dpn_ntske_server *s, struct session *ss)
{
	SSL_free(ss->ssl);	/* and its BIO */
	close(ss->fd);
	/* The cookies are the client's credentials until it uses them. */
	OPENSSL_cleanse(ss->wbuf, ss->wlen);
	ss->ssl = NULL;
	ss->fd = -1;
	ss->state = ST_FREE;
	ss->rlen = 0;
	ss->wlen = 0;
	__atomic_store_n(&s->nb_open, s->nb_open - 1, __ATOMIC_RELAXED);
}

/*
 * The request (RFC 8915 4.1). Records are taken in order and the first
 * fault decides the error sent, so a request is answered as soon as it
 * is known to be bad, even before its End of Message.
 */

static int
bad(struct dpn_ntske_request *req, int code)
{
	req->error = code;
	return REQ_DONE;
}

/* A list of 16-bit IDs: at least one (RFC 8915 4.1.2, 4.1.5). Does it
 * hold @p id? -1 if malformed. */
static int
list_has(const uint8_t *body, size_t len, uint16_t id)
{
	size_t i;
	int found = 0;

	if (len == 0 || len % 2 != 0)
		return -1;
	for (i = 0; i < len; i += 2)
		if (get16(body + i) == id)
			found = 1;
	return found;
}

int
dpn_ntske_parse_request(const uint8_t *buf, size_t len,
			struct dpn_ntske_request *req)
{
	unsigned int nb = 0, nb_proto = 0, nb_aead = 0, nb_server = 0;
	unsigned int nb_port = 0;
	size_t off = 0;
	int r;

	req->error = -1;
	req->ntpv4 = false;
	req->siv = false;
	while (off + REC_HDR <= len) {
		uint16_t type = get16(buf + off) & ~DPN_NTSKE_CRITICAL;
		bool critical = (get16(buf + off) & DPN_NTSKE_CRITICAL) != 0;
		size_t blen = get16(buf + off + 2);
		const uint8_t *body = buf + off + REC_HDR;

		if (off + REC_HDR + blen > len)
			return REQ_MORE;
		off += REC_HDR + blen;
		if (++nb > DPN_NTSKE_MAX_RECORDS)
			return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
		switch (type) {
		case DPN_NTSKE_REC_END:
			/* 4.1.1: critical, empty, and the last record. */
			if (!critical || blen != 0 || off != len)
				return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
			/* 4.1.2: exactly once; 4.1.5: exactly once when
			 * NTPv4 is offered. */
			if (nb_proto == 0 || (req->ntpv4 && nb_aead == 0))
				return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
			return REQ_DONE;
		case DPN_NTSKE_REC_NEXT_PROTO:
			r = list_has(body, blen, DPN_NTSKE_PROTO_NTPV4);
			if (!critical || ++nb_proto > 1 || r < 0)
				return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
			req->ntpv4 = r;
			break;
		case DPN_NTSKE_REC_AEAD:
			r = list_has(body, blen,
				     DPN_NTSKE_AEAD_AES_SIV_CMAC_256);
			if (++nb_aead > 1 || r < 0)
				return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
			req->siv = r;
			break;
		case DPN_NTSKE_REC_ERROR:
		case DPN_NTSKE_REC_WARNING:
		case DPN_NTSKE_REC_COOKIE:
			/* 4.1.3, 4.1.4, 4.1.6: server-only records. */
			return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
		case DPN_NTSKE_REC_SERVER:
			/* 4.1.7: a preference, at most one; honouring it
			 * is optional and there is only one server. */
			if (++nb_server > 1 || blen == 0)
				return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
			break;
		case DPN_NTSKE_REC_PORT:
			if (++nb_port > 1 || blen != 2)
				return bad(req, DPN_NTSKE_ERR_BAD_REQUEST);
			break;
		default:
			/* 4.1: ignore what is not critical. */
			if (critical)
				return bad(req,
					   DPN_NTSKE_ERR_UNRECOGNIZED_CRITICAL);
			break;
		}
	}
	return REQ_MORE;
}

static uint8_t *
put_record(uint8_t *p, uint16_t type, bool critical, const void *body,
	   size_t len)
{
	put16(p, type | (critical ? DPN_NTSKE_CRITICAL : 0));
	put16(p + 2, (uint16_t)len);
	if (len != 0)
		memcpy(p + REC_HDR, body, len);
	return p + REC_HDR + len;
}

static void
error_response(struct session *ss, uint16_t code)
{
	uint8_t body[2], *p = ss->wbuf;

	/* 4.1.3: Error is critical; End of Message ends every message. */
	put16(body, code);
	p = put_record(p, DPN_NTSKE_REC_ERROR, true, body, sizeof(body));
	p = put_record(p, DPN_NTSKE_REC_END, true, NULL, 0);
	ss->wlen = (size_t)(p - ss->wbuf);
}

/* RFC 8915 5.1: context = Protocol ID || AEAD ID || 0 (C2S) or 1 (S2C). */
static int
export_key(SSL *ssl, uint8_t dir, uint8_t *key)
{
	uint8_t ctx[5];

	put16(ctx, DPN_NTSKE_PROTO_NTPV4);
	put16(ctx + 2, DPN_NTSKE_AEAD_AES_SIV_CMAC_256);
	ctx[4] = dir;
	return SSL_export_keying_material(ssl, key, DPN_NTSKE_KEY_LEN,
					  EXPORTER_LABEL,
					  sizeof(EXPORTER_LABEL) - 1, ctx,
					  sizeof(ctx), 1) == 1 ? 0 : -1;
}

/* Cookies after the records already at @p p; NULL on failure. */
static uint8_t *
put_cookies(struct dpn_ntske_server *s, struct session *ss, uint8_t *p)
{
	uint8_t c2s[DPN_NTSKE_KEY_LEN], s2c[DPN_NTSKE_KEY_LEN];
	unsigned int i;
	int n;

	if (export_key(ss->ssl, 0, c2s) < 0 ||
	    export_key(ss->ssl, 1, s2c) < 0) {
		p = NULL;
		goto out;
	}
	for (i = 0; i < s->nb_cookies; i++) {
		/* 4.1.6: New Cookie records are not critical. */
		n = s->make_cookie(s->arg, c2s, s2c, p + REC_HDR,
				   DPN_NTSKE_COOKIE_MAX);
		if (n <= 0 || n > DPN_NTSKE_COOKIE_MAX) {
			p = NULL;
			goto out;
		}
		put16(p, DPN_NTSKE_REC_COOKIE);
		put16(p + 2, (uint16_t)n);
		p += REC_HDR + (size_t)n;
	}
out:
	/* The keys live on in the cookies only. */
	OPENSSL_cleanse(c2s, sizeof(c2s));
	OPENSSL_cleanse(s2c, sizeof(s2c));
	return p;
}

static void
respond(struct dpn_ntske_server *s, struct session *ss,
	const struct dpn_ntske_request *req)
{
	uint8_t body[2], *p = ss->wbuf, *end;

	if (req->error >= 0) {
		error_response(ss, (uint16_t)req->error);
		count(&s->stats.bad_requests, 1);
		return;
	}
	/* 4.1.2: the protocols agreed on, a subset of the client's, and
	 * empty when there is none. */
	put16(body, DPN_NTSKE_PROTO_NTPV4);
	p = put_record(p, DPN_NTSKE_REC_NEXT_PROTO, true, body,
		       req->ntpv4 ? 2 : 0);
	if (req->ntpv4) {
		/* 4.1.5: the algorithm chosen, or an empty record when the
		 * client offered none the server supports. The critical
		 * bit MAY be set: set, since a client that ignored the
		 * record would use keys for the wrong algorithm. */
		put16(body, DPN_NTSKE_AEAD_AES_SIV_CMAC_256);
		p = put_record(p, DPN_NTSKE_REC_AEAD, true, body,
			       req->siv ? 2 : 0);
	}
	if (req->ntpv4 && req->siv) {
		/* 4.1.7, 4.1.8: servers MAY set the critical bit; set, as
		 * the cookies are good only at that server and port. */
		if (s->server_len != 0)
			p = put_record(p, DPN_NTSKE_REC_SERVER, true,
				       s->server, s->server_len);
		if (s->ntp_port != 0 && s->ntp_port != NTP_PORT) {
			put16(body, s->ntp_port);
			p = put_record(p, DPN_NTSKE_REC_PORT, true, body, 2);
		}
		end = put_cookies(s, ss, p);
		if (end == NULL) {
			OPENSSL_cleanse(ss->wbuf, s->wbuf_size);
			error_response(ss, DPN_NTSKE_ERR_INTERNAL);
			count(&s->stats.internal_errors, 1);
			return;
		}
		p = end;
		count(&s->stats.cookies, s->nb_cookies);
	}
	p = put_record(p, DPN_NTSKE_REC_END, true, NULL, 0);
	ss->wlen = (size_t)(p - ss->wbuf);
	count(&s->stats.served, 1);
}

static bool
alpn_selected(SSL *ssl)
{
	const unsigned char *data;
	unsigned int len;

	SSL_get0_alpn_selected(ssl, &data, &len);
	return len == ALPN_LEN && memcmp(data, ALPN_ID, ALPN_LEN) == 0;
}

/* Waits for what OpenSSL asked for; false if it was an error. */
static bool
want(struct session *ss, int r)
{
	switch (SSL_get_error(ss->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		ss->events = POLLIN;
		return true;
	case SSL_ERROR_WANT_WRITE:
		ss->events = POLLOUT;
		return true;
	default:
		return false;
	}
}

/* Advance @p ss as far as its socket allows. */
static void
session_step(struct dpn_ntske_server *s, struct session *ss)
{
	struct dpn_ntske_request req;
	uint8_t scratch[256];
	int r, one = 1;

	for (;;) {
		/* SSL_get_error() reads the thread's error queue. */
		ERR_clear_error();
		switch (ss->state) {
		case ST_HANDSHAKE:
			r = SSL_accept(ss->ssl);
			if (r == 1 && alpn_selected(ss->ssl)) {
				count(&s->stats.handshakes, 1);
				ss->state = ST_READ;
				/* ACK the client's Finished now: with no
				 * session ticket to send, the ACK would wait
				 * for the delayed-ACK timer, and a client
				 * with Nagle's algorithm holds its request
				 * until then (40 ms). */
				setsockopt(ss->fd, IPPROTO_TCP, TCP_QUICKACK,
					   &one, sizeof(one));
				break;
			}
			if (r != 1 && want(ss, r))
				return;
			count(&s->stats.handshake_failures, 1);
			session_close(s, ss);
			return;
		case ST_READ:
			r = SSL_read(ss->ssl, ss->rbuf + ss->rlen,
				     (int)(sizeof(ss->rbuf) - ss->rlen));
			if (r <= 0) {
				if (want(ss, r))
					return;
				count(&s->stats.aborted, 1);
				session_close(s, ss);
				return;
			}
			ss->rlen += (size_t)r;
			if (dpn_ntske_parse_request(ss->rbuf, ss->rlen,
						    &req) == REQ_MORE) {
				if (ss->rlen < sizeof(ss->rbuf))
					break;
				/* Too long for an NTS-KE request. */
				req.error = DPN_NTSKE_ERR_BAD_REQUEST;
			}
			respond(s, ss, &req);
			ss->state = ST_WRITE;
			break;
		case ST_WRITE:
			/* All or nothing: without partial writes, OpenSSL
			 * retries with the same buffer until all is sent. */
			r = SSL_write(ss->ssl, ss->wbuf, (int)ss->wlen);
			if (r <= 0) {
				if (want(ss, r))
					return;
				count(&s->stats.aborted, 1);
				session_close(s, ss);
				return;
			}
			ss->state = ST_SHUTDOWN;
			break;
		case ST_SHUTDOWN:
			/* RFC 8915 4: both sides send close_notify after
			 * their message. */
			r = SSL_shutdown(ss->ssl);
			if (r == 1) {
				session_close(s, ss);
				return;
			}
			if (r < 0) {
				if (want(ss, r))
					return;
				session_close(s, ss);
				return;
			}
			/* Our FIN too, for clients that wait for the end
			 * of the stream rather than close_notify. */
			shutdown(ss->fd, SHUT_WR);
			ss->state = ST_DRAIN;
			break;
		case ST_DRAIN:
			/* Reading what the client still sends until its
			 * close_notify or FIN: closing with unread data
			 * would reset the connection, and a reset can
			 * discard the response before the client read it.
			 * The deadline bounds this too. */
			r = SSL_read(ss->ssl, scratch, sizeof(scratch));
			if (r > 0)
				break;
			if (!want(ss, r))
				session_close(s, ss);
			return;
		case ST_FREE:
			return;
		}
	}
}

static void
accept_new(struct dpn_ntske_server *s, int lfd)
{
	struct session *ss;
	unsigned int i;
	int fd, one = 1;
	BIO *bio;

	for (i = 0; i < s->max_sessions && s->nb_open < s->max_sessions;
	     i++) {
		ss = &s->sess[i];
		if (ss->state != ST_FREE)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;		/* EAGAIN: all taken */
		/* Every write is a whole flight, response or alert: Nagle
		 * would only hold the close_notify behind the response
		 * until the client's delayed ACK (40 ms on Linux). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ss->ssl = SSL_new(s->ctx);
		bio = BIO_new(s->bio_meth);
		if (ss->ssl == NULL || bio == NULL) {
			SSL_free(ss->ssl);
			BIO_free(bio);
			ss->ssl = NULL;
			close(fd);
			ERR_clear_error();
			continue;
		}
		BIO_set_data(bio, (void *)(intptr_t)fd);
		SSL_set_bio(ss->ssl, bio, bio);
		ss->fd = fd;
		ss->state = ST_HANDSHAKE;
		ss->events = POLLIN;
		ss->deadline = now_ms() + s->timeout_ms;
		ss->rlen = 0;
		ss->wlen = 0;
		__atomic_store_n(&s->nb_open, s->nb_open + 1,
				 __ATOMIC_RELAXED);
	}
}

int
dpn_ntske_server_poll(struct dpn_ntske_server *s, int timeout_ms)
{
	unsigned int i, nfds = s->max_sessions + s->nb_listen;
	bool room = s->nb_open < s->max_sessions;
	uint64_t now = now_ms(), first = UINT64_MAX;
	int n;

	for (i = 0; i < s->max_sessions; i++) {
		struct session *ss = &s->sess[i];

		s->pfd[i].fd = ss->state == ST_FREE ? -1 : ss->fd;
		s->pfd[i].events = ss->events;
		s->pfd[i].revents = 0;
		if (ss->state != ST_FREE && ss->deadline < first)
			first = ss->deadline;
	}
	/* When full, new connections wait in the listen backlog until a
	 * session ends, rather than being accepted and dropped. */
	for (i = 0; i < s->nb_listen; i++) {
		s->pfd[s->max_sessions + i].fd = room ? s->listen_fd[i] : -1;
		s->pfd[s->max_sessions + i].events = POLLIN;
		s->pfd[s->max_sessions + i].revents = 0;
	}
	if (first != UINT64_MAX) {
		uint64_t wait = first > now ? first - now : 0;

		if (timeout_ms < 0 || wait < (uint64_t)timeout_ms)
			timeout_ms = (int)wait;
	}
	n = poll(s->pfd, nfds, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < s->max_sessions; i++)
		if (s->pfd[i].revents != 0 && s->sess[i].state != ST_FREE)
			session_step(s, &s->sess[i]);
	now = now_ms();
	for (i = 0; i < s->max_sessions; i++) {
		struct session *ss = &s->sess[i];

		if (ss->state == ST_FREE || ss->deadline > now)
			continue;
		/* After the response it is only the goodbye that is
		 * late. */
		if (ss->state < ST_SHUTDOWN)
			count(&s->stats.timeouts, 1);
		session_close(s, ss);
	}
	for (i = 0; i < s->nb_listen; i++)
		if (s->pfd[s->max_sessions + i].revents & POLLIN)
			accept_new(s, s->listen_fd[i]);
	/* Leave the thread's error queue as clean as it was found: the
	 * caller may use OpenSSL too. */
	ERR_clear_error();
	return n;
}

int
dpn_ntske_server_reload(struct dpn_ntske_server *s, const char *cert_file,
			const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = make_ctx(cert_file, key_file, err, errlen);

	if (ctx == NULL)
		return -1;
	/* Open sessions hold a reference to the old context and finish
	 * with it. */
	SSL_CTX_free(s->ctx);
	s->ctx = ctx;
	return 0;
}

unsigned int
dpn_ntske_server_sessions(const struct dpn_ntske_server *s)
{
	return __atomic_load_n(&s->nb_open, __ATOMIC_RELAXED);
}

void
dpn_ntske_server_stats(const struct dpn_ntske_server *s,
		       struct dpn_ntske_stats *st)
{
#define LOAD(f) (st->f = __atomic_load_n(&s->stats.f, __ATOMIC_RELAXED))
	LOAD(handshakes);
	LOAD(handshake_failures);
	LOAD(served);
	LOAD(bad_requests);
	LOAD(internal_errors);
	LOAD(timeouts);
	LOAD(aborted);
	LOAD(cookies);
#undef LOAD
}

void
dpn_ntske_server_free(struct dpn_ntske_server *s)
{
	unsigned int i;

	if (s == NULL)
		return;
	if (s->sess != NULL)
		for (i = 0; i < s->max_sessions; i++)
			if (s->sess[i].state != ST_FREE)
				session_close(s, &s->sess[i]);
	for (i = 0; i < s->nb_listen; i++)
		close(s->listen_fd[i]);
	SSL_CTX_free(s->ctx);
	BIO_meth_free(s->bio_meth);
	free(s->pfd);
	free(s->wbufs);
	free(s->sess);
	free(s);
}
