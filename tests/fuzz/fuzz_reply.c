/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_reply: servers' replies through the upstream client's checks, as
 * lib/sync/client.c's client_on_reply() applies them: the symmetric key
 * check for a server with a key (lib/ntpauth), then dpn_source_receive()
 * (lib/source: dpn_source_validate(), the kiss-o'-death reaction, the
 * sample, the clock filter and poll), then the selection over all
 * sources and their `ntpq -p` lines.
 *
 * Three sources: IPv4, IPv6, and one with an MD5 key. The input is a
 * sequence of replies, each:
 *   [op] [source (bits 0..1) and seconds to wait (bits 2..7)]
 *   [length, 2 bytes] [that many bytes: the UDP payload]
 * op bit 0: poll the source first (a request in flight, as the client
 *           sends it); bit 1: the reply echoes that request's transmit
 *           timestamp (a fuzzer cannot guess it); bit 2: its receive and
 *           transmit timestamps are made plausible (so that samples are
 *           taken); bit 3: signed with the source's key; bits 4..7: the
 *           wait's unit (2^n s).
 *
 * Invariants: a reply is accepted only from a synchronized server in
 * mode 4, version 1 to 4, at least 48 bytes, answering the request in
 * flight (its origin is our transmit timestamp) once, with a receive
 * time not after its transmit time and a root distance under 16 s; a
 * kiss-o'-death changes nothing unless it answers the request in
 * flight; the reach register takes a bit only for an accepted reply;
 * the same reply twice is taken once; a keyed source takes nothing that
 * its key does not sign; the clock filter's output is finite and its
 * delay not negative; selection picks a source that can be picked; an
 * `ntpq -p` line is one line.
 */

#include <stdbool.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "dpn_ntp.h"
#include "dpn_ntpauth.h"
#include "dpn_source.h"
#include "fuzz.h"

#define NB_SRC 3
#define EPOCH_NS 1795000000000000000LL
#define SEC_NS 1000000000LL

static const struct dpn_ntpauth_key key = {
	5, DPN_NTPAUTH_MD5, 6, "upkey1",
};

static struct dpn_source src[NB_SRC];

static void
start(int64_t now)
{
	static const uint8_t a4[16] = { 192, 0, 2, 1 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t a4k[16] = { 192, 0, 2, 5 };
	const uint8_t *addr[NB_SRC] = { a4, a6, a4k };
	unsigned int i;

	for (i = 0; i < NB_SRC; i++) {
		struct dpn_source_conf c;

		dpn_source_conf_init(&c);
		snprintf(c.name, sizeof(c.name), "server%u", i);
		c.family = i == 1 ? AF_INET6 : AF_INET;
		memcpy(c.addr, addr[i], 16);
		c.flags = i == 0 ? DPN_SOURCE_F_IBURST : 0;
		if (dpn_source_init(&src[i], &c, now) != 0)
			abort();
	}
}

static void
check_line(const char *buf, int n, size_t size)
{
	FUZZ_CHECK(n > 0 && (size_t)n < size, "line of %d bytes", n);
	FUZZ_CHECK(strlen(buf) == (size_t)n && buf[n - 1] == '\n' &&
		   strchr(buf, '\n') == buf + n - 1,
		   "not one line: '%s'", buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	int64_t now = EPOCH_NS;
	unsigned int steps = 0;

	start(now);
	while (in.n >= 4 && steps++ < 64) {
		uint8_t op = fuzz_u8(&in), sel = fuzz_u8(&in);
		uint16_t want = fuzz_u16(&in);
		struct dpn_source *s = &src[(sel & 3) % NB_SRC];
		bool keyed = s == &src[2];
		struct dpn_source before;
		struct dpn_ntp_hdr *h;
		enum dpn_source_verdict v;
		uint8_t pkt[1024];
		const uint8_t *b;
		size_t len;

		now += (int64_t)((sel >> 2) + 1) * (SEC_NS << (op >> 4));
		if ((op & 1) && now >= dpn_source_next_poll(s)) {
			struct dpn_ntp_hdr q;
			uint64_t t1 = dpn_ntp_ts_from_unix_ns(now);

			dpn_source_request(s, &q, t1);
			FUZZ_CHECK(dpn_ntp_mode_of(&q) == DPN_NTP_MODE_CLIENT &&
				   __builtin_bswap64(q.xmt_ts) == t1,
				   "request is not a client's with T1");
			dpn_source_poll_sent(s, t1, now);
			now += SEC_NS / 100;
		}
		b = fuzz_bytes(&in, want, &len);
		if (len > sizeof(pkt) - 64)
			len = sizeof(pkt) - 64;
		memset(pkt, 0, sizeof(pkt));
		memcpy(pkt, b, len);
		h = (struct dpn_ntp_hdr *)pkt;
		if (len >= DPN_NTP_HDR_LEN) {
			if (op & 2)
				h->orig_ts = __builtin_bswap64(s->org);
			if (op & 4) {
				/* T2 and T3 around our T1: the server's clock
				 * off by what the input says. */
				uint64_t t2 = s->org +
					((uint64_t)pkt[1] << 24) +
					((uint64_t)(int8_t)pkt[2] << 32);

				h->recv_ts = __builtin_bswap64(t2);
				h->xmt_ts = __builtin_bswap64(t2 + 0x10000);
			}
			if (op & 8) {
				len = DPN_NTP_HDR_LEN +
					dpn_ntpauth_sign(&key, pkt,
							 DPN_NTP_HDR_LEN);
			}
		}
		before = *s;
		/* client_on_reply(): a keyed server's reply must verify. */
		if (keyed && !dpn_ntpauth_verify(&key, pkt, len)) {
			FUZZ_CHECK(!(op & 8) || len < DPN_NTP_HDR_LEN,
				   "a reply signed with the key refused");
			continue;
		}
		v = dpn_source_receive(s, h, keyed ? DPN_NTP_HDR_LEN :
				       (unsigned int)len, now);
		FUZZ_CHECK(v < DPN_SOURCE_R_MAX, "verdict %d", v);
		if (v == DPN_SOURCE_R_OK) {
			uint64_t rec = __builtin_bswap64(h->recv_ts);
			uint64_t xmt = __builtin_bswap64(h->xmt_ts);

			FUZZ_CHECK(len >= DPN_NTP_HDR_LEN, "short accepted");
			FUZZ_CHECK(dpn_ntp_mode_of(h) == DPN_NTP_MODE_SERVER &&
				   dpn_ntp_version_of(h) >= 1 &&
				   dpn_ntp_version_of(h) <= 4,
				   "mode %u version %u accepted",
				   dpn_ntp_mode_of(h), dpn_ntp_version_of(h));
			FUZZ_CHECK(before.org != 0 &&
				   __builtin_bswap64(h->orig_ts) ==
				   before.org &&
				   before.accepted_org != before.org,
				   "reply to no request in flight accepted");
			FUZZ_CHECK(dpn_ntp_leap_of(h) != DPN_NTP_LEAP_ALARM &&
				   h->stratum >= 1 && h->stratum < 16,
				   "unsynchronized server accepted");
			FUZZ_CHECK(rec != 0 && xmt != 0 &&
				   (int64_t)(xmt - rec) >= 0,
				   "receive %#llx after transmit %#llx "
				   "accepted",
				   (unsigned long long)rec,
				   (unsigned long long)xmt);
			FUZZ_CHECK(dpn_ntp_short_to_ns(__builtin_bswap32(
					   h->root_delay)) / 2 +
				   dpn_ntp_short_to_ns(__builtin_bswap32(
					   h->root_disp)) < 16 * SEC_NS,
				   "root distance of 16 s accepted");
			FUZZ_CHECK(s->reach & 1, "accepted, not reached");
			FUZZ_CHECK(s->nb_rx_ok == before.nb_rx_ok + 1,
				   "accepted, not counted");
			/* The same again: not twice. */
			FUZZ_CHECK(dpn_source_receive(s, h, keyed ?
				   DPN_NTP_HDR_LEN : (unsigned int)len, now) !=
				   DPN_SOURCE_R_OK,
				   "the same reply taken twice");
		} else {
			FUZZ_CHECK(s->reach == before.reach,
				   "refused (%s), yet reached",
				   dpn_source_verdict_str(v));
			FUZZ_CHECK(s->nb_rx_bad == before.nb_rx_bad + 1 &&
				   s->nb_rx_ok == before.nb_rx_ok,
				   "refused, counted wrong");
			if (len < DPN_NTP_HDR_LEN ||
			    __builtin_bswap64(h->orig_ts) != before.org ||
			    before.org == 0)
				FUZZ_CHECK(s->demobilized ==
					   before.demobilized &&
					   s->poll_floor == before.poll_floor,
					   "%s from off path obeyed",
					   dpn_source_verdict_str(v));
		}
		FUZZ_CHECK(s->delay_ns >= 0 && s->disp_ns >= 0 &&
			   s->jitter_ns >= 0,
			   "filter output: delay %lld disp %lld jitter %lld",
			   (long long)s->delay_ns, (long long)s->disp_ns,
			   (long long)s->jitter_ns);
	}

	/* Selection, and what ntpq -p shows. */
	{
		struct dpn_source *p[NB_SRC] = { &src[0], &src[1], &src[2] };
		struct dpn_select_params sp;
		struct dpn_select_result res;
		char line[256];
		unsigned int i;

		dpn_select_params_init(&sp);
		FUZZ_CHECK(dpn_source_select(p, NB_SRC, now, &sp, &res) == 0,
			   "selection failed");
		FUZZ_CHECK(res.sys_peer >= -1 && res.sys_peer < NB_SRC,
			   "system peer %d", res.sys_peer);
		if (res.sys_peer >= 0) {
			const struct dpn_source *peer = &src[res.sys_peer];

			FUZZ_CHECK(dpn_source_reachable(peer) &&
				   !peer->demobilized &&
				   peer->stratum < DPN_NTP_STRATUM_UNSYNC &&
				   peer->state == DPN_SOURCE_ST_SYSPEER,
				   "system peer %d unfit", res.sys_peer);
			FUZZ_CHECK(res.stratum == peer->stratum + 1 ||
				   (peer->stratum == 0 && res.stratum == 1),
				   "stratum %u from a peer of %u", res.stratum,
				   peer->stratum);
			FUZZ_CHECK(dpn_source_root_distance(peer, now,
							    sp.mindist_ns) <
				   sp.maxdist_ns, "peer too far");
		}
		FUZZ_CHECK(dpn_source_format_peers_header(line, sizeof(line)) ==
			   (int)strlen(line), "header");
		for (i = 0; i < NB_SRC; i++)
			check_line(line, dpn_source_format_peer(&src[i], now,
					line, sizeof(line)), sizeof(line));
	}
	return 0;
}
