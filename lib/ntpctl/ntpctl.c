/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NTP control messages, read-only (see dpn_ntpctl.h).
 */

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dpn_ntpctl.h"

unsigned int
dpn_ntpctl_sel_of_tally(char tally)
{
	static const char tallies[] = " x.-+#*o";
	const char *p = tally != '\0' ? strchr(tallies, tally) : NULL;

	return p != NULL ? (unsigned int)(p - tallies) : 0;
}

/* Keep one name of a readvar list: spaces around it and a value after
 * '=' go (ntpq sends "name" or "name=value"). */
static void
name_add(struct dpn_ntpctl_req *req, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);

	if (eq != NULL)
		n = (size_t)(eq - s);
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' ||
			 *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '\r' || s[n - 1] == '\n' ||
			 s[n - 1] == '\0'))
		n--;
	if (n == 0)
		return;
	if (n >= DPN_NTPCTL_NAME_MAX || memchr(s, '\0', n) != NULL ||
	    req->nb_names == DPN_NTPCTL_MAX_NAMES) {
		req->names_overflow = true;
		return;
	}
	memcpy(req->names[req->nb_names], s, n);
	req->names[req->nb_names][n] = '\0';
	req->nb_names++;
}

enum dpn_ntpctl_parse
dpn_ntpctl_parse(const void *pkt, size_t len, struct dpn_ntpctl_req *req)
{
	const struct dpn_ntpctl_hdr *h = pkt;
	const char *data = (const char *)pkt + DPN_NTPCTL_HDR_LEN;
	size_t i, start;

	memset(req, 0, offsetof(struct dpn_ntpctl_req, names));
	if (len < DPN_NTPCTL_HDR_LEN)
		return DPN_NTPCTL_PARSE_SHORT;
	req->version = (h->li_vn_mode >> 3) & 7;
	if ((h->li_vn_mode & 7) != 6 || req->version == 0 ||
	    req->version > 4 ||
	    (h->r_e_m_op & (DPN_NTPCTL_F_RESPONSE | DPN_NTPCTL_F_ERROR |
			    DPN_NTPCTL_F_MORE)))
		return DPN_NTPCTL_PARSE_NOT_REQUEST;
	/* ntpd takes no request in pieces either. */
	if (h->offset != 0)
		return DPN_NTPCTL_PARSE_FRAGMENT;
	req->count = ntohs(h->count);
	if (req->count > len - DPN_NTPCTL_HDR_LEN ||
	    req->count > DPN_NTPCTL_FRAG_DATA)
		return DPN_NTPCTL_PARSE_SHORT;
	req->opcode = h->r_e_m_op & DPN_NTPCTL_OP_MASK;
	req->sequence = ntohs(h->sequence);
	req->assoc = ntohs(h->assoc);
	if (req->opcode != DPN_NTPCTL_OP_READVAR)
		return DPN_NTPCTL_PARSE_OK;
	for (i = start = 0; i <= req->count; i++) {
		if (i == req->count || data[i] == ',') {
			name_add(req, data + start, i - start);
			start = i + 1;
		}
	}
	return DPN_NTPCTL_PARSE_OK;
}

bool
dpn_ntpctl_op_refused(unsigned int opcode)
{
	switch (opcode) {
	case DPN_NTPCTL_OP_WRITEVAR:
	case DPN_NTPCTL_OP_WRITECLOCK:
	case DPN_NTPCTL_OP_SETTRAP:
	case DPN_NTPCTL_OP_CONFIGURE:
	case DPN_NTPCTL_OP_SAVECONFIG:
	case DPN_NTPCTL_OP_UNSETTRAP:
		return true;
	default:
		return false;
	}
}

bool
dpn_ntpctl_op_silent(unsigned int opcode)
{
	return opcode == DPN_NTPCTL_OP_READ_MRU ||
		opcode == DPN_NTPCTL_OP_READ_ORDLIST ||
		opcode == DPN_NTPCTL_OP_REQ_NONCE;
}

void
dpn_ntpctl_answer_init(struct dpn_ntpctl_answer *a, uint16_t status)
{
	a->status = status;
	a->error = -1;
	a->truncated = false;
	a->len = 0;
	memset(a->found, 0, sizeof(a->found));
}

void
dpn_ntpctl_answer_error(struct dpn_ntpctl_answer *a, enum dpn_ntpctl_err err)
{
	a->error = (int)err;
	a->len = 0;
}

/* Is @p name wanted? Marks every request name it matches as found. */
static bool
wanted(struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req,
       const char *name)
{
	unsigned int i;
	bool hit = false;

	if (req == NULL || req->nb_names == 0)
		return true;
	for (i = 0; i < req->nb_names; i++)
		if (strcmp(req->names[i], name) == 0)
			hit = a->found[i] = true;
	return hit;
}

bool
dpn_ntpctl_put(struct dpn_ntpctl_answer *a, const struct dpn_ntpctl_req *req,
	       const char *name, const char *fmt, ...)
{
	char value[256];
	size_t sep = a->len != 0 ? 2 : 0;
	int nn, nv;
	va_list ap;

	if (a->error >= 0 || !wanted(a, req, name))
		return false;
	va_start(ap, fmt);
	nv = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	nn = (int)strlen(name);
	if (nv < 0 || (size_t)nv >= sizeof(value) ||
	    a->len + sep + (size_t)nn + 1 + (size_t)nv > sizeof(a->data)) {
		a->truncated = true;
		return false;
	}
	if (sep != 0) {
		memcpy(a->data + a->len, ", ", 2);
		a->len += 2;
	}
	memcpy(a->data + a->len, name, (size_t)nn);
	a->len += (size_t)nn;
	a->data[a->len++] = '=';
	memcpy(a->data + a->len, value, (size_t)nv);
	a->len += (size_t)nv;
	return true;
}

bool
dpn_ntpctl_put_assoc(struct dpn_ntpctl_answer *a, uint16_t assoc,
		     uint16_t status)
{
	uint16_t be[2] = { htons(assoc), htons(status) };

	if (a->error >= 0 || a->len + sizeof(be) > sizeof(a->data)) {
		a->truncated = true;
		return false;
	}
	memcpy(a->data + a->len, be, sizeof(be));
	a->len += sizeof(be);
	return true;
}

void
dpn_ntpctl_answer_check_names(struct dpn_ntpctl_answer *a,
			      const struct dpn_ntpctl_req *req)
{
	unsigned int i;

	if (a->error >= 0)
		return;
	if (req->names_overflow) {
		dpn_ntpctl_answer_error(a, DPN_NTPCTL_ERR_UNKNOWNVAR);
		return;
	}
	for (i = 0; i < req->nb_names; i++)
		if (!a->found[i]) {
			dpn_ntpctl_answer_error(a, DPN_NTPCTL_ERR_UNKNOWNVAR);
			return;
		}
}

unsigned int
dpn_ntpctl_nb_frags(const struct dpn_ntpctl_answer *a)
{
	if (a->error >= 0 || a->len == 0)
		return 1;
	return (unsigned int)((a->len + DPN_NTPCTL_FRAG_DATA - 1) /
			      DPN_NTPCTL_FRAG_DATA);
}

size_t
dpn_ntpctl_fragment(const struct dpn_ntpctl_req *req,
		    const struct dpn_ntpctl_answer *a, unsigned int i,
		    uint8_t *out)
{
	struct dpn_ntpctl_hdr h;
	unsigned int n = dpn_ntpctl_nb_frags(a);
	size_t off = (size_t)i * DPN_NTPCTL_FRAG_DATA, count = 0, padded;

	if (i >= n)
		return 0;
	if (a->error < 0)
		count = a->len - off < DPN_NTPCTL_FRAG_DATA ? a->len - off :
			DPN_NTPCTL_FRAG_DATA;
	h.li_vn_mode = (uint8_t)((req->version & 7) << 3 | 6);
	h.r_e_m_op = (uint8_t)(DPN_NTPCTL_F_RESPONSE |
		(a->error >= 0 ? DPN_NTPCTL_F_ERROR : 0) |
		(i + 1 < n ? DPN_NTPCTL_F_MORE : 0) |
		(req->opcode & DPN_NTPCTL_OP_MASK));
	h.sequence = htons(req->sequence);
	h.status = htons(a->error >= 0 ? (uint16_t)(a->error << 8) :
			 a->status);
	h.assoc = htons(req->assoc);
	h.offset = htons((uint16_t)off);
	h.count = htons((uint16_t)count);
	memcpy(out, &h, sizeof(h));
	if (count != 0)
		memcpy(out + sizeof(h), a->data + off, count);
	padded = (count + 3) & ~(size_t)3;
	memset(out + sizeof(h) + count, 0, padded - count);
	return sizeof(h) + padded;
}
