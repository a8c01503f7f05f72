/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for lib/ntpctl, the mode 6 parser and fragmenter that the
 * management lcore runs on what clients send (ctlpath.c).
 *
 * Input: [answer size, 2 bytes] then a UDP payload to port 123.
 * The payload is parsed; a request is answered as sync/control.c would
 * answer a readvar (variables put under the request's names, then
 * UNKNOWNVAR for names not put) or with a list of the answer size, and
 * the answer is cut into fragments.
 *
 * Invariants: a parsed request had a whole 12-byte mode 6 header with
 * version 1 to 4, no response, error or more bit, offset 0 and a count
 * within the packet and one fragment; its names are NUL-terminated,
 * shorter than DPN_NTPCTL_NAME_MAX, at most DPN_NTPCTL_MAX_NAMES. An
 * answer is at most DPN_NTPCTL_MAX_FRAGS fragments of at most
 * DPN_NTPCTL_FRAG_MAX bytes, padded to 4 with zeros, echoing version,
 * opcode, sequence and association, offsets back to back, More on all
 * but the last, and its fragments put together are the answer's data.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpn_ntpctl.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
check_req(const uint8_t *p, size_t len, const struct dpn_ntpctl_req *r)
{
	const struct dpn_ntpctl_hdr *h = (const void *)p;
	unsigned int i;

	FUZZ_CHECK(len >= DPN_NTPCTL_HDR_LEN, "request of %zu bytes", len);
	FUZZ_CHECK((p[0] & 7) == 6 && r->version >= 1 && r->version <= 4,
		   "li_vn_mode %#x", p[0]);
	FUZZ_CHECK((p[1] & 0xe0) == 0, "r_e_m_op %#x", p[1]);
	FUZZ_CHECK(h->offset == 0, "offset %u", ntohs(h->offset));
	FUZZ_CHECK(r->count <= len - DPN_NTPCTL_HDR_LEN &&
		   r->count <= DPN_NTPCTL_FRAG_DATA, "count %u of %zu bytes",
		   r->count, len);
	FUZZ_CHECK(r->nb_names <= DPN_NTPCTL_MAX_NAMES, "%u names",
		   r->nb_names);
	for (i = 0; i < r->nb_names; i++)
		FUZZ_CHECK(memchr(r->names[i], '\0', DPN_NTPCTL_NAME_MAX) !=
			   NULL && r->names[i][0] != '\0', "name %u", i);
}

static void
check_frags(const struct dpn_ntpctl_req *r, const struct dpn_ntpctl_answer *a)
{
	static uint8_t f[DPN_NTPCTL_FRAG_MAX + 64], back[DPN_NTPCTL_MAX_DATA];
	const struct dpn_ntpctl_hdr *h = (const void *)f;
	unsigned int n = dpn_ntpctl_nb_frags(a), i;
	size_t total = 0, len, k;

	FUZZ_CHECK(n >= 1 && n <= DPN_NTPCTL_MAX_FRAGS, "%u fragments", n);
	for (i = 0; (len = dpn_ntpctl_fragment(r, a, i, f)) != 0; i++) {
		unsigned int count = ntohs(h->count);

		FUZZ_CHECK(i < n, "fragment %u of %u", i, n);
		FUZZ_CHECK(len <= DPN_NTPCTL_FRAG_MAX && len % 4 == 0 &&
			   len == DPN_NTPCTL_HDR_LEN + ((count + 3u) & ~3u),
			   "fragment of %zu bytes, count %u", len, count);
		FUZZ_CHECK(f[0] == ((r->version << 3) | 6) &&
			   (f[1] & DPN_NTPCTL_OP_MASK) == r->opcode &&
			   (f[1] & DPN_NTPCTL_F_RESPONSE) &&
			   ntohs(h->sequence) == r->sequence &&
			   ntohs(h->assoc) == r->assoc, "header not echoed");
		FUZZ_CHECK(!!(f[1] & DPN_NTPCTL_F_MORE) == (i + 1 < n),
			   "More bit on fragment %u of %u", i, n);
		FUZZ_CHECK(!!(f[1] & DPN_NTPCTL_F_ERROR) == (a->error >= 0),
			   "error bit");
		FUZZ_CHECK(ntohs(h->offset) == total, "offset %u, want %zu",
			   ntohs(h->offset), total);
		for (k = DPN_NTPCTL_HDR_LEN + count; k < len; k++)
			FUZZ_CHECK(f[k] == 0, "padding byte %zu", k);
		FUZZ_CHECK(total + count <= sizeof(back), "data beyond cap");
		memcpy(back + total, f + DPN_NTPCTL_HDR_LEN, count);
		total += count;
	}
	FUZZ_CHECK(i == n, "%u fragments written, %u counted", i, n);
	FUZZ_CHECK(total == (a->error >= 0 ? 0 : a->len) &&
		   memcmp(back, a->data, total) == 0, "data not reassembled");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dpn_ntpctl_answer a;
	static const char *const vars[] = { "version", "leap", "stratum",
		"refid", "offset", "ss_uptime", "srcadr", "reach" };
	struct dpn_ntpctl_req r;
	struct fuzz_in in = { data, size };
	unsigned int want = fuzz_u16(&in) % (DPN_NTPCTL_MAX_DATA + 600);
	uint8_t *p;
	unsigned int i;

	/* The payload alone in its buffer: a read past it is caught. */
	p = malloc(in.n ? in.n : 1);
	if (p == NULL)
		return 0;
	memcpy(p, in.p, in.n);
	if (dpn_ntpctl_parse(p, in.n, &r) != DPN_NTPCTL_PARSE_OK) {
		free(p);
		return 0;
	}
	check_req(p, in.n, &r);
	dpn_ntpctl_answer_init(&a, 0x0615);
	if (dpn_ntpctl_op_refused(r.opcode)) {
		dpn_ntpctl_answer_error(&a, DPN_NTPCTL_ERR_PERMISSION);
	} else if (r.opcode == DPN_NTPCTL_OP_READVAR) {
		for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			dpn_ntpctl_put(&a, &r, vars[i], "%u", want + i);
		dpn_ntpctl_answer_check_names(&a, &r);
	} else {
		for (i = 0; i < want / 4 + 1; i++)
			dpn_ntpctl_put_assoc(&a, (uint16_t)i, (uint16_t)want);
		FUZZ_CHECK(a.len <= DPN_NTPCTL_MAX_DATA, "%zu bytes", a.len);
	}
	check_frags(&r, &a);
	free(p);
	return 0;
}
