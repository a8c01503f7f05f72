/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for lib/ntpctl, mode 6 on the wire: which requests are
 * parsed and which get no answer (short, count beyond the packet, a
 * response or a fragment sent to us), the names a readvar asks for,
 * refused opcodes, the variable list and its cap, status words as ntpq
 * decodes them, and fragments at every boundary: offsets, counts, the
 * More bit, padding, and the sequence and association echoed.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dpn_ntpctl.h"

/* A request: version 2 (ntpq's), opcode, sequence, assoc, data. */
static size_t
mkreq(uint8_t *buf, unsigned int op, uint16_t seq, uint16_t assoc,
      const char *data)
{
	struct dpn_ntpctl_hdr h = {
		.li_vn_mode = (2 << 3) | 6, .r_e_m_op = (uint8_t)op,
		.sequence = htons(seq), .assoc = htons(assoc),
		.count = htons((uint16_t)strlen(data)),
	};
	size_t n = sizeof(h) + strlen(data);

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), data, strlen(data));
	while (n & 3)
		buf[n++] = 0;
	return n;
}

static void
test_parse_ok(void **state)
{
	uint8_t b[600];
	struct dpn_ntpctl_req r;
	size_t n = mkreq(b, DPN_NTPCTL_OP_READVAR, 7, 3,
			 " stratum, offset=1 ,\r\nrefid");

	(void)state;
	assert_int_equal(dpn_ntpctl_parse(b, n, &r), DPN_NTPCTL_PARSE_OK);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.opcode, DPN_NTPCTL_OP_READVAR);
	assert_int_equal(r.sequence, 7);
	assert_int_equal(r.assoc, 3);
	assert_int_equal(r.nb_names, 3);
	assert_string_equal(r.names[0], "stratum");
	assert_string_equal(r.names[1], "offset");
	assert_string_equal(r.names[2], "refid");
	assert_false(r.names_overflow);
	/* Exactly 12 bytes, nothing asked: all variables. */
	n = mkreq(b, DPN_NTPCTL_OP_READVAR, 1, 0, "");
	assert_int_equal(n, 12);
	assert_int_equal(dpn_ntpctl_parse(b, n, &r), DPN_NTPCTL_PARSE_OK);
	assert_int_equal(r.nb_names, 0);
}

static void
test_parse_malformed(void **state)
{
	uint8_t b[600];
	struct dpn_ntpctl_req r;
	struct dpn_ntpctl_hdr *h = (void *)b;
	size_t n;

	(void)state;
	n = mkreq(b, DPN_NTPCTL_OP_READVAR, 1, 0, "stratum");
	assert_int_equal(dpn_ntpctl_parse(b, 11, &r), DPN_NTPCTL_PARSE_SHORT);
	/* count one beyond the bytes there (padding does not count). */
	h->count = htons(n - 12 + 1);
	assert_int_equal(dpn_ntpctl_parse(b, n, &r), DPN_NTPCTL_PARSE_SHORT);
	h->count = htons(0xffff);
	assert_int_equal(dpn_ntpctl_parse(b, n, &r), DPN_NTPCTL_PARSE_SHORT);
	h->count = htons(7);
	/* Odd and any nonzero offset: a piece of a request. */
	h->offset = htons(1);
	assert_int_equal(dpn_ntpctl_parse(b, n, &r),
			 DPN_NTPCTL_PARSE_FRAGMENT);
	h->offset = 0;
	b[1] |= DPN_NTPCTL_F_RESPONSE;
	assert_int_equal(dpn_ntpctl_parse(b, n, &r),
			 DPN_NTPCTL_PARSE_NOT_REQUEST);
	b[1] = DPN_NTPCTL_OP_READVAR | DPN_NTPCTL_F_MORE;
	assert_int_equal(dpn_ntpctl_parse(b, n, &r),
			 DPN_NTPCTL_PARSE_NOT_REQUEST);
	b[1] = DPN_NTPCTL_OP_READVAR | DPN_NTPCTL_F_ERROR;
	assert_int_equal(dpn_ntpctl_parse(b, n, &r),
			 DPN_NTPCTL_PARSE_NOT_REQUEST);
	b[1] = DPN_NTPCTL_OP_READVAR;
	b[0] = (2 << 3) | 3;	/* mode 3 */
	assert_int_equal(dpn_ntpctl_parse(b, n, &r),
			 DPN_NTPCTL_PARSE_NOT_REQUEST);
	b[0] = (0 << 3) | 6;	/* version 0 */
	assert_int_equal(dpn_ntpctl_parse(b, n, &r),
			 DPN_NTPCTL_PARSE_NOT_REQUEST);
	b[0] = (5 << 3) | 6;
	assert_int_equal(dpn_ntpctl_parse(b, n, &r),
			 DPN_NTPCTL_PARSE_NOT_REQUEST);
	b[0] = (4 << 3) | 6;
	assert_int_equal(dpn_ntpctl_parse(b, n, &r), DPN_NTPCTL_PARSE_OK);
}

static void
test_parse_names_overflow(void **state)
{
	char list[480] = "";
	uint8_t b[600];
	struct dpn_ntpctl_req r;
	unsigned int i;

	(void)state;
	for (i = 0; i < DPN_NTPCTL_MAX_NAMES + 1; i++)
		strcat(list, "a,");
	assert_int_equal(dpn_ntpctl_parse(b, mkreq(b, DPN_NTPCTL_OP_READVAR,
		1, 0, list), &r), DPN_NTPCTL_PARSE_OK);
	assert_int_equal(r.nb_names, DPN_NTPCTL_MAX_NAMES);
	assert_true(r.names_overflow);
	memset(list, 'x', 40);
	list[40] = '\0';
	assert_int_equal(dpn_ntpctl_parse(b, mkreq(b, DPN_NTPCTL_OP_READVAR,
		1, 0, list), &r), DPN_NTPCTL_PARSE_OK);
	assert_int_equal(r.nb_names, 0);
	assert_true(r.names_overflow);
}

static void
test_refused_ops(void **state)
{
	unsigned int op;
	unsigned int refused = 0, silent = 0;

	(void)state;

	for (op = 0; op < 32; op++) {
		refused += dpn_ntpctl_op_refused(op);
		silent += dpn_ntpctl_op_silent(op);
		assert_false(dpn_ntpctl_op_refused(op) &&
			     dpn_ntpctl_op_silent(op));
	}
	assert_int_equal(refused, 6);
	assert_int_equal(silent, 3);
	assert_true(dpn_ntpctl_op_refused(DPN_NTPCTL_OP_CONFIGURE));
	assert_true(dpn_ntpctl_op_refused(DPN_NTPCTL_OP_WRITEVAR));
	assert_true(dpn_ntpctl_op_refused(DPN_NTPCTL_OP_WRITECLOCK));
	assert_true(dpn_ntpctl_op_silent(DPN_NTPCTL_OP_READ_MRU));
	assert_true(dpn_ntpctl_op_silent(DPN_NTPCTL_OP_REQ_NONCE));
	assert_false(dpn_ntpctl_op_silent(DPN_NTPCTL_OP_READVAR));
	assert_false(dpn_ntpctl_op_refused(DPN_NTPCTL_OP_READVAR));
	assert_false(dpn_ntpctl_op_refused(DPN_NTPCTL_OP_READSTAT));
}

static void
test_status_words(void **state)
{
	(void)state;
	/* ntpq: CTL_SYS_LI = >>14, SOURCE = >>8 & 0x3f. */
	assert_int_equal(dpn_ntpctl_sys_status(3, DPN_NTPCTL_SRC_NTP, 2, 5),
			 0xc625);
	/* " x.-+#*o"[statval & 7]: '*' is 6. */
	assert_int_equal(dpn_ntpctl_sel_of_tally('*'), 6);
	assert_int_equal(dpn_ntpctl_sel_of_tally('+'), 4);
	assert_int_equal(dpn_ntpctl_sel_of_tally(' '), 0);
	assert_int_equal(dpn_ntpctl_sel_of_tally('?'), 0);
	assert_int_equal(dpn_ntpctl_peer_status(DPN_NTPCTL_PST_CONFIG |
		DPN_NTPCTL_PST_REACH, 6, 1, 4), 0x9614);
}

static void
test_put_filter_and_unknown(void **state)
{
	static struct dpn_ntpctl_answer a;
	uint8_t b[600];
	struct dpn_ntpctl_req r;

	(void)state;
	dpn_ntpctl_parse(b, mkreq(b, DPN_NTPCTL_OP_READVAR, 1, 0,
				  "stratum,refid"), &r);
	dpn_ntpctl_answer_init(&a, 0x0615);
	assert_false(dpn_ntpctl_put(&a, &r, "leap", "%u", 0));
	assert_true(dpn_ntpctl_put(&a, &r, "stratum", "%u", 1));
	assert_true(dpn_ntpctl_put(&a, &r, "refid", "%s", "GPS"));
	dpn_ntpctl_answer_check_names(&a, &r);
	assert_int_equal(a.error, -1);
	assert_int_equal(a.len, strlen("stratum=1, refid=GPS"));
	assert_memory_equal(a.data, "stratum=1, refid=GPS", a.len);

	dpn_ntpctl_parse(b, mkreq(b, DPN_NTPCTL_OP_READVAR, 1, 0,
				  "stratum,nosuch"), &r);
	dpn_ntpctl_answer_init(&a, 0);
	dpn_ntpctl_put(&a, &r, "stratum", "%u", 1);
	dpn_ntpctl_answer_check_names(&a, &r);
	assert_int_equal(a.error, DPN_NTPCTL_ERR_UNKNOWNVAR);
	assert_int_equal(a.len, 0);
}

static void
test_put_cap(void **state)
{
	static struct dpn_ntpctl_answer a;
	unsigned int i, n = 0;

	(void)state;
	dpn_ntpctl_answer_init(&a, 0);
	for (i = 0; i < 1000; i++)
		n += dpn_ntpctl_put(&a, NULL, "variable", "%0100u", i);
	assert_true(a.truncated);
	assert_true(n > 0 && n < 1000);
	assert_true(a.len <= DPN_NTPCTL_MAX_DATA);
	/* Whole pairs only: the list ends in a complete value. */
	assert_int_equal(a.data[a.len - 1], '0' + (n - 1) % 10);
	assert_true(dpn_ntpctl_nb_frags(&a) <= DPN_NTPCTL_MAX_FRAGS);
	dpn_ntpctl_answer_init(&a, 0);
	for (i = 0; i < 2000; i++)
		dpn_ntpctl_put_assoc(&a, (uint16_t)i, 0);
	assert_int_equal(a.len, DPN_NTPCTL_MAX_DATA);
	assert_true(a.truncated);
}

/* Reassemble as ntpq does; check every header against the request. */
static size_t
reassemble(const struct dpn_ntpctl_req *r, const struct dpn_ntpctl_answer *a,
	   uint8_t *out, unsigned int *nfrags)
{
	uint8_t f[DPN_NTPCTL_FRAG_MAX + 8];
	size_t total = 0, len;
	unsigned int i;

	for (i = 0; (len = dpn_ntpctl_fragment(r, a, i, f)) != 0; i++) {
		const struct dpn_ntpctl_hdr *h = (const void *)f;
		unsigned int count = ntohs(h->count);
		bool more = h->r_e_m_op & DPN_NTPCTL_F_MORE;

		assert_true(len <= DPN_NTPCTL_FRAG_MAX);
		assert_int_equal(len % 4, 0);
		assert_int_equal(len, 12 + ((count + 3) & ~3u));
		assert_int_equal(h->li_vn_mode, (r->version << 3) | 6);
		assert_int_equal(h->r_e_m_op & DPN_NTPCTL_OP_MASK, r->opcode);
		assert_true(h->r_e_m_op & DPN_NTPCTL_F_RESPONSE);
		assert_int_equal(ntohs(h->sequence), r->sequence);
		assert_int_equal(ntohs(h->assoc), r->assoc);
		assert_int_equal(ntohs(h->offset), total);
		assert_int_equal(more, i + 1 < dpn_ntpctl_nb_frags(a));
		if (more)
			assert_int_equal(count, DPN_NTPCTL_FRAG_DATA);
		/* Padding is zeros. */
		while (12 + count < len)
			assert_int_equal(f[12 + count++], 0);
		count = ntohs(h->count);
		memcpy(out + total, f + 12, count);
		total += count;
	}
	*nfrags = i;
	return total;
}

static void
test_fragment_boundaries(void **state)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 467, 468, 469, 936, 937,
					1403, DPN_NTPCTL_MAX_DATA };
	static struct dpn_ntpctl_answer a;
	static uint8_t back[DPN_NTPCTL_MAX_DATA];
	uint8_t b[64];
	struct dpn_ntpctl_req r;
	unsigned int i, nf;
	size_t k;

	(void)state;
	dpn_ntpctl_parse(b, mkreq(b, DPN_NTPCTL_OP_READVAR, 0xbeef, 0x1234,
				  ""), &r);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		dpn_ntpctl_answer_init(&a, 0x0615);
		for (k = 0; k < sizes[i]; k++)
			a.data[k] = (char)('a' + k % 26);
		a.len = sizes[i];
		assert_int_equal(reassemble(&r, &a, back, &nf), sizes[i]);
		assert_memory_equal(back, a.data, sizes[i]);
		assert_int_equal(nf, sizes[i] == 0 ? 1 :
				 (sizes[i] + 467) / 468);
	}
	assert_int_equal(nf, DPN_NTPCTL_MAX_FRAGS);
}

static void
test_fragment_error(void **state)
{
	static struct dpn_ntpctl_answer a;
	uint8_t b[64], f[DPN_NTPCTL_FRAG_MAX];
	const struct dpn_ntpctl_hdr *h = (const void *)f;
	struct dpn_ntpctl_req r;

	(void)state;
	dpn_ntpctl_parse(b, mkreq(b, DPN_NTPCTL_OP_CONFIGURE, 9, 0,
				  "server 198.18.0.1"), &r);
	dpn_ntpctl_answer_init(&a, 0x0615);
	dpn_ntpctl_put(&a, NULL, "x", "1");
	dpn_ntpctl_answer_error(&a, DPN_NTPCTL_ERR_PERMISSION);
	assert_false(dpn_ntpctl_put(&a, NULL, "y", "2"));
	assert_int_equal(dpn_ntpctl_fragment(&r, &a, 0, f), 12);
	assert_int_equal(dpn_ntpctl_fragment(&r, &a, 1, f), 0);
	dpn_ntpctl_fragment(&r, &a, 0, f);
	assert_int_equal(h->r_e_m_op, DPN_NTPCTL_F_RESPONSE |
			 DPN_NTPCTL_F_ERROR | DPN_NTPCTL_OP_CONFIGURE);
	assert_int_equal(ntohs(h->status), DPN_NTPCTL_ERR_PERMISSION << 8);
	assert_int_equal(h->count, 0);
	assert_int_equal(ntohs(h->sequence), 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_names_overflow),
		cmocka_unit_test(test_refused_ops),
		cmocka_unit_test(test_status_words),
		cmocka_unit_test(test_put_filter_and_unknown),
		cmocka_unit_test(test_put_cap),
		cmocka_unit_test(test_fragment_boundaries),
		cmocka_unit_test(test_fragment_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
