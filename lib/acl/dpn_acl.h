/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPN_ACL_H
#define DPN_ACL_H

/**
 * @file
 * `restrict` rules with ntpd's meaning: parsing, the rule set in match
 * order, a reference matcher, and the per-request decision.
 *
 * DPDK-free. The data plane compiles a rule set into rte_lpm/rte_lpm6
 * tables (most specific prefix wins, defaults where nothing matches) and
 * calls dpn_acl_decide() with the flags it found; the reference matcher
 * here (linear, slow) is what tests compare it with.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Flags, in ntpd's words. NTPPORT is a match condition, not an action. */
#define DPN_ACL_FLAGS(X) \
	X(IGNORE, ignore) \
	X(NOSERVE, noserve) \
	X(NOQUERY, noquery) \
	X(NOMODIFY, nomodify) \
	X(NOTRAP, notrap) \
	X(NOPEER, nopeer) \
	X(NOTRUST, notrust) \
	X(KOD, kod) \
	X(LIMITED, limited) \
	X(VERSION, version) \
	X(NTPPORT, ntpport) \
	X(LOWPRIOTRAP, lowpriotrap) \
	X(NOMRULIST, nomrulist)

enum {
#define DPN_ACL_BIT_ENUM(id, name) DPN_ACL_BIT_##id,
	DPN_ACL_FLAGS(DPN_ACL_BIT_ENUM)
#undef DPN_ACL_BIT_ENUM
	DPN_ACL_NB_FLAGS
};

#define DPN_ACL_F(id) (1u << DPN_ACL_BIT_##id)

/** One `restrict` line. */
struct dpn_acl_rule {
	uint8_t family;		/**< AF_INET or AF_INET6 */
	uint8_t prefix_len;	/**< 0 for default */
	bool is_default;
	uint8_t addr[16];	/**< masked; IPv4 in the first 4 bytes */
	uint32_t flags;		/**< DPN_ACL_F(...) */
	unsigned int line;	/**< config line, 0 if added from the CLI */
};

/**
 * Parse the words after `restrict`: `[-4|-6] default [flags]`,
 * `ADDR [mask MASK] [flags]`, `ADDR/PREFIX [flags]`, or a host name
 * (resolved now with getaddrinfo; each address it has becomes one rule,
 * up to @p max rules). A `mask` without a value, a non-contiguous mask
 * and an unknown flag are errors.
 * @return number of rules written to @p out (>= 1), or -1 with a
 * message (no file:line prefix) in @p err.
 */
int dpn_acl_parse(char *const *words, int nb_words, struct dpn_acl_rule *out,
		  unsigned int max, char *err, size_t errlen);

/** `restrict ...` text for a rule, as it would be written in a file. */
int dpn_acl_format(const struct dpn_acl_rule *r, char *buf, size_t len);

/** "ignore", "noserve", ... for a bit number; NULL if none. */
const char *dpn_acl_flag_name(unsigned int bit);

/** Same address, prefix, family and default-ness (flags not compared). */
bool dpn_acl_same_key(const struct dpn_acl_rule *a,
		      const struct dpn_acl_rule *b);

/**
 * A rule set. Adding a rule whose key is already present ORs its flags
 * into the existing one (ntpd's behaviour for repeated lines), except
 * that NTPPORT is part of the key (ntpd keeps `ntpport` entries apart).
 */
struct dpn_acl_ruleset {
	struct dpn_acl_rule *rules;
	unsigned int nb;
	unsigned int cap;
};

void dpn_acl_ruleset_init(struct dpn_acl_ruleset *rs);
void dpn_acl_ruleset_free(struct dpn_acl_ruleset *rs);
/** Add @p r, merging it into a rule with the same key. Linear in the
 * set's size: for one rule at a time (the CLI). @return 0 or -ENOMEM. */
int dpn_acl_ruleset_add(struct dpn_acl_ruleset *rs,
			const struct dpn_acl_rule *r);
/**
 * Append @p r (masked) without looking for its key: for building large
 * sets, followed by one dpn_acl_ruleset_normalize(). @return 0 or -ENOMEM.
 */
int dpn_acl_ruleset_append(struct dpn_acl_ruleset *rs,
			   const struct dpn_acl_rule *r);
/**
 * Sort (dpn_acl_ruleset_sort()) and merge rules with the same key as
 * dpn_acl_ruleset_add() would: flags ORed, the lowest line kept.
 */
void dpn_acl_ruleset_normalize(struct dpn_acl_ruleset *rs);
/** Remove the rule with @p r's key (and NTPPORT bit). @return 0 or -ENOENT. */
int dpn_acl_ruleset_del(struct dpn_acl_ruleset *rs,
			const struct dpn_acl_rule *r);
/** Deep copy. @return 0 or -ENOMEM. */
int dpn_acl_ruleset_copy(struct dpn_acl_ruleset *dst,
			 const struct dpn_acl_ruleset *src);
/**
 * Sort into match order: IPv4 before IPv6; within a family, longer
 * prefixes first, NTPPORT before plain at equal prefix, then by address;
 * the family's default last.
 */
void dpn_acl_ruleset_sort(struct dpn_acl_ruleset *rs);

/**
 * Reference matcher: the rule that applies to a packet from @p addr
 * (4 or 16 bytes as @p family) and UDP source port @p sport, or NULL
 * (no rule, no default: everything allowed). Linear; for tests and
 * for compiling, never per packet.
 */
const struct dpn_acl_rule *dpn_acl_match(const struct dpn_acl_ruleset *rs,
					 int family, const uint8_t *addr,
					 uint16_t sport);

/** What the flags say about one NTP request. */
enum dpn_acl_verdict {
	DPN_ACL_SERVE,		/**< answer (subject to the rate limit) */
	DPN_ACL_DROP_IGNORE,
	DPN_ACL_DROP_NOSERVE,
	DPN_ACL_DROP_NOQUERY,
	DPN_ACL_DROP_NOPEER,
	DPN_ACL_DROP_NOTRUST,
	DPN_ACL_DROP_VERSION,
};

/**
 * ntpd's order: ignore drops everything; control and private requests
 * (modes 6 and 7) are dropped by noquery; time requests (modes 1 and 3)
 * by noserve, notrust unless the request carries a MAC (@p mac: whether
 * it authenticates is the caller's check, after the rate limit; one that
 * fails gets what `authfail` says, as in ntpd), version (any version but
 * 4), and, for symmetric active (mode 1), nopeer. Whether `limited`
 * applies is the caller's next step. nomodify, notrap, lowpriotrap and
 * nomrulist change nothing for the requests served now.
 */
static inline enum dpn_acl_verdict
dpn_acl_decide(uint32_t flags, unsigned int mode, unsigned int version,
	       bool mac)
{
	if (flags == 0)
		return DPN_ACL_SERVE;
	if (flags & DPN_ACL_F(IGNORE))
		return DPN_ACL_DROP_IGNORE;
	if (mode == 6 || mode == 7)
		return (flags & DPN_ACL_F(NOQUERY)) ? DPN_ACL_DROP_NOQUERY :
			DPN_ACL_SERVE;
	if (flags & DPN_ACL_F(NOSERVE))
		return DPN_ACL_DROP_NOSERVE;
	if ((flags & DPN_ACL_F(NOTRUST)) && !mac)
		return DPN_ACL_DROP_NOTRUST;
	if ((flags & DPN_ACL_F(VERSION)) && version != 4)
		return DPN_ACL_DROP_VERSION;
	if ((flags & DPN_ACL_F(NOPEER)) && mode == 1)
		return DPN_ACL_DROP_NOPEER;
	return DPN_ACL_SERVE;
}

#endif /* DPN_ACL_H */
