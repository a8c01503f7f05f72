/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_NTSKE_H
#define DPN_NTSKE_H

/**
 * @file
 * NTS Key Establishment server (RFC 8915 section 4): TLS 1.3 on TCP
 * (port 4460), ALPN "ntske/1", one request and one response per
 * connection. The server negotiates NTPv4 and AEAD_AES_SIV_CMAC_256,
 * exports the C2S and S2C keys from the TLS session (RFC 8915 5.1) and
 * hands them to a caller's callback that seals them into cookies; the
 * cookies are what the NTP workers later open (lib/nts).
 *
 * Runs on one management thread: dpn_ntske_server_poll() is one bounded
 * step of a poll() loop over the listening sockets and the sessions, all
 * non-blocking, so a slow or hostile client never stalls the others and
 * every session ends within its timeout. DPDK-free; OpenSSL 3.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPN_NTSKE_PORT 4460		/**< IANA port of NTS-KE */
#define DPN_NTSKE_KEY_LEN 32		/**< AEAD_AES_SIV_CMAC_256 key */
#define DPN_NTSKE_COOKIE_MAX 256	/**< room given to make_cookie */
#define DPN_NTSKE_MAX_COOKIES 16	/**< nb_cookies at most */
#define DPN_NTSKE_MAX_LISTEN 16		/**< listening sockets at most */
#define DPN_NTSKE_REQUEST_MAX 1024	/**< bytes of a client request */
#define DPN_NTSKE_MAX_RECORDS 32	/**< records in a client request */
#define DPN_NTSKE_SERVER_NAME_MAX 255	/**< ntp_server length */

/* Record types (RFC 8915 4.1); the high bit of the type is the critical
 * bit. */
#define DPN_NTSKE_CRITICAL 0x8000
#define DPN_NTSKE_REC_END 0
#define DPN_NTSKE_REC_NEXT_PROTO 1
#define DPN_NTSKE_REC_ERROR 2
#define DPN_NTSKE_REC_WARNING 3
#define DPN_NTSKE_REC_AEAD 4
#define DPN_NTSKE_REC_COOKIE 5
#define DPN_NTSKE_REC_SERVER 6
#define DPN_NTSKE_REC_PORT 7

#define DPN_NTSKE_PROTO_NTPV4 0
#define DPN_NTSKE_AEAD_AES_SIV_CMAC_256 15

/* Error codes (RFC 8915 4.1.3, IANA "NTS Error Codes"). */
#define DPN_NTSKE_ERR_UNRECOGNIZED_CRITICAL 0
#define DPN_NTSKE_ERR_BAD_REQUEST 1
#define DPN_NTSKE_ERR_INTERNAL 2

/**
 * Seal the keys of one client into a cookie of at most @p out_size bytes
 * at @p out (called nb_cookies times per client, from the thread that
 * runs dpn_ntske_server_poll()).
 * @return the cookie length (1 .. out_size), or -1: the client then gets
 * an Internal Server Error and no cookie.
 */
typedef int (*dpn_ntske_cookie_fn)(void *arg,
				   const uint8_t c2s[DPN_NTSKE_KEY_LEN],
				   const uint8_t s2c[DPN_NTSKE_KEY_LEN],
				   uint8_t *out, size_t out_size);

struct dpn_ntske_params {
	/** NTPv4 server the clients should use (record 6: an IPv4 or
	 * IPv6 address or a host name), or NULL: the address the client
	 * reached the NTS-KE server at. Copied. */
	const char *ntp_server;
	/** Its UDP port; 0 or 123 sends no Port Negotiation record. */
	uint16_t ntp_port;
	dpn_ntske_cookie_fn make_cookie;	/**< required */
	void *arg;				/**< for make_cookie */
	unsigned int nb_cookies;	/**< per response; 0 = 8 (RFC 8915) */
	unsigned int timeout_ms;	/**< per connection; 0 = 2000 */
	unsigned int max_sessions;	/**< concurrent; 0 = 100 */
};

/** Counters, from any thread through dpn_ntske_server_stats(). */
struct dpn_ntske_stats {
	uint64_t handshakes;		/**< TLS 1.3 + ntske/1 established */
	uint64_t handshake_failures;	/**< no ALPN, TLS 1.2, not TLS... */
	uint64_t served;	/**< responses without an Error record */
	uint64_t bad_requests;	/**< responses with Error 0 or 1 */
	uint64_t internal_errors;	/**< responses with Error 2 */
	uint64_t timeouts;	/**< closed before the response was sent */
	uint64_t aborted;	/**< client gone or TLS error mid-request */
	uint64_t cookies;	/**< New Cookie records sent */
};

/** The server (opaque): used by one thread at a time. */
struct dpn_ntske_server;

/**
 * A server with the certificate chain of @p cert_file (PEM, leaf first)
 * and the private key of @p key_file (PEM, not encrypted), TLS 1.3 only,
 * ALPN "ntske/1" required. It listens nowhere yet.
 * @return the server, or NULL with a message naming the file or the
 * parameter at fault in @p err.
 */
struct dpn_ntske_server *
dpn_ntske_server_create(const char *cert_file, const char *key_file,
			const struct dpn_ntske_params *p, char *err,
			size_t errlen);

/**
 * Listen on @p addr (an IPv4 or IPv6 literal; an IPv6 socket is
 * IPv6-only, so "::" and "0.0.0.0" may both be used) and TCP @p port,
 * 0 for any free port. May be called up to DPN_NTSKE_MAX_LISTEN times.
 * @return the bound port, or -1 with a message in @p err.
 */
int dpn_ntske_server_listen(struct dpn_ntske_server *s, const char *addr,
			    uint16_t port, char *err, size_t errlen);

/**
 * One step: wait at most @p timeout_ms (0: do not wait; negative: until
 * something happens or a session's deadline) for the sockets, accept
 * new connections while fewer than max_sessions are open, advance every
 * ready session and close those past their deadline.
 * @return the number of sockets that were ready, or -1 if poll() failed
 * (errno set; EINTR returns 0).
 */
int dpn_ntske_server_poll(struct dpn_ntske_server *s, int timeout_ms);

/**
 * Load a new certificate chain and key (a renewed certificate) for the
 * connections accepted from now on; from the thread that polls.
 * @return 0, or -1 with the message of dpn_ntske_server_create() in
 * @p err, the old pair still in use.
 */
int dpn_ntske_server_reload(struct dpn_ntske_server *s, const char *cert_file,
			    const char *key_file, char *err, size_t errlen);

/** Open connections (accepted, not yet closed); from any thread. */
unsigned int dpn_ntske_server_sessions(const struct dpn_ntske_server *s);

/** A consistent-enough copy of the counters (each one read atomically). */
void dpn_ntske_server_stats(const struct dpn_ntske_server *s,
			    struct dpn_ntske_stats *st);

/** Close every connection and socket and free @p s (NULL is ignored). */
void dpn_ntske_server_free(struct dpn_ntske_server *s);

/** What a client's NTS-KE request (RFC 8915 4.1) asks for. */
struct dpn_ntske_request {
	int error;		/**< error code to send, or -1 */
	bool ntpv4;		/**< protocol 0 offered */
	bool siv;		/**< AEAD 15 offered */
};

/**
 * Parse the @p len bytes of a request received so far (records in
 * order; the first fault decides the error, so a bad request is known
 * before its End of Message). Pure; the server calls it on every read.
 * @return 1 when the request is complete or known to be bad (@p req
 * says which), 0 when more bytes are needed.
 */
int dpn_ntske_parse_request(const uint8_t *buf, size_t len,
			    struct dpn_ntske_request *req);

#endif /* DPN_NTSKE_H */
