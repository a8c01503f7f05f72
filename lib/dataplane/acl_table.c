/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * restrict rules compiled for the workers: an rte_lpm (IPv4) and an
 * rte_lpm6 (IPv6) map a source address to an entry that holds the flags
 * of the most specific rule, for packets from port 123 (where `ntpport`
 * rules apply) and from any other port. A table is immutable once
 * published; changes build a new one and the old one is freed after
 * every worker has passed a quiescent state (RCU QSBR).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "dpn_dataplane.h"
#include "dp_log.h"

static uint32_t table_seq;

/* Index of the rule at exactly (family, prefix, addr, ntpport?) in the
 * sorted rules, or DPN_ACL_NO_RULE; rules are few per prefix. */
struct prefix_rules {
	uint32_t plain;
	uint32_t ntpport;
};

static void
mask_addr(uint8_t *out, const uint8_t *addr, unsigned int len,
	  unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		unsigned int bits = len > i * 8 ? len - i * 8 : 0;

		out[i] = bits >= 8 ? addr[i] :
			(uint8_t)(addr[i] & (0xff00u >> bits));
	}
}

/* Keys of 16 address bytes and a level byte. */
static int
cmp_key17(const void *a, const void *b)
{
	return memcmp(a, b, 17);
}

/* Distinct tbl8 groups an rte_lpm6 needs for the family's rules. */
static uint32_t
lpm6_tbl8_count(const struct dpn_acl_ruleset *rs)
{
	uint8_t (*keys)[17];
	unsigned int i, n = 0, b;
	uint32_t count = 0;

	keys = malloc(sizeof(*keys) * (rs->nb * 13 + 1));
	if (keys == NULL)
		return 1u << 16;
	for (i = 0; i < rs->nb; i++) {
		const struct dpn_acl_rule *r = &rs->rules[i];

		if (r->family != AF_INET6 || r->is_default)
			continue;
		/* lpm6: a 24-bit first level, then 8 bits per tbl8 level. */
		for (b = 24; b < r->prefix_len; b += 8) {
			mask_addr(keys[n], r->addr, b, 16);
			keys[n][16] = (uint8_t)b;
			n++;
		}
	}
	qsort(keys, n, sizeof(*keys), cmp_key17);
	for (i = 0; i < n; i++)
		if (i == 0 || memcmp(keys[i], keys[i - 1], 17) != 0)
			count++;
	free(keys);
	return count + 8;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* tbl8 groups an rte_lpm needs: distinct /24s holding longer prefixes. */
static uint32_t
lpm_tbl8_count(const struct dpn_acl_ruleset *rs)
{
	uint32_t *keys, count = 0;
	unsigned int i, n = 0;

	keys = malloc(sizeof(*keys) * (rs->nb + 1));
	if (keys == NULL)
		return 1u << 16;
	for (i = 0; i < rs->nb; i++) {
		const struct dpn_acl_rule *r = &rs->rules[i];
		uint32_t a;

		if (r->family != AF_INET || r->is_default ||
		    r->prefix_len <= 24)
			continue;
		memcpy(&a, r->addr, 4);
		keys[n++] = rte_be_to_cpu_32(a) >> 8;
	}
	qsort(keys, n, sizeof(*keys), cmp_u32);
	for (i = 0; i < n; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			count++;
	free(keys);
	return count + 8;
}

static int
lpm_add(struct dpn_acl_table *t, const struct dpn_acl_rule *r, uint32_t nh)
{
	uint32_t a;

	if (r->family == AF_INET) {
		memcpy(&a, r->addr, 4);
		return rte_lpm_add(t->lpm, rte_be_to_cpu_32(a), r->prefix_len,
				   nh);
	}
	return rte_lpm6_add(t->lpm6, r->addr, r->prefix_len, nh);
}

static bool
lpm_present(struct dpn_acl_table *t, int family, const uint8_t *addr,
	    unsigned int depth, uint32_t *nh)
{
	uint8_t m[16];
	uint32_t a;

	mask_addr(m, addr, depth, family == AF_INET ? 4 : 16);
	if (family == AF_INET) {
		memcpy(&a, m, 4);
		return rte_lpm_is_rule_present(t->lpm, rte_be_to_cpu_32(a),
					       depth, nh) == 1;
	}
	return rte_lpm6_is_rule_present(t->lpm6, m, depth, nh) == 1;
}

/* Entry for the family's default (an LPM miss). */
static void
default_entry(struct dpn_acl_entry *e, const struct dpn_acl_ruleset *rs,
	      int family)
{
	unsigned int i;

	e->rule_any = e->rule_ntp = DPN_ACL_NO_RULE;
	e->flags_any = e->flags_ntp = 0;
	for (i = 0; i < rs->nb; i++) {
		const struct dpn_acl_rule *r = &rs->rules[i];

		if (r->family != family || !r->is_default)
			continue;
		if (r->flags & DPN_ACL_F(NTPPORT)) {
			e->rule_ntp = i;
			e->flags_ntp = r->flags;
		} else {
			e->rule_any = i;
			e->flags_any = r->flags;
		}
	}
	if (e->rule_ntp == DPN_ACL_NO_RULE) {
		e->rule_ntp = e->rule_any;
		e->flags_ntp = e->flags_any;
	}
}

/*
 * Build the entries: one per distinct prefix. A plain rule applies to
 * every port; an `ntpport` rule only to port 123, so a prefix that has
 * only an ntpport rule needs, for other ports, the next less specific
 * plain rule, found by probing shorter prefixes in the LPM itself.
 */
static int
build_entries(struct dpn_acl_table *t, const struct dpn_acl_ruleset *rs)
{
	struct prefix_rules *pr;
	unsigned int i, n = 0;
	int ret = 0;

	pr = calloc(rs->nb + 1, sizeof(*pr));
	t->entries = rte_zmalloc("dpn_acl_entries",
				 sizeof(*t->entries) * (rs->nb + 1),
				 RTE_CACHE_LINE_SIZE);
	if (pr == NULL || t->entries == NULL) {
		free(pr);
		return -ENOMEM;
	}
	/* Sorted rules put the same prefix next to each other. */
	for (i = 0; i < rs->nb; i++) {
		const struct dpn_acl_rule *r = &rs->rules[i];
		bool ntp = r->flags & DPN_ACL_F(NTPPORT);
		uint32_t nh;

		if (r->is_default)
			continue;
		if (lpm_present(t, r->family, r->addr, r->prefix_len, &nh)) {
			if (ntp)
				pr[nh].ntpport = i;
			else
				pr[nh].plain = i;
			continue;
		}
		pr[n].plain = ntp ? DPN_ACL_NO_RULE : i;
		pr[n].ntpport = ntp ? i : DPN_ACL_NO_RULE;
		ret = lpm_add(t, r, n);
		if (ret != 0) {
			free(pr);
			return ret;
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		struct dpn_acl_entry *e = &t->entries[i];
		uint32_t any = pr[i].plain, ntp = pr[i].ntpport;
		const struct dpn_acl_rule *r = &rs->rules[any != DPN_ACL_NO_RULE ?
							  any : ntp];

		if (any == DPN_ACL_NO_RULE) {
			struct dpn_acl_entry def;
			int d;

			default_entry(&def, rs, r->family);
			any = def.rule_any;
			for (d = r->prefix_len - 1; d > 0; d--) {
				uint32_t nh;

				if (lpm_present(t, r->family, r->addr, d, &nh) &&
				    pr[nh].plain != DPN_ACL_NO_RULE) {
					any = pr[nh].plain;
					break;
				}
			}
		}
		if (ntp == DPN_ACL_NO_RULE)
			ntp = pr[i].plain;
		e->rule_any = any;
		e->flags_any = any == DPN_ACL_NO_RULE ? 0 :
			rs->rules[any].flags;
		e->rule_ntp = ntp;
		e->flags_ntp = rs->rules[ntp].flags;
	}
	free(pr);
	return 0;
}

struct dpn_acl_table *
dpn_acl_table_create(const struct dpn_acl_ruleset *src,
		     const struct dpn_rl_params *discard,
		     unsigned int nb_workers, int socket_id, char *err,
		     size_t errlen)
{
	struct dpn_acl_table *t;
	struct rte_lpm_config c4 = { 0 };
	struct rte_lpm6_config c6 = { 0 };
	char name[RTE_LPM_NAMESIZE];
	unsigned int i, nb4 = 0, nb6 = 0;
	uint32_t seq = __atomic_add_fetch(&table_seq, 1, __ATOMIC_RELAXED);
	int ret = -ENOMEM;

	t = rte_zmalloc_socket("dpn_acl", sizeof(*t), RTE_CACHE_LINE_SIZE,
			       socket_id);
	if (t == NULL)
		goto nomem;
	t->generation = seq;
	t->discard = *discard;
	t->nb_workers = nb_workers;
	if (dpn_acl_ruleset_copy(&t->rules, src) != 0)
		goto nomem;
	dpn_acl_ruleset_sort(&t->rules);
	/* Entries are named by 24-bit LPM next hops, and the workers keep
	 * 0xffffff for "the default" in their client slots (worker.c). */
	if (t->rules.nb >= DPN_ACL_MAX_RULES) {
		ret = -E2BIG;
		goto fail;
	}
	t->empty = t->rules.nb == 0;
	for (i = 0; i < t->rules.nb; i++)
		if (t->rules.rules[i].flags & DPN_ACL_F(LIMITED))
			t->any_limited = true;
	for (i = 0; i < t->rules.nb; i++) {
		if (t->rules.rules[i].is_default)
			continue;
		if (t->rules.rules[i].family == AF_INET)
			nb4++;
		else
			nb6++;
	}

	/*
	 * An LPM costs 64 MiB of tbl24 whatever it holds: a family with
	 * only a default rule gets none, and its lookups take the default.
	 */
	if (nb4 != 0) {
		snprintf(name, sizeof(name), "dpn_acl4_%u", seq);
		c4.max_rules = nb4 + 1;
		c4.number_tbl8s = lpm_tbl8_count(&t->rules);
		t->lpm = rte_lpm_create(name, socket_id, &c4);
		if (t->lpm == NULL)
			goto nomem;
	}
	if (nb6 != 0) {
		snprintf(name, sizeof(name), "dpn_acl6_%u", seq);
		c6.max_rules = nb6 + 1;
		c6.number_tbl8s = lpm6_tbl8_count(&t->rules);
		t->lpm6 = rte_lpm6_create(name, socket_id, &c6);
		if (t->lpm6 == NULL)
			goto nomem;
	}
	/*
	 * Every worker writes its row on every request: rows of whole cache
	 * lines (a counter is 24 bytes, so a row's end would otherwise fall
	 * inside a line) keep each worker's writes off the others' lines.
	 */
	t->row_size = RTE_ALIGN_CEIL(sizeof(*t->counters) * (t->rules.nb + 1),
				     RTE_CACHE_LINE_SIZE);
	t->counters = rte_zmalloc_socket("dpn_acl_ctr",
		t->row_size * nb_workers, RTE_CACHE_LINE_SIZE, socket_id);
	t->base = rte_zmalloc_socket("dpn_acl_base",
		sizeof(*t->base) * (t->rules.nb + 1), RTE_CACHE_LINE_SIZE,
		socket_id);
	if (t->counters == NULL || t->base == NULL)
		goto nomem;
	ret = build_entries(t, &t->rules);
	if (ret != 0)
		goto fail;
	default_entry(&t->def4, &t->rules, AF_INET);
	default_entry(&t->def6, &t->rules, AF_INET6);
	return t;

nomem:
	ret = -ENOMEM;
fail:
	if (ret == -E2BIG)
		snprintf(err, errlen, "too many restrict rules (%u, at most %u)",
			 src->nb, DPN_ACL_MAX_RULES);
	else
		snprintf(err, errlen,
			 "cannot build the restrict tables (%u rules): %s",
			 src->nb, rte_strerror(-ret));
	dpn_acl_table_free(t);
	return NULL;
}

void
dpn_acl_table_free(struct dpn_acl_table *t)
{
	if (t == NULL)
		return;
	rte_lpm_free(t->lpm);
	rte_lpm6_free(t->lpm6);
	rte_free(t->entries);
	rte_free(t->counters);
	rte_free(t->base);
	dpn_acl_ruleset_free(&t->rules);
	rte_free(t);
}

void
dpn_acl_table_rule_counters(const struct dpn_acl_table *t, unsigned int rule,
			    struct dpn_acl_counters *out)
{
	unsigned int w;

	*out = t->base[rule];
	for (w = 0; w < t->nb_workers; w++) {
		const struct dpn_acl_counters *c =
			&dpn_acl_table_row(t, w)[rule];

		out->hits += __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
		out->drops += __atomic_load_n(&c->drops, __ATOMIC_RELAXED);
		out->kods += __atomic_load_n(&c->kods, __ATOMIC_RELAXED);
	}
}

/* An order on rule keys (flags aside, NTPPORT included). */
static const struct dpn_acl_rule *key_rules;

static int
key_cmp(const void *a, const void *b)
{
	const struct dpn_acl_rule *x = &key_rules[*(const uint32_t *)a];
	const struct dpn_acl_rule *y = &key_rules[*(const uint32_t *)b];
	uint32_t nx = x->flags & DPN_ACL_F(NTPPORT);
	uint32_t ny = y->flags & DPN_ACL_F(NTPPORT);

	if (x->family != y->family)
		return x->family - y->family;
	if (x->is_default != y->is_default)
		return x->is_default - y->is_default;
	if (x->prefix_len != y->prefix_len)
		return x->prefix_len - y->prefix_len;
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static uint32_t *
sorted_index(const struct dpn_acl_ruleset *rs)
{
	uint32_t *idx = malloc(sizeof(*idx) * (rs->nb + 1));
	unsigned int i;

	if (idx == NULL)
		return NULL;
	for (i = 0; i < rs->nb; i++)
		idx[i] = i;
	key_rules = rs->rules;
	qsort(idx, rs->nb, sizeof(*idx), key_cmp);
	return idx;
}

void
dpn_acl_table_inherit(struct dpn_acl_table *nt, const struct dpn_acl_table *ot)
{
	uint32_t *ni = sorted_index(&nt->rules), *oi = sorted_index(&ot->rules);
	unsigned int i = 0, j = 0;

	/* Runs on one control thread at a time (the reload path). */
	while (ni != NULL && oi != NULL && i < nt->rules.nb &&
	       j < ot->rules.nb) {
		struct dpn_acl_rule pair[2] = { nt->rules.rules[ni[i]],
						ot->rules.rules[oi[j]] };
		uint32_t a = 0, b = 1;
		int c;

		key_rules = pair;
		c = key_cmp(&a, &b);
		if (c == 0)
			dpn_acl_table_rule_counters(ot, oi[j++],
						    &nt->base[ni[i++]]);
		else if (c < 0)
			i++;
		else
			j++;
	}
	free(ni);
	free(oi);
}
